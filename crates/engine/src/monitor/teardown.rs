//! Taking a container down: unmounting its rootfs, taking its files out of
//! the store, deleting them.

use std::path::Path;

use super::runtime::Runtime;
use crate::store::{Container, Paths};
use crate::{Error, Result};

/// Unmounts a container rootfs if it is mounted; quiet when it is not.
/// One umount2 instead of reading /proc/self/mountinfo first: that file
/// grows with every container's mounts, and the kernel already answers
/// EINVAL for a path that is not a mount point.
pub fn unmount_rootfs(merged: &Path) -> std::result::Result<(), String> {
    let flags = nix::mount::MntFlags::MNT_DETACH | nix::mount::MntFlags::UMOUNT_NOFOLLOW;
    match nix::mount::umount2(merged, flags) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(format!("umount {}: {e}", merged.display())),
    }
}

/// [`unmount_rootfs`], saying on stderr what failed.
pub fn release_rootfs(merged: &Path) {
    if let Err(e) = unmount_rootfs(merged) {
        eprintln!("husk: {e}");
    }
}

/// One step of a [`Teardown`], named so a caller can tell which failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The processes a dead monitor left in its session.
    KillSession,
    /// The runtime's `delete --force` (its state, the cgroups it knows).
    RuntimeDelete,
    /// The cgroups of a `create` killed before the runtime recorded them.
    Cgroups,
    /// The overlay mounted on `merged`.
    Rootfs,
    /// The network: veth, address, port rules, the netns handle.
    Network,
    /// The bundle on the runroot.
    Bundle,
}

/// What one step of a [`Teardown`] could not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub step: Step,
    pub error: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

type Action<'a> = Box<dyn FnOnce() -> std::result::Result<(), String> + 'a>;

/// Taking a container down, as one value: every step runs, in order,
/// whatever the earlier ones did (a failed unmount must not keep the
/// network, nor a failed disconnect the bundle), and what failed comes
/// back. The monitor, reconciliation and `rm` all build theirs with
/// [`Teardown::container`], so the sequence is written once.
#[derive(Default)]
pub struct Teardown<'a> {
    steps: Vec<(Step, Action<'a>)>,
}

impl<'a> Teardown<'a> {
    pub fn new() -> Teardown<'a> {
        Teardown { steps: Vec::new() }
    }

    /// Adds a step after the ones already there.
    pub fn then(
        mut self,
        step: Step,
        f: impl FnOnce() -> std::result::Result<(), String> + 'a,
    ) -> Teardown<'a> {
        self.steps.push((step, Box::new(f)));
        self
    }

    /// What every container's end undoes: the runtime's delete (started
    /// first: it touches the cgroups and the runtime's state, the steps
    /// after it the overlay and the network, so they run meanwhile), the
    /// rootfs mount, the network (`always`: even when the record names
    /// none, as a monitor that was connecting it must), the runtime's
    /// delete collected, the bundle.
    pub fn container(
        paths: &'a Paths,
        c: &'a Container,
        rt: &'a Runtime,
        always: bool,
    ) -> Teardown<'a> {
        let deleting = std::rc::Rc::new(std::cell::RefCell::new(None));
        let started = deleting.clone();
        let id = c.id.as_str();
        Teardown::new()
            .then(Step::RuntimeDelete, move || {
                *started.borrow_mut() = Some(rt.start_delete_force(id));
                Ok(())
            })
            .then(Step::Rootfs, move || {
                unmount_rootfs(&paths.dir(id).join("merged"))
            })
            .then(Step::Network, move || {
                if !always && !crate::network::needs_disconnect(paths, c) {
                    return Ok(());
                }
                crate::network::disconnect(paths, c).map_err(|e| husk_fs::error_chain(&e))
            })
            .then(Step::RuntimeDelete, move || {
                let d = deleting.borrow_mut().take();
                match d {
                    Some(Ok(d)) => d.wait(),
                    // Could not even start it: once more, waiting.
                    _ => rt.delete_force(id),
                }
                .map_err(|e| husk_fs::error_chain(&e))
            })
            .then(Step::Bundle, move || {
                let b = paths.bundle(id);
                // A shareable container's /dev/shm (oci/extra.rs).
                unmount_rootfs(&crate::oci::extra::shm_path(paths, id))?;
                match std::fs::remove_dir_all(&b) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(format!("remove {}: {e}", b.display())),
                }
            })
    }

    /// Adds `other`'s steps after these.
    pub fn chain(mut self, other: Teardown<'a>) -> Teardown<'a> {
        self.steps.extend(other.steps);
        self
    }

    /// Runs every step; the failures, in order.
    pub fn run(self) -> Vec<Failure> {
        let mut failed = Vec::new();
        for (step, f) in self.steps {
            if let Err(error) = f() {
                failed.push(Failure { step, error });
            }
        }
        failed
    }
}

/// Says on stderr, after `prefix`, what a teardown could not do, except
/// the runtime's delete and the bundle's removal: they fail quietly for a
/// container the runtime never created or whose bundle is already gone,
/// and what they leave the next sweep frees.
pub fn report(prefix: &str, failed: &[Failure]) {
    for f in failed {
        if !matches!(f.step, Step::RuntimeDelete | Step::Bundle) {
            eprintln!("{prefix}{f}");
        }
    }
}

/// Removes the record (first, under the lock, so nobody sees a half
/// removed container) and then its files; an `--rm` container's
/// anonymous volumes go with it, as in docker.
pub fn remove_files(paths: &Paths, id: &str) -> Result<()> {
    match take_files(paths, id)? {
        Some(t) => t.remove(),
        None => Ok(()),
    }
}

/// What a removed container leaves for deleting: its renamed directory.
/// Once taken, the container is gone for every command (the record is no
/// longer where lookups read), so the deleting may happen later, after
/// the caller has told whoever waits. The directory stays locked (see
/// [`lock_dir`]) until it is gone, so a later command's [`sweep`] can
/// tell a removal at work from one that was killed half way.
pub struct Trash {
    path: std::path::PathBuf,
    _held: Option<husk_fs::Lock>,
    /// The store root and the image whose layers it kept.
    image: Option<(std::path::PathBuf, String)>,
}

impl Trash {
    pub fn remove(self) -> Result<()> {
        match std::fs::remove_dir_all(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &self.path, e)),
        }
        // The layers it kept after its image was deleted go with it.
        match &self.image {
            Some((root, image)) => crate::images::release_layers(root, image),
            None => Ok(()),
        }
    }
}

/// An exclusive `flock` on a directory, without waiting; `None` when
/// another process holds it (or it cannot be opened). Follows the
/// directory through a rename: the lock is on the inode.
pub(crate) fn lock_dir(dir: &Path) -> Option<husk_fs::Lock> {
    husk_fs::Lock::try_exclusive_dir(dir).ok().flatten()
}

/// Takes the container out of the store (its record, bundle and, for
/// `--rm`, its anonymous volumes); `None` when it was gone already.
pub fn take_files(paths: &Paths, id: &str) -> Result<Option<Trash>> {
    let record = paths.load(id).ok().flatten();
    let image = record
        .as_ref()
        .map(|c| (paths.root.clone(), c.image_id.clone()));
    let auto = record.filter(|c| c.host_config.auto_remove);
    let dir = paths.dir(id);
    let trash = paths.containers().join(format!(".rm-{id}"));
    let held = {
        let _lock = paths.lock()?;
        // Locked before it is renamed: no sweep ever sees it unlocked
        // while we live.
        let held = lock_dir(&dir);
        match std::fs::rename(&dir, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("rename", &dir, e)),
        }
        held
    };
    let _ = std::fs::remove_dir_all(paths.bundle(id));
    if let Some(c) = auto {
        crate::volumes::remove_anonymous_unshared(paths, &c);
    }
    Ok(Some(Trash {
        path: trash,
        _held: held,
        image,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn a_failing_step_does_not_stop_the_later_ones() {
        let ran = RefCell::new(Vec::new());
        let failed = Teardown::new()
            .then(Step::RuntimeDelete, || {
                ran.borrow_mut().push(Step::RuntimeDelete);
                Err("delete: no such container".into())
            })
            .then(Step::Rootfs, || {
                ran.borrow_mut().push(Step::Rootfs);
                Ok(())
            })
            .then(Step::Network, || {
                ran.borrow_mut().push(Step::Network);
                Err("veth gone".into())
            })
            .then(Step::Bundle, || {
                ran.borrow_mut().push(Step::Bundle);
                Ok(())
            })
            .run();
        assert_eq!(
            *ran.borrow(),
            [
                Step::RuntimeDelete,
                Step::Rootfs,
                Step::Network,
                Step::Bundle
            ]
        );
        assert_eq!(
            failed,
            [
                Failure {
                    step: Step::RuntimeDelete,
                    error: "delete: no such container".into()
                },
                Failure {
                    step: Step::Network,
                    error: "veth gone".into()
                },
            ]
        );
    }

    #[test]
    fn a_container_teardown_runs_every_step_though_each_fails() {
        // A runtime binary that cannot be run, a bundle that is a file
        // under a file, a rootfs that is no mount: each step has
        // something to do and fails or finds nothing, and all run.
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            root: tmp.path().join("root"),
            runroot: tmp.path().join("run"),
            config: None,
        };
        let c = Container {
            id: "0123456789ab".repeat(5) + "0123",
            name: "down".into(),
            created: String::new(),
            path: "sh".into(),
            args: Vec::new(),
            image_id: String::new(),
            lower_dirs: Vec::new(),
            config: crate::store::ContainerConfig::default(),
            host_config: crate::store::HostConfig::default(),
            state: crate::store::State::created(),
            restart_count: 0,
            network: None,
        };
        let rt = Runtime {
            binary: tmp.path().join("no-such-runtime"),
            root: paths.runtime_root(),
            log: None,
        };
        std::fs::create_dir_all(paths.bundle(&c.id)).unwrap();
        std::fs::write(paths.bundle(&c.id).join("config.json"), "{}").unwrap();
        let failed = Teardown::container(&paths, &c, &rt, false).run();
        let steps: Vec<Step> = failed.iter().map(|f| f.step).collect();
        // Both halves of the runtime's delete failed (it cannot be
        // spawned), and still the bundle after them went.
        assert_eq!(steps, [Step::RuntimeDelete], "{failed:?}");
        assert!(!paths.bundle(&c.id).exists());
    }
}
