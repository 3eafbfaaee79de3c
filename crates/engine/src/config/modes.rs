//! The namespace and cgroup placement flags with docker's values:
//! `--ipc`, `--pid`, `--uts`, `--cgroupns`, `--cgroup-parent`, `--sysctl`
//! (only what lives in a namespace the container owns), `--cpu-rt-runtime`.
//! `container:NAME` is checked for form here; the engine resolves NAME.

use super::extra::flag_err;
use crate::Result;

/// `--ipc`: docker's default is `private`.
pub fn ipc(v: Option<&str>) -> Result<String> {
    match v.unwrap_or("") {
        "" => Ok("private".into()),
        m @ ("none" | "private" | "shareable" | "host") => Ok(m.into()),
        m if m.strip_prefix("container:").is_some_and(|n| !n.is_empty()) => Ok(m.into()),
        m => Err(flag_err(
            "--ipc",
            m,
            "use none, private, shareable, host or container:NAME",
        )),
    }
}

/// `--pid`: `""` is the container's own namespace.
pub fn pid(v: Option<&str>) -> Result<String> {
    match v.unwrap_or("") {
        m @ ("" | "host") => Ok(m.into()),
        m if m.strip_prefix("container:").is_some_and(|n| !n.is_empty()) => Ok(m.into()),
        m => Err(flag_err("--pid", m, "use host or container:NAME")),
    }
}

/// `--uts`: `""` is the container's own namespace.
pub fn uts(v: Option<&str>) -> Result<String> {
    match v.unwrap_or("") {
        m @ ("" | "host") => Ok(m.into()),
        m => Err(flag_err("--uts", m, "use host")),
    }
}

/// `--cgroupns`: `host` unless asked (docker's default on cgroup v1; on
/// v2 docker's is `private`, which husk has not been tried with as a
/// default, so it stays opt-in there).
pub fn cgroupns(v: Option<&str>) -> Result<String> {
    match v.unwrap_or("") {
        "" => Ok("host".into()),
        m @ ("host" | "private") => Ok(m.into()),
        m => Err(flag_err("--cgroupns", m, "use host or private")),
    }
}

/// `--cgroup-parent foo/bar` → `/foo/bar`: a path in every hierarchy
/// that cannot climb out of it.
pub fn cgroup_parent(v: &str) -> Result<String> {
    let bad = |reason: &str| flag_err("--cgroup-parent", v, reason);
    let trimmed = v.trim_matches('/');
    if trimmed.is_empty() {
        return Err(bad("give a cgroup path, e.g. /mygroup"));
    }
    for part in trimmed.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(bad("no empty, . or .. parts"));
        }
        if !part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c))
        {
            return Err(bad("use letters, digits and - _ . : @ in each part"));
        }
    }
    if trimmed.ends_with(".slice") {
        return Err(bad(
            "a systemd slice needs the systemd cgroup driver; husk uses cgroupfs paths",
        ));
    }
    Ok(format!("/{trimmed}"))
}

/// docker's namespaced sysctls (opts.ValidateSysctl), refused where the
/// namespace is the host's (`--network host`, `--ipc host`, `--uts host`).
pub fn sysctl(
    s: &str,
    network_mode: Option<&str>,
    ipc_mode: &str,
    uts_mode: &str,
) -> Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| flag_err("--sysctl", s, "use KEY=VALUE, e.g. net.ipv4.ip_forward=1"))?;
    if v.contains('\n') {
        return Err(flag_err("--sysctl", s, "the value must be one line"));
    }
    let shared = |what: &str| {
        flag_err(
            "--sysctl",
            s,
            format!("{k} cannot be set with the host's {what} namespace: it would change the host"),
        )
    };
    match husk_spec::sysctl_namespace(k) {
        Some("ipc") => {
            if ipc_mode == "host" || ipc_mode.starts_with("container:") {
                return Err(shared("IPC"));
            }
        }
        Some("network") => {
            if network_mode.is_some_and(|m| m == "host" || m.starts_with("container:")) {
                return Err(shared("network"));
            }
        }
        // docker takes the hostname from --hostname only.
        Some("uts") if k == "kernel.domainname" => {
            if uts_mode == "host" {
                return Err(shared("UTS"));
            }
        }
        _ => {
            return Err(flag_err(
                "--sysctl",
                s,
                format!("{k} is not a namespaced sysctl: only kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.* and kernel.domainname"),
            ));
        }
    }
    Ok((k.to_string(), v.to_string()))
}

/// `--cpu-rt-runtime` microseconds: needs the v1 cpu controller's
/// realtime files, and fits in the root's budget.
pub fn cpu_rt_runtime(v: i64) -> Result<i64> {
    let root = std::path::Path::new("/sys/fs/cgroup/cpu/cpu.rt_runtime_us");
    let budget = std::fs::read_to_string(root)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .ok_or_else(|| {
            flag_err(
                "--cpu-rt-runtime",
                &v.to_string(),
                "this host's cpu cgroup has no realtime files (cgroup v2, or a kernel without CONFIG_RT_GROUP_SCHED)",
            )
        })?;
    if v < 0 || v > budget {
        return Err(flag_err(
            "--cpu-rt-runtime",
            &v.to_string(),
            format!("use 0 to {budget} microseconds: the host's realtime budget per period"),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_sysctls() {
        assert_eq!(ipc(None).unwrap(), "private");
        assert_eq!(ipc(Some("container:web")).unwrap(), "container:web");
        assert!(ipc(Some("container:")).is_err());
        assert!(ipc(Some("bogus")).is_err());
        assert_eq!(pid(Some("host")).unwrap(), "host");
        assert!(pid(Some("private")).is_err());
        assert!(uts(Some("container:x")).is_err());
        assert!(cgroupns(Some("x")).is_err());
        assert_eq!(cgroup_parent("a/b").unwrap(), "/a/b");
        assert_eq!(cgroup_parent("/a/").unwrap(), "/a");
        for bad in ["/", "a/../b", "a//b", "a b", "x.slice"] {
            assert!(cgroup_parent(bad).is_err(), "{bad}");
        }
        assert_eq!(
            sysctl("net.ipv4.ip_forward=1", None, "private", "").unwrap(),
            ("net.ipv4.ip_forward".to_string(), "1".to_string())
        );
        assert!(sysctl("kernel.shmmax=1", None, "private", "").is_ok());
        assert!(sysctl("fs.mqueue.msg_max=20", None, "private", "").is_ok());
        for (s, net, ipc) in [
            ("kernel.panic=1", None, "private"),
            ("vm.swappiness=1", None, "private"),
            ("net.ipv4.ip_forward=1", Some("host"), "private"),
            ("kernel.shmmax=1", None, "host"),
            ("noequals", None, "private"),
        ] {
            let e = sysctl(s, net, ipc, "").unwrap_err().to_string();
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }
}
