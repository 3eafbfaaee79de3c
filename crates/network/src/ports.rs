//! `-p [IP:][HOSTPORT:]CPORT[/PROTO]` parsing, with docker's ranges and
//! docker's error wording (lower-cased).

use std::fmt;
use std::net::Ipv4Addr;

use crate::{Error, Result};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `-p` request for one container port. A host range with a single
/// container port means "any free port of the range" (as docker has it);
/// `host_start == 0` means "any free port".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub host_ip: Option<Ipv4Addr>,
    pub host_start: u16,
    pub host_end: u16,
    pub container_port: u16,
    pub proto: Proto,
}

/// A host port bound to a container port, after any choice was made.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PublishedPort {
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}

impl PublishedPort {
    /// Whether two publications would claim the same host socket.
    pub fn collides(&self, other: &PublishedPort) -> bool {
        self.proto == other.proto
            && self.host_port == other.host_port
            && match (self.host_ip, other.host_ip) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// `docker port`'s form: `80/tcp -> 0.0.0.0:8080`.
impl fmt::Display for PublishedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ip = self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        write!(
            f,
            "{}/{} -> {ip}:{}",
            self.container_port, self.proto, self.host_port
        )
    }
}

/// Parses one `-p` argument into one spec per container port of its range.
pub fn parse_port_spec(spec: &str) -> Result<Vec<PortSpec>> {
    let bad = |reason: String| Error::InvalidPort {
        spec: spec.to_string(),
        reason,
    };
    let (addr_ports, proto) = match spec.rsplit_once('/') {
        Some((rest, p)) => (rest, p),
        None => (spec, "tcp"),
    };
    let proto = match proto.to_ascii_lowercase().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "sctp" => return Err(bad("sctp is not supported".into())),
        _ => return Err(bad(format!("invalid proto: {proto}"))),
    };
    if addr_ports.starts_with('[') {
        return Err(bad("ipv6 host addresses are not supported yet".into()));
    }
    let parts: Vec<&str> = addr_ports.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        _ => return Err(bad(format!("invalid port specification: {spec:?}"))),
    };
    if container.is_empty() {
        return Err(bad(format!("no port specified: {spec}<empty>")));
    }
    let host_ip = if ip.is_empty() {
        None
    } else {
        let parsed: Ipv4Addr = ip
            .parse()
            .map_err(|_| bad(format!("invalid ip address: {ip}")))?;
        // 0.0.0.0 means every address, as no address at all does.
        (!parsed.is_unspecified()).then_some(parsed)
    };
    let (c_start, c_end) =
        parse_range(container).ok_or_else(|| bad(format!("invalid containerPort: {container}")))?;
    if c_start == 0 {
        return Err(bad(format!("invalid containerPort: {container}")));
    }
    let (h_start, h_end) = if host.is_empty() {
        (0, 0)
    } else {
        let r = parse_range(host).ok_or_else(|| bad(format!("invalid hostPort: {host}")))?;
        if r.0 == 0 {
            return Err(bad(format!("invalid hostPort: {host}")));
        }
        r
    };
    let c_len = c_end - c_start;
    let h_len = h_end - h_start;
    if h_start != 0 && c_len != 0 && c_len != h_len {
        return Err(bad(format!(
            "invalid ranges specified for container and host ports: {container} and {host}"
        )));
    }
    Ok((0..=c_len)
        .map(|i| {
            let (host_start, host_end) = match (h_start, c_len) {
                (0, _) => (0, 0),
                (_, 0) => (h_start, h_end),
                _ => (h_start + i, h_start + i),
            };
            PortSpec {
                host_ip,
                host_start,
                host_end,
                container_port: c_start + i,
                proto,
            }
        })
        .collect())
}

/// `N` or `N-M` with N <= M.
fn parse_range(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.parse().ok()?;
    let b: u16 = b.parse().ok()?;
    (a <= b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> PortSpec {
        let mut v = parse_port_spec(spec).unwrap();
        assert_eq!(v.len(), 1, "{spec}");
        v.remove(0)
    }

    #[test]
    fn docker_forms() {
        let p = one("80");
        assert_eq!(
            (p.host_start, p.container_port, p.proto),
            (0, 80, Proto::Tcp)
        );
        let p = one("8080:80/udp");
        assert_eq!(
            (p.host_start, p.host_end, p.container_port),
            (8080, 8080, 80)
        );
        assert_eq!(p.proto, Proto::Udp);
        let p = one("127.0.0.1:8080:80");
        assert_eq!(p.host_ip, Some(Ipv4Addr::LOCALHOST));
        let p = one("127.0.0.1::80");
        assert_eq!((p.host_ip, p.host_start), (Some(Ipv4Addr::LOCALHOST), 0));
        let p = one("0.0.0.0:1:2/TCP");
        assert_eq!((p.host_ip, p.host_start, p.container_port), (None, 1, 2));
    }

    #[test]
    fn ranges_expand_pairwise_or_pick_from_host_range() {
        let v = parse_port_spec("8000-8002:80-82").unwrap();
        let pairs: Vec<_> = v.iter().map(|p| (p.host_start, p.container_port)).collect();
        assert_eq!(pairs, vec![(8000, 80), (8001, 81), (8002, 82)]);
        let p = one("9000-9010:80");
        assert_eq!((p.host_start, p.host_end), (9000, 9010));
        let v = parse_port_spec("80-81").unwrap();
        assert_eq!(v.len(), 2);
        assert!(v.iter().all(|p| p.host_start == 0));
    }

    #[test]
    fn docker_errors() {
        let cases = [
            ("", "no port specified"),
            ("8080:", "no port specified"),
            ("x", "invalid containerPort: x"),
            ("0", "invalid containerPort: 0"),
            ("70000", "invalid containerPort"),
            ("a:80", "invalid hostPort: a"),
            ("80/icmp", "invalid proto: icmp"),
            ("1.2.3:80:80", "invalid ip address: 1.2.3"),
            ("8000-8002:80-81", "invalid ranges specified"),
            ("90-80", "invalid containerPort: 90-80"),
            ("1:2:3:4", "invalid port specification"),
        ];
        for (spec, want) in cases {
            let err = parse_port_spec(spec).unwrap_err().to_string();
            assert!(err.contains(want), "{spec:?}: {err}");
        }
    }

    #[test]
    fn collisions_respect_the_host_address() {
        let p = |ip: Option<Ipv4Addr>, port, proto| PublishedPort {
            host_ip: ip,
            host_port: port,
            container_port: 1,
            proto,
        };
        let lo = Some(Ipv4Addr::LOCALHOST);
        let other = Some(Ipv4Addr::new(127, 0, 0, 2));
        assert!(p(None, 80, Proto::Tcp).collides(&p(lo, 80, Proto::Tcp)));
        assert!(!p(lo, 80, Proto::Tcp).collides(&p(other, 80, Proto::Tcp)));
        assert!(!p(lo, 80, Proto::Tcp).collides(&p(lo, 80, Proto::Udp)));
        assert!(!p(lo, 80, Proto::Tcp).collides(&p(lo, 81, Proto::Tcp)));
        assert_eq!(
            p(None, 8080, Proto::Udp).to_string(),
            "1/udp -> 0.0.0.0:8080"
        );
    }
}
