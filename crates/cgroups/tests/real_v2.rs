//! Root tests on the real unified (v2) hierarchy. On a hybrid host they run against a
//! v2-only view of it (a Layout with just the cgroup2 mount), which exercises the v2 code
//! paths that do not need a controller: the eBPF device filter, cgroup.freeze, cgroup.kill.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

use common::{cpu_ticks, unique, wait_until, Cg};
use husk_cgroups::Layout;
use husk_fixtures::{require_root, skip};
use oci_spec::runtime::LinuxResources;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn v2_layout(test: &str) -> Option<Layout> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let proc = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let v2: String = mi
        .lines()
        .filter(|l| l.contains(" - cgroup2 "))
        .map(|l| format!("{l}\n"))
        .collect();
    if v2.is_empty() {
        skip(test, "no cgroup2 mount on this host");
        return None;
    }
    Some(Layout::parse(&v2, &proc, Path::new("/")).unwrap())
}

#[test]
fn v2_device_filter_blocks_open_and_update_replaces_it() {
    let test = "v2_device_filter_blocks_open_and_update_replaces_it";
    require_root!(test);
    let Some(layout) = v2_layout(test) else {
        return;
    };
    let mut cg = Cg::with_layout(&layout, &unique("bpf"));
    cg.m.create().unwrap();
    cg.m.set(&res(r#"{"devices": [
        {"allow": true, "access": "rwm"},
        {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rw"}]}"#))
        .unwrap();
    let script = "cat /dev/null && echo null-ok; echo x > /dev/zero && echo zero-ok";
    let i = cg.spawn(script);
    let out = cg.children.remove(i).wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("null-ok") && stdout.contains("zero-ok"),
        "{out:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not permitted"),
        "{out:?}"
    );

    // An update swaps the program: /dev/null is allowed again, /dev/zero writes are not.
    cg.m.set(&res(r#"{"devices": [
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "r"}]}"#))
        .unwrap();
    let i = cg.spawn(script);
    let out = cg.children.remove(i).wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("null-ok") && !stdout.contains("zero-ok"),
        "{out:?}"
    );
}

#[test]
fn v2_freeze_stops_and_thaw_resumes() {
    let test = "v2_freeze_stops_and_thaw_resumes";
    require_root!(test);
    let Some(layout) = v2_layout(test) else {
        return;
    };
    let mut cg = Cg::with_layout(&layout, &unique("v2freeze"));
    cg.m.create().unwrap();
    if !cg.m.unified_dir().unwrap().join("cgroup.freeze").exists() {
        skip(test, "kernel without cgroup.freeze");
        return;
    }
    let i = cg.spawn("while :; do :; done");
    let pid = cg.pid(i);
    assert!(wait_until(Duration::from_secs(2), || cpu_ticks(pid) > 5));
    cg.m.freeze().unwrap();
    assert!(cg.m.is_frozen().unwrap());
    let a = cpu_ticks(pid);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(cpu_ticks(pid), a);
    cg.m.thaw().unwrap();
    assert!(!cg.m.is_frozen().unwrap());
    assert!(wait_until(Duration::from_secs(2), || cpu_ticks(pid) > a + 5));
}

#[test]
fn v2_destroy_kills_and_removes_nested_paths() {
    let test = "v2_destroy_kills_and_removes_nested_paths";
    require_root!(test);
    let Some(layout) = v2_layout(test) else {
        return;
    };
    let path = format!("{}/inner", unique("v2kill"));
    let mut cg = Cg::with_layout(&layout, &path);
    cg.m.create().unwrap();
    let i = cg.spawn("sleep 100 >/dev/null 2>&1 & sleep 100");
    assert!(wait_until(Duration::from_secs(2), || cg
        .m
        .pids()
        .unwrap()
        .len()
        == 2));
    let dir = cg.m.unified_dir().unwrap().to_path_buf();
    cg.m.destroy().unwrap();
    assert!(!dir.exists() && !dir.parent().unwrap().exists());
    assert_eq!(cg.children[i].wait().unwrap().signal(), Some(9));
}

#[test]
fn v2_limits_where_the_unified_hierarchy_has_the_controllers() {
    let test = "v2_limits_where_the_unified_hierarchy_has_the_controllers";
    require_root!(test);
    let Some(layout) = v2_layout(test) else {
        return;
    };
    let controllers = &layout.hierarchies[0].controllers;
    for c in ["memory", "cpu", "pids"] {
        if !controllers.iter().any(|x| x == c) {
            skip(
                test,
                &format!("the unified hierarchy has no {c} controller here (hybrid host)"),
            );
            return;
        }
    }
    let cg = Cg::with_layout(&layout, &unique("v2lim"));
    cg.m.create().unwrap();
    cg.m.set(&res(r#"{"memory": {"limit": 419430400, "swap": 419430400},
                      "cpu": {"shares": 1024, "quota": 50000, "period": 100000},
                      "pids": {"limit": 10}}"#))
        .unwrap();
    let dir = cg.m.unified_dir().unwrap();
    let rd = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(rd("memory.max"), "419430400");
    assert_eq!(rd("cpu.weight"), "100");
    assert_eq!(rd("cpu.max"), "50000 100000");
    assert_eq!(rd("pids.max"), "10");
}
