//! Turning the bundle's rootfs into the container's `/`, in runc's order:
//! propagation, self bind mount, the spec's mounts, /dev, pivot_root.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use husk_fs::{create_in_root, proc_fd_path, Kind};
use oci_spec::runtime::Spec;

use crate::error::Context;
use crate::mounts::{self, CgroupMounts};
use crate::{devices, sys, Error, Result};

pub fn propagation_flags(value: Option<&str>) -> Result<libc::c_ulong> {
    Ok(match value.unwrap_or("") {
        // runc's default: see host mount events, never send ours back.
        "" | "rslave" => libc::MS_SLAVE | libc::MS_REC,
        "slave" => libc::MS_SLAVE,
        "rprivate" => libc::MS_PRIVATE | libc::MS_REC,
        "private" => libc::MS_PRIVATE,
        "rshared" => libc::MS_SHARED | libc::MS_REC,
        "shared" => libc::MS_SHARED,
        "runbindable" => libc::MS_UNBINDABLE | libc::MS_REC,
        "unbindable" => libc::MS_UNBINDABLE,
        other => {
            return Err(Error::Spec(format!(
            "linux.rootfsPropagation: unknown value {other:?} (use rslave, rprivate, rshared, ...)"
        )))
        }
    })
}

/// How the init makes the rootfs its `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootEntry {
    PivotRoot,
    /// `--no-pivot`: MS_MOVE onto `/` and chroot, for a ramfs root.
    Move,
    /// No mount namespace of its own: only chroot (see host_root).
    Chroot,
}

impl RootEntry {
    pub fn of(plan: &husk_namespaces::Plan, no_pivot: bool) -> RootEntry {
        if crate::host_root::shares_host_mounts(plan) {
            RootEntry::Chroot
        } else if no_pivot {
            RootEntry::Move
        } else {
            RootEntry::PivotRoot
        }
    }
}

/// Where bind mounts come from: relative sources under the bundle, the
/// idmapped ones already made by the parent.
pub struct Sources<'a> {
    pub bundle: &'a Path,
    pub idmapped: &'a crate::idmap::Idmapped,
}

/// Everything up to and including pivot_root. Runs in the init, inside the
/// new mount namespace. Afterwards the cwd is the new `/`.
///
/// `placed` blocks until the parent has moved us into our cgroups (and
/// enters the cgroup namespace). Migrating a process between v1 cgroups
/// waits for an RCU grace period (often 10-20 ms), so the parent does it
/// while we mount; we wait only before a cgroup mount needs the result.
pub fn prepare(
    spec: &Spec,
    rootfs: &Path,
    sources: &Sources<'_>,
    entry: RootEntry,
    cgroupns: bool,
    placed: &mut dyn FnMut() -> Result<()>,
    pre_pivot: &mut dyn FnMut() -> Result<()>,
) -> Result<()> {
    let linux = spec.linux().as_ref();
    let prop = propagation_flags(linux.and_then(|l| l.rootfs_propagation().as_deref()))?;
    // Shared propagation would push our mounts to the host, and an
    // unbindable tree could not be bind mounted (the rootfs onto itself,
    // the masked and read-only paths): make / a slave first, and let
    // `finish_propagation` apply those two once the last bind is done.
    let first = if deferred(prop) {
        libc::MS_SLAVE | libc::MS_REC
    } else {
        prop
    };
    // Without a mount namespace of our own, `/` is the host's: the parent
    // made the rootfs its own private mount already (host_root::bind).
    if entry != RootEntry::Chroot {
        sys::mount(None, Path::new("/"), None, first, None).ctx("set propagation of", "/")?;
        // pivot_root needs the new root to be a mount point.
        bind_onto_itself(rootfs)?;
    }
    let root = open_root(rootfs)?;

    let mut cgroup_mounts: Option<CgroupMounts> = None;
    let mut dev_is_bind = false;
    let mut has_devpts = false;
    for (i, m) in spec.mounts().as_deref().unwrap_or(&[]).iter().enumerate() {
        if m.destination() == Path::new("/dev") {
            dev_is_bind = m.typ().as_deref() == Some("bind")
                || m.options()
                    .as_ref()
                    .is_some_and(|o| o.iter().any(|x| x == "bind" || x == "rbind"));
        }
        if m.typ().as_deref() == Some("devpts") {
            has_devpts = true;
        }
        if cgroup_mounts.is_none() && matches!(m.typ().as_deref(), Some("cgroup" | "cgroup2")) {
            placed()?;
            cgroup_mounts = Some(CgroupMounts::discover(cgroupns)?);
        }
        mounts::mount_one(
            &root,
            m,
            sources.bundle,
            cgroup_mounts.as_ref().unwrap_or(&CgroupMounts::default()),
            sources.idmapped.tree(i),
        )?;
    }
    if cgroup_mounts.is_none() {
        placed()?;
    }
    if !dev_is_bind {
        let bind_host = crate::userns::in_user_namespace();
        devices::create_default_devices(&root, bind_host)?;
        if let Some(devs) = linux.and_then(|l| l.devices().as_ref()) {
            devices::create_spec_devices(&root, devs, bind_host)?;
        }
        devices::create_symlinks(&root, has_devpts)?;
    }
    // runc (and docker's `-w`) create a missing cwd, root-owned 0755, once
    // the mounts are in place (so it lands in a volume mounted there);
    // resolved inside the root, so an image's symlink cannot aim it out.
    // A cwd that cannot be made is left to the chdir before exec, which
    // names process.cwd and why (a file in the way, a magic link).
    if let Some(process) = spec.process() {
        let _ = husk_fs::mkdir_all_in_root(&root, process.cwd(), 0o755);
    }
    drop(root);
    // runc's point for prestart/createRuntime (in the parent) and
    // createContainer hooks: the mounts exist, pivot_root has not happened.
    pre_pivot()?;

    match entry {
        RootEntry::Chroot => crate::host_root::enter(rootfs)?,
        RootEntry::Move => move_root(rootfs)?,
        RootEntry::PivotRoot => pivot(rootfs)?,
    }
    Ok(())
}

/// The rootfs bound onto itself, with the mounts below it: a mount of its
/// own, which pivot_root needs and a read-only remount may change alone.
pub fn bind_onto_itself(rootfs: &Path) -> Result<()> {
    sys::mount(
        Some(rootfs),
        rootfs,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
    )
    .ctx("bind mount rootfs", rootfs)
}

fn deferred(prop: libc::c_ulong) -> bool {
    prop & (libc::MS_SHARED | libc::MS_UNBINDABLE) != 0
}

/// After pivot_root and the last bind mount of the init's setup: a shared
/// or unbindable `linux.rootfsPropagation` is applied to the new `/`.
pub fn finish_propagation(spec: &Spec) -> Result<()> {
    let linux = spec.linux().as_ref();
    let prop = propagation_flags(linux.and_then(|l| l.rootfs_propagation().as_deref()))?;
    if deferred(prop) {
        sys::mount(None, Path::new("/"), None, prop, None).ctx("set propagation of", "/")?;
    }
    Ok(())
}

fn open_root(rootfs: &Path) -> Result<OwnedFd> {
    let f = std::fs::File::open(rootfs).ctx("open", rootfs)?;
    Ok(OwnedFd::from(f))
}

/// runc's pivot: pivot_root(".", ".") stacks the old root on top of the new
/// one, so no directory for the old root is needed in the image; then the
/// old root is detached (after making it a slave so the unmount does not
/// propagate to the host).
fn pivot(rootfs: &Path) -> Result<()> {
    let old = std::fs::File::open("/").ctx("open", "/")?;
    let new = std::fs::File::open(rootfs).ctx("open", rootfs)?;
    nix::unistd::fchdir(new.as_raw_fd()).ctx("chdir", rootfs)?;
    sys::pivot_root(Path::new("."), Path::new(".")).ctx("pivot_root", rootfs)?;
    nix::unistd::fchdir(old.as_raw_fd()).ctx("chdir", "old root")?;
    sys::mount(
        None,
        Path::new("."),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
    )
    .ctx("make old root slave", "/")?;
    sys::umount2(Path::new("."), libc::MNT_DETACH).ctx("unmount old root", "/")?;
    nix::unistd::chdir("/").ctx("chdir", "/")?;
    Ok(())
}

/// `--no-pivot`: for roots where pivot_root cannot work (a ramfs root).
fn move_root(rootfs: &Path) -> Result<()> {
    nix::unistd::chdir(rootfs).ctx("chdir", rootfs)?;
    sys::mount(Some(rootfs), Path::new("/"), None, libc::MS_MOVE, None)
        .ctx("move rootfs", rootfs)?;
    nix::unistd::chroot(".").ctx("chroot", rootfs)?;
    nix::unistd::chdir("/").ctx("chdir", "/")?;
    Ok(())
}

/// After pivot: make `/` read-only if the spec says so.
pub fn remount_root_readonly() -> Result<()> {
    sys::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
        None,
    )
    .ctx("remount read-only", "/")
}

/// A read-only tmpfs over directories, /dev/null over files; missing paths
/// are skipped (the spec lists paths that may not exist on every kernel).
pub fn mask_path(path: &str) -> Result<()> {
    let p = Path::new(path);
    let res = sys::mount(Some(Path::new("/dev/null")), p, None, libc::MS_BIND, None);
    match res {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => sys::mount(
            Some(Path::new("tmpfs")),
            p,
            Some("tmpfs"),
            libc::MS_RDONLY,
            None,
        )
        .ctx("mask", p),
        Err(e) => Err(Error::sys("mask", p, e)),
    }
}

pub fn readonly_path(path: &str) -> Result<()> {
    let p = Path::new(path);
    match sys::mount(Some(p), p, None, libc::MS_BIND | libc::MS_REC, None) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
        r => r.ctx("bind", p)?,
    }
    sys::mount(
        None,
        p,
        None,
        libc::MS_BIND
            | libc::MS_REMOUNT
            | libc::MS_RDONLY
            | libc::MS_NOSUID
            | libc::MS_NODEV
            | libc::MS_NOEXEC,
        None,
    )
    .or_else(|_| {
        // Some mounts carry locked flags: retry keeping only read-only.
        sys::mount(
            None,
            p,
            None,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
            None,
        )
    })
    .ctx("remount read-only", p)
}

/// Mounts the console pty over /dev/console (after pivot).
pub fn mount_console(slave: &Path) -> Result<()> {
    let root = open_root(Path::new("/"))?;
    let target = create_in_root(&root, Path::new("/dev/console"), Kind::File)?;
    sys::mount(
        Some(slave),
        &proc_fd_path(&target),
        None,
        libc::MS_BIND,
        None,
    )
    .ctx("bind console to", "/dev/console")
}

/// Resolves `prog` with the container's PATH the way execvp would, so a
/// missing command fails `create` with a clear message instead of a bare
/// exit code after `start`.
pub fn find_executable(prog: &str, env: &[String], cwd: &Path) -> Result<PathBuf> {
    let check = |p: &Path| -> bool {
        let Ok(c) = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()) else {
            return false;
        };
        // SAFETY: c is a valid C string.
        let ok = unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0;
        ok && p.metadata().map(|m| m.is_file()).unwrap_or(false)
    };
    if prog.contains('/') {
        let p = cwd.join(prog);
        if check(&p) {
            return Ok(PathBuf::from(prog));
        }
        let why = if p.exists() {
            "permission denied or not a regular file"
        } else {
            "no such file or directory"
        };
        return Err(Error::Spec(format!("exec: {prog:?}: {why}")));
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path.split(':') {
        let candidate = Path::new(if dir.is_empty() { "." } else { dir }).join(prog);
        if check(&candidate) {
            return Ok(candidate);
        }
    }
    Err(Error::Spec(format!(
        "exec: {prog:?}: executable file not found in $PATH"
    )))
}
