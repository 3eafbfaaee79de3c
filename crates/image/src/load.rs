//! `husk load`: docker-save archives (manifest.json; legacy `<id>/layer.tar`
//! or docker ≥25's blobs/) and OCI image-layout archives (index.json, as
//! `docker save` ≥25, `podman save --format oci-archive` and skopeo write).

use std::io::Read;
use std::path::{Path, PathBuf};

use husk_layers::Digest;
use serde::Deserialize;

use crate::archive::Archive;
use crate::import::put_manifest;
use crate::reference::Reference;
use crate::store::{Image, Store, StoredLayer};
use crate::types::*;
use crate::{Error, Result};

/// One image a load stored, with the names it got.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub image: Image,
    pub names: Vec<Reference>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Loads every image in the archive at `path` (stdin is spooled to a file
/// first by the caller: archives need random access).
pub fn load(store: &Store, path: &Path) -> Result<Vec<Loaded>> {
    let result = load_archive(store, path);
    if result.is_err() {
        // Layers of a half-loaded image are complete but unreferenced:
        // remove them so a failed load stores nothing.
        let _ = store.gc();
    }
    result.map_err(|e| e.explain_no_space(|| "the loaded image".into(), store.root()))
}

fn load_archive(store: &Store, path: &Path) -> Result<Vec<Loaded>> {
    let archive = Archive::open(path)?;
    if archive.contains("manifest.json") {
        load_docker(store, &archive)
    } else if archive.contains("index.json") {
        load_oci(store, &archive)
    } else if let Some(len) = archive.truncated_at() {
        Err(Error::archive(
            path,
            format!("truncated or corrupt archive: it ends after {len} bytes without the end-of-archive marker, and without manifest.json or index.json"),
        ))
    } else {
        Err(Error::NotArchive {
            path: path.to_path_buf(),
            reason: "a tar file with neither manifest.json nor index.json".into(),
        })
    }
}

/// Copies `reader` (stdin) into the store's tmp/; the file goes on drop
/// (or, after a crash, with the next writer's tmp/ cleanup).
pub fn spool(store: &Store, mut reader: impl Read) -> Result<Spooled> {
    let path = store.tmp_dir().join(format!("load-{}", std::process::id()));
    let spooled = Spooled(path.clone());
    let mut f = std::fs::File::create(&path).map_err(|e| Error::io("create", &path, e))?;
    std::io::copy(&mut reader, &mut f)
        .map_err(|e| Error::io("write", &path, e))
        .map_err(|e| e.explain_no_space(|| "the archive read from stdin".into(), store.root()))?;
    Ok(spooled)
}

/// A spooled archive under tmp/.
pub struct Spooled(PathBuf);

impl Spooled {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn load_docker(store: &Store, archive: &Archive) -> Result<Vec<Loaded>> {
    let data = archive.read("manifest.json")?;
    let entries: Vec<DockerManifest> =
        serde_json::from_slice(&data).map_err(|e| Error::json("manifest.json", e))?;
    let mut out = Vec::new();
    for m in entries {
        let config_bytes = archive.read(&m.config)?;
        let config_digest = Digest::of(&config_bytes);
        check_blob_name(&m.config, &config_digest)?;
        let config: ImageConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::json(format!("image config {}", m.config), e))?;
        if config.rootfs.diff_ids.len() != m.layers.len() {
            return Err(Error::archive(
                archive.path(),
                format!(
                    "{} lists {} layers but its config {} diff ids",
                    m.config,
                    m.layers.len(),
                    config.rootfs.diff_ids.len()
                ),
            ));
        }
        let mut layers = Vec::new();
        let mut parent: Option<Digest> = None;
        for (file, diff_id) in m.layers.iter().zip(&config.rootfs.diff_ids) {
            let expected = blob_name_digest(file);
            let l = put_member_layer(
                store,
                archive,
                file,
                parent.as_ref(),
                None,
                expected.as_ref(),
                diff_id,
            )?;
            parent = Some(l.chain_id.clone());
            layers.push(l.descriptor);
        }
        store.blobs.put_bytes(&config_bytes)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MT_OCI_MANIFEST.into()),
            config: Descriptor::new(MT_OCI_CONFIG, config_digest, config_bytes.len() as u64),
            layers,
        };
        let desc = put_manifest(store, &manifest)?;
        let names = parse_names(m.repo_tags.unwrap_or_default().iter().map(String::as_str))?;
        let image = store.add_image(desc, &names)?;
        out.push(Loaded { image, names });
    }
    Ok(out)
}

fn load_oci(store: &Store, archive: &Archive) -> Result<Vec<Loaded>> {
    let data = archive.read("index.json")?;
    let index: Index = serde_json::from_slice(&data).map_err(|e| Error::json("index.json", e))?;
    let mut out = Vec::new();
    for desc in &index.manifests {
        let names = oci_names(desc)?;
        let manifest_desc = pick_manifest(archive, desc)?;
        let bytes = read_blob(archive, &manifest_desc.digest)?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| Error::json(format!("manifest {}", manifest_desc.digest), e))?;
        let config_bytes = read_blob(archive, &manifest.config.digest)?;
        let config: ImageConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::json(format!("image config {}", manifest.config.digest), e))?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(Error::archive(
                archive.path(),
                "manifest and config disagree on the number of layers",
            ));
        }
        let mut parent: Option<Digest> = None;
        for (l, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
            let file = format!("blobs/sha256/{}", l.digest.hex());
            let stored = put_member_layer(
                store,
                archive,
                &file,
                parent.as_ref(),
                Some(&l.media_type),
                Some(&l.digest),
                diff_id,
            )?;
            parent = Some(stored.chain_id);
        }
        store.blobs.put_bytes(&config_bytes)?;
        store.blobs.put_bytes(&bytes)?;
        let stored = Descriptor::new(
            manifest
                .media_type
                .as_deref()
                .unwrap_or(&manifest_desc.media_type),
            manifest_desc.digest.clone(),
            bytes.len() as u64,
        );
        let image = store.add_image(stored, &names)?;
        out.push(Loaded { image, names });
    }
    Ok(out)
}

fn put_member_layer(
    store: &Store,
    archive: &Archive,
    file: &str,
    parent: Option<&Digest>,
    media_type: Option<&str>,
    expected: Option<&Digest>,
    diff_id: &Digest,
) -> Result<StoredLayer> {
    let reader = archive.open_member(file)?;
    store
        .put_layer(parent, reader, media_type, expected, Some(diff_id))
        .map_err(|e| match e {
            Error::Layers(
                e @ (husk_layers::Error::Stream(_)
                | husk_layers::Error::Decompress(..)
                | husk_layers::Error::NotTar(_)
                | husk_layers::Error::Corrupt { .. }
                | husk_layers::Error::Truncated(_)),
            ) => Error::archive(
                archive.path(),
                format!(
                    "layer {}: {}",
                    crate::printable(file, 100),
                    husk_fs::Chain(&e)
                ),
            ),
            other => other,
        })
}

/// A blob read from the archive's blobs/ and checked against its digest.
fn read_blob(archive: &Archive, digest: &Digest) -> Result<Vec<u8>> {
    let data = archive.read(&format!("blobs/sha256/{}", digest.hex()))?;
    crate::blobs::check(Some(digest), &Digest::of(&data), &format!("blob {digest}"))?;
    Ok(data)
}

/// An index entry may be a manifest list: take this machine's platform.
fn pick_manifest(archive: &Archive, desc: &Descriptor) -> Result<Descriptor> {
    if desc.media_type != MT_OCI_INDEX && desc.media_type != MT_DOCKER_LIST {
        return Ok(desc.clone());
    }
    let data = read_blob(archive, &desc.digest)?;
    let index: Index = serde_json::from_slice(&data)
        .map_err(|e| Error::json(format!("index {}", desc.digest), e))?;
    let arch = host_arch();
    index
        .manifests
        .iter()
        .find(|m| {
            m.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == arch)
        })
        .or_else(|| index.manifests.first())
        .cloned()
        .ok_or_else(|| {
            Error::archive(
                archive.path(),
                format!("index {} lists no manifests", desc.digest),
            )
        })
}

/// Names from an OCI index entry: containerd's full-name annotation, or a
/// ref.name that is a full reference. A bare tag ("latest", as docker
/// writes next to the containerd name) names no repository.
fn oci_names(desc: &Descriptor) -> Result<Vec<Reference>> {
    if let Some(n) = desc.annotations.get(ANN_CONTAINERD_NAME) {
        return parse_names([n.as_str()]);
    }
    match desc.annotations.get(ANN_REF_NAME) {
        Some(n) if n.contains(['/', ':']) => parse_names([n.as_str()]),
        _ => Ok(Vec::new()),
    }
}

fn parse_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<Reference>> {
    names.into_iter().map(Reference::parse).collect()
}

fn blob_name_digest(file: &str) -> Option<Digest> {
    file.strip_prefix("blobs/sha256/")
        .and_then(|h| Digest::from_hex(h).ok())
}

/// docker ≥25 names configs by digest: hold it to that.
fn check_blob_name(file: &str, actual: &Digest) -> Result<()> {
    let stem = file.trim_end_matches(".json");
    let named = blob_name_digest(file).or_else(|| Digest::from_hex(stem).ok());
    crate::blobs::check(named.as_ref(), actual, &format!("config {file}"))
}
