//! IPv6 subnets: what `--ipv6` networks, their IPAM and the ULA choice
//! share. The twin of [`crate::cidr::Ipv4Net`], on 128-bit arithmetic.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use crate::{Error, Result};

/// The prefix lengths a network's IPv6 subnet may have: shorter than /48
/// would swallow a whole site's worth of addresses, longer than /120
/// leaves too few for containers.
pub const PREFIX_RANGE: std::ops::RangeInclusive<u8> = 48..=120;

/// An IPv6 subnet, always stored with its host bits cleared.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv6Net {
    network: Ipv6Addr,
    prefix: u8,
}

impl Ipv6Net {
    pub fn new(addr: Ipv6Addr, prefix: u8) -> Result<Self> {
        if prefix > 128 {
            return Err(Error::InvalidCidr(format!("{addr}/{prefix}")));
        }
        Ok(Ipv6Net {
            network: Ipv6Addr::from(u128::from(addr) & mask(prefix)),
            prefix,
        })
    }

    pub fn network(&self) -> Ipv6Addr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & mask(self.prefix) == u128::from(self.network)
    }

    pub fn overlaps(&self, other: &Ipv6Net) -> bool {
        self.contains(other.network) || other.contains(self.network)
    }

    /// The `n`th address of the subnet (0 is the network address), if inside.
    pub fn nth(&self, n: u128) -> Option<Ipv6Addr> {
        if n > self.last_offset() {
            return None;
        }
        Some(Ipv6Addr::from(u128::from(self.network) + n))
    }

    /// The offset of the subnet's last address (its size less one, which
    /// fits in a u128 even for ::/0).
    pub fn last_offset(&self) -> u128 {
        !mask(self.prefix)
    }
}

fn mask(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

/// A unique local /64 (fdXX:XXXX:XXXX::/64, RFC 4193: fd00::/8 plus 40
/// random bits) overlapping none of `taken`: what docker ≥ 27 allocates
/// for `--ipv6` without a subnet. `seed` varies the candidates (the caller
/// passes something random-ish; tests pass a constant).
pub fn choose_ula(seed: u64, taken: &[Ipv6Net]) -> Result<Ipv6Net> {
    // A few hundred tries: with 2^40 global ids a collision is already
    // unlikely, the loop only steps over what the host or a network holds.
    let mut state = seed | 1;
    for _ in 0..256 {
        // xorshift64: enough to spread the candidates, no crypto needed.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let global = u128::from(state & 0xff_ffff_ffff);
        let addr = Ipv6Addr::from((0xfd_u128 << 120) | (global << 80));
        let cand = Ipv6Net::new(addr, 64)?;
        if taken
            .iter()
            .filter(|t| t.prefix() > 0)
            .all(|t| !t.overlaps(&cand))
        {
            return Ok(cand);
        }
    }
    Err(Error::NoFreeSubnet6)
}

impl FromStr for Ipv6Net {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidCidr(s.to_string());
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv6Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        Ipv6Net::new(addr, prefix).map_err(|_| bad())
    }
}

impl fmt::Display for Ipv6Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl TryFrom<String> for Ipv6Net {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Ipv6Net> for String {
    fn from(n: Ipv6Net) -> String {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn parse_clears_host_bits_and_prints_back() {
        assert_eq!(net("fd00:1::5/64").to_string(), "fd00:1::/64");
        assert_eq!(net("fd00:1:2:3:4::/48").to_string(), "fd00:1:2::/48");
        assert_eq!(net("::/0").last_offset(), u128::MAX);
        assert_eq!(net("fd00::/120").last_offset(), 255);
    }

    #[test]
    fn contains_nth_overlaps() {
        let n = net("fd00:1::/64");
        assert!(n.contains("fd00:1::ffff:1".parse().unwrap()));
        assert!(!n.contains("fd00:2::1".parse().unwrap()));
        assert_eq!(n.nth(1), Some("fd00:1::1".parse().unwrap()));
        assert_eq!(net("fd00::/120").nth(256), None);
        assert!(net("fd00:1::/48").overlaps(&n) && n.overlaps(&net("fd00:1::/48")));
        assert!(!n.overlaps(&net("fd00:2::/64")));
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "fd00::",
            "fd00::/129",
            "10.0.0.0/8",
            "x/64",
            "fd00::/-1",
        ] {
            assert!(s.parse::<Ipv6Net>().is_err(), "{s}");
        }
    }

    #[test]
    fn serde_round_trip_as_string() {
        let n = net("fd00:1::/64");
        let j = serde_json::to_string(&n).unwrap();
        assert_eq!(j, "\"fd00:1::/64\"");
        assert_eq!(serde_json::from_str::<Ipv6Net>(&j).unwrap(), n);
    }

    #[test]
    fn ula_choice_is_a_free_fd_slash_64() {
        let a = choose_ula(42, &[]).unwrap();
        assert_eq!(a.prefix(), 64);
        assert_eq!(a.network().segments()[0] >> 8, 0xfd);
        assert!(net("fd00::/8").contains(a.network()));
        // Deterministic for a seed; steps over what is taken.
        assert_eq!(choose_ula(42, &[]).unwrap(), a);
        let b = choose_ula(42, &[a, net("::/0")]).unwrap();
        assert_ne!(a, b);
        assert!(!b.overlaps(&a));
        assert!(choose_ula(42, &[net("fd00::/8")]).is_err());
    }
}
