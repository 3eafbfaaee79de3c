//! The container process: creating the init inside its namespaces and
//! cgroups (one clone3, no re-exec), setting up its root filesystem and
//! credentials, and the runc lifecycle verbs that drive it.

mod capabilities;
mod channel;
mod console;
mod create;
mod delete;
mod devices;
mod error;
mod events;
pub mod exe;
mod exec;
pub mod features;
mod finalize;
mod hooks;
mod host_root;
mod idmap;
mod init;
mod kill;
mod mounts;
mod rootfs;
mod run;
mod runtime;
mod sched;
pub mod signal;
mod start;
mod sys;
mod tty;
mod update;
mod user;
mod userns;
mod validate;

pub use capabilities::known_names as capability_names;
pub use create::{check_preserved_fds, CreateOptions};
pub use error::{Error, Result};
pub use exec::ExecOptions;
pub use runtime::Runtime;
pub use validate::validate_sysctl;
