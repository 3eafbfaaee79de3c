//! linux.cgroupsPath resolution, as runc does for the cgroupfs driver.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The path inside each hierarchy, split into validated components. Absolute paths are taken
/// from the hierarchy root, relative ones from the caller's own cgroup (`absolute` says which).
pub(crate) struct InnerPath {
    pub absolute: bool,
    pub components: Vec<String>,
}

pub(crate) fn validate_id(id: &str) -> Result<()> {
    if id.is_empty() || id == "." || id == ".." || id.contains('/') || id.contains('\0') {
        return Err(Error::InvalidPath {
            path: id.to_string(),
            reason: "container id must be a non-empty name without '/'".into(),
        });
    }
    Ok(())
}

pub(crate) fn resolve(cgroups_path: Option<&str>, id: &str) -> Result<InnerPath> {
    validate_id(id)?;
    let default = format!("/{id}");
    let raw = match cgroups_path {
        Some(p) if !p.is_empty() => p,
        _ => default.as_str(),
    };
    let bad = |reason: &str| Error::InvalidPath {
        path: raw.to_string(),
        reason: reason.to_string(),
    };
    if raw.contains('\0') {
        return Err(bad("contains a NUL byte"));
    }
    // Rejecting every ".." (rather than cleaning it lexically) is the simple way to be sure no
    // path escapes the hierarchy or the caller's cgroup.
    let mut components = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(bad("'..' is not allowed")),
            c => components.push(c.to_string()),
        }
    }
    if components.is_empty() {
        return Err(bad("refers to the hierarchy root"));
    }
    Ok(InnerPath {
        absolute: raw.starts_with('/'),
        components,
    })
}

/// The systemd driver needs systemd as PID 1; the path itself is `systemd::Unit`'s.
pub(crate) fn check_systemd(systemd_booted: bool) -> Result<()> {
    if !systemd_booted {
        return Err(Error::Systemd {
            reason: "systemd is not running as pid 1 (no /run/systemd/system); \
                     run without --systemd-cgroup"
                .into(),
        });
    }
    Ok(())
}

/// The first directory from `base` down to `base/components` that does not exist yet: the
/// top of what this manager will create, and so may remove.
pub(crate) fn first_missing(base: &Path, components: &[String]) -> Option<PathBuf> {
    let mut p = base.to_path_buf();
    for c in components {
        p.push(c);
        if !p.exists() {
            return Some(p);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_slash_id() {
        let p = resolve(None, "abc").unwrap();
        assert!(p.absolute);
        assert_eq!(p.components, ["abc"]);
    }

    #[test]
    fn relative_and_absolute() {
        let p = resolve(Some("husk/x"), "x").unwrap();
        assert!(!p.absolute);
        assert_eq!(p.components, ["husk", "x"]);
        let p = resolve(Some("//husk/./x/"), "x").unwrap();
        assert!(p.absolute);
        assert_eq!(p.components, ["husk", "x"]);
    }

    #[test]
    fn rejects_escapes() {
        assert!(resolve(Some("/husk/../../etc"), "x").is_err());
        assert!(resolve(Some("../x"), "x").is_err());
        assert!(resolve(Some("/"), "x").is_err());
        assert!(resolve(None, "a/b").is_err());
        assert!(resolve(None, "").is_err());
    }

    #[test]
    fn systemd_without_systemd_is_clear() {
        let e = check_systemd(false).unwrap_err();
        assert!(e.to_string().contains("not running as pid 1"), "{e}");
        assert!(check_systemd(true).is_ok());
    }
}
