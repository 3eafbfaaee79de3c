//! The rest of docker's `run`/`create` flags (issue 13), against the real
//! kernel: each flag seen from inside the container (/proc, /dev, `id`,
//! mounts) or in the cgroup files this test reads itself, and in inspect;
//! bad values refused in one line, exit 125, before anything exists; a
//! realtime --stop-signal reaching the container.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::engine::*;
use husk_fixtures::{cgroup_file, require_root};

/// The init's host pid of a running container.
fn pid_of(e: &Engine, name: &str) -> i32 {
    e.inspect(name)["State"]["Pid"].as_i64().unwrap() as i32
}

fn ns_of(pid: &str, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .display()
        .to_string()
}

/// A block device of this machine, for the throttles (loop0 where present).
fn block_device() -> PathBuf {
    use std::os::unix::fs::FileTypeExt;
    let mut found: Vec<PathBuf> = std::fs::read_dir("/dev")
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_block_device()))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
        .iter()
        .find(|p| p.ends_with("loop0"))
        .or(found.first())
        .cloned()
        .expect("a block device in /dev")
}

fn major_minor(p: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let rdev = std::fs::metadata(p).unwrap().rdev();
    format!("{}:{}", libc::major(rdev), libc::minor(rdev))
}

#[test]
fn short_h_is_hostname_and_uts_flags() {
    require_root!("short_h_is_hostname_and_uts_flags");
    let e = Engine::new();
    let out = e.ok(&[
        "run",
        "--rm",
        "-h",
        "web1",
        "--domainname",
        "example.org",
        "busybox",
        "cat",
        "/proc/sys/kernel/hostname",
        "/proc/sys/kernel/domainname",
    ]);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["web1", "example.org"]);
    let help = e.ok(&["run", "--help"]);
    assert!(help.contains("--hostname"), "{help}");
    // The host's UTS namespace: the host's name, and no -h with it.
    e.ok(&[
        "create", "--name", "uts", "--uts", "host", "busybox", "true",
    ]);
    let v = e.inspect("uts");
    assert_eq!(v["HostConfig"]["UTSMode"], "host");
    e.ok(&["rm", "uts"]);
    let out = e.ok(&[
        "run",
        "--rm",
        "--uts",
        "host",
        "busybox",
        "readlink",
        "/proc/self/ns/uts",
    ]);
    assert_eq!(out.trim(), ns_of("self", "uts"));
    let host = nix::unistd::gethostname().unwrap();
    let out = e.ok(&["run", "--rm", "--uts", "host", "busybox", "hostname"]);
    assert_eq!(out.trim(), host.to_string_lossy());
}

#[test]
fn namespace_modes() {
    require_root!("namespace_modes");
    let e = Engine::new();
    let inside = |args: &[&str], kind: &str| {
        let mut a = vec!["run", "--rm"];
        a.extend_from_slice(args);
        let path = format!("/proc/self/ns/{kind}");
        a.extend_from_slice(&["busybox", "readlink", &path]);
        e.ok(&a).trim().to_string()
    };
    assert_eq!(inside(&["--pid", "host"], "pid"), ns_of("self", "pid"));
    assert_ne!(inside(&[], "pid"), ns_of("self", "pid"));
    assert_eq!(inside(&["--ipc", "host"], "ipc"), ns_of("self", "ipc"));
    assert_ne!(inside(&["--ipc", "private"], "ipc"), ns_of("self", "ipc"));
    assert_eq!(
        inside(&["--cgroupns", "host"], "cgroup"),
        ns_of("self", "cgroup")
    );
    assert_ne!(
        inside(&["--cgroupns", "private"], "cgroup"),
        ns_of("self", "cgroup")
    );
    // Joining another container's namespaces, by name.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "nsx",
        "--ipc",
        "shareable",
        "--shm-size",
        "8m",
        "busybox",
        "sleep",
        "60",
    ]);
    let xpid = pid_of(&e, "nsx").to_string();
    assert_eq!(
        inside(&["--pid", "container:nsx"], "pid"),
        ns_of(&xpid, "pid")
    );
    assert_eq!(
        inside(&["--ipc", "container:nsx"], "ipc"),
        ns_of(&xpid, "ipc")
    );
    // Its /dev/shm is shared with the containers that join its IPC.
    e.ok(&["exec", "nsx", "sh", "-c", "echo shared > /dev/shm/f"]);
    let out = e.ok(&[
        "run",
        "--rm",
        "--ipc",
        "container:nsx",
        "busybox",
        "sh",
        "-c",
        "cat /dev/shm/f; grep ' /dev/shm ' /proc/mounts",
    ]);
    assert!(
        out.starts_with("shared\n") && out.contains("size=8192k"),
        "{out}"
    );
    assert_eq!(e.inspect("nsx")["HostConfig"]["IpcMode"], "shareable");
    // docker's rule: a private IPC namespace is not for joining.
    e.ok(&["run", "-d", "--name", "priv", "busybox", "sleep", "60"]);
    let (code, _, err) = e.code(&["run", "--rm", "--ipc", "container:priv", "busybox", "true"]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("--ipc shareable"), "{err}");
    e.ok(&["rm", "-f", "priv"]);
    // X's processes are visible with its pid namespace.
    let ps = e.ok(&["run", "--rm", "--pid", "container:nsx", "busybox", "ps"]);
    assert!(ps.contains("sleep 60"), "{ps}");
    e.ok(&[
        "create",
        "--name",
        "jn",
        "--pid",
        "container:nsx",
        "--ipc",
        "host",
        "busybox",
        "true",
    ]);
    let xid = e.inspect("nsx")["Id"].as_str().unwrap().to_string();
    let hc = e.inspect("jn")["HostConfig"].clone();
    assert_eq!(hc["PidMode"], format!("container:{xid}"));
    assert_eq!(hc["IpcMode"], "host");
    assert_eq!(hc["CgroupnsMode"], "host");
    e.ok(&["rm", "-f", "jn", "nsx"]);
    // A container that is not running has no namespaces to join.
    e.ok(&["create", "--name", "idle", "busybox", "true"]);
    let (code, _, err) = e.code(&["run", "--rm", "--pid", "container:idle", "busybox", "true"]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("not running"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn devices_groups_and_cgroup_rules() {
    require_root!("devices_groups_and_cgroup_rules");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "dev",
        "--device",
        "/dev/null:/dev/mynull:rw",
        "--device-cgroup-rule",
        "c 1:5 rwm",
        "--group-add",
        "wheel",
        "--group-add",
        "4321",
        "busybox",
        "sleep",
        "60",
    ]);
    let ls = e.ok(&["exec", "dev", "ls", "-l", "/dev/mynull"]);
    assert!(ls.starts_with('c') && ls.contains("1,   3"), "{ls}");
    e.ok(&["exec", "dev", "sh", "-c", "echo x > /dev/mynull"]);
    let groups = e.ok(&["exec", "dev", "id", "-G"]);
    let groups: Vec<&str> = groups.split_whitespace().collect();
    assert!(
        groups.contains(&"10") && groups.contains(&"4321"),
        "{groups:?}"
    );
    let pid = pid_of(&e, "dev");
    if let Some(f) = cgroup_file(pid, "devices", "devices.list", "") {
        if f.path().exists() {
            let list = f.read();
            assert!(list.contains("c 1:3 rw"), "{list}");
            assert!(list.contains("c 1:5 rwm"), "{list}");
        }
    }
    let hc = e.inspect("dev")["HostConfig"].clone();
    assert_eq!(
        hc["Devices"],
        serde_json::json!([{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull", "CgroupPermissions": "rw"}])
    );
    assert_eq!(hc["DeviceCgroupRules"], serde_json::json!(["c 1:5 rwm"]));
    assert_eq!(hc["GroupAdd"], serde_json::json!(["wheel", "4321"]));
    e.ok(&["rm", "-f", "dev"]);
    // A directory brings the device nodes under it.
    let dir = tempdir("husk-test-devdir-");
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let st = std::process::Command::new("mknod")
        .arg(sub.join("zero"))
        .args(["c", "1", "5"])
        .status()
        .unwrap();
    assert!(st.success());
    let spec = format!("{}:/dev/mine", dir.path().display());
    let ls = e.ok(&[
        "run",
        "--rm",
        "--device",
        &spec,
        "busybox",
        "ls",
        "-l",
        "/dev/mine/sub/zero",
    ]);
    assert!(ls.starts_with('c') && ls.contains("1,   5"), "{ls}");
    // A group the image does not know fails the start, naming it.
    let (code, _, err) = e.code(&[
        "run",
        "--rm",
        "--group-add",
        "nosuchgroup",
        "busybox",
        "true",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("nosuchgroup"), "{err}");
}

#[test]
fn resources_in_the_cgroup_files() {
    require_root!("resources_in_the_cgroup_files");
    let e = Engine::new();
    let dev = block_device();
    let mm = major_minor(&dev);
    let bps = format!("{}:1mb", dev.display());
    let iops = format!("{}:100", dev.display());
    e.ok(&[
        "run",
        "-d",
        "--name",
        "res",
        "-m",
        "64m",
        "--cpu-period",
        "50000",
        "--cpu-quota",
        "25000",
        "--cpu-rt-runtime",
        "10000",
        "--memory-swappiness",
        "10",
        "--oom-kill-disable",
        "--oom-score-adj",
        "300",
        "--device-read-bps",
        &bps,
        "--device-write-iops",
        &iops,
        "busybox",
        "sleep",
        "60",
    ]);
    let pid = pid_of(&e, "res");
    let read = |ctrl: &str, file: &str| {
        cgroup_file(pid, ctrl, file, file)
            .unwrap_or_else(|| panic!("no {ctrl} cgroup"))
            .read()
    };
    assert_eq!(read("cpu", "cpu.cfs_period_us"), "50000");
    assert_eq!(read("cpu", "cpu.cfs_quota_us"), "25000");
    assert_eq!(read("cpu", "cpu.rt_runtime_us"), "10000");
    assert_eq!(read("memory", "memory.swappiness"), "10");
    assert!(
        read("memory", "memory.oom_control").contains("oom_kill_disable 1"),
        "oom_control"
    );
    assert_eq!(
        read("blkio", "blkio.throttle.read_bps_device"),
        format!("{mm} 1048576")
    );
    assert_eq!(
        read("blkio", "blkio.throttle.write_iops_device"),
        format!("{mm} 100")
    );
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj"))
            .unwrap()
            .trim(),
        "300"
    );
    assert_eq!(
        e.ok(&["exec", "res", "cat", "/proc/self/oom_score_adj"])
            .trim(),
        "300"
    );
    let hc = e.inspect("res")["HostConfig"].clone();
    assert_eq!(hc["CpuPeriod"], 50000);
    assert_eq!(hc["CpuQuota"], 25000);
    assert_eq!(hc["CpuRealtimeRuntime"], 10000);
    assert_eq!(hc["MemorySwappiness"], 10);
    assert_eq!(hc["OomKillDisable"], true);
    assert_eq!(hc["OomScoreAdj"], 300);
    assert_eq!(
        hc["BlkioDeviceReadBps"],
        serde_json::json!([{"Path": dev.display().to_string(), "Rate": 1048576}])
    );
    assert_eq!(
        hc["BlkioDeviceWriteIOps"],
        serde_json::json!([{"Path": dev.display().to_string(), "Rate": 100}])
    );
    // A second realtime container: the parent's budget grows to hold both.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "res2",
        "--cpu-rt-runtime",
        "20000",
        "busybox",
        "sleep",
        "60",
    ]);
    let f = cgroup_file(
        pid_of(&e, "res2"),
        "cpu",
        "cpu.rt_runtime_us",
        "cpu.rt_runtime_us",
    );
    assert_eq!(f.unwrap().read(), "20000");
    e.ok(&["rm", "-f", "res", "res2"]);
    // Block I/O weights: applied where the controller has them, refused
    // in one line where it does not (never dropped in silence).
    let weight_files = ["blkio.weight", "blkio.bfq.weight"]
        .iter()
        .any(|f| Path::new("/sys/fs/cgroup/blkio").join(f).exists());
    let v1 = Path::new("/sys/fs/cgroup/blkio").is_dir();
    if v1 && !weight_files {
        let (code, _, err) = e.code(&["run", "--rm", "--blkio-weight", "300", "busybox", "true"]);
        assert_eq!(code, 125, "{err}");
        assert!(err.contains("weight"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    } else {
        e.ok(&["run", "--rm", "--blkio-weight", "300", "busybox", "true"]);
    }
}

#[test]
fn sysctls_shm_dns_labels_and_annotations() {
    require_root!("sysctls_shm_dns_labels_and_annotations");
    let e = Engine::new();
    let dir = tempdir("husk-test-labels-");
    let labels = dir.path().join("labels");
    std::fs::write(&labels, "# comment\nfrom.file=1\nshared=file\n\nbare\n").unwrap();
    let out = e.ok(&[
        "run",
        "--name",
        "sys",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--sysctl",
        "kernel.shmmax=12345678",
        "--shm-size",
        "16m",
        "--dns-option",
        "ndots:3",
        "--label-file",
        labels.to_str().unwrap(),
        "--label",
        "shared=flag",
        "--annotation",
        "com.example.a=b",
        "--expose",
        "7000-7001/udp",
        "busybox",
        "sh",
        "-c",
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; grep ' /dev/shm ' /proc/mounts; cat /etc/resolv.conf",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..2], ["1", "12345678"], "{out}");
    assert!(lines[2].contains("size=16384k"), "{out}");
    assert!(out.contains("options ndots:3"), "{out}");
    let v = e.inspect("sys");
    let hc = &v["HostConfig"];
    assert_eq!(
        hc["Sysctls"],
        serde_json::json!({"kernel.shmmax": "12345678", "net.ipv4.ip_forward": "1"})
    );
    assert_eq!(hc["ShmSize"], 16 << 20);
    assert_eq!(hc["DnsOptions"], serde_json::json!(["ndots:3"]));
    assert_eq!(hc["Annotations"], serde_json::json!({"com.example.a": "b"}));
    let keys: Vec<&String> = hc.as_object().unwrap().keys().collect();
    let pos = |k: &str| keys.iter().position(|x| *x == k).unwrap();
    assert_eq!(pos("Sysctls"), pos("ShmSize") + 1, "docker's key order");
    let labels = &v["Config"]["Labels"];
    assert_eq!(labels["from.file"], "1");
    assert_eq!(labels["bare"], "");
    assert_eq!(labels["shared"], "flag", "--label wins over --label-file");
    assert_eq!(
        v["Config"]["ExposedPorts"],
        serde_json::json!({"7000/udp": {}, "7001/udp": {}})
    );
    e.ok(&["rm", "sys"]);
}

#[test]
fn cidfile_attach_cgroup_parent_and_volumes_from() {
    require_root!("cidfile_attach_cgroup_parent_and_volumes_from");
    let e = Engine::new();
    let dir = tempdir("husk-test-cid-");
    let cid = dir.path().join("cid");
    let id = e.ok(&[
        "create",
        "--cidfile",
        cid.to_str().unwrap(),
        "busybox",
        "true",
    ]);
    assert_eq!(std::fs::read_to_string(&cid).unwrap(), id.trim());
    assert_eq!(
        e.inspect(id.trim())["HostConfig"]["ContainerIDFile"],
        cid.to_str().unwrap()
    );
    let (code, _, err) = e.code(&[
        "create",
        "--cidfile",
        cid.to_str().unwrap(),
        "busybox",
        "true",
    ]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("--cidfile"), "{err}");
    assert_eq!(e.ok(&["ps", "-aq"]).lines().count(), 1);
    e.ok(&["rm", id.trim()]);

    // -a: only the streams named.
    let script = "echo to-out; echo to-err >&2";
    let (code, out, err) = e.code(&["run", "--rm", "-a", "stdout", "busybox", "sh", "-c", script]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("to-out") && !err.contains("to-err"),
        "{out} / {err}"
    );
    let (_, out, err) = e.code(&["run", "--rm", "-a", "STDERR", "busybox", "sh", "-c", script]);
    assert!(
        !out.contains("to-out") && err.contains("to-err"),
        "{out} / {err}"
    );
    e.ok(&["create", "--name", "att", "-a", "stdout", "busybox", "true"]);
    let cfg = e.inspect("att")["Config"].clone();
    assert_eq!(
        (
            &cfg["AttachStdin"],
            &cfg["AttachStdout"],
            &cfg["AttachStderr"]
        ),
        (
            &serde_json::json!(false),
            &serde_json::json!(true),
            &serde_json::json!(false)
        )
    );
    e.ok(&["rm", "att"]);
    // Without -a: docker's stdout and stderr, none when detached.
    e.ok(&["run", "--name", "fg", "busybox", "true"]);
    assert_eq!(e.inspect("fg")["Config"]["AttachStderr"], true);
    e.ok(&["run", "-d", "--name", "bg", "busybox", "true"]);
    assert_eq!(e.inspect("bg")["Config"]["AttachStdout"], false);
    e.ok(&["rm", "-f", "fg", "bg"]);

    // --cgroup-parent: the container's cgroup goes under it.
    let parent = format!("husk-test-parent-{}", std::process::id());
    e.ok(&[
        "run",
        "-d",
        "--name",
        "cg",
        "--cgroup-parent",
        &parent,
        "busybox",
        "sleep",
        "60",
    ]);
    let cgid = e.inspect("cg")["Id"].as_str().unwrap().to_string();
    let f = cgroup_file(pid_of(&e, "cg"), "pids", "pids.max", "pids.max").unwrap();
    let want = format!("/{parent}/{cgid}/");
    assert!(
        f.path().display().to_string().contains(&want),
        "{}",
        f.path().display()
    );
    assert_eq!(
        e.inspect("cg")["HostConfig"]["CgroupParent"],
        format!("/{parent}")
    );
    e.ok(&["rm", "-f", "cg"]);
    for d in husk_fixtures::cgroup_dirs(&parent) {
        let _ = std::fs::remove_dir(&d);
    }
    assert!(husk_fixtures::cgroup_dirs(&parent).is_empty());

    // --volumes-from: the other container's volumes, read-only on request.
    e.ok(&[
        "run",
        "--name",
        "src",
        "-v",
        "/data",
        "busybox",
        "sh",
        "-c",
        "echo hi > /data/f",
    ]);
    let out = e.ok(&[
        "run",
        "--rm",
        "--volumes-from",
        "src",
        "busybox",
        "cat",
        "/data/f",
    ]);
    assert_eq!(out.trim(), "hi");
    let (code, _, _) = e.code(&[
        "run",
        "--rm",
        "--volumes-from",
        "src:ro",
        "busybox",
        "sh",
        "-c",
        "echo no > /data/g",
    ]);
    assert_ne!(code, 0, "a :ro volume took a write");
    e.ok(&[
        "create",
        "--name",
        "user",
        "--volumes-from",
        "src",
        "busybox",
        "cat",
        "/data/f",
    ]);
    assert_eq!(
        e.inspect("user")["HostConfig"]["VolumesFrom"],
        serde_json::json!(["src"])
    );
    // `rm -v` of the source keeps a volume another container still
    // mounts; the last one's `rm -v` removes it, as docker does.
    e.ok(&["rm", "-v", "src"]);
    assert_eq!(e.ok(&["start", "-a", "user"]).trim(), "hi");
    let volumes = e.ok(&["volume", "ls", "-q"]);
    assert_eq!(volumes.lines().count(), 1, "{volumes}");
    e.ok(&["rm", "-v", "user"]);
    assert_eq!(e.ok(&["volume", "ls", "-q"]), "");
}

#[test]
fn bad_values_are_refused_before_anything_exists() {
    require_root!("bad_values_are_refused_before_anything_exists");
    let e = Engine::new();
    let dir = tempdir("husk-test-bad-");
    let taken = dir.path().join("cid");
    std::fs::write(&taken, "x").unwrap();
    let dev = block_device();
    let bad_bps = format!("{}:lots", dev.display());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--device", "/no/such/dev"], "--device"),
        (vec!["--device", "/dev/null:rel"], "--device"),
        (
            vec!["--device-cgroup-rule", "x 1:2 r"],
            "--device-cgroup-rule",
        ),
        (vec!["--group-add", "4294967295"], "--group-add"),
        (vec!["--sysctl", "kernel.panic=1"], "--sysctl"),
        (
            vec!["--sysctl", "net.ipv4.ip_forward=1", "--network", "host"],
            "--sysctl",
        ),
        (
            vec!["--sysctl", "kernel.shmmax=1", "--ipc", "host"],
            "--sysctl",
        ),
        (vec!["--shm-size", "lots"], "--shm-size"),
        (vec!["--ipc", "bogus"], "--ipc"),
        (vec!["--pid", "bogus"], "--pid"),
        (vec!["--pid", "container:nosuch"], "--pid"),
        (vec!["--uts", "bogus"], "--uts"),
        (vec!["--uts", "host", "-h", "web"], "--hostname"),
        (vec!["-h", "bad..name"], "--hostname"),
        (vec!["--cgroupns", "bogus"], "--cgroupns"),
        (vec!["--cgroup-parent", "a/../b"], "--cgroup-parent"),
        (vec!["--cidfile", taken.to_str().unwrap()], "--cidfile"),
        (vec!["-a", "stdall"], "--attach"),
        (vec!["--oom-score-adj", "1001"], "--oom-score-adj"),
        (vec!["--memory-swappiness", "101"], "--memory-swappiness"),
        (vec!["--cpu-period", "10"], "--cpu-period"),
        (vec!["--cpu-quota", "10"], "--cpu-quota"),
        (vec!["--cpus", "1", "--cpu-quota", "50000"], "--cpu-quota"),
        (vec!["--cpu-rt-runtime", "99999999"], "--cpu-rt-runtime"),
        (vec!["--blkio-weight", "5"], "--blkio-weight"),
        (
            vec!["--blkio-weight-device", "/dev/null:100"],
            "--blkio-weight-device",
        ),
        (vec!["--device-read-bps", &bad_bps], "--device-read-bps"),
        (
            vec!["--device-write-iops", "/dev/null:5"],
            "--device-write-iops",
        ),
        (vec!["--label-file", "/no/such/labels"], "label file"),
        (vec!["--annotation", "=x"], "--annotation"),
        (vec!["--volumes-from", "nosuch"], "--volumes-from"),
        (vec!["--volumes-from", "x:rx"], "--volumes-from"),
        (vec!["--domainname", "bad name"], "--domainname"),
        (vec!["--expose", "99999"], "--expose"),
        (vec!["--dns-option", "a b"], "--dns-option"),
        (
            vec!["--security-opt", "apparmor=docker-default"],
            "AppArmor",
        ),
        (vec!["--security-opt", "label=user:system_u"], "SELinux"),
        (vec!["--oom-score-adj", "x"], "--oom-score-adj"),
    ];
    for (flags, want) in &cases {
        for verb in ["create", "run"] {
            let mut args = vec![verb];
            args.extend(flags.iter().copied());
            args.extend(["busybox", "true"]);
            let (code, _, err) = e.code(&args);
            assert_eq!(code, 125, "{args:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
            assert!(err.contains(want), "{args:?}: want {want}: {err}");
            assert_eq!(e.ok(&["ps", "-aq"]), "", "{args:?} left a container");
        }
    }
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "x");
    // docker's "turn it off" values are accepted: there is nothing to turn off here.
    for opt in ["apparmor=unconfined", "label=disable", "label:disable"] {
        e.ok(&["run", "--rm", "--security-opt", opt, "busybox", "true"]);
    }
    let (code, _, err) = e.code(&["run", "-d", "-a", "stdout", "busybox", "true"]);
    assert_eq!(code, 125, "{err}");
    assert_eq!(e.ok(&["ps", "-aq"]), "");
}

#[test]
fn realtime_stop_signal_reaches_the_container() {
    require_root!("realtime_stop_signal_reaches_the_container");
    let e = Engine::new();
    // 37 is SIGRTMIN+3 (the kernel's SIGRTMIN is 34).
    e.ok(&[
        "run",
        "-d",
        "--name",
        "rt",
        "--stop-signal",
        "SIGRTMIN+3",
        "busybox",
        "sh",
        "-c",
        "trap 'echo got rtmin3; exit 0' 37; echo ready; while true; do sleep 0.1; done",
    ]);
    wait_for("ready", Duration::from_secs(10), || {
        e.ok(&["logs", "rt"]).contains("ready")
    });
    assert_eq!(e.inspect("rt")["Config"]["StopSignal"], "SIGRTMIN+3");
    e.ok(&["stop", "-t", "60", "rt"]);
    let v = e.inspect("rt");
    assert_eq!(v["State"]["ExitCode"], 0, "killed instead: {v}");
    assert!(e.ok(&["logs", "rt"]).contains("got rtmin3"));
    e.ok(&["rm", "rt"]);
}
