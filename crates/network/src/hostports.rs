//! Choosing and checking host ports before anything is created: a port is
//! free when none of our rules publishes it and the kernel lets us bind it
//! (so a host service listening there wins, as it does with docker-proxy).

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};

use crate::firewall::port_published;
use crate::ports::{PortSpec, Proto, PublishedPort};
use crate::{Error, Result};

/// Turns `specs` into concrete host ports, given what is already published.
/// Fails on the first port that is taken.
pub fn resolve_ports(
    specs: &[PortSpec],
    published: &[(String, PublishedPort)],
) -> Result<Vec<PublishedPort>> {
    let mut out: Vec<PublishedPort> = Vec::new();
    for spec in specs {
        let p = if spec.host_start == 0 {
            any_port(spec, published, &out)?
        } else {
            from_range(spec, published, &out)?
        };
        out.push(p);
    }
    Ok(out)
}

fn with_port(spec: &PortSpec, host_port: u16) -> PublishedPort {
    PublishedPort {
        host_ip: spec.host_ip,
        host_port,
        container_port: spec.container_port,
        proto: spec.proto,
    }
}

fn check(
    p: &PublishedPort,
    published: &[(String, PublishedPort)],
    chosen: &[PublishedPort],
) -> Result<()> {
    if let Some((owner, _)) = published.iter().find(|(_, q)| q.collides(p)) {
        return Err(port_published(p, owner));
    }
    if chosen.iter().any(|q| q.collides(p)) {
        return Err(port_published(p, "being created"));
    }
    probe(p.host_ip, p.host_port, p.proto).map(drop)
}

fn from_range(
    spec: &PortSpec,
    published: &[(String, PublishedPort)],
    chosen: &[PublishedPort],
) -> Result<PublishedPort> {
    let mut last = None;
    for port in spec.host_start..=spec.host_end {
        let p = with_port(spec, port);
        match check(&p, published, chosen) {
            Ok(()) => return Ok(p),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::InvalidPort {
        spec: format!("{}-{}", spec.host_start, spec.host_end),
        reason: "empty host port range".into(),
    }))
}

/// A kernel-chosen ephemeral port that none of our rules uses either.
fn any_port(
    spec: &PortSpec,
    published: &[(String, PublishedPort)],
    chosen: &[PublishedPort],
) -> Result<PublishedPort> {
    let mut last = None;
    for _ in 0..32 {
        let port = probe(spec.host_ip, 0, spec.proto)?;
        let p = with_port(spec, port);
        match check(&p, published, chosen) {
            Ok(()) => return Ok(p),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(Error::InvalidPort {
        spec: spec.container_port.to_string(),
        reason: "no free host port".into(),
    }))
}

/// Binds and immediately closes the host socket; returns the bound port.
pub fn probe(host_ip: Option<Ipv4Addr>, port: u16, proto: Proto) -> Result<u16> {
    let addr = SocketAddrV4::new(host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED), port);
    let fail = |source| Error::PortUnavailable {
        addr: addr.to_string(),
        proto: proto.as_str(),
        source,
    };
    let local = match proto {
        Proto::Tcp => TcpListener::bind(addr).and_then(|l| l.local_addr()),
        Proto::Udp => UdpSocket::bind(addr).and_then(|s| s.local_addr()),
    }
    .map_err(fail)?;
    Ok(local.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_port_is_refused_and_a_free_one_accepted() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let spec = PortSpec {
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_start: port,
            host_end: port,
            container_port: 80,
            proto: Proto::Tcp,
        };
        let err = resolve_ports(std::slice::from_ref(&spec), &[]).unwrap_err();
        assert!(err.to_string().contains("is not available"), "{err}");
        drop(held);
        let ok = resolve_ports(&[spec], &[]).unwrap();
        assert_eq!(ok[0].host_port, port);
    }

    #[test]
    fn published_ports_collide_and_ephemeral_ports_avoid_them() {
        let taken = PublishedPort {
            host_ip: None,
            host_port: 18080,
            container_port: 80,
            proto: Proto::Tcp,
        };
        let spec = PortSpec {
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_start: 18080,
            host_end: 18080,
            container_port: 81,
            proto: Proto::Tcp,
        };
        let err =
            resolve_ports(std::slice::from_ref(&spec), &[("other".into(), taken)]).unwrap_err();
        assert!(
            err.to_string()
                .contains("already published by container other"),
            "{err}"
        );
        let any = PortSpec {
            host_start: 0,
            host_end: 0,
            ..spec
        };
        let p = resolve_ports(&[any.clone(), any], &[]).unwrap();
        assert_ne!(p[0].host_port, 0);
        assert_ne!(p[0].host_port, p[1].host_port);
    }
}
