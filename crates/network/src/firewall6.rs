//! The IPv6 side of husk's firewall: the table `ip6 <table>`, made only
//! once a network has IPv6 (an IPv4-only host never sees it). Published
//! ports are IPv4 only, so it holds just what the forward and postrouting
//! hooks need, in the same shape and with the same tags as `ip <table>`:
//! - `forward` and the set `bridges` (the bridges of the networks with
//!   IPv6): nothing routed from one network's bridge into another's, and
//!   for an internal network nothing in or out;
//! - `postrouting`: masquerade of each network's IPv6 subnet going
//!   elsewhere, as docker 27 does with ip6tables on.

use serde_json::{json, Value};

use crate::firewall::{
    bridge_element, in_bridges, iso_tag, isolation_rules, net_tag, BRIDGES_SET, FORWARD_CHAIN,
};
use crate::network::Network;
use crate::nft::{matches, payload, prefix, Listing, Nft, FAMILY6};

/// `add` of the table, its chains and set: no-ops for what exists, so
/// every batch touching the table can start with them.
pub(crate) fn skeleton(nft: &Nft) -> Vec<Value> {
    let t = &nft.table;
    vec![
        json!({"add": {"table": {"family": FAMILY6, "name": t}}}),
        json!({"add": {"chain": {
            "family": FAMILY6, "table": t, "name": "postrouting",
            "type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"
        }}}),
        json!({"add": {"chain": {
            "family": FAMILY6, "table": t, "name": FORWARD_CHAIN,
            "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"
        }}}),
        json!({"add": {"set": {
            "family": FAMILY6, "table": t, "name": BRIDGES_SET, "type": "ifname"
        }}}),
    ]
}

/// The commands adding what of `net`'s IPv6 rules `listing` (of the ip6
/// table) lacks; none for a network without IPv6.
pub(crate) fn additions(nft: &Nft, listing: &Listing, net: &Network) -> Vec<Value> {
    let Some(v6) = &net.ipv6 else {
        return Vec::new();
    };
    let mut batch = Vec::new();
    let tag = net_tag(&net.bridge);
    if !net.internal && !listing.has_comment(&tag) {
        let subnet = prefix(v6.subnet.network(), v6.subnet.prefix());
        batch.push(nft.add_rule(
            "postrouting",
            &tag,
            vec![
                matches("==", payload("ip6", "saddr"), subnet.clone()),
                matches("!=", payload("ip6", "daddr"), subnet),
                json!({ "masquerade": null }),
            ],
        ));
    }
    if !in_bridges(listing, &net.bridge) {
        batch.push(bridge_element(nft, "add", &net.bridge));
    }
    let iso = iso_tag(&net.bridge);
    if !listing.has_comment(&iso) {
        batch.extend(
            isolation_rules(net)
                .into_iter()
                .map(|expr| nft.add_rule(FORWARD_CHAIN, &iso, expr)),
        );
    }
    batch
}
