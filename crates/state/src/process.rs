//! Liveness checks that survive pid reuse: a pid is "ours" only while its
//! start time (field 22 of /proc/PID/stat) matches the one recorded.

/// Start time of `pid` in clock ticks since boot, or None if it is gone or a
/// zombie (a zombie has exited: for a container that means stopped).
pub fn start_time(pid: i32) -> Option<u64> {
    husk_fs::ProcStat::of(pid)
        .filter(|s| !s.is_gone())
        .map(|s| s.start_time)
}

/// True when `pid` is alive and is the same process that started at `start`.
pub fn pid_alive(pid: i32, start: u64) -> bool {
    pid > 0 && start_time(pid) == Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_with_its_start_time() {
        let me = std::process::id() as i32;
        let st = start_time(me).unwrap();
        assert!(pid_alive(me, st));
        assert!(!pid_alive(me, st + 1));
    }
}
