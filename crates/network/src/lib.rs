//! Container networking the way netavark and libnetwork do it: synchronous
//! netlink (one socket per namespace), IPAM on disk, an nftables table of
//! husk's own, and a network as a value with a driver behind it.

pub mod bridge;
pub mod cidr;
pub mod cidr6;
pub mod dnsfiles;
pub mod driver;
pub mod error;
pub mod firewall;
mod firewall6;
mod gc;
pub mod hostports;
pub mod ipam;
pub mod netlink;
pub mod netns;
pub mod network;
mod nft;
pub mod ports;
mod sysctl;

pub use bridge::BridgeDriver;
pub use cidr::Ipv4Net;
pub use cidr6::Ipv6Net;
pub use driver::{Endpoint, ExtraLink, GcReport, NetworkDriver, SetupRequest};
pub use error::{Error, Result};
pub use firewall::{container_chain, Firewall, Session};
pub use ipam::Ipam;
pub use netlink::Netlink;
pub use network::{check_overlap, host_routes, host_routes6, Ipv6Config, Network, NetworkStore};
pub use ports::{parse_port_spec, PortSpec, Proto, PublishedPort};
