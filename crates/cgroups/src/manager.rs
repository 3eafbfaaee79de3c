//! The Manager: one container's directory in every hierarchy, and the verbs on it.

use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::{Layout, Version};
use crate::systemd::{self, Unit};
use crate::{freezer, fsio, path, remove, resources, stats};

/// The container's cgroup in one hierarchy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupDir {
    pub version: Version,
    /// Controllers this directory governs (see `Hierarchy::controllers`).
    pub controllers: Vec<String>,
    pub mount: PathBuf,
    pub path: PathBuf,
    /// The topmost directory that did not exist when the manager was built; `destroy`
    /// removes from `path` up to and including it, and never anything above.
    pub first_missing: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manager {
    id: String,
    dirs: Vec<CgroupDir>,
    /// Set with the systemd driver: the scope unit that is this cgroup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    systemd: Option<Unit>,
}

impl Manager {
    /// Resolves paths only (no filesystem writes). `cgroups_path` is linux.cgroupsPath.
    pub fn new(cgroups_path: Option<&str>, container_id: &str, systemd: bool) -> Result<Manager> {
        Manager::with_layout(&Layout::host()?, cgroups_path, container_id, systemd)
    }

    /// As `new`, on a given layout (a fake tree in tests, or a restricted view of the host).
    pub fn with_layout(
        layout: &Layout,
        cgroups_path: Option<&str>,
        container_id: &str,
        systemd: bool,
    ) -> Result<Manager> {
        path::validate_id(container_id)?;
        let unit = if systemd {
            path::check_systemd(layout.systemd_booted)?;
            Some(Unit::parse(cgroups_path, container_id)?)
        } else {
            None
        };
        let inner = match &unit {
            // systemd makes and removes the slices: none of them is ours to rmdir.
            Some(u) => path::InnerPath {
                absolute: true,
                components: u.components()?,
            },
            None => path::resolve(cgroups_path, container_id)?,
        };
        let dirs = layout
            .hierarchies
            .iter()
            .map(|h| {
                let base = if inner.absolute {
                    h.mount.clone()
                } else {
                    h.mount.join(h.own.strip_prefix("/").unwrap_or(&h.own))
                };
                let path = inner.components.iter().fold(base.clone(), |p, c| p.join(c));
                CgroupDir {
                    version: h.version,
                    controllers: h.controllers.clone(),
                    mount: h.mount.clone(),
                    first_missing: if unit.is_some() {
                        None
                    } else {
                        path::first_missing(&base, &inner.components)
                    },
                    path,
                }
            })
            .collect();
        Ok(Manager {
            id: container_id.to_string(),
            dirs,
            systemd: unit,
        })
    }

    /// The systemd driver's scope, when this cgroup is one: it can only be created with
    /// its first process (`start_unit`), not before (`create`).
    pub fn systemd_unit(&self) -> Option<&Unit> {
        self.systemd.as_ref()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn dirs(&self) -> &[CgroupDir] {
        &self.dirs
    }

    /// The v2 directory, for CLONE_INTO_CGROUP on pure-v2 hosts (on hybrid hosts joining it
    /// alone would leave the v1 hierarchies unjoined: use `apply`).
    pub fn unified_dir(&self) -> Option<&Path> {
        self.v2().map(|d| d.path.as_path())
    }

    /// The directory that governs `controller` (`"memory"` -> `.../memory/husk/<id>`).
    pub fn path_of(&self, controller: &str) -> Option<&Path> {
        self.dir_for(controller).map(|d| d.path.as_path())
    }

    pub(crate) fn is_pure_v2(&self) -> bool {
        self.dirs.iter().all(|d| d.version == Version::V2)
    }

    /// On a hybrid host, delegates to our cgroup just the unified controllers a `set` is
    /// about to use. Enabling them all at create time would give every container a css
    /// in, say, hugetlb, and the kernel then refuses to mount that controller as a v1
    /// hierarchy (EBUSY) for as long as any container lives.
    pub(crate) fn enable_v2_controllers(&self, wanted: &[&str]) {
        let Some(d) = self.v2() else { return };
        if self.is_pure_v2() {
            return;
        }
        let owned: Vec<String> = wanted
            .iter()
            .filter(|c| d.controllers.iter().any(|x| x == *c))
            .map(|c| c.to_string())
            .collect();
        if !owned.is_empty() {
            enable_subtree_controllers(d, &owned);
        }
    }

    pub(crate) fn v2(&self) -> Option<&CgroupDir> {
        self.dirs.iter().find(|d| d.version == Version::V2)
    }

    /// Where `controller` lives: a v1 hierarchy that has it, else the unified hierarchy if it
    /// owns it. Freezing and device control are core v2 features with no entry in
    /// cgroup.controllers, and cpuacct's numbers are part of v2's cpu.stat.
    pub(crate) fn dir_for(&self, controller: &str) -> Option<&CgroupDir> {
        if let Some(d) = self
            .dirs
            .iter()
            .find(|d| d.version == Version::V1 && d.controllers.iter().any(|c| c == controller))
        {
            return Some(d);
        }
        let v2 = self.v2()?;
        let owned = match controller {
            "freezer" | "devices" => true,
            "cpuacct" => v2.controllers.iter().any(|c| c == "cpu"),
            c => v2.controllers.iter().any(|x| x == c),
        };
        owned.then_some(v2)
    }

    /// Like `dir_for`, but a clear error naming the resource that needed the controller.
    pub(crate) fn require(&self, controller: &'static str, field: &str) -> Result<&CgroupDir> {
        self.dir_for(controller)
            .ok_or_else(|| Error::ControllerMissing {
                field: field.to_string(),
                controller,
            })
    }

    /// Checks every value before anything is created; no writes.
    pub fn validate(&self, resources: &LinuxResources) -> Result<()> {
        resources::validate(self, resources)
    }

    /// Creates the directory in every hierarchy. On v1 a new cpuset cgroup starts with empty
    /// cpus/mems and refuses tasks, so they are copied down from the parent (as runc does).
    /// On a pure v2 host the parents delegate every controller via cgroup.subtree_control;
    /// on a hybrid host only when `set` needs one (see `enable_v2_controllers`).
    pub fn create(&self) -> Result<()> {
        let pure_v2 = self.is_pure_v2();
        for d in &self.dirs {
            std::fs::create_dir_all(&d.path).map_err(|e| Error::io("mkdir", &d.path, e))?;
            match d.version {
                Version::V1 if d.controllers.iter().any(|c| c == "cpuset") => {
                    resources::cpuset::init_v1(&d.mount, &d.path)?
                }
                Version::V1 => {}
                Version::V2 if pure_v2 => enable_subtree_controllers(d, &d.controllers),
                Version::V2 => {}
            }
        }
        Ok(())
    }

    /// The systemd driver's create, apply and set in one: systemd starts the scope with
    /// `pid` in it and the limits as unit properties, then the limits go to the files as
    /// `set` writes them, and any hierarchy systemd does not manage is joined by hand.
    pub fn start_unit(&self, pid: i32, res: &LinuxResources) -> Result<()> {
        let Some(unit) = &self.systemd else {
            return Err(Error::Systemd {
                reason: "start_unit on a cgroupfs manager".into(),
            });
        };
        resources::validate(self, res)?;
        let pid_u32 = u32::try_from(pid).map_err(|_| Error::Systemd {
            reason: format!("invalid pid {pid}"),
        })?;
        let props = systemd::properties(res, self.is_pure_v2());
        systemd::Bus::system()?.start_scope(&unit.name, &unit.slice, pid_u32, props)?;
        // On failure the caller destroys the manager, which stops the unit.
        {
            for d in &self.dirs {
                if !d.path.is_dir() {
                    std::fs::create_dir_all(&d.path).map_err(|e| Error::io("mkdir", &d.path, e))?;
                    if d.version == Version::V1 && d.controllers.iter().any(|c| c == "cpuset") {
                        resources::cpuset::init_v1(&d.mount, &d.path)?;
                    }
                }
                fsio::write(&d.path, "cgroup.procs", &pid.to_string())?;
            }
            resources::set(self, res)
        }
    }

    /// Moves `pid` into the container's cgroup in every hierarchy.
    pub fn apply(&self, pid: i32) -> Result<()> {
        for d in &self.dirs {
            fsio::write(&d.path, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// Applies `resources` (validated first); also the `update` of a running container.
    pub fn set(&self, resources: &LinuxResources) -> Result<()> {
        resources::validate(self, resources)?;
        if let Some(u) = &self.systemd {
            let props = systemd::properties(resources, self.is_pure_v2());
            systemd::Bus::system()?.set_properties(&u.name, props)?;
        }
        resources::set(self, resources)
    }

    pub fn freeze(&self) -> Result<()> {
        freezer::freeze(self)
    }

    pub fn thaw(&self) -> Result<()> {
        freezer::thaw(self)
    }

    pub fn is_frozen(&self) -> Result<bool> {
        freezer::is_frozen(self)
    }

    /// Every pid in the container's cgroup, including sub-cgroups the container made
    /// (what `ps` and `kill --all` need), sorted.
    pub fn pids(&self) -> Result<Vec<i32>> {
        let dir = ["pids", "memory", "freezer"]
            .iter()
            .find_map(|c| self.dir_for(c).filter(|d| d.version == Version::V1))
            .or_else(|| self.v2())
            .or_else(|| self.dirs.first());
        let Some(d) = dir else {
            return Ok(Vec::new());
        };
        let mut pids = fsio::procs(&d.path)?;
        for child in fsio::child_cgroups(&d.path)? {
            pids.extend(fsio::procs(&child)?);
        }
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    pub fn stats(&self) -> Result<stats::Stats> {
        stats::collect(self)
    }

    /// How many times the kernel OOM killer killed a process in this cgroup.
    pub fn oom_kill_count(&self) -> Result<u64> {
        stats::oom_kill_count(self)
    }

    /// Kills every process in the cgroup and removes its directories everywhere; with the
    /// systemd driver, stops the scope unit first (systemd kills and removes it), then
    /// clears what is left in hierarchies systemd does not manage.
    pub fn destroy(&self) -> Result<()> {
        let stopped = match &self.systemd {
            Some(u) => systemd::Bus::system().and_then(|mut b| b.stop_unit(&u.name)),
            None => Ok(()),
        };
        let removed = remove::destroy(self);
        stopped.and(removed)
    }
}

/// Delegates the unified hierarchy's controllers from the mount down to the new cgroup's
/// parent. Best effort like runc: a controller a parent cannot delegate (e.g. a parent that
/// holds processes, or a threaded subtree) is left off and any limit on it then fails in
/// `set` with the missing file named.
fn enable_subtree_controllers(d: &CgroupDir, controllers: &[String]) {
    let Some(parent) = d.path.parent() else {
        return;
    };
    let Ok(rel) = parent.strip_prefix(&d.mount) else {
        return;
    };
    let mut dir = d.mount.clone();
    let mut chain = vec![dir.clone()];
    for c in rel.components() {
        dir.push(c);
        chain.push(dir.clone());
    }
    for dir in chain {
        for c in controllers {
            let _ = fsio::write(&dir, "cgroup.subtree_control", &format!("+{c}"));
        }
    }
}
