//! A private engine per test: its own --root and --runroot, busybox
//! imported, and on drop a check that nothing is left behind.
//!
//! Every husk command runs inside a network namespace the engine creates
//! (`ip netns add`, entered by a pre_exec setns): the default bridge, its
//! subnet and husk's nft table belong to that test alone, and go away
//! with the namespace.
//!
//! Tests take one process-wide lock: the test process is the subreaper of
//! the monitors it starts (this machine's PID 1 never reaps), and reaping
//! with waitpid(-1) must not race another test's `Command::status`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use husk_fixtures::{cgroup_dirs, mounts_under, wait_for, TestNetns};

pub static SERIAL: Mutex<()> = Mutex::new(());

pub struct Engine {
    pub root: tempfile::TempDir,
    pub runroot: tempfile::TempDir,
    /// The network namespace every husk command of this engine runs in.
    pub netns: TestNetns,
    _serial: MutexGuard<'static, ()>,
}

/// Chains and rule comments of husk's table inside that belong to
/// containers (`ctr-*` chains, `husk-ctr`/`husk-port` rules).
pub fn container_rules(ns: &TestNetns) -> Vec<String> {
    let out = husk_fixtures::output_via_files(
        ns.command("nft")
            .args(["-j", "list", "table", "ip", "husk"]),
    );
    if !out.status.success() {
        // No table, no rules; any other failure must not pass as "clean".
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("No such file or directory"),
            "nft list table ip husk failed: {err}"
        );
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found = Vec::new();
    for o in v["nftables"].as_array().into_iter().flatten() {
        if let Some(c) = o["chain"]["name"].as_str() {
            if c.starts_with("ctr-") {
                found.push(format!("chain {c}"));
            }
        }
        if let Some(c) = o["rule"]["comment"].as_str() {
            if c.starts_with("husk-ctr") || c.starts_with("husk-port") {
                found.push(format!("rule {c}"));
            }
        }
    }
    found
}

/// Comments of every rule of `<family> husk` in `ns`; none when the table
/// does not exist.
#[allow(dead_code)]
pub fn rule_comments(ns: &TestNetns, family: &str) -> Vec<String> {
    let out = husk_fixtures::output_via_files(
        ns.command("nft")
            .args(["-j", "list", "table", family, "husk"]),
    );
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("No such file or directory"),
            "nft list table {family} husk failed: {err}"
        );
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["rule"]["comment"].as_str().map(String::from))
        .collect()
}

pub fn runtime_bin() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_husk")).with_file_name("husk-runtime")
}

impl Engine {
    /// A private engine with busybox (+ /bin/payload) imported as `busybox`.
    pub fn new() -> Engine {
        Engine::new_in(&std::env::temp_dir())
    }

    /// The same with its root made under `parent` (a small tmpfs, say).
    pub fn new_in(parent: &Path) -> Engine {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            runtime_bin().exists(),
            "{} is missing: build it first (cargo build -p husk-runtime)",
            runtime_bin().display()
        );
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        let e = Engine {
            root: tempfile::Builder::new()
                .prefix("husk-test-root-")
                .tempdir_in(parent)
                .unwrap(),
            // Short: husk-runtime binds <runroot>/runtime/<64-hex id>/exec.sock,
            // and a unix socket path must fit in 108 bytes.
            runroot: tempdir("hkr-"),
            netns: TestNetns::new("eng"),
            _serial: serial,
        };
        e.netns.lo_up();
        // As husk makes a store (0700): husk refuses to close an open
        // directory holding files that are not its own, such as config.toml.
        std::fs::set_permissions(
            e.root.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        // An empty config of its own: a host's /etc/husk/config.toml must
        // not change what the tests see.
        e.set_config("");
        let work = tempdir("husk-test-img-");
        let rootfs = work.path().join("rootfs");
        husk_fixtures::busybox_rootfs(&rootfs);
        let tar = work.path().join("busybox.tar");
        husk_fixtures::tar_tree(&rootfs, &tar);
        e.ok(&["import", tar.to_str().unwrap(), "busybox"]);
        e
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.path().join("config.toml")
    }

    pub fn set_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// Addresses IPAM holds on every network (IPv4 and IPv6 books), with
    /// their owners.
    pub fn allocations(&self) -> Vec<(String, String)> {
        let v4 = self.root.path().join("network/ipam");
        let v6 = v4.join("v6");
        let files = [v4, v6]
            .into_iter()
            .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten());
        let mut all = Vec::new();
        for f in files {
            if f.path().extension().is_none_or(|x| x != "json") {
                continue;
            }
            let Ok(data) = std::fs::read(f.path()) else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_slice(&data).unwrap();
            all.extend(
                v["allocations"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(ip, id)| (ip.clone(), id.as_str().unwrap_or("").to_string())),
            );
        }
        all
    }

    /// What containers left on the network: veths, nft rules, addresses,
    /// netns handles.
    pub fn network_leftovers(&self) -> Vec<String> {
        let mut left = Vec::new();
        // A stopped container's veth goes with its namespace, which the
        // kernel frees asynchronously: give it a moment.
        let deadline = Instant::now() + Duration::from_secs(3);
        let veths = loop {
            let v = self.netns.veths();
            if v.is_empty() || Instant::now() > deadline {
                break v;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        left.extend(veths.into_iter().map(|v| format!("veth {v}")));
        left.extend(container_rules(&self.netns));
        left.extend(
            self.allocations()
                .into_iter()
                .map(|(ip, id)| format!("address {ip} of {id}")),
        );
        let handles: Vec<String> = std::fs::read_dir(self.runroot.path().join("netns"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| format!("netns handle {:?}", e.file_name()))
                    .collect()
            })
            .unwrap_or_default();
        left.extend(handles);
        left
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.netns.command(env!("CARGO_BIN_EXE_husk"));
        c.arg("--root")
            .arg(self.root.path())
            .arg("--runroot")
            .arg(self.runroot.path())
            .arg("--config")
            .arg(self.config_path())
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

    /// `husk ARGS` with `input` on stdin (a file, as the outputs are).
    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let dir = tempdir("husk-stdin-");
        let f = dir.path().join("in");
        std::fs::write(&f, input).unwrap();
        let mut cmd = self.cmd(args);
        cmd.stdin(Stdio::from(std::fs::File::open(&f).unwrap()));
        husk_fixtures::output_via_files(&mut cmd)
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
        left.extend(self.network_leftovers());
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

/// docker's columns, split on runs of 3+ spaces.
pub fn columns(line: &str) -> Vec<String> {
    line.split("   ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}
