//! What a network driver does for a container, independent of how.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ports::{PortSpec, PublishedPort};
use crate::{Error, Result};

/// A container to connect: its id and network namespace, plus the run flags.
#[derive(Clone, Debug, Default)]
pub struct SetupRequest {
    pub container_id: String,
    /// `/proc/PID/ns/net` of the container's init, or a bind-mounted netns.
    pub netns: PathBuf,
    /// `--ip`
    pub ip: Option<Ipv4Addr>,
    /// `--ip6`: only on a `--ipv6` network (whose containers get an IPv6
    /// address whether or not one is asked for).
    pub ip6: Option<Ipv6Addr>,
    /// `--mac-address`; derived from the address (02:42:…) when absent.
    pub mac: Option<[u8; 6]>,
    /// `-p`, parsed with `ports::parse_port_spec`.
    pub ports: Vec<PortSpec>,
    /// A further network of the container (`network connect`): the
    /// interface inside and the host end of its veth, both free names the
    /// caller chose; no default route and no published ports. None: the
    /// container's first network, `eth0` and [`veth_name`].
    pub extra: Option<ExtraLink>,
}

/// The names of a container's further endpoint.
#[derive(Clone, Debug)]
pub struct ExtraLink {
    pub ifname: String,
    pub host_veth: String,
}

/// What the container got; the engine records it for inspect, /etc/hosts
/// and `port`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub network: String,
    pub ifname: String,
    pub host_veth: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mac: [u8; 6],
    pub ports: Vec<PublishedPort>,
}

/// What `gc` found and removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    pub veths: Vec<String>,
    pub rules: Vec<String>,
    pub addresses: Vec<(Ipv4Addr, String)>,
}

pub trait NetworkDriver {
    /// Connects the container; on failure nothing it created is left behind.
    fn setup(&self, req: &SetupRequest) -> Result<Endpoint>;
    /// Disconnects the container; keeps going past failures and returns
    /// them all (`Error::Teardown`). Safe to call twice.
    fn teardown(&self, container_id: &str) -> Result<()>;
    /// As `teardown`, for a container whose network namespace is going
    /// away (its processes are gone and its handle unmounted): what lives
    /// in that namespace, the veth pair, goes with it as the kernel frees
    /// it, off the caller's path. Deleting a veth by hand costs an RCU
    /// grace period (tens of ms) for nothing.
    fn release(&self, container_id: &str) -> Result<()> {
        self.teardown(container_id)
    }
    /// As `release`, for a container whose recorded endpoint published
    /// no port: it has no rules, so the firewall is not even looked at
    /// (a stop then runs no nft at all). A crash between rules and record
    /// is the gc's, which lists the table.
    fn release_unpublished(&self, container_id: &str) -> Result<()> {
        self.release(container_id)
    }
    /// Takes a further endpoint (see [`SetupRequest::extra`]) of a
    /// running container away: its veth and its address.
    fn detach(&self, container_id: &str, ep: &Endpoint) -> Result<()>;
    /// Removes whatever belongs to containers not in `live` (crash repair).
    fn gc(&self, live: &BTreeSet<String>) -> Result<GcReport>;
}

/// The host side of a container's veth: `veth` + 7 hex of its id, as short
/// as interface names (15 bytes) require.
pub fn veth_name(container_id: &str) -> String {
    let short: String = container_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(7)
        .collect();
    format!("veth{short}")
}

/// The host end of a container's further veth number `n` (1..=99):
/// [`veth_name`], `x`, `n`: still within 15 bytes.
pub fn extra_veth_name(container_id: &str, n: u8) -> String {
    format!("{}x{n}", veth_name(container_id))
}

/// docker's MAC for an address: 02:42 then the four octets.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

/// `02:42:ac:11:00:02`
pub fn format_mac(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses `--mac-address`: six hex octets separated by colons, unicast.
pub fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let bad = || Error::InvalidMac(s.to_string());
    let octets: Vec<u8> = s
        .split(':')
        .map(|o| {
            if o.len() == 2 {
                u8::from_str_radix(o, 16).map_err(|_| bad())
            } else {
                Err(bad())
            }
        })
        .collect::<Result<_>>()?;
    let mac: [u8; 6] = octets.try_into().map_err(|_| bad())?;
    // A multicast source address would be dropped by every peer.
    if mac[0] & 1 == 1 {
        return Err(bad());
    }
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_macs() {
        assert_eq!(veth_name("0123456789abcdef"), "veth0123456");
        assert_eq!(extra_veth_name("0123456789abcdef", 99), "veth0123456x99");
        assert!(extra_veth_name("0123456789abcdef", 99).len() <= 15);
        assert_eq!(
            mac_for(Ipv4Addr::new(172, 17, 0, 2)),
            [2, 0x42, 172, 17, 0, 2]
        );
    }
}
