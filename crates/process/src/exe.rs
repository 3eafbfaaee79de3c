//! Protection of the runtime binary against CVE-2019-5736: a process in the
//! container could open /proc/<runtime pid>/exe (or have us exec ourselves
//! through a `#!/proc/self/exe` script) and, once we exit, write a trojan
//! over the host's husk-runtime. Before anything touches a container we
//! re-exec through a read-only view of our own binary, so /proc/self/exe
//! points at a file no one can open for writing.
//!
//! First choice (as runc 1.2): a detached read-only bind mount of the
//! binary made with open_tree + mount_setattr, exec'd with execveat. It
//! shares the page cache with the host binary (no copy) and leaves no
//! mount anywhere: the detached mount dies with the last process using it.
//! Fallback for kernels without the new mount API: a sealed memfd copy.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const MEMFD_NAME: &std::ffi::CStr = c"husk-runtime";
const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
/// Set in the re-exec'd process, so a kernel that ignores our read-only
/// attribute cannot make us loop.
const MARKER: &str = "_HUSK_RUNTIME_PROTECTED";

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOUNT_ATTR_RDONLY: u64 = 0x1;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// True when /proc/self/exe cannot be opened for writing: it lives on a
/// read-only mount, or it is our sealed memfd.
pub fn is_protected() -> bool {
    let Ok(f) = File::open("/proc/self/exe") else {
        return false;
    };
    // SAFETY: F_GET_SEALS on an fd we own; no memory passed.
    let seals = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GET_SEALS) };
    if seals >= 0 && seals & SEALS == SEALS {
        return true;
    }
    nix::sys::statvfs::fstatvfs(&f)
        .map(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
        .unwrap_or(false)
}

/// Makes sure we run from a protected binary, re-exec'ing if needed.
/// Returns Ok only when already protected; otherwise execs or fails.
pub fn ensure_protected() -> io::Result<()> {
    if is_protected() {
        std::env::remove_var(MARKER);
        return Ok(());
    }
    if std::env::var_os(MARKER).is_some() {
        return Err(io::Error::other(
            "re-exec'd but /proc/self/exe is still writable",
        ));
    }
    std::env::set_var(MARKER, "1");
    let prefer_memfd = std::env::var_os("HUSK_RUNTIME_EXE_COPY").is_some();
    let fd = match (prefer_memfd, readonly_bind()) {
        (false, Ok(fd)) => fd,
        _ => copy_to_memfd()?,
    };
    Err(execveat_self(&fd))
}

fn readonly_bind() -> io::Result<OwnedFd> {
    // SAFETY: open_tree with a valid C string; returns a new fd or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c"/proc/self/exe".as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor from open_tree that we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: mount_setattr on the detached mount fd with AT_EMPTY_PATH and
    // a mount_attr of the size passed.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

fn execveat_self(fd: &OwnedFd) -> io::Error {
    let args: Vec<CString> = std::env::args_os()
        .filter_map(|a| CString::new(a.into_encoded_bytes()).ok())
        .collect();
    let env: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv).ok()
        })
        .collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: argv/envp are NUL-terminated arrays of valid C strings that
    // outlive the call; on success execveat does not return.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    io::Error::last_os_error()
}

fn copy_to_memfd() -> io::Result<OwnedFd> {
    let src = File::open("/proc/self/exe")?;
    // SAFETY: memfd_create with a valid C string name.
    let fd = unsafe {
        libc::memfd_create(
            MEMFD_NAME.as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create returned a fresh fd we now own.
    let mut dst = unsafe { File::from_raw_fd(fd) };
    io::copy(&mut (&src), &mut dst)?;
    // SAFETY: F_ADD_SEALS on our memfd.
    if unsafe { libc::fcntl(dst.as_raw_fd(), libc::F_ADD_SEALS, SEALS) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(dst.into())
}
