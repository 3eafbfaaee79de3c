//! Crafted archives that try to write outside the layer directory.

mod common;

use common::*;
use std::os::unix::fs::MetadataExt;

#[test]
fn dotdot_path_is_refused_and_nothing_escapes() {
    let sb = Sandbox::new();
    let err = sb.unpack(&tar(&[file("../escaped", b"x")])).unwrap_err();
    assert!(err.to_string().contains(".."), "{err}");
    assert!(sb.escaped().is_empty(), "{:?}", sb.escaped());
    let err = sb
        .unpack(&tar(&[file("a/../../escaped", b"x")]))
        .unwrap_err();
    assert!(err.to_string().contains("climbs out"), "{err}");
    assert!(sb.escaped().is_empty());
}

#[test]
fn absolute_path_lands_inside_the_layer() {
    let sb = Sandbox::new();
    let name = format!("/husk-abs-test-{}", std::process::id());
    sb.unpack(&tar(&[file(&name, b"inside")])).unwrap();
    assert!(
        !std::path::Path::new(&name).exists(),
        "wrote the host's {name}"
    );
    let inside = sb.layer().join(&name[1..]);
    assert_eq!(std::fs::read(inside).unwrap(), b"inside");
}

#[test]
fn file_written_through_an_absolute_symlink_stays_inside() {
    let sb = Sandbox::new();
    let outer = sb.outer.path().to_str().unwrap().to_string();
    let through = "evil/pwned";
    sb.unpack(&tar(&[link("evil", SYMLINK, &outer), file(through, b"x")]))
        .unwrap();
    assert!(sb.escaped().is_empty(), "{:?}", sb.escaped());
    // The link target was re-rooted: /<outer> inside the layer.
    let rerooted = sb.layer().join(&outer[1..]).join("pwned");
    assert!(rerooted.is_file(), "{}", rerooted.display());
}

#[test]
fn file_written_through_a_relative_symlink_stays_inside() {
    let sb = Sandbox::new();
    sb.unpack(&tar(&[
        link("up", SYMLINK, "../../../.."),
        file("up/pwned", b"x"),
    ]))
    .unwrap();
    assert!(sb.escaped().is_empty(), "{:?}", sb.escaped());
    assert!(sb.layer().join("pwned").is_file());
}

#[test]
fn symlinked_directory_then_nested_file_stays_inside() {
    let sb = Sandbox::new();
    let outer = sb.outer.path().to_str().unwrap().to_string();
    // A dir, replaced by a symlink to the outside, then a file "in" it.
    let blob = tar(&[
        dir("d"),
        file("d/a", b"1"),
        link("d", SYMLINK, &outer),
        file("d/b", b"2"),
    ]);
    sb.unpack(&blob).unwrap();
    assert!(sb.escaped().is_empty(), "{:?}", sb.escaped());
}

#[test]
fn hard_link_to_outside_targets_is_refused() {
    let sb = Sandbox::new();
    let victim = sb.outer.path().join("victim");
    std::fs::write(&victim, b"secret").unwrap();
    let before = std::fs::metadata(&victim).unwrap().nlink();
    let outer_victim = victim.to_str().unwrap().to_string();
    for blob in [
        tar(&[link("hl", HARDLINK, "../victim")]),
        tar(&[link("hl", HARDLINK, &outer_victim)]),
        tar(&[
            link("s", SYMLINK, sb.outer.path().to_str().unwrap()),
            link("hl", HARDLINK, "s/victim"),
        ]),
    ] {
        let layer = sb.layer();
        let _ = std::fs::remove_dir_all(&layer);
        std::fs::create_dir(&layer).unwrap();
        assert!(sb.unpack(&blob).is_err());
        assert_eq!(std::fs::metadata(&victim).unwrap().nlink(), before);
    }
}

#[test]
fn hard_link_inside_the_layer_works() {
    let sb = Sandbox::new();
    sb.unpack(&tar(&[file("a", b"data"), link("b", HARDLINK, "a")]))
        .unwrap();
    let a = std::fs::metadata(sb.layer().join("a")).unwrap();
    let b = std::fs::metadata(sb.layer().join("b")).unwrap();
    assert_eq!(a.ino(), b.ino());
}

#[test]
fn overlay_xattrs_from_the_tar_are_dropped() {
    husk_fixtures::require_root!("overlay_xattrs_from_the_tar_are_dropped");
    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([
        ("SCHILY.xattr.trusted.overlay.redirect", &b"/etc"[..]),
        ("SCHILY.xattr.user.kept", &b"1"[..]),
    ])
    .unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(0);
    b.append_data(&mut h, "d/", &b""[..]).unwrap();
    let sb = Sandbox::new();
    sb.unpack(&b.into_inner().unwrap()).unwrap();
    let d = sb.layer().join("d");
    assert_eq!(xattr::get(&d, "trusted.overlay.redirect").unwrap(), None);
    assert_eq!(
        xattr::get(&d, "user.kept").unwrap().as_deref(),
        Some(&b"1"[..])
    );
}

#[test]
fn the_writers_error_wins_over_the_readers_broken_pipe() {
    // A refused first entry followed by more data than the pipe between
    // the decompressing and the writing thread holds: the reader then
    // finds the pipe closed, and the writer's error is the one to report.
    let big = vec![0u8; 24 << 20];
    let sb = Sandbox::new();
    let err = sb
        .unpack(&tar(&[file("../escaped", &big)]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("climbs out"), "{err}");
    assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
    assert!(sb.escaped().is_empty());
}

#[test]
fn hostile_names_are_escaped_and_cut_in_errors() {
    let long = format!("../\x1b[2J{}", "a/".repeat(2000));
    let sb = Sandbox::new();
    let blob = {
        // A GNU long name: the raw header's 100 bytes cannot hold it.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::GNULongName);
        h.set_size(long.len() as u64 + 1);
        h.set_path("././@LongLink").unwrap();
        h.set_cksum();
        let mut name = long.clone().into_bytes();
        name.push(0);
        b.append(&h, &name[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_path("x").unwrap();
        h.set_size(1);
        h.set_cksum();
        b.append(&h, &b"x"[..]).unwrap();
        b.into_inner().unwrap()
    };
    let err = sb.unpack(&blob).unwrap_err().to_string();
    assert!(err.contains("climbs out"), "{err}");
    assert!(!err.chars().any(|c| c.is_control()), "{err:?}");
    assert!(err.contains("\\u{1b}[2J"), "{err}");
    assert!(err.len() < 500, "{} bytes", err.len());
}
