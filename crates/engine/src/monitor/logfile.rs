//! docker's json-file log driver with rotation: one json record per line
//! (`{"log":..,"stream":..,"time":..}`) in `<id>-json.log`; once the file
//! reaches `max-size` it is renamed to `<id>-json.log.1` (older ones shift
//! to `.2`, ...) and a new one is started, keeping at most `max-file`
//! files in all.
//!
//! docker's own json-file default is no rotation at all, which fills disks;
//! husk rotates by default with the limits of docker's `local` driver:
//! 20 MiB per file, 5 files.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::config::log::{rotated, Limits};
use crate::proc;

/// docker's json-file splits lines longer than this into partial records.
const MAX_LINE: usize = 16 * 1024;

/// The monitor's writer.
pub struct JsonLog {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    limits: Limits,
    pending: [Vec<u8>; 2],
    /// With max-file 1: the file unlinked by the last rotation.
    retired: Option<File>,
}

impl JsonLog {
    pub fn open(path: &Path, limits: Limits) -> JsonLog {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| eprintln!("husk monitor: open {}: {e}", path.display()))
            .ok();
        let size = file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len());
        JsonLog {
            path: path.to_path_buf(),
            file,
            size,
            limits,
            pending: [Vec::new(), Vec::new()],
            retired: None,
        }
    }

    /// Output of stream 0 (stdout) or 1 (stderr).
    pub fn push(&mut self, stream: usize, data: &[u8]) {
        let mut pending = std::mem::take(&mut self.pending[stream]);
        pending.extend_from_slice(data);
        // Lines are taken from a moving start and the rest moved to the
        // front once: linear in the output, however many lines one read
        // brings.
        let mut start = 0;
        while let Some(nl) = pending[start..].iter().position(|b| *b == b'\n') {
            self.write(stream, &pending[start..start + nl + 1]);
            start += nl + 1;
        }
        pending.drain(..start);
        self.pending[stream] = pending;
        if self.pending[stream].len() >= MAX_LINE {
            let part = std::mem::take(&mut self.pending[stream]);
            self.write(stream, &part);
        }
    }

    /// Writes what is left without a newline, as docker does at EOF.
    pub fn flush(&mut self, stream: usize) {
        if !self.pending[stream].is_empty() {
            let part = std::mem::take(&mut self.pending[stream]);
            self.write(stream, &part);
        }
    }

    fn write(&mut self, stream: usize, line: &[u8]) {
        let rec = serde_json::json!({
            "log": String::from_utf8_lossy(line),
            "stream": if stream == 0 { "stdout" } else { "stderr" },
            "time": proc::now_rfc3339(),
        });
        let mut s = rec.to_string();
        s.push('\n');
        // docker's rule: a file is rotated once it has reached max-size,
        // before the next record, so a file exceeds it by one record at most.
        if self.limits.max_size.is_some_and(|max| self.size >= max) {
            self.rotate();
        }
        let Some(f) = self.file.as_mut() else { return };
        match f.write_all(s.as_bytes()) {
            Ok(()) => self.size += s.len() as u64,
            Err(e) => eprintln!("husk monitor: write log: {e}"),
        }
    }

    /// Shifts `.N-1` to `.N` (dropping the oldest), the live file to `.1`,
    /// and starts a new one; with max-file 1 the live file is unlinked and
    /// a new one started. Readers following the old file notice the
    /// rename (see `logs`).
    ///
    /// A foreground `run` holds a shared flock on the file it is reading
    /// (see [`hold`]): a file is never dropped while it is held, so the
    /// container is slowed down to the reader's pace (as docker's attach
    /// does) instead of its output being lost to a slow reader.
    fn rotate(&mut self) {
        let keep = self.limits.max_file.saturating_sub(1);
        if keep == 0 {
            // Unlinked, a file stays readable to whoever has it open; the
            // reader of the one unlinked before must have moved on to its
            // successor, the file about to go, or it would never see it.
            if let Some(r) = &self.retired {
                wait_unheld(r);
            }
            let _ = std::fs::remove_file(&self.path);
        } else {
            let oldest = rotated(&self.path, keep);
            if let Ok(f) = File::open(&oldest) {
                wait_unheld(&f);
            }
            let _ = std::fs::remove_file(&oldest);
            for n in (1..keep).rev() {
                let _ = std::fs::rename(rotated(&self.path, n), rotated(&self.path, n + 1));
            }
            if let Err(e) = std::fs::rename(&self.path, rotated(&self.path, 1)) {
                eprintln!("husk monitor: rotate {}: {e}", self.path.display());
            }
        }
        let old = self.file.take();
        *self = JsonLog {
            pending: std::mem::take(&mut self.pending),
            retired: if keep == 0 { old } else { None },
            ..JsonLog::open(&self.path, self.limits)
        };
    }
}

impl JsonLog {
    /// After the last record: waits until a foreground reader has moved on
    /// to the live file, which it can finish from its descriptor whatever
    /// happens to the names (`--rm` removes them all right after).
    pub fn settle(&self) {
        if let Some(r) = &self.retired {
            wait_unheld(r);
        }
        for n in 1..self.limits.max_file {
            if let Ok(f) = File::open(rotated(&self.path, n)) {
                wait_unheld(&f);
            }
        }
    }
}

/// Blocks while a reader holds `f` (see [`hold`]).
fn wait_unheld(f: &File) {
    loop {
        // SAFETY: flock on an open descriptor; the lock is dropped at once.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            // SAFETY: as above.
            unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
            return;
        }
        if nix::errno::Errno::last() != nix::errno::Errno::EWOULDBLOCK {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Marks `f` as being read by a foreground attach: the monitor keeps it
/// (and so every newer file) until the holder lets go by closing it.
pub fn hold(f: &File) {
    // SAFETY: flock on an open descriptor. The monitor only ever takes
    // the exclusive lock without blocking and drops it at once, so this
    // waits microseconds at most.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_SH) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_caps_the_file_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x-json.log");
        let limits = Limits {
            max_size: Some(200),
            max_file: 3,
        };
        let mut log = JsonLog::open(&path, limits);
        for i in 0..100 {
            log.push(0, format!("line {i}\n").as_bytes());
        }
        assert!(path.exists());
        assert!(rotated(&path, 1).exists());
        assert!(rotated(&path, 2).exists());
        assert!(!rotated(&path, 3).exists());
        for p in [path.clone(), rotated(&path, 1), rotated(&path, 2)] {
            // One record over the limit at most.
            assert!(
                std::fs::metadata(&p).unwrap().len() < 300,
                "{}",
                p.display()
            );
        }
        let last = std::fs::read_to_string(&path).unwrap();
        assert!(last.contains("line 99\\n"), "{last}");

        let one = dir.path().join("y-json.log");
        let mut log = JsonLog::open(
            &one,
            Limits {
                max_size: Some(100),
                max_file: 1,
            },
        );
        for i in 0..50 {
            log.push(1, format!("line {i}\n").as_bytes());
        }
        assert!(!rotated(&one, 1).exists());
        assert!(std::fs::metadata(&one).unwrap().len() < 200);
    }
}
