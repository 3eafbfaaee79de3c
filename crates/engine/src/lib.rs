//! The engine behind the `husk` CLI: the image commands (list, inspect,
//! history, rmi, prune) and containers (records, the monitor, the verbs),
//! in docker's output formats.

// docker's inspect document is one large `json!` literal.
#![recursion_limit = "256"]

pub mod containers;
pub mod error;
pub mod format;
pub mod images;
pub mod network;
pub mod volumes;

pub use error::{Error, Result};
