//! Healthchecks, run by the container's own monitor (there is no daemon):
//! each probe is the runtime's `exec` (the path `husk exec` takes) of the
//! check's command, with the container's user, env and cwd, its output
//! caught in an anonymous file. The monitor's poll loop drives it: the
//! [`Checker`] says how long the loop may sleep ([`Checker::wait`]),
//! starts a due probe and kills one past its timeout ([`Checker::tick`]),
//! and takes the probe's exit from the loop's reaping
//! ([`Checker::reaped`]). Nothing here blocks the loop, which goes on
//! relaying the logs and reaping meanwhile.
//!
//! Timing, retries and the start period follow docker's daemon/health.go;
//! each result is folded into the record's `State.Health` under the
//! containers lock and written atomically.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use super::runtime::Runtime;
use crate::config::health::{go_duration, Healthcheck};
use crate::proc;
use crate::store::health::{Health, HealthResult, HealthStatus};
use crate::store::{Container, Paths, Status};

/// docker keeps the first 4096 bytes of a probe's output.
const MAX_OUTPUT: usize = 4096;

/// The health state a (re)started container begins with: `starting`
/// when it has a check to run, what it had otherwise.
pub fn on_start(c: &Container) -> Option<Health> {
    let previous = c.state.health.clone();
    match c.config.healthcheck.as_ref().and_then(Healthcheck::probe) {
        Some(_) => Some(Health::starting(previous)),
        None => previous,
    }
}

/// One container's healthcheck while it runs.
pub struct Checker {
    id: String,
    check: Healthcheck,
    runtime: Runtime,
    bundle: PathBuf,
    /// The runtime's `exec --process` file: the container's process with
    /// the check's command.
    process_file: PathBuf,
    pid_file: PathBuf,
    started: Instant,
    status: HealthStatus,
    next: Instant,
    probe: Option<Probe>,
}

struct Probe {
    /// The runtime's `exec`: our child, reaped by the monitor's loop.
    runtime_pid: i32,
    output: File,
    start: String,
    began: Instant,
    deadline: Instant,
    timed_out: bool,
}

impl Checker {
    /// The checker for `c`, just started; None when it has no check.
    pub fn new(paths: &Paths, c: &Container) -> Option<Checker> {
        let check = c.config.healthcheck.clone()?;
        let argv = check.probe_in(&c.config.shell)?;
        let bundle = paths.bundle(&c.id);
        let process_file = bundle.join("health-process.json");
        if let Err(e) = write_process(&bundle, &process_file, &argv) {
            eprintln!("husk monitor {}: healthcheck: {e}", c.id);
            return None;
        }
        let now = Instant::now();
        let mut checker = Checker {
            id: c.id.clone(),
            check,
            runtime: Runtime {
                binary: c.host_config.runtime.clone().into(),
                root: paths.runtime_root(),
                log: None,
            },
            pid_file: bundle.join("health.pid"),
            bundle,
            process_file,
            started: now,
            status: HealthStatus::Starting,
            next: now,
            probe: None,
        };
        checker.next = now + checker.interval();
        Some(checker)
    }

    /// docker's `getInterval`: the start interval while starting within
    /// the start period, never past the period's end; the interval after.
    fn interval(&self) -> Duration {
        let elapsed = self.started.elapsed();
        let period = self.check.start_period();
        let interval = self.check.interval();
        if elapsed >= period {
            return interval;
        }
        let remaining = period - elapsed;
        if remaining < interval {
            return remaining;
        }
        if self.status == HealthStatus::Starting {
            self.check.start_interval()
        } else {
            interval
        }
    }

    /// How long the poll loop may sleep, at most `cap` milliseconds.
    pub fn wait(&self, cap: i32) -> i32 {
        let until = match &self.probe {
            Some(p) if p.timed_out => return cap,
            Some(p) => p.deadline,
            None => self.next,
        };
        let ms = until
            .saturating_duration_since(Instant::now())
            .as_millis()
            // Rounded up: waking a millisecond early would spin.
            .saturating_add(1);
        (ms.min(cap as u128)) as i32
    }

    /// Starts a due probe; kills one past its timeout.
    pub fn tick(&mut self, paths: &Paths) {
        let now = Instant::now();
        match &mut self.probe {
            Some(p) if !p.timed_out && now >= p.deadline => {
                p.timed_out = true;
                let runtime_pid = p.runtime_pid;
                self.kill_probe(runtime_pid);
            }
            Some(_) => {}
            None if now >= self.next => {
                // docker runs no probe while the container is paused.
                let paused = paths
                    .load(&self.id)
                    .ok()
                    .flatten()
                    .is_some_and(|c| c.state.status == Status::Paused);
                if paused {
                    self.next = now + self.interval();
                } else {
                    self.start_probe(paths);
                }
            }
            None => {}
        }
    }

    fn start_probe(&mut self, paths: &Paths) {
        let start = proc::now_rfc3339();
        let began = Instant::now();
        let _ = std::fs::remove_file(&self.pid_file);
        let spawned = self.spawn();
        match spawned {
            Ok((runtime_pid, output)) => {
                self.probe = Some(Probe {
                    runtime_pid,
                    output,
                    start,
                    began,
                    deadline: began + self.check.timeout(),
                    timed_out: false,
                });
            }
            Err(e) => {
                // docker records a probe that could not run as a failure.
                let result = HealthResult {
                    start,
                    end: proc::now_rfc3339(),
                    exit_code: -1,
                    output: e,
                };
                self.fold(paths, result, began);
            }
        }
    }

    fn spawn(&self) -> std::result::Result<(i32, File), String> {
        use std::os::unix::fs::OpenOptionsExt;
        // Unnamed, so a probe that left a writer behind never mixes into
        // the next probe's output.
        let output = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE)
            .open(&self.bundle)
            .map_err(|e| format!("healthcheck output file in {}: {e}", self.bundle.display()))?;
        let err = output
            .try_clone()
            .map_err(|e| format!("healthcheck output file: {e}"))?;
        let out = output
            .try_clone()
            .map_err(|e| format!("healthcheck output file: {e}"))?;
        let process = self.process_file.to_string_lossy().into_owned();
        let pid_file = self.pid_file.to_string_lossy().into_owned();
        let args = [
            "exec",
            "--process",
            process.as_str(),
            "--pid-file",
            pid_file.as_str(),
            self.id.as_str(),
        ];
        let child = self
            .runtime
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", self.runtime.binary.display()))?;
        // Waited for by the monitor's loop (waitpid on any child), which
        // hands the status to `reaped`; dropping the handle neither waits
        // nor kills.
        Ok((child.id() as i32, output))
    }

    /// Kills the checked command (from the runtime's pid file, when the
    /// runtime has written it and it is still the runtime's child), then
    /// the runtime's `exec` itself, which would otherwise wait on.
    fn kill_probe(&self, runtime_pid: i32) {
        let target = std::fs::read_to_string(&self.pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .filter(|&pid| husk_fs::ProcStat::of(pid).is_some_and(|s| s.ppid == runtime_pid));
        if let Some(pid) = target {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = kill(Pid::from_raw(runtime_pid), Signal::SIGKILL);
    }

    /// The monitor reaped `pid` with docker's exit `code`: if it was the
    /// probe, its result goes into the record. Returns whether it was.
    pub fn reaped(&mut self, paths: &Paths, pid: i32, code: i32) -> bool {
        if self.probe.as_ref().map(|p| p.runtime_pid) != Some(pid) {
            return false;
        }
        let Some(mut p) = self.probe.take() else {
            return false;
        };
        let mut output = read_output(&mut p.output);
        let exit_code = if p.timed_out {
            let limit = go_duration(self.check.timeout());
            output = if output.is_empty() {
                format!("Health check exceeded timeout ({limit})")
            } else {
                format!("Health check exceeded timeout ({limit}): {output}")
            };
            -1
        } else {
            i64::from(code)
        };
        let result = HealthResult {
            start: p.start,
            end: proc::now_rfc3339(),
            exit_code,
            output,
        };
        self.fold(paths, result, p.began);
        true
    }

    /// The monitor reaped `pid` after the container ended: if it was the
    /// probe, it is forgotten unrecorded.
    pub fn discard(&mut self, pid: i32) {
        if self.probe.as_ref().map(|p| p.runtime_pid) == Some(pid) {
            self.probe = None;
        }
    }

    /// Records one result and schedules the next probe.
    fn fold(&mut self, paths: &Paths, result: HealthResult, began: Instant) {
        let in_start_period = began.duration_since(self.started) < self.check.start_period();
        let retries = self.check.retries();
        let mut status = self.status;
        let mut changed = None;
        let recorded = paths.update(&self.id, |r| {
            let h = r.state.health.get_or_insert_with(|| Health::starting(None));
            changed = h.record(result, retries, in_start_period);
            status = h.status;
            Ok(())
        });
        self.status = status;
        match (recorded, changed) {
            // docker's event for each change of status.
            (Ok(Some(c)), Some(s)) => {
                crate::events::container(paths, &c, &format!("health_status: {}", s.as_str()), &[])
            }
            (Err(e), _) => eprintln!(
                "husk monitor {}: record health: {}",
                self.id,
                husk_fs::Chain(&e)
            ),
            _ => {}
        }
        self.next = Instant::now() + self.interval();
    }

    /// The container is gone: a probe still running is killed and
    /// waited for, and the process file removed.
    pub fn stop(mut self) {
        if let Some(p) = self.probe.take() {
            self.kill_probe(p.runtime_pid);
            let _ = waitpid(Pid::from_raw(p.runtime_pid), None);
        }
        let _ = std::fs::remove_file(&self.process_file);
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// The first 4096 bytes, with `...` when there were more (docker's
/// limitedBuffer); invalid UTF-8 replaced, as Go's JSON encoder does.
fn read_output(f: &mut File) -> String {
    let mut buf = Vec::new();
    let _ = f.rewind();
    let _ = f.take(MAX_OUTPUT as u64 + 1).read_to_end(&mut buf);
    let more = buf.len() > MAX_OUTPUT;
    buf.truncate(MAX_OUTPUT);
    let mut s = String::from_utf8_lossy(&buf).into_owned();
    if more {
        s.push_str("...");
    }
    s
}

/// The runtime's `exec --process` file, as docker's probe runs it: the
/// container's own process from the bundle (user, env, cwd, capabilities)
/// with the check's command and no terminal.
fn write_process(
    bundle: &std::path::Path,
    file: &std::path::Path,
    argv: &[String],
) -> std::result::Result<(), String> {
    let config = bundle.join("config.json");
    let data = std::fs::read(&config).map_err(|e| format!("read {}: {e}", config.display()))?;
    let spec: serde_json::Value =
        serde_json::from_slice(&data).map_err(|e| format!("decode {}: {e}", config.display()))?;
    let mut p = spec["process"].clone();
    if !p.is_object() {
        return Err(format!("{} has no process", config.display()));
    }
    p["args"] = serde_json::json!(argv);
    p["terminal"] = serde_json::json!(false);
    if let Some(o) = p.as_object_mut() {
        o.remove("consoleSize");
    }
    husk_fs::write_json_atomic(file, &p).map_err(|e| husk_fs::Chain(&e).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_cut_at_4096_bytes_as_docker_cuts_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, vec![b'x'; 5000]).unwrap();
        let mut f = File::open(&path).unwrap();
        let s = read_output(&mut f);
        assert_eq!(s.len(), MAX_OUTPUT + 3);
        assert!(s.ends_with("x..."));
        std::fs::write(&path, b"ok\n").unwrap();
        let mut f = File::open(&path).unwrap();
        assert_eq!(read_output(&mut f), "ok\n");
    }
}
