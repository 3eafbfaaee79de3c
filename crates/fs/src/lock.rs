use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// An advisory `flock` held until dropped. The lock file itself is never
/// removed: unlinking a lock file races with a second locker that already
/// opened it.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

impl Lock {
    pub fn exclusive(path: &Path) -> Result<Lock> {
        Self::take(path, libc::LOCK_EX)
    }

    /// An exclusive lock, giving up after `timeout` with EWOULDBLOCK: a
    /// holder that never lets go (a stuck process) must not hang callers
    /// such as `delete --force` forever.
    pub fn exclusive_timeout(path: &Path, timeout: std::time::Duration) -> Result<Lock> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match Self::take(path, libc::LOCK_EX | libc::LOCK_NB) {
                Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => {
                    if std::time::Instant::now() >= deadline {
                        return Err(e);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => return other,
            }
        }
    }

    pub fn shared(path: &Path) -> Result<Lock> {
        Self::take(path, libc::LOCK_SH)
    }

    fn take(path: &Path, how: libc::c_int) -> Result<Lock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| Error::io("open lock", path, e))?;
        loop {
            // SAFETY: flock on a file descriptor we own; no memory is passed.
            let rc = unsafe { libc::flock(file.as_raw_fd(), how) };
            if rc == 0 {
                break;
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(Error::io("flock", path, err));
            }
        }
        Ok(Lock {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &File {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_lock_blocks_a_second_nonblocking_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = Lock::exclusive(&p).unwrap();
        let other = File::open(&p).unwrap();
        // SAFETY: plain flock on an fd we own.
        let rc = unsafe { libc::flock(other.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_eq!(rc, -1);
        drop(held);
        // SAFETY: as above.
        let rc = unsafe { libc::flock(other.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_eq!(rc, 0);
    }
}
