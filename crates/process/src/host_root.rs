//! A container without a mount namespace of its own shares the runtime's
//! (the spec's rule for a namespace type the config does not list). Its
//! mounts are then host mounts: they all live on one bind mount of the
//! rootfs onto itself, made private so nothing below it propagates, which
//! `delete` (or a failed `create`) detaches with everything on it. runc and
//! crun leave such mounts on the host for good.
//!
//! The init then enters its root with chroot: pivot_root would move the
//! root of every process of the host's mount namespace.

use std::path::Path;

use husk_namespaces::Plan;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::error::Context;
use crate::{sys, Result};

/// Whether the container's mounts are made in the runtime's namespace.
pub fn shares_host_mounts(plan: &Plan) -> bool {
    !plan.has(LinuxNamespaceType::Mount)
}

/// The same, for a stored spec. Read from the list itself, not through a
/// [`Plan`]: at `delete` a namespace joined by path may be gone.
pub fn spec_shares_host_mounts(spec: &Spec) -> bool {
    !spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_deref())
        .unwrap_or(&[])
        .iter()
        .any(|n| n.typ() == LinuxNamespaceType::Mount)
}

/// The parent, before the clone: the rootfs bound onto itself and made
/// private (recursively: whatever the caller had mounted below it is
/// carried along and stops propagating too).
pub fn bind(rootfs: &Path) -> Result<()> {
    crate::rootfs::bind_onto_itself(rootfs)?;
    if let Err(e) = sys::mount(None, rootfs, None, libc::MS_PRIVATE | libc::MS_REC, None) {
        release(rootfs);
        return Err(crate::Error::sys("make private", rootfs, e));
    }
    Ok(())
}

/// Detaches the bind [`bind`] made and every mount the container made on
/// it; the caller's own mount of the rootfs (containerd's overlay) stays.
pub fn release(rootfs: &Path) {
    if let Err(e) = sys::umount2(rootfs, libc::MNT_DETACH) {
        if e.raw_os_error() != Some(libc::EINVAL) {
            eprintln!("husk-runtime: warning: unmount {}: {e}", rootfs.display());
        }
    }
}

/// The init, once the mounts are in place: the rootfs becomes its root.
pub fn enter(rootfs: &Path) -> Result<()> {
    nix::unistd::chdir(rootfs).ctx("chdir", rootfs)?;
    nix::unistd::chroot(".").ctx("chroot", rootfs)?;
    nix::unistd::chdir("/").ctx("chdir", "/")?;
    Ok(())
}
