//! One service: the key dispatch, and what ties its keys together
//! (environment from env_file and environment, the default network, the
//! legacy resource keys, scale against replicas).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{build, links, mounts, ports, runtime, Cx};
use crate::env::parse_dotenv;
use crate::model::{Command, EnvFile, Service, ServiceNetwork};
use crate::paths;
use crate::policy::ResourceLimits;
use crate::shell::split_words;
use crate::Error;

/// Compose keys husk does not implement yet: a warning, not "unknown key".
const UNSUPPORTED: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "cgroup",
    "cgroup_parent",
    "configs",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpuset",
    "credential_spec",
    "develop",
    "device_cgroup_rules",
    "devices",
    "external_links",
    "gpus",
    "isolation",
    "label_file",
    "links",
    "logging",
    "mac_address",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "oom_kill_disable",
    "oom_score_adj",
    "post_start",
    "pre_stop",
    "provider",
    "runtime",
    "secrets",
    "storage_opt",
    "use_api_socket",
    "userns_mode",
    "uts",
    "volumes_from",
];

/// Service-level keys that older files use for what `deploy.resources` says.
#[derive(Default)]
struct Legacy {
    mem_limit: Option<u64>,
    mem_reservation: Option<u64>,
    cpus: Option<f64>,
    pids_limit: Option<i64>,
}

pub(super) fn parse_service(cx: &mut Cx, name: &str, v: &Value) -> Result<Service, Error> {
    cx.locate(&["services", name]);
    let base = format!("services.{name}");
    check_service_name(cx, name, &base)?;
    let empty = Map::new();
    let map = match v {
        Value::Null => &empty,
        v => cx.mapping(v, &base)?,
    };
    let mut s = Service {
        name: name.to_string(),
        ..Service::default()
    };
    let mut environment = BTreeMap::new();
    let mut env_files = Vec::new();
    let mut legacy = Legacy::default();
    for (key, v) in map {
        cx.locate(&["services", name, key]);
        let path = format!("{base}.{key}");
        let p = path.as_str();
        match key.as_str() {
            "image" => s.image = Some(cx.string(v, p)?),
            "build" => s.build = Some(build::parse_build(cx, v, p)?),
            "command" => s.command = Some(command(cx, v, p)?),
            "entrypoint" => s.entrypoint = Some(command(cx, v, p)?),
            "environment" => environment = cx.env_dict(v, p)?,
            "env_file" => env_files = env_file_entries(cx, v, p)?,
            "ports" => s.ports = ports::parse_ports(cx, v, p)?,
            "expose" => s.expose = ports::parse_expose(cx, v, p)?,
            "volumes" => s.volumes = mounts::parse_mounts(cx, v, p)?,
            "tmpfs" => s.tmpfs = cx.string_or_list(v, p)?,
            "networks" => s.networks = links::parse_networks(cx, v, p)?,
            "network_mode" => s.network_mode = Some(cx.string(v, p)?),
            "depends_on" => s.depends_on = links::parse_depends_on(cx, v, p)?,
            "restart" => s.restart = Some(runtime::parse_restart(cx, v, p)?),
            "healthcheck" => s.healthcheck = Some(runtime::parse_healthcheck(cx, v, p)?),
            "deploy" => s.deploy = Some(runtime::parse_deploy(cx, v, p)?),
            "labels" => s.labels = cx.string_dict(v, p)?,
            "user" => s.user = Some(cx.string(v, p)?),
            "working_dir" => s.working_dir = Some(cx.string(v, p)?),
            "hostname" => s.hostname = Some(cx.string(v, p)?),
            "domainname" => s.domainname = Some(cx.string(v, p)?),
            "cap_add" => s.cap_add = cx.strings(v, p)?,
            "cap_drop" => s.cap_drop = cx.strings(v, p)?,
            "init" => s.init = Some(cx.boolean(v, p)?),
            "stop_signal" => s.stop_signal = Some(cx.string(v, p)?),
            "stop_grace_period" => s.stop_grace_period = Some(cx.duration(v, p)?),
            "extra_hosts" => s.extra_hosts = links::parse_extra_hosts(cx, v, p)?,
            "dns" => s.dns = cx.string_or_list(v, p)?,
            "dns_search" => s.dns_search = cx.string_or_list(v, p)?,
            "dns_opt" => s.dns_opt = cx.strings(v, p)?,
            "group_add" => s.group_add = cx.strings(v, p)?,
            "pid" => s.pid = Some(cx.string(v, p)?),
            "ipc" => s.ipc = Some(cx.string(v, p)?),
            "privileged" => s.privileged = cx.boolean(v, p)?,
            "read_only" => s.read_only = cx.boolean(v, p)?,
            "tty" => s.tty = cx.boolean(v, p)?,
            "stdin_open" => s.stdin_open = cx.boolean(v, p)?,
            "container_name" => s.container_name = Some(cx.string(v, p)?),
            "profiles" => s.profiles = cx.strings(v, p)?,
            "scale" => s.scale = Some(cx.uint(v, p)?),
            "pull_policy" => s.pull_policy = Some(runtime::parse_pull_policy(cx, v, p)?),
            "shm_size" => s.shm_size = Some(cx.bytes(v, p)?),
            "ulimits" => s.ulimits = runtime::parse_ulimits(cx, v, p)?,
            "sysctls" => s.sysctls = cx.string_dict(v, p)?,
            "security_opt" => s.security_opt = cx.strings(v, p)?,
            "platform" => s.platform = Some(cx.string(v, p)?),
            "mem_limit" => legacy.mem_limit = Some(cx.bytes(v, p)?),
            "mem_reservation" => legacy.mem_reservation = Some(cx.bytes(v, p)?),
            "cpus" => legacy.cpus = Some(cx.float(v, p)?),
            "pids_limit" => legacy.pids_limit = Some(cx.int(v, p)?),
            "extends" => return Err(cx.invalid(
                p,
                None,
                "extends is not supported by husk yet: copy the base service's keys into this one",
            )),
            k if k.starts_with("x-") => {}
            k if UNSUPPORTED.contains(&k) => cx.unsupported_key(p),
            _ => cx.unknown_key(p),
        }
    }
    s.environment = read_env_files(cx, name, &env_files)?;
    for (key, value) in environment {
        // A bare KEY the environment lacks does not unset an env_file value.
        match value {
            Some(v) => {
                s.environment.insert(key, Some(v));
            }
            None => {
                s.environment.entry(key).or_insert(None);
            }
        }
    }
    s.env_file = env_files.into_iter().map(|(_, f)| f).collect();
    fold_legacy(cx, &mut s, legacy)?;
    finish(cx, &mut s)?;
    Ok(s)
}

/// Compose's rule for service names, which become parts of container and
/// host names.
fn check_service_name(cx: &Cx, name: &str, path: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(cx.invalid(
            path,
            None,
            "a service name may hold only letters, digits, '.', '_' and '-': rename it",
        ))
    }
}

fn command(cx: &Cx, v: &Value, path: &str) -> Result<Command, Error> {
    match v {
        Value::Array(_) => Ok(Command {
            args: cx.strings(v, path)?,
            from_string: false,
        }),
        Value::Null => Err(cx.wrong_kind(path, v, "a command string or a list of arguments")),
        v => {
            let text = cx.string(v, path)?;
            let args = split_words(&text).map_err(|m| cx.invalid(path, Some(v), m))?;
            Ok(Command {
                args,
                from_string: true,
            })
        }
    }
}

/// `env_file:` entries with their paths for messages: a string, or a list
/// of strings and `{path, required}` mappings.
fn env_file_entries(cx: &mut Cx, v: &Value, path: &str) -> Result<Vec<(String, EnvFile)>, Error> {
    let items: Vec<(String, &Value)> = match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (format!("{path}[{i}]"), item))
            .collect(),
        v => vec![(path.to_string(), v)],
    };
    let mut out = Vec::new();
    for (p, item) in items {
        let (file, required) = match item {
            Value::Object(map) => {
                let mut file = None;
                let mut required = true;
                for (key, value) in map {
                    let kp = format!("{p}.{key}");
                    match key.as_str() {
                        "path" => file = Some(cx.string(value, &kp)?),
                        "required" => required = cx.boolean(value, &kp)?,
                        "format" => {
                            let format = cx.string(value, &kp)?;
                            if format != "raw" && !format.is_empty() {
                                return Err(cx.invalid(
                                    &kp,
                                    Some(value),
                                    "unknown env_file format: remove it or use raw",
                                ));
                            }
                            if format == "raw" {
                                cx.unsupported_key(&kp);
                            }
                        }
                        _ => cx.unknown_key(&kp),
                    }
                }
                let file = file.ok_or_else(|| cx.invalid(&p, None, "no path: add path: FILE"))?;
                (file, required)
            }
            item => (cx.string(item, &p)?, true),
        };
        let abs = paths::resolve(cx.project_dir, &file, cx.home());
        out.push((
            p,
            EnvFile {
                path: abs,
                required,
            },
        ));
    }
    Ok(out)
}

fn read_env_files(
    cx: &Cx,
    service: &str,
    files: &[(String, EnvFile)],
) -> Result<BTreeMap<String, Option<String>>, Error> {
    let mut env = BTreeMap::new();
    let lookup = |k: &str| cx.vars.get(k).cloned();
    for (p, f) in files {
        let text = match std::fs::read_to_string(&f.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !f.required => continue,
            Err(e) => {
                return Err(cx.invalid(
                    p,
                    None,
                    format!(
                        "cannot read {}: {e}: create it or mark it required: false",
                        f.path.display()
                    ),
                ))
            }
        };
        let values = parse_dotenv(&text, &lookup).map_err(|(line, message)| Error::EnvFile {
            file: paths::display(&f.path, cx.project_dir),
            line,
            message: format!("{message} (env_file of services.{service})"),
        })?;
        env.extend(values.into_iter().map(|(k, v)| (k, Some(v))));
    }
    Ok(env)
}

/// Moves `mem_limit` & co. into `deploy.resources`, refusing two different
/// values for one thing.
fn fold_legacy(cx: &mut Cx, s: &mut Service, legacy: Legacy) -> Result<(), Error> {
    fn put<T: PartialEq + Copy>(slot: &mut Option<T>, value: T) -> bool {
        match slot {
            None => {
                *slot = Some(value);
                true
            }
            Some(old) => *old == value,
        }
    }
    fn conflict(cx: &mut Cx, service: &str, key: &str, target: &str) -> Error {
        cx.locate(&["services", service, key]);
        cx.invalid(
            &format!("services.{service}.{key}"),
            None,
            format!("conflicts with deploy.resources.{target}: set only one of them"),
        )
    }
    let Legacy {
        mem_limit,
        mem_reservation,
        cpus,
        pids_limit,
    } = legacy;
    if mem_limit.is_none() && mem_reservation.is_none() && cpus.is_none() && pids_limit.is_none() {
        return Ok(());
    }
    let name = s.name.clone();
    let resources = &mut s.deploy.get_or_insert_with(Default::default).resources;
    if mem_limit.is_some() || cpus.is_some() || pids_limit.is_some() {
        let limits = resources.limits.get_or_insert_with(ResourceLimits::default);
        if mem_limit.is_some_and(|v| !put(&mut limits.memory, v)) {
            return Err(conflict(cx, &name, "mem_limit", "limits.memory"));
        }
        if cpus.is_some_and(|v| !put(&mut limits.cpus, v)) {
            return Err(conflict(cx, &name, "cpus", "limits.cpus"));
        }
        if pids_limit.is_some_and(|v| !put(&mut limits.pids, v)) {
            return Err(conflict(cx, &name, "pids_limit", "limits.pids"));
        }
    }
    if let Some(v) = mem_reservation {
        let reservations = resources
            .reservations
            .get_or_insert_with(ResourceLimits::default);
        if !put(&mut reservations.memory, v) {
            return Err(conflict(
                cx,
                &name,
                "mem_reservation",
                "reservations.memory",
            ));
        }
    }
    Ok(())
}

/// Checks across keys, and the default network.
fn finish(cx: &mut Cx, s: &mut Service) -> Result<(), Error> {
    let base = format!("services.{}", s.name);
    if s.image.is_none() && s.build.is_none() {
        cx.locate(&["services", &s.name]);
        return Err(cx.invalid(
            &base,
            None,
            "has neither image nor build: add image: NAME or build: DIR",
        ));
    }
    if s.network_mode.is_some() && !s.networks.is_empty() {
        cx.locate(&["services", &s.name, "network_mode"]);
        return Err(cx.invalid(
            &format!("{base}.network_mode"),
            None,
            "network_mode and networks exclude each other: keep only one",
        ));
    }
    if s.network_mode.is_none() && s.networks.is_empty() {
        s.networks
            .insert("default".to_string(), ServiceNetwork::default());
    }
    if let (Some(scale), Some(replicas)) = (s.scale, s.deploy.as_ref().and_then(|d| d.replicas)) {
        if scale != replicas {
            cx.locate(&["services", &s.name, "scale"]);
            return Err(cx.invalid(
                &format!("{base}.scale"),
                Some(&Value::from(scale)),
                format!("differs from deploy.replicas ({replicas}): set only one of them"),
            ));
        }
    }
    if s.replicas() > 1 {
        if let Some(name) = &s.container_name {
            cx.locate(&["services", &s.name, "container_name"]);
            return Err(cx.invalid(
                &format!("{base}.container_name"),
                Some(&Value::from(name.as_str())),
                "a fixed container name allows only one replica: remove it or scale to 1",
            ));
        }
    }
    Ok(())
}
