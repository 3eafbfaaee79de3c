//! The verbs that signal a running container: kill, stop, pause,
//! unpause, and wait for its end.

use std::time::Duration;

use super::{reconcile, restartable, runtime_of};
use crate::proc;
use crate::store::{Container, Paths, Status};
use crate::{Error, Result};

/// Sends `signal` through the runtime (`kill ID SIG`).
pub fn kill(paths: &Paths, name: &str, signal: &str) -> Result<Container> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    let restarting = c.state.status == Status::Restarting;
    if !c.is_running() && !restarting {
        return Err(Error::Conflict {
            id: c.id,
            reason: "is not running".into(),
        });
    }
    // As a number: every runtime (runc, crun, ours) takes 1-64, not every
    // one knows the realtime names.
    let sig = husk_fs::signal_number(signal).ok_or_else(|| Error::InvalidFlag {
        flag: "--signal",
        value: signal.into(),
        reason: "use a name like TERM, KILL or RTMIN+3, or a number from 1 to 64".into(),
    })?;
    crate::store::exit::note_kill(paths, &c.id, "husk kill", sig, None);
    let cancels = restartable::kill_cancels(&c, sig);
    restartable::mark_stopped(paths, &c.id, cancels)?;
    if restarting {
        // No process to signal: the mark stops the coming restart.
        if cancels {
            restartable::wait_down(paths, &c.id, Duration::from_secs(10))?;
        }
        return Ok(c);
    }
    // Recorded before it is sent: the monitor's `die` must come after it.
    crate::events::container(paths, &c, "kill", &[("signal", &sig.to_string())]);
    runtime_of(paths, &c).kill(&c.id, &sig.to_string())?;
    if sig == libc::SIGKILL {
        thaw_if_paused(paths, &c);
        // docker waits for a SIGKILL'd container to be dead before
        // answering, so `kill && rm`, `kill && start` and an `inspect`
        // right after see it exited. Other signals may be handled: no wait.
        proc::wait_gone(c.state.pid, c.state.pid_start, Duration::from_secs(10));
        wait_recorded(paths, &c.id, Duration::from_secs(10))?;
    }
    Ok(c)
}

/// `husk pause`: freezes every process of the container (cgroup freezer).
pub fn pause(paths: &Paths, name: &str) -> Result<()> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    match c.state.status {
        Status::Running => {}
        Status::Paused => {
            return Err(Error::Conflict {
                id: c.id,
                reason: "is already paused".into(),
            })
        }
        _ => {
            return Err(Error::Conflict {
                id: c.id,
                reason: "is not running".into(),
            })
        }
    }
    runtime_of(paths, &c).pause(&c.id)?;
    crate::events::container(paths, &c, "pause", &[]);
    paths.update(&c.id, |r| {
        if r.state.status == Status::Running {
            r.state.status = Status::Paused;
        }
        Ok(())
    })?;
    Ok(())
}

/// `husk unpause`.
pub fn unpause(paths: &Paths, name: &str) -> Result<()> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    if c.state.status != Status::Paused {
        return Err(Error::Conflict {
            id: c.id,
            reason: "is not paused".into(),
        });
    }
    runtime_of(paths, &c).resume(&c.id)?;
    crate::events::container(paths, &c, "unpause", &[]);
    paths.update(&c.id, |r| {
        if r.state.status == Status::Paused {
            r.state.status = Status::Running;
        }
        Ok(())
    })?;
    Ok(())
}

/// A frozen process cannot act on a signal: after signalling a paused
/// container, thaw it (docker does the same).
pub(crate) fn thaw_if_paused(paths: &Paths, c: &Container) {
    if c.state.status == Status::Paused {
        let _ = runtime_of(paths, c).resume(&c.id);
        let _ = paths.update(&c.id, |r| {
            if r.state.status == Status::Paused {
                r.state.status = Status::Running;
            }
            Ok(())
        });
    }
}

/// Waits for the monitor to record the end (status no longer running).
pub(crate) fn wait_recorded(
    paths: &Paths,
    id: &str,
    timeout: Duration,
) -> Result<Option<Container>> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let Some(c) = paths.load(id)? else {
            return Ok(None);
        };
        let c = reconcile(paths, &c)?;
        let restarting = c.state.status == Status::Restarting;
        if !(c.is_running() || restarting) || std::time::Instant::now() >= deadline {
            return Ok(Some(c));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The stop signal, then SIGKILL after `timeout`; returns once the exit is recorded.
pub fn stop(paths: &Paths, name: &str, timeout: Duration) -> Result<()> {
    stop_with(paths, name, Some(timeout))
}

/// `husk stop [-t N]`: the container's stop signal (`--stop-signal`, the
/// image's StopSignal, else SIGTERM), then SIGKILL after `timeout`, or
/// after the container's `--stop-timeout` (docker's 10 s by default) when
/// `None`. A timeout past a day stands for docker's "wait forever" (-1).
pub fn stop_with(paths: &Paths, name: &str, timeout: Option<Duration>) -> Result<()> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    if c.state.status == Status::Restarting {
        // docker's stop of a restarting container: no restart comes.
        restartable::mark_stopped(paths, &c.id, true)?;
        return restartable::wait_down(paths, &c.id, Duration::from_secs(10));
    }
    if !c.is_running() {
        return Ok(());
    }
    restartable::mark_stopped(paths, &c.id, true)?;
    let timeout = timeout.unwrap_or_else(|| match c.config.stop_timeout {
        // docker's -1: as good as forever, without overflowing an Instant.
        Some(t) if t < 0 => Duration::from_secs(100 * 365 * 86_400),
        Some(t) => Duration::from_secs(t as u64),
        None => Duration::from_secs(10),
    });
    let signal = husk_fs::signal_number(&c.config.stop_signal)
        .map(|n| n.to_string())
        .unwrap_or_else(|| "TERM".into());
    let rt = runtime_of(paths, &c);
    let (pid, start) = (c.state.pid, c.state.pid_start);
    let number = husk_fs::signal_number(&signal).map_or(signal.clone(), |n| n.to_string());
    crate::store::exit::note_kill(
        paths,
        &c.id,
        "husk stop",
        number.parse().unwrap_or(libc::SIGTERM),
        None,
    );
    // Each kill is recorded before it is sent: the monitor's `die` must
    // come after it in the journal.
    crate::events::container(paths, &c, "kill", &[("signal", &number)]);
    let termed = rt.kill(&c.id, &signal).is_ok();
    thaw_if_paused(paths, &c);
    if termed && proc::wait_gone(pid, start, timeout) {
        wait_recorded(paths, &c.id, Duration::from_secs(10))?;
        crate::events::container(paths, &c, "stop", &[]);
        return Ok(());
    }
    crate::store::exit::note_kill(
        paths,
        &c.id,
        "husk stop",
        libc::SIGKILL,
        Some(timeout.as_secs()),
    );
    crate::events::container(paths, &c, "kill", &[("signal", "9")]);
    let _ = rt.kill(&c.id, "KILL");
    proc::wait_gone(pid, start, Duration::from_secs(10));
    wait_recorded(paths, &c.id, Duration::from_secs(10))?;
    crate::events::container(paths, &c, "stop", &[]);
    Ok(())
}

/// `husk wait`: blocks until the container is not running; its exit code.
pub fn wait(paths: &Paths, name: &str) -> Result<i32> {
    let c = paths.resolve(name)?;
    loop {
        let Some(now) = paths.load(&c.id)? else {
            // Removed (--rm) before we saw the exit: docker reports 0 too
            // when it loses the race, but say what we know.
            return Ok(c.state.exit_code);
        };
        let now = reconcile(paths, &now)?;
        // A policy restarting it: docker's wait goes on too.
        let restarting = now.state.status == Status::Restarting;
        if !now.is_running() && now.state.status != Status::Created && !restarting {
            return Ok(now.state.exit_code);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
