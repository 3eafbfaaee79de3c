//! A network is a value on disk (`networks/<name>.json`) with a driver
//! behind it; the default one is chosen once and then stays as recorded.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cidr::Ipv4Net;
use crate::cidr6::{Ipv6Net, PREFIX_RANGE};
use crate::{Error, Result};

pub const DEFAULT_NETWORK: &str = "bridge";
pub const DEFAULT_BRIDGE: &str = "husk0";
pub const DEFAULT_MTU: u32 = 1500;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    /// docker's NetworkID: 64 hex, given by whoever records the network.
    #[serde(default)]
    pub id: String,
    /// Only "bridge" today; user-defined drivers slot in here.
    pub driver: String,
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub mtu: u32,
    /// RFC 3339; empty for a default network recorded before it was kept.
    #[serde(default)]
    pub created: String,
    /// `--internal`: no route out, no masquerade.
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `--opt`, as given (docker's `Options`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// `--ip-range`: where addresses are handed out from (the subnet when
    /// unset).
    #[serde(default)]
    pub ip_range: Option<Ipv4Net>,
    /// `--ipv6`: the network's IPv6 side; None (and absent from records
    /// older than it) for an IPv4-only network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Config>,
}

/// The IPv6 side of a `--ipv6` network, beside its IPv4 one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv6Config {
    pub subnet: Ipv6Net,
    /// On the bridge; containers' default IPv6 route goes through it.
    pub gateway: Ipv6Addr,
    /// `--ip-range` of the IPv6 family: where addresses are handed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<Ipv6Net>,
}

impl Network {
    /// A bridge network on `subnet` whose gateway is the first host address.
    pub fn bridge(name: &str, bridge: &str, subnet: Ipv4Net) -> Result<Network> {
        // IFNAMSIZ less the NUL; '/' and spaces would break sysfs and ip(8).
        let bad_name = bridge.is_empty()
            || bridge.len() > 15
            || bridge.contains(|c: char| c == '/' || c.is_whitespace());
        if bad_name {
            return Err(Error::InvalidBridgeName(bridge.to_string()));
        }
        let gateway = subnet
            .nth(1)
            .filter(|_| subnet.size() >= 4)
            .ok_or_else(|| Error::InvalidCidr(subnet.to_string()))?;
        Ok(Network {
            name: name.into(),
            id: String::new(),
            driver: "bridge".into(),
            bridge: bridge.into(),
            subnet,
            gateway,
            mtu: DEFAULT_MTU,
            created: String::new(),
            internal: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            ip_range: None,
            ipv6: None,
        })
    }

    /// Gives the network an IPv6 side on `subnet` (a /48 to /120), with
    /// `gateway` (a host address of it; default: the first, `::1`) and an
    /// optional `range` inside it to hand addresses out from.
    pub fn with_ipv6(
        mut self,
        subnet: Ipv6Net,
        gateway: Option<Ipv6Addr>,
        range: Option<Ipv6Net>,
    ) -> Result<Network> {
        if !PREFIX_RANGE.contains(&subnet.prefix()) {
            return Err(Error::Ipv6Prefix {
                subnet: subnet.to_string(),
                network: self.name.clone(),
            });
        }
        let first = subnet
            .nth(1)
            .ok_or_else(|| Error::InvalidCidr(subnet.to_string()))?;
        let gateway = gateway.unwrap_or(first);
        if !subnet.contains(gateway) || gateway == subnet.network() {
            return Err(Error::InvalidGateway {
                gateway: gateway.into(),
                subnet: subnet.to_string(),
            });
        }
        if let Some(r) = range {
            if r.prefix() < subnet.prefix() || !subnet.contains(r.network()) {
                return Err(Error::InvalidIpRange {
                    range: r.to_string(),
                    subnet: subnet.to_string(),
                });
            }
        }
        self.ipv6 = Some(Ipv6Config {
            subnet,
            gateway,
            ip_range: range,
        });
        Ok(self)
    }

    /// Sets a gateway other than the first host address: it must be a
    /// host address of the subnet.
    pub fn with_gateway(mut self, gateway: Ipv4Addr) -> Result<Network> {
        let s = self.subnet;
        if !s.contains(gateway) || gateway == s.network() || gateway == s.broadcast() {
            return Err(Error::InvalidGateway {
                gateway: gateway.into(),
                subnet: s.to_string(),
            });
        }
        self.gateway = gateway;
        Ok(self)
    }

    /// Hands out addresses from `range` only: it must lie in the subnet.
    pub fn with_ip_range(mut self, range: Ipv4Net) -> Result<Network> {
        let s = self.subnet;
        if range.prefix() < s.prefix() || !s.contains(range.network()) {
            return Err(Error::InvalidIpRange {
                range: range.to_string(),
                subnet: s.to_string(),
            });
        }
        self.ip_range = Some(range);
        Ok(self)
    }
}

/// The first of docker's default pools (172.17.0.0/16 .. 172.31.0.0/16,
/// then 192.168.0.0/20 .. 192.168.240.0/20) that overlaps none of
/// `routes`, the host's routes and the subnets of the networks already
/// recorded (a default route, 0.0.0.0/0, does not count: it overlaps
/// everything and docker ignores it too).
pub fn choose_subnet(routes: &[Ipv4Net]) -> Result<Ipv4Net> {
    let wide = (17..=31u8).filter_map(|b| Ipv4Net::new(Ipv4Addr::new(172, b, 0, 0), 16).ok());
    let narrow =
        (0..16u8).filter_map(|i| Ipv4Net::new(Ipv4Addr::new(192, 168, i * 16, 0), 20).ok());
    wide.chain(narrow)
        .find(|cand| {
            routes
                .iter()
                .filter(|r| r.prefix() > 0)
                .all(|r| !r.overlaps(cand))
        })
        .ok_or(Error::NoFreeSubnet)
}

/// Refuses a configured subnet that overlaps a host route (the default
/// route aside), which would make part of the host's network unreachable.
pub fn check_overlap(network: &str, subnet: Ipv4Net, routes: &[Ipv4Net]) -> Result<()> {
    match routes
        .iter()
        .find(|r| r.prefix() > 0 && r.overlaps(&subnet))
    {
        Some(r) => Err(Error::SubnetOverlap {
            subnet: subnet.to_string(),
            network: network.to_string(),
            route: r.to_string(),
        }),
        None => Ok(()),
    }
}

/// The IPv6 destinations of the calling thread's namespace's main table
/// (link-local and multicast ones included: they overlap no ULA).
pub fn host_routes6() -> Result<Vec<Ipv6Net>> {
    crate::netlink::Netlink::new()?.routes6()
}

/// The IPv4 destinations of the calling thread's namespace's main table.
pub fn host_routes() -> Result<Vec<Ipv4Net>> {
    Ok(crate::netlink::Netlink::new()?
        .routes()?
        .into_iter()
        .map(|(dest, _)| dest)
        .collect())
}

/// Networks and their IPAM files under one root (the engine's store).
#[derive(Clone, Debug)]
pub struct NetworkStore {
    root: PathBuf,
}

impl NetworkStore {
    pub fn open(root: &Path) -> Result<Self> {
        for dir in ["networks", "ipam", "ipam/v6"] {
            let p = root.join(dir);
            std::fs::create_dir_all(&p).map_err(|e| Error::io("create dir", &p, e))?;
        }
        Ok(NetworkStore {
            root: root.to_path_buf(),
        })
    }

    /// Serialises choosing and recording networks between processes.
    pub fn lock(&self) -> Result<husk_fs::Lock> {
        Ok(husk_fs::Lock::exclusive(
            &self.root.join("networks").join(".lock"),
        )?)
    }

    /// Forgets a recorded network (its host side is the driver's business).
    pub fn delete(&self, name: &str) -> Result<()> {
        let path = self.path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &path, e)),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join("networks").join(format!("{name}.json"))
    }

    pub(crate) fn ipam_paths(&self, name: &str) -> (PathBuf, PathBuf) {
        let dir = self.root.join("ipam");
        (
            dir.join(format!("{name}.json")),
            dir.join(format!("{name}.lock")),
        )
    }

    /// A `--ipv6` network's IPv6 book: a directory of its own, so that no
    /// network name can collide with another's file.
    pub(crate) fn ipam6_paths(&self, name: &str) -> (PathBuf, PathBuf) {
        let dir = self.root.join("ipam").join("v6");
        (
            dir.join(format!("{name}.json")),
            dir.join(format!("{name}.lock")),
        )
    }

    pub fn get(&self, name: &str) -> Result<Option<Network>> {
        let path = self.path(name);
        match std::fs::read(&path) {
            Ok(data) => serde_json::from_slice(&data)
                .map(Some)
                .map_err(|source| Error::Json { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    pub fn save(&self, network: &Network) -> Result<()> {
        Ok(husk_fs::write_json_atomic(
            &self.path(&network.name),
            network,
        )?)
    }

    /// The default network: as recorded, or chosen now against `routes`
    /// (the host's, from `Netlink::routes`) and recorded, so the choice is
    /// stable even when host routes change later.
    pub fn ensure_default(&self, routes: &[Ipv4Net]) -> Result<Network> {
        let _lock = self.lock()?;
        if let Some(n) = self.get(DEFAULT_NETWORK)? {
            return Ok(n);
        }
        let net = Network::bridge(DEFAULT_NETWORK, DEFAULT_BRIDGE, choose_subnet(routes)?)?;
        self.save(&net)?;
        Ok(net)
    }

    /// `ensure_default` against the routes of the calling thread's network
    /// namespace (the host), read only when nothing is recorded yet.
    pub fn default_network(&self) -> Result<Network> {
        if let Some(n) = self.get(DEFAULT_NETWORK)? {
            return Ok(n);
        }
        let routes: Vec<Ipv4Net> = crate::netlink::Netlink::new()?
            .routes()?
            .into_iter()
            .map(|(dest, _)| dest)
            .collect();
        self.ensure_default(&routes)
    }

    pub fn list(&self) -> Result<Vec<Network>> {
        let dir = self.root.join("networks");
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io("read dir", &dir, e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read dir", &dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if let Some(n) = self.get(name)? {
                out.push(n);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn subnet_choice_skips_overlapping_routes() {
        assert_eq!(choose_subnet(&[]).unwrap(), net("172.17.0.0/16"));
        assert_eq!(
            choose_subnet(&[net("0.0.0.0/0"), net("172.17.5.0/24")]).unwrap(),
            net("172.18.0.0/16")
        );
        assert_eq!(
            choose_subnet(&[net("172.17.0.0/16"), net("172.18.0.0/15")]).unwrap(),
            net("172.20.0.0/16")
        );
        assert_eq!(
            choose_subnet(&[net("172.16.0.0/12"), net("192.168.0.0/24")]).unwrap(),
            net("192.168.16.0/20")
        );
        assert!(choose_subnet(&[net("172.16.0.0/12"), net("192.168.0.0/16")]).is_err());
    }

    #[test]
    fn configured_subnets_must_not_overlap_host_routes() {
        let routes = [net("0.0.0.0/0"), net("192.168.1.0/24")];
        assert!(check_overlap("bridge", net("172.17.0.0/16"), &routes).is_ok());
        let err = check_overlap("bridge", net("192.168.0.0/16"), &routes).unwrap_err();
        assert!(
            err.to_string()
                .contains("overlaps the host route to 192.168.1.0/24"),
            "{err}"
        );
    }

    #[test]
    fn bridge_names_must_fit_an_interface_name() {
        let subnet = net("10.0.0.0/24");
        assert!(Network::bridge("n", "husk0", subnet).is_ok());
        for bad in ["", "a-very-long-bridge", "a/b", "a b"] {
            assert!(Network::bridge("n", bad, subnet).is_err(), "{bad:?}");
        }
        assert!(Network::bridge("n", "b", net("10.0.0.0/31")).is_err());
    }

    #[test]
    fn ipv6_side_is_checked_and_old_records_load() {
        let n = Network::bridge("n", "b", net("10.0.0.0/24")).unwrap();
        let v6: Ipv6Net = "fd00:1::/64".parse().unwrap();
        let with = n.clone().with_ipv6(v6, None, None).unwrap();
        let cfg = with.ipv6.clone().unwrap();
        assert_eq!(cfg.gateway, "fd00:1::1".parse::<Ipv6Addr>().unwrap());
        let back: Network = serde_json::from_str(&serde_json::to_string(&with).unwrap()).unwrap();
        assert_eq!(back, with);
        // A record without the field is an IPv4-only network.
        let old = serde_json::to_string(&n).unwrap();
        assert!(!old.contains("ipv6"), "{old}");
        assert_eq!(serde_json::from_str::<Network>(&old).unwrap().ipv6, None);
        for (s, want) in [("fd00::/40", "/48 to /120"), ("fd00::/124", "/48 to /120")] {
            let err = n.clone().with_ipv6(s.parse().unwrap(), None, None);
            assert!(err.unwrap_err().to_string().contains(want), "{s}");
        }
        let gw = n
            .clone()
            .with_ipv6(v6, Some("fd00:2::1".parse().unwrap()), None);
        assert!(gw.unwrap_err().to_string().contains("gateway fd00:2::1"));
        let r = n.with_ipv6(v6, None, Some("fd00:2::/80".parse().unwrap()));
        assert!(r.unwrap_err().to_string().contains("ip range"));
    }

    #[test]
    fn default_network_is_recorded_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let store = NetworkStore::open(dir.path()).unwrap();
        let first = store.ensure_default(&[net("172.17.0.0/16")]).unwrap();
        assert_eq!(first.subnet, net("172.18.0.0/16"));
        assert_eq!(first.gateway, Ipv4Addr::new(172, 18, 0, 1));
        // Routes changed since: the recorded choice wins.
        let again = store.ensure_default(&[]).unwrap();
        assert_eq!(again, first);
        assert_eq!(store.list().unwrap(), vec![first]);
        let text = std::fs::read_to_string(dir.path().join("networks/bridge.json")).unwrap();
        assert!(text.contains("\"172.18.0.0/16\""), "{text}");
    }
}
