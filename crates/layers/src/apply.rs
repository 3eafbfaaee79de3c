//! Writes tar entries into a layer directory. Every entry's parent is
//! resolved by fd with `openat2(RESOLVE_IN_ROOT)` and the entry is created
//! with `*at` calls relative to that fd, so no `..`, absolute path or symlink
//! planted by an earlier entry can make a write land outside the layer.
//! OCI whiteouts become overlayfs whiteouts on the way in.
//!
//! `husk cp` writes with the same code ([`CopyMode`]): entries land below a
//! base directory of a container's rootfs (still resolved in the rootfs,
//! as docker's chrooted extraction does), names are taken literally (no
//! whiteouts), owners are set as `cp` sets them, and an existing directory
//! is never replaced by a non-directory or the reverse.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FchmodatFlags, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};

use crate::at::{create_replacing, create_replacing_fd, mkdir_replacing, proc_at};
use crate::tarstream::{Header, Kind, Sparse, TarReader};
use crate::{Error, Result};

const WHITEOUT_PREFIX: &str = ".wh.";
const WHITEOUT_META_PREFIX: &str = ".wh..wh.";
const OPAQUE: &str = ".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const OVERLAY_XATTR_PREFIX: &[u8] = b"trusted.overlay.";

/// Whose files a copy makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The ids the archive records (`cp -a`, layers).
    Keep,
    /// These ids for every entry (docker's copy into a container: root).
    Set(u32, u32),
    /// No chown: whoever runs the copy (docker's copy out of a container).
    Caller,
}

/// How a `cp` extraction differs from a layer's.
#[derive(Debug, Clone)]
pub(crate) struct CopyMode {
    /// Where in the root the archive's entries go.
    pub base: PathBuf,
    pub owner: Owner,
    /// A container's files landing on the host: no setuid/setgid bits,
    /// no file capabilities or other non-`user.` xattrs, no device nodes
    /// (the container made them, not the host's user).
    pub to_host: bool,
}

/// Owner, mode, time and xattrs of one entry, read before its data.
struct Meta {
    mode: u32,
    /// None: left as created (no chown).
    owner: Option<(u32, u32)>,
    mtime: i64,
    xattrs: Vec<(OsString, Vec<u8>)>,
}

pub(crate) struct Applier {
    root: OwnedFd,
    root_path: PathBuf,
    /// Last parent resolved: tar entries come grouped by directory, so this
    /// saves an openat2 per file. Dropped whenever an entry replaces it or
    /// one of its ancestors.
    parent: Option<(PathBuf, OwnedFd)>,
    /// Directory mtimes are set at the end: creating children changes them.
    dirs: Vec<(PathBuf, i64)>,
    buf: Vec<u8>,
    is_root: bool,
    pub content_bytes: u64,
    copy: Option<CopyMode>,
}

impl Applier {
    pub fn new(root_path: &Path) -> Result<Applier> {
        let root = File::open(root_path).map_err(|e| Error::io("open", root_path, e))?;
        Ok(Applier {
            root: OwnedFd::from(root),
            root_path: root_path.to_path_buf(),
            parent: None,
            dirs: Vec::new(),
            buf: vec![0; 256 * 1024],
            is_root: Uid::effective().is_root(),
            content_bytes: 0,
            copy: None,
        })
    }

    /// An applier for `cp`: `root` is the tree nothing may leave (a
    /// container's rootfs, or the host directory a copy-out writes to),
    /// `shown` how errors name it.
    pub fn for_copy(root: OwnedFd, shown: &Path, copy: CopyMode) -> Applier {
        Applier {
            root,
            root_path: shown.to_path_buf(),
            parent: None,
            dirs: Vec::new(),
            buf: vec![0; 256 * 1024],
            is_root: Uid::effective().is_root(),
            content_bytes: 0,
            copy: Some(copy),
        }
    }

    /// Writes one entry; its data, if any, is read from `data`.
    pub fn apply<R: Read>(&mut self, entry: Header, data: &mut TarReader<R>) -> Result<()> {
        let clean = clean_path(&entry.path)?;
        let path = self.based(&clean);
        let kind = entry.kind;
        let mut meta = read_meta(&entry, &path)?;
        if let Some(copy) = &self.copy {
            if copy.to_host {
                if matches!(kind, Kind::Char | Kind::Block) {
                    return Err(Error::Copy {
                        path: self.shown(&path),
                        reason: "is a device node made in the container: not created on the host (copy it as a tar stream with -)",
                    });
                }
                meta.mode &= !0o6000;
                meta.xattrs
                    .retain(|(k, _)| k.as_bytes().starts_with(b"user."));
            }
            meta.owner = match copy.owner {
                Owner::Keep => meta.owner,
                Owner::Set(u, g) => Some((u, g)),
                Owner::Caller => None,
            };
            // Not the copier's to set on the destination (overlay's own
            // are dropped for layers too).
            meta.xattrs
                .retain(|(k, _)| !k.as_bytes().starts_with(b"trusted."));
        }
        if let Some((cached, _)) = &self.parent {
            if cached.starts_with(&path) {
                self.parent = None;
            }
        }
        let name = path.file_name().map(OsStr::to_os_string);
        let Some(name) = name.filter(|_| clean.file_name().is_some()) else {
            // The layer's own root ("./"), or a copy's base: only its
            // metadata can change, and a copy leaves the destination's alone.
            if self.copy.is_some() && kind == Kind::Directory {
                return Ok(());
            }
            if kind != Kind::Directory {
                return Err(unsafe_entry(
                    &path,
                    "non-directory entry for the layer root",
                ));
            }
            let root = File::from(self.open_dir(&path)?);
            self.set_meta_fd(&root, &meta, &path)?;
            self.dirs.push((path, meta.mtime));
            return Ok(());
        };
        let parent_path = path.parent().unwrap_or(Path::new("")).to_path_buf();
        if self.copy.is_none() && name.as_bytes().starts_with(WHITEOUT_PREFIX.as_bytes()) {
            return self.whiteout(&parent_path, &name, &meta, &path);
        }
        let parent = self.parent_fd(&parent_path)?;
        if self.copy.is_some() {
            no_overwrite_dir_nondir(parent, &name, kind == Kind::Directory, &self.shown(&path))?;
        }
        match kind {
            Kind::Regular => self.regular(parent, &name, &entry, data, &meta, &path)?,
            Kind::Directory => {
                mkdir_replacing(parent, &name, &path)?;
                self.set_meta_at(parent, &name, &meta, &path)?;
                self.dirs.push((path, meta.mtime));
            }
            Kind::Symlink => {
                if entry.link.is_empty() {
                    return Err(unsafe_entry(&path, "symlink without a target"));
                }
                let target = OsString::from_vec(entry.link.clone());
                create_replacing(parent, &name, &path, |dir, n| {
                    nix::unistd::symlinkat(target.as_os_str(), Some(dir), n)
                })?;
                self.set_meta_at(parent, &name, &meta, &path)?;
            }
            Kind::HardLink => self.hard_link(parent, &name, &entry, &path)?,
            Kind::Char | Kind::Block | Kind::Fifo => {
                let (sflag, dev) = match kind {
                    Kind::Char => (SFlag::S_IFCHR, device(&entry, &path)?),
                    Kind::Block => (SFlag::S_IFBLK, device(&entry, &path)?),
                    _ => (SFlag::S_IFIFO, 0),
                };
                create_replacing(parent, &name, &path, |dir, n| {
                    nix::sys::stat::mknodat(
                        Some(dir),
                        n,
                        sflag,
                        Mode::from_bits_truncate(0o600),
                        dev,
                    )
                })?;
                self.set_meta_at(parent, &name, &meta, &path)?;
            }
            // PAX headers and GNU long names are folded into the entries
            // they describe by the tar reader; what is left is not a file.
            Kind::Other(flag) => {
                return Err(Error::UnsupportedEntry {
                    path,
                    kind: format!("{:?}", flag as char),
                })
            }
        }
        Ok(())
    }

    /// Sets the directory mtimes postponed while their children were written.
    pub fn finish(&mut self) -> Result<()> {
        self.parent = None;
        for (path, mtime) in std::mem::take(&mut self.dirs).into_iter().rev() {
            let fd = match self.open_dir(&path) {
                Ok(fd) => fd,
                // A later entry replaced the directory (by a symlink, say).
                Err(Error::Fs(e))
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ENOTDIR | libc::ELOOP | libc::ENOENT)
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(e),
            };
            let t = TimeSpec::new(mtime, 0);
            nix::sys::stat::futimens(fd.as_raw_fd(), &t, &t)
                .map_err(|e| Error::nix("utimens", self.shown(&path), e))?;
        }
        Ok(())
    }

    fn shown(&self, path: &Path) -> PathBuf {
        self.root_path.join(path)
    }

    /// An archive path (cleaned) as a path of the root: below the copy's base.
    fn based(&self, clean: &Path) -> PathBuf {
        match &self.copy {
            Some(c) => c.base.join(clean),
            None => clean.to_path_buf(),
        }
    }

    fn open_dir(&self, path: &Path) -> Result<OwnedFd> {
        Ok(husk_fs::open_in_root(
            &self.root,
            path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
        )?)
    }

    fn parent_fd(&mut self, dir: &Path) -> Result<i32> {
        if let Some((cached, fd)) = &self.parent {
            if cached == dir {
                return Ok(fd.as_raw_fd());
            }
        }
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
        let fd = match husk_fs::open_in_root(&self.root, dir, flags) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                husk_fs::mkdir_all_in_root(&self.root, dir, 0o755)?
            }
            Err(e) => return Err(e.into()),
        };
        let raw = fd.as_raw_fd();
        self.parent = Some((dir.to_path_buf(), fd));
        Ok(raw)
    }

    fn regular<R: Read>(
        &mut self,
        parent: i32,
        name: &OsStr,
        entry: &Header,
        data: &mut TarReader<R>,
        meta: &Meta,
        path: &Path,
    ) -> Result<()> {
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let raw = create_replacing_fd(parent, name, path, |dir, n| {
            nix::fcntl::openat(Some(dir), n, flags, Mode::from_bits_truncate(0o600))
        })?;
        // SAFETY: openat returned a fresh descriptor that nothing else owns.
        let mut file = unsafe { File::from_raw_fd(raw) };
        match &entry.sparse {
            Some(sparse) => self.sparse(&file, sparse, data, path)?,
            None => loop {
                let n = data.read_data(&mut self.buf)?;
                if n == 0 {
                    break;
                }
                file.write_all(&self.buf[..n])
                    .map_err(|e| Error::io("write", self.shown(path), e))?;
                self.content_bytes += n as u64;
            },
        }
        self.set_meta_fd(&file, meta, path)
    }

    /// A sparse file keeps its holes: each data segment is written at its
    /// offset and the file is then extended to its size, so a 50 GiB file
    /// with 10 KiB of data takes 10 KiB of disk, as docker leaves it. The
    /// map was checked by the reader: every write lands inside the file.
    fn sparse<R: Read>(
        &mut self,
        file: &File,
        sparse: &Sparse,
        data: &mut TarReader<R>,
        path: &Path,
    ) -> Result<()> {
        for seg in &sparse.map {
            let mut at = seg.offset;
            let end = seg.offset + seg.len;
            while at < end {
                let want = self.buf.len().min((end - at) as usize);
                let n = data.read_data(&mut self.buf[..want])?;
                if n == 0 {
                    return Err(unsafe_entry(path, "sparse data shorter than its map"));
                }
                file.write_all_at(&self.buf[..n], at)
                    .map_err(|e| Error::io("write", self.shown(path), e))?;
                at += n as u64;
            }
        }
        file.set_len(sparse.real_size)
            .map_err(|e| Error::io("extend", self.shown(path), e))?;
        // docker's image size counts files at their apparent size.
        self.content_bytes += sparse.real_size;
        Ok(())
    }

    fn hard_link(&mut self, parent: i32, name: &OsStr, entry: &Header, path: &Path) -> Result<()> {
        if entry.link.is_empty() {
            return Err(unsafe_entry(path, "hard link without a target"));
        }
        let target = self.based(&clean_path(&entry.link)?);
        // Resolved in the root like every other path: a link to
        // "../../etc/shadow" or through a planted symlink stays inside.
        let fd = husk_fs::open_in_root(&self.root, &target, OFlag::O_PATH | OFlag::O_NOFOLLOW)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => unsafe_entry(path, "hard link to a file not in this layer"),
                _ => e.into(),
            })?;
        let src = husk_fs::proc_fd_path(&fd);
        create_replacing(parent, name, path, |dir, n| {
            nix::unistd::linkat(
                None,
                src.as_os_str(),
                Some(dir),
                n,
                AtFlags::AT_SYMLINK_FOLLOW,
            )
        })
    }

    fn whiteout(
        &mut self,
        parent_path: &Path,
        name: &OsStr,
        meta: &Meta,
        path: &Path,
    ) -> Result<()> {
        let parent = self.parent_fd(parent_path)?;
        if name == OPAQUE {
            // "N/." so the l*xattr call acts on the directory, not the magic link.
            let dir = proc_at(parent, OsStr::new("."));
            return xattr::set(&dir, OPAQUE_XATTR, b"y")
                .map_err(|e| Error::io("set opaque xattr on", self.shown(parent_path), e));
        }
        if name.as_bytes().starts_with(WHITEOUT_META_PREFIX.as_bytes()) {
            // aufs bookkeeping (.wh..wh.plnk and friends): meaningless on overlay.
            return Ok(());
        }
        let hidden = OsStr::from_bytes(&name.as_bytes()[WHITEOUT_PREFIX.len()..]);
        if hidden.is_empty() || hidden == "." || hidden == ".." {
            return Err(unsafe_entry(path, "whiteout of an invalid name"));
        }
        let shown = parent_path.join(hidden);
        create_replacing(parent, hidden, &shown, |dir, n| {
            nix::sys::stat::mknodat(Some(dir), n, SFlag::S_IFCHR, Mode::empty(), 0)
        })?;
        self.chown_at(parent, hidden, meta, &shown)
    }

    fn set_meta_fd(&self, file: &File, meta: &Meta, path: &Path) -> Result<()> {
        use xattr::FileExt;
        let raw = file.as_raw_fd();
        if let Some((uid, gid)) = meta.owner {
            let res = nix::unistd::fchown(raw, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
            self.owner_result(res, path)?;
        }
        // After chown: chown clears setuid/setgid.
        nix::sys::stat::fchmod(raw, Mode::from_bits_truncate(meta.mode & 0o7777))
            .map_err(|e| Error::nix("chmod", self.shown(path), e))?;
        for (k, v) in &meta.xattrs {
            file.set_xattr(k, v)
                .map_err(|e| Error::io("set xattr on", self.shown(path), e))?;
        }
        let t = TimeSpec::new(meta.mtime, 0);
        nix::sys::stat::futimens(raw, &t, &t)
            .map_err(|e| Error::nix("utimens", self.shown(path), e))
    }

    fn set_meta_at(&self, parent: i32, name: &OsStr, meta: &Meta, path: &Path) -> Result<()> {
        self.chown_at(parent, name, meta, path)?;
        let st = nix::sys::stat::fstatat(Some(parent), name, AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(|e| Error::nix("stat", self.shown(path), e))?;
        let is_link = st.st_mode & libc::S_IFMT == libc::S_IFLNK;
        if !is_link {
            // Not a symlink (checked just above in a directory only we write),
            // so fchmodat cannot be redirected.
            nix::sys::stat::fchmodat(
                Some(parent),
                name,
                Mode::from_bits_truncate(meta.mode & 0o7777),
                FchmodatFlags::FollowSymlink,
            )
            .map_err(|e| Error::nix("chmod", self.shown(path), e))?;
        }
        self.set_xattrs(&proc_at(parent, name), meta, path)?;
        let t = TimeSpec::new(meta.mtime, 0);
        nix::sys::stat::utimensat(Some(parent), name, &t, &t, UtimensatFlags::NoFollowSymlink)
            .map_err(|e| Error::nix("utimens", self.shown(path), e))
    }

    fn chown_at(&self, parent: i32, name: &OsStr, meta: &Meta, path: &Path) -> Result<()> {
        let Some((uid, gid)) = meta.owner else {
            return Ok(());
        };
        let res = nix::unistd::fchownat(
            Some(parent),
            name,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        );
        self.owner_result(res, path)
    }

    /// Unprivileged unpacking (tests, rootless later) keeps the caller's ids.
    fn owner_result(&self, res: nix::Result<()>, path: &Path) -> Result<()> {
        match res {
            Err(Errno::EPERM) if !self.is_root => Ok(()),
            Err(e) => Err(Error::nix("chown", self.shown(path), e)),
            Ok(()) => Ok(()),
        }
    }

    /// `target` is /proc/self/fd/<parent>/<name>: the parent is pinned by
    /// its fd and l*xattr never follows a symlink the layer planted.
    fn set_xattrs(&self, target: &Path, meta: &Meta, path: &Path) -> Result<()> {
        for (k, v) in &meta.xattrs {
            xattr::set(target, k, v).map_err(|e| Error::io("set xattr on", self.shown(path), e))?;
        }
        Ok(())
    }
}

/// The entry's path made relative, refusing `..`: a layer has no business
/// naming anything above its root, and refusing is clearer than clamping.
pub(crate) fn clean_path(raw: &[u8]) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for comp in raw.split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                return Err(unsafe_entry(
                    Path::new(OsStr::from_bytes(raw)),
                    "path climbs out of the layer with ..",
                ))
            }
            c => out.push(OsStr::from_bytes(c)),
        }
    }
    Ok(out)
}

/// docker's `NoOverwriteDirNonDir` for `cp`: an entry never replaces a
/// directory by a non-directory (taking its whole tree) or the reverse.
fn no_overwrite_dir_nondir(parent: i32, name: &OsStr, entry_dir: bool, shown: &Path) -> Result<()> {
    let st = match nix::sys::stat::fstatat(Some(parent), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(Error::nix("stat", shown, e)),
    };
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    let reason = match (is_dir, entry_dir) {
        (true, false) => "cannot overwrite a directory with a non-directory",
        (false, true) => "cannot overwrite a non-directory with a directory",
        _ => return Ok(()),
    };
    Err(Error::Copy {
        path: shown.to_path_buf(),
        reason,
    })
}

fn unsafe_entry(path: &Path, reason: &'static str) -> Error {
    Error::UnsafeEntry {
        path: path.to_path_buf(),
        reason,
    }
}

fn read_meta(entry: &Header, path: &Path) -> Result<Meta> {
    let mut xattrs = Vec::new();
    for (name, value) in &entry.xattrs {
        // overlayfs reads its own metadata (redirect, metacopy, opaque)
        // from these: a layer may only express them as whiteouts.
        if name.starts_with(OVERLAY_XATTR_PREFIX) {
            continue;
        }
        xattrs.push((OsStr::from_bytes(name).to_os_string(), value.clone()));
    }
    let id = |v: u64| u32::try_from(v).map_err(|_| unsafe_entry(path, "owner id out of range"));
    Ok(Meta {
        mode: entry.mode,
        owner: Some((id(entry.uid)?, id(entry.gid)?)),
        mtime: entry.mtime,
        xattrs,
    })
}

fn device(entry: &Header, path: &Path) -> Result<libc::dev_t> {
    let num =
        |v: u64| u32::try_from(v).map_err(|_| unsafe_entry(path, "device number out of range"));
    Ok(libc::makedev(num(entry.dev_major)?, num(entry.dev_minor)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_refuses_dotdot_and_reroots_absolute() {
        assert_eq!(clean_path(b"/etc/passwd").unwrap(), Path::new("etc/passwd"));
        assert_eq!(clean_path(b"./a//b/").unwrap(), Path::new("a/b"));
        assert_eq!(clean_path(b"./").unwrap(), Path::new(""));
        assert!(clean_path(b"../x").is_err());
        assert!(clean_path(b"a/../../x").is_err());
    }
}
