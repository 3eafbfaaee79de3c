//! The restart policy's part in the verbs (the policy itself runs in the
//! monitor: monitor/restart.rs): `stop`, `kill` and `rm -f` mark the
//! record so the monitor does not start the container again; a monitor
//! that died is replaced by a resuming one (from reconcile); and
//! `husk start --all-restartable`, the boot hook that brings back what
//! dockerd's start would.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::monitor::restart::needs_resume;
use crate::proc;
use crate::store::{Container, Paths, Status};
use crate::{Error, Result};

/// A user stopped the container (docker's `HasBeenManuallyStopped`);
/// with `cancel` the policy is off until the next start too (docker's
/// `ExitOnNext`), which the monitor reads before it restarts.
pub(crate) fn mark_stopped(paths: &Paths, id: &str, cancel: bool) -> Result<()> {
    paths.update(id, |r| {
        r.state.manually_stopped = true;
        r.state.restart_cancelled |= cancel;
        Ok(())
    })?;
    Ok(())
}

/// docker's `kill`: `SIGKILL`, or the container's stop signal, or any
/// signal when it has none set, ends the policy until the next start.
pub(crate) fn kill_cancels(c: &Container, sig: i32) -> bool {
    if c.config.stop_signal.is_empty() || sig == libc::SIGKILL {
        return true;
    }
    husk_fs::signal_number(&c.config.stop_signal) == Some(sig)
}

/// Waits until the monitor has taken a cancelled container down for good
/// (it leaves `restarting` once it reads the mark).
pub(crate) fn wait_down(paths: &Paths, id: &str, timeout: Duration) -> Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let Some(c) = paths.load(id)? else {
            return Ok(());
        };
        let c = super::reconcile(paths, &c)?;
        let up = c.is_running() || c.state.status == Status::Restarting;
        if !up || std::time::Instant::now() >= deadline {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a monitor that takes over `c`, whose monitor died while its
/// policy had work (see [`needs_resume`]); the record as it is then, or
/// `None` when another process is already at it.
pub(super) fn resume(paths: &Paths, c: &Container) -> Result<Option<Container>> {
    let Some(_lock) = proc::try_lock(&paths.monitor_lock(&c.id))? else {
        return Ok(None);
    };
    let Some(c) = paths.load(&c.id)? else {
        return Ok(None);
    };
    if !needs_resume(paths, &c) {
        return Ok(Some(c));
    }
    let exe = std::env::current_exe().map_err(|e| Error::io("locate", "/proc/self/exe", e))?;
    let child = monitor_command(paths, &exe, &c.id, &["--resume"])?
        .spawn()
        .map_err(|source| Error::Spawn {
            what: format!("monitor {}", exe.display()),
            source,
        })?;
    let pid = child.id() as i32;
    let start = proc::start_time(pid).unwrap_or(0);
    // Recorded before the lock goes: no other command starts a second
    // one, and the new monitor, once it has the lock, knows it is meant.
    paths.update(&c.id, |r| {
        r.state.monitor_pid = pid;
        r.state.monitor_start = start;
        Ok(())
    })
}

/// `husk --root R --runroot RR [--config C] __monitor ID ARGS`, its
/// messages to the container's monitor.log.
pub(super) fn monitor_command(
    paths: &Paths,
    exe: &Path,
    id: &str,
    args: &[&str],
) -> Result<Command> {
    let mlog = paths.dir(id).join("monitor.log");
    let stderr = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&mlog)
        .map_err(|e| Error::io("open", &mlog, e))?;
    let mut cmd = Command::new(exe);
    cmd.arg("--root").arg(&paths.root);
    cmd.arg("--runroot").arg(&paths.runroot);
    if let Some(config) = &paths.config {
        cmd.arg("--config").arg(config);
    }
    cmd.arg("__monitor")
        .arg(id)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    Ok(cmd)
}

/// `husk start --all-restartable`: what dockerd does when it starts (after
/// a reboot, say): every container that is down and whose policy would
/// restart it (`always`; `unless-stopped` unless a user stopped it;
/// `on-failure` after a failure, retries left) is started; one whose
/// monitor died but still runs is taken over (see reconcile). The names
/// started, each with how its start went.
pub fn start_restartable(paths: &Paths, exe: &Path) -> Result<Vec<(String, Result<()>)>> {
    let mut done = Vec::new();
    for c in super::list(paths)? {
        let p = &c.host_config.restart_policy;
        let down = c.state.status == Status::Exited && !c.state.started_at.is_empty();
        if !down || !p.restart_at_boot(c.state.exit_code, c.restart_count, c.state.manually_stopped)
        {
            continue;
        }
        let started = super::start(paths, &c.id, exe, None).map(drop);
        done.push((c.name.clone(), started));
    }
    Ok(done)
}
