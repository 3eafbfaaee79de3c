use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::{Error, Result};

/// An advisory `flock` held until dropped. The lock file itself is never
/// removed: unlinking a lock file races with a second locker that already
/// opened it.
#[derive(Debug)]
pub struct Lock {
    file: Flock<File>,
    path: PathBuf,
}

impl Lock {
    pub fn exclusive(path: &Path) -> Result<Lock> {
        Self::wait(open_lock_file(path)?, FlockArg::LockExclusive, path)
    }

    /// An exclusive lock, giving up after `timeout` with EWOULDBLOCK: a
    /// holder that never lets go (a stuck process) must not hang callers
    /// such as `delete --force` forever.
    pub fn exclusive_timeout(path: &Path, timeout: std::time::Duration) -> Result<Lock> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(l) = Self::try_exclusive(path)? {
                return Ok(l);
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::nix("flock", path, Errno::EWOULDBLOCK));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    pub fn shared(path: &Path) -> Result<Lock> {
        Self::wait(open_lock_file(path)?, FlockArg::LockShared, path)
    }

    /// An exclusive lock without waiting; `None` while another open file
    /// holds it.
    pub fn try_exclusive(path: &Path) -> Result<Option<Lock>> {
        Self::take(open_lock_file(path)?, FlockArg::LockExclusiveNonblock, path)
    }

    /// An exclusive lock on a directory itself (not a file in it), without
    /// waiting; `None` while another holds it. The lock is on the inode, so
    /// it follows the directory through a rename.
    pub fn try_exclusive_dir(dir: &Path) -> Result<Option<Lock>> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir)
            .map_err(|e| Error::io("open", dir, e))?;
        Self::take(file, FlockArg::LockExclusiveNonblock, dir)
    }

    fn wait(file: File, how: FlockArg, path: &Path) -> Result<Lock> {
        // A blocking flock never reports EWOULDBLOCK.
        Self::take(file, how, path)?.ok_or_else(|| Error::nix("flock", path, Errno::EWOULDBLOCK))
    }

    fn take(mut file: File, how: FlockArg, path: &Path) -> Result<Option<Lock>> {
        loop {
            match Flock::lock(file, how) {
                Ok(file) => {
                    return Ok(Some(Lock {
                        file,
                        path: path.to_path_buf(),
                    }))
                }
                Err((f, Errno::EINTR)) => file = f,
                Err((_, Errno::EAGAIN)) => return Ok(None),
                Err((_, e)) => return Err(Error::nix("flock", path, e)),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &File {
        &self.file
    }
}

fn open_lock_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::io("open lock", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_lock_blocks_a_second_nonblocking_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = Lock::exclusive(&p).unwrap();
        assert!(Lock::try_exclusive(&p).unwrap().is_none());
        drop(held);
        let again = Lock::try_exclusive(&p).unwrap();
        assert!(again.is_some());
        let d = Lock::try_exclusive_dir(dir.path()).unwrap().unwrap();
        assert!(Lock::try_exclusive_dir(dir.path()).unwrap().is_none());
        drop(d);
        assert!(Lock::try_exclusive_dir(dir.path()).unwrap().is_some());
    }
}
