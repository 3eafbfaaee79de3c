//! Layer ingestion: the one path every layer takes into the store, from
//! `import`, `load` and (later) a registry pull.

use std::io::Read;

use husk_layers::{Compression, Digest, LayerMeta};

use super::{Store, StoredLayer};
use crate::blobs::check;
use crate::types::*;
use crate::{Error, Result};

impl Store {
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
        self.ingest(parent, reader, media_type, expected, expected_diff_id, None)
    }

    /// [`Store::put_layer`] for a blob the caller writes itself as it
    /// reads: `reader` yields the blob while appending it to the file at
    /// `received` (a registry pull's partial blob, see
    /// [`crate::BlobStore::partial_path`]). Once both digests check, that
    /// file is renamed into blobs/, so the blob is written once; on any
    /// error it is left to the caller (kept to resume, or removed).
    pub fn put_received_layer<R: Read + Send>(
        &self,
        parent: Option<&Digest>,
        reader: R,
        media_type: Option<&str>,
        expected: &Digest,
        expected_diff_id: &Digest,
        received: &std::path::Path,
    ) -> Result<StoredLayer> {
        self.ingest(
            parent,
            reader,
            media_type,
            Some(expected),
            Some(expected_diff_id),
            Some(received),
        )
    }

    fn ingest<R: Read + Send>(
        &self,
        parent: Option<&Digest>,
        reader: R,
        media_type: Option<&str>,
        expected: Option<&Digest>,
        expected_diff_id: Option<&Digest>,
        received: Option<&std::path::Path>,
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
        let mut blob = match received {
            Some(_) => None,
            None => Some(self.blobs.stage()?),
        };
        let staged = if unpack_needed {
            Some(self.layers.stage()?)
        } else {
            None
        };
        let diff = staged.as_ref().map(|s| s.diff());
        let copy = blob.as_mut().map(|b| &mut b.file);
        let u = husk_layers::unpack(reader, media_type, copy, diff.as_deref()).map_err(|e| {
            Error::from(e).explain_no_space(
                || match expected.or(expected_diff_id) {
                    Some(d) => format!("layer {d}"),
                    None => "a layer".into(),
                },
                self.root(),
            )
        })?;
        check(expected, &u.digest, "layer blob")?;
        check(expected_diff_id, &u.diff_id, "layer diff id (uncompressed)")?;
        match (blob, received) {
            (Some(blob), _) => self.blobs.commit(blob, &u.digest)?,
            (None, Some(path)) => self.blobs.commit_file(path, &u.digest)?,
            (None, None) => {}
        }
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
}

/// The media type a stored layer gets: the one it came with, or the OCI one
/// matching what its bytes turned out to be.
fn layer_media_type(given: Option<&str>, comp: Compression) -> String {
    match given {
        Some(mt) if Compression::from_media_type(mt).is_some_and(|c| c == comp) => mt.to_string(),
        _ => format!("{MT_OCI_LAYER}{}", comp.media_type_suffix()),
    }
}
