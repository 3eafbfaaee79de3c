//! `husk import`: a plain root filesystem tarball becomes a one-layer image.

use std::io::Read;

use husk_layers::Digest;

use crate::reference::Reference;
use crate::store::{Image, Store};
use crate::types::*;
use crate::{Error, Result};

/// Imports `reader` (tar, tar+gzip or tar+zstd). `source` is what the user
/// named, recorded in the history comment as docker does.
pub fn import<R: Read + Send>(
    store: &Store,
    reader: R,
    source: &str,
    name: Option<&Reference>,
    message: Option<&str>,
) -> Result<Image> {
    let result = import_layer(store, reader, source, name, message);
    if result.is_err() {
        let _ = store.gc();
    }
    result.map_err(|e| {
        e.explain_no_space(
            || format!("the layer imported from {}", crate::printable(source, 100)),
            store.root(),
        )
    })
}

fn import_layer<R: Read + Send>(
    store: &Store,
    reader: R,
    source: &str,
    name: Option<&Reference>,
    message: Option<&str>,
) -> Result<Image> {
    let layer = store.put_layer(None, reader, None, None, None)?;
    // Go's RFC3339Nano, as docker writes it: a config that passes through
    // Go tools (skopeo) keeps its bytes and so its image id.
    let now = husk_fs::now_rfc3339();
    let comment = match message {
        Some(m) => m.to_string(),
        None => format!("Imported from {source}"),
    };
    let config = ImageConfig {
        created: Some(now.clone()),
        architecture: host_arch().into(),
        os: "linux".into(),
        config: serde_json::json!({}),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![layer.diff_id.clone()],
        },
        history: vec![History {
            created: Some(now),
            created_by: Some("husk import".into()),
            comment: Some(comment),
            ..Default::default()
        }],
        ..Default::default()
    };
    let config_bytes = serde_json::to_vec(&config).map_err(|e| Error::json("image config", e))?;
    let config_desc = Descriptor::new(
        MT_OCI_CONFIG,
        store.blobs.put_bytes(&config_bytes)?,
        config_bytes.len() as u64,
    );
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(MT_OCI_MANIFEST.into()),
        config: config_desc,
        layers: vec![layer.descriptor],
    };
    let desc = put_manifest(store, &manifest)?;
    let names: Vec<Reference> = name.cloned().into_iter().collect();
    store.add_image(desc, &names)
}

pub(crate) fn put_manifest(store: &Store, manifest: &Manifest) -> Result<Descriptor> {
    let bytes = serde_json::to_vec(manifest).map_err(|e| Error::json("manifest", e))?;
    let digest: Digest = store.blobs.put_bytes(&bytes)?;
    Ok(Descriptor::new(MT_OCI_MANIFEST, digest, bytes.len() as u64))
}
