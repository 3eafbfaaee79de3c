//! Container state as the runtime keeps it under its `--root`: one directory
//! per container holding `state.json` (written atomically under the
//! container's lock) and the `exec.sock` that holds a created container's
//! init until `start`. Status is always recomputed from the kernel (pid plus
//! process start time), never trusted from the file.

mod error;
mod process;
mod store;

pub use error::{Error, Result};
pub use process::{pid_alive, start_time};
pub use store::{validate_id, ContainerState, Status, Store, EXEC_SOCK, STATE_FILE};
