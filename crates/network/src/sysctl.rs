//! The two per-namespace sysctls a bridge network needs. /proc/sys/net
//! shows the namespace of the thread that opens it.

use std::path::PathBuf;

use crate::{Error, Result};

pub fn set(path: &str, value: &str) -> Result<()> {
    let p = PathBuf::from("/proc/sys/net").join(path);
    if std::fs::read_to_string(&p).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    std::fs::write(&p, value).map_err(|e| Error::io("write sysctl", p, e))
}
