//! Changes to the image list: add, tag, remove, and the garbage collection
//! that follows a removal.

use std::collections::HashSet;

use husk_layers::Digest;

use super::{Holder, Image, Removed, Store};
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

    /// Records a pulled image under the digest reference it was pulled by
    /// (`docker.io/library/busybox@sha256:…`, docker's RepoDigest): listed
    /// without a tag, found again by that reference. A digest of an index
    /// may have led to another platform's manifest before: the reference
    /// moves to this one.
    pub fn add_pinned(&self, manifest: Descriptor, pin: &str) -> Result<Image> {
        self.require_writable()?;
        let m = self.manifest_of(&manifest.digest)?;
        self.verify_complete(&m)?;
        let mut index = self.read_index()?;
        index
            .manifests
            .retain(|d| d.annotations.get(ANN_REF_NAME).map(String::as_str) != Some(pin));
        let mut plain = manifest.clone();
        plain.annotations.clear();
        plain.platform = None;
        // A bare entry for the same manifest says no more than this one.
        index
            .manifests
            .retain(|d| d.digest != plain.digest || !d.annotations.is_empty());
        let mut d = plain.clone();
        d.annotations.insert(ANN_REF_NAME.into(), pin.to_string());
        index.manifests.push(d);
        self.write_index(&index)?;
        let names = self
            .images()?
            .into_iter()
            .find(|i| i.manifest.digest == plain.digest)
            .map(|i| i.names)
            .unwrap_or_default();
        Ok(Image {
            id: m.config.digest,
            manifest: plain,
            names,
        })
    }

    /// docker's RepoDigests of `image`: the `REPO@sha256:…` references it
    /// was pulled by (see [`Store::add_pinned`]).
    pub fn repo_digests(&self, image: &Image) -> Result<Vec<String>> {
        Ok(self
            .read_index()?
            .manifests
            .into_iter()
            .filter(|d| d.digest == image.manifest.digest)
            .filter_map(|d| d.annotations.get(ANN_REF_NAME).cloned())
            .filter(|n| n.contains('@'))
            .collect())
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

    /// `husk rmi`, with docker's rules (moby's `ImageDelete`) against
    /// what [`Store::set_holders`] said containers hold:
    /// - by name: the name goes (refused without `force` when it is the
    ///   image's last name and a container uses the image); the image goes
    ///   with its last name unless a container uses it, in which case a
    ///   forced removal leaves it dangling for the container;
    /// - by id: refused while a running container uses it (even forced),
    ///   without `force` while a stopped one does or several names point
    ///   at it; else every name goes and the image with them.
    ///
    /// A deleted image's layers stay while any container stands on them.
    pub fn remove(&self, name: &str, force: bool) -> Result<Vec<Removed>> {
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
        let mut names: Vec<Reference> = all.iter().flat_map(|i| i.names.clone()).collect();
        let users: Vec<&Holder> = self
            .holders
            .iter()
            .filter(|h| h.image.as_ref() == Some(&img.id))
            .collect();
        let running = users.iter().find(|h| h.running);
        let stopped = users.iter().find(|h| !h.running);
        let short = img.id.short().to_string();
        let mut events = Vec::new();
        // Given by name, a refusal of the image itself only keeps it: the
        // name is gone, the container keeps its image (docker's "quiet").
        let mut keep_quietly = false;
        if let Some(r) = by_name {
            if !force && names.len() == 1 {
                if let Some(h) = users.first() {
                    return Err(Error::ReferenceInUse {
                        reference: name.to_string(),
                        container: h.short().to_string(),
                        image: short,
                    });
                }
            }
            let s = r.to_string();
            let mut index = self.read_index()?;
            index
                .manifests
                .retain(|d| d.annotations.get(ANN_REF_NAME) != Some(&s));
            // Still listed, now without a name, while a container keeps it.
            for i in &all {
                if !index
                    .manifests
                    .iter()
                    .any(|d| d.digest == i.manifest.digest)
                {
                    index.manifests.push(i.manifest.clone());
                }
            }
            self.write_index(&index)?;
            events.push(Removed::Untagged(r.familiar()));
            names.retain(|n| n != &r);
            if !names.is_empty() {
                return Ok(events);
            }
            keep_quietly = true;
        }
        let conflict = if let Some(h) = running {
            Some(Error::UsedByRunning {
                image: short.clone(),
                container: h.short().to_string(),
            })
        } else if !force && names.len() > 1 {
            Some(Error::MultipleRepos {
                short: short.clone(),
            })
        } else {
            stopped.filter(|_| !force).map(|h| Error::UsedByStopped {
                image: short.clone(),
                container: h.short().to_string(),
            })
        };
        match conflict {
            Some(_) if keep_quietly => return Ok(events),
            Some(e) => return Err(e),
            None => {}
        }
        let mut index = self.read_index()?;
        let manifests: HashSet<&Digest> = all.iter().map(|i| &i.manifest.digest).collect();
        index.manifests.retain(|d| !manifests.contains(&d.digest));
        self.write_index(&index)?;
        events.extend(names.iter().map(|r| Removed::Untagged(r.familiar())));
        events.push(Removed::Deleted(img.id.clone()));
        self.gc()?;
        Ok(events)
    }

    /// Removes blobs and unpacked layers that no listed image references
    /// and, for layers, no container holds.
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
        // What containers stand on stays, whatever happened to their image.
        for h in &self.holders {
            keep_layers.extend(self.layers.named_by(&h.lower_dirs)?);
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
