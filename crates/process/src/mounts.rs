//! The spec's `mounts`, mounted in order inside the container's rootfs.
//! Destinations are resolved by fd inside the rootfs (a symlink in the image
//! pointing at /etc on the host must not put a mount on the host's /etc).

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use husk_fs::{create_in_root, proc_fd_path, Kind};
use nix::fcntl::OFlag;
use oci_spec::runtime::Mount;

use crate::error::Context;
use crate::{sys, Error, Result};

/// Mount options split the way mount(2) wants them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub flags: libc::c_ulong,
    /// Flags the caller asked to clear (`rw`, `suid`, ...) on a bind remount.
    pub cleared: libc::c_ulong,
    pub propagation: Vec<libc::c_ulong>,
    pub data: Vec<String>,
    pub bind: bool,
    /// `rro`, `rnosuid`, ...: mount_setattr(2) attributes set and cleared
    /// on the mount and every mount below it.
    pub rec_set: u64,
    pub rec_clear: u64,
    /// `idmap` (Some(false)) or `ridmap` (Some(true)): see idmap.rs.
    pub idmap: Option<bool>,
}

impl Options {
    pub fn data_string(&self) -> String {
        self.data.join(",")
    }
}

/// runc's table: known words become flags, anything else is fs data.
pub fn parse_options(options: &[String]) -> Options {
    let mut o = Options::default();
    for opt in options {
        let (set, clear): (libc::c_ulong, libc::c_ulong) = match opt.as_str() {
            "ro" | "rdonly" => (libc::MS_RDONLY, 0),
            "rw" => (0, libc::MS_RDONLY),
            "nosuid" => (libc::MS_NOSUID, 0),
            "suid" => (0, libc::MS_NOSUID),
            "nodev" => (libc::MS_NODEV, 0),
            "dev" => (0, libc::MS_NODEV),
            "noexec" => (libc::MS_NOEXEC, 0),
            "exec" => (0, libc::MS_NOEXEC),
            "sync" => (libc::MS_SYNCHRONOUS, 0),
            "async" => (0, libc::MS_SYNCHRONOUS),
            "dirsync" => (libc::MS_DIRSYNC, 0),
            "remount" => (libc::MS_REMOUNT, 0),
            "mand" => (libc::MS_MANDLOCK, 0),
            "nomand" => (0, libc::MS_MANDLOCK),
            "atime" => (0, libc::MS_NOATIME),
            "noatime" => (libc::MS_NOATIME, 0),
            "diratime" => (0, libc::MS_NODIRATIME),
            "nodiratime" => (libc::MS_NODIRATIME, 0),
            "relatime" => (libc::MS_RELATIME, 0),
            "norelatime" => (0, libc::MS_RELATIME),
            "strictatime" => (libc::MS_STRICTATIME, 0),
            "nostrictatime" => (0, libc::MS_STRICTATIME),
            "bind" => {
                o.bind = true;
                (libc::MS_BIND, 0)
            }
            "rbind" => {
                o.bind = true;
                (libc::MS_BIND | libc::MS_REC, 0)
            }
            "private" => {
                o.propagation.push(libc::MS_PRIVATE);
                (0, 0)
            }
            "rprivate" => {
                o.propagation.push(libc::MS_PRIVATE | libc::MS_REC);
                (0, 0)
            }
            "shared" => {
                o.propagation.push(libc::MS_SHARED);
                (0, 0)
            }
            "rshared" => {
                o.propagation.push(libc::MS_SHARED | libc::MS_REC);
                (0, 0)
            }
            "slave" => {
                o.propagation.push(libc::MS_SLAVE);
                (0, 0)
            }
            "rslave" => {
                o.propagation.push(libc::MS_SLAVE | libc::MS_REC);
                (0, 0)
            }
            "unbindable" => {
                o.propagation.push(libc::MS_UNBINDABLE);
                (0, 0)
            }
            "runbindable" => {
                o.propagation.push(libc::MS_UNBINDABLE | libc::MS_REC);
                (0, 0)
            }
            "idmap" => {
                o.idmap = Some(false);
                (0, 0)
            }
            "ridmap" => {
                o.idmap = Some(true);
                (0, 0)
            }
            opt if recursive_attr(opt).is_some() => {
                if let Some((set, clear)) = recursive_attr(opt) {
                    o.rec_set = (o.rec_set & !clear) | set;
                    o.rec_clear = (o.rec_clear & !set) | clear;
                }
                (0, 0)
            }
            // crun/podman extensions that only matter for copy-up semantics.
            "tmpcopyup" | "notmpcopyup" | "copy-symlink" | "defaults" => (0, 0),
            other => {
                o.data.push(other.to_string());
                (0, 0)
            }
        };
        o.flags = (o.flags | set) & !clear;
        o.cleared |= clear;
    }
    o
}

/// The recursive options of runc and crun as (attributes to set, to clear).
/// The atime modes are one field: changing it clears the whole field.
fn recursive_attr(opt: &str) -> Option<(u64, u64)> {
    const ATIME: u64 = libc::MOUNT_ATTR__ATIME;
    Some(match opt {
        "rro" => (libc::MOUNT_ATTR_RDONLY, 0),
        "rrw" => (0, libc::MOUNT_ATTR_RDONLY),
        "rnosuid" => (libc::MOUNT_ATTR_NOSUID, 0),
        "rsuid" => (0, libc::MOUNT_ATTR_NOSUID),
        "rnodev" => (libc::MOUNT_ATTR_NODEV, 0),
        "rdev" => (0, libc::MOUNT_ATTR_NODEV),
        "rnoexec" => (libc::MOUNT_ATTR_NOEXEC, 0),
        "rexec" => (0, libc::MOUNT_ATTR_NOEXEC),
        "rnodiratime" => (libc::MOUNT_ATTR_NODIRATIME, 0),
        "rdiratime" => (0, libc::MOUNT_ATTR_NODIRATIME),
        "rnosymfollow" => (libc::MOUNT_ATTR_NOSYMFOLLOW, 0),
        "rsymfollow" => (0, libc::MOUNT_ATTR_NOSYMFOLLOW),
        "rnoatime" => (libc::MOUNT_ATTR_NOATIME, ATIME),
        "rstrictatime" => (libc::MOUNT_ATTR_STRICTATIME, ATIME),
        "rrelatime" | "ratime" | "rnostrictatime" | "rnorelatime" => {
            (libc::MOUNT_ATTR_RELATIME, ATIME)
        }
        _ => return None,
    })
}

/// Mounts one spec mount. `root` is an fd of the rootfs (after its self
/// bind mount), `bundle` resolves relative bind sources, `cgroup_mounts`
/// is how `cgroup` mounts are expanded.
pub fn mount_one(
    root: &OwnedFd,
    m: &Mount,
    bundle: &Path,
    cgroups: &CgroupMounts,
    idmapped: Option<&OwnedFd>,
) -> Result<()> {
    let dest = m.destination();
    if !dest.is_absolute() {
        return Err(Error::Spec(format!(
            "mounts: destination {} must be absolute",
            dest.display()
        )));
    }
    let typ = m.typ().as_deref().unwrap_or("");
    let opts = parse_options(m.options().as_deref().unwrap_or(&[]));
    if typ == "cgroup" || typ == "cgroup2" {
        return cgroups.mount(root, dest, &opts);
    }
    let bind = opts.bind || typ == "bind";
    if bind {
        // mount(2) ignores the data of a bind mount: an option we do not
        // know would be dropped without a word.
        if let Some(unknown) = opts.data.first() {
            return Err(Error::Spec(format!(
                "mounts: option {unknown:?} on the bind mount {} is not known to husk-runtime (remove it)",
                dest.display()
            )));
        }
        return bind_mount(root, m, bundle, &opts, idmapped);
    }
    if typ == "proc" || typ == "sysfs" {
        refuse_symlink(root, dest, typ)?;
    }
    let target = create_in_root(root, dest, Kind::Dir)?;
    let target_path = proc_fd_path(&target);
    let source = m
        .source()
        .clone()
        .unwrap_or_else(|| PathBuf::from(if typ.is_empty() { "none" } else { typ }));
    let data = opts.data_string();
    let flags = opts.flags & !libc::MS_REMOUNT;
    sys::mount(
        Some(&source),
        &target_path,
        Some(typ).filter(|t| !t.is_empty()),
        flags,
        Some(&data),
    )
    .or_else(|e| {
        // mqueue/sysfs refuse some flags on some kernels: retry as runc does
        // for sysfs without the attributes, then remount them on.
        if e.raw_os_error() == Some(libc::EPERM) && typ == "sysfs" {
            sys::mount(Some(&source), &target_path, Some(typ), 0, Some(&data))?;
            sys::mount(None, &target_path, None, flags | libc::MS_REMOUNT, None)
        } else {
            Err(e)
        }
    })
    .or_else(|e| {
        // A user namespace that does not own the network namespace may not
        // mount sysfs at all: the host's /sys, bound (runc's way).
        if e.raw_os_error() == Some(libc::EPERM) && typ == "sysfs" {
            let host = Path::new("/sys");
            sys::mount(
                Some(host),
                &target_path,
                None,
                libc::MS_BIND | libc::MS_REC,
                None,
            )?;
            let keep = crate::userns::locked_flags(host).unwrap_or(0);
            // Through the new mount: reopen the destination.
            let bound = create_in_root(root, dest, Kind::Dir).map_err(std::io::Error::other)?;
            sys::mount(
                None,
                &proc_fd_path(&bound),
                None,
                flags | keep | libc::MS_BIND | libc::MS_REMOUNT,
                None,
            )
        } else {
            Err(e)
        }
    })
    .ctx("mount", dest)?;
    apply_recursive_attrs(root, dest, Kind::Dir, &opts)?;
    apply_propagation(root, dest, Kind::Dir, &opts)
}

fn bind_mount(
    root: &OwnedFd,
    m: &Mount,
    bundle: &Path,
    opts: &Options,
    idmapped: Option<&OwnedFd>,
) -> Result<()> {
    let dest = m.destination();
    let src = m.source().clone().ok_or_else(|| {
        Error::Spec(format!(
            "mounts: bind mount on {} has no source",
            dest.display()
        ))
    })?;
    let src = if src.is_absolute() {
        src
    } else {
        bundle.join(src)
    };
    let meta = std::fs::metadata(&src).map_err(|e| {
        Error::Spec(format!(
            "mounts: source {} of {}: {e}",
            src.display(),
            dest.display()
        ))
    })?;
    let kind = if meta.is_dir() { Kind::Dir } else { Kind::File };
    let target = create_in_root(root, dest, kind)?;
    let target_path = proc_fd_path(&target);
    let rec = opts.flags & libc::MS_REC;
    match idmapped {
        // Made idmapped by the runtime before the clone (idmap.rs).
        Some(tree) => sys::move_mount(tree.as_raw_fd(), target.as_raw_fd())
            .ctx("attach the idmapped mount on", dest)?,
        None => sys::mount(Some(&src), &target_path, None, libc::MS_BIND | rec, None)
            .ctx("bind mount", dest)?,
    }
    // Attributes of a bind mount only apply through a remount.
    let attrs = opts.flags & !(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT);
    if attrs != 0 {
        // The remount must go through the mount just made: reopen the
        // destination so /proc/self/fd points at the new mount's root.
        let target = create_in_root(root, dest, kind)?;
        let tp = proc_fd_path(&target);
        sys::mount(
            None,
            &tp,
            None,
            attrs | libc::MS_BIND | libc::MS_REMOUNT,
            None,
        )
        .ctx("remount", dest)?;
    }
    apply_recursive_attrs(root, dest, kind, opts)?;
    apply_propagation(root, dest, kind, opts)
}

/// An image whose /proc (or /sys) is a symlink would have the kernel's
/// files mounted wherever the link points inside the root, and the masked
/// paths miss them there: refused, as runc refuses it.
fn refuse_symlink(root: &OwnedFd, dest: &Path, typ: &str) -> Result<()> {
    let fd = match husk_fs::open_in_root(root, dest, OFlag::O_PATH | OFlag::O_NOFOLLOW) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let st = nix::sys::stat::fstat(fd.as_raw_fd()).ctx("stat", dest)?;
    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return Err(Error::Spec(format!(
            "mounts: {typ} must be mounted on a directory, and {} is a symlink in the rootfs (make it a directory in the image)",
            dest.display()
        )));
    }
    Ok(())
}

/// `rro`, `rnosuid`, ...: on the mount just made and every mount below it
/// (a remount reaches only the top one).
fn apply_recursive_attrs(root: &OwnedFd, dest: &Path, kind: Kind, opts: &Options) -> Result<()> {
    if opts.rec_set == 0 && opts.rec_clear == 0 {
        return Ok(());
    }
    let target = create_in_root(root, dest, kind)?;
    sys::mount_setattr(target.as_raw_fd(), true, opts.rec_set, opts.rec_clear, None)
        .ctx("set recursive mount attributes on", dest)
}

/// Propagation applies to the mount just made: reopen the destination so
/// /proc/self/fd points at that mount, not at what it covers.
fn apply_propagation(root: &OwnedFd, dest: &Path, kind: Kind, opts: &Options) -> Result<()> {
    if opts.propagation.is_empty() {
        return Ok(());
    }
    let target = create_in_root(root, dest, kind)?;
    let tp = proc_fd_path(&target);
    for p in &opts.propagation {
        sys::mount(None, &tp, None, *p, None).ctx("set propagation of", dest)?;
    }
    Ok(())
}

/// How `cgroup` mounts become real mounts: one per host hierarchy, read
/// from the host's mountinfo.
#[derive(Debug, Clone, Default)]
pub struct CgroupMounts {
    /// (name under /sys/fs/cgroup, fstype, super options, host dir to bind
    /// when there is no cgroup namespace)
    pub hierarchies: Vec<CgroupHierarchy>,
    pub cgroupns: bool,
}

#[derive(Debug, Clone)]
pub struct CgroupHierarchy {
    /// The controllers as /proc/self/cgroup names the hierarchy.
    pub key: String,
    pub name: String,
    pub fstype: String,
    pub options: String,
    pub host_dir: PathBuf,
}

impl CgroupMounts {
    /// Reads the host's cgroup mounts and this process's cgroup paths. Run
    /// in the init after the parent placed it in its cgroups, before pivot.
    pub fn discover(cgroupns: bool) -> Result<CgroupMounts> {
        let mountinfo =
            std::fs::read_to_string("/proc/self/mountinfo").ctx("read", "/proc/self/mountinfo")?;
        let own = std::fs::read_to_string("/proc/self/cgroup").ctx("read", "/proc/self/cgroup")?;
        let mut hierarchies = Vec::new();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            let (Some(root), Some(mnt), Some(fstype), Some(sopts)) =
                (l.get(3), l.get(4), r.first(), r.get(2))
            else {
                continue;
            };
            if *fstype != "cgroup" && *fstype != "cgroup2" {
                continue;
            }
            let mnt = Path::new(mnt);
            let name = if *fstype == "cgroup2" && mnt == Path::new("/sys/fs/cgroup") {
                String::new()
            } else {
                match mnt.file_name() {
                    Some(n) => n.to_string_lossy().into_owned(),
                    None => continue,
                }
            };
            let options: Vec<&str> = sopts
                .split(',')
                .filter(|o| *o != "rw" && *o != "ro")
                .collect();
            // This process's path in the hierarchy, relative to the mount's root.
            let key = if *fstype == "cgroup2" {
                String::new()
            } else {
                options
                    .iter()
                    .filter(|o| {
                        !o.starts_with("clone_children")
                            && !o.starts_with("release_agent")
                            && **o != "noprefix"
                            && **o != "xattr"
                            && !o.starts_with("cpuset_v2_mode")
                    })
                    .copied()
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let path = own.lines().find_map(|l| {
                let mut parts = l.splitn(3, ':');
                let (_, ctrl, p) = (parts.next()?, parts.next()?, parts.next()?);
                (ctrl == key).then(|| p.to_string())
            });
            let Some(path) = path else { continue };
            // The same hierarchy mounted again later (a copy the init bound
            // into the rootfs with the host's /sys): the host's comes first.
            if hierarchies
                .iter()
                .any(|h: &CgroupHierarchy| h.fstype == *fstype && h.key == key)
            {
                continue;
            }
            let rel = Path::new(&path)
                .strip_prefix(root)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            hierarchies.push(CgroupHierarchy {
                key,
                name,
                fstype: fstype.to_string(),
                options: options.join(","),
                host_dir: mnt.join(rel),
            });
        }
        Ok(CgroupMounts {
            hierarchies,
            cgroupns,
        })
    }

    fn mount(&self, root: &OwnedFd, dest: &Path, opts: &Options) -> Result<()> {
        let flags =
            opts.flags & !(libc::MS_RDONLY | libc::MS_REMOUNT | libc::MS_BIND | libc::MS_REC);
        let ro = opts.flags & libc::MS_RDONLY;
        let unified_only = self.hierarchies.len() == 1 && self.hierarchies[0].name.is_empty();
        if !unified_only {
            // v1 or hybrid: a tmpfs with one directory per hierarchy, as runc does.
            let target = create_in_root(root, dest, Kind::Dir)?;
            sys::mount(
                Some(Path::new("tmpfs")),
                &proc_fd_path(&target),
                Some("tmpfs"),
                flags,
                Some("mode=755"),
            )
            .ctx("mount tmpfs on", dest)?;
        }
        // Hierarchy dirs are made relative to the fresh tmpfs (or the
        // destination itself when v2 is all there is): no walk from the root
        // per hierarchy.
        let base = husk_fs::open_in_root(root, dest, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        for h in &self.hierarchies {
            let (sub, rel) = if h.name.is_empty() {
                (dest.to_path_buf(), Path::new("."))
            } else {
                (dest.join(&h.name), Path::new(&h.name))
            };
            let target = create_in_root(&base, rel, Kind::Dir)?;
            let tp = proc_fd_path(&target);
            let mounted = if self.cgroupns {
                match sys::mount(
                    Some(Path::new(&h.fstype)),
                    &tp,
                    Some(&h.fstype),
                    flags | ro,
                    Some(&h.options),
                ) {
                    Ok(()) => true,
                    // The host's cgroup2 is already mounted here (a user
                    // namespace that got the host's /sys bound): the kernel
                    // refuses the same filesystem twice on one mount point.
                    // A bind of the container's own dir shows the same.
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => false,
                    Err(e) => return Err(Error::sys("mount cgroup on", &sub, e)),
                }
            } else {
                false
            };
            if !mounted {
                sys::mount(
                    Some(&h.host_dir),
                    &tp,
                    None,
                    libc::MS_BIND | libc::MS_REC,
                    None,
                )
                .ctx("bind cgroup on", &sub)?;
                // The remount must reach the bind just made: reopen. When v2 is
                // all there is, the bind covers `dest` itself, which `base` was
                // opened below: walk to it from the root again.
                let target = if h.name.is_empty() {
                    husk_fs::open_in_root(root, dest, OFlag::O_PATH | OFlag::O_DIRECTORY)?
                } else {
                    husk_fs::open_in_root(&base, rel, OFlag::O_PATH | OFlag::O_DIRECTORY)?
                };
                let remount = |extra: libc::c_ulong| {
                    sys::mount(
                        None,
                        &proc_fd_path(&target),
                        None,
                        flags | ro | extra | libc::MS_BIND | libc::MS_REMOUNT,
                        None,
                    )
                };
                // In a user namespace the host mount's flags are locked: a
                // remount must keep them.
                remount(0)
                    .or_else(|e| match e.raw_os_error() {
                        Some(libc::EPERM) => {
                            remount(crate::userns::locked_flags(&h.host_dir).unwrap_or(0))
                        }
                        _ => Err(e),
                    })
                    .ctx("remount cgroup on", &sub)?;
            }
        }
        if !unified_only && ro != 0 {
            let target = create_in_root(root, dest, Kind::Dir)?;
            sys::mount(
                None,
                &proc_fd_path(&target),
                None,
                flags | ro | libc::MS_REMOUNT,
                Some("mode=755"),
            )
            .ctx("remount read-only", dest)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_propagation_and_data_are_split() {
        let o = parse_options(&s(&[
            "nosuid",
            "noexec",
            "mode=755",
            "size=65536k",
            "rprivate",
            "ro",
        ]));
        assert_eq!(o.flags, libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_RDONLY);
        assert_eq!(o.propagation, vec![libc::MS_PRIVATE | libc::MS_REC]);
        assert_eq!(o.data_string(), "mode=755,size=65536k");
        assert!(!o.bind);
    }

    #[test]
    fn recursive_options_become_mount_attributes() {
        let o = parse_options(&s(&["rbind", "rro", "rnosuid", "rnoatime", "rnosymfollow"]));
        assert_eq!(
            o.rec_set,
            libc::MOUNT_ATTR_RDONLY
                | libc::MOUNT_ATTR_NOSUID
                | libc::MOUNT_ATTR_NOATIME
                | libc::MOUNT_ATTR_NOSYMFOLLOW
        );
        assert_eq!(o.rec_clear, libc::MOUNT_ATTR__ATIME);
        assert!(o.data.is_empty());
        // A later option wins over an earlier opposite one.
        let o = parse_options(&s(&["rro", "rrw", "rstrictatime", "ratime"]));
        assert_eq!(o.rec_set, libc::MOUNT_ATTR_RELATIME);
        assert_eq!(
            o.rec_clear,
            libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR__ATIME
        );
    }

    #[test]
    fn every_option_features_reports_is_known() {
        for opt in crate::features::MOUNT_OPTIONS {
            let o = parse_options(&s(&[opt]));
            assert!(o.data.is_empty(), "{opt} is passed on as fs data");
        }
    }

    #[test]
    fn rbind_is_recursive_and_rw_clears_ro() {
        let o = parse_options(&s(&["rbind", "ro", "rw"]));
        assert!(o.bind);
        assert_eq!(o.flags, libc::MS_BIND | libc::MS_REC);
    }
}
