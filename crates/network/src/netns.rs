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
            eprintln!("husk-network: cannot return to the original netns: {e}");
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
