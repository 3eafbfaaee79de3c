//! The container's terminal: a pty made inside the container's devpts, its
//! master sent over `--console-socket` with SCM_RIGHTS (runc's contract),
//! its slave made the controlling terminal and stdio of the process.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

use crate::error::Context;
use crate::{sys, Error, Result};

/// Connects to the console socket before the init exists, so the init
/// inherits a connected fd and needs no host path after pivot_root.
pub fn connect(path: &Path) -> Result<UnixStream> {
    UnixStream::connect(path).map_err(|e| {
        Error::Spec(format!(
            "--console-socket {}: {e} (the caller must listen on it)",
            path.display()
        ))
    })
}

/// Creates the pty, sends its master, and makes the slave our terminal.
/// Returns the slave's path for the /dev/console bind mount.
pub fn setup(socket: RawFd, size: Option<(u16, u16)>) -> Result<PathBuf> {
    let pty = nix::pty::posix_openpt(
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_NOCTTY | nix::fcntl::OFlag::O_CLOEXEC,
    )
    .ctx("open", "/dev/ptmx")?;
    nix::pty::grantpt(&pty).ctx("grantpt", "/dev/ptmx")?;
    nix::pty::unlockpt(&pty).ctx("unlockpt", "/dev/ptmx")?;
    let name = nix::pty::ptsname_r(&pty).ctx("ptsname", "/dev/ptmx")?;
    let slave_path = PathBuf::from(&name);
    let slave: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave_path)
        .ctx("open", &slave_path)?
        .into();
    if let Some((height, width)) = size {
        let ws = libc::winsize {
            ws_row: height,
            ws_col: width,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize struct that outlives the call.
        unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }
    let fds = [pty.as_raw_fd()];
    let iov = [IoSlice::new(name.as_bytes())];
    sendmsg::<()>(
        socket,
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .ctx("send pty master over", "--console-socket")?;
    drop(pty);
    nix::unistd::setsid().ctx("setsid", "console")?;
    // SAFETY: TIOCSCTTY takes an int argument; we are a session leader.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(Error::sys(
            "set controlling terminal",
            &slave_path,
            std::io::Error::last_os_error(),
        ));
    }
    for fd in 0..3 {
        sys::dup2(slave.as_raw_fd(), fd).ctx("dup2", &slave_path)?;
    }
    Ok(slave_path)
}
