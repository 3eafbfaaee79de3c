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

/// `husk compose ARGS` for project demo of `text`: (code, stdout, stderr).
fn compose_code(e: &Engine, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let file = dir.join("compose.yaml");
    let mut all = vec!["compose", "-f", file.to_str().unwrap(), "-p", "demo"];
    all.extend_from_slice(args);
    e.code(&all)
}

const ONE_SHOTS: &str = r#"
services:
  a:
    image: busybox
    command: ["sh", "-c", "echo from-a; echo err-a >&2"]
  bb:
    image: busybox
    command: ["sh", "-c", "sleep 1; echo from-bb; exit 3"]
  srv:
    image: busybox
    command: ["sleep", "300"]
    profiles: [long]
  retry:
    image: busybox
    # Slow enough that up follows it from its first run on.
    command: ["sh", "-c", "sleep 1; echo try; exit 1"]
    restart: on-failure:2
    profiles: [retry]
"#;

#[test]
fn attached_up_follows_the_services_until_they_exit() {
    require_root!("attached_up_follows_the_services_until_they_exit");
    let e = Engine::new();
    let dir = tempdir("husk-compose-attached-");
    std::fs::write(dir.path().join("compose.yaml"), ONE_SHOTS).unwrap();

    // Both exit by themselves: up returns 0 once they have, their lines
    // behind docker compose's prefixes (padded to the longest name).
    let (code, out, err) = compose_code(&e, dir.path(), &["up"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("demo-a-1   | from-a\n"), "{out}");
    assert!(out.contains("demo-a-1   | err-a\n"), "{out}");
    assert!(out.contains("demo-bb-1  | from-bb\n"), "{out}");
    assert!(out.contains("demo-bb-1 exited with code 3"), "{out}");
    assert!(out.starts_with("Attaching to "), "{out}");

    // Restarted by its policy: followed on through each run.
    let (code, out, err) = compose_code(&e, dir.path(), &["up", "retry"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.matches("demo-retry-1  | try\n").count(), 3, "{out}");
    assert_eq!(
        out.matches("demo-retry-1 exited with code 1").count(),
        3,
        "{out}"
    );

    // A long-running service: the first exit stops it, and its code is
    // up's; --exit-code-from picks the service whose code it is.
    let (code, out, err) = compose_code(
        &e,
        dir.path(),
        &[
            "--profile",
            "long",
            "up",
            "--abort-on-container-exit",
            "-t",
            "1",
        ],
    );
    assert_eq!(code, 0, "a exits first, with 0: {out}\n{err}");
    assert_eq!(e.inspect("demo-srv-1")["State"]["Status"], "exited");
    let (code, out, err) = compose_code(
        &e,
        dir.path(),
        &[
            "--profile",
            "long",
            "up",
            "--exit-code-from",
            "bb",
            "-t",
            "1",
            "bb",
            "srv",
        ],
    );
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(out.contains("demo-bb-1   | from-bb"), "{out}");
    assert!(!out.contains("from-a"), "a was not asked for: {out}");
    assert_eq!(e.inspect("demo-srv-1")["State"]["Status"], "exited");

    // SIGINT (Ctrl-C) while attached: the project stopped, 130.
    let file = dir.path().join("compose.yaml");
    let log = dir.path().join("up.out");
    let mut child = e
        .cmd(&[
            "compose",
            "-f",
            file.to_str().unwrap(),
            "-p",
            "demo",
            "up",
            "-t",
            "1",
            "srv",
        ])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("up.err")).unwrap())
        .spawn()
        .unwrap();
    wait_for(
        "the attached up to follow srv",
        Duration::from_secs(20),
        || std::fs::read_to_string(&log).is_ok_and(|s| s.contains("Attaching to")),
    );
    // SAFETY: kill(2) on our own child, not yet waited for.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    let err = std::fs::read_to_string(dir.path().join("up.err")).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("Gracefully stopping..."), "{err}");
    assert_eq!(e.inspect("demo-srv-1")["State"]["Status"], "exited");

    let (code, _, err) = compose_code(&e, dir.path(), &["up", "-d", "--abort-on-container-exit"]);
    assert_ne!(code, 0);
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    compose(&e, dir.path(), &["--profile", "long", "down", "-t", "1"]);
    assert_eq!(e.ok(&["ps", "-aq"]), "");
}

const SERVER: &str = r#"
services:
  srv:
    image: busybox
    command: ["sleep", "300"]
    environment:
      WHO: srv
  job:
    image: busybox
    command: ["echo", "from-service"]
    ports: ["18481:80"]
    depends_on: [srv]
"#;

#[test]
fn exec_runs_in_the_services_container() {
    require_root!("exec_runs_in_the_services_container");
    let e = Engine::new();
    let dir = tempdir("husk-compose-exec-");
    std::fs::write(dir.path().join("compose.yaml"), SERVER).unwrap();
    compose(&e, dir.path(), &["up", "-d", "srv"]);

    let (code, out, err) = compose_code(
        &e,
        dir.path(),
        &[
            "exec",
            "-e",
            "X=1",
            "-w",
            "/tmp",
            "srv",
            "sh",
            "-c",
            "echo $WHO-$X-$(pwd); exit 5",
        ],
    );
    assert_eq!(code, 5, "{err}");
    assert_eq!(out.trim(), "srv-1-/tmp");
    let out = compose(
        &e,
        dir.path(),
        &["exec", "-T", "-u", "1000", "srv", "id", "-u"],
    );
    assert_eq!(out.trim(), "1000");
    // --privileged: every capability, beyond the container's own.
    let caps = |extra: &[&str]| {
        let mut args = vec!["exec", "-T"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["srv", "grep", "CapEff", "/proc/self/status"]);
        compose(&e, dir.path(), &args)
    };
    assert_ne!(caps(&[]), caps(&["--privileged"]));

    let (code, _, err) = compose_code(&e, dir.path(), &["exec", "--index", "2", "srv", "true"]);
    assert_ne!(code, 0);
    assert!(err.contains("srv") && err.contains("index 2"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, _, err) = compose_code(&e, dir.path(), &["exec", "job", "true"]);
    assert_ne!(code, 0, "job has no container");
    assert!(err.contains("service job"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    compose(&e, dir.path(), &["down", "-t", "1"]);
    assert_eq!(e.ok(&["ps", "-aq"]), "");
}

#[test]
fn run_makes_a_one_off_container() {
    require_root!("run_makes_a_one_off_container");
    let e = Engine::new();
    let dir = tempdir("husk-compose-run-");
    std::fs::write(dir.path().join("compose.yaml"), SERVER).unwrap();

    // Detached: its name printed, docker compose's name and labels, its
    // dependency started first, its ports not published.
    let name = compose(&e, dir.path(), &["run", "-d", "job", "sleep", "300"]);
    let name = name.trim();
    let slug = name
        .strip_prefix("demo-job-run-")
        .unwrap_or_else(|| panic!("{name}"));
    assert!(
        slug.len() == 12 && slug.bytes().all(|b| b.is_ascii_hexdigit()),
        "{name}"
    );
    let c = e.inspect(name);
    assert_eq!(c["Config"]["Labels"]["com.docker.compose.oneoff"], "True");
    assert_eq!(c["Config"]["Labels"]["com.docker.compose.service"], "job");
    assert_eq!(c["Config"]["Labels"]["com.docker.compose.project"], "demo");
    assert_eq!(c["HostConfig"]["NetworkMode"], "demo_default");
    let ports = &c["HostConfig"]["PortBindings"];
    assert!(
        ports.is_null() || ports.as_object().is_some_and(|o| o.is_empty()),
        "{ports}"
    );
    assert_eq!(e.inspect("demo-srv-1")["State"]["Status"], "running");
    // One-offs are neither listed nor counted by the service's commands.
    let ps = compose(&e, dir.path(), &["ps", "-a"]);
    assert!(!ps.contains("run-"), "{ps}");
    let (code, _, err) = compose_code(&e, dir.path(), &["exec", "job", "true"]);
    assert_ne!(code, 0, "{err}");

    // Attached with --rm: its output, its exit code, then gone.
    let (code, out, err) = compose_code(
        &e,
        dir.path(),
        &[
            "run",
            "--rm",
            "-e",
            "X=2",
            "job",
            "sh",
            "-c",
            "echo one-off-$X; exit 7",
        ],
    );
    assert_eq!(code, 7, "{out}\n{err}");
    assert_eq!(out.trim(), "one-off-2");
    // A command that is not there: docker's 127, and nothing left.
    let (code, _, err) = compose_code(&e, dir.path(), &["run", "--rm", "job", "nosuchcmd"]);
    assert_eq!(code, 127, "{err}");
    let left = e.ok(&[
        "ps",
        "-a",
        "--filter",
        "label=com.docker.compose.oneoff=True",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(left.trim(), name, "the --rm ones are gone");
    // The service's own command when none is given; --no-deps.
    let (code, out, err) = compose_code(&e, dir.path(), &["run", "--rm", "--no-deps", "job"]);
    assert_eq!((code, out.trim()), (0, "from-service"), "{err}");

    compose(&e, dir.path(), &["down", "-t", "1"]);
    assert_eq!(e.ok(&["ps", "-aq"]), "", "down removes one-offs too");
}

const RANKED: &str = r#"
services:
  base:
    image: busybox
    command: ["sleep", "1d"]
    stop_grace_period: 2s
  mid:
    image: busybox
    command: ["sleep", "1d"]
    stop_grace_period: 2s
    depends_on: [base]
  top1:
    image: busybox
    command: ["sleep", "1d"]
    stop_grace_period: 2s
    depends_on: [mid]
  top2:
    build: ./ctx
    stop_grace_period: 2s
    depends_on: [mid]
"#;

/// `(action, container name, signal)` of every kill and die event, in the
/// journal's order.
fn kills_and_deaths(e: &Engine) -> Vec<(String, String, String)> {
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let out = e.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &until.to_string(),
        "--filter",
        "type=container",
        "--format",
        "json",
    ]);
    out.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| matches!(v["Action"].as_str(), Some("kill" | "die")))
        .map(|v| {
            let attr = |k: &str| {
                v["Actor"]["Attributes"][k]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            };
            (
                v["Action"].as_str().unwrap().to_string(),
                attr("name"),
                attr("signal"),
            )
        })
        .collect()
}

#[test]
fn down_stops_dependents_first_each_rank_at_once_and_removes_built_images() {
    require_root!("down_stops_dependents_first_each_rank_at_once_and_removes_built_images");
    let e = Engine::new();
    let dir = tempdir("husk-compose-down-");
    std::fs::write(dir.path().join("compose.yaml"), RANKED).unwrap();
    std::fs::create_dir(dir.path().join("ctx")).unwrap();
    std::fs::write(
        dir.path().join("ctx/Dockerfile"),
        "FROM busybox\nCMD [\"sleep\", \"1d\"]\n",
    )
    .unwrap();
    compose(&e, dir.path(), &["up", "-d"]);
    e.ok(&["image", "inspect", "demo-top2"]);
    compose(&e, dir.path(), &["down", "--rmi", "local"]);
    let ev = kills_and_deaths(&e);
    let at = |action: &str, name: &str, signal: &str| {
        ev.iter()
            .position(|(a, n, s)| a == action && n == name && (signal.is_empty() || s == signal))
            .unwrap_or_else(|| panic!("no {action} {signal} of {name} in {ev:#?}"))
    };
    // sleep as PID 1 ignores SIGTERM: each stop takes its grace period and
    // ends with SIGKILL. top1 and top2 (one rank) are both asked before
    // either dies; mid only once both are gone, base last.
    for a in ["demo-top1-1", "demo-top2-1"] {
        for b in ["demo-top1-1", "demo-top2-1"] {
            assert!(
                at("kill", a, "15") < at("die", b, ""),
                "{a} asked after {b} died: {ev:#?}"
            );
        }
        assert!(at("die", a, "") < at("kill", "demo-mid-1", "15"), "{ev:#?}");
    }
    assert!(
        at("die", "demo-mid-1", "") < at("kill", "demo-base-1", "15"),
        "{ev:#?}"
    );
    // --rmi local: the image compose built goes, the one named in the file stays.
    let (code, _, _) = e.code(&["image", "inspect", "demo-top2"]);
    assert_ne!(code, 0, "demo-top2 outlived down --rmi local");
    e.ok(&["image", "inspect", "busybox"]);
    assert!(e.ok(&["ps", "-aq"]).trim().is_empty());
}
