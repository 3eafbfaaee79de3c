//! A new user namespace: the init is cloned into it with the container's
//! other namespaces (so the user namespace owns them), and waits until the
//! parent has written its `uid_map` and `gid_map` before it makes a single
//! file or mount, so everything the runtime creates inside belongs to the
//! mapped root. Inside, device nodes cannot be made: the host's are bind
//! mounted (runc's way), and flags the kernel locked on mounts that came
//! from the host are kept on remounts.

use std::os::fd::AsRawFd;
use std::path::Path;

use husk_namespaces::Plan;
use oci_spec::runtime::{Linux, LinuxIdMapping, LinuxNamespaceType};

use crate::error::Context;
use crate::idmap::map_text;
use crate::{Error, Result};

/// The checks before anything exists.
pub fn validate(linux: &Linux, plan: &Plan) -> Result<()> {
    let uids = linux.uid_mappings().as_deref().unwrap_or(&[]);
    let gids = linux.gid_mappings().as_deref().unwrap_or(&[]);
    if !plan.has(LinuxNamespaceType::User) {
        if !uids.is_empty() || !gids.is_empty() {
            return Err(Error::Spec(
                "linux.uidMappings/gidMappings: mappings need a user namespace (add {\"type\": \"user\"} to linux.namespaces)".into(),
            ));
        }
        return Ok(());
    }
    if !plan.creates(LinuxNamespaceType::User) {
        // Joined by path (a pod's): its maps are already written, and the
        // namespaces joined with it are owned by it.
        return Ok(());
    }
    if uids.is_empty() || gids.is_empty() {
        return Err(Error::Spec(
            "linux.uidMappings/gidMappings: a new user namespace needs both (for example [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}])".into(),
        ));
    }
    check_mappings("uidMappings", uids)?;
    check_mappings("gidMappings", gids)?;
    // The init is cloned straight into the new user namespace, where it
    // holds no privilege over the host's namespaces: a helper joins them
    // and clones it (clone_init). Not a mount or cgroup namespace yet: the
    // helper must still see the runtime's paths and cgroups.
    if let Some((typ, path)) = plan
        .join
        .iter()
        .find(|(t, _)| matches!(t, LinuxNamespaceType::Mount | LinuxNamespaceType::Cgroup))
    {
        return Err(Error::Spec(format!(
            "linux.namespaces: joining the {} namespace {} together with a new user namespace is not supported by husk-runtime yet (let it create that namespace too)",
            husk_namespaces::name(*typ),
            path.display()
        )));
    }
    Ok(())
}

fn check_mappings(field: &str, maps: &[LinuxIdMapping]) -> Result<()> {
    // The kernel takes at most 340 lines and refuses overlaps with EINVAL:
    // say which entry is wrong instead.
    if maps.len() > 340 {
        return Err(Error::Spec(format!(
            "linux.{field}: {} entries, the kernel takes at most 340",
            maps.len()
        )));
    }
    let mut ranges: Vec<(u64, u64, usize)> = Vec::new();
    for (i, m) in maps.iter().enumerate() {
        if m.size() == 0 {
            return Err(Error::Spec(format!("linux.{field}[{i}]: size is 0")));
        }
        let (c, h, n) = (
            u64::from(m.container_id()),
            u64::from(m.host_id()),
            u64::from(m.size()),
        );
        if c + n > 1 << 32 || h + n > 1 << 32 {
            return Err(Error::Spec(format!(
                "linux.{field}[{i}]: the range goes past the last id 4294967295"
            )));
        }
        for &(oc, oh, j) in &ranges {
            let on = u64::from(maps[j].size());
            if c < oc + on && oc < c + n {
                return Err(Error::Spec(format!(
                    "linux.{field}[{i}]: containerID range overlaps entry {j}"
                )));
            }
            if h < oh + on && oh < h + n {
                return Err(Error::Spec(format!(
                    "linux.{field}[{i}]: hostID range overlaps entry {j}"
                )));
            }
        }
        ranges.push((c, h, i));
    }
    Ok(())
}

/// The parent, before it lets the init go: the maps of `pid`'s new user
/// namespace. The runtime holds CAP_SETUID/CAP_SETGID in the parent
/// namespace, so setgroups stays allowed (the container's user may have
/// additional groups).
pub fn write_maps(pid: i32, linux: &Linux) -> Result<()> {
    write_id_maps(
        pid,
        linux.uid_mappings().as_deref().unwrap_or(&[]),
        linux.gid_mappings().as_deref().unwrap_or(&[]),
    )
}

pub fn write_id_maps(pid: i32, uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<()> {
    let euid = nix::unistd::geteuid();
    if !euid.is_root() {
        return write_maps_unprivileged(pid, uids, gids, euid.as_raw());
    }
    for (file, maps) in [("uid_map", uids), ("gid_map", gids)] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, map_text(maps)).ctx("write", &path)?;
    }
    Ok(())
}

/// Rootless: the kernel lets a user map only its own ids, one each, and the
/// gid map only once setgroups is denied; anything wider goes through the
/// setuid helpers newuidmap/newgidmap (Debian's `uidmap`), which check
/// /etc/subuid and /etc/subgid.
fn write_maps_unprivileged(
    pid: i32,
    uids: &[LinuxIdMapping],
    gids: &[LinuxIdMapping],
    euid: u32,
) -> Result<()> {
    let egid = nix::unistd::getegid().as_raw();
    let only = |maps: &[LinuxIdMapping], id: u32| {
        maps.len() == 1 && maps[0].size() == 1 && maps[0].host_id() == id
    };
    if only(uids, euid) && only(gids, egid) {
        let setgroups = format!("/proc/{pid}/setgroups");
        std::fs::write(&setgroups, "deny").ctx("write", &setgroups)?;
        for (file, maps) in [("uid_map", uids), ("gid_map", gids)] {
            let path = format!("/proc/{pid}/{file}");
            std::fs::write(&path, map_text(maps)).ctx("write", &path)?;
        }
        return Ok(());
    }
    for (helper, maps) in [("newuidmap", uids), ("newgidmap", gids)] {
        let mut cmd = std::process::Command::new(helper);
        cmd.arg(pid.to_string());
        for m in maps {
            cmd.args([
                m.container_id().to_string(),
                m.host_id().to_string(),
                m.size().to_string(),
            ]);
        }
        let out = cmd.output().map_err(|e| {
            Error::Spec(format!(
                "rootless: mapping more than your own ids needs {helper}: {e} (apt-get install uidmap, and give the user ranges in /etc/subuid and /etc/subgid)"
            ))
        })?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            return Err(Error::Spec(format!(
                "rootless: {helper} refused the mapping: {} (the user's ranges in /etc/subuid and /etc/subgid must cover it)",
                why.trim()
            )));
        }
    }
    Ok(())
}

/// Whether this process may not call setgroups: a user namespace whose
/// gid map was written without privileges.
pub fn setgroups_denied() -> bool {
    std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny")
}

/// The namespaces joined by path that the helper of [`clone_init`] joins
/// before it clones the init: a user namespace (the init's new namespaces
/// then belong to it), and with a new user namespace the network, ipc and
/// uts ones (the init, born in it, holds no privilege over them; it
/// inherits them instead). The init joins the others itself.
pub fn joined_by_helper(plan: &Plan, typ: LinuxNamespaceType) -> bool {
    typ == LinuxNamespaceType::User
        || (plan.creates(LinuxNamespaceType::User)
            && matches!(
                typ,
                LinuxNamespaceType::Network | LinuxNamespaceType::Ipc | LinuxNamespaceType::Uts
            ))
}

/// The clone of a container's init. When namespaces must be joined before
/// it exists ([`joined_by_helper`]), a helper joins them and clones the
/// init from there with CLONE_PARENT: the init is still the runtime's
/// child, and the runtime itself (and the hooks it runs) stays in its own
/// namespaces, as with runc's nsexec. A pid namespace made from inside a
/// joined user namespace belongs to it, so the init can mount its /proc.
/// The helper reports the init's pid over a pipe and exits.
pub fn clone_init(flags: u64, plan: &Plan) -> Result<i32> {
    let mut joins: Vec<(LinuxNamespaceType, &Path)> = plan
        .join
        .iter()
        .filter(|(t, _)| joined_by_helper(plan, *t))
        .map(|(t, p)| (*t, p.as_path()))
        .collect();
    if joins.is_empty() {
        let root = nix::unistd::geteuid().is_root();
        return crate::sys::clone3(flags, None).map_err(|e| clone_error(flags, e, root));
    }
    // The user namespace first: it grants the right to join the others.
    joins.sort_by_key(|(t, _)| *t != LinuxNamespaceType::User);
    let mut files = Vec::new();
    for (typ, path) in &joins {
        files.push((*typ, std::fs::File::open(path).ctx("open", *path)?));
    }
    let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ctx("pipe", "init pid")?;
    let helper =
        crate::sys::clone3(0, None).map_err(|e| Error::sys("clone3", "namespace joiner", e))?;
    if helper == 0 {
        drop(rd);
        let joined = files.iter().try_for_each(|(typ, f)| {
            nix::sched::setns(f, husk_namespaces::flag(*typ)).map_err(std::io::Error::from)
        });
        let pid = joined.and_then(|()| crate::sys::clone3(flags | libc::CLONE_PARENT as u64, None));
        match pid {
            Ok(0) => return Ok(0),
            Ok(pid) => {
                let _ = nix::unistd::write(&wr, &pid.to_le_bytes());
                crate::sys::exit_now(0)
            }
            Err(e) => {
                let code = -e.raw_os_error().unwrap_or(libc::EINVAL);
                let _ = nix::unistd::write(&wr, &code.to_le_bytes());
                crate::sys::exit_now(1)
            }
        }
    }
    drop(wr);
    let mut buf = [0u8; 4];
    let n = nix::unistd::read(rd.as_raw_fd(), &mut buf).unwrap_or(0);
    crate::create::reap(helper);
    let pid = if n == 4 { i32::from_le_bytes(buf) } else { 0 };
    if pid > 0 {
        return Ok(pid);
    }
    let why = if pid < 0 {
        std::io::Error::from_raw_os_error(-pid)
    } else {
        std::io::Error::other("the helper died")
    };
    let names: Vec<&str> = joins
        .iter()
        .map(|(t, _)| husk_namespaces::name(*t))
        .collect();
    Err(Error::sys(
        "join the namespaces and clone the init",
        format!("{} ({})", joins[0].1.display(), names.join(", ")),
        why,
    ))
}

/// A refused clone of the init; for a user namespace made without
/// privileges, the host settings that refuse them.
fn clone_error(flags: u64, e: std::io::Error, root: bool) -> Error {
    let userns = flags & libc::CLONE_NEWUSER as u64 != 0;
    if userns && !root && matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::ENOSPC)) {
        return Error::Spec(format!(
            "rootless: the kernel refused a new user namespace ({e}): check user.max_user_namespaces > 0, and kernel.unprivileged_userns_clone = 1 or kernel.apparmor_restrict_unprivileged_userns = 0 where the host has them"
        ));
    }
    Error::sys("clone3", "container init", e)
}

/// The init, in its user namespace once the maps exist: from the host's
/// root (unmapped inside, the overflow id) to the namespace's root, the
/// id the runtime's files get.
pub fn become_root() -> Result<()> {
    let gid = nix::unistd::Gid::from_raw(0);
    nix::unistd::setresgid(gid, gid, gid).ctx("setresgid", "0 in the user namespace")?;
    if !setgroups_denied() {
        nix::unistd::setgroups(&[]).ctx("setgroups", "[] in the user namespace")?;
    }
    let uid = nix::unistd::Uid::from_raw(0);
    nix::unistd::setresuid(uid, uid, uid).ctx("setresuid", "0 in the user namespace")
}

/// Whether this process is in a user namespace other than the host's:
/// /proc/self/uid_map is not the identity map of every id.
pub fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|m| {
        let f: Vec<&str> = m.split_whitespace().collect();
        f != ["0", "0", "4294967295"]
    })
}

/// The mount flags of `path`'s mount the kernel locks when the mount came
/// from a more privileged mount namespace (a remount may not clear them).
pub fn locked_flags(path: &Path) -> Result<libc::c_ulong> {
    let st = nix::sys::statvfs::statvfs(path).ctx("statvfs", path)?;
    let f = st.flags();
    use nix::sys::statvfs::FsFlags;
    let mut out = 0;
    for (st_flag, ms) in [
        (FsFlags::ST_RDONLY, libc::MS_RDONLY),
        (FsFlags::ST_NOSUID, libc::MS_NOSUID),
        (FsFlags::ST_NODEV, libc::MS_NODEV),
        (FsFlags::ST_NOEXEC, libc::MS_NOEXEC),
        (FsFlags::ST_NOATIME, libc::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, libc::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if f.contains(st_flag) {
            out |= ms;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux(json: &str) -> Linux {
        serde_json::from_str(json).unwrap()
    }

    fn plan(json: &str) -> Plan {
        Plan::from_spec(&serde_json::from_str::<Vec<_>>(json).unwrap()).unwrap()
    }

    #[test]
    fn mappings_are_checked_before_anything_exists() {
        let userns = plan(r#"[{"type":"user"},{"type":"mount"}]"#);
        let none = plan(r#"[{"type":"mount"}]"#);
        let m = r#"[{"containerID":0,"hostID":100000,"size":65536}]"#;
        let ok = linux(&format!(r#"{{"uidMappings":{m},"gidMappings":{m}}}"#));
        assert!(validate(&ok, &userns).is_ok());
        let e = validate(&ok, &none).unwrap_err().to_string();
        assert!(e.contains("need a user namespace"), "{e}");
        let e = validate(&linux("{}"), &userns).unwrap_err().to_string();
        assert!(e.contains("needs both"), "{e}");
        let overlap = linux(&format!(
            r#"{{"uidMappings":[{{"containerID":0,"hostID":100000,"size":10}},{{"containerID":5,"hostID":200000,"size":10}}],"gidMappings":{m}}}"#
        ));
        let e = validate(&overlap, &userns).unwrap_err().to_string();
        assert!(
            e.contains("uidMappings[1]: containerID range overlaps entry 0"),
            "{e}"
        );
        let joined = plan(r#"[{"type":"user"},{"type":"network","path":"/proc/self/ns/net"}]"#);
        assert!(validate(&ok, &joined).is_ok());
        let joined = plan(r#"[{"type":"user"},{"type":"mount","path":"/proc/self/ns/mnt"}]"#);
        let e = validate(&ok, &joined).unwrap_err().to_string();
        assert!(e.contains("joining the mount namespace"), "{e}");
        let pod = plan(
            r#"[{"type":"user","path":"/proc/self/ns/user"},{"type":"network","path":"/proc/self/ns/net"}]"#,
        );
        assert!(validate(&linux("{}"), &pod).is_ok());
    }

    #[test]
    fn a_refused_rootless_user_namespace_names_the_host_settings() {
        let eperm = || std::io::Error::from_raw_os_error(libc::EPERM);
        let newuser = libc::CLONE_NEWUSER as u64 | libc::CLONE_NEWPID as u64;
        let e = clone_error(newuser, eperm(), false).to_string();
        assert!(e.contains("user.max_user_namespaces"), "{e}");
        let e = clone_error(newuser, eperm(), true).to_string();
        assert!(!e.contains("rootless"), "{e}");
        let e = clone_error(libc::CLONE_NEWPID as u64, eperm(), false).to_string();
        assert!(!e.contains("rootless"), "{e}");
    }

    #[test]
    fn maps_are_written_as_the_kernel_reads_them() {
        let m: Vec<LinuxIdMapping> = serde_json::from_str(
            r#"[{"containerID":0,"hostID":100000,"size":1000},{"containerID":1000,"hostID":1000,"size":1}]"#,
        )
        .unwrap();
        assert_eq!(map_text(&m), "0 100000 1000\n1000 1000 1\n");
    }
}
