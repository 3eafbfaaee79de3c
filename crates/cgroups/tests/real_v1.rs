//! Root tests on this host's real v1 hierarchies (plus the unified one where it owns a
//! controller). Each test makes its own cgroup and destroys it, also on panic.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{cpu_ticks, host_has_v1, unique, wait_until, Cg};
use husk_cgroups::Manager;
use husk_fixtures::{require_root, skip};
use oci_spec::runtime::LinuxResources;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn needs_v1(test: &str, controller: &str) -> bool {
    if host_has_v1(controller) {
        return true;
    }
    skip(
        test,
        &format!("no cgroup v1 {controller} hierarchy on this host"),
    );
    false
}

fn read(m: &Manager, controller: &str, file: &str) -> String {
    std::fs::read_to_string(m.path_of(controller).unwrap().join(file)).unwrap()
}

#[test]
fn memory_limit_is_exact_and_oom_kill_is_counted() {
    require_root!("memory_limit_is_exact_and_oom_kill_is_counted");
    if !needs_v1("memory_limit_is_exact_and_oom_kill_is_counted", "memory") {
        return;
    }
    let mut cg = Cg::new(&unique("oom"));
    cg.m.create().unwrap();
    cg.m.set(&res(r#"{"memory": {"limit": 419430400}}"#))
        .unwrap();
    assert_eq!(
        read(&cg.m, "memory", "memory.limit_in_bytes").trim(),
        "419430400"
    );
    // Lowering on an empty cgroup is fine; memsw = limit, so no swap either.
    cg.m.set(&res(r#"{"memory": {"limit": 33554432, "swap": 33554432}}"#))
        .unwrap();
    assert_eq!(
        read(&cg.m, "memory", "memory.limit_in_bytes").trim(),
        "33554432"
    );
    assert_eq!(cg.m.oom_kill_count().unwrap(), 0);

    let i = cg.spawn(r#"x=$(head -c 200m /dev/zero | tr "\0" a); echo survived"#);
    let status = cg.children[i].wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "expected an OOM kill, got {status:?}"
    );
    assert!(cg.m.oom_kill_count().unwrap() >= 1);
    let stats = cg.m.stats().unwrap();
    assert!(stats.memory.usage.max > 0);
    assert_eq!(stats.memory.usage.limit, 33554432);
    // destroy() after an OOM kill leaves nothing (checked again by the guard's drop).
    let dirs: Vec<PathBuf> = cg.m.dirs().iter().map(|d| d.path.clone()).collect();
    cg.m.destroy().unwrap();
    for d in dirs {
        assert!(!d.exists(), "{} left behind", d.display());
    }
}

#[test]
fn lowering_memory_below_usage_names_the_file() {
    require_root!("lowering_memory_below_usage_names_the_file");
    if !needs_v1("lowering_memory_below_usage_names_the_file", "memory") {
        return;
    }
    let mut cg = Cg::new(&unique("shrink"));
    cg.m.create().unwrap();
    cg.m.set(&res(r#"{"memory": {"limit": 268435456}}"#))
        .unwrap();
    // Python holds the 64M for real (a shell variable's pages get freed and are then
    // reclaimable, which made the kernel accept the lower limit now and then).
    if !Path::new("/usr/bin/python3").exists() {
        skip(
            "lowering_memory_below_usage_names_the_file",
            "needs /usr/bin/python3 as a memory hog",
        );
        return;
    }
    let i = cg.spawn(
        "exec /usr/bin/python3 -c 'import time; b = bytearray(b\"a\" * (64 << 20)); \
         print(\"ready\", flush=True); time.sleep(100)'",
    );
    assert_eq!(cg.read_line(i).trim(), "ready");
    // With checkBeforeUpdate we refuse ourselves...
    let e =
        cg.m.set(&res(
            r#"{"memory": {"limit": 16777216, "checkBeforeUpdate": true}}"#,
        ))
        .unwrap_err();
    assert!(e.to_string().contains("below the current usage"), "{e}");
    // ...without it the kernel refuses (no swap to reclaim into), and we name file and value.
    let e =
        cg.m.set(&res(r#"{"memory": {"limit": 16777216}}"#))
            .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("memory.limit_in_bytes") && msg.contains("16777216"),
        "{msg}"
    );
    assert_eq!(e.raw_os_error(), Some(libc::EBUSY), "{msg}");
}

#[test]
fn pids_limit_makes_fork_fail() {
    require_root!("pids_limit_makes_fork_fail");
    if !needs_v1("pids_limit_makes_fork_fail", "pids") {
        return;
    }
    let mut cg = Cg::new(&unique("pids"));
    cg.m.create().unwrap();
    cg.m.set(&res(r#"{"pids": {"limit": 4}}"#)).unwrap();
    assert_eq!(read(&cg.m, "pids", "pids.max").trim(), "4");
    let i = cg.spawn(
        "i=0; while [ $i -lt 10 ]; do sleep 30 >/dev/null 2>&1 & i=$((i+1)); done; echo done",
    );
    let out = cg.children.remove(i).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fork"), "stderr: {err}");
    let stats = cg.m.stats().unwrap();
    assert_eq!(stats.pids.limit, 4);
    // The background sleeps are still there (at most the limit); destroy kills them.
    assert!(!cg.m.pids().unwrap().is_empty());
    cg.m.destroy().unwrap();
    assert!(cg.m.pids().unwrap().is_empty());
}

#[test]
fn cpu_quota_throttles_a_spinning_process() {
    require_root!("cpu_quota_throttles_a_spinning_process");
    if !needs_v1("cpu_quota_throttles_a_spinning_process", "cpu") {
        return;
    }
    let mut cg = Cg::new(&unique("cpu"));
    cg.m.create().unwrap();
    cg.m.set(&res(
        r#"{"cpu": {"quota": 50000, "period": 100000, "shares": 512}}"#,
    ))
    .unwrap();
    assert_eq!(read(&cg.m, "cpu", "cpu.cfs_quota_us").trim(), "50000");
    assert_eq!(read(&cg.m, "cpu", "cpu.shares").trim(), "512");
    cg.spawn("while :; do :; done");
    let throttled = wait_until(Duration::from_secs(5), || {
        cg.m.stats().unwrap().cpu.throttling.throttled_periods > 0
    });
    let stat = read(&cg.m, "cpu", "cpu.stat");
    assert!(throttled, "cpu.stat: {stat}");
    let nr: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("nr_throttled "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(nr > 0, "{stat}");
    assert!(cg.m.stats().unwrap().cpu.usage.total > 0);
}

#[test]
fn cpu_rt_runtime_is_writable() {
    require_root!("cpu_rt_runtime_is_writable");
    if !needs_v1("cpu_rt_runtime_is_writable", "cpu") {
        return;
    }
    if !std::path::Path::new("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists() {
        skip(
            "cpu_rt_runtime_is_writable",
            "kernel built without CONFIG_RT_GROUP_SCHED",
        );
        return;
    }
    let cg = Cg::new(&unique("rt"));
    cg.m.create().unwrap();
    // Small: the children's runtimes must fit in the parent's.
    cg.m.set(&res(
        r#"{"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 1000}}"#,
    ))
    .unwrap();
    assert_eq!(read(&cg.m, "cpu", "cpu.rt_runtime_us").trim(), "1000");
    assert_eq!(read(&cg.m, "cpu", "cpu.rt_period_us").trim(), "1000000");
}

#[test]
fn freeze_stops_and_thaw_resumes() {
    require_root!("freeze_stops_and_thaw_resumes");
    if !needs_v1("freeze_stops_and_thaw_resumes", "freezer") {
        return;
    }
    let mut cg = Cg::new(&unique("freeze"));
    cg.m.create().unwrap();
    let i = cg.spawn("while :; do :; done");
    let pid = cg.pid(i);
    assert!(wait_until(Duration::from_secs(2), || cpu_ticks(pid) > 5));
    assert!(!cg.m.is_frozen().unwrap());
    cg.m.freeze().unwrap();
    assert!(cg.m.is_frozen().unwrap());
    let a = cpu_ticks(pid);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(cpu_ticks(pid), a, "a frozen process must not run");
    cg.m.thaw().unwrap();
    assert!(!cg.m.is_frozen().unwrap());
    assert!(wait_until(Duration::from_secs(2), || cpu_ticks(pid) > a + 5));
    // destroy() kills a frozen container too.
    cg.m.freeze().unwrap();
    cg.m.destroy().unwrap();
    let status = cg.children[i].wait().unwrap();
    assert_eq!(status.signal(), Some(9));
}

#[test]
fn apply_joins_every_hierarchy_and_destroy_leaves_nothing() {
    require_root!("apply_joins_every_hierarchy_and_destroy_leaves_nothing");
    let top = unique("nest");
    let path = format!("{top}/inner");
    let mut cg = Cg::new(&path);
    cg.m.create().unwrap();
    let i = cg.spawn("sleep 100 & sleep 100");
    let pid = cg.pid(i);
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let mounted = husk_fixtures::mounted_v1_controllers();
    for line in own.lines() {
        let mut f = line.splitn(3, ':');
        let (id, controllers) = (f.next().unwrap(), f.next().unwrap());
        // A v1 hierarchy that is no longer mounted (hugetlb, just after a
        // test put it back on the unified hierarchy) cannot be joined.
        if id != "0"
            && !controllers
                .split(',')
                .any(|c| mounted.iter().any(|m| m == c))
        {
            continue;
        }
        assert!(line.ends_with(&path), "{line} (wanted {path})");
    }
    assert!(wait_until(Duration::from_secs(2), || cg
        .m
        .pids()
        .unwrap()
        .len()
        == 2));
    assert!(cg.m.pids().unwrap().contains(&pid));
    // A sub-cgroup the container made for itself, with a process in it.
    let mem_inner = cg.m.path_of("memory").unwrap().join("sub");
    std::fs::create_dir(&mem_inner).unwrap();
    let bg =
        cg.m.pids()
            .unwrap()
            .into_iter()
            .find(|p| *p != pid)
            .unwrap();
    std::fs::write(mem_inner.join("cgroup.procs"), bg.to_string()).unwrap();

    let dirs: Vec<PathBuf> = cg.m.dirs().iter().map(|d| d.path.clone()).collect();
    cg.m.destroy().unwrap();
    for d in &dirs {
        assert!(!d.exists(), "{} left behind", d.display());
        assert!(
            !d.parent().unwrap().exists(),
            "created parent {} left behind",
            d.parent().unwrap().display()
        );
    }
    assert_eq!(cg.children[i].wait().unwrap().signal(), Some(9));
    assert!(
        !std::path::Path::new(&format!("/proc/{bg}")).exists() || {
            // The grandchild may linger as a zombie of its shell only until it is reaped.
            std::fs::read_to_string(format!("/proc/{bg}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true)
        }
    );
}

#[test]
fn cpuset_is_initialised_and_set() {
    require_root!("cpuset_is_initialised_and_set");
    if !needs_v1("cpuset_is_initialised_and_set", "cpuset") {
        return;
    }
    let mut cg = Cg::new(&format!("{}/deeper", unique("cpuset")));
    cg.m.create().unwrap();
    let root = std::fs::read_to_string("/sys/fs/cgroup/cpuset/cpuset.cpus").unwrap();
    assert_eq!(read(&cg.m, "cpuset", "cpuset.cpus"), root);
    cg.m.set(&res(r#"{"cpu": {"cpus": "0", "mems": "0"}}"#))
        .unwrap();
    assert_eq!(read(&cg.m, "cpuset", "cpuset.cpus").trim(), "0");
    // A pid can join only because cpus/mems are set.
    let i = cg.spawn("grep Cpus_allowed_list /proc/self/status");
    let out = cg.children.remove(i).wait_with_output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().ends_with("\t0"),
        "{out:?}"
    );
}

#[test]
fn devices_v1_deny_blocks_open() {
    require_root!("devices_v1_deny_blocks_open");
    if !needs_v1("devices_v1_deny_blocks_open", "devices") {
        return;
    }
    let mut cg = Cg::new(&unique("dev"));
    cg.m.create().unwrap();
    cg.m.set(&res(r#"{"devices": [
        {"allow": true, "access": "rwm"},
        {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]}"#))
        .unwrap();
    let list = read(&cg.m, "devices", "devices.list");
    assert!(!list.contains("c 1:3"), "{list}");
    let i = cg.spawn("cat /dev/null && echo null-ok; echo x > /dev/zero && echo zero-ok");
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

    // An update on a running container leaves it running (frozen only while rewriting).
    let i = cg.spawn("sleep 100");
    cg.m.set(&res(r#"{"devices": [{"allow": true, "access": "rwm"}]}"#))
        .unwrap();
    assert!(!cg.m.is_frozen().unwrap());
    assert!(read(&cg.m, "devices", "devices.list").contains("a *:* rwm"));
    assert!(cg.children[i].try_wait().unwrap().is_none());
}

#[test]
fn hugetlb_on_the_unified_hierarchy_of_a_hybrid_host() {
    require_root!("hugetlb_on_the_unified_hierarchy_of_a_hybrid_host");
    // A test binary before this one may have left hugetlb on an unmounted
    // v1 hierarchy the kernel has not destroyed yet: nothing can use it
    // there, so mount it (the v1 side of this test) until the test ends.
    let _hugetlb = (!husk_fixtures::hugetlb_settled(Duration::from_secs(5)))
        .then(husk_fixtures::HugetlbV1::acquire);
    let cg = Cg::new(&unique("huge"));
    let Some(dir) = cg.m.path_of("hugetlb").map(|p| p.to_path_buf()) else {
        skip(
            "hugetlb_on_the_unified_hierarchy_of_a_hybrid_host",
            "no hugetlb controller",
        );
        return;
    };
    let on_unified = cg.m.unified_dir() == Some(dir.as_path());
    cg.m.create().unwrap();
    cg.m.set(&res(
        r#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}"#,
    ))
    .unwrap();
    let file = if on_unified {
        "hugetlb.2MB.max"
    } else {
        "hugetlb.2MB.limit_in_bytes"
    };
    assert_eq!(
        std::fs::read_to_string(dir.join(file)).unwrap().trim(),
        "4194304"
    );
    assert!(cg.m.stats().unwrap().hugetlb.contains_key("2MB"));
}

#[test]
fn unified_key_is_rejected_on_v1_controllers() {
    require_root!("unified_key_is_rejected_on_v1_controllers");
    if !needs_v1("unified_key_is_rejected_on_v1_controllers", "memory") {
        return;
    }
    let cg = Cg::new(&unique("uni"));
    let e =
        cg.m.validate(&res(r#"{"unified": {"memory.high": "1000"}}"#))
            .unwrap_err();
    assert!(e.to_string().contains("memory"), "{e}");
    assert!(cg.m.dirs().iter().all(|d| !d.path.exists()));
}

#[test]
fn missing_controller_is_a_clear_error() {
    require_root!("missing_controller_is_a_clear_error");
    let cg = Cg::new(&unique("netcls"));
    if cg.m.path_of("net_cls").is_some() {
        skip(
            "missing_controller_is_a_clear_error",
            "net_cls is mounted here",
        );
        return;
    }
    let e =
        cg.m.validate(&res(r#"{"network": {"classID": 1048577}}"#))
            .unwrap_err();
    assert!(e.to_string().contains("net_cls is not mounted"), "{e}");
}

#[test]
fn relative_path_lands_under_the_callers_own_cgroup() {
    require_root!("relative_path_lands_under_the_callers_own_cgroup");
    if !needs_v1("relative_path_lands_under_the_callers_own_cgroup", "memory") {
        return;
    }
    let rel = unique("rel").trim_start_matches('/').to_string();
    let cg = Cg::new(&rel);
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mem_own = own
        .lines()
        .find_map(|l| {
            l.strip_prefix(|c: char| c.is_ascii_digit()).and_then(|l| {
                l.trim_start_matches(|c: char| c.is_ascii_digit())
                    .strip_prefix(":memory:")
            })
        })
        .unwrap();
    let want = Path::new("/sys/fs/cgroup/memory")
        .join(mem_own.trim_start_matches('/'))
        .join(&rel);
    assert_eq!(cg.m.path_of("memory").unwrap(), want);
    cg.m.create().unwrap();
    assert!(want.is_dir());
    cg.m.destroy().unwrap();
    assert!(!want.exists());
}

#[test]
fn kernel_memory_limits_never_fail_the_container() {
    require_root!("kernel_memory_limits_never_fail_the_container");
    if !needs_v1("kernel_memory_limits_never_fail_the_container", "memory") {
        return;
    }
    let cg = Cg::new(&unique("kmem"));
    cg.m.create().unwrap();
    // Written where the kernel still takes them, skipped with a warning where it does not.
    cg.m.set(&res(
        r#"{"memory": {"limit": 104857600, "kernel": 52428800, "kernelTCP": 10485760}}"#,
    ))
    .unwrap();
    assert_eq!(
        read(&cg.m, "memory", "memory.limit_in_bytes").trim(),
        "104857600"
    );
}

#[test]
fn host_layout_is_read_from_mountinfo() {
    let layout = husk_cgroups::Layout::host().unwrap();
    for h in &layout.hierarchies {
        assert!(h.mount.is_dir(), "{h:?}");
    }
    let m = Manager::new(Some("/husk/layout"), "layout", false).unwrap();
    for d in m.dirs() {
        assert!(
            d.path.starts_with(&d.mount) && d.path.ends_with("husk/layout"),
            "{d:?}"
        );
        // Nothing exists yet, so destroy() may remove /husk too (if it is then empty).
        if !d.mount.join("husk").exists() {
            assert_eq!(d.first_missing, Some(d.mount.join("husk")), "{d:?}");
        }
    }
    // Where a controller sits is the host's business; it must sit in exactly one place.
    for c in ["cpu", "cpuacct", "memory", "pids", "freezer", "devices"] {
        if let Some(p) = m.path_of(c) {
            assert_eq!(m.dirs().iter().filter(|d| d.path == p).count(), 1, "{c}");
        }
    }
    if let (true, Some(uni)) = (host_has_v1("memory"), m.unified_dir()) {
        // Hybrid: memory is v1 even though a unified dir exists.
        assert_ne!(m.path_of("memory"), Some(uni));
    }
}
