//! The five capability sets of the spec, applied in runc's order: bounding
//! first (while we still hold CAP_SETPCAP), then after the uid switch the
//! effective, permitted and inheritable sets, then ambient.

use std::collections::HashSet;
use std::str::FromStr;

use caps::{CapSet, Capability, CapsHashSet};
use oci_spec::runtime::LinuxCapabilities;

use crate::{Error, Result};

/// The sets to apply, resolved to what this kernel knows.
#[derive(Debug, Clone, Default)]
pub struct CapSets {
    pub bounding: CapsHashSet,
    pub effective: CapsHashSet,
    pub permitted: CapsHashSet,
    pub inheritable: CapsHashSet,
    pub ambient: CapsHashSet,
}

/// Capabilities the running kernel supports (cap_last_cap).
fn supported() -> CapsHashSet {
    caps::runtime::procfs_all_supported(None).unwrap_or_else(|_| caps::all())
}

fn convert<'a>(
    names: impl Iterator<Item = String> + 'a,
    known: &CapsHashSet,
    field: &str,
) -> Result<CapsHashSet> {
    let mut out = HashSet::new();
    for name in names {
        let cap = Capability::from_str(&name).map_err(|_| {
            Error::Spec(format!(
                "process.capabilities.{field}: unknown capability {name:?}"
            ))
        })?;
        // runc ignores capabilities the kernel does not have (a spec written
        // for a newer kernel must still run).
        if known.contains(&cap) {
            out.insert(cap);
        }
    }
    Ok(out)
}

impl CapSets {
    pub fn from_spec(c: Option<&LinuxCapabilities>) -> Result<CapSets> {
        let Some(c) = c else {
            // No capabilities object: the process gets none, as in runc.
            return Ok(CapSets::default());
        };
        let known = supported();
        let names = |s: &Option<oci_spec::runtime::Capabilities>| -> Vec<String> {
            s.as_ref()
                .map(|set| set.iter().map(|c| format!("CAP_{c}")).collect())
                .unwrap_or_default()
        };
        Ok(CapSets {
            bounding: convert(names(c.bounding()).into_iter(), &known, "bounding")?,
            effective: convert(names(c.effective()).into_iter(), &known, "effective")?,
            permitted: convert(names(c.permitted()).into_iter(), &known, "permitted")?,
            inheritable: convert(names(c.inheritable()).into_iter(), &known, "inheritable")?,
            ambient: convert(names(c.ambient()).into_iter(), &known, "ambient")?,
        })
    }

    /// Drops every capability outside the bounding set.
    pub fn apply_bounding(&self) -> Result<()> {
        for cap in supported() {
            if !self.bounding.contains(&cap) {
                caps::drop(None, CapSet::Bounding, cap).map_err(|e| {
                    Error::Spec(format!("process.capabilities.bounding: drop {cap}: {e}"))
                })?;
            }
        }
        Ok(())
    }

    /// Sets effective, permitted and inheritable, then raises ambient.
    pub fn apply_rest(&self) -> Result<()> {
        // Effective first: lowering permitted below the current effective
        // set would be refused by capset(2).
        let set = |set: CapSet, value: &CapsHashSet, field: &str| {
            caps::set(None, set, value)
                .map_err(|e| Error::Spec(format!("process.capabilities.{field}: {e}")))
        };
        let current_e = caps::read(None, CapSet::Effective).unwrap_or_default();
        let interim: CapsHashSet = current_e.intersection(&self.permitted).copied().collect();
        set(CapSet::Effective, &interim, "effective")?;
        set(CapSet::Permitted, &self.permitted, "permitted")?;
        set(CapSet::Inheritable, &self.inheritable, "inheritable")?;
        set(CapSet::Effective, &self.effective, "effective")?;
        caps::clear(None, CapSet::Ambient)
            .map_err(|e| Error::Spec(format!("process.capabilities.ambient: {e}")))?;
        // The kernel raises an ambient capability only if it is also
        // permitted and inheritable. runc and crun skip the others (runc's
        // own `runc spec` lists ambient capabilities without inheritable
        // ones), so a spec written for them must run here too; the parent
        // has warned about them (`unraisable_ambient`).
        for cap in self.ambient.intersection(&self.raisable_ambient()) {
            caps::raise(None, CapSet::Ambient, *cap).map_err(|e| {
                Error::Spec(format!(
                    "process.capabilities.ambient: raise {cap}: {e} (an ambient capability must also be permitted and inheritable)"
                ))
            })?;
        }
        Ok(())
    }
}

impl CapSets {
    fn raisable_ambient(&self) -> CapsHashSet {
        self.permitted
            .intersection(&self.inheritable)
            .copied()
            .collect()
    }

    /// The ambient capabilities the kernel will refuse to raise, sorted,
    /// for the warning the parent prints before anything starts.
    pub fn unraisable_ambient(&self) -> Vec<String> {
        let ok = self.raisable_ambient();
        let mut v: Vec<String> = self
            .ambient
            .iter()
            .filter(|c| !ok.contains(c))
            .map(|c| c.to_string())
            .collect();
        v.sort();
        v
    }
}

/// The names of a capability set, for `features` and messages.
pub fn known_names() -> Vec<String> {
    let mut v: Vec<String> = caps::all().iter().map(|c| c.to_string()).collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_convert_and_unknown_are_errors() {
        let c: LinuxCapabilities = serde_json::from_str(
            r#"{"bounding":["CAP_KILL","CAP_CHOWN"],"effective":["CAP_KILL"]}"#,
        )
        .unwrap();
        let s = CapSets::from_spec(Some(&c)).unwrap();
        assert!(s.bounding.contains(&Capability::CAP_CHOWN));
        assert_eq!(s.effective.len(), 1);
        assert!(s.permitted.is_empty());
    }

    #[test]
    fn ambient_outside_permitted_and_inheritable_is_reported() {
        let c: LinuxCapabilities = serde_json::from_str(
            r#"{"permitted":["CAP_KILL","CAP_CHOWN"],"inheritable":["CAP_KILL"],
                "ambient":["CAP_KILL","CAP_CHOWN","CAP_AUDIT_WRITE"]}"#,
        )
        .unwrap();
        let s = CapSets::from_spec(Some(&c)).unwrap();
        assert_eq!(s.unraisable_ambient(), ["CAP_AUDIT_WRITE", "CAP_CHOWN"]);
    }
}
