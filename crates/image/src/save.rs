//! `husk save`: docker-archive (manifest.json + `<diffid>/layer.tar`, the
//! layout every docker and skopeo reads) or oci-archive (an OCI image layout
//! in a tar: our blobs copied as they are).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufReader, Read, Write};

use husk_layers::{Compression, Digest};
use serde::Serialize;

use crate::store::{Image, Store};
use crate::types::*;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DockerArchive,
    OciArchive,
}

/// An image to save and the name it was asked by (if a name).
pub struct SaveItem {
    pub image: Image,
    pub names: Vec<crate::Reference>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifest {
    config: String,
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

pub fn save<W: Write>(store: &Store, items: &[SaveItem], format: Format, out: W) -> Result<W> {
    let mut tar = tar::Builder::new(out);
    match format {
        Format::DockerArchive => docker_archive(store, items, &mut tar)?,
        Format::OciArchive => oci_archive(store, items, &mut tar)?,
    }
    tar.into_inner()
        .map_err(|e| Error::io("write", "archive", e))
}

fn add<W: Write>(tar: &mut tar::Builder<W>, name: &str, size: u64, data: impl Read) -> Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, name, data)
        .map_err(|e| Error::io("write archive member", name, e))
}

fn add_dir<W: Write>(tar: &mut tar::Builder<W>, name: &str) -> Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(0);
    h.set_mode(0o755);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Directory);
    tar.append_data(&mut h, name, std::io::empty())
        .map_err(|e| Error::io("write archive member", name, e))
}

fn docker_archive<W: Write>(
    store: &Store,
    items: &[SaveItem],
    tar: &mut tar::Builder<W>,
) -> Result<()> {
    let mut manifests = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut written = HashSet::new();
    for item in items {
        let config = store.config_bytes(&item.image)?;
        let cfg = store.config(&item.image)?;
        let manifest = store.manifest(&item.image)?;
        let config_name = format!("{}.json", item.image.id.hex());
        if written.insert(config_name.clone()) {
            add(tar, &config_name, config.len() as u64, &config[..])?;
        }
        let chain = store.chain_ids(&item.image)?;
        let mut layers = Vec::new();
        for ((l, diff_id), chain_id) in manifest.layers.iter().zip(&cfg.rootfs.diff_ids).zip(&chain)
        {
            let name = format!("{}/layer.tar", diff_id.hex());
            if written.insert(name.clone()) {
                add_dir(tar, diff_id.hex())?;
                write_uncompressed(store, tar, &name, &l.digest, chain_id)?;
            }
            layers.push(name);
        }
        let tags: Vec<String> = item.names.iter().map(|r| r.familiar()).collect();
        if let Some(top) = cfg.rootfs.diff_ids.last() {
            for r in &item.names {
                repositories
                    .entry(r.familiar_repo().to_string())
                    .or_default()
                    .insert(r.tag().to_string(), top.hex().to_string());
            }
        }
        manifests.push(DockerManifest {
            config: config_name,
            repo_tags: if tags.is_empty() { None } else { Some(tags) },
            layers,
        });
    }
    let json = serde_json::to_vec(&manifests).map_err(|e| Error::json("manifest.json", e))?;
    add(tar, "manifest.json", json.len() as u64, &json[..])?;
    if !repositories.is_empty() {
        let json = serde_json::to_vec(&repositories).map_err(|e| Error::json("repositories", e))?;
        add(tar, "repositories", json.len() as u64, &json[..])?;
    }
    Ok(())
}

/// docker-archive layers are plain tars; compressed blobs are inflated on
/// the way out (their uncompressed size is known from the layer record).
fn write_uncompressed<W: Write>(
    store: &Store,
    tar: &mut tar::Builder<W>,
    name: &str,
    blob: &Digest,
    chain_id: &Digest,
) -> Result<()> {
    let size = store.layers.meta(chain_id)?.diff_size;
    let mut reader = BufReader::with_capacity(256 * 1024, store.blobs.open(blob)?);
    let comp = Compression::detect(&mut reader, None)?;
    let decoded = comp.decoder(reader)?;
    // Never write more or less than the header promised, whatever the blob holds.
    let mut exact = decoded.take(size);
    add(tar, name, size, &mut exact)
}

fn oci_archive<W: Write>(
    store: &Store,
    items: &[SaveItem],
    tar: &mut tar::Builder<W>,
) -> Result<()> {
    let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    add(tar, "oci-layout", layout.len() as u64, &layout[..])?;
    add_dir(tar, "blobs")?;
    add_dir(tar, "blobs/sha256")?;
    let mut index = Index::default();
    let mut written = HashSet::new();
    for item in items {
        let manifest = store.manifest(&item.image)?;
        let blobs = [&item.image.manifest.digest, &manifest.config.digest]
            .into_iter()
            .chain(manifest.layers.iter().map(|l| &l.digest));
        for d in blobs {
            if written.insert(d.clone()) {
                let size = store.blobs.size(d)?;
                add(
                    tar,
                    &format!("blobs/sha256/{}", d.hex()),
                    size,
                    store.blobs.open(d)?,
                )?;
            }
        }
        if item.names.is_empty() {
            index.manifests.push(item.image.manifest.clone());
        }
        // docker ≥25's pair: containerd's full name and the bare tag.
        for r in &item.names {
            let mut d = item.image.manifest.clone();
            d.annotations
                .insert(ANN_CONTAINERD_NAME.into(), r.to_string());
            d.annotations
                .insert(ANN_REF_NAME.into(), r.tag().to_string());
            index.manifests.push(d);
        }
    }
    let json = serde_json::to_vec(&index).map_err(|e| Error::json("index.json", e))?;
    add(tar, "index.json", json.len() as u64, &json[..])
}
