//! What a pull tells its user, layer by layer, in docker's words; the
//! command line draws it (bars on a terminal, lines otherwise).

use husk_image::Digest;

/// One layer's state, as docker's per-layer lines name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Queued: `Pulling fs layer`.
    Waiting,
    /// In the store already: `Already exists`.
    Exists,
    /// Bytes so far of `total` (a resumed download starts above 0).
    Downloading { done: u64, total: u64 },
    /// A download resumes where an interrupted one stopped.
    Resuming { from: u64, total: u64 },
    /// A transient failure; the download is tried again.
    Retrying { reason: String },
    /// All bytes received; the last files are being written.
    Extracting,
    /// Stored and unpacked: `Pull complete`.
    Complete,
}

/// Receives events from the pulling threads.
pub trait Progress: Sync {
    fn layer(&self, layer: &Digest, event: Event);
}

/// Reports nothing (`-q`).
pub struct Quiet;

impl Progress for Quiet {
    fn layer(&self, _: &Digest, _: Event) {}
}

/// docker's line for an event when output is not a terminal; None for
/// the byte counts (too many to print as lines).
pub fn line(layer: &Digest, event: &Event) -> Option<String> {
    let id = layer.short();
    let text = match event {
        Event::Waiting => "Pulling fs layer".to_string(),
        Event::Exists => "Already exists".to_string(),
        Event::Downloading { .. } => return None,
        Event::Resuming { from, total } => {
            format!("Resuming download at {} of {}", human(*from), human(*total))
        }
        Event::Retrying { reason } => format!("Retrying: {reason}"),
        Event::Extracting => "Download complete".to_string(),
        Event::Complete => "Pull complete".to_string(),
    };
    Some(format!("{id}: {text}"))
}

/// docker's sizes: `3.4MB`, `812kB`, `12B` (powers of 1000).
pub fn human(n: u64) -> String {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n}B")
    } else {
        let digits: String = format!("{v:.3}")
            .chars()
            .take(if v >= 100.0 { 3 } else { 4 })
            .collect();
        let shown = if digits.contains('.') {
            digits.trim_end_matches('0').trim_end_matches('.')
        } else {
            &digits
        };
        format!("{shown}{}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(human(12), "12B");
        assert_eq!(human(812_345), "812kB");
        assert_eq!(human(3_412_345), "3.41MB");
        assert_eq!(human(1_000_000), "1MB");
    }
}
