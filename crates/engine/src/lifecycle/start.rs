//! `husk start`: re-exec `husk` as the container's monitor and wait for
//! its first report.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Child;

use super::reconcile;
use crate::monitor;
use crate::proc;
use crate::store::Paths;
use crate::{Error, Result};

/// A started container: the monitor child and its report pipe.
pub struct Started {
    pub pid: i32,
    /// Size of the log before this start: where a foreground `run` reads from.
    pub log_offset: u64,
    pub monitor: Child,
    pub reports: BufReader<File>,
    /// The log as it was before the start, held (see
    /// [`logfile::hold`](crate::monitor::logfile::hold)) from before
    /// the monitor runs, so a foreground `run` misses none of its output.
    pub log: Option<File>,
}

/// What the monitor reports after `started`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The container exited with this code.
    Exited(i32),
    /// The detach keys were typed: the container runs on unattached.
    Detached,
    /// The monitor died without saying.
    Lost,
}

impl Started {
    /// Blocks until the monitor reports the exit code (foreground `run`).
    /// `None` when the monitor died without saying.
    pub fn exit_code(&mut self) -> Option<i32> {
        loop {
            match self.next_report() {
                Report::Exited(c) => return Some(c),
                Report::Lost => return None,
                Report::Detached => {}
            }
        }
    }

    /// Blocks for the monitor's next report.
    pub fn next_report(&mut self) -> Report {
        let mut line = String::new();
        loop {
            line.clear();
            match self.reports.read_line(&mut line) {
                Ok(0) | Err(_) => return Report::Lost,
                Ok(_) => {
                    let l = line.trim();
                    if let Some(code) = l.strip_prefix("exited ") {
                        return code.parse().map_or(Report::Lost, Report::Exited);
                    }
                    if l == "detached" {
                        return Report::Detached;
                    }
                }
            }
        }
    }
}

/// Starts the monitor (`exe` re-exec'd with `__monitor ID`) and waits for
/// it to report the container started or failed.
///
/// With `stdin`, that descriptor becomes the container's input (`run -i`):
/// it is handed to the monitor, which hands it to the runtime's `create`
/// as the init's stdin, or with `-t` copies it into the terminal.
pub fn start(
    paths: &Paths,
    id: &str,
    exe: &Path,
    stdin: Option<std::os::fd::BorrowedFd<'_>>,
) -> Result<Started> {
    start_attached(paths, id, exe, stdin, None)
}

/// [`start`] for an attached terminal: `detach_keys` (docker's
/// `--detach-keys`, checked here) replaces ctrl-p,ctrl-q in the monitor.
pub fn start_attached(
    paths: &Paths,
    id: &str,
    exe: &Path,
    stdin: Option<std::os::fd::BorrowedFd<'_>>,
    detach_keys: Option<&str>,
) -> Result<Started> {
    if let Some(k) = detach_keys {
        crate::monitor::detach::parse(k)?;
    }
    let c = reconcile(paths, &paths.resolve(id)?)?;
    // What a crash left (an address, a port) must not make this start fail.
    if let Err(e) = crate::network::gc(paths) {
        eprintln!("husk: {}", husk_fs::Chain(&e));
    }
    if c.is_running() {
        return Err(Error::Conflict {
            id: c.id,
            reason: "is already running".into(),
        });
    }
    let sys = |op: &'static str| {
        let id = c.id.clone();
        move |errno| Error::Sys { op, id, errno }
    };
    let (r, w): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(sys("pipe2"))?;
    // Copies at fd >= 10 (close-on-exec), so the child's dup2 onto 3 and 4
    // can never overwrite one source with the other.
    let high = |fd: std::os::fd::BorrowedFd<'_>| -> Result<OwnedFd> {
        let n = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))
            .map_err(sys("dup"))?;
        // SAFETY: fcntl just returned this new descriptor; we own it.
        Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(n) })
    };
    // Only the copy goes on to the monitor. The original is closed at
    // once: while this process holds a write end, the pipe never reads
    // EOF, and a monitor that dies before reporting would hang us forever.
    let w = {
        let original = w;
        high(std::os::fd::AsFd::as_fd(&original))?
    };
    let input = stdin.map(high).transpose()?;
    let log = paths.log(&c.id);
    let log_file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|_| File::open(&log))
        .map_err(|e| Error::io("open", &log, e))?;
    crate::monitor::logfile::hold(&log_file);
    let log_offset = log_file
        .metadata()
        .map_err(|e| Error::io("stat", &log, e))?
        .len();
    let mlog = paths.dir(&c.id).join("monitor.log");
    let mut cmd = super::restartable::monitor_command(paths, exe, &c.id, &[])?;
    if input.is_some() {
        cmd.arg("--stdin");
    }
    if let Some(k) = detach_keys {
        cmd.arg(format!("--detach-keys={k}"));
    }
    let wfd = w.as_raw_fd();
    let infd = input.as_ref().map(|f| f.as_raw_fd());
    // SAFETY: between fork and exec we only call dup2, which is
    // async-signal-safe; both sources stay open in the parent until spawn
    // returns. dup2 clears close-on-exec on the copies at 3 and 4.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(wfd, monitor::SYNC_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(fd) = infd {
                if libc::dup2(fd, monitor::STDIN_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        what: format!("monitor {}", exe.display()),
        source,
    })?;
    let monitor_pid = child.id() as i32;
    // Read now, while the child cannot have been reaped: with its pid it
    // names this monitor and no later process.
    let monitor_start = proc::start_time(monitor_pid).unwrap_or(0);
    drop(w);
    drop(input);
    let mut reports = BufReader::new(File::from(r));
    let mut line = String::new();
    let _ = reports.read_line(&mut line);
    let line = line.trim_end();
    if let Some(pid) = line.strip_prefix("started ") {
        return Ok(Started {
            pid: pid.parse().unwrap_or(0),
            log_offset,
            monitor: child,
            reports,
            log: Some(log_file),
        });
    }
    let status = child.wait();
    let (code, msg) = match line.strip_prefix("failed ") {
        Some(rest) => {
            let (code, msg) = rest.split_once(' ').unwrap_or((rest, ""));
            (code.parse().unwrap_or(125), msg.to_string())
        }
        None => {
            // It died without a word (killed, crashed) and so without
            // undoing what it had set up: undone here, at once, so no
            // half-started container stays behind.
            let how = match status {
                Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (_, Some(sig)) => format!("was killed by signal {sig}"),
                    (Some(c), _) => format!("exited with code {c}"),
                    _ => "died".into(),
                },
                Err(_) => "died".into(),
            };
            let undone = match reconcile::abandoned(paths, &c.id, (monitor_pid, monitor_start)) {
                Ok(true) => "what it had set up is undone and the container removed (--rm)".into(),
                Ok(false) => format!(
                    "what it had set up is undone (its messages, if any: {})",
                    mlog.display()
                ),
                Err(e) => format!("undoing what it had set up failed: {}", husk_fs::Chain(&e)),
            };
            (
                125,
                format!("the container's monitor {how} before the container started; {undone}"),
            )
        }
    };
    Err(Error::Start {
        id: c.id,
        msg,
        code,
    })
}
