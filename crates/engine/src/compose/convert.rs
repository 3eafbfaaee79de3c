//! A service of a project → the engine's create options for one of its
//! containers, as docker compose would have asked dockerd for it.

use husk_compose::{
    HealthTest, MountType, Port, Project, Protocol, Restart, Service, ServiceNetwork,
};

use crate::config::container::NetworkAttachment;
use crate::config::health::{HealthOptions, Healthcheck};
use crate::config::CreateOptions;
use crate::store::Container;
use crate::{Error, Result};

use super::*;

/// `container_name`, or docker compose's `<project>-<service>-<n>`.
pub fn container_name(project: &Project, svc: &Service, number: u32) -> String {
    svc.container_name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{number}", project.name, svc.name))
}

/// The service's networks, the first one first: by `priority` (highest
/// first, as docker compose), then by name.
pub(super) fn ordered_networks(svc: &Service) -> Vec<(&String, &ServiceNetwork)> {
    let mut nets: Vec<(&String, &ServiceNetwork)> = svc.networks.iter().collect();
    nets.sort_by_key(|(name, n)| (std::cmp::Reverse(n.priority.unwrap_or(0)), (*name).clone()));
    nets
}

fn engine_network(project: &Project, key: &str) -> String {
    project
        .networks
        .get(key)
        .map_or_else(|| format!("{}_{key}", project.name), |n| n.name.clone())
}

fn publish(p: &Port) -> String {
    let proto = match p.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    };
    let mut s = String::new();
    if let Some(ip) = p.host_ip {
        s.push_str(&format!("{ip}:"));
    }
    match p.published {
        Some(r) if r.start == r.end => s.push_str(&format!("{}:", r.start)),
        Some(r) => s.push_str(&format!("{}-{}:", r.start, r.end)),
        // A host port the engine picks.
        None if p.host_ip.is_some() => s.push(':'),
        None => {}
    }
    s.push_str(&format!("{}/{proto}", p.target));
    s
}

/// docker's Go duration text for the health flags.
fn go_duration(d: std::time::Duration) -> String {
    format!("{}ms", d.as_millis())
}

fn nanos(d: Option<std::time::Duration>) -> i64 {
    d.map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The options for container `number` of `svc`, running `image`.
pub(super) fn create_options(
    project: &Project,
    svc: &Service,
    number: u32,
    image: &str,
) -> Result<CreateOptions> {
    let bad = |reason: String| Error::ComposeConflict {
        project: project.name.clone(),
        reason: format!("service {}: {reason}", svc.name),
    };
    let mut o = CreateOptions {
        image: image.to_string(),
        name: Some(container_name(project, svc, number)),
        workdir: svc.working_dir.clone(),
        hostname: svc.hostname.clone(),
        user: svc.user.clone(),
        read_only: svc.read_only,
        privileged: svc.privileged,
        tty: svc.tty,
        interactive: svc.stdin_open,
        init: svc.init.unwrap_or(false),
        stop_signal: svc.stop_signal.clone(),
        stop_timeout: svc
            .stop_grace_period
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        cap_add: svc.cap_add.clone(),
        cap_drop: svc.cap_drop.clone(),
        dns: svc.dns.clone(),
        dns_search: svc.dns_search.clone(),
        security_opt: svc.security_opt.clone(),
        tmpfs: svc.tmpfs.clone(),
        add_hosts: svc
            .extra_hosts
            .iter()
            .map(|h| format!("{}:{}", h.host, h.ip))
            .collect(),
        publish: svc.ports.iter().map(publish).collect(),
        ..Default::default()
    };
    // A string `entrypoint` or `command` was split shell-words style by
    // the loader, as docker compose does; the engine's `--entrypoint`
    // is one word, the rest leads the command.
    let mut cmd = Vec::new();
    if let Some(ep) = &svc.entrypoint {
        match ep.args.split_first() {
            Some((first, rest)) => {
                o.entrypoint = Some(first.clone());
                cmd.extend(rest.iter().cloned());
            }
            None => o.entrypoint = Some(String::new()),
        }
    }
    if let Some(c) = &svc.command {
        cmd.extend(c.args.iter().cloned());
    }
    o.cmd = cmd;
    o.env = svc
        .environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    if let Some(limits) = svc
        .deploy
        .as_ref()
        .and_then(|d| d.resources.limits.as_ref())
    {
        o.memory = limits.memory.map(|m| m.to_string());
        o.cpus = limits.cpus;
        o.pids_limit = limits.pids;
    }
    if let Some(mode) = &svc.network_mode {
        o.network = Some(mode.clone());
    } else {
        let nets = ordered_networks(svc);
        let mut it = nets.into_iter();
        if let Some((key, n)) = it.next() {
            o.network = Some(engine_network(project, key));
            o.network_aliases = aliases(svc, n);
            o.ip = n.ipv4_address.map(|a| a.to_string());
            o.mac_address = n.mac_address.clone();
        }
        o.extra_networks = it.map(|(key, _)| engine_network(project, key)).collect();
    }
    for m in &svc.volumes {
        match m.kind {
            MountType::Volume => {
                let target = &m.target;
                let spec = match &m.source {
                    Some(src) => {
                        let name = project
                            .volumes
                            .get(src)
                            .map_or_else(|| src.clone(), |v| v.name.clone());
                        format!("{name}:{target}")
                    }
                    None => target.clone(),
                };
                o.volumes.push(if m.read_only {
                    format!("{spec}:ro")
                } else {
                    spec
                });
            }
            MountType::Bind => {
                let src = m
                    .source
                    .clone()
                    .ok_or_else(|| bad(format!("bind mount of {} has no source", m.target)))?;
                let create = m.bind.as_ref().is_none_or(|b| b.create_host_path);
                // docker compose makes a missing bind source (as docker run
                // -v does); failing to is the user's to hear about now, not
                // as a confusing mount error at start.
                if create {
                    std::fs::create_dir_all(&src)
                        .map_err(|e| Error::io("create bind mount source", &src, e))?;
                }
                let ro = if m.read_only { ":ro" } else { "" };
                o.volumes.push(format!("{src}:{}{ro}", m.target));
            }
            MountType::Tmpfs => {
                let size = m
                    .tmpfs
                    .as_ref()
                    .and_then(|t| t.size)
                    .map(|s| format!(":size={s}"))
                    .unwrap_or_default();
                o.tmpfs.push(format!("{}{size}", m.target));
            }
        }
    }
    // `no`, `always`, `unless-stopped`, `on-failure[:N]`: docker's words.
    o.restart = svc.restart.as_ref().map(Restart::to_string);
    if let Some(h) = &svc.healthcheck {
        // `disable: true` is loaded as the NONE test.
        if matches!(h.test, Some(HealthTest::None)) {
            o.health = HealthOptions {
                disable: true,
                ..Default::default()
            };
        } else {
            // The exact check is written into the record after create
            // (`patch`); these make create validate the durations.
            o.health.interval = h.interval.map(go_duration);
            o.health.timeout = h.timeout.map(go_duration);
        }
    }
    o.ulimits = svc
        .ulimits
        .iter()
        .map(|(k, u)| format!("{k}={}:{}", u.soft, u.hard))
        .collect();
    o.extra.sysctls = svc
        .sysctls
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    o.extra.shm_size = svc.shm_size.map(|s| s.to_string());
    o.extra.group_add = svc.group_add.clone();
    o.extra.pid = svc.pid.clone();
    o.extra.ipc = svc.ipc.clone();
    o.extra.domainname = svc.domainname.clone();
    o.extra.dns_options = svc.dns_opt.clone();
    o.extra.expose = svc
        .expose
        .iter()
        .map(|e| {
            let r = e.ports;
            let ports = if r.start == r.end {
                r.start.to_string()
            } else {
                format!("{}-{}", r.start, r.end)
            };
            format!(
                "{ports}/{}",
                if e.protocol == Protocol::Udp {
                    "udp"
                } else {
                    "tcp"
                }
            )
        })
        .collect();
    o.labels = labels(project, svc, number, image)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Ok(o)
}

/// The service's name (docker compose's alias on every network) and the
/// aliases the network entry adds.
fn aliases(svc: &Service, n: &ServiceNetwork) -> Vec<String> {
    let mut out = vec![svc.name.clone()];
    for a in &n.aliases {
        if !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}

fn labels(
    project: &Project,
    svc: &Service,
    number: u32,
    image: &str,
) -> std::collections::BTreeMap<String, String> {
    let mut l = svc.labels.clone();
    let files: Vec<String> = project
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    let depends: Vec<String> = svc
        .depends_on
        .iter()
        .map(|(name, d)| {
            let cond = match d.condition {
                husk_compose::Condition::ServiceStarted => "service_started",
                husk_compose::Condition::ServiceHealthy => "service_healthy",
                husk_compose::Condition::ServiceCompletedSuccessfully => {
                    "service_completed_successfully"
                }
            };
            format!("{name}:{cond}:{}", d.restart)
        })
        .collect();
    for (k, v) in [
        (PROJECT, project.name.clone()),
        (SERVICE, svc.name.clone()),
        (NUMBER, number.to_string()),
        (CONFIG_HASH, svc.config_hash()),
        (ONEOFF, "False".to_string()),
        (WORKING_DIR, project.project_dir.display().to_string()),
        (CONFIG_FILES, files.join(",")),
        (DEPENDS_ON, depends.join(",")),
        (IMAGE, image.to_string()),
        (VERSION, COMPAT_VERSION.to_string()),
    ] {
        l.insert(k.to_string(), v);
    }
    l
}

/// What create's flags cannot say, written into the new record: the
/// exact healthcheck (an exec-form test, start_interval) and the aliases
/// on the further networks.
pub(super) fn patch(svc: &Service, project: &Project, c: &mut Container) {
    if let Some(h) = &svc.healthcheck {
        let test = h.test.as_ref().map(HealthTest::to_docker);
        if !matches!(h.test, Some(HealthTest::None)) {
            let mut hc: Healthcheck = c.config.healthcheck.clone().unwrap_or_default();
            if let Some(t) = test {
                hc.test = t;
            }
            hc.interval = nanos(h.interval);
            hc.timeout = nanos(h.timeout);
            hc.start_period = nanos(h.start_period);
            hc.start_interval = nanos(h.start_interval);
            hc.retries = h
                .retries
                .map_or(0, |r| i64::try_from(r).unwrap_or(i64::MAX));
            c.config.healthcheck = Some(hc);
        }
    }
    let nets = ordered_networks(svc);
    for (key, n) in nets.into_iter().skip(1) {
        let name = engine_network(project, key);
        if let Some(a) = c
            .host_config
            .extra_networks
            .iter_mut()
            .find(|a| a.name == name)
        {
            *a = NetworkAttachment {
                name,
                aliases: aliases(svc, n),
                ip: n.ipv4_address.map(|a| a.to_string()).unwrap_or_default(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
        let mut o = husk_compose::LoadOptions::new(dir.path());
        o.project_name = Some("demo".into());
        husk_compose::load(&o).unwrap()
    }

    #[test]
    fn a_service_becomes_dockers_create_flags() {
        let p = project(
            "services:\n  web:\n    image: busybox\n    entrypoint: [\"/bin/sh\", \"-c\"]\n    command: [\"echo hi\"]\n    ports: [\"8080:80\", \"127.0.0.1::53/udp\", \"9000-9001:90-91\"]\n    environment: {A: \"1\"}\n    networks:\n      front: {aliases: [www]}\n      back: {}\n    restart: on-failure:3\n    deploy: {resources: {limits: {memory: 64M, cpus: \"0.5\"}}}\nnetworks:\n  front: {}\n  back: {}\n",
        );
        let svc = &p.services["web"];
        let o = create_options(&p, svc, 2, "busybox").unwrap();
        assert_eq!(o.name.as_deref(), Some("demo-web-2"));
        assert_eq!(o.entrypoint.as_deref(), Some("/bin/sh"));
        assert_eq!(o.cmd, ["-c", "echo hi"]);
        assert!(
            o.publish.contains(&"8080:80/tcp".to_string()),
            "{:?}",
            o.publish
        );
        assert!(
            o.publish.contains(&"127.0.0.1::53/udp".to_string()),
            "{:?}",
            o.publish
        );
        assert_eq!(o.env, ["A=1"]);
        assert_eq!(o.network.as_deref(), Some("demo_back"));
        assert_eq!(o.network_aliases, ["web"]);
        assert_eq!(o.extra_networks, ["demo_front"]);
        assert_eq!(o.restart.as_deref(), Some("on-failure:3"));
        assert_eq!(o.memory.as_deref(), Some("67108864"));
        assert_eq!(o.cpus, Some(0.5));
        for want in [
            "com.docker.compose.project=demo",
            "com.docker.compose.service=web",
            "com.docker.compose.container-number=2",
            "com.docker.compose.oneoff=False",
        ] {
            assert!(
                o.labels.contains(&want.to_string()),
                "{want}: {:?}",
                o.labels
            );
        }
    }
}
