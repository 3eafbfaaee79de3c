//! Address allocation for one network: a JSON file of who holds which
//! address, read and rewritten under a lock, replaced by rename so a crash
//! leaves either the old or the new file, never half of one.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::network::{Network, NetworkStore};
use crate::{Error, Result};

#[derive(Debug, Default, Serialize, Deserialize)]
struct Allocations {
    /// Address → container id.
    allocations: BTreeMap<Ipv4Addr, String>,
}

#[derive(Clone, Debug)]
pub struct Ipam {
    network: Network,
    file: PathBuf,
    lock: PathBuf,
}

impl Ipam {
    pub fn new(store: &NetworkStore, network: &Network) -> Self {
        let (file, lock) = store.ipam_paths(&network.name);
        Ipam {
            network: network.clone(),
            file,
            lock,
        }
    }

    /// Checks that `ip` may be handed to a container of this network at all
    /// (inside the subnet, not its network, broadcast or gateway address).
    pub fn validate(&self, ip: Ipv4Addr) -> Result<()> {
        validate(&self.network, ip)
    }

    /// The address of `container`: the one it already holds, `requested`,
    /// or the lowest free one.
    pub fn allocate(&self, container: &str, requested: Option<Ipv4Addr>) -> Result<Ipv4Addr> {
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
                            ip,
                            network: self.network.name.clone(),
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
    pub fn release(&self, container: &str) -> Result<Option<Ipv4Addr>> {
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
    pub fn retain(&self, keep: impl Fn(&str) -> bool) -> Result<Vec<(Ipv4Addr, String)>> {
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

    pub fn allocations(&self) -> Result<BTreeMap<Ipv4Addr, String>> {
        let _lock = husk_fs::Lock::shared(&self.lock)?;
        Ok(self.load()?.allocations)
    }

    fn first_free(&self, a: &Allocations) -> Result<Ipv4Addr> {
        let subnet = self.network.subnet;
        let pool = self.network.ip_range.unwrap_or(subnet);
        // Skip the network address (0) and stop before the broadcast one.
        (0..pool.size())
            .filter_map(|n| u32::try_from(n).ok().and_then(|n| pool.nth(n)))
            .filter(|ip| *ip != subnet.network() && *ip != subnet.broadcast())
            .find(|ip| *ip != self.network.gateway && !a.allocations.contains_key(ip))
            .ok_or_else(|| Error::SubnetExhausted {
                network: self.network.name.clone(),
                subnet: subnet.to_string(),
            })
    }

    fn update<T>(&self, f: impl FnOnce(&mut Allocations) -> Result<T>) -> Result<T> {
        let _lock = husk_fs::Lock::exclusive(&self.lock)?;
        let mut a = self.load()?;
        let out = f(&mut a)?;
        husk_fs::write_json_atomic(&self.file, &a)?;
        Ok(out)
    }

    fn load(&self) -> Result<Allocations> {
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

fn validate(network: &Network, ip: Ipv4Addr) -> Result<()> {
    let subnet = network.subnet;
    if !subnet.contains(ip) {
        return Err(Error::AddressOutsideSubnet {
            ip,
            subnet: subnet.to_string(),
            network: network.name.clone(),
        });
    }
    let what = if ip == network.gateway {
        "gateway"
    } else if ip == subnet.network() {
        "network address"
    } else if ip == subnet.broadcast() {
        "broadcast address"
    } else {
        return Ok(());
    };
    Err(Error::AddressReserved {
        ip,
        what,
        network: network.name.clone(),
    })
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
}
