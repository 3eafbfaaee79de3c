//! A container on more than one network: `husk network connect` and
//! `disconnect`, and the second and later `--network` flags. A further
//! network gets an interface of its own inside (`eth1`, `eth2`, ...)
//! with its subnet's route only; the first network keeps the default
//! route and the published ports.

use std::net::Ipv6Addr;
use std::path::Path;

use husk_network::driver::extra_veth_name;
use husk_network::network::DEFAULT_NETWORK;
use husk_network::{Endpoint, ExtraLink, NetworkStore, SetupRequest};

use super::{driver_for, hosts, journal, parse_ip, setup_lock, store, user, Mode};
use crate::config::container::NetworkAttachment;
use crate::store::{names, Container, ExtraEndpoint, Paths};
use crate::{Error, Result};

/// Makes the endpoint `a` asks for in the namespace at `handle`, beside
/// the ones already `made`. The caller holds the setup lock.
pub(super) fn endpoint(
    paths: &Paths,
    store: &NetworkStore,
    id: &str,
    handle: &Path,
    a: &NetworkAttachment,
    made: &[ExtraEndpoint],
) -> Result<ExtraEndpoint> {
    let net = store
        .get(&a.name)?
        .ok_or_else(|| user::not_found(&a.name))?;
    let driver = driver_for(store, &net)?;
    let host_veth = (1..=99u8)
        .map(|n| extra_veth_name(id, n))
        .find(|v| !made.iter().any(|x| x.endpoint.host_veth == *v))
        .ok_or_else(|| Error::Conflict {
            id: id.to_string(),
            reason: "it is on 100 networks already".into(),
        })?;
    // The lowest free one: a disconnect leaves a gap that the next
    // connect fills, as docker's does.
    let mut n = 1;
    while made.iter().any(|x| x.endpoint.ifname == format!("eth{n}")) {
        n += 1;
    }
    let ifname = format!("eth{n}");
    let req = SetupRequest {
        container_id: id.to_string(),
        netns: handle.to_path_buf(),
        ip: parse_ip(&a.ip)?,
        ip6: parse_ip6(&a.ip)?,
        mac: None,
        ports: Vec::new(),
        extra: Some(ExtraLink { ifname, host_veth }),
    };
    let ep = driver.setup(&req)?;
    journal(paths, &net, "connect", id);
    Ok(ExtraEndpoint {
        endpoint_id: names::new_id(),
        network_id: net.id.clone(),
        endpoint: ep,
    })
}

/// Frees a further endpoint: its address, and its veth too when the
/// namespace lives on (`now`: a disconnect of a running container, or a
/// namespace another container shares). Returns what failed.
pub(super) fn release(
    paths: &Paths,
    store: &NetworkStore,
    id: &str,
    ep: &Endpoint,
    now: bool,
) -> Vec<String> {
    let mut errors = Vec::new();
    let Ok(Some(net)) = store.get(&ep.network) else {
        return errors;
    };
    let done = driver_for(store, &net).and_then(|d| {
        if now {
            Ok(d.detach(id, ep)?)
        } else {
            // A further endpoint publishes nothing (ports are the first
            // network's): no firewall to look at.
            Ok(d.release_unpublished(id)?)
        }
    });
    match done {
        Ok(()) => journal(paths, &net, "disconnect", id),
        Err(e) => errors.push(husk_fs::error_chain(&e)),
    }
    if net.name != DEFAULT_NETWORK {
        if let Err(e) = hosts::refresh(paths, &net.name, Some(id)) {
            errors.push(husk_fs::error_chain(&e));
        }
    }
    errors
}

/// The IPv6 part of a recorded `--ip`/`--ip6` ("V4", "V6" or "V4,V6":
/// the record keeps both in one field, an address's family tells them
/// apart).
pub(crate) fn parse_ip6(s: &str) -> Result<Option<Ipv6Addr>> {
    let Some(v6) = s.split(',').find(|p| p.contains(':')) else {
        return Ok(None);
    };
    v6.parse().map(Some).map_err(|_| Error::InvalidFlag {
        flag: "--ip6",
        value: v6.to_string(),
        reason: "not an IPv6 address".into(),
    })
}

/// `--ip` and `--ip6` as the record keeps them (see [`parse_ip6`]).
pub fn join_ips(ip: Option<&str>, ip6: Option<&str>) -> String {
    [ip, ip6]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

fn conflict(c: &Container, reason: String) -> Error {
    Error::Conflict {
        id: c.name.clone(),
        reason,
    }
}

/// `husk network connect [--ip IP] [--ip6 IP6] [--alias A]... NETWORK
/// CONTAINER`: recorded for every later start, and made now if it runs.
pub fn connect_to(
    paths: &Paths,
    network: &str,
    container: &str,
    ip: Option<&str>,
    ip6: Option<&str>,
    aliases: &[String],
) -> Result<()> {
    let net = user::resolve(paths, network)?;
    let c = paths.resolve(container)?;
    if !matches!(
        Mode::parse(&c.host_config.network_mode),
        Some(Mode::Bridge | Mode::Named(_))
    ) {
        return Err(conflict(
            &c,
            format!(
                "its network mode is {}: only a container on a network can join another",
                c.host_config.network_mode
            ),
        ));
    }
    let on = c.host_config.network_mode == net.name
        || c.host_config
            .extra_networks
            .iter()
            .any(|a| a.name == net.name);
    if on {
        return Err(conflict(
            &c,
            format!("it is already connected to network {}", net.name),
        ));
    }
    if !aliases.is_empty() && net.name == DEFAULT_NETWORK {
        return Err(Error::InvalidFlag {
            flag: "--alias",
            value: aliases.join(","),
            reason: "network-scoped aliases need a user-defined network, not bridge".into(),
        });
    }
    let ips = join_ips(ip, ip6);
    if let Some(ip) = parse_ip(&ips)? {
        husk_network::Ipam::new(&store(paths)?, &net).validate(ip)?;
    }
    if let Some(ip6) = parse_ip6(&ips)? {
        match husk_network::Ipam::new_v6(&store(paths)?, &net) {
            Some(ipam) => ipam.validate(ip6)?,
            None => {
                return Err(husk_network::Error::NotIpv6 {
                    ip: ip6,
                    network: net.name.clone(),
                }
                .into())
            }
        }
    }
    let a = NetworkAttachment {
        name: net.name.clone(),
        aliases: aliases.to_vec(),
        ip: ips,
    };
    let store = store(paths)?;
    let lock = setup_lock(&store)?;
    let handle = paths.netns(&c.id);
    // The record first: a start from now on connects it too. Then, if
    // the container runs (its namespace handle is there), the endpoint.
    let c = paths.update(&c.id, |r| {
        r.host_config.extra_networks.push(a.clone());
        Ok(())
    })?;
    let c = c.ok_or_else(|| Error::NoSuchContainer {
        name: container.to_string(),
    })?;
    // A container still starting has no endpoint recorded yet: recorded
    // only, the endpoint comes at its next start.
    let running = c.is_running()
        && c.network.is_some()
        && crate::store::container_alive(&c)
        && handle.exists();
    if !running {
        return Ok(());
    }
    let made: Vec<ExtraEndpoint> = c.network.iter().flat_map(|s| s.extra.clone()).collect();
    let x = match endpoint(paths, &store, &c.id, &handle, &a, &made) {
        Ok(x) => x,
        Err(e) => {
            let _ = paths.update(&c.id, |r| {
                r.host_config.extra_networks.retain(|o| o.name != a.name);
                Ok(())
            });
            return Err(e);
        }
    };
    let recorded = paths.update(&c.id, |r| {
        if let Some(s) = r.network.as_mut() {
            s.extra.push(x.clone());
        }
        Ok(())
    });
    drop(lock);
    if let Err(e) = recorded {
        release(paths, &store, &c.id, &x.endpoint, true);
        return Err(e);
    }
    hosts::refresh(paths, &net.name, None)
}

/// `husk network disconnect NETWORK CONTAINER`: forgotten for later
/// starts, and taken away now if it runs. A container's first network
/// stays: it carries its default route and published ports.
pub fn disconnect_from(paths: &Paths, network: &str, container: &str, force: bool) -> Result<()> {
    let net = user::resolve(paths, network)?;
    let c = paths.resolve(container)?;
    if c.host_config.network_mode == net.name {
        return Err(conflict(
            &c,
            format!(
                "network {} is the one it was created on, with its default route and published ports: remove the container, or create it on another network",
                net.name
            ),
        ));
    }
    let configured = c
        .host_config
        .extra_networks
        .iter()
        .any(|a| a.name == net.name);
    let ep = c.network.as_ref().and_then(|s| {
        s.extra
            .iter()
            .find(|x| x.endpoint.network == net.name)
            .cloned()
    });
    if !configured && ep.is_none() {
        if force {
            return Ok(());
        }
        return Err(conflict(
            &c,
            format!("it is not connected to network {}", net.name),
        ));
    }
    let store = store(paths)?;
    // Released before the record forgets it: a failure leaves the record
    // naming the endpoint, so a retry (or the container's stop) releases
    // it again, where the other order would leave an address that no
    // record names held until the container stops.
    if let Some(x) = &ep {
        let failed = release(paths, &store, &c.id, &x.endpoint, true);
        if !failed.is_empty() {
            return Err(conflict(&c, format!("disconnect: {}", failed.join("; "))));
        }
    }
    let lock = setup_lock(&store)?;
    let c = paths
        .update(&c.id, |r| {
            r.host_config.extra_networks.retain(|a| a.name != net.name);
            if let Some(s) = r.network.as_mut() {
                s.extra.retain(|x| x.endpoint.network != net.name);
            }
            Ok(())
        })?
        .ok_or_else(|| Error::NoSuchContainer {
            name: container.to_string(),
        })?;
    drop(lock);
    if ep.is_some() {
        // It names no member of that network any more.
        hosts::rewrite_own(paths, &c)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_and_ip6_share_one_record() {
        assert_eq!(
            join_ips(Some("10.0.0.5"), Some("fd00::5")),
            "10.0.0.5,fd00::5"
        );
        assert_eq!(join_ips(None, Some("fd00::5")), "fd00::5");
        assert_eq!(join_ips(Some(""), None), "");
        assert_eq!(
            parse_ip6("10.0.0.5,fd00::5").unwrap(),
            Some("fd00::5".parse().unwrap())
        );
        assert_eq!(parse_ip6("10.0.0.5").unwrap(), None);
        assert!(parse_ip6("fd00::zz").is_err());
        assert_eq!(
            super::super::parse_ip("10.0.0.5,fd00::5").unwrap(),
            Some("10.0.0.5".parse().unwrap())
        );
    }
}
