//! `husk diff` and `husk export`: a container's filesystem read from the
//! host. Both read trees the container wrote (hostile): husk_layers walks
//! them by fd and never follows a symlink, so `ln -s /etc/shadow x` in a
//! container exports a symlink, not the host's file.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use husk_layers::{Change, TarWritten, Tree};

use super::reconcile;
use crate::store::{Container, Paths};
use crate::{Error, Result};

/// The container's upper dir and its image's layer dirs (top first).
fn dirs(paths: &Paths, c: &Container) -> (PathBuf, Vec<PathBuf>) {
    let upper = paths.dir(&c.id).join("upper");
    let lowers = c.lower_dirs.iter().map(PathBuf::from).collect();
    (upper, lowers)
}

/// `husk diff CONTAINER`: docker's `A`/`C`/`D` list, in docker's order.
pub fn diff(paths: &Paths, name: &str) -> Result<Vec<Change>> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    let (upper, lowers) = dirs(paths, &c);
    Ok(husk_layers::changes(&upper, &lowers)?)
}

/// True when `dir` is a mount point other than its parent's filesystem
/// (a container's overlay on `merged`).
pub(super) fn mounted(dir: &Path) -> bool {
    match (std::fs::metadata(dir), dir.parent().map(std::fs::metadata)) {
        (Ok(a), Some(Ok(b))) => a.dev() != b.dev(),
        _ => false,
    }
}

/// A read-only overlay made for one export; unmounted and removed on drop.
pub(super) struct TempMount(pub(super) PathBuf);

impl Drop for TempMount {
    fn drop(&mut self) {
        let _ = husk_layers::unmount(&self.0);
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Moves this process into a mount namespace of its own whose mounts do
/// not propagate back: a mount made for an export then ends with the
/// process, however it ends (a killed `husk export` leaves no mount that
/// would keep `husk rm` from removing the container). Only for a
/// single-threaded process that makes no containers afterwards.
pub(super) fn private_mount_namespace() -> Result<()> {
    use nix::mount::MsFlags;
    let root = Path::new("/");
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| Error::io("unshare mount namespace", root, e.into()))?;
    nix::mount::mount(
        None::<&str>,
        root,
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| Error::io("make mounts private", root, e.into()))
}

/// `husk export CONTAINER`: the container's whole filesystem as a tar, as
/// it sees it (image layers + its changes; volumes and the /etc files
/// husk bind-mounts are not part of it, as with docker). A running
/// container's mounted rootfs is read as is; a stopped one's is mounted
/// read-only for the time of the export, in a mount namespace of the
/// calling process's own (see [`private_mount_namespace`]).
pub fn export<W: Write>(paths: &Paths, name: &str, out: W) -> Result<TarWritten> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    let dir = paths.dir(&c.id);
    let merged = dir.join("merged");
    if mounted(&merged) {
        return Ok(husk_layers::write_tar(&merged, Tree::Rootfs, out)?);
    }
    let (upper, lowers) = dirs(paths, &c);
    let mut stack = vec![upper];
    stack.extend(lowers);
    private_mount_namespace()?;
    let at = dir.join(format!("export-{}", std::process::id()));
    std::fs::create_dir(&at).map_err(|e| Error::io("create", &at, e))?;
    let guard = TempMount(at.clone());
    if let Err(e) = husk_layers::mount_readonly(&stack, &at) {
        // Nothing mounted: only the directory goes.
        let _ = std::fs::remove_dir(&guard.0);
        std::mem::forget(guard);
        return Err(e.into());
    }
    let written = husk_layers::write_tar(&at, Tree::Rootfs, out)?;
    drop(guard);
    Ok(written)
}
