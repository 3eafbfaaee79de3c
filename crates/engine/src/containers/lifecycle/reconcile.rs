//! Reconciliation: records tell the truth whatever happened to the
//! processes behind them; and the cleanup helpers every verb shares.

use std::path::Path;

use crate::containers::runtime::Runtime;
use crate::containers::{proc, Container, Paths, Status};
use crate::Result;

/// Unmounts a container rootfs if it is mounted; quiet when it is not.
/// One umount2 instead of reading /proc/self/mountinfo first: that file
/// grows with every container's mounts, and the kernel already answers
/// EINVAL for a path that is not a mount point.
pub fn release_rootfs(merged: &Path) {
    let flags = nix::mount::MntFlags::MNT_DETACH | nix::mount::MntFlags::UMOUNT_NOFOLLOW;
    match nix::mount::umount2(merged, flags) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => eprintln!("husk: umount {}: {e}", merged.display()),
    }
}

pub(crate) fn runtime_of(paths: &Paths, c: &Container) -> Runtime {
    Runtime {
        binary: c.host_config.runtime.clone().into(),
        root: paths.runtime_root(),
        log: None,
    }
}

/// Makes the record tell the truth: a "running" container whose init and
/// monitor are both gone (killed monitor, rebooted host, wiped /run) is
/// cleaned up and marked exited. A live init without its monitor stays
/// running: it is, though nobody collects its output any more.
pub fn reconcile(paths: &Paths, c: &Container) -> Result<Container> {
    if !c.is_running() || proc::container_alive(c) {
        return Ok(c.clone());
    }
    let _ = runtime_of(paths, c).delete_force(&c.id);
    release_rootfs(&paths.dir(&c.id).join("merged"));
    let _ = std::fs::remove_dir_all(paths.bundle(&c.id));
    if let Err(e) = crate::network::disconnect(paths, c) {
        eprintln!("husk: {e}");
    }
    let mark_exited = |r: &mut Container| {
        // Re-checked under the lock: another command may have fixed it.
        if r.is_running() {
            r.state.status = Status::Exited;
            r.state.exit_code = 255;
            r.state.error = "container and its monitor are gone without an exit record (monitor killed, host rebooted or disk full)".into();
            r.state.pid = 0;
            r.state.monitor_pid = 0;
            r.state.finished_at = proc::now_rfc3339();
            r.network = None;
        }
    };
    match paths.update(&c.id, |r| {
        mark_exited(r);
        Ok(())
    }) {
        Ok(updated) => Ok(updated.unwrap_or_else(|| c.clone())),
        // A full disk (a container filled it, likely the very one whose
        // monitor could not record its exit) must not lock every command
        // out, `rm` first, which is how the space comes back: say so and
        // go on with the truth in memory; a later command records it.
        Err(e) if husk_fs::is_no_space(&e) => {
            eprintln!(
                "husk: warning: container {} has exited but its record cannot be updated: no space left on device (ENOSPC)",
                c.id
            );
            let mut now = c.clone();
            mark_exited(&mut now);
            Ok(now)
        }
        Err(e) => Err(e),
    }
}

/// Every container, reconciled, oldest first; what dead containers left
/// on the network is collected on the way.
pub fn list(paths: &Paths) -> Result<Vec<Container>> {
    let all = paths
        .all()?
        .iter()
        .map(|c| reconcile(paths, c))
        .collect::<Result<Vec<_>>>()?;
    if let Err(e) = crate::network::gc(paths) {
        eprintln!("husk: {e}");
    }
    Ok(all)
}
