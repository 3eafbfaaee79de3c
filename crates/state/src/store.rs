use std::collections::HashMap;
use std::path::{Path, PathBuf};

use husk_fs::Lock;
use serde::{Deserialize, Serialize};

use crate::{pid_alive, Error, Result};

pub const STATE_FILE: &str = "state.json";
/// Unix socket the created init waits on; `start` connects to it. Its
/// presence is what makes a live container "created" rather than "running".
pub const EXEC_SOCK: &str = "exec.sock";
const LOCK_FILE: &str = ".lock";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        };
        f.write_str(s)
    }
}

/// What the runtime records about one container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerState {
    pub id: String,
    pub pid: i32,
    /// Start time of `pid` (clock ticks since boot), to detect pid reuse.
    pub pid_start: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339 with nanoseconds, as runc prints it.
    pub created: String,
    pub owner: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// The cgroup manager (opaque here: the cgroups crate owns its shape).
    pub cgroup: serde_json::Value,
    /// The spec the container was created with: exec and hooks read it.
    pub spec: serde_json::Value,
    #[serde(default)]
    pub systemd_cgroup: bool,
}

impl ContainerState {
    /// The live status. `frozen` comes from the cgroup freezer (the caller
    /// asks the cgroups crate, which this crate does not know).
    pub fn status(&self, dir: &Path, frozen: impl FnOnce() -> bool) -> Status {
        if !pid_alive(self.pid, self.pid_start) {
            return Status::Stopped;
        }
        if dir.join(EXEC_SOCK).exists() {
            return Status::Created;
        }
        if frozen() {
            return Status::Paused;
        }
        Status::Running
    }

    /// The state JSON of the OCI runtime spec, with runc's extra fields, in
    /// runc's field order.
    pub fn oci_json(&self, status: Status) -> serde_json::Value {
        let pid = if status == Status::Stopped {
            0
        } else {
            self.pid
        };
        let out = OciState {
            oci_version: "1.2.0",
            id: &self.id,
            pid,
            status: status.to_string(),
            bundle: &self.bundle,
            rootfs: &self.rootfs,
            created: &self.created,
            owner: &self.owner,
            annotations: &self.annotations,
        };
        serde_json::to_value(out).unwrap_or_default()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OciState<'a> {
    oci_version: &'static str,
    id: &'a str,
    pid: i32,
    status: String,
    bundle: &'a Path,
    rootfs: &'a Path,
    created: &'a str,
    owner: &'a str,
    annotations: &'a HashMap<String, String>,
}

/// The longest id: the container's directory under the root (and its
/// default cgroup) is named after it, and a file name has at most 255
/// bytes (NAME_MAX); a longer id would fail as a raw ENAMETOOLONG half-way
/// through `create`.
pub const MAX_ID_LEN: usize = 255;

/// runc's rule: letters, digits, `_ + - .`, not `.` or `..`; at most
/// [`MAX_ID_LEN`] bytes.
pub fn validate_id(id: &str) -> Result<()> {
    let bad = |reason| {
        Err(Error::InvalidId {
            id: id.to_string(),
            reason,
        })
    };
    if id.is_empty() {
        return bad("empty");
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::IdTooLong {
            id: id.to_string(),
            len: id.len(),
            max: MAX_ID_LEN,
        });
    }
    if id == "." || id == ".." {
        return bad("must not be . or ..");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c))
    {
        return bad("use only letters, digits and _ + - .");
    }
    Ok(())
}

/// The runtime's `--root` directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn open(root: &Path) -> Result<Store> {
        std::fs::create_dir_all(root).map_err(|e| husk_fs::Error::io("mkdir", root, e))?;
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Creates the container's directory; fails if the id is taken.
    pub fn create_dir(&self, id: &str) -> Result<PathBuf> {
        validate_id(id)?;
        let dir = self.dir(id);
        match std::fs::create_dir(&dir) {
            Ok(()) => Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(Error::Exists(id.to_string()))
            }
            Err(e) => Err(husk_fs::Error::io("mkdir", &dir, e).into()),
        }
    }

    /// Serializes operations on one container across processes.
    pub fn lock(&self, id: &str) -> Result<Lock> {
        validate_id(id)?;
        let dir = self.dir(id);
        if !dir.is_dir() {
            return Err(Error::NotFound(id.to_string()));
        }
        let path = dir.join(LOCK_FILE);
        Lock::exclusive_timeout(&path, std::time::Duration::from_secs(30)).map_err(|e| {
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                Error::Busy(id.to_string())
            } else {
                e.into()
            }
        })
    }

    pub fn save(&self, state: &ContainerState) -> Result<()> {
        let path = self.dir(&state.id).join(STATE_FILE);
        Ok(husk_fs::write_json_atomic(&path, state)?)
    }

    pub fn load(&self, id: &str) -> Result<ContainerState> {
        validate_id(id)?;
        let path = self.dir(id).join(STATE_FILE);
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound(id.to_string()))
            }
            Err(e) => return Err(husk_fs::Error::io("read", &path, e).into()),
        };
        serde_json::from_slice(&data).map_err(|e| Error::Corrupt {
            id: id.to_string(),
            path,
            reason: e.to_string(),
        })
    }

    /// Ids of every container with a state file, sorted.
    pub fn list(&self) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let rd = std::fs::read_dir(&self.root)
            .map_err(|e| husk_fs::Error::io("read dir", &self.root, e))?;
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().join(STATE_FILE).exists() {
                ids.push(name);
            }
        }
        ids.sort();
        Ok(ids)
    }

    pub fn remove(&self, id: &str) -> Result<()> {
        validate_id(id)?;
        let dir = self.dir(id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(husk_fs::Error::io("remove", &dir, e).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: &str) -> ContainerState {
        ContainerState {
            id: id.into(),
            pid: std::process::id() as i32,
            pid_start: crate::start_time(std::process::id() as i32).unwrap(),
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2026-01-01T00:00:00.000000000Z".into(),
            owner: String::new(),
            annotations: HashMap::new(),
            cgroup: serde_json::Value::Null,
            spec: serde_json::Value::Null,
            systemd_cgroup: false,
        }
    }

    #[test]
    fn ids_follow_runcs_rule() {
        for ok in ["abc", "a-b_c.d+e", "0"] {
            validate_id(ok).unwrap();
        }
        for bad in ["", ".", "..", "a/b", "a b", "../x"] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
        validate_id(&"a".repeat(MAX_ID_LEN)).unwrap();
        let e = validate_id(&"a".repeat(300)).unwrap_err().to_string();
        assert!(e.contains("300 bytes") && e.contains("at most 255"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }

    #[test]
    fn save_load_list_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_dir("c1").unwrap();
        assert!(matches!(store.create_dir("c1"), Err(Error::Exists(_))));
        store.save(&sample("c1")).unwrap();
        assert_eq!(store.load("c1").unwrap().id, "c1");
        assert_eq!(store.list().unwrap(), vec!["c1".to_string()]);
        store.remove("c1").unwrap();
        assert!(matches!(store.load("c1"), Err(Error::NotFound(_))));
    }

    #[test]
    fn status_comes_from_the_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sample("c");
        assert_eq!(s.status(dir.path(), || false), Status::Running);
        assert_eq!(s.status(dir.path(), || true), Status::Paused);
        std::fs::write(dir.path().join(EXEC_SOCK), "").unwrap();
        assert_eq!(s.status(dir.path(), || false), Status::Created);
        s.pid_start += 1;
        assert_eq!(s.status(dir.path(), || false), Status::Stopped);
        assert_eq!(s.oci_json(Status::Stopped)["pid"], 0);
    }
}
