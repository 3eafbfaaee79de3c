use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("netlink {op} {target}")]
    Netlink {
        op: &'static str,
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("netlink {op} {target}: decode reply: {reason}")]
    NetlinkDecode {
        op: &'static str,
        target: String,
        reason: String,
    },
    #[error("{op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("setns {}", path.display())]
    Setns {
        path: PathBuf,
        #[source]
        source: nix::errno::Errno,
    },
    #[error(transparent)]
    Fs(#[from] husk_fs::Error),
    #[error("decode {}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid subnet {0:?}")]
    InvalidCidr(String),
    #[error("invalid port spec {spec:?}: {reason}")]
    InvalidPort { spec: String, reason: String },
    #[error("invalid bridge name {0:?}: at most 15 bytes, no '/' or spaces")]
    InvalidBridgeName(String),
    #[error("invalid mac address {0:?}")]
    InvalidMac(String),
    #[error("invalid host entry {0:?}: expected name:ip")]
    InvalidHost(String),
    #[error("address {ip} is outside the subnet {subnet} of network {network}")]
    AddressOutsideSubnet {
        ip: IpAddr,
        subnet: String,
        network: String,
    },
    #[error("address {ip} is the {what} of network {network}")]
    AddressReserved {
        ip: IpAddr,
        what: &'static str,
        network: String,
    },
    #[error("address {ip} of network {network} is already in use by container {owner}")]
    AddressInUse {
        ip: IpAddr,
        network: String,
        owner: String,
    },
    #[error("no free address left in network {network} ({subnet})")]
    SubnetExhausted { network: String, subnet: String },
    #[error("subnet {subnet} of network {network} overlaps the host route to {route}: choose another subnet")]
    SubnetOverlap {
        subnet: String,
        network: String,
        route: String,
    },
    #[error("no free subnet in the default pools (172.17-31.0.0/16, 192.168.x.0/20): every one overlaps a host route or another network: give one with --subnet")]
    NoFreeSubnet,
    #[error("no free IPv6 subnet: every candidate in fd00::/8 overlaps a host route or another network: give one with --subnet")]
    NoFreeSubnet6,
    #[error("network {0} has IPv6 but this kernel has none (booted with ipv6.disable=1?): create it without --ipv6, or enable IPv6")]
    NoIpv6(String),
    #[error("IPv6 subnet {subnet} of network {network}: use a prefix length of /48 to /120")]
    Ipv6Prefix { subnet: String, network: String },
    #[error("address {ip} is IPv6 but network {network} was created without --ipv6: connect it to an IPv6 network, or drop --ip6")]
    NotIpv6 {
        ip: std::net::Ipv6Addr,
        network: String,
    },
    #[error("gateway {gateway} is not a host address of subnet {subnet}: choose one inside it")]
    InvalidGateway { gateway: IpAddr, subnet: String },
    #[error("ip range {range} is not inside subnet {subnet}: choose a range of the subnet")]
    InvalidIpRange { range: String, subnet: String },
    #[error("subnet {subnet} of network {network} overlaps network {other} ({other_subnet}): choose another subnet")]
    NetworkOverlap {
        subnet: String,
        network: String,
        other: String,
        other_subnet: String,
    },
    #[error("host port {host_ip}:{port}/{proto} is already published by container {owner}")]
    PortPublished {
        host_ip: String,
        port: u16,
        proto: &'static str,
        owner: String,
    },
    #[error("host port {addr}/{proto} is not available")]
    PortUnavailable {
        addr: String,
        proto: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("nf_tables is not available: {0}")]
    NoNftables(String),
    #[error("nft {op} in table {table}: {stderr}")]
    Nft {
        op: &'static str,
        table: String,
        stderr: String,
    },
    #[error("network {0:?} not found")]
    NetworkNotFound(String),
    #[error("{} error(s) during teardown: {}", .0.len(), join(.0))]
    Teardown(Vec<Error>),
}

fn join(errors: &[Error]) -> String {
    errors
        .iter()
        .map(|e| husk_fs::error_chain(e))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The errno of a failed kernel request, for callers that tolerate one
    /// (EEXIST when a bridge is already there, ENODEV when a veth is gone).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Netlink { source, .. } | Error::Io { source, .. } => source.raw_os_error(),
            Error::Setns { source, .. } => Some(*source as i32),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
