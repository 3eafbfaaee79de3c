//! Resolution of paths *inside* a root directory. A container rootfs or a
//! layer being unpacked is hostile input: any component may be a symlink to
//! `/` or `../../..`. `openat2(RESOLVE_IN_ROOT)` makes the kernel treat the
//! root fd as `/` for every component, so no string joining is ever trusted.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use crate::{Error, Result};

/// What to create at a missing path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// Opens `path` (absolute or relative, both taken relative to `root`) with
/// `flags`, never escaping `root`.
pub fn open_in_root(root: &OwnedFd, path: &Path, flags: OFlag) -> Result<OwnedFd> {
    let rel = relative(path);
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = retry_eintr(|| nix::fcntl::openat2(root.as_raw_fd(), rel.as_os_str(), how))
        .map_err(|e| Error::nix("openat2", path, e))?;
    // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// What [`read_file_in_root`] reads at most unless told otherwise: far
/// more than any real /etc/passwd or /etc/group.
pub const MAX_READ_IN_ROOT: u64 = 1 << 20;

/// Reads the regular file `path` of a hostile tree (a container's rootfs)
/// on the host: resolved inside `root` (symlinks cannot leave it), only a
/// regular file is accepted (a device, fifo or socket is refused before
/// it is opened for reading, and opened without blocking or taking a
/// terminal if it is swapped in meanwhile: `/dev/zero` as /etc/passwd
/// must not fill our memory, a fifo must not hang us), and never more
/// than `max` bytes.
/// `None` when it does not exist.
pub fn read_file_in_root(root: &OwnedFd, path: &Path, max: u64) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    let pinned = match open_in_root(root, path, OFlag::O_PATH) {
        Ok(fd) => fd,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let st = nix::sys::stat::fstat(pinned.as_raw_fd()).map_err(|e| Error::nix("stat", path, e))?;
    // Checked before opening for reading, so a device is not even opened;
    // then checked again on what was opened, in case it was swapped.
    check_regular(path, &st, max)?;
    drop(pinned);
    let fd = open_in_root(
        root,
        path,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
    )?;
    let file = std::fs::File::from(fd);
    let again = nix::sys::stat::fstat(file.as_raw_fd()).map_err(|e| Error::nix("stat", path, e))?;
    check_regular(path, &again, max)?;
    let mut data = Vec::new();
    // A file that grows after the stat still stops at max + 1 bytes.
    file.take(max.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| Error::io("read", path, e))?;
    if data.len() as u64 > max {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            max,
        });
    }
    Ok(Some(data))
}

fn check_regular(path: &Path, st: &nix::sys::stat::FileStat, max: u64) -> Result<()> {
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => {
            if st.st_size as u64 > max {
                return Err(Error::TooLarge {
                    path: path.to_path_buf(),
                    max,
                });
            }
            return Ok(());
        }
        libc::S_IFCHR => format!(
            "character device {}:{}",
            libc::major(st.st_rdev),
            libc::minor(st.st_rdev)
        ),
        libc::S_IFBLK => format!(
            "block device {}:{}",
            libc::major(st.st_rdev),
            libc::minor(st.st_rdev)
        ),
        libc::S_IFIFO => "fifo".into(),
        libc::S_IFSOCK => "socket".into(),
        libc::S_IFDIR => "directory".into(),
        _ => "special file".into(),
    };
    Err(Error::NotRegular {
        path: path.to_path_buf(),
        kind,
    })
}

/// Like `mkdir -p` inside `root`: every component is resolved in the root, so
/// a symlinked component cannot redirect creation to the host. Returns an
/// `O_PATH` fd of the final directory.
pub fn mkdir_all_in_root(root: &OwnedFd, path: &Path, mode: u32) -> Result<OwnedFd> {
    // Most targets exist already (/proc, /dev, /sys in any image): one
    // openat2 instead of a walk that opens every component.
    match open_in_root(root, path, OFlag::O_PATH | OFlag::O_DIRECTORY) {
        Ok(fd) => Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            mkdir_all_depth(root, &relative(path), mode, 0)
        }
        Err(e) => Err(e),
    }
}

fn mkdir_all_depth(root: &OwnedFd, rel: &Path, mode: u32, depth: u32) -> Result<OwnedFd> {
    // Same bound as the kernel's symlink limit, so a loop of links ends.
    if depth > 40 {
        return Err(Error::nix("mkdir", rel, Errno::ELOOP));
    }
    let mut current = PathBuf::new();
    let mut fd = open_in_root(root, Path::new("."), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    let comps: Vec<_> = rel.components().collect();
    for (i, comp) in comps.iter().enumerate() {
        let name = match comp {
            Component::Normal(n) => *n,
            _ => continue,
        };
        let parent = current.clone();
        current.push(name);
        fd = match open_in_root(root, &current, OFlag::O_PATH | OFlag::O_DIRECTORY) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                mkdirat(&fd, name, mode, &current)?;
                match open_in_root(root, &current, OFlag::O_PATH | OFlag::O_DIRECTORY) {
                    Ok(fd) => fd,
                    Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                        // A dangling symlink: create its target, still inside root.
                        let target = nix::fcntl::readlinkat(Some(fd.as_raw_fd()), name)
                            .map_err(|e| Error::nix("readlink", &current, e))?;
                        let mut next = parent.join(Path::new(&target));
                        if Path::new(&target).is_absolute() {
                            next = relative(Path::new(&target));
                        }
                        for rest in &comps[i + 1..] {
                            next.push(rest);
                        }
                        return mkdir_all_depth(root, &normalize(&next), mode, depth + 1);
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
    }
    Ok(fd)
}

/// Lexically folds `..` without ever climbing above the root, as the kernel
/// does for paths resolved with RESOLVE_IN_ROOT; the result is relative
/// (docker's `filepath.Clean` of a path in a container, without its `/`).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// Makes sure `path` exists inside `root` as `kind` (creating parents as
/// directories) and returns an `O_PATH` fd to it: the form a mount target
/// needs, used through [`proc_fd_path`].
pub fn create_in_root(root: &OwnedFd, path: &Path, kind: Kind) -> Result<OwnedFd> {
    if kind == Kind::Dir {
        return mkdir_all_in_root(root, path, 0o755);
    }
    match open_in_root(root, path, OFlag::O_PATH) {
        Ok(fd) => return Ok(fd),
        Err(e) if e.raw_os_error() != Some(libc::ENOENT) => return Err(e),
        Err(_) => {}
    }
    let rel = relative(path);
    let parent = rel.parent().unwrap_or(Path::new(""));
    let name = rel
        .file_name()
        .ok_or_else(|| Error::nix("create", path, Errno::EINVAL))?;
    let dir = mkdir_all_in_root(root, parent, 0o755)?;
    let dir = open_in_root(&dir, Path::new("."), OFlag::O_DIRECTORY | OFlag::O_RDONLY)?;
    let fd = retry_eintr(|| {
        nix::fcntl::openat(
            Some(dir.as_raw_fd()),
            name,
            OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
            Mode::from_bits_truncate(0o644),
        )
    })
    .map_err(|e| Error::nix("create", path, e))?;
    // SAFETY: fresh descriptor from openat; closed right away.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    open_in_root(root, path, OFlag::O_PATH)
}

/// `/proc/self/fd/N`: how a resolved fd is handed to syscalls (mount) that
/// only take paths. The kernel follows the magic link to the exact inode we
/// resolved, with no second lookup an attacker could race.
pub fn proc_fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// A path to `name` inside `dir` that stays short whatever `dir` is:
/// unix socket addresses hold at most 108 bytes, and a deep state root
/// (a long `--root`, a 64-hex id) would not fit. Keep `dir` open while the
/// path is used.
pub fn short_path_in(dir: &OwnedFd, name: &str) -> PathBuf {
    proc_fd_path(dir).join(name)
}

/// Opens a directory as an `O_PATH` fd, for [`short_path_in`].
pub fn open_dir_path(dir: &Path) -> Result<OwnedFd> {
    let fd = retry_eintr(|| {
        nix::fcntl::open(
            dir,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
    })
    .map_err(|e| Error::nix("open", dir, e))?;
    // SAFETY: a fresh descriptor from open(2) that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn mkdirat(dir: &OwnedFd, name: &OsStr, mode: u32, shown: &Path) -> Result<()> {
    // O_PATH dirs can serve as dirfd for mkdirat.
    match nix::sys::stat::mkdirat(Some(dir.as_raw_fd()), name, Mode::from_bits_truncate(mode)) {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(Error::nix("mkdir", shown, e)),
    }
}

fn relative(path: &Path) -> PathBuf {
    let rel: PathBuf = path
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
        .collect();
    if rel.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        rel
    }
}

fn retry_eintr<T>(mut f: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match f() {
            Err(Errno::EINTR) | Err(Errno::EAGAIN) => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root_fd(p: &Path) -> OwnedFd {
        let f = std::fs::File::open(p).unwrap();
        OwnedFd::from(f)
    }

    #[test]
    fn absolute_symlink_stays_inside_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        symlink(outside.path(), root.path().join("evil")).unwrap();
        let fd = root_fd(root.path());
        mkdir_all_in_root(&fd, Path::new("/evil/sub"), 0o755).unwrap();
        assert!(!outside.path().join("sub").exists());
        // The absolute link target was re-rooted inside the rootfs.
        let inside = root
            .path()
            .join(outside.path().strip_prefix("/").unwrap())
            .join("sub");
        assert!(inside.is_dir(), "{}", inside.display());
    }

    #[test]
    fn dotdot_symlink_stays_inside_root() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("root");
        std::fs::create_dir(&root).unwrap();
        symlink("../../../..", root.join("up")).unwrap();
        let fd = root_fd(&root);
        create_in_root(&fd, Path::new("up/file"), Kind::File).unwrap();
        assert!(root.join("file").exists());
        assert!(!parent.path().join("file").exists());
    }

    #[test]
    fn reads_a_regular_file_through_links_inside_the_root() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/real"), b"in the root").unwrap();
        std::fs::write(parent.path().join("real"), b"outside").unwrap();
        // Climbs above the root: resolved inside it, as the kernel's chroot would.
        symlink("/../../../../etc/real", root.join("etc/passwd")).unwrap();
        symlink("/dev/zero", root.join("etc/zero")).unwrap();
        let fd = root_fd(&root);
        let got = read_file_in_root(&fd, Path::new("/etc/passwd"), 100).unwrap();
        assert_eq!(got.as_deref(), Some(&b"in the root"[..]));
        // The host's /dev/zero is not in the root: missing, never read.
        assert_eq!(
            read_file_in_root(&fd, Path::new("/etc/zero"), 100).unwrap(),
            None
        );
        assert_eq!(
            read_file_in_root(&fd, Path::new("/etc/none"), 100).unwrap(),
            None
        );
    }

    #[test]
    fn refuses_fifos_directories_and_big_files_without_blocking() {
        let root = tempfile::tempdir().unwrap();
        nix::unistd::mkfifo(&root.path().join("fifo"), Mode::from_bits_truncate(0o644)).unwrap();
        std::fs::write(root.path().join("big"), vec![b'x'; 101]).unwrap();
        std::fs::create_dir(root.path().join("dir")).unwrap();
        let fd = root_fd(root.path());
        let err = read_file_in_root(&fd, Path::new("fifo"), 100).unwrap_err();
        assert_eq!(err.to_string(), "fifo is a fifo, not a regular file");
        let err = read_file_in_root(&fd, Path::new("big"), 100).unwrap_err();
        assert_eq!(err.to_string(), "big is larger than 100 bytes");
        let err = read_file_in_root(&fd, Path::new("dir"), 100).unwrap_err();
        assert!(
            err.to_string().contains("a directory, not a regular file"),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_device_node_without_reading_it() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let root = tempfile::tempdir().unwrap();
        nix::sys::stat::mknod(
            &root.path().join("zero"),
            nix::sys::stat::SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            libc::makedev(1, 5),
        )
        .unwrap();
        let fd = root_fd(root.path());
        let err = read_file_in_root(&fd, Path::new("/zero"), 100).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/zero is a character device 1:5, not a regular file"
        );
    }

    #[test]
    fn creates_file_with_parents() {
        let root = tempfile::tempdir().unwrap();
        let fd = root_fd(root.path());
        create_in_root(&fd, Path::new("/a/b/c"), Kind::File).unwrap();
        assert!(root.path().join("a/b/c").is_file());
    }
}
