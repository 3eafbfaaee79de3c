//! Idmapped bind mounts (`idmap`, `ridmap`): files on the source show with
//! their owners shifted through a mapping, so a tree owned by the host's
//! root is owned by the root of a container's user namespace, without a
//! chown. Only a process privileged over the source's filesystem may
//! idmap it, so the runtime makes each mount here, detached, before the
//! clone; the init attaches it where the spec says (runc 1.2's and crun's
//! way). The mapping is a user namespace made for it: a child cloned into
//! a new one, its maps written, the namespace kept by fd, the child killed.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use oci_spec::runtime::{LinuxIdMapping, Mount, Spec};

use crate::error::Context;
use crate::mounts::parse_options;
use crate::{sys, Error, Result};

/// The detached, idmapped trees, by index in the spec's `mounts`.
#[derive(Debug, Default)]
pub struct Idmapped {
    trees: Vec<(usize, OwnedFd)>,
}

impl Idmapped {
    /// Makes the idmapped tree of every `idmap`/`ridmap` mount.
    pub fn prepare(spec: &Spec, bundle: &Path) -> Result<Idmapped> {
        let mut out = Idmapped::default();
        let linux = spec.linux().as_ref();
        // One user namespace per distinct mapping.
        let mut namespaces: Vec<(String, OwnedFd)> = Vec::new();
        for (i, m) in spec.mounts().as_deref().unwrap_or(&[]).iter().enumerate() {
            let opts = parse_options(m.options().as_deref().unwrap_or(&[]));
            let Some(recursive_idmap) = opts.idmap else {
                if m.uid_mappings().is_some() || m.gid_mappings().is_some() {
                    return Err(field_error(
                        i,
                        m,
                        "uidMappings/gidMappings need the idmap or ridmap option",
                    ));
                }
                continue;
            };
            if !opts.bind && m.typ().as_deref() != Some("bind") {
                return Err(field_error(i, m, "idmap is only supported on bind mounts"));
            }
            let uids = m
                .uid_mappings()
                .as_deref()
                .or_else(|| linux.and_then(|l| l.uid_mappings().as_deref()))
                .unwrap_or(&[]);
            let gids = m
                .gid_mappings()
                .as_deref()
                .or_else(|| linux.and_then(|l| l.gid_mappings().as_deref()))
                .unwrap_or(&[]);
            if uids.is_empty() || gids.is_empty() {
                return Err(field_error(
                    i,
                    m,
                    "idmap needs uidMappings and gidMappings, on the mount or in linux (a user namespace's)",
                ));
            }
            let key = format!("{}|{}", map_text(uids), map_text(gids));
            if !namespaces.iter().any(|(k, _)| *k == key) {
                namespaces.push((key.clone(), mapping_namespace(uids, gids)?));
            }
            let userns = namespaces
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, fd)| fd.as_raw_fd());
            let src = m.source().clone().unwrap_or_default();
            let src = if src.is_absolute() {
                src
            } else {
                bundle.join(src)
            };
            let rbind = opts.flags & libc::MS_REC != 0;
            let tree = sys::open_tree(&src, rbind).ctx("open_tree", &src)?;
            sys::mount_setattr(
                tree.as_raw_fd(),
                recursive_idmap,
                libc::MOUNT_ATTR_IDMAP,
                0,
                userns,
            )
            .map_err(|e| {
                let hint = if e.raw_os_error() == Some(libc::EINVAL) {
                    " (the filesystem of the source does not support idmapped mounts, or a mount below it with ridmap does not)"
                } else {
                    ""
                };
                Error::Spec(format!(
                    "mounts[{i}]: idmap {}: {e}{hint}",
                    src.display()
                ))
            })?;
            out.trees.push((i, tree));
        }
        Ok(out)
    }

    pub fn tree(&self, index: usize) -> Option<&OwnedFd> {
        self.trees
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, fd)| fd)
    }

    /// The fds the init must keep open until it attached them.
    pub fn raw_fds(&self) -> Vec<RawFd> {
        self.trees.iter().map(|(_, fd)| fd.as_raw_fd()).collect()
    }
}

fn field_error(i: usize, m: &Mount, what: &str) -> Error {
    Error::Spec(format!(
        "mounts[{i}] ({}): {what}",
        m.destination().display()
    ))
}

pub(crate) fn map_text(maps: &[LinuxIdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// A user namespace holding `uids`/`gids`, by fd.
fn mapping_namespace(uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<OwnedFd> {
    let pid = sys::clone3(libc::CLONE_NEWUSER as u64, None)
        .map_err(|e| Error::sys("clone3", "user namespace of an idmapped mount", e))?;
    if pid == 0 {
        // The child only holds the namespace open until it is killed.
        loop {
            // SAFETY: pause takes no arguments and is async-signal-safe.
            unsafe { libc::pause() };
        }
    }
    let made = crate::userns::write_id_maps(pid, uids, gids).and_then(|()| {
        let path = format!("/proc/{pid}/ns/user");
        std::fs::File::open(&path)
            .map(OwnedFd::from)
            .ctx("open", &path)
    });
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    crate::create::reap(pid);
    made
}
