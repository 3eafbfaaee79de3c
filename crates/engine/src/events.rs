//! The events journal behind `husk events`: every verb and every monitor
//! appends one JSON line per event to `<root>/events.log`, in the shape
//! `docker events --format '{{json .}}'` prints.
//!
//! There is no daemon to hold events in memory, so the journal is a file:
//! appended with O_APPEND under an exclusive `flock` (one line = one
//! write, never interleaved), and bounded: once it passes [`MAX_BYTES`] it
//! is renamed to `events.log.1` (dropping the previous one), so at most
//! two files of recent events exist. Emitting never fails the verb that
//! emits: a journal that cannot be written costs its events, not the
//! container (the error is reported on stderr).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::{Container, Paths};
use crate::{Error, Result};

/// Size at which the live journal is rotated. Docker keeps the last 256
/// events in memory; a megabyte holds several thousand.
pub const MAX_BYTES: u64 = 1 << 20;

/// What an event is about (docker's `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Container,
    Image,
    Volume,
    Network,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Container => "container",
            Kind::Image => "image",
            Kind::Volume => "volume",
            Kind::Network => "network",
        }
    }
}

/// docker's `events.Actor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    /// Sorted by key, as Go marshals a map.
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// docker's `events.Message`, field for field in its JSON order. `status`,
/// `id` and `from` are docker's older fields, set for containers and
/// images only (as docker does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(rename = "Type")]
    pub kind: Kind,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

impl Event {
    /// An event stamped now.
    pub fn new(kind: Kind, action: &str, id: &str, attributes: &[(&str, &str)]) -> Event {
        let attributes: BTreeMap<String, String> = attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let nanos = now_nanos();
        let legacy = matches!(kind, Kind::Container | Kind::Image);
        Event {
            status: if legacy { action.into() } else { String::new() },
            id: if legacy { id.into() } else { String::new() },
            from: match kind {
                Kind::Container => attributes.get("image").cloned().unwrap_or_default(),
                _ => String::new(),
            },
            kind,
            action: action.into(),
            actor: Actor {
                id: id.into(),
                attributes,
            },
            scope: "local".into(),
            time: nanos.div_euclid(1_000_000_000),
            time_nano: nanos,
        }
    }
}

fn now_nanos() -> i64 {
    let now = chrono::Utc::now();
    now.timestamp_nanos_opt()
        .unwrap_or_else(|| now.timestamp().saturating_mul(1_000_000_000))
}

/// The live journal.
pub fn journal(paths: &Paths) -> PathBuf {
    paths.root.join("events.log")
}

/// The rotated journal (older events).
pub fn rotated(paths: &Paths) -> PathBuf {
    paths.root.join("events.log.1")
}

/// Appends one event to the journal. Never fails: a verb's work is done
/// whether or not its event could be written.
pub fn emit(paths: &Paths, kind: Kind, action: &str, id: &str, attributes: &[(&str, &str)]) {
    record(paths, &Event::new(kind, action, id, attributes));
}

/// A container event with docker's attributes: the container's labels,
/// `image` and `name`, then `extra` (`exitCode`, `signal`, ...).
pub fn container(paths: &Paths, c: &Container, action: &str, extra: &[(&str, &str)]) {
    let mut attrs: Vec<(&str, &str)> = c
        .config
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    attrs.push(("image", c.config.image.as_str()));
    attrs.push(("name", c.name.as_str()));
    attrs.extend_from_slice(extra);
    emit(paths, Kind::Container, action, &c.id, &attrs);
}

/// Appends `event` (see [`emit`]); errors are reported, not returned.
pub fn record(paths: &Paths, event: &Event) {
    if let Err(e) = append(paths, event) {
        eprintln!(
            "husk: warning: events journal: {} (event {} {} lost)",
            husk_fs::Chain(&e),
            event.kind.as_str(),
            event.action
        );
    }
}

fn append(paths: &Paths, event: &Event) -> Result<()> {
    let mut line = serde_json::to_vec(event).map_err(|source| Error::Json {
        what: "event",
        source,
    })?;
    line.push(b'\n');
    let path = journal(paths);
    // Open, lock, then check that the locked file is still the journal:
    // a writer that rotated it meanwhile renamed it away.
    let file = loop {
        let file = open_append(&path)?;
        let locked = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| Error::io("lock", &path, std::io::Error::from(e)))?;
        let same = match (locked.metadata(), std::fs::metadata(&path)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        };
        if same {
            break locked;
        }
    };
    // A line a full disk cut short must not swallow this one: end it first.
    if !ends_with_newline(&file) {
        line.insert(0, b'\n');
    }
    (&*file)
        .write_all(&line)
        .map_err(|e| Error::io("append to", &path, e))?;
    let size = file
        .metadata()
        .map_err(|e| Error::io("stat", &path, e))?
        .len();
    if size > MAX_BYTES {
        // Still holding the lock: no writer appends between the check
        // and the rename, and later writers see a new inode.
        std::fs::rename(&path, rotated(paths)).map_err(|e| Error::io("rotate", &path, e))?;
    }
    Ok(())
}

/// Whether the journal is empty or its last byte ends a line.
fn ends_with_newline(file: &File) -> bool {
    use std::os::unix::fs::FileExt;
    let len = file.metadata().map_or(0, |m| m.len());
    let mut last = [b'\n'];
    len == 0 || (file.read_at(&mut last, len - 1).is_ok() && last[0] == b'\n')
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::io("open", path, e))
}

/// Every event in the journal, oldest first. Lines that do not decode (a
/// write cut short by a full disk) are skipped.
pub fn read_all(paths: &Paths) -> Result<Vec<Event>> {
    Ok(history(paths)?.0)
}

/// Every event in the journal, oldest first, and a [`Follower`] that
/// goes on exactly where the reading stopped (no event lost or repeated).
pub fn history(paths: &Paths) -> Result<(Vec<Event>, Follower)> {
    let mut out = Vec::new();
    let old = rotated(paths);
    match File::open(&old) {
        Ok(f) => {
            read_lines(&mut BufReader::new(f), &old, &mut out)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("open", &old, e)),
    }
    let mut follower = Follower {
        path: journal(paths),
        file: None,
        offset: 0,
    };
    follower.file = follower.open()?;
    follower.drain(&mut out)?;
    Ok((out, follower))
}

fn read_lines(r: &mut impl BufRead, path: &Path, out: &mut Vec<Event>) -> Result<u64> {
    let mut read = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io("read", path, e))?;
        // Only whole lines: a line without its newline is still being written.
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(read);
        }
        read += n as u64;
        if let Ok(ev) = serde_json::from_slice::<Event>(&line) {
            out.push(ev);
        }
    }
}

/// Follows the journal from its current end: each [`Follower::poll`]
/// returns the events appended since, across rotations.
pub struct Follower {
    path: PathBuf,
    file: Option<File>,
    offset: u64,
}

impl Follower {
    /// Starts at the journal's end: events already read through
    /// [`read_all`] are not returned again.
    pub fn at_end(paths: &Paths) -> Result<Follower> {
        let path = journal(paths);
        let mut f = Follower {
            path,
            file: None,
            offset: 0,
        };
        if let Some(file) = f.open()? {
            f.offset = file
                .metadata()
                .map_err(|e| Error::io("stat", &f.path, e))?
                .len();
            f.file = Some(file);
        }
        Ok(f)
    }

    fn open(&self) -> Result<Option<File>> {
        match File::open(&self.path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("open", &self.path, e)),
        }
    }

    /// The events appended since the last poll.
    pub fn poll(&mut self) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        self.drain(&mut out)?;
        // Rotated away (or created): what the old file still held was
        // drained above; the new file is read from its start.
        let current = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        let held = self
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| (m.dev(), m.ino()));
        if current.is_some() && current != held {
            self.file = self.open()?;
            self.offset = 0;
            self.drain(&mut out)?;
        }
        Ok(out)
    }

    fn drain(&mut self, out: &mut Vec<Event>) -> Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.seek(SeekFrom::Start(self.offset))
            .map_err(|e| Error::io("seek", &self.path, e))?;
        let mut r = BufReader::new(&*file);
        self.offset += read_lines(&mut r, &self.path, out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &Path) -> Paths {
        Paths::new(dir, &dir.join("run"))
    }

    #[test]
    fn docker_json_shape() {
        let ev = Event::new(
            Kind::Container,
            "start",
            "abc",
            &[("name", "web"), ("image", "busybox")],
        );
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            ["status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"]
        );
        assert_eq!(v["from"], "busybox");
        assert_eq!(v["Type"], "container");
        assert_eq!(v["Actor"]["Attributes"]["name"], "web");
        assert_eq!(v["time"].as_i64().unwrap(), ev.time_nano / 1_000_000_000);
        let vol = serde_json::to_value(Event::new(Kind::Volume, "create", "v", &[])).unwrap();
        assert!(vol.get("status").is_none() && vol.get("id").is_none());
        assert_eq!(vol["Actor"]["ID"], "v");
    }

    #[test]
    fn append_read_follow_and_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        emit(&p, Kind::Image, "pull", "busybox:latest", &[]);
        let (seen, mut again) = history(&p).unwrap();
        assert_eq!(seen.len(), 1);
        assert!(again.poll().unwrap().is_empty());
        let mut follow = Follower::at_end(&p).unwrap();
        assert!(follow.poll().unwrap().is_empty());
        emit(&p, Kind::Image, "tag", "sha256:1", &[("name", "x:1")]);
        let got = follow.poll().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].action, "tag");
        // Grow past the bound: the journal rotates, the follower keeps up
        // and no file outgrows the bound by more than one event.
        let big = "x".repeat(4096);
        let mut written = 0;
        while !rotated(&p).exists() {
            emit(&p, Kind::Volume, "create", &big, &[]);
            written += 1;
        }
        emit(&p, Kind::Volume, "destroy", "last", &[]);
        let got = follow.poll().unwrap();
        assert_eq!(got.len(), written + 1);
        assert_eq!(got.last().unwrap().action, "destroy");
        for f in [journal(&p), rotated(&p)] {
            assert!(std::fs::metadata(f).unwrap().len() <= MAX_BYTES + 8192);
        }
        let all = read_all(&p).unwrap();
        assert_eq!(all.last().unwrap().actor.id, "last");
    }

    #[test]
    fn a_cut_line_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        emit(&p, Kind::Volume, "create", "a", &[]);
        // As a full disk leaves a write: part of a line, no newline.
        let mut f = OpenOptions::new().append(true).open(journal(&p)).unwrap();
        f.write_all(b"{\"Type\":\"vol").unwrap();
        emit(&p, Kind::Volume, "create", "b", &[]);
        let ids: Vec<String> = read_all(&p)
            .unwrap()
            .into_iter()
            .map(|e| e.actor.id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn emit_never_fails() {
        // A root that cannot hold a journal: the event is lost, not the verb.
        let p = paths(Path::new("/proc/self/no-such-dir"));
        emit(&p, Kind::Container, "create", "abc", &[]);
    }
}
