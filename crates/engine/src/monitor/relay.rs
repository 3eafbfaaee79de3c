//! `husk exec -t`: the runtime's `exec --detach --tty --console-socket`
//! sends the new terminal's master here; husk copies the caller's input
//! into it and its output to the caller, and follows the caller's window
//! size, until the process exits. The runtime exits once the process runs,
//! and husk, a child subreaper, inherits it and collects its status.
//!
//! Single-threaded like the rest of the CLI: one poll over the input, the
//! master, SIGWINCH and the listening socket.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::process::Child;
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::{receive_master, set_nonblocking};

/// The caller's side of an exec terminal.
pub struct Caller<'a> {
    /// Keystrokes (`-i`); None leaves the process without input.
    pub input: Option<BorrowedFd<'a>>,
    pub output: BorrowedFd<'a>,
}

/// SIGWINCH blocked for the relay's life, delivered on a signalfd.
pub struct Winch {
    set: SigSet,
    fd: Option<SignalFd>,
}

impl Winch {
    /// Block before spawning the runtime, so no resize is missed. std's
    /// spawn passes the mask on: the runtime gets an empty one from
    /// [`default_signals`] (see `Runtime::command`).
    pub fn block() -> Winch {
        let mut set = SigSet::empty();
        set.add(Signal::SIGWINCH);
        let fd = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .ok()
            .and_then(|_| {
                SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).ok()
            });
        Winch { set, fd }
    }
}

impl Drop for Winch {
    fn drop(&mut self) {
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&self.set), None);
    }
}

/// In a child between fork and exec: every signal at its default
/// disposition and none blocked, the state a shim starts a runtime in.
/// std's spawn passes on the mask (SIGWINCH, blocked for the relay and the
/// monitor) and glibc's posix_spawn leaves 32 and 33 ignored; runc and crun
/// hand all of it to the container.
pub use husk_fs::reset_signals as default_signals;

fn window_size(from: RawFd, to: RawFd) {
    // SAFETY: winsize is plain data the kernel fills or reads; both
    // descriptors are open for the duration of the calls.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to, libc::TIOCSWINSZ, &ws);
        }
    }
}

fn poll(fds: &mut [libc::pollfd], ms: i32) -> i32 {
    // SAFETY: fds is a valid array of pollfd of the given length.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// Waits for the runtime to send the master: None if it exited first
/// (its error is on the caller's stderr already).
fn accept_master(l: &UnixListener, child: &mut Child) -> std::io::Result<Option<File>> {
    loop {
        let mut fds = [pollfd(l.as_raw_fd())];
        if poll(&mut fds, 100) > 0 {
            return receive_master(l).map(Some);
        }
        if child.try_wait()?.is_some() {
            return Ok(None);
        }
    }
}

/// The shell's code for a wait status: the exit code, or 128+signal.
fn code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(125)
}

/// The process's exit code once it has exited (it is our child: the
/// runtime exited and we are a subreaper).
fn exited(pid: i32) -> Option<i32> {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    match waitpid(nix::unistd::Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(_, c)) => Some(c),
        Ok(WaitStatus::Signaled(_, s, _)) => Some(128 + s as i32),
        Ok(_) => None,
        // Not (or no longer) ours to wait for: nothing more to learn.
        Err(_) => Some(125),
    }
}

/// Relays until the exec'd process exits; returns its exit code. `child`
/// is the runtime's detached `exec`, which sends the master, writes the
/// process's pid to `pid_file` and exits.
pub fn run(
    listener: &UnixListener,
    child: &mut Child,
    pid_file: &std::path::Path,
    caller: &Caller<'_>,
    winch: &Winch,
) -> std::io::Result<i32> {
    let Some(mut master) = accept_master(listener, child)? else {
        // The runtime failed before sending a terminal: its error is on
        // the caller's stderr.
        return child.wait().map(code_of);
    };
    let status = child.wait()?;
    if !status.success() {
        return Ok(code_of(status));
    }
    let pid: i32 = std::fs::read_to_string(pid_file)?
        .trim()
        .parse()
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad pid file"))?;
    // The caller's window: docker sizes an exec terminal from its output.
    let sized_from = |c: &Caller<'_>| {
        let out = c.output.as_raw_fd();
        // SAFETY: isatty on an open descriptor.
        if unsafe { libc::isatty(out) } == 1 {
            out
        } else {
            c.input.map_or(out, |i| i.as_raw_fd())
        }
    };
    window_size(sized_from(caller), master.as_raw_fd());
    set_nonblocking(&master)?;
    let mut input = caller.input;
    let mut buf = vec![0u8; 32 * 1024];
    let mut done: Option<(i32, Instant)> = None;
    let mut master_open = true;
    loop {
        // A closed master polls as always ready: -1 makes poll skip it.
        let mut fds = vec![pollfd(if master_open { master.as_raw_fd() } else { -1 })];
        let winch_at = fds.len();
        if let Some(w) = &winch.fd {
            fds.push(pollfd(w.as_raw_fd()));
        }
        let input_at = fds.len();
        if let (Some(i), None) = (input, &done) {
            fds.push(pollfd(i.as_raw_fd()));
        }
        let n = poll(&mut fds, if done.is_some() { 20 } else { 100 });
        if n < 0 && nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return Err(std::io::Error::last_os_error());
        }
        if winch.fd.is_some() && fds[winch_at].revents != 0 {
            if let Some(w) = &winch.fd {
                while let Ok(Some(_)) = w.read_signal() {}
            }
            window_size(sized_from(caller), master.as_raw_fd());
        }
        if fds.len() > input_at && fds[input_at].revents != 0 {
            if let Some(i) = input {
                if !copy_input(i, &mut master, &mut buf) {
                    // EOF (or a dead input): the process gets no more.
                    input = None;
                }
            }
        }
        let mut drained = true;
        if fds[0].revents != 0 {
            match master.read(&mut buf) {
                Ok(0) => {}
                Ok(n) => {
                    drained = false;
                    write_all_fd(caller.output, &buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => drained = false,
                // EIO: every slave descriptor is closed, the output is complete.
                Err(_) => {
                    if done.is_some() {
                        break;
                    }
                    master_open = false;
                }
            }
        }
        match done {
            None => {
                if let Some(code) = exited(pid) {
                    done = Some((code, Instant::now()));
                }
            }
            // The process has exited: show what it wrote last, but a
            // background child still holding the terminal must not keep
            // us here.
            Some((_, at)) => {
                if drained || !master_open || at.elapsed() > Duration::from_secs(1) {
                    break;
                }
            }
        }
    }
    // Whatever else the runtime left for us to adopt.
    while let Ok(
        nix::sys::wait::WaitStatus::Exited(..) | nix::sys::wait::WaitStatus::Signaled(..),
    ) = nix::sys::wait::waitpid(None, Some(nix::sys::wait::WaitPidFlag::WNOHANG))
    {}
    Ok(done.map_or(125, |(code, _)| code))
}

fn write_all_fd(fd: BorrowedFd<'_>, mut data: &[u8]) {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(nix::errno::Errno::EAGAIN) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return,
        }
    }
}

/// One read of the caller's input into the master; false at EOF.
fn copy_input(input: BorrowedFd<'_>, master: &mut File, buf: &mut [u8]) -> bool {
    match nix::unistd::read(input.as_raw_fd(), buf) {
        Ok(0) => {
            // A pipe or file ended: the terminal's EOF character tells a
            // reading shell the same (docker closes the stream).
            let _ = master.write_all(&[4]);
            false
        }
        Ok(n) => {
            let mut data = &buf[..n];
            while !data.is_empty() {
                match master.write(data) {
                    Ok(w) => data = &data[w..],
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return false,
                }
            }
            true
        }
        Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => true,
        Err(_) => false,
    }
}
