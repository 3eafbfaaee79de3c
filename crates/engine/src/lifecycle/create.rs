//! `husk create`: flags and the image config become a container record.

use std::path::PathBuf;

use husk_image::Store;

use crate::config::{CreateOptions, Decided, ImageDefaults};
use crate::network::{self, Mode};
use crate::proc;
use crate::store::{names, Container, Paths, State};
use crate::{Error, Result};

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
    let network = network_mode(paths, o)?;
    check_network_flags(paths, o, &network)?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let parsed = crate::config::parse(o, &cwd)?;
    if o.init {
        crate::oci::init::binary()?;
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
        None => crate::monitor::runtime::default_binary()?,
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
    let image = ImageDefaults {
        env: icfg.env().clone().unwrap_or_default(),
        entrypoint: icfg.entrypoint().clone().unwrap_or_default(),
        cmd: icfg.cmd().clone().unwrap_or_default(),
        labels: icfg
            .labels()
            .clone()
            .map(|m| m.into_iter().collect())
            .unwrap_or_default(),
        volumes: icfg
            .volumes()
            .clone()
            .map(|v| v.into_iter().collect())
            .unwrap_or_default(),
        stop_signal: icfg.stop_signal().clone(),
        user: icfg.user().clone(),
        working_dir: icfg.working_dir().clone(),
        exposed_ports: icfg.exposed_ports().clone().unwrap_or_default(),
    };
    let caller_env = |k: &str| std::env::var(k).ok();
    let Decided {
        argv,
        mut config,
        mut host_config,
    } = crate::config::decide(
        o,
        parsed,
        &image,
        &cwd,
        &caller_env,
        network,
        runtime.to_string_lossy().into_owned(),
    )?;
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
    crate::volumes::realize(&paths.root, &mut host_config.mount_points)?;
    if config.hostname.is_empty() {
        config.hostname = id[..12].to_string();
    }
    let c = Container {
        name,
        created: proc::now_rfc3339(),
        path: argv[0].clone(),
        args: argv[1..].to_vec(),
        image_id: img.id.to_string(),
        lower_dirs,
        config,
        host_config,
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
        crate::volumes::remove_anonymous(&paths.root, &c.host_config.mount_points);
        return Err(e);
    }
    crate::events::container(paths, &c, "create", &[]);
    Ok(c)
}
