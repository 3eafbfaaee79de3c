//! Harness for husk-runtime's end-to-end tests: a private `--root` per
//! test, bundles from husk-fixtures, and a check on drop that nothing was
//! left behind (containers, cgroup dirs, mounts), whatever the outcome.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use husk_fixtures::{
    cgroup_dirs, mounts_under, require_root, skip, unique, wait_until, Bundle,
};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_husk-runtime"))
}

pub struct Rt {
    pub root: tempfile::TempDir,
    pub ids: std::cell::RefCell<Vec<String>>,
}

/// Makes this test process the subreaper of the containers it creates, as
/// containerd's shim is: their inits are re-parented here when the
/// `create` process exits, and are reaped after `delete` (this machine's
/// PID 1 does not reap orphans).
fn become_subreaper() {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// Reaps `pid` if it is our (adopted) zombie child; never blocks.
pub fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid on one specific pid with WNOHANG.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
}

/// Kills the init of container `id` by the pid its runtime recorded in
/// `<root>/<id>/state.json` (husk-runtime's `pid`, runc's
/// `init_process_pid`), without the runtime: a stuck init may hold the
/// container's lock. Reaps it; returns the pid (0 when none was recorded).
pub fn kill_recorded_init(root: &Path, id: &str) -> i32 {
    let state = root.join(id).join("state.json");
    let v: serde_json::Value = std::fs::read_to_string(state)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let pid = v["pid"]
        .as_i64()
        .or(v["init_process_pid"].as_i64())
        .unwrap_or(0) as i32;
    if pid > 0 {
        husk_fixtures::sigkill(pid);
        std::thread::sleep(std::time::Duration::from_millis(200));
        reap(pid);
    }
    pid
}

/// Waits for an adopted child (a detached exec) to exit and reaps it.
pub fn reap_blocking(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid on one specific pid.
    unsafe { libc::waitpid(pid, &mut status, 0) };
}

impl Rt {
    pub fn new() -> Rt {
        become_subreaper();
        Rt {
            root: tempfile::Builder::new()
                .prefix("husk-rt-test-")
                .tempdir()
                .expect("runtime root"),
            ids: Default::default(),
        }
    }

    /// A fresh container id, remembered for cleanup.
    pub fn id(&self, name: &str) -> String {
        let id = unique(&format!("husk-t-{name}"));
        self.ids.borrow_mut().push(id.clone());
        id
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin());
        c.arg("--root").arg(self.root.path());
        c
    }

    /// Runs husk-runtime to completion. Output goes through files, not
    /// pipes: a container's init inherits stdout, and a pipe would stay
    /// open (and `output()` block) for as long as the container lives.
    pub fn run(&self, args: &[&str]) -> Output {
        husk_fixtures::output_via_files(self.cmd().args(args).stdin(Stdio::null()))
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "husk-runtime {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs and asserts failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "husk-runtime {args:?} should have failed:\nstdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn state(&self, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["state", id])).expect("state json")
    }

    pub fn status(&self, id: &str) -> String {
        self.state(id)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// `run` of a bundle in the foreground: (exit code, stdout, stderr).
    pub fn run_bundle(&self, b: &Bundle, name: &str) -> (i32, String, String) {
        let id = self.id(name);
        let out = self.run(&[
            "run",
            "--bundle",
            b.path().to_str().unwrap_or_default(),
            &id,
        ]);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Rt {
    /// `delete --force ID`, then the init is reaped: a zombie adopted by
    /// this (subreaper) process would keep its cgroups alive, dying, and
    /// a dying cgroup on the unified hierarchy keeps hugetlb there
    /// (crun's tests then cannot move it to v1).
    pub fn remove(&self, id: &str) -> Output {
        let pid = self
            .run(&["state", id])
            .status
            .success()
            .then(|| self.state(id)["pid"].as_i64().unwrap_or(0) as i32);
        let out = self.run(&["delete", "--force", id]);
        if let Some(pid) = pid.filter(|p| *p > 0) {
            reap(pid);
        }
        out
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        for id in self.ids.borrow().iter() {
            self.remove(id);
            let leftover = cgroup_dirs(id);
            if !leftover.is_empty() && !std::thread::panicking() {
                panic!("cgroup dirs left for {id}: {leftover:?}");
            }
        }
        // The compiled-seccomp cache is the runtime's, not a container's.
        let left: Vec<_> = std::fs::read_dir(self.root.path())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name())
                    .filter(|n| n != "@seccomp")
                    .collect()
            })
            .unwrap_or_default();
        if !left.is_empty() && !std::thread::panicking() {
            panic!("state left in the runtime root: {left:?}");
        }
    }
}

/// A bundle running `args` (no cgroupsPath: the default `/<id>` is used,
/// which the cleanup check looks for).
pub fn bundle(args: &[&str]) -> Bundle {
    Bundle::new(args)
}
