//! Sparse files in layers: GNU tar's four formats are unpacked under their
//! real names with their holes kept, and crafted maps that lie are refused
//! without writing outside the file, holding unbounded memory or spinning.

mod common;

use common::Sandbox;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::process::Command;

const GIB: u64 = 1 << 30;
const APPARENT: u64 = 50 * GIB;
const MIDDLE: u64 = 20 * GIB;

/// A 50 GiB file holding "HEAD" at 0, 10 000 bytes at 20 GiB and "TAIL" at
/// its end, made with `truncate` as a user would.
fn sparse_source(dir: &Path) -> Vec<u8> {
    let big = dir.join("d/big");
    std::fs::create_dir_all(big.parent().unwrap()).unwrap();
    let st = Command::new("truncate")
        .args(["-s", "50G"])
        .arg(&big)
        .status()
        .unwrap();
    assert!(st.success());
    let f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
    let middle: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8 + 1).collect();
    f.write_all_at(b"HEAD", 0).unwrap();
    f.write_all_at(&middle, MIDDLE).unwrap();
    f.write_all_at(b"TAIL", APPARENT - 4).unwrap();
    middle
}

/// `tar --sparse` of the source, in one of GNU tar's formats.
fn gnu_tar(src: &Path, format: &[&str]) -> Vec<u8> {
    let out = Command::new("tar")
        .arg("--sparse")
        .args(format)
        .arg("-C")
        .arg(src)
        .args(["-cf", "-", "d"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tar {format:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn assert_sparse_copy(layer: &Path, middle: &[u8]) {
    let names: Vec<String> = std::fs::read_dir(layer.join("d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["big"], "only the real name, no GNUSparseFile dir");
    let top: Vec<String> = std::fs::read_dir(layer)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(top, ["d"]);
    let big = layer.join("d/big");
    let meta = std::fs::metadata(&big).unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.len(), APPARENT);
    assert!(
        meta.blocks() * 512 < 1 << 20,
        "{} bytes allocated: holes were written as zeros",
        meta.blocks() * 512
    );
    let f = std::fs::File::open(&big).unwrap();
    let read = |at: u64, n: usize| {
        let mut b = vec![0u8; n];
        f.read_exact_at(&mut b, at).unwrap();
        b
    };
    assert_eq!(read(0, 4), b"HEAD");
    assert_eq!(read(MIDDLE, middle.len()), middle);
    assert_eq!(read(APPARENT - 4, 4), b"TAIL");
    assert_eq!(
        read(10 * GIB, 4096),
        vec![0u8; 4096],
        "a hole reads as zeros"
    );
    assert_eq!(read(MIDDLE - 100, 100), vec![0u8; 100]);
}

#[test]
fn gnu_tar_sparse_files_keep_their_holes_and_names() {
    let src = tempfile::tempdir().unwrap();
    let middle = sparse_source(src.path());
    for format in [
        &["--format=gnu"][..],
        &["--format=posix", "--sparse-version=0.0"],
        &["--format=posix", "--sparse-version=0.1"],
        &["--format=posix", "--sparse-version=1.0"],
    ] {
        let blob = gnu_tar(src.path(), format);
        assert!(blob.len() < 100_000, "{format:?}: the tar itself is small");
        let sb = Sandbox::new();
        let u = sb
            .unpack(&blob)
            .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(u.content_size, APPARENT, "{format:?}: apparent size counts");
        assert_sparse_copy(&sb.layer(), &middle);
    }
}

#[test]
fn sparse_file_in_a_gzip_layer_keeps_its_holes() {
    let src = tempfile::tempdir().unwrap();
    let middle = sparse_source(src.path());
    let blob = gnu_tar(src.path(), &["--format=posix", "--sparse-version=1.0"]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &blob).unwrap();
    let sb = Sandbox::new();
    let u = sb.unpack(&gz.finish().unwrap()).unwrap();
    assert_eq!(u.diff_id, husk_layers::Digest::of(&blob));
    assert_sparse_copy(&sb.layer(), &middle);
}

// ---- crafted archives ----------------------------------------------------

fn octal(field: &mut [u8], v: u64) {
    let s = format!("{:0width$o}\0", v, width = field.len() - 1);
    field.copy_from_slice(s.as_bytes());
}

/// GNU base-256: for values no octal field can hold.
fn base256(field: &mut [u8], v: u64) {
    field.fill(0);
    field[0] = 0x80;
    let n = field.len();
    field[n - 8..].copy_from_slice(&v.to_be_bytes());
}

fn checksum(h: &mut [u8; 512]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

fn header(name: &str, flag: u8, size: u64, gnu: bool) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 1_600_000_000);
    h[156] = flag;
    if gnu {
        h[257..265].copy_from_slice(b"ustar  \0");
    } else {
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
    }
    h
}

fn padded(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

/// An old-GNU `S` entry: `slots` go in the header (4 at most) and in
/// extension blocks of 21; `real` sets the real-size field.
fn gnu_sparse(name: &str, real: impl Fn(&mut [u8]), slots: &[(u64, u64)], data: &[u8]) -> Vec<u8> {
    let mut h = header(name, b'S', data.len() as u64, true);
    real(&mut h[483..495]);
    let (first, rest) = slots.split_at(slots.len().min(4));
    for (i, (off, len)) in first.iter().enumerate() {
        octal(&mut h[386 + i * 24..398 + i * 24], *off);
        octal(&mut h[398 + i * 24..410 + i * 24], *len);
    }
    h[482] = u8::from(!rest.is_empty());
    checksum(&mut h);
    let mut out = h.to_vec();
    let chunks: Vec<&[(u64, u64)]> = rest.chunks(21).collect();
    for (n, chunk) in chunks.iter().enumerate() {
        let mut ext = [0u8; 512];
        for (i, (off, len)) in chunk.iter().enumerate() {
            octal(&mut ext[i * 24..i * 24 + 12], *off);
            octal(&mut ext[i * 24 + 12..i * 24 + 24], *len);
        }
        ext[504] = u8::from(n + 1 < chunks.len());
        out.extend_from_slice(&ext);
    }
    padded(&mut out, data);
    out
}

fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = 1 + key.len() + 1 + value.len() + 1;
    let mut len = body + 1;
    while format!("{len}").len() + body != len {
        len += 1;
    }
    let mut r = format!("{len} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

/// A PAX header then a regular file entry holding `data`.
fn pax_file(name: &str, records: &[(&str, &[u8])], data: &[u8]) -> Vec<u8> {
    let text: Vec<u8> = records.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
    let mut x = header("PaxHeaders/f", b'x', text.len() as u64, false);
    checksum(&mut x);
    let mut out = x.to_vec();
    padded(&mut out, &text);
    let mut h = header(name, b'0', data.len() as u64, false);
    checksum(&mut h);
    out.extend_from_slice(&h);
    padded(&mut out, data);
    out
}

fn end(mut t: Vec<u8>) -> Vec<u8> {
    t.resize(t.len() + 1024, 0);
    t
}

/// Unpacks a hostile blob: it must fail with `want` in the message, and
/// nothing may be left outside the layer (nor, if `empty`, inside it).
fn refused(blob: &[u8], want: &str) {
    let sb = Sandbox::new();
    let err = sb.unpack(blob).expect_err(want).to_string();
    assert!(err.contains(want), "{err:?} should say {want:?}");
    assert!(!err.chars().any(|c| c.is_control()), "{err:?}");
    assert!(sb.escaped().is_empty(), "{:?}", sb.escaped());
    let big = sb.layer().join("big");
    if let Ok(m) = std::fs::metadata(&big) {
        assert!(
            m.blocks() * 512 <= 1 << 20,
            "{} bytes written",
            m.blocks() * 512
        );
    }
}

#[test]
fn crafted_old_gnu_map_round_trips() {
    // The crafting helpers agree with the reader on a well-formed map,
    // including one in extension blocks: the refusals below are about the
    // maps, not the framing.
    let slots: Vec<(u64, u64)> = (0..30).map(|i| (i * 4096, 3)).collect();
    let data = vec![7u8; 90];
    let blob = end(gnu_sparse("big", |f| octal(f, 40 * 4096), &slots, &data));
    let sb = Sandbox::new();
    sb.unpack(&blob).unwrap();
    let f = std::fs::File::open(sb.layer().join("big")).unwrap();
    assert_eq!(f.metadata().unwrap().len(), 40 * 4096);
    let mut b = [0u8; 4];
    f.read_exact_at(&mut b, 29 * 4096).unwrap();
    assert_eq!(b, [7, 7, 7, 0]);
}

#[test]
fn old_gnu_maps_that_lie_are_refused() {
    let data = [1u8; 1024];
    // Overlapping segments.
    refused(
        &end(gnu_sparse(
            "big",
            |f| octal(f, 1 << 20),
            &[(0, 512), (100, 512)],
            &data,
        )),
        "overlap",
    );
    // Out of order.
    refused(
        &end(gnu_sparse(
            "big",
            |f| octal(f, 1 << 20),
            &[(8192, 512), (0, 512)],
            &data,
        )),
        "overlap or are out of order",
    );
    // A segment past the file's end: it would write beyond the file.
    refused(
        &end(gnu_sparse(
            "big",
            |f| octal(f, 4096),
            &[(0, 512), (8192, 512)],
            &data,
        )),
        "past the end of the file",
    );
    // More data claimed than the entry holds, and less.
    refused(
        &end(gnu_sparse(
            "big",
            |f| octal(f, 1 << 20),
            &[(0, 4096)],
            &data,
        )),
        "hold 4096 bytes but the entry has 1024",
    );
    refused(
        &end(gnu_sparse("big", |f| octal(f, 1 << 20), &[(0, 10)], &data)),
        "hold 10 bytes",
    );
    // A size ftruncate cannot take.
    refused(
        &end(gnu_sparse(
            "big",
            |f| base256(f, u64::MAX),
            &[(0, 1024)],
            &data,
        )),
        "sparse real size",
    );
}

#[test]
fn huge_sparse_sizes_finish_at_once() {
    // 2^62 bytes apparent, 512 of data: either the filesystem refuses the
    // size (ext4: EFBIG) or the file is made without writing the holes;
    // never a loop over the hole.
    let blob = end(gnu_sparse(
        "big",
        |f| base256(f, 1 << 62),
        &[(0o77777777000, 512)],
        &[9u8; 512],
    ));
    let sb = Sandbox::new();
    match sb.unpack(&blob) {
        Ok(_) => {
            let m = std::fs::metadata(sb.layer().join("big")).unwrap();
            assert_eq!(m.len(), 1 << 62);
            assert!(m.blocks() < 64);
        }
        Err(e) => assert!(e.to_string().contains("big"), "{e}"),
    }
    assert!(sb.escaped().is_empty());
}

#[test]
fn endless_extension_blocks_are_cut_off() {
    // 50 000 extension blocks of empty segments (1.05 M segments, 25 MB):
    // refused at the cap, before the map grows past 16 MiB.
    let slots: Vec<(u64, u64)> = (0..(4 + 21 * 50_000u64)).map(|i| (i + 1, 0)).collect();
    let blob = end(gnu_sparse("big", |f| octal(f, 1 << 30), &slots, &[]));
    refused(&blob, "more than 1048576 segments");
}

#[test]
fn pax_1_0_maps_that_lie_are_refused() {
    let v1 = |map: &str, data: &[u8], real: &[u8]| {
        let mut content = map.as_bytes().to_vec();
        content.resize(content.len().div_ceil(512) * 512, 0);
        content.extend_from_slice(data);
        end(pax_file(
            "GNUSparseFile.1/big",
            &[
                ("GNU.sparse.major", b"1"),
                ("GNU.sparse.minor", b"0"),
                ("GNU.sparse.name", b"big"),
                ("GNU.sparse.realsize", real),
            ],
            &content,
        ))
    };
    // Well formed first: the same helper makes a file that unpacks.
    let ok = v1("1\n4096\n5\n", b"hello", b"8192");
    let sb = Sandbox::new();
    sb.unpack(&ok).unwrap();
    let f = std::fs::File::open(sb.layer().join("big")).unwrap();
    let mut b = [0u8; 5];
    f.read_exact_at(&mut b, 4096).unwrap();
    assert_eq!(&b, b"hello");
    assert!(!sb.layer().join("GNUSparseFile.1").exists());

    // A count no archive could hold: refused before anything is allocated.
    refused(
        &v1("99999999999999\n", b"", b"10"),
        "more than 1048576 segments",
    );
    // A count within the cap but a map that stops: refused at its end.
    let long = format!("1000000\n{}", "0\n0\n".repeat(126));
    refused(&v1(&long, b"", b"10"), "runs past the entry's data");
    refused(&v1("1\nzero\n5\n", b"hello", b"10"), "other than numbers");
    refused(
        &v1("1\n18446744073709551616\n5\n", b"hello", b"10"),
        "invalid number",
    );
    refused(
        &v1("1\n100\n5\n", b"hello", b"10"),
        "past the end of the file",
    );
    refused(&v1("2\n0\n5\n3\n5\n", b"hellohello", b"100"), "overlap");
    refused(
        &v1("1\n0\n5\n", b"hello", b"9223372036854775808"),
        "out of range",
    );
    // A real name that climbs out.
    let evil = end(pax_file(
        "GNUSparseFile.1/big",
        &[
            ("GNU.sparse.major", b"1"),
            ("GNU.sparse.minor", b"0"),
            ("GNU.sparse.name", b"../big"),
            ("GNU.sparse.realsize", b"5"),
        ],
        &{
            let mut c = b"1\n0\n5\n".to_vec();
            c.resize(512, 0);
            c.extend_from_slice(b"hello");
            c
        },
    ));
    refused(&evil, "climbs out");
}

#[test]
fn pax_0_x_maps_that_lie_are_refused() {
    let v01 = |map: &[u8], data: &[u8]| {
        end(pax_file(
            "GNUSparseFile.1/big",
            &[
                ("GNU.sparse.major", b"0"),
                ("GNU.sparse.minor", b"1"),
                ("GNU.sparse.name", b"big"),
                ("GNU.sparse.size", b"100"),
                ("GNU.sparse.map", map),
            ],
            data,
        ))
    };
    let sb = Sandbox::new();
    sb.unpack(&v01(b"10,5,100,0", b"hello")).unwrap();
    assert_eq!(
        std::fs::metadata(sb.layer().join("big")).unwrap().len(),
        100
    );
    refused(&v01(b"10,5,100", b"hello"), "odd number");
    refused(&v01(b"10,5,x,1", b"hello"), "invalid number");
    refused(&v01(b"18446744073709551615,5", b"hello"), "overflows");
    refused(&v01(b"10,5,12,5", b"hellohello"), "overlap");
    // 0.0: offset and numbytes records must alternate.
    let v00 = end(pax_file(
        "big",
        &[
            ("GNU.sparse.size", b"100"),
            ("GNU.sparse.numbytes", b"5"),
            ("GNU.sparse.offset", b"0"),
        ],
        b"hello",
    ));
    refused(&v00, "out of order");
    // A sparse map on a symlink.
    let mut x = header("PaxHeaders/l", b'x', 0, false);
    let text = pax_record("GNU.sparse.map", b"0,5");
    octal(&mut x[124..136], text.len() as u64);
    checksum(&mut x);
    let mut blob = x.to_vec();
    padded(&mut blob, &text);
    let mut l = header("big", b'2', 0, false);
    l[157..161].copy_from_slice(b"/etc");
    checksum(&mut l);
    blob.extend_from_slice(&l);
    refused(&end(blob), "not a file");
}
