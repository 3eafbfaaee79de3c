//! `husk rm`.

use std::time::Duration;

use super::{reconcile, release_rootfs, runtime_of, thaw_if_paused, wait_recorded};
use crate::containers::{proc, Paths};
use crate::{Error, Result};

/// `husk rm [-f] -v`: also removes the container's anonymous volumes
/// (named ones stay, as in docker).
pub fn remove_with_volumes(paths: &Paths, name: &str, force: bool, volumes: bool) -> Result<()> {
    let c = paths.resolve(name)?;
    remove(paths, name, force)?;
    if volumes {
        crate::containers::mounts::remove_anonymous(&paths.root, &c.host_config.mount_points);
    }
    Ok(())
}

/// `husk rm [-f]`. Removal happens holding the container's monitor lock,
/// so no monitor can be starting or finishing it meanwhile.
pub fn remove(paths: &Paths, name: &str, force: bool) -> Result<()> {
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
    let c = reconcile(paths, &c)?;
    if c.is_running() {
        // Started again between our check and the lock: refuse rather than race.
        return Err(Error::Conflict {
            id,
            reason: "was started again while being removed".into(),
        });
    }
    // Whatever a dead monitor left: runtime state, mount, bundle, network.
    let _ = runtime_of(paths, &c).delete_force(&c.id);
    release_rootfs(&paths.dir(&c.id).join("merged"));
    // A failure here must not keep the container: the gc of a later
    // command frees what an absent container still holds.
    if crate::network::needs_disconnect(paths, &c) {
        if let Err(e) = crate::network::disconnect(paths, &c) {
            eprintln!("husk: {e}");
        }
    }
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
/// the caller has told whoever waits.
pub struct Trash(std::path::PathBuf, Option<(std::path::PathBuf, String)>);

impl Trash {
    pub fn remove(self) -> Result<()> {
        std::fs::remove_dir_all(&self.0).map_err(|e| Error::io("remove", &self.0, e))?;
        // The layers it kept after its image was deleted go with it.
        match self.1 {
            Some((root, image)) => crate::images::remove::release_layers(&root, &image),
            None => Ok(()),
        }
    }
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
    {
        let _lock = paths.lock()?;
        match std::fs::rename(&dir, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("rename", &dir, e)),
        }
    }
    let _ = std::fs::remove_dir_all(paths.bundle(id));
    if let Some(c) = auto {
        crate::containers::mounts::remove_anonymous(&paths.root, &c.host_config.mount_points);
    }
    Ok(Some(Trash(trash, image)))
}
