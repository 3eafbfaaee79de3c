//! Address allocation for one network and one address family: a JSON
//! file of who holds which address, read and rewritten under a lock,
//! replaced by rename so a crash leaves either the old or the new file,
//! never half of one. `Ipam` (IPv4) and `Ipam<Ipv6Addr>` (a `--ipv6`
//! network's second book) share all of it; [`Family`] is what differs.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::cidr::Ipv4Net;
use crate::cidr6::Ipv6Net;
use crate::network::{Network, NetworkStore};
use crate::{Error, Result};

/// What an address family gives the allocator: its subnet type, the
/// arithmetic on it and the addresses it never hands out.
pub trait Family: Copy + Ord + Display + Serialize + DeserializeOwned + Into<IpAddr> {
    type Net: Copy + Display + std::fmt::Debug;
    fn contains(net: &Self::Net, ip: Self) -> bool;
    /// The `n`th address of `net`, if inside.
    fn nth(net: &Self::Net, n: u128) -> Option<Self>;
    /// Offset of the last address of `net`.
    fn last_offset(net: &Self::Net) -> u128;
    /// Why `ip` of `net` is never a container's (the gateway aside).
    fn reserved(net: &Self::Net, ip: Self) -> Option<&'static str>;
}

impl Family for Ipv4Addr {
    type Net = Ipv4Net;
    fn contains(net: &Ipv4Net, ip: Self) -> bool {
        net.contains(ip)
    }
    fn nth(net: &Ipv4Net, n: u128) -> Option<Self> {
        u32::try_from(n).ok().and_then(|n| net.nth(n))
    }
    fn last_offset(net: &Ipv4Net) -> u128 {
        u128::from(net.size()) - 1
    }
    fn reserved(net: &Ipv4Net, ip: Self) -> Option<&'static str> {
        if ip == net.network() {
            Some("network address")
        } else if ip == net.broadcast() {
            Some("broadcast address")
        } else {
            None
        }
    }
}

impl Family for Ipv6Addr {
    type Net = Ipv6Net;
    fn contains(net: &Ipv6Net, ip: Self) -> bool {
        net.contains(ip)
    }
    fn nth(net: &Ipv6Net, n: u128) -> Option<Self> {
        net.nth(n)
    }
    fn last_offset(net: &Ipv6Net) -> u128 {
        net.last_offset()
    }
    fn reserved(net: &Ipv6Net, ip: Self) -> Option<&'static str> {
        // IPv6 has no broadcast; the all-zero host part is the
        // subnet-router anycast address (RFC 4291), which docker skips too.
        (ip == net.network()).then_some("subnet-router anycast address")
    }
}

/// The part of a network one family's book allocates from.
#[derive(Clone, Debug)]
struct Pool<A: Family> {
    network: String,
    subnet: A::Net,
    gateway: A,
    range: Option<A::Net>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(bound = "A: Family")]
struct Allocations<A: Family> {
    /// Address → container id.
    allocations: BTreeMap<A, String>,
}

impl<A: Family> Default for Allocations<A> {
    fn default() -> Self {
        Allocations {
            allocations: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Ipam<A: Family = Ipv4Addr> {
    pool: Pool<A>,
    file: PathBuf,
    lock: PathBuf,
}

impl Ipam<Ipv4Addr> {
    pub fn new(store: &NetworkStore, network: &Network) -> Self {
        let (file, lock) = store.ipam_paths(&network.name);
        Ipam {
            pool: Pool {
                network: network.name.clone(),
                subnet: network.subnet,
                gateway: network.gateway,
                range: network.ip_range,
            },
            file,
            lock,
        }
    }
}

impl Ipam<Ipv6Addr> {
    /// The IPv6 book of a `--ipv6` network; None for an IPv4-only one.
    pub fn new_v6(store: &NetworkStore, network: &Network) -> Option<Self> {
        let v6 = network.ipv6.as_ref()?;
        let (file, lock) = store.ipam6_paths(&network.name);
        Some(Ipam {
            pool: Pool {
                network: network.name.clone(),
                subnet: v6.subnet,
                gateway: v6.gateway,
                range: v6.ip_range,
            },
            file,
            lock,
        })
    }
}

impl<A: Family> Ipam<A> {
    /// Checks that `ip` may be handed to a container of this network at all
    /// (inside the subnet, not its network, broadcast or gateway address).
    pub fn validate(&self, ip: A) -> Result<()> {
        let p = &self.pool;
        if !A::contains(&p.subnet, ip) {
            return Err(Error::AddressOutsideSubnet {
                ip: ip.into(),
                subnet: p.subnet.to_string(),
                network: p.network.clone(),
            });
        }
        let what = if ip == p.gateway {
            "gateway"
        } else {
            match A::reserved(&p.subnet, ip) {
                Some(what) => what,
                None => return Ok(()),
            }
        };
        Err(Error::AddressReserved {
            ip: ip.into(),
            what,
            network: p.network.clone(),
        })
    }

    /// The address of `container`: the one it already holds, `requested`,
    /// or the lowest free one.
    pub fn allocate(&self, container: &str, requested: Option<A>) -> Result<A> {
        if let Some(ip) = requested {
            self.validate(ip)?;
        }
        self.update(|a| {
            if let Some((ip, _)) = a.allocations.iter().find(|(_, c)| *c == container) {
                if requested.is_none() || requested == Some(*ip) {
                    return Ok(*ip);
                }
            }
            let ip = match requested {
                Some(ip) => {
                    if let Some(owner) = a.allocations.get(&ip) {
                        return Err(Error::AddressInUse {
                            ip: ip.into(),
                            network: self.pool.network.clone(),
                            owner: owner.clone(),
                        });
                    }
                    ip
                }
                None => self.first_free(a)?,
            };
            a.allocations.retain(|_, c| c != container);
            a.allocations.insert(ip, container.to_string());
            Ok(ip)
        })
    }

    /// Frees the address of `container`, if it holds one.
    pub fn release(&self, container: &str) -> Result<Option<A>> {
        self.update(|a| {
            let held = a
                .allocations
                .iter()
                .find(|(_, c)| *c == container)
                .map(|(ip, _)| *ip);
            if let Some(ip) = held {
                a.allocations.remove(&ip);
            }
            Ok(held)
        })
    }

    /// Frees every address whose container `keep` rejects; returns them.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) -> Result<Vec<(A, String)>> {
        self.update(|a| {
            let gone: Vec<_> = a
                .allocations
                .iter()
                .filter(|(_, c)| !keep(c))
                .map(|(ip, c)| (*ip, c.clone()))
                .collect();
            for (ip, _) in &gone {
                a.allocations.remove(ip);
            }
            Ok(gone)
        })
    }

    pub fn allocations(&self) -> Result<BTreeMap<A, String>> {
        let _lock = husk_fs::Lock::shared(&self.lock)?;
        Ok(self.load()?.allocations)
    }

    /// The address `container` holds, if any.
    pub fn of(&self, container: &str) -> Result<Option<A>> {
        Ok(self
            .allocations()?
            .into_iter()
            .find(|(_, c)| c == container)
            .map(|(ip, _)| ip))
    }

    fn first_free(&self, a: &Allocations<A>) -> Result<A> {
        let p = &self.pool;
        let pool = p.range.unwrap_or(p.subnet);
        // Lazy: a /64 is never walked further than the first free address,
        // which is at most as far as the number of addresses held.
        (0..=A::last_offset(&pool))
            .map_while(|n| A::nth(&pool, n))
            .filter(|ip| A::reserved(&p.subnet, *ip).is_none())
            .find(|ip| *ip != p.gateway && !a.allocations.contains_key(ip))
            .ok_or_else(|| Error::SubnetExhausted {
                network: p.network.clone(),
                subnet: p.subnet.to_string(),
            })
    }

    fn update<T>(&self, f: impl FnOnce(&mut Allocations<A>) -> Result<T>) -> Result<T> {
        let _lock = husk_fs::Lock::exclusive(&self.lock)?;
        let mut a = self.load()?;
        let out = f(&mut a)?;
        husk_fs::write_json_atomic(&self.file, &a)?;
        Ok(out)
    }

    fn load(&self) -> Result<Allocations<A>> {
        match std::fs::read(&self.file) {
            Ok(data) => serde_json::from_slice(&data).map_err(|source| Error::Json {
                path: self.file.clone(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Allocations::default()),
            Err(e) => Err(Error::io("read", &self.file, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Network;

    fn setup(subnet: &str) -> (tempfile::TempDir, NetworkStore, Ipam) {
        let dir = tempfile::tempdir().unwrap();
        let store = NetworkStore::open(dir.path()).unwrap();
        let net = Network::bridge("t", "husk-t", subnet.parse().unwrap()).unwrap();
        let ipam = Ipam::new(&store, &net);
        (dir, store, ipam)
    }

    #[test]
    fn allocates_lowest_free_skipping_gateway_and_is_idempotent() {
        let (_d, _s, ipam) = setup("10.9.0.0/24");
        assert_eq!(
            ipam.allocate("a", None).unwrap(),
            Ipv4Addr::new(10, 9, 0, 2)
        );
        assert_eq!(
            ipam.allocate("b", None).unwrap(),
            Ipv4Addr::new(10, 9, 0, 3)
        );
        assert_eq!(
            ipam.allocate("a", None).unwrap(),
            Ipv4Addr::new(10, 9, 0, 2)
        );
        assert_eq!(ipam.release("a").unwrap(), Some(Ipv4Addr::new(10, 9, 0, 2)));
        assert_eq!(ipam.release("a").unwrap(), None);
        assert_eq!(
            ipam.allocate("c", None).unwrap(),
            Ipv4Addr::new(10, 9, 0, 2)
        );
    }

    #[test]
    fn persists_across_instances() {
        let (_d, store, ipam) = setup("10.9.0.0/24");
        ipam.allocate("a", Some(Ipv4Addr::new(10, 9, 0, 77)))
            .unwrap();
        let net = Network::bridge("t", "husk-t", "10.9.0.0/24".parse().unwrap()).unwrap();
        let again = Ipam::new(&store, &net);
        let all = again.allocations().unwrap();
        assert_eq!(
            all.get(&Ipv4Addr::new(10, 9, 0, 77)).map(String::as_str),
            Some("a")
        );
        let err = again
            .allocate("b", Some(Ipv4Addr::new(10, 9, 0, 77)))
            .unwrap_err();
        assert!(
            err.to_string().contains("already in use by container a"),
            "{err}"
        );
    }

    #[test]
    fn requested_addresses_are_validated() {
        let (_d, _s, ipam) = setup("10.9.0.0/24");
        let cases = [
            (Ipv4Addr::new(10, 9, 1, 5), "outside the subnet 10.9.0.0/24"),
            (Ipv4Addr::new(10, 9, 0, 1), "gateway"),
            (Ipv4Addr::new(10, 9, 0, 0), "network address"),
            (Ipv4Addr::new(10, 9, 0, 255), "broadcast address"),
        ];
        for (ip, want) in cases {
            let err = ipam.allocate("x", Some(ip)).unwrap_err().to_string();
            assert!(err.contains(want), "{ip}: {err}");
        }
        assert!(ipam.allocations().unwrap().is_empty());
    }

    #[test]
    fn an_ip_range_bounds_what_is_handed_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = NetworkStore::open(dir.path()).unwrap();
        let net = Network::bridge("t", "husk-t", "10.9.0.0/24".parse().unwrap())
            .unwrap()
            .with_ip_range("10.9.0.128/30".parse().unwrap())
            .unwrap();
        let ipam = Ipam::new(&store, &net);
        let got: Vec<Ipv4Addr> = (0..4)
            .map(|i| ipam.allocate(&format!("c{i}"), None).unwrap())
            .collect();
        assert_eq!(got[0], Ipv4Addr::new(10, 9, 0, 128));
        assert_eq!(got[3], Ipv4Addr::new(10, 9, 0, 131));
        assert!(ipam.allocate("c4", None).is_err());
        // --ip may still name any host address of the subnet.
        ipam.allocate("c5", Some(Ipv4Addr::new(10, 9, 0, 9)))
            .unwrap();
        assert!(
            Network::bridge("t", "husk-t", "10.9.0.0/24".parse().unwrap())
                .unwrap()
                .with_ip_range("10.9.1.0/28".parse().unwrap())
                .is_err()
        );
    }

    #[test]
    fn exhaustion_is_an_error_and_retain_frees_the_dead() {
        let (_d, _s, ipam) = setup("10.9.0.0/29");
        // .0 network, .1 gateway, .7 broadcast: .2 .. .6 are five hosts.
        for i in 0..5 {
            ipam.allocate(&format!("c{i}"), None).unwrap();
        }
        let err = ipam.allocate("c5", None).unwrap_err().to_string();
        assert!(err.contains("no free address"), "{err}");
        let gone = ipam.retain(|c| c == "c0").unwrap();
        assert_eq!(gone.len(), 4);
        assert_eq!(ipam.allocations().unwrap().len(), 1);
    }

    fn setup6(subnet: &str, range: Option<&str>) -> (tempfile::TempDir, Ipam<Ipv6Addr>) {
        let dir = tempfile::tempdir().unwrap();
        let store = NetworkStore::open(dir.path()).unwrap();
        let net = Network::bridge("t", "husk-t", "10.9.0.0/24".parse().unwrap())
            .unwrap()
            .with_ipv6(
                subnet.parse().unwrap(),
                None,
                range.map(|r| r.parse().unwrap()),
            )
            .unwrap();
        let ipam = Ipam::new_v6(&store, &net).unwrap();
        (dir, ipam)
    }

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn v6_book_allocates_validates_and_persists() {
        let (dir, ipam) = setup6("fd00:1::/64", None);
        assert_eq!(ipam.allocate("a", None).unwrap(), v6("fd00:1::2"));
        assert_eq!(ipam.allocate("b", None).unwrap(), v6("fd00:1::3"));
        assert_eq!(ipam.allocate("a", None).unwrap(), v6("fd00:1::2"));
        assert_eq!(ipam.of("b").unwrap(), Some(v6("fd00:1::3")));
        let err = ipam.allocate("c", Some(v6("fd00:1::3"))).unwrap_err();
        assert!(err.to_string().contains("in use by container b"), "{err}");
        for (ip, want) in [
            ("fd00:2::5", "outside the subnet fd00:1::/64"),
            ("fd00:1::1", "gateway"),
            ("fd00:1::", "subnet-router anycast"),
        ] {
            let err = ipam.allocate("x", Some(v6(ip))).unwrap_err().to_string();
            assert!(err.contains(want), "{ip}: {err}");
        }
        ipam.allocate("c", Some(v6("fd00:1::ffff"))).unwrap();
        // Its own file, beside the IPv4 book, keyed by address.
        let text = std::fs::read_to_string(dir.path().join("ipam/v6/t.json")).unwrap();
        assert!(
            text.contains("\"fd00:1::ffff\": \"c\"") || text.contains("\"fd00:1::ffff\":\"c\""),
            "{text}"
        );
        assert_eq!(ipam.release("a").unwrap(), Some(v6("fd00:1::2")));
        assert_eq!(ipam.retain(|c| c == "b").unwrap().len(), 1);
        assert_eq!(ipam.allocations().unwrap().len(), 1);
        ipam.retain(|_| false).unwrap();
        assert!(ipam.allocations().unwrap().is_empty());
    }

    #[test]
    fn v6_range_bounds_and_exhaustion() {
        let (_d, ipam) = setup6("fd00:1::/120", Some("fd00:1::80/126"));
        let got: Vec<Ipv6Addr> = (0..4)
            .map(|i| ipam.allocate(&format!("c{i}"), None).unwrap())
            .collect();
        assert_eq!(got[0], v6("fd00:1::80"));
        assert_eq!(got[3], v6("fd00:1::83"));
        let err = ipam.allocate("c4", None).unwrap_err().to_string();
        assert!(err.contains("no free address"), "{err}");
        // The last address of the subnet is a host's: no broadcast in IPv6.
        ipam.allocate("c5", Some(v6("fd00:1::ff"))).unwrap();
    }

    #[test]
    fn ipv4_only_networks_have_no_v6_book() {
        let dir = tempfile::tempdir().unwrap();
        let store = NetworkStore::open(dir.path()).unwrap();
        let net = Network::bridge("t", "husk-t", "10.9.0.0/24".parse().unwrap()).unwrap();
        assert!(Ipam::new_v6(&store, &net).is_none());
    }
}
