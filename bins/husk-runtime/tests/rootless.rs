//! husk-runtime run by a user without privileges (issue 15): the config
//! `spec --rootless` writes (a user namespace mapping the user's own ids),
//! state under $XDG_RUNTIME_DIR, no cgroup unless the user may write one,
//! and a one-line refusal of what cannot work rootless. The test runs as
//! root and runs the runtime as `nobody`, from a copy of the binary in a
//! directory that user owns.

#[allow(unused_imports)]
mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;

const NOBODY: u32 = 65534;

/// A directory owned by `nobody` holding the runtime binary, a busybox
/// bundle with `spec --rootless`'s config, and the runtime dir.
struct Rootless {
    dir: tempfile::TempDir,
}

impl Rootless {
    fn new() -> Rootless {
        let dir = tempfile::Builder::new()
            .prefix("husk-rootless-")
            .tempdir()
            .unwrap();
        husk_fixtures::busybox_rootfs(&dir.path().join("bundle/rootfs"));
        std::fs::copy(bin(), dir.path().join("husk-runtime")).unwrap();
        std::fs::create_dir(dir.path().join("xdg")).unwrap();
        let st = Command::new("chown")
            .args(["-R", "-h", &format!("{NOBODY}:{NOBODY}")])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(st.success());
        let r = Rootless { dir };
        let out = r.run_in(&r.bundle(), &["spec", "--rootless"]);
        assert!(out.status.success(), "{out:?}");
        r
    }

    fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    /// The runtime as `nobody`, in `cwd`, with only PATH and the runtime dir.
    fn run_in(&self, cwd: &Path, args: &[&str]) -> Output {
        husk_fixtures::output_via_files(
            Command::new(self.dir.path().join("husk-runtime"))
                .args(args)
                .current_dir(cwd)
                .env_clear()
                .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
                .env("XDG_RUNTIME_DIR", self.dir.path().join("xdg"))
                .uid(NOBODY)
                .gid(NOBODY)
                .stdin(Stdio::null()),
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in(self.dir.path(), args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn edit(&self, f: impl FnOnce(&mut serde_json::Value)) {
        let path = self.bundle().join("config.json");
        let mut c: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        c["process"]["terminal"] = serde_json::json!(false);
        f(&mut c);
        std::fs::write(&path, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("xdg/husk-runtime")
    }
}

impl Drop for Rootless {
    fn drop(&mut self) {
        let left: Vec<_> = std::fs::read_dir(self.state_dir())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n != "@seccomp")
            .collect();
        for id in &left {
            let _ = self.run(&["delete", "--force", &id.to_string_lossy()]);
        }
        if !left.is_empty() && !std::thread::panicking() {
            panic!("rootless state left: {left:?}");
        }
    }
}

#[test]
fn rootless_run_exec_and_delete() {
    require_root!("rootless_run_exec_and_delete");
    let r = Rootless::new();
    let bundle = r.bundle();
    let b = bundle.to_str().unwrap();
    r.edit(|c| {
        c["process"]["args"] = serde_json::json!([
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map | tr -s ' '; echo x > /dev/null && echo null-ok; echo $$"
        ])
    });
    assert_eq!(
        r.ok(&["run", "--bundle", b, "rl1"]),
        format!("0\n 0 {NOBODY} 1\nnull-ok\n1\n")
    );

    r.edit(|c| c["process"]["args"] = serde_json::json!(["sleep", "60"]));
    let id = unique("rl2");
    r.ok(&["run", "--detach", "--bundle", b, &id]);
    assert!(r.state_dir().join(&id).exists());
    let list = r.ok(&["list"]);
    let row = list
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_default();
    assert!(row.ends_with("nobody"), "{list}");
    assert_eq!(r.ok(&["exec", &id, "id", "-u"]), "0\n");
    let pid = r.ok(&["state", &id]);
    let pid: serde_json::Value = serde_json::from_str(&pid).unwrap();
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", pid["pid"].as_i64().unwrap())).unwrap();
    assert!(
        status.contains(&format!("Uid:\t{NOBODY}\t{NOBODY}\t{NOBODY}\t{NOBODY}")),
        "{status}"
    );
    r.ok(&["delete", "--force", &id]);
    // No cgroup: the user may not write any here.
    assert_eq!(cgroup_dirs(&id), Vec::<PathBuf>::new());
    reap(pid["pid"].as_i64().unwrap() as i32);
}

/// What cannot work rootless is refused before anything exists, naming the
/// field and the fix.
#[test]
fn rootless_refusals() {
    require_root!("rootless_refusals");
    let r = Rootless::new();
    let bundle = r.bundle();
    let b = bundle.to_str().unwrap();
    r.edit(|c| {
        c["linux"]["resources"] = serde_json::json!({"memory": {"limit": 104857600}});
    });
    let out = r.run(&["create", "--bundle", b, "rl3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("rootless: linux.resources sets limits") && err.contains("delegate"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    r.edit(|c| {
        c["linux"]["resources"] = serde_json::json!({});
        let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "user");
        c["linux"]["uidMappings"] = serde_json::Value::Null;
        c["linux"]["gidMappings"] = serde_json::Value::Null;
    });
    let out = r.run(&["create", "--bundle", b, "rl4"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("rootless: linux.namespaces needs a user namespace"),
        "{err}"
    );
    // Without --root or XDG_RUNTIME_DIR there is no place for state.
    let out = husk_fixtures::output_via_files(
        Command::new(r.dir.path().join("husk-runtime"))
            .arg("list")
            .env_clear()
            .uid(NOBODY)
            .gid(NOBODY)
            .stdin(Stdio::null()),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("XDG_RUNTIME_DIR is not set"), "{err}");
}
