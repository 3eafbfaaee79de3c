//! Directories no other user may enter. An engine store holds what images
//! and containers put there: setuid-root files, files with a
//! `security.capability` xattr, device nodes. The container needs them
//! (its rootfs keeps suid and dev), so the only protection on the host is
//! that no other user can walk a path to them, as docker keeps its root
//! 0710 root:root.

use std::fs::DirBuilder;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use crate::{Error, Result};

/// The mode of every private directory: the owner alone.
pub const PRIVATE_MODE: u32 = 0o700;

/// Creates `dir` (its missing parents as ordinary directories) as a
/// directory only its owner can enter, and closes an existing one that is
/// open to others (a store made by an older husk was 0755). Closing it
/// first closes its existing `subdirs` too, so a store that is later
/// opened up by hand again still has no open path into it; `dir` goes
/// last, so an interrupted upgrade is redone by the next call. Returns
/// true when an existing directory had to be closed.
///
/// The directory must belong to the user running us: a store another user
/// owns is one that user can fill with setuid files, so it is refused
/// rather than silently taken over. An open directory that holds none of
/// `subdirs` and is not empty is not a store at all: refused, unchanged.
pub fn private_dir(dir: &Path, subdirs: &[&str]) -> Result<bool> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    match DirBuilder::new().mode(PRIVATE_MODE).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("create", dir, e)),
    }
    // The configured path itself may be a symlink (an operator's choice of
    // disk); what it names is checked and closed through one descriptor.
    let fd = retry(|| {
        nix::fcntl::open(
            dir,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
    })
    .map_err(|e| Error::nix("open", dir, e))?;
    // SAFETY: a fresh descriptor from open(2) that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let st = owned_stat(&fd, dir)?;
    if st.st_mode & 0o077 == 0 {
        return Ok(false);
    }
    // Only what is husk's is closed: a mistyped root such as /tmp or a
    // home directory must not have its mode changed under other users.
    let empty = std::fs::read_dir(dir)
        .map_err(|e| Error::io("read dir", dir, e))?
        .next()
        .is_none();
    if !empty
        && !subdirs
            .iter()
            .any(|s| dir.join(s).symlink_metadata().is_ok())
    {
        return Err(Error::NotAStore {
            path: dir.to_path_buf(),
        });
    }
    for sub in subdirs {
        close_existing_dir(&dir.join(sub))?;
    }
    close_fd(&fd, dir)
}

/// Like [`private_dir`] for a store's own subdirectory, which is not
/// created: missing is fine, and so is a symlink (an operator's choice of
/// disk, reachable only through the closed store). Returns true when it
/// had to be closed.
pub fn close_existing_dir(dir: &Path) -> Result<bool> {
    let fd = match retry(|| {
        nix::fcntl::open(
            dir,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
    }) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) | Err(Errno::ELOOP) | Err(Errno::ENOTDIR) => return Ok(false),
        Err(e) => return Err(Error::nix("open", dir, e)),
    };
    // SAFETY: a fresh descriptor from open(2) that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    close_fd(&fd, dir)
}

/// The directory's stat, refusing one that another user owns.
fn owned_stat(fd: &OwnedFd, dir: &Path) -> Result<nix::sys::stat::FileStat> {
    let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(|e| Error::nix("stat", dir, e))?;
    let me = nix::unistd::geteuid().as_raw();
    if st.st_uid != me {
        return Err(Error::NotOurs {
            path: dir.to_path_buf(),
            owner: st.st_uid,
            me,
        });
    }
    Ok(st)
}

fn close_fd(fd: &OwnedFd, dir: &Path) -> Result<bool> {
    let st = owned_stat(fd, dir)?;
    if st.st_mode & 0o077 == 0 {
        return Ok(false);
    }
    nix::sys::stat::fchmod(
        fd.as_raw_fd(),
        Mode::from_bits_truncate(st.st_mode & 0o7700 | PRIVATE_MODE),
    )
    .map_err(|e| Error::nix("chmod", dir, e))?;
    Ok(true)
}

fn retry<T>(mut f: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn creates_private_and_closes_an_open_one() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b/store");
        assert!(!private_dir(&d, &["layers"]).unwrap());
        assert_eq!(mode(&d), 0o700);
        std::fs::create_dir(d.join("layers")).unwrap();
        for p in [&d, &d.join("layers")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert!(
            private_dir(&d, &["layers", "missing"]).unwrap(),
            "reported as closed"
        );
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&d.join("layers")), 0o700);
        assert!(!private_dir(&d, &[]).unwrap());
    }

    #[test]
    fn closes_existing_subdirs_and_ignores_missing_ones() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("layers");
        assert!(!close_existing_dir(&d).unwrap());
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(close_existing_dir(&d).unwrap());
        assert_eq!(mode(&d), 0o1700);
    }

    #[test]
    fn an_open_directory_that_is_no_store_is_left_alone() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("home");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("notes"), b"x").unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = private_dir(&d, &["layers"]).unwrap_err().to_string();
        assert!(err.contains("is not a husk store"), "{err}");
        assert_eq!(mode(&d), 0o755);
    }

    #[test]
    fn a_store_owned_by_another_user_is_refused() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("store");
        std::fs::create_dir(&d).unwrap();
        std::os::unix::fs::chown(&d, Some(65534), Some(65534)).unwrap();
        let err = private_dir(&d, &[]).unwrap_err().to_string();
        assert!(
            err.contains("owned by uid 65534") && err.contains("chown"),
            "{err}"
        );
    }
}
