//! What must hold when things go wrong: corrupt input, two writers at once,
//! Ctrl-C in the middle.

mod common;

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// A plain tar holding two large files: slow enough to interrupt. Real
/// bytes, not a sparse file (tar would store holes, and the work vanish).
fn big_tar(dir: &Path, mb: usize) -> std::path::PathBuf {
    let out = dir.join("big.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&out).unwrap());
    let data = vec![0xa5u8; mb << 20];
    for name in ["big.bin", "copy.bin"] {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    b.into_inner().unwrap();
    out
}

fn small_image(h: &Husk, dir: &Path, name: &str) {
    let rootfs = dir.join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let tar = dir.join("small.tar");
    tar_dir(&rootfs, &tar, &[]);
    h.ok(&["import", tar.to_str().unwrap(), name]);
}

/// Rewrites `archive` with one byte flipped in the middle of the member `victim` picks.
fn corrupt(archive: &Path, out: &Path, victim: impl Fn(&str, u64) -> bool) {
    let mut input = tar::Archive::new(std::fs::File::open(archive).unwrap());
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    let mut hit = false;
    for e in input.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if !hit && victim(&name, data.len() as u64) {
            let mid = data.len() / 2;
            data[mid] ^= 0xff;
            hit = true;
        }
        let mut h = e.header().clone();
        b.append_data(&mut h, &name, &data[..]).unwrap();
    }
    assert!(hit, "no member to corrupt");
    b.into_inner().unwrap();
}

#[test]
fn corrupt_blob_is_refused_and_nothing_is_stored() {
    husk_fixtures::require_root!("corrupt_blob_is_refused_and_nothing_is_stored");
    let work = tempdir();
    let h = Husk::new();
    small_image(&h, work.path(), "small");
    for (format, file) in [("oci-archive", "o.tar"), ("docker-archive", "d.tar")] {
        let archive = work.path().join(file);
        h.ok(&[
            "save",
            "--format",
            format,
            "-o",
            archive.to_str().unwrap(),
            "small",
        ]);
        let bad = work.path().join(format!("bad-{file}"));
        // The big member is the layer.
        corrupt(&archive, &bad, |_, size| size > 100_000);
        let h2 = Husk::new();
        let err = h2.fails(&["load", "-i", bad.to_str().unwrap()]);
        assert!(err.contains("digest mismatch"), "{format}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(h2.ok(&["images", "-q"]), "");
        assert_eq!(h2.count("blobs/sha256"), 0, "{format}: blobs left");
        assert_eq!(h2.count("layers"), 0, "{format}: layers left");
        assert_eq!(h2.count("tmp"), 0, "{format}: tmp left");
    }
}

#[test]
fn two_concurrent_loads_of_one_image() {
    husk_fixtures::require_root!("two_concurrent_loads_of_one_image");
    let work = tempdir();
    let h = Husk::new();
    small_image(&h, work.path(), "small");
    let archive = work.path().join("a.tar");
    h.ok(&["save", "-o", archive.to_str().unwrap(), "small"]);
    let h2 = Husk::new();
    let a = archive.to_str().unwrap();
    let mut children: Vec<_> = (0..2)
        .map(|_| {
            h2.cmd(&["load", "-i", a])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let rmi = h2.cmd(&["rmi", "small"]).output().unwrap();
    for c in children.iter_mut() {
        assert!(c.wait().unwrap().success());
    }
    // The rmi raced the loads: either outcome is fine, corruption is not.
    let _ = rmi;
    h2.assert_consistent();
    h2.ok(&["load", "-i", a]);
    assert_eq!(h2.ok(&["images", "-q"]).lines().count(), 1);
    assert_eq!(h2.count("layers"), 1);
    assert_eq!(h2.count("l"), 1);
    h2.assert_consistent();
}

/// The test harness may run with SIGINT ignored (a background job of a
/// non-interactive shell), and children inherit that: restore the default
/// so the signal acts as Ctrl-C does in a terminal.
fn interruptible(mut cmd: Command) -> std::process::Child {
    // SAFETY: signal() is async-signal-safe, as pre_exec requires.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    cmd.stdout(Stdio::null()).spawn().unwrap()
}

fn interrupt_after(mut child: std::process::Child, wait: Duration) -> std::process::ExitStatus {
    std::thread::sleep(wait);
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    child.wait().unwrap()
}

#[test]
fn sigint_during_import_and_load_leaves_no_half_image() {
    husk_fixtures::require_root!("sigint_during_import_and_load_leaves_no_half_image");
    let work = tempdir();
    let big = big_tar(work.path(), 64);
    let big = big.to_str().unwrap();
    let h = Husk::new();
    let st = interrupt_after(
        interruptible(h.cmd(&["import", big, "big"])),
        Duration::from_millis(100),
    );
    assert_eq!(
        st.signal(),
        Some(libc::SIGINT),
        "import finished before the signal ({st:?}): make the input bigger"
    );
    assert_eq!(h.ok(&["images", "-q"]), "");
    h.assert_consistent();
    h.ok(&["import", big, "big"]);
    assert_eq!(h.ok(&["images", "-q"]).lines().count(), 1);
    assert_eq!(h.count("tmp"), 0, "leftovers not cleaned");

    let archive = work.path().join("big-save.tar");
    h.ok(&["save", "-o", archive.to_str().unwrap(), "big"]);
    let h2 = Husk::new();
    let a = archive.to_str().unwrap();
    let st = interrupt_after(
        interruptible(h2.cmd(&["load", "-i", a])),
        Duration::from_millis(100),
    );
    assert_eq!(st.signal(), Some(libc::SIGINT));
    assert_eq!(h2.ok(&["images", "-q"]), "");
    h2.assert_consistent();
    assert_eq!(h2.ok(&["load", "-i", a]).trim(), "Loaded image: big:latest");
    assert_eq!(h2.count("tmp"), 0);
    h2.assert_consistent();
}

/// `n` copies of `args` at once against `h`: each succeeds or fails with
/// one clear line (no panic, no raw error), and at least one succeeds.
fn all_at_once(h: &Husk, n: usize, args: &[&str]) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            h.cmd(args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            ok += 1;
        } else {
            assert!(
                err.starts_with("husk: ") && err.lines().count() == 1,
                "{args:?}: {err}"
            );
        }
    }
    assert!(ok >= 1, "{args:?}: none of {n} succeeded");
}

#[test]
fn parallel_imports_and_loads_of_one_image() {
    husk_fixtures::require_root!("parallel_imports_and_loads_of_one_image");
    let work = tempdir();
    let rootfs = work.path().join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let tar = work.path().join("bb.tar");
    tar_dir(&rootfs, &tar, &[]);
    let tar = tar.to_str().unwrap();

    // Imports: each is an image of its own (a new config, as docker's),
    // the name ends on one of them, the layer is stored once.
    let h = Husk::new();
    all_at_once(&h, 6, &["import", tar, "same"]);
    h.assert_consistent();
    assert_eq!(h.ok(&["images", "-q", "same"]).lines().count(), 1);
    assert_eq!(h.count("layers"), 1, "the layer stored more than once");
    assert_eq!(h.count("l"), 1);
    assert_eq!(h.count("tmp"), 0, "staging left");

    // Loads of one archive: one image, one layer.
    let archive = work.path().join("same.tar");
    h.ok(&["save", "-o", archive.to_str().unwrap(), "same"]);
    let a = archive.to_str().unwrap();
    let h2 = Husk::new();
    all_at_once(&h2, 6, &["load", "-i", a]);
    h2.assert_consistent();
    assert_eq!(h2.ok(&["images", "-q"]).lines().count(), 1);
    assert_eq!(h2.count("layers"), 1);
    assert_eq!(h2.count("l"), 1);

    // Both at once, into a store that has it already.
    std::thread::scope(|s| {
        s.spawn(|| all_at_once(&h2, 3, &["import", tar, "same:imported"]));
        s.spawn(|| all_at_once(&h2, 3, &["load", "-i", a]));
    });
    h2.assert_consistent();
    assert_eq!(h2.count("layers"), 1);
    assert_eq!(h2.count("tmp"), 0);
    assert_eq!(h2.ok(&["images", "-q", "same:imported"]).lines().count(), 1);
    assert_eq!(h2.ok(&["images", "-q", "same:latest"]).lines().count(), 1);
}
