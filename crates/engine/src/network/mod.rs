//! The engine's side of networking: the config file, the default network
//! (chosen once, then recorded), and connecting a container according to
//! its network mode: a netns handle under the runroot plus the network's
//! driver, undone at exit, at `rm`, or by the gc after a crash.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use husk_network::network::{choose_subnet, DEFAULT_BRIDGE, DEFAULT_MTU, DEFAULT_NETWORK};
use husk_network::{
    BridgeDriver, Firewall, Ipam, Ipv4Net, Network, NetworkDriver, NetworkStore, PortSpec, Proto,
    SetupRequest,
};
use serde::Deserialize;

use crate::store::{names, Container, NetworkState, Paths};
use crate::{Error, Result};

mod attach;
pub mod hosts;
pub mod user;

pub use attach::{connect_to, disconnect_from, join_ips};

pub const DEFAULT_CONFIG: &str = "/etc/husk/config.toml";
/// husk's own nftables table (`ip husk`); no other table is touched.
pub const FIREWALL_TABLE: &str = "husk";
/// The engine root whose default network keeps the bridge name `husk0`;
/// any other root gets a name of its own (`default_bridge`).
pub const DEFAULT_ROOT: &str = "/var/lib/husk";
/// Locks that every engine root on the host shares: the nft table, and
/// the choice of subnets and bridges, are the host's, not one root's.
pub const HOST_LOCK_DIR: &str = "/run/lock/husk";

/// `/etc/husk/config.toml` (or `--config`). Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub network: NetworkConfig,
    pub registry: crate::registry::RegistryConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// The mode of a container run without `--network`.
    pub default_network: String,
    /// The Linux bridge of the default network; unset = `husk0` for the
    /// root /var/lib/husk and `husk-<8 hex of the root's path>` for any
    /// other, so two roots on one host never share a bridge.
    pub bridge: Option<String>,
    /// Its subnet; unset = the first 172.17-31.0.0/16 free of host routes.
    pub subnet: Option<String>,
    pub mtu: u32,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            default_network: DEFAULT_NETWORK.into(),
            bridge: None,
            subnet: None,
            mtu: DEFAULT_MTU,
        }
    }
}

impl Config {
    /// The config at `explicit` (which must exist), else the default path
    /// if present, else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let path = explicit.unwrap_or(Path::new(DEFAULT_CONFIG));
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                return Ok(Config::default())
            }
            Err(e) => return Err(Error::io("read config", path, e)),
        };
        let bad = |reason: String| Error::Config {
            path: path.to_path_buf(),
            reason,
        };
        // toml's Display is a multi-line snippet: keep errors to one line.
        let cfg: Config = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
        let n = &cfg.network;
        if !matches!(n.default_network.as_str(), "bridge" | "none" | "host") {
            return Err(bad(format!(
                "network.default_network {:?}: use bridge, none or host",
                n.default_network
            )));
        }
        if !(68..=65535).contains(&n.mtu) {
            return Err(bad(format!("network.mtu {}: use 68 to 65535", n.mtu)));
        }
        if let Some(s) = &n.subnet {
            s.parse::<Ipv4Net>()
                .map_err(|_| bad(format!("network.subnet {s:?}: use a.b.c.d/len")))?;
        }
        cfg.registry.check().map_err(bad)?;
        if let Some(b) = &n.bridge {
            Network::bridge(DEFAULT_NETWORK, b, "10.0.0.0/24".parse()?)
                .map_err(|e| bad(format!("network.bridge: {}", husk_fs::Chain(&e))))?;
        }
        Ok(cfg)
    }
}

/// A container's `--network`, as recorded in HostConfig.NetworkMode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Bridge,
    None,
    Host,
    /// `container:<id>`: the id of the container whose stack is shared.
    Container(String),
    /// A network made with `husk network create`, by name.
    Named(String),
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "bridge" | "default" => Some(Mode::Bridge),
            "none" => Some(Mode::None),
            "host" => Some(Mode::Host),
            _ => match s.strip_prefix("container:") {
                Some(t) if !t.is_empty() => Some(Mode::Container(t.to_string())),
                Some(_) => None,
                None if user::valid_name(s) => Some(Mode::Named(s.to_string())),
                None => None,
            },
        }
    }

    /// The network a container of this mode gets an endpoint on.
    pub fn network_name(&self) -> Option<&str> {
        match self {
            Mode::Bridge => Some(DEFAULT_NETWORK),
            Mode::Named(n) => Some(n),
            _ => None,
        }
    }
}

/// The network of a bridge-type mode: the default one (recorded on first
/// use), or a user-defined one, which must exist.
pub fn network_of(paths: &Paths, mode: &Mode) -> Result<Option<Network>> {
    match mode {
        Mode::Bridge => default_network(paths).map(Some),
        Mode::Named(n) => match store(paths)?.get(n)? {
            Some(net) => Ok(Some(net)),
            None => Err(user::not_found(n)),
        },
        _ => Ok(None),
    }
}

pub fn store(paths: &Paths) -> Result<NetworkStore> {
    Ok(NetworkStore::open(&paths.root.join("network"))?)
}

fn firewall(_store: &NetworkStore) -> Firewall {
    // The table is the host's: its lock must be the same for every root.
    // A directory we cannot make shows as the lock's own error.
    let _ = husk_fs::private_dir(Path::new(HOST_LOCK_DIR), &[]);
    Firewall::new(FIREWALL_TABLE, Path::new(HOST_LOCK_DIR))
}

/// Held while a subnet or bridge is chosen and the bridge made, so that
/// two roots (or a root and itself) never pick the same one. Taken after
/// the root's own network lock, never before.
pub(crate) fn host_lock() -> Result<husk_fs::Lock> {
    let dir = Path::new(HOST_LOCK_DIR);
    husk_fs::private_dir(dir, &[])?;
    Ok(husk_fs::Lock::exclusive(&dir.join("networks.lock"))?)
}

/// The default network's bridge for an engine rooted at `root` when the
/// config names none.
pub fn default_bridge(root: &Path) -> String {
    if root == Path::new(DEFAULT_ROOT) {
        return DEFAULT_BRIDGE.to_string();
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(root.as_os_str().as_encoded_bytes());
    format!("husk-{}", &hex::encode(digest)[..8])
}

/// The driver behind a network value: only "bridge" exists today.
pub fn driver_for(store: &NetworkStore, net: &Network) -> Result<Box<dyn NetworkDriver>> {
    match net.driver.as_str() {
        "bridge" => Ok(Box::new(BridgeDriver::new(
            store,
            net.clone(),
            firewall(store),
        ))),
        other => Err(husk_network::Error::NetworkNotFound(format!(
            "{} (driver {other})",
            net.name
        ))
        .into()),
    }
}

/// Whether the recorded default network is what the config asks for; a
/// bridge the config leaves unset is whatever was recorded.
fn config_matches(n: &Network, cfg: &NetworkConfig) -> bool {
    cfg.bridge.as_ref().is_none_or(|b| *b == n.bridge)
        && n.mtu == cfg.mtu
        && cfg
            .subnet
            .as_ref()
            .is_none_or(|s| s.parse::<Ipv4Net>().is_ok_and(|s| s == n.subnet))
}

/// The default network: as recorded, or chosen now from the config and
/// the host's routes and recorded, so the choice stays put when routes
/// change later. A changed config replaces an unused network and is
/// refused while containers hold addresses in it.
pub fn default_network(paths: &Paths) -> Result<Network> {
    let cfg = Config::load(paths.config.as_deref())?.network;
    let store = store(paths)?;
    if let Some(n) = store.get(DEFAULT_NETWORK)? {
        if config_matches(&n, &cfg) {
            return Ok(n);
        }
    }
    let _lock = store.lock()?;
    if let Some(old) = store.get(DEFAULT_NETWORK)? {
        if config_matches(&old, &cfg) {
            return Ok(old);
        }
        if let Some((_, owner)) = Ipam::new(&store, &old).allocations()?.into_iter().next() {
            return Err(Error::Config {
                path: paths
                    .config
                    .clone()
                    .unwrap_or_else(|| DEFAULT_CONFIG.into()),
                reason: format!(
                    "network {} ({} on {}) is in use by container {owner}: remove its containers before changing its bridge, subnet or mtu",
                    old.name, old.subnet, old.bridge
                ),
            });
        }
        BridgeDriver::new(&store, old.clone(), firewall(&store)).remove_network()?;
        store.delete(&old.name)?;
    }
    let _host = host_lock()?;
    let routes = husk_network::host_routes()?;
    let subnet = match &cfg.subnet {
        Some(s) => {
            let n: Ipv4Net = s.parse()?;
            husk_network::check_overlap(DEFAULT_NETWORK, n, &routes)?;
            n
        }
        None => {
            // User-defined networks' subnets are taken too, bridges up or not.
            let mut taken = routes;
            taken.extend(store.list()?.iter().map(|n| n.subnet));
            choose_subnet(&taken)?
        }
    };
    let bridge = cfg
        .bridge
        .clone()
        .unwrap_or_else(|| default_bridge(&paths.root));
    check_bridge_owner(paths, &bridge)?;
    let mut net = Network::bridge(DEFAULT_NETWORK, &bridge, subnet)?;
    net.mtu = cfg.mtu;
    net.id = names::new_id();
    store.save(&net)?;
    // Made now, under the host lock: its route is what tells another
    // root choosing next that this subnet is taken.
    let driver = BridgeDriver::new(&store, net.clone(), firewall(&store));
    let up = husk_network::Netlink::new().and_then(|mut nl| {
        let index = driver.ensure_bridge(&mut nl)?;
        nl.set_alias(index, &owner_alias(&paths.root), &net.bridge)
    });
    if let Err(e) = up {
        let _ = store.delete(&net.name);
        return Err(e.into());
    }
    Ok(net)
}

/// The alias a root's default bridge carries, naming the root: how
/// another root configured with the same `network.bridge` learns that the
/// bridge, its subnet and its addresses are not its to share.
fn owner_alias(root: &Path) -> String {
    format!("{OWNER_ALIAS}{}", root.display())
}

const OWNER_ALIAS: &str = "husk-root ";

/// Refuses a default bridge that another engine root made. One made by
/// hand (or by an older husk) carries no alias and is used as found, as
/// docker uses the bridge `--bridge` names.
fn check_bridge_owner(paths: &Paths, bridge: &str) -> Result<()> {
    let Some(link) = husk_network::Netlink::new()?.link(bridge)? else {
        return Ok(());
    };
    let owner = link
        .alias
        .as_deref()
        .and_then(|a| a.strip_prefix(OWNER_ALIAS));
    match owner {
        Some(o) if Path::new(o) != paths.root => Err(Error::Config {
            path: paths
                .config
                .clone()
                .unwrap_or_else(|| DEFAULT_CONFIG.into()),
            reason: format!(
                "bridge {bridge} belongs to the engine rooted at {o}: set network.bridge to another name"
            ),
        }),
        _ => Ok(()),
    }
}

/// The mode a container gets without `--network`.
pub fn default_mode(paths: &Paths) -> Result<String> {
    Ok(Config::load(paths.config.as_deref())?
        .network
        .default_network)
}

/// Where the container's network namespace comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sandbox {
    /// The host's (no network namespace in the spec).
    Host,
    /// A fresh one from the runtime, with only `lo`.
    New,
    /// An existing one, by path.
    Join(PathBuf),
}

/// What `connect` set up.
#[derive(Debug, Clone)]
pub struct Connected {
    pub sandbox: Sandbox,
    pub state: Option<NetworkState>,
}

/// `-p` and `-P` as the driver wants them.
pub fn port_specs(c: &Container) -> Result<Vec<PortSpec>> {
    let mut specs = Vec::new();
    for p in &c.host_config.port_bindings {
        specs.extend(husk_network::parse_port_spec(p)?);
    }
    if c.host_config.publish_all {
        for e in &c.config.exposed_ports {
            let Some((port, proto)) = parse_exposed(e) else {
                continue;
            };
            let bound = specs
                .iter()
                .any(|s| s.container_port == port && s.proto == proto);
            if !bound {
                specs.push(PortSpec {
                    host_ip: None,
                    host_start: 0,
                    host_end: 0,
                    container_port: port,
                    proto,
                });
            }
        }
    }
    Ok(specs)
}

/// `80/tcp`, `53/udp` or `80` (tcp).
pub fn parse_exposed(s: &str) -> Option<(u16, Proto)> {
    let (port, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    let proto = match proto {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    };
    Some((port.parse().ok().filter(|p| *p > 0)?, proto))
}

fn setup_lock(store: &NetworkStore) -> Result<husk_fs::Lock> {
    Ok(husk_fs::Lock::exclusive(&store.root().join("setup.lock"))?)
}

/// Connects `c` as its network mode says. The caller (the monitor) has
/// recorded its own pid first, so a concurrent gc counts it as live.
pub fn connect(paths: &Paths, c: &Container) -> Result<Connected> {
    let mode = Mode::parse(&c.host_config.network_mode).ok_or_else(|| Error::InvalidFlag {
        flag: "--network",
        value: c.host_config.network_mode.clone(),
        reason: "use bridge, none, host, container:NAME or a network's name".into(),
    })?;
    let sandbox = match mode {
        Mode::Host => Sandbox::Host,
        Mode::None => Sandbox::New,
        Mode::Container(target) => joined_sandbox(paths, c, &target)?,
        Mode::Bridge | Mode::Named(_) => {
            let net = network_of(paths, &mode)?.ok_or_else(|| user::not_found("bridge"))?;
            return connect_network(paths, c, net);
        }
    };
    Ok(Connected {
        sandbox,
        state: None,
    })
}

fn joined_sandbox(paths: &Paths, c: &Container, target: &str) -> Result<Sandbox> {
    let t = paths.resolve(target)?;
    // The record may outlive a crash; a target whose processes are gone is
    // not running, whatever it says (the next command that reconciles it
    // settles the record: the network only reads it).
    if !t.is_running() || t.state.pid <= 0 || !crate::store::container_alive(&t) {
        return Err(Error::Conflict {
            id: c.id.clone(),
            reason: format!(
                "cannot join the network of container {}: it is not running",
                t.name
            ),
        });
    }
    if Mode::parse(&t.host_config.network_mode) == Some(Mode::Host) {
        return Ok(Sandbox::Host);
    }
    let handle = paths.netns(&t.id);
    Ok(Sandbox::Join(if handle.exists() {
        handle
    } else {
        PathBuf::from(format!("/proc/{}/ns/net", t.state.pid))
    }))
}

fn connect_network(paths: &Paths, c: &Container, net: Network) -> Result<Connected> {
    let store = store(paths)?;
    let driver = driver_for(&store, &net)?;
    let handle = paths.netns(&c.id);
    let hc = &c.host_config;
    let req = SetupRequest {
        container_id: c.id.clone(),
        netns: handle.clone(),
        ip: parse_ip(&hc.ip)?,
        ip6: attach::parse_ip6(&hc.ip)?,
        mac: parse_mac(&hc.mac_address)?,
        ports: port_specs(c)?,
        extra: None,
    };
    // gc takes this lock too: it never judges liveness while an address
    // is being handed out; `network rm` too: a network is not removed
    // while a container joins it.
    let _lock = setup_lock(&store)?;
    if store.get(&net.name)?.is_none() {
        return Err(user::not_found(&net.name));
    }
    husk_network::netns::create_handle(&handle)?;
    let ep = match driver.setup(&req) {
        Ok(ep) => ep,
        Err(e) => {
            let _ = husk_network::netns::remove_handle(&handle);
            return Err(e.into());
        }
    };
    journal(paths, &net, "connect", &c.id);
    let mut state = NetworkState {
        sandbox_key: handle.to_string_lossy().into_owned(),
        endpoint_id: names::new_id(),
        network_id: net.id.clone(),
        endpoint: Some(ep),
        extra: Vec::new(),
    };
    for a in &c.host_config.extra_networks {
        match attach::endpoint(paths, &store, &c.id, &handle, a, &state.extra) {
            Ok(x) => state.extra.push(x),
            Err(e) => {
                // All or nothing: what was made goes, with the handle
                // (the veths die with the namespace once the start fails).
                for x in &state.extra {
                    attach::release(paths, &store, &c.id, &x.endpoint, false);
                }
                let _ = driver.teardown(&c.id);
                let _ = husk_network::netns::remove_handle(&handle);
                return Err(e);
            }
        }
    }
    Ok(Connected {
        sandbox: Sandbox::Join(handle.clone()),
        state: Some(state),
    })
}

pub fn parse_ip(s: &str) -> Result<Option<Ipv4Addr>> {
    // `--ip` and `--ip6` share the record: "V4", "V6" or "V4,V6".
    let s = s.split(',').find(|p| !p.contains(':')).unwrap_or("");
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| Error::InvalidFlag {
        flag: "--ip",
        value: s.to_string(),
        reason: "not an IPv4 address".into(),
    })
}

pub fn parse_mac(s: &str) -> Result<Option<[u8; 6]>> {
    if s.is_empty() {
        return Ok(None);
    }
    Ok(Some(husk_network::driver::parse_mac(s)?))
}

pub fn parse_dns(s: &str) -> Result<IpAddr> {
    s.parse().map_err(|_| Error::InvalidFlag {
        flag: "--dns",
        value: s.to_string(),
        reason: "not an IP address".into(),
    })
}

/// Undoes `connect` (or what a crash left of it) for a container whose
/// processes are gone; safe to repeat.
pub fn disconnect(paths: &Paths, c: &Container) -> Result<()> {
    let mut errors = Vec::new();
    // Unpinned first: with no process left in it the namespace dies, and
    // its veth with it. Unless a running container joined it
    // (container:ID): then the veth must go now, or its address would be
    // handed out again while still in use.
    let handle = paths.netns(&c.id);
    let joined = joined_by_running(paths, &c.id);
    if let Err(e) = husk_network::netns::remove_handle(&handle) {
        errors.push(husk_fs::error_chain(&e));
    }
    // The network it was given an endpoint on, else the one its mode
    // names (a crash before the record had the endpoint).
    let name = c
        .network
        .as_ref()
        .and_then(|s| s.endpoint.as_ref())
        .map(|e| e.network.clone())
        .or_else(|| {
            Mode::parse(&c.host_config.network_mode)
                .and_then(|m| m.network_name().map(String::from))
        });
    if let Some(name) = name {
        let store = store(paths)?;
        if let Some(net) = store.get(&name)? {
            let unpublished = c
                .network
                .as_ref()
                .and_then(|s| s.endpoint.as_ref())
                .is_some_and(|e| e.ports.is_empty());
            let done = driver_for(&store, &net).and_then(|d| {
                let r = if joined {
                    d.teardown(&c.id)
                } else if unpublished {
                    d.release_unpublished(&c.id)
                } else {
                    d.release(&c.id)
                };
                Ok(r?)
            });
            match done {
                Ok(()) => journal(paths, &net, "disconnect", &c.id),
                Err(e) => errors.push(husk_fs::error_chain(&e)),
            }
            if net.name != DEFAULT_NETWORK {
                if let Err(e) = hosts::refresh(paths, &net.name, Some(&c.id)) {
                    errors.push(husk_fs::error_chain(&e));
                }
            }
        }
    }
    let store = store(paths)?;
    for x in c.network.iter().flat_map(|s| s.extra.iter()) {
        errors.extend(attach::release(paths, &store, &c.id, &x.endpoint, joined));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Conflict {
            id: c.id.clone(),
            reason: format!("network teardown: {}", errors.join("; ")),
        })
    }
}

/// Whether a running container shares `id`'s network namespace.
fn joined_by_running(paths: &Paths, id: &str) -> bool {
    let mode = format!("container:{id}");
    paths
        .all()
        .map(|all| {
            all.iter()
                .any(|c| c.host_config.network_mode == mode && crate::store::container_alive(c))
        })
        // Unknown: take the safe, slower way.
        .unwrap_or(true)
}

/// Whether `c` may have anything left to disconnect.
pub fn needs_disconnect(paths: &Paths, c: &Container) -> bool {
    c.network.is_some() || paths.netns(&c.id).exists()
}

/// Containers whose monitor or init is alive: they own what they hold.
fn live_ids(paths: &Paths) -> Result<BTreeSet<String>> {
    Ok(paths
        .all()?
        .into_iter()
        .filter(crate::store::container_alive)
        .map(|c| c.id)
        .collect())
}

/// Crash repair: handles, veths, rules and addresses of containers that
/// are gone or no longer running are removed. Cheap when there is nothing
/// to do (one file read and the record list), so every listing runs it.
pub fn gc(paths: &Paths) -> Result<()> {
    let handles: Vec<String> = std::fs::read_dir(paths.netns_dir())
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let store = store(paths)?;
    let nets = store.list()?;
    let mut owners: BTreeSet<String> = BTreeSet::new();
    for n in &nets {
        let held: BTreeMap<Ipv4Addr, String> = Ipam::new(&store, n).allocations()?;
        owners.extend(held.into_values());
    }
    if handles.is_empty() && owners.is_empty() {
        return Ok(());
    }
    let live = live_ids(paths)?;
    let clean = handles.iter().all(|h| live.contains(h)) && owners.iter().all(|o| live.contains(o));
    if clean {
        return Ok(());
    }
    let _lock = setup_lock(&store)?;
    // Again under the lock: a monitor may have started meanwhile.
    let live = live_ids(paths)?;
    let mut errors = Vec::new();
    for h in handles.iter().filter(|h| !live.contains(*h)) {
        if let Err(e) = husk_network::netns::remove_handle(&paths.netns(h)) {
            errors.push(husk_fs::error_chain(&e));
        }
    }
    for n in &nets {
        match driver_for(&store, n).and_then(|d| Ok(d.gc(&live)?)) {
            // Names that went with the dead stay in their peers' hosts
            // files until someone rewrites them: now.
            Ok(report) if !report.addresses.is_empty() && n.name != DEFAULT_NETWORK => {
                if let Err(e) = hosts::refresh(paths, &n.name, None) {
                    errors.push(husk_fs::error_chain(&e));
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(husk_fs::error_chain(&e)),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Conflict {
            id: "-".into(),
            reason: format!("network gc: {}", errors.join("; ")),
        })
    }
}

/// A network event as docker logs them: the actor is the network.
fn journal(paths: &Paths, net: &Network, action: &str, container: &str) {
    let mut attrs = vec![("name", net.name.as_str()), ("type", net.driver.as_str())];
    // create and destroy concern no container.
    if !container.is_empty() {
        attrs.insert(0, ("container", container));
    }
    crate::events::emit(paths, crate::events::Kind::Network, action, &net.id, &attrs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[network]\nbridge = \"br-x\"\nsubnet = \"10.7.0.0/24\"\nmtu = 1400\ndefault_network = \"none\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&p)).unwrap().network;
        assert_eq!(
            (c.bridge.as_deref(), c.subnet.as_deref(), c.mtu),
            (Some("br-x"), Some("10.7.0.0/24"), 1400)
        );
        assert_eq!(c.default_network, "none");
        for (text, want) in [
            ("[network]\nbogus = 1\n", "unknown field"),
            ("[network]\nsubnet = \"10.7.0.0\"\n", "network.subnet"),
            ("[network]\nmtu = 10\n", "network.mtu"),
            (
                "[network]\nbridge = \"a-very-long-bridge\"\n",
                "network.bridge",
            ),
            ("[network]\ndefault_network = \"x\"\n", "default_network"),
        ] {
            std::fs::write(&p, text).unwrap();
            let err = Config::load(Some(&p)).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let missing = dir.path().join("missing.toml");
        assert!(Config::load(Some(&missing)).is_err());
    }

    #[test]
    fn each_root_but_the_default_one_has_a_bridge_of_its_own() {
        assert_eq!(default_bridge(Path::new("/var/lib/husk")), "husk0");
        assert_eq!(default_bridge(Path::new("/var/lib/husk/")), "husk0");
        let (a, b) = (
            default_bridge(Path::new("/srv/a")),
            default_bridge(Path::new("/srv/b")),
        );
        assert_ne!(a, b);
        for name in [&a, &b] {
            assert!(name.starts_with("husk-") && name.len() == 13, "{name}");
            Network::bridge("bridge", name, "10.0.0.0/24".parse().unwrap()).unwrap();
        }
        assert_eq!(a, default_bridge(Path::new("/srv/a")), "not stable");
    }

    #[test]
    fn publish_all_adds_the_exposed_ports_not_published_already() {
        let mut c: Container = serde_json::from_value(serde_json::json!({
            "id": "x", "name": "x", "created": "", "path": "true", "args": [],
            "image_id": "", "lower_dirs": [],
            "config": {"hostname": "x", "user": "", "env": [], "cmd": [], "entrypoint": [],
                       "image": "busybox", "working_dir": "", "labels": {}, "tty": false,
                       "open_stdin": false, "exposed_ports": ["80/tcp", "53/udp", "8080/tcp"]},
            "host_config": {"memory": 0, "nano_cpus": 0, "cpu_shares": 0, "pids_limit": null,
                            "network_mode": "bridge", "auto_remove": false, "runtime": "",
                            "port_bindings": ["9000:8080"]},
            "state": {"status": "created", "pid": 0, "exit_code": 0},
        }))
        .unwrap();
        let ports = |c: &Container| {
            port_specs(c)
                .unwrap()
                .iter()
                .map(|s| (s.host_start, s.container_port, s.proto))
                .collect::<Vec<_>>()
        };
        assert_eq!(ports(&c), vec![(9000, 8080, Proto::Tcp)]);
        c.host_config.publish_all = true;
        assert_eq!(
            ports(&c),
            vec![
                (9000, 8080, Proto::Tcp),
                (0, 80, Proto::Tcp),
                (0, 53, Proto::Udp)
            ]
        );
    }

    #[test]
    fn modes_and_exposed_ports() {
        assert_eq!(Mode::parse("bridge"), Some(Mode::Bridge));
        assert_eq!(
            Mode::parse("container:abc"),
            Some(Mode::Container("abc".into()))
        );
        assert_eq!(Mode::parse("container:"), None);
        // Any other valid name is a user-defined network's (checked to
        // exist when a container is created on it).
        assert_eq!(Mode::parse("weird"), Some(Mode::Named("weird".into())));
        assert_eq!(Mode::parse("no/slash"), None);
        assert_eq!(Mode::parse("-x"), None);
        assert_eq!(parse_exposed("80/tcp"), Some((80, Proto::Tcp)));
        assert_eq!(parse_exposed("53/udp"), Some((53, Proto::Udp)));
        assert_eq!(parse_exposed("x/tcp"), None);
    }
}
