//! Local volumes, docker's layout: `<root>/volumes/<name>/_data` holds the
//! data, `<root>/volumes/<name>/volume.json` what `volume inspect` shows.
//! Creation and removal hold `<root>/volumes.lock`, so two containers
//! naming one new volume agree on it and `volume rm` never races a create.

pub mod copy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::mounts::{MountPoint, MountType};
use crate::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub name: String,
    pub driver: String,
    pub created_at: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Made for one container by `-v /path` (removed by `rm -v` / `--rm`).
    #[serde(default)]
    pub anonymous: bool,
}

pub fn dir(root: &Path) -> PathBuf {
    root.join("volumes")
}

/// Where the volume's data lives (docker's `Mountpoint`).
pub fn data_dir(root: &Path, name: &str) -> PathBuf {
    dir(root).join(name).join("_data")
}

fn meta(root: &Path, name: &str) -> PathBuf {
    dir(root).join(name).join("volume.json")
}

fn lock(root: &Path) -> Result<husk_fs::Lock> {
    // Closed like the rest of the store: a container's root can make
    // setuid files in a volume. docker leaves its volumes dir 0701 for
    // user-namespaced containers; husk has none, so nobody else needs in.
    crate::store::private_create(&dir(root))?;
    Ok(husk_fs::Lock::exclusive(&root.join("volumes.lock"))?)
}

/// docker's rule for local volume names is its rule for container names,
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, which also keeps `/` and a leading `.`
/// (so `..`) out of the path.
pub fn valid_name(name: &str) -> bool {
    crate::config::valid_name(name)
}

fn check_name(name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidFlag {
            flag: "volume name",
            value: name.to_string(),
            reason: "includes invalid characters for a local volume name, only \
                     [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed; to bind a host directory, \
                     give an absolute path"
                .into(),
        })
    }
}

/// The volume `name`, created if missing (docker creates named volumes on
/// first use). An existing volume is returned as is.
pub fn ensure(root: &Path, name: &str, anonymous: bool) -> Result<Volume> {
    make(root, name, BTreeMap::new(), anonymous)
}

/// `husk volume create NAME`: like [`ensure`], with labels on a new one.
pub fn create(root: &Path, name: &str, labels: BTreeMap<String, String>) -> Result<Volume> {
    make(root, name, labels, false)
}

fn make(
    root: &Path,
    name: &str,
    labels: BTreeMap<String, String>,
    anonymous: bool,
) -> Result<Volume> {
    check_name(name)?;
    let _lock = lock(root)?;
    if let Some(v) = load(root, name)? {
        return Ok(v);
    }
    let data = data_dir(root, name);
    std::fs::create_dir_all(&data).map_err(|e| Error::io("create", &data, e))?;
    let v = Volume {
        name: name.to_string(),
        driver: "local".into(),
        created_at: crate::proc::now_rfc3339(),
        labels,
        anonymous,
    };
    husk_fs::write_json_atomic(&meta(root, name), &v)?;
    journal(root, "create", name);
    Ok(v)
}

/// A volume event (docker's attributes: the driver).
fn journal(root: &Path, action: &str, name: &str) {
    let paths = crate::store::Paths::new(root, Path::new(""));
    crate::events::emit(
        &paths,
        crate::events::Kind::Volume,
        action,
        name,
        &[("driver", "local")],
    );
}

pub fn load(root: &Path, name: &str) -> Result<Option<Volume>> {
    if !valid_name(name) {
        return Ok(None);
    }
    let p = meta(root, name);
    match std::fs::read(&p) {
        Ok(d) => serde_json::from_slice(&d)
            .map(Some)
            .map_err(|source| Error::Decode { path: p, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", p, e)),
    }
}

/// Every volume, by name.
pub fn list(root: &Path) -> Result<Vec<Volume>> {
    let d = dir(root);
    let rd = match std::fs::read_dir(&d) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read dir", d, e)),
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Ok(Some(v)) = load(root, &name) {
            out.push(v);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Removes a volume and its data. `in_use` names the containers that
/// mount it; docker refuses then (unless forced, where it still refuses
/// for running ones: here any user refuses).
pub fn remove(root: &Path, name: &str, in_use: &[String]) -> Result<()> {
    let _lock = lock(root)?;
    if load(root, name)?.is_none() {
        return Err(Error::NoSuchVolume {
            name: name.to_string(),
        });
    }
    if !in_use.is_empty() {
        return Err(Error::VolumeInUse {
            name: name.to_string(),
            containers: in_use.join(", "),
        });
    }
    // Renamed away first: a half-removed volume is never found by name.
    let d = dir(root).join(name);
    let trash = dir(root).join(format!(".rm-{name}"));
    std::fs::rename(&d, &trash).map_err(|e| Error::io("rename", &d, e))?;
    std::fs::remove_dir_all(&trash).map_err(|e| Error::io("remove", &trash, e))?;
    journal(root, "destroy", name);
    Ok(())
}

/// docker's `volume inspect` shape.
pub fn inspect(root: &Path, v: &Volume) -> serde_json::Value {
    serde_json::json!({
        "CreatedAt": v.created_at,
        "Driver": v.driver,
        "Labels": v.labels,
        "Mountpoint": data_dir(root, &v.name),
        "Name": v.name,
        "Options": {},
        "Scope": "local",
    })
}

/// Creates what the planned mounts need on the host: volumes (anonymous
/// ones named with a fresh id) and missing `-v` host directories.
pub fn realize(root: &Path, planned: &mut [MountPoint]) -> Result<()> {
    for m in planned.iter_mut() {
        match m.kind {
            MountType::Volume => {
                if m.name.is_empty() {
                    m.name = crate::store::names::new_id();
                }
                let v = ensure(root, &m.name, m.anonymous)?;
                m.source = data_dir(root, &v.name).to_string_lossy().into_owned();
            }
            MountType::Bind => {
                let p = Path::new(&m.source);
                if !p.exists() {
                    std::fs::create_dir_all(p).map_err(|e| Error::io("create", p, e))?;
                }
            }
            MountType::Tmpfs => {}
        }
    }
    Ok(())
}

/// Removes the anonymous volumes among `points` (`rm -v`, `--rm`).
/// Failures are left for `volume rm`/prune: the container is gone anyway.
pub fn remove_anonymous(root: &Path, points: &[MountPoint]) {
    for m in points
        .iter()
        .filter(|m| m.anonymous && m.kind == MountType::Volume)
    {
        let _ = remove(root, &m.name, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_lifecycle() {
        assert!(valid_name("data"));
        assert!(valid_name("my-vol.1_x"));
        for bad in ["", "a", "..", ".a", "a/b", "../x", "a b", "-x"] {
            assert!(!valid_name(bad), "{bad}");
        }
        let t = tempfile::tempdir().unwrap();
        let v = ensure(t.path(), "data", false).unwrap();
        assert_eq!(v.driver, "local");
        assert!(data_dir(t.path(), "data").is_dir());
        std::fs::write(data_dir(t.path(), "data").join("f"), "x").unwrap();
        // Existing volumes keep their data.
        ensure(t.path(), "data", true).unwrap();
        assert!(data_dir(t.path(), "data").join("f").exists());
        assert_eq!(list(t.path()).unwrap().len(), 1);
        assert!(remove(t.path(), "data", &["web".into()]).is_err());
        remove(t.path(), "data", &[]).unwrap();
        assert!(list(t.path()).unwrap().is_empty());
        assert!(remove(t.path(), "data", &[]).is_err());
        assert!(ensure(t.path(), "../x", false).is_err());
    }
}
