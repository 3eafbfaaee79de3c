//! User-defined networks: `husk network create|ls|inspect|rm|prune`.
//! Each is a bridge of its own (`br-<12 hex of its id>`, as docker names
//! them), a subnet that overlaps no host route and no other network, an
//! address book, and rules in husk's table that keep it apart from every
//! other network.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use husk_network::cidr6::choose_ula;
use husk_network::network::{choose_subnet, DEFAULT_MTU, DEFAULT_NETWORK};
use husk_network::{BridgeDriver, Ipam, Ipv4Net, Ipv6Net, Netlink, Network};
use serde_json::{json, Value};

use super::{default_network, firewall, setup_lock, store};
use crate::store::{names, Container, Paths};
use crate::{Error, Result};

/// Names `--network` gives a meaning of its own.
const RESERVED: [&str; 4] = ["bridge", "host", "none", "default"];
const BRIDGE_NAME_OPT: &str = "com.docker.network.bridge.name";
const MTU_OPT: &str = "com.docker.network.driver.mtu";

/// docker's rule for network names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

pub(crate) fn not_found(name: &str) -> Error {
    Error::NetworkConflict {
        name: name.to_string(),
        reason: format!(
            "not found: create it with `husk network create {name}` (`husk network ls` lists them)"
        ),
    }
}

/// The ids of the `host` and `none` modes, which docker lists as
/// networks: stable for an engine root.
pub fn builtin_id(paths: &Paths, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!("husk network {name} {}", paths.root.display()));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `husk network create`'s flags. `subnet`, `gateway` and `ip_range`
/// each hold one value or, as docker takes the flags twice, one IPv4 and
/// one IPv6 value joined by a comma (see [`join_flags`]).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub name: String,
    pub driver: String,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
    pub internal: bool,
    pub ipv6: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

fn bad(o: &CreateOptions, reason: impl Into<String>) -> Error {
    Error::NetworkConflict {
        name: o.name.clone(),
        reason: reason.into(),
    }
}

fn parse_net(o: &CreateOptions, flag: &'static str, s: &str) -> Result<Ipv4Net> {
    s.parse().map_err(|_| Error::InvalidFlag {
        flag,
        value: s.to_string(),
        reason: format!("network {}: use a.b.c.d/len", o.name),
    })
}

/// The values of a repeatable flag as [`CreateOptions`] holds them.
pub fn join_flags(values: &[String]) -> Option<String> {
    (!values.is_empty()).then(|| values.join(","))
}

/// One flag's values split by family: at most one of each.
fn by_family<'a>(
    o: &CreateOptions,
    flag: &'static str,
    value: Option<&'a str>,
) -> Result<(Option<&'a str>, Option<&'a str>)> {
    let (mut v4, mut v6) = (None, None);
    for v in value.into_iter().flat_map(|v| v.split(',')) {
        let slot = if v.contains(':') { &mut v6 } else { &mut v4 };
        if slot.replace(v).is_some() {
            return Err(Error::InvalidFlag {
                flag,
                value: value.unwrap_or_default().to_string(),
                reason: format!(
                    "network {}: give at most one IPv4 and one IPv6 {flag}",
                    o.name
                ),
            });
        }
    }
    Ok((v4, v6))
}

/// `--subnet`, `--gateway` and `--ip-range` of the IPv6 family.
#[derive(Default)]
struct Flags6<'a> {
    subnet: Option<&'a str>,
    gateway: Option<&'a str>,
    ip_range: Option<&'a str>,
}

fn parse6<T: std::str::FromStr>(
    o: &CreateOptions,
    flag: &'static str,
    s: &str,
    form: &str,
) -> Result<T> {
    s.parse().map_err(|_| Error::InvalidFlag {
        flag,
        value: s.to_string(),
        reason: format!("network {}: use {form}", o.name),
    })
}

/// The IPv6 side of a `--ipv6` network: the subnet given (checked
/// against the other networks and the host's routes) or a free ULA /64.
fn ipv6_side(o: &CreateOptions, net: Network, f: &Flags6, existing: &[Network]) -> Result<Network> {
    let taken6: Vec<Ipv6Net> = existing
        .iter()
        .filter_map(|n| n.ipv6.as_ref().map(|v| v.subnet))
        .collect();
    let subnet = match f.subnet {
        Some(s) => {
            let subnet: Ipv6Net = parse6(o, "--subnet", s, "an IPv6 prefix such as fd00:1::/64")?;
            if let Some(other) = existing
                .iter()
                .find(|n| n.ipv6.as_ref().is_some_and(|v| v.subnet.overlaps(&subnet)))
            {
                return Err(husk_network::Error::NetworkOverlap {
                    subnet: subnet.to_string(),
                    network: o.name.clone(),
                    other: other.name.clone(),
                    other_subnet: other
                        .ipv6
                        .as_ref()
                        .map(|v| v.subnet.to_string())
                        .unwrap_or_default(),
                }
                .into());
            }
            let routes = husk_network::host_routes6()?;
            if let Some(r) = routes
                .iter()
                .find(|r| r.prefix() > 0 && r.overlaps(&subnet))
            {
                return Err(husk_network::Error::SubnetOverlap {
                    subnet: subnet.to_string(),
                    network: o.name.clone(),
                    route: r.to_string(),
                }
                .into());
            }
            subnet
        }
        None => {
            if f.gateway.is_some() || f.ip_range.is_some() {
                return Err(bad(
                    o,
                    "an IPv6 --gateway or --ip-range needs an IPv6 --subnet",
                ));
            }
            let mut taken = husk_network::host_routes6()?;
            taken.extend(taken6);
            // The new network's id is random: its first 64 bits seed the
            // choice, so two networks do not try the same candidates.
            let seed = u64::from_str_radix(net.id.get(..16).unwrap_or("1"), 16).unwrap_or(1);
            choose_ula(seed, &taken)?
        }
    };
    let gateway: Option<Ipv6Addr> = f
        .gateway
        .map(|g| parse6(o, "--gateway", g, "an IPv6 address of the subnet"))
        .transpose()?;
    let range: Option<Ipv6Net> = f
        .ip_range
        .map(|r| parse6(o, "--ip-range", r, "an IPv6 prefix inside the subnet"))
        .transpose()?;
    Ok(net.with_ipv6(subnet, gateway, range)?)
}

/// Records the network and brings up its bridge and rules; on failure
/// nothing of it is left.
pub fn create(paths: &Paths, o: &CreateOptions) -> Result<Network> {
    if !valid_name(&o.name) || RESERVED.contains(&o.name.as_str()) {
        return Err(bad(
            o,
            "invalid name: use [a-zA-Z0-9][a-zA-Z0-9_.-]*, not bridge, host, none or default",
        ));
    }
    if o.driver != "bridge" {
        return Err(bad(
            o,
            format!("driver {:?} is not available: only bridge is", o.driver),
        ));
    }
    let (subnet4, subnet6) = by_family(o, "--subnet", o.subnet.as_deref())?;
    let (gateway4, gateway6) = by_family(o, "--gateway", o.gateway.as_deref())?;
    let (range4, range6) = by_family(o, "--ip-range", o.ip_range.as_deref())?;
    let flags6 = Flags6 {
        subnet: subnet6,
        gateway: gateway6,
        ip_range: range6,
    };
    if !o.ipv6 && (subnet6.is_some() || gateway6.is_some() || range6.is_some()) {
        return Err(bad(
            o,
            "an IPv6 --subnet, --gateway or --ip-range needs --ipv6: add --ipv6, or give IPv4 values only",
        ));
    }
    // The default network first: its subnet is then taken when ours is
    // chosen, whichever is used first.
    default_network(paths)?;
    let store = store(paths)?;
    let _lock = store.lock()?;
    // Another root's networks are not in our list: their bridges' routes
    // are, once made, and the host lock keeps them from being made
    // between our look at the routes and the making of ours.
    let _host = super::host_lock()?;
    let existing = store.list()?;
    if existing.iter().any(|n| n.name == o.name) {
        return Err(bad(o, "a network with this name already exists"));
    }
    let id = names::new_id();
    let bridge = o
        .options
        .get(BRIDGE_NAME_OPT)
        .cloned()
        .unwrap_or_else(|| format!("br-{}", &id[..12]));
    if let Some(other) = existing.iter().find(|n| n.bridge == bridge) {
        return Err(bad(
            o,
            format!(
                "bridge {bridge} belongs to network {}: choose another {BRIDGE_NAME_OPT}",
                other.name
            ),
        ));
    }
    // Never take over an interface of the host's (`eth0` as a bridge
    // would get our gateway address).
    if Netlink::new()?.link(&bridge)?.is_some() {
        return Err(bad(
            o,
            format!(
                "interface {bridge} already exists on the host: choose another {BRIDGE_NAME_OPT}"
            ),
        ));
    }
    let routes = husk_network::host_routes()?;
    let subnet = match subnet4 {
        Some(s) => {
            let subnet = parse_net(o, "--subnet", s)?;
            // Another network first: its bridge's route would say less.
            if let Some(other) = existing.iter().find(|n| n.subnet.overlaps(&subnet)) {
                return Err(husk_network::Error::NetworkOverlap {
                    subnet: subnet.to_string(),
                    network: o.name.clone(),
                    other: other.name.clone(),
                    other_subnet: other.subnet.to_string(),
                }
                .into());
            }
            husk_network::check_overlap(&o.name, subnet, &routes)?;
            subnet
        }
        None => {
            if gateway4.is_some() || range4.is_some() {
                return Err(bad(o, "--gateway and --ip-range need --subnet"));
            }
            let mut taken = routes.clone();
            taken.extend(existing.iter().map(|n| n.subnet));
            choose_subnet(&taken)?
        }
    };
    let mut net = Network::bridge(&o.name, &bridge, subnet)?;
    if let Some(g) = gateway4 {
        let gw: Ipv4Addr = g.parse().map_err(|_| Error::InvalidFlag {
            flag: "--gateway",
            value: g.to_string(),
            reason: "not an IPv4 address".into(),
        })?;
        net = net.with_gateway(gw)?;
    }
    if let Some(r) = range4 {
        net = net.with_ip_range(parse_net(o, "--ip-range", r)?)?;
    }
    if let Some(m) = o.options.get(MTU_OPT) {
        net.mtu = m
            .parse()
            .ok()
            .filter(|m| (68..=65535).contains(m))
            .ok_or_else(|| Error::InvalidFlag {
                flag: "--opt",
                value: format!("{MTU_OPT}={m}"),
                reason: "an MTU of 68 to 65535".into(),
            })?;
    } else {
        net.mtu = DEFAULT_MTU;
    }
    net.id = id;
    if o.ipv6 {
        net = ipv6_side(o, net, &flags6, &existing)?;
    }
    net.internal = o.internal;
    net.labels = o.labels.clone();
    net.options = o.options.clone();
    net.created = crate::proc::now_rfc3339();
    store.save(&net)?;
    let driver = BridgeDriver::new(&store, net.clone(), firewall(&store));
    let up = Netlink::new()
        .map_err(Error::from)
        .and_then(|mut nl| Ok(driver.ensure_bridge(&mut nl)?));
    if let Err(e) = up {
        let _ = driver.remove_network();
        let _ = store.delete(&net.name);
        return Err(e);
    }
    super::journal(paths, &net, "create", "");
    Ok(net)
}

/// Every network: the default one (recorded now if it was not yet) and
/// the user-defined ones, by name.
pub fn list(paths: &Paths) -> Result<Vec<Network>> {
    default_network(paths)?;
    Ok(store(paths)?.list()?)
}

/// A network by name, full id or unique id prefix.
pub fn resolve(paths: &Paths, key: &str) -> Result<Network> {
    let all = list(paths)?;
    if let Some(n) = all.iter().find(|n| n.name == key || n.id == key) {
        return Ok(n.clone());
    }
    let hits: Vec<&Network> = all
        .iter()
        .filter(|n| !key.is_empty() && n.id.starts_with(key))
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(not_found(key)),
        _ => Err(Error::NetworkConflict {
            name: key.to_string(),
            reason: "several networks match: give more of the id".into(),
        }),
    }
}

/// Containers holding an address in `net`, or running with it as their
/// network (one starting holds its address already).
fn users(paths: &Paths, net: &Network) -> Result<BTreeSet<String>> {
    let store = store(paths)?;
    let mut ids: BTreeSet<String> = Ipam::new(&store, net)
        .allocations()?
        .into_values()
        .collect();
    for c in paths.all()? {
        let on = c.host_config.network_mode == net.name
            || c.host_config
                .extra_networks
                .iter()
                .any(|a| a.name == net.name);
        if on && crate::store::container_alive(&c) {
            ids.insert(c.id);
        }
    }
    Ok(ids)
}

/// Removes a user-defined network nobody uses: its bridge, rules,
/// address book and record.
pub fn remove(paths: &Paths, key: &str) -> Result<Network> {
    let net = resolve(paths, key)?;
    if net.name == DEFAULT_NETWORK {
        return Err(Error::NetworkConflict {
            name: net.name,
            reason: "it is the default network and cannot be removed".into(),
        });
    }
    // Gone containers' addresses go first, so only live ones hold it.
    super::gc(paths)?;
    let store = store(paths)?;
    let _lock = setup_lock(&store)?;
    let held = users(paths, &net)?;
    if let Some(first) = held.iter().next() {
        let name = paths
            .load(first)?
            .map_or_else(|| first.clone(), |c: Container| c.name);
        return Err(Error::NetworkConflict {
            name: net.name,
            reason: format!(
                "in use by container {name} ({} in all): stop or remove them first",
                held.len()
            ),
        });
    }
    BridgeDriver::new(&store, net.clone(), firewall(&store)).remove_network()?;
    store.delete(&net.name)?;
    super::journal(paths, &net, "destroy", "");
    Ok(net)
}

/// Removes every user-defined network no container uses; their names.
pub fn prune(paths: &Paths) -> Result<Vec<String>> {
    let mut gone = Vec::new();
    for n in list(paths)? {
        if n.name == DEFAULT_NETWORK || !users(paths, &n)?.is_empty() {
            continue;
        }
        // Taken meanwhile: not an error for prune.
        if remove(paths, &n.name).is_ok() {
            gone.push(n.name);
        }
    }
    Ok(gone)
}

/// The IPv6 side of `id`'s endpoint on `network`: (address, prefix
/// length, gateway), for inspect. None on an IPv4-only network, and when
/// anything cannot be read (a view shows what it can).
pub fn ipv6_of(paths: &Paths, network: &str, id: &str) -> Option<(Ipv6Addr, u8, Ipv6Addr)> {
    let store = store(paths).ok()?;
    let net = store.get(network).ok()??;
    let v6 = net.ipv6.as_ref()?;
    let ip = Ipam::new_v6(&store, &net)?.of(id).ok()??;
    Some((ip, v6.subnet.prefix(), v6.gateway))
}

/// docker's `IPAMConfig` of an endpoint from its recorded `--ip`/`--ip6`.
pub fn ipam_config(ips: &str) -> Value {
    if ips.is_empty() {
        return Value::Null;
    }
    let mut cfg = serde_json::Map::new();
    for ip in ips.split(',') {
        let key = if ip.contains(':') {
            "IPv6Address"
        } else {
            "IPv4Address"
        };
        cfg.insert(key.into(), json!(ip));
    }
    Value::Object(cfg)
}

/// docker's `network inspect` object.
pub fn inspect(paths: &Paths, net: &Network) -> Result<Value> {
    let store = store(paths)?;
    let held = Ipam::new(&store, net).allocations()?;
    let held6: BTreeMap<String, Ipv6Addr> = match Ipam::new_v6(&store, net) {
        Some(ipam) => ipam
            .allocations()?
            .into_iter()
            .map(|(ip, id)| (id, ip))
            .collect(),
        None => BTreeMap::new(),
    };
    let mut containers = serde_json::Map::new();
    for (ip, id) in held {
        let Some(c) = paths.load(&id)? else { continue };
        let state = c.network.as_ref();
        let ep = state.and_then(|s| s.on(&net.name));
        let mac = ep
            .map(|e| husk_network::driver::format_mac(e.mac))
            .unwrap_or_default();
        let endpoint_id = state
            .and_then(|s| {
                if s.endpoint.as_ref().is_some_and(|e| e.network == net.name) {
                    return Some(s.endpoint_id.clone());
                }
                s.extra
                    .iter()
                    .find(|x| x.endpoint.network == net.name)
                    .map(|x| x.endpoint_id.clone())
            })
            .unwrap_or_default();
        containers.insert(
            id.clone(),
            json!({
                "Name": c.name,
                "EndpointID": endpoint_id,
                "MacAddress": mac,
                "IPv4Address": format!("{ip}/{}", net.subnet.prefix()),
                "IPv6Address": match (held6.get(&id), &net.ipv6) {
                    (Some(ip6), Some(v6)) => format!("{ip6}/{}", v6.subnet.prefix()),
                    _ => String::new(),
                },
            }),
        );
    }
    let mut config = json!({"Subnet": net.subnet.to_string(), "Gateway": net.gateway.to_string()});
    if let Some(r) = net.ip_range {
        config["IPRange"] = json!(r.to_string());
    }
    let mut configs = vec![config];
    if let Some(v6) = &net.ipv6 {
        let mut c6 = json!({"Subnet": v6.subnet.to_string(), "Gateway": v6.gateway.to_string()});
        if let Some(r) = v6.ip_range {
            c6["IPRange"] = json!(r.to_string());
        }
        configs.push(c6);
    }
    let mut options: BTreeMap<String, String> = net.options.clone();
    if net.name == DEFAULT_NETWORK {
        options.insert(BRIDGE_NAME_OPT.into(), net.bridge.clone());
        options.insert(MTU_OPT.into(), net.mtu.to_string());
    }
    Ok(json!({
        "Name": net.name,
        "Id": net.id,
        "Created": if net.created.is_empty() { "0001-01-01T00:00:00Z".to_string() } else { net.created.clone() },
        "Scope": "local",
        "Driver": net.driver,
        "EnableIPv6": net.ipv6.is_some(),
        "IPAM": {"Driver": "default", "Options": Value::Null, "Config": configs},
        "Internal": net.internal,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers,
        "Options": options,
        "Labels": net.labels,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_names_follow_docker() {
        for ok in ["a", "web_1", "my-net.v2", "0net"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a b", "a/b", "a:b", ".x"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn repeated_flags_split_by_family() {
        let o = CreateOptions {
            name: "n".into(),
            ..CreateOptions::default()
        };
        let both = join_flags(&["fd00:1::/64".into(), "10.1.0.0/24".into()]);
        assert_eq!(both.as_deref(), Some("fd00:1::/64,10.1.0.0/24"));
        assert_eq!(join_flags(&[]), None);
        let (v4, v6) = by_family(&o, "--subnet", both.as_deref()).unwrap();
        assert_eq!((v4, v6), (Some("10.1.0.0/24"), Some("fd00:1::/64")));
        let err = by_family(&o, "--subnet", Some("10.1.0.0/24,10.2.0.0/24")).unwrap_err();
        assert!(
            err.to_string().contains("at most one IPv4 and one IPv6"),
            "{err}"
        );
        assert_eq!(by_family(&o, "--gateway", None).unwrap(), (None, None));
    }

    #[test]
    fn ipam_config_names_each_family() {
        assert_eq!(ipam_config(""), Value::Null);
        assert_eq!(
            ipam_config("10.1.0.5,fd00::5"),
            json!({"IPv4Address": "10.1.0.5", "IPv6Address": "fd00::5"})
        );
        assert_eq!(ipam_config("fd00::5"), json!({"IPv6Address": "fd00::5"}));
    }
}
