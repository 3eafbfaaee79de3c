//! The store's rules, driven through its API on small crafted layers.

use std::collections::HashSet;

use husk_image::{Digest, Error, Reference, Store};

fn layer_tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(data.len() as u64);
    b.append_data(&mut h, name, data).unwrap();
    b.into_inner().unwrap()
}

fn import(store: &Store, data: &[u8], name: &str) -> husk_image::Image {
    let r = Reference::parse(name).unwrap();
    husk_image::import(store, data, "test", Some(&r), None).unwrap()
}

#[test]
fn layer_digest_mismatch_stores_nothing() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::open_write(root.path()).unwrap();
    let blob = layer_tar("a", b"hello");
    let wrong = Digest::of(b"something else");
    let err = store
        .put_layer(None, &blob[..], None, Some(&wrong), None)
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains("nothing was stored"), "{err}");
    let err = store
        .put_layer(None, &blob[..], None, None, Some(&wrong))
        .unwrap_err();
    assert!(err.to_string().contains("diff id"), "{err}");
    assert!(store.blobs.list().unwrap().is_empty());
    assert!(store.layers.list().unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(root.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn put_blob_verifies_and_is_idempotent() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::open_write(root.path()).unwrap();
    let d = Digest::of(b"config");
    assert!(store
        .blobs
        .put_blob(Some(&Digest::of(b"x")), &b"config"[..])
        .is_err());
    assert!(!store.blobs.exists(&d));
    assert_eq!(
        store.blobs.put_blob(Some(&d), &b"config"[..]).unwrap(),
        (d.clone(), 6)
    );
    assert_eq!(
        store.blobs.put_blob(Some(&d), &b"config"[..]).unwrap(),
        (d.clone(), 6)
    );
    assert_eq!(store.blobs.read(&d).unwrap(), b"config");
}

#[test]
fn in_use_images_are_refused_unless_forced() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::open_write(root.path()).unwrap();
    let img = import(&store, &layer_tar("a", b"1"), "app:v1");
    let in_use: HashSet<Digest> = [img.id.clone()].into();
    let err = store.remove("app:v1", false, &in_use).unwrap_err();
    assert!(matches!(err, Error::InUse { .. }), "{err}");
    let events = store.remove("app:v1", true, &in_use).unwrap();
    assert_eq!(events.len(), 2);
    assert!(store.images().unwrap().is_empty());
    assert!(store.layers.list().unwrap().is_empty());
}

#[test]
fn retagging_leaves_the_old_image_dangling_and_shares_layers() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::open_write(root.path()).unwrap();
    let blob = layer_tar("a", b"same");
    let first = import(&store, &blob, "app");
    let second = import(&store, &blob, "app");
    assert_ne!(first.id, second.id, "configs carry the import time");
    let images = store.images().unwrap();
    assert_eq!(images.len(), 2);
    let old = images.iter().find(|i| i.id == first.id).unwrap();
    assert!(old.names.is_empty());
    assert_eq!(store.layers.list().unwrap().len(), 1, "one layer, shared");
    assert_eq!(store.resolve("app").unwrap().id, second.id);
    assert_eq!(store.resolve(&second.id.hex()[..8]).unwrap().id, second.id);
    let lowers = store.lowerdirs(&store.resolve("app").unwrap()).unwrap();
    assert_eq!(lowers.len(), 1);
    assert!(lowers[0].join("a").is_file());
}

#[test]
fn interrupted_writer_leftovers_are_cleaned() {
    let root = tempfile::tempdir().unwrap();
    drop(Store::open_write(root.path()).unwrap());
    std::fs::create_dir_all(root.path().join("tmp/layer-999-0/diff")).unwrap();
    std::fs::write(root.path().join("tmp/blob-999-0"), b"half").unwrap();
    std::fs::write(root.path().join(".index.json.tmp.999"), b"{").unwrap();
    std::fs::write(root.path().join("tmp/not-ours"), b"keep").unwrap();
    drop(Store::open_read(root.path()).unwrap());
    let left: Vec<_> = std::fs::read_dir(root.path().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["not-ours"]);
    assert!(!root.path().join(".index.json.tmp.999").exists());
}

#[test]
fn not_found_names_the_image_and_the_fix() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::open_write(root.path()).unwrap();
    let err = store.resolve("foo").unwrap_err();
    assert_eq!(
        err.to_string(),
        "image \"foo:latest\" not found: load it with 'husk load -i FILE' or 'husk import FILE foo:latest'"
    );
}
