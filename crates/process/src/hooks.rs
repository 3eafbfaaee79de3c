//! OCI hooks: programs the runtime runs at fixed points of the lifecycle,
//! each given the container's state JSON on stdin. Create-time hooks that
//! fail abort the operation; poststart and poststop failures are warnings
//! (the spec's rule).

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::Hook;

use crate::{Error, Result};

/// Runs `hooks` (the spec's `hooks.<kind>` list) in order; the first
/// failure is returned, naming the hook.
pub fn run(kind: &str, hooks: &[Hook], state: &str) -> Result<()> {
    for (i, h) in hooks.iter().enumerate() {
        run_one(h, state).map_err(|why| {
            Error::Hook(format!("hooks.{kind}[{i}] {}: {why}", h.path().display()))
        })?;
    }
    Ok(())
}

/// As [`run`], but every hook runs: a failure is a warning and the next
/// hook runs anyway (the runtime spec's rule for poststart and poststop).
pub fn run_warn(kind: &str, hooks: &[Hook], state: &str) {
    for (i, h) in hooks.iter().enumerate() {
        if let Err(why) = run_one(h, state) {
            eprintln!(
                "husk-runtime: warning: hooks.{kind}[{i}] {}: {why}",
                h.path().display()
            );
        }
    }
}

fn run_one(h: &Hook, state: &str) -> std::result::Result<(), String> {
    let args = h.args().as_deref().unwrap_or(&[]);
    let mut cmd = Command::new(h.path());
    if let Some((argv0, rest)) = args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    // A hook with `env` gets exactly that; one without inherits the
    // runtime's environment, as runc's (Go's exec with a nil Env) does.
    if let Some(env) = h.env() {
        cmd.env_clear();
        for kv in env {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin must not block us.
        let _ = stdin.write_all(state.as_bytes());
    }
    let timeout = h
        .timeout()
        .filter(|t| *t > 0)
        .map(|t| Duration::from_secs(t as u64));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if timeout.is_some_and(|t| start.elapsed() > t) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {}s", h.timeout().unwrap_or(0)));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    if status.success() {
        return Ok(());
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let last = err.lines().last().unwrap_or("").trim();
    Err(if last.is_empty() {
        status.to_string()
    } else {
        format!("{status}: {last}")
    })
}

/// The state JSON hooks read: the OCI state of the container.
pub fn state_json(state: &husk_state::ContainerState, status: husk_state::Status) -> String {
    state.oci_json(status).to_string()
}
