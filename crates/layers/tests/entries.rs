//! Entry kinds, metadata, whiteouts, digests and compression on real tars.

mod common;

use common::*;
use husk_layers::{Compression, Digest};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

fn header() -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h
}

fn rich_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = header();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o1777);
    h.set_mtime(1_500_000_000);
    h.set_size(0);
    b.append_data(&mut h, "tmp/", &b""[..]).unwrap();

    b.append_pax_extensions([("SCHILY.xattr.user.husk", &b"yes"[..])])
        .unwrap();
    let mut h = header();
    h.set_mode(0o4755);
    h.set_uid(1000);
    h.set_gid(1001);
    h.set_mtime(1_234_567_890);
    h.set_size(4);
    b.append_data(&mut h, "bin/su", &b"suid"[..]).unwrap();

    let mut h = header();
    h.set_entry_type(tar::EntryType::Fifo);
    h.set_mode(0o600);
    h.set_size(0);
    b.append_data(&mut h, "run/fifo", &b""[..]).unwrap();

    let mut h = header();
    h.set_entry_type(tar::EntryType::Char);
    h.set_mode(0o666);
    h.set_device_major(1).unwrap();
    h.set_device_minor(3).unwrap();
    h.set_size(0);
    b.append_data(&mut h, "dev/null", &b""[..]).unwrap();
    b.into_inner().unwrap()
}

#[test]
fn modes_owners_times_xattrs_and_special_files() {
    husk_fixtures::require_root!("modes_owners_times_xattrs_and_special_files");
    let sb = Sandbox::new();
    sb.unpack(&rich_tar()).unwrap();
    let l = sb.layer();
    let su = std::fs::metadata(l.join("bin/su")).unwrap();
    assert_eq!(su.permissions().mode() & 0o7777, 0o4755);
    assert_eq!((su.uid(), su.gid()), (1000, 1001));
    assert_eq!(su.mtime(), 1_234_567_890);
    assert_eq!(
        xattr::get(l.join("bin/su"), "user.husk")
            .unwrap()
            .as_deref(),
        Some(&b"yes"[..])
    );
    let tmp = std::fs::metadata(l.join("tmp")).unwrap();
    assert_eq!(tmp.permissions().mode() & 0o7777, 0o1777);
    assert_eq!(tmp.mtime(), 1_500_000_000);
    assert!(std::fs::metadata(l.join("run/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    let null = std::fs::metadata(l.join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), libc::makedev(1, 3));
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    husk_fixtures::require_root!("whiteouts_become_overlay_whiteouts");
    let sb = Sandbox::new();
    sb.unpack(&tar(&[
        file("etc/.wh.gone", b""),
        dir("var/"),
        file("var/.wh..wh..opq", b""),
    ]))
    .unwrap();
    let w = std::fs::symlink_metadata(sb.layer().join("etc/gone")).unwrap();
    assert!(w.file_type().is_char_device());
    assert_eq!(w.rdev(), 0);
    assert!(!sb.layer().join("etc/.wh.gone").exists());
    let opq = xattr::get(sb.layer().join("var"), "trusted.overlay.opaque").unwrap();
    assert_eq!(opq.as_deref(), Some(&b"y"[..]));
    assert!(!sb.layer().join("var/.wh..wh..opq").exists());
}

#[test]
fn digests_cover_blob_and_tar_stream_for_each_compression() {
    let plain = tar(&[file("a", b"hello"), dir("d/")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let zs = zstd::encode_all(&plain[..], 3).unwrap();
    for (blob, comp) in [
        (&plain, Compression::None),
        (&gz, Compression::Gzip),
        (&zs, Compression::Zstd),
    ] {
        let sb = Sandbox::new();
        let u = sb.unpack(blob).unwrap();
        assert_eq!(u.compression, comp);
        assert_eq!(u.digest, Digest::of(blob));
        assert_eq!(u.size, blob.len() as u64);
        assert_eq!(u.diff_id, Digest::of(&plain));
        assert_eq!(u.diff_size, plain.len() as u64);
        assert_eq!(u.content_size, 5);
        assert_eq!(std::fs::read(sb.layer().join("a")).unwrap(), b"hello");
    }
}

#[test]
fn blob_copy_is_byte_identical() {
    let plain = tar(&[file("a", b"hello")]);
    let zs = zstd::encode_all(&plain[..], 3).unwrap();
    let mut copy = tempfile::tempfile().unwrap();
    let u = husk_layers::unpack(
        &zs[..],
        Some("application/vnd.oci.image.layer.v1.tar+zstd"),
        Some(&mut copy),
        None,
    )
    .unwrap();
    use std::io::{Read, Seek};
    copy.rewind().unwrap();
    let mut back = Vec::new();
    copy.read_to_end(&mut back).unwrap();
    assert_eq!(back, zs);
    assert_eq!(u.diff_id, Digest::of(&plain));
}

#[test]
fn truncated_gzip_is_an_error() {
    let plain = tar(&[file("a", &[1u8; 100_000])]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let sb = Sandbox::new();
    assert!(sb.unpack(&gz[..gz.len() / 2]).is_err());
}
