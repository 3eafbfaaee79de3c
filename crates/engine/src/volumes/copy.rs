//! docker's volume copy-up: a container mounting an empty volume over a
//! directory of its image first gets that directory's contents copied into
//! the volume (unless `nocopy`), so `-v conf:/etc/nginx` starts populated.
//!
//! The image is hostile input: the source directory is opened with
//! `RESOLVE_IN_ROOT` and walked by descriptor, every entry opened with
//! `O_NOFOLLOW`, symlinks copied as symlinks, never followed; the volume
//! side is written by descriptor too. Devices, fifos and sockets are
//! skipped (a volume is data).

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};
use nix::unistd::{Gid, Uid};

use crate::config::mounts::{MountPoint, MountType};
use crate::{Error, Result};

/// Deeper trees are left uncopied rather than risk the stack.
const MAX_DEPTH: u32 = 128;

fn sys<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(nix::errno::Errno) -> Error + 'a {
    move |e| Error::io(op, path, std::io::Error::from(e))
}

fn own(fd: i32) -> OwnedFd {
    // SAFETY: called only on descriptors that openat just returned.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Copies the image's content under each empty volume's destination into
/// the volume. `rootfs` is the container's mounted root.
pub fn populate(rootfs: &Path, points: &[MountPoint]) -> Result<()> {
    let wanted: Vec<&MountPoint> = points
        .iter()
        .filter(|m| m.kind == MountType::Volume && !m.nocopy && !m.source.is_empty())
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let root: OwnedFd = File::open(rootfs)
        .map_err(|e| Error::io("open", rootfs, e))?
        .into();
    for m in wanted {
        let dst_path = Path::new(&m.source);
        let empty = std::fs::read_dir(dst_path)
            .map(|mut rd| rd.next().is_none())
            .unwrap_or(false);
        if !empty {
            continue;
        }
        // Missing or not a directory in the image: nothing to copy (the
        // runtime creates the mount point).
        let Ok(src) = husk_fs::open_in_root(
            &root,
            Path::new(&m.destination),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
        ) else {
            continue;
        };
        let dst = nix::fcntl::open(
            dst_path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map(own)
        .map_err(sys("open", dst_path))?;
        copy_dir(&src, &dst, dst_path, 0)?;
        // The volume's root takes the image directory's owner and mode.
        let st = nix::sys::stat::fstat(src.as_raw_fd()).map_err(sys("stat", dst_path))?;
        set_owner_mode(&dst, &st, dst_path)?;
    }
    Ok(())
}

fn set_owner_mode(fd: &OwnedFd, st: &FileStat, path: &Path) -> Result<()> {
    nix::unistd::fchown(
        fd.as_raw_fd(),
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    )
    .map_err(sys("chown", path))?;
    nix::sys::stat::fchmod(
        fd.as_raw_fd(),
        Mode::from_bits_truncate(st.st_mode & 0o7777),
    )
    .map_err(sys("chmod", path))
}

fn copy_dir(src: &OwnedFd, dst: &OwnedFd, path: &Path, depth: u32) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let dup = src.try_clone().map_err(|e| Error::io("dup", path, e))?;
    let mut dir = nix::dir::Dir::from_fd(dup.as_raw_fd()).map_err(sys("read dir", path))?;
    // Dir owns the descriptor now.
    std::mem::forget(dup);
    let names: Vec<std::ffi::CString> = dir
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for name in names {
        let here = path
            .join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name.as_bytes()));
        let st = nix::sys::stat::fstatat(
            Some(src.as_raw_fd()),
            name.as_c_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(sys("stat", &here))?;
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        if kind == SFlag::S_IFDIR {
            nix::sys::stat::mkdirat(
                Some(dst.as_raw_fd()),
                name.as_c_str(),
                Mode::from_bits_truncate(0o700),
            )
            .map_err(sys("mkdir", &here))?;
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let s =
                nix::fcntl::openat(Some(src.as_raw_fd()), name.as_c_str(), flags, Mode::empty())
                    .map(own)
                    .map_err(sys("open", &here))?;
            let d =
                nix::fcntl::openat(Some(dst.as_raw_fd()), name.as_c_str(), flags, Mode::empty())
                    .map(own)
                    .map_err(sys("open", &here))?;
            copy_dir(&s, &d, &here, depth + 1)?;
            set_owner_mode(&d, &st, &here)?;
        } else if kind == SFlag::S_IFREG {
            let s = nix::fcntl::openat(
                Some(src.as_raw_fd()),
                name.as_c_str(),
                OFlag::O_RDONLY
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC
                    | OFlag::O_NONBLOCK
                    | OFlag::O_NOCTTY,
                Mode::empty(),
            )
            .map(own)
            .map_err(sys("open", &here))?;
            // Swapped for a device or fifo since the stat: not data, skipped
            // (a /dev/zero must not fill the volume).
            let now = nix::sys::stat::fstat(s.as_raw_fd()).map_err(sys("stat", &here))?;
            if SFlag::from_bits_truncate(now.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
                continue;
            }
            let d = nix::fcntl::openat(
                Some(dst.as_raw_fd()),
                name.as_c_str(),
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )
            .map(own)
            .map_err(sys("create", &here))?;
            let mut from = File::from(s);
            let mut to = File::from(d);
            std::io::copy(&mut from, &mut to).map_err(|e| Error::io("copy", &here, e))?;
            set_owner_mode(&OwnedFd::from(to), &st, &here)?;
        } else if kind == SFlag::S_IFLNK {
            let target = nix::fcntl::readlinkat(Some(src.as_raw_fd()), name.as_c_str())
                .map_err(sys("readlink", &here))?;
            nix::unistd::symlinkat(target.as_os_str(), Some(dst.as_raw_fd()), name.as_c_str())
                .map_err(sys("symlink", &here))?;
            nix::unistd::fchownat(
                Some(dst.as_raw_fd()),
                name.as_c_str(),
                Some(Uid::from_raw(st.st_uid)),
                Some(Gid::from_raw(st.st_gid)),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(sys("chown", &here))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(dest: &str, source: &Path) -> MountPoint {
        let mut m =
            crate::config::mounts::parse_volume(&format!("v1:{dest}"), Path::new("/")).unwrap();
        m.source = source.to_string_lossy().into_owned();
        m
    }

    #[test]
    fn copies_image_content_into_empty_volumes_only_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let rootfs = t.path().join("rootfs");
        let outside = t.path().join("outside");
        std::fs::create_dir_all(rootfs.join("etc/app/sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "host").unwrap();
        std::fs::write(rootfs.join("etc/app/conf"), "x=1").unwrap();
        std::fs::write(rootfs.join("etc/app/sub/deep"), "d").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", rootfs.join("etc/app/link")).unwrap();
        // A hostile image: /evil points at a host directory.
        std::os::unix::fs::symlink(&outside, rootfs.join("evil")).unwrap();
        let v1 = t.path().join("v1");
        let v2 = t.path().join("v2");
        let v3 = t.path().join("v3");
        for v in [&v1, &v2, &v3] {
            std::fs::create_dir(v).unwrap();
        }
        std::fs::write(v3.join("keep"), "mine").unwrap();
        populate(
            &rootfs,
            &[
                point("/etc/app", &v1),
                point("/evil", &v2),
                point("/etc/app", &v3),
            ],
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(v1.join("conf")).unwrap(), "x=1");
        assert_eq!(std::fs::read_to_string(v1.join("sub/deep")).unwrap(), "d");
        assert_eq!(
            std::fs::read_link(v1.join("link")).unwrap(),
            Path::new("/etc/passwd")
        );
        // /evil resolved inside the root (no such dir there): nothing copied.
        assert!(std::fs::read_dir(&v2).unwrap().next().is_none());
        // A volume with data is left alone.
        assert!(!v3.join("conf").exists());
    }
}
