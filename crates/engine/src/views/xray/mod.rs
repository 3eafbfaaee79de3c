//! `husk x-ray CONTAINER`: the container as the kernel sees it. Everything
//! here is read from the kernel's own files (/proc/PID/*, the cgroup files,
//! mountinfo, /sys/class/net, nftables), never from what the record says
//! should be there: the point is to show that a container is a process
//! with a few attributes, and where each one lives.

mod cgroup;
mod net;
pub mod render;
mod rootfs;

use serde::Serialize;

use super::procfs;
use crate::config::caps::ALL_CAPS;
use crate::lifecycle::reconcile;
use crate::store::Paths;
use crate::{Error, Result};

pub use cgroup::{CgroupDir, CgroupFile};
pub use net::Network;
pub use rootfs::{Layer, Rootfs};

#[derive(Debug, Clone, Serialize)]
pub struct XRay {
    pub id: String,
    pub name: String,
    pub status: String,
    pub init: Process,
    /// From the init up to the monitor that supervises it.
    pub ancestry: Vec<Process>,
    /// Every process of the container, host PID order.
    pub processes: Vec<Process>,
    pub namespaces: Vec<Namespace>,
    pub cgroups: Vec<CgroupDir>,
    /// The limits in force and current usage, file by file.
    pub resources: Vec<CgroupFile>,
    pub rootfs: Rootfs,
    pub network: Option<Network>,
    pub security: Security,
    /// Ready to paste into a host shell.
    pub commands: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Process {
    pub host_pid: i32,
    /// The pid in the container's pid namespace (None: outside it).
    pub pid: Option<i32>,
    pub ppid: i32,
    pub command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Namespace {
    /// `/proc/PID/ns/<kind>`: cgroup, ipc, mnt, net, pid, time, user, uts.
    pub kind: String,
    pub inode: u64,
    /// The same namespace kind of the `husk` that looks (the host's).
    pub host_inode: u64,
    pub shared_with_host: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Security {
    /// Real, effective, saved, filesystem (`Uid:` of /proc/PID/status).
    pub uid: String,
    pub gid: String,
    pub groups: String,
    /// `/proc/PID/uid_map` and `gid_map`, lines joined by "; ".
    pub uid_map: String,
    pub gid_map: String,
    pub cap_effective: Vec<String>,
    pub cap_bounding: Vec<String>,
    /// disabled, strict or filter (`Seccomp:` 0, 1, 2).
    pub seccomp: String,
    pub seccomp_filters: u32,
    pub no_new_privs: bool,
}

const NAMESPACES: &[&str] = &["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

pub fn xray(paths: &Paths, name: &str) -> Result<XRay> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    let pid = c.state.pid;
    let not_running = || Error::Conflict {
        id: c.name.clone(),
        reason: format!(
            "is not running, so no process to look at: husk why {} says why it stopped",
            c.name
        ),
    };
    if !c.is_running() || !crate::proc::alive(pid, c.state.pid_start) {
        return Err(not_running());
    }
    let status = procfs::status(pid).ok_or_else(not_running)?;
    let init = process(pid).ok_or_else(not_running)?;
    let cgroups = cgroup::dirs(pid);
    let resources = cgroup::files(&cgroups);
    let processes = cgroup::procs(&cgroups)
        .into_iter()
        .filter_map(process)
        .collect();
    let mut commands = vec![format!(
        "nsenter --target {pid} --mount --uts --ipc --net --pid"
    )];
    if let Some(f) = resources
        .iter()
        .find(|f| f.limit && f.controller == "memory")
    {
        commands.push(format!("cat {}", f.file.display()));
    }
    Ok(XRay {
        id: c.id.clone(),
        name: c.name.clone(),
        status: c.state.status.as_str().to_string(),
        ancestry: ancestry(pid, c.state.monitor_pid),
        init,
        processes,
        namespaces: namespaces(pid),
        cgroups,
        resources,
        rootfs: rootfs::rootfs(paths, &c),
        network: net::network(paths, &c),
        security: security(pid, &status),
        commands,
    })
}

fn process(pid: i32) -> Option<Process> {
    let stat = husk_fs::ProcStat::of(pid)?;
    let status = procfs::status(pid)?;
    Some(Process {
        host_pid: pid,
        pid: procfs::pid_inside(&status),
        ppid: stat.ppid,
        command: procfs::cmdline(pid),
    })
}

/// The init, its parent, ... up to and including the monitor (or the
/// host's PID 1 if the monitor is not an ancestor, as after a crash).
fn ancestry(init: i32, monitor: i32) -> Vec<Process> {
    let mut out = Vec::new();
    let mut pid = init;
    while let Some(p) = process(pid) {
        let next = p.ppid;
        out.push(p);
        if pid == monitor || pid <= 1 || next <= 0 || out.len() > 32 {
            break;
        }
        pid = next;
    }
    out
}

fn namespaces(pid: i32) -> Vec<Namespace> {
    NAMESPACES
        .iter()
        .filter_map(|kind| {
            let inode = procfs::ns_inode(pid, kind)?;
            // /proc/1/ns is not always readable (a sandboxed host); husk's
            // own namespaces are the host's it runs in.
            let host_inode = procfs::ns_inode(std::process::id() as i32, kind).unwrap_or(0);
            Some(Namespace {
                kind: kind.to_string(),
                inode,
                host_inode,
                shared_with_host: inode == host_inode,
            })
        })
        .collect()
}

fn security(pid: i32, status: &[(String, String)]) -> Security {
    let f = |k: &str| procfs::field(status, k).unwrap_or("").to_string();
    let map = |file: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/{file}"))
            .map(|s| {
                s.lines()
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    };
    let seccomp = match f("Seccomp").as_str() {
        "0" => "disabled",
        "1" => "strict",
        "2" => "filter",
        _ => "unknown",
    };
    Security {
        uid: f("Uid").split_whitespace().collect::<Vec<_>>().join(" "),
        gid: f("Gid").split_whitespace().collect::<Vec<_>>().join(" "),
        groups: f("Groups"),
        uid_map: map("uid_map"),
        gid_map: map("gid_map"),
        cap_effective: cap_names(&f("CapEff")),
        cap_bounding: cap_names(&f("CapBnd")),
        seccomp: seccomp.to_string(),
        seccomp_filters: f("Seccomp_filters").parse().unwrap_or(0),
        no_new_privs: f("NoNewPrivs") == "1",
    }
}

/// A capability mask (`00000000a80425fb`) as names, number order; a bit
/// past the names this build knows shows as `CAP_<n>`.
pub fn cap_names(hex: &str) -> Vec<String> {
    let Ok(mask) = u64::from_str_radix(hex.trim(), 16) else {
        return Vec::new();
    };
    (0..64)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| {
            ALL_CAPS
                .get(bit as usize)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("CAP_{bit}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn docker_default_capabilities_decode_to_their_names() {
        // runc's default set as /proc shows it in a docker container.
        let caps = super::cap_names("00000000a80425fb");
        assert_eq!(caps.len(), 14);
        assert!(caps.contains(&"CAP_CHOWN".to_string()));
        assert!(caps.contains(&"CAP_AUDIT_WRITE".to_string()));
        assert!(!caps.contains(&"CAP_SYS_ADMIN".to_string()));
        assert_eq!(super::cap_names("0000000000000000"), Vec::<String>::new());
    }
}
