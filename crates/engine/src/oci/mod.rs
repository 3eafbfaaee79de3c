//! A container record → the OCI runtime spec the runtime is given
//! (`config.json`), and `--init`'s additions to it.

pub mod extra;
pub mod init;
pub mod spec;
