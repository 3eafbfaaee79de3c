use oci_spec::runtime::LinuxResources;

use crate::error::{Error, Result};
use crate::fsio;
use crate::layout::Version;
use crate::manager::Manager;

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(n) = r.network() else { return Ok(()) };
    if n.class_id().is_some() {
        check_v1(m, "net_cls", "network.classID")?;
    }
    if let Some(p) = n.priorities().as_ref().filter(|p| !p.is_empty()) {
        for prio in p {
            if prio.name().is_empty() || prio.name().contains(char::is_whitespace) {
                return Err(Error::invalid(
                    "network.priorities.name",
                    format!("{:?} is not an interface name", prio.name()),
                ));
            }
        }
        check_v1(m, "net_prio", "network.priorities")?;
    }
    Ok(())
}

/// net_cls and net_prio exist only in v1; v2 leaves this to eBPF.
fn check_v1(m: &Manager, controller: &'static str, field: &str) -> Result<()> {
    let d = m.require(controller, field)?;
    if d.version == Version::V2 {
        return Err(Error::Unsupported {
            field: field.into(),
            version: "v2",
            reason: format!("{controller} is a v1-only controller"),
        });
    }
    Ok(())
}

pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(n) = r.network() else { return Ok(()) };
    if let Some(id) = n.class_id() {
        let d = m.require("net_cls", "network.classID")?;
        fsio::write(&d.path, "net_cls.classid", &id.to_string())?;
    }
    for p in n.priorities().iter().flatten() {
        let d = m.require("net_prio", "network.priorities")?;
        fsio::append(
            &d.path,
            "net_prio.ifpriomap",
            &format!("{} {}", p.name(), p.priority()),
        )?;
    }
    Ok(())
}
