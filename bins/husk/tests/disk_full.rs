//! A store on a small tmpfs: `import`, `load` and `run` on a full disk fail
//! with one clear line naming ENOSPC, store nothing half-made, and leave
//! the store usable once there is room again.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::engine::Engine;
use common::Husk;

/// A tmpfs of its own, unmounted on drop (also when the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn new(size: &str) -> Tmpfs {
        let dir = tempfile::Builder::new()
            .prefix("husk-test-tmpfs-")
            .tempdir()
            .unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755")])
            .arg("husk-test")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(st.success(), "mount tmpfs on {}", dir.path().display());
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, size: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(st.success());
    }

    fn free_bytes(&self) -> u64 {
        let st = nix::sys::statvfs::statvfs(self.path()).unwrap();
        st.blocks_available() * st.fragment_size()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Detached: a process a failed test left behind cannot keep it.
        let _ = nix::mount::umount2(self.path(), nix::mount::MntFlags::MNT_DETACH);
    }
}

/// A root filesystem with `mb` MB of incompressible data, as a plain tar,
/// a gzip tar, and the docker-archive and OCI archive of its image.
struct BigImage {
    _dir: tempfile::TempDir,
    tar: PathBuf,
    gz: PathBuf,
    docker: PathBuf,
    oci: PathBuf,
}

fn big_image(mb: usize) -> BigImage {
    let dir = common::tempdir();
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("data")).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let data: Vec<u8> = (0..mb << 20)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    std::fs::write(rootfs.join("data/blob"), &data).unwrap();
    std::fs::write(rootfs.join("data/small"), b"small\n").unwrap();
    let tar = dir.path().join("big.tar");
    common::tar_dir(&rootfs, &tar, &[]);
    let st = Command::new("gzip")
        .args(["-k", "-1"])
        .arg(&tar)
        .status()
        .unwrap();
    assert!(st.success());
    let gz = dir.path().join("big.tar.gz");
    // The archives come from a store with room.
    let roomy = Husk::new();
    roomy.ok(&["import", tar.to_str().unwrap(), "big:1"]);
    let docker = dir.path().join("big-docker.tar");
    let oci = dir.path().join("big-oci.tar");
    roomy.ok(&["save", "-o", docker.to_str().unwrap(), "big:1"]);
    roomy.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        oci.to_str().unwrap(),
        "big:1",
    ]);
    BigImage {
        _dir: dir,
        tar,
        gz,
        docker,
        oci,
    }
}

/// The one-line ENOSPC error, with no trace of the old "broken pipe".
fn assert_no_space(stderr: &str, names: &str) {
    let line = stderr.trim_end();
    assert!(!line.contains('\n'), "more than one line: {stderr:?}");
    assert!(
        line.contains("no space left on device (ENOSPC)"),
        "{stderr:?} should name ENOSPC"
    );
    assert!(line.contains(names), "{stderr:?} should name {names:?}");
    assert!(!line.contains("broken pipe"), "{stderr:?}");
}

/// Nothing half-made: no staging left in tmp/, every layer complete and
/// every blob whole, and the images are exactly `want`.
fn assert_store_clean(h: &Husk, want: &[&str]) {
    let left: Vec<_> = std::fs::read_dir(h.root().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "staging left in tmp/: {left:?}");
    h.assert_consistent();
    let out = h.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut listed: Vec<&str> = out.lines().collect();
    listed.sort();
    assert_eq!(listed, want, "images");
}

fn load_stdin(h: &Husk, archive: &Path) -> std::process::Output {
    h.cmd(&["load"])
        .stdin(Stdio::from(File::open(archive).unwrap()))
        .output()
        .unwrap()
}

#[test]
fn import_and_load_on_a_full_disk_fail_clearly_and_store_nothing() {
    husk_fixtures::require_root!("import_and_load_on_a_full_disk_fail_clearly_and_store_nothing");
    let img = big_image(6);
    let fs = Tmpfs::new("4m");
    let h = Husk {
        root: tempfile::tempdir_in(fs.path()).unwrap(),
        runroot: tempfile::Builder::new().prefix("hkr-").tempdir().unwrap(),
    };
    // An image that fits, stored before the disk fills: it must survive.
    let small = common::tempdir();
    std::fs::create_dir(small.path().join("etc")).unwrap();
    std::fs::write(small.path().join("etc/hostname"), "small\n").unwrap();
    let small_tar = small.path().join("small.tar");
    common::tar_dir(small.path(), &small_tar, &["--exclude=./small.tar"]);
    h.ok(&["import", small_tar.to_str().unwrap(), "small:1"]);

    for file in [&img.tar, &img.gz] {
        let err = h.fails(&["import", file.to_str().unwrap(), "big:1"]);
        assert_no_space(&err, file.file_name().unwrap().to_str().unwrap());
        assert_store_clean(&h, &["small:1"]);
    }
    for archive in [&img.docker, &img.oci] {
        let err = h.fails(&["load", "-i", archive.to_str().unwrap()]);
        assert_no_space(&err, "layer sha256:");
        assert_store_clean(&h, &["small:1"]);
    }
    let out = load_stdin(&h, &img.docker);
    assert_eq!(out.status.code(), Some(1));
    assert_no_space(&String::from_utf8_lossy(&out.stderr), "load");
    assert_store_clean(&h, &["small:1"]);

    // Room again: the same commands work and the store is whole.
    fs.resize("64m");
    h.ok(&["import", img.tar.to_str().unwrap(), "big:1"]);
    h.ok(&["tag", "big:1", "big:2"]);
    h.ok(&["rmi", "big:1"]);
    let out = load_stdin(&h, &img.docker);
    assert!(out.status.success(), "{out:?}");
    h.ok(&["load", "-i", img.oci.to_str().unwrap()]);
    assert_store_clean(&h, &["big:1", "big:2", "small:1"]);
    // Each image's layer is whole: the 6 MB file is all there.
    for name in ["big:1", "big:2"] {
        let layers = h.inspect(name)["RootFS"]["Layers"].clone();
        assert_eq!(layers.as_array().map(Vec::len), Some(1), "{name}");
    }
    let blobs: Vec<_> = walk_files(&h.root().join("layers"))
        .into_iter()
        .filter(|p| p.ends_with("data/blob"))
        .collect();
    assert!(!blobs.is_empty());
    for b in blobs {
        assert_eq!(
            std::fs::metadata(&b).unwrap().len(),
            6 << 20,
            "{}",
            b.display()
        );
    }
    drop(h);
}

#[test]
fn a_container_filling_the_disk_leaves_the_engine_usable() {
    husk_fixtures::require_root!("a_container_filling_the_disk_leaves_the_engine_usable");
    let fs = Tmpfs::new("24m");
    let e = Engine::new_in(fs.path());
    // The container writes into its upper dir, on the engine's tmpfs,
    // until the kernel says ENOSPC; then its monitor cannot record the
    // exit either.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "filler",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/fill bs=64k; echo filled",
    ]);
    let code = e.ok(&["wait", "filler"]);
    // 1 from dd if the exit was recorded, 255 if the full disk kept the
    // monitor from recording it.
    assert!(matches!(code.trim(), "1" | "255"), "{code}");
    assert!(fs.free_bytes() < 1 << 20, "{} bytes free", fs.free_bytes());

    // Full: commands still work, and what cannot be written is said in
    // words naming ENOSPC.
    let (code, ps, err) = e.code(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    assert_eq!(code, 0, "{err}");
    assert!(ps.contains("filler Exited ("), "{ps}");
    for line in err.lines() {
        assert!(
            line.to_lowercase().contains("no space left on device"),
            "{err}"
        );
    }
    let before = e.ids();
    let (code, _, err) = e.code(&["run", "--rm", "busybox", "true"]);
    if code != 0 {
        assert_eq!(code, 125, "{err}");
        assert!(!err.trim_end().contains('\n'), "{err:?}");
        assert!(
            err.to_lowercase().contains("no space left on device"),
            "{err:?}"
        );
    }
    assert_eq!(e.ids(), before, "a failed run leaves no container");
    assert_state_whole(e.root.path());
    // `rm` must work on a full disk: it is how the space comes back.
    let (code, _, err) = e.code(&["rm", "filler"]);
    assert_eq!(code, 0, "{err}");
    assert!(e.ids().is_empty());
    assert!(fs.free_bytes() > 4 << 20, "{} bytes free", fs.free_bytes());

    // Room again: everything works and nothing is left half-made.
    assert_eq!(e.ok(&["run", "--rm", "busybox", "echo", "ok"]), "ok\n");
    e.ok(&["ps", "-a"]);
    assert!(e.allocations().is_empty(), "{:?}", e.allocations());
    let images = e.ok(&["images", "--format", "{{.Repository}}"]);
    assert_eq!(images.trim(), "busybox");
    let tmp: Vec<_> = std::fs::read_dir(e.root.path().join("tmp"))
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(tmp.is_empty(), "{tmp:?}");
    assert_state_whole(e.root.path());
    drop(e);
}

/// Every JSON state file of the engine parses and no temp file of an
/// atomic write is left: a full disk made writes fail, never half-write.
fn assert_state_whole(root: &Path) {
    for f in walk_files(root) {
        let rel = f.strip_prefix(root).unwrap();
        let skip = rel.components().any(|c| {
            matches!(
                c.as_os_str().to_str(),
                Some("layers" | "blobs" | "upper" | "work" | "merged")
            )
        });
        if skip {
            continue;
        }
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(!name.contains(".tmp."), "temp file left: {}", f.display());
        if name.ends_with(".json") && !name.ends_with("-json.log") {
            let data = std::fs::read(&f).unwrap();
            serde_json::from_slice::<serde_json::Value>(&data)
                .unwrap_or_else(|err| panic!("{}: {err}", f.display()));
        }
    }
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            out.extend(walk_files(&e.path()));
        } else if t.is_file() {
            out.push(e.path());
        }
    }
    out
}
