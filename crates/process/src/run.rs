use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::Context;
use crate::{CreateOptions, Result, Runtime};

/// Signals a foreground `run` passes on to the container, as runc does.
const FORWARDED: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

impl Runtime {
    /// `run`: create + start, then (unless detached) wait, forwarding
    /// signals, delete, and return the exit code (128+N if killed by N).
    pub fn run(&self, id: &str, opts: &CreateOptions, detach: bool) -> Result<i32> {
        // Before the id names anything (the console socket below).
        husk_state::validate_id(id)?;
        let mut mask = forwarded_set();
        let (_, spec) = husk_spec::load_bundle(&opts.bundle)?;
        let terminal = spec.process().as_ref().and_then(|p| p.terminal()) == Some(true);
        if terminal && opts.console_socket.is_none() && !detach {
            mask.add(Signal::SIGWINCH);
            return self.run_with_tty(id, opts, &mask);
        }
        let pid = self.create(id, opts)?;
        if let Err(e) = self.start(id) {
            let _ = self.delete(id, true);
            return Err(e);
        }
        if detach {
            return Ok(0);
        }
        let code = wait_forwarding(pid, &mask)?;
        self.delete(id, true)?;
        Ok(code)
    }
}

impl Runtime {
    /// `run` of a terminal container with no console socket: we are the
    /// console socket's listener, and relay the pty to our own terminal.
    fn run_with_tty(&self, id: &str, opts: &CreateOptions, mask: &SigSet) -> Result<i32> {
        // Named after us, not the id: a unix socket path has at most 108
        // bytes, less than an id may have; through /proc/self/fd, as the
        // root's own path may be long too. No id has an `@`.
        let name = format!("@console-{}.sock", std::process::id());
        let root = husk_fs::open_dir_path(self.store.root())?;
        let sock = husk_fs::short_path_in(&root, &name);
        let _ = std::fs::remove_file(&sock);
        let listener = std::os::unix::net::UnixListener::bind(&sock)
            .ctx("listen on", self.store.root().join(&name))?;
        let mut o = opts.clone();
        o.console_socket = Some(sock.clone());
        let created = self.create(id, &o);
        let _ = std::fs::remove_file(&sock);
        let pid = created?;
        let master = match crate::tty::receive_master(&listener) {
            Ok(m) => m,
            Err(e) => {
                let _ = self.delete(id, true);
                return Err(e);
            }
        };
        if let Err(e) = self.start(id) {
            let _ = self.delete(id, true);
            return Err(e);
        }
        let code = crate::tty::relay(&master, pid, mask)?;
        self.delete(id, true)?;
        Ok(code)
    }
}

pub(crate) fn forwarded_set() -> SigSet {
    let mut mask = SigSet::empty();
    for s in FORWARDED {
        mask.add(s);
    }
    mask.add(Signal::SIGCHLD);
    mask
}

/// Waits for our child `pid`, passing on the signals we receive, and
/// returns its exit code (128+N when killed by signal N).
pub(crate) fn wait_forwarding(pid: i32, mask: &SigSet) -> Result<i32> {
    mask.thread_block().ctx("block signals", "run")?;
    let sfd = SignalFd::new(mask).ctx("signalfd", "run")?;
    let code = loop {
        match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, c)) => break c,
            Ok(WaitStatus::Signaled(_, s, _)) => break 128 + s as i32,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                return Err(crate::Error::sys(
                    "wait for",
                    format!("pid {pid}"),
                    e.into(),
                ))
            }
        }
        match sfd.read_signal() {
            Ok(Some(info)) => {
                if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                    if sig != Signal::SIGCHLD {
                        let _ = kill(Pid::from_raw(pid), sig);
                    }
                }
            }
            Ok(None) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(crate::Error::sys("read", "signalfd", e.into())),
        }
    };
    mask.thread_unblock().ctx("unblock signals", "wait")?;
    Ok(code)
}
