//! `husk exec`: a process in a running container, through the runtime's
//! `exec` (foreground, stdio inherited; with `-t` a terminal relayed by
//! [`super::relay`]).

use std::os::fd::AsFd;

use super::runtime::Runtime;
use super::{lifecycle, names, relay, Paths};
use crate::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub detach: bool,
    /// `-i`: the process reads the caller's stdin (otherwise /dev/null).
    pub interactive: bool,
    /// `-t`: the process gets a terminal (the runtime's `--tty`).
    pub tty: bool,
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
    // A detached process's terminal would have no one at the master: like
    // `exec -d -t` in docker, it gets none.
    let tty = o.tty && !o.detach;
    // Short (a unix socket path has 108 bytes) and private to this exec.
    let socket = paths
        .runroot
        .join(format!("exec-{}.sock", &names::new_id()[..16]));
    if tty {
        args.push("--tty".into());
        args.push("--console-socket".into());
        args.push(socket.to_string_lossy().into_owned());
    }
    args.push(c.id.clone());
    args.extend(cmd.iter().cloned());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = rt.command(&argv);
    if !o.interactive || tty {
        command.stdin(std::process::Stdio::null());
    }
    let status = if tty {
        let winch = relay::Winch::block();
        let listener = std::os::unix::net::UnixListener::bind(&socket)
            .map_err(|e| Error::io("listen on", &socket, e))?;
        // The name goes once the relay is done, whatever happened.
        struct Unlink<'a>(&'a std::path::Path);
        impl Drop for Unlink<'_> {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(self.0);
            }
        }
        let _unlink = Unlink(&socket);
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            what: rt.binary.display().to_string(),
            source,
        })?;
        let stdin = std::io::stdin();
        let stdout = std::io::stdout();
        let caller = relay::Caller {
            input: o.interactive.then(|| stdin.as_fd()),
            output: stdout.as_fd(),
        };
        relay::run(&listener, &mut child, &caller, &winch).map_err(|e| Error::Sys {
            op: "relay the exec terminal",
            id: c.id.clone(),
            errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        })?
    } else {
        command.status().map_err(|source| Error::Spawn {
            what: rt.binary.display().to_string(),
            source,
        })?
    };
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
