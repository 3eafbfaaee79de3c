//! The lifecycle verbs, one file each: create, start (through the
//! monitor), kill/stop/pause/wait, rm, and the reconciliation every
//! command runs first.

mod create;
mod flags;
mod reconcile;
mod remove;
mod signal;
mod start;

pub use create::{create, parse_memory, CreateOptions};
pub(crate) use reconcile::runtime_of;
pub use reconcile::{discard_ended, list, reconcile, release_rootfs, sweep};
pub use remove::{remove, remove_files, remove_with_volumes, take_files, Trash};
pub use signal::{kill, pause, stop, stop_with, unpause, wait};
pub(crate) use signal::{thaw_if_paused, wait_recorded};
pub use start::{start, start_attached, Report, Started};
