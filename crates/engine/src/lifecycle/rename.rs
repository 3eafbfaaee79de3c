//! `husk rename OLD NEW`: the record's name changes under the containers
//! lock, where every name is checked and taken, so two renames (or a
//! rename and a create) can never leave two containers with one name.
//! Running or not; as docker, the container's hostname stays.

use crate::store::{names, Paths};
use crate::{Error, Result};

pub fn rename(paths: &Paths, name: &str, new_name: &str) -> Result<()> {
    if name.is_empty() || new_name.is_empty() {
        return Err(Error::Refused {
            msg: "Neither old nor new names may be empty".into(),
        });
    }
    let new = new_name.strip_prefix('/').unwrap_or(new_name);
    if !names::valid_name(new) {
        return Err(Error::InvalidName { name: new.into() });
    }
    let lock = paths.lock()?;
    let mut c = paths.resolve(name)?;
    if c.name == new {
        return Err(Error::Refused {
            msg: "Renaming a container with the same name as its current name".into(),
        });
    }
    if let Some(other) = paths.all()?.into_iter().find(|o| o.name == new) {
        return Err(Error::NameInUse {
            name: new.into(),
            id: other.id,
        });
    }
    c.name = new.to_string();
    paths.save(&c)?;
    drop(lock);
    // Its peers on a user-defined network resolve the new name, not the old.
    if let Some(ep) = c.network.as_ref().and_then(|n| n.endpoint.as_ref()) {
        if ep.network != husk_network::network::DEFAULT_NETWORK {
            crate::network::hosts::refresh(paths, &ep.network, None)?;
        }
    }
    Ok(())
}
