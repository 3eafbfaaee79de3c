use oci_spec::runtime::LinuxResources;

use super::check_limit;
use crate::error::Result;
use crate::fsio;
use crate::manager::Manager;

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(p) = r.pids() else { return Ok(()) };
    check_limit("pids.limit", Some(p.limit()))?;
    m.require("pids", "pids.limit")?;
    Ok(())
}

/// pids.max is the same file on v1 and v2; 0 and -1 both mean unlimited, as in runc.
pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(p) = r.pids() else { return Ok(()) };
    let d = m.require("pids", "pids.limit")?;
    let v = if p.limit() > 0 {
        p.limit().to_string()
    } else {
        "max".to_string()
    };
    fsio::write(&d.path, "pids.max", &v)
}
