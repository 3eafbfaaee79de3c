//! The layer writer and the change list against a real overlay mount: a
//! lower layer, file operations through the merged dir as a container
//! makes them, then the upper dir written as a layer, unpacked again and
//! stacked, and listed as `docker diff` does.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use husk_layers::{Compression, Tree};

struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = husk_layers::unmount(&self.0);
    }
}

struct Ov {
    _tmp: tempfile::TempDir,
    lower: PathBuf,
    upper: PathBuf,
    work: PathBuf,
    merged: PathBuf,
}

fn setup() -> Ov {
    let tmp = tempfile::tempdir().unwrap();
    let p = |d: &str| tmp.path().join(d);
    for d in ["lower", "upper", "work", "merged"] {
        std::fs::create_dir_all(p(d)).unwrap();
    }
    let lower = p("lower");
    for d in ["a", "d/sub", "keepdir"] {
        std::fs::create_dir_all(lower.join(d)).unwrap();
    }
    for (f, c) in [
        ("a/keep", "1"),
        ("a/gone", "2"),
        ("d/old1", "3"),
        ("d/sub/old2", "4"),
        ("r", "old"),
        ("keepdir/f", "5"),
    ] {
        std::fs::write(lower.join(f), c).unwrap();
    }
    // A hostile image: a symlink to the host's /etc.
    std::os::unix::fs::symlink("/etc", lower.join("hx")).unwrap();
    Ov {
        lower,
        upper: p("upper"),
        work: p("work"),
        merged: p("merged"),
        _tmp: tmp,
    }
}

fn mount(ov: &Ov) -> Unmount {
    husk_layers::mount_overlay(
        std::slice::from_ref(&ov.lower),
        &ov.upper,
        &ov.work,
        &ov.merged,
    )
    .unwrap();
    Unmount(ov.merged.clone())
}

/// What a container does: delete, replace a dir (opaque), rewrite, add
/// with xattrs, links, a fifo, a socket, and symlinks pointing at host files.
fn container_writes(m: &Path) {
    std::fs::remove_file(m.join("a/gone")).unwrap();
    std::fs::remove_dir_all(m.join("d")).unwrap();
    std::fs::create_dir(m.join("d")).unwrap();
    std::fs::write(m.join("d/new"), "n").unwrap();
    std::fs::write(m.join("r"), "new").unwrap();
    std::fs::create_dir(m.join("new")).unwrap();
    std::fs::write(m.join("new/x"), "x").unwrap();
    xattr::set(m.join("new/x"), "user.test", b"v").unwrap();
    std::os::unix::fs::chown(m.join("new/x"), Some(1234), Some(5678)).unwrap();
    std::fs::set_permissions(m.join("new/x"), std::fs::Permissions::from_mode(0o4751)).unwrap();
    std::fs::hard_link(m.join("new/x"), m.join("new/y")).unwrap();
    nix::unistd::mkfifo(
        &m.join("new/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(m.join("new/sock")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", m.join("new/esc")).unwrap();
    // Replace the hostile symlink by a dir holding a file of the same
    // name as one behind the symlink on the host.
    std::fs::remove_file(m.join("hx")).unwrap();
    std::fs::create_dir(m.join("hx")).unwrap();
    std::fs::write(m.join("hx/passwd"), "mine").unwrap();
}

struct Ent {
    kind: tar::EntryType,
    data: Vec<u8>,
    link: Option<PathBuf>,
    uid: u64,
    gid: u64,
    mode: u32,
    xattrs: Vec<(String, Vec<u8>)>,
}

fn entries(tar_bytes: &[u8]) -> BTreeMap<String, Ent> {
    let mut ar = tar::Archive::new(tar_bytes);
    let mut out = BTreeMap::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8(e.path_bytes().to_vec()).unwrap();
        let mut xattrs = Vec::new();
        if let Some(ext) = e.pax_extensions().unwrap() {
            for x in ext {
                let x = x.unwrap();
                if let Some(k) = x.key().unwrap().strip_prefix("SCHILY.xattr.") {
                    xattrs.push((k.to_string(), x.value_bytes().to_vec()));
                }
            }
        }
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let h = e.header();
        let ent = Ent {
            kind: h.entry_type(),
            link: e.link_name().unwrap().map(|l| l.into_owned()),
            uid: h.uid().unwrap(),
            gid: h.gid().unwrap(),
            mode: h.mode().unwrap(),
            data,
            xattrs,
        };
        assert!(out.insert(name.clone(), ent).is_none(), "{name} twice");
    }
    out
}

#[test]
fn upper_dir_becomes_an_oci_layer_that_unpacks_to_the_same_view() {
    husk_fixtures::require_root!("upper_dir_becomes_an_oci_layer_that_unpacks_to_the_same_view");
    let ov = setup();
    {
        let _m = mount(&ov);
        container_writes(&ov.merged);
    }
    let mut blob = Vec::new();
    let w = husk_layers::write_layer(&ov.upper, Compression::Gzip, &mut blob).unwrap();
    assert_eq!(w.size, blob.len() as u64);
    assert_eq!(w.digest, husk_layers::Digest::of(&blob));
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&blob[..])
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(w.diff_id, husk_layers::Digest::of(&plain));
    assert_eq!(w.diff_size, plain.len() as u64);

    let e = entries(&plain);
    let names: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "a/",
            "a/.wh.gone",
            "d/",
            "d/.wh..wh..opq",
            "d/new",
            "hx/",
            "hx/.wh..wh..opq",
            "hx/passwd",
            "new/",
            "new/esc",
            "new/fifo",
            "new/x",
            "new/y",
            "r",
        ],
        "the socket is skipped, whiteouts and opaque dirs in OCI form"
    );
    assert_eq!(e["a/.wh.gone"].kind, tar::EntryType::Regular);
    assert_eq!(e["d/.wh..wh..opq"].kind, tar::EntryType::Regular);
    assert_eq!(e["r"].data, b"new");
    assert_eq!(e["hx/passwd"].data, b"mine");
    let x = &e["new/x"];
    assert_eq!(
        (x.uid, x.gid, x.mode, &x.data[..]),
        (1234, 5678, 0o4751, &b"x"[..])
    );
    assert_eq!(x.xattrs, [("user.test".to_string(), b"v".to_vec())]);
    assert_eq!(e["new/y"].kind, tar::EntryType::Link);
    assert_eq!(e["new/y"].link.as_deref(), Some(Path::new("new/x")));
    assert_eq!(e["new/fifo"].kind, tar::EntryType::Fifo);
    let esc = &e["new/esc"];
    assert_eq!(esc.kind, tar::EntryType::Symlink);
    assert_eq!(esc.link.as_deref(), Some(Path::new("/etc/passwd")));
    assert!(esc.data.is_empty(), "the symlink's target was read");
    assert!(
        e.values().all(|v| v
            .xattrs
            .iter()
            .all(|(k, _)| !k.starts_with("trusted.overlay."))),
        "overlay's private xattrs leaked into the layer"
    );
    // Same tree, same bytes: a layer is reproducible.
    let again = husk_layers::write_layer(&ov.upper, Compression::Gzip, std::io::sink()).unwrap();
    assert_eq!(again.digest, w.digest);

    // Unpacked again and stacked on the lower, it shows what the container saw.
    let tmp = tempfile::tempdir().unwrap();
    let layer = tmp.path().join("layer");
    std::fs::create_dir(&layer).unwrap();
    let u = husk_layers::unpack(&blob[..], None, None, Some(&layer)).unwrap();
    assert_eq!(u.diff_id, w.diff_id);
    let (up, wk, mg) = (
        tmp.path().join("u"),
        tmp.path().join("w"),
        tmp.path().join("m"),
    );
    for d in [&up, &wk, &mg] {
        std::fs::create_dir(d).unwrap();
    }
    husk_layers::mount_overlay(&[layer.clone(), ov.lower.clone()], &up, &wk, &mg).unwrap();
    let _g = Unmount(mg.clone());
    assert!(!mg.join("a/gone").exists(), "deleted file came back");
    assert_eq!(std::fs::read(mg.join("a/keep")).unwrap(), b"1");
    assert!(!mg.join("d/old1").exists(), "opaque dir let old1 through");
    assert!(!mg.join("d/sub").exists(), "opaque dir let sub through");
    assert_eq!(std::fs::read(mg.join("d/new")).unwrap(), b"n");
    assert_eq!(std::fs::read(mg.join("r")).unwrap(), b"new");
    assert_eq!(std::fs::read(mg.join("hx/passwd")).unwrap(), b"mine");
    let (mx, my) = (
        std::fs::metadata(mg.join("new/x")).unwrap(),
        std::fs::metadata(mg.join("new/y")).unwrap(),
    );
    assert_eq!(mx.ino(), my.ino(), "hard link became a copy");
    assert_eq!(
        (mx.uid(), mx.gid(), mx.mode() & 0o7777),
        (1234, 5678, 0o4751)
    );
    assert_eq!(
        xattr::get(mg.join("new/x"), "user.test")
            .unwrap()
            .as_deref(),
        Some(&b"v"[..])
    );
}

#[test]
fn changes_are_listed_like_docker_diff_without_following_symlinks() {
    husk_fixtures::require_root!("changes_are_listed_like_docker_diff_without_following_symlinks");
    let ov = setup();
    {
        let _m = mount(&ov);
        container_writes(&ov.merged);
    }
    let got: Vec<String> = husk_layers::changes(&ov.upper, &[&ov.lower])
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        got,
        [
            "C /a",
            "D /a/gone",
            // Removed and made again: opaque, listed as docker does.
            "D /d",
            "A /d/new",
            // The lower's hx is a symlink to the host's /etc: hx/passwd
            // is new, whatever /etc/passwd on the host is.
            "D /hx",
            "A /hx/passwd",
            "A /new",
            "A /new/esc",
            "A /new/fifo",
            "A /new/sock",
            "A /new/x",
            "A /new/y",
            "C /r",
        ]
    );
}

#[test]
fn rootfs_tar_writes_symlinks_as_links_never_their_targets() {
    husk_fixtures::require_root!("rootfs_tar_writes_symlinks_as_links_never_their_targets");
    let ov = setup();
    let _m = mount(&ov);
    container_writes(&ov.merged);
    let mut plain = Vec::new();
    let t = husk_layers::write_tar(&ov.merged, Tree::Rootfs, &mut plain).unwrap();
    assert_eq!(t.diff_id, husk_layers::Digest::of(&plain));
    let e = entries(&plain);
    let host_passwd = std::fs::read("/etc/passwd").unwrap();
    for (name, ent) in &e {
        assert!(
            ent.data != host_passwd,
            "{name} holds the host's /etc/passwd"
        );
        assert!(!name.starts_with('/') && !name.contains(".wh."), "{name}");
    }
    assert_eq!(e["new/esc"].kind, tar::EntryType::Symlink);
    assert_eq!(e["a/keep"].data, b"1");
    assert!(!e.contains_key("a/gone"));
    assert!(!e.contains_key("d/old1"));
    assert_eq!(e["d/new"].data, b"n");
    assert!(!e.contains_key("new/sock"));
    assert_eq!(e["new/y"].kind, tar::EntryType::Link);
}
