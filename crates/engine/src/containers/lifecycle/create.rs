//! `husk create`: flags and the image config become a container record.

use std::collections::BTreeMap;
use std::path::PathBuf;

use husk_image::Store;

use super::flags::check_flags;
use crate::containers::{names, proc, Container, ContainerConfig, HostConfig, Paths, State};
use crate::network::{self, Mode};
use crate::{Error, Result};

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
}

/// `NET_ADMIN`, `cap_net_admin`, `CAP_NET_ADMIN` → `NET_ADMIN`.
fn cap_name(c: &str) -> Result<String> {
    let up = c.to_ascii_uppercase();
    let up = up.strip_prefix("CAP_").unwrap_or(&up).to_string();
    if up == "ALL" || crate::containers::spec::ALL_CAPS.contains(&format!("CAP_{up}").as_str()) {
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
pub(super) fn parse_size(flag: &'static str, s: &str, what: &str) -> Result<i64> {
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

/// The recorded network mode: `container:NAME` becomes `container:<id>`
/// (docker keeps the name, but an id survives a rename).
fn network_mode(paths: &Paths, o: &CreateOptions) -> Result<String> {
    let given = match &o.network {
        Some(n) => n.clone(),
        None => network::default_mode(paths)?,
    };
    let bad = |reason: String| Error::InvalidFlag {
        flag: "--network",
        value: given.clone(),
        reason,
    };
    match network::Mode::parse(&given) {
        Some(Mode::Bridge) => Ok("bridge".into()),
        Some(Mode::None) => Ok("none".into()),
        Some(Mode::Host) => Ok("host".into()),
        Some(Mode::Container(target)) => {
            let t = paths
                .resolve(&target)
                .map_err(|e| bad(format!("cannot share its network: {}", husk_fs::Chain(&e))))?;
            Ok(format!("container:{}", t.id))
        }
        None => Err(bad(
            "use bridge, none, host or container:NAME (user-defined networks come later)".into(),
        )),
    }
}

/// The network flags, checked before anything is recorded: docker's
/// conflicts, then each value (an `--ip` against the network's subnet).
fn check_network_flags(paths: &Paths, o: &CreateOptions, mode: &str) -> Result<()> {
    let bridge = mode == "bridge";
    let conflict = |flag: &'static str, value: &str| Error::InvalidFlag {
        flag,
        value: value.to_string(),
        reason: format!("conflicting options: it needs the bridge network, not {mode}"),
    };
    if !bridge {
        if let Some(p) = o.publish.first() {
            if mode != "host" {
                return Err(conflict("--publish", p));
            }
        }
        for (flag, v) in [("--ip", &o.ip), ("--mac-address", &o.mac_address)] {
            if let Some(v) = v {
                return Err(conflict(flag, v));
            }
        }
    }
    if mode.starts_with("container:") {
        if let Some(h) = o.add_hosts.first() {
            return Err(conflict("--add-host", h));
        }
        if let Some(d) = o.dns.first() {
            return Err(conflict("--dns", d));
        }
    }
    for p in &o.publish {
        husk_network::parse_port_spec(p)?;
    }
    for h in &o.add_hosts {
        husk_network::dnsfiles::parse_add_host(h)?;
    }
    for d in &o.dns {
        network::parse_dns(d)?;
    }
    // One resolv.conf word each: a space or newline would smuggle in lines.
    if let Some(bad) = o
        .dns_search
        .iter()
        .find(|d| d.is_empty() || d.contains(char::is_whitespace))
    {
        return Err(Error::InvalidFlag {
            flag: "--dns-search",
            value: bad.clone(),
            reason: "a domain name without spaces".into(),
        });
    }
    if let Some(mac) = &o.mac_address {
        network::parse_mac(mac)?;
    }
    if let Some(ip) = network::parse_ip(o.ip.as_deref().unwrap_or(""))? {
        let net = network::default_network(paths)?;
        husk_network::Ipam::new(&network::store(paths)?, &net).validate(ip)?;
    }
    Ok(())
}

/// Creates the record and its directories; nothing runs yet.
pub fn create(paths: &Paths, o: &CreateOptions) -> Result<Container> {
    let memory = o
        .memory
        .as_deref()
        .map(parse_memory)
        .transpose()?
        .unwrap_or(0);
    let network = network_mode(paths, o)?;
    check_network_flags(paths, o, &network)?;
    let checked = check_flags(o, memory)?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    // Parsed now so a bad -v fails before anything exists; volumes and
    // missing host directories are made once the image is known.
    crate::containers::mounts::plan(&cwd, &o.volumes, &checked.mounts, &checked.tmpfs, &[])?;
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
    let log_config =
        crate::containers::logfile::LogConfig::parse(o.log_driver.as_deref(), &o.log_opts)?;
    if o.init {
        crate::containers::init::binary()?;
    }
    if let Some(n) = &o.name {
        let n = n.strip_prefix('/').unwrap_or(n);
        if !names::valid_name(n) {
            return Err(Error::InvalidName { name: n.into() });
        }
    }
    let runtime = match &o.runtime {
        // A bare name (`--runtime crun`) is looked up in PATH.
        Some(p) if p.components().count() == 1 => std::env::var_os("PATH")
            .map(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join(p))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.is_file())
            .unwrap_or_else(|| p.clone()),
        Some(p) => p.clone(),
        None => crate::containers::runtime::default_binary()?,
    };
    let runtime = std::path::absolute(&runtime).map_err(|e| Error::io("resolve", &runtime, e))?;
    if !runtime.is_file() {
        return Err(Error::InvalidFlag {
            flag: "--runtime",
            value: runtime.display().to_string(),
            reason:
                "no such runtime binary: install husk-runtime next to husk or give --runtime PATH"
                    .into(),
        });
    }

    // The shared image lock is held until the record exists, so `rmi`
    // (exclusive) cannot remove the image in between.
    let store = Store::open_read(&paths.root)?;
    let img = store.resolve(&o.image)?;
    let cfg = store.oci_config(&img)?;
    let lower_dirs = store
        .lowerdirs(&img)?
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let icfg = cfg.config().clone().unwrap_or_default();

    let mut env: Vec<String> = icfg.env().clone().unwrap_or_default();
    for e in &checked.env_from_files {
        env.retain(|x| env_key(x) != env_key(e));
        env.push(e.clone());
    }
    for e in &o.env {
        // `-e NAME` without a value takes the caller's, as docker does.
        let e = if e.contains('=') {
            e.clone()
        } else {
            match std::env::var(e) {
                Ok(v) => format!("{e}={v}"),
                Err(_) => continue,
            }
        };
        env.retain(|x| env_key(x) != env_key(&e));
        env.push(e);
    }
    let (entrypoint, cmd) = match &o.entrypoint {
        Some(ep) if ep.is_empty() => (Vec::new(), o.cmd.clone()),
        Some(ep) => (vec![ep.clone()], o.cmd.clone()),
        None => (
            icfg.entrypoint().clone().unwrap_or_default(),
            if o.cmd.is_empty() {
                icfg.cmd().clone().unwrap_or_default()
            } else {
                o.cmd.clone()
            },
        ),
    };
    let mut argv = entrypoint.clone();
    argv.extend(cmd.iter().cloned());
    let mut labels: BTreeMap<String, String> = icfg
        .labels()
        .clone()
        .map(|m| m.into_iter().collect())
        .unwrap_or_default();
    for l in &o.labels {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        labels.insert(k.to_string(), v.to_string());
    }

    let image_volumes: Vec<String> = icfg
        .volumes()
        .clone()
        .map(|v| v.into_iter().collect())
        .unwrap_or_default();
    let mut mount_points = crate::containers::mounts::plan(
        &cwd,
        &o.volumes,
        &checked.mounts,
        &checked.tmpfs,
        &image_volumes,
    )?;
    let stop_signal = o
        .stop_signal
        .clone()
        .or_else(|| icfg.stop_signal().clone())
        .unwrap_or_default();
    // What a killed `create` or `rm` left goes before the new record.
    super::sweep(paths);
    let _lock = paths.lock()?;
    let existing = paths.all()?;
    let mut id = names::new_id();
    while existing.iter().any(|c| c.id.starts_with(&id[..12])) {
        id = names::new_id();
    }
    if argv.is_empty() {
        return Err(Error::NoCommand { id });
    }
    let name = match &o.name {
        Some(n) => {
            let n = n.strip_prefix('/').unwrap_or(n).to_string();
            if let Some(c) = existing.iter().find(|c| c.name == n) {
                return Err(Error::NameInUse {
                    name: n,
                    id: c.id.clone(),
                });
            }
            n
        }
        None => (0..)
            .map(names::random_name)
            .find(|n| !existing.iter().any(|c| &c.name == n))
            .unwrap_or_else(|| id[..12].to_string()),
    };
    crate::containers::mounts::realize(&paths.root, &mut mount_points)?;
    let c = Container {
        name,
        created: proc::now_rfc3339(),
        path: argv[0].clone(),
        args: argv[1..].to_vec(),
        image_id: img.id.to_string(),
        lower_dirs,
        config: ContainerConfig {
            hostname: o.hostname.clone().unwrap_or_else(|| id[..12].to_string()),
            user: o
                .user
                .clone()
                .or_else(|| icfg.user().clone())
                .unwrap_or_default(),
            env,
            cmd,
            entrypoint,
            image: o.image.clone(),
            working_dir: o
                .workdir
                .clone()
                .or_else(|| icfg.working_dir().clone())
                .unwrap_or_default(),
            labels,
            tty: o.tty,
            open_stdin: o.interactive,
            stop_signal,
            stop_timeout: o.stop_timeout,
            exposed_ports: icfg.exposed_ports().clone().unwrap_or_default(),
        },
        host_config: HostConfig {
            memory,
            nano_cpus: o.cpus.map(|c| (c * 1e9).round() as i64).unwrap_or(0),
            cpu_shares: o.cpu_shares.unwrap_or(0),
            pids_limit: o.pids_limit,
            network_mode: network,
            port_bindings: o.publish.clone(),
            publish_all: o.publish_all,
            ip: o.ip.clone().unwrap_or_default(),
            mac_address: o.mac_address.clone().unwrap_or_default(),
            extra_hosts: o.add_hosts.clone(),
            dns: o.dns.clone(),
            dns_search: o.dns_search.clone(),
            auto_remove: o.auto_remove,
            runtime: runtime.to_string_lossy().into_owned(),
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
        },
        state: State::created(),
        restart_count: 0,
        network: None,
        id,
    };
    let dir = paths.dir(&c.id);
    let stored = ["upper", "work", "merged"]
        .iter()
        .try_for_each(|d| {
            std::fs::create_dir_all(dir.join(d)).map_err(|e| Error::io("create", dir.join(d), e))
        })
        .and_then(|()| paths.save(&c));
    if let Err(e) = stored {
        // Nothing of a container that was never recorded may stay: its
        // directory, and the anonymous volumes made for it above.
        let _ = std::fs::remove_dir_all(&dir);
        crate::containers::mounts::remove_anonymous(&paths.root, &c.host_config.mount_points);
        return Err(e);
    }
    Ok(c)
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
