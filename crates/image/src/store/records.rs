//! Changes to the image list: add, tag, remove, and the garbage collection
//! that follows a removal.

use std::collections::HashSet;

use husk_layers::Digest;

use super::{Image, Removed, Store};
use crate::reference::Reference;
use crate::types::*;
use crate::{Error, Result};

impl Store {
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
