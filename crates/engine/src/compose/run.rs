//! `compose run`: a one-off container of a service, as docker compose v2
//! makes it: named `<project>-<service>-run-<12 hex>`, labelled like the
//! service's containers but `oneoff=True` (so `up` never counts it and
//! `ps` never lists it), on the service's networks without the service's
//! alias, its ports published only when asked, no restart policy.

use husk_compose::{Project, Service};

use super::convert::{create_options, patch};
use super::up::{ensure_network, ensure_volume, wait_dependencies, Progress};
use super::*;
use crate::lifecycle;
use crate::store::names;
use crate::{Error, Result};

/// The one-off's own settings; what is None comes from the service.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `--name` (default: docker compose's one-off name).
    pub name: Option<String>,
    /// The command given after the service (None: the service's).
    pub command: Option<Vec<String>>,
    /// `--entrypoint`, split in words (Some(empty): none at all).
    pub entrypoint: Option<Vec<String>>,
    /// `-e K=V`, over the service's environment.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// `-p`: published in addition (or alone, without `service_ports`).
    pub publish: Vec<String>,
    /// `--service-ports`: the service's `ports:` published too.
    pub service_ports: bool,
    /// `--no-deps`: the dependencies' conditions are not waited for.
    pub no_deps: bool,
    /// `--rm`.
    pub auto_remove: bool,
    pub tty: bool,
    pub interactive: bool,
    /// `-d`: nothing attached (what inspect's Config.Attach* say).
    pub detach: bool,
}

/// docker compose v2's one-off name: the slug's first 12 hex digits.
fn oneoff_name(project: &Project, svc: &Service, slug: &str) -> String {
    format!("{}-{}-run-{}", project.name, svc.name, &slug[..12])
}

/// Creates (does not start) the one-off container of `service` running
/// `image`: the service's networks and volumes made when missing, and
/// unless `no_deps` its dependencies' conditions waited for (the caller
/// brings them up first).
pub fn create_oneoff(
    paths: &Paths,
    project: &Project,
    service: &str,
    image: &str,
    o: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<Container> {
    let svc = project
        .services
        .get(service)
        .ok_or_else(|| Error::ComposeConflict {
            project: project.name.clone(),
            reason: format!("no such service: {service}"),
        })?;
    if svc.network_mode.is_none() {
        for key in svc.networks.keys() {
            ensure_network(paths, project, key, progress)?;
        }
    }
    for m in &svc.volumes {
        if let (husk_compose::MountType::Volume, Some(key)) = (m.kind, &m.source) {
            ensure_volume(paths, project, key, progress)?;
        }
    }
    if !o.no_deps {
        wait_dependencies(paths, project, svc, progress)?;
    }
    let mut c = create_options(project, svc, 1, image)?;
    let slug = names::new_id();
    c.name = Some(
        o.name
            .clone()
            .unwrap_or_else(|| oneoff_name(project, svc, &slug)),
    );
    if !o.service_ports {
        c.publish.clear();
    }
    c.publish.extend(o.publish.iter().cloned());
    // A one-off is not restarted, and (without docker compose's
    // --use-aliases) is not reachable by the service's name: that name
    // belongs to the service's own containers.
    c.restart = None;
    c.network_aliases.clear();
    if o.entrypoint.is_some() || o.command.is_some() {
        let entrypoint = o
            .entrypoint
            .clone()
            .or_else(|| svc.entrypoint.as_ref().map(|e| e.args.clone()));
        // A new entrypoint drops the service's command, as docker's
        // --entrypoint drops the image's CMD.
        let command = match (&o.command, &o.entrypoint) {
            (Some(cmd), _) => cmd.clone(),
            (None, Some(_)) => Vec::new(),
            (None, None) => svc
                .command
                .as_ref()
                .map(|c| c.args.clone())
                .unwrap_or_default(),
        };
        let mut cmd = Vec::new();
        c.entrypoint = None;
        if let Some(ep) = entrypoint {
            match ep.split_first() {
                Some((first, rest)) => {
                    c.entrypoint = Some(first.clone());
                    cmd.extend(rest.iter().cloned());
                }
                None => c.entrypoint = Some(String::new()),
            }
        }
        cmd.extend(command);
        c.cmd = cmd;
    }
    for e in &o.env {
        let key = e.split('=').next().unwrap_or_default();
        c.env.retain(|x| x.split('=').next() != Some(key));
        c.env.push(e.clone());
    }
    if o.user.is_some() {
        c.user = o.user.clone();
    }
    if o.workdir.is_some() {
        c.workdir = o.workdir.clone();
    }
    c.tty = o.tty;
    c.interactive = o.interactive;
    c.auto_remove = o.auto_remove;
    if !o.detach {
        if o.interactive {
            c.extra.attach.push("stdin".into());
        }
        c.extra.attach.extend(["stdout".into(), "stderr".into()]);
    }
    let oneoff = format!("{ONEOFF}=");
    c.labels.retain(|l| !l.starts_with(&oneoff));
    c.labels.push(format!("{ONEOFF}=True"));
    c.labels.push(format!("{SLUG}={slug}"));
    let made = lifecycle::create(paths, &c)?;
    paths.update(&made.id, |r| {
        patch(svc, project, r);
        for a in r.host_config.extra_networks.iter_mut() {
            a.aliases.clear();
        }
        Ok(())
    })?;
    paths.resolve(&made.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_off_is_named_as_docker_compose_v2_names_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("compose.yaml"),
            "services:\n  web:\n    image: busybox\n    container_name: fixed\n",
        )
        .unwrap();
        let mut o = husk_compose::LoadOptions::new(dir.path());
        o.project_name = Some("demo".into());
        let p = husk_compose::load(&o).unwrap();
        let slug = names::new_id();
        let name = oneoff_name(&p, &p.services["web"], &slug);
        assert_eq!(name, format!("demo-web-run-{}", &slug[..12]));
    }
}
