//! A private engine per test: its own --root and --runroot, busybox
//! imported, and on drop a check that nothing is left behind.
//!
//! Tests take one process-wide lock: the test process is the subreaper of
//! the monitors it starts (this machine's PID 1 never reaps), and reaping
//! with waitpid(-1) must not race another test's `Command::status`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub static SERIAL: Mutex<()> = Mutex::new(());

pub struct Engine {
    pub root: tempfile::TempDir,
    pub runroot: tempfile::TempDir,
    _serial: MutexGuard<'static, ()>,
}

pub fn runtime_bin() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_husk")).with_file_name("husk-runtime")
}

impl Engine {
    /// A private engine with busybox (+ /bin/payload) imported as `busybox`.
    pub fn new() -> Engine {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            runtime_bin().exists(),
            "{} is missing: build it first (cargo build -p husk-runtime)",
            runtime_bin().display()
        );
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        let e = Engine {
            root: tempdir("husk-test-root-"),
            // Short: husk-runtime binds <runroot>/runtime/<64-hex id>/exec.sock,
            // and a unix socket path must fit in 108 bytes.
            runroot: tempdir("hkr-"),
            _serial: serial,
        };
        let work = tempdir("husk-test-img-");
        let rootfs = work.path().join("rootfs");
        husk_fixtures::busybox_rootfs(&rootfs);
        let tar = work.path().join("busybox.tar");
        let st = Command::new("tar")
            .args(["--numeric-owner", "-C"])
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(st.success());
        e.ok(&["import", tar.to_str().unwrap(), "busybox"]);
        e
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_husk"));
        c.arg("--root")
            .arg(self.root.path())
            .arg("--runroot")
            .arg(self.runroot.path())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Output through files, not pipes: a container or exec'd process may
    /// inherit them and hold a pipe open.
    pub fn run(&self, args: &[&str]) -> Output {
        husk_fixtures::output_via_files(&mut self.cmd(args))
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "husk {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// (exit code, stdout, stderr).
    pub fn code(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.run(args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["inspect", name])).unwrap();
        v[0].clone()
    }

    /// Full ids of every container, from the records on disk.
    pub fn ids(&self) -> Vec<String> {
        std::fs::read_dir(self.root.path().join("containers"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.len() == 64)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn record(&self, id: &str) -> serde_json::Value {
        let p = self
            .root
            .path()
            .join("containers")
            .join(id)
            .join("container.json");
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    }
}

pub fn tempdir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir().unwrap()
}

/// Reaps every exited child (adopted monitors and inits); never blocks.
pub fn reap_all() {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with WNOHANG on any child; tests are serialized.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            break;
        }
    }
}

pub fn mounts_under(dir: &Path) -> Vec<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let d = dir.to_string_lossy().to_string();
    info.lines()
        .filter(|l| l.split(' ').nth(4).is_some_and(|m| m.starts_with(&d)))
        .map(String::from)
        .collect()
}

/// Every directory named `name` at depth <= 4 under /sys/fs/cgroup.
pub fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    pub fn walk(dir: &Path, name: &str, depth: u32, found: &mut Vec<PathBuf>) {
        if depth > 4 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                if e.file_name().to_string_lossy() == name {
                    found.push(e.path());
                }
                walk(&e.path(), name, depth + 1, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), name, 0, &mut found);
    found
}

impl Drop for Engine {
    fn drop(&mut self) {
        let ids = self.ids();
        for id in &ids {
            let _ = self.run(&["rm", "-f", id]);
        }
        // Monitors exit right after recording; give them a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            reap_all();
            let busy = std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| {
                    std::fs::read_to_string(e.path().join("cmdline"))
                        .is_ok_and(|c| c.contains(self.root.path().to_str().unwrap_or("-")))
                });
            if !busy || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The engine keeps the shared /husk cgroup parent (as docker keeps
        // /docker); tests remove it once no container of any test uses it.
        // rmdir refuses a non-empty cgroup, so a concurrent test is safe.
        if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
            for h in rd.flatten() {
                let _ = std::fs::remove_dir(h.path().join("husk"));
            }
        }
        if std::thread::panicking() {
            return;
        }
        let mut left = Vec::new();
        left.extend(self.ids());
        left.extend(mounts_under(self.root.path()));
        left.extend(mounts_under(self.runroot.path()));
        for id in &ids {
            left.extend(cgroup_dirs(id).iter().map(|p| p.display().to_string()));
        }
        let rt_left: Vec<_> = std::fs::read_dir(self.runroot.path().join("runtime"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name())
                    .filter(|n| n != "@seccomp")
                    .collect()
            })
            .unwrap_or_default();
        left.extend(rt_left.iter().map(|n| format!("runtime state {n:?}")));
        assert!(left.is_empty(), "left behind: {left:#?}");
    }
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// docker's columns, split on runs of 3+ spaces.
pub fn columns(line: &str) -> Vec<String> {
    line.split("   ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}
