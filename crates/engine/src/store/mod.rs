//! The container store: records under `<root>/containers/<id>/`, names and
//! ids, the paths of everything a container owns, the lock, `resolve`.
//!
//! ```text
//! <root>/containers/<id>/container.json   the record (atomic writes, under containers.lock)
//! <root>/containers/<id>/<id>-json.log    docker json-file log, written by the monitor
//! <root>/containers/<id>/upper work merged   overlay dirs; merged is mounted while running
//! <runroot>/containers/<id>/config.json   the bundle, rebuilt on every start
//! <runroot>/runtime/                      the OCI runtime's --root
//! ```
//! Every mutation of a record re-reads it under the one exclusive
//! `containers.lock` (held for milliseconds, never while waiting on a
//! process), so names stay unique and concurrent verbs never lose an update.
//! Readers need no lock: records are replaced by rename.

pub mod exit;
pub mod health;
pub mod names;
pub mod record;

use std::path::{Path, PathBuf};

pub use record::{
    Container, ContainerConfig, ExtraEndpoint, HostConfig, NetworkState, State, Status,
};

use crate::{Error, Result};

/// What the engine root holds, closed with it when an older husk left it
/// open: image layers and blobs, staging, container dirs (upper, merged),
/// volumes (its lock files only mark an open root as a store).
const ROOT_DIRS: &[&str] = &[
    "layers",
    "l",
    "tmp",
    "blobs",
    "containers",
    "volumes",
    "network",
    "images.lock",
    "containers.lock",
];

/// The runroot's: bundles, the runtime's state (its exec sockets), netns handles.
const RUNROOT_DIRS: &[&str] = &["containers", "runtime", "netns"];

/// `mkdir -p` whose new directories only their owner can enter.
pub(crate) fn private_create(p: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(husk_fs::PRIVATE_MODE)
        .create(p)
        .map_err(|e| Error::io("create", p, e))
}

/// Whether `c`'s init or its monitor still runs: then the container owns
/// what it holds (its record, mount, network), whatever the record says.
pub fn container_alive(c: &Container) -> bool {
    crate::proc::alive(c.state.pid, c.state.pid_start)
        || crate::proc::alive(c.state.monitor_pid, c.state.monitor_start)
}

/// Where an engine keeps its containers.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Engine root (`--root`): images and container records.
    pub root: PathBuf,
    /// Volatile state (`--runroot`): bundles and the runtime's root; gone after a reboot.
    pub runroot: PathBuf,
    /// `--config`: the engine config file; None = the default path if present.
    pub config: Option<PathBuf>,
}

impl Paths {
    pub fn new(root: &Path, runroot: &Path) -> Paths {
        Paths {
            root: root.to_path_buf(),
            runroot: runroot.to_path_buf(),
            config: None,
        }
    }

    pub fn with_config(mut self, config: Option<PathBuf>) -> Paths {
        self.config = config;
        self
    }

    /// Makes the engine root and the runroot directories no other user can
    /// enter (creating them if needed), and closes those an older husk
    /// left open (0755). Images and containers put setuid-root files,
    /// files with capabilities and device nodes in them, and a container's
    /// rootfs must keep those working inside it (its overlay cannot be
    /// nosuid/nodev): what protects the host is that no other user can
    /// walk a path to them, as docker keeps its root 0710 root:root.
    /// Nothing needs to pass through from outside: a container reaches
    /// its rootfs, volumes and /etc files through mounts made by root.
    pub fn secure(&self) -> Result<()> {
        husk_fs::private_dir(&self.root, ROOT_DIRS)?;
        husk_fs::private_dir(&self.runroot, RUNROOT_DIRS)?;
        Ok(())
    }

    /// The container's network namespace handle (a bind mount of its nsfs
    /// file), gone with /run after a reboot like the namespace itself.
    pub fn netns(&self, id: &str) -> PathBuf {
        self.netns_dir().join(id)
    }

    pub fn netns_dir(&self) -> PathBuf {
        self.runroot.join("netns")
    }

    pub fn containers(&self) -> PathBuf {
        self.root.join("containers")
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.containers().join(id)
    }

    pub fn record(&self, id: &str) -> PathBuf {
        self.dir(id).join("container.json")
    }

    pub fn log(&self, id: &str) -> PathBuf {
        self.dir(id).join(format!("{id}-json.log"))
    }

    /// The log and its rotated files, oldest first (see [`logfile`]).
    pub fn logs(&self, id: &str) -> Vec<PathBuf> {
        let live = self.log(id);
        let mut files: Vec<PathBuf> = (1..)
            .map(|n| crate::config::log::rotated(&live, n))
            .take_while(|p| p.exists())
            .collect();
        files.reverse();
        files.push(live);
        files
    }

    /// Held by the container's monitor for its whole life (see [`proc::try_lock`]).
    pub fn monitor_lock(&self, id: &str) -> PathBuf {
        self.dir(id).join("monitor.lock")
    }

    pub fn bundle(&self, id: &str) -> PathBuf {
        self.runroot.join("containers").join(id)
    }

    /// Where a running tty container's monitor takes `husk attach`'s terminal.
    pub fn attach_socket(&self, id: &str) -> PathBuf {
        self.bundle(id).join("attach.sock")
    }

    pub fn runtime_root(&self) -> PathBuf {
        self.runroot.join("runtime")
    }

    fn lock_path(&self) -> PathBuf {
        self.root.join("containers.lock")
    }

    /// The exclusive lock every record mutation holds.
    pub fn lock(&self) -> Result<husk_fs::Lock> {
        private_create(&self.containers())?;
        Ok(husk_fs::Lock::exclusive(&self.lock_path())?)
    }

    /// Reads one record; `None` when the container is gone.
    pub fn load(&self, id: &str) -> Result<Option<Container>> {
        let p = self.record(id);
        match std::fs::read(&p) {
            Ok(data) => serde_json::from_slice(&data)
                .map(Some)
                .map_err(|source| Error::Decode { path: p, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", p, e)),
        }
    }

    pub fn save(&self, c: &Container) -> Result<()> {
        Ok(husk_fs::write_json_atomic(&self.record(&c.id), c)?)
    }

    /// Every record, oldest first. Directories without a record (a create
    /// interrupted before its first write) are skipped.
    pub fn all(&self) -> Result<Vec<Container>> {
        let dir = self.containers();
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read dir", dir, e)),
        };
        let mut out = Vec::new();
        for e in rd {
            let e = e.map_err(|e| Error::io("read dir", &dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !names::is_full_id(&name) {
                continue;
            }
            // A record this build cannot decode (hand-edited, or from a
            // newer husk) must not make every command fail: it is left out
            // of lists and still reported by any command naming it.
            if let Ok(Some(c)) = self.load(&name) {
                out.push(c);
            }
        }
        out.sort_by(|a, b| a.created.cmp(&b.created));
        Ok(out)
    }

    /// docker's lookup: exact id, exact name (with or without `/`), then a
    /// unique id prefix.
    pub fn resolve(&self, name: &str) -> Result<Container> {
        // A full id (what the CLI passes on after `create`, and every
        // forwarded signal) is one record read, not a read of all of them.
        if names::is_full_id(name) {
            if let Some(c) = self.load(name)? {
                return Ok(c);
            }
        }
        let all = self.all()?;
        let bare = name.strip_prefix('/').unwrap_or(name);
        if let Some(c) = all.iter().find(|c| c.id == name || c.name == bare) {
            return Ok(c.clone());
        }
        let matches: Vec<&Container> = if name.is_empty() {
            Vec::new()
        } else {
            all.iter().filter(|c| c.id.starts_with(name)).collect()
        };
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::NoSuchContainer {
                name: name.to_string(),
            }),
            _ => Err(Error::AmbiguousContainer {
                prefix: name.to_string(),
            }),
        }
    }

    /// Read-modify-write of one record under the lock. `None` when the
    /// record is gone (removed meanwhile).
    pub fn update(
        &self,
        id: &str,
        f: impl FnOnce(&mut Container) -> Result<()>,
    ) -> Result<Option<Container>> {
        let _lock = self.lock()?;
        let Some(mut c) = self.load(id)? else {
            return Ok(None);
        };
        f(&mut c)?;
        self.save(&c)?;
        Ok(Some(c))
    }
}

/// Bytes of the files under `dir`, symlinks not followed and hard links
/// counted once, as docker's directory size is.
pub fn tree_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
            } else if seen.insert((m.dev(), m.ino())) {
                total += m.len();
            }
        }
    }
    total
}

/// What every container holds in the image store: its image, whether it
/// runs, the layers it stands on. Unreadable records are skipped:
/// refusing every rmi because one record is corrupt would be worse than
/// the rare missed reference.
pub fn holders(root: &Path) -> Vec<husk_image::Holder> {
    // Records live under the root alone; no runroot is needed to read them.
    let paths = Paths::new(root, Path::new(""));
    paths
        .all()
        .unwrap_or_default()
        .into_iter()
        .map(|c| husk_image::Holder {
            image: c.image_id.parse().ok(),
            // The kernel's word, not the record's: a record left "running"
            // by a killed monitor holds its image like a stopped one.
            running: c.is_running() && crate::store::container_alive(&c),
            lower_dirs: c.lower_dirs.iter().map(PathBuf::from).collect(),
            container: c.id,
        })
        .collect()
}
