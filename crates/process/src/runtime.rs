use std::path::Path;

use husk_cgroups::Manager;
use husk_state::{ContainerState, Status, Store};

use crate::Result;

/// The runtime's view of its `--root`: every verb goes through here.
pub struct Runtime {
    pub(crate) store: Store,
    pub(crate) systemd_cgroup: bool,
}

impl Runtime {
    pub fn new(root: &Path, systemd_cgroup: bool) -> Result<Runtime> {
        Ok(Runtime {
            store: Store::open(root)?,
            systemd_cgroup,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The cgroup manager recorded at create time.
    pub(crate) fn cgroup(&self, state: &ContainerState) -> Option<Manager> {
        serde_json::from_value(state.cgroup.clone()).ok()
    }

    /// The hooks of the spec the container was created with.
    pub(crate) fn spec_hooks(&self, state: &ContainerState) -> Option<oci_spec::runtime::Hooks> {
        serde_json::from_value::<oci_spec::runtime::Spec>(state.spec.clone())
            .ok()
            .and_then(|s| s.hooks().clone())
    }

    /// The live status of a container, from the kernel.
    pub fn status(&self, state: &ContainerState) -> Status {
        let dir = self.store.dir(&state.id);
        state.status(&dir, || {
            self.cgroup(state)
                .and_then(|m| m.is_frozen().ok())
                .unwrap_or(false)
        })
    }

    /// `state ID`: the OCI state JSON.
    pub fn state(&self, id: &str) -> Result<serde_json::Value> {
        let s = self.store.load(id)?;
        let status = self.status(&s);
        Ok(s.oci_json(status))
    }

    /// `list`: every container with its live status.
    pub fn list(&self) -> Result<Vec<(ContainerState, Status)>> {
        let mut out = Vec::new();
        for id in self.store.list()? {
            if let Ok(s) = self.store.load(&id) {
                let st = self.status(&s);
                out.push((s, st));
            }
        }
        Ok(out)
    }

    /// Host pids of every process in the container's cgroup.
    pub fn pids(&self, id: &str) -> Result<Vec<i32>> {
        let s = self.store.load(id)?;
        match self.cgroup(&s) {
            Some(m) => Ok(m.pids()?),
            None => Ok(vec![s.pid]),
        }
    }

    pub fn pause(&self, id: &str) -> Result<()> {
        let _lock = self.store.lock(id)?;
        let s = self.store.load(id)?;
        match self.status(&s) {
            Status::Running => {}
            other => {
                return Err(crate::Error::WrongState {
                    id: id.into(),
                    status: other.to_string(),
                    hint: "only a running container can be paused",
                })
            }
        }
        let m = self
            .cgroup(&s)
            .ok_or_else(|| crate::Error::Spec("container has no cgroup".into()))?;
        Ok(m.freeze()?)
    }

    pub fn resume(&self, id: &str) -> Result<()> {
        let _lock = self.store.lock(id)?;
        let s = self.store.load(id)?;
        match self.status(&s) {
            Status::Paused => {}
            other => {
                return Err(crate::Error::WrongState {
                    id: id.into(),
                    status: other.to_string(),
                    hint: "only a paused container can be resumed",
                })
            }
        }
        let m = self
            .cgroup(&s)
            .ok_or_else(|| crate::Error::Spec("container has no cgroup".into()))?;
        Ok(m.thaw()?)
    }
}
