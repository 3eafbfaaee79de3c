//! Name resolution on a user-defined network: every running member's
//! /etc/hosts names every other member (container name, short id,
//! `--network-alias`es), rewritten the moment one joins, leaves or is
//! renamed.
//!
//! Why files and not a DNS responder on the gateway (docker's embedded
//! DNS, aardvark-dns): husk has no daemon, and a responder would be one
//! more process per network to start, keep alive, find after a crash and
//! stop with the last container; a file needs none of that, works with
//! every libc (and the static busybox of the tests), and the host's
//! resolvers stay in resolv.conf for everything else. The cost: a rewrite
//! per member at each change (a few files), and a program that caches
//! its lookups keeps what it cached, as it would with a DNS TTL.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

use husk_network::dnsfiles::{self, HostEntry};
use husk_network::network::DEFAULT_NETWORK;

use crate::store::{Container, NetworkState, Paths};
use crate::Result;

/// The containers of this engine whose init runs: who may be named.
fn running(paths: &Paths) -> Result<Vec<Container>> {
    Ok(paths
        .all()?
        .into_iter()
        .filter(|c| c.is_running() && crate::store::container_alive(c))
        .collect())
}

/// The user-defined networks `state` has endpoints on (docker resolves
/// names on those only, never on the default bridge).
fn user_networks(state: Option<&NetworkState>) -> Vec<String> {
    state
        .into_iter()
        .flat_map(|s| s.endpoints())
        .map(|e| e.network.clone())
        .filter(|n| n != DEFAULT_NETWORK)
        .collect()
}

/// The `--network-alias`es `c` asked for on `network`.
fn aliases_on<'a>(c: &'a Container, network: &str) -> &'a [String] {
    let hc = &c.host_config;
    if hc.network_mode == network {
        return &hc.network_aliases;
    }
    hc.extra_networks
        .iter()
        .find(|a| a.name == network)
        .map_or(&[], |a| a.aliases.as_slice())
}

/// Container id → IPv6 address, per `--ipv6` network: their IPv6 books
/// (the endpoints record IPv4 only).
type Books6 = BTreeMap<String, BTreeMap<String, Ipv6Addr>>;

fn books6(paths: &Paths, networks: &[String]) -> Result<Books6> {
    let store = super::store(paths)?;
    let mut out = Books6::new();
    for n in networks {
        let Some(net) = store.get(n)? else { continue };
        let Some(ipam) = husk_network::Ipam::new_v6(&store, &net) else {
            continue;
        };
        let book = ipam.allocations()?.into_iter().map(|(ip, id)| (id, ip));
        out.insert(n.clone(), book.collect());
    }
    Ok(out)
}

/// `ip<TAB>name shortid aliases...` for each container of `all` but
/// `me` that has an endpoint on `network` (and a second line with its
/// IPv6 address on a `--ipv6` network).
fn member_lines(all: &[Container], me: &str, network: &str, v6: &Books6) -> String {
    let mut out = String::new();
    for m in all.iter().filter(|m| m.id != me) {
        let Some(ep) = m.network.as_ref().and_then(|s| s.on(network)) else {
            continue;
        };
        let mut names = vec![m.name.as_str(), m.short_id()];
        for a in aliases_on(m, network) {
            if !names.contains(&a.as_str()) {
                names.push(a);
            }
        }
        out.push_str(&format!("{}\t{}\n", ep.ip, names.join(" ")));
        if let Some(ip6) = v6.get(network).and_then(|b| b.get(&m.id)) {
            out.push_str(&format!("{ip6}\t{}\n", names.join(" ")));
        }
    }
    out
}

fn render(
    c: &Container,
    own: IpAddr,
    networks: &[String],
    all: &[Container],
    v6: &Books6,
) -> String {
    // Checked at create (and by `content` at every start).
    let extra: Vec<HostEntry> = c
        .host_config
        .extra_hosts
        .iter()
        .filter_map(|h| dnsfiles::parse_add_host(h).ok())
        .collect();
    let mut s = dnsfiles::hosts_content(&c.config.hostname, Some(own), &extra);
    // Its own IPv6 addresses name it too, as docker's file does.
    let mut own6: Vec<&Ipv6Addr> = v6.values().filter_map(|b| b.get(&c.id)).collect();
    own6.dedup();
    for ip6 in own6 {
        s.push_str(&format!("{ip6}\t{}\n", c.config.hostname));
    }
    for n in networks {
        s.push_str(&member_lines(all, &c.id, n, v6));
    }
    s
}

/// The /etc/hosts of `c` starting with the endpoints of `state`, its
/// own address `own`: docker's file, then a line for each running member
/// of each user-defined network it is on.
pub fn content(
    paths: &Paths,
    c: &Container,
    state: Option<&NetworkState>,
    own: IpAddr,
) -> Result<String> {
    for h in &c.host_config.extra_hosts {
        dnsfiles::parse_add_host(h)?;
    }
    let networks = user_networks(state);
    let all = if networks.is_empty() {
        Vec::new()
    } else {
        running(paths)?
    };
    let v6 = books6(paths, &networks)?;
    Ok(render(c, own, &networks, &all, &v6))
}

/// Rewrites the /etc/hosts of every running member of `network` (but
/// `leaving`, whose names go from the others' files), under a lock of
/// the network's so that the last writer wrote from the latest records.
pub fn refresh(paths: &Paths, network: &str, leaving: Option<&str>) -> Result<()> {
    let store = super::store(paths)?;
    let lock = store.root().join(format!("hosts-{network}.lock"));
    let _lock = husk_fs::Lock::exclusive(&lock)?;
    let all: Vec<Container> = running(paths)?
        .into_iter()
        .filter(|m| Some(m.id.as_str()) != leaving)
        .collect();
    let members = all
        .iter()
        .filter(|m| m.network.as_ref().is_some_and(|s| s.on(network).is_some()));
    write_all(paths, members, &all)
}

/// Rewrites `c`'s own /etc/hosts (after it left a network: no member of
/// that network rewrites it any more).
pub fn rewrite_own(paths: &Paths, c: &Container) -> Result<()> {
    let all = running(paths)?;
    write_all(paths, std::iter::once(c), &all)
}

fn write_all<'a>(
    paths: &Paths,
    members: impl Iterator<Item = &'a Container>,
    all: &[Container],
) -> Result<()> {
    let mut failed = Vec::new();
    for m in members {
        let Some(own) = m
            .network
            .as_ref()
            .and_then(|s| s.endpoints().next())
            .map(|e| IpAddr::V4(e.ip))
        else {
            continue;
        };
        let networks = user_networks(m.network.as_ref());
        let path = paths.dir(&m.id).join("hosts");
        let written = books6(paths, &networks)
            .map_err(|e| husk_fs::error_chain(&e))
            .and_then(|v6| {
                rewrite(&path, &render(m, own, &networks, all, &v6))
                    .map_err(|e| husk_fs::Chain(&e).to_string())
            });
        if let Err(e) = written {
            failed.push(format!("{}: {e}", m.name));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(crate::Error::Refused {
            msg: format!("update /etc/hosts of {}", failed.join("; ")),
        })
    }
}

/// A member whose file is gone (removed meanwhile) is no error.
fn rewrite(path: &Path, content: &str) -> husk_network::Result<()> {
    match dnsfiles::rewrite_in_place(path, content) {
        Err(e) if e.errno() == Some(libc::ENOENT) => Ok(()),
        r => r,
    }
}
