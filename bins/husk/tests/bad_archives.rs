//! Archives that are not what they claim: a random file, a cut-off
//! `docker save` or OCI archive, a truncated tar, gzip or zstd stream.
//! Each gets one clean line saying what is wrong (never the file's raw
//! bytes), exit 1, and nothing stored.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::Husk;

/// A rootfs with 300 KB of incompressible data, as a plain tar.
fn rootfs_tar(dir: &Path) -> PathBuf {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::write(rootfs.join("etc/hostname"), "small\n").unwrap();
    std::fs::write(rootfs.join("data"), noise(300_000, 7)).unwrap();
    let tar = dir.join("rootfs.tar");
    common::tar_dir(&rootfs, &tar, &[]);
    tar
}

/// Deterministic bytes with every value, control characters included.
fn noise(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

fn cut(src: &Path, len: u64, out: &Path) -> PathBuf {
    let data = std::fs::read(src).unwrap();
    std::fs::write(out, &data[..len as usize]).unwrap();
    out.to_path_buf()
}

/// (name, header offset, data size) of each member, read the simple way.
fn members(archive: &Path) -> Vec<(String, u64, u64)> {
    let data = std::fs::read(archive).unwrap();
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 512 <= data.len() && data[at..at + 512].iter().any(|b| *b != 0) {
        let h = &data[at..at + 512];
        let name = String::from_utf8_lossy(h[..100].split(|b| *b == 0).next().unwrap());
        let size = std::str::from_utf8(&h[124..135]).unwrap();
        let size = u64::from_str_radix(size.trim_matches(|c| c == '\0' || c == ' '), 8).unwrap();
        out.push((name.into_owned(), at as u64, size));
        at += 512 + (size as usize).div_ceil(512) * 512;
    }
    out
}

/// One line, exit 1, no raw bytes: no control characters and no
/// replacement characters from bytes that were not text.
fn clean_failure(out: &std::process::Output, want: &str) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8");
    let line = err.strip_suffix('\n').unwrap_or(&err);
    assert!(
        !line.chars().any(|c| c.is_control() || c == '\u{fffd}'),
        "raw bytes in {err:?}"
    );
    assert!(line.contains(want), "{err:?} should say {want:?}");
    line.to_string()
}

fn assert_nothing_stored(h: &Husk) {
    assert_eq!(h.ok(&["images", "-q"]), "");
    assert_eq!(h.count("layers"), 0, "layers");
    assert_eq!(h.count("tmp"), 0, "staging left in tmp/");
    h.assert_consistent();
}

#[test]
fn load_of_a_random_file_says_so_in_one_clean_line() {
    let dir = common::tempdir();
    let h = Husk::new();
    // A hostile name too: escape sequences and a newline.
    let name = dir.path().join("evil\x1b[31m\nname.tar");
    std::fs::write(&name, noise(100_000, 1)).unwrap();
    let out = h.run(&["load", "-i", name.to_str().unwrap()]);
    let line = clean_failure(
        &out,
        "is not a docker-archive or OCI archive (not a tar file)",
    );
    assert!(line.starts_with("husk: load: "), "{line}");
    assert!(line.contains("evil\\u{1b}[31m\\nname.tar"), "{line}");
    let out = h
        .cmd(&["load"])
        .stdin(Stdio::from(File::open(&name).unwrap()))
        .output()
        .unwrap();
    let line = clean_failure(&out, "stdin is not a docker-archive or OCI archive");
    assert!(!line.contains("load-"), "names the spool file: {line}");
    // Short and empty files.
    let short = dir.path().join("short");
    std::fs::write(&short, b"\x1b[2Jhello").unwrap();
    clean_failure(
        &h.run(&["load", "-i", short.to_str().unwrap()]),
        "not a tar file, or one cut short: only 9 bytes",
    );
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    clean_failure(&h.run(&["load", "-i", empty.to_str().unwrap()]), "empty");
    // A tar that is no image.
    let tar = rootfs_tar(dir.path());
    clean_failure(
        &h.run(&["load", "-i", tar.to_str().unwrap()]),
        "is not a docker-archive or OCI archive (a tar file with neither manifest.json nor index.json)",
    );
    assert_nothing_stored(&h);
}

#[test]
fn truncated_archives_say_they_are_truncated() {
    let dir = common::tempdir();
    let tar = rootfs_tar(dir.path());
    let src = Husk::new();
    src.ok(&["import", tar.to_str().unwrap(), "small:1"]);
    let docker = dir.path().join("docker.tar");
    let oci = dir.path().join("oci.tar");
    src.ok(&["save", "-o", docker.to_str().unwrap(), "small:1"]);
    src.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        oci.to_str().unwrap(),
        "small:1",
    ]);
    let h = Husk::new();
    for archive in [&docker, &oci] {
        let m = members(archive);
        let big = m.iter().max_by_key(|(_, _, size)| *size).unwrap();
        // docker writes manifest.json, OCI layouts index.json, late.
        let index = m
            .iter()
            .find(|(n, _, _)| n == "manifest.json" || n == "index.json")
            .unwrap();
        let cuts = [
            // Inside the largest member's data (the layer).
            (big.1 + 512 + big.2 / 2, "unexpected end of archive after"),
            // Inside the index's header.
            (index.1 + 100, "unexpected end of archive after"),
            // At the member boundary before the index: what is there
            // reads as a complete archive but has no end marker.
            (index.1, "without the end-of-archive marker"),
        ];
        for (n, (len, want)) in cuts.into_iter().enumerate() {
            let cut = cut(archive, len, &dir.path().join(format!("cut-{n}.tar")));
            let out = h.run(&["load", "-i", cut.to_str().unwrap()]);
            let line = clean_failure(&out, want);
            assert!(line.contains("truncated or corrupt"), "{line}");
            assert!(!line.contains("neither manifest.json"), "{line}");
            assert_nothing_stored(&h);
        }
    }
    // The whole archives load.
    h.ok(&["load", "-i", docker.to_str().unwrap()]);
    h.ok(&["load", "-i", oci.to_str().unwrap()]);
}

#[test]
fn import_of_bad_input_says_what_is_wrong() {
    let dir = common::tempdir();
    let tar = rootfs_tar(dir.path());
    let h = Husk::new();
    let random = dir.path().join("random.bin");
    std::fs::write(&random, noise(100_000, 3)).unwrap();
    clean_failure(
        &h.run(&["import", random.to_str().unwrap()]),
        "random.bin: not a tar archive", // the file is named, and what it is not
    );
    // A plain tar cut inside the data file: refused, not stored short.
    let half = cut(&tar, 150_000, &dir.path().join("half.tar"));
    clean_failure(
        &h.run(&["import", half.to_str().unwrap()]),
        "layer tar is truncated",
    );
    for (tool, ext, want) in [
        ("gzip", "gz", "layer gzip stream is corrupt or truncated"),
        ("zstd", "zst", "layer zstd stream is corrupt or truncated"),
    ] {
        let st = Command::new(tool)
            .args(["-k", "-q"])
            .arg(&tar)
            .status()
            .unwrap();
        assert!(st.success(), "{tool}");
        let whole = tar.with_extension(format!("tar.{ext}"));
        let len = std::fs::metadata(&whole).unwrap().len();
        let short = cut(
            &whole,
            len / 2,
            &dir.path().join(format!("short.tar.{ext}")),
        );
        let line = clean_failure(&h.run(&["import", short.to_str().unwrap()]), want);
        assert!(line.contains(&format!("short.tar.{ext}")), "{line}");
    }
    assert_nothing_stored(&h);
    // The whole tar imports.
    h.ok(&["import", tar.to_str().unwrap(), "whole:1"]);
}
