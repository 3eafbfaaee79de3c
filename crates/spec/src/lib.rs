//! The OCI runtime spec as husk reads and writes it: loading a bundle's
//! `config.json` with errors that name the field, and the default spec that
//! `husk-runtime spec` writes (runc's defaults).

mod default;
mod error;
mod load;
mod sysctl;
pub mod units;

pub use default::{default_spec, rootless_spec};
pub use error::{Error, Result};
pub use load::{load_bundle, load_config};
pub use sysctl::sysctl_namespace;
