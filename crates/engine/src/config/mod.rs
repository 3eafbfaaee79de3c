//! docker's flags and an image's config, parsed and checked once, before
//! anything is created: [`CreateOptions`] is what `husk create`/`run` was
//! given; the submodules parse one family of flags each. Nothing here writes:
//! the only reads are the files a flag names (`--env-file`, `seccomp=FILE`,
//! a bind's source for `--mount`).

pub mod caps;
pub mod container;
pub mod devices;
pub mod extra;
pub mod flags;
pub mod health;
pub mod log;
pub mod modes;
pub mod mounts;
pub mod resources;
pub mod restart;
pub mod seccomp_profile;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{Error, Result};
use container::{ContainerConfig, HostConfig};

/// docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (a leading `/` is accepted and dropped).
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Everything `husk create`/`run` takes besides the engine paths.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub image: String,
    pub cmd: Vec<String>,
    pub name: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub entrypoint: Option<String>,
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub labels: Vec<String>,
    /// docker's `-m` text: `400m`, `1g`, `1048576`.
    pub memory: Option<String>,
    pub pids_limit: Option<i64>,
    /// `--cpus 1.5`.
    pub cpus: Option<f64>,
    pub cpu_shares: Option<i64>,
    /// `bridge`, `none`, `host` or `container:NAME`; None = the config's default.
    pub network: Option<String>,
    /// `-p [IP:][HOSTPORT:]CPORT[/PROTO]`.
    pub publish: Vec<String>,
    /// `-P`.
    pub publish_all: bool,
    pub ip: Option<String>,
    pub mac_address: Option<String>,
    /// `--network-alias`: more names the container answers to on a
    /// user-defined network.
    pub network_aliases: Vec<String>,
    /// The second and later `--network` flags: user-defined networks the
    /// container is also connected to.
    pub extra_networks: Vec<String>,
    /// `--add-host name:ip`.
    pub add_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub auto_remove: bool,
    pub runtime: Option<PathBuf>,
    /// `-i`: the container reads the caller's stdin.
    pub interactive: bool,
    /// `-t`: the container's stdio is a terminal.
    pub tty: bool,
    /// `--security-opt`: only `seccomp=unconfined` is understood yet.
    pub security_opt: Vec<String>,
    /// `-v HOST:CONTAINER[:ro|rw]` (host paths only; named volumes later).
    pub volumes: Vec<String>,
    pub read_only: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--env-file`: read before `-e`, which overrides them.
    pub env_files: Vec<PathBuf>,
    /// `--mount type=...,source=...,target=...`.
    pub mounts: Vec<String>,
    /// `--tmpfs PATH[:OPTS]`.
    pub tmpfs: Vec<String>,
    /// `--memory-swap` text (`-1` = unlimited).
    pub memory_swap: Option<String>,
    pub memory_reservation: Option<String>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// `--ulimit nofile=1024:2048`.
    pub ulimits: Vec<String>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    pub privileged: bool,
    /// `--init`.
    pub init: bool,
    /// `--log-driver` (json-file only) and `--log-opt KEY=VALUE`.
    pub log_driver: Option<String>,
    pub log_opts: Vec<String>,
    /// `--health-*` and `--no-healthcheck`.
    pub health: health::HealthOptions,
    /// The rest of docker's run flags (issue 13).
    pub extra: extra::ExtraFlags,
    /// `--restart no|on-failure[:N]|always|unless-stopped`.
    pub restart: Option<String>,
}

/// `NET_ADMIN`, `cap_net_admin`, `CAP_NET_ADMIN` → `NET_ADMIN`.
pub(crate) fn cap_name(c: &str) -> Result<String> {
    let up = c.to_ascii_uppercase();
    let up = up.strip_prefix("CAP_").unwrap_or(&up).to_string();
    if up == "ALL" || caps::ALL_CAPS.contains(&format!("CAP_{up}").as_str()) {
        Ok(up)
    } else {
        Err(Error::InvalidFlag {
            flag: "--cap-add/--cap-drop",
            value: c.to_string(),
            reason: "unknown capability".into(),
        })
    }
}

/// docker's RAMInBytes: binary units b, k, m, g, t, p with an optional `b`.
pub fn parse_memory(s: &str) -> Result<i64> {
    parse_size("--memory", s, "memory limit")
}

/// A size flag with docker's 6MB floor (the kernel's too), `what` naming
/// it in the refusal.
pub(crate) fn parse_size(flag: &'static str, s: &str, what: &str) -> Result<i64> {
    let bad = |reason: String| Error::InvalidFlag {
        flag,
        value: s.to_string(),
        reason,
    };
    let bytes = husk_spec::units::ram_in_bytes(s)
        .ok_or_else(|| bad("not a size: use a number with b, k, m, g, t or p".into()))?;
    if bytes < 6 * 1024 * 1024 {
        return Err(bad(format!("minimum {what} allowed is 6MB")));
    }
    Ok(bytes)
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map(|(k, _)| k).unwrap_or(e)
}

/// The flags parsed and checked before anything exists: a bad flag fails
/// here, before the image is even looked up.
pub struct Parsed {
    pub memory: i64,
    checked: flags::Checked,
    cap_add: Vec<String>,
    cap_drop: Vec<String>,
    log_config: log::LogConfig,
    health: Option<health::Healthcheck>,
    extras: extra::CheckedExtras,
}

/// Parses and checks `o`'s flags (besides the network ones, which need the
/// engine's network config). `cwd` resolves relative `-v` sources.
pub fn parse(o: &CreateOptions, cwd: &Path) -> Result<Parsed> {
    let memory = o
        .memory
        .as_deref()
        .map(parse_memory)
        .transpose()?
        .unwrap_or(0);
    let checked = flags::check_flags(o, memory)?;
    // Parsed now so a bad -v fails before anything exists; volumes and
    // missing host directories are made once the image is known.
    mounts::plan(cwd, &o.volumes, &checked.mounts, &checked.tmpfs, &[])?;
    let cap_add = o
        .cap_add
        .iter()
        .map(|c| cap_name(c))
        .collect::<Result<Vec<_>>>()?;
    let cap_drop = o
        .cap_drop
        .iter()
        .map(|c| cap_name(c))
        .collect::<Result<Vec<_>>>()?;
    let log_config = log::LogConfig::parse(o.log_driver.as_deref(), &o.log_opts)?;
    let health = health::parse(&o.health)?;
    let extras = extra::check(
        &o.extra,
        o.cpus.is_some_and(|c| c != 0.0),
        o.network.as_deref(),
        o.hostname.as_deref().is_some_and(|h| !h.is_empty()),
    )?;
    restart::RestartPolicy::parse(o.restart.as_deref())?.check_auto_remove(o.auto_remove)?;
    Ok(Parsed {
        memory,
        checked,
        cap_add,
        cap_drop,
        log_config,
        health,
        extras,
    })
}

/// What an image's config gives a container unless a flag says otherwise.
#[derive(Debug, Clone, Default)]
pub struct ImageDefaults {
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Its VOLUME list: each an anonymous volume unless a flag mounts there.
    pub volumes: Vec<String>,
    pub stop_signal: Option<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub exposed_ports: Vec<String>,
    /// Its `Healthcheck`, which the `--health-*` flags override field by field.
    pub healthcheck: Option<health::Healthcheck>,
    /// Its SHELL.
    pub shell: Vec<String>,
}

/// The typed container config the flags and the image decided.
#[derive(Debug, Clone)]
pub struct Decided {
    /// Entrypoint and command: what the init executes.
    pub argv: Vec<String>,
    /// Its `hostname` is empty unless `--hostname` gave one (the id's
    /// first 12 characters otherwise, known once the store gives an id).
    pub config: ContainerConfig,
    /// Its mount points are planned, not yet made (`volumes::realize`).
    pub host_config: HostConfig,
}

/// The flags over the image's defaults: computes only. `caller_env`
/// answers `-e NAME` (no value: the caller's); `network_mode` and
/// `runtime` come resolved from the engine's config.
pub fn decide(
    o: &CreateOptions,
    parsed: Parsed,
    image: &ImageDefaults,
    cwd: &Path,
    caller_env: &dyn Fn(&str) -> Option<String>,
    network_mode: String,
    runtime: String,
) -> Result<Decided> {
    let Parsed {
        memory,
        checked,
        cap_add,
        cap_drop,
        log_config,
        health,
        extras,
    } = parsed;
    let mut env = image.env.clone();
    for e in &checked.env_from_files {
        env.retain(|x| env_key(x) != env_key(e));
        env.push(e.clone());
    }
    for e in &o.env {
        // `-e NAME` without a value takes the caller's, as docker does.
        let e = if e.contains('=') {
            e.clone()
        } else {
            match caller_env(e) {
                Some(v) => format!("{e}={v}"),
                None => continue,
            }
        };
        env.retain(|x| env_key(x) != env_key(&e));
        env.push(e);
    }
    let (entrypoint, cmd) = match &o.entrypoint {
        Some(ep) if ep.is_empty() => (Vec::new(), o.cmd.clone()),
        Some(ep) => (vec![ep.clone()], o.cmd.clone()),
        None => (
            image.entrypoint.clone(),
            if o.cmd.is_empty() {
                image.cmd.clone()
            } else {
                o.cmd.clone()
            },
        ),
    };
    let mut argv = entrypoint.clone();
    argv.extend(cmd.iter().cloned());
    let mut labels = image.labels.clone();
    labels.extend(extras.labels);
    for l in &o.labels {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        labels.insert(k.to_string(), v.to_string());
    }
    let mount_points = mounts::plan(
        cwd,
        &o.volumes,
        &checked.mounts,
        &checked.tmpfs,
        &image.volumes,
    )?;
    let stop_signal = o
        .stop_signal
        .clone()
        .or_else(|| image.stop_signal.clone())
        .unwrap_or_default();
    let config = ContainerConfig {
        hostname: o.hostname.clone().unwrap_or_default(),
        user: o
            .user
            .clone()
            .or_else(|| image.user.clone())
            .unwrap_or_default(),
        env,
        cmd,
        entrypoint,
        image: o.image.clone(),
        working_dir: o
            .workdir
            .clone()
            .or_else(|| image.working_dir.clone())
            .unwrap_or_default(),
        labels,
        tty: o.tty,
        open_stdin: o.interactive,
        stop_signal,
        stop_timeout: o.stop_timeout,
        exposed_ports: {
            let mut p = image.exposed_ports.clone();
            p.extend(
                extras
                    .exposed
                    .into_iter()
                    .filter(|e| !image.exposed_ports.contains(e)),
            );
            p
        },
        healthcheck: health::merge(health, image.healthcheck.as_ref()),
        shell: image.shell.clone(),
    };
    let host_config = HostConfig {
        memory,
        nano_cpus: o.cpus.map(|c| (c * 1e9).round() as i64).unwrap_or(0),
        cpu_shares: o.cpu_shares.unwrap_or(0),
        pids_limit: o.pids_limit,
        network_mode,
        network_default: o.network.is_none(),
        port_bindings: o.publish.clone(),
        publish_all: o.publish_all,
        ip: o.ip.clone().unwrap_or_default(),
        mac_address: o.mac_address.clone().unwrap_or_default(),
        network_aliases: o.network_aliases.clone(),
        // Resolved against the network store by `create`.
        extra_networks: Vec::new(),
        extra_hosts: o.add_hosts.clone(),
        dns: o.dns.clone(),
        dns_search: o.dns_search.clone(),
        auto_remove: o.auto_remove,
        runtime,
        seccomp: checked.seccomp,
        security_opt: o.security_opt.clone(),
        binds: o.volumes.clone(),
        readonly_rootfs: o.read_only,
        cap_add,
        cap_drop,
        // docker's default: memory+swap is twice the memory.
        memory_swap: if memory > 0 && checked.memory_swap == 0 {
            memory * 2
        } else {
            checked.memory_swap
        },
        memory_reservation: checked.memory_reservation,
        cpuset_cpus: o.cpuset_cpus.clone().unwrap_or_default(),
        cpuset_mems: o.cpuset_mems.clone().unwrap_or_default(),
        ulimits: checked.ulimits,
        privileged: o.privileged,
        no_new_privileges: checked.no_new_privileges,
        seccomp_profile: checked.seccomp_profile,
        tmpfs: checked.tmpfs.into_iter().collect(),
        mounts: checked.mounts,
        mount_points,
        init: o.init,
        log_config,
        extra: extras.host,
        restart_policy: restart::RestartPolicy::parse(o.restart.as_deref())?,
    };
    Ok(Decided {
        argv,
        config,
        host_config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_are_binary_like_docker() {
        assert_eq!(parse_memory("400m").unwrap(), 419_430_400);
        assert_eq!(parse_memory("400MB").unwrap(), 419_430_400);
        assert_eq!(parse_memory("1g").unwrap(), 1 << 30);
        assert_eq!(parse_memory("1.5g").unwrap(), 1_610_612_736);
        assert_eq!(parse_memory("8388608").unwrap(), 8_388_608);
        assert!(parse_memory("4m").is_err());
        assert!(parse_memory("12x").is_err());
        assert!(parse_memory("m").is_err());
    }
}
