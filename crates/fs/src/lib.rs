//! Filesystem primitives every other husk crate relies on for safety:
//! atomic writes (temp file, fsync, rename), advisory locks, and path
//! resolution that can never leave a given root directory.

mod atomic;
mod error;
mod lock;
mod root;

pub use atomic::{fsync_dir, write_atomic, write_json_atomic};
pub use error::{is_no_space, Error, Result};
pub use lock::Lock;
pub use root::{
    create_in_root, mkdir_all_in_root, open_dir_path, open_in_root, proc_fd_path, short_path_in,
    Kind,
};
