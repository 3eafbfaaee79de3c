//! Service mounts (`volumes:`): the typed form and the short syntax
//! (`SOURCE:TARGET[:MODE]`).

use serde::Serialize;

/// One mount of a service, normalized from either syntax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    #[serde(rename = "type")]
    pub kind: MountType,
    /// For `volume`: the key of a top-level volume (its engine name is in
    /// [`crate::Volume::name`]), `None` for an anonymous volume. For `bind`:
    /// the absolute host path. For `tmpfs`: `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The absolute path inside the container.
    pub target: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsOptions>,
}

/// What a mount mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// A named or anonymous volume.
    Volume,
    /// A host path.
    Bind,
    /// A fresh tmpfs.
    Tmpfs,
}

/// Options of a bind mount.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct BindOptions {
    /// `rprivate`, `shared`, `rslave`, ... as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation: Option<String>,
    /// Create the host directory when nothing is there. The short syntax
    /// always implies it; the long syntax defaults to it too (compose v2).
    pub create_host_path: bool,
    /// `z` (shared) or `Z` (private) SELinux relabeling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selinux: Option<String>,
}

/// Options of a volume mount.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct VolumeOptions {
    /// Do not copy the image's content at the target into a new volume.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub nocopy: bool,
    /// Mount this path inside the volume instead of its root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
}

/// Options of a tmpfs mount.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TmpfsOptions {
    /// Size limit in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// File mode of the mount's root (e.g. 0o1777).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

/// The hint every short-syntax volume error ends with.
pub(crate) const VOLUME_HINT: &str =
    "use [SOURCE:]TARGET[:MODE], e.g. data:/var/lib/data, ./conf:/etc/app:ro or /abs:/x";

/// Parses the short syntax. A source starting with `/`, `.` or `~` is a bind
/// (the caller resolves it against the project directory); any other is a
/// named volume.
pub(crate) fn parse_short_volume(spec: &str) -> Result<Mount, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => return Err(format!("too many colons: {VOLUME_HINT}")),
    };
    if source == Some("") {
        return Err(format!("empty source: {VOLUME_HINT}"));
    }
    if !target.starts_with('/') {
        return Err(format!(
            "container path {target:?} is not absolute: {VOLUME_HINT}"
        ));
    }
    let is_bind = source.is_some_and(|s| s.starts_with(['/', '.', '~']));
    let mut mount = Mount {
        kind: if is_bind {
            MountType::Bind
        } else {
            MountType::Volume
        },
        source: source.map(str::to_string),
        target: target.to_string(),
        read_only: false,
        bind: is_bind.then(|| BindOptions {
            create_host_path: true,
            ..BindOptions::default()
        }),
        volume: None,
        tmpfs: None,
    };
    if let Some(name) = source.filter(|_| !is_bind) {
        check_volume_name(name)?;
    }
    for option in mode.into_iter().flat_map(|m| m.split(',')) {
        match option {
            "ro" => mount.read_only = true,
            "rw" => mount.read_only = false,
            "z" | "Z" if is_bind => {
                if let Some(b) = mount.bind.as_mut() {
                    b.selinux = Some(option.to_string());
                }
            }
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" if is_bind => {
                if let Some(b) = mount.bind.as_mut() {
                    b.propagation = Some(option.to_string());
                }
            }
            "nocopy" if !is_bind => {
                mount.volume = Some(VolumeOptions {
                    nocopy: true,
                    subpath: None,
                })
            }
            // Docker Desktop's consistency hints mean nothing on Linux.
            "cached" | "delegated" | "consistent" => {}
            _ => {
                return Err(format!(
                    "unknown mode {option:?} for a {} mount: use ro, rw{}",
                    if is_bind { "bind" } else { "volume" },
                    if is_bind {
                        ", z, Z or a propagation (rprivate, rshared, rslave, ...)"
                    } else {
                        " or nocopy"
                    }
                ))
            }
        }
    }
    Ok(mount)
}

/// Docker's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub(crate) fn check_volume_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is neither a path nor a volume name: start a host path with ./ or /, or name a volume with [a-zA-Z0-9][a-zA-Z0-9_.-]*"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_volume() {
        let m = parse_short_volume("data:/var/lib/data:ro").unwrap();
        assert_eq!(m.kind, MountType::Volume);
        assert_eq!(m.source.as_deref(), Some("data"));
        assert_eq!(m.target, "/var/lib/data");
        assert!(m.read_only);
        assert!(m.bind.is_none());
        let m = parse_short_volume("data:/d:nocopy").unwrap();
        assert!(m.volume.unwrap().nocopy);
    }

    #[test]
    fn anonymous_volume() {
        let m = parse_short_volume("/cache").unwrap();
        assert_eq!(
            (m.kind, m.source, m.target.as_str()),
            (MountType::Volume, None, "/cache")
        );
    }

    #[test]
    fn binds() {
        let m = parse_short_volume("./rel:/app").unwrap();
        assert_eq!(m.kind, MountType::Bind);
        assert_eq!(m.source.as_deref(), Some("./rel"));
        assert!(m.bind.as_ref().unwrap().create_host_path);
        let m = parse_short_volume("/abs:/x:ro,z,rslave").unwrap();
        assert!(m.read_only);
        let b = m.bind.unwrap();
        assert_eq!(
            (b.selinux.as_deref(), b.propagation.as_deref()),
            (Some("z"), Some("rslave"))
        );
        assert_eq!(parse_short_volume("~/x:/x").unwrap().kind, MountType::Bind);
    }

    #[test]
    fn errors() {
        for (spec, needle) in [
            ("a:b:c:d", "too many colons"),
            (":/x", "empty source"),
            ("data:rel", "not absolute"),
            ("data:/x:bogus", "unknown mode"),
            ("data:/x:z", "unknown mode"),
            ("/a:/x:nocopy", "unknown mode"),
            ("my/vol:/x", "neither a path nor a volume name"),
        ] {
            let err = parse_short_volume(spec).unwrap_err();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }
}
