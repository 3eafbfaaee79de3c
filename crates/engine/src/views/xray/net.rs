//! The network, asked of the kernel over netlink: the host end of the veth
//! pair (its index, its peer's, the bridge it is a port of) in the calling
//! namespace, the container's end and its addresses in the container's
//! netns (/proc/PID/ns/net), and the nftables rules that carry its
//! published ports.

use std::path::PathBuf;

use serde::Serialize;

use crate::store::{Container, Paths};

#[derive(Debug, Clone, Serialize)]
pub struct Network {
    /// HostConfig.NetworkMode.
    pub mode: String,
    /// The network the endpoint is on.
    pub network: String,
    pub host_veth: String,
    pub host_ifindex: Option<u32>,
    /// The host end's IFLA_LINK: its peer's index in the container's netns.
    pub peer_ifindex: Option<u32>,
    /// The bridge the host end is a port of.
    pub bridge: Option<String>,
    /// The container's end (`eth0`) and its index, as its netns lists it.
    pub ifname: String,
    pub ifindex: Option<u32>,
    /// Its IPv4 addresses, `172.17.0.2/16`.
    pub addresses: Vec<String>,
    pub mac: String,
    pub gateway: String,
    /// The nftables rules of its published ports (`nft list chain ip husk ctr-ID`).
    pub nft_rules: Vec<String>,
    /// Why something could not be read, if it could not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

pub fn network(paths: &Paths, c: &Container) -> Option<Network> {
    let ep = c.network.as_ref()?.endpoint.as_ref()?;
    let mut errors = Vec::new();
    let (mut host_ifindex, mut peer_ifindex, mut bridge) = (None, None, None);
    match husk_network::Netlink::new().and_then(|mut nl| {
        let host = nl.link(&ep.host_veth)?;
        let master = match host.as_ref().and_then(|l| l.master) {
            Some(m) => nl.links()?.into_iter().find(|l| l.index == m),
            None => None,
        };
        Ok((host, master))
    }) {
        Ok((host, master)) => {
            host_ifindex = host.as_ref().map(|l| l.index);
            peer_ifindex = host.as_ref().and_then(|l| l.peer);
            bridge = master.map(|l| l.name);
        }
        Err(e) => note(&mut errors, "host end", &e),
    }
    let (mut ifindex, mut addresses, mut mac) = (None, Vec::new(), String::new());
    let ns = PathBuf::from(format!("/proc/{}/ns/net", c.state.pid));
    match husk_network::Netlink::in_netns(&ns).and_then(|mut nl| {
        let Some(l) = nl.link(&ep.ifname)? else {
            return Ok(None);
        };
        let addrs = nl.addresses(l.index)?;
        Ok(Some((l, addrs)))
    }) {
        Ok(Some((l, addrs))) => {
            ifindex = Some(l.index);
            mac = l.mac.map(mac_text).unwrap_or_default();
            addresses = addrs.iter().map(|(ip, p)| format!("{ip}/{p}")).collect();
        }
        Ok(None) => errors.push(format!("no {} in its netns", ep.ifname)),
        Err(e) => note(&mut errors, "container end", &e),
    }
    let nft_rules = if ep.ports.is_empty() {
        Vec::new()
    } else {
        rules(paths, &c.id).unwrap_or_else(|e| {
            note(&mut errors, "nft", &e);
            Vec::new()
        })
    };
    Some(Network {
        mode: c.host_config.network_mode.clone(),
        network: ep.network.clone(),
        host_veth: ep.host_veth.clone(),
        host_ifindex,
        peer_ifindex,
        bridge,
        ifname: ep.ifname.clone(),
        ifindex,
        addresses,
        mac,
        gateway: ep.gateway.to_string(),
        nft_rules,
        errors,
    })
}

fn note(errors: &mut Vec<String>, what: &str, e: &dyn std::error::Error) {
    errors.push(format!("{what}: {}", husk_fs::Chain(e)));
}

fn mac_text(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn rules(paths: &Paths, id: &str) -> crate::Result<Vec<String>> {
    let store = crate::network::store(paths)?;
    let fw = husk_network::Firewall::new(crate::network::FIREWALL_TABLE, store.root());
    Ok(fw.container_rules(id)?)
}
