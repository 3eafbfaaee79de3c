//! `--systemd-cgroup` (issue 16): the container's cgroup is a transient scope
//! unit systemd makes from `slice:prefix:name`, holds the container's init,
//! carries the limits both as unit properties and in the cgroup files, and
//! is gone after `delete`. Needs systemd as PID 1: `make test-guest` runs
//! this in the cgroup v2 + systemd guest; this machine's PID 1 is not systemd.

#[allow(unused_imports)]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::json;

fn systemd_booted(test: &str) -> bool {
    if Path::new("/run/systemd/system").is_dir() {
        return true;
    }
    skip(test, "systemd is not PID 1 on this host");
    false
}

fn systemctl_show(unit: &str, prop: &str) -> String {
    let out = Command::new("systemctl")
        .args(["show", "-p", prop, "--value", unit])
        .output()
        .expect("systemctl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The init's cgroup on the unified hierarchy, from /proc (the `0::` line).
fn unified_cgroup(pid: i64) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("proc cgroup");
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or_default()
        .to_string()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}/{file}: {e}", dir.display()))
        .trim()
        .to_string()
}

/// Creates `b` with --systemd-cgroup and checks the scope, its limits and its removal.
fn create_in_scope(rt: &Rt, b: &Bundle, id: &str, unit: &str, path: &str) {
    let bundle = b.path().to_str().unwrap_or_default();
    let out = husk_fixtures::output_via_files(
        rt.cmd()
            .args(["--systemd-cgroup", "create", "--bundle", bundle, id])
            .stdin(std::process::Stdio::null()),
    );
    assert!(
        out.status.success(),
        "create --systemd-cgroup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid = rt.state(id)["pid"].as_i64().unwrap_or(0);
    assert!(pid > 0);
    assert_eq!(
        unified_cgroup(pid),
        path,
        "the init is in the scope's cgroup"
    );
    assert_eq!(systemctl_show(unit, "ActiveState"), "active");
    assert_eq!(systemctl_show(unit, "Delegate"), "yes");
}

#[test]
fn scope_holds_the_init_with_its_limits_and_goes_with_delete() {
    let test = "scope_holds_the_init_with_its_limits_and_goes_with_delete";
    if !systemd_booted(test) {
        return;
    }
    let rt = Rt::new();
    let id = rt.id("sd");
    let unit = format!("husk-test-{id}.scope");
    let mut b = bundle(&["sleep", "100"]);
    b.edit(|c| {
        c["linux"]["cgroupsPath"] = json!(format!("system.slice:husk-test:{id}"));
        c["linux"]["resources"] = json!({
            "memory": {"limit": 67108864},
            "pids": {"limit": 32},
            "cpu": {"quota": 50000, "period": 100000, "shares": 512}
        });
    });
    let cg = format!("/system.slice/{unit}");
    create_in_scope(&rt, &b, &id, &unit, &cg);
    let dir = PathBuf::from(format!("/sys/fs/cgroup{cg}"));
    // In the files, as the cgroupfs driver writes them...
    assert_eq!(read(&dir, "memory.max"), "67108864");
    assert_eq!(read(&dir, "pids.max"), "32");
    assert_eq!(read(&dir, "cpu.max"), "50000 100000");
    // ...and as unit properties, which a daemon-reload re-applies.
    assert_eq!(systemctl_show(&unit, "MemoryMax"), "67108864");
    assert_eq!(systemctl_show(&unit, "TasksMax"), "32");
    assert_eq!(systemctl_show(&unit, "CPUQuotaPerSecUSec"), "500ms");
    let reload = Command::new("systemctl").arg("daemon-reload").status();
    assert!(reload.is_ok_and(|s| s.success()));
    assert_eq!(
        read(&dir, "memory.max"),
        "67108864",
        "kept over a daemon-reload"
    );
    assert_eq!(read(&dir, "pids.max"), "32", "kept over a daemon-reload");

    // `update` writes through the same files.
    rt.ok(&["update", "--memory", "134217728", &id]);
    assert_eq!(read(&dir, "memory.max"), "134217728");
    assert_eq!(systemctl_show(&unit, "MemoryMax"), "134217728");

    rt.ok(&["start", &id]);
    rt.ok(&["kill", &id, "KILL"]);
    assert!(wait_until(std::time::Duration::from_secs(10), || rt
        .status(&id)
        == "stopped"));
    rt.ok(&["delete", &id]);
    assert!(!dir.exists(), "{} left after delete", dir.display());
    let state = systemctl_show(&unit, "LoadState");
    assert!(
        state == "not-found" || systemctl_show(&unit, "ActiveState") == "inactive",
        "{unit}: {state}"
    );
}

#[test]
fn kubelet_pod_slice_is_expanded_as_systemd_lays_it_out() {
    let test = "kubelet_pod_slice_is_expanded_as_systemd_lays_it_out";
    if !systemd_booted(test) {
        return;
    }
    let rt = Rt::new();
    let id = rt.id("pod");
    let pod = format!("kubepods-besteffort-pod{}.slice", std::process::id());
    let unit = format!("cri-containerd-{id}.scope");
    let mut b = bundle(&["sleep", "100"]);
    b.edit(|c| c["linux"]["cgroupsPath"] = json!(format!("{pod}:cri-containerd:{id}")));
    let cg = format!("/kubepods.slice/kubepods-besteffort.slice/{pod}/{unit}");
    create_in_scope(&rt, &b, &id, &unit, &cg);
    rt.ok(&["delete", "--force", &id]);
    assert!(!Path::new(&format!("/sys/fs/cgroup{cg}")).exists());
    // The slices systemd made for the scope are this test's to remove.
    let _ = Command::new("systemctl")
        .args(["stop", "kubepods.slice"])
        .status();
}

#[test]
fn bad_systemd_paths_are_refused_before_anything_exists() {
    let test = "bad_systemd_paths_are_refused_before_anything_exists";
    if !systemd_booted(test) {
        return;
    }
    let rt = Rt::new();
    for (path, want) in [
        ("/husk/x", "slice:prefix:name"),
        ("nodot:p:n", "must end in .slice"),
        ("a--b.slice:p:n", "empty component"),
    ] {
        let id = rt.id("bad");
        let mut b = bundle(&["true"]);
        b.edit(|c| c["linux"]["cgroupsPath"] = json!(path));
        let bundle = b.path().to_str().unwrap_or_default().to_string();
        let out = husk_fixtures::output_via_files(
            rt.cmd()
                .args(["--systemd-cgroup", "create", "--bundle", &bundle, &id])
                .stdin(std::process::Stdio::null()),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{path} accepted");
        assert!(err.contains(want), "{path}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
}
