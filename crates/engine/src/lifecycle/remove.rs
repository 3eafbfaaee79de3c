//! `husk rm`.

use std::time::Duration;

use super::reconcile::{reconcile_locked, release};
use super::{reconcile, runtime_of, sweep, thaw_if_paused, wait_recorded};
use crate::monitor::teardown::remove_files;
use crate::proc;
use crate::store::Paths;
use crate::{Error, Result};

/// `husk rm [-f] -v`: also removes the container's anonymous volumes
/// (named ones stay, as in docker).
pub fn remove_with_volumes(paths: &Paths, name: &str, force: bool, volumes: bool) -> Result<()> {
    sweep(paths);
    let c = paths.resolve(name)?;
    remove_swept(paths, name, force)?;
    if volumes {
        crate::volumes::remove_anonymous_unshared(paths, &c);
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
    if force {
        // Before the kill: the monitor must not start it again.
        super::restartable::mark_stopped(paths, &id, true)?;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let _owner = loop {
        let Some(c) = paths.load(&id)? else {
            return Ok(());
        };
        let c = reconcile(paths, &c)?;
        if c.state.status == crate::store::Status::Restarting && !force {
            return Err(Error::Conflict {
                id: c.id,
                reason: "cannot remove a restarting container: stop it first or use rm -f".into(),
            });
        }
        if c.is_running() {
            if !force {
                return Err(Error::Conflict {
                    id: c.id,
                    reason: "cannot remove a running container: stop it first or use rm -f".into(),
                });
            }
            crate::events::container(paths, &c, "kill", &[("signal", "9")]);
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
    remove_files(paths, &c.id)?;
    crate::events::container(paths, &c, "destroy", &[]);
    Ok(())
}
