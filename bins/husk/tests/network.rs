//! The default bridge network end to end, as root against the real kernel.
//! Every husk command runs inside the engine's own network namespace (see
//! common/engine.rs), so the bridge, the subnet and the nft table belong to
//! the test; traffic goes only to 127.0.0.0/8 and to namespaces the test
//! made. On drop the engine checks that no veth, nft rule, address or
//! netns handle is left.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::engine::*;
use husk_fixtures::require_root;

fn ip_of(e: &Engine, name: &str) -> String {
    e.inspect(name)["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Connects from inside `ns` and reads until EOF (or the timeout).
fn fetch(ns: &TestNetns, addr: &str) -> std::io::Result<String> {
    let addr: SocketAddr = addr.parse().unwrap();
    ns.run(|| {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
        s.set_read_timeout(Some(Duration::from_secs(3)))?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    })
}

/// Retries `fetch` while the server inside the container comes up.
fn fetch_soon(ns: &TestNetns, addr: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match fetch(ns, addr) {
            Ok(s) if !s.is_empty() => return s,
            other => assert!(
                Instant::now() < deadline,
                "nothing served on {addr}: {other:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A container serving `reply` on TCP port 80, one connection at a time.
fn serve_args(name: &str, reply: &str) -> Vec<String> {
    [
        "-d",
        "--name",
        name,
        "busybox",
        "sh",
        "-c",
        &format!("while true; do echo {reply} | nc -l -p 80; done"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run_args(e: &Engine, pre: &[&str], args: &[String]) -> String {
    let mut all: Vec<&str> = vec!["run"];
    all.extend_from_slice(pre);
    all.extend(args.iter().map(String::as_str));
    e.ok(&all)
}

#[test]
fn eth0_lo_etc_files_and_inspect() {
    require_root!("eth0_lo_etc_files_and_inspect");
    let e = Engine::new();
    let out = e.ok(&["run", "--rm", "busybox", "ip", "-o", "-4", "addr"]);
    assert!(out.contains("lo    inet 127.0.0.1/8"), "{out}");
    assert!(out.contains("eth0    inet 172.17.0.2/16"), "{out}");
    let route = e.ok(&["run", "--rm", "busybox", "ip", "route"]);
    assert!(route.contains("default via 172.17.0.1 dev eth0"), "{route}");
    // The MTU comes from the bridge's.
    let link = e.ok(&["run", "--rm", "busybox", "cat", "/sys/class/net/eth0/mtu"]);
    assert_eq!(link.trim(), "1500");

    let id = e.ok(&[
        "run",
        "-d",
        "--name",
        "named",
        "--hostname",
        "box",
        "--ip",
        "172.17.3.4",
        "--mac-address",
        "02:11:22:33:44:55",
        "--add-host",
        "db:10.1.2.3",
        "--dns",
        "10.0.0.53",
        "--dns-search",
        "corp.example",
        "busybox",
        "sleep",
        "300",
    ]);
    let id = id.trim();
    let hosts = e.ok(&["exec", "named", "cat", "/etc/hosts"]);
    assert!(hosts.starts_with("127.0.0.1\tlocalhost\n"), "{hosts}");
    assert!(hosts.contains("10.1.2.3\tdb\n"), "{hosts}");
    assert!(hosts.ends_with("172.17.3.4\tbox\n"), "{hosts}");
    let resolv = e.ok(&["exec", "named", "cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 10.0.0.53\n"), "{resolv}");
    assert!(resolv.contains("search corp.example\n"), "{resolv}");
    assert_eq!(e.ok(&["exec", "named", "cat", "/etc/hostname"]), "box\n");
    let addr = e.ok(&["exec", "named", "ip", "-o", "link", "show", "eth0"]);
    assert!(addr.contains("02:11:22:33:44:55"), "{addr}");

    let v = e.inspect("named");
    let ns = &v["NetworkSettings"];
    assert_eq!(ns["IPAddress"], "172.17.3.4");
    assert_eq!(ns["Gateway"], "172.17.0.1");
    assert_eq!(ns["IPPrefixLen"], 16);
    assert_eq!(ns["MacAddress"], "02:11:22:33:44:55");
    let br = &ns["Networks"]["bridge"];
    assert_eq!(br["IPAddress"], "172.17.3.4");
    assert_eq!(br["Gateway"], "172.17.0.1");
    assert_eq!(br["NetworkID"].as_str().unwrap().len(), 64);
    assert_eq!(br["EndpointID"].as_str().unwrap().len(), 64);
    // No --network given: docker says "default" (the bridge, as Networks shows).
    assert_eq!(v["HostConfig"]["NetworkMode"], "default");
    let key = ns["SandboxKey"].as_str().unwrap();
    assert!(key.ends_with(&format!("netns/{id}")), "{key}");

    // The allocation is on disk while it runs, and gone once stopped.
    assert_eq!(
        e.allocations(),
        vec![("172.17.3.4".to_string(), id.to_string())]
    );
    let hosts_file = std::path::Path::new(v["HostsPath"].as_str().unwrap()).to_path_buf();
    let inode = |p: &std::path::Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).unwrap().ino()
    };
    let before = inode(&hosts_file);
    e.ok(&["stop", "-t", "1", "named"]);
    assert!(e.allocations().is_empty());
    assert_eq!(e.inspect("named")["NetworkSettings"]["IPAddress"], "");
    assert!(
        e.network_leftovers().is_empty(),
        "{:?}",
        e.network_leftovers()
    );
    // A restart connects again, at the requested address.
    e.ok(&["start", "named"]);
    assert_eq!(ip_of(&e, "named"), "172.17.3.4");
    // Rewritten in place: a bind mount holds the inode.
    assert_eq!(inode(&hosts_file), before);
    assert!(e
        .ok(&["exec", "named", "cat", "/etc/hosts"])
        .ends_with("172.17.3.4\tbox\n"));
    e.ok(&["rm", "-f", "named"]);
}

#[test]
fn containers_talk_over_the_bridge_and_share_a_stack() {
    require_root!("containers_talk_over_the_bridge_and_share_a_stack");
    let e = Engine::new();
    run_args(&e, &[], &serve_args("srv", "hello-from-srv"));
    let ip = ip_of(&e, "srv");
    assert_eq!(ip, "172.17.0.2");
    let ping = e.ok(&["run", "--rm", "busybox", "ping", "-c", "1", "-w", "5", &ip]);
    assert!(ping.contains("1 packets received"), "{ping}");
    let got = e.ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        &format!(
            "for i in 1 2 3 4 5 6 7 8 9 10; do nc {ip} 80 </dev/null && break; sleep 0.2; done"
        ),
    ]);
    assert_eq!(got.trim(), "hello-from-srv");

    // container:srv sees srv's eth0 and reaches srv's server on 127.0.0.1.
    let addr = e.ok(&[
        "run",
        "--rm",
        "--network",
        "container:srv",
        "busybox",
        "ip",
        "-o",
        "-4",
        "addr",
        "show",
        "eth0",
    ]);
    assert!(addr.contains(&format!("inet {ip}/16")), "{addr}");
    let local = e.ok(&[
        "run",
        "--rm",
        "--network",
        "container:srv",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do nc 127.0.0.1 80 </dev/null && break; sleep 0.2; done",
    ]);
    assert_eq!(local.trim(), "hello-from-srv");
    let shared = e.inspect(
        e.ok(&["create", "--network", "container:srv", "busybox", "true"])
            .trim(),
    );
    let srv_id = e.inspect("srv")["Id"].as_str().unwrap().to_string();
    assert_eq!(
        shared["HostConfig"]["NetworkMode"],
        format!("container:{srv_id}")
    );
    // Conflicting flags are refused up front.
    let (code, _, err) = e.code(&[
        "run",
        "--network",
        "container:srv",
        "-p",
        "8080:80",
        "busybox",
        "true",
    ]);
    assert_eq!(code, 125);
    assert!(err.contains("conflicting options"), "{err}");
    e.ok(&["rm", "-f", "srv"]);
}

#[test]
fn published_ports_reach_the_container_from_the_host() {
    require_root!("published_ports_reach_the_container_from_the_host");
    let e = Engine::new();
    run_args(
        &e,
        &[
            "-p",
            "18080:80",
            "-p",
            "127.0.0.1:18081:80",
            "-p",
            "18090-18092:80/udp",
        ],
        &serve_args("web", "hello-web"),
    );
    // From the host's own loopback (DNAT in output, route_localnet and the
    // 127.0.0.0/8 masquerade) and from its bridge address.
    assert_eq!(fetch_soon(&e.netns, "127.0.0.1:18080").trim(), "hello-web");
    assert_eq!(fetch_soon(&e.netns, "127.0.0.1:18081").trim(), "hello-web");
    assert_eq!(fetch_soon(&e.netns, "172.17.0.1:18080").trim(), "hello-web");
    // The 127.0.0.1-only publication is not on other addresses.
    assert!(fetch(&e.netns, "172.17.0.1:18081").is_err());

    assert_eq!(
        e.ok(&["port", "web"]),
        "80/tcp -> 0.0.0.0:18080\n80/tcp -> 127.0.0.1:18081\n80/udp -> 0.0.0.0:18090\n"
    );
    assert_eq!(e.ok(&["port", "web", "80/udp"]), "0.0.0.0:18090\n");
    let (code, _, err) = e.code(&["port", "web", "81"]);
    assert_eq!(code, 1);
    assert!(err.contains("no public port '81/tcp'"), "{err}");
    let ps = e.ok(&["ps"]);
    assert!(
        ps.contains("0.0.0.0:18080->80/tcp, 0.0.0.0:18090->80/udp, 127.0.0.1:18081->80/tcp"),
        "{ps}"
    );
    let ports = &e.inspect("web")["NetworkSettings"]["Ports"];
    assert_eq!(
        ports["80/tcp"][0],
        serde_json::json!({"HostIp": "0.0.0.0", "HostPort": "18080"})
    );
    assert_eq!(
        e.inspect("web")["HostConfig"]["PortBindings"]["80/udp"][0]["HostPort"],
        "18090-18092"
    );

    // Taken ports are refused before the container starts: published by
    // another container, or bound by a host process.
    let (code, _, err) = e.code(&["run", "--rm", "-p", "18080:80", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        err.contains("18080/tcp is already published by container"),
        "{err}"
    );
    let held = e.netns.run(|| TcpListener::bind("0.0.0.0:18095").unwrap());
    let (code, _, err) = e.code(&["run", "--rm", "-p", "18095:80", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        err.contains("host port 0.0.0.0:18095/tcp is not available"),
        "{err}"
    );
    assert!(!err.trim().contains('\n'), "one line: {err}");
    drop(held);
    e.ok(&["rm", "-f", "web"]);
    assert!(fetch(&e.netns, "127.0.0.1:18080").is_err());
}

#[test]
fn outbound_traffic_is_masqueraded_to_an_upstream() {
    require_root!("outbound_traffic_is_masqueraded_to_an_upstream");
    let e = Engine::new();
    // "upstream": another namespace, routed from the engine's over a veth.
    let up = TestNetns::new("up");
    e.netns.ip(&[
        "link", "add", "upl", "type", "veth", "peer", "name", "upr", "netns", &up.name,
    ]);
    e.netns
        .ip(&["addr", "add", "192.168.213.1/24", "dev", "upl"]);
    e.netns.ip(&["link", "set", "upl", "up"]);
    up.ip(&["addr", "add", "192.168.213.2/24", "dev", "upr"]);
    up.ip(&["link", "set", "upr", "up"]);
    let listener = up.run(|| TcpListener::bind("192.168.213.2:7000").unwrap());
    let server = std::thread::spawn(move || {
        let (mut s, peer) = listener.accept().unwrap();
        s.write_all(b"ok").unwrap();
        peer.ip().to_string()
    });
    let out = e.ok(&[
        "run",
        "--rm",
        "busybox",
        "nc",
        "-w",
        "3",
        "192.168.213.2",
        "7000",
    ]);
    assert_eq!(out, "ok");
    assert_eq!(
        server.join().unwrap(),
        "192.168.213.1",
        "the host's address"
    );
    e.netns.ip(&["link", "del", "upl"]);
}

#[test]
fn run_rm_cycles_leave_nothing_behind() {
    require_root!("run_rm_cycles_leave_nothing_behind");
    let e = Engine::new();
    let n: usize = std::env::var("HUSK_NET_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let t = Instant::now();
    for i in 0..n {
        let args: Vec<&str> = if i % 2 == 0 {
            vec!["run", "--rm", "busybox", "true"]
        } else {
            vec!["run", "--rm", "-p", "18300:80", "busybox", "true"]
        };
        e.ok(&args);
    }
    eprintln!(
        "{n} run --rm cycles on the bridge: {:.2?} ({:.1?} each)",
        t.elapsed(),
        t.elapsed() / n as u32
    );
    assert!(
        e.network_leftovers().is_empty(),
        "{:?}",
        e.network_leftovers()
    );
    // Addresses are reused: the next one is the first of the subnet again.
    let out = e.ok(&[
        "run", "--rm", "busybox", "ip", "-o", "-4", "addr", "show", "eth0",
    ]);
    assert!(out.contains("inet 172.17.0.2/16"), "{out}");
}

#[test]
fn thirty_parallel_containers_get_distinct_addresses() {
    require_root!("thirty_parallel_containers_get_distinct_addresses");
    let e = Engine::new();
    let e = &e;
    let ids: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..30)
            .map(|_| s.spawn(move || e.ok(&["run", "-d", "busybox", "sleep", "300"])))
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap().trim().to_string())
            .collect()
    });
    let mut ips: Vec<String> = ids.iter().map(|id| ip_of(e, id)).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 30, "{ips:?}");
    assert_eq!(e.allocations().len(), 30);
    assert_eq!(e.netns.veths().len(), 30);
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    e.ok(&args);
    assert!(
        e.network_leftovers().is_empty(),
        "{:?}",
        e.network_leftovers()
    );
}

#[test]
fn kill_9_of_monitor_and_container_is_repaired_by_the_next_command() {
    require_root!("kill_9_of_monitor_and_container_is_repaired_by_the_next_command");
    let e = Engine::new();
    let id = e.ok(&["run", "-d", "-p", "18400:80", "busybox", "sleep", "300"]);
    let id = id.trim().to_string();
    let rec = e.record(&id);
    let (pid, monitor) = (
        rec["state"]["pid"].as_i64().unwrap() as i32,
        rec["state"]["monitor_pid"].as_i64().unwrap() as i32,
    );
    assert!(pid > 0 && monitor > 0);
    assert!(!e.network_leftovers().is_empty());
    // Only our own processes, by pid: the monitor first so it records nothing.
    for p in [monitor, pid] {
        husk_fixtures::sigkill(p);
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
    // What the dead left is still there until a command looks.
    assert!(!e.allocations().is_empty());
    let ps = e.ok(&["ps", "-a"]);
    assert!(ps.contains("Exited (255)"), "{ps}");
    assert!(
        e.network_leftovers().is_empty(),
        "{:?}",
        e.network_leftovers()
    );
    // The port is free again.
    e.ok(&["run", "--rm", "-p", "18400:80", "busybox", "true"]);
    e.ok(&["rm", &id]);

    // A monitor killed while connecting leaves a record that never said
    // "running": nothing reconciles it, the gc of the next listing must
    // find what it holds from the address book, the veths and the rules.
    let id = e.ok(&["run", "-d", "-p", "18401:80", "busybox", "sleep", "300"]);
    let id = id.trim().to_string();
    let rec = e.record(&id);
    let (pid, monitor) = (
        rec["state"]["pid"].as_i64().unwrap() as i32,
        rec["state"]["monitor_pid"].as_i64().unwrap() as i32,
    );
    for p in [monitor, pid] {
        husk_fixtures::sigkill(p);
    }
    wait_for("the monitor to die", Duration::from_secs(10), || {
        reap_all();
        std::fs::read_to_string(format!("/proc/{monitor}/stat"))
            .map_or(true, |s| s.contains(") Z "))
    });
    let path = e
        .root
        .path()
        .join("containers")
        .join(&id)
        .join("container.json");
    let mut rec = e.record(&id);
    rec["state"]["status"] = "created".into();
    std::fs::write(&path, serde_json::to_vec(&rec).unwrap()).unwrap();
    assert!(!e.allocations().is_empty());
    e.ok(&["ps", "-a"]);
    assert!(
        e.network_leftovers().is_empty(),
        "{:?}",
        e.network_leftovers()
    );
    e.ok(&["rm", "-f", &id]);
}

#[test]
fn bad_network_input_is_refused_in_one_line() {
    require_root!("bad_network_input_is_refused_in_one_line");
    let e = Engine::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--ip", "10.0.0.5"],
            "address 10.0.0.5 is outside the subnet 172.17.0.0/16",
        ),
        (&["--ip", "172.17.0.1"], "is the gateway of network bridge"),
        (&["--ip", "nope"], "not an IPv4 address"),
        (&["-p", "80/icmp"], "invalid proto: icmp"),
        (
            &["--mac-address", "01:00:00:00:00:01"],
            "invalid mac address",
        ),
        (&["--add-host", "nocolon"], "invalid host entry"),
        (&["--dns", "x"], "not an IP address"),
        (&["--dns-search", "a\nnameserver 1.2.3.4"], "without spaces"),
        (
            &["--network", "none", "--ip", "172.17.0.9"],
            "conflicting options",
        ),
        (&["--network", "container:nosuch"], "no such container"),
    ];
    for (flags, want) in cases {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend(["busybox", "true"]);
        let (code, _, err) = e.code(&args);
        assert_eq!(code, 125, "{flags:?}: {err}");
        assert!(err.contains(want), "{flags:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{flags:?}: {err}");
    }
    // Two containers cannot hold one address.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "holder",
        "--ip",
        "172.17.9.9",
        "busybox",
        "sleep",
        "300",
    ]);
    let (code, _, err) = e.code(&["run", "--rm", "--ip", "172.17.9.9", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("already in use by container"), "{err}");
    e.ok(&["rm", "-f", "holder"]);
}

#[test]
fn subnet_choice_avoids_host_routes_and_config_overlap_is_refused() {
    require_root!("subnet_choice_avoids_host_routes_and_config_overlap_is_refused");
    let e = Engine::new();
    // The "host" already routes 172.17.0.0/16 and 10.99.0.0/24.
    // (veths: this kernel has no dummy links)
    e.netns
        .ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d0p"]);
    e.netns.ip(&["addr", "add", "172.17.0.1/16", "dev", "d0"]);
    e.netns.ip(&["addr", "add", "10.99.0.1/24", "dev", "d0"]);
    e.netns.ip(&["link", "set", "d0", "up"]);
    e.netns.ip(&["link", "set", "d0p", "up"]);
    let out = e.ok(&[
        "run", "--rm", "busybox", "ip", "-o", "-4", "addr", "show", "eth0",
    ]);
    assert!(out.contains("inet 172.18.0.2/16"), "{out}");
    // Recorded: stays the same whatever the routes do later.
    e.netns.ip(&["link", "del", "d0"]);
    let out = e.ok(&[
        "run", "--rm", "busybox", "ip", "-o", "-4", "addr", "show", "eth0",
    ]);
    assert!(out.contains("inet 172.18.0.2/16"), "{out}");

    e.netns
        .ip(&["link", "add", "d1", "type", "veth", "peer", "name", "d1p"]);
    e.netns.ip(&["addr", "add", "10.99.0.1/24", "dev", "d1"]);
    e.netns.ip(&["link", "set", "d1", "up"]);
    e.netns.ip(&["link", "set", "d1p", "up"]);
    e.set_config("[network]\nsubnet = \"10.99.0.0/16\"\n");
    let (code, _, err) = e.code(&["run", "--rm", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        err.contains(
            "subnet 10.99.0.0/16 of network bridge overlaps the host route to 10.99.0.0/24"
        ),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A configured subnet and bridge that fit replace the unused network.
    e.set_config("[network]\nsubnet = \"10.98.0.0/24\"\nbridge = \"husk-t\"\nmtu = 1400\n");
    let out = e.ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "ip -o -4 addr show eth0; cat /sys/class/net/eth0/mtu",
    ]);
    assert!(out.contains("inet 10.98.0.2/24"), "{out}");
    assert!(out.ends_with("1400\n"), "{out}");
    // The old bridge went with the old network.
    assert!(e
        .netns
        .ip(&["-o", "link", "show", "husk-t"])
        .contains("husk-t"));
    assert!(!e.netns.ip(&["-o", "link", "show"]).contains("husk0"));
    e.set_config("[network]\nbogus = 1\n");
    let (code, _, err) = e.code(&["run", "--rm", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("unknown field `bogus`"), "{err}");
    e.set_config("");
    e.netns.ip(&["link", "del", "d1"]);
}

/// `busybox` again as `exposed`, its config saying EXPOSE 80/tcp and
/// 81/tcp: save, edit the config, load.
fn load_image_with_exposed_ports(e: &Engine) {
    let work = tempdir("husk-test-expose-");
    let archive = work.path().join("busybox.tar");
    e.ok(&["save", "-o", archive.to_str().unwrap(), "busybox"]);
    let dir = work.path().join("x");
    std::fs::create_dir(&dir).unwrap();
    let st = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    let manifest_path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let config_name = manifest[0]["Config"].as_str().unwrap().to_string();
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(&config_name)).unwrap()).unwrap();
    config["config"]["ExposedPorts"] = serde_json::json!({"80/tcp": {}, "81/tcp": {}});
    let bytes = serde_json::to_vec(&config).unwrap();
    let new_name = format!("{}.json", husk_image::Digest::of(&bytes).hex());
    std::fs::remove_file(dir.join(&config_name)).unwrap();
    std::fs::write(dir.join(&new_name), &bytes).unwrap();
    manifest[0]["Config"] = serde_json::json!(new_name);
    manifest[0]["RepoTags"] = serde_json::json!(["exposed:latest"]);
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let out = work.path().join("exposed.tar");
    let st = std::process::Command::new("tar")
        .arg("-cf")
        .arg(&out)
        .arg("-C")
        .arg(&dir)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    e.ok(&["load", "-i", out.to_str().unwrap()]);
}

#[test]
fn publish_all_publishes_the_exposed_ports() {
    require_root!("publish_all_publishes_the_exposed_ports");
    let e = Engine::new();
    load_image_with_exposed_ports(&e);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "pub",
        "-P",
        "-p",
        "18500:81",
        "exposed",
        "sh",
        "-c",
        "while true; do echo exposed | nc -l -p 80; done",
    ]);
    let v = e.inspect("pub");
    assert_eq!(
        v["Config"]["ExposedPorts"],
        serde_json::json!({"80/tcp": {}, "81/tcp": {}})
    );
    assert_eq!(v["HostConfig"]["PublishAllPorts"], true);
    let ports = &v["NetworkSettings"]["Ports"];
    assert_eq!(ports["81/tcp"][0]["HostPort"], "18500");
    let host_port = ports["80/tcp"][0]["HostPort"].as_str().unwrap().to_string();
    assert!(host_port.parse::<u16>().unwrap() > 1024, "{host_port}");
    assert_eq!(
        fetch_soon(&e.netns, &format!("127.0.0.1:{host_port}")).trim(),
        "exposed"
    );
    let ps = e.ok(&["ps", "--format", "{{.Ports}}"]);
    assert!(ps.contains(&format!("0.0.0.0:{host_port}->80/tcp")), "{ps}");
    assert!(ps.contains("0.0.0.0:18500->81/tcp"), "{ps}");
    // Without -P an exposed port shows bare in ps and as null in Ports.
    e.ok(&["run", "-d", "--name", "bare", "exposed", "sleep", "300"]);
    let ps = e.ok(&["ps", "--filter", "name=bare", "--format", "{{.Ports}}"]);
    assert_eq!(ps.trim(), "80-81/tcp");
    assert!(e.inspect("bare")["NetworkSettings"]["Ports"]["80/tcp"].is_null());
    e.ok(&["rm", "-f", "pub", "bare"]);
    e.ok(&["rmi", "exposed"]);
}
