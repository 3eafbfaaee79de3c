use std::path::Path;

use husk_cgroups::Manager;
use husk_state::{ContainerState, Status, Store};

use crate::{Error, Result};

/// The runtime's view of its `--root`: every verb goes through here.
pub struct Runtime {
    pub(crate) store: Store,
    pub(crate) systemd_cgroup: bool,
    /// Run by a user without privileges over the host (`--rootless`,
    /// decided as runc decides `auto`): the container needs a user
    /// namespace, and cgroups it may not write are done without.
    pub(crate) rootless: bool,
}

impl Runtime {
    pub fn new(root: &Path, systemd_cgroup: bool) -> Result<Runtime> {
        Ok(Runtime {
            store: Store::open(root)?,
            systemd_cgroup,
            rootless: false,
        })
    }

    /// The same, run rootless (see [`Runtime::rootless`]).
    pub fn rootless(mut self, rootless: bool) -> Runtime {
        self.rootless = rootless;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The cgroup manager recorded at create time; `None` when the
    /// container was created without one. A record that does not decode is
    /// an error: treating it as "no cgroup" would make `delete` leak it.
    pub(crate) fn cgroup(&self, state: &ContainerState) -> Result<Option<Manager>> {
        if state.cgroup.is_null() {
            return Ok(None);
        }
        serde_json::from_value(state.cgroup.clone())
            .map(Some)
            .map_err(Error::record("decode", "cgroup", &state.id))
    }

    /// The cgroup manager, for verbs that cannot work without one.
    pub(crate) fn need_cgroup(&self, state: &ContainerState) -> Result<Manager> {
        self.cgroup(state)?.ok_or_else(|| Error::NoCgroup {
            id: state.id.clone(),
        })
    }

    /// The hooks of the spec the container was created with.
    pub(crate) fn spec_hooks(
        &self,
        state: &ContainerState,
    ) -> Result<Option<oci_spec::runtime::Hooks>> {
        serde_json::from_value::<oci_spec::runtime::Spec>(state.spec.clone())
            .map(|s| s.hooks().clone())
            .map_err(Error::record("decode", "spec", &state.id))
    }

    /// The live status of a container, from the kernel. Status only reads:
    /// a cgroup record that does not decode shows as not paused here, and
    /// fails the verbs that act on the cgroup.
    pub fn status(&self, state: &ContainerState) -> Status {
        let dir = self.store.dir(&state.id);
        state.status(&dir, || {
            matches!(
                self.cgroup(state).map(|m| m.map(|m| m.is_frozen())),
                Ok(Some(Ok(true)))
            )
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
        match self.cgroup(&s)? {
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
                return Err(Error::WrongState {
                    id: id.into(),
                    status: other.to_string(),
                    hint: "only a running container can be paused",
                })
            }
        }
        let m = self.need_cgroup(&s)?;
        Ok(m.freeze()?)
    }

    pub fn resume(&self, id: &str) -> Result<()> {
        let _lock = self.store.lock(id)?;
        let s = self.store.load(id)?;
        match self.status(&s) {
            Status::Paused => {}
            other => {
                return Err(Error::WrongState {
                    id: id.into(),
                    status: other.to_string(),
                    hint: "only a paused container can be resumed",
                })
            }
        }
        let m = self.need_cgroup(&s)?;
        Ok(m.thaw()?)
    }
}
