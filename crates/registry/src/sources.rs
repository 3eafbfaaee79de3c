//! Where the registry side of a blob is known to be: the repositories a
//! blob was pulled from or pushed to (docker's v2metadata). A push to
//! another repository of the same registry then asks the registry to
//! mount the blob from one of them instead of uploading it again.
//!
//! `ROOT/distribution/sha256/<hex>` holds a JSON list of `host/repository`,
//! newest first. It is a hint: a stale entry costs one refused mount, and
//! the blob is uploaded as if there were none.

use std::path::{Path, PathBuf};

use husk_image::Digest;

/// Entries kept per blob: enough for a few repositories.
const MAX_ENTRIES: usize = 8;

pub struct Sources {
    dir: PathBuf,
}

impl Sources {
    /// The records of the engine root `root`.
    pub fn new(root: &Path) -> Sources {
        Sources {
            dir: root.join("distribution"),
        }
    }

    /// Repositories (`repository` paths, no host) of `registry` known to
    /// hold `blob`, newest first. Unreadable records are no hint.
    pub fn repositories(&self, blob: &Digest, registry: &str) -> Vec<String> {
        self.read(blob)
            .into_iter()
            .filter_map(|e| {
                let (host, repo) = e.split_once('/')?;
                (host == registry).then(|| repo.to_string())
            })
            .collect()
    }

    /// Notes that `registry`'s `repository` holds `blob`.
    pub fn record(&self, blob: &Digest, registry: &str, repository: &str) -> crate::Result<()> {
        let sha = self.dir.join("sha256");
        std::fs::create_dir_all(&sha).map_err(|e| husk_fs::Error::io("create", &sha, e))?;
        // Pushes of several layers record from several threads and
        // processes: one writer at a time keeps every entry.
        let _lock = husk_fs::Lock::exclusive(&self.dir.join("lock"))?;
        let entry = format!("{registry}/{repository}");
        let mut entries = self.read(blob);
        if entries.first() == Some(&entry) {
            return Ok(());
        }
        entries.retain(|e| *e != entry);
        entries.insert(0, entry);
        entries.truncate(MAX_ENTRIES);
        husk_fs::write_json_atomic(&self.path(blob), &entries)?;
        Ok(())
    }

    fn path(&self, blob: &Digest) -> PathBuf {
        self.dir.join("sha256").join(blob.hex())
    }

    fn read(&self, blob: &Digest) -> Vec<String> {
        std::fs::read(self.path(blob))
            .ok()
            .and_then(|d| serde_json::from_slice(&d).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_newest_first_per_registry() {
        let dir = tempfile::tempdir().unwrap();
        let s = Sources::new(dir.path());
        let d = Digest::of(b"layer");
        assert!(s.repositories(&d, "127.0.0.1:5000").is_empty());
        s.record(&d, "127.0.0.1:5000", "a/one").unwrap();
        s.record(&d, "127.0.0.1:5001", "other").unwrap();
        s.record(&d, "127.0.0.1:5000", "b").unwrap();
        s.record(&d, "127.0.0.1:5000", "a/one").unwrap();
        assert_eq!(s.repositories(&d, "127.0.0.1:5000"), ["a/one", "b"]);
        assert_eq!(s.repositories(&d, "127.0.0.1:5001"), ["other"]);
        std::fs::write(s.path(&d), "garbage").unwrap();
        assert!(s.repositories(&d, "127.0.0.1:5000").is_empty());
    }
}
