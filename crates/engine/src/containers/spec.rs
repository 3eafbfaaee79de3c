//! The OCI runtime spec for a container, from its record: docker's defaults
//! (capabilities, mounts, masked paths, device rules) plus the record's
//! process and limits. Rebuilt on every start, since the bundle lives on
//! the volatile runroot.

use std::os::fd::OwnedFd;
use std::path::Path;

use serde_json::{json, Value};

use super::Container;
use crate::network::Sandbox;
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

/// The default seccomp profile for a process holding `caps`: docker's
/// own (`--security-opt seccomp=unconfined` turns it off).
pub fn default_seccomp(caps: &[String]) -> Value {
    super::seccomp_profile::default_for(caps)
}

/// Whether this host limits memory+swap: on cgroup v1 only with swap
/// accounting (`memory.memsw.*`); docker drops the swap limit otherwise.
fn swap_limit_supported() -> bool {
    let v1 = Path::new("/sys/fs/cgroup/memory");
    !v1.is_dir() || v1.join("memory.memsw.limit_in_bytes").exists()
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
/// `sandbox` says where the network namespace comes from (`connect`).
pub fn build(c: &Container, rootfs: &Path, files: &Path, sandbox: &Sandbox) -> Result<Value> {
    let (uid, gid, extra_gids) = resolve_user(c, rootfs)?;
    let privileged = c.host_config.privileged;
    let caps = if privileged {
        // docker: every capability, whatever --cap-add/--cap-drop say.
        capabilities(&["ALL".to_string()], &[], bounding_set())
    } else {
        capabilities(
            &c.host_config.cap_add,
            &c.host_config.cap_drop,
            bounding_set(),
        )
    };
    // /sys and the cgroup tree are writable only under --privileged.
    let sys_mode = if privileged { "rw" } else { "ro" };
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
               "options": ["nosuid", "noexec", "nodev", sys_mode]}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
               "options": [sys_mode, "nosuid", "noexec", "nodev"]}),
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
    let points = if c.host_config.mount_points.is_empty() {
        legacy_binds(c)
    } else {
        c.host_config.mount_points.clone()
    };
    // Empty volumes get the image's content first, as docker fills them.
    super::volume_copy::populate(rootfs, &points)?;
    // A user mount replaces a default one on the same path, as in docker.
    mounts.retain(|m| {
        !points
            .iter()
            .any(|p| m["destination"].as_str() == Some(p.destination.as_str()))
    });
    mounts.extend(super::mounts::spec_mounts(&points));
    let mut namespaces = vec![
        json!({"type": "mount"}),
        json!({"type": "uts"}),
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
    ];
    match sandbox {
        Sandbox::Host => {}
        Sandbox::New => namespaces.push(json!({"type": "network"})),
        Sandbox::Join(path) => namespaces.push(json!({"type": "network", "path": path})),
    }
    let mut resources = json!({"devices": if privileged {
        json!([{"allow": true, "access": "rwm"}])
    } else {
        device_rules()
    }});
    if c.host_config.memory > 0 {
        resources["memory"] = json!({"limit": c.host_config.memory});
    }
    if c.host_config.memory_swap != 0 && swap_limit_supported() {
        resources["memory"]["swap"] = json!(c.host_config.memory_swap);
    }
    if c.host_config.memory_reservation > 0 {
        resources["memory"]["reservation"] = json!(c.host_config.memory_reservation);
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
    for (key, v) in [
        ("cpus", &c.host_config.cpuset_cpus),
        ("mems", &c.host_config.cpuset_mems),
    ] {
        if !v.is_empty() {
            if resources.get("cpu").is_none() {
                resources["cpu"] = json!({});
            }
            resources["cpu"][key] = json!(v);
        }
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
            "maskedPaths": if privileged { &[][..] } else { MASKED },
            "readonlyPaths": if privileged { &[][..] } else { READONLY },
        },
    });
    if privileged {
        spec["linux"]["devices"] = json!(super::resources::host_devices());
    }
    if !c.host_config.ulimits.is_empty() {
        let rl: Vec<Value> = c
            .host_config
            .ulimits
            .iter()
            .map(|u| {
                json!({
                    "type": u.oci_type(),
                    "hard": super::resources::Ulimit::oci_value(u.hard),
                    "soft": super::resources::Ulimit::oci_value(u.soft),
                })
            })
            .collect();
        spec["process"]["rlimits"] = json!(rl);
    }
    if c.host_config.no_new_privileges {
        spec["process"]["noNewPrivileges"] = json!(true);
    }
    // docker runs privileged containers without seccomp, whatever the flags.
    if c.host_config.seccomp && !privileged {
        let profile = match &c.host_config.seccomp_profile {
            Some(body) => super::seccomp_profile::to_oci(
                body,
                "seccomp=PROFILE",
                &caps,
                &super::seccomp_profile::Host::current(),
            )?,
            None => Some(default_seccomp(&caps)),
        };
        if let Some(p) = profile {
            spec["linux"]["seccomp"] = p;
        }
    }
    if c.host_config.init {
        super::init::apply(&mut spec, &super::init::binary()?);
    }
    Ok(spec)
}

/// Records written before `mount_points` existed: their `-v HOST:CTR`.
fn legacy_binds(c: &Container) -> Vec<super::mounts::MountPoint> {
    let cwd = Path::new("/");
    c.host_config
        .binds
        .iter()
        .filter_map(|b| super::mounts::parse_volume(b, cwd).ok())
        .filter(|m| m.kind == super::mounts::MountType::Bind)
        .collect()
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
    resolve_user_in(&c.id, &c.config.user, rootfs)
}

/// `user` (`name|uid[:group|gid]`, empty = root) of container `id`, looked
/// up in `rootfs`'s /etc/passwd and /etc/group: (uid, gid, extra gids).
pub fn resolve_user_in(id: &str, user: &str, rootfs: &Path) -> Result<(u32, u32, Vec<u32>)> {
    let spec = user;
    if spec.is_empty() {
        return Ok((0, 0, Vec::new()));
    }
    let bad = |reason: String| Error::User {
        id: id.to_string(),
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
    // Read on the host, so only a bounded regular file inside the rootfs:
    // a device there must not fill our memory, nor a fifo hang us.
    let read = |p: &str| -> Result<String> {
        match husk_fs::read_file_in_root(&root, Path::new(p), husk_fs::MAX_READ_IN_ROOT) {
            Ok(data) => Ok(String::from_utf8_lossy(&data.unwrap_or_default()).into_owned()),
            Err(e) => Err(bad(format!(
                "cannot look it up: {} (the container's /etc/passwd and /etc/group \
                 must be regular files of at most 1 MiB)",
                husk_fs::Chain(&e)
            ))),
        }
    };
    let passwd = read("/etc/passwd")?;
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
    let groups = read("/etc/group")?;
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
            network: None,
        }
    }

    #[test]
    fn docker_defaults_and_limits() {
        let c = container();
        let s = build(&c, Path::new("/m"), Path::new("/d"), &Sandbox::New).unwrap();
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
        let s2 = build(&c, Path::new("/m"), Path::new("/d"), &Sandbox::New).unwrap();
        let joined = build(
            &c,
            Path::new("/m"),
            Path::new("/d"),
            &Sandbox::Join("/run/husk/netns/x".into()),
        )
        .unwrap();
        assert!(joined["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .contains(&json!({"type": "network", "path": "/run/husk/netns/x"})));
        assert_eq!(s2["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
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
        let allowed = |p: &Value| -> Vec<Value> {
            p["syscalls"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["action"] == "SCMP_ACT_ALLOW")
                .flat_map(|s| s["names"].as_array().unwrap().clone())
                .collect()
        };
        let prof = default_seccomp(&capabilities(&[], &[], u64::MAX));
        assert!(!allowed(&prof).contains(&json!("mount")));
        assert!(!allowed(&prof).contains(&json!("kcmp")));
        let prof = default_seccomp(&capabilities(&v(&["SYS_ADMIN"]), &[], u64::MAX));
        assert!(allowed(&prof).contains(&json!("mount")));
        assert!(!allowed(&prof).contains(&json!("kcmp")));
        // Without CAP_SYS_RESOURCE (24) in the bounding set, ALL leaves it out.
        let c = capabilities(&v(&["ALL"]), &[], !(1u64 << 24));
        assert!(!c.contains(&"CAP_SYS_RESOURCE".to_string()));
        assert_eq!(c.len(), ALL_CAPS.len() - 1);
    }

    #[test]
    fn privileged_limits_mounts_and_security_options() {
        use crate::containers::{mounts, resources};
        let mut c = container();
        c.host_config.seccomp = true;
        c.host_config.privileged = true;
        c.host_config.memory_swap = 838_860_800;
        c.host_config.memory_reservation = 100 << 20;
        c.host_config.cpuset_cpus = "0".into();
        c.host_config.ulimits = vec![resources::parse_ulimit("nofile=1024:2048").unwrap()];
        c.host_config.no_new_privileges = true;
        c.host_config.mount_points = mounts::plan(
            Path::new("/"),
            &["/srv:/etc/hostname:ro".into()],
            &[],
            &[("/run".into(), "size=1m".into())],
            &[],
        )
        .unwrap();
        let s = build(&c, Path::new("/m"), Path::new("/d"), &Sandbox::New).unwrap();
        assert!(s["linux"]["seccomp"].is_null());
        assert_eq!(s["linux"]["maskedPaths"], json!([]));
        assert_eq!(s["linux"]["readonlyPaths"], json!([]));
        assert_eq!(
            s["linux"]["resources"]["devices"],
            json!([{"allow": true, "access": "rwm"}])
        );
        assert!(s["linux"]["devices"].is_array());
        let caps = s["process"]["capabilities"]["bounding"].as_array().unwrap();
        assert!(caps.contains(&json!("CAP_SYS_ADMIN")));
        let mem = &s["linux"]["resources"]["memory"];
        assert_eq!(mem["reservation"], 100 << 20);
        if swap_limit_supported() {
            assert_eq!(mem["swap"], 838_860_800);
        }
        assert_eq!(s["linux"]["resources"]["cpu"]["cpus"], "0");
        assert_eq!(
            s["process"]["rlimits"],
            json!([{"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1024}])
        );
        assert_eq!(s["process"]["noNewPrivileges"], true);
        let m = s["mounts"].as_array().unwrap();
        let sys = m.iter().find(|m| m["destination"] == "/sys").unwrap();
        assert!(sys["options"].as_array().unwrap().contains(&json!("rw")));
        // The user's bind replaced the default /etc/hostname.
        let host: Vec<_> = m
            .iter()
            .filter(|m| m["destination"] == "/etc/hostname")
            .collect();
        assert_eq!(host.len(), 1);
        assert_eq!(host[0]["source"], "/srv");
        assert_eq!(host[0]["options"], json!(["rbind", "rprivate", "ro"]));
        let run = m.iter().find(|m| m["destination"] == "/run").unwrap();
        assert_eq!(
            run["options"],
            json!(["noexec", "nosuid", "nodev", "rprivate", "size=1m"])
        );

        // A custom profile replaces the default one.
        c.host_config.privileged = false;
        c.host_config.seccomp_profile = Some(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#.into(),
        );
        let s = build(&c, Path::new("/m"), Path::new("/d"), &Sandbox::New).unwrap();
        assert_eq!(s["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
        assert_eq!(
            s["linux"]["seccomp"]["syscalls"][0]["names"],
            json!(["mkdir"])
        );
        let sys = s["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["destination"] == "/sys")
            .unwrap()
            .clone();
        assert!(sys["options"].as_array().unwrap().contains(&json!("ro")));
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
        let s = build(&c, rootfs.path(), Path::new("/d"), &Sandbox::Host).unwrap();
        assert!(!s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .contains(&json!({"type": "network"})));
        assert_eq!(
            s["process"]["user"],
            json!({"uid": 1000, "gid": 1000, "additionalGids": [10]})
        );
        c.config.user = "1000:wheel".into();
        let s = build(&c, rootfs.path(), Path::new("/d"), &Sandbox::Host).unwrap();
        assert_eq!(s["process"]["user"]["gid"], 10);
        c.config.user = "nobody".into();
        let err = build(&c, rootfs.path(), Path::new("/d"), &Sandbox::Host).unwrap_err();
        assert!(
            err.to_string().contains("unable to find user nobody"),
            "{err}"
        );
    }
}
