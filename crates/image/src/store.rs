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

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use husk_fs::Lock;
use husk_layers::{Compression, Digest, LayerMeta, LayerStore};

use crate::blobs::{check, BlobStore};
use crate::reference::Reference;
use crate::types::*;
use crate::{Error, Result};

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

pub struct Store {
    root: PathBuf,
    pub blobs: BlobStore,
    pub layers: LayerStore,
    _lock: Lock,
    writable: bool,
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

    fn open(root: &Path, writable: bool) -> Result<Store> {
        fs::create_dir_all(root).map_err(|e| Error::io("create", root, e))?;
        let lock_path = root.join("images.lock");
        let lock = if writable {
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
                if !prefixes.iter().any(|p| name.to_string_lossy().starts_with(p)) {
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

    /// Finds an image by name (`busybox`, `busybox:1.36`), by id
    /// (`sha256:<hex>`, `<hex>`) or by a unique id prefix.
    pub fn resolve(&self, name: &str) -> Result<Image> {
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

    /// Stores one layer blob and unpacks it once (by chain id), in a single
    /// pass that checks `expected` (blob digest) and `expected_diff_id`.
    /// A layer already unpacked is not unpacked again.
    pub fn put_layer<R: Read + Send>(
        &self,
        parent: Option<&Digest>,
        reader: R,
        media_type: Option<&str>,
        expected: Option<&Digest>,
        expected_diff_id: Option<&Digest>,
    ) -> Result<StoredLayer> {
        self.require_writable()?;
        if let (Some(d), Some(diff_id)) = (expected, expected_diff_id) {
            let chain_id = Digest::chain(parent, diff_id);
            if self.blobs.exists(d) && self.layers.exists(&chain_id) {
                let comp =
                    Compression::detect(&mut std::io::BufReader::new(self.blobs.open(d)?), None)?;
                return Ok(StoredLayer {
                    descriptor: Descriptor::new(
                        &layer_media_type(media_type, comp),
                        d.clone(),
                        self.blobs.size(d)?,
                    ),
                    diff_id: diff_id.clone(),
                    chain_id,
                });
            }
        }
        let known_chain = expected_diff_id.map(|d| Digest::chain(parent, d));
        let unpack_needed = !known_chain.as_ref().is_some_and(|c| self.layers.exists(c));
        let mut blob = self.blobs.stage()?;
        let staged = if unpack_needed {
            Some(self.layers.stage()?)
        } else {
            None
        };
        let diff = staged.as_ref().map(|s| s.diff());
        let u = husk_layers::unpack(reader, media_type, Some(&mut blob.file), diff.as_deref())?;
        check(expected, &u.digest, "layer blob")?;
        check(expected_diff_id, &u.diff_id, "layer diff id (uncompressed)")?;
        self.blobs.commit(blob, &u.digest)?;
        let chain_id = Digest::chain(parent, &u.diff_id);
        if let Some(staged) = staged {
            let meta = LayerMeta {
                chain_id: chain_id.clone(),
                diff_id: u.diff_id.clone(),
                parent: parent.cloned(),
                diff_size: u.diff_size,
                size: u.content_size,
            };
            self.layers.commit(staged, &meta)?;
        }
        Ok(StoredLayer {
            descriptor: Descriptor::new(
                &layer_media_type(media_type, u.compression),
                u.digest,
                u.size,
            ),
            diff_id: u.diff_id,
            chain_id,
        })
    }

    /// Records an image (its manifest blob and everything it names already
    /// stored) under `names`, moving each name off any other image. This
    /// single index.json rewrite is what makes the image visible.
    pub fn add_image(&self, manifest: Descriptor, names: &[Reference]) -> Result<Image> {
        self.require_writable()?;
        let m = self.manifest_of(&manifest.digest)?;
        self.verify_complete(&m)?;
        let mut index = self.read_index()?;
        let before = index.manifests.clone();
        for n in names {
            let s = n.to_string();
            index
                .manifests
                .retain(|d| d.annotations.get(ANN_REF_NAME) != Some(&s));
        }
        let mut plain = manifest.clone();
        plain.annotations.clear();
        plain.platform = None;
        // An image that lost its last name stays, listed as <none> like docker's.
        for old in before {
            if old.digest != plain.digest && !index.manifests.iter().any(|d| d.digest == old.digest)
            {
                let mut bare = old;
                bare.annotations.clear();
                index.manifests.push(bare);
            }
        }
        if !names.is_empty() {
            index
                .manifests
                .retain(|d| d.digest != plain.digest || d.annotations.contains_key(ANN_REF_NAME));
        } else if !index.manifests.iter().any(|d| d.digest == plain.digest) {
            index.manifests.push(plain.clone());
        }
        for n in names {
            let mut d = plain.clone();
            d.annotations.insert(ANN_REF_NAME.into(), n.to_string());
            index.manifests.push(d);
        }
        self.write_index(&index)?;
        Ok(Image {
            id: m.config.digest,
            manifest: plain,
            names: names.to_vec(),
        })
    }

    fn verify_complete(&self, m: &Manifest) -> Result<()> {
        if !self.blobs.exists(&m.config.digest) {
            return Err(Error::Unsupported(format!(
                "config blob {} missing",
                m.config.digest
            )));
        }
        for l in &m.layers {
            if !self.blobs.exists(&l.digest) {
                return Err(Error::Unsupported(format!(
                    "layer blob {} missing",
                    l.digest
                )));
            }
        }
        Ok(())
    }

    /// `husk tag SOURCE TARGET`.
    pub fn tag(&self, source: &str, target: &str) -> Result<()> {
        let img = self.resolve(source)?;
        let r = Reference::parse(target)?;
        self.add_image(img.manifest, &[r])?;
        Ok(())
    }

    /// `husk rmi`: removes a name, or the whole image when given by id or
    /// when its last name goes. `in_use` holds the ids of images that
    /// containers use; those are refused unless `force`.
    pub fn remove(
        &self,
        name: &str,
        force: bool,
        in_use: &HashSet<Digest>,
    ) -> Result<Vec<Removed>> {
        self.require_writable()?;
        let img = self.resolve(name)?;
        let by_name = Reference::parse(name)
            .ok()
            .filter(|r| img.names.contains(r));
        let all: Vec<Image> = self
            .images()?
            .into_iter()
            .filter(|i| i.id == img.id)
            .collect();
        let all_names: Vec<Reference> = all.iter().flat_map(|i| i.names.clone()).collect();
        let mut index = self.read_index()?;
        let mut events = Vec::new();
        if let Some(r) = by_name.as_ref().filter(|_| all_names.len() > 1) {
            let s = r.to_string();
            index
                .manifests
                .retain(|d| d.annotations.get(ANN_REF_NAME) != Some(&s));
            self.write_index(&index)?;
            return Ok(vec![Removed::Untagged(r.familiar())]);
        }
        if by_name.is_none() && all_names.len() > 1 && !force {
            return Err(Error::MultipleRepos {
                short: img.id.short().into(),
            });
        }
        if in_use.contains(&img.id) && !force {
            return Err(Error::InUse { name: name.into() });
        }
        let manifests: HashSet<&Digest> = all.iter().map(|i| &i.manifest.digest).collect();
        index.manifests.retain(|d| !manifests.contains(&d.digest));
        self.write_index(&index)?;
        events.extend(all_names.iter().map(|r| Removed::Untagged(r.familiar())));
        events.push(Removed::Deleted(img.id.clone()));
        self.gc()?;
        Ok(events)
    }

    /// Removes blobs and unpacked layers that no listed image references.
    pub fn gc(&self) -> Result<u64> {
        self.require_writable()?;
        let mut keep_blobs = HashSet::new();
        let mut keep_layers = HashSet::new();
        for img in self.images()? {
            let m = self.manifest(&img)?;
            keep_blobs.insert(img.manifest.digest.clone());
            keep_blobs.insert(m.config.digest.clone());
            keep_blobs.extend(m.layers.iter().map(|l| l.digest.clone()));
            keep_layers.extend(self.chain_ids(&img)?);
        }
        let mut freed = 0;
        for c in self.layers.list()? {
            if !keep_layers.contains(&c) {
                freed += self.layers.meta(&c).map(|m| m.size).unwrap_or(0);
                self.layers.remove(&c)?;
            }
        }
        for b in self.blobs.list()? {
            if !keep_blobs.contains(&b) {
                self.blobs.remove(&b)?;
            }
        }
        Ok(freed)
    }
}

/// The media type a stored layer gets: the one it came with, or the OCI one
/// matching what its bytes turned out to be.
fn layer_media_type(given: Option<&str>, comp: Compression) -> String {
    match given {
        Some(mt) if Compression::from_media_type(mt).is_some_and(|c| c == comp) => mt.to_string(),
        _ => format!("{MT_OCI_LAYER}{}", comp.media_type_suffix()),
    }
}
