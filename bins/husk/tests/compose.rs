//! `husk compose` (issue 14) end to end, as root against the real kernel:
//! a three-service app (a web server with a published port, an app it
//! waits on until healthy, a one-shot job) brought up, scaled, changed
//! and brought down, in the engine's own network namespace (traffic only
//! to 127.0.0.1 there and to the app's own containers).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use common::engine::*;
use husk_fixtures::{require_root, wait_for};

const APP: &str = r#"
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo web-$${WHO} > /www/index.html && exec httpd -f -p 80 -h /www"]
    environment:
      WHO: ${WHO:-one}
    ports: ["18480:80"]
    depends_on:
      app:
        condition: service_healthy
  app:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo app-says-hi > /www/index.html && touch /tmp/ready && exec httpd -f -p 9000 -h /www"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 30
    labels:
      tier: backend
  job:
    image: busybox
    command: ["sh", "-c", "wget -qO- http://app:9000/ && echo job-done"]
    restart: "no"
    depends_on:
      app:
        condition: service_healthy
"#;

fn compose(e: &Engine, dir: &Path, args: &[&str]) -> String {
    let file = dir.join("compose.yaml");
    let mut all = vec!["compose", "-f", file.to_str().unwrap(), "-p", "demo"];
    all.extend_from_slice(args);
    e.ok(&all)
}

fn fetch(e: &Engine, addr: &str) -> String {
    let addr: SocketAddr = addr.parse().unwrap();
    let mut last = String::new();
    for _ in 0..100 {
        let got = e.netns.run(|| -> std::io::Result<String> {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        });
        match got {
            Ok(s) if !s.is_empty() => return s,
            other => last = format!("{other:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing served on {addr}: {last}");
}

fn id_of(e: &Engine, name: &str) -> String {
    e.inspect(name)["Id"].as_str().unwrap().to_string()
}

#[test]
fn a_three_service_app_comes_up_scales_changes_and_goes() {
    require_root!("a_three_service_app_comes_up_scales_changes_and_goes");
    let e = Engine::new();
    let dir = tempdir("husk-compose-");
    std::fs::write(dir.path().join("compose.yaml"), APP).unwrap();

    compose(&e, dir.path(), &["up", "-d"]);
    // docker compose's names and labels.
    let web = e.inspect("demo-web-1");
    let labels = &web["Config"]["Labels"];
    assert_eq!(labels["com.docker.compose.project"], "demo");
    assert_eq!(labels["com.docker.compose.service"], "web");
    assert_eq!(labels["com.docker.compose.container-number"], "1");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert_eq!(
        labels["com.docker.compose.config-hash"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert_eq!(web["HostConfig"]["NetworkMode"], "demo_default");
    assert_eq!(
        web["NetworkSettings"]["Networks"]["demo_default"]["Aliases"],
        serde_json::json!(["web"])
    );
    let app = e.inspect("demo-app-1");
    assert_eq!(app["Config"]["Labels"]["tier"], "backend");
    assert_eq!(
        app["State"]["Health"]["Status"], "healthy",
        "web waited for it"
    );
    let net: serde_json::Value =
        serde_json::from_str(&e.ok(&["network", "inspect", "demo_default"])).unwrap();
    assert_eq!(net[0]["Labels"]["com.docker.compose.project"], "demo");
    assert_eq!(net[0]["Labels"]["com.docker.compose.network"], "default");

    // The published port, from the host; services by name, inside.
    assert_eq!(
        fetch(&e, "127.0.0.1:18480").trim_end().lines().last(),
        Some("web-one")
    );
    let got = e.ok(&["exec", "demo-web-1", "wget", "-qO-", "http://app:9000/"]);
    assert_eq!(got.trim(), "app-says-hi");
    wait_for("the job to finish", Duration::from_secs(20), || {
        e.inspect("demo-job-1")["State"]["Status"] == "exited"
    });
    assert_eq!(e.inspect("demo-job-1")["State"]["ExitCode"], 0);
    let logs = compose(&e, dir.path(), &["logs", "job"]);
    assert!(logs.contains("demo-job-1  | job-done"), "{logs}");
    let ps = compose(&e, dir.path(), &["ps"]);
    let names: Vec<&str> = ps
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["demo-app-1", "demo-web-1"], "{ps}");
    let filtered = e.ok(&[
        "ps",
        "-a",
        "--filter",
        "label=com.docker.compose.project=demo",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(filtered.lines().count(), 3, "{filtered}");

    // Scaled: a second app, the rest left as they are.
    let (web_id, app_id) = (id_of(&e, "demo-web-1"), id_of(&e, "demo-app-1"));
    let scaled = APP.replace(
        "    labels:\n      tier: backend",
        "    labels:\n      tier: backend\n    scale: 2",
    );
    std::fs::write(dir.path().join("compose.yaml"), &scaled).unwrap();
    compose(&e, dir.path(), &["up", "-d", "web", "app"]);
    assert_eq!(id_of(&e, "demo-web-1"), web_id);
    assert_eq!(e.inspect("demo-app-2")["State"]["Status"], "running");
    // Changed: only the changed service is recreated.
    let changed = scaled.replace("${WHO:-one}", "two");
    std::fs::write(dir.path().join("compose.yaml"), &changed).unwrap();
    compose(&e, dir.path(), &["up", "-d", "-t", "1", "web", "app"]);
    assert_ne!(id_of(&e, "demo-web-1"), web_id, "web changed: recreated");
    assert_eq!(
        id_of(&e, "demo-app-1"),
        app_id,
        "app unchanged: left running"
    );
    assert_eq!(
        fetch(&e, "127.0.0.1:18480").trim_end().lines().last(),
        Some("web-two")
    );
    let config = compose(&e, dir.path(), &["config"]);
    assert!(config.starts_with("name: demo\n"), "{config}");

    compose(&e, dir.path(), &["down", "-t", "1"]);
    assert_eq!(e.ok(&["ps", "-aq"]), "");
    let nets = e.ok(&["network", "ls", "--filter", "type=custom", "-q"]);
    assert_eq!(nets, "", "the project's network goes with down");
}

#[test]
fn bad_compose_files_are_refused_in_one_line() {
    require_root!("bad_compose_files_are_refused_in_one_line");
    let e = Engine::new();
    let dir = tempdir("husk-compose-bad-");
    let cases = [
        (
            "services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n",
            "a -> b -> a",
        ),
        (
            "services:\n  a:\n    image: busybox\n    ports: [\"80:x\"]\n",
            "services.a.ports[0]",
        ),
        (
            "services:\n  a:\n    image: busybox\n    networks: [nosuch]\n",
            "nosuch",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(dir.path().join("compose.yaml"), text).unwrap();
        let file = dir.path().join("compose.yaml");
        let (code, _, err) = e.code(&["compose", "-f", file.to_str().unwrap(), "up", "-d"]);
        assert_ne!(code, 0, "{text}");
        assert!(err.contains(want), "{text}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{text}: {err}");
    }
    assert_eq!(e.ok(&["ps", "-aq"]), "", "nothing was made");
}
