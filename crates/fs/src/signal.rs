//! Signal names and numbers as runc and docker accept them: `KILL`,
//! `SIGKILL`, `kill`, `9`, the realtime `RTMIN+3`, `SIGRTMIN+3`,
//! `SIGRTMAX-2`, and any number 1–64 (Linux numbering: SIGRTMIN is 34,
//! glibc keeps 32 and 33). One implementation for `husk kill -s`,
//! `--stop-signal` and `husk-runtime kill`; and [`reset_signals`], the
//! signal state every process husk starts for a container begins with.

const RTMIN: i32 = 34;
const RTMAX: i32 = 64;

/// The signal number `s` names, or `None` when it names none.
pub fn signal_number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=RTMAX).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.parse().ok()?
        };
        let n = base + sign * off;
        (RTMIN..=RTMAX).contains(&n).then_some(n)
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return match rest.strip_prefix('+') {
            Some(off) => rt(RTMIN, off, 1),
            None if rest.is_empty() => Some(RTMIN),
            None => None,
        };
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return match rest.strip_prefix('-') {
            Some(off) => rt(RTMAX, off, -1),
            None if rest.is_empty() => Some(RTMAX),
            None => None,
        };
    }
    // nix knows the standard names (SIGHUP..SIGSYS) for this platform.
    format!("SIG{name}")
        .parse::<nix::sys::signal::Signal>()
        .ok()
        .map(|s| s as i32)
}

/// The kernel's `struct sigaction` (x86_64 and aarch64 layout), for the
/// raw syscall: glibc's sigaction refuses its internal signals 32 and 33.
#[repr(C)]
struct KernelSigaction {
    handler: libc::c_ulong,
    flags: libc::c_ulong,
    restorer: libc::c_ulong,
    mask: u64,
}

/// Every signal 1..=64 (but SIGKILL and SIGSTOP, which cannot change) back
/// to its default disposition, and an empty blocked mask: how runc and crun
/// start a container's process, and how a shim starts a runtime. An ignored
/// disposition and the mask survive execve, and ours are not the command's
/// (Rust ignores SIGPIPE at start-up, std's spawn passes the mask on, a
/// caller may block or ignore more, glibc's posix_spawn leaves 32 and 33
/// ignored). Handlers are reset too, though execve would do that, so
/// nothing of ours runs between here and exec. Raw syscalls only: safe
/// between fork and exec.
pub fn reset_signals() -> std::io::Result<()> {
    let dfl = KernelSigaction {
        handler: libc::SIG_DFL as libc::c_ulong,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for sig in 1..=RTMAX {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: rt_sigaction with a valid kernel sigaction, no old-action
        // pointer and the kernel's 8-byte sigset size.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &dfl as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                std::mem::size_of::<u64>(),
            )
        };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    let empty: u64 = 0;
    // SAFETY: rt_sigprocmask reads one 8-byte set and writes nothing.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty as *const u64,
            std::ptr::null_mut::<u64>(),
            std::mem::size_of::<u64>(),
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_realtime_signals() {
        for (s, n) in [
            ("KILL", 9),
            ("SIGKILL", 9),
            ("sigterm", 15),
            ("usr1", 10),
            ("9", 9),
            ("64", 64),
            ("1", 1),
            ("RTMIN", 34),
            ("SIGRTMIN", 34),
            ("RTMIN+3", 37),
            ("SIGRTMIN+3", 37),
            ("sigrtmin+30", 64),
            ("SIGRTMAX", 64),
            ("RTMAX-2", 62),
            ("SIGRTMAX-30", 34),
        ] {
            assert_eq!(signal_number(s), Some(n), "{s}");
        }
        for s in [
            "NOPE", "0", "65", "-1", "999", "RTMIN+31", "RTMAX-31", "RTMIN3", "RTMAX+1", "SIG", "",
        ] {
            assert_eq!(signal_number(s), None, "{s}");
        }
    }
}
