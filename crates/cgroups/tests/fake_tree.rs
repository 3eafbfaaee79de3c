//! The exact files and values written, against fake cgroupfs trees in a tempdir.

use std::fs;

use husk_cgroups::{Layout, Manager};
use oci_spec::runtime::LinuxResources;

const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
const HYBRID_PROC: &str = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n\
4:memory:/process_api/abc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

const V1_EXTRA: &str = "\
50 31 0:40 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
51 31 0:41 / /sys/fs/cgroup/rdma rw - cgroup cgroup rw,rdma
52 31 0:42 / /sys/fs/cgroup/hugetlb rw - cgroup cgroup rw,hugetlb
";
const V1_EXTRA_PROC: &str = "10:net_cls,net_prio:/\n11:rdma:/\n12:hugetlb:/\n";

const V2: &str = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
const V2_CONTROLLERS: &str = "cpuset cpu io memory hugetlb pids rdma misc\n";

struct Fake {
    dir: tempfile::TempDir,
    layout: Layout,
}

fn fake(mountinfo: &str, proc: &str, unified_controllers: &str) -> Fake {
    let dir = tempfile::tempdir().unwrap();
    for line in mountinfo.lines() {
        let mp = line.split(' ').nth(4).unwrap().replace("\\054", ",");
        let p = dir.path().join(mp.trim_start_matches('/'));
        fs::create_dir_all(&p).unwrap();
        if line.contains(" cgroup2 ") {
            fs::write(p.join("cgroup.controllers"), unified_controllers).unwrap();
            fs::write(p.join("cgroup.subtree_control"), "").unwrap();
        }
        if line.ends_with(",cpuset") {
            fs::write(p.join("cpuset.cpus"), "0-1\n").unwrap();
            fs::write(p.join("cpuset.mems"), "0\n").unwrap();
        }
    }
    let layout = Layout::parse(mountinfo, proc, dir.path()).unwrap();
    Fake { dir, layout }
}

fn hybrid() -> Fake {
    fake(HYBRID, HYBRID_PROC, "hugetlb\n")
}

fn v1_full() -> Fake {
    let mi: String = HYBRID
        .lines()
        .filter(|l| !l.contains("cgroup2"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + V1_EXTRA;
    fake(&mi, &format!("{HYBRID_PROC}{V1_EXTRA_PROC}"), "")
}

fn v2() -> Fake {
    fake(V2, "0::/user.slice/me\n", V2_CONTROLLERS)
}

/// What the kernel would show in a new cgroup: `files` (name -> initial content) in
/// every directory between each hierarchy's mount and the container's dir.
fn kernel_files(m: &Manager, files: &[(&str, &str)]) {
    for d in m.dirs() {
        let rel = d.path.strip_prefix(&d.mount).unwrap();
        let mut p = d.mount.clone();
        for c in rel.components() {
            p.push(c);
            fs::create_dir_all(&p).unwrap();
            for (f, v) in files {
                fs::write(p.join(f), v).unwrap();
            }
            if d.controllers.iter().any(|c| c == "cpuset") && !p.join("cpuset.cpus").exists() {
                fs::write(p.join("cpuset.cpus"), "").unwrap();
                fs::write(p.join("cpuset.mems"), "").unwrap();
            }
        }
    }
}

fn read(m: &Manager, controller: &str, file: &str) -> String {
    let p = m.path_of(controller).unwrap().join(file);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

const V1_FILES: &[(&str, &str)] = &[
    ("memory.limit_in_bytes", "9223372036854771712"),
    ("memory.memsw.limit_in_bytes", "9223372036854771712"),
    ("memory.soft_limit_in_bytes", ""),
    ("memory.swappiness", ""),
    ("memory.oom_control", ""),
    ("cpu.shares", ""),
    ("cpu.cfs_period_us", ""),
    ("cpu.cfs_quota_us", ""),
    ("cpu.cfs_burst_us", ""),
    ("cpu.rt_period_us", ""),
    ("cpu.rt_runtime_us", ""),
    ("cpu.idle", ""),
    ("cpuset.cpus", ""),
    ("cpuset.mems", ""),
    ("pids.max", ""),
    ("blkio.weight", ""),
    ("blkio.weight_device", ""),
    ("blkio.throttle.read_bps_device", ""),
    ("blkio.throttle.write_iops_device", ""),
    ("devices.allow", ""),
    ("devices.deny", ""),
    ("hugetlb.2MB.limit_in_bytes", ""),
    ("hugetlb.2MB.max", ""),
    ("net_cls.classid", ""),
    ("net_prio.ifpriomap", ""),
    ("rdma.max", ""),
];

const ALL_V1: &str = r#"{
  "memory": {"limit": 419430400, "reservation": 209715200, "swap": 838860800,
             "swappiness": 10, "disableOOMKiller": true},
  "cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 1000,
          "realtimeRuntime": 1000, "realtimePeriod": 100000, "cpus": "0", "mems": "0", "idle": 0},
  "pids": {"limit": 100},
  "blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 300}],
              "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
              "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 100}]},
  "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
  "devices": [{"allow": false, "access": "rwm"},
              {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
              {"allow": true, "type": "c", "major": 136, "access": "rw"},
              {"allow": false, "type": "c", "major": 5, "minor": 1, "access": "m"}]
}"#;

#[test]
fn v1_every_limit_lands_in_its_file() {
    let f = v1_full();
    let m = Manager::with_layout(&f.layout, Some("/husk/c1"), "c1", false).unwrap();
    kernel_files(&m, V1_FILES);
    m.create().unwrap();
    assert_eq!(read(&m, "cpuset", "cpuset.cpus"), "0-1");
    let mut r = res(ALL_V1);
    r.set_network(Some(
        serde_json::from_str(r#"{"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}, {"name": "lo", "priority": 2}]}"#)
            .unwrap(),
    ));
    r.set_rdma(Some(
        serde_json::from_str(
            r#"{"mlx5_1": {"hcaHandles": 3}, "mlx4_0": {"hcaHandles": 2, "hcaObjects": 100}}"#,
        )
        .unwrap(),
    ));
    m.validate(&r).unwrap();
    m.set(&r).unwrap();

    assert_eq!(
        m.path_of("memory").unwrap(),
        f.dir.path().join("sys/fs/cgroup/memory/husk/c1")
    );
    assert_eq!(read(&m, "memory", "memory.limit_in_bytes"), "419430400");
    assert_eq!(
        read(&m, "memory", "memory.memsw.limit_in_bytes"),
        "838860800"
    );
    assert_eq!(
        read(&m, "memory", "memory.soft_limit_in_bytes"),
        "209715200"
    );
    assert_eq!(read(&m, "memory", "memory.swappiness"), "10");
    assert_eq!(read(&m, "memory", "memory.oom_control"), "1");
    assert_eq!(read(&m, "cpu", "cpu.shares"), "512");
    assert_eq!(read(&m, "cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(read(&m, "cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(read(&m, "cpu", "cpu.cfs_burst_us"), "1000");
    assert_eq!(read(&m, "cpu", "cpu.rt_runtime_us"), "1000");
    assert_eq!(read(&m, "cpu", "cpu.rt_period_us"), "100000");
    assert_eq!(read(&m, "cpu", "cpu.idle"), "0");
    assert_eq!(read(&m, "cpuset", "cpuset.cpus"), "0");
    assert_eq!(read(&m, "pids", "pids.max"), "100");
    assert_eq!(read(&m, "blkio", "blkio.weight"), "500");
    assert_eq!(read(&m, "blkio", "blkio.weight_device"), "8:0 300\n");
    assert_eq!(
        read(&m, "blkio", "blkio.throttle.read_bps_device"),
        "8:0 1048576\n"
    );
    assert_eq!(
        read(&m, "blkio", "blkio.throttle.write_iops_device"),
        "8:16 100\n"
    );
    assert_eq!(read(&m, "hugetlb", "hugetlb.2MB.limit_in_bytes"), "4194304");
    assert_eq!(
        read(&m, "hugetlb", "hugetlb.2MB.max"),
        "",
        "v1 hugetlb must not touch v2 files"
    );
    assert_eq!(
        read(&m, "devices", "devices.deny"),
        "a\na *:* rwm\nc 5:1 m\n"
    );
    assert_eq!(
        read(&m, "devices", "devices.allow"),
        "c 1:3 rwm\nc 136:* rw\n"
    );
    assert_eq!(read(&m, "net_cls", "net_cls.classid"), "1048577");
    assert_eq!(read(&m, "net_prio", "net_prio.ifpriomap"), "eth0 5\nlo 2\n");
    assert_eq!(
        read(&m, "rdma", "rdma.max"),
        "mlx4_0 hca_handle=2 hca_object=100\nmlx5_1 hca_handle=3 hca_object=max\n"
    );
    assert!(m.unified_dir().is_none());
}

#[test]
fn v1_devices_deny_all_is_written_first() {
    let f = v1_full();
    let m = Manager::with_layout(&f.layout, None, "dev", false).unwrap();
    kernel_files(&m, &[("devices.allow", ""), ("devices.deny", "")]);
    m.create().unwrap();
    m.set(&res(
        r#"{"devices": [{"allow": true, "type": "c", "major": 1, "minor": 5, "access": "r"}]}"#,
    ))
    .unwrap();
    // The explicit "a" (no rules) is the leading deny of everything.
    assert_eq!(read(&m, "devices", "devices.deny"), "a\n");
    assert_eq!(read(&m, "devices", "devices.allow"), "c 1:5 r\n");
}

#[test]
fn v1_shrinking_memory_writes_limit_before_swap() {
    let f = v1_full();
    let m = Manager::with_layout(&f.layout, None, "shrink", false).unwrap();
    // Current limit 1G: lowering both to 100M/200M must write the limit first. The fake
    // file cannot show order, so make memsw read-only: a swap-first write would fail
    // before the limit was written.
    kernel_files(
        &m,
        &[
            ("memory.limit_in_bytes", "1073741824"),
            ("memory.memsw.limit_in_bytes", "1073741824"),
        ],
    );
    m.set(&res(
        r#"{"memory": {"limit": 104857600, "swap": 209715200}}"#,
    ))
    .unwrap();
    assert_eq!(read(&m, "memory", "memory.limit_in_bytes"), "104857600");
    assert_eq!(
        read(&m, "memory", "memory.memsw.limit_in_bytes"),
        "209715200"
    );
}

#[test]
fn v1_unlimited_memory_unlimits_swap_too() {
    let f = v1_full();
    let m = Manager::with_layout(&f.layout, None, "unl", false).unwrap();
    kernel_files(
        &m,
        &[
            ("memory.limit_in_bytes", "104857600"),
            ("memory.memsw.limit_in_bytes", "209715200"),
        ],
    );
    // Swappiness -1 as u64 (docker) means unset: memory.swappiness is absent here.
    m.set(&res(
        r#"{"memory": {"limit": -1, "swappiness": 18446744073709551615}}"#,
    ))
    .unwrap();
    assert_eq!(read(&m, "memory", "memory.limit_in_bytes"), "-1");
    assert_eq!(read(&m, "memory", "memory.memsw.limit_in_bytes"), "-1");
}

#[test]
fn hybrid_hugetlb_goes_to_the_unified_dir() {
    let f = hybrid();
    let m = Manager::with_layout(&f.layout, Some("/husk/h1"), "h1", false).unwrap();
    let uni = m.unified_dir().unwrap().to_path_buf();
    assert_eq!(uni, f.dir.path().join("sys/fs/cgroup/unified/husk/h1"));
    assert_eq!(m.path_of("hugetlb"), Some(uni.as_path()));
    assert_eq!(
        m.path_of("memory").unwrap(),
        f.dir.path().join("sys/fs/cgroup/memory/husk/h1")
    );
    kernel_files(
        &m,
        &[
            ("hugetlb.2MB.max", ""),
            ("hugetlb.1GB.max", ""),
            ("hugetlb.1GB.rsvd.max", ""),
            ("cgroup.subtree_control", ""),
        ],
    );
    m.create().unwrap();
    // Nothing is delegated until a limit needs it...
    let root = f.dir.path().join("sys/fs/cgroup/unified");
    let delegated = || fs::read_to_string(root.join("cgroup.subtree_control")).unwrap();
    assert_eq!(delegated(), "");
    m.set(&res(r#"{"pids": {"limit": 5}}"#)).unwrap_err(); // v1 pids: no files in this fake
    assert_eq!(delegated(), "");
    m.set(&res(r#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}, {"pageSize": "1GB", "limit": -1}]}"#))
        .unwrap();
    // ...then the unified root delegates hugetlb to our subtree.
    assert_eq!(delegated(), "+hugetlb");
    assert_eq!(
        fs::read_to_string(uni.join("hugetlb.2MB.max")).unwrap(),
        "2097152"
    );
    assert_eq!(
        fs::read_to_string(uni.join("hugetlb.1GB.max")).unwrap(),
        "max"
    );
    assert_eq!(
        fs::read_to_string(uni.join("hugetlb.1GB.rsvd.max")).unwrap(),
        "max"
    );

    // unified keys: only for controllers the unified hierarchy owns.
    let e = m
        .validate(&res(r#"{"unified": {"memory.high": "1000"}}"#))
        .unwrap_err();
    assert!(
        e.to_string().contains("not on the unified hierarchy"),
        "{e}"
    );
    m.set(&res(r#"{"unified": {"hugetlb.2MB.max": "4194304"}}"#))
        .unwrap();
    assert_eq!(
        fs::read_to_string(uni.join("hugetlb.2MB.max")).unwrap(),
        "4194304"
    );

    // The relative path lands under this process's own memory cgroup.
    let rel = Manager::with_layout(&f.layout, Some("husk/r"), "r", false).unwrap();
    assert_eq!(
        rel.path_of("memory").unwrap(),
        f.dir
            .path()
            .join("sys/fs/cgroup/memory/process_api/abc/husk/r")
    );
    assert_eq!(
        rel.path_of("cpu").unwrap(),
        f.dir.path().join("sys/fs/cgroup/cpu/husk/r")
    );
}

#[test]
fn hybrid_without_unified_controllers_still_works() {
    // A host where hugetlb moved to a v1 hierarchy: unified owns nothing.
    let mi = format!("{HYBRID}52 31 0:42 / /sys/fs/cgroup/hugetlb rw - cgroup cgroup rw,hugetlb\n");
    let f = fake(&mi, &format!("{HYBRID_PROC}12:hugetlb:/\n"), "");
    let m = Manager::with_layout(&f.layout, None, "h2", false).unwrap();
    kernel_files(&m, &[("hugetlb.2MB.limit_in_bytes", "")]);
    m.set(&res(
        r#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]}"#,
    ))
    .unwrap();
    assert_eq!(read(&m, "hugetlb", "hugetlb.2MB.limit_in_bytes"), "2097152");
    assert!(m
        .path_of("hugetlb")
        .unwrap()
        .starts_with(f.dir.path().join("sys/fs/cgroup/hugetlb")));
    assert!(m.unified_dir().is_some());
}

const V2_FILES: &[(&str, &str)] = &[
    ("cgroup.subtree_control", ""),
    ("memory.max", ""),
    ("memory.swap.max", ""),
    ("memory.low", ""),
    ("memory.high", ""),
    ("cpu.weight", ""),
    ("cpu.max", ""),
    ("cpu.max.burst", ""),
    ("cpuset.cpus", ""),
    ("cpuset.mems", ""),
    ("pids.max", ""),
    ("io.weight", ""),
    ("io.max", ""),
    ("hugetlb.2MB.max", ""),
    ("rdma.max", ""),
];

#[test]
fn v2_every_limit_lands_in_its_file() {
    let f = v2();
    let m = Manager::with_layout(&f.layout, Some("/husk/v"), "v", false).unwrap();
    assert!(f.layout.is_pure_v2());
    let dir = f.dir.path().join("sys/fs/cgroup/husk/v");
    assert_eq!(m.unified_dir(), Some(dir.as_path()));
    for c in [
        "memory", "cpu", "cpuacct", "pids", "io", "freezer", "devices", "hugetlb",
    ] {
        assert_eq!(m.path_of(c), Some(dir.as_path()), "{c}");
    }
    assert_eq!(m.path_of("blkio"), None);
    kernel_files(&m, V2_FILES);
    m.create().unwrap();
    let r = res(r#"{
      "memory": {"limit": 104857600, "swap": 314572800, "reservation": 52428800, "swappiness": 10},
      "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "burst": 2000, "cpus": "1", "mems": "0"},
      "pids": {"limit": -1},
      "blockIO": {"weight": 500,
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}, {"major": 253, "minor": 1, "rate": 7}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 8388608}],
      "rdma": {"mlx4_0": {"hcaHandles": 2}},
      "unified": {"memory.high": "90000000"}
    }"#);
    m.validate(&r).unwrap();
    m.set(&r).unwrap();
    let rd = |f: &str| fs::read_to_string(dir.join(f)).unwrap();
    assert_eq!(rd("memory.max"), "104857600");
    assert_eq!(
        rd("memory.swap.max"),
        "209715200",
        "v2 swap is swap - memory"
    );
    assert_eq!(rd("memory.low"), "52428800");
    assert_eq!(rd("memory.high"), "90000000");
    assert_eq!(rd("cpu.weight"), "100");
    assert_eq!(rd("cpu.max"), "50000 100000");
    assert_eq!(rd("cpu.max.burst"), "2000");
    assert_eq!(rd("cpuset.cpus"), "1");
    assert_eq!(rd("pids.max"), "max");
    assert_eq!(
        rd("io.weight"),
        husk_cgroups::blkio_weight_to_io_weight(500).to_string()
    );
    assert_eq!(rd("io.weight"), "4950");
    assert_eq!(rd("io.max"), "8:0 rbps=1048576 wiops=100\n253:1 wiops=7\n");
    assert_eq!(rd("hugetlb.2MB.max"), "8388608");
    assert_eq!(rd("rdma.max"), "mlx4_0 hca_handle=2 hca_object=max\n");
    // Every ancestor delegates every controller.
    let root = f.dir.path().join("sys/fs/cgroup");
    assert!(fs::read_to_string(root.join("husk/cgroup.subtree_control"))
        .unwrap()
        .starts_with('+'));

    // Unlimited and quota-less forms.
    m.set(&res(
        r#"{"memory": {"limit": -1, "swap": -1}, "cpu": {"quota": -1, "period": 250000}}"#,
    ))
    .unwrap();
    assert_eq!(rd("memory.max"), "max");
    assert_eq!(rd("memory.swap.max"), "max");
    assert_eq!(rd("cpu.max"), "max 250000");
}

#[test]
fn v2_unknown_unified_key_is_a_clear_error() {
    let f = v2();
    let m = Manager::with_layout(&f.layout, None, "u", false).unwrap();
    kernel_files(&m, V2_FILES);
    let e = m
        .set(&res(r#"{"unified": {"memory.bogus": "1"}}"#))
        .unwrap_err();
    assert!(
        e.to_string().contains("memory.bogus") && e.to_string().contains("no such file"),
        "{e}"
    );
    let e = m
        .validate(&res(r#"{"unified": {"net_cls.classid": "1"}}"#))
        .unwrap_err();
    assert!(e.to_string().contains("not available"), "{e}");
    let e = m
        .validate(&res(r#"{"unified": {"../memory.max": "1"}}"#))
        .unwrap_err();
    assert!(e.to_string().contains("not a cgroup v2 file name"), "{e}");
}

#[test]
fn v1_rejects_unified_and_v2_rejects_v1_only_things() {
    let f = v1_full();
    let m = Manager::with_layout(&f.layout, None, "x", false).unwrap();
    let e = m
        .validate(&res(r#"{"unified": {"memory.high": "1"}}"#))
        .unwrap_err();
    assert!(e.to_string().contains("cgroup v1"), "{e}");

    let f = v2();
    let m = Manager::with_layout(&f.layout, None, "x", false).unwrap();
    let e = m
        .validate(&res(r#"{"cpu": {"realtimeRuntime": 1000}}"#))
        .unwrap_err();
    assert!(e.to_string().contains("v2"), "{e}");
    let e = m
        .validate(&res(r#"{"network": {"classID": 1}}"#))
        .unwrap_err();
    assert!(e.to_string().contains("net_cls"), "{e}");
    let e = m
        .validate(&res(r#"{"memory": {"swap": 1000}}"#))
        .unwrap_err();
    assert!(e.to_string().contains("needs a memory limit"), "{e}");
}

#[test]
fn validate_rejects_bad_values_before_creating_anything() {
    let f = hybrid();
    let m = Manager::with_layout(&f.layout, None, "bad", false).unwrap();
    let cases = [
        (r#"{"memory": {"limit": -5}}"#, "below -1"),
        (
            r#"{"memory": {"limit": 200, "swap": 100}}"#,
            "below the memory limit",
        ),
        (r#"{"memory": {"swappiness": 101}}"#, "above 100"),
        (r#"{"cpu": {"quota": -2}}"#, "below -1"),
        (r#"{"cpu": {"period": 10}}"#, "outside"),
        (r#"{"cpu": {"cpus": "0-x"}}"#, "not a list"),
        (r#"{"cpu": {"idle": 3}}"#, "neither 0 nor 1"),
        (r#"{"pids": {"limit": -9}}"#, "below -1"),
        (r#"{"blockIO": {"weight": 5}}"#, "outside 10..1000"),
        (
            r#"{"blockIO": {"throttleReadBpsDevice": [{"major": -1, "minor": 0, "rate": 1}]}}"#,
            "negative",
        ),
        (
            r#"{"hugepageLimits": [{"pageSize": "2XB", "limit": 1}]}"#,
            "not a size",
        ),
        (
            r#"{"devices": [{"allow": true, "type": "p"}]}"#,
            "device type",
        ),
        (
            r#"{"devices": [{"allow": true, "type": "c", "access": "rwx"}]}"#,
            "only contain",
        ),
        (r#"{"network": {"classID": 1}}"#, "net_cls is not mounted"),
        (
            r#"{"rdma": {"mlx4_0": {"hcaHandles": 1}}}"#,
            "rdma is not mounted",
        ),
    ];
    for (json, want) in cases {
        let e = m.validate(&res(json)).unwrap_err().to_string();
        assert!(e.contains(want), "{json}: {e}");
        assert!(m.set(&res(json)).is_err());
    }
    for d in m.dirs() {
        assert!(!d.path.exists(), "{} was created", d.path.display());
    }
}

#[test]
fn destroy_removes_created_parents_but_not_shared_or_preexisting_ones() {
    // Without cpuset, whose files (real ones vanish with rmdir) would keep fake dirs busy.
    let mi: String = HYBRID
        .lines()
        .filter(|l| !l.contains("cpuset"))
        .map(|l| format!("{l}\n"))
        .collect();
    let f = fake(&mi, HYBRID_PROC, "hugetlb\n");
    let pre = f.dir.path().join("sys/fs/cgroup/memory/pre");
    fs::create_dir(&pre).unwrap();
    let a = Manager::with_layout(&f.layout, Some("/husk/a"), "a", false).unwrap();
    let b = Manager::with_layout(&f.layout, Some("/husk/b"), "b", false).unwrap();
    let c = Manager::with_layout(&f.layout, Some("/pre/c"), "c", false).unwrap();
    for m in [&a, &b, &c] {
        m.create().unwrap();
    }
    // A sub-cgroup the container made itself.
    fs::create_dir(a.path_of("memory").unwrap().join("inner")).unwrap();
    a.destroy().unwrap();
    let husk = f.dir.path().join("sys/fs/cgroup/memory/husk");
    assert!(!husk.join("a").exists());
    assert!(husk.join("b").exists(), "b's dir must stay");
    b.destroy().unwrap();
    assert!(!husk.exists(), "the shared parent goes with its last user");
    c.destroy().unwrap();
    assert!(pre.exists(), "a parent that existed before is not ours");
    assert!(!pre.join("c").exists());
    // Destroying twice is fine.
    a.destroy().unwrap();
    for d in a.dirs().iter().chain(b.dirs()).chain(c.dirs()) {
        assert!(!d.path.exists());
    }
}

#[test]
fn manager_round_trips_through_json() {
    let f = hybrid();
    let m = Manager::with_layout(&f.layout, Some("/husk/j"), "j", false).unwrap();
    let s = serde_json::to_string(&m).unwrap();
    let back: Manager = serde_json::from_str(&s).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.path_of("memory"), m.path_of("memory"));
    assert!(s.contains("\"version\":\"v2\""));
}

#[test]
fn stats_and_oom_count_from_v1_and_v2_files() {
    let f = v1_full();
    let m = Manager::with_layout(&f.layout, None, "s", false).unwrap();
    kernel_files(
        &m,
        &[
            (
                "cpu.stat",
                "nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n",
            ),
            ("cpuacct.usage", "123456\n"),
            ("cpuacct.usage_percpu", "100000 23456 \n"),
            ("cpuacct.stat", "user 3\nsystem 2\n"),
            ("memory.usage_in_bytes", "4096\n"),
            ("memory.max_usage_in_bytes", "8192\n"),
            ("memory.limit_in_bytes", "419430400\n"),
            ("memory.failcnt", "7\n"),
            ("memory.stat", "cache 1024\nrss 2048\n"),
            (
                "memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
            ),
            ("pids.current", "3\n"),
            ("pids.max", "max\n"),
            (
                "blkio.throttle.io_service_bytes_recursive",
                "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n",
            ),
            ("blkio.throttle.io_serviced_recursive", "8:0 Read 1\n"),
            ("hugetlb.2MB.limit_in_bytes", "0\n"),
            ("hugetlb.2MB.usage_in_bytes", "2097152\n"),
            ("hugetlb.2MB.failcnt", "1\n"),
        ],
    );
    let s = m.stats().unwrap();
    assert_eq!(s.cpu.usage.total, 123456);
    assert_eq!(s.cpu.usage.percpu, [100000, 23456]);
    assert_eq!(s.cpu.usage.user, 30_000_000);
    assert_eq!(s.cpu.throttling.throttled_periods, 4);
    assert_eq!(s.memory.usage.limit, 419430400);
    assert_eq!(s.memory.usage.failcnt, 7);
    assert_eq!(s.memory.cache, 1024);
    assert_eq!(s.pids.current, 3);
    assert_eq!(s.pids.limit, 0);
    assert_eq!(s.blkio.io_service_bytes_recursive.len(), 2);
    assert_eq!(s.hugetlb["2MB"].usage, 2097152);
    assert_eq!(m.oom_kill_count().unwrap(), 2);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["cpu"]["throttling"]["throttledPeriods"], 4);
    assert_eq!(json["blkio"]["ioServiceBytesRecursive"][0]["op"], "Read");
    assert!(json["memory"]["kernelTCP"].is_object());

    let f = v2();
    let m = Manager::with_layout(&f.layout, None, "s", false).unwrap();
    kernel_files(&m, &[
        ("cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 5\nnr_throttled 2\nthrottled_usec 3\n"),
        ("memory.current", "4096\n"),
        ("memory.max", "max\n"),
        ("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"),
        ("memory.stat", "anon 10\nfile 20\n"),
        ("io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"),
        ("pids.current", "1\n"),
        ("pids.max", "50\n"),
    ]);
    let s = m.stats().unwrap();
    assert_eq!(s.cpu.usage.total, 10_000);
    assert_eq!(s.cpu.throttling.throttled_time, 3000);
    assert_eq!(s.memory.usage.usage, 4096);
    assert_eq!(s.memory.usage.failcnt, 3);
    assert_eq!(s.memory.cache, 20);
    assert_eq!(s.pids.limit, 50);
    assert_eq!(s.blkio.io_service_bytes_recursive[1].value, 200);
    assert_eq!(m.oom_kill_count().unwrap(), 1);
}

#[test]
fn v2_freeze_waits_for_cgroup_events() {
    let f = v2();
    let m = Manager::with_layout(&f.layout, None, "fz", false).unwrap();
    kernel_files(
        &m,
        &[
            ("cgroup.freeze", "0"),
            ("cgroup.events", "populated 1\nfrozen 1\n"),
        ],
    );
    m.freeze().unwrap();
    assert!(m.is_frozen().unwrap());
    let dir = m.unified_dir().unwrap();
    fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
    m.thaw().unwrap();
    assert!(!m.is_frozen().unwrap());
}

#[test]
fn systemd_paths_need_systemd() {
    let f = hybrid();
    let e = Manager::with_layout(&f.layout, Some("system.slice:husk:x"), "x", true).unwrap_err();
    assert!(e.to_string().contains("systemd"), "{e}");
}

#[test]
fn comounted_cpu_cpuacct_share_one_directory() {
    let mi = "42 31 0:39 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
              43 31 0:40 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    let f = fake(mi, "3:cpu,cpuacct:/\n4:memory:/\n", "");
    let m = Manager::with_layout(&f.layout, Some("/husk/co"), "co", false).unwrap();
    assert_eq!(m.dirs().len(), 2);
    let dir = f.dir.path().join("sys/fs/cgroup/cpu,cpuacct/husk/co");
    assert_eq!(m.path_of("cpu"), Some(dir.as_path()));
    assert_eq!(m.path_of("cpuacct"), Some(dir.as_path()));
    kernel_files(
        &m,
        &[
            ("cpu.shares", ""),
            ("cpu.cfs_quota_us", ""),
            ("cpuacct.usage", "42\n"),
            ("cpu.stat", "nr_throttled 1\n"),
        ],
    );
    m.set(&res(r#"{"cpu": {"shares": 256, "quota": 20000}}"#))
        .unwrap();
    assert_eq!(fs::read_to_string(dir.join("cpu.shares")).unwrap(), "256");
    assert_eq!(
        fs::read_to_string(dir.join("cpu.cfs_quota_us")).unwrap(),
        "20000"
    );
    let s = m.stats().unwrap();
    assert_eq!(s.cpu.usage.total, 42);
    assert_eq!(s.cpu.throttling.throttled_periods, 1);
}
