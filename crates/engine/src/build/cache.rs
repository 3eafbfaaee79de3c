//! The build cache: a step's key (its parent image, its instruction after
//! expansion, and for COPY/ADD the checksums of what it copies) names the
//! image that step made. Entries live under `<root>/build/cache/<key>` as
//! the image id, written atomically; an entry whose image was removed is a
//! miss. So an unchanged rebuild runs no RUN and writes no layer, and
//! ends on the same image id.

use std::path::{Path, PathBuf};

use husk_image::{Digest, Image, Store};

use super::context::Hasher;
use crate::{Error, Result};

pub struct Cache {
    dir: PathBuf,
}

/// What a step's cache key is made of.
pub struct Key<'a> {
    /// The image the step starts from; `None` for `scratch`.
    pub parent: Option<&'a Digest>,
    /// The instruction as docker would show it after expansion.
    pub instruction: &'a str,
    /// Checksums of the sources (COPY/ADD), and anything else that
    /// changes the result (RUN's build args in its environment).
    pub extra: &'a [String],
}

impl Key<'_> {
    pub fn digest(&self) -> String {
        let mut h = Hasher::default();
        h.add(b"husk-build-cache-v1\0");
        h.add(
            self.parent
                .map(|p| p.as_str())
                .unwrap_or("scratch")
                .as_bytes(),
        );
        h.add(b"\0");
        h.add(self.instruction.as_bytes());
        for e in self.extra {
            h.add(b"\0");
            h.add(e.as_bytes());
        }
        let d = h.finish();
        d.trim_start_matches("sha256:").to_string()
    }
}

impl Cache {
    pub fn new(root: &Path) -> Cache {
        Cache {
            dir: root.join("build").join("cache"),
        }
    }

    /// The image a step with this key made, if it is still in the store.
    pub fn get(&self, store: &Store, key: &str) -> Option<Image> {
        let text = std::fs::read_to_string(self.dir.join(key)).ok()?;
        let id: Digest = text.trim().parse().ok()?;
        store.images().ok()?.into_iter().find(|i| i.id == id)
    }

    /// `system prune`'s build cache: the entries whose image is gone (a
    /// pruned step image: they only miss now), or with `all` every one;
    /// returns the keys removed.
    pub fn prune(&self, store: &Store, all: bool) -> Result<Vec<String>> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read dir", &self.dir, e)),
        };
        let images: Vec<Digest> = store.images()?.into_iter().map(|i| i.id).collect();
        let mut removed = Vec::new();
        for e in rd.flatten() {
            let key = e.file_name().to_string_lossy().into_owned();
            let live = std::fs::read_to_string(e.path())
                .ok()
                .and_then(|t| t.trim().parse::<Digest>().ok())
                .is_some_and(|id| images.contains(&id));
            if all || !live {
                match std::fs::remove_file(e.path()) {
                    Ok(()) => removed.push(key),
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => return Err(Error::io("remove", e.path(), err)),
                }
            }
        }
        removed.sort();
        Ok(removed)
    }

    pub fn put(&self, key: &str, image: &Digest) -> Result<()> {
        crate::store::private_create(&self.dir)?;
        husk_fs::write_atomic(&self.dir.join(key), image.as_str().as_bytes(), 0o600)
            .map_err(Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_change_with_each_part() {
        let p: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        let base = Key {
            parent: Some(&p),
            instruction: "RUN true",
            extra: &[],
        }
        .digest();
        assert_eq!(base.len(), 64);
        let other = [
            Key {
                parent: None,
                instruction: "RUN true",
                extra: &[],
            },
            Key {
                parent: Some(&p),
                instruction: "RUN false",
                extra: &[],
            },
            Key {
                parent: Some(&p),
                instruction: "RUN true",
                extra: &["x".into()],
            },
        ];
        for k in other {
            assert_ne!(k.digest(), base);
        }
    }
}
