//! The engine behind the `husk` CLI. For now: the image commands (list,
//! inspect, history, rmi, prune) in docker's output formats; containers come
//! next and plug into [`images::remove::images_in_use`].

pub mod error;
pub mod format;
pub mod images;

pub use error::{Error, Result};
