//! The engine root as an OCI image layout plus unpacked layers:
//!
//! ```text
//! oci-layout, index.json     the image list: one manifest descriptor per (image, name)
//! blobs/sha256/<hex>         manifests, configs, layer blobs (as received, compressed or not)
//! layers/, l/                unpacked layers by chain id (see husk_layers::LayerStore)
//! tmp/                       staging; emptied by the next writer
//! images.lock                flock: writers exclusive, readers shared
//! ```
//! Tags live in index.json as `org.opencontainers.image.ref.name`, holding
//! the fully qualified name (`docker.io/library/busybox:latest`); an image
//! with no name is a descriptor without the annotation (a dangling image).
//! index.json is the commit point: it is rewritten atomically only after
//! every blob and layer it names is durable, so a crash or Ctrl-C at any
//! moment leaves no listed image with missing parts; what it strands is
//! either in tmp/ (removed by the next writer) or complete but unreferenced
//! (reused by the next load, removed by `rmi`/`image prune`).

mod commit;
mod layer;
mod records;

pub use commit::NewImage;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use husk_fs::Lock;
use husk_layers::{Digest, LayerStore};

use crate::blobs::BlobStore;
use crate::reference::Reference;
use crate::types::*;
use crate::{Error, Result};

/// The store's directories, closed with the root when an older husk left
/// them open (and its files, which only mark an open root as a store).
const STORE_DIRS: &[&str] = &["layers", "l", "tmp", "blobs", "index.json", "images.lock"];

/// Staging names this store owns under tmp/ (other users of tmp/ keep theirs).
const TMP_PREFIXES: &[&str] = &["blob-", "layer-", "rm-", "load-"];

/// One image record: a manifest and the names pointing at it.
#[derive(Debug, Clone)]
pub struct Image {
    /// Image id: the config digest.
    pub id: Digest,
    pub manifest: Descriptor,
    pub names: Vec<Reference>,
}

/// A layer stored by [`Store::put_layer`].
#[derive(Debug, Clone)]
pub struct StoredLayer {
    pub descriptor: Descriptor,
    pub diff_id: Digest,
    pub chain_id: Digest,
}

/// What `rmi` did, in docker's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    Untagged(String),
    Deleted(Digest),
}

/// A container's hold on the store, as the engine knows it. docker's
/// rules follow from it: `rmi` refuses (or, forced, only untags) an image
/// a container uses, and no clean-up removes a layer a container stands
/// on, running or stopped, even once its image is gone.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The container's full id.
    pub container: String,
    /// The image it was created from.
    pub image: Option<Digest>,
    /// Running (or paused): its image cannot be deleted even by force.
    pub running: bool,
    /// Its overlay lower dirs, as [`Store::lowerdirs`] gave them.
    pub lower_dirs: Vec<PathBuf>,
}

impl Holder {
    /// docker's 12-digit container id.
    pub fn short(&self) -> &str {
        &self.container[..12.min(self.container.len())]
    }
}

pub struct Store {
    root: PathBuf,
    pub blobs: BlobStore,
    pub layers: LayerStore,
    _lock: Lock,
    writable: bool,
    /// What containers hold (see [`Store::set_holders`]).
    holders: Vec<Holder>,
}

impl Store {
    /// Opens the store for changes: takes the exclusive lock (so two loads
    /// never unpack the same layer twice) and clears what crashed writers left.
    pub fn open_write(root: &Path) -> Result<Store> {
        let s = Store::open(root, true)?;
        s.clean_tmp()?;
        Ok(s)
    }

    /// Opens the store for reading under a shared lock, so blobs cannot be
    /// removed while they are read.
    pub fn open_read(root: &Path) -> Result<Store> {
        let s = Store::open(root, false)?;
        s.clean_tmp()?;
        Ok(s)
    }

    /// Like [`Store::open_write`], but `None` at once when another writer
    /// holds the store: for clean-ups that the next writer can do as well.
    pub fn try_open_write(root: &Path) -> Result<Option<Store>> {
        match Store::open_with(root, true, Some(std::time::Duration::ZERO)) {
            Ok(s) => {
                s.clean_tmp()?;
                Ok(Some(s))
            }
            Err(Error::Fs(e)) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Tells the store what containers hold, read after the lock was
    /// taken (a `create` keeps a shared lock until its record exists, so
    /// none is missed). Without it the store knows of no container.
    pub fn set_holders(&mut self, holders: Vec<Holder>) {
        self.holders = holders;
    }

    pub fn holders(&self) -> &[Holder] {
        &self.holders
    }

    fn open(root: &Path, writable: bool) -> Result<Store> {
        Store::open_with(root, writable, None)
    }

    fn open_with(root: &Path, writable: bool, wait: Option<std::time::Duration>) -> Result<Store> {
        // Layers hold what images hold (setuid-root files, file
        // capabilities, device nodes): no other user may reach them.
        husk_fs::private_dir(root, STORE_DIRS)?;
        let lock_path = root.join("images.lock");
        let lock = if let Some(t) = wait.filter(|_| writable) {
            Lock::exclusive_timeout(&lock_path, t)?
        } else if writable {
            Lock::exclusive(&lock_path)?
        } else {
            Lock::shared(&lock_path)?
        };
        let s = Store {
            root: root.to_path_buf(),
            blobs: BlobStore::new(root),
            layers: LayerStore::new(root),
            _lock: lock,
            writable,
            holders: Vec::new(),
        };
        if writable {
            s.blobs.init()?;
            s.layers.init()?;
            let layout = root.join("oci-layout");
            if !layout.exists() {
                husk_fs::write_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#, 0o644)?;
            }
            if !s.index_path().exists() {
                s.write_index(&Index::default())?;
            }
        }
        Ok(s)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Removes what interrupted writers left. Safe under either lock: a
    /// shared or exclusive holder knows no writer is mid-operation.
    fn clean_tmp(&self) -> Result<()> {
        let sweep = |dir: &Path, prefixes: &[&str]| -> Result<()> {
            let rd = match fs::read_dir(dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(Error::io("read dir", dir, e)),
            };
            for ent in rd {
                let ent = ent.map_err(|e| Error::io("read dir", dir, e))?;
                let name = ent.file_name();
                if !prefixes
                    .iter()
                    .any(|p| name.to_string_lossy().starts_with(p))
                {
                    continue;
                }
                let p = ent.path();
                let res = match ent.file_type() {
                    Ok(t) if t.is_dir() => fs::remove_dir_all(&p),
                    _ => fs::remove_file(&p),
                };
                match res {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::io("remove leftover", &p, e))
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        sweep(&self.tmp_dir(), TMP_PREFIXES)?;
        // husk_fs::write_atomic's temp files for index.json and oci-layout.
        sweep(&self.root, &[".index.json.tmp.", ".oci-layout.tmp."])
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    pub fn read_index(&self) -> Result<Index> {
        let p = self.index_path();
        match fs::read(&p) {
            Ok(data) => {
                serde_json::from_slice(&data).map_err(|e| Error::json(p.display().to_string(), e))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(Error::io("read", &p, e)),
        }
    }

    fn write_index(&self, index: &Index) -> Result<()> {
        self.require_writable()?;
        let data = serde_json::to_vec_pretty(index).map_err(|e| Error::json("index.json", e))?;
        husk_fs::write_atomic(&self.index_path(), &data, 0o644)?;
        Ok(())
    }

    fn require_writable(&self) -> Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(Error::Unsupported("image store opened read-only".into()))
        }
    }

    /// Every image record, names grouped per manifest, in index order.
    pub fn images(&self) -> Result<Vec<Image>> {
        let index = self.read_index()?;
        let mut out: Vec<Image> = Vec::new();
        for desc in index.manifests {
            let name = desc
                .annotations
                .get(ANN_REF_NAME)
                .and_then(|n| Reference::parse(n).ok());
            if let Some(img) = out.iter_mut().find(|i| i.manifest.digest == desc.digest) {
                img.names.extend(name);
                continue;
            }
            let manifest = self.manifest_of(&desc.digest)?;
            let mut plain = desc.clone();
            plain.annotations.clear();
            out.push(Image {
                id: manifest.config.digest,
                manifest: plain,
                names: name.into_iter().collect(),
            });
        }
        Ok(out)
    }

    pub fn manifest_of(&self, digest: &Digest) -> Result<Manifest> {
        let data = self.blobs.read(digest)?;
        serde_json::from_slice(&data).map_err(|e| Error::json(format!("manifest {digest}"), e))
    }

    pub fn manifest(&self, image: &Image) -> Result<Manifest> {
        self.manifest_of(&image.manifest.digest)
    }

    /// The image config, as stored.
    pub fn config_bytes(&self, image: &Image) -> Result<Vec<u8>> {
        self.blobs.read(&image.id)
    }

    pub fn config(&self, image: &Image) -> Result<ImageConfig> {
        let data = self.config_bytes(image)?;
        serde_json::from_slice(&data)
            .map_err(|e| Error::json(format!("image config {}", image.id), e))
    }

    /// The config in oci-spec's types, for building a runtime spec.
    pub fn oci_config(&self, image: &Image) -> Result<oci_spec::image::ImageConfiguration> {
        let data = self.config_bytes(image)?;
        serde_json::from_slice(&data)
            .map_err(|e| Error::json(format!("image config {}", image.id), e))
    }

    /// Chain ids of the image's layers, bottom layer first.
    pub fn chain_ids(&self, image: &Image) -> Result<Vec<Digest>> {
        let cfg = self.config(image)?;
        let mut parent: Option<Digest> = None;
        Ok(cfg
            .rootfs
            .diff_ids
            .iter()
            .map(|d| {
                let c = Digest::chain(parent.as_ref(), d);
                parent = Some(c.clone());
                c
            })
            .collect())
    }

    /// overlay `lowerdir` entries for the image, top layer first.
    pub fn lowerdirs(&self, image: &Image) -> Result<Vec<PathBuf>> {
        let mut chain = self.chain_ids(image)?;
        chain.reverse();
        Ok(self.layers.lowerdirs(&chain)?)
    }

    /// Unpacked size: the sum of the layers' file contents.
    pub fn size(&self, image: &Image) -> Result<u64> {
        let mut total = 0;
        for c in self.chain_ids(image)? {
            total += self.layers.meta(&c)?.size;
        }
        Ok(total)
    }

    /// `busybox@sha256:…`: the image pulled by that reference, or the one
    /// whose manifest has that digest.
    fn resolve_pinned(&self, name: &str) -> Result<Image> {
        let (r, _, digest) = Reference::parse_pinned(name)?;
        let not_found = || Error::NotFound {
            name: name.to_string(),
        };
        let digest = digest.ok_or_else(not_found)?;
        let pin = format!("{}@{digest}", r.repo());
        let index = self.read_index()?;
        let manifest = index
            .manifests
            .iter()
            .find(|d| d.annotations.get(ANN_REF_NAME) == Some(&pin))
            .map(|d| d.digest.clone())
            .unwrap_or(digest);
        self.images()?
            .into_iter()
            .find(|i| i.manifest.digest == manifest)
            .ok_or_else(not_found)
    }

    /// Finds an image by name (`busybox`, `busybox:1.36`), by id
    /// (`sha256:<hex>`, `<hex>`) or by a unique id prefix.
    pub fn resolve(&self, name: &str) -> Result<Image> {
        if name.contains('@') {
            return self.resolve_pinned(name);
        }
        let images = self.images()?;
        if let Ok(r) = Reference::parse(name) {
            if let Some(img) = images.iter().find(|i| i.names.contains(&r)) {
                return Ok(img.clone());
            }
        }
        let hex = name.strip_prefix("sha256:").unwrap_or(name);
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let ids: BTreeSet<&Digest> = images
                .iter()
                .filter(|i| i.id.hex().starts_with(hex) || i.manifest.digest.hex() == hex)
                .map(|i| &i.id)
                .collect();
            match ids.len() {
                0 => {}
                1 => {
                    let id = ids.into_iter().next().cloned();
                    if let Some(img) = images.into_iter().find(|i| Some(&i.id) == id.as_ref()) {
                        return Ok(img);
                    }
                }
                _ => {
                    return Err(Error::Ambiguous {
                        prefix: name.into(),
                    })
                }
            }
        }
        let shown = Reference::parse(name)
            .map(|r| r.familiar())
            .unwrap_or_else(|_| name.to_string());
        Err(Error::NotFound { name: shown })
    }
}
