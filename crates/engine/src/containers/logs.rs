//! Reading the json-file log: `husk logs [-f] [--tail N]` and the
//! foreground `husk run`, which follows the log its monitor writes.

use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use super::lifecycle::{self, Started};
use super::Paths;
use crate::{Error, Result};

/// Incremental reader of a json-file log from a byte offset.
pub struct Follower {
    file: File,
    partial: Vec<u8>,
}

impl Follower {
    /// Opens `path` (waiting for it to exist when `create`) at `offset`.
    pub fn open(path: &Path, offset: u64) -> Result<Follower> {
        let mut file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("seek", path, e))?;
        Ok(Follower {
            file,
            partial: Vec::new(),
        })
    }

    /// Copies every complete new record to `out`/`err`.
    pub fn pump(&mut self, out: &mut dyn Write, err: &mut dyn Write) {
        let mut buf = Vec::new();
        if self.file.read_to_end(&mut buf).is_err() {
            return;
        }
        self.partial.extend_from_slice(&buf);
        while let Some(nl) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            emit(&line, out, err);
        }
        let _ = out.flush();
        let _ = err.flush();
    }
}

fn emit(line: &[u8], out: &mut dyn Write, err: &mut dyn Write) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
        return;
    };
    let text = v["log"].as_str().unwrap_or_default();
    let w: &mut dyn Write = if v["stream"] == "stderr" { err } else { out };
    let _ = w.write_all(text.as_bytes());
}

/// `husk logs`: the last `tail` records (all when None), then with
/// `follow` new ones until the container stops.
pub fn logs(
    paths: &Paths,
    name: &str,
    tail: Option<usize>,
    follow: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let c = lifecycle::reconcile(paths, &paths.resolve(name)?)?;
    let path = paths.log(&c.id);
    let file = match File::open(&path) {
        Ok(f) => f,
        // Never started: no log yet, and nothing to follow.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("open", &path, e)),
    };
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut offset = 0u64;
    for l in std::io::BufReader::new(file).split(b'\n') {
        let l = l.map_err(|e| Error::io("read", &path, e))?;
        offset += l.len() as u64 + 1;
        lines.push(l);
    }
    let skip = tail.map(|n| lines.len().saturating_sub(n)).unwrap_or(0);
    for l in &lines[skip..] {
        emit(l, out, err);
    }
    let _ = out.flush();
    if !follow {
        return Ok(());
    }
    let mut f = Follower::open(&path, offset)?;
    loop {
        f.pump(out, err);
        let running = match paths.load(&c.id)? {
            Some(now) => lifecycle::reconcile(paths, &now)?.is_running(),
            None => false,
        };
        if !running {
            // The monitor writes the exit record after the last output.
            f.pump(out, err);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Signals a foreground `run` passes on to the container, as docker's
/// `--sig-proxy` does (Ctrl-C becomes SIGINT for the container's init).
const PROXIED: &[nix::sys::signal::Signal] = {
    use nix::sys::signal::Signal::*;
    &[SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]
};

/// Foreground `run`: streams the log from the start's offset while waiting
/// for the monitor's exit report, forwarding signals through `forward`;
/// returns the container's exit code (None if the monitor died silently).
pub fn attach(
    log: &Path,
    started: &mut Started,
    forward: &mut dyn FnMut(i32),
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Option<i32> {
    use nix::sys::signal::{SigSet, SigmaskHow};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    // Blocked signals arrive on a signalfd instead, so the loop stays one
    // poll with no handler running at arbitrary points.
    let mut set = SigSet::empty();
    for s in PROXIED {
        set.add(*s);
    }
    let sfd = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .ok()
        .and_then(|_| {
            SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).ok()
        });
    let mut f = Follower::open(log, started.log_offset).ok();
    let code = loop {
        if let Some(f) = f.as_mut() {
            f.pump(out, err);
        }
        let buffered = !started.reports.buffer().is_empty();
        let mut pfds = vec![libc::pollfd {
            fd: started.reports.get_ref().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        if let Some(s) = &sfd {
            pfds.push(libc::pollfd {
                fd: s.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        // SAFETY: pfds is a valid array of pollfd of the given length.
        let n = if buffered {
            1
        } else {
            unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, 100) }
        };
        if let Some(s) = &sfd {
            while let Ok(Some(info)) = s.read_signal() {
                forward(info.ssi_signo as i32);
            }
        }
        if n > 0 && (buffered || pfds[0].revents != 0) {
            let code = started.exit_code();
            if let Some(f) = f.as_mut() {
                f.pump(out, err);
            }
            break code;
        }
    };
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    code
}
