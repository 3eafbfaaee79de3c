//! Drives the built `husk` binary against a private `--root`.

#![allow(dead_code)]

pub mod debian;
pub mod engine;
pub mod puller;

use std::path::Path;
use std::process::{Command, Output, Stdio};

pub struct Husk {
    pub root: tempfile::TempDir,
    /// Every command makes its runroot: a private one, never the host's /run/husk.
    pub runroot: tempfile::TempDir,
}

impl Husk {
    pub fn new() -> Husk {
        Husk {
            root: tempfile::Builder::new()
                .prefix("husk-test-root-")
                .tempdir()
                .unwrap(),
            runroot: tempfile::Builder::new().prefix("hkr-").tempdir().unwrap(),
        }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_husk"));
        c.arg("--root")
            .arg(self.root.path())
            .arg("--runroot")
            .arg(self.runroot.path())
            .args(args);
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "husk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and insists on failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "husk {args:?} should fail: {:?}",
            out
        );
        String::from_utf8(out.stderr).unwrap()
    }

    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let out = self.ok(&["image", "inspect", name]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v[0].clone()
    }

    /// Directories under layers/ and files under blobs/ and tmp/.
    pub fn count(&self, dir: &str) -> usize {
        std::fs::read_dir(self.root.path().join(dir))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Every layer dir is complete (meta.json present) and every blob hashes to its name.
    pub fn assert_consistent(&self) {
        assert_store_consistent(self.root.path());
    }
}

/// The image store under `root`: every layer dir is complete (meta.json
/// present) and every blob hashes to its name.
pub fn assert_store_consistent(root: &Path) {
    // A command stopped before it made the store leaves no directory: nothing half-written.
    let entries = |dir: &str| match std::fs::read_dir(root.join(dir)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        rd => rd.unwrap().collect(),
    };
    for e in entries("layers") {
        let p = e.unwrap().path();
        assert!(
            p.join("meta.json").is_file(),
            "incomplete layer {}",
            p.display()
        );
    }
    for e in entries("blobs/sha256") {
        let e = e.unwrap();
        let data = std::fs::read(e.path()).unwrap();
        let d = husk_image::Digest::of(&data);
        assert_eq!(d.hex(), e.file_name().to_str().unwrap(), "corrupt blob");
    }
}

/// `tar -C dir -cf out .` with xattrs, numeric owners kept.
pub fn tar_dir(dir: &Path, out: &Path, extra: &[&str]) {
    let st = Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "--numeric-owner"])
        .args(extra)
        .arg("-C")
        .arg(dir)
        .arg("-cf")
        .arg(out)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
}

pub fn run_tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("husk-test-")
        .tempdir()
        .unwrap()
}
