//! Protection of the runtime binary against CVE-2019-5736: a process in the
//! container could open /proc/<runtime pid>/exe and, once we exit, write a
//! trojan over the host's husk-runtime. Before anything touches a container
//! we re-exec from a sealed memfd copy, so that link points at an anonymous
//! immutable file instead of the host binary.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};

const MEMFD_NAME: &std::ffi::CStr = c"husk-runtime";
const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// True when /proc/self/exe is already our sealed copy.
pub fn is_cloned() -> bool {
    let Ok(f) = File::open("/proc/self/exe") else {
        return false;
    };
    // SAFETY: F_GET_SEALS on an fd we own; no memory passed.
    let seals = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GET_SEALS) };
    seals >= 0 && seals & SEALS == SEALS
}

/// Re-execs the current process from a sealed memfd copy of its binary.
/// Returns only on failure (the caller should refuse to go on).
pub fn reexec_from_memfd() -> io::Error {
    match copy_to_memfd() {
        Ok(fd) => {
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
            match nix::unistd::fexecve(fd.as_raw_fd(), &args, &env) {
                Ok(never) => match never {},
                Err(e) => e.into(),
            }
        }
        Err(e) => e,
    }
}

fn copy_to_memfd() -> io::Result<File> {
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
    let len = src.metadata()?.len();
    let mut copied = 0u64;
    while copied < len {
        // SAFETY: both fds are open; null offsets use the file positions.
        let n = unsafe {
            libc::sendfile(dst.as_raw_fd(), src.as_raw_fd(), std::ptr::null_mut(), (len - copied) as usize)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            break;
        }
        copied += n as u64;
    }
    if copied != len {
        io::copy(&mut (&src), &mut dst)?;
    }
    // SAFETY: F_ADD_SEALS on our memfd.
    if unsafe { libc::fcntl(dst.as_raw_fd(), libc::F_ADD_SEALS, SEALS) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(dst)
}
