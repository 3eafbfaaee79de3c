//! Reading the json-file log: `husk logs [-f] [--tail N] [-t] [--since]
//! [--until]` and the foreground `husk run`, which follows the log its
//! monitor writes. The log rotates (see [`super::logfile`]): reading spans
//! the rotated files, and following notices the live file being renamed
//! away (or truncated, with max-file 1) and carries on in the new one.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::lifecycle::{self, Report, Started};
use crate::proc;
use crate::store::Paths;
use crate::{Error, Result};

/// Which records to show, and how.
#[derive(Debug, Clone, Default)]
pub struct LogsOptions {
    /// The last N records (all when None), before since/until apply.
    pub tail: Option<usize>,
    pub follow: bool,
    /// `-t`: each line prefixed with its record's time.
    pub timestamps: bool,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// How records become output.
#[derive(Debug, Clone, Copy, Default)]
struct Filter {
    timestamps: bool,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl Filter {
    /// Writes one record; false once past `until` (nothing later shows).
    fn emit(&self, line: &[u8], out: &mut dyn Write, err: &mut dyn Write) -> bool {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
            return true;
        };
        let time = || {
            v["time"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        if self.since.is_some() || self.until.is_some() {
            if let Some(t) = time() {
                if self.until.is_some_and(|u| t > u) {
                    return false;
                }
                if self.since.is_some_and(|s| t < s) {
                    return true;
                }
            }
        }
        let text = v["log"].as_str().unwrap_or_default();
        let w: &mut dyn Write = if v["stream"] == "stderr" { err } else { out };
        if self.timestamps {
            // docker's RFC3339NanoFixed: always nine digits.
            let stamp = time().map_or_else(String::new, |t| {
                t.format("%Y-%m-%dT%H:%M:%S%.9fZ ").to_string()
            });
            let _ = w.write_all(stamp.as_bytes());
        }
        let _ = w.write_all(text.as_bytes());
        true
    }
}

/// Incremental reader of the live json-file log from a position.
pub struct Follower {
    path: PathBuf,
    file: File,
    /// Read but not yet emitted: at most one incomplete record once a
    /// drain returns.
    partial: Vec<u8>,
    /// What each read fills (see [`DRAIN_CHUNK`]).
    chunk: Vec<u8>,
    filter: Filter,
    /// Past `until`: nothing more will be shown.
    done: bool,
    /// Foreground attach: the file being read is held (see
    /// [`crate::monitor::logfile::hold`]), so no output is rotated away unread.
    hold: bool,
}

impl Follower {
    /// Opens `path` at `offset`.
    pub fn open(path: &Path, offset: u64) -> Result<Follower> {
        let mut file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("seek", path, e))?;
        Ok(Follower::from_file(path, file, Filter::default()))
    }

    fn from_file(path: &Path, file: File, filter: Filter) -> Follower {
        Follower {
            path: path.to_path_buf(),
            file,
            partial: Vec::new(),
            chunk: vec![0u8; DRAIN_CHUNK],
            filter,
            done: false,
            hold: false,
        }
    }

    /// Holds the files it reads, slowing the container down to our pace
    /// rather than losing its output (foreground `run`, `start -a`).
    pub fn holding(mut self) -> Follower {
        crate::monitor::logfile::hold(&self.file);
        self.hold = true;
        self
    }

    /// The rotated files and the live one, oldest first, open (an open file
    /// stays readable when the monitor drops it), with their identities.
    /// Taken again if a rotation renamed files while they were opened.
    fn snapshot(&self) -> Vec<(File, (u64, u64))> {
        let id = |m: std::fs::Metadata| (m.dev(), m.ino());
        let mut last = Vec::new();
        for _ in 0..50 {
            let mut names: Vec<PathBuf> = (1..)
                .map(|n| crate::config::log::rotated(&self.path, n))
                .take_while(|p| p.exists())
                .collect();
            names.reverse();
            names.push(self.path.clone());
            let files: Vec<(File, (u64, u64))> = names
                .iter()
                .filter_map(|p| {
                    let f = File::open(p).ok()?;
                    let i = id(f.metadata().ok()?);
                    Some((f, i))
                })
                .collect();
            let stable = files.len() == names.len()
                && names
                    .iter()
                    .zip(&files)
                    .all(|(p, (_, i))| std::fs::metadata(p).ok().map(id) == Some(*i));
            if stable {
                return files;
            }
            last = files;
            std::thread::sleep(Duration::from_millis(2));
        }
        last
    }

    /// Copies every complete new record to `out`/`err`, moving on to the
    /// new live file when the monitor has rotated the one being read.
    pub fn pump(&mut self, out: &mut dyn Write, err: &mut dyn Write) {
        self.drain(out, err);
        let ours = self.file.metadata().ok();
        // Truncated in place (max-file 1): start over at its beginning.
        if let (Some(m), Ok(pos)) = (&ours, self.file.stream_position()) {
            if m.len() < pos {
                let _ = self.file.seek(SeekFrom::Start(0));
                self.partial.clear();
                self.drain(out, err);
            }
        }
        let live = std::fs::metadata(&self.path).ok();
        let rotated = match (&ours, &live) {
            (Some(a), Some(b)) => (a.dev(), a.ino()) != (b.dev(), b.ino()),
            _ => false,
        };
        if let (true, Some(m)) = (rotated, &ours) {
            // Renamed away: the monitor writes no more to it, so what is
            // left in it is complete. Then every file rotated after it
            // (several when the output outran us), oldest first, and the
            // new live file from its start.
            self.drain(out, err);
            let files = self.snapshot();
            let ours = files.iter().position(|(_, id)| *id == (m.dev(), m.ino()));
            // Not there: rotated out of existence, so all are newer.
            let newer = ours.map_or(0, |i| i + 1);
            for (f, _) in files.into_iter().skip(newer) {
                if self.hold {
                    crate::monitor::logfile::hold(&f);
                }
                // Replacing the file closes the old one, releasing its hold
                // only now that the next one is held.
                self.file = f;
                self.partial.clear();
                self.drain(out, err);
            }
        }
        let _ = out.flush();
        let _ = err.flush();
    }

    /// Emits every complete record from the file's position to its end,
    /// in chunks: linear in what it reads, and holding at most a chunk
    /// and one incomplete record however far behind the writer it is.
    fn drain(&mut self, out: &mut dyn Write, err: &mut dyn Write) {
        loop {
            let n = match self.file.read(&mut self.chunk) {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            self.partial.extend_from_slice(&self.chunk[..n]);
            // Records are taken from a moving start; the rest moves to the
            // front once per chunk, never once per record.
            let mut start = 0;
            while let Some(nl) = self.partial[start..].iter().position(|b| *b == b'\n') {
                let line = &self.partial[start..start + nl + 1];
                if !self.done && !self.filter.emit(line, out, err) {
                    self.done = true;
                }
                start += nl + 1;
            }
            self.partial.drain(..start);
        }
    }
}

/// How much a follower reads at a time.
const DRAIN_CHUNK: usize = 64 * 1024;

/// Hands each complete line of `f`, from its current position to its
/// end, to `each` (without its newline) until `each` says stop; a last
/// line without a newline, a record the monitor is still writing, is left
/// unread for follow. Reads in chunks: whatever the file's size, memory
/// holds one chunk and one line.
fn for_each_line(f: &mut File, path: &Path, each: &mut dyn FnMut(&[u8]) -> bool) -> Result<()> {
    let mut r = BufReader::with_capacity(DRAIN_CHUNK, f);
    let mut l = Vec::new();
    loop {
        l.clear();
        let n = r
            .read_until(b'\n', &mut l)
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 || l.last() != Some(&b'\n') {
            // The file is left where the next read must start: after the
            // last complete line (a seek through the reader moves the file
            // back over what the reader holds unread).
            let _ = r.seek(SeekFrom::Current(-(n as i64)));
            return Ok(());
        }
        l.pop();
        if !each(&l) {
            // Stopped (past --until): nothing reads on from here.
            return Ok(());
        }
    }
}

/// The last `keep` lines of `f` (from its current position), oldest
/// first, as [`for_each_line`] reads them.
fn last_lines(f: &mut File, path: &Path, keep: usize) -> Result<VecDeque<Vec<u8>>> {
    let mut lines = VecDeque::new();
    // Read through even for none: follow goes on from the end.
    for_each_line(f, path, &mut |l| {
        if keep > 0 {
            if lines.len() == keep {
                lines.pop_front();
            }
            lines.push_back(l.to_vec());
        }
        true
    })?;
    Ok(lines)
}

/// `husk logs`.
pub fn logs(
    paths: &Paths,
    name: &str,
    o: &LogsOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let c = lifecycle::reconcile(paths, &paths.resolve(name)?)?;
    let filter = Filter {
        timestamps: o.timestamps,
        since: o.since,
        until: o.until,
    };
    let files = paths.logs(&c.id);
    let live_path = paths.log(&c.id);
    // The live file first: it is the one that follow goes on reading, and
    // opened before the older ones a rotation meanwhile costs at most a
    // repeated file, never a lost one.
    let mut live = match File::open(&live_path) {
        Ok(f) => f,
        // Never started: no log yet, and nothing to follow.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("open", &live_path, e)),
    };
    let mut older: Vec<(PathBuf, File)> = Vec::new();
    for p in &files[..files.len().saturating_sub(1)] {
        if let Ok(f) = File::open(p) {
            older.push((p.clone(), f));
        }
    }
    let mut past_until = false;
    let mut emit = |l: &[u8]| {
        past_until = !filter.emit(l, out, err);
        !past_until
    };
    match o.tail {
        // Streamed, oldest file first: memory does not grow with the log.
        None => {
            for (p, f) in older.iter_mut() {
                for_each_line(f, p, &mut emit)?;
            }
            for_each_line(&mut live, &live_path, &mut emit)?;
        }
        // Newest file first until the tail is covered, keeping no more
        // than the tail.
        Some(n) => {
            let mut chunks = vec![last_lines(&mut live, &live_path, n)?];
            let mut have = chunks[0].len();
            for (p, f) in older.iter_mut().rev() {
                if have >= n {
                    break;
                }
                let lines = last_lines(f, p, n - have)?;
                have += lines.len();
                chunks.push(lines);
            }
            for l in chunks.iter().rev().flatten() {
                if !emit(l) {
                    break;
                }
            }
        }
    }
    let _ = out.flush();
    let _ = err.flush();
    if !o.follow || past_until {
        return Ok(());
    }
    let mut f = Follower::from_file(&live_path, live, filter);
    let watch = LogWatch::new(&live_path);
    loop {
        f.pump(out, err);
        if f.done || o.until.is_some_and(|u| Utc::now() > u) {
            return Ok(());
        }
        let running = match paths.load(&c.id)? {
            Some(now) => lifecycle::reconcile(paths, &now)?.is_running(),
            None => false,
        };
        if !running {
            // The monitor writes the exit record after the last output.
            f.pump(out, err);
            return Ok(());
        }
        watch.wait();
    }
}

/// Signals a follow loop takes from a signalfd instead of handlers, so the
/// loop stays one poll with no handler running at arbitrary points; they
/// are unblocked again when this is dropped, on every way out.
struct BlockedSignals {
    set: nix::sys::signal::SigSet,
    fd: Option<nix::sys::signalfd::SignalFd>,
}

impl BlockedSignals {
    fn new(signals: &[nix::sys::signal::Signal]) -> BlockedSignals {
        use nix::sys::signal::{SigSet, SigmaskHow};
        use nix::sys::signalfd::{SfdFlags, SignalFd};
        let mut set = SigSet::empty();
        for s in signals {
            set.add(*s);
        }
        let fd = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .ok()
            .and_then(|_| {
                SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).ok()
            });
        BlockedSignals { set, fd }
    }

    /// For poll(2); -1 (ignored by poll) when there is no signalfd.
    fn raw_fd(&self) -> i32 {
        self.fd.as_ref().map(|s| s.as_raw_fd()).unwrap_or(-1)
    }

    /// The signals that arrived since the last call.
    fn pending(&self) -> Vec<i32> {
        let mut out = Vec::new();
        if let Some(s) = &self.fd {
            while let Ok(Some(info)) = s.read_signal() {
                out.push(info.ssi_signo as i32);
            }
        }
        out
    }
}

impl Drop for BlockedSignals {
    fn drop(&mut self) {
        let _ = nix::sys::signal::sigprocmask(
            nix::sys::signal::SigmaskHow::SIG_UNBLOCK,
            Some(&self.set),
            None,
        );
    }
}

/// A running container and its live log, opened at its end: where
/// `attach` starts reading.
fn running_log_tail(paths: &Paths, name: &str) -> Result<(crate::store::Container, PathBuf, File)> {
    let c = lifecycle::reconcile(paths, &paths.resolve(name)?)?;
    if !c.is_running() {
        return Err(Error::Conflict {
            id: c.id,
            reason: "is not running: you cannot attach to a stopped container, start it first"
                .into(),
        });
    }
    let path = paths.log(&c.id);
    let mut file = File::open(&path).map_err(|e| Error::io("open", &path, e))?;
    file.seek(SeekFrom::End(0))
        .map_err(|e| Error::io("seek", &path, e))?;
    Ok((c, path, file))
}

/// How often a foreground `run` (or `start -a`) looks at the log: it is
/// what a `-it` session's echo waits for at most. Not inotify here: closing
/// an inotify instance waits for an SRCU grace period (fsnotify), which
/// measured +15-20 ms on every `husk run`'s exit on this kernel.
const FOREGROUND_POLL_MS: i32 = 20;

/// Wakes a follower as soon as the monitor writes or rotates the log: an
/// inotify watch on the container's directory (a directory watch also sees
/// the files rotation renames and creates). Where inotify is unavailable
/// the loops fall back to their 100 ms poll. For `logs -f` and `attach`,
/// long-lived followers, the SRCU wait at close (see above) costs nothing
/// that matters.
struct LogWatch(Option<nix::sys::inotify::Inotify>);

impl LogWatch {
    fn new(log: &Path) -> LogWatch {
        use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
        let watch = log.parent().and_then(|dir| {
            let i = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
            i.add_watch(
                dir,
                AddWatchFlags::IN_MODIFY | AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO,
            )
            .ok()?;
            Some(i)
        });
        LogWatch(watch)
    }

    /// For poll(2); -1 (ignored by poll) without a watch.
    fn raw_fd(&self) -> i32 {
        self.0
            .as_ref()
            .map(|i| std::os::fd::AsRawFd::as_raw_fd(&std::os::fd::AsFd::as_fd(i)))
            .unwrap_or(-1)
    }

    fn drain(&self) {
        if let Some(i) = &self.0 {
            while i.read_events().is_ok_and(|e| !e.is_empty()) {}
        }
    }

    /// Sleeps until the log changes, or 100 ms.
    fn wait(&self) {
        let mut pfd = [libc::pollfd {
            fd: self.raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: one valid pollfd (fd -1 is ignored: a plain 100 ms sleep).
        unsafe { libc::poll(pfd.as_mut_ptr(), 1, 100) };
        self.drain();
    }
}

/// Signals a foreground `run` passes on to the container, as docker's
/// `--sig-proxy` does (Ctrl-C becomes SIGINT for the container's init):
/// the catchable ones that are not about husk's own terminal or children.
const PROXIED: &[nix::sys::signal::Signal] = {
    use nix::sys::signal::Signal::*;
    &[
        SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM, SIGCONT, SIGTSTP, SIGVTALRM,
        SIGPROF, SIGPWR,
    ]
};

/// How a foreground attach behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttachOptions {
    /// `--sig-proxy`: forward the signals husk gets to the container.
    pub sig_proxy: bool,
    /// With an attached terminal: the monitor's pid, which gets our
    /// SIGWINCH to resize the container's terminal.
    pub resize: Option<i32>,
}

/// How a foreground attach ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    /// The detach keys were typed; the container runs on.
    Detached,
    /// The monitor died without a report.
    Lost,
}

/// Foreground `run`/`start -a`: streams the log from the start's offset
/// while waiting for the monitor's exit (or detach) report, forwarding
/// signals through `forward`.
pub fn attach(
    log: &Path,
    started: &mut Started,
    o: &AttachOptions,
    forward: &mut dyn FnMut(i32),
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    let mut wanted: Vec<nix::sys::signal::Signal> = Vec::new();
    if o.sig_proxy {
        wanted.extend_from_slice(PROXIED);
    }
    if o.resize.is_some() {
        wanted.push(nix::sys::signal::Signal::SIGWINCH);
    }
    let signals = BlockedSignals::new(&wanted);
    if let Some(monitor) = o.resize {
        // A resize while the container was starting found no one to pass
        // it on: have the monitor take the size once more.
        // SAFETY: kill(2) on our own child, not yet waited for.
        unsafe { libc::kill(monitor, libc::SIGWINCH) };
    }
    let mut f = match started.log.take() {
        Some(mut file) => file
            .seek(SeekFrom::Start(started.log_offset))
            .ok()
            .map(|_| Follower::from_file(log, file, Filter::default()).holding()),
        None => Follower::open(log, started.log_offset)
            .ok()
            .map(Follower::holding),
    };
    let outcome = loop {
        if let Some(f) = f.as_mut() {
            f.pump(out, err);
        }
        let buffered = !started.reports.buffer().is_empty();
        let mut pfds = [
            libc::pollfd {
                fd: started.reports.get_ref().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: signals.raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let n = if buffered {
            1
        } else {
            // SAFETY: pfds is a valid array of pollfd of the given length.
            unsafe {
                libc::poll(
                    pfds.as_mut_ptr(),
                    pfds.len() as libc::nfds_t,
                    FOREGROUND_POLL_MS,
                )
            }
        };
        for sig in signals.pending() {
            match o.resize {
                Some(monitor) if sig == libc::SIGWINCH => {
                    // SAFETY: kill(2) on our own child, not yet waited
                    // for, so the pid is still the monitor's.
                    unsafe { libc::kill(monitor, libc::SIGWINCH) };
                }
                _ => forward(sig),
            }
        }
        if n > 0 && (buffered || pfds[0].revents != 0) {
            let report = started.next_report();
            if let Some(f) = f.as_mut() {
                f.pump(out, err);
            }
            break match report {
                Report::Exited(c) => Outcome::Exited(c),
                Report::Detached => Outcome::Detached,
                Report::Lost => Outcome::Lost,
            };
        }
    };
    drop(signals);
    outcome
}

/// `husk attach` (output only): follows the running container's output
/// from now on, forwarding signals through `forward` when `sig_proxy`,
/// until it stops; returns its exit code.
pub fn attach_running(
    paths: &Paths,
    name: &str,
    sig_proxy: bool,
    forward: &mut dyn FnMut(i32),
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32> {
    let (c, path, file) = running_log_tail(paths, name)?;
    let mut f = Follower::from_file(&path, file, Filter::default());
    let signals = BlockedSignals::new(if sig_proxy { PROXIED } else { &[] });
    let watch = LogWatch::new(&path);
    let result = loop {
        f.pump(out, err);
        let mut pfd = [
            libc::pollfd {
                fd: watch.raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: signals.raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds (-1 entries are ignored).
        unsafe { libc::poll(pfd.as_mut_ptr(), 2, 100) };
        watch.drain();
        for sig in signals.pending() {
            forward(sig);
        }
        let running = match paths.load(&c.id) {
            Ok(Some(now)) => lifecycle::reconcile(paths, &now).map(|c| c.is_running()),
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        };
        match running {
            Ok(true) => {}
            Ok(false) => {
                f.pump(out, err);
                break lifecycle::wait(paths, &c.id).or(Ok(c.state.exit_code));
            }
            Err(e) => break Err(e),
        }
    };
    drop(signals);
    result
}

/// `husk attach` to a running `-it` container: our terminal `tty` goes to
/// its monitor (over the attach socket, SCM_RIGHTS), which reads keys
/// from it as it does for `run -it`; the output comes from the log.
/// Returns the exit code, or None when the detach keys were typed.
pub fn attach_terminal(
    paths: &Paths,
    name: &str,
    tty: std::os::fd::BorrowedFd<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Option<i32>> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    use std::os::unix::net::UnixStream;
    // Output from here on; held like a foreground run's.
    let (c, path, file) = running_log_tail(paths, name)?;
    let mut f = Follower::from_file(&path, file, Filter::default()).holding();
    let sock = paths.attach_socket(&c.id);
    let io = |op: &'static str| {
        let sock = sock.clone();
        move |e: std::io::Error| Error::io(op, sock, e)
    };

    let mut conn = UnixStream::connect(&sock).map_err(io("connect to"))?;
    let fds = [tty.as_raw_fd()];
    sendmsg::<()>(
        conn.as_raw_fd(),
        &[std::io::IoSlice::new(b"t")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| Error::io("send the terminal to", &sock, e.into()))?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io("configure"))?;
    let mut reply = BufReader::new(conn.try_clone().map_err(io("dup"))?);
    let mut line = String::new();
    reply.read_line(&mut line).map_err(io("read from"))?;
    match line.trim() {
        "attached" => {}
        "busy" => {
            return Err(Error::Conflict {
                id: c.id,
                reason: "already has a terminal attached".into(),
            })
        }
        other => {
            return Err(Error::Conflict {
                id: c.id,
                reason: format!("its monitor refused the terminal ({other:?})"),
            })
        }
    }
    conn.set_nonblocking(true).map_err(io("configure"))?;

    let signals = BlockedSignals::new(&[nix::sys::signal::Signal::SIGWINCH]);
    let (mpid, mstart) = (c.state.monitor_pid, c.state.monitor_start);
    let mut conn_open = true;
    let watch = LogWatch::new(&path);
    let result = loop {
        f.pump(out, err);
        let mut pfds = vec![
            libc::pollfd {
                fd: if conn_open { conn.as_raw_fd() } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: watch.raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: signals.raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: pfds is a valid array of pollfd of the given length.
        unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, 100) };
        watch.drain();
        // Not our child: only while it is still that monitor.
        if !signals.pending().is_empty() && proc::alive(mpid, mstart) {
            // SAFETY: kill(2); the pid was just checked to be the
            // container's monitor.
            unsafe { libc::kill(mpid, libc::SIGWINCH) };
        }
        if conn_open && pfds[0].revents != 0 {
            let mut buf = [0u8; 64];
            match conn.read(&mut buf) {
                Ok(0) => conn_open = false,
                Ok(n) if buf[..n].starts_with(b"detached") => {
                    f.pump(out, err);
                    break Ok(None);
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => conn_open = false,
            }
        }
        let running = match paths.load(&c.id) {
            Ok(Some(now)) => lifecycle::reconcile(paths, &now).map(|c| c.is_running()),
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        };
        match running {
            Ok(true) => {}
            Ok(false) => {
                f.pump(out, err);
                break lifecycle::wait(paths, &c.id)
                    .or(Ok(c.state.exit_code))
                    .map(Some);
            }
            Err(e) => break Err(e),
        }
    };
    drop(signals);
    result
}
