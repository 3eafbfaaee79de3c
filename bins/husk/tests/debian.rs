//! A real distribution through the store: Debian minbase as the bottom
//! layer, an upper layer that deletes (whiteouts, an opaque dir) and adds
//! (hard links, a device node, setuid, xattrs), loaded as a two-layer OCI
//! archive and checked through a real overlay mount.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use common::*;

const DELETED: &[&str] = &["usr/share/doc/bash", "etc/motd", "usr/bin/uncompress"];
const OPAQUE: &str = "etc/apt";
/// security.capability = cap_net_raw+ep, VFS_CAP_REVISION_2.
const CAP_NET_RAW: [u8; 20] = [
    0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

struct Unmount(PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = husk_layers::unmount(&self.0);
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    h.set_size(size);
    h
}

fn upper_layer() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let empty = &b""[..];
    for d in DELETED {
        let p = Path::new(d);
        let wh = p
            .parent()
            .unwrap()
            .join(format!(".wh.{}", p.file_name().unwrap().to_str().unwrap()));
        b.append_data(&mut header(tar::EntryType::Regular, 0o644, 0), wh, empty)
            .unwrap();
    }
    b.append_data(
        &mut header(tar::EntryType::Directory, 0o755, 0),
        OPAQUE,
        empty,
    )
    .unwrap();
    b.append_data(
        &mut header(tar::EntryType::Regular, 0o644, 0),
        format!("{OPAQUE}/.wh..wh..opq"),
        empty,
    )
    .unwrap();
    let list = b"deb http://example.invalid/debian bookworm main\n";
    b.append_data(
        &mut header(tar::EntryType::Regular, 0o644, list.len() as u64),
        format!("{OPAQUE}/sources.list"),
        &list[..],
    )
    .unwrap();
    let tool = b"#!/bin/sh\necho ping\n";
    b.append_pax_extensions([
        ("SCHILY.xattr.security.capability", &CAP_NET_RAW[..]),
        ("SCHILY.xattr.user.husk", &b"upper"[..]),
    ])
    .unwrap();
    b.append_data(
        &mut header(tar::EntryType::Regular, 0o4755, tool.len() as u64),
        "usr/local/bin/suidping",
        &tool[..],
    )
    .unwrap();
    let mut h = header(tar::EntryType::Link, 0o4755, 0);
    b.append_link(
        &mut h,
        "usr/local/bin/suidping-link",
        "usr/local/bin/suidping",
    )
    .unwrap();
    let mut h = header(tar::EntryType::Char, 0o666, 0);
    h.set_device_major(1).unwrap();
    h.set_device_minor(5).unwrap();
    b.append_data(&mut h, "dev/husk-zero", empty).unwrap();
    b.into_inner().unwrap()
}

/// An OCI image-layout archive with the two layers: gzip below, zstd above.
fn oci_archive(out: &Path, lower_gz: &Path, upper: &[u8], lower_diff: &str) -> String {
    let lower = std::fs::read(lower_gz).unwrap();
    let upper_zst = zstd::encode_all(upper, 3).unwrap();
    let d = |data: &[u8]| husk_image::Digest::of(data);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["bash"]},
        "rootfs": {"type": "layers", "diff_ids": [lower_diff, d(upper).to_string()]},
        "history": [{"created_by": "debootstrap --variant=minbase bookworm"}, {"created_by": "upper: deletions and additions"}]
    });
    let config = serde_json::to_vec(&config).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d(&config).to_string(), "size": config.len()},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d(&lower).to_string(), "size": lower.len()},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": d(&upper_zst).to_string(), "size": upper_zst.len()}
        ]
    })).unwrap();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(&manifest).to_string(), "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "debian:two-layers"}}]
    })).unwrap();
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    let mut add = |name: String, data: &[u8]| {
        b.append_data(
            &mut header(tar::EntryType::Regular, 0o644, data.len() as u64),
            name,
            data,
        )
        .unwrap();
    };
    add("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#);
    add("index.json".into(), &index);
    for blob in [&manifest, &config, &lower, &upper_zst] {
        add(format!("blobs/sha256/{}", d(blob).hex()), blob);
    }
    b.into_inner().unwrap().flush().unwrap();
    d(&config).to_string()
}

/// (type, mode, uid, gid, size, rdev, link target) of a path, not following links.
fn describe(p: &Path) -> (u32, u32, u32, u64, u64, Option<PathBuf>) {
    let m = std::fs::symlink_metadata(p).unwrap();
    let size = if m.is_file() { m.len() } else { 0 };
    let target = m
        .file_type()
        .is_symlink()
        .then(|| std::fs::read_link(p).unwrap());
    (m.mode(), m.uid(), m.gid(), size, m.rdev(), target)
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(root.join(rel)).unwrap() {
        let e = e.unwrap();
        let r = rel.join(e.file_name());
        out.push(r.clone());
        if e.file_type().unwrap().is_dir() {
            walk(root, &r, out);
        }
    }
}

#[test]
fn debian_minbase_two_layers_through_overlay() {
    husk_fixtures::require_root!("debian_minbase_two_layers_through_overlay");
    let tar = match common::debian::minbase_tar() {
        Ok(t) => t,
        Err(reason) => {
            return husk_fixtures::skip("debian_minbase_two_layers_through_overlay", &reason)
        }
    };
    let work = tempdir();
    // The reference tree, extracted by GNU tar.
    let base = work.path().join("base");
    std::fs::create_dir(&base).unwrap();
    run_tool(
        "tar",
        &[
            "--xattrs",
            "--xattrs-include=*",
            "--numeric-owner",
            "-xpf",
            tar.to_str().unwrap(),
            "-C",
            base.to_str().unwrap(),
        ],
    );

    // One layer: husk import of the plain tarball.
    let h = Husk::new();
    h.ok(&["import", tar.to_str().unwrap(), "debian:base"]);
    let lower_diff = h.inspect("debian:base")["RootFS"]["Layers"][0]
        .as_str()
        .unwrap()
        .to_string();

    // Two layers: gzip debian below, zstd deletions/additions above.
    let gz = work.path().join("lower.tar.gz");
    let st = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -1 -c {} > {}", tar.display(), gz.display()))
        .status()
        .unwrap();
    assert!(st.success());
    let archive = work.path().join("two.tar");
    let id = oci_archive(&archive, &gz, &upper_layer(), &lower_diff);
    assert_eq!(
        h.ok(&["load", "-i", archive.to_str().unwrap()]).trim(),
        "Loaded image: debian:two-layers"
    );
    assert_eq!(h.inspect("debian:two-layers")["Id"], id.as_str());
    // The bottom layer was already unpacked by the import: shared, not redone.
    assert_eq!(h.count("layers"), 2);
    h.assert_consistent();

    let store = husk_image::Store::open_read(h.root()).unwrap();
    let img = store.resolve("debian:two-layers").unwrap();
    let lowers = store.lowerdirs(&img).unwrap();
    drop(store);
    let c = work.path().join("c");
    for d in ["upper", "work", "merged"] {
        std::fs::create_dir_all(c.join(d)).unwrap();
    }
    let merged = c.join("merged");
    husk_layers::mount_overlay(&lowers, &c.join("upper"), &c.join("work"), &merged).unwrap();
    let _guard = Unmount(merged.clone());

    // Every file of the reference tree is in the merged view, identical,
    // except what the upper layer deleted or made opaque.
    let mut paths = Vec::new();
    walk(&base, Path::new(""), &mut paths);
    let hidden = |p: &Path| {
        DELETED.iter().any(|d| p.starts_with(d)) || p.starts_with(OPAQUE) && p != Path::new(OPAQUE)
    };
    let mut links: HashMap<u64, Vec<PathBuf>> = HashMap::new();
    let mut checked = 0;
    for p in &paths {
        if p == &Path::new(OPAQUE).join("sources.list") {
            continue; // re-added by the upper layer, checked below
        }
        if hidden(p) {
            assert!(
                std::fs::symlink_metadata(merged.join(p)).is_err(),
                "{} should be gone",
                p.display()
            );
            continue;
        }
        if p == Path::new(OPAQUE) {
            continue;
        }
        let want = describe(&base.join(p));
        let got = describe(&merged.join(p));
        assert_eq!(got, want, "{}", p.display());
        let mb = std::fs::symlink_metadata(base.join(p)).unwrap();
        if mb.is_file() && mb.nlink() > 1 {
            links.entry(mb.ino()).or_default().push(p.clone());
        }
        if !mb.is_dir() {
            let mm = std::fs::symlink_metadata(merged.join(p)).unwrap();
            assert_eq!(mm.mtime(), mb.mtime(), "mtime of {}", p.display());
        }
        checked += 1;
    }
    assert!(checked > 5000, "only {checked} paths compared");
    // Hard links stay hard links.
    assert!(
        !links.is_empty(),
        "debian minbase has hard links (perl, gzip)"
    );
    for group in links.values() {
        let inos: Vec<u64> = group
            .iter()
            .map(|p| std::fs::metadata(merged.join(p)).unwrap().ino())
            .collect();
        assert!(
            inos.windows(2).all(|w| w[0] == w[1]),
            "hard links split: {group:?}"
        );
    }
    // Setuid binaries and device nodes of the distribution.
    assert_eq!(
        std::fs::metadata(merged.join("usr/bin/su")).unwrap().mode() & 0o7777,
        0o4755
    );
    assert!(std::fs::metadata(merged.join("dev/null"))
        .unwrap()
        .file_type()
        .is_char_device());

    // The upper layer's additions.
    let apt: Vec<_> = std::fs::read_dir(merged.join(OPAQUE))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(apt, ["sources.list"], "opaque dir shows lower entries");
    let tool = merged.join("usr/local/bin/suidping");
    let m = std::fs::metadata(&tool).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o4755);
    assert_eq!(
        m.ino(),
        std::fs::metadata(merged.join("usr/local/bin/suidping-link"))
            .unwrap()
            .ino()
    );
    assert_eq!(
        xattr::get(&tool, "security.capability").unwrap().as_deref(),
        Some(&CAP_NET_RAW[..])
    );
    assert_eq!(
        xattr::get(&tool, "user.husk").unwrap().as_deref(),
        Some(&b"upper"[..])
    );
    let dev = std::fs::metadata(merged.join("dev/husk-zero")).unwrap();
    assert!(dev.file_type().is_char_device());
    assert_eq!(dev.rdev(), libc::makedev(1, 5));

    husk_layers::unmount(&merged).unwrap();
    std::mem::forget(_guard);
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !info.contains(merged.to_str().unwrap()),
        "overlay still mounted"
    );

    // Save both ways and read back with skopeo.
    let out = work.path().join("saved.tar");
    h.ok(&["save", "-o", out.to_str().unwrap(), "debian:two-layers"]);
    let v: serde_json::Value = serde_json::from_str(&run_tool(
        "skopeo",
        &["inspect", &format!("docker-archive:{}", out.display())],
    ))
    .unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 2);
}
