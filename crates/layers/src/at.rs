//! Creation and removal relative to a directory fd, never following a
//! symlink in the last component: the primitives [`crate::apply`] builds on.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::UnlinkatFlags;

use crate::{Error, Result};

/// `/proc/self/fd/<dir>/<name>`: for calls that only take paths (l*xattr),
/// with the directory pinned by its fd.
pub(crate) fn proc_at(dir: i32, name: &OsStr) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{dir}")).join(name)
}

/// Runs `create`; if the name is taken (a later entry of the same layer
/// replaces an earlier one, as tar does), removes the old one and retries.
pub(crate) fn create_replacing(
    parent: i32,
    name: &OsStr,
    path: &Path,
    create: impl Fn(i32, &OsStr) -> nix::Result<()>,
) -> Result<()> {
    create_replacing_fd(parent, name, path, |d, n| create(d, n).map(|()| -1)).map(drop)
}

pub(crate) fn create_replacing_fd(
    parent: i32,
    name: &OsStr,
    path: &Path,
    create: impl Fn(i32, &OsStr) -> nix::Result<i32>,
) -> Result<i32> {
    match create(parent, name) {
        Err(Errno::EEXIST) => {
            remove_at(parent, name, path)?;
            create(parent, name).map_err(|e| Error::nix("create", path, e))
        }
        other => other.map_err(|e| Error::nix("create", path, e)),
    }
}

/// A directory entry over an existing directory keeps its contents (tar
/// semantics); over anything else it replaces it.
pub(crate) fn mkdir_replacing(parent: i32, name: &OsStr, path: &Path) -> Result<()> {
    match nix::sys::stat::mkdirat(Some(parent), name, Mode::from_bits_truncate(0o700)) {
        Ok(()) => Ok(()),
        Err(Errno::EEXIST) => {
            let st = nix::sys::stat::fstatat(Some(parent), name, AtFlags::AT_SYMLINK_NOFOLLOW)
                .map_err(|e| Error::nix("stat", path, e))?;
            if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                return Ok(());
            }
            remove_at(parent, name, path)?;
            nix::sys::stat::mkdirat(Some(parent), name, Mode::from_bits_truncate(0o700))
                .map_err(|e| Error::nix("mkdir", path, e))
        }
        Err(e) => Err(Error::nix("mkdir", path, e)),
    }
}

/// `rm -rf` of one name under a directory fd, never following symlinks.
pub(crate) fn remove_at(parent: i32, name: &OsStr, path: &Path) -> Result<()> {
    match nix::unistd::unlinkat(Some(parent), name, UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => return Ok(()),
        Err(Errno::EISDIR) => {}
        Err(e) => return Err(Error::nix("unlink", path, e)),
    }
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let raw = nix::fcntl::openat(Some(parent), name, flags, Mode::empty())
        .map_err(|e| Error::nix("open", path, e))?;
    // SAFETY: fresh descriptor from openat, owned here.
    let dir = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut names = Vec::new();
    {
        let dup = nix::unistd::dup(dir.as_raw_fd()).map_err(|e| Error::nix("dup", path, e))?;
        let mut d = nix::dir::Dir::from_fd(dup).map_err(|e| Error::nix("readdir", path, e))?;
        for ent in d.iter() {
            let ent = ent.map_err(|e| Error::nix("readdir", path, e))?;
            let n = ent.file_name().to_bytes();
            if n != b"." && n != b".." {
                names.push(OsStr::from_bytes(n).to_os_string());
            }
        }
    }
    for n in names {
        remove_at(dir.as_raw_fd(), &n, &path.join(&n))?;
    }
    nix::unistd::unlinkat(Some(parent), name, UnlinkatFlags::RemoveDir)
        .map_err(|e| Error::nix("rmdir", path, e))
}
