//! `husk rmi` and `husk image prune`.

use std::collections::HashSet;
use std::path::Path;

use husk_image::{Digest, Removed, Store};

use crate::Result;

/// Ids of images that containers use: the hook `rmi` and `prune -a` consult.
pub fn images_in_use(root: &Path) -> HashSet<Digest> {
    crate::containers::images_in_use(root)
}

/// docker's lines: `Untagged: busybox:latest`, `Deleted: sha256:…`.
pub fn describe(events: &[Removed]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Removed::Untagged(n) => format!("Untagged: {n}"),
            Removed::Deleted(d) => format!("Deleted: {d}"),
        })
        .collect()
}

pub fn rmi(
    store: &Store,
    name: &str,
    force: bool,
    in_use: &HashSet<Digest>,
) -> Result<Vec<Removed>> {
    Ok(store.remove(name, force, in_use)?)
}

/// Removes dangling images (or, with `all`, every image no container
/// uses); returns what went and the bytes freed.
pub fn prune(store: &Store, all: bool, in_use: &HashSet<Digest>) -> Result<(Vec<Removed>, u64)> {
    let mut events = Vec::new();
    let mut freed = 0;
    let before: HashSet<Digest> = store.layers.list()?.into_iter().collect();
    let mut sizes = std::collections::HashMap::new();
    for c in &before {
        sizes.insert(c.clone(), store.layers.meta(c).map(|m| m.size).unwrap_or(0));
    }
    let mut seen = HashSet::new();
    for img in store.images()? {
        if in_use.contains(&img.id) || !seen.insert(img.id.clone()) {
            continue;
        }
        if img.names.is_empty() || all {
            events.extend(store.remove(&img.id.to_string(), true, in_use)?);
        }
    }
    store.gc()?;
    let after: HashSet<Digest> = store.layers.list()?.into_iter().collect();
    for c in before.difference(&after) {
        freed += sizes.get(c).copied().unwrap_or(0);
    }
    Ok((events, freed))
}
