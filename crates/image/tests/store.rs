//! The store's rules, driven through its API on small crafted layers.

use husk_image::{Digest, Error, Holder, Reference, Removed, Store};

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

fn holder(id: &str, image: &husk_image::Image, running: bool, store: &Store) -> Holder {
    Holder {
        container: id.repeat(64 / id.len()),
        image: Some(image.id.clone()),
        running,
        lower_dirs: store.lowerdirs(image).unwrap(),
    }
}

#[test]
fn in_use_images_follow_dockers_rules() {
    let root = tempfile::tempdir().unwrap();
    let mut store = Store::open_write(root.path()).unwrap();
    let img = import(&store, &layer_tar("a", b"1"), "app:v1");
    let short = img.id.short().to_string();
    // A stopped container: the last name needs -f; by id it "must be forced".
    store.set_holders(vec![holder("ab", &img, false, &store)]);
    let err = store.remove("app:v1", false).unwrap_err();
    assert!(matches!(err, Error::ReferenceInUse { .. }), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "conflict: unable to remove repository reference \"app:v1\" (must force) - container abababababab is using its referenced image {short}"
        )),
        "{err}"
    );
    let err = store.remove(&img.id.to_string(), false).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!("conflict: unable to delete {short} (must be forced) - image is being used by stopped container abababababab")),
        "{err}"
    );
    // Running: forced by name only untags; by id it cannot be forced.
    store.set_holders(vec![holder("cd", &img, true, &store)]);
    let events = store.remove("app:v1", true).unwrap();
    assert_eq!(events, [Removed::Untagged("app:v1".into())]);
    let left = store.images().unwrap();
    assert_eq!(left.len(), 1, "kept, dangling, for the running container");
    assert!(left[0].names.is_empty());
    let err = store.remove(&img.id.to_string(), true).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!("conflict: unable to delete {short} (cannot be forced) - image is being used by running container cdcdcdcdcdcd")),
        "{err}"
    );
    // Stopped again: forced, the image goes, its layer stays for the container.
    store.set_holders(vec![holder("ab", &img, false, &store)]);
    let events = store.remove(&img.id.to_string(), true).unwrap();
    assert_eq!(events, [Removed::Deleted(img.id.clone())]);
    assert!(store.images().unwrap().is_empty());
    assert_eq!(
        store.layers.list().unwrap().len(),
        1,
        "the container's layer"
    );
    assert_eq!(store.gc().unwrap(), 0);
    // Container gone: the next clean-up takes the layer.
    store.set_holders(Vec::new());
    store.gc().unwrap();
    assert!(store.layers.list().unwrap().is_empty());
    assert!(store.blobs.list().unwrap().is_empty());
}

#[test]
fn an_unused_image_goes_with_its_last_name() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::open_write(root.path()).unwrap();
    import(&store, &layer_tar("a", b"1"), "app:v1");
    let events = store.remove("app:v1", false).unwrap();
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
        "image \"foo:latest\" not found: pull it with 'husk pull foo:latest', or load it with 'husk load -i FILE'"
    );
}
