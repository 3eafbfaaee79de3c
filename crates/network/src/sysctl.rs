//! The per-namespace sysctls a bridge network needs (forwarding, and
//! IPv6 on or off per interface). /proc/sys/net shows the namespace of
//! the thread that opens it.

use std::path::PathBuf;

use crate::{Error, Result};

pub fn set(path: &str, value: &str) -> Result<()> {
    let p = PathBuf::from("/proc/sys/net").join(path);
    if std::fs::read_to_string(&p).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    std::fs::write(&p, value).map_err(|e| Error::io("write sysctl", p, e))
}

/// Whether the kernel has IPv6 at all (not booted with ipv6.disable=1).
pub fn ipv6_available() -> bool {
    std::path::Path::new("/proc/sys/net/ipv6").exists()
}
