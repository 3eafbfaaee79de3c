//! `husk pull` against Debian's docker-registry on 127.0.0.1 (started by
//! the test, stopped by PID on drop), seeded by skopeo.

mod common;

use common::*;
use husk_fixtures::registry::{Compression, Format, Registry, Seed};

/// A store plus a config file of its own (certs.d beside it).
struct Puller {
    h: Husk,
    conf: tempfile::TempDir,
}

impl Puller {
    fn new(config: &str) -> Puller {
        let conf = tempdir();
        std::fs::write(conf.path().join("config.toml"), config).unwrap();
        Puller {
            h: Husk::new(),
            conf,
        }
    }

    fn config(&self) -> std::path::PathBuf {
        self.conf.path().join("config.toml")
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut c = self.h.cmd(&[]);
        c.arg("--config").arg(self.config()).args(args);
        c.output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "husk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Fails with exit 1 and one line on stderr; returns it.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "husk {args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        err
    }

    /// `husk images` lists exactly `names` (REPOSITORY:TAG), and the store
    /// holds no half-written blob or layer.
    fn assert_images(&self, names: &[&str]) {
        let out = self.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        let mut got: Vec<&str> = out.lines().collect();
        got.sort();
        let mut want = names.to_vec();
        want.sort();
        assert_eq!(got, want, "husk images");
        self.h.assert_consistent();
    }
}

fn mirror_config(reg: &Registry) -> String {
    format!("[registry]\nregistry_mirrors = [\"{}\"]\n", reg.url())
}

#[test]
fn pull_busybox_through_a_mirror_like_docker() {
    husk_fixtures::require_root!("pull_busybox_through_a_mirror_like_docker");
    let reg = Registry::start_http();
    let digest = reg.push_busybox("library/busybox:latest", 3);
    let p = Puller::new(&mirror_config(&reg));
    let out = p.ok(&["pull", "busybox"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Using default tag: latest", "{out}");
    assert_eq!(lines[1], "latest: Pulling from library/busybox", "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.ends_with(": Pull complete"))
            .count(),
        3,
        "{out}"
    );
    assert!(out.contains(&format!("\nDigest: {digest}\n")), "{out}");
    assert!(
        out.contains("\nStatus: Downloaded newer image for busybox:latest\n"),
        "{out}"
    );
    assert_eq!(
        lines.last(),
        Some(&"docker.io/library/busybox:latest"),
        "{out}"
    );
    p.assert_images(&["busybox:latest"]);
    // Stored byte for byte: the manifest digest is the registry's.
    assert_eq!(
        p.ok(&["images", "--digests", "--format", "{{.Digest}}"])
            .trim(),
        digest
    );

    let again = p.ok(&["pull", "busybox:latest"]);
    assert!(
        again.contains("Status: Image is up to date for busybox:latest"),
        "{again}"
    );
    assert!(!again.contains("Pull complete"), "{again}");
    assert_eq!(
        p.ok(&["pull", "-q", "busybox"]),
        "docker.io/library/busybox:latest\n"
    );
}
