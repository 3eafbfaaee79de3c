//! The bridge driver: a Linux bridge with the gateway address, one veth
//! pair per container (host end on the bridge, other end `eth0` inside),
//! addresses from IPAM and ports through the firewall.

use std::collections::BTreeSet;
use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;

use crate::driver::{mac_for, veth_name, Endpoint, GcReport, NetworkDriver, SetupRequest};
use crate::firewall::Firewall;
use crate::hostports::resolve_ports;
use crate::ipam::Ipam;
use crate::netlink::Netlink;
use crate::network::{Network, NetworkStore};
use crate::ports::PublishedPort;
use crate::{sysctl, Error, Result};

pub const CONTAINER_IFNAME: &str = "eth0";
/// Prefix of IFLA_IFALIAS on host veths: marks them as ours for gc.
pub(crate) const ALIAS_PREFIX: &str = "husk:";

#[derive(Clone, Debug)]
pub struct BridgeDriver {
    pub(crate) network: Network,
    pub(crate) ipam: Ipam,
    pub(crate) firewall: Firewall,
}

impl BridgeDriver {
    pub fn new(store: &NetworkStore, network: Network, firewall: Firewall) -> Self {
        BridgeDriver {
            ipam: Ipam::new(store, &network),
            network,
            firewall,
        }
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn ipam(&self) -> &Ipam {
        &self.ipam
    }

    /// The bridge, up with its gateway address, plus forwarding and NAT;
    /// every step tolerates finding the work already done.
    pub fn ensure_bridge(&self, nl: &mut Netlink) -> Result<u32> {
        let net = &self.network;
        let (index, mtu) = match nl.link(&net.bridge)? {
            Some(l) => (l.index, l.mtu),
            None => match nl.create_bridge(&net.bridge, net.mtu) {
                Ok(i) => (i, None),
                // Another process created it between our look and our create.
                Err(e) if e.errno() == Some(libc::EEXIST) => (nl.index(&net.bridge)?, None),
                Err(e) => return Err(e),
            },
        };
        // Set explicitly (not only at creation): the kernel then keeps it,
        // instead of following its ports' MTU or resetting it when the
        // last port goes.
        if mtu != Some(net.mtu) {
            nl.set_mtu(index, net.mtu, &net.bridge)?;
        }
        let has_gateway = nl
            .addresses(index)?
            .iter()
            .any(|(ip, _)| *ip == net.gateway);
        if !has_gateway {
            match nl.add_address(index, net.gateway, net.subnet.prefix(), &net.bridge) {
                Err(e) if e.errno() != Some(libc::EEXIST) => return Err(e),
                _ => {}
            }
        }
        nl.set_up(index, &net.bridge)?;
        sysctl::set("ipv4/ip_forward", "1")?;
        // Lets DNAT'ed packets from the host's 127.0.0.1 leave through the
        // bridge instead of being dropped as martians.
        sysctl::set(&format!("ipv4/conf/{}/route_localnet", net.bridge), "1")?;
        self.firewall.ensure_network(net)?;
        Ok(index)
    }

    fn attach(
        &self,
        req: &SetupRequest,
        netns: &File,
        bridge: u32,
        ip: Ipv4Addr,
        ports: &[PublishedPort],
    ) -> Result<Endpoint> {
        let net = &self.network;
        let (host, ifname) = match &req.extra {
            Some(x) => (x.host_veth.clone(), x.ifname.as_str()),
            None => (veth_name(&req.container_id), CONTAINER_IFNAME),
        };
        let mut nl = Netlink::new()?;
        // A leftover of a crash of this same container would make the create
        // fail; a link of another container (7 hex of two ids can collide)
        // must not be touched.
        if let Some(stale) = nl.link(&host)? {
            let ours = format!("{ALIAS_PREFIX}{}", req.container_id);
            match stale.alias.as_deref() {
                Some(a) if a != ours && a.starts_with(ALIAS_PREFIX) => {
                    return Err(Error::Netlink {
                        op: "create veth",
                        target: format!("{host} (held by {a})"),
                        source: std::io::Error::from_raw_os_error(libc::EEXIST),
                    })
                }
                _ => nl.delete_link(stale.index, &host)?,
            }
        }
        // The peer is born inside the container's namespace as eth0.
        let host_index = nl.create_veth_in(&host, ifname, net.mtu, Some(netns.as_fd()))?;
        nl.set_alias(
            host_index,
            &format!("{ALIAS_PREFIX}{}", req.container_id),
            &host,
        )?;
        nl.set_master(host_index, bridge, &host)?;
        nl.set_hairpin(host_index, &host)?;
        nl.set_up(host_index, &host)?;

        let mut cnl = Netlink::in_netns_fd(netns, &req.netns)?;
        let idx = cnl.index(ifname)?;
        let mac = req.mac.unwrap_or_else(|| mac_for(ip));
        cnl.set_mac(idx, mac, ifname)?;
        cnl.add_address(idx, ip, net.subnet.prefix(), ifname)?;
        cnl.set_up(idx, ifname)?;
        let lo = cnl.index("lo")?;
        cnl.set_up(lo, "lo")?;
        // An internal network has no way out, and says so by having no
        // default route (as docker's); a further network adds its subnet
        // only, the first one keeps the way out.
        if !net.internal && req.extra.is_none() {
            cnl.add_default_route(net.gateway)?;
        }

        self.firewall.add_container(&req.container_id, ip, ports)?;
        Ok(Endpoint {
            network: net.name.clone(),
            ifname: ifname.into(),
            host_veth: host,
            ip,
            prefix: net.subnet.prefix(),
            gateway: net.gateway,
            mac,
            ports: ports.to_vec(),
        })
    }

    /// Removes the network from the host: its bridge (taking any remaining
    /// ports with it), its masquerade rules and its address book. The
    /// caller keeps or deletes the recorded `Network`.
    pub fn remove_network(&self) -> Result<()> {
        let mut errors = Vec::new();
        let mut nl = Netlink::new()?;
        match nl.link(&self.network.bridge) {
            Ok(Some(link)) => {
                if let Err(e) = nl.delete_link(link.index, &self.network.bridge) {
                    errors.push(e);
                }
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
        if let Err(e) = self.firewall.remove_network(&self.network) {
            errors.push(e);
        }
        if let Err(e) = self.ipam.retain(|_| false) {
            errors.push(e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Teardown(errors))
        }
    }

    /// What teardown, release and detach share: the host veth `veth`
    /// (if given: its peer goes with it), the container's rules (with
    /// `rules`) and its address; keeps going past failures.
    fn take_down(&self, id: &str, veth: Option<&str>, rules: bool) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(veth) = veth {
            if let Err(e) = Netlink::new().and_then(|mut nl| Self::remove_veth(&mut nl, id, veth)) {
                errors.push(e);
            }
        }
        if rules {
            if let Err(e) = self.firewall.remove_container(id) {
                errors.push(e);
            }
        }
        if let Err(e) = self.ipam.release(id) {
            errors.push(e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Teardown(errors))
        }
    }

    /// Undoes a failed setup. Unlike teardown it deletes the host veth even
    /// without our alias: setup may have failed before setting it, and
    /// `attach` has already refused to touch another container's link.
    fn rollback(&self, req: &SetupRequest) {
        let id = req.container_id.as_str();
        let name = match &req.extra {
            Some(x) => x.host_veth.clone(),
            None => veth_name(id),
        };
        if let Ok(mut nl) = Netlink::new() {
            if let Ok(Some(link)) = nl.link(&name) {
                let foreign = link.alias.as_deref().is_some_and(|a| {
                    a.starts_with(ALIAS_PREFIX) && a != format!("{ALIAS_PREFIX}{id}")
                });
                if !foreign {
                    let _ = nl.delete_link(link.index, &name);
                }
            }
        }
        // A further endpoint published nothing: the container's rules are
        // its first network's.
        if req.extra.is_none() {
            let _ = self.firewall.remove_container(id);
        }
        let _ = self.ipam.release(id);
    }

    /// Deletes the host veth `name` of `id` (its peer goes with it).
    fn remove_veth(nl: &mut Netlink, id: &str, name: &str) -> Result<()> {
        let Some(link) = nl.link(name)? else {
            return Ok(());
        };
        // Only ours, and only this container's: 7 hex of an id can collide.
        let alias = format!("{ALIAS_PREFIX}{id}");
        if link.alias.as_deref() != Some(alias.as_str()) {
            return Ok(());
        }
        match nl.delete_link(link.index, name) {
            Err(e) if e.errno() != Some(libc::ENODEV) => Err(e),
            _ => Ok(()),
        }
    }
}

impl NetworkDriver for BridgeDriver {
    fn setup(&self, req: &SetupRequest) -> Result<Endpoint> {
        // Everything that can be refused is checked before anything exists.
        // Listing our table fails with NoNftables on a kernel without it
        // (ensure_bridge lists it too when no port is published).
        let ports = if req.ports.is_empty() {
            Vec::new()
        } else {
            let mut published = self.firewall.published()?;
            // Setting up again (a restart) replaces the container's own rules.
            published.retain(|(owner, _)| *owner != req.container_id);
            resolve_ports(&req.ports, &published)?
        };
        if let Some(ip) = req.ip {
            self.ipam.validate(ip)?;
        }
        let netns = File::open(&req.netns).map_err(|e| Error::io("open netns", &req.netns, e))?;
        let mut nl = Netlink::new()?;
        let bridge = self.ensure_bridge(&mut nl)?;
        let ip = self.ipam.allocate(&req.container_id, req.ip)?;
        match self.attach(req, &netns, bridge, ip, &ports) {
            Ok(ep) => Ok(ep),
            Err(e) => {
                // Undo what was done; the original error is the one to show.
                self.rollback(req);
                Err(e)
            }
        }
    }

    fn teardown(&self, container_id: &str) -> Result<()> {
        self.take_down(container_id, Some(&veth_name(container_id)), true)
    }

    fn release(&self, container_id: &str) -> Result<()> {
        self.take_down(container_id, None, true)
    }

    fn detach(&self, container_id: &str, ep: &Endpoint) -> Result<()> {
        // A further endpoint published nothing: the rules are the first
        // network's.
        self.take_down(container_id, Some(&ep.host_veth), false)
    }

    fn gc(&self, live: &BTreeSet<String>) -> Result<GcReport> {
        crate::gc::collect(self, live)
    }
}
