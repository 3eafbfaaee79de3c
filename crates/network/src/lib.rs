//! Container networking: a bridge driver over synchronous netlink, IPAM on
//! disk, and an nftables table of husk's own.

pub mod cidr;
pub mod error;
pub mod netlink;
pub mod netns;

pub use cidr::Ipv4Net;
pub use error::{Error, Result};
