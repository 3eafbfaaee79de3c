//! The systemd cgroup driver (runc's `--systemd-cgroup`): linux.cgroupsPath is
//! `slice:prefix:name`, the container's cgroup is a transient scope unit that systemd
//! creates and removes over D-Bus, and the limits are set twice: as unit properties, so a
//! `systemctl daemon-reload` does not reset them, and in the cgroup files as with cgroupfs,
//! for the limits systemd has no property for.

mod bus;
mod properties;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub(crate) use bus::Bus;
pub(crate) use properties::properties;

/// The unit a container's cgroup is, and where systemd puts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// `<prefix>-<name>.scope`, or `<name>` when the name is itself a slice.
    pub name: String,
    /// The slice the unit goes in (`system.slice` when the path names none).
    pub slice: String,
}

impl Unit {
    /// Parses runc's `slice:prefix:name`; an empty or missing path is
    /// `system.slice:husk:<id>` (runc's `system.slice:runc:<id>`).
    pub fn parse(cgroups_path: Option<&str>, container_id: &str) -> Result<Unit> {
        let raw = cgroups_path.filter(|p| !p.is_empty());
        let default = format!("system.slice:husk:{container_id}");
        let raw = raw.unwrap_or(&default);
        let parts: Vec<&str> = raw.split(':').collect();
        let [slice, prefix, name] = parts[..] else {
            return Err(Error::Systemd {
                reason: format!(
                    "cgroups path {raw:?} is not of the form slice:prefix:name \
                     (e.g. system.slice:husk:{container_id})"
                ),
            });
        };
        let bad = |what: &str, v: &str| Error::Systemd {
            reason: format!(
                "cgroups path {raw:?}: {what} {v:?} is not a valid unit name part \
                 (letters, digits and :_.-@ only)"
            ),
        };
        for (what, v) in [("slice", slice), ("prefix", prefix), ("name", name)] {
            if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-@\\".contains(c))
            {
                return Err(bad(what, v));
            }
        }
        if name.is_empty() {
            return Err(bad("name", name));
        }
        let slice = if slice.is_empty() {
            "system.slice"
        } else {
            slice
        };
        expand_slice(slice)?;
        let name = if name.ends_with(".slice") {
            name.to_string()
        } else if prefix.is_empty() {
            format!("{name}.scope")
        } else {
            format!("{prefix}-{name}.scope")
        };
        Ok(Unit {
            name,
            slice: slice.to_string(),
        })
    }

    /// The unit's directory below a hierarchy's root, as systemd lays slices out:
    /// `a-b.slice` lives in `a.slice/a-b.slice`.
    pub fn components(&self) -> Result<Vec<String>> {
        let mut out = expand_slice(&self.slice)?;
        if self.name.ends_with(".slice") {
            // A slice unit: its own path is the expansion of its name.
            out = expand_slice(&self.name)?;
        } else {
            out.push(self.name.clone());
        }
        Ok(out)
    }

    pub fn path(&self) -> Result<PathBuf> {
        Ok(self.components()?.iter().collect())
    }
}

/// systemd's slice naming: every dash starts a child of the slice before it; `-.slice` is
/// the root. Mirrors runc's ExpandSlice, including its refusals.
fn expand_slice(slice: &str) -> Result<Vec<String>> {
    let bad = |why: &str| Error::Systemd {
        reason: format!("invalid slice name {slice:?}: {why}"),
    };
    let Some(stem) = slice.strip_suffix(".slice") else {
        return Err(bad("must end in .slice"));
    };
    if stem.contains('/') {
        return Err(bad("contains '/'"));
    }
    if stem == "-" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if part.is_empty() {
            return Err(bad(
                "has an empty component (leading, trailing or double '-')",
            ));
        }
        prefix = if prefix.is_empty() {
            part.to_string()
        } else {
            format!("{prefix}-{part}")
        };
        out.push(format!("{prefix}.slice"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_forms() {
        let u = Unit::parse(Some("system.slice:docker:abc"), "abc").unwrap();
        assert_eq!(u.name, "docker-abc.scope");
        assert_eq!(
            u.path().unwrap(),
            PathBuf::from("system.slice/docker-abc.scope")
        );
        let u = Unit::parse(None, "x1").unwrap();
        assert_eq!(u.name, "husk-x1.scope");
        assert_eq!(u.slice, "system.slice");
        let u = Unit::parse(Some(":cri-containerd:f00"), "f00").unwrap();
        assert_eq!(u.slice, "system.slice");
        assert_eq!(u.name, "cri-containerd-f00.scope");
    }

    #[test]
    fn kubelet_pod_slices_expand() {
        let u = Unit::parse(
            Some("kubepods-burstable-pod1234.slice:cri-containerd:c0ffee"),
            "c0ffee",
        )
        .unwrap();
        assert_eq!(
            u.path().unwrap(),
            PathBuf::from(
                "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/\
                 cri-containerd-c0ffee.scope"
            )
        );
        let u = Unit::parse(Some("-.slice:p:n"), "n").unwrap();
        assert_eq!(u.path().unwrap(), PathBuf::from("p-n.scope"));
    }

    #[test]
    fn refusals_name_the_part() {
        for (p, want) in [
            ("/a/b", "slice:prefix:name"),
            ("a.slice:p", "slice:prefix:name"),
            ("a.slice:p:", "name"),
            ("a:p:n", "must end in .slice"),
            ("a--b.slice:p:n", "empty component"),
            ("a.slice:p/x:n", "prefix"),
            ("a.slice:p:../n", "name"),
        ] {
            let e = Unit::parse(Some(p), "n").unwrap_err().to_string();
            assert!(e.contains(want), "{p}: {e}");
        }
    }
}
