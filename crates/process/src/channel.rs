//! The parent <-> init channel: a SOCK_SEQPACKET socketpair, so each send is
//! one message and a dead peer reads as EOF instead of hanging.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockType};

use crate::error::Context;
use crate::Result;

#[derive(Debug, PartialEq, Eq)]
pub enum Msg {
    /// Parent -> init: the cgroups are set up, go on.
    Go,
    /// Init -> parent: set up and waiting for `start`.
    Ready,
    /// Init -> parent: setup failed; the text says what and where.
    Failed(String),
    /// Init -> parent: mounts are done, run prestart/createRuntime hooks.
    Hooks,
    /// Parent -> init: hooks ran; here is the state JSON for the
    /// container's own hooks.
    State(String),
}

pub struct Channel {
    fd: OwnedFd,
}

pub fn pair() -> Result<(Channel, Channel)> {
    let (a, b) = socket::socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .ctx("socketpair", "init channel")?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    pub fn send(&self, msg: &Msg) -> Result<()> {
        let bytes: Vec<u8> = match msg {
            Msg::Go => b"G".to_vec(),
            Msg::Ready => b"R".to_vec(),
            Msg::Failed(text) => [b"E".as_slice(), text.as_bytes()].concat(),
            Msg::Hooks => b"H".to_vec(),
            Msg::State(json) => [b"S".as_slice(), json.as_bytes()].concat(),
        };
        loop {
            match socket::send(self.fd.as_raw_fd(), &bytes, MsgFlags::MSG_NOSIGNAL) {
                Err(nix::errno::Errno::EINTR) => continue,
                r => return r.map(|_| ()).ctx("send", "init channel"),
            }
        }
    }

    /// Receives one message; `None` when the peer closed its end (died).
    pub fn recv(&self) -> Result<Option<Msg>> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut reset_seen = false;
        let n = loop {
            match socket::recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Err(nix::errno::Errno::EINTR) => continue,
                // A peer that exits with our message still unread leaves
                // ECONNRESET pending, and the kernel reports it before the
                // queue. Reading it clears it; the peer's last words (its
                // Failed message) are still queued behind it.
                Err(nix::errno::Errno::ECONNRESET) if !reset_seen => {
                    reset_seen = true;
                    continue;
                }
                r => break r.ctx("recv", "init channel")?,
            }
        };
        Ok(match buf.get(..n) {
            None | Some([]) => None,
            Some([b'G', ..]) => Some(Msg::Go),
            Some([b'R', ..]) => Some(Msg::Ready),
            Some([b'H', ..]) => Some(Msg::Hooks),
            Some([b'S', rest @ ..]) => Some(Msg::State(String::from_utf8_lossy(rest).into_owned())),
            Some([_, rest @ ..]) => Some(Msg::Failed(String::from_utf8_lossy(rest).into_owned())),
        })
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_words_of_a_peer_that_left_our_message_unread_are_received() {
        let (parent, init) = pair().expect("socketpair");
        parent.send(&Msg::Go).expect("send go");
        init.send(&Msg::Failed("rootfsPropagation: bad".into()))
            .expect("send failed");
        drop(init);
        assert_eq!(
            parent.recv().expect("recv"),
            Some(Msg::Failed("rootfsPropagation: bad".into()))
        );
        assert_eq!(parent.recv().expect("recv eof"), None);
    }
}
