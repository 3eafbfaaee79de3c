//! The OCI runtime spec for a container, from its record: docker's defaults
//! (capabilities, mounts, masked paths, device rules) plus the record's
//! process and limits. Rebuilt on every start, since the bundle lives on
//! the volatile runroot.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::fcntl::OFlag;
use serde_json::{json, Value};

use super::Container;
use crate::{Error, Result};

/// crun 1.8 refuses ociVersion 1.1+; dockerd writes this one.
pub const OCI_VERSION: &str = "1.0.2-dev";

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// docker's 14 default capabilities.
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability this kernel generation knows, for `--cap-add ALL`.
pub const ALL_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// This process's bounding set (bit n = capability n); every bit when unreadable.
fn bounding_set() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX)
}

/// docker's rule: start from the defaults, drop (`ALL` drops everything),
/// then add. `ALL` adds every capability in `bounding` (ALL_CAPS is in
/// capability-number order): a host that withholds one (a sandbox without
/// CAP_SYS_RESOURCE) cannot grant it, and asking would fail `capset`.
pub fn capabilities(add: &[String], drop: &[String], bounding: u64) -> Vec<String> {
    let mut caps: Vec<String> = if drop.iter().any(|d| d == "ALL") {
        Vec::new()
    } else {
        DEFAULT_CAPS
            .iter()
            .filter(|c| !drop.iter().any(|d| c[4..] == **d))
            .map(|c| c.to_string())
            .collect()
    };
    let adding: Vec<String> = if add.iter().any(|a| a == "ALL") {
        ALL_CAPS
            .iter()
            .enumerate()
            .filter(|(i, _)| bounding & (1u64 << i) != 0)
            .map(|(_, c)| c.to_string())
            .collect()
    } else {
        add.iter().map(|a| format!("CAP_{a}")).collect()
    };
    for c in adding {
        if !caps.contains(&c) {
            caps.push(c);
        }
    }
    caps
}

const MASKED: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

const READONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Syscalls docker's default profile refuses to a container without extra
/// capabilities: kernel modules, keyrings, clocks, kexec, tracing other
/// processes, new namespaces, mounts. docker's profile is an allowlist; this
/// denylist refuses the same dangerous set while the rest stays allowed, so
/// a new kernel's syscall is not refused by a profile older than it.
const SECCOMP_DENIED: &[&str] = &[
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "create_module",
    "delete_module",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_kernel_syms",
    "get_mempolicy",
    "init_module",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mbind",
    "mount",
    "mount_setattr",
    "move_mount",
    "move_pages",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "query_module",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "set_mempolicy",
    "setns",
    "settimeofday",
    "stime",
    "swapoff",
    "swapon",
    "sysfs",
    "_sysctl",
    "umount",
    "umount2",
    "unshare",
    "uselib",
    "userfaultfd",
    "ustat",
    "vm86",
    "vm86old",
];

/// CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME.
const CLONE_NS_FLAGS: &[u64] = &[
    0x0002_0000,
    0x0200_0000,
    0x0400_0000,
    0x0800_0000,
    0x1000_0000,
    0x2000_0000,
    0x4000_0000,
    0x0000_0080,
];

/// Syscalls docker's profile allows once a capability is added, as its
/// `includes.caps` blocks do.
const SECCOMP_BY_CAP: &[(&str, &[&str])] = &[
    (
        "CAP_SYS_ADMIN",
        &[
            "bpf",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "mount",
            "mount_setattr",
            "move_mount",
            "name_to_handle_at",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ],
    ),
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYS_CHROOT", &["pivot_root"]),
    (
        "CAP_SYS_MODULE",
        &["delete_module", "init_module", "finit_module"],
    ),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_PTRACE",
        &["kcmp", "process_vm_readv", "process_vm_writev", "ptrace"],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    (
        "CAP_SYS_TIME",
        &["settimeofday", "stime", "clock_settime", "clock_adjtime"],
    ),
    (
        "CAP_SYS_NICE",
        &["get_mempolicy", "mbind", "set_mempolicy", "move_pages"],
    ),
    ("CAP_DAC_READ_SEARCH", &["open_by_handle_at"]),
    ("CAP_BPF", &["bpf"]),
    ("CAP_PERFMON", &["perf_event_open"]),
];

/// The default seccomp profile for a process holding `caps`
/// (`--security-opt seccomp=unconfined` turns it off).
pub fn default_seccomp(caps: &[String]) -> Value {
    let allowed: Vec<&str> = SECCOMP_BY_CAP
        .iter()
        .filter(|(cap, _)| caps.iter().any(|c| c == cap))
        .flat_map(|(_, names)| names.iter().copied())
        .collect();
    let denied: Vec<&str> = SECCOMP_DENIED
        .iter()
        .copied()
        .filter(|n| !allowed.contains(n))
        .collect();
    let mut syscalls = vec![json!({"names": denied, "action": "SCMP_ACT_ERRNO"})];
    // With CAP_SYS_ADMIN docker allows clone with namespace flags too.
    let ns_flags: &[u64] = if allowed.contains(&"unshare") {
        &[]
    } else {
        CLONE_NS_FLAGS
    };
    // clone with any namespace flag is refused (one rule per flag: a rule's
    // conditions are ANDed, separate rules ORed).
    for flag in ns_flags {
        syscalls.push(json!({
            "names": ["clone"],
            "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": flag, "valueTwo": flag, "op": "SCMP_CMP_MASKED_EQ"}],
        }));
    }
    // clone3 passes its flags in memory seccomp cannot read: ENOSYS makes
    // libcs fall back to clone, which the rules above can check (docker's rule).
    syscalls
        .push(json!({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS}));
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": syscalls,
    })
}

/// The process environment: the record's Env with PATH guaranteed and
/// HOSTNAME added, as docker does (neither shows in Config.Env unless set).
pub fn process_env(c: &Container) -> Vec<String> {
    let mut env = Vec::new();
    if !c.config.env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(format!("PATH={DEFAULT_PATH}"));
    }
    env.push(format!("HOSTNAME={}", c.config.hostname));
    if c.config.tty && !c.config.env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    env.extend(c.config.env.iter().cloned());
    env
}

/// The full spec. `rootfs` is the mounted overlay; `files` is the container
/// dir holding the hostname/hosts/resolv.conf files bind-mounted over /etc.
pub fn build(c: &Container, rootfs: &Path, files: &Path) -> Result<Value> {
    let (uid, gid, extra_gids) = resolve_user(c, rootfs)?;
    let caps = capabilities(
        &c.host_config.cap_add,
        &c.host_config.cap_drop,
        bounding_set(),
    );
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
               "options": ["nosuid", "noexec", "nodev", "ro"]}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
               "options": ["ro", "nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
               "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]}),
    ];
    for f in ["resolv.conf", "hostname", "hosts"] {
        mounts.push(json!({
            "destination": format!("/etc/{f}"),
            "type": "bind",
            "source": files.join(f),
            "options": ["rbind", "rprivate"],
        }));
    }
    for b in &c.host_config.binds {
        let parts: Vec<&str> = b.split(':').collect();
        if let [host, ctr, rest @ ..] = parts.as_slice() {
            let mut options = vec!["rbind", "rprivate"];
            if rest.first() == Some(&"ro") {
                options.push("ro");
            }
            mounts.push(json!({
                "destination": ctr, "type": "bind", "source": host, "options": options,
            }));
        }
    }
    let mut namespaces = vec![
        json!({"type": "mount"}),
        json!({"type": "uts"}),
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
    ];
    if c.host_config.network_mode != "host" {
        namespaces.push(json!({"type": "network"}));
    }
    let mut resources = json!({"devices": device_rules()});
    if c.host_config.memory > 0 {
        resources["memory"] = json!({"limit": c.host_config.memory});
    }
    if let Some(p) = c.host_config.pids_limit.filter(|p| *p > 0) {
        resources["pids"] = json!({"limit": p});
    }
    if c.host_config.nano_cpus > 0 || c.host_config.cpu_shares > 0 {
        let mut cpu = json!({});
        if c.host_config.cpu_shares > 0 {
            cpu["shares"] = json!(c.host_config.cpu_shares);
        }
        if c.host_config.nano_cpus > 0 {
            let period: i64 = 100_000;
            cpu["period"] = json!(period);
            cpu["quota"] = json!(c.host_config.nano_cpus * period / 1_000_000_000);
        }
        resources["cpu"] = cpu;
    }
    let cwd = if c.config.working_dir.is_empty() {
        "/".to_string()
    } else {
        c.config.working_dir.clone()
    };
    let args: Vec<&str> = std::iter::once(c.path.as_str())
        .chain(c.args.iter().map(String::as_str))
        .collect();
    let mut spec = json!({
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": c.config.tty,
            "user": {"uid": uid, "gid": gid, "additionalGids": extra_gids},
            "args": args,
            "env": process_env(c),
            "cwd": cwd,
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "oomScoreAdj": 0,
        },
        "root": {"path": rootfs, "readonly": c.host_config.readonly_rootfs},
        "hostname": c.config.hostname,
        "mounts": mounts,
        "linux": {
            "resources": resources,
            "cgroupsPath": format!("/husk/{}", c.id),
            "namespaces": namespaces,
            "maskedPaths": MASKED,
            "readonlyPaths": READONLY,
        },
    });
    if c.host_config.seccomp {
        spec["linux"]["seccomp"] = default_seccomp(&caps);
    }
    if c.host_config.init {
        super::init::apply(&mut spec, &super::init::binary()?);
    }
    Ok(spec)
}

/// docker's device cgroup: deny all, allow mknod of anything, then the
/// standard character devices.
fn device_rules() -> Value {
    let c = |major: i64, minor: Option<i64>| json!({"allow": true, "type": "c", "major": major, "minor": minor, "access": "rwm"});
    json!([
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "access": "m"},
        {"allow": true, "type": "b", "access": "m"},
        c(1, Some(3)),
        c(1, Some(5)),
        c(1, Some(7)),
        c(1, Some(8)),
        c(1, Some(9)),
        c(5, Some(0)),
        c(5, Some(1)),
        c(5, Some(2)),
        c(136, None),
        c(10, Some(200)),
    ])
}

/// `uid[:gid]` numerically, or user/group names looked up in the image's
/// /etc/passwd and /etc/group (opened inside the rootfs, never by joining
/// paths: the image may hold hostile symlinks).
fn resolve_user(c: &Container, rootfs: &Path) -> Result<(u32, u32, Vec<u32>)> {
    let spec = c.config.user.as_str();
    if spec.is_empty() {
        return Ok((0, 0, Vec::new()));
    }
    let bad = |reason: String| Error::User {
        id: c.id.clone(),
        user: spec.to_string(),
        reason,
    };
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let root: OwnedFd = std::fs::File::open(rootfs)
        .map_err(|e| Error::io("open", rootfs, e))?
        .into();
    let read = |p: &str| -> String {
        husk_fs::open_in_root(&root, Path::new(p), OFlag::O_RDONLY)
            .ok()
            .and_then(|fd| {
                let mut s = String::new();
                std::fs::File::from(fd).read_to_string(&mut s).ok()?;
                Some(s)
            })
            .unwrap_or_default()
    };
    let passwd = read("/etc/passwd");
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 4 && (f[0] == user || f[2] == user));
    let (uid, mut gid) = match (user.parse::<u32>(), &entry) {
        (Ok(uid), Some(f)) => (uid, f[3].parse().unwrap_or(uid)),
        (Ok(uid), None) => (uid, 0),
        (Err(_), Some(f)) => (
            f[2].parse()
                .map_err(|_| bad("bad /etc/passwd entry".into()))?,
            f[3].parse()
                .map_err(|_| bad("bad /etc/passwd entry".into()))?,
        ),
        (Err(_), None) => {
            return Err(bad(format!(
                "unable to find user {user}: no matching entries in passwd file"
            )))
        }
    };
    let groups = read("/etc/group");
    if let Some(g) = group {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => groups
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() >= 3 && f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| bad(format!("unable to find group {g}")))?,
        };
    }
    // Supplementary groups that list the user by name, as docker adds them.
    let name = entry.as_ref().map(|f| f[0]).unwrap_or(user);
    let extra = groups
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 4 && f[3].split(',').any(|m| m == name))
        .filter_map(|f| f[2].parse::<u32>().ok())
        .filter(|g| *g != gid)
        .collect();
    Ok((uid, gid, extra))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::{ContainerConfig, HostConfig, State};

    fn container() -> Container {
        Container {
            id: "c0ffee".repeat(10) + "abcd",
            name: "web".into(),
            created: String::new(),
            path: "sh".into(),
            args: vec!["-c".into(), "true".into()],
            image_id: String::new(),
            lower_dirs: Vec::new(),
            config: ContainerConfig {
                hostname: "c0ffeec0ffee".into(),
                env: vec!["A=1".into()],
                ..Default::default()
            },
            host_config: HostConfig {
                memory: 419_430_400,
                pids_limit: Some(64),
                network_mode: "none".into(),
                ..Default::default()
            },
            state: State::created(),
            restart_count: 0,
        }
    }

    #[test]
    fn docker_defaults_and_limits() {
        let c = container();
        let s = build(&c, Path::new("/m"), Path::new("/d")).unwrap();
        assert_eq!(s["ociVersion"], "1.0.2-dev");
        assert_eq!(s["hostname"], "c0ffeec0ffee");
        assert_eq!(s["process"]["args"], json!(["sh", "-c", "true"]));
        assert_eq!(
            s["process"]["env"],
            json!([
                format!("PATH={DEFAULT_PATH}"),
                "HOSTNAME=c0ffeec0ffee",
                "A=1"
            ])
        );
        assert_eq!(s["process"]["cwd"], "/");
        assert_eq!(
            s["process"]["capabilities"]["bounding"]
                .as_array()
                .unwrap()
                .len(),
            14
        );
        assert_eq!(s["linux"]["cgroupsPath"], format!("/husk/{}", c.id));
        assert_eq!(s["linux"]["resources"]["memory"]["limit"], 419_430_400);
        assert_eq!(s["linux"]["resources"]["pids"]["limit"], 64);
        let ns: Vec<&str> = s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["mount", "uts", "pid", "ipc", "network"]);
        assert!(s["linux"]["maskedPaths"]
            .as_array()
            .unwrap()
            .contains(&json!("/proc/kcore")));
        let dests: Vec<&str> = s["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert!(s["linux"]["seccomp"].is_null());
        let mut c = c;
        c.host_config.seccomp = true;
        let s2 = build(&c, Path::new("/m"), Path::new("/d")).unwrap();
        assert_eq!(s2["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
        for d in [
            "/proc",
            "/dev",
            "/dev/pts",
            "/sys",
            "/sys/fs/cgroup",
            "/dev/mqueue",
            "/dev/shm",
            "/etc/hostname",
        ] {
            assert!(dests.contains(&d), "{d} missing from {dests:?}");
        }
    }

    #[test]
    fn cap_add_and_drop_follow_docker() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(capabilities(&[], &[], u64::MAX).len(), 14);
        assert_eq!(
            capabilities(&v(&["NET_ADMIN"]), &v(&["ALL"]), u64::MAX),
            ["CAP_NET_ADMIN"]
        );
        let c = capabilities(&[], &v(&["CHOWN", "KILL"]), u64::MAX);
        assert_eq!(c.len(), 12);
        assert!(!c.contains(&"CAP_KILL".to_string()));
        assert_eq!(
            capabilities(&v(&["ALL"]), &[], u64::MAX).len(),
            ALL_CAPS.len()
        );
        let prof = default_seccomp(&capabilities(&[], &[], u64::MAX));
        let denied = prof["syscalls"][0]["names"].as_array().unwrap();
        assert!(denied.contains(&json!("mount")) && denied.contains(&json!("ptrace")));
        let prof = default_seccomp(&capabilities(&v(&["SYS_ADMIN"]), &[], u64::MAX));
        let denied = prof["syscalls"][0]["names"].as_array().unwrap();
        assert!(!denied.contains(&json!("mount")) && denied.contains(&json!("ptrace")));
        // Without CAP_SYS_RESOURCE (24) in the bounding set, ALL leaves it out.
        let c = capabilities(&v(&["ALL"]), &[], !(1u64 << 24));
        assert!(!c.contains(&"CAP_SYS_RESOURCE".to_string()));
        assert_eq!(c.len(), ALL_CAPS.len() - 1);
    }

    #[test]
    fn host_network_shares_the_netns_and_users_resolve_in_the_rootfs() {
        let mut c = container();
        c.host_config.network_mode = "host".into();
        let rootfs = tempfile::tempdir().unwrap();
        std::fs::create_dir(rootfs.path().join("etc")).unwrap();
        std::fs::write(
            rootfs.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            rootfs.path().join("etc/group"),
            "root:x:0:\nwheel:x:10:user\nuser:x:1000:\n",
        )
        .unwrap();
        c.config.user = "user".into();
        let s = build(&c, rootfs.path(), Path::new("/d")).unwrap();
        assert!(!s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .contains(&json!({"type": "network"})));
        assert_eq!(
            s["process"]["user"],
            json!({"uid": 1000, "gid": 1000, "additionalGids": [10]})
        );
        c.config.user = "1000:wheel".into();
        let s = build(&c, rootfs.path(), Path::new("/d")).unwrap();
        assert_eq!(s["process"]["user"]["gid"], 10);
        c.config.user = "nobody".into();
        let err = build(&c, rootfs.path(), Path::new("/d")).unwrap_err();
        assert!(
            err.to_string().contains("unable to find user nobody"),
            "{err}"
        );
    }
}
