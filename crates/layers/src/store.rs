//! Unpacked layers, one directory per chain id, shared by every image:
//!
//! ```text
//! layers/<chainid hex>/diff        the layer's files, overlay form (whiteouts are 0/0 char devices)
//! layers/<chainid hex>/meta.json   LayerMeta; written before the rename, so a layer dir that exists is complete
//! l/<short> -> ../layers/<chainid hex>/diff
//! tmp/                             staging: a layer is unpacked in tmp/ and renamed into layers/
//! ```
//! Directory names use the hex alone: overlay's `lowerdir=` separates with
//! `:`, so `sha256:` must not appear in a lower path. The short links keep a
//! long lowerdir list under the one-page mount option limit.
//!
//! The store does not lock: its caller (the image store) holds the engine
//! root's flock around every change.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::{Error, Result};

/// Length of the names under `l/`: enough hex to never collide in practice.
const SHORT_LEN: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LayerMeta {
    pub chain_id: Digest,
    pub diff_id: Digest,
    pub parent: Option<Digest>,
    /// Bytes of the uncompressed tar stream.
    pub diff_size: u64,
    /// Bytes of regular-file content.
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct LayerStore {
    root: PathBuf,
}

/// A layer being unpacked under `tmp/`; removed on drop unless committed.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    committed: bool,
}

impl Staged {
    /// The directory to unpack into.
    pub fn diff(&self) -> PathBuf {
        self.dir.join("diff")
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// `mkdir -p` whose new directories only their owner can enter: layers
/// hold setuid files, file capabilities and device nodes from images.
pub(crate) fn private_create(p: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(husk_fs::PRIVATE_MODE)
        .create(p)
        .map_err(|e| Error::io("create", p, e))
}

impl LayerStore {
    /// `root` is the engine root; `layers/`, `l/` and `tmp/` live under it.
    pub fn new(root: &Path) -> LayerStore {
        LayerStore {
            root: root.to_path_buf(),
        }
    }

    pub fn init(&self) -> Result<()> {
        for d in ["layers", "l", "tmp"] {
            let p = self.root.join(d);
            private_create(&p)?;
        }
        Ok(())
    }

    fn dir(&self, chain_id: &Digest) -> PathBuf {
        self.root.join("layers").join(chain_id.hex())
    }

    /// The unpacked files of a layer.
    pub fn diff_path(&self, chain_id: &Digest) -> PathBuf {
        self.dir(chain_id).join("diff")
    }

    pub fn exists(&self, chain_id: &Digest) -> bool {
        self.dir(chain_id).join("meta.json").is_file()
    }

    pub fn meta(&self, chain_id: &Digest) -> Result<LayerMeta> {
        let p = self.dir(chain_id).join("meta.json");
        let data = fs::read(&p).map_err(|e| Error::io("read", &p, e))?;
        serde_json::from_slice(&data).map_err(|e| Error::Layer {
            chain_id: chain_id.to_string(),
            reason: format!("corrupt {}: {e}", p.display()),
        })
    }

    /// A fresh staging directory with an empty `diff/`.
    pub fn stage(&self) -> Result<Staged> {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = self
            .root
            .join("tmp")
            .join(format!("layer-{}-{n}", std::process::id()));
        let staged = Staged {
            dir,
            committed: false,
        };
        let _ = fs::remove_dir_all(&staged.dir);
        fs::create_dir_all(staged.diff()).map_err(|e| Error::io("create", staged.diff(), e))?;
        Ok(staged)
    }

    /// Makes a staged layer visible: meta.json first, then one rename, so a
    /// crash at any point leaves either no layer or a complete one. A layer
    /// that is already there wins (the staged copy is dropped).
    pub fn commit(&self, mut staged: Staged, meta: &LayerMeta) -> Result<()> {
        let target = self.dir(&meta.chain_id);
        if !self.exists(&meta.chain_id) {
            husk_fs::write_json_atomic(&staged.dir.join("meta.json"), meta)?;
            // A leftover without meta.json is a crashed delete: replace it.
            if target.exists() {
                fs::remove_dir_all(&target).map_err(|e| Error::io("remove", &target, e))?;
            }
            fs::rename(&staged.dir, &target).map_err(|e| Error::io("rename to", &target, e))?;
            staged.committed = true;
            husk_fs::fsync_dir(&self.root.join("layers"))?;
        }
        self.short_link(&meta.chain_id)?;
        Ok(())
    }

    fn short_name(chain_id: &Digest) -> &str {
        &chain_id.hex()[..SHORT_LEN]
    }

    /// Creates `l/<short>` if missing (it is made after the rename, so a
    /// crash can lose it; every reader repairs it).
    fn short_link(&self, chain_id: &Digest) -> Result<PathBuf> {
        let link = self.root.join("l").join(Self::short_name(chain_id));
        if fs::symlink_metadata(&link).is_err() {
            let target = Path::new("../layers").join(chain_id.hex()).join("diff");
            match std::os::unix::fs::symlink(&target, &link) {
                Ok(()) => husk_fs::fsync_dir(&self.root.join("l"))?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io("symlink", &link, e)),
            }
        }
        Ok(link)
    }

    /// Overlay lower dirs for a stack of layers, given top layer first (the
    /// order `lowerdir=` wants), as short `l/` paths.
    pub fn lowerdirs(&self, chain_ids_top_first: &[Digest]) -> Result<Vec<PathBuf>> {
        chain_ids_top_first
            .iter()
            .map(|c| {
                if !self.exists(c) {
                    return Err(Error::Layer {
                        chain_id: c.to_string(),
                        reason: "not unpacked in this store".into(),
                    });
                }
                self.short_link(c)
            })
            .collect()
    }

    /// The layers of the store that overlay lower dirs name, as
    /// [`LayerStore::lowerdirs`] made them (`l/<short>`) or by their
    /// directory (`layers/<hex>/diff`): what a container stands on, which
    /// no clean-up may remove while it exists.
    pub fn named_by<P: AsRef<Path>>(&self, lowerdirs: &[P]) -> Result<Vec<Digest>> {
        let names: std::collections::HashSet<&std::ffi::OsStr> = lowerdirs
            .iter()
            .filter_map(|p| {
                let p = p.as_ref();
                if p.file_name()? == "diff" {
                    p.parent()?.file_name()
                } else {
                    p.file_name()
                }
            })
            .collect();
        Ok(self
            .list()?
            .into_iter()
            .filter(|c| {
                names.contains(std::ffi::OsStr::new(Self::short_name(c)))
                    || names.contains(std::ffi::OsStr::new(c.hex()))
            })
            .collect())
    }

    /// Every complete layer in the store.
    pub fn list(&self) -> Result<Vec<Digest>> {
        let dir = self.root.join("layers");
        let mut out = Vec::new();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io("read dir", &dir, e)),
        };
        for ent in rd {
            let ent = ent.map_err(|e| Error::io("read dir", &dir, e))?;
            if let Some(d) = ent
                .file_name()
                .to_str()
                .and_then(|h| Digest::from_hex(h).ok())
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Removes a layer: its short link, then a rename into tmp/ (so the
    /// layer vanishes at once and a crash mid-delete leaves only tmp/ junk).
    pub fn remove(&self, chain_id: &Digest) -> Result<()> {
        let link = self.root.join("l").join(Self::short_name(chain_id));
        match fs::remove_file(&link) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &link, e)),
        }
        let dir = self.dir(chain_id);
        let grave = self.root.join("tmp").join(format!("rm-{}", chain_id.hex()));
        match fs::rename(&dir, &grave) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("rename", &dir, e)),
        }
        fs::remove_dir_all(&grave).map_err(|e| Error::io("remove", &grave, e))
    }
}
