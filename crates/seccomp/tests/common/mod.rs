//! Loads filters in forked children: a filter can never be removed, so the test process
//! itself must stay unfiltered.
#![allow(dead_code)] // each test file uses a different part of this module

use husk_seccomp::Filter;
use oci_spec::runtime::LinuxSeccomp;

/// Exit code of a child whose `Filter::load` failed (above every errno value).
pub const LOAD_FAILED: i32 = 200;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signaled(i32),
}

/// Forks, runs `body` in the child and `_exit`s with what it returns.
///
/// The test harness is multi-threaded, so the child only makes raw syscalls: `Filter::load`
/// was designed for that (no allocation) and the bodies call libc directly.
pub fn in_child(body: impl FnOnce() -> i32) -> Outcome {
    // SAFETY: the child runs `body` (raw syscalls only) and then `_exit`s; it never returns
    // into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SIGSYS would otherwise dump a core for every KILL/TRAP test.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain syscalls in the child; `_exit` never returns.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::_exit(body());
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(rc, pid, "waitpid: {}", std::io::Error::last_os_error());
    if libc::WIFSIGNALED(status) {
        Outcome::Signaled(libc::WTERMSIG(status))
    } else {
        Outcome::Exited(libc::WEXITSTATUS(status))
    }
}

/// Loads `filter` in a child, then runs `body` there. Sets no_new_privs first so that the
/// tests also run without CAP_SYS_ADMIN.
pub fn filtered(filter: &Filter, body: impl FnOnce() -> i32) -> Outcome {
    in_child(|| {
        if set_no_new_privs() != 0 {
            return LOAD_FAILED;
        }
        match filter.load() {
            Ok(()) => body(),
            Err(_) => LOAD_FAILED,
        }
    })
}

pub fn set_no_new_privs() -> i32 {
    // SAFETY: plain integers.
    errno(i64::from(unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    }))
}

/// 0 if a libc call succeeded, else its errno: what the children exit with.
pub fn errno(rc: i64) -> i32 {
    if rc == -1 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    } else {
        0
    }
}

pub fn profile(json: serde_json::Value) -> LinuxSeccomp {
    serde_json::from_value(json).expect("test profile")
}

pub fn filter(json: serde_json::Value) -> Filter {
    Filter::new(&profile(json)).expect("build filter")
}

// Thin wrappers so bodies read like the syscalls they make.

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    errno(unsafe { libc::syscall(libc::SYS_getpid) })
}

pub fn getppid() -> i32 {
    // SAFETY: no arguments.
    errno(unsafe { libc::syscall(libc::SYS_getppid) })
}

pub fn mkdir_tmp() -> i32 {
    // SAFETY: NUL-terminated literal path.
    errno(unsafe { libc::syscall(libc::SYS_mkdir, c"/tmp".as_ptr(), 0o755) })
}

pub fn chroot_root() -> i32 {
    // SAFETY: NUL-terminated literal path.
    errno(unsafe { libc::syscall(libc::SYS_chroot, c"/".as_ptr()) })
}

pub fn getcwd() -> i32 {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer and its length match.
    errno(unsafe { libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) })
}

pub fn personality(persona: u64) -> i32 {
    // SAFETY: personality takes a plain integer.
    errno(unsafe { libc::syscall(libc::SYS_personality, persona) })
}

/// Opens and closes a socket; returns 0 or the errno of socket(2).
pub fn socket(domain: i32, ty: i32, protocol: i32) -> i32 {
    // SAFETY: plain integers; the fd is closed right away.
    let fd = unsafe { libc::syscall(libc::SYS_socket, domain, ty, protocol) };
    if fd >= 0 {
        // SAFETY: closes the fd opened just above.
        unsafe { libc::close(fd as i32) };
    }
    errno(fd)
}

pub fn unshare(flags: i32) -> i32 {
    // SAFETY: plain integer flags.
    errno(unsafe { libc::syscall(libc::SYS_unshare, flags) })
}

pub fn keyctl_get_keyring_id() -> i32 {
    // KEYCTL_GET_KEYRING_ID (0) of the session keyring (-3), without creating it.
    // SAFETY: plain integers.
    errno(unsafe { libc::syscall(libc::SYS_keyctl, 0, -3, 0) })
}

pub fn add_key() -> i32 {
    // Arguments the kernel would refuse anyway: only the filter's answer matters.
    // SAFETY: NULL pointers are valid inputs for the kernel to reject.
    errno(unsafe {
        libc::syscall(
            libc::SYS_add_key,
            std::ptr::null::<u8>(),
            std::ptr::null::<u8>(),
            std::ptr::null::<u8>(),
            0,
            0,
        )
    })
}

pub fn sethostname_same() -> i32 {
    // Length 0 keeps this harmless should the filter let it through.
    // SAFETY: an empty name needs no valid pointer, but pass a real one anyway.
    errno(unsafe { libc::syscall(libc::SYS_sethostname, c"".as_ptr(), 0) })
}

pub fn write_empty(fd: i32) -> i32 {
    // SAFETY: zero bytes from a valid pointer.
    errno(unsafe { libc::syscall(libc::SYS_write, fd, c"".as_ptr(), 0) })
}

pub fn clone3_invalid() -> i32 {
    // A NULL clone_args with size 0 is EINVAL when it reaches the kernel, so a filter
    // answer is distinguishable and no process is ever created.
    // SAFETY: NULL and 0 are rejected by the kernel before any use.
    errno(unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0) })
}
