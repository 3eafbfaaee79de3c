//! The runc command-line contract: every container operation goes through
//! an OCI runtime binary (`husk-runtime`, `runc`, `crun`), as containerd's
//! shim drives it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Error, Result};

pub struct Runtime {
    pub binary: PathBuf,
    /// The runtime's `--root` (its state dir).
    pub root: PathBuf,
    /// `--log` file: runc-compatible runtimes write their errors there as
    /// json lines, which is the only channel that survives stdio being the
    /// container's pipes.
    pub log: Option<PathBuf>,
}

/// `husk-runtime` next to the running `husk` binary.
pub fn default_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| Error::io("locate", "/proc/self/exe", e))?;
    let dir = exe.parent().unwrap_or(Path::new("/"));
    Ok(dir.join("husk-runtime"))
}

impl Runtime {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.binary);
        // The runtime starts as a shim would start it, not with our signal
        // state (see `default_signals`).
        // SAFETY: the closure makes only raw, async-signal-safe syscalls.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut c, super::relay::default_signals)
        };
        c.arg("--root").arg(&self.root);
        if let Some(log) = &self.log {
            c.arg("--log").arg(log).arg("--log-format").arg("json");
        }
        c.args(args);
        c
    }

    /// Runs one verb to completion with captured output; errors carry the
    /// runtime's own message.
    fn run(&self, op: &'static str, id: &str, args: &[&str]) -> Result<String> {
        self.run_with_input(op, id, args, None)
    }

    /// [`Self::run`] with `input` on the runtime's stdin.
    fn run_with_input(
        &self,
        op: &'static str,
        id: &str,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<String> {
        use std::io::Write;
        let spawn_error = |source| Error::Spawn {
            what: self.binary.display().to_string(),
            source,
        };
        let mut child = self
            .command(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        if let (Some(mut stdin), Some(data)) = (child.stdin.take(), input) {
            // A runtime that fails before reading says why on stderr.
            let _ = stdin.write_all(data);
        }
        let out = child.wait_with_output().map_err(spawn_error)?;
        if !out.status.success() {
            return Err(Error::Runtime {
                op,
                id: id.to_string(),
                msg: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn start(&self, id: &str) -> Result<()> {
        self.run("start", id, &["start", id]).map(drop)
    }

    pub fn kill(&self, id: &str, signal: &str) -> Result<()> {
        self.run("kill", id, &["kill", id, signal]).map(drop)
    }

    pub fn pause(&self, id: &str) -> Result<()> {
        self.run("pause", id, &["pause", id]).map(drop)
    }

    pub fn resume(&self, id: &str) -> Result<()> {
        self.run("resume", id, &["resume", id]).map(drop)
    }

    pub fn delete_force(&self, id: &str) -> Result<()> {
        self.run("delete", id, &["delete", "--force", id]).map(drop)
    }

    /// `delete --force` started, not waited for: the caller does its own
    /// cleanup meanwhile and collects the result with [`Deleting::wait`].
    pub fn start_delete_force(&self, id: &str) -> Result<Deleting> {
        let child = self
            .command(&["delete", "--force", id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::Spawn {
                what: self.binary.display().to_string(),
                source,
            })?;
        Ok(Deleting {
            child,
            id: id.to_string(),
        })
    }

    /// `update --resources - ID`: new limits for the live cgroups, the
    /// OCI `LinuxResources` JSON on stdin (runc's contract).
    pub fn update(&self, id: &str, resources: &serde_json::Value) -> Result<()> {
        let json = resources.to_string();
        self.run_with_input(
            "update",
            id,
            &["update", "--resources", "-", id],
            Some(json.as_bytes()),
        )
        .map(drop)
    }

    /// `state ID` as JSON; `None` when the runtime does not know the id.
    pub fn state(&self, id: &str) -> Option<serde_json::Value> {
        let out = self.run("state", id, &["state", id]).ok()?;
        serde_json::from_str(&out).ok()
    }

    /// The last error message the runtime logged to `--log`.
    pub fn last_error(&self) -> Option<String> {
        let data = std::fs::read_to_string(self.log.as_ref()?).ok()?;
        data.lines().rev().find_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            (v["level"] == "error").then(|| v["msg"].as_str().unwrap_or_default().to_string())
        })
    }
}

/// A runtime `delete` running in the background.
pub struct Deleting {
    child: std::process::Child,
    id: String,
}

impl Deleting {
    pub fn wait(self) -> Result<()> {
        let id = self.id;
        let out = self
            .child
            .wait_with_output()
            .map_err(|source| Error::Spawn {
                what: "runtime delete".into(),
                source,
            })?;
        if out.status.success() {
            return Ok(());
        }
        Err(Error::Runtime {
            op: "delete",
            id,
            msg: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Why a container did not start, with docker's exit status for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartFailure {
    pub code: i32,
    pub message: String,
}

impl StartFailure {
    /// The engine's own failure (mount, network, spec, pipes): 125.
    pub fn engine(e: impl std::fmt::Display) -> StartFailure {
        StartFailure {
            code: 125,
            message: e.to_string(),
        }
    }

    /// The runtime's: it reports over runc's command line, where only its
    /// message crosses the process boundary, so the code is read from the
    /// message as docker reads runc's (see [`start_failure_code`]).
    pub fn runtime(message: String) -> StartFailure {
        StartFailure {
            code: start_failure_code(&message),
            message,
        }
    }
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// docker's exit status for a process the runtime could not start: 127
/// when the command is missing, 126 when it cannot be executed, 125
/// otherwise.
pub fn start_failure_code(msg: &str) -> i32 {
    let m = msg.to_ascii_lowercase();
    if m.contains("executable file not found")
        || m.contains("no such file or directory")
        || m.contains("not found in $path")
    {
        127
    } else if m.contains("permission denied") || m.contains("exec format error") {
        126
    } else {
        125
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_failures_map_to_docker_codes() {
        assert_eq!(
            start_failure_code("exec: \"nope\": executable file not found in $PATH"),
            127
        );
        assert_eq!(
            start_failure_code("exec /etc/passwd: permission denied"),
            126
        );
        assert_eq!(start_failure_code("cgroup: EBUSY"), 125);
    }

    #[test]
    fn the_engines_own_failures_are_125_whatever_they_say() {
        // An overlay mount or a bind source the engine could not find is
        // not a missing command: docker answers 125 for its own failures.
        let e = StartFailure::engine("mount overlay: No such file or directory (os error 2)");
        assert_eq!(e.code, 125);
        let r = StartFailure::runtime("exec: \"nope\": executable file not found in $PATH".into());
        assert_eq!(r.code, 127);
    }
}
