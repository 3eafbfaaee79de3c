//! Detach keys: the key sequence (docker's default ctrl-p ctrl-q) that
//! leaves an attached terminal without stopping the container.

use crate::{Error, Result};

pub const DEFAULT: &str = "ctrl-p,ctrl-q";

/// docker's `--detach-keys` syntax: comma-separated keys, each a single
/// character or `ctrl-X` with X one of `a`-`z`, `@`, `[`, `\`, `]`, `^`, `_`.
pub fn parse(keys: &str) -> Result<Vec<u8>> {
    let bad = |reason: String| Error::InvalidFlag {
        flag: "--detach-keys",
        value: keys.to_string(),
        reason,
    };
    let keys = if keys.is_empty() { DEFAULT } else { keys };
    keys.split(',')
        .map(|k| {
            let b = k.as_bytes();
            if b.len() == 1 {
                return Ok(b[0]);
            }
            let lower = k.to_ascii_lowercase();
            match lower.strip_prefix("ctrl-").map(str::as_bytes) {
                Some([c @ b'a'..=b'z']) => Ok(c - b'a' + 1),
                Some([c @ (b'@' | b'[' | b'\\' | b']' | b'^' | b'_')]) => Ok(c - b'@'),
                _ => Err(bad(format!(
                    "unknown key {k:?}: use a character or ctrl-a..ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_"
                ))),
            }
        })
        .collect()
}

/// Watches typed input for the sequence. Keys that start the sequence are
/// held back until it completes (detach: they are never forwarded) or
/// breaks (they are forwarded after all), as docker's escape proxy does.
#[derive(Debug, Clone)]
pub struct Matcher {
    keys: Vec<u8>,
    matched: usize,
}

impl Matcher {
    pub fn new(keys: Vec<u8>) -> Matcher {
        Matcher { keys, matched: 0 }
    }

    /// Forgets a partly typed sequence (a new terminal is attached).
    pub fn reset(&mut self) {
        self.matched = 0;
    }

    /// The bytes to forward from `data`, and whether the sequence completed
    /// (bytes after it are dropped: the caller is leaving).
    pub fn feed(&mut self, data: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(data.len());
        for &b in data {
            if self.keys.is_empty() {
                out.push(b);
                continue;
            }
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return (out, true);
                }
                continue;
            }
            // The held-back prefix was typing after all.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    self.matched = 0;
                    return (out, true);
                }
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_syntax() {
        assert_eq!(parse("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse("").unwrap(), vec![16, 17]);
        assert_eq!(
            parse("ctrl-@,a,ctrl-\\,ctrl-_").unwrap(),
            vec![0, b'a', 28, 31]
        );
        assert_eq!(parse("CTRL-X").unwrap(), vec![24]);
        assert!(parse("ctrl-1").is_err());
        assert!(parse("shift-a").is_err());
        assert!(parse("a,,b").is_err());
    }

    #[test]
    fn matches_across_reads_and_forwards_broken_prefixes() {
        let mut m = Matcher::new(vec![16, 17]);
        assert_eq!(m.feed(b"ls\x10"), (b"ls".to_vec(), false));
        assert_eq!(m.feed(b"\x11rest"), (Vec::new(), true));
        let mut m = Matcher::new(vec![16, 17]);
        assert_eq!(m.feed(b"\x10x"), (b"\x10x".to_vec(), false));
        assert_eq!(m.feed(b"\x10\x10\x11"), (b"\x10".to_vec(), true));
        let mut m = Matcher::new(vec![b'q']);
        assert_eq!(m.feed(b"abqc"), (b"ab".to_vec(), true));
    }
}
