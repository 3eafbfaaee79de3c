//! A private store with a config file of its own, for registry tests:
//! every husk command runs in the host's network namespace, where the
//! test registries listen on 127.0.0.1.

#![allow(dead_code)]

use super::*;

/// A store plus a config file of its own (certs.d beside it).
pub struct Puller {
    pub h: Husk,
    pub conf: tempfile::TempDir,
}

impl Puller {
    pub fn new(config: &str) -> Puller {
        let conf = tempdir();
        std::fs::write(conf.path().join("config.toml"), config).unwrap();
        Puller {
            h: Husk::new(),
            conf,
        }
    }

    /// Logs in to `registry` as docker's config.json keeps it (base64 auth).
    pub fn login(&self, registry: &str, user: &str, pass: &str) {
        use std::io::Write;
        let mut enc = Vec::new();
        {
            // base64 by hand: the tests have no base64 crate.
            const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let raw = format!("{user}:{pass}").into_bytes();
            for c in raw.chunks(3) {
                let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
                let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
                for i in 0..4 {
                    if i <= c.len() {
                        enc.push(T[(n >> (18 - 6 * i) & 63) as usize]);
                    } else {
                        enc.push(b'=');
                    }
                }
            }
        }
        let json = format!(
            r#"{{"auths":{{"{registry}":{{"auth":"{}"}}}}}}"#,
            String::from_utf8(enc).unwrap()
        );
        let mut f = std::fs::File::create(self.conf.path().join("config.json")).unwrap();
        f.write_all(json.as_bytes()).unwrap();
    }

    pub fn config(&self) -> std::path::PathBuf {
        self.conf.path().join("config.toml")
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        let mut c = self.h.cmd(&[]);
        // Credentials from this test's docker config only, never the host's.
        c.env("DOCKER_CONFIG", self.conf.path());
        c.arg("--config").arg(self.config()).args(args);
        c.output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "husk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Fails with exit 1 and one line on stderr; returns it.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "husk {args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        err
    }

    /// `husk images` lists exactly `names` (REPOSITORY:TAG), and the store
    /// holds no half-written blob or layer.
    pub fn assert_images(&self, names: &[&str]) {
        let out = self.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        let mut got: Vec<&str> = out.lines().collect();
        got.sort();
        let mut want = names.to_vec();
        want.sort();
        assert_eq!(got, want, "husk images");
        if self.h.root().join("layers").exists() {
            self.h.assert_consistent();
        }
    }
}
