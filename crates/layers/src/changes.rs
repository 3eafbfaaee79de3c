//! `docker diff`: what an overlay upper dir changed against the layers
//! below it, computed as moby's overlay differ (`archive.OverlayChanges`)
//! does, in its order: a walk of the upper dir with names sorted, each path
//! `A` (not in any lower layer), `C` (in one) or `D` (a whiteout, or an
//! opaque directory replacing one of a lower layer, whose entries follow
//! as `A`/`C`); a
//! directory that is in a lower layer with the same mode, size and mtime is
//! not listed unless something in it was added or deleted. The engine's
//! mount-point placeholders are not changes (see [`crate::write_tar`]).
//!
//! The upper dir and the lower layers are hostile trees: the upper is
//! walked by fd with `O_NOFOLLOW`, and a lower path is looked up with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, so a symlink anywhere
//! (`/etc -> /host/etc`) can never make the diff stat a host file.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::FileStat;

use crate::diff::{
    file_type, get_xattr, is_placeholder, is_whiteout_dev, lstat_at, only_placeholders, open_at,
    open_root, sorted_names,
};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Modify,
    Delete,
}

impl ChangeKind {
    /// docker's letter.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Add => 'A',
            ChangeKind::Modify => 'C',
            ChangeKind::Delete => 'D',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// Absolute path in the container (`/etc/hosts`).
    pub path: PathBuf,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.letter(), self.path.display())
    }
}

/// The changes `upper` makes over `lowers` (the image's layer dirs, top
/// layer first, as overlay's `lowerdir=` lists them).
pub fn changes<P: AsRef<Path>>(upper: &Path, lowers: &[P]) -> Result<Vec<Change>> {
    let mut lower_fds = Vec::with_capacity(lowers.len());
    for l in lowers {
        lower_fds.push(open_root(l.as_ref())?);
    }
    let mut w = Walk {
        upper,
        lowers: lower_fds,
        out: Vec::new(),
        changed_dirs: HashSet::new(),
    };
    let root = open_root(upper)?;
    w.walk(&root, Path::new("/"))?;
    Ok(w.out)
}

struct Walk<'a> {
    upper: &'a Path,
    lowers: Vec<OwnedFd>,
    out: Vec<Change>,
    changed_dirs: HashSet<PathBuf>,
}

impl Walk<'_> {
    fn walk(&mut self, dir: &OwnedFd, abs: &Path) -> Result<()> {
        let shown = self.upper.join(abs.strip_prefix("/").unwrap_or(abs));
        for name in sorted_names(dir, &shown)? {
            let path = abs.join(&name);
            let shown_child = shown.join(&name);
            let st = match lstat_at(dir.as_raw_fd(), &name, &shown_child) {
                Ok(st) => st,
                Err(Error::Io { source, .. }) if source.raw_os_error() == Some(libc::ENOENT) => {
                    continue
                }
                Err(e) => return Err(e),
            };
            let rel = path.strip_prefix("/").unwrap_or(&path);
            if is_placeholder(rel, &st) {
                continue;
            }
            let is_dir = file_type(&st) == libc::S_IFDIR;
            let dir_fd = if is_dir {
                match open_at(
                    dir.as_raw_fd(),
                    &name,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                    &shown_child,
                ) {
                    Ok(fd) => Some(fd),
                    Err(Error::Io { source, .. })
                        if source.raw_os_error() == Some(libc::ENOENT) =>
                    {
                        continue
                    }
                    Err(e) => return Err(e),
                }
            } else {
                None
            };
            if let Some(fd) = &dir_fd {
                if only_placeholders(dir.as_raw_fd(), &name, fd, rel) {
                    continue;
                }
            }
            let whiteout = is_whiteout_dev(&st)
                || (file_type(&st) == libc::S_IFREG
                    && st.st_size == 0
                    && get_xattr(dir.as_raw_fd(), &name, "trusted.overlay.whiteout").is_some());
            let opaque = is_dir
                && get_xattr(dir.as_raw_fd(), &name, "trusted.overlay.opaque").as_deref()
                    == Some(b"y");
            let kind = if whiteout {
                Some(ChangeKind::Delete)
            } else {
                match self.lower_stat(&path)? {
                    // An opaque dir over one below: that one was deleted and
                    // this one made anew; docker lists it as deleted and
                    // what it holds now as added.
                    Some(lst) if opaque && !is_whiteout_dev(&lst) => Some(ChangeKind::Delete),
                    None => Some(ChangeKind::Add),
                    Some(lst) => {
                        let same_dir = is_dir
                            && file_type(&lst) == libc::S_IFDIR
                            && lst.st_size == st.st_size
                            && lst.st_mode == st.st_mode
                            && lst.st_mtime == st.st_mtime
                            && lst.st_mtime_nsec == st.st_mtime_nsec;
                        if same_dir {
                            None
                        } else {
                            Some(ChangeKind::Modify)
                        }
                    }
                }
            };
            if let Some(kind) = kind {
                if is_dir {
                    self.changed_dirs.insert(path.clone());
                }
                if matches!(kind, ChangeKind::Add | ChangeKind::Delete) {
                    if let Some(parent) = path.parent() {
                        if parent != Path::new("/") && !self.changed_dirs.contains(parent) {
                            self.out.push(Change {
                                kind: ChangeKind::Modify,
                                path: parent.to_path_buf(),
                            });
                            self.changed_dirs.insert(parent.to_path_buf());
                        }
                    }
                }
                self.out.push(Change {
                    kind,
                    path: path.clone(),
                });
            }
            if let Some(fd) = dir_fd {
                self.walk(&fd, &path)?;
            }
        }
        Ok(())
    }

    /// The path's stat in the topmost lower layer that has it, looked up
    /// without following any symlink (a path under a symlink does not exist
    /// in overlay's merged lower view either, as a directory).
    fn lower_stat(&self, abs: &Path) -> Result<Option<FileStat>> {
        let rel = abs.strip_prefix("/").unwrap_or(abs);
        let (parent, name) = match (rel.parent(), rel.file_name()) {
            (Some(p), Some(n)) => (p, n),
            _ => return Ok(None),
        };
        for layer in &self.lowers {
            let pfd = match open_beneath(layer, parent) {
                Ok(fd) => fd,
                Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP | Errno::EXDEV) => continue,
                Err(e) => return Err(Error::nix("open lower", parent, e)),
            };
            match nix::sys::stat::fstatat(Some(pfd.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW)
            {
                Ok(st) => return Ok(Some(st)),
                Err(Errno::ENOENT | Errno::ENOTDIR) => {}
                Err(e) => return Err(Error::nix("stat lower", abs, e)),
            }
        }
        Ok(None)
    }
}

fn open_beneath(root: &OwnedFd, rel: &Path) -> nix::Result<OwnedFd> {
    let rel: &OsStr = if rel.as_os_str().is_empty() {
        OsStr::new(".")
    } else {
        rel.as_os_str()
    };
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
    let fd = loop {
        match nix::fcntl::openat2(root.as_raw_fd(), rel, how) {
            Err(Errno::EINTR | Errno::EAGAIN) => continue,
            other => break other?,
        }
    };
    // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
