//! IPv6 between user-defined networks (issue 14): nothing crosses from one
//! network to another over IPv6 either, through husk's `ip6 husk` table.
//! Every husk command runs in the engine's own network namespace
//! (common/engine.rs); traffic only goes between the test's containers.

mod common;

use common::engine::*;
use husk_fixtures::require_root;

fn v6(e: &Engine, ctr: &str, net: &str) -> String {
    let v = e.inspect(ctr);
    v["NetworkSettings"]["Networks"][net]["GlobalIPv6Address"]
        .as_str()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| panic!("{ctr} has no IPv6 address on {net}: {v}"))
        .to_string()
}

fn ping6(e: &Engine, from: &str, to: &str) -> bool {
    let (code, _, _) = e.code(&["exec", from, "ping", "-6", "-c", "1", "-W", "1", to]);
    code == 0
}

fn bridge(e: &Engine, net: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&e.ok(&["network", "inspect", net])).unwrap();
    format!("br-{}", &v[0]["Id"].as_str().unwrap()[..12])
}

#[test]
fn ipv6_does_not_cross_between_networks() {
    require_root!("ipv6_does_not_cross_between_networks");
    let e = Engine::new();
    // An IPv4-only network makes no ip6 table at all.
    e.ok(&["network", "create", "plain"]);
    assert!(
        rule_comments(&e.netns, "ip6").is_empty(),
        "{:?}",
        rule_comments(&e.netns, "ip6")
    );
    e.ok(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:a::/64",
        "--subnet",
        "10.88.0.0/24",
        "six-a",
    ]);
    e.ok(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:b::/64",
        "six-b",
    ]);
    let (ba, bb) = (bridge(&e, "six-a"), bridge(&e, "six-b"));
    let rules6 = rule_comments(&e.netns, "ip6");
    for b in [&ba, &bb] {
        for tag in ["husk-net", "husk-iso"] {
            let want = format!("{tag} {b}");
            assert!(
                rules6.contains(&want),
                "no {want:?} in ip6 husk: {rules6:#?}"
            );
        }
    }
    for (name, net) in [("a1", "six-a"), ("a2", "six-a"), ("b1", "six-b")] {
        e.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            net,
            "busybox",
            "sleep",
            "1d",
        ]);
    }
    // Both addresses chosen at once.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "a3",
        "--network",
        "six-a",
        "--ip",
        "10.88.0.50",
        "--ip6",
        "fd00:a::50",
        "busybox",
        "sleep",
        "1d",
    ]);
    let a3 = e.inspect("a3");
    let a3 = &a3["NetworkSettings"]["Networks"]["six-a"];
    assert_eq!(
        (a3["IPAddress"].as_str(), a3["GlobalIPv6Address"].as_str()),
        (Some("10.88.0.50"), Some("fd00:a::50")),
        "{a3}"
    );
    e.ok(&["rm", "-f", "a3"]);
    let (a2, b1) = (v6(&e, "a2", "six-a"), v6(&e, "b1", "six-b"));
    assert!(
        ping6(&e, "a1", &a2),
        "a1 cannot reach a2 over IPv6 on one network"
    );
    // The host routes both subnets and forwards IPv6: only the forward
    // chain of ip6 husk stands between them.
    assert!(!ping6(&e, "a1", &b1), "six-a reaches six-b over IPv6");
    assert!(!ping6(&e, "b1", &a2), "six-b reaches six-a over IPv6");

    // Removing a network takes its IPv6 rules with it.
    e.ok(&["rm", "-f", "a1", "a2", "b1"]);
    e.ok(&["network", "rm", "six-b"]);
    let rules6 = rule_comments(&e.netns, "ip6");
    assert!(
        !rules6.iter().any(|r| r.ends_with(&format!(" {bb}"))),
        "six-b left IPv6 rules: {rules6:#?}"
    );
    assert!(rules6.contains(&format!("husk-iso {ba}")), "{rules6:#?}");
    e.ok(&["network", "rm", "six-a", "plain"]);
}
