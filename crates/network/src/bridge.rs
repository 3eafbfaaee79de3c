//! The bridge driver: a Linux bridge with the gateway address, one veth
//! pair per container (host end on the bridge, other end `eth0` inside),
//! addresses from IPAM and ports through the firewall.

use std::collections::BTreeSet;
use std::fs::File;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;

use crate::driver::{mac_for, veth_name, Endpoint, GcReport, NetworkDriver, SetupRequest};
use crate::firewall::Firewall;
use crate::hostports::resolve_ports;
use crate::ipam::Ipam;
use crate::netlink::Netlink;
use crate::netns::NetnsGuard;
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
    /// The IPv6 book of a `--ipv6` network. Every path releases its
    /// address before the IPv4 one, so the IPv4 book (which gc reads)
    /// names whoever may still hold one here.
    pub(crate) ipam6: Option<Ipam<Ipv6Addr>>,
    pub(crate) firewall: Firewall,
}

impl BridgeDriver {
    pub fn new(store: &NetworkStore, network: Network, firewall: Firewall) -> Self {
        BridgeDriver {
            ipam: Ipam::new(store, &network),
            ipam6: Ipam::new_v6(store, &network),
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

    pub fn ipam6(&self) -> Option<&Ipam<Ipv6Addr>> {
        self.ipam6.as_ref()
    }

    /// The IPv6 side of the bridge: IPv6 on (a host booted or configured
    /// with it off by default would leave the bridge without), the gateway
    /// address without DAD so containers can use it at once, and
    /// forwarding unless the network is internal.
    fn ensure_bridge6(&self, nl: &mut Netlink, index: u32) -> Result<()> {
        let net = &self.network;
        let Some(v6) = &net.ipv6 else {
            return Ok(());
        };
        if !sysctl::ipv6_available() {
            return Err(Error::NoIpv6(net.name.clone()));
        }
        sysctl::set(&format!("ipv6/conf/{}/disable_ipv6", net.bridge), "0")?;
        let has_gateway = nl
            .addresses6(index)?
            .iter()
            .any(|(ip, _)| *ip == v6.gateway);
        if !has_gateway {
            match nl.add_address6(index, v6.gateway, v6.subnet.prefix(), &net.bridge) {
                Err(e) if e.errno() != Some(libc::EEXIST) => return Err(e),
                _ => {}
            }
        }
        if !net.internal {
            // As docker does for IPv6 networks: the only switch the kernel
            // has for IPv6 forwarding is the global one.
            sysctl::set("ipv6/conf/all/forwarding", "1")?;
        }
        Ok(())
    }

    /// The container's side of IPv6: on for its interface (a namespace
    /// inherits the host's default, which may be off), no router
    /// advertisements (addresses and routes are ours to give), then the
    /// address. The default route comes once the link is up: before, the
    /// kernel has no route to the gateway.
    fn attach6(
        &self,
        req: &SetupRequest,
        netns: &File,
        cnl: &mut Netlink,
        idx: u32,
        ifname: &str,
        ip6: Ipv6Addr,
    ) -> Result<()> {
        let Some(v6) = &self.network.ipv6 else {
            return Ok(());
        };
        let guard = NetnsGuard::enter_fd(netns, &req.netns)?;
        let set = sysctl::set(&format!("ipv6/conf/{ifname}/disable_ipv6"), "0")
            .and_then(|()| sysctl::set(&format!("ipv6/conf/{ifname}/accept_ra"), "0"));
        guard.leave()?;
        set?;
        cnl.add_address6(idx, ip6, v6.subnet.prefix(), ifname)
    }

    /// Releases the container's IPv6 address, if the network has them.
    fn release6(&self, id: &str) -> Result<()> {
        match &self.ipam6 {
            Some(ipam) => ipam.release(id).map(drop),
            None => Ok(()),
        }
    }

    /// The bridge, up with its gateway address, plus forwarding and NAT;
    /// every step tolerates finding the work already done.
    pub fn ensure_bridge(&self, nl: &mut Netlink) -> Result<u32> {
        let index = self.bring_up(nl)?;
        self.firewall.ensure_network(&self.network)?;
        Ok(index)
    }

    /// `ensure_bridge` less the firewall, which a setup does in its own
    /// session.
    fn bring_up(&self, nl: &mut Netlink) -> Result<u32> {
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
        self.ensure_bridge6(nl, index)?;
        nl.set_up(index, &net.bridge)?;
        sysctl::set("ipv4/ip_forward", "1")?;
        // Lets DNAT'ed packets from the host's 127.0.0.1 leave through the
        // bridge instead of being dropped as martians.
        sysctl::set(&format!("ipv4/conf/{}/route_localnet", net.bridge), "1")?;
        Ok(index)
    }

    fn attach(
        &self,
        req: &SetupRequest,
        netns: &File,
        bridge: u32,
        ip: Ipv4Addr,
        ip6: Option<Ipv6Addr>,
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
        if let Some(ip6) = ip6 {
            self.attach6(req, netns, &mut cnl, idx, ifname, ip6)?;
        }
        cnl.set_up(idx, ifname)?;
        let lo = cnl.index("lo")?;
        cnl.set_up(lo, "lo")?;
        // An internal network has no way out, and says so by having no
        // default route (as docker's); a further network adds its subnet
        // only, the first one keeps the way out.
        if !net.internal && req.extra.is_none() {
            cnl.add_default_route(net.gateway)?;
            if let (Some(v6), Some(_)) = (&net.ipv6, ip6) {
                cnl.add_default_route6(v6.gateway, idx)?;
            }
        }

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
        if let Some(Err(e)) = self.ipam6.as_ref().map(|i| i.retain(|_| false)) {
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
        if let Err(e) = self.release6(id) {
            errors.push(e);
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
        let _ = self.release6(id);
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
        // One listing of our table serves the whole setup (what others
        // publish, what the network lacks; NoNftables on a kernel without
        // it), and one batch at the end writes it. With ports to publish
        // the table stays locked in between, so a port seen free is still
        // free when the batch lands.
        let mut fw = self.firewall.session(!req.ports.is_empty())?;
        let ports = if req.ports.is_empty() {
            Vec::new()
        } else {
            // Setting up again (a restart) replaces the container's own rules.
            resolve_ports(&req.ports, &fw.published_by_others(&req.container_id))?
        };
        if let Some(ip) = req.ip {
            self.ipam.validate(ip)?;
        }
        match (&self.ipam6, req.ip6) {
            (Some(ipam6), Some(ip6)) => ipam6.validate(ip6)?,
            (None, Some(ip6)) => {
                return Err(Error::NotIpv6 {
                    ip: ip6,
                    network: self.network.name.clone(),
                })
            }
            _ => {}
        }
        let netns = File::open(&req.netns).map_err(|e| Error::io("open netns", &req.netns, e))?;
        let mut nl = Netlink::new()?;
        let bridge = self.bring_up(&mut nl)?;
        fw.ensure_network(&self.network)?;
        let ip = self.ipam.allocate(&req.container_id, req.ip)?;
        let ip6 = match &self.ipam6 {
            Some(ipam6) => match ipam6.allocate(&req.container_id, req.ip6) {
                Ok(ip6) => Some(ip6),
                Err(e) => {
                    let _ = self.ipam.release(&req.container_id);
                    return Err(e);
                }
            },
            None => None,
        };
        let done = self
            .attach(req, &netns, bridge, ip, ip6, &ports)
            .and_then(|ep| {
                fw.add_container(&req.container_id, ip, &ports)?;
                fw.commit()?;
                Ok(ep)
            });
        match done {
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

    fn release_unpublished(&self, container_id: &str) -> Result<()> {
        self.take_down(container_id, None, false)
    }

    fn detach(&self, container_id: &str, ep: &Endpoint) -> Result<()> {
        // A further endpoint published nothing: the rules are the first
        // network's.
        self.take_down(container_id, Some(&ep.host_veth), false)
    }

    fn gc(&self, live: &BTreeSet<String>) -> Result<GcReport> {
        // IPv6 first: the IPv4 book, which collect reads, still names the
        // dead then.
        if let Some(ipam6) = &self.ipam6 {
            ipam6.retain(|id| live.contains(id))?;
        }
        crate::gc::collect(self, live)
    }
}
