//! Filesystem primitives every other husk crate relies on for safety:
//! atomic writes (temp file, fsync, rename), advisory locks, and path
//! resolution that can never leave a given root directory.

mod atomic;
mod error;
mod lock;
mod private;
mod procstat;
mod root;
mod signal;
mod time;

pub use atomic::{fsync_dir, write_atomic, write_json_atomic};
pub use error::{error_chain, is_no_space, printable, Chain, Error, Result};
pub use lock::Lock;
pub use private::{close_existing_dir, private_dir, PRIVATE_MODE};
pub use procstat::ProcStat;
pub use root::{
    create_in_root, mkdir_all_in_root, normalize, open_dir_path, open_in_root, proc_fd_path,
    read_file_in_root, short_path_in, Kind, MAX_READ_IN_ROOT,
};
pub use signal::{reset_signals, signal_number};
pub use time::{go_rfc3339_nano, now_rfc3339};
