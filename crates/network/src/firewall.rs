//! nftables rules in one table of husk's own (`ip <table>`); no other table
//! is ever read or touched.
//!
//! Layout (the shape netavark uses):
//! - `prerouting` / `output` (nat hooks): `fib daddr type local jump dnat`,
//!   so only traffic addressed to this host is redirected;
//! - `dnat`: one `jump ctr-<id>` per container with published ports;
//! - `ctr-<id>`: that container's DNAT rules, so teardown deletes exactly
//!   them by deleting the chain;
//! - `forward` (filter) and the set `bridges`: per network, a drop of
//!   what its bridge would route into another of ours (and, internal,
//!   anywhere else);
//! - `postrouting` (nat): per network, masquerade of the subnet going
//!   elsewhere, of DNAT'ed traffic between its containers (hairpin), and of
//!   127.0.0.0/8 leaving through the bridge (from the host's 127.0.0.1,
//!   which also needs route_localnet).
//!
//! Every rule carries a comment naming its owner; published ports are read
//! back from those comments, so the table itself is the record.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::firewall6;
use crate::network::Network;
use crate::nft::{matches, payload, prefix, Listing, Nft, FAMILY, FAMILY6};
use crate::ports::{Proto, PublishedPort};
use crate::{Error, Result};

const DNAT_CHAIN: &str = "dnat";
/// Filter chain on the forward hook: isolation between networks.
pub(crate) const FORWARD_CHAIN: &str = "forward";
/// Every bridge of every network of ours, for the isolation rules.
pub(crate) const BRIDGES_SET: &str = "bridges";
const CTR_PREFIX: &str = "ctr-";
const CTR_TAG: &str = "husk-ctr ";

/// The chain that holds container `id`'s published ports (for `x-ray`).
pub fn container_chain(id: &str) -> String {
    format!("{CTR_PREFIX}{id}")
}

#[derive(Clone, Debug)]
pub struct Firewall {
    nft: Nft,
    /// The same table name in the ip6 family (`firewall6`).
    nft6: Nft,
    lock: PathBuf,
}

impl Firewall {
    /// `table` is the name of our table; `lock_dir` holds the lock that
    /// serialises read-modify-write cycles on it between processes.
    pub fn new(table: &str, lock_dir: &Path) -> Self {
        Firewall {
            nft: Nft {
                family: FAMILY,
                table: table.into(),
            },
            nft6: Nft {
                family: FAMILY6,
                table: table.into(),
            },
            lock: lock_dir.join(format!("nft-{table}.lock")),
        }
    }

    pub fn table(&self) -> &str {
        &self.nft.table
    }

    /// Fails with `NoNftables` when this kernel (or host) cannot do nftables.
    pub fn check_available(&self) -> Result<()> {
        self.nft
            .run("list tables", &["-j", "list", "tables"], None)
            .map(drop)
    }

    /// One listing of the table, for a container's setup: what is
    /// published, what the network still lacks, and the container's ports,
    /// applied by `commit` in one batch. With `lock` the table stays locked
    /// from this listing to the commit, so what the listing showed free is
    /// still free when the batch lands (needed when publishing ports).
    pub fn session(&self, lock: bool) -> Result<Session<'_>> {
        let lock = if lock {
            Some(husk_fs::Lock::exclusive(&self.lock)?)
        } else {
            None
        };
        Ok(Session {
            fw: self,
            listing: self.nft.list()?,
            listing6: None,
            lock,
            networks: Vec::new(),
            containers: Vec::new(),
        })
    }

    /// Creates the table, base chains and the network's masquerade and
    /// isolation rules, each only if missing.
    pub fn ensure_network(&self, net: &Network) -> Result<()> {
        let mut s = self.session(true)?;
        s.ensure_network(net)?;
        s.commit()
    }

    /// The commands adding what of the network's rules `listing` lacks.
    fn network_additions(&self, listing: &Listing, net: &Network) -> Vec<Value> {
        let mut batch = Vec::new();
        for hook in ["prerouting", "output"] {
            let tag = format!("husk-hook {hook}");
            if !listing.has_comment(&tag) {
                batch.push(self.nft.add_rule(hook, &tag, fib_local_jump()));
            }
        }
        let tag = net_tag(&net.bridge);
        // An internal network has no way out: nothing to masquerade.
        if !net.internal && !listing.has_comment(&tag) {
            batch.extend(
                masquerade_rules(net)
                    .into_iter()
                    .map(|expr| self.nft.add_rule("postrouting", &tag, expr)),
            );
        }
        if !in_bridges(listing, &net.bridge) {
            batch.push(bridge_element(&self.nft, "add", &net.bridge));
        }
        let iso = iso_tag(&net.bridge);
        if !listing.has_comment(&iso) {
            batch.extend(
                isolation_rules(net)
                    .into_iter()
                    .map(|expr| self.nft.add_rule(FORWARD_CHAIN, &iso, expr)),
            );
        }
        batch
    }

    /// The commands replacing the container's DNAT chain with one for
    /// `ports` to `ip`.
    fn container_additions(
        &self,
        listing: &Listing,
        id: &str,
        ip: Ipv4Addr,
        ports: &[PublishedPort],
    ) -> Vec<Value> {
        let chain = container_chain(id);
        let mut batch = self.removal(listing, id);
        batch.push(json!({"add": {"chain": {
            "family": FAMILY, "table": self.nft.table, "name": chain
        }}}));
        for p in ports {
            batch.push(
                self.nft
                    .add_rule(&chain, &port_tag(id, p), dnat_rule(ip, p)),
            );
        }
        batch.push(self.nft.add_rule(
            DNAT_CHAIN,
            &format!("{CTR_TAG}{id}"),
            vec![json!({"jump": {"target": chain}})],
        ));
        batch
    }

    /// Removes a network's masquerade and isolation rules and forgets its
    /// bridge.
    pub fn remove_network(&self, net: &Network) -> Result<()> {
        let _lock = husk_fs::Lock::exclusive(&self.lock)?;
        let mut batch = network_removal(&self.nft, &self.nft.list()?, net);
        if net.ipv6.is_some() {
            batch.extend(network_removal(&self.nft6, &self.nft6.list()?, net));
        }
        self.nft.apply("remove network rules", batch)
    }

    /// Every published port in our table, with the container that holds it.
    pub fn published(&self) -> Result<Vec<(String, PublishedPort)>> {
        Ok(published_in(&self.nft.list()?))
    }

    /// The rules of container `id`'s chain as `nft list chain` prints
    /// them, one per line (`tcp dport 8080 dnat to 172.17.0.2:80`); none
    /// when it publishes nothing.
    pub fn container_rules(&self, id: &str) -> Result<Vec<String>> {
        let chain = container_chain(id);
        if !self.nft.list()?.chains.contains(&chain) {
            return Ok(Vec::new());
        }
        let args = ["list", "chain", FAMILY, &self.nft.table, &chain];
        let out = self.nft.run("list chain", &args, None)?;
        Ok(out
            .lines()
            .map(str::trim)
            .filter(|l| l.contains("dnat"))
            .map(String::from)
            .collect())
    }

    /// Ids of the containers that have rules in our table.
    pub fn containers(&self) -> Result<Vec<String>> {
        let listing = self.nft.list()?;
        let from_jumps = listing
            .rules
            .iter()
            .filter_map(|r| r.comment.strip_prefix(CTR_TAG));
        let from_chains = listing
            .chains
            .iter()
            .filter_map(|c| c.strip_prefix(CTR_PREFIX));
        let mut ids: Vec<String> = from_jumps.chain(from_chains).map(String::from).collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Publishes `ports` of the container at `ip`, failing (and adding
    /// nothing) when one of them is already published by anyone.
    pub fn add_container(&self, id: &str, ip: Ipv4Addr, ports: &[PublishedPort]) -> Result<()> {
        if ports.is_empty() {
            return Ok(());
        }
        let mut s = self.session(true)?;
        s.add_container(id, ip, ports)?;
        s.commit()
    }

    /// Deletes exactly the container's rules and chain; absent ones are fine.
    pub fn remove_container(&self, id: &str) -> Result<()> {
        let _lock = husk_fs::Lock::exclusive(&self.lock)?;
        let batch = self.removal(&self.nft.list()?, id);
        self.nft.apply("unpublish ports", batch)
    }

    /// Commands deleting the container's jump rule and chain, if present.
    fn removal(&self, listing: &Listing, id: &str) -> Vec<Value> {
        let tag = format!("{CTR_TAG}{id}");
        let chain = format!("{CTR_PREFIX}{id}");
        let mut batch: Vec<Value> = listing
            .rules
            .iter()
            .filter(|r| r.comment == tag)
            .map(|r| self.nft.delete_rule(r))
            .collect();
        if listing.chains.contains(&chain) {
            let c = json!({"family": FAMILY, "table": self.nft.table, "name": chain});
            batch.push(json!({"flush": {"chain": c.clone()}}));
            batch.push(json!({"delete": {"chain": c}}));
        }
        batch
    }

    /// Drops the whole table (tests, removal of the last network).
    pub fn delete_table(&self) -> Result<()> {
        let _lock = husk_fs::Lock::exclusive(&self.lock)?;
        let mut batch = Vec::new();
        for family in [FAMILY, FAMILY6] {
            let table = json!({"table": {"family": family, "name": self.nft.table}});
            // Adding first makes the delete succeed whether or not it existed.
            batch.extend([json!({ "add": table.clone() }), json!({ "delete": table })]);
        }
        self.nft.apply("delete table", batch)
    }

    /// `add table` and `add chain` are no-ops for what already exists, so
    /// every batch can start with them.
    fn skeleton(&self) -> Vec<Value> {
        let t = &self.nft.table;
        let base = |name: &str, prio: i32| {
            json!({"add": {"chain": {
                "family": FAMILY, "table": t, "name": name,
                "type": "nat", "hook": name, "prio": prio, "policy": "accept"
            }}})
        };
        vec![
            json!({"add": {"table": {"family": FAMILY, "name": t}}}),
            base("prerouting", -100),
            base("output", -100),
            base("postrouting", 100),
            json!({"add": {"chain": {"family": FAMILY, "table": t, "name": DNAT_CHAIN}}}),
            json!({"add": {"chain": {
                "family": FAMILY, "table": t, "name": FORWARD_CHAIN,
                "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"
            }}}),
            json!({"add": {"set": {
                "family": FAMILY, "table": t, "name": BRIDGES_SET, "type": "ifname"
            }}}),
        ]
    }
}

/// A listing of our table and what a setup wants added to it; see
/// `Firewall::session`. Nothing reaches the kernel before `commit`.
pub struct Session<'a> {
    fw: &'a Firewall,
    listing: Listing,
    /// The ip6 table's, listed only once a network with IPv6 is ensured.
    listing6: Option<Listing>,
    lock: Option<husk_fs::Lock>,
    networks: Vec<Network>,
    containers: Vec<(String, Ipv4Addr, Vec<PublishedPort>)>,
}

impl Session<'_> {
    /// Every published port, with the container that holds it, except
    /// `id`'s own (setting up again replaces them).
    pub fn published_by_others(&self, id: &str) -> Vec<(String, PublishedPort)> {
        others(&self.listing, id)
    }

    /// Asks for whatever of the network's rules the tables lack (the ip6
    /// one is listed for a network with IPv6 only).
    pub fn ensure_network(&mut self, net: &Network) -> Result<()> {
        let mut missing = !self.fw.network_additions(&self.listing, net).is_empty();
        if net.ipv6.is_some() {
            let listing6 = match self.listing6.take() {
                Some(l) => l,
                None => self.fw.nft6.list()?,
            };
            missing |= !firewall6::additions(&self.fw.nft6, &listing6, net).is_empty();
            self.listing6 = Some(listing6);
        }
        if missing {
            self.networks.push(net.clone());
        }
        Ok(())
    }

    /// Asks for the container's DNAT chain, replacing an earlier one; fails
    /// when another container publishes one of `ports`.
    pub fn add_container(&mut self, id: &str, ip: Ipv4Addr, ports: &[PublishedPort]) -> Result<()> {
        if ports.is_empty() {
            return Ok(());
        }
        check_free(&self.listing, id, ports)?;
        self.containers.push((id.to_string(), ip, ports.to_vec()));
        Ok(())
    }

    /// Applies what was asked, if anything, as one transaction. An
    /// unlocked session looks again under the lock first: another process
    /// may have added the same network rules or taken a port since.
    pub fn commit(self) -> Result<()> {
        if self.networks.is_empty() && self.containers.is_empty() {
            return Ok(());
        }
        let fw = self.fw;
        let v6 = self.networks.iter().any(|n| n.ipv6.is_some());
        let (_lock, listing, listing6) = match self.lock {
            Some(held) => (held, self.listing, self.listing6),
            None => {
                let held = husk_fs::Lock::exclusive(&fw.lock)?;
                (held, fw.nft.list()?, None)
            }
        };
        let listing6 = match listing6 {
            Some(l) => Some(l),
            None if v6 => Some(fw.nft6.list()?),
            None => None,
        };
        let mut batch = Vec::new();
        for net in &self.networks {
            batch.extend(fw.network_additions(&listing, net));
        }
        for (id, ip, ports) in &self.containers {
            check_free(&listing, id, ports)?;
            batch.extend(fw.container_additions(&listing, id, *ip, ports));
        }
        let mut batch6 = Vec::new();
        if let Some(l6) = &listing6 {
            for net in &self.networks {
                batch6.extend(firewall6::additions(&fw.nft6, l6, net));
            }
        }
        // Both families in one `nft -f`: one transaction, one process.
        let mut all = Vec::new();
        if !batch.is_empty() {
            all.extend(fw.skeleton());
            all.extend(batch);
        }
        if !batch6.is_empty() {
            all.extend(firewall6::skeleton(&fw.nft6));
            all.extend(batch6);
        }
        fw.nft.apply("set up rules", all)
    }
}

/// The commands removing `net`'s rules and its element of `bridges`
/// from the table `nft` names (either family: the tags are the same).
pub(crate) fn network_removal(nft: &Nft, listing: &Listing, net: &Network) -> Vec<Value> {
    let tags = [net_tag(&net.bridge), iso_tag(&net.bridge)];
    let mut batch: Vec<Value> = listing
        .rules
        .iter()
        .filter(|r| tags.contains(&r.comment))
        .map(|r| nft.delete_rule(r))
        .collect();
    // Deleting an absent element fails the whole batch.
    if in_bridges(listing, &net.bridge) {
        batch.push(bridge_element(nft, "delete", &net.bridge));
    }
    batch
}

pub(crate) fn in_bridges(listing: &Listing, bridge: &str) -> bool {
    listing
        .sets
        .get(BRIDGES_SET)
        .is_some_and(|b| b.iter().any(|x| x == bridge))
}

pub(crate) fn bridge_element(nft: &Nft, verb: &str, bridge: &str) -> Value {
    json!({verb: {"element": {
        "family": nft.family, "table": nft.table, "name": BRIDGES_SET, "elem": [bridge]
    }}})
}

fn others(listing: &Listing, id: &str) -> Vec<(String, PublishedPort)> {
    let mut all = published_in(listing);
    all.retain(|(owner, _)| owner != id);
    all
}

fn check_free(listing: &Listing, id: &str, ports: &[PublishedPort]) -> Result<()> {
    for (owner, t) in others(listing, id) {
        if let Some(p) = ports.iter().find(|p| t.collides(p)) {
            return Err(port_published(p, &owner));
        }
    }
    Ok(())
}

fn fib_local_jump() -> Vec<Value> {
    vec![
        matches(
            "==",
            json!({"fib": {"result": "type", "flags": ["daddr"]}}),
            json!("local"),
        ),
        json!({"jump": {"target": DNAT_CHAIN}}),
    ]
}

fn masquerade_rules(net: &Network) -> Vec<Vec<Value>> {
    let subnet = prefix(net.subnet.network(), net.subnet.prefix());
    let masq = json!({ "masquerade": null });
    vec![
        vec![
            matches("==", payload("ip", "saddr"), subnet.clone()),
            matches("!=", payload("ip", "daddr"), subnet.clone()),
            masq.clone(),
        ],
        // A container reaching a published port (its own or a neighbour's)
        // through a host address: without masquerade the reply would go
        // straight back over the bridge, bypassing the reverse DNAT.
        vec![
            matches("in", json!({"ct": {"key": "status"}}), json!("dnat")),
            matches("==", payload("ip", "saddr"), subnet.clone()),
            matches("==", payload("ip", "daddr"), subnet),
            masq.clone(),
        ],
        vec![
            matches(
                "==",
                payload("ip", "saddr"),
                prefix(Ipv4Addr::new(127, 0, 0, 0), 8),
            ),
            matches("==", json!({"meta": {"key": "oifname"}}), json!(net.bridge)),
            masq,
        ],
    ]
}

/// What docker's isolation chains do, in one rule a network: nothing
/// routed from its bridge into another network's bridge. An internal
/// network also routes nothing out or in.
pub(crate) fn isolation_rules(net: &Network) -> Vec<Vec<Value>> {
    let ifname = |key: &str| json!({"meta": {"key": key}});
    let mut rules = vec![vec![
        matches("==", ifname("iifname"), json!(net.bridge)),
        matches("!=", ifname("oifname"), json!(net.bridge)),
        matches("==", ifname("oifname"), json!(format!("@{BRIDGES_SET}"))),
        json!({"drop": null}),
    ]];
    if net.internal {
        for (here, there) in [("iifname", "oifname"), ("oifname", "iifname")] {
            rules.push(vec![
                matches("==", ifname(here), json!(net.bridge)),
                matches("!=", ifname(there), json!(net.bridge)),
                json!({"drop": null}),
            ]);
        }
    }
    rules
}

fn dnat_rule(ip: Ipv4Addr, p: &PublishedPort) -> Vec<Value> {
    let mut expr = Vec::new();
    if let Some(hip) = p.host_ip {
        expr.push(matches(
            "==",
            payload("ip", "daddr"),
            json!(hip.to_string()),
        ));
    }
    expr.push(matches(
        "==",
        payload(p.proto.as_str(), "dport"),
        json!(p.host_port),
    ));
    expr.push(json!({"dnat": {"addr": ip.to_string(), "port": p.container_port}}));
    expr
}

fn published_in(listing: &Listing) -> Vec<(String, PublishedPort)> {
    listing
        .rules
        .iter()
        .filter_map(|r| parse_port_tag(&r.comment))
        .collect()
}

// Keyed by bridge, not network name: bridges are unique on the host,
// names only within one engine root, and two roots share this table.
pub(crate) fn net_tag(bridge: &str) -> String {
    format!("husk-net {bridge}")
}

pub(crate) fn iso_tag(bridge: &str) -> String {
    format!("husk-iso {bridge}")
}

/// `husk-port <id> <proto> <host ip or *> <host port> <container port>`
fn port_tag(id: &str, p: &PublishedPort) -> String {
    let hip = p.host_ip.map_or_else(|| "*".to_string(), |i| i.to_string());
    format!(
        "husk-port {id} {} {hip} {} {}",
        p.proto, p.host_port, p.container_port
    )
}

fn parse_port_tag(comment: &str) -> Option<(String, PublishedPort)> {
    let mut w = comment.strip_prefix("husk-port ")?.split(' ');
    let id = w.next()?.to_string();
    let proto = match w.next()? {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    };
    let host_ip = match w.next()? {
        "*" => None,
        ip => Some(ip.parse().ok()?),
    };
    let host_port = w.next()?.parse().ok()?;
    let container_port = w.next()?.parse().ok()?;
    Some((
        id,
        PublishedPort {
            host_ip,
            host_port,
            container_port,
            proto,
        },
    ))
}

pub(crate) fn port_published(p: &PublishedPort, owner: &str) -> Error {
    Error::PortPublished {
        host_ip: p
            .host_ip
            .map_or_else(|| "0.0.0.0".to_string(), |i| i.to_string()),
        port: p.host_port,
        proto: p.proto.as_str(),
        owner: owner.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_tags_round_trip() {
        let p = PublishedPort {
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_port: 8080,
            container_port: 80,
            proto: Proto::Udp,
        };
        let tag = port_tag("abc", &p);
        assert_eq!(tag, "husk-port abc udp 127.0.0.1 8080 80");
        assert_eq!(parse_port_tag(&tag), Some(("abc".to_string(), p)));
        let any = PublishedPort { host_ip: None, ..p };
        assert_eq!(parse_port_tag(&port_tag("x", &any)).unwrap().1, any);
        assert_eq!(parse_port_tag("husk-ctr abc"), None);
    }

    #[test]
    fn dnat_rules_match_the_host_address_only_when_given() {
        let mut p = PublishedPort {
            host_ip: None,
            host_port: 8080,
            container_port: 80,
            proto: Proto::Tcp,
        };
        let ip = Ipv4Addr::new(10, 0, 0, 2);
        assert_eq!(dnat_rule(ip, &p).len(), 2);
        p.host_ip = Some(Ipv4Addr::LOCALHOST);
        let rule = dnat_rule(ip, &p);
        assert_eq!(rule.len(), 3);
        assert_eq!(rule[2], json!({"dnat": {"addr": "10.0.0.2", "port": 80}}));
    }
}
