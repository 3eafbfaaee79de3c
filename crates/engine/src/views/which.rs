//! `husk which HOSTPID` and `husk ps --pid HOSTPID`: the container a host
//! process belongs to, from the cgroup the kernel puts it in.

use serde::Serialize;

use super::procfs;
use crate::store::{Container, Paths};
use crate::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct Owner {
    pub host_pid: i32,
    /// The same process's pid inside the container's pid namespace.
    pub pid_inside: Option<i32>,
    pub command: String,
    /// The cgroup line that names the container.
    pub cgroup: String,
    #[serde(skip)]
    pub container: Container,
}

/// The container whose cgroup holds `pid`. A cgroup names a container when
/// one of its path components is a container id of this store, wherever
/// `--cgroup-parent` put it.
pub fn which(paths: &Paths, pid: i32) -> Result<Owner> {
    let cgroups = procfs::cgroups(pid).ok_or(Error::NoSuchProcess { pid })?;
    let all = paths.all()?;
    for (_, _, path) in &cgroups {
        let found = path
            .split('/')
            .find_map(|part| all.iter().find(|c| c.id == part));
        if let Some(c) = found {
            let status = procfs::status(pid).unwrap_or_default();
            return Ok(Owner {
                host_pid: pid,
                pid_inside: procfs::pid_inside(&status),
                command: procfs::cmdline(pid),
                cgroup: path.clone(),
                container: c.clone(),
            });
        }
    }
    // The path of the v2 line (or the first) says where it is instead.
    let cgroup = cgroups
        .iter()
        .find(|(h, _, _)| h == "0")
        .or_else(|| cgroups.first())
        .map(|(_, _, p)| p.clone())
        .unwrap_or_default();
    Err(Error::NotInContainer { pid, cgroup })
}

/// One line for a person: `1234 is PID 1 in container web (3f2a…): sh -c …`.
pub fn describe(o: &Owner) -> String {
    let inside = o
        .pid_inside
        .map(|p| format!("PID {p}"))
        .unwrap_or_else(|| "a process".into());
    format!(
        "{} is {inside} in container {} ({}): {}",
        o.host_pid,
        o.container.name,
        o.container.short_id(),
        o.command
    )
}
