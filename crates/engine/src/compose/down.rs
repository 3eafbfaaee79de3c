//! `compose down`: the project's containers stopped and removed (one-off
//! `run` containers, then the services', last started first), then its
//! networks, and with `-v` its volumes; what is external, or carries
//! another project's label, stays.

use std::time::Duration;

use husk_compose::Project;

use super::up::{stop_and_remove, Progress};
use super::*;
use crate::network::user;
use crate::Result;

#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    pub volumes: bool,
    pub remove_orphans: bool,
    pub timeout: Option<Duration>,
}

pub fn down(
    paths: &Paths,
    project: &Project,
    o: &DownOptions,
    progress: &mut dyn Progress,
) -> Result<()> {
    let all: Vec<String> = project.services.keys().cloned().collect();
    let order = project.start_order(&all)?;
    let mut mine = containers(paths, &project.name)?;
    // Dependents first: the reverse of the start order, orphans last.
    mine.sort_by_key(|c| {
        let at = order.iter().position(|s| s == service_of(c));
        (std::cmp::Reverse(at.map_or(0, |p| p + 1)), number_of(c))
    });
    // One-off `run` containers go too, first: what users of docker
    // compose v2's down expect, and they would hold the networks.
    for c in oneoffs(paths, &project.name)? {
        match stop_and_remove(paths, &c, o.timeout) {
            // A `--rm` one-off goes by itself once stopped.
            Ok(()) | Err(crate::Error::NoSuchContainer { .. }) => {}
            Err(e) => return Err(e),
        }
        progress.event("Container", &c.name, "Removed");
    }
    for c in &mine {
        let orphan = !project.services.contains_key(service_of(c));
        if orphan && !o.remove_orphans {
            continue;
        }
        stop_and_remove(paths, c, o.timeout)?;
        progress.event("Container", &c.name, "Removed");
    }
    for net in project.networks.values().filter(|n| !n.external) {
        let Ok(n) = user::resolve(paths, &net.name) else {
            continue;
        };
        if n.labels.get(PROJECT) != Some(&project.name) {
            continue;
        }
        user::remove(paths, &n.name)?;
        progress.event("Network", &n.name, "Removed");
    }
    if o.volumes {
        for v in project.volumes.values().filter(|v| !v.external) {
            let Some(vol) = crate::volumes::load(&paths.root, &v.name)? else {
                continue;
            };
            if vol.labels.get(PROJECT) != Some(&project.name) {
                continue;
            }
            crate::volumes::remove(&paths.root, &v.name, &[])?;
            progress.event("Volume", &v.name, "Removed");
        }
    }
    Ok(())
}
