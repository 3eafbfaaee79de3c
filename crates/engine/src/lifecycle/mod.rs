//! The lifecycle verbs, one file each: create, start (through the
//! monitor), attach and logs, exec, kill/stop/pause/wait, rm, commit,
//! diff and export, and the reconciliation every command runs first.

mod commit;
mod create;
pub mod exec;
pub mod logs;
mod reconcile;
mod remove;
mod restartable;
mod rootfs;
mod signal;
mod start;
mod update;

pub use commit::{apply_change, commit, CommitOptions, EMPTY_LAYER_DIFF_ID};
pub use create::create;
pub(crate) use reconcile::runtime_of;
pub use reconcile::{discard_ended, list, reconcile, sweep};
pub use remove::{remove, remove_with_volumes};
pub use restartable::start_restartable;
pub use rootfs::{diff, export};
pub use signal::{kill, pause, stop, stop_with, unpause, wait};
pub(crate) use signal::{thaw_if_paused, wait_recorded};
pub use start::{start, start_attached, Report, Started};
pub use update::{update, UpdateOptions};
