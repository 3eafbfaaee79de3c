//! What engines share on one host (issue 14): two roots in one network
//! namespace, each with its own bridges, subnets and addresses in the one
//! nft table; thirty containers on one network; and how often a start
//! runs nft. Every husk command runs in the test engine's own network
//! namespace (common/engine.rs); traffic only goes between containers the
//! test started.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use common::engine::*;
use husk_fixtures::require_root;

/// A second engine root beside `Engine`, in that engine's network
/// namespace (an `Engine` holds the tests' one serial lock, so a second
/// one cannot be made). Removes its containers and networks on drop.
struct OtherRoot<'a> {
    e: &'a Engine,
    root: tempfile::TempDir,
    runroot: tempfile::TempDir,
}

impl<'a> OtherRoot<'a> {
    fn new(e: &'a Engine) -> OtherRoot<'a> {
        let root = tempdir("husk-test-root2-");
        std::fs::set_permissions(
            root.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        std::fs::write(root.path().join("config.toml"), "").unwrap();
        let o = OtherRoot {
            e,
            root,
            runroot: tempdir("hkr2-"),
        };
        let tar = e.root.path().join("busybox-for-root2.tar");
        let work = tempdir("husk-test-img2-");
        husk_fixtures::busybox_rootfs(&work.path().join("rootfs"));
        husk_fixtures::tar_tree(&work.path().join("rootfs"), &tar);
        o.ok(&["import", tar.to_str().unwrap(), "busybox"]);
        std::fs::remove_file(&tar).unwrap();
        o
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.e.netns.command(env!("CARGO_BIN_EXE_husk"));
        c.arg("--root")
            .arg(self.root.path())
            .arg("--runroot")
            .arg(self.runroot.path())
            .arg("--config")
            .arg(self.root.path().join("config.toml"))
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = husk_fixtures::output_via_files(&mut self.cmd(args));
        assert!(
            out.status.success(),
            "root2: husk {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn inspect(&self, what: &[&str]) -> serde_json::Value {
        let mut args = vec!["inspect"];
        args.extend(what);
        let v: serde_json::Value = serde_json::from_str(&self.ok(&args)).unwrap();
        v[0].clone()
    }
}

impl Drop for OtherRoot<'_> {
    fn drop(&mut self) {
        for id in self.ok(&["ps", "-aq", "--no-trunc"]).split_whitespace() {
            let _ = husk_fixtures::output_via_files(&mut self.cmd(&["rm", "-f", id]));
        }
        let _ = husk_fixtures::output_via_files(&mut self.cmd(&["network", "prune", "-f"]));
        reap_all();
    }
}

/// The bridge option when given (the default network shows it), else
/// docker's `br-` and 12 hex of the id.
fn bridge_of(net: &serde_json::Value) -> String {
    if let Some(b) = net["Options"]["com.docker.network.bridge.name"].as_str() {
        return b.to_string();
    }
    let id = net["Id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {net}"));
    format!("br-{}", &id[..12])
}

fn subnet_of(net: &serde_json::Value) -> String {
    net["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap_or_else(|| panic!("no subnet in {net}"))
        .to_string()
}

fn address(c: &serde_json::Value, net: &str) -> String {
    c["NetworkSettings"]["Networks"][net]["IPAddress"]
        .as_str()
        .unwrap_or_else(|| panic!("no address on {net}: {c}"))
        .to_string()
}

fn pings(e: &Engine, from: &str, to: &str) -> bool {
    let (code, _, _) = e.code(&["exec", from, "ping", "-c", "1", "-W", "1", to]);
    code == 0
}

#[test]
fn two_roots_share_a_host_without_sharing_bridges_rules_or_addresses() {
    require_root!("two_roots_share_a_host_without_sharing_bridges_rules_or_addresses");
    let e = Engine::new();
    let r2 = OtherRoot::new(&e);
    // Both roots choose their default network at the same moment.
    std::thread::scope(|s| {
        for i in 0..2 {
            let e = &e;
            let r2 = &r2;
            s.spawn(move || {
                e.ok(&[
                    "run",
                    "-d",
                    "--name",
                    &format!("a{i}"),
                    "busybox",
                    "sleep",
                    "1d",
                ])
            });
            s.spawn(move || {
                r2.ok(&[
                    "run",
                    "-d",
                    "--name",
                    &format!("b{i}"),
                    "busybox",
                    "sleep",
                    "1d",
                ])
            });
        }
    });
    let n1: serde_json::Value =
        serde_json::from_str(&e.ok(&["network", "inspect", "bridge"])).unwrap();
    let n2: serde_json::Value =
        serde_json::from_str(&r2.ok(&["network", "inspect", "bridge"])).unwrap();
    let (n1, n2) = (&n1[0], &n2[0]);
    assert_ne!(bridge_of(n1), bridge_of(n2), "one bridge for two roots");
    assert_ne!(subnet_of(n1), subnet_of(n2), "one subnet for two roots");
    // A third root told to use the first one's bridge is refused, in one
    // line naming the owner, rather than handing out its addresses again.
    let r3 = OtherRoot::new(&e);
    std::fs::write(
        r3.root.path().join("config.toml"),
        format!("[network]\nbridge = \"{}\"\n", bridge_of(n1)),
    )
    .unwrap();
    let out = husk_fixtures::output_via_files(&mut r3.cmd(&["run", "--rm", "busybox", "true"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "root 3 took root 1's bridge");
    assert!(
        err.contains("belongs to the engine rooted at") && err.trim().lines().count() == 1,
        "{err}"
    );
    drop(r3);
    let mut seen = BTreeSet::new();
    for (who, c) in [("a0", e.inspect("a0")), ("a1", e.inspect("a1"))]
        .into_iter()
        .chain([("b0", r2.inspect(&["b0"])), ("b1", r2.inspect(&["b1"]))])
    {
        let ip = address(&c, "bridge");
        assert!(seen.insert(ip.clone()), "{who} got {ip}, already given");
    }

    // The same network name in both roots: each gets its masquerade and
    // isolation rules (their tags name the bridge, which only one has).
    e.ok(&["network", "create", "app"]);
    r2.ok(&["network", "create", "app"]);
    let app1: serde_json::Value =
        serde_json::from_str(&e.ok(&["network", "inspect", "app"])).unwrap();
    let app2: serde_json::Value =
        serde_json::from_str(&r2.ok(&["network", "inspect", "app"])).unwrap();
    let (b1, b2) = (bridge_of(&app1[0]), bridge_of(&app2[0]));
    assert_ne!(subnet_of(&app1[0]), subnet_of(&app2[0]));
    let rules = rule_comments(&e.netns, "ip");
    for b in [&b1, &b2] {
        for tag in ["husk-net", "husk-iso"] {
            let want = format!("{tag} {b}");
            assert!(rules.contains(&want), "no {want:?} in {rules:#?}");
        }
    }
    e.ok(&[
        "run",
        "-d",
        "--name",
        "a2",
        "--network",
        "app",
        "busybox",
        "sleep",
        "1d",
    ]);
    r2.ok(&[
        "run",
        "-d",
        "--name",
        "b2",
        "--network",
        "app",
        "busybox",
        "sleep",
        "1d",
    ]);
    let a1 = address(&e.inspect("a1"), "bridge");
    let b2_ip = address(&r2.inspect(&["b2"]), "app");
    assert!(
        pings(&e, "a0", &a1),
        "a0 cannot reach a1 on its own network"
    );
    // Isolation holds across roots too: every bridge is in the one set.
    assert!(
        !pings(&e, "a2", &b2_ip),
        "root 1's app reaches root 2's app"
    );

    // Root 2 leaving takes only its own rules.
    r2.ok(&["rm", "-f", "b0", "b1", "b2"]);
    r2.ok(&["network", "rm", "app"]);
    let rules = rule_comments(&e.netns, "ip");
    assert!(
        !rules.iter().any(|r| r.ends_with(&format!(" {b2}"))),
        "root 2's app left rules: {rules:#?}"
    );
    for tag in ["husk-net", "husk-iso"] {
        let want = format!("{tag} {b1}");
        assert!(rules.contains(&want), "root 2 took {want:?}: {rules:#?}");
    }
    assert!(pings(&e, "a0", &a1), "root 2's exit broke root 1's network");
    e.ok(&["rm", "-f", "a0", "a1", "a2"]);
    e.ok(&["network", "rm", "app"]);
}

#[test]
fn thirty_containers_on_one_network_get_addresses_and_names_of_their_own() {
    require_root!("thirty_containers_on_one_network_get_addresses_and_names_of_their_own");
    let e = Engine::new();
    e.ok(&["network", "create", "--subnet", "10.77.0.0/24", "many"]);
    let names: Vec<String> = (0..30).map(|i| format!("m{i:02}")).collect();
    for n in &names {
        e.ok(&[
            "run",
            "-d",
            "--name",
            n,
            "--network",
            "many",
            "busybox",
            "sleep",
            "1d",
        ]);
    }
    let mut ips = BTreeSet::new();
    for n in &names {
        let ip = address(&e.inspect(n), "many");
        assert!(ip.starts_with("10.77.0."), "{n}: {ip}");
        assert!(ips.insert(ip.clone()), "{n} got {ip} twice");
    }
    // The first one started before the others: its /etc/hosts followed.
    let hosts = e.ok(&["exec", "m00", "cat", "/etc/hosts"]);
    for n in &names[1..] {
        assert!(
            hosts.split_whitespace().any(|w| w == n),
            "m00's /etc/hosts lacks {n}:\n{hosts}"
        );
    }
    assert!(pings(&e, "m00", "m29"), "m00 cannot reach m29 by name");
    assert!(pings(&e, "m29", "m00"), "m29 cannot reach m00 by name");
    let mut rm = vec!["rm", "-f"];
    rm.extend(names.iter().map(String::as_str));
    e.ok(&rm);
    assert!(e.allocations().is_empty(), "{:?}", e.allocations());
    e.ok(&["network", "rm", "many"]);
}

/// The nft processes a husk command runs, counted with strace.
fn nft_runs(e: &Engine, args: &[&str]) -> Vec<String> {
    let trace = e.root.path().join("nft.trace");
    let husk = e.cmd(args);
    let mut cmd = e.netns.command("strace");
    cmd.args(["-f", "-qq", "-e", "trace=execve", "-o"])
        .arg(&trace)
        .arg(husk.get_program());
    cmd.args(husk.get_args());
    cmd.stdin(Stdio::null());
    let out = husk_fixtures::output_via_files(&mut cmd);
    assert!(
        out.status.success(),
        "husk {args:?} under strace: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    std::fs::remove_file(&trace).unwrap();
    text.lines()
        .filter(|l| l.contains("execve(\"/usr/sbin/nft\"") && !l.contains("= -1"))
        .map(|l| l.split("execve").nth(1).unwrap_or(l).to_string())
        .collect()
}

#[test]
fn a_start_and_a_stop_each_run_nft_at_most_twice() {
    require_root!("a_start_and_a_stop_each_run_nft_at_most_twice");
    assert!(
        Path::new("/usr/bin/strace").exists(),
        "strace is missing: make deps installs it"
    );
    let e = Engine::new();
    // The first start of a network sets its rules up: not counted.
    e.ok(&["run", "--rm", "busybox", "true"]);
    // Was 2: the start's listing, and one more at the stop.
    let plain = nft_runs(&e, &["run", "--rm", "busybox", "true"]);
    assert!(plain.len() <= 1, "run --rm without ports: {plain:#?}");
    // Detached containers would keep strace (which follows the monitor)
    // waiting: a foreground run covers start and stop in one trace. Was
    // 6: a listing each for the ports in use, the network's rules and the
    // publishing, a batch, and a listing and a batch at the stop.
    let published = nft_runs(
        &e,
        &["run", "--rm", "-p", "127.0.0.1::80", "busybox", "true"],
    );
    assert!(
        published.len() <= 4,
        "run --rm -p: a listing and a batch to start, the same to stop, not {published:#?}"
    );
}
