//! /dev inside the container: the default nodes every runtime provides,
//! the spec's `linux.devices`, and the standard symlinks.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use husk_fs::{mkdir_all_in_root, open_in_root};
use nix::fcntl::OFlag;
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use crate::error::Context;
use crate::{sys, Error, Result};

/// (path, major, minor): null, zero, full, random, urandom, tty, as runc.
const DEFAULT_DEVICES: [(&str, u64, u64); 6] = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

/// `bind_host`: in a user namespace, where no node can be made, the
/// host's are bound instead (computed once by the caller).
pub fn create_default_devices(root: &OwnedFd, bind_host: bool) -> Result<()> {
    for (path, major, minor) in DEFAULT_DEVICES {
        mknod(
            root,
            bind_host,
            Path::new(path),
            libc::S_IFCHR,
            0o666,
            major,
            minor,
            0,
            0,
        )?;
    }
    Ok(())
}

pub fn create_spec_devices(root: &OwnedFd, devices: &[LinuxDevice], bind_host: bool) -> Result<()> {
    for (i, d) in devices.iter().enumerate() {
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => libc::S_IFCHR,
            LinuxDeviceType::B => libc::S_IFBLK,
            LinuxDeviceType::P => libc::S_IFIFO,
            LinuxDeviceType::A => {
                return Err(Error::Spec(format!(
                    "linux.devices[{i}].type: \"a\" is only valid in cgroup rules"
                )))
            }
        };
        let path = d.path();
        if !path.starts_with("/dev") {
            return Err(Error::Spec(format!(
                "linux.devices[{i}].path: {} is not under /dev",
                path.display()
            )));
        }
        let mode = d.file_mode().unwrap_or(0o666) & 0o7777;
        mknod(
            root,
            bind_host,
            path,
            kind,
            mode,
            d.major() as u64,
            d.minor() as u64,
            d.uid().unwrap_or(0),
            d.gid().unwrap_or(0),
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn mknod(
    root: &OwnedFd,
    bind_host: bool,
    path: &Path,
    kind: libc::mode_t,
    mode: u32,
    major: u64,
    minor: u64,
    uid: u32,
    gid: u32,
) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("/dev"));
    let name = path
        .file_name()
        .ok_or_else(|| Error::Spec(format!("device path {} has no name", path.display())))?;
    let dir = mkdir_all_in_root(root, parent, 0o755)?;
    let dir = open_in_root(&dir, Path::new("."), OFlag::O_DIRECTORY | OFlag::O_RDONLY)?;
    let cname = CString::new(name.as_bytes())
        .map_err(|_| Error::Spec(format!("device path {} has a NUL byte", path.display())))?;
    // A node already there (from the image) is replaced, as runc does.
    // SAFETY: unlinkat on a dir fd we own and a valid C string; a missing
    // entry is fine.
    unsafe { libc::unlinkat(dir.as_raw_fd(), cname.as_ptr(), 0) };
    let dev = libc::makedev(major as u32, minor as u32);
    if bind_host {
        // No mknod in a user namespace: the host's node, bind mounted onto
        // a plain file (runc's way); its owner and mode are the host's.
        return bind_host_node(&dir, &cname, path);
    }
    sys::mknodat(dir.as_raw_fd(), &cname, kind | mode, dev).ctx("mknod", path)?;
    sys::fchownat(dir.as_raw_fd(), &cname, uid, gid).ctx("chown", path)?;
    Ok(())
}

/// The init still sees the host's /dev at `path` (before pivot_root).
fn bind_host_node(dir: &OwnedFd, name: &CString, path: &Path) -> Result<()> {
    // SAFETY: openat on a dir fd we own and a valid C string; the fd is
    // closed at once.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            0o644,
        )
    };
    if fd < 0 {
        return Err(Error::sys("create", path, std::io::Error::last_os_error()));
    }
    sys::close(fd);
    let name = Path::new(std::ffi::OsStr::from_bytes(name.as_bytes()));
    let target = open_in_root(dir, name, OFlag::O_PATH)?;
    sys::mount(
        Some(path),
        &husk_fs::proc_fd_path(&target),
        None,
        libc::MS_BIND,
        None,
    )
    .ctx("bind mount the host's", path)
}

/// /dev/fd, stdin, stdout, stderr and ptmx links, as every runtime makes them.
pub fn create_symlinks(root: &OwnedFd, has_devpts: bool) -> Result<()> {
    let dev = mkdir_all_in_root(root, Path::new("/dev"), 0o755)?;
    let dev = open_in_root(&dev, Path::new("."), OFlag::O_DIRECTORY | OFlag::O_RDONLY)?;
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if has_devpts {
        links.push(("pts/ptmx", "ptmx"));
    }
    for (target, name) in links {
        let cname = CString::new(name).unwrap_or_default();
        if name == "ptmx" {
            // SAFETY: as in mknod: remove whatever the image had there.
            unsafe { libc::unlinkat(dev.as_raw_fd(), cname.as_ptr(), 0) };
        }
        let ctarget = CString::new(target).unwrap_or_default();
        // SAFETY: valid C strings and an open dir fd.
        let rc = unsafe { libc::symlinkat(ctarget.as_ptr(), dev.as_raw_fd(), cname.as_ptr()) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EEXIST) {
                return Err(Error::sys("symlink", Path::new("/dev").join(name), e));
            }
        }
    }
    Ok(())
}
