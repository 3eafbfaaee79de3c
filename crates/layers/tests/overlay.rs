//! A real overlay mount over two unpacked layers.

mod common;

use common::*;
use std::path::{Path, PathBuf};

struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = husk_layers::unmount(&self.0);
    }
}

fn mounted(p: &Path) -> bool {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let p = p.to_str().unwrap();
    info.lines().any(|l| l.split(' ').nth(4) == Some(p))
}

#[test]
fn two_layer_overlay_hides_whiteouts() {
    husk_fixtures::require_root!("two_layer_overlay_hides_whiteouts");
    let root = tempfile::tempdir().unwrap();
    let store = husk_layers::LayerStore::new(root.path());
    store.init().unwrap();
    let mut parent = None;
    let mut chain = Vec::new();
    for blob in [
        tar(&[dir("a/"), file("a/keep", b"1"), file("a/gone", b"2")]),
        tar(&[file("a/.wh.gone", b""), file("a/new", b"3")]),
    ] {
        let staged = store.stage().unwrap();
        let u = husk_layers::unpack(&blob[..], None, None, Some(&staged.diff())).unwrap();
        let chain_id = husk_layers::Digest::chain(parent.as_ref(), &u.diff_id);
        let meta = husk_layers::LayerMeta {
            chain_id: chain_id.clone(),
            diff_id: u.diff_id,
            parent: parent.clone(),
            diff_size: u.diff_size,
            size: u.content_size,
        };
        store.commit(staged, &meta).unwrap();
        parent = Some(chain_id.clone());
        chain.insert(0, chain_id);
    }
    let lowers = store.lowerdirs(&chain).unwrap();
    let c = root.path().join("c");
    for d in ["upper", "work", "merged"] {
        std::fs::create_dir_all(c.join(d)).unwrap();
    }
    let merged = c.join("merged");
    husk_layers::mount_overlay(&lowers, &c.join("upper"), &c.join("work"), &merged).unwrap();
    let guard = Unmount(merged.clone());
    assert!(mounted(&merged));
    assert_eq!(std::fs::read(merged.join("a/keep")).unwrap(), b"1");
    assert_eq!(std::fs::read(merged.join("a/new")).unwrap(), b"3");
    assert!(
        !merged.join("a/gone").exists(),
        "whiteout did not hide a/gone"
    );
    husk_layers::unmount(&merged).unwrap();
    std::mem::forget(guard);
    assert!(!mounted(&merged));
    assert!(std::fs::read_dir(root.path().join("tmp"))
        .unwrap()
        .next()
        .is_none());
}
