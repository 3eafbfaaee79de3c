//! The OCI runtime spec for a container, from its record: docker's defaults
//! (capabilities, mounts, masked paths, device rules) plus the record's
//! process and limits. Rebuilt on every start, since the bundle lives on
//! the volatile runroot.

use std::os::fd::OwnedFd;
use std::path::Path;

use serde_json::{json, Value};

use crate::config::caps::capabilities;
use crate::network::Sandbox;
use crate::store::Container;
use crate::{Error, Result};

/// crun 1.8 refuses ociVersion 1.1+; dockerd writes this one.
pub const OCI_VERSION: &str = "1.0.2-dev";

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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

pub(crate) const MASKED: &[&str] = &[
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

pub(crate) const READONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The default seccomp profile for a process holding `caps`: docker's
/// own (`--security-opt seccomp=unconfined` turns it off).
pub fn default_seccomp(caps: &[String]) -> Value {
    crate::config::seccomp_profile::default_for(caps)
}

/// Whether this host limits memory+swap: on cgroup v1 only with swap
/// accounting (`memory.memsw.*`); docker drops the swap limit otherwise.
pub(crate) fn swap_limit_supported() -> bool {
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

/// What the spec takes from the host and the container's rootfs rather
/// than from the record, read once by [`HostFacts::gather`] so that
/// [`spec`] computes only.
#[derive(Debug, Clone)]
pub struct HostFacts {
    /// The capability bounding set (bit n = capability n) `--cap-add ALL`
    /// and `--privileged` are limited to.
    pub bounding: u64,
    /// Whether the host limits memory+swap (cgroup v2, or v1 with swap accounting).
    pub swap_accounting: bool,
    /// `-u` resolved in the rootfs's /etc/passwd and /etc/group: uid, gid, groups.
    pub user: (u32, u32, Vec<u32>),
    /// The host's devices, given to `--privileged` containers.
    pub devices: Vec<Value>,
    /// What a `seccomp=FILE` profile is evaluated against.
    pub seccomp: crate::config::seccomp_profile::Host,
    /// The husk-init binary, for `--init`.
    pub init: Option<std::path::PathBuf>,
    /// What the rest of docker's run flags need (oci/extra.rs).
    pub extra: super::extra::ExtraFacts,
}

impl HostFacts {
    /// Reads them: /proc/self/status, cgroupfs, the rootfs's user files,
    /// /dev (only for `--privileged`), uname, the init binary (only for `--init`).
    pub fn gather(c: &Container, rootfs: &Path) -> Result<HostFacts> {
        Ok(HostFacts {
            bounding: bounding_set(),
            swap_accounting: swap_limit_supported(),
            user: resolve_user(c, rootfs)?,
            devices: if c.host_config.privileged {
                crate::config::resources::host_devices()
            } else {
                Vec::new()
            },
            seccomp: crate::config::seccomp_profile::Host::current(),
            init: if c.host_config.init {
                Some(super::init::binary()?)
            } else {
                None
            },
            extra: super::extra::ExtraFacts::gather(c, rootfs)?,
        })
    }
}

/// The full spec. `rootfs` is the mounted overlay; `files` is the container
/// dir holding the hostname/hosts/resolv.conf files bind-mounted over /etc.
/// `sandbox` says where the network namespace comes from (`connect`).
/// Reads the host's facts and fills new volumes from the image, then
/// computes the spec with [`spec`].
pub fn build(c: &Container, rootfs: &Path, files: &Path, sandbox: &Sandbox) -> Result<Value> {
    let facts = HostFacts::gather(c, rootfs)?;
    // Empty volumes get the image's content first, as docker fills them.
    crate::volumes::copy::populate(rootfs, &mount_points(c))?;
    spec(c, rootfs, files, sandbox, &facts)
}

/// The record's mount points; a record older than them, its `-v` binds.
fn mount_points(c: &Container) -> Vec<crate::config::mounts::MountPoint> {
    if c.host_config.mount_points.is_empty() {
        legacy_binds(c)
    } else {
        c.host_config.mount_points.clone()
    }
}

/// The spec for `c` on this host: computes only, touches nothing.
pub fn spec(
    c: &Container,
    rootfs: &Path,
    files: &Path,
    sandbox: &Sandbox,
    facts: &HostFacts,
) -> Result<Value> {
    let (uid, gid, extra_gids) = facts.user.clone();
    let privileged = c.host_config.privileged;
    let caps = if privileged {
        // docker: every capability, whatever --cap-add/--cap-drop say.
        capabilities(&["ALL".to_string()], &[], facts.bounding)
    } else {
        capabilities(
            &c.host_config.cap_add,
            &c.host_config.cap_drop,
            facts.bounding,
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
    let points = mount_points(c);
    // A user mount replaces a default one on the same path, as in docker.
    mounts.retain(|m| {
        !points
            .iter()
            .any(|p| m["destination"].as_str() == Some(p.destination.as_str()))
    });
    mounts.extend(crate::config::mounts::spec_mounts(&points));
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
    if c.host_config.memory_swap != 0 && facts.swap_accounting {
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
        spec["linux"]["devices"] = json!(facts.devices);
    }
    if !c.host_config.ulimits.is_empty() {
        let rl: Vec<Value> = c
            .host_config
            .ulimits
            .iter()
            .map(|u| {
                json!({
                    "type": u.oci_type(),
                    "hard": crate::config::resources::Ulimit::oci_value(u.hard),
                    "soft": crate::config::resources::Ulimit::oci_value(u.soft),
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
            Some(body) => crate::config::seccomp_profile::to_oci(
                body,
                "seccomp=PROFILE",
                &caps,
                &facts.seccomp,
            )?,
            None => Some(default_seccomp(&caps)),
        };
        if let Some(p) = profile {
            spec["linux"]["seccomp"] = p;
        }
    }
    super::extra::apply(&mut spec, c, &facts.extra);
    if let Some(init) = facts.init.as_deref().filter(|_| c.host_config.init) {
        super::init::apply(&mut spec, init);
    }
    Ok(spec)
}

/// Records written before `mount_points` existed: their `-v HOST:CTR`.
fn legacy_binds(c: &Container) -> Vec<crate::config::mounts::MountPoint> {
    let cwd = Path::new("/");
    c.host_config
        .binds
        .iter()
        .filter_map(|b| crate::config::mounts::parse_volume(b, cwd).ok())
        .filter(|m| m.kind == crate::config::mounts::MountType::Bind)
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
    use crate::config::caps::ALL_CAPS;
    use crate::store::{ContainerConfig, HostConfig, State};

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
        use crate::config::{mounts, resources};
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

    /// Facts of an imagined host, so the spec depends on nothing here.
    fn facts(user: (u32, u32, Vec<u32>)) -> HostFacts {
        HostFacts {
            bounding: u64::MAX,
            swap_accounting: true,
            user,
            devices: Vec::new(),
            seccomp: crate::config::seccomp_profile::Host {
                arch: "amd64",
                kernel: (6, 1),
            },
            init: None,
            extra: Default::default(),
        }
    }

    /// docker's flags through config::parse and config::decide into a
    /// record, and the record with host facts into the spec: no root, no
    /// disk, no kernel.
    #[test]
    fn flags_and_image_config_become_the_spec() {
        use crate::config::{decide, parse, CreateOptions, ImageDefaults};
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        // -m 400m --cpus 1.5 -u 1000:1000 -e A=B -v /h:/c:ro --cap-drop ALL
        // --read-only -p 8080:80 busybox
        let o = CreateOptions {
            image: "busybox".into(),
            memory: Some("400m".into()),
            cpus: Some(1.5),
            user: Some("1000:1000".into()),
            env: s(&["A=B"]),
            volumes: s(&["/h:/c:ro"]),
            cap_drop: s(&["ALL"]),
            read_only: true,
            publish: s(&["8080:80"]),
            ..Default::default()
        };
        let image = ImageDefaults {
            env: s(&["PATH=/bin", "A=image"]),
            cmd: s(&["sh"]),
            working_dir: Some("/srv".into()),
            user: Some("nobody".into()),
            ..Default::default()
        };
        let cwd = Path::new("/");
        let parsed = parse(&o, cwd).unwrap();
        let d = decide(
            &o,
            parsed,
            &image,
            cwd,
            &|_: &str| None,
            "none".into(),
            "/usr/bin/husk-runtime".into(),
        )
        .unwrap();
        assert_eq!(d.argv, ["sh"]);
        assert_eq!(d.config.user, "1000:1000", "-u wins over the image's USER");
        assert_eq!(
            d.config.env,
            ["PATH=/bin", "A=B"],
            "-e replaces the image's A"
        );
        assert_eq!(d.host_config.memory, 419_430_400);
        assert_eq!(d.host_config.memory_swap, 2 * 419_430_400);
        assert_eq!(d.host_config.nano_cpus, 1_500_000_000);
        assert_eq!(d.host_config.port_bindings, ["8080:80"]);
        let mut c = container();
        c.path = d.argv[0].clone();
        c.args = d.argv[1..].to_vec();
        c.config = d.config;
        c.config.hostname = "c0ffeec0ffee".into();
        c.host_config = d.host_config;
        let spec = spec(
            &c,
            Path::new("/rootfs"),
            Path::new("/files"),
            &Sandbox::New,
            &facts((1000, 1000, Vec::new())),
        )
        .unwrap();
        let r = &spec["linux"]["resources"];
        assert_eq!(r["memory"]["limit"], 419_430_400);
        assert_eq!(r["memory"]["swap"], 2 * 419_430_400);
        assert_eq!(r["cpu"]["period"], 100_000);
        assert_eq!(r["cpu"]["quota"], 150_000);
        let p = &spec["process"];
        assert_eq!(p["user"]["uid"], 1000);
        assert_eq!(p["user"]["gid"], 1000);
        assert_eq!(p["cwd"], "/srv");
        assert_eq!(p["args"], json!(["sh"]));
        let env: Vec<&str> = p["env"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(env.contains(&"A=B") && !env.contains(&"A=image"), "{env:?}");
        assert!(env.contains(&"HOSTNAME=c0ffeec0ffee"), "{env:?}");
        for set in ["bounding", "effective", "permitted"] {
            assert_eq!(p["capabilities"][set], json!([]), "--cap-drop ALL: {set}");
        }
        assert_eq!(spec["root"]["readonly"], true);
        assert_eq!(spec["root"]["path"], "/rootfs");
        let bind = spec["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["destination"] == "/c")
            .expect("the -v mount");
        assert_eq!(bind["source"], "/h");
        assert_eq!(bind["type"], "bind");
        let opts: Vec<&str> = bind["options"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(opts.contains(&"ro"), "{opts:?}");
        assert_eq!(spec["linux"]["cgroupsPath"], format!("/husk/{}", c.id));
        assert!(spec["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .contains(&json!({"type": "network"})));
        // No swap accounting on the host: no swap limit, as docker.
        let mut no_swap = facts((1000, 1000, Vec::new()));
        no_swap.swap_accounting = false;
        let spec2 = spec_of(&c, &no_swap);
        assert!(spec2["linux"]["resources"]["memory"].get("swap").is_none());
    }

    fn spec_of(c: &Container, f: &HostFacts) -> Value {
        spec(
            c,
            Path::new("/rootfs"),
            Path::new("/files"),
            &Sandbox::New,
            f,
        )
        .unwrap()
    }
}
