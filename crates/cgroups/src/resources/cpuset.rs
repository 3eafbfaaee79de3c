use std::path::Path;

use oci_spec::runtime::LinuxResources;

use crate::error::{Error, Result};
use crate::fsio;
use crate::manager::Manager;

/// "0-3,5": a list of numbers and ranges, as cpuset.cpus/mems accept.
fn check_list(field: &str, s: &str) -> Result<()> {
    let bad = || Error::invalid(field, format!("{s:?} is not a list like 0-3,5"));
    if s.trim().is_empty() {
        return Ok(());
    }
    for part in s.trim().split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: u32 = a.parse().map_err(|_| bad())?;
        let b: u32 = b.parse().map_err(|_| bad())?;
        if a > b {
            return Err(bad());
        }
    }
    Ok(())
}

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(c) = r.cpu() else { return Ok(()) };
    if let Some(s) = c.cpus() {
        check_list("cpu.cpus", s)?;
        m.require("cpuset", "cpu.cpus")?;
    }
    if let Some(s) = c.mems() {
        check_list("cpu.mems", s)?;
        m.require("cpuset", "cpu.mems")?;
    }
    Ok(())
}

/// Same file names on v1 and v2.
pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(c) = r.cpu() else { return Ok(()) };
    for (field, file, v) in [
        ("cpu.cpus", "cpuset.cpus", c.cpus()),
        ("cpu.mems", "cpuset.mems", c.mems()),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            fsio::write(&m.require("cpuset", field)?.path, file, v)?;
        }
    }
    Ok(())
}

/// A new v1 cpuset cgroup has empty cpus and mems and refuses tasks until they are set, so
/// every directory from the mount down to `leaf` inherits its parent's values where empty
/// (runc's cpusetEnsureParent).
pub(crate) fn init_v1(mount: &Path, leaf: &Path) -> Result<()> {
    let Ok(rel) = leaf.strip_prefix(mount) else {
        return Ok(());
    };
    let mut parent = mount.to_path_buf();
    for c in rel.components() {
        let dir = parent.join(c);
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if fsio::read(&dir, file)?.trim().is_empty() {
                let v = fsio::read(&parent, file)?;
                fsio::write(&dir, file, v.trim())?;
            }
        }
        parent = dir;
    }
    Ok(())
}
