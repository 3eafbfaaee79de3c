//! Restart policies, run by the container's own monitor (no daemon): when
//! the init exits, [`Policy::after_exit`] asks the record's policy
//! (config/restart.rs, docker's restart manager) and, to restart, records
//! `restarting` (RestartCount + 1), sleeps docker's backoff while watching
//! the record for a `stop`, and hands the monitor the record to start
//! again; the monitor then re-creates the container through the runtime
//! exactly as the first start did (mount, network, bundle, `create`,
//! `start`), so what `husk update` recorded meanwhile applies.
//!
//! A monitor killed with `kill -9` leaves its container running with no
//! one to apply the policy. The next husk command's reconcile notices
//! (record running, monitor dead, host not rebooted since: the bundle is
//! still on the runroot) and starts a monitor that [`resume`]s: it takes
//! the monitor lock, watches the init through a pidfd (it cannot be the
//! init's parent any more), reads the exit status the kernel keeps for a
//! non-child (the pidfd's `PIDFD_GET_INFO`, or a zombie's
//! `/proc/PID/stat`), takes the container down and goes on with the
//! policy as the first monitor would have. Why not a second process kept
//! in reserve: any process can be killed, and the reconcile every command
//! runs already settles what dead monitors leave; this is one more case
//! of it, and no daemon or timer is needed. The output the container
//! writes after its monitor died is lost (the pipes' reader is gone); a
//! container that writes then dies of SIGPIPE, and its policy restarts it
//! with new pipes.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::config::restart::Backoff;
use crate::proc;
use crate::store::{Container, Paths, Status};
use crate::Result;

/// What a start by hand (`start`, `run`, `start --all-restartable`)
/// resets, as docker's `containerStart(resetRestartManager)`: the
/// restart count and the marks a `stop` left.
pub(crate) fn started_by_hand(r: &mut Container) {
    r.restart_count = 0;
    r.state.manually_stopped = false;
    r.state.restart_cancelled = false;
}

/// The restart manager of one monitor: the backoff lives as long as it.
#[derive(Debug, Default)]
pub struct Policy {
    backoff: Backoff,
}

impl Policy {
    /// The init exited with `code` after running for `ran`, and the
    /// container is down. `None`: it stays down (the caller records the
    /// exit). `Some(record)`: start it again from this record; meanwhile
    /// the record said `restarting`, the foreground `run` was told the
    /// exit, and the backoff has passed.
    pub(super) fn after_exit(
        &mut self,
        paths: &Paths,
        id: &str,
        code: i32,
        oom: bool,
        ran: Duration,
        sync: &mut File,
    ) -> Result<Option<Container>> {
        let delay = self.backoff.next(ran);
        let mut restart = false;
        paths.update(id, |r| {
            let p = &r.host_config.restart_policy;
            restart = !r.host_config.auto_remove
                && p.should_restart(
                    code,
                    r.restart_count,
                    r.state.manually_stopped,
                    r.state.restart_cancelled,
                );
            if restart {
                r.restart_count += 1;
                r.state.status = Status::Restarting;
                r.state.exit_code = code;
                r.state.oom_killed = oom;
                r.state.pid = 0;
                r.state.pid_start = 0;
                r.state.finished_at = proc::now_rfc3339();
                r.network = None;
            }
            Ok(())
        })?;
        if !restart {
            return Ok(None);
        }
        // The next start's bundle; there meanwhile, it also tells a
        // reconcile that the host has not rebooted (see `needs_resume`).
        let bundle = paths.bundle(id);
        std::fs::create_dir_all(&bundle).map_err(|e| crate::Error::io("create", &bundle, e))?;
        // A foreground `run` returns at the first exit, as docker's does.
        let _ = writeln!(sync, "exited {code}");
        let deadline = Instant::now() + delay;
        loop {
            let Some(r) = paths.load(id)? else {
                return Ok(None);
            };
            // `stop`, `kill` or `rm -f` while it waits: it stays down.
            if r.state.restart_cancelled {
                return Ok(None);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Some(r));
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
        }
    }
}

/// Whether `c`'s monitor died while the policy still had work: the record
/// says running (or restarting), no monitor lives, the runroot still has
/// its bundle (a reboot wipes it: then `start --all-restartable` brings
/// it back), and the policy was not ended by a `stop`.
pub fn needs_resume(paths: &Paths, c: &Container) -> bool {
    let running = matches!(
        c.state.status,
        Status::Running | Status::Paused | Status::Restarting
    );
    running
        && !c.host_config.restart_policy.is_none()
        && !c.host_config.auto_remove
        && !c.state.restart_cancelled
        && c.state.monitor_pid > 0
        && !proc::alive(c.state.monitor_pid, c.state.monitor_start)
        && paths.bundle(&c.id).exists()
}

/// `husk __monitor ID --resume`: takes over a container whose monitor
/// died (see the module's comment); returns the exit status.
pub fn resume(paths: &Paths, id: &str) -> i32 {
    match resume_inner(paths, id) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("husk monitor {id}: resume: {}", husk_fs::Chain(&e));
            1
        }
    }
}

fn resume_inner(paths: &Paths, id: &str) -> Result<()> {
    super::become_session_and_subreaper(id)?;
    // The command that started us holds the lock until it has recorded
    // us as the monitor; then it is ours.
    let deadline = Instant::now() + Duration::from_secs(5);
    let _owner = loop {
        if let Some(lock) = proc::try_lock(&paths.monitor_lock(id))? {
            break lock;
        }
        if Instant::now() >= deadline {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let me = std::process::id() as i32;
    let me_start = proc::start_time(me).unwrap_or(0);
    let Some(c) = paths.load(id)? else {
        return Ok(());
    };
    let ours = (c.state.monitor_pid, c.state.monitor_start) == (me, me_start);
    let eligible = matches!(
        c.state.status,
        Status::Running | Status::Paused | Status::Restarting
    ) && !c.state.restart_cancelled;
    let another_lives = !ours && proc::alive(c.state.monitor_pid, c.state.monitor_start);
    if !eligible || another_lives {
        return Ok(());
    }
    let Some(c) = paths.update(id, |r| {
        r.state.monitor_pid = me;
        r.state.monitor_start = me_start;
        Ok(())
    })?
    else {
        return Ok(());
    };
    let rt = super::runtime::Runtime {
        binary: c.host_config.runtime.clone().into(),
        root: paths.runtime_root(),
        log: Some(paths.bundle(id).join("runtime.log")),
    };
    // Nobody reads our reports: the `run` that started the container is gone.
    let mut sync = File::options()
        .write(true)
        .open("/dev/null")
        .map_err(|e| crate::Error::io("open", "/dev/null", e))?;
    let up = Instant::now();
    let code = if c.state.status == Status::Restarting {
        // It died during the backoff: the exit is recorded already.
        None
    } else {
        Some(wait_exit(c.state.pid, c.state.pid_start))
    };
    let oom = super::oom_killed(id);
    if let Some(code) = code {
        crate::events::container(paths, &c, "die", &[("exitCode", &code.to_string())]);
        super::down(paths, &c, &rt);
    }
    let mut policy = Policy::default();
    let next = match code {
        Some(code) => policy.after_exit(paths, id, code, oom, up.elapsed(), &mut sync)?,
        None => Some(c.clone()),
    };
    match next {
        Some(next) => {
            let attempt = super::prepare_and_create(paths, &next, &rt, None);
            // `husk attach` to a tty container gets docker's detach keys.
            let keys = super::detach::parse(super::detach::DEFAULT)?;
            super::supervise_runs(paths, next, &rt, &mut sync, keys, attempt, policy)
        }
        None => {
            let code = code.unwrap_or(c.state.exit_code);
            let trash = super::finish(paths, &c, |r| super::exited(r, code, oom))?;
            super::empty(trash, id);
            Ok(())
        }
    }
}

/// docker's code for an exit status in waitpid's form.
fn docker_code(status: i32) -> i32 {
    if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    }
}

/// Waits for `pid` (started at `start`), which is not our child, to exit;
/// its docker exit code, 255 when the kernel kept none.
fn wait_exit(pid: i32, start: u64) -> i32 {
    let pidfd = match proc::pidfd_open(pid) {
        Ok(fd) if proc::alive(pid, start) => Some(fd),
        _ => None,
    };
    if let Some(fd) = &pidfd {
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd; -1 waits until the process exits.
        while unsafe { libc::poll(&mut p, 1, -1) } < 0 {}
    }
    zombie_status(pid, start)
        .or_else(|| pidfd.as_ref().and_then(pidfd_exit_status))
        .map(docker_code)
        .unwrap_or(255)
}

/// A zombie's exit status (`/proc/PID/stat` field 52), while nobody has
/// reaped it.
fn zombie_status(pid: i32, start: u64) -> Option<i32> {
    let stat = husk_fs::ProcStat::of(pid)?;
    if stat.start_time != start || stat.state != 'Z' {
        return None;
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.get(text.rfind(')')? + 1..)?;
    // `rest` starts at field 3.
    rest.split_whitespace().nth(52 - 3)?.parse().ok()
}

/// The exit status the kernel keeps on a pidfd once its process was
/// reaped (Linux 6.15's `PIDFD_GET_INFO` with `PIDFD_INFO_EXIT`).
fn pidfd_exit_status(fd: &OwnedFd) -> Option<i32> {
    #[repr(C)]
    #[derive(Default)]
    struct PidfdInfo {
        mask: u64,
        cgroupid: u64,
        ids: [u32; 11],
        exit_code: i32,
    }
    const PIDFD_INFO_EXIT: u64 = 1 << 3;
    // _IOWR(0xFF, 11, struct pidfd_info): the size is the first version's.
    let size = std::mem::size_of::<PidfdInfo>() as libc::c_ulong;
    let request: libc::c_ulong = (3 << 30) | (size << 16) | (0xFF << 8) | 11;
    let mut info = PidfdInfo {
        mask: PIDFD_INFO_EXIT,
        ..Default::default()
    };
    // The pid may still be a zombie nobody reaps: then there is no exit
    // info yet; give a reaping parent a moment.
    for _ in 0..10 {
        // SAFETY: `info` is a live, correctly sized pidfd_info for the
        // kernel to fill; the fd is open.
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, &mut info) };
        if rc == 0 && info.mask & PIDFD_INFO_EXIT != 0 {
            return Some(info.exit_code);
        }
        info.mask = PIDFD_INFO_EXIT;
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn docker_codes_from_wait_statuses() {
        assert_eq!(super::docker_code(3 << 8), 3);
        assert_eq!(super::docker_code(9), 137);
    }

    #[test]
    fn a_dead_childs_status_is_read_from_the_kernel() {
        // A child of ours, left a zombie: its status is in /proc.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "exit 7"])
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let start = crate::proc::start_time(pid).unwrap_or(0);
        let code = super::wait_exit(pid, start);
        assert_eq!(code, 7);
        let _ = child.wait();
    }
}
