//! Entering a network namespace on the calling thread only, for as long as
//! it takes to open a socket there.
//!
//! A process that forks containers must not park a helper thread in another
//! namespace, so we switch this thread, create what we need (a netlink or
//! TCP socket stays bound to the namespace it was created in) and switch
//! straight back.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::sched::{setns, CloneFlags};

use crate::{Error, Result};

const SELF_NETNS: &str = "/proc/thread-self/ns/net";

/// While alive, the calling thread is inside another network namespace;
/// dropping it (or `leave`) returns the thread to where it was.
#[derive(Debug)]
pub struct NetnsGuard {
    original: File,
    left: bool,
}

impl NetnsGuard {
    /// Moves the calling thread into the namespace of `path`
    /// (`/proc/PID/ns/net` or a bind-mounted netns file).
    pub fn enter(path: &Path) -> Result<Self> {
        let target = File::open(path).map_err(|e| Error::io("open netns", path, e))?;
        Self::enter_fd(&target, path)
    }

    pub fn enter_fd(target: &impl AsFd, label: &Path) -> Result<Self> {
        let original =
            File::open(SELF_NETNS).map_err(|e| Error::io("open netns", SELF_NETNS, e))?;
        setns(target.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|source| Error::Setns {
            path: label.to_path_buf(),
            source,
        })?;
        Ok(NetnsGuard {
            original,
            left: false,
        })
    }

    /// Returns to the original namespace, reporting a failure to do so.
    pub fn leave(mut self) -> Result<()> {
        self.left = true;
        self.restore()
    }

    fn restore(&self) -> Result<()> {
        setns(self.original.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|source| Error::Setns {
            path: PathBuf::from(SELF_NETNS),
            source,
        })
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        if self.left {
            return;
        }
        // A thread stranded in a container's namespace would create every
        // later socket there: that must not go unnoticed.
        if let Err(e) = self.restore() {
            eprintln!(
                "husk-network: cannot return to the original netns: {}",
                husk_fs::Chain(&e)
            );
            std::process::abort();
        }
    }
}

/// Runs `f` with the calling thread inside the namespace of `path`.
pub fn with_netns<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let guard = NetnsGuard::enter(path)?;
    let out = f();
    guard.leave()?;
    out
}

/// Creates a new network namespace and pins it at `path` (a bind mount of
/// its nsfs file, as `ip netns add` does), so it outlives no process in
/// particular and can be named in an OCI spec. Only the calling thread
/// enters the new namespace, and it comes straight back.
pub fn create_handle(path: &Path) -> Result<()> {
    use nix::mount::{mount, MsFlags};
    use nix::sched::unshare;

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
    }
    // A handle left by a crash is still mounted: reuse the file, drop its
    // old namespace first.
    remove_handle(path)?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io("create netns handle", path, e))?;
    let original = File::open(SELF_NETNS).map_err(|e| Error::io("open netns", SELF_NETNS, e))?;
    let created = unshare(CloneFlags::CLONE_NEWNET)
        .map_err(|source| Error::Setns {
            path: path.to_path_buf(),
            source,
        })
        .and_then(|()| {
            mount(
                Some(SELF_NETNS),
                path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| Error::io("bind mount netns", path, e.into()))
        });
    // Back to where we were, whatever happened: a thread left in the new
    // namespace would set everything after it up in the wrong place.
    if let Err(source) = setns(original.as_fd(), CloneFlags::CLONE_NEWNET) {
        eprintln!("husk-network: cannot return to the original netns: {source}");
        std::process::abort();
    }
    if let Err(e) = created {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

/// Unpins and deletes a handle made by `create_handle`; absent is fine. The
/// namespace itself goes once no process is left in it.
pub fn remove_handle(path: &Path) -> Result<()> {
    use nix::mount::{umount2, MntFlags};
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(Error::io("unmount netns handle", path, e.into())),
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove netns handle", path, e)),
    }
}
