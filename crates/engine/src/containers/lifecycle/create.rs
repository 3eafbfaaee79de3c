//! `husk create`: flags and the image config become a container record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use husk_image::Store;

use crate::containers::{names, proc, Container, ContainerConfig, HostConfig, Paths, State};
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
    /// `none` or `host`.
    pub network: Option<String>,
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
    /// `--init`.
    pub init: bool,
    /// `--log-driver` (json-file only) and `--log-opt KEY=VALUE`.
    pub log_driver: Option<String>,
    pub log_opts: Vec<String>,
}

/// Checks one `-v` bind and creates a missing host directory, as docker does.
fn check_bind(v: &str) -> Result<()> {
    let bad = |reason: &str| Error::InvalidFlag {
        flag: "--volume",
        value: v.to_string(),
        reason: reason.to_string(),
    };
    let parts: Vec<&str> = v.split(':').collect();
    let (host, ctr, mode) = match parts.as_slice() {
        [h, c] => (*h, *c, "rw"),
        [h, c, m] => (*h, *c, *m),
        _ => return Err(bad("use HOST-PATH:CONTAINER-PATH[:ro|rw]")),
    };
    if !host.starts_with('/') {
        return Err(bad(
            "named volumes are not supported yet: give an absolute host path",
        ));
    }
    if !ctr.starts_with('/') || ctr == "/" {
        return Err(bad("the container path must be absolute and not /"));
    }
    if mode != "ro" && mode != "rw" {
        return Err(bad("the mode must be ro or rw"));
    }
    if !Path::new(host).exists() {
        std::fs::create_dir_all(host).map_err(|e| Error::io("create", host, e))?;
    }
    Ok(())
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
    let bad = |reason: &str| Error::InvalidFlag {
        flag: "--memory",
        value: s.to_string(),
        reason: reason.to_string(),
    };
    let bytes = husk_spec::units::ram_in_bytes(s)
        .ok_or_else(|| bad("not a size: use a number with b, k, m, g, t or p"))?;
    // The kernel's floor; docker refuses less than 6MB too.
    if bytes < 6 * 1024 * 1024 {
        return Err(bad("minimum memory limit allowed is 6MB"));
    }
    Ok(bytes)
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map(|(k, _)| k).unwrap_or(e)
}

/// Creates the record and its directories; nothing runs yet.
pub fn create(paths: &Paths, o: &CreateOptions) -> Result<Container> {
    let memory = o
        .memory
        .as_deref()
        .map(parse_memory)
        .transpose()?
        .unwrap_or(0);
    let network = o.network.clone().unwrap_or_else(|| "none".into());
    if network != "none" && network != "host" {
        return Err(Error::InvalidFlag {
            flag: "--network",
            value: network,
            reason: "only none and host exist yet".into(),
        });
    }
    for v in &o.volumes {
        check_bind(v)?;
    }
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
    let mut seccomp = true;
    for opt in &o.security_opt {
        match opt.replace(':', "=").as_str() {
            "seccomp=unconfined" => seccomp = false,
            _ => {
                return Err(Error::InvalidFlag {
                    flag: "--security-opt",
                    value: opt.clone(),
                    reason: "only seccomp=unconfined is supported yet".into(),
                })
            }
        }
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
        },
        host_config: HostConfig {
            memory,
            nano_cpus: o.cpus.map(|c| (c * 1e9) as i64).unwrap_or(0),
            cpu_shares: o.cpu_shares.unwrap_or(0),
            pids_limit: o.pids_limit,
            network_mode: network,
            auto_remove: o.auto_remove,
            runtime: runtime.to_string_lossy().into_owned(),
            seccomp,
            security_opt: o.security_opt.clone(),
            binds: o.volumes.clone(),
            readonly_rootfs: o.read_only,
            cap_add,
            cap_drop,
            init: o.init,
            log_config,
        },
        state: State::created(),
        restart_count: 0,
        id,
    };
    let dir = paths.dir(&c.id);
    for d in ["upper", "work", "merged"] {
        std::fs::create_dir_all(dir.join(d)).map_err(|e| Error::io("create", dir.join(d), e))?;
    }
    paths.save(&c)?;
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
