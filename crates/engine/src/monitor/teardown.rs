//! Taking a container down: unmounting its rootfs, taking its files out of
//! the store, deleting them.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::store::Paths;
use crate::{Error, Result};

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
    _held: Option<File>,
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
            Some((root, image)) => crate::images::release_layers(root, image),
            None => Ok(()),
        }
    }
}

/// An exclusive `flock` on a directory, without waiting; `None` when
/// another process holds it (or it cannot be opened). Follows the
/// directory through a rename: the lock is on the inode.
pub(crate) fn lock_dir(dir: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir)
        .ok()?;
    loop {
        // SAFETY: flock on a descriptor we own; no memory is passed.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Some(f);
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return None;
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
        crate::volumes::remove_anonymous(&paths.root, &c.host_config.mount_points);
    }
    Ok(Some(Trash {
        path: trash,
        _held: held,
        image,
    }))
}
