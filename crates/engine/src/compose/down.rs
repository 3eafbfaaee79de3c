//! `compose down`: the project's containers stopped and removed (one-off
//! `run` containers, then the services', last started first), then its
//! networks, and with `-v` its volumes; what is external, or carries
//! another project's label, stays.

use std::collections::BTreeMap;
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
    // One-off `run` containers go too, first: what users of docker
    // compose v2's down expect, and they would hold the networks.
    let oneoffs = oneoffs(paths, &project.name)?;
    stop_in_parallel(paths, &oneoffs, o.timeout, progress)?;
    let mine: Vec<Container> = containers(paths, &project.name)?
        .into_iter()
        .filter(|c| o.remove_orphans || project.services.contains_key(service_of(c)))
        .collect();
    // Dependents before what they depend on, as docker compose stops
    // them; containers of one rank at once, so a project of services
    // that ignore SIGTERM takes one stop timeout, not one each.
    let rank = ranks(project, &order);
    let mut by_rank: BTreeMap<std::cmp::Reverse<usize>, Vec<Container>> = BTreeMap::new();
    for c in mine {
        // Orphans depend on nothing the project knows: with the dependents.
        let r = rank.get(service_of(&c)).copied().unwrap_or(usize::MAX);
        by_rank.entry(std::cmp::Reverse(r)).or_default().push(c);
    }
    for (_, mut group) in by_rank {
        group.sort_by_key(number_of);
        stop_in_parallel(paths, &group, o.timeout, progress)?;
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

/// A service's rank: 0 without dependencies, else one more than its
/// highest-ranked dependency (`order` is a start order, so every
/// dependency is ranked before its dependents).
fn ranks(project: &Project, order: &[String]) -> BTreeMap<String, usize> {
    let mut rank: BTreeMap<String, usize> = BTreeMap::new();
    for name in order {
        let deps = project
            .services
            .get(name)
            .map(|s| {
                s.depends_on
                    .keys()
                    .filter_map(|d| rank.get(d))
                    .max()
                    .map_or(0, |m| m + 1)
            })
            .unwrap_or(0);
        rank.insert(name.clone(), deps);
    }
    rank
}

/// Stops and removes `cs` each on a thread of its own (this process
/// forks no container), reporting them in order; the first error wins
/// once all are done.
fn stop_in_parallel(
    paths: &Paths,
    cs: &[Container],
    timeout: Option<Duration>,
    progress: &mut dyn Progress,
) -> Result<()> {
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cs
            .iter()
            .map(|c| scope.spawn(move || stop_and_remove(paths, c, timeout)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(crate::Error::Conflict {
                        id: String::new(),
                        reason: "a stop thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut first = None;
    for (c, r) in cs.iter().zip(results) {
        match r {
            // A `--rm` container goes by itself once stopped.
            Ok(()) | Err(crate::Error::NoSuchContainer { .. }) => {
                progress.event("Container", &c.name, "Removed")
            }
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependents_rank_above_what_they_depend_on() {
        let yaml = "services:\n  db: {image: x}\n  cache: {image: x}\n  app: {image: x, depends_on: [db, cache]}\n  web: {image: x, depends_on: [app]}\n  job: {image: x}\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
        let mut o = husk_compose::LoadOptions::new(dir.path());
        o.project_name = Some("p".into());
        let project = husk_compose::load(&o).unwrap();
        let all: Vec<String> = project.services.keys().cloned().collect();
        let r = ranks(&project, &project.start_order(&all).unwrap());
        assert_eq!((r["db"], r["cache"], r["job"]), (0, 0, 0));
        assert_eq!((r["app"], r["web"]), (1, 2));
    }
}
