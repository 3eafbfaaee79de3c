//! The reverse of unpacking: a directory tree written as a tar stream.
//!
//! Two trees are written:
//! - [`Tree::Upper`]: an overlay upper dir becomes an OCI layer. Overlay's
//!   whiteouts (0/0 char devices, or files marked `trusted.overlay.whiteout`)
//!   become `.wh.NAME` entries, a directory marked `trusted.overlay.opaque=y`
//!   gets a `.wh..wh..opq` entry after it, overlay's own xattrs are dropped.
//! - [`Tree::Rootfs`]: a plain tree (a container's merged rootfs, for
//!   `husk export`), written as it is.
//!
//! An upper dir also drops the mount-point placeholders a container's
//! runtime leaves there: empty regular files at `/etc/hosts`,
//! `/etc/hostname` and `/etc/resolv.conf`, whose contents live in bind
//! mounts (docker keeps them in its `-init` layer, below the container's,
//! so they are in no diff, commit or build layer either), and `/etc` itself
//! when it holds nothing else.
//!
//! Both keep ownership, modes, mtimes (seconds), xattrs (PAX
//! `SCHILY.xattr.*`, as docker and Go write them), hard links as link
//! entries, devices and fifos; sockets are skipped (tar cannot hold them).
//! Entries are sorted by name, parent before child, so the same tree gives
//! the same bytes.
//!
//! The tree is hostile (a container wrote it): everything is reached by fd,
//! relative to the directory fd above it, with `O_NOFOLLOW`; a symlink is
//! read with `readlinkat` and written as a symlink entry, never followed. A
//! directory on another filesystem than the tree's root (a mount point) is
//! written as an empty directory.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode};
use sha2::{Digest as _, Sha256};

use crate::at::proc_at;
use crate::compression::Compression;
use crate::digest::Digest;
use crate::{Error, Result};

/// The diff id of an empty layer (a tar of no entries: 1024 zero bytes),
/// which an upper dir with no changes gives: docker records such a step as
/// an `empty_layer` history entry with no layer.
pub const EMPTY_DIFF_ID: &str =
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

/// Which kind of tree [`write_tar`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    /// An overlay upper dir: whiteouts and opaque dirs become OCI form.
    Upper,
    /// A plain root filesystem (a mounted merged dir): written as is.
    Rootfs,
}

/// What [`write_tar`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarWritten {
    /// sha256 of the tar stream.
    pub diff_id: Digest,
    /// Bytes of the tar stream.
    pub diff_size: u64,
    /// Bytes of regular-file content (docker's SIZE).
    pub content_size: u64,
    /// Entries written (whiteouts included).
    pub entries: u64,
}

/// What [`write_layer`] wrote: a compressed layer blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenLayer {
    /// sha256 of the blob (compressed bytes): the manifest's layer digest.
    pub digest: Digest,
    /// Bytes of the blob.
    pub size: u64,
    /// sha256 of the uncompressed tar: the config's `rootfs.diff_ids` entry.
    pub diff_id: Digest,
    pub diff_size: u64,
    pub content_size: u64,
    pub compression: Compression,
    pub entries: u64,
}

/// Hashes and counts every byte written through it.
pub struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashWriter<W> {
    pub fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    pub fn finish(self) -> (Digest, u64, W) {
        let d = format!("sha256:{}", hex::encode(self.hasher.finalize()));
        // The string is built from a sha256 just above: always valid.
        let digest = d.parse().unwrap_or_else(|_| Digest::of(b""));
        (digest, self.count, self.inner)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `dir` as an uncompressed tar stream to `out`, hashing it on the way.
pub fn write_tar<W: Write>(dir: &Path, tree: Tree, out: W) -> Result<TarWritten> {
    let dev = nix::sys::stat::stat(dir)
        .map_err(|e| Error::nix("stat", dir, e))?
        .st_dev;
    tar_stream(out, tree, dir, dev, |w| w.write_all())
}

/// Writes one file or tree for `husk cp`: `name` under the directory fd
/// `parent`, never following a symlink there or below (a symlink is
/// written as one). Its entries are named `top` and `top/...`; with `top`
/// None (`cp DIR/.`), `name` must be a directory and only what it holds
/// is written, named from it. `shown` names `name` in errors. A directory
/// on another filesystem below it (a mount point) is written empty.
pub fn write_tar_of<W: Write>(
    parent: &OwnedFd,
    name: &OsStr,
    top: Option<&Path>,
    shown: &Path,
    out: W,
) -> Result<TarWritten> {
    // The entry's own filesystem (a container's overlay, not the host
    // directory it is mounted on): only mounts below it are left out.
    let dev = lstat_at(parent.as_raw_fd(), name, shown)?.st_dev;
    // `shown` is `name`: with a `top`, errors name `top/...` beside it.
    let root = match top {
        Some(_) => shown.parent().unwrap_or(shown),
        None => shown,
    };
    tar_stream(out, Tree::Rootfs, root, dev, |w| match top {
        Some(top) => w.entry(parent, name, top),
        None => {
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
            let dir = open_at(parent.as_raw_fd(), name, flags, shown)?;
            w.walk(&dir, Path::new(""))
        }
    })
}

/// A tar stream to `out` that `fill` writes the entries of (`root`, on
/// device `dev`, names the tree in errors), ended and hashed.
fn tar_stream<W: Write>(
    out: W,
    tree: Tree,
    root: &Path,
    dev: u64,
    fill: impl FnOnce(&mut TreeWriter<'_, &mut HashWriter<W>>) -> Result<()>,
) -> Result<TarWritten> {
    let mut hw = HashWriter::new(out);
    let (content_size, entries) = {
        let mut tar = tar::Builder::new(&mut hw);
        tar.mode(tar::HeaderMode::Complete);
        let mut w = TreeWriter {
            tar,
            tree,
            root,
            root_dev: dev,
            links: HashMap::new(),
            content_size: 0,
            entries: 0,
        };
        fill(&mut w)?;
        let counts = (w.content_size, w.entries);
        w.tar
            .finish()
            .map_err(|e| Error::io("write tar of", root, e))?;
        counts
    };
    let (diff_id, diff_size, _) = hw.finish();
    Ok(TarWritten {
        diff_id,
        diff_size,
        content_size,
        entries,
    })
}

/// Writes the overlay upper dir `upper` as an OCI layer blob to `out`,
/// compressed with `compression`, computing both digests in the same pass.
/// gzip uses flate2's fast level: a layer is written on every build step,
/// and the size gained by higher levels is small for the time they cost.
pub fn write_layer<W: Write>(
    upper: &Path,
    compression: Compression,
    out: W,
) -> Result<WrittenLayer> {
    let mut blob = HashWriter::new(out);
    let werr = |e| Error::io("write layer of", upper, e);
    let t = match compression {
        Compression::None => write_tar(upper, Tree::Upper, &mut blob)?,
        Compression::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(&mut blob, flate2::Compression::fast());
            let t = write_tar(upper, Tree::Upper, &mut gz)?;
            gz.finish().map_err(werr)?;
            t
        }
        Compression::Zstd => {
            let mut zs = zstd::stream::write::Encoder::new(&mut blob, 3).map_err(werr)?;
            let t = write_tar(upper, Tree::Upper, &mut zs)?;
            zs.finish().map_err(werr)?;
            t
        }
    };
    blob.flush().map_err(werr)?;
    let (digest, size, _) = blob.finish();
    Ok(WrittenLayer {
        digest,
        size,
        diff_id: t.diff_id,
        diff_size: t.diff_size,
        content_size: t.content_size,
        compression,
        entries: t.entries,
    })
}

/// Opens a directory of the host (not of the tree) by path, as the root of
/// a tree walk: the path is ours, what is below it is not.
pub(crate) fn open_root(dir: &Path) -> Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let raw =
        nix::fcntl::open(dir, flags, Mode::empty()).map_err(|e| Error::nix("open", dir, e))?;
    // SAFETY: fresh descriptor from open, owned here.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Opens `name` under `parent` without following a symlink there.
pub(crate) fn open_at(parent: i32, name: &OsStr, flags: OFlag, shown: &Path) -> Result<OwnedFd> {
    let raw = nix::fcntl::openat(
        Some(parent),
        name,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::nix("open", shown, e))?;
    // SAFETY: fresh descriptor from openat, owned here.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// The names in a directory, sorted by bytes (Go's filepath.Walk order).
pub(crate) fn sorted_names(dir: &OwnedFd, shown: &Path) -> Result<Vec<OsString>> {
    let dup = nix::unistd::dup(dir.as_raw_fd()).map_err(|e| Error::nix("dup", shown, e))?;
    let mut d = nix::dir::Dir::from_fd(dup).map_err(|e| Error::nix("readdir", shown, e))?;
    let mut names = Vec::new();
    for ent in d.iter() {
        let ent = ent.map_err(|e| Error::nix("readdir", shown, e))?;
        let n = ent.file_name().to_bytes();
        if n != b"." && n != b".." {
            names.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

pub(crate) fn lstat_at(parent: i32, name: &OsStr, shown: &Path) -> Result<FileStat> {
    nix::sys::stat::fstatat(Some(parent), name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| Error::nix("stat", shown, e))
}

pub(crate) fn file_type(st: &FileStat) -> u32 {
    st.st_mode & libc::S_IFMT
}

/// An overlay whiteout as the kernel makes it: a 0/0 character device.
pub(crate) fn is_whiteout_dev(st: &FileStat) -> bool {
    file_type(st) == libc::S_IFCHR && st.st_rdev == 0
}

/// Files the engine bind-mounts over, created empty in the upper dir when
/// the image lacks them.
const PLACEHOLDERS: [&str; 3] = ["hostname", "hosts", "resolv.conf"];

/// An empty regular file at `etc/hosts`, `etc/hostname` or
/// `etc/resolv.conf` of an upper dir (`rel` relative to it).
pub(crate) fn is_placeholder(rel: &Path, st: &FileStat) -> bool {
    rel.parent() == Some(Path::new("etc"))
        && rel
            .file_name()
            .is_some_and(|n| PLACEHOLDERS.iter().any(|p| OsStr::new(p) == n))
        && file_type(st) == libc::S_IFREG
        && st.st_size == 0
}

/// True for an upper dir's `etc` (open as `dir`) that holds nothing but
/// placeholders and is not opaque: it is there only because of them.
pub(crate) fn only_placeholders(parent: i32, name: &OsStr, dir: &OwnedFd, rel: &Path) -> bool {
    if rel != Path::new("etc")
        || get_xattr(parent, name, "trusted.overlay.opaque").as_deref() == Some(b"y")
    {
        return false;
    }
    let Ok(names) = sorted_names(dir, rel) else {
        return false;
    };
    !names.is_empty()
        && names.iter().all(|n| {
            nix::sys::stat::fstatat(
                Some(dir.as_raw_fd()),
                n.as_os_str(),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .is_ok_and(|st| is_placeholder(&rel.join(n), &st))
        })
}

/// Overlay's private xattrs (root mounts use `trusted.`, user-namespace
/// mounts `user.`): never part of a layer.
fn is_overlay_xattr(name: &[u8]) -> bool {
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}

pub(crate) fn get_xattr(parent: i32, name: &OsStr, key: &str) -> Option<Vec<u8>> {
    xattr::get(proc_at(parent, name), key).ok().flatten()
}

fn xattrs_of(
    parent: i32,
    name: &OsStr,
    shown: &Path,
    tree: Tree,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let p = proc_at(parent, name);
    let names = match xattr::list(&p) {
        Ok(n) => n,
        // Symlinks on some filesystems, and filesystems without xattrs.
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTSUP) | Some(libc::EPERM)) => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(Error::io("list xattrs of", shown, e)),
    };
    let mut out = Vec::new();
    for k in names {
        let kb = k.as_bytes();
        if tree == Tree::Upper && is_overlay_xattr(kb) {
            continue;
        }
        match xattr::get(&p, &k) {
            Ok(Some(v)) => out.push((kb.to_vec(), v)),
            Ok(None) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENODATA) => {}
            Err(e) => return Err(Error::io("read xattrs of", shown, e)),
        }
    }
    out.sort();
    Ok(out)
}

struct TreeWriter<'a, W: Write> {
    tar: tar::Builder<W>,
    tree: Tree,
    root: &'a Path,
    root_dev: u64,
    /// (dev, ino) of files with more than one link → the first path written.
    links: HashMap<(u64, u64), PathBuf>,
    content_size: u64,
    entries: u64,
}

impl<'a, W: Write> TreeWriter<'a, W> {
    fn werr(&self, rel: &Path) -> impl Fn(io::Error) -> Error {
        let p = self.root.join(rel);
        move |e| Error::io("write tar entry for", p.clone(), e)
    }

    fn write_all(&mut self) -> Result<()> {
        let root = open_root(self.root)?;
        self.walk(&root, Path::new(""))
    }

    fn walk(&mut self, dir: &OwnedFd, rel: &Path) -> Result<()> {
        let shown = self.root.join(rel);
        for name in sorted_names(dir, &shown)? {
            let child = rel.join(&name);
            self.entry(dir, &name, &child)?;
        }
        Ok(())
    }

    fn header(&self, st: &FileStat, kind: tar::EntryType) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(st.st_mode & 0o7777);
        h.set_uid(st.st_uid as u64);
        h.set_gid(st.st_gid as u64);
        h.set_mtime(st.st_mtime.max(0) as u64);
        h.set_size(0);
        h
    }

    /// PAX extended header carrying xattrs, before the entry it describes.
    fn pax(&mut self, rel: &Path, xattrs: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
        if xattrs.is_empty() {
            return Ok(());
        }
        let mut data = Vec::new();
        for (k, v) in xattrs {
            let mut body = b" SCHILY.xattr.".to_vec();
            body.extend_from_slice(k);
            body.push(b'=');
            body.extend_from_slice(v);
            body.push(b'\n');
            // The record length counts its own digits.
            let mut len = body.len() + 1;
            while len.to_string().len() + body.len() != len {
                len = len.to_string().len() + body.len();
            }
            data.extend_from_slice(len.to_string().as_bytes());
            data.extend_from_slice(&body);
        }
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::XHeader);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        // ustar names are 100 bytes: the PAX header's own name only needs to exist.
        let base = rel
            .file_name()
            .map(|n| n.as_bytes())
            .unwrap_or(b"x")
            .iter()
            .take(80)
            .copied()
            .collect::<Vec<u8>>();
        let mut name = b"PaxHeaders.0/".to_vec();
        name.extend_from_slice(&base);
        h.set_path(OsStr::from_bytes(&name))
            .map_err(self.werr(rel))?;
        h.set_cksum();
        self.tar.append(&h, &data[..]).map_err(self.werr(rel))
    }

    fn entry(&mut self, parent: &OwnedFd, name: &OsStr, rel: &Path) -> Result<()> {
        let shown = self.root.join(rel);
        let pfd = parent.as_raw_fd();
        let st = match nix::sys::stat::fstatat(Some(pfd), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            // Removed while we read (a running container under `-p=false`).
            Err(Errno::ENOENT) => return Ok(()),
            Err(e) => return Err(Error::nix("stat", &shown, e)),
        };
        let ft = file_type(&st);
        if self.tree == Tree::Upper {
            let marked = ft == libc::S_IFREG
                && st.st_size == 0
                && get_xattr(pfd, name, "trusted.overlay.whiteout").is_some();
            if is_whiteout_dev(&st) || marked {
                return self.whiteout(&st, rel);
            }
            if is_placeholder(rel, &st) {
                return Ok(());
            }
            if ft == libc::S_IFREG && get_xattr(pfd, name, "trusted.overlay.metacopy").is_some() {
                return Err(Error::UnsafeEntry {
                    path: shown,
                    reason: "is an overlay metacopy file (mounted with metacopy=on): its data is in a lower layer; remount without metacopy",
                });
            }
            if ft == libc::S_IFDIR && get_xattr(pfd, name, "trusted.overlay.redirect").is_some() {
                return Err(Error::UnsafeEntry {
                    path: shown,
                    reason: "is a renamed lower directory (overlay redirect_dir=on): its contents are in a lower layer; remount with redirect_dir=off",
                });
            }
        }
        let tarpath = rel.to_path_buf();
        match ft {
            libc::S_IFSOCK => Ok(()),
            libc::S_IFDIR => {
                let fd = match open_at(pfd, name, OFlag::O_RDONLY | OFlag::O_DIRECTORY, &shown) {
                    Ok(fd) => fd,
                    Err(e) if gone(&e) => return Ok(()),
                    Err(e) => return Err(e),
                };
                let st = nix::sys::stat::fstat(fd.as_raw_fd())
                    .map_err(|e| Error::nix("stat", &shown, e))?;
                if self.tree == Tree::Upper && only_placeholders(pfd, name, &fd, rel) {
                    return Ok(());
                }
                let xattrs = xattrs_of(pfd, name, &shown, self.tree)?;
                self.pax(rel, &xattrs)?;
                let mut h = self.header(&st, tar::EntryType::Directory);
                // Directories end in '/', as docker writes them.
                let mut dname = tarpath.as_os_str().as_bytes().to_vec();
                dname.push(b'/');
                self.tar
                    .append_data(&mut h, OsStr::from_bytes(&dname), io::empty())
                    .map_err(self.werr(rel))?;
                self.entries += 1;
                if self.tree == Tree::Upper
                    && get_xattr(pfd, name, "trusted.overlay.opaque").as_deref() == Some(b"y")
                {
                    let mut h = self.header(&st, tar::EntryType::Regular);
                    h.set_mode(0o644);
                    self.tar
                        .append_data(&mut h, rel.join(".wh..wh..opq"), io::empty())
                        .map_err(self.werr(rel))?;
                    self.entries += 1;
                }
                // A mount point inside the tree: its own files are not the tree's.
                if st.st_dev != self.root_dev && self.tree == Tree::Rootfs {
                    return Ok(());
                }
                self.walk(&fd, rel)
            }
            _ => {
                if ft != libc::S_IFDIR && st.st_nlink > 1 {
                    let key = (st.st_dev, st.st_ino);
                    if let Some(first) = self.links.get(&key).cloned() {
                        let xattrs = xattrs_of(pfd, name, &shown, self.tree)?;
                        self.pax(rel, &xattrs)?;
                        let mut h = self.header(&st, tar::EntryType::Link);
                        self.tar
                            .append_link(&mut h, &tarpath, &first)
                            .map_err(self.werr(rel))?;
                        self.entries += 1;
                        return Ok(());
                    }
                    self.links.insert(key, tarpath.clone());
                }
                self.leaf(pfd, name, rel, &st)
            }
        }
    }

    fn whiteout(&mut self, st: &FileStat, rel: &Path) -> Result<()> {
        let name = rel.file_name().unwrap_or_default();
        let mut wh = OsString::from(".wh.");
        wh.push(name);
        let path = rel.with_file_name(wh);
        let mut h = self.header(st, tar::EntryType::Regular);
        h.set_mode(0o600);
        self.tar
            .append_data(&mut h, &path, io::empty())
            .map_err(self.werr(rel))?;
        self.entries += 1;
        Ok(())
    }

    fn leaf(&mut self, pfd: i32, name: &OsStr, rel: &Path, st: &FileStat) -> Result<()> {
        let shown = self.root.join(rel);
        let xattrs = xattrs_of(pfd, name, &shown, self.tree)?;
        match file_type(st) {
            libc::S_IFREG => {
                // O_NONBLOCK: if a fifo was swapped in since the stat, the
                // open must not hang; the fstat below then refuses it.
                let fd = match open_at(pfd, name, OFlag::O_RDONLY | OFlag::O_NONBLOCK, &shown) {
                    Ok(fd) => fd,
                    Err(e) if gone(&e) => return Ok(()),
                    Err(e) => return Err(e),
                };
                let st = nix::sys::stat::fstat(fd.as_raw_fd())
                    .map_err(|e| Error::nix("stat", &shown, e))?;
                if file_type(&st) != libc::S_IFREG {
                    return Err(Error::UnsafeEntry {
                        path: shown,
                        reason: "changed type while being read: pause the container",
                    });
                }
                self.pax(rel, &xattrs)?;
                let size = st.st_size.max(0) as u64;
                let mut h = self.header(&st, tar::EntryType::Regular);
                h.set_size(size);
                // Exactly `size` bytes even if the file changes meanwhile:
                // cut what grew, pad what shrank, so the archive stays valid.
                let data = File::from(fd).take(size).chain(io::repeat(0)).take(size);
                self.tar
                    .append_data(&mut h, rel, data)
                    .map_err(self.werr(rel))?;
                self.content_size += size;
            }
            libc::S_IFLNK => {
                let target = match nix::fcntl::readlinkat(Some(pfd), name) {
                    Ok(t) => t,
                    Err(Errno::ENOENT) => return Ok(()),
                    Err(e) => return Err(Error::nix("readlink", &shown, e)),
                };
                self.pax(rel, &xattrs)?;
                let mut h = self.header(st, tar::EntryType::Symlink);
                // The target's bytes as the kernel holds them: tar's path
                // normalization turns `/` into `//` and drops a trailing
                // slash. Longer targets take tar's GNU long-link entry,
                // which is written literally.
                let bytes = target.as_bytes();
                if bytes.len() <= 100 {
                    h.set_link_name_literal(bytes).map_err(self.werr(rel))?;
                    h.set_size(0);
                    self.tar
                        .append_data(&mut h, rel, io::empty())
                        .map_err(self.werr(rel))?;
                } else {
                    self.tar
                        .append_link(&mut h, rel, &target)
                        .map_err(self.werr(rel))?;
                }
            }
            libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                let kind = match file_type(st) {
                    libc::S_IFCHR => tar::EntryType::Char,
                    libc::S_IFBLK => tar::EntryType::Block,
                    _ => tar::EntryType::Fifo,
                };
                self.pax(rel, &xattrs)?;
                let mut h = self.header(st, kind);
                if kind != tar::EntryType::Fifo {
                    let rdev = st.st_rdev;
                    h.set_device_major(libc::major(rdev))
                        .map_err(self.werr(rel))?;
                    h.set_device_minor(libc::minor(rdev))
                        .map_err(self.werr(rel))?;
                }
                self.tar
                    .append_data(&mut h, rel, io::empty())
                    .map_err(self.werr(rel))?;
            }
            _ => return Ok(()),
        }
        self.entries += 1;
        Ok(())
    }
}

/// Removed between readdir and open: a live tree may lose entries.
fn gone(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.raw_os_error() == Some(libc::ENOENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_dir_is_the_empty_layer() {
        let d = tempfile::tempdir().unwrap();
        let t = write_tar(d.path(), Tree::Upper, io::sink()).unwrap();
        assert_eq!(t.diff_id.as_str(), EMPTY_DIFF_ID);
        assert_eq!((t.diff_size, t.entries), (1024, 0));
    }

    /// Symlink targets go into the layer byte for byte: `/` stays `/`
    /// (tar's path normalization made it `//`), a trailing slash stays.
    #[test]
    fn symlink_targets_are_kept_literally() {
        let src = tempfile::tempdir().unwrap();
        for (name, target) in [("root", "/"), ("slash", "dir/"), ("dots", "a/../b")] {
            std::os::unix::fs::symlink(target, src.path().join(name)).unwrap();
        }
        let mut tar = Vec::new();
        write_tar(src.path(), Tree::Upper, &mut tar).unwrap();
        let mut got: Vec<(String, String)> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let link = e.header().link_name_bytes().unwrap().into_owned();
                (
                    e.path().unwrap().display().to_string(),
                    String::from_utf8(link).unwrap(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("dots".to_string(), "a/../b".to_string()),
                ("root".to_string(), "/".to_string()),
                ("slash".to_string(), "dir/".to_string()),
            ]
        );
    }

    /// Names and link targets past ustar's 100 bytes, with xattrs, come
    /// back through the unpacker as they were.
    #[test]
    fn long_names_and_link_targets_round_trip() {
        let src = tempfile::tempdir().unwrap();
        let deep = src.path().join("d".repeat(120)).join("e".repeat(120));
        std::fs::create_dir_all(&deep).unwrap();
        let long = "f".repeat(200);
        std::fs::write(deep.join(&long), b"data").unwrap();
        let target = format!("/{}", "t".repeat(180));
        std::os::unix::fs::symlink(&target, deep.join("l")).unwrap();
        let mut tar = Vec::new();
        let t = write_tar(src.path(), Tree::Upper, &mut tar).unwrap();
        assert_eq!(t.entries, 4);
        let dst = tempfile::tempdir().unwrap();
        let u = crate::unpack(&tar[..], None, None, Some(dst.path())).unwrap();
        assert_eq!(u.diff_id, t.diff_id);
        let back = dst.path().join("d".repeat(120)).join("e".repeat(120));
        assert_eq!(std::fs::read(back.join(&long)).unwrap(), b"data");
        assert_eq!(
            std::fs::read_link(back.join("l")).unwrap(),
            Path::new(&target)
        );
    }
}
