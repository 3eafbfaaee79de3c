//! IPv4 subnets: the arithmetic IPAM, subnet choice and firewall rules share.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::{Error, Result};

/// An IPv4 subnet, always stored with its host bits cleared, so two values
/// naming the same subnet compare equal.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv4Net {
    network: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Net {
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self> {
        if prefix > 32 {
            return Err(Error::InvalidCidr(format!("{addr}/{prefix}")));
        }
        let mask = mask(prefix);
        Ok(Ipv4Net {
            network: Ipv4Addr::from(u32::from(addr) & mask),
            prefix,
        })
    }

    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(mask(self.prefix))
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !mask(self.prefix))
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == u32::from(self.network)
    }

    pub fn overlaps(&self, other: &Ipv4Net) -> bool {
        self.contains(other.network) || other.contains(self.network)
    }

    /// The `n`th address of the subnet (0 is the network address), if inside.
    pub fn nth(&self, n: u32) -> Option<Ipv4Addr> {
        let size = self.size();
        if u64::from(n) >= size {
            return None;
        }
        Some(Ipv4Addr::from(u32::from(self.network) + n))
    }

    /// Number of addresses in the subnet, network and broadcast included.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

impl FromStr for Ipv4Net {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidCidr(s.to_string());
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        Ipv4Net::new(addr, prefix).map_err(|_| bad())
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl TryFrom<String> for Ipv4Net {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Ipv4Net> for String {
    fn from(n: Ipv4Net) -> String {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_clears_host_bits_and_prints_back() {
        let n: Ipv4Net = "172.17.3.4/16".parse().unwrap();
        assert_eq!(n.to_string(), "172.17.0.0/16");
        assert_eq!(n.netmask(), Ipv4Addr::new(255, 255, 0, 0));
        assert_eq!(n.broadcast(), Ipv4Addr::new(172, 17, 255, 255));
        assert_eq!(n.size(), 65536);
    }

    #[test]
    fn contains_and_nth() {
        let n: Ipv4Net = "10.1.2.0/24".parse().unwrap();
        assert!(n.contains(Ipv4Addr::new(10, 1, 2, 255)));
        assert!(!n.contains(Ipv4Addr::new(10, 1, 3, 0)));
        assert_eq!(n.nth(1), Some(Ipv4Addr::new(10, 1, 2, 1)));
        assert_eq!(n.nth(256), None);
        let all: Ipv4Net = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(Ipv4Addr::new(8, 8, 8, 8)));
        let host: Ipv4Net = "1.2.3.4/32".parse().unwrap();
        assert_eq!(host.broadcast(), Ipv4Addr::new(1, 2, 3, 4));
    }

    #[test]
    fn overlap_is_symmetric() {
        let a: Ipv4Net = "172.16.0.0/12".parse().unwrap();
        let b: Ipv4Net = "172.17.0.0/16".parse().unwrap();
        let c: Ipv4Net = "172.32.0.0/16".parse().unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", "1.2.3.4", "1.2.3.4/33", "1.2.3/8", "a/8", "1.2.3.4/-1"] {
            assert!(s.parse::<Ipv4Net>().is_err(), "{s}");
        }
    }

    #[test]
    fn serde_round_trip_as_string() {
        let n: Ipv4Net = "192.168.0.0/20".parse().unwrap();
        let j = serde_json::to_string(&n).unwrap();
        assert_eq!(j, "\"192.168.0.0/20\"");
        assert_eq!(serde_json::from_str::<Ipv4Net>(&j).unwrap(), n);
    }
}
