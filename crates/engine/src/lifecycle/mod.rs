//! The lifecycle verbs, one file each: create, start (through the
//! monitor), attach and logs, exec, kill/stop/pause/wait, rm, commit,
//! diff and export, and the reconciliation every command runs first.

mod commit;
mod copy;
mod create;
pub mod exec;
pub mod logs;
mod prune;
mod reconcile;
mod remove;
mod rename;
mod restartable;
mod rootfs;
mod signal;
mod start;
mod update;

pub use commit::{apply_change, commit, CommitOptions, EMPTY_LAYER_DIFF_ID};
pub use copy::{copy_in, copy_out, CopyFrom, CopyOptions, CopyTo};
pub use create::create;
pub use prune::{prune_containers, prune_volumes, PruneFilters, Pruned};
pub(crate) use reconcile::runtime_of;
pub use reconcile::{discard_ended, list, reconcile, sweep};
pub use remove::{remove, remove_with_volumes};
pub use rename::rename;
pub use restartable::start_restartable;
pub use rootfs::{diff, export};
pub use signal::{kill, pause, stop, stop_with, unpause, wait};
pub(crate) use signal::{thaw_if_paused, wait_recorded};
pub use start::{start, start_attached, Report, Started};
pub use update::{update, UpdateOptions};
