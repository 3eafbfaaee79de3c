//! The rest of docker's run flags (config/extra.rs) in the OCI spec:
//! namespace modes, devices and device rules, block I/O, CPU period,
//! quota and realtime runtime, OOM settings, sysctls, /dev/shm, extra
//! groups, domainname, annotations and the cgroup parent. [`apply`]
//! computes only; [`ExtraFacts::gather`] reads the host and the rootfs,
//! and [`join_namespaces`] the namespaces of another container.

use std::os::fd::OwnedFd;
use std::path::Path;

use serde_json::{json, Value};

use crate::config::devices::{self, DeviceMapping, Node, ThrottleDevice};
use crate::store::{Container, Paths};
use crate::{Error, Result};

/// What the flags need from the host and the rootfs at start.
#[derive(Debug, Clone, Default)]
pub struct ExtraFacts {
    /// `--device`s with their host nodes.
    pub devices: Vec<(DeviceMapping, Node)>,
    /// `--blkio-weight-device`: node and weight.
    pub weights: Vec<(Node, u16)>,
    /// Read bps, write bps, read iops, write iops: node and rate.
    pub throttles: [Vec<(Node, u64)>; 4],
    /// `--group-add` resolved in the rootfs's /etc/group.
    pub groups: Vec<u32>,
}

/// The container's cgroup path: `/husk/<id>`, or under `--cgroup-parent`.
pub fn cgroups_path(c: &Container) -> String {
    let parent = c.host_config.extra.cgroup_parent.as_str();
    if parent.is_empty() {
        format!("/husk/{}", c.id)
    } else {
        format!("{parent}/{}", c.id)
    }
}

fn gone(c: &Container, what: &str, path: &str, e: String) -> Error {
    Error::Conflict {
        id: c.id.clone(),
        reason: format!("{what} {path}: {e}"),
    }
}

impl ExtraFacts {
    /// Stats the devices the flags name and looks up `--group-add` names.
    pub fn gather(c: &Container, rootfs: &Path) -> Result<ExtraFacts> {
        let x = &c.host_config.extra;
        let mut f = ExtraFacts::default();
        for d in &x.devices {
            let host = Path::new(&d.path_on_host);
            if host.is_dir() {
                for (rel, n) in devices::nodes_under(host) {
                    let mut one = d.clone();
                    one.path_in_container = Path::new(&d.path_in_container)
                        .join(rel)
                        .to_string_lossy()
                        .into_owned();
                    f.devices.push((one, n));
                }
                continue;
            }
            let n = devices::node(host).map_err(|e| gone(c, "--device", &d.path_on_host, e))?;
            f.devices.push((d.clone(), n));
        }
        for w in &x.blkio_weight_device {
            let n = devices::node(Path::new(&w.path))
                .map_err(|e| gone(c, "--blkio-weight-device", &w.path, e))?;
            f.weights.push((n, w.weight));
        }
        let lists: [&Vec<ThrottleDevice>; 4] = [
            &x.blkio_device_read_bps,
            &x.blkio_device_write_bps,
            &x.blkio_device_read_iops,
            &x.blkio_device_write_iops,
        ];
        for (i, list) in lists.into_iter().enumerate() {
            for t in list {
                let n = devices::node(Path::new(&t.path))
                    .map_err(|e| gone(c, "block I/O throttle of", &t.path, e))?;
                f.throttles[i].push((n, t.rate));
            }
        }
        if !x.group_add.is_empty() {
            f.groups = resolve_groups(c, rootfs, &x.group_add)?;
        }
        Ok(f)
    }
}

/// `--group-add` entries as gids: numbers as they are, names from the
/// rootfs's /etc/group (read inside the rootfs, bounded, as -u's are).
fn resolve_groups(c: &Container, rootfs: &Path, names: &[String]) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    let mut group_file: Option<String> = None;
    for g in names {
        if let Ok(n) = g.parse::<u32>() {
            out.push(n);
            continue;
        }
        if group_file.is_none() {
            let root: OwnedFd = std::fs::File::open(rootfs)
                .map_err(|e| Error::io("open", rootfs, e))?
                .into();
            let data = husk_fs::read_file_in_root(
                &root,
                Path::new("/etc/group"),
                husk_fs::MAX_READ_IN_ROOT,
            )
            .map_err(|e| Error::Conflict {
                id: c.id.clone(),
                reason: format!("--group-add {g}: read /etc/group: {}", husk_fs::Chain(&e)),
            })?;
            group_file = Some(String::from_utf8_lossy(&data.unwrap_or_default()).into_owned());
        }
        let gid = group_file.as_deref().unwrap_or("").lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 3 && f[0] == g)
                .then(|| f[2].parse::<u32>().ok())
                .flatten()
        });
        match gid {
            Some(n) => out.push(n),
            None => {
                return Err(Error::Conflict {
                    id: c.id.clone(),
                    reason: format!(
                    "unable to find group {g}: no matching entries in the container's /etc/group"
                ),
                })
            }
        }
    }
    Ok(out)
}

fn remove_namespace(spec: &mut Value, kind: &str) {
    if let Some(ns) = spec["linux"]["namespaces"].as_array_mut() {
        ns.retain(|n| n["type"] != kind);
    }
}

fn set_namespace_path(spec: &mut Value, kind: &str, path: String) {
    if let Some(ns) = spec["linux"]["namespaces"].as_array_mut() {
        ns.retain(|n| n["type"] != kind);
        ns.push(json!({"type": kind, "path": path}));
    }
}

/// The default /dev/shm tmpfs (a user's own mount there is left alone).
fn default_shm(spec: &mut Value) -> Option<&mut Value> {
    spec["mounts"]
        .as_array_mut()?
        .iter_mut()
        .find(|m| m["destination"] == "/dev/shm" && m["source"] == "shm")
}

fn object<'a>(v: &'a mut Value, key: &str) -> &'a mut Value {
    if !v[key].is_object() {
        v[key] = json!({});
    }
    &mut v[key]
}

fn throttle_list(list: &[(Node, u64)]) -> Value {
    json!(list
        .iter()
        .map(|(n, r)| json!({"major": n.major, "minor": n.minor, "rate": r}))
        .collect::<Vec<_>>())
}

/// Applies the flags to `spec` (built by spec.rs for `c`).
pub fn apply(spec: &mut Value, c: &Container, f: &ExtraFacts) {
    let x = &c.host_config.extra;
    spec["linux"]["cgroupsPath"] = json!(cgroups_path(c));
    // Devices: the node in the container and the cgroup rule letting it in.
    for (d, n) in &f.devices {
        if !spec["linux"]["devices"].is_array() {
            spec["linux"]["devices"] = json!([]);
        }
        let kind = n.kind.to_string();
        if let Some(list) = spec["linux"]["devices"].as_array_mut() {
            list.push(json!({
                "path": d.path_in_container, "type": kind, "major": n.major,
                "minor": n.minor, "fileMode": n.mode, "uid": n.uid, "gid": n.gid,
            }));
        }
        if let Some(rules) = spec["linux"]["resources"]["devices"].as_array_mut() {
            rules.push(json!({"allow": true, "type": kind, "major": n.major,
                              "minor": n.minor, "access": d.cgroup_permissions}));
        }
    }
    for r in &x.device_cgroup_rules {
        if let (Ok(rule), Some(rules)) = (
            devices::parse_cgroup_rule(r),
            spec["linux"]["resources"]["devices"].as_array_mut(),
        ) {
            rules.push(rule);
        }
    }
    if let Some(gids) = spec["process"]["user"]["additionalGids"].as_array_mut() {
        for g in &f.groups {
            if !gids.contains(&json!(g)) {
                gids.push(json!(g));
            }
        }
    }
    if !x.sysctls.is_empty() {
        spec["linux"]["sysctl"] = json!(x.sysctls);
    }
    if x.shm_size > 0 {
        if let Some(m) = default_shm(spec) {
            if let Some(opts) = m["options"].as_array_mut() {
                opts.retain(|o| !o.as_str().is_some_and(|s| s.starts_with("size=")));
                opts.push(json!(format!("size={}", x.shm_size)));
            }
        }
    }
    match x.ipc_mode.as_str() {
        "host" => {
            remove_namespace(spec, "ipc");
            if let Some(m) = default_shm(spec) {
                *m = json!({"destination": "/dev/shm", "type": "bind", "source": "/dev/shm",
                            "options": ["rbind", "rprivate"]});
            }
        }
        "none" => {
            if let Some(mounts) = spec["mounts"].as_array_mut() {
                mounts.retain(|m| !(m["destination"] == "/dev/shm" && m["source"] == "shm"));
            }
        }
        _ => {}
    }
    if x.pid_mode == "host" {
        remove_namespace(spec, "pid");
    }
    if x.uts_mode == "host" {
        remove_namespace(spec, "uts");
        if let Some(o) = spec.as_object_mut() {
            o.remove("hostname");
        }
    } else if !x.domainname.is_empty() {
        spec["domainname"] = json!(x.domainname);
    }
    if x.cgroupns_mode == "private" {
        if let Some(ns) = spec["linux"]["namespaces"].as_array_mut() {
            ns.push(json!({"type": "cgroup"}));
        }
    }
    spec["process"]["oomScoreAdj"] = json!(x.oom_score_adj);
    let res = &mut spec["linux"]["resources"];
    if let Some(s) = x.memory_swappiness {
        object(res, "memory")["swappiness"] = json!(s);
    }
    if x.oom_kill_disable {
        object(res, "memory")["disableOOMKiller"] = json!(true);
    }
    if x.cpu_period > 0 {
        object(res, "cpu")["period"] = json!(x.cpu_period);
    }
    if x.cpu_quota != 0 {
        object(res, "cpu")["quota"] = json!(x.cpu_quota);
    }
    if x.cpu_rt_runtime > 0 {
        object(res, "cpu")["realtimeRuntime"] = json!(x.cpu_rt_runtime);
    }
    let mut blkio = json!({});
    if x.blkio_weight > 0 {
        blkio["weight"] = json!(x.blkio_weight);
    }
    if !f.weights.is_empty() {
        blkio["weightDevice"] = json!(f
            .weights
            .iter()
            .map(|(n, w)| json!({"major": n.major, "minor": n.minor, "weight": w}))
            .collect::<Vec<_>>());
    }
    for (i, key) in [
        "throttleReadBpsDevice",
        "throttleWriteBpsDevice",
        "throttleReadIOPSDevice",
        "throttleWriteIOPSDevice",
    ]
    .into_iter()
    .enumerate()
    {
        if !f.throttles[i].is_empty() {
            blkio[key] = throttle_list(&f.throttles[i]);
        }
    }
    if blkio.as_object().is_some_and(|o| !o.is_empty()) {
        res["blockIO"] = blkio;
    }
    if !x.annotations.is_empty() {
        spec["annotations"] = json!(x.annotations);
    }
}

/// The host-side /dev/shm of a `--ipc shareable` container (docker's
/// `mounts/shm`): a tmpfs in its bundle dir, which the containers that
/// join its IPC namespace bind too. The bundle's teardown unmounts it.
pub fn shm_path(paths: &Paths, id: &str) -> std::path::PathBuf {
    paths.bundle(id).join("shm")
}

/// Mounts [`shm_path`] for a shareable container (a fresh one: what a
/// killed run left is unmounted first).
pub fn prepare_shm(paths: &Paths, c: &Container) -> Result<()> {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    if c.host_config.extra.ipc_mode != "shareable" {
        return Ok(());
    }
    let p = shm_path(paths, &c.id);
    let _ = umount2(&p, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW);
    std::fs::create_dir_all(&p).map_err(|e| Error::io("create", &p, e))?;
    let size = match c.host_config.extra.shm_size {
        0 => 64 << 20,
        n => n,
    };
    let data = format!("mode=1777,size={size}");
    mount(
        Some("shm"),
        &p,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(data.as_str()),
    )
    .map_err(|e| Error::Conflict {
        id: c.id.clone(),
        reason: format!("mount the shareable /dev/shm on {}: {e}", p.display()),
    })
}

fn bind_shm(spec: &mut Value, source: &Path) {
    if let Some(m) = default_shm(spec) {
        *m = json!({"destination": "/dev/shm", "type": "bind", "source": source,
                    "options": ["rbind", "rprivate"]});
    }
}

/// `--pid container:X` and `--ipc container:X`: X's namespaces, from its
/// init's /proc entry; X must be running, and for IPC shareable (or on the
/// host's IPC namespace), as docker requires: its /dev/shm is shared too.
/// A shareable container's own /dev/shm is [`shm_path`].
pub fn join_namespaces(paths: &Paths, c: &Container, spec: &mut Value) -> Result<()> {
    let x = &c.host_config.extra;
    if x.ipc_mode == "shareable" {
        bind_shm(spec, &shm_path(paths, &c.id));
    }
    for (flag, mode, kind) in [("--pid", &x.pid_mode, "pid"), ("--ipc", &x.ipc_mode, "ipc")] {
        let Some(target) = mode.strip_prefix("container:") else {
            continue;
        };
        let t = paths.resolve(target)?;
        let refuse = |why: &str| Error::Conflict {
            id: c.id.clone(),
            reason: format!(
                "{flag} container:{}: cannot join the {kind} namespace of container {}: {why}",
                t.name, t.name
            ),
        };
        if !t.is_running() || t.state.pid <= 0 || !crate::store::container_alive(&t) {
            return Err(refuse("it is not running"));
        }
        if kind == "ipc" {
            match t.host_config.extra.ipc_mode.as_str() {
                "shareable" => bind_shm(spec, &shm_path(paths, &t.id)),
                "host" => bind_shm(spec, Path::new("/dev/shm")),
                _ => {
                    return Err(refuse(
                        "its IPC is not shareable: run it with --ipc shareable",
                    ))
                }
            }
        }
        set_namespace_path(spec, kind, format!("/proc/{}/ns/{kind}", t.state.pid));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ContainerConfig, HostConfig, State};

    fn container(x: crate::config::extra::HostExtras) -> Container {
        Container {
            id: "ab".repeat(32),
            name: "c".into(),
            created: String::new(),
            path: "sh".into(),
            args: Vec::new(),
            image_id: String::new(),
            lower_dirs: Vec::new(),
            config: ContainerConfig::default(),
            host_config: HostConfig {
                extra: x,
                ..Default::default()
            },
            state: State::created(),
            restart_count: 0,
            network: None,
        }
    }

    fn base() -> Value {
        json!({
            "process": {"user": {"uid": 0, "gid": 0, "additionalGids": []}, "oomScoreAdj": 0},
            "hostname": "h",
            "mounts": [{"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                        "options": ["nosuid", "size=67108864"]}],
            "linux": {"resources": {"devices": []}, "cgroupsPath": "/husk/x",
                      "namespaces": [{"type": "mount"}, {"type": "uts"}, {"type": "pid"}, {"type": "ipc"}]},
        })
    }

    #[test]
    fn flags_become_spec_fields() {
        let x = crate::config::extra::HostExtras {
            shm_size: 1 << 20,
            ipc_mode: "host".into(),
            pid_mode: "host".into(),
            uts_mode: "host".into(),
            cgroupns_mode: "private".into(),
            cgroup_parent: "/mine".into(),
            oom_score_adj: 300,
            memory_swappiness: Some(0),
            oom_kill_disable: true,
            cpu_period: 50_000,
            cpu_quota: 20_000,
            device_cgroup_rules: vec!["c 42:* rm".into()],
            ..Default::default()
        };
        let c = container(x);
        let mut s = base();
        let f = ExtraFacts {
            groups: vec![10, 0],
            throttles: [
                vec![(
                    Node {
                        kind: 'b',
                        major: 7,
                        minor: 0,
                        mode: 0,
                        uid: 0,
                        gid: 0,
                    },
                    1 << 20,
                )],
                Vec::new(),
                Vec::new(),
                Vec::new(),
            ],
            ..Default::default()
        };
        apply(&mut s, &c, &f);
        assert_eq!(s["linux"]["cgroupsPath"], format!("/mine/{}", c.id));
        let ns: Vec<&str> = s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["mount", "cgroup"]);
        assert!(s.get("hostname").is_none());
        assert_eq!(s["mounts"][0]["type"], "bind");
        assert_eq!(s["process"]["oomScoreAdj"], 300);
        assert_eq!(s["process"]["user"]["additionalGids"], json!([10, 0]));
        let r = &s["linux"]["resources"];
        assert_eq!(r["memory"]["swappiness"], 0);
        assert_eq!(r["memory"]["disableOOMKiller"], true);
        assert_eq!(r["cpu"]["quota"], 20_000);
        assert_eq!(r["devices"][0]["major"], 42);
        assert!(r["devices"][0]["minor"].is_null());
        assert_eq!(
            r["blockIO"]["throttleReadBpsDevice"],
            json!([{"major": 7, "minor": 0, "rate": 1 << 20}])
        );

        let c = container(crate::config::extra::HostExtras {
            shm_size: 1 << 20,
            domainname: "example.org".into(),
            ..Default::default()
        });
        let mut s = base();
        apply(&mut s, &c, &ExtraFacts::default());
        assert_eq!(
            s["mounts"][0]["options"],
            json!(["nosuid", format!("size={}", 1 << 20)])
        );
        assert_eq!(s["domainname"], "example.org");
        assert_eq!(s["linux"]["cgroupsPath"], format!("/husk/{}", c.id));
    }
}
