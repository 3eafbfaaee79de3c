//! `husk exec`: a process in a running container, through the runtime's
//! `exec` (foreground, stdio inherited).

use super::runtime::Runtime;
use super::{lifecycle, Paths};
use crate::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub detach: bool,
    /// `-i`: the process reads the caller's stdin (otherwise /dev/null).
    pub interactive: bool,
}

/// Runs `cmd` in the container; returns its exit code.
pub fn exec(paths: &Paths, name: &str, cmd: &[String], o: &ExecOptions) -> Result<i32> {
    let c = lifecycle::reconcile(paths, &paths.resolve(name)?)?;
    if !c.is_running() {
        return Err(Error::Conflict {
            id: c.id,
            reason: "is not running".into(),
        });
    }
    let rt = Runtime {
        binary: c.host_config.runtime.clone().into(),
        root: paths.runtime_root(),
        log: None,
    };
    let mut args: Vec<String> = vec!["exec".into()];
    for e in &o.env {
        args.push("--env".into());
        args.push(e.clone());
    }
    if let Some(w) = &o.workdir {
        args.push("--cwd".into());
        args.push(w.clone());
    }
    if let Some(u) = &o.user {
        // The runtime takes numeric UID[:GID] only.
        args.push("--user".into());
        args.push(u.clone());
    }
    if o.detach {
        args.push("--detach".into());
    }
    args.push(c.id.clone());
    args.extend(cmd.iter().cloned());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = rt.command(&argv);
    if !o.interactive {
        command.stdin(std::process::Stdio::null());
    }
    let status = command.status().map_err(|source| Error::Spawn {
        what: rt.binary.display().to_string(),
        source,
    })?;
    Ok(
        match (
            status.code(),
            std::os::unix::process::ExitStatusExt::signal(&status),
        ) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            _ => 125,
        },
    )
}
