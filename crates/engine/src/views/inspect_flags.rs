//! inspect's keys for the rest of docker's run flags (config/extra.rs):
//! the values husk recorded, in the places docker's HostConfig and Config
//! keep them.

use serde_json::{json, Value};

use crate::store::Container;

fn or_null<T: serde::Serialize>(list: &[T]) -> Value {
    if list.is_empty() {
        Value::Null
    } else {
        json!(list)
    }
}

/// Replaces docker's defaults in `v` (an inspect value whose HostConfig
/// holds every docker key, in docker's order) with what `c` decided; the
/// omitempty keys (Sysctls, Annotations) go where docker puts them.
pub fn apply(v: &mut Value, c: &Container) {
    let x = &c.host_config.extra;
    let values = [
        ("ContainerIDFile", json!(x.container_id_file)),
        ("VolumesFrom", or_null(&x.volumes_from)),
        ("CgroupnsMode", json!(x.cgroupns_mode)),
        ("DnsOptions", json!(x.dns_options)),
        ("GroupAdd", or_null(&x.group_add)),
        ("IpcMode", json!(x.ipc_mode)),
        ("OomScoreAdj", json!(x.oom_score_adj)),
        ("PidMode", json!(x.pid_mode)),
        ("UTSMode", json!(x.uts_mode)),
        (
            "ShmSize",
            json!(if x.shm_size > 0 { x.shm_size } else { 64 << 20 }),
        ),
        ("CgroupParent", json!(x.cgroup_parent)),
        ("BlkioWeight", json!(x.blkio_weight)),
        ("BlkioWeightDevice", json!(x.blkio_weight_device)),
        ("BlkioDeviceReadBps", json!(x.blkio_device_read_bps)),
        ("BlkioDeviceWriteBps", json!(x.blkio_device_write_bps)),
        ("BlkioDeviceReadIOps", json!(x.blkio_device_read_iops)),
        ("BlkioDeviceWriteIOps", json!(x.blkio_device_write_iops)),
        ("CpuPeriod", json!(x.cpu_period)),
        ("CpuQuota", json!(x.cpu_quota)),
        ("CpuRealtimeRuntime", json!(x.cpu_rt_runtime)),
        ("Devices", json!(x.devices)),
        ("DeviceCgroupRules", or_null(&x.device_cgroup_rules)),
        ("MemorySwappiness", json!(x.memory_swappiness)),
        ("OomKillDisable", json!(x.oom_kill_disable)),
    ];
    // A record made before these flags existed keeps docker's defaults
    // (ipc_mode and cgroupns_mode are always set by create).
    if !x.ipc_mode.is_empty() {
        if let Some(hc) = v["HostConfig"].as_object_mut() {
            let mut out = serde_json::Map::new();
            for (k, old) in std::mem::take(hc) {
                let new = values
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map_or(old, |(_, v)| v.clone());
                out.insert(k.clone(), new);
                if k == "ShmSize" && !x.sysctls.is_empty() {
                    out.insert("Sysctls".into(), json!(x.sysctls));
                }
            }
            if !x.annotations.is_empty() {
                out.insert("Annotations".into(), json!(x.annotations));
            }
            *hc = out;
        }
    }
    let cfg = &mut v["Config"];
    cfg["Domainname"] = json!(x.domainname);
    for (key, stream) in [
        ("AttachStdin", "stdin"),
        ("AttachStdout", "stdout"),
        ("AttachStderr", "stderr"),
    ] {
        if !x.attach.is_empty() {
            cfg[key] = json!(x.attach.iter().any(|a| a == stream));
        }
    }
}
