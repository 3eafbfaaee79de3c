/// The config.json `husk-runtime spec` writes: runc's default (`sh`, a
/// terminal, the default capability set, masked and read-only paths).
pub fn default_spec() -> serde_json::Value {
    serde_json::json!({
        "ociVersion": "1.2.0",
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}
            ],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// runc's `spec --rootless`: a user namespace mapping the caller, no network
/// namespace, and sysfs bound rather than mounted.
pub fn rootless_spec(uid: u32, gid: u32) -> serde_json::Value {
    let mut v = default_spec();
    v["linux"]["namespaces"] = serde_json::json!([
        {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}, {"type": "user"}
    ]);
    v["linux"]["uidMappings"] = serde_json::json!([{"containerID": 0, "hostID": uid, "size": 1}]);
    v["linux"]["gidMappings"] = serde_json::json!([{"containerID": 0, "hostID": gid, "size": 1}]);
    v["linux"]["resources"] = serde_json::json!({});
    if let Some(mounts) = v["mounts"].as_array_mut() {
        mounts.retain(|m| m["destination"] != "/sys/fs/cgroup");
        for m in mounts.iter_mut() {
            // Ids other than the user's own are not mapped (devpts' gid=5).
            if let Some(opts) = m["options"].as_array_mut() {
                opts.retain(|o| {
                    !o.as_str()
                        .is_some_and(|o| o.starts_with("gid=") || o.starts_with("uid="))
                });
            }
            if m["destination"] == "/sys" {
                *m = serde_json::json!({"destination": "/sys", "type": "none", "source": "/sys",
                    "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::Spec;

    /// Both defaults must parse as the spec types the runtime uses.
    fn check_parses(v: &serde_json::Value) -> bool {
        serde_json::from_value::<Spec>(v.clone()).is_ok()
    }

    #[test]
    fn defaults_parse() {
        assert!(check_parses(&default_spec()));
        assert!(check_parses(&rootless_spec(1000, 1000)));
    }

    #[test]
    fn rootless_mounts_name_no_unmapped_id() {
        let v = rootless_spec(1000, 1000);
        let text = v["mounts"].to_string();
        assert!(!text.contains("gid=") && !text.contains("uid="), "{text}");
    }
}
