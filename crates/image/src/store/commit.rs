//! New images made on the machine (`husk commit`, `husk build`): a layer
//! written from an overlay upper dir, and an image from a parent image (or
//! scratch) + new layers + a new config + history entries.
//!
//! A build calls both many times while holding one writable [`Store`]
//! (the exclusive lock): a layer stored by [`Store::put_layer_from_dir`]
//! is referenced by no image until [`Store::commit_image`] names it, and
//! another writer's `gc` would remove it between the two if the lock were
//! let go. A build that commits an image per step (dangling, like docker's
//! intermediate images) is safe between steps, and must let the store go
//! between them anyway: `Store::open_write` holds images.lock exclusively
//! (flock: even against the same process's other opens) and the engine's
//! `create` of a RUN step's container takes it shared.

use std::io::BufReader;
use std::path::Path;

use husk_layers::{Compression, Digest, LayerMeta};
use serde_json::Value;

use super::{Image, Store, StoredLayer};
use crate::blobs::check;
use crate::import::put_manifest;
use crate::reference::Reference;
use crate::types::*;
use crate::{Error, Result};

/// An image to make with [`Store::commit_image`].
#[derive(Debug, Clone, Default)]
pub struct NewImage {
    /// The image it builds on; `None` for `FROM scratch`.
    pub parent: Option<Image>,
    /// New layers on top of the parent's, bottom first, each stored by
    /// [`Store::put_layer_from_dir`] on top of the one before (the first on
    /// top of the parent's top layer: see [`Store::top_chain_id`]).
    pub layers: Vec<StoredLayer>,
    /// The config's runtime section (`Env`, `Cmd`, `Entrypoint`,
    /// `WorkingDir`, `User`, `ExposedPorts`, `Labels`, `Volumes`,
    /// `StopSignal`, `Shell`, `Healthcheck`, `OnBuild`...) as docker's
    /// JSON: it replaces the parent's whole. Start from
    /// [`Store::runtime_config`] of the parent to keep what is unchanged.
    /// `Value::Null` is written as `{}`.
    pub config: Value,
    /// History entries appended to the parent's, one per step in order:
    /// `empty_layer: true` for metadata-only steps; the entries without it
    /// must be exactly as many as `layers` (checked). Entries without
    /// `created` get the image's creation time.
    pub history: Vec<History>,
    /// The config's `author` (`commit -a`); `None` keeps none.
    pub author: Option<String>,
    /// RFC 3339 creation time; `None` is now.
    pub created: Option<String>,
    /// Names to give it (moved from any image that had them, as docker
    /// does); empty makes a dangling image.
    pub names: Vec<Reference>,
}

impl Store {
    /// Writes the overlay upper dir `upper` as a gzip layer blob on top of
    /// the layer `parent` (a chain id; `None` for the first layer) and
    /// stores it twice like a pulled layer: the blob (for `save`/`push`)
    /// and its unpacked form by chain id (for the overlay lower dirs of
    /// containers of the new image). Whiteouts and opaque dirs become OCI
    /// form in the blob and overlay form again when unpacked. The same
    /// layer stored again is found, not duplicated.
    pub fn put_layer_from_dir(&self, parent: Option<&Digest>, upper: &Path) -> Result<StoredLayer> {
        self.require_writable()?;
        let compression = Compression::Gzip;
        let media_type = format!("{MT_OCI_LAYER}{}", compression.media_type_suffix());
        let mut staged = self.blobs.stage()?;
        let written = husk_layers::write_layer(upper, compression, &mut staged.file)
            .map_err(|e| self.no_space(e.into(), "the new layer"))?;
        self.blobs.commit(staged, &written.digest)?;
        let chain_id = Digest::chain(parent, &written.diff_id);
        if !self.layers.exists(&chain_id) {
            let stage = self.layers.stage()?;
            let blob = BufReader::new(self.blobs.open(&written.digest)?);
            let u = husk_layers::unpack(blob, Some(&media_type), None, Some(&stage.diff()))
                .map_err(|e| self.no_space(e.into(), "the new layer"))?;
            check(Some(&written.digest), &u.digest, "new layer blob")?;
            check(Some(&written.diff_id), &u.diff_id, "new layer diff id")?;
            let meta = LayerMeta {
                chain_id: chain_id.clone(),
                diff_id: u.diff_id.clone(),
                parent: parent.cloned(),
                diff_size: u.diff_size,
                size: u.content_size,
            };
            self.layers.commit(stage, &meta)?;
        }
        Ok(StoredLayer {
            descriptor: Descriptor::new(&media_type, written.digest, written.size),
            diff_id: written.diff_id,
            chain_id,
        })
    }

    fn no_space(&self, e: Error, what: &str) -> Error {
        e.explain_no_space(|| what.to_string(), self.root())
    }

    /// The chain id of the image's top layer: the `parent` for the first
    /// [`Store::put_layer_from_dir`] on top of it. `None` for an image
    /// without layers.
    pub fn top_chain_id(&self, image: &Image) -> Result<Option<Digest>> {
        Ok(self.chain_ids(image)?.pop())
    }

    /// The image config's runtime section (`config`) as JSON, `{}` when
    /// it has none.
    pub fn runtime_config(&self, image: &Image) -> Result<Value> {
        let cfg = self.config(image)?;
        Ok(match cfg.config {
            Value::Null => Value::Object(Default::default()),
            v => v,
        })
    }

    /// Makes a new image from `new`, atomically: config and manifest blobs
    /// are stored first, then one index.json rewrite lists the image (a
    /// crash before it leaves only unreferenced blobs). The parent's config
    /// is kept field for field (fields husk does not know included) except
    /// `created`, `author`, `config`, `rootfs` and `history`.
    pub fn commit_image(&self, new: &NewImage) -> Result<Image> {
        self.require_writable()?;
        let with_layer = new.history.iter().filter(|h| !h.empty_layer).count();
        if with_layer != new.layers.len() {
            return Err(Error::Unsupported(format!(
                "new image: {} history entries without empty_layer for {} new layers: they must match",
                with_layer,
                new.layers.len()
            )));
        }
        let now = new.created.clone().unwrap_or_else(husk_fs::now_rfc3339);
        let (mut doc, mut layers, mut diff_ids, mut history) = match &new.parent {
            Some(p) => {
                let bytes = self.config_bytes(p)?;
                let doc: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::json(format!("image config {}", p.id), e))?;
                let cfg = self.config(p)?;
                let m = self.manifest(p)?;
                (doc, m.layers, cfg.rootfs.diff_ids, cfg.history)
            }
            None => (
                serde_json::json!({
                    "architecture": host_arch(),
                    "os": "linux",
                }),
                Vec::new(),
                Vec::new(),
                Vec::new(),
            ),
        };
        // The chain must continue the parent's: a layer stored on another
        // parent would be unpacked under another chain id than the one the
        // new image's containers look for.
        let mut top = diff_ids.iter().fold(None, |p: Option<Digest>, d| {
            Some(Digest::chain(p.as_ref(), d))
        });
        for l in &new.layers {
            let expect = Digest::chain(top.as_ref(), &l.diff_id);
            if expect != l.chain_id {
                return Err(Error::Unsupported(format!(
                    "new image: layer {} was stored on another parent layer than the image's top",
                    l.diff_id
                )));
            }
            if !self.layers.exists(&l.chain_id) || !self.blobs.exists(&l.descriptor.digest) {
                return Err(Error::Unsupported(format!(
                    "new image: layer {} is not in the store (was it removed by a clean-up?)",
                    l.diff_id
                )));
            }
            top = Some(l.chain_id.clone());
            diff_ids.push(l.diff_id.clone());
            layers.push(l.descriptor.clone());
        }
        for h in &new.history {
            let mut h = h.clone();
            if h.created.is_none() {
                h.created = Some(now.clone());
            }
            history.push(h);
        }
        let obj = doc
            .as_object_mut()
            .ok_or_else(|| Error::Unsupported("parent image config is not a JSON object".into()))?;
        obj.insert("created".into(), Value::String(now.clone()));
        match &new.author {
            Some(a) => obj.insert("author".into(), Value::String(a.clone())),
            None => obj.remove("author"),
        };
        let runtime = match &new.config {
            Value::Null => Value::Object(Default::default()),
            v => v.clone(),
        };
        obj.insert("config".into(), runtime);
        // docker's per-container fields describe the parent's build, not this one.
        obj.remove("container");
        obj.remove("container_config");
        obj.insert(
            "rootfs".into(),
            serde_json::json!({"type": "layers", "diff_ids": diff_ids}),
        );
        obj.insert(
            "history".into(),
            serde_json::to_value(&history).map_err(|e| Error::json("image history", e))?,
        );
        let config_bytes = serde_json::to_vec(&doc).map_err(|e| Error::json("image config", e))?;
        let config_digest = self.blobs.put_bytes(&config_bytes)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MT_OCI_MANIFEST.into()),
            config: Descriptor::new(MT_OCI_CONFIG, config_digest, config_bytes.len() as u64),
            layers,
        };
        let desc = put_manifest(self, &manifest)?;
        self.add_image(desc, &new.names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, content) in files {
            let p = d.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        d
    }

    fn step(by: &str, empty_layer: bool) -> History {
        History {
            created_by: Some(by.into()),
            empty_layer,
            ..Default::default()
        }
    }

    /// FROM scratch, a COPY, an ENV, a RUN: what a build does, step by step.
    #[test]
    fn images_from_scratch_and_from_a_parent_with_empty_layer_steps() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open_write(root.path()).unwrap();
        let copy = dir_with(&[("app/hello", "hi\n")]);
        let l1 = store.put_layer_from_dir(None, copy.path()).unwrap();
        assert_eq!(
            l1.chain_id, l1.diff_id,
            "a first layer's chain id is its diff id"
        );
        let first = store
            .commit_image(&NewImage {
                layers: vec![l1.clone()],
                config: serde_json::json!({"Cmd": ["/app/hello"]}),
                history: vec![step("COPY hello /app/", false), step("ENV A=1", true)],
                names: vec![Reference::parse("built:1").unwrap()],
                ..Default::default()
            })
            .unwrap();
        let cfg = store.config(&first).unwrap();
        assert_eq!(cfg.rootfs.diff_ids, std::slice::from_ref(&l1.diff_id));
        assert_eq!(cfg.history.len(), 2);
        assert!(cfg.history[1].empty_layer);
        assert!(cfg.history.iter().all(|h| h.created.is_some()));
        assert_eq!(cfg.os, "linux");
        assert_eq!(store.resolve("built:1").unwrap().id, first.id);
        // The unpacked layer is where containers of the image will look.
        let lowers = store.lowerdirs(&first).unwrap();
        assert_eq!(std::fs::read(lowers[0].join("app/hello")).unwrap(), b"hi\n");

        // Same content again: the same layer, not a second one.
        let again = store.put_layer_from_dir(None, copy.path()).unwrap();
        assert_eq!(again.descriptor, l1.descriptor);

        let run = dir_with(&[("out", "x")]);
        let top = store.top_chain_id(&first).unwrap();
        let l2 = store.put_layer_from_dir(top.as_ref(), run.path()).unwrap();
        let second = store
            .commit_image(&NewImage {
                parent: Some(first.clone()),
                layers: vec![l2.clone()],
                config: store.runtime_config(&first).unwrap(),
                history: vec![step("RUN make", false)],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            store.chain_ids(&second).unwrap(),
            [l1.chain_id.clone(), l2.chain_id.clone()]
        );
        let cfg2 = store.config(&second).unwrap();
        assert_eq!(cfg2.history.len(), 3);
        assert_eq!(cfg2.config["Cmd"], serde_json::json!(["/app/hello"]));
        // Dangling (no names), listed.
        assert!(store
            .images()
            .unwrap()
            .iter()
            .any(|i| i.id == second.id && i.names.is_empty()));

        // Wrong counts and wrong parents are refused, nothing listed.
        let before = store.images().unwrap().len();
        let err = store
            .commit_image(&NewImage {
                parent: Some(first.clone()),
                layers: vec![l2.clone()],
                history: vec![step("ENV B=2", true)],
                ..Default::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("must match"), "{err}");
        let err = store
            .commit_image(&NewImage {
                parent: None,
                layers: vec![l2],
                history: vec![step("RUN make", false)],
                ..Default::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("another parent"), "{err}");
        assert_eq!(store.images().unwrap().len(), before);
    }
}
