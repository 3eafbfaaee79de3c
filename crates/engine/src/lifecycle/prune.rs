//! `husk container prune` and `husk volume prune`: what no running
//! container holds goes, as docker's prunes choose it, with docker's
//! `--filter` keys (`until=`, `label=`, `label!=`; `all=` for volumes).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use super::{reconcile, remove, sweep};
use crate::config::mounts::MountType;
use crate::store::{tree_bytes, Paths, Status};
use crate::{volumes, Error, Result};

/// A prune's `--filter` values.
#[derive(Debug, Default)]
pub struct PruneFilters {
    /// Only what was created before this.
    until: Option<DateTime<Utc>>,
    /// (negated, key, value): `label=k`, `label=k=v`, `label!=k[=v]`.
    labels: Vec<(bool, String, Option<String>)>,
    /// `all=true` (volumes): named volumes too.
    pub all: bool,
}

impl PruneFilters {
    /// Parses `KEY=VALUE` filters; `allowed` are the keys this prune takes.
    pub fn parse(args: &[String], allowed: &[&str]) -> Result<PruneFilters> {
        let mut f = PruneFilters::default();
        let now = Utc::now();
        for a in args {
            let (k, v) = a.split_once('=').ok_or_else(|| Error::Refused {
                msg: format!("bad format of filter (expected name=value): {a}"),
            })?;
            // docker writes `label!=k` as the key `label!` and the value `k`.
            let (key, negated) = match k.strip_suffix('!') {
                Some(k) => (k, true),
                None => (k, false),
            };
            if !allowed.contains(&key) || (negated && key != "label") {
                return Err(Error::Refused {
                    msg: format!("invalid filter '{k}': use {}", allowed.join("=, ") + "="),
                });
            }
            match key {
                "until" => {
                    let t = crate::logtime::parse(v, now).map_err(|reason| Error::Refused {
                        msg: format!("invalid filter 'until={v}': {reason}"),
                    })?;
                    f.until = Some(t);
                }
                "label" => {
                    let (lk, lv) = match v.split_once('=') {
                        Some((lk, lv)) => (lk.to_string(), Some(lv.to_string())),
                        None => (v.to_string(), None),
                    };
                    f.labels.push((negated, lk, lv));
                }
                "all" => {
                    f.all = match v {
                        "1" | "true" | "True" | "TRUE" => true,
                        "0" | "false" | "False" | "FALSE" => false,
                        _ => {
                            return Err(Error::Refused {
                                msg: format!("invalid filter 'all={v}': use true or false"),
                            })
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(f)
    }

    fn labels_match(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(negated, k, v)| {
            let has = match v {
                Some(v) => labels.get(k) == Some(v),
                None => labels.contains_key(k),
            };
            has != *negated
        })
    }

    fn created_before(&self, created: &str) -> bool {
        let Some(until) = self.until else {
            return true;
        };
        DateTime::parse_from_rfc3339(created).is_ok_and(|t| t.with_timezone(&Utc) < until)
    }
}

/// What a prune removed, the bytes that freed, and what it could not
/// remove (one line each: the prune goes on past them, as docker's does).
#[derive(Debug, Default)]
pub struct Pruned {
    pub deleted: Vec<String>,
    pub reclaimed: u64,
    pub failed: Vec<String>,
}

/// docker's `container prune`: every container not running (created,
/// exited, dead) that the filters keep is removed, with the bytes of its
/// writable layer.
pub fn prune_containers(paths: &Paths, filters: &PruneFilters) -> Result<Pruned> {
    sweep(paths);
    let mut out = Pruned::default();
    for c in paths.all()? {
        let Ok(c) = reconcile(paths, &c) else {
            continue;
        };
        if c.is_running() || c.state.status == Status::Restarting {
            continue;
        }
        if !filters.created_before(&c.created) || !filters.labels_match(&c.config.labels) {
            continue;
        }
        let size = tree_bytes(&paths.dir(&c.id).join("upper"));
        match remove(paths, &c.id, false) {
            Ok(()) => {
                out.deleted.push(c.id);
                out.reclaimed += size;
            }
            Err(e) => out
                .failed
                .push(format!("remove container {}: {}", c.id, husk_fs::Chain(&e))),
        }
    }
    Ok(out)
}

/// docker's `volume prune` (23 and later): the anonymous volumes no
/// container uses, or with `all` every unused one, with the bytes of their data.
pub fn prune_volumes(paths: &Paths, filters: &PruneFilters) -> Result<Pruned> {
    let in_use: HashSet<String> = paths
        .all()?
        .iter()
        .flat_map(|c| c.host_config.mount_points.iter())
        .filter(|m| m.kind == MountType::Volume)
        .map(|m| m.name.clone())
        .collect();
    let mut out = Pruned::default();
    for v in volumes::list(&paths.root)? {
        if in_use.contains(&v.name)
            || !(filters.all || v.anonymous)
            || !filters.labels_match(&v.labels)
        {
            continue;
        }
        let size = tree_bytes(&volumes::data_dir(&paths.root, &v.name));
        match volumes::remove(&paths.root, &v.name, &[]) {
            Ok(()) => {
                out.deleted.push(v.name);
                out.reclaimed += size;
            }
            Err(e) => out
                .failed
                .push(format!("remove volume {}: {}", v.name, husk_fs::Chain(&e))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(args: &[&str], allowed: &[&str]) -> Result<PruneFilters> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        PruneFilters::parse(&args, allowed)
    }

    #[test]
    fn filters_as_docker_reads_them() {
        let labels: BTreeMap<String, String> = [("tier".to_string(), "front".to_string())].into();
        let keep = |a: &[&str]| f(a, &["label", "until"]).unwrap().labels_match(&labels);
        assert!(keep(&["label=tier"]) && keep(&["label=tier=front"]));
        assert!(!keep(&["label=tier=back"]) && !keep(&["label!=tier"]));
        assert!(keep(&["label!=tier=back"]) && keep(&[]));
        let until = f(&["until=1h"], &["until"]).unwrap();
        assert!(until.created_before("2001-01-01T00:00:00Z"));
        assert!(!until.created_before(&Utc::now().to_rfc3339()));
        assert!(f(&["until=1h"], &["label"]).is_err());
        assert!(f(&["nonsense"], &["label"]).is_err());
        assert!(f(&["all=true"], &["label", "all"]).unwrap().all);
    }
}
