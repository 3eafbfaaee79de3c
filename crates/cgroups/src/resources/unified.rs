use oci_spec::runtime::LinuxResources;

use crate::error::{Error, Result};
use crate::fsio;
use crate::manager::{CgroupDir, Manager};

/// The v2 dir that may take `key`: it must exist, and on a hybrid host the key's controller
/// must be one the unified hierarchy owns (writing memory.max there would limit nothing).
fn dir_for_key<'a>(m: &'a Manager, key: &str) -> Result<&'a CgroupDir> {
    let field = format!("unified[{key:?}]");
    let Some(d) = m.v2() else {
        return Err(Error::Unsupported {
            field,
            version: "v1",
            reason: "unified keys need a cgroup v2 hierarchy".into(),
        });
    };
    if key.is_empty() || key.contains('/') || key.starts_with('.') || !key.contains('.') {
        return Err(Error::invalid(field, "not a cgroup v2 file name"));
    }
    let controller = key.split('.').next().unwrap_or_default();
    let pure_v2 = m
        .dirs()
        .iter()
        .all(|d| d.version == crate::layout::Version::V2);
    if controller != "cgroup" && !d.controllers.iter().any(|c| c == controller) {
        let reason = if pure_v2 {
            format!("controller {controller} is not available in cgroup.controllers")
        } else {
            format!("controller {controller} is not on the unified hierarchy of this hybrid host")
        };
        return Err(Error::invalid(field, reason));
    }
    Ok(d)
}

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    for key in r.unified().iter().flat_map(|u| u.keys()) {
        dir_for_key(m, key)?;
    }
    Ok(())
}

pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(u) = r.unified() else { return Ok(()) };
    let mut keys: Vec<_> = u.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in keys {
        let d = dir_for_key(m, key)?;
        if !fsio::exists(&d.path, key) {
            return Err(Error::invalid(
                format!("unified[{key:?}]"),
                format!("no such file in {}", d.path.display()),
            ));
        }
        fsio::write(&d.path, key, value)?;
    }
    Ok(())
}
