//! Published and exposed ports: the typed form and the short syntax
//! (`[HOST_IP:][HOST:]CONTAINER[/PROTO]`, with ranges).

use std::fmt;
use std::net::IpAddr;

use serde::{Serialize, Serializer};

/// A port published from the host to a container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// The container port.
    pub target: u16,
    /// The host port or range; `None` lets the engine pick one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<PortRange>,
    /// The host address to bind; `None` is all addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<IpAddr>,
    pub protocol: Protocol,
    /// `host` or `ingress` (swarm's routing mesh; plain engines treat both alike).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// A human-readable name (long syntax only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The application protocol, e.g. `http` (long syntax only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

/// A port or an inclusive range of ports (`8000-8010`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    /// A range of one port.
    pub fn single(port: u16) -> PortRange {
        PortRange {
            start: port,
            end: port,
        }
    }

    /// How many ports the range holds.
    pub fn len(&self) -> usize {
        usize::from(self.end - self.start) + 1
    }

    /// Never true: a range holds at least one port (here for clippy's
    /// `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Parses `80` or `8000-8010`.
    pub fn parse(s: &str) -> Result<PortRange, String> {
        let port = |p: &str| -> Result<u16, String> {
            match p.trim().parse::<u16>() {
                Ok(0) => Err("port 0 is not a port".to_string()),
                Ok(n) => Ok(n),
                Err(_) => Err(format!("{p:?} is not a port number (1-65535)")),
            }
        };
        match s.split_once('-') {
            Some((a, b)) => {
                let (start, end) = (port(a)?, port(b)?);
                if end < start {
                    return Err(format!("range {s:?} ends before it starts"));
                }
                Ok(PortRange { start, end })
            }
            None => Ok(PortRange::single(port(s)?)),
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

impl Serialize for PortRange {
    // A string, as `docker compose config` prints `published`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// Parses `tcp`, `udp` or `sctp` (any case).
    pub fn parse(s: &str) -> Result<Protocol, String> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "sctp" => Ok(Protocol::Sctp),
            _ => Err(format!("unknown protocol {s:?}: use tcp, udp or sctp")),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        })
    }
}

/// A container port (or range) exposed to other services, not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExposedPort {
    pub ports: PortRange,
    pub protocol: Protocol,
}

impl ExposedPort {
    /// Parses `80`, `8000-8010`, `53/udp`.
    pub fn parse(s: &str) -> Result<ExposedPort, String> {
        let (ports, protocol) = match s.split_once('/') {
            Some((p, proto)) => (p, Protocol::parse(proto)?),
            None => (s, Protocol::Tcp),
        };
        Ok(ExposedPort {
            ports: PortRange::parse(ports)?,
            protocol,
        })
    }
}

impl fmt::Display for ExposedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.protocol {
            Protocol::Tcp => write!(f, "{}", self.ports),
            p => write!(f, "{}/{p}", self.ports),
        }
    }
}

impl Serialize for ExposedPort {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The hint every short-syntax port error ends with.
pub(crate) const PORT_HINT: &str =
    "use [[HOST_IP:]HOST:]CONTAINER[/PROTO], e.g. 8080:80 or 127.0.0.1:53:53/udp";

/// Parses the short syntax into one [`Port`] per container port (a
/// container range becomes several, paired with the host range).
pub(crate) fn parse_short_port(spec: &str) -> Result<Vec<Port>, String> {
    let (addr, protocol) = match spec.rsplit_once('/') {
        Some((a, p)) => (
            a,
            Protocol::parse(p).map_err(|e| format!("{e}, e.g. 53:53/udp"))?,
        ),
        None => (spec, Protocol::Tcp),
    };
    // Split from the right: the host IP may itself hold colons (IPv6).
    let mut parts = addr.rsplitn(3, ':');
    let target = parts.next().unwrap_or_default();
    let published = parts.next();
    let host_ip = parts.next();
    let target =
        PortRange::parse(target).map_err(|e| format!("container port: {e}: {PORT_HINT}"))?;
    let published = match published {
        None | Some("") => None,
        Some(p) => Some(PortRange::parse(p).map_err(|e| format!("host port: {e}: {PORT_HINT}"))?),
    };
    let host_ip = match host_ip {
        None | Some("") => None,
        Some(ip) => {
            let bare = ip
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .unwrap_or(ip);
            Some(
                bare.parse::<IpAddr>()
                    .map_err(|_| format!("host IP {ip:?} is not an IP address: {PORT_HINT}"))?,
            )
        }
    };
    let port = |target: u16, published: Option<PortRange>| Port {
        target,
        published,
        host_ip,
        protocol,
        mode: None,
        name: None,
        app_protocol: None,
    };
    if target.len() == 1 {
        return Ok(vec![port(target.start, published)]);
    }
    match published {
        None => Ok((target.start..=target.end).map(|t| port(t, None)).collect()),
        Some(p) if p.len() == target.len() => Ok((target.start..=target.end)
            .zip(p.start..=p.end)
            .map(|(t, h)| port(t, Some(PortRange::single(h))))
            .collect()),
        Some(p) => Err(format!(
            "host range {p} and container range {target} differ in size: give both the same number of ports"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> Port {
        let mut v = parse_short_port(spec).unwrap();
        assert_eq!(v.len(), 1, "{spec}");
        v.remove(0)
    }

    #[test]
    fn short_syntax() {
        let p = one("8080:80");
        assert_eq!(
            (p.target, p.published, p.host_ip, p.protocol),
            (80, Some(PortRange::single(8080)), None, Protocol::Tcp)
        );
        let p = one("127.0.0.1:8080:80/udp");
        assert_eq!(p.host_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(p.protocol, Protocol::Udp);
        let p = one("80");
        assert_eq!((p.target, p.published), (80, None));
        let p = one("127.0.0.1::80");
        assert_eq!(p.published, None);
        assert!(p.host_ip.is_some());
        let p = one("[::1]:8080:80");
        assert_eq!(p.host_ip, Some("::1".parse().unwrap()));
        let p = one("::1:8080:80");
        assert_eq!(p.host_ip, Some("::1".parse().unwrap()));
        let p = one("8000-8010:80");
        assert_eq!(
            p.published,
            Some(PortRange {
                start: 8000,
                end: 8010
            })
        );
        assert_eq!(p.published.unwrap().to_string(), "8000-8010");
    }

    #[test]
    fn ranges_pair_up() {
        let v = parse_short_port("8000-8001:80-81").unwrap();
        assert_eq!(
            v.iter()
                .map(|p| (p.target, p.published.unwrap().start))
                .collect::<Vec<_>>(),
            [(80, 8000), (81, 8001)]
        );
        let v = parse_short_port("3000-3002").unwrap();
        assert_eq!(
            v.iter().map(|p| p.target).collect::<Vec<_>>(),
            [3000, 3001, 3002]
        );
        let err = parse_short_port("8000-8002:80-81").unwrap_err();
        assert!(err.contains("differ in size"), "{err}");
    }

    #[test]
    fn errors() {
        for (spec, needle) in [
            ("80:x", "container port"),
            ("x:80", "host port"),
            ("1.2.3:80:80", "not an IP"),
            ("80/icmp", "unknown protocol"),
            ("0", "port 0"),
            ("70000", "not a port number"),
            ("90-80", "ends before"),
        ] {
            let err = parse_short_port(spec).unwrap_err();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }

    #[test]
    fn expose() {
        assert_eq!(ExposedPort::parse("80").unwrap().to_string(), "80");
        assert_eq!(ExposedPort::parse("53/udp").unwrap().to_string(), "53/udp");
        assert_eq!(
            ExposedPort::parse("8000-8010/tcp").unwrap().to_string(),
            "8000-8010"
        );
        assert!(ExposedPort::parse("x").is_err());
    }
}
