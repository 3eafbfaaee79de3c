//! Liveness of host processes that survives pid reuse, and a few syscalls
//! the monitor and the verbs share.

use std::os::fd::{FromRawFd, OwnedFd};

pub fn start_time(pid: i32) -> Option<u64> {
    husk_fs::ProcStat::of(pid).map(|s| s.start_time)
}

/// True while `pid` is the process that started at `start` and has not
/// exited: a zombie counts as dead (this host's PID 1 never reaps them).
pub fn alive(pid: i32, start: u64) -> bool {
    pid > 0
        && matches!(husk_fs::ProcStat::of(pid), Some(s) if s.start_time == start && !s.is_gone())
}

/// A pidfd for `pid` (pollable: readable once the process exits).
pub fn pidfd_open(pid: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Waits up to `timeout` for `pid` (started at `start`) to exit. True when
/// it is gone.
pub fn wait_gone(pid: i32, start: u64, timeout: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if !alive(pid, start) {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub fn now_rfc3339() -> String {
    husk_fs::now_rfc3339()
}

/// Takes an exclusive `flock` on `path` without waiting; `None` when
/// another process holds it. The monitor holds its container's lock for
/// its whole life, so a held lock means "a monitor owns this container"
/// and the kernel drops it when the monitor dies, however it dies.
pub fn try_lock(path: &std::path::Path) -> crate::Result<Option<husk_fs::Lock>> {
    Ok(husk_fs::Lock::try_exclusive(path)?)
}

/// The live members of session `sid` that started at or after `since`
/// (clock ticks), with their start times; zombies count as gone.
pub fn session_members(sid: i32, since: u64) -> Vec<(i32, u64)> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != sid)
        .filter_map(|pid| {
            let s = husk_fs::ProcStat::of(pid)?;
            (s.session == sid && s.start_time >= since && !s.is_gone())
                .then_some((pid, s.start_time))
        })
        .collect()
}
