use oci_spec::runtime::{LinuxResources, Spec};

use husk_state::Status;

use crate::{Error, Result, Runtime};

impl Runtime {
    /// `update`: applies new resource limits to a live container and
    /// records them in its state, so later readers see what is in force.
    pub fn update(&self, id: &str, resources: &LinuxResources) -> Result<()> {
        let _lock = self.store.lock(id)?;
        let mut state = self.store.load(id)?;
        let status = self.status(&state);
        if status == Status::Stopped {
            return Err(Error::WrongState {
                id: id.into(),
                status: status.to_string(),
                hint: "only a live container can be updated",
            });
        }
        let m = self.need_cgroup(&state)?;
        // Read before anything changes: the recorded spec is what the next
        // update merges into.
        let mut spec: Spec = serde_json::from_value(state.spec.clone())
            .map_err(Error::record("decode", "spec", id))?;
        m.validate(resources)?;
        m.set(resources)?;
        if let Some(linux) = spec.linux_mut().as_mut() {
            let merged = merge(linux.resources().clone().unwrap_or_default(), resources);
            linux.set_resources(Some(merged));
            state.spec =
                serde_json::to_value(&spec).map_err(Error::record("encode", "spec", id))?;
            self.store.save(&state)?;
        }
        Ok(())
    }
}

/// Overlays the fields `update` set on top of the recorded resources.
fn merge(base: LinuxResources, new: &LinuxResources) -> LinuxResources {
    let mut b = serde_json::to_value(base).unwrap_or_default();
    let n = serde_json::to_value(new).unwrap_or_default();
    fn overlay(b: &mut serde_json::Value, n: &serde_json::Value) {
        match (b, n) {
            (serde_json::Value::Object(bm), serde_json::Value::Object(nm)) => {
                for (k, v) in nm {
                    overlay(bm.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                }
            }
            (b, n) if !n.is_null() => *b = n.clone(),
            _ => {}
        }
    }
    overlay(&mut b, &n);
    serde_json::from_value(b).unwrap_or_default()
}
