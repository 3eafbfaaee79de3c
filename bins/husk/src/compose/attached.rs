//! `compose up` without `-d`: once the project has converged, the
//! service containers' output behind docker compose's prefixes until they
//! have all exited; `--abort-on-container-exit` (and `--exit-code-from`)
//! stop the rest at the first exit; SIGINT/SIGTERM stop the project
//! ("Gracefully stopping...") and a second one kills it.

use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use husk_compose::Project;
use husk_engine::compose;
use husk_engine::lifecycle::{self, logs::LogsOptions};
use husk_engine::store::{Container, Paths, Status};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::follow::{follow, End};

/// How the attached `up` follows and ends.
pub(super) struct Attach {
    pub abort: bool,
    pub exit_code_from: Option<String>,
    pub prefix: bool,
    pub timeout: Option<Duration>,
}

/// SIGINT and SIGTERM taken from a signalfd while blocked (in the
/// follower threads too, which inherit the mask), unblocked on drop.
struct Interrupts {
    set: SigSet,
    fd: SignalFd,
}

impl Interrupts {
    fn block() -> Result<Interrupts> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .context("block SIGINT and SIGTERM")?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .context("open a signalfd")?;
        Ok(Interrupts { set, fd })
    }

    /// Whether one arrived since the last call.
    fn arrived(&self) -> bool {
        let mut any = false;
        while let Ok(Some(_)) = self.fd.read_signal() {
            any = true;
        }
        any
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&self.set), None);
    }
}

/// The exit code the container's record settles on.
fn exit_code(p: &Paths, c: &Container) -> i32 {
    lifecycle::wait(p, &c.id).unwrap_or(c.state.exit_code)
}

/// Stops every running service container of the project at once; a
/// second interrupt meanwhile kills them.
fn stop_project(p: &Paths, project: &Project, timeout: Option<Duration>, sig: &Interrupts) {
    let running: Vec<Container> = compose::containers(p, &project.name)
        .unwrap_or_default()
        .into_iter()
        // A restarting one too: stopped, its policy ends.
        .filter(|c| {
            lifecycle::reconcile(p, c)
                .is_ok_and(|c| c.is_running() || c.state.status == Status::Restarting)
        })
        .collect();
    std::thread::scope(|scope| {
        let stops: Vec<_> = running
            .iter()
            .map(|c| {
                scope.spawn(move || {
                    eprintln!(" Container {}  Stopping", c.name);
                    match lifecycle::stop_with(p, &c.id, timeout) {
                        Ok(()) => eprintln!(" Container {}  Stopped", c.name),
                        Err(e) => eprintln!("husk: stop {}: {}", c.name, husk_fs::Chain(&e)),
                    }
                })
            })
            .collect();
        let mut killed = false;
        while !stops.iter().all(|h| h.is_finished()) {
            if !killed && sig.arrived() {
                killed = true;
                for c in &running {
                    let _ = lifecycle::kill(p, &c.id, "KILL");
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
}

/// Follows `ids` (the containers `up` left, narrowed to `services` when
/// given) from `since`; returns the exit status of the attached `up`.
pub(super) fn attached(
    p: &Paths,
    project: &Project,
    ids: &[String],
    services: &[String],
    since: DateTime<Utc>,
    a: &Attach,
) -> Result<i32> {
    let mut cs = Vec::new();
    for id in ids {
        let c = p.resolve(id)?;
        let svc = compose::service_of(&c);
        let wanted = services.is_empty()
            || services.iter().any(|s| s == svc)
            || a.exit_code_from.as_deref() == Some(svc);
        if wanted {
            cs.push(c);
        }
    }
    if cs.is_empty() {
        return Ok(0);
    }
    let sig = Interrupts::block()?;
    let names: Vec<&str> = cs.iter().map(|c| c.name.as_str()).collect();
    println!("Attaching to {}", names.join(", "));
    let opts = LogsOptions {
        follow: true,
        // Only this `up`'s output: a container left running shows what
        // it says from now on, not its history.
        since: Some(since),
        ..Default::default()
    };
    let abort = a.abort || a.exit_code_from.is_some();
    let (first_exit, interrupted) = follow(p, &cs, &opts, a.prefix, true, |rx| {
        let mut left = cs.len();
        let mut first_exit = None;
        let mut interrupted = false;
        while left > 0 {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok((i, end)) => {
                    let c = &cs[i];
                    let code = match end {
                        End::Done => {
                            left -= 1;
                            exit_code(p, c)
                        }
                        End::Restarted(code) => code,
                    };
                    println!("{} exited with code {code}", c.name);
                    if abort && first_exit.is_none() && !interrupted {
                        first_exit = Some(code);
                        println!("Aborting on container exit...");
                        stop_project(p, project, a.timeout, &sig);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if !interrupted && sig.arrived() {
                interrupted = true;
                eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
                stop_project(p, project, a.timeout, &sig);
            }
        }
        (first_exit, interrupted)
    });
    if interrupted {
        return Ok(130);
    }
    if let Some(svc) = &a.exit_code_from {
        // The service's first container: docker compose's pick.
        if let Some(c) = cs.iter().find(|c| compose::service_of(c) == svc) {
            return Ok(exit_code(p, c));
        }
    }
    Ok(if abort { first_exit.unwrap_or(0) } else { 0 })
}
