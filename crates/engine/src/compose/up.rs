//! `compose up`: the project's networks and volumes made when missing,
//! then each selected service, dependencies first, converged to its
//! file: a container whose config hash (or image) changed is recreated,
//! an unchanged one left running (or started), missing replicas made,
//! extra ones removed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use husk_compose::{Condition, Project, Service};

use super::convert::{create_options, patch};
use super::*;
use crate::lifecycle;
use crate::network::user;
use crate::store::health::HealthStatus;
use crate::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// Only these services (and what they depend on); empty: every
    /// active one.
    pub services: Vec<String>,
    pub force_recreate: bool,
    pub no_recreate: bool,
    pub remove_orphans: bool,
    /// How long a recreated container gets to stop (None: its own).
    pub timeout: Option<Duration>,
}

/// docker compose's progress lines: `Network demo_default  Created`.
pub trait Progress {
    fn event(&mut self, kind: &str, name: &str, what: &str);
}

fn conflict(project: &Project, reason: String) -> Error {
    Error::ComposeConflict {
        project: project.name.clone(),
        reason,
    }
}

/// Brings the project up; `images` maps each selected service to the
/// image it runs (pulled or built by the caller). Returns the ids of
/// the service containers it left running.
pub fn up(
    paths: &Paths,
    exe: &Path,
    project: &Project,
    images: &BTreeMap<String, String>,
    o: &UpOptions,
    progress: &mut dyn Progress,
) -> Result<Vec<String>> {
    let selected = project.services_for(&o.services)?;
    let names: Vec<&str> = selected.iter().map(|s| s.name.as_str()).collect();
    let order = project.start_order(&names)?;
    orphans(paths, project, o.remove_orphans, progress)?;
    let mut networks = BTreeSet::new();
    let mut volumes = BTreeSet::new();
    for s in &selected {
        if s.network_mode.is_none() {
            networks.extend(s.networks.keys().cloned());
        }
        for m in &s.volumes {
            if m.kind == husk_compose::MountType::Volume {
                volumes.extend(m.source.iter().cloned());
            }
        }
    }
    for key in &networks {
        ensure_network(paths, project, key, progress)?;
    }
    for key in &volumes {
        ensure_volume(paths, project, key, progress)?;
    }
    let mut ids = Vec::new();
    for name in &order {
        let Some(svc) = project.services.get(name) else {
            continue;
        };
        wait_dependencies(paths, project, svc, progress)?;
        let image = images
            .get(name)
            .ok_or_else(|| conflict(project, format!("service {name}: no image to run")))?;
        ids.extend(converge(paths, exe, project, svc, image, o, progress)?);
    }
    Ok(ids)
}

/// Containers of the project whose service the file no longer has.
fn orphans(
    paths: &Paths,
    project: &Project,
    remove: bool,
    progress: &mut dyn Progress,
) -> Result<()> {
    for c in containers(paths, &project.name)? {
        if project.services.contains_key(service_of(&c)) {
            continue;
        }
        if remove {
            lifecycle::remove(paths, &c.id, true)?;
            progress.event("Container", &c.name, "Removed");
        } else {
            progress.event(
                "Container",
                &c.name,
                "Orphan (its service is not in the file: --remove-orphans removes it)",
            );
        }
    }
    Ok(())
}

pub(super) fn ensure_network(
    paths: &Paths,
    project: &Project,
    key: &str,
    progress: &mut dyn Progress,
) -> Result<()> {
    let Some(net) = project.networks.get(key) else {
        return Err(conflict(project, format!("network {key} is not declared")));
    };
    if user::resolve(paths, &net.name).is_ok() {
        return Ok(());
    }
    if net.external {
        return Err(conflict(
            project,
            format!(
                "network {} is external but does not exist: create it with `husk network create {}`",
                net.name, net.name
            ),
        ));
    }
    // Every pool: an IPv4 and an IPv6 one make a dual-stack network.
    let pools = net
        .ipam
        .as_ref()
        .map(|i| i.config.as_slice())
        .unwrap_or_default();
    let each = |f: fn(&husk_compose::IpamPool) -> Option<&String>| {
        let values: Vec<String> = pools.iter().filter_map(f).cloned().collect();
        user::join_flags(&values)
    };
    let mut labels = net.labels.clone();
    labels.insert(PROJECT.into(), project.name.clone());
    labels.insert(NETWORK.into(), key.to_string());
    labels.insert(VERSION.into(), COMPAT_VERSION.into());
    user::create(
        paths,
        &user::CreateOptions {
            name: net.name.clone(),
            driver: net.driver.clone().unwrap_or_else(|| "bridge".into()),
            subnet: each(|p| p.subnet.as_ref()),
            gateway: each(|p| p.gateway.as_ref()),
            ip_range: each(|p| p.ip_range.as_ref()),
            internal: net.internal,
            ipv6: net.enable_ipv6.unwrap_or(false),
            labels,
            options: net.driver_opts.clone(),
        },
    )?;
    progress.event("Network", &net.name, "Created");
    Ok(())
}

pub(super) fn ensure_volume(
    paths: &Paths,
    project: &Project,
    key: &str,
    progress: &mut dyn Progress,
) -> Result<()> {
    let Some(v) = project.volumes.get(key) else {
        return Err(conflict(project, format!("volume {key} is not declared")));
    };
    if crate::volumes::load(&paths.root, &v.name)?.is_some() {
        return Ok(());
    }
    if v.external {
        return Err(conflict(
            project,
            format!(
                "volume {} is external but does not exist: create it with `husk volume create {}`",
                v.name, v.name
            ),
        ));
    }
    if let Some(d) = v.driver.as_deref().filter(|d| *d != "local") {
        return Err(conflict(
            project,
            format!(
                "volume {}: driver {d:?} is not available: only local is",
                v.name
            ),
        ));
    }
    let mut labels = v.labels.clone();
    labels.insert(PROJECT.into(), project.name.clone());
    labels.insert(VOLUME.into(), key.to_string());
    labels.insert(VERSION.into(), COMPAT_VERSION.into());
    crate::volumes::create(&paths.root, &v.name, labels)?;
    progress.event("Volume", &v.name, "Created");
    Ok(())
}

/// Waits until every dependency of `svc` is where its condition says.
pub(super) fn wait_dependencies(
    paths: &Paths,
    project: &Project,
    svc: &Service,
    progress: &mut dyn Progress,
) -> Result<()> {
    for (dep, d) in &svc.depends_on {
        if d.condition == Condition::ServiceStarted {
            continue;
        }
        let ids: Vec<String> = containers(paths, &project.name)?
            .into_iter()
            .filter(|c| service_of(c) == dep)
            .map(|c| c.id)
            .collect();
        if ids.is_empty() && !d.required {
            continue;
        }
        for id in ids {
            wait_one(paths, project, dep, &id, d.condition, progress)?;
        }
    }
    Ok(())
}

fn wait_one(
    paths: &Paths,
    project: &Project,
    service: &str,
    id: &str,
    condition: Condition,
    progress: &mut dyn Progress,
) -> Result<()> {
    let mut said = false;
    loop {
        let c = lifecycle::reconcile(paths, &paths.resolve(id)?)?;
        let ended = !c.is_running();
        match condition {
            Condition::ServiceHealthy => {
                if c.config.healthcheck.is_none() {
                    return Err(conflict(
                        project,
                        format!(
                            "service {service} has no healthcheck: a service_healthy dependency needs one"
                        ),
                    ));
                }
                match c.state.health.as_ref().map(|h| h.status) {
                    Some(HealthStatus::Healthy) if !ended => {
                        progress.event("Container", &c.name, "Healthy");
                        return Ok(());
                    }
                    Some(HealthStatus::Unhealthy) => {
                        return Err(conflict(
                            project,
                            format!(
                                "dependency failed to start: container {} is unhealthy",
                                c.name
                            ),
                        ))
                    }
                    _ if ended => {
                        return Err(conflict(
                            project,
                            format!(
                                "dependency failed to start: container {} exited ({})",
                                c.name, c.state.exit_code
                            ),
                        ))
                    }
                    _ => {}
                }
            }
            Condition::ServiceCompletedSuccessfully => {
                if ended && c.state.exit_code == 0 {
                    progress.event("Container", &c.name, "Exited");
                    return Ok(());
                }
                if ended {
                    return Err(conflict(
                        project,
                        format!(
                            "service {service} didn't complete successfully: exit {}",
                            c.state.exit_code
                        ),
                    ));
                }
            }
            Condition::ServiceStarted => return Ok(()),
        }
        if !said {
            progress.event("Container", &c.name, "Waiting");
            said = true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The image id `image` names now (None: not in the store).
fn image_id(paths: &Paths, image: &str) -> Option<String> {
    let store = husk_image::Store::open_read(&paths.root).ok()?;
    store.resolve(image).ok().map(|i| i.id.to_string())
}

fn converge(
    paths: &Paths,
    exe: &Path,
    project: &Project,
    svc: &Service,
    image: &str,
    o: &UpOptions,
    progress: &mut dyn Progress,
) -> Result<Vec<String>> {
    let want = svc.replicas();
    let hash = svc.config_hash();
    let current_image = image_id(paths, image);
    let mine: Vec<Container> = containers(paths, &project.name)?
        .into_iter()
        .filter(|c| service_of(c) == svc.name)
        .collect();
    // Scaled down: the highest numbers go.
    for c in mine.iter().rev().filter(|c| number_of(c) > want) {
        stop_and_remove(paths, c, o.timeout)?;
        progress.event("Container", &c.name, "Removed");
    }
    let mut ids = Vec::new();
    for n in 1..=want {
        let existing = mine.iter().find(|c| number_of(c) == n);
        if let Some(c) = existing {
            let changed = c.config.labels.get(CONFIG_HASH) != Some(&hash)
                || current_image.as_ref().is_some_and(|i| *i != c.image_id);
            if !(o.force_recreate || changed && !o.no_recreate) {
                let c = lifecycle::reconcile(paths, c)?;
                if c.is_running() {
                    progress.event("Container", &c.name, "Running");
                } else {
                    lifecycle::start(paths, &c.id, exe, None)?;
                    progress.event("Container", &c.name, "Started");
                }
                ids.push(c.id.clone());
                continue;
            }
            stop_and_remove(paths, c, o.timeout)?;
            progress.event("Container", &c.name, "Recreated");
        }
        let opts = create_options(project, svc, n, image)?;
        let c = lifecycle::create(paths, &opts)?;
        paths.update(&c.id, |r| {
            patch(svc, project, r);
            Ok(())
        })?;
        if existing.is_none() {
            progress.event("Container", &c.name, "Created");
        }
        lifecycle::start(paths, &c.id, exe, None)?;
        progress.event("Container", &c.name, "Started");
        ids.push(c.id);
    }
    Ok(ids)
}

pub(super) fn stop_and_remove(
    paths: &Paths,
    c: &Container,
    timeout: Option<Duration>,
) -> Result<()> {
    let c = lifecycle::reconcile(paths, c)?;
    if c.is_running() {
        lifecycle::stop_with(paths, &c.id, timeout)?;
    }
    lifecycle::remove(paths, &c.id, true)
}
