//! `husk rm`.

use std::path::Path;
use std::time::Duration;

use super::reconcile::{reconcile_locked, release};
use super::{reconcile, runtime_of, sweep, thaw_if_paused, wait_recorded};
use crate::containers::{proc, Paths};
use crate::{Error, Result};

/// `husk rm [-f] -v`: also removes the container's anonymous volumes
/// (named ones stay, as in docker).
pub fn remove_with_volumes(paths: &Paths, name: &str, force: bool, volumes: bool) -> Result<()> {
    sweep(paths);
    let c = paths.resolve(name)?;
    remove_swept(paths, name, force)?;
    if volumes {
        crate::containers::mounts::remove_anonymous(&paths.root, &c.host_config.mount_points);
    }
    Ok(())
}

/// `husk rm [-f]`. Removal happens holding the container's monitor lock,
/// so no monitor can be starting or finishing it meanwhile. What crashes
/// left that no record names goes first (see [`sweep`]).
pub fn remove(paths: &Paths, name: &str, force: bool) -> Result<()> {
    sweep(paths);
    remove_swept(paths, name, force)
}

fn remove_swept(paths: &Paths, name: &str, force: bool) -> Result<()> {
    let id = paths.resolve(name)?.id;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let _owner = loop {
        let Some(c) = paths.load(&id)? else {
            return Ok(());
        };
        let c = reconcile(paths, &c)?;
        if c.is_running() {
            if !force {
                return Err(Error::Conflict {
                    id: c.id,
                    reason: "cannot remove a running container: stop it first or use rm -f".into(),
                });
            }
            let _ = runtime_of(paths, &c).kill(&c.id, "KILL");
            thaw_if_paused(paths, &c);
            proc::wait_gone(c.state.pid, c.state.pid_start, Duration::from_secs(10));
            wait_recorded(paths, &c.id, Duration::from_secs(10))?;
        }
        // Free once the monitor has exited (after starting, failing or
        // recording the exit).
        match proc::try_lock(&paths.monitor_lock(&id)) {
            Ok(Some(lock)) => break lock,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(None) => {
                return Err(Error::Conflict {
                    id,
                    reason: "its monitor does not let go: try again".into(),
                })
            }
            // Removed meanwhile (`--rm`): nothing left to do.
            Err(_) if paths.load(&id)?.is_none() => return Ok(()),
            Err(e) => return Err(e),
        }
    };
    let Some(c) = paths.load(&id)? else {
        return Ok(());
    };
    // Reconciled again under the lock (cheap: the monitor is gone), so a
    // record that a full disk kept from being updated does not count as
    // running.
    let Some(c) = reconcile_locked(paths, &c)? else {
        return Ok(());
    };
    if c.is_running() {
        // Started again between our check and the lock: refuse rather than race.
        return Err(Error::Conflict {
            id,
            reason: "was started again while being removed".into(),
        });
    }
    // Whatever a dead monitor left: runtime state, mount, bundle, network.
    release(paths, &c);
    remove_files(paths, &c.id)
}

/// Removes the record (first, under the lock, so nobody sees a half
/// removed container) and then its files; an `--rm` container's
/// anonymous volumes go with it, as in docker.
pub fn remove_files(paths: &Paths, id: &str) -> Result<()> {
    match take_files(paths, id)? {
        Some(t) => t.remove(),
        None => Ok(()),
    }
}

/// What a removed container leaves for deleting: its renamed directory.
/// Once taken, the container is gone for every command (the record is no
/// longer where lookups read), so the deleting may happen later, after
/// the caller has told whoever waits. The directory stays locked (see
/// [`lock_dir`]) until it is gone, so a later command's [`sweep`] can
/// tell a removal at work from one that was killed half way.
pub struct Trash {
    path: std::path::PathBuf,
    _held: Option<husk_fs::Lock>,
    /// The store root and the image whose layers it kept.
    image: Option<(std::path::PathBuf, String)>,
}

impl Trash {
    pub fn remove(self) -> Result<()> {
        match std::fs::remove_dir_all(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &self.path, e)),
        }
        // The layers it kept after its image was deleted go with it.
        match &self.image {
            Some((root, image)) => crate::images::remove::release_layers(root, image),
            None => Ok(()),
        }
    }
}

/// An exclusive `flock` on a directory, without waiting; `None` when
/// another process holds it (or it cannot be opened). Follows the
/// directory through a rename: the lock is on the inode.
pub(super) fn lock_dir(dir: &Path) -> Option<husk_fs::Lock> {
    husk_fs::Lock::try_exclusive_dir(dir).ok().flatten()
}

/// Takes the container out of the store (its record, bundle and, for
/// `--rm`, its anonymous volumes); `None` when it was gone already.
pub fn take_files(paths: &Paths, id: &str) -> Result<Option<Trash>> {
    let record = paths.load(id).ok().flatten();
    let image = record
        .as_ref()
        .map(|c| (paths.root.clone(), c.image_id.clone()));
    let auto = record.filter(|c| c.host_config.auto_remove);
    let dir = paths.dir(id);
    let trash = paths.containers().join(format!(".rm-{id}"));
    let held = {
        let _lock = paths.lock()?;
        // Locked before it is renamed: no sweep ever sees it unlocked
        // while we live.
        let held = lock_dir(&dir);
        match std::fs::rename(&dir, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("rename", &dir, e)),
        }
        held
    };
    let _ = std::fs::remove_dir_all(paths.bundle(id));
    if let Some(c) = auto {
        crate::containers::mounts::remove_anonymous(&paths.root, &c.host_config.mount_points);
    }
    Ok(Some(Trash {
        path: trash,
        _held: held,
        image,
    }))
}
