//! `husk rmi` and `husk image prune`, and the layers a removed container
//! leaves behind.

use std::collections::HashSet;
use std::path::Path;

use husk_image::{Digest, Removed, Store};

use crate::Result;

/// The image store opened for changes, told what every container holds
/// (read after the lock, so no container being created is missed): every
/// command that may delete images or layers opens it this way, so none
/// removes a layer a container stands on.
pub fn open_write(root: &Path) -> Result<Store> {
    let mut store = Store::open_write(root)?;
    store.set_holders(crate::store::holders(root));
    Ok(store)
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

/// `husk rmi [-f] NAME` on a store from [`open_write`].
pub fn rmi(store: &Store, name: &str, force: bool) -> Result<Vec<Removed>> {
    let removed = store.remove(name, force)?;
    journal_removed(store.root(), &removed);
    Ok(removed)
}

/// An image event as docker logs them: the actor is the image (its id,
/// or the reference for pull), `name` the reference the event concerns.
pub fn event(root: &Path, action: &str, id: &str, name: &str) {
    let paths = crate::store::Paths::new(root, Path::new(""));
    crate::events::emit(
        &paths,
        crate::events::Kind::Image,
        action,
        id,
        &[("name", name)],
    );
}

/// `untag` and `delete` events for what a removal took.
fn journal_removed(root: &Path, removed: &[Removed]) {
    for r in removed {
        match r {
            Removed::Untagged(n) => event(root, "untag", n, n),
            Removed::Deleted(d) => event(root, "delete", &d.to_string(), &d.to_string()),
        }
    }
}

/// Removes dangling images (or, with `all`, every image no container
/// uses, running or stopped); returns what went and the bytes freed.
pub fn prune(store: &Store, all: bool) -> Result<(Vec<Removed>, u64)> {
    let in_use: HashSet<&Digest> = store
        .holders()
        .iter()
        .filter_map(|h| h.image.as_ref())
        .collect();
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
        // Untagged goes, even with a digest reference (docker prunes repo:<none>).
        if img.names.is_empty() || all {
            let removed = store.remove(&img.id.to_string(), true)?;
            journal_removed(store.root(), &removed);
            events.extend(removed);
        }
    }
    store.gc()?;
    // What interrupted pulls kept to resume is space to give back too.
    freed += store.blobs.remove_partials()?;
    let after: HashSet<Digest> = store.layers.list()?.into_iter().collect();
    for c in before.difference(&after) {
        freed += sizes.get(c).copied().unwrap_or(0);
    }
    Ok((events, freed))
}

/// After a container is gone: when its image was deleted while it
/// existed (`rmi -f` of a stopped container's image), the layers it kept
/// are nobody's now, and go as docker's do. Never waits: when another
/// command holds the store, the next `rmi` or `image prune` takes them.
pub fn release_layers(root: &Path, image_id: &str) -> Result<()> {
    let Ok(image) = image_id.parse::<Digest>() else {
        return Ok(());
    };
    let Some(mut store) = Store::try_open_write(root)? else {
        return Ok(());
    };
    if store.images()?.iter().any(|i| i.id == image) {
        return Ok(());
    }
    store.set_holders(crate::store::holders(root));
    store.gc()?;
    Ok(())
}
