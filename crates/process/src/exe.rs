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
    let fd = crate::sys::open_tree(std::path::Path::new("/proc/self/exe"), false)?;
    crate::sys::mount_setattr(fd.as_raw_fd(), false, libc::MOUNT_ATTR_RDONLY, 0, None)?;
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
