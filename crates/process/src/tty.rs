//! A foreground `run` of a terminal container without `--console-socket`
//! (as `runc run` does): receive the pty master ourselves and relay it to
//! our own stdin/stdout, with the host terminal in raw mode meanwhile.

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use nix::sys::termios::{self, SetArg, Termios};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::Context;
use crate::{Error, Result};

/// Accepts the init's connection on `listener` and takes the pty master
/// it sent with SCM_RIGHTS.
pub fn receive_master(listener: &UnixListener) -> Result<OwnedFd> {
    let (conn, _) = listener.accept().ctx("accept", "console socket")?;
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .ctx("receive pty master from", "console socket")?;
    for c in msg.cmsgs().ctx("read", "console socket")? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(fd) = fds.first() {
                // SAFETY: the kernel just installed this fd for us.
                return Ok(unsafe { OwnedFd::from_raw_fd(*fd) });
            }
        }
    }
    Err(Error::Init("the container sent no pty master".into()))
}

/// Restores the host terminal when dropped, whatever happens.
struct RawMode {
    saved: Option<Termios>,
}

impl RawMode {
    fn enter() -> RawMode {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok();
        if let Some(t) = &saved {
            let mut raw = t.clone();
            termios::cfmakeraw(&mut raw);
            let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
        }
        RawMode { saved }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, t);
        }
    }
}

fn copy_winsize(master: RawFd) {
    let mut ws: libc::winsize = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read and write a winsize we own.
    unsafe {
        if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(master, libc::TIOCSWINSZ, &ws);
        }
    }
}

/// Relays stdin -> master and master -> stdout until `pid` exits; returns
/// its exit code. `mask` holds SIGCHLD, SIGWINCH and the forwarded signals.
pub fn relay(master: &OwnedFd, pid: i32, mask: &SigSet) -> Result<i32> {
    let _raw = RawMode::enter();
    copy_winsize(master.as_raw_fd());
    mask.thread_block().ctx("block signals", "run")?;
    let sfd = SignalFd::new(mask).ctx("signalfd", "run")?;
    let mut stdin_open = true;
    let mut master_open = true;
    let mut buf = [0u8; 8192];
    let code = loop {
        // Every turn, the first included: a SIGCHLD that came before the
        // mask was blocked was discarded, and a quick process may be gone
        // already.
        match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, c)) => break c,
            Ok(WaitStatus::Signaled(_, s, _)) => break 128 + s as i32,
            _ => {}
        }
        // SAFETY: fd 0 stays open for the life of this process.
        let stdin = unsafe { BorrowedFd::borrow_raw(0) };
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        let master_at = master_open.then(|| {
            fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
            fds.len() - 1
        });
        let stdin_at = stdin_open.then(|| {
            fds.push(PollFd::new(stdin, PollFlags::POLLIN));
            fds.len() - 1
        });
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => r.ctx("poll", "terminal")?,
        };
        let ready = |i: Option<usize>| {
            i.and_then(|i| fds.get(i))
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let (s_ready, m_ready, i_ready) = (ready(Some(0)), ready(master_at), ready(stdin_at));
        drop(fds);
        if m_ready {
            match nix::unistd::read(master.as_raw_fd(), &mut buf) {
                Ok(n) if n > 0 => write_all(1, &buf[..n]),
                Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => {}
                // EIO: no slave is open any more. A hung-up master polls
                // ready forever; the exit comes as SIGCHLD.
                _ => master_open = false,
            }
        }
        if i_ready {
            match nix::unistd::read(0, &mut buf) {
                Ok(n) if n > 0 => write_all(master.as_raw_fd(), &buf[..n]),
                _ => stdin_open = false,
            }
        }
        if s_ready {
            if let Ok(Some(info)) = sfd.read_signal() {
                match Signal::try_from(info.ssi_signo as i32) {
                    Ok(Signal::SIGWINCH) => copy_winsize(master.as_raw_fd()),
                    Ok(Signal::SIGCHLD) | Err(_) => {}
                    Ok(sig) => {
                        let _ = kill(Pid::from_raw(pid), sig);
                    }
                }
            }
        }
    };
    // What the process wrote just before exiting is still in the pty.
    nix::fcntl::fcntl(
        master.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .ok();
    while let Ok(n) = nix::unistd::read(master.as_raw_fd(), &mut buf) {
        if n == 0 {
            break;
        }
        write_all(1, &buf[..n]);
    }
    mask.thread_unblock().ctx("unblock signals", "run")?;
    Ok(code)
}

fn write_all(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: fd is open; data is a valid buffer.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        match nix::unistd::write(fd, data) {
            Ok(n) if n > 0 => data = &data[n..],
            Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => continue,
            _ => return,
        }
    }
}
