//! COPY and ADD: sources from the context (or a stage's rootfs) written
//! into the step's rootfs view, every destination resolved by descriptor
//! inside it (`RESOLVE_IN_ROOT`: a symlink in the image cannot send a
//! write to the host). Files get root (or `--chown`) ownership, their
//! permission bits (or `--chmod`) and their modification times.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};

use super::context::{kind, list_fd, Context};
use super::interrupt;
use crate::{Error, Result};

const MAX_DEPTH: u32 = 256;

#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOpts {
    /// `--chown` resolved: (uid, gid); root otherwise.
    pub owner: (u32, u32),
    /// `--chmod` octal bits.
    pub chmod: Option<u32>,
    /// ADD: a local tar archive is extracted rather than copied.
    pub extract: bool,
}

fn own(fd: i32) -> OwnedFd {
    // SAFETY: called only on descriptors that openat just returned.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn sys<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(nix::errno::Errno) -> Error + 'a {
    move |e| Error::io(op, path, std::io::Error::from(e))
}

/// Copies `sources` (paths `src` gave by [`Context::expand`]) to `dest`
/// (absolute, or relative to `workdir`) inside `rootfs`.
pub fn copy(
    src: &Context,
    sources: &[String],
    rootfs: &OwnedFd,
    dest: &str,
    workdir: &str,
    o: &CopyOpts,
) -> Result<()> {
    let mut dest_path = if dest.starts_with('/') {
        PathBuf::from(dest)
    } else {
        Path::new(if workdir.is_empty() { "/" } else { workdir }).join(dest)
    };
    let into_dir = dest.ends_with('/') || dest.ends_with("/.") || dest == "." || sources.len() > 1;
    if dest_path.as_os_str().is_empty() {
        dest_path = PathBuf::from("/");
    }
    for rel in sources {
        if interrupt::requested() {
            return Err(Error::Interrupted);
        }
        let fd = src.open(rel, OFlag::O_PATH)?;
        let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(sys("stat", Path::new(rel)))?;
        let shown = PathBuf::from(rel);
        match kind(&st) {
            SFlag::S_IFDIR => {
                let d = dir_in(rootfs, &dest_path, o)?;
                let s = src.open(rel, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
                copy_tree(src, rel, &s, &d, &shown, o, 0)?;
            }
            SFlag::S_IFREG => {
                let open = || src.open(rel, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY);
                if o.extract && is_archive(&open()?)? {
                    let d = dir_in(rootfs, &dest_path, o)?;
                    let s = src.open(rel, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY)?;
                    let target = husk_fs::proc_fd_path(&d);
                    husk_layers::unpack(File::from(s), None, None, Some(&target)).map_err(|e| {
                        Error::Build {
                            msg: format!("ADD {rel}: extract the archive: {}", husk_fs::Chain(&e)),
                        }
                    })?;
                    continue;
                }
                let existing_dir =
                    husk_fs::open_in_root(rootfs, &dest_path, OFlag::O_PATH | OFlag::O_DIRECTORY)
                        .is_ok();
                let target = if into_dir || existing_dir {
                    let name = Path::new(rel)
                        .file_name()
                        .map(PathBuf::from)
                        .unwrap_or_default();
                    dest_path.join(name)
                } else {
                    dest_path.clone()
                };
                let parent = target.parent().unwrap_or(Path::new("/"));
                let name = target.file_name().ok_or_else(|| Error::Build {
                    msg: format!("COPY {rel} {dest}: the destination has no file name"),
                })?;
                let d = dir_in(rootfs, parent, &CopyOpts::default())?;
                copy_file(open()?, &st, &d, Path::new(name), &target, o)?;
            }
            _ => {
                return Err(Error::Build {
                    msg: format!("COPY {rel}: not a file, directory or symlink"),
                })
            }
        }
    }
    Ok(())
}

/// A directory of `rootfs` (made with its parents when missing), open for
/// use as a dirfd.
fn dir_in(rootfs: &OwnedFd, path: &Path, o: &CopyOpts) -> Result<OwnedFd> {
    let existed = husk_fs::open_in_root(rootfs, path, OFlag::O_PATH | OFlag::O_DIRECTORY).is_ok();
    husk_fs::mkdir_all_in_root(rootfs, path, 0o755)?;
    let d = husk_fs::open_in_root(rootfs, path, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
    if !existed && o.owner != (0, 0) {
        chown(&d, o.owner, path)?;
    }
    Ok(d)
}

fn chown(fd: &OwnedFd, owner: (u32, u32), path: &Path) -> Result<()> {
    nix::unistd::fchown(
        fd.as_raw_fd(),
        Some(Uid::from_raw(owner.0)),
        Some(Gid::from_raw(owner.1)),
    )
    .map_err(sys("chown", path))
}

fn times(st: &FileStat) -> (TimeSpec, TimeSpec) {
    (
        TimeSpec::new(st.st_atime, st.st_atime_nsec),
        TimeSpec::new(st.st_mtime, st.st_mtime_nsec),
    )
}

/// Removes what is at `name` in `dir` unless it is a directory (COPY
/// replaces a file or symlink; a directory stays and is merged into).
fn clear(dir: &OwnedFd, name: &Path, shown: &Path) -> Result<()> {
    match nix::sys::stat::fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if kind(&st) == SFlag::S_IFDIR => Err(Error::Build {
            msg: format!(
                "cannot copy to {}: it is a directory in the image: end the destination with /",
                shown.display()
            ),
        }),
        Ok(_) => nix::unistd::unlinkat(
            Some(dir.as_raw_fd()),
            name,
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        )
        .map_err(sys("remove", shown)),
        Err(_) => Ok(()),
    }
}

fn copy_file(
    src: OwnedFd,
    st: &FileStat,
    dir: &OwnedFd,
    name: &Path,
    shown: &Path,
    o: &CopyOpts,
) -> Result<()> {
    // Swapped for a device or fifo since the stat: refused, not read.
    let now = nix::sys::stat::fstat(src.as_raw_fd()).map_err(sys("stat", shown))?;
    if kind(&now) != SFlag::S_IFREG {
        return Err(Error::Build {
            msg: format!("{}: changed while being copied", shown.display()),
        });
    }
    clear(dir, name, shown)?;
    let d = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        name,
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map(own)
    .map_err(sys("create", shown))?;
    let mut from = File::from(src);
    let mut to = File::from(d);
    std::io::copy(&mut from, &mut to).map_err(|e| Error::io("copy", shown, e))?;
    let d = OwnedFd::from(to);
    chown(&d, o.owner, shown)?;
    let mode = o.chmod.unwrap_or(st.st_mode & 0o7777);
    nix::sys::stat::fchmod(d.as_raw_fd(), Mode::from_bits_truncate(mode))
        .map_err(sys("chmod", shown))?;
    let (a, m) = times(st);
    nix::sys::stat::futimens(d.as_raw_fd(), &a, &m).map_err(sys("set times", shown))
}

/// Copies the contents of the source directory `s` (context path `rel`)
/// into `d`.
fn copy_tree(
    ctx: &Context,
    rel: &str,
    s: &OwnedFd,
    d: &OwnedFd,
    shown: &Path,
    o: &CopyOpts,
    depth: u32,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Build {
            msg: format!("{}: nested too deep to copy", shown.display()),
        });
    }
    let names = list_fd(
        s.try_clone().map_err(|e| Error::io("dup", shown, e))?,
        shown,
    )?;
    for n in names {
        if interrupt::requested() {
            return Err(Error::Interrupted);
        }
        let child_rel = if rel.is_empty() || rel == "." {
            n.clone()
        } else {
            format!("{rel}/{n}")
        };
        if ctx.ignored(&child_rel) && !ctx.descend(&child_rel) {
            continue;
        }
        let here = shown.join(&n);
        let name = Path::new(&n);
        let st = nix::sys::stat::fstatat(Some(s.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(sys("stat", &here))?;
        match kind(&st) {
            SFlag::S_IFDIR => {
                let flags =
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
                match nix::sys::stat::fstatat(
                    Some(d.as_raw_fd()),
                    name,
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                ) {
                    Ok(x) if kind(&x) == SFlag::S_IFDIR => {}
                    Ok(_) => {
                        clear(d, name, &here)?;
                        mkdir(d, name, &here)?;
                    }
                    Err(_) => mkdir(d, name, &here)?,
                }
                let sc = nix::fcntl::openat(Some(s.as_raw_fd()), name, flags, Mode::empty())
                    .map(own)
                    .map_err(sys("open", &here))?;
                let dc = nix::fcntl::openat(Some(d.as_raw_fd()), name, flags, Mode::empty())
                    .map(own)
                    .map_err(sys("open", &here))?;
                copy_tree(ctx, &child_rel, &sc, &dc, &here, o, depth + 1)?;
                chown(&dc, o.owner, &here)?;
                let mode = o.chmod.unwrap_or(st.st_mode & 0o7777);
                nix::sys::stat::fchmod(dc.as_raw_fd(), Mode::from_bits_truncate(mode))
                    .map_err(sys("chmod", &here))?;
                let (a, m) = times(&st);
                nix::sys::stat::futimens(dc.as_raw_fd(), &a, &m)
                    .map_err(sys("set times", &here))?;
            }
            SFlag::S_IFREG => {
                let sc = nix::fcntl::openat(
                    Some(s.as_raw_fd()),
                    name,
                    OFlag::O_RDONLY
                        | OFlag::O_NOFOLLOW
                        | OFlag::O_CLOEXEC
                        | OFlag::O_NONBLOCK
                        | OFlag::O_NOCTTY,
                    Mode::empty(),
                )
                .map(own)
                .map_err(sys("open", &here))?;
                copy_file(sc, &st, d, name, &here, o)?;
            }
            SFlag::S_IFLNK => {
                let target = nix::fcntl::readlinkat(Some(s.as_raw_fd()), name)
                    .map_err(sys("readlink", &here))?;
                clear(d, name, &here)?;
                nix::unistd::symlinkat(target.as_os_str(), Some(d.as_raw_fd()), name)
                    .map_err(sys("symlink", &here))?;
                nix::unistd::fchownat(
                    Some(d.as_raw_fd()),
                    name,
                    Some(Uid::from_raw(o.owner.0)),
                    Some(Gid::from_raw(o.owner.1)),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                )
                .map_err(sys("chown", &here))?;
                let (a, m) = times(&st);
                nix::sys::stat::utimensat(
                    Some(d.as_raw_fd()),
                    name,
                    &a,
                    &m,
                    nix::sys::stat::UtimensatFlags::NoFollowSymlink,
                )
                .map_err(sys("set times", &here))?;
            }
            // Devices, fifos and sockets of a context are not copied.
            _ => {}
        }
    }
    Ok(())
}

fn mkdir(d: &OwnedFd, name: &Path, shown: &Path) -> Result<()> {
    nix::sys::stat::mkdirat(Some(d.as_raw_fd()), name, Mode::from_bits_truncate(0o755))
        .map_err(sys("mkdir", shown))
}

/// Whether an ADD source is a tar archive (plain, gzip or zstd), which ADD
/// extracts: a tar header's `ustar` magic after decompression.
fn is_archive(fd: &OwnedFd) -> Result<bool> {
    let dup = fd
        .try_clone()
        .map_err(|e| Error::io("dup", "ADD source", e))?;
    let mut r = std::io::BufReader::new(File::from(dup));
    let Ok(comp) = husk_layers::Compression::detect(&mut r, None) else {
        return Ok(false);
    };
    let Ok(mut dec) = comp.decoder(r) else {
        return Ok(false);
    };
    let mut head = vec![0u8; 512];
    let mut got = 0;
    while got < head.len() {
        match dec.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(_) => return Ok(false),
        }
    }
    Ok(got == 512 && (&head[257..262] == b"ustar"))
}
