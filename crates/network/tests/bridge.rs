//! The bridge driver against the real kernel. Each test is root-only and
//! runs inside network namespaces it creates; traffic goes only to
//! 127.0.0.0/8 and to those namespaces.

mod common;

use std::net::Ipv4Addr;

use common::*;
use husk_network::netlink::Netlink;
use husk_network::{Error, Ipv4Net, NetworkDriver};

#[test]
fn two_containers_get_distinct_addresses_eth0_lo_and_default_route() {
    let Some(sc) = Scenario::new("two_containers", "10.88.0.0/24") else {
        return;
    };
    let (c1, c2) = (TestNetns::new("c1"), TestNetns::new("c2"));
    let (id1, id2) = (container_id(), container_id());
    let e1 = sc.setup(&id1, &c1, &[]).unwrap();
    let e2 = sc.setup(&id2, &c2, &[]).unwrap();
    assert_ne!(e1.ip, e2.ip);
    assert_eq!(e1.ip, Ipv4Addr::new(10, 88, 0, 2));
    assert_eq!(e1.gateway, Ipv4Addr::new(10, 88, 0, 1));
    assert_eq!(e1.mac, [2, 0x42, 10, 88, 0, 2]);

    for (ns, ep) in [(&c1, &e1), (&c2, &e2)] {
        let mut nl = Netlink::in_netns(&ns.path).unwrap();
        let eth0 = nl.link("eth0").unwrap().expect("eth0 inside");
        assert!(eth0.up);
        assert_eq!(eth0.mac, Some(ep.mac));
        assert_eq!(nl.addresses(eth0.index).unwrap(), vec![(ep.ip, 24)]);
        assert!(nl.link("lo").unwrap().unwrap().up);
        let routes = nl.routes().unwrap();
        let default: Ipv4Net = "0.0.0.0/0".parse().unwrap();
        assert!(routes.contains(&(default, Some(ep.gateway))), "{routes:?}");
    }
    // The host ends hang off the bridge.
    let mut nl = Netlink::new().unwrap();
    let bridge = nl.link("husk0").unwrap().unwrap();
    let veth = nl.link(&e1.host_veth).unwrap().unwrap();
    assert_eq!(veth.master, Some(bridge.index));
    assert!(veth.up && bridge.up);

    sc.driver.teardown(&id1).unwrap();
    sc.driver.teardown(&id2).unwrap();
    // Twice is fine.
    sc.driver.teardown(&id2).unwrap();
    assert!(sc.host_veths().is_empty());
}

#[test]
fn containers_talk_over_the_bridge() {
    let Some(sc) = Scenario::new("containers_talk", "10.89.0.0/24") else {
        return;
    };
    let (c1, c2) = (TestNetns::new("c1"), TestNetns::new("c2"));
    let (id1, id2) = (container_id(), container_id());
    let e1 = sc.setup(&id1, &c1, &[]).unwrap();
    let e2 = sc.setup(&id2, &c2, &[]).unwrap();

    assert!(
        // -w: keep sending (one a second) until a reply or 5 s; the first
        // packet can be lost while the fresh bridge port learns its peer.
        c1.busybox(&["ping", "-c1", "-w5", &e2.ip.to_string()]),
        "ping c1 -> c2"
    );
    let server = serve(listen_in(&c2.path, &format!("{}:5000", e2.ip)), 1);
    let reply = fetch(Some(&c1.path), &format!("{}:5000", e2.ip)).unwrap();
    // No NAT between containers of one bridge: the server sees c1 itself.
    assert_eq!(reply, e1.ip.to_string());
    server.join().unwrap();
    sc.driver.teardown(&id1).unwrap();
    sc.driver.teardown(&id2).unwrap();
}

#[test]
fn published_port_reachable_on_host_loopback_and_bridge_address() {
    let Some(sc) = Scenario::new("published_port", "10.90.0.0/24") else {
        return;
    };
    let c1 = TestNetns::new("c1");
    let id = container_id();
    let ep = sc
        .setup(&id, &c1, &["18080:5000", "127.0.0.1:18081:5000"])
        .unwrap();
    assert_eq!(ep.ports.len(), 2);
    let server = serve(listen_in(&c1.path, "0.0.0.0:5000"), 3);

    // From the host's own 127.0.0.1: DNAT in output, masquerade to the
    // bridge address on the way out (route_localnet).
    let seen = fetch(None, "127.0.0.1:18080").unwrap();
    assert_eq!(seen, "10.90.0.1");
    let seen = fetch(None, "127.0.0.1:18081").unwrap();
    assert_eq!(seen, "10.90.0.1");
    let seen = fetch(None, "10.90.0.1:18080").unwrap();
    assert_eq!(seen, "10.90.0.1");
    // 127.0.0.1-only publication is not on the bridge address.
    assert!(fetch(None, "10.90.0.1:18081").is_err());
    server.join().unwrap();

    let published = sc.firewall().published().unwrap();
    assert_eq!(published.len(), 2);
    assert!(published.iter().all(|(owner, _)| *owner == id));
    sc.driver.teardown(&id).unwrap();
    assert!(sc.firewall().published().unwrap().is_empty());
    assert!(fetch(None, "127.0.0.1:18080").is_err());
}

#[test]
fn outbound_traffic_is_masqueraded() {
    let Some(sc) = Scenario::new("masquerade", "10.91.0.0/24") else {
        return;
    };
    // "upstream": a namespace routed from the test host over a veth pair.
    let upstream = TestNetns::new("up");
    upstream.lo_up();
    let mut nl = Netlink::new().unwrap();
    // Inside this test's own host namespace: no other test sees the name.
    let name = "uphost".to_string();
    let host_end = nl.create_veth(&name, "uppeer", 1500).unwrap();
    nl.add_address(host_end, Ipv4Addr::new(192, 168, 213, 1), 24, &name)
        .unwrap();
    nl.set_up(host_end, &name).unwrap();
    let peer = nl.index("uppeer").unwrap();
    let up_fd = std::fs::File::open(&upstream.path).unwrap();
    {
        use std::os::fd::AsFd;
        nl.move_to_netns(peer, up_fd.as_fd(), "uppeer").unwrap();
    }
    let mut unl = Netlink::in_netns(&upstream.path).unwrap();
    let idx = unl.index("uppeer").unwrap();
    unl.add_address(idx, Ipv4Addr::new(192, 168, 213, 2), 24, "uppeer")
        .unwrap();
    unl.set_up(idx, "uppeer").unwrap();

    let c1 = TestNetns::new("c1");
    let id = container_id();
    sc.setup(&id, &c1, &[]).unwrap();
    let server = serve(listen_in(&upstream.path, "192.168.213.2:7000"), 1);
    let seen = fetch(Some(&c1.path), "192.168.213.2:7000").unwrap();
    assert_eq!(seen, "192.168.213.1", "upstream sees the host address");
    server.join().unwrap();
    sc.driver.teardown(&id).unwrap();
}

#[test]
fn thirty_parallel_allocations_are_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let store = husk_network::NetworkStore::open(dir.path()).unwrap();
    let net =
        husk_network::Network::bridge("bridge", "husk0", "10.92.0.0/24".parse().unwrap()).unwrap();
    let handles: Vec<_> = (0..30)
        .map(|i| {
            // A fresh Ipam per thread, as separate processes would have.
            let ipam = husk_network::Ipam::new(&store, &net);
            std::thread::spawn(move || ipam.allocate(&format!("c{i}"), None).unwrap())
        })
        .collect();
    let mut ips: Vec<Ipv4Addr> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 30);
    let ipam = husk_network::Ipam::new(&store, &net);
    assert_eq!(ipam.allocations().unwrap().len(), 30);
}

#[test]
fn hundred_setup_teardown_cycles_leave_nothing() {
    let Some(sc) = Scenario::new("hundred_cycles", "10.93.0.0/24") else {
        return;
    };
    let c1 = TestNetns::new("c1");
    for i in 0..100 {
        let id = container_id();
        let port = format!("127.0.0.1:{}:80", 20000 + i);
        let ep = sc.setup(&id, &c1, &[&port]).unwrap();
        assert_eq!(ep.ip, Ipv4Addr::new(10, 93, 0, 2), "cycle {i}");
        sc.driver.teardown(&id).unwrap();
    }
    assert!(sc.host_veths().is_empty(), "{:?}", sc.host_veths());
    let fw = sc.firewall();
    assert!(fw.published().unwrap().is_empty());
    assert!(fw.containers().unwrap().is_empty());
    assert!(sc.driver.ipam().allocations().unwrap().is_empty());
    let mut cnl = Netlink::in_netns(&c1.path).unwrap();
    assert!(cnl.link("eth0").unwrap().is_none());
}

#[test]
fn gc_repairs_a_simulated_crash() {
    let Some(sc) = Scenario::new("gc_repair", "10.94.0.0/24") else {
        return;
    };
    let survivor_ns = TestNetns::new("alive");
    let alive = container_id();
    sc.setup(&alive, &survivor_ns, &["127.0.0.1:18090:80"])
        .unwrap();

    // A container whose engine died: never torn down, its netns gone.
    let dead = container_id();
    {
        let doomed = TestNetns::new("dead");
        sc.setup(&dead, &doomed, &["127.0.0.1:18091:80"]).unwrap();
    }
    // And one that crashed mid-setup: a host veth whose peer never moved.
    let half = container_id();
    let mut nl = Netlink::new().unwrap();
    let hv = husk_network::driver::veth_name(&half);
    let idx = nl.create_veth(&hv, "hpstale", 1500).unwrap();
    nl.set_alias(idx, &format!("husk:{half}"), &hv).unwrap();
    sc.driver.ipam().allocate(&half, None).unwrap();

    let report = sc.gc(&[&alive]);
    // The kernel destroys a dropped netns (and the veth in it) asynchronously:
    // the dead container's host veth may still be there for gc to remove.
    let dead_veth = husk_network::driver::veth_name(&dead);
    assert!(report.veths.contains(&hv), "{:?}", report.veths);
    assert!(
        report.veths.iter().all(|v| *v == hv || *v == dead_veth),
        "{:?}",
        report.veths
    );
    assert_eq!(report.rules, vec![dead.clone()]);
    let mut gone: Vec<String> = report.addresses.iter().map(|(_, c)| c.clone()).collect();
    gone.sort();
    let mut want = vec![dead.clone(), half.clone()];
    want.sort();
    assert_eq!(gone, want);

    // The survivor is untouched; a second gc finds nothing.
    let allocs = sc.driver.ipam().allocations().unwrap();
    assert_eq!(allocs.values().collect::<Vec<_>>(), vec![&alive]);
    assert_eq!(sc.firewall().containers().unwrap(), vec![alive.clone()]);
    assert_eq!(sc.gc(&[&alive]), husk_network::GcReport::default());
    assert!(nl.link(&hv).unwrap().is_none());
    sc.driver.teardown(&alive).unwrap();
}

#[test]
fn port_already_bound_fails_before_anything_is_created() {
    let Some(sc) = Scenario::new("port_bound", "10.95.0.0/24") else {
        return;
    };
    let c1 = TestNetns::new("c1");
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let err = sc
        .setup(&container_id(), &c1, &[&format!("127.0.0.1:{port}:80")])
        .unwrap_err();
    assert!(matches!(err, Error::PortUnavailable { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}/tcp")),
        "{err}"
    );
    // Nothing exists: no bridge, no veth, no address, no table.
    let mut nl = Netlink::new().unwrap();
    assert!(nl.link("husk0").unwrap().is_none());
    assert!(sc.host_veths().is_empty());
    assert!(sc.driver.ipam().allocations().unwrap().is_empty());
    assert!(sc.firewall().containers().unwrap().is_empty());

    // A port one of our containers publishes is refused the same way.
    let first = container_id();
    sc.setup(&first, &c1, &["127.0.0.1:18095:80"]).unwrap();
    let c2 = TestNetns::new("c2");
    let err = sc.setup(&container_id(), &c2, &["18095:81"]).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("already published by container {first}")),
        "{err}"
    );
    assert_eq!(sc.driver.ipam().allocations().unwrap().len(), 1);
    assert_eq!(sc.host_veths().len(), 1);
    sc.driver.teardown(&first).unwrap();
}

#[test]
fn address_outside_subnet_fails() {
    let Some(sc) = Scenario::new("outside_subnet", "10.96.0.0/24") else {
        return;
    };
    let c1 = TestNetns::new("c1");
    let id = container_id();
    let err = sc
        .driver
        .setup(&request(&id, &c1, &[], Some(Ipv4Addr::new(10, 97, 0, 5))))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "address 10.97.0.5 is outside the subnet 10.96.0.0/24 of network bridge"
    );
    assert!(sc.host_veths().is_empty());
    assert!(Netlink::new().unwrap().link("husk0").unwrap().is_none());
    // A valid request is honoured.
    let ep = sc
        .driver
        .setup(&request(&id, &c1, &[], Some(Ipv4Addr::new(10, 96, 0, 50))))
        .unwrap();
    assert_eq!(ep.ip, Ipv4Addr::new(10, 96, 0, 50));
    sc.driver.teardown(&id).unwrap();
}

#[test]
fn default_subnet_avoids_host_routes() {
    let Some(sc) = Scenario::new("default_subnet", "10.98.0.0/24") else {
        return;
    };
    let mut nl = Netlink::new().unwrap();
    let lo = nl.index("lo").unwrap();
    nl.set_up(lo, "lo").unwrap();
    // An address on lo would land in the local table only: add a real route.
    nl.add_route("172.17.0.0/16".parse().unwrap(), None, Some(lo))
        .unwrap();
    let routes: Vec<Ipv4Net> = nl.routes().unwrap().into_iter().map(|(d, _)| d).collect();
    let net = sc.store.ensure_default(&routes).unwrap();
    assert_eq!(net.subnet.to_string(), "172.18.0.0/16");
    assert_eq!(net.gateway, Ipv4Addr::new(172, 18, 0, 1));
}

#[test]
fn other_nft_tables_are_never_touched() {
    let Some(sc) = Scenario::new("other_tables", "10.99.0.0/24") else {
        return;
    };
    let nft = |args: &[&str]| {
        let out = std::process::Command::new("/usr/sbin/nft")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    nft(&["add", "table", "ip", "theirs"]);
    nft(&[
        "add",
        "chain",
        "ip",
        "theirs",
        "c",
        "{ type nat hook postrouting priority 100; }",
    ]);
    nft(&[
        "add",
        "rule",
        "ip",
        "theirs",
        "c",
        "counter",
        "comment",
        "\"husk-ctr x\"",
    ]);
    let before = nft(&["list", "table", "ip", "theirs"]);
    let c1 = TestNetns::new("c1");
    let id = container_id();
    sc.setup(&id, &c1, &["127.0.0.1:18099:80"]).unwrap();
    sc.driver.teardown(&id).unwrap();
    sc.gc(&[]);
    sc.firewall().delete_table().unwrap();
    assert_eq!(nft(&["list", "table", "ip", "theirs"]), before);
    assert!(!nft(&["list", "tables"]).contains("table ip husk"));
}

#[test]
fn a_container_reaches_its_own_published_port_through_the_bridge_address() {
    let Some(sc) = Scenario::new("hairpin", "10.100.0.0/24") else {
        return;
    };
    let c1 = TestNetns::new("c1");
    let id = container_id();
    sc.setup(&id, &c1, &["18100:5000"]).unwrap();
    let server = serve(listen_in(&c1.path, "0.0.0.0:5000"), 1);
    // Through the gateway address: DNAT back to itself over the same bridge
    // port (hairpin), masqueraded so the reply takes the reverse NAT.
    let seen = fetch(Some(&c1.path), "10.100.0.1:18100").unwrap();
    assert_eq!(seen, "10.100.0.1");
    server.join().unwrap();
    sc.driver.teardown(&id).unwrap();
}

#[test]
fn udp_ports_are_published_too() {
    let Some(sc) = Scenario::new("udp_port", "10.101.0.0/24") else {
        return;
    };
    let c1 = TestNetns::new("c1");
    let id = container_id();
    let ep = sc.setup(&id, &c1, &["127.0.0.1:18101:5353/udp"]).unwrap();
    assert_eq!(ep.ports[0].proto, husk_network::Proto::Udp);
    let server = husk_network::netns::with_netns(&c1.path, || {
        std::net::UdpSocket::bind("0.0.0.0:5353").map_err(|e| Error::Io {
            op: "bind",
            path: "udp".into(),
            source: e,
        })
    })
    .unwrap();
    server
        .set_read_timeout(Some(std::time::Duration::from_secs(3)))
        .unwrap();
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    client.send_to(b"hi", "127.0.0.1:18101").unwrap();
    let mut buf = [0u8; 8];
    let (n, from) = server.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hi");
    assert_eq!(from.ip().to_string(), "10.101.0.1");
    sc.driver.teardown(&id).unwrap();
}

#[test]
fn a_setup_failing_midway_leaves_nothing_behind() {
    let Some(sc) = Scenario::new("rollback", "10.102.0.0/24") else {
        return;
    };
    let c1 = TestNetns::new("c1");
    // An eth0 already inside makes the veth creation fail after the
    // address and the port rules' prerequisites exist.
    let mut cnl = Netlink::in_netns(&c1.path).unwrap();
    cnl.create_veth("eth0", "other0", 1500).unwrap();
    let id = container_id();
    let err = sc.setup(&id, &c1, &["127.0.0.1:18102:80"]).unwrap_err();
    assert!(err.to_string().contains("create veth"), "{err}");
    assert!(sc.host_veths().is_empty(), "{:?}", sc.host_veths());
    assert!(sc.driver.ipam().allocations().unwrap().is_empty());
    assert!(sc.firewall().containers().unwrap().is_empty());
    let names: Vec<String> = cnl.links().unwrap().into_iter().map(|l| l.name).collect();
    assert!(names.iter().all(|n| !n.starts_with("hp")), "{names:?}");
}

#[test]
fn parallel_setups_share_one_bridge() {
    let Some(sc) = Scenario::new("parallel_setups", "10.103.0.0/24") else {
        return;
    };
    let nets: Vec<TestNetns> = (0..8).map(|i| TestNetns::new(&format!("p{i}"))).collect();
    let ids: Vec<String> = (0..8).map(|_| container_id()).collect();
    // Threads spawned here start in the test host's namespace, like the
    // thread that spawns them.
    let ips: Vec<Ipv4Addr> = std::thread::scope(|s| {
        let handles: Vec<_> = nets
            .iter()
            .zip(&ids)
            .map(|(ns, id)| s.spawn(|| sc.setup(id, ns, &[]).unwrap().ip))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut distinct = ips.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 8);
    assert_eq!(sc.host_veths().len(), 8);
    for id in &ids {
        sc.driver.teardown(id).unwrap();
    }
    sc.driver.remove_network().unwrap();
    assert!(Netlink::new().unwrap().link("husk0").unwrap().is_none());
}

#[test]
fn setting_up_the_same_container_again_replaces_its_link_and_rules() {
    let Some(sc) = Scenario::new("setup_again", "10.104.0.0/24") else {
        return;
    };
    let c1 = TestNetns::new("c1");
    let id = container_id();
    let first = sc.setup(&id, &c1, &["127.0.0.1:18104:80"]).unwrap();
    // The container restarts into a fresh namespace; the old one lingers.
    let c2 = TestNetns::new("c2");
    let again = sc.setup(&id, &c2, &["127.0.0.1:18104:80"]).unwrap();
    assert_eq!(first.ip, again.ip);
    assert_eq!(sc.host_veths(), vec![again.host_veth.clone()]);
    assert_eq!(sc.firewall().published().unwrap().len(), 1);
    sc.driver.teardown(&id).unwrap();
    assert!(sc.firewall().published().unwrap().is_empty());
}

#[test]
fn release_frees_rules_and_address_and_the_veth_goes_with_its_namespace() {
    let Some(sc) = Scenario::new("release", "10.104.0.0/24") else {
        return;
    };
    let c1 = TestNetns::new("c1");
    let id = container_id();
    let ep = sc.setup(&id, &c1, &["18104:80"]).unwrap();
    assert_eq!(sc.host_veths(), vec![ep.host_veth.clone()]);
    sc.driver.release(&id).unwrap();
    assert!(sc.driver.ipam().allocations().unwrap().is_empty());
    assert!(sc.firewall().published().unwrap().is_empty());
    // The namespace still lives: so does the pair, until it goes.
    assert_eq!(sc.host_veths(), vec![ep.host_veth]);
    drop(c1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while !sc.host_veths().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            sc.host_veths()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn netns_handles_pin_a_fresh_namespace_until_removed() {
    let Some(sc) = Scenario::new("netns_handle", "10.105.0.0/24") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let handle = dir.path().join("netns").join("c1");
    husk_network::netns::create_handle(&handle).unwrap();
    // A new namespace: only lo, and not the test host's.
    let mut nl = Netlink::in_netns(&handle).unwrap();
    let names: Vec<String> = nl.links().unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["lo"]);
    let ino = |p: &std::path::Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).unwrap().ino()
    };
    assert_ne!(ino(&handle), ino(&sc.host.path));
    // The calling thread came back to the test host.
    assert_eq!(
        ino(std::path::Path::new("/proc/thread-self/ns/net")),
        ino(&sc.host.path)
    );
    // Again over a leftover: a fresh namespace replaces it.
    let first = ino(&handle);
    husk_network::netns::create_handle(&handle).unwrap();
    assert_ne!(ino(&handle), first);
    husk_network::netns::remove_handle(&handle).unwrap();
    assert!(!handle.exists());
    husk_network::netns::remove_handle(&handle).unwrap();
}

#[test]
fn gc_leaves_what_its_address_book_does_not_name() {
    let Some(sc) = Scenario::new("gc_foreign", "10.106.0.0/24") else {
        return;
    };
    // Another engine's container on the same host: a veth and rules of
    // ours in shape, but not in this engine's address book.
    let other_dir = tempfile::tempdir().unwrap();
    let other_store = husk_network::NetworkStore::open(other_dir.path()).unwrap();
    let other = husk_network::BridgeDriver::new(&other_store, sc.network().clone(), sc.firewall());
    let ns = TestNetns::new("foreign");
    let id = container_id();
    let req = request(
        &id,
        &ns,
        &["18106:80"],
        Some(Ipv4Addr::new(10, 106, 0, 200)),
    );
    other.setup(&req).unwrap();
    assert_eq!(sc.gc(&[]), husk_network::GcReport::default());
    assert_eq!(sc.host_veths().len(), 1);
    assert_eq!(sc.firewall().containers().unwrap(), vec![id.clone()]);
    other.teardown(&id).unwrap();
}
