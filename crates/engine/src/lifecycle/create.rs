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
        // By name or id; recorded by name, as docker's NetworkMode.
        Some(Mode::Named(n)) => network::user::resolve(paths, &n)
            .map(|net| net.name)
            .map_err(|e| bad(husk_fs::Chain(&e).to_string())),
        None => Err(bad(
            "use bridge, none, host, container:NAME or a network's name".into(),
        )),
    }
}

/// The second and later `--network` flags, each a user-defined network
/// (or the default one) named once, beside a first one of that kind.
fn extra_networks(
    paths: &Paths,
    o: &CreateOptions,
    first: &str,
) -> Result<Vec<crate::config::container::NetworkAttachment>> {
    let mut out: Vec<crate::config::container::NetworkAttachment> = Vec::new();
    for n in &o.extra_networks {
        let bad = |reason: String| Error::InvalidFlag {
            flag: "--network",
            value: n.clone(),
            reason,
        };
        let name = match Mode::parse(n) {
            Some(Mode::Bridge) => husk_network::network::DEFAULT_NETWORK.to_string(),
            Some(Mode::Named(n)) => network::user::resolve(paths, &n)?.name,
            _ => {
                return Err(bad(
                    "only networks can be combined: not host, none or container:NAME".into(),
                ))
            }
        };
        if !matches!(Mode::parse(first), Some(Mode::Bridge | Mode::Named(_))) {
            return Err(bad(format!(
                "a container on {first} cannot join other networks"
            )));
        }
        if name == first || out.iter().any(|a| a.name == name) {
            return Err(bad("the container is connected to it once".into()));
        }
        out.push(crate::config::container::NetworkAttachment {
            name,
            ..Default::default()
        });
    }
    Ok(out)
}

/// The network flags, checked before anything is recorded: docker's
/// conflicts, then each value (an `--ip` against the network's subnet).
fn check_network_flags(paths: &Paths, o: &CreateOptions, mode: &str) -> Result<()> {
    let named = matches!(Mode::parse(mode), Some(Mode::Named(_)));
    let bridge = mode == "bridge" || named;
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
    if let Some(a) = o.network_aliases.first() {
        if !named {
            return Err(Error::InvalidFlag {
                flag: "--network-alias",
                value: a.clone(),
                reason: format!("network-scoped aliases need a user-defined network, not {mode}"),
            });
        }
    }
    if let Some(bad) = o
        .network_aliases
        .iter()
        .find(|a| a.is_empty() || a.contains(char::is_whitespace) || a.contains('#'))
    {
        return Err(Error::InvalidFlag {
            flag: "--network-alias",
            value: bad.clone(),
            reason: "a host name without spaces".into(),
        });
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
        let mode = Mode::parse(mode).unwrap_or(Mode::Bridge);
        if let Some(net) = network::network_of(paths, &mode)? {
            husk_network::Ipam::new(&network::store(paths)?, &net).validate(ip)?;
        }
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
    let raw = raw_config(&store, &img)?;
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
        healthcheck: image_healthcheck(&raw, &img)?,
        shell: image_shell(&raw, &img)?,
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
    shared_with_others(paths, &mut host_config)?;
    host_config.extra_networks = extra_networks(paths, o, &host_config.network_mode)?;
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
    if host_config.extra.uts_mode == "host" {
        // The host's UTS namespace: its name is the container's.
        config.hostname = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
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
        .and_then(|()| write_cidfile(&c))
        .and_then(|()| {
            paths.save(&c).inspect_err(|_| {
                let _ = std::fs::remove_file(&c.host_config.extra.container_id_file);
            })
        });
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

/// The image config as stored: `Healthcheck` and `Shell` are docker's,
/// which OCI's config types do not carry.
fn raw_config(store: &Store, img: &husk_image::Image) -> Result<serde_json::Value> {
    Ok(serde_json::from_slice(&store.config_bytes(img)?)
        .map_err(|e| husk_image::Error::json(format!("image config {}", img.id), e))?)
}

fn image_shell(raw: &serde_json::Value, img: &husk_image::Image) -> Result<Vec<String>> {
    match raw.get("config").and_then(|c| c.get("Shell")) {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(v) => Ok(serde_json::from_value(v.clone()).map_err(|e| {
            husk_image::Error::json(format!("Shell of image config {}", img.id), e)
        })?),
    }
}

fn image_healthcheck(
    raw: &serde_json::Value,
    img: &husk_image::Image,
) -> Result<Option<crate::config::health::Healthcheck>> {
    Ok(crate::config::health::from_image(raw).map_err(|e| {
        husk_image::Error::json(format!("Healthcheck of image config {}", img.id), e)
    })?)
}

/// `--cidfile`: the new id in a file that must not exist yet (docker's
/// guard against two runs sharing one).
fn write_cidfile(c: &Container) -> Result<()> {
    use std::io::Write;
    let path = &c.host_config.extra.container_id_file;
    if path.is_empty() {
        return Ok(());
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::InvalidFlag {
            flag: "--cidfile",
            value: path.clone(),
            reason: format!("cannot create the container ID file: {e}"),
        })?;
    f.write_all(c.id.as_bytes())
        .map_err(|e| Error::io("write", path, e))
}

/// `--ipc container:NAME`, `--pid container:NAME` become `container:<id>`
/// (as --network does), and `--volumes-from NAME[:ro|rw]` brings NAME's
/// volumes and binds (not its tmpfs) to the paths no flag of ours took.
/// An anonymous volume stays anonymous: `rm -v` of whichever container
/// mounts it last removes it (volumes::remove_anonymous_unshared).
fn shared_with_others(paths: &Paths, h: &mut crate::store::HostConfig) -> Result<()> {
    for (flag, mode) in [
        ("--ipc", &mut h.extra.ipc_mode),
        ("--pid", &mut h.extra.pid_mode),
    ] {
        if let Some(name) = mode.strip_prefix("container:") {
            let t = paths.resolve(name).map_err(|e| Error::InvalidFlag {
                flag,
                value: mode.clone(),
                reason: husk_fs::Chain(&e).to_string(),
            })?;
            *mode = format!("container:{}", t.id);
        }
    }
    for v in h.extra.volumes_from.clone() {
        let (name, access) = v.split_once(':').unwrap_or((&v, ""));
        let t = paths.resolve(name).map_err(|e| Error::InvalidFlag {
            flag: "--volumes-from",
            value: v.clone(),
            reason: husk_fs::Chain(&e).to_string(),
        })?;
        for m in &t.host_config.mount_points {
            if m.kind == crate::config::mounts::MountType::Tmpfs
                || h.mount_points
                    .iter()
                    .any(|p| p.destination == m.destination)
            {
                continue;
            }
            let mut m = m.clone();
            match access {
                "ro" => {
                    m.rw = false;
                    m.mode = "ro".into();
                }
                "rw" => {
                    m.rw = true;
                    m.mode = "rw".into();
                }
                _ => {}
            }
            h.mount_points.push(m);
        }
    }
    Ok(())
}
