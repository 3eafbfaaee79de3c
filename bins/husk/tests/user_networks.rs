//! User-defined networks (issue 14), as root against the real kernel:
//! bridges, nftables isolation and /etc/hosts name resolution. Every husk
//! command runs in the engine's own network namespace (common/engine.rs):
//! the bridges and husk's table go with it, and traffic only ever goes
//! between containers the test started.

mod common;

use std::time::{Duration, Instant};

use common::engine::*;
use husk_fixtures::{require_root, wait_for};

fn net_ip(e: &Engine, ctr: &str, net: &str) -> String {
    let v = e.inspect(ctr);
    v["NetworkSettings"]["Networks"][net]["IPAddress"]
        .as_str()
        .unwrap_or_else(|| panic!("{ctr} has no address on {net}: {v}"))
        .to_string()
}

/// Whether `from` gets an answer from `to` (a name or an address).
fn pings(e: &Engine, from: &str, to: &str) -> bool {
    let (code, _, _) = e.code(&["exec", from, "ping", "-c", "1", "-W", "1", to]);
    code == 0
}

fn hosts(e: &Engine, ctr: &str) -> String {
    e.ok(&["exec", ctr, "cat", "/etc/hosts"])
}

/// Waits up to a second (the bound) for `ctr`'s /etc/hosts to
/// name `who` (or, `present` false, to stop naming it).
fn hosts_follow(e: &Engine, ctr: &str, who: &str, present: bool) {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let h = hosts(e, ctr);
        let named = h.split_whitespace().any(|w| w == who);
        if named == present {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{ctr}'s /etc/hosts after 1 s (want {who} present={present}):\n{h}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn names_resolve_on_a_network_and_nothing_crosses_between_networks() {
    require_root!("names_resolve_on_a_network_and_nothing_crosses_between_networks");
    let e = Engine::new();
    let id = e.ok(&["network", "create", "front"]);
    assert_eq!(id.trim().len(), 64, "{id}");
    e.ok(&[
        "network",
        "create",
        "--subnet",
        "10.123.0.0/24",
        "--gateway",
        "10.123.0.254",
        "--label",
        "tier=back",
        "back",
    ]);
    for (name, net, extra) in [
        ("web", "front", None),
        ("db1", "front", Some("db")),
        ("cc", "back", None),
    ] {
        let mut args = vec!["run", "-d", "--name", name, "--network", net];
        if let Some(alias) = extra {
            args.extend(["--network-alias", alias]);
        }
        args.extend(["busybox", "sleep", "300"]);
        e.ok(&args);
    }
    e.ok(&["run", "-d", "--name", "dd", "busybox", "sleep", "300"]);

    // Not the default bridge's 172.17/16, nor back's.
    let a_ip = net_ip(&e, "web", "front");
    assert!(a_ip.starts_with("172.18."), "{a_ip}");
    let c_ip = net_ip(&e, "cc", "back");
    assert_eq!(
        c_ip, "10.123.0.1",
        "the first address that is not the gateway"
    );
    let d_ip = e.inspect("dd")["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();

    // By name, alias and short id on one network.
    let b_id = e.inspect("db1")["Id"].as_str().unwrap()[..12].to_string();
    for to in ["db1", "db", b_id.as_str()] {
        assert!(
            pings(&e, "web", to),
            "web cannot reach {to}:\n{}",
            hosts(&e, "web")
        );
    }
    assert!(pings(&e, "db1", "web"));
    // Nothing of front resolves or routes from back or from the default
    // bridge, and back is not reached from front.
    assert!(
        !pings(&e, "cc", "web"),
        "cc resolved web:\n{}",
        hosts(&e, "cc")
    );
    assert!(!pings(&e, "cc", &a_ip), "back reached front");
    assert!(!pings(&e, "web", &c_ip), "front reached back");
    assert!(!pings(&e, "dd", &a_ip), "the default bridge reached front");
    assert!(!pings(&e, "web", &d_ip), "front reached the default bridge");
    // The gateway (the host) is reachable from each.
    assert!(pings(&e, "cc", "10.123.0.254"));

    let v = e.inspect("db1");
    let ep = &v["NetworkSettings"]["Networks"]["front"];
    assert_eq!(ep["Aliases"], serde_json::json!(["db"]), "{ep}");
    assert_eq!(
        ep["DNSNames"],
        serde_json::json!(["db1", b_id, "db"]),
        "{ep}"
    );
    assert_eq!(v["HostConfig"]["NetworkMode"], "front");
    assert_eq!(
        v["NetworkSettings"]["IPAddress"], "",
        "legacy fields: default bridge only"
    );

    // Resolution follows a rename, a new member and a removal.
    e.ok(&["rename", "db1", "db2"]);
    hosts_follow(&e, "web", "db2", true);
    hosts_follow(&e, "web", "db1", false);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "late",
        "--network",
        "front",
        "busybox",
        "sleep",
        "300",
    ]);
    hosts_follow(&e, "web", "late", true);
    assert!(pings(&e, "late", "web"));
    e.ok(&["rm", "-f", "db2"]);
    hosts_follow(&e, "web", "db", false);
    assert!(!pings(&e, "web", "db"));

    // network inspect / ls in docker's shapes.
    let v: serde_json::Value =
        serde_json::from_str(&e.ok(&["network", "inspect", "back"])).unwrap();
    let n = &v[0];
    assert_eq!(n["Name"], "back");
    assert_eq!(n["Driver"], "bridge");
    assert_eq!(n["IPAM"]["Config"][0]["Subnet"], "10.123.0.0/24");
    assert_eq!(n["IPAM"]["Config"][0]["Gateway"], "10.123.0.254");
    assert_eq!(n["Labels"]["tier"], "back");
    let c_id = e.inspect("cc")["Id"].as_str().unwrap().to_string();
    assert_eq!(n["Containers"][&c_id]["Name"], "cc", "{n}");
    assert_eq!(n["Containers"][&c_id]["IPv4Address"], "10.123.0.1/24");
    let ls = e.ok(&["network", "ls"]);
    let header = ls.lines().next().unwrap();
    assert_eq!(
        columns(header),
        ["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
        "{ls}"
    );
    let names: Vec<String> = ls.lines().skip(1).map(|l| columns(l)[1].clone()).collect();
    assert_eq!(names, ["back", "bridge", "front", "host", "none"], "{ls}");
    let custom = e.ok(&[
        "network",
        "ls",
        "--filter",
        "type=custom",
        "--format",
        "{{.Name}} {{.Driver}}",
    ]);
    assert_eq!(custom, "back bridge\nfront bridge\n");
    let labelled = e.ok(&["network", "ls", "-q", "--filter", "label=tier=back"]);
    assert_eq!(labelled.trim(), &n["Id"].as_str().unwrap()[..12]);
    let f = e.ok(&[
        "network",
        "inspect",
        "-f",
        "{{.Name}} {{.Internal}}",
        "front",
    ]);
    assert_eq!(f.trim(), "front false");

    // In use: refused, naming the container; then removed with its bridge.
    let (code, _, err) = e.code(&["network", "rm", "back"]);
    assert_eq!(code, 1);
    assert!(err.contains("in use by container cc"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let bridge = format!("br-{}", &n["Id"].as_str().unwrap()[..12]);
    assert!(e.netns.ip(&["link", "show", &bridge]).contains(&bridge));
    e.ok(&["rm", "-f", "cc", "web", "late", "dd"]);
    assert_eq!(e.ok(&["network", "rm", "back"]).trim(), "back");
    let gone = e
        .netns
        .command("ip")
        .args(["link", "show", &bridge])
        .output()
        .unwrap();
    assert!(!gone.status.success(), "{bridge} is still there");
    let pruned = e.ok(&["network", "prune", "-f"]);
    assert_eq!(pruned, "Deleted Networks:\nfront\n\n");
    let rules = e
        .netns
        .command("nft")
        .args(["list", "table", "ip", "husk"])
        .output()
        .unwrap();
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(
        !rules.contains("front") && !rules.contains("back") && !rules.contains("br-"),
        "{rules}"
    );
}

#[test]
fn an_internal_network_has_no_way_out() {
    require_root!("an_internal_network_has_no_way_out");
    let e = Engine::new();
    e.ok(&[
        "network",
        "create",
        "--internal",
        "--subnet",
        "10.124.0.0/24",
        "sealed",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "in1",
        "--cap-add",
        "NET_ADMIN",
        "--network",
        "sealed",
        "busybox",
        "sleep",
        "300",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "in2",
        "--network",
        "sealed",
        "busybox",
        "sleep",
        "300",
    ]);
    e.ok(&["run", "-d", "--name", "out", "busybox", "sleep", "300"]);
    let routes = e.ok(&["exec", "in1", "ip", "route"]);
    assert!(!routes.contains("default"), "{routes}");
    assert!(pings(&e, "in1", "in2"));
    let out_ip = e.inspect("out")["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    // Not even with a route of its own: the firewall drops it.
    e.ok(&[
        "exec",
        "in1",
        "ip",
        "route",
        "add",
        "default",
        "via",
        "10.124.0.1",
    ]);
    assert!(
        !pings(&e, "in1", &out_ip),
        "an internal network reached the default bridge"
    );
    assert!(!pings(&e, "out", &net_ip(&e, "in1", "sealed")));
    let v: serde_json::Value =
        serde_json::from_str(&e.ok(&["network", "inspect", "sealed"])).unwrap();
    assert_eq!(v[0]["Internal"], true);
    e.ok(&["rm", "-f", "in1", "in2", "out"]);
    e.ok(&["network", "rm", "sealed"]);
}

#[test]
fn bad_network_requests_are_refused_in_one_line() {
    require_root!("bad_network_requests_are_refused_in_one_line");
    let e = Engine::new();
    e.ok(&["network", "create", "--subnet", "10.125.0.0/24", "one"]);
    let cases: &[(&[&str], &str)] = &[
        (&["network", "create", "one"], "already exists"),
        (&["network", "create", "bridge"], "invalid name"),
        (&["network", "create", "-d", "overlay", "x"], "only bridge"),
        (
            &["network", "create", "--subnet", "fd00:9::/64", "x"],
            "needs --ipv6",
        ),
        (
            &["network", "create", "--subnet", "10.125.0.128/25", "x"],
            "overlaps network one",
        ),
        (
            &[
                "network",
                "create",
                "--subnet",
                "10.126.0.0/24",
                "--gateway",
                "10.127.0.1",
                "x",
            ],
            "not a host address",
        ),
        (
            &["network", "create", "--gateway", "10.126.0.1", "x"],
            "need --subnet",
        ),
        (&["network", "create", "--subnet", "nope", "x"], "--subnet"),
        (
            &[
                "network",
                "create",
                "-o",
                "com.docker.network.bridge.name=lo",
                "x",
            ],
            "already exists on the host",
        ),
        (&["network", "rm", "bridge"], "default network"),
        (&["network", "rm", "nosuch"], "network nosuch: not found"),
        (
            &["run", "--rm", "--network", "nosuch", "busybox", "true"],
            "husk network create nosuch",
        ),
        (
            &["run", "--rm", "--network-alias", "x", "busybox", "true"],
            "user-defined network",
        ),
        (
            &[
                "run",
                "--rm",
                "--network",
                "one",
                "--ip",
                "10.9.9.9",
                "busybox",
                "true",
            ],
            "outside the subnet",
        ),
    ];
    for (args, want) in cases {
        let (code, _, err) = e.code(args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    // Nothing half made: one network, one bridge of ours.
    let ls = e.ok(&["network", "ls", "--filter", "type=custom", "-q"]);
    assert_eq!(ls.lines().count(), 1, "{ls}");
    // --ip on a user network; the address stays taken until the container goes.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "fixed",
        "--network",
        "one",
        "--ip",
        "10.125.0.50",
        "busybox",
        "sleep",
        "300",
    ]);
    assert_eq!(net_ip(&e, "fixed", "one"), "10.125.0.50");
    let (code, _, err) = e.code(&[
        "run",
        "--rm",
        "--network",
        "one",
        "--ip",
        "10.125.0.50",
        "busybox",
        "true",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("already in use"), "{err}");
    e.ok(&["rm", "-f", "fixed"]);
    e.ok(&["network", "rm", "one"]);
}

#[test]
fn a_killed_member_is_repaired_and_its_name_goes_from_its_peers() {
    require_root!("a_killed_member_is_repaired_and_its_name_goes_from_its_peers");
    let e = Engine::new();
    e.ok(&["network", "create", "app"]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "stay",
        "--network",
        "app",
        "busybox",
        "sleep",
        "300",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "doomed",
        "--network",
        "app",
        "busybox",
        "sleep",
        "300",
    ]);
    hosts_follow(&e, "stay", "doomed", true);
    let rec = e.record(e.inspect("doomed")["Id"].as_str().unwrap());
    let pid = rec["state"]["pid"].as_i64().unwrap() as i32;
    // Only our own processes, by pid: the monitor first so it records nothing.
    for p in [&rec["state"]["monitor_pid"], &rec["state"]["pid"]] {
        husk_fixtures::sigkill(p.as_i64().unwrap() as i32);
    }
    wait_for(
        "the container's processes to die",
        Duration::from_secs(10),
        || {
            reap_all();
            !std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|s| s.contains(") Z "))
        },
    );
    // The next command repairs: the address is freed and the name goes.
    let ps = e.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    assert!(ps.contains("doomed exited"), "{ps}");
    hosts_follow(&e, "stay", "doomed", false);
    e.ok(&["rm", "-f", "stay", "doomed"]);
    e.ok(&["network", "rm", "app"]);
}

#[test]
fn connect_and_disconnect_change_reachability_and_resolution() {
    require_root!("connect_and_disconnect_change_reachability_and_resolution");
    let e = Engine::new();
    e.ok(&["network", "create", "n1"]);
    e.ok(&["network", "create", "n2"]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "px",
        "--network",
        "n1",
        "busybox",
        "sleep",
        "300",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "py",
        "--network",
        "n2",
        "busybox",
        "sleep",
        "300",
    ]);
    assert!(!pings(&e, "px", "py"));
    let y_ip = net_ip(&e, "py", "n2");
    assert!(!pings(&e, "px", &y_ip));

    e.ok(&["network", "connect", "--alias", "pxx", "n2", "px"]);
    let addrs = e.ok(&["exec", "px", "ip", "-o", "-4", "addr"]);
    let x_n2 = net_ip(&e, "px", "n2");
    assert!(
        addrs.contains(&format!("eth1    inet {x_n2}/16")),
        "{addrs}"
    );
    assert!(pings(&e, "px", "py"), "{}", hosts(&e, "px"));
    hosts_follow(&e, "py", "pxx", true);
    assert!(pings(&e, "py", "pxx"));
    // The first network keeps the default route.
    let routes = e.ok(&["exec", "px", "ip", "route"]);
    let default = routes
        .lines()
        .find(|l| l.starts_with("default"))
        .unwrap_or("");
    assert!(default.contains("eth0"), "{routes}");
    let (code, _, err) = e.code(&["network", "connect", "n2", "px"]);
    assert_ne!(code, 0);
    assert!(err.contains("already connected to network n2"), "{err}");
    let n2: serde_json::Value = serde_json::from_str(&e.ok(&["network", "inspect", "n2"])).unwrap();
    assert_eq!(n2[0]["Containers"].as_object().unwrap().len(), 2, "{n2}");

    e.ok(&["network", "disconnect", "n2", "px"]);
    hosts_follow(&e, "py", "px", false);
    hosts_follow(&e, "px", "py", false);
    assert!(!pings(&e, "px", &y_ip));
    let addrs = e.ok(&["exec", "px", "ip", "-o", "-4", "addr"]);
    assert!(!addrs.contains("eth1"), "{addrs}");
    let (code, _, err) = e.code(&["network", "disconnect", "n1", "px"]);
    assert_ne!(code, 0);
    assert!(err.contains("the one it was created on"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // Two --network flags, kept across a restart; connect of a stopped
    // container takes effect at its start.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "pz",
        "--network",
        "n1",
        "--network",
        "n2",
        "busybox",
        "sleep",
        "300",
    ]);
    assert!(pings(&e, "pz", "px") && pings(&e, "pz", "py"));
    e.ok(&["stop", "-t", "0", "pz"]);
    e.ok(&["start", "pz"]);
    assert!(pings(&e, "pz", "px") && pings(&e, "pz", "py"));
    let v = e.inspect("pz");
    let nets = v["NetworkSettings"]["Networks"].as_object().unwrap();
    assert_eq!(nets.keys().collect::<Vec<_>>(), ["n1", "n2"], "{v}");
    e.ok(&[
        "create",
        "--name",
        "pw",
        "--network",
        "n1",
        "busybox",
        "sleep",
        "300",
    ]);
    e.ok(&["network", "connect", "n2", "pw"]);
    e.ok(&["start", "pw"]);
    assert!(pings(&e, "pw", "py"));
    e.ok(&["rm", "-f", "px", "py", "pz", "pw"]);
    e.ok(&["network", "rm", "n1", "n2"]);
}

/// `id`'s address on `net` as docker's inspect shows it: (GlobalIPv6Address,
/// GlobalIPv6PrefixLen, IPv6Gateway).
fn net_ip6(e: &Engine, ctr: &str, net: &str) -> (String, u64, String) {
    let v = e.inspect(ctr);
    let n = &v["NetworkSettings"]["Networks"][net];
    (
        n["GlobalIPv6Address"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        n["GlobalIPv6PrefixLen"].as_u64().unwrap_or_default(),
        n["IPv6Gateway"].as_str().unwrap_or_default().to_string(),
    )
}

fn pings6(e: &Engine, from: &str, to: &str) -> bool {
    let (code, _, _) = e.code(&["exec", from, "ping", "-6", "-c", "1", "-W", "2", to]);
    code == 0
}

fn network_inspect(e: &Engine, net: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&e.ok(&["network", "inspect", net])).unwrap();
    v[0].clone()
}

/// The IPv6 book of `net`: address → container id.
fn book6(e: &Engine, net: &str) -> serde_json::Map<String, serde_json::Value> {
    let path = e.root.path().join(format!("network/ipam/v6/{net}.json"));
    let Ok(data) = std::fs::read(&path) else {
        return serde_json::Map::new();
    };
    let v: serde_json::Value = serde_json::from_slice(&data).unwrap();
    v["allocations"].as_object().cloned().unwrap_or_default()
}

#[test]
fn an_ipv6_network_carries_v6_between_its_containers() {
    require_root!("an_ipv6_network_carries_v6_between_its_containers");
    let e = Engine::new();
    e.ok(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:1::/64",
        "--subnet",
        "10.131.0.0/24",
        "six",
    ]);
    let n = network_inspect(&e, "six");
    assert_eq!(n["EnableIPv6"], true, "{n}");
    let cfg = n["IPAM"]["Config"].as_array().unwrap();
    assert_eq!(cfg.len(), 2, "{n}");
    assert_eq!(cfg[0]["Subnet"], "10.131.0.0/24", "{n}");
    assert_eq!(cfg[1]["Subnet"], "fd00:1::/64", "{n}");
    assert_eq!(cfg[1]["Gateway"], "fd00:1::1", "{n}");
    e.ok(&[
        "run",
        "-d",
        "--name",
        "s1",
        "--network",
        "six",
        "busybox",
        "sleep",
        "300",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "s2",
        "--network",
        "six",
        "--ip6",
        "fd00:1::99",
        "busybox",
        "sleep",
        "300",
    ]);
    assert_eq!(
        net_ip6(&e, "s1", "six"),
        ("fd00:1::2".to_string(), 64, "fd00:1::1".to_string())
    );
    assert_eq!(net_ip6(&e, "s2", "six").0, "fd00:1::99");
    assert_eq!(net_ip(&e, "s1", "six"), "10.131.0.2");
    let v = e.inspect("s2");
    let ipam = &v["NetworkSettings"]["Networks"]["six"]["IPAMConfig"];
    assert_eq!(ipam["IPv6Address"], "fd00:1::99", "{v}");
    let n = network_inspect(&e, "six");
    let members: Vec<String> = n["Containers"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["IPv6Address"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(members.contains(&"fd00:1::2/64".to_string()), "{n}");
    assert!(members.contains(&"fd00:1::99/64".to_string()), "{n}");

    // Usable at once (no DAD wait): by address, by name, the gateway.
    assert!(pings6(&e, "s1", "fd00:1::99"));
    assert!(pings6(&e, "s2", "fd00:1::2"));
    assert!(pings6(&e, "s1", "fd00:1::1"));
    let h = hosts(&e, "s1");
    assert!(h.contains("fd00:1::99\ts2 "), "{h}");
    assert!(pings6(&e, "s1", "s2"), "{h}");
    let routes = e.ok(&["exec", "s1", "ip", "-6", "route"]);
    assert!(routes.contains("default via fd00:1::1"), "{routes}");
    let addrs = e.ok(&["exec", "s1", "ip", "-o", "-6", "addr"]);
    // No DAD for ours (the link-local one is the kernel's, with DAD).
    let global = addrs.lines().find(|l| l.contains("inet6 fd00:1::2/64"));
    assert!(global.is_some_and(|l| !l.contains("tentative")), "{addrs}");

    // A held address is refused, in one line; the book is unchanged.
    let (code, _, err) = e.code(&[
        "run",
        "--rm",
        "--network",
        "six",
        "--ip6",
        "fd00:1::99",
        "busybox",
        "true",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("already in use by container"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(book6(&e, "six").len(), 2);

    e.ok(&["rm", "-f", "s1", "s2"]);
    assert!(book6(&e, "six").is_empty(), "{:?}", book6(&e, "six"));
    e.ok(&["network", "rm", "six"]);
    assert!(e
        .netns
        .command("ip")
        .args(["link", "show", "dev", "br-x"])
        .output()
        .is_ok());
}

#[test]
fn ipv6_by_connect_with_a_chosen_ula_and_gone_at_disconnect() {
    require_root!("ipv6_by_connect_with_a_chosen_ula_and_gone_at_disconnect");
    let e = Engine::new();
    e.ok(&["network", "create", "--ipv6", "auto6"]);
    e.ok(&["network", "create", "plain4"]);
    let n = network_inspect(&e, "auto6");
    let subnet = n["IPAM"]["Config"][1]["Subnet"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(subnet.starts_with("fd") && subnet.ends_with("::/64"), "{n}");
    let prefix = subnet.trim_end_matches("/64").to_string();
    assert_eq!(
        n["IPAM"]["Config"][1]["Gateway"],
        format!("{prefix}1"),
        "{n}"
    );
    assert_eq!(network_inspect(&e, "plain4")["EnableIPv6"], false);

    e.ok(&[
        "run",
        "-d",
        "--name",
        "c4",
        "--network",
        "plain4",
        "busybox",
        "sleep",
        "300",
    ]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "c6",
        "--network",
        "auto6",
        "busybox",
        "sleep",
        "300",
    ]);
    // Not an IPv6 network: refused.
    let (code, _, err) = e.code(&["network", "connect", "--ip6", "fd00:7::5", "plain4", "c6"]);
    assert_ne!(code, 0);
    assert!(err.contains("without --ipv6"), "{err}");
    let want = format!("{prefix}77");
    e.ok(&["network", "connect", "--ip6", &want, "auto6", "c4"]);
    assert_eq!(net_ip6(&e, "c4", "auto6").0, want);
    let addrs = e.ok(&["exec", "c4", "ip", "-o", "-6", "addr"]);
    assert!(
        addrs.contains(&format!("eth1    inet6 {want}/64")),
        "{addrs}"
    );
    // A further network adds no default route.
    let routes = e.ok(&["exec", "c4", "ip", "-6", "route"]);
    assert!(!routes.contains("default"), "{routes}");
    hosts_follow(&e, "c6", "c4", true);
    assert!(pings6(&e, "c6", "c4"), "{}", hosts(&e, "c6"));
    assert!(pings6(&e, "c4", "c6"), "{}", hosts(&e, "c4"));

    e.ok(&["network", "disconnect", "auto6", "c4"]);
    hosts_follow(&e, "c6", "c4", false);
    let addrs = e.ok(&["exec", "c4", "ip", "-o", "-6", "addr"]);
    assert!(!addrs.contains(&want), "{addrs}");
    assert!(!pings6(&e, "c6", &want));
    assert_eq!(book6(&e, "auto6").len(), 1);
    assert_eq!(net_ip6(&e, "c4", "auto6").0, "");

    e.ok(&["rm", "-f", "c4", "c6"]);
    assert!(book6(&e, "auto6").is_empty());
    e.ok(&["network", "rm", "auto6", "plain4"]);
}

#[test]
fn bad_ipv6_requests_are_refused_in_one_line() {
    require_root!("bad_ipv6_requests_are_refused_in_one_line");
    let e = Engine::new();
    e.ok(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:5::/64",
        "y",
    ]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["network", "create", "--subnet", "fd00:9::/64", "x"],
            "needs --ipv6",
        ),
        (
            &["network", "create", "--ipv6", "--subnet", "fd00::/40", "x"],
            "/48 to /120",
        ),
        (
            &["network", "create", "--ipv6", "--subnet", "fd00::/124", "x"],
            "/48 to /120",
        ),
        (
            &[
                "network",
                "create",
                "--ipv6",
                "--subnet",
                "fd00:1::/64",
                "--subnet",
                "fd00:2::/64",
                "x",
            ],
            "at most one IPv4 and one IPv6",
        ),
        (
            &[
                "network",
                "create",
                "--ipv6",
                "--subnet",
                "fd00:6::/64",
                "--gateway",
                "fd00:7::1",
                "x",
            ],
            "not a host address",
        ),
        (
            &["network", "create", "--ipv6", "--gateway", "fd00:7::1", "x"],
            "needs an IPv6 --subnet",
        ),
        (
            &[
                "network",
                "create",
                "--ipv6",
                "--subnet",
                "fd00:5:0:0:1::/80",
                "x",
            ],
            "overlaps network y",
        ),
        (
            &[
                "network",
                "create",
                "--ipv6",
                "--subnet",
                "fd00::zz/64",
                "x",
            ],
            "--subnet",
        ),
        (
            &[
                "run",
                "--rm",
                "--network",
                "y",
                "--ip6",
                "fd00:9::5",
                "busybox",
                "true",
            ],
            "outside the subnet",
        ),
        (
            &[
                "run",
                "--rm",
                "--network",
                "y",
                "--ip6",
                "fd00:5::1",
                "busybox",
                "true",
            ],
            "gateway",
        ),
    ];
    for (args, want) in cases {
        let (code, _, err) = e.code(args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    let ls = e.ok(&["network", "ls", "--filter", "type=custom", "-q"]);
    assert_eq!(ls.lines().count(), 1, "{ls}");
    assert!(book6(&e, "y").is_empty());
    e.ok(&["network", "rm", "y"]);
}

#[test]
fn ipv6_survives_a_restart_is_repaired_after_a_kill_and_internal_has_no_way_out() {
    require_root!("ipv6_survives_a_restart_is_repaired_after_a_kill_and_internal_has_no_way_out");
    let e = Engine::new();
    e.ok(&[
        "network",
        "create",
        "--ipv6",
        "--internal",
        "--subnet",
        "fd00:44::/64",
        "iso6",
    ]);
    for name in ["stay", "doomed"] {
        e.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "iso6",
            "busybox",
            "sleep",
            "300",
        ]);
    }
    let routes = e.ok(&["exec", "stay", "ip", "-6", "route"]);
    assert!(!routes.contains("default"), "{routes}");
    assert!(pings6(&e, "stay", "doomed"));
    // Stopped, its address goes back to the book; started, it has one again.
    e.ok(&["stop", "-t", "0", "stay"]);
    assert_eq!(book6(&e, "iso6").len(), 1);
    e.ok(&["start", "stay"]);
    assert_eq!(net_ip6(&e, "stay", "iso6").0, "fd00:44::2");
    assert!(pings6(&e, "doomed", "stay"));

    let rec = e.record(e.inspect("doomed")["Id"].as_str().unwrap());
    let pid = rec["state"]["pid"].as_i64().unwrap() as i32;
    for p in [&rec["state"]["monitor_pid"], &rec["state"]["pid"]] {
        husk_fixtures::sigkill(p.as_i64().unwrap() as i32);
    }
    wait_for(
        "the container's processes to die",
        Duration::from_secs(10),
        || {
            reap_all();
            !std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|s| s.contains(") Z "))
        },
    );
    // The next command repairs: both books forget it, and its name goes.
    e.ok(&["ps", "-a"]);
    let book = book6(&e, "iso6");
    assert_eq!(book.len(), 1, "{book:?}");
    assert!(book.contains_key("fd00:44::2"), "{book:?}");
    hosts_follow(&e, "stay", "doomed", false);
    e.ok(&["rm", "-f", "stay", "doomed"]);
    assert!(book6(&e, "iso6").is_empty());
    e.ok(&["network", "rm", "iso6"]);
}
