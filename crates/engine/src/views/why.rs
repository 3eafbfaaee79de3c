//! `husk why CONTAINER`: why it stopped or never started, in one answer,
//! from what the record kept (the exit code, the runtime's error text,
//! the memory cgroup's figures the monitor read before teardown, the kills
//! the engine sent) and from the host where the cause still stands (a
//! port someone listens on, a bind source that is gone).

use std::path::Path;

use serde::Serialize;

use super::{procfs, which};
use crate::lifecycle::reconcile;
use crate::store::exit::EngineKill;
use crate::store::{Container, Paths, Status};
use crate::Result;

#[derive(Debug, Clone, Serialize)]
pub struct Why {
    pub name: String,
    pub id: String,
    pub status: String,
    pub exit_code: i32,
    /// running, oom-killed, killed, seccomp, exited, not-found,
    /// not-executable, port-taken, mount-source, start-failed, created.
    pub reason: &'static str,
    /// The answer, one line.
    pub answer: String,
    /// What it rests on, a line each.
    pub details: Vec<String>,
}

pub fn why(paths: &Paths, name: &str) -> Result<Why> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    let (reason, answer, details) = explain(paths, &c);
    Ok(Why {
        name: c.name.clone(),
        id: c.id.clone(),
        status: c.state.status.as_str().to_string(),
        exit_code: c.state.exit_code,
        reason,
        answer,
        details,
    })
}

fn explain(paths: &Paths, c: &Container) -> (&'static str, String, Vec<String>) {
    let s = &c.state;
    match s.status {
        Status::Running | Status::Paused | Status::Restarting => {
            return (
                "running",
                format!(
                    "{} is {} (host PID {}, started {}): nothing stopped it",
                    c.name,
                    s.status.as_str(),
                    s.pid,
                    s.started_at
                ),
                vec!["husk x-ray shows it as the kernel sees it".into()],
            )
        }
        _ => {}
    }
    if !s.error.is_empty() {
        return start_failure(paths, c);
    }
    if s.status == Status::Created {
        return (
            "created",
            format!("{} was created but never started", c.name),
            vec![format!("start it: husk start {}", c.name)],
        );
    }
    let mut details = vec![format!("finished at {}", s.finished_at)];
    let mem = s.end.memory.as_ref();
    if let Some(m) = mem {
        details.push(format!(
            "memory: limit {}, peak {}, limit hit {} times, OOM kills {}",
            m.limit.map(mib).unwrap_or_else(|| "none".into()),
            m.peak.map(mib).unwrap_or_else(|| "unknown".into()),
            m.failcnt,
            m.oom_kills
        ));
    }
    if s.oom_killed || mem.is_some_and(|m| m.oom_kills > 0) {
        let limit = mem
            .and_then(|m| m.limit)
            .or((c.host_config.memory > 0).then_some(c.host_config.memory as u64));
        let peak = mem.and_then(|m| m.peak);
        details.push(format!(
            "run it with a larger -m (now {})",
            limit.map(mib).unwrap_or_else(|| "none".into())
        ));
        return (
            "oom-killed",
            format!(
                "OOM-killed: the kernel's OOM killer ended it at its memory limit of {} (peak usage {}), exit code {}",
                limit.map(mib).unwrap_or_else(|| "none".into()),
                peak.map(mib).unwrap_or_else(|| "unknown".into()),
                s.exit_code
            ),
            details,
        );
    }
    let code = s.exit_code;
    if (129..=128 + 64).contains(&code) {
        let sig = code - 128;
        if sig == libc::SIGSYS {
            details.push("the seccomp profile killed it for a system call it does not allow: run with --security-opt seccomp=unconfined to confirm, then allow the call in a profile".into());
            return (
                "seccomp",
                format!("a seccomp denial: killed by SIGSYS (exit code {code})"),
                details,
            );
        }
        let by = match &s.end.kill {
            Some(k) if k.signal == sig => sender(k),
            _ => "not by husk: by a process on the host or in the container, or the kernel".into(),
        };
        return (
            "killed",
            format!(
                "killed by {} (exit code {code}), sent {by}",
                signal_name(sig)
            ),
            details,
        );
    }
    if let Some(k) = &s.end.kill {
        details.push(format!(
            "{} sent {} at {}, and it exited by itself",
            k.by,
            signal_name(k.signal),
            k.at
        ));
    }
    let answer = match code {
        0 => format!(
            "{} exited normally (exit code 0): its command finished",
            c.name
        ),
        126 => format!("exited with code 126: {} could not be executed", c.path),
        127 => format!(
            "exited with code 127: a command was not found (the shell's or {}'s own)",
            c.path
        ),
        _ => format!(
            "exited with code {code}: the command's own status ({} {})",
            c.path,
            c.args.join(" ")
        ),
    };
    details.push(format!("its output: husk logs {}", c.name));
    ("exited", answer, details)
}

/// A start the engine or the runtime refused: the record's error says which.
fn start_failure(paths: &Paths, c: &Container) -> (&'static str, String, Vec<String>) {
    let err = &c.state.error;
    let mut details = vec![format!("the start failed: {err}")];
    let missing: Vec<&str> = c
        .host_config
        .mount_points
        .iter()
        .map(|m| m.source.as_str())
        .filter(|s| !s.is_empty() && !Path::new(s).exists())
        .collect();
    // The source the error names first: a runtime's ENOENT for it reads
    // like a missing command's.
    let named = missing
        .iter()
        .find(|m| err.contains(**m))
        .or(missing.first());
    if let Some(src) = named {
        details.push("create the directory or file, or drop the -v/--mount".into());
        return (
            "mount-source",
            format!("mount source {src} does not exist on the host"),
            details,
        );
    }
    if err.contains("executable file not found")
        || (c.state.exit_code == 127 && err.contains(c.path.as_str()))
    {
        let path = c
            .config
            .env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        let looked = if c.path.contains('/') {
            format!("{} in the container's root filesystem", c.path)
        } else {
            format!("{} in each directory of PATH={path}", c.path)
        };
        return (
            "not-found",
            format!(
                "exit code 127: command {:?} not found: looked for {looked}",
                c.path
            ),
            details,
        );
    }
    if c.state.exit_code == 126 {
        return (
            "not-executable",
            format!(
                "exit code 126: {:?} exists but cannot be executed (no execute permission, not a regular file, or not a binary for this machine)",
                c.path
            ),
            details,
        );
    }
    if err.contains("already published by container") {
        return (
            "port-taken",
            format!("a host port was taken: {}", after_last(err, "port ")),
            details,
        );
    }
    if let Some(port) = unavailable_port(err) {
        let holder = procfs::tcp_listener(port)
            .map(procfs::socket_holders)
            .unwrap_or_default()
            .into_iter()
            .map(|pid| match which::which(paths, pid) {
                Ok(o) => format!("container {} (host PID {pid})", o.container.name),
                Err(_) => format!("host PID {pid} ({})", procfs::cmdline(pid)),
            })
            .collect::<Vec<_>>();
        let by = if holder.is_empty() {
            "by a process this host's /proc no longer shows".to_string()
        } else {
            format!("by {}", holder.join(", "))
        };
        return (
            "port-taken",
            format!("host port {port} was taken {by}"),
            details,
        );
    }
    (
        "start-failed",
        format!("the start failed (exit code {})", c.state.exit_code),
        details,
    )
}

/// `host port 0.0.0.0:8080/tcp is not available: ...` → 8080.
fn unavailable_port(err: &str) -> Option<u16> {
    let rest = &err[err.find("host port ")? + "host port ".len()..];
    let addr = rest.split(['/', ' ']).next()?;
    if !err.contains("is not available") {
        return None;
    }
    addr.rsplit_once(':')?.1.parse().ok()
}

fn after_last<'a>(s: &'a str, key: &str) -> &'a str {
    s.rfind(key).map(|i| &s[i..]).unwrap_or(s)
}

fn sender(k: &EngineKill) -> String {
    match k.after_timeout {
        Some(t) => format!(
            "by `{}` at {}, after the stop signal went unheeded for its {t}s timeout",
            k.by, k.at
        ),
        None => format!("by `{}` at {}", k.by, k.at),
    }
}

/// `SIGKILL`, `SIGRTMIN+3`.
pub fn signal_name(n: i32) -> String {
    match nix::sys::signal::Signal::try_from(n) {
        Ok(s) => s.as_str().to_string(),
        Err(_) if n >= libc::SIGRTMIN() => format!("SIGRTMIN+{}", n - libc::SIGRTMIN()),
        Err(_) => format!("signal {n}"),
    }
}

/// Bytes in docker's binary units (`8MiB`, `7.9MiB`).
pub fn mib(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    let (v, unit) = if b >= K * K * K {
        (b / (K * K * K), "GiB")
    } else if b >= K * K {
        (b / (K * K), "MiB")
    } else if b >= K {
        (b / K, "KiB")
    } else {
        (b, "B")
    };
    let s = format!("{v:.1}");
    format!("{}{unit}", s.strip_suffix(".0").unwrap_or(&s))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_port_comes_out_of_the_error() {
        assert_eq!(
            super::unavailable_port(
                "host port 0.0.0.0:8080/tcp is not available: Address in use (os error 98)"
            ),
            Some(8080)
        );
        assert_eq!(super::unavailable_port("no port here"), None);
    }

    #[test]
    fn sizes_and_signals_read_as_docker_writes_them() {
        assert_eq!(super::mib(8 * 1024 * 1024), "8MiB");
        assert_eq!(super::mib(8_300_000), "7.9MiB");
        assert_eq!(super::signal_name(9), "SIGKILL");
        assert_eq!(super::signal_name(libc::SIGRTMIN() + 3), "SIGRTMIN+3");
    }
}
