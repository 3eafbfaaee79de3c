//! A small synchronous rtnetlink client: one NETLINK_ROUTE socket per
//! network namespace, one request at a time, every request acknowledged.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoPortKind, InfoVeth, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::cidr::Ipv4Net;
use crate::cidr6::Ipv6Net;
use crate::netns::{with_netns, NetnsGuard};
use crate::{Error, Result};

/// One link as the kernel lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub up: bool,
    pub mtu: Option<u32>,
    /// Index of the bridge this link is a port of.
    pub master: Option<u32>,
    pub mac: Option<[u8; 6]>,
    /// IFLA_IFALIAS: we record the owning container id there.
    pub alias: Option<String>,
    /// IFLA_LINK: a veth's peer's index (in the peer's namespace).
    pub peer: Option<u32>,
}

/// A netlink socket bound to the network namespace it was created in.
pub struct Netlink {
    socket: Socket,
    seq: u32,
}

impl Netlink {
    /// A socket in the calling thread's current network namespace.
    pub fn new() -> Result<Self> {
        let fail = |source| Error::Netlink {
            op: "open socket",
            target: "route".into(),
            source,
        };
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(fail)?;
        socket.bind_auto().map_err(fail)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(fail)?;
        Ok(Netlink { socket, seq: 0 })
    }

    /// A socket inside the namespace of `netns` (`/proc/PID/ns/net` or a
    /// bind-mounted netns file): the thread enters it only to create the
    /// socket and comes back at once.
    pub fn in_netns(netns: &Path) -> Result<Self> {
        with_netns(netns, Netlink::new)
    }

    /// As `in_netns`, for a namespace file already open (`label` names it
    /// in errors).
    pub fn in_netns_fd(netns: &impl AsFd, label: &Path) -> Result<Self> {
        let guard = NetnsGuard::enter_fd(netns, label)?;
        let out = Netlink::new();
        guard.leave()?;
        out
    }

    pub fn links(&mut self) -> Result<Vec<Link>> {
        let msg = LinkMessage::default();
        let replies = self.request(
            "list links",
            "",
            RouteNetlinkMessage::GetLink(msg),
            NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
                _ => None,
            })
            .collect())
    }

    pub fn link(&mut self, name: &str) -> Result<Option<Link>> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.into()));
        match self.request("get link", name, RouteNetlinkMessage::GetLink(msg), 0) {
            Ok(replies) => Ok(replies.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
                _ => None,
            })),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The index of `name`, failing with ENODEV when it does not exist.
    pub fn index(&mut self, name: &str) -> Result<u32> {
        self.link(name)?
            .map(|l| l.index)
            .ok_or_else(|| Error::Netlink {
                op: "get link",
                target: name.into(),
                source: std::io::Error::from_raw_os_error(libc::ENODEV),
            })
    }

    pub fn create_bridge(&mut self, name: &str, mtu: u32) -> Result<u32> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.into()));
        msg.attributes.push(LinkAttribute::Mtu(mtu));
        msg.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.request(
            "create bridge",
            name,
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.index(name)
    }

    /// Creates `host` and its peer `peer`, both in this namespace.
    pub fn create_veth(&mut self, host: &str, peer: &str, mtu: u32) -> Result<u32> {
        self.create_veth_in(host, peer, mtu, None)
    }

    /// Creates `host` here and its peer `peer` directly inside the
    /// namespace of `peer_netns`: no move afterwards, which would cost the
    /// kernel an RCU grace period, and the peer's name only has to be free
    /// in that namespace.
    pub fn create_veth_in(
        &mut self,
        host: &str,
        peer: &str,
        mtu: u32,
        peer_netns: Option<BorrowedFd<'_>>,
    ) -> Result<u32> {
        let mut peer_msg = LinkMessage::default();
        peer_msg.attributes.push(LinkAttribute::IfName(peer.into()));
        peer_msg.attributes.push(LinkAttribute::Mtu(mtu));
        if let Some(fd) = peer_netns {
            peer_msg
                .attributes
                .push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(host.into()));
        msg.attributes.push(LinkAttribute::Mtu(mtu));
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_msg))),
        ]));
        self.request(
            "create veth",
            host,
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.index(host)
    }

    pub fn set_up(&mut self, index: u32, target: &str) -> Result<()> {
        let mut msg = link_by_index(index);
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        self.set("set link up", target, msg)
    }

    pub fn set_mtu(&mut self, index: u32, mtu: u32, target: &str) -> Result<()> {
        let mut msg = link_by_index(index);
        msg.attributes.push(LinkAttribute::Mtu(mtu));
        self.set("set mtu", target, msg)
    }

    pub fn set_master(&mut self, index: u32, master: u32, target: &str) -> Result<()> {
        let mut msg = link_by_index(index);
        msg.attributes.push(LinkAttribute::Controller(master));
        self.set("attach to bridge", target, msg)
    }

    /// Lets a bridge port send frames back out the port they came in on,
    /// which a container reaching its own published port needs.
    pub fn set_hairpin(&mut self, index: u32, target: &str) -> Result<()> {
        let mut msg = link_by_index(index);
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::PortKind(InfoPortKind::Bridge),
            LinkInfo::PortData(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(
                true,
            )])),
        ]));
        self.request("set hairpin", target, RouteNetlinkMessage::NewLink(msg), 0)
            .map(drop)
    }

    /// Moves a link into the namespace of `netns`; its index may change there.
    pub fn move_to_netns(&mut self, index: u32, netns: BorrowedFd<'_>, target: &str) -> Result<()> {
        let mut msg = link_by_index(index);
        msg.attributes
            .push(LinkAttribute::NetNsFd(netns.as_raw_fd()));
        self.set("move to netns", target, msg)
    }

    /// Renames a link, which the kernel allows only while it is down.
    pub fn rename(&mut self, index: u32, name: &str) -> Result<()> {
        let mut msg = link_by_index(index);
        msg.attributes.push(LinkAttribute::IfName(name.into()));
        self.set("rename link", name, msg)
    }

    pub fn set_mac(&mut self, index: u32, mac: [u8; 6], target: &str) -> Result<()> {
        let mut msg = link_by_index(index);
        msg.attributes.push(LinkAttribute::Address(mac.to_vec()));
        self.set("set mac", target, msg)
    }

    pub fn set_alias(&mut self, index: u32, alias: &str, target: &str) -> Result<()> {
        let mut msg = link_by_index(index);
        msg.attributes.push(LinkAttribute::IfAlias(alias.into()));
        self.set("set alias", target, msg)
    }

    pub fn delete_link(&mut self, index: u32, target: &str) -> Result<()> {
        let msg = link_by_index(index);
        self.request("delete link", target, RouteNetlinkMessage::DelLink(msg), 0)
            .map(drop)
    }

    /// Adds `ip/prefix` to a link; EEXIST tells the caller it was already there.
    pub fn add_address(
        &mut self,
        index: u32,
        ip: Ipv4Addr,
        prefix: u8,
        target: &str,
    ) -> Result<()> {
        let net = Ipv4Net::new(ip, prefix)?;
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        msg.header.prefix_len = prefix;
        msg.header.index = index;
        msg.attributes.push(AddressAttribute::Local(ip.into()));
        msg.attributes.push(AddressAttribute::Address(ip.into()));
        if prefix < 31 {
            msg.attributes
                .push(AddressAttribute::Broadcast(net.broadcast()));
        }
        self.request(
            "add address",
            target,
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// The IPv4 addresses of a link, with their prefix lengths.
    pub fn addresses(&mut self, index: u32) -> Result<Vec<(Ipv4Addr, u8)>> {
        let all = self.addresses_of(index, AddressFamily::Inet)?;
        Ok(all
            .into_iter()
            .filter_map(|(ip, len)| match ip {
                IpAddr::V4(v4) => Some((v4, len)),
                IpAddr::V6(_) => None,
            })
            .collect())
    }

    /// The addresses of one family on a link: IFA_LOCAL for IPv4 (on a
    /// point-to-point link IFA_ADDRESS is the peer's), IFA_ADDRESS for
    /// IPv6 (which has no IFA_LOCAL unless point-to-point).
    fn addresses_of(&mut self, index: u32, family: AddressFamily) -> Result<Vec<(IpAddr, u8)>> {
        let mut msg = AddressMessage::default();
        msg.header.family = family;
        let replies = self.request(
            "list addresses",
            "",
            RouteNetlinkMessage::GetAddress(msg),
            NLM_F_DUMP,
        )?;
        let mut out = Vec::new();
        for m in replies {
            let RouteNetlinkMessage::NewAddress(a) = m else {
                continue;
            };
            if a.header.index != index {
                continue;
            }
            for attr in &a.attributes {
                let ip = match (attr, family) {
                    (AddressAttribute::Local(ip), AddressFamily::Inet) => ip,
                    (AddressAttribute::Address(ip), AddressFamily::Inet6) => ip,
                    _ => continue,
                };
                out.push((*ip, a.header.prefix_len));
            }
        }
        Ok(out)
    }

    /// Adds `ip/prefix` to a link without duplicate address detection
    /// (IFA_F_NODAD): the address is usable at once instead of tentative
    /// for a second or more, and IPAM already made it unique. EEXIST tells
    /// the caller it was already there.
    pub fn add_address6(
        &mut self,
        index: u32,
        ip: Ipv6Addr,
        prefix: u8,
        target: &str,
    ) -> Result<()> {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet6;
        msg.header.prefix_len = prefix;
        msg.header.index = index;
        msg.header.flags = AddressHeaderFlags::Nodad;
        msg.attributes.push(AddressAttribute::Local(ip.into()));
        msg.attributes.push(AddressAttribute::Address(ip.into()));
        msg.attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
        self.request(
            "add address",
            target,
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// The IPv6 addresses of a link, with their prefix lengths.
    pub fn addresses6(&mut self, index: u32) -> Result<Vec<(Ipv6Addr, u8)>> {
        let all = self.addresses_of(index, AddressFamily::Inet6)?;
        Ok(all
            .into_iter()
            .filter_map(|(ip, len)| match ip {
                IpAddr::V6(v6) => Some((v6, len)),
                IpAddr::V4(_) => None,
            })
            .collect())
    }

    /// Adds the default IPv6 route via `gateway` on link `oif`.
    pub fn add_default_route6(&mut self, gateway: Ipv6Addr, oif: u32) -> Result<()> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet6;
        msg.header.destination_prefix_length = 0;
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.kind = RouteType::Unicast;
        msg.header.scope = RouteScope::Universe;
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet6(gateway)));
        msg.attributes.push(RouteAttribute::Oif(oif));
        self.request(
            "add route",
            "::/0",
            RouteNetlinkMessage::NewRoute(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// Destinations of the IPv6 routes of the main table.
    pub fn routes6(&mut self) -> Result<Vec<Ipv6Net>> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet6;
        let replies = self.request(
            "list routes",
            "",
            RouteNetlinkMessage::GetRoute(msg),
            NLM_F_DUMP,
        )?;
        let mut out = Vec::new();
        for m in replies {
            let RouteNetlinkMessage::NewRoute(r) = m else {
                continue;
            };
            let mut table = u32::from(r.header.table);
            let mut dest = Ipv6Addr::UNSPECIFIED;
            for attr in &r.attributes {
                match attr {
                    RouteAttribute::Table(t) => table = *t,
                    RouteAttribute::Destination(RouteAddress::Inet6(d)) => dest = *d,
                    _ => {}
                }
            }
            if table == u32::from(RouteHeader::RT_TABLE_MAIN) {
                out.push(Ipv6Net::new(dest, r.header.destination_prefix_length)?);
            }
        }
        Ok(out)
    }

    /// Adds a route to `dest` via `gateway` (or on-link through `oif`).
    pub fn add_route(
        &mut self,
        dest: Ipv4Net,
        gateway: Option<Ipv4Addr>,
        oif: Option<u32>,
    ) -> Result<()> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        msg.header.destination_prefix_length = dest.prefix();
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.kind = RouteType::Unicast;
        msg.header.scope = if gateway.is_some() {
            RouteScope::Universe
        } else {
            RouteScope::Link
        };
        if dest.prefix() > 0 {
            msg.attributes
                .push(RouteAttribute::Destination(RouteAddress::Inet(
                    dest.network(),
                )));
        }
        if let Some(gw) = gateway {
            msg.attributes
                .push(RouteAttribute::Gateway(RouteAddress::Inet(gw)));
        }
        if let Some(oif) = oif {
            msg.attributes.push(RouteAttribute::Oif(oif));
        }
        self.request(
            "add route",
            &dest.to_string(),
            RouteNetlinkMessage::NewRoute(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    pub fn add_default_route(&mut self, gateway: Ipv4Addr) -> Result<()> {
        let any = Ipv4Net::new(Ipv4Addr::UNSPECIFIED, 0)?;
        self.add_route(any, Some(gateway), None)
    }

    /// IPv4 routes of the main table as (destination, gateway).
    pub fn routes(&mut self) -> Result<Vec<(Ipv4Net, Option<Ipv4Addr>)>> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        let replies = self.request(
            "list routes",
            "",
            RouteNetlinkMessage::GetRoute(msg),
            NLM_F_DUMP,
        )?;
        let mut out = Vec::new();
        for m in replies {
            let RouteNetlinkMessage::NewRoute(r) = m else {
                continue;
            };
            let mut table = u32::from(r.header.table);
            let mut dest = Ipv4Addr::UNSPECIFIED;
            let mut gateway = None;
            for attr in &r.attributes {
                match attr {
                    RouteAttribute::Table(t) => table = *t,
                    RouteAttribute::Destination(RouteAddress::Inet(d)) => dest = *d,
                    RouteAttribute::Gateway(RouteAddress::Inet(g)) => gateway = Some(*g),
                    _ => {}
                }
            }
            if table != u32::from(RouteHeader::RT_TABLE_MAIN) {
                continue;
            }
            out.push((
                Ipv4Net::new(dest, r.header.destination_prefix_length)?,
                gateway,
            ));
        }
        Ok(out)
    }

    fn set(&mut self, op: &'static str, target: &str, msg: LinkMessage) -> Result<()> {
        self.request(op, target, RouteNetlinkMessage::SetLink(msg), 0)
            .map(drop)
    }

    /// Sends one request and collects its replies up to the ACK (or the
    /// end of a dump). A kernel error becomes `Error::Netlink` with errno.
    fn request(
        &mut self,
        op: &'static str,
        target: &str,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let io_err = |source| Error::Netlink {
            op,
            target: target.into(),
            source,
        };
        let decode = |reason: String| Error::NetlinkDecode {
            op,
            target: target.into(),
            reason,
        };
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags | if dump { 0 } else { NLM_F_ACK };
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket.send(&buf, 0).map_err(io_err)?;

        let mut out = Vec::new();
        loop {
            let (data, _) = self.socket.recv_from_full().map_err(io_err)?;
            let mut offset = 0;
            while offset < data.len() {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[offset..])
                    .map_err(|e| decode(e.to_string()))?;
                let len = reply.header.length as usize;
                if len == 0 {
                    return Err(decode("zero-length message".into()));
                }
                offset += (len + 3) & !3;
                if reply.header.sequence_number != seq {
                    // A stale reply to an earlier request that failed midway.
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::Error(e) => match e.code {
                        None => return Ok(out),
                        Some(_) => return Err(io_err(e.to_io())),
                    },
                    NetlinkPayload::Done(_) => return Ok(out),
                    // A plain GET answers with one message followed by the
                    // ACK we asked for, so both kinds end at Error or Done.
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    _ => {}
                }
            }
        }
    }
}

/// Brings up `lo` in the namespace of `netns`: all that `--network none`
/// needs, and what every other mode needs too.
pub fn loopback_up(netns: &Path) -> Result<()> {
    let mut nl = Netlink::in_netns(netns)?;
    let lo = nl.index("lo")?;
    nl.set_up(lo, "lo")
}

fn link_by_index(index: u32) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg
}

fn link_from(l: LinkMessage) -> Link {
    let mut link = Link {
        index: l.header.index,
        name: String::new(),
        up: l.header.flags.contains(LinkFlags::Up),
        mtu: None,
        master: None,
        mac: None,
        alias: None,
        peer: None,
    };
    for attr in l.attributes {
        match attr {
            LinkAttribute::IfName(n) => link.name = n,
            LinkAttribute::Mtu(m) => link.mtu = Some(m),
            LinkAttribute::Controller(m) => link.master = Some(m),
            LinkAttribute::IfAlias(a) => link.alias = Some(a),
            LinkAttribute::Link(p) => link.peer = Some(p),
            LinkAttribute::Address(a) => link.mac = <[u8; 6]>::try_from(a.as_slice()).ok(),
            _ => {}
        }
    }
    link
}
