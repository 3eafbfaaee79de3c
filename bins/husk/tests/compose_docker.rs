//! `husk compose` against docker-compose 1.29.2 (Debian's python one) on
//! a private dockerd: the SAME compose file brought up, scaled, changed
//! and brought down on both, and what a docker user looks at compared:
//! container names (v1's `P_web_1` is compose v2's `P-web-1`, which husk
//! follows), the `com.docker.compose.*` labels, the project network and
//! its labels, service names resolving inside, the published port, the
//! one-shot job's exit, scale numbers, which containers a change
//! recreates, and what `down` leaves.
//!
//! Each side runs in a network namespace of its own (husk's engine one,
//! and one dockerd is started in), so the bridges, the published port
//! and every packet stay there: traffic goes only to 127.0.0.1 inside
//! those namespaces and to the containers made here.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::engine::*;
use husk_fixtures::registry::Dockerd;
use husk_fixtures::{require_root, wait_for};

const PROJECT: &str = "cmpx";
const PORT: u16 = 18580;
const DOCKER_COMPOSE: &str = "/usr/bin/docker-compose";

/// Scale and changes come from the environment, so both tools read one
/// unchanged file: `APP_SCALE` (beside `up --scale app=2`), `APP_REV` and `WEB_REV` (each changes
/// one service's config hash). SIGKILL as stop signal: httpd and sleep as
/// PID 1 ignore SIGTERM, and a 10 s stop timeout would only measure
/// patience.
const APP: &str = r#"
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["18580:80"]
    environment:
      REV: "${WEB_REV:-1}"
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
      interval: 1s
      retries: 30
  app:
    image: busybox
    command: ["sleep", "86400"]
    environment:
      REV: "${APP_REV:-1}"
    scale: ${APP_SCALE:-1}
    stop_signal: SIGKILL
    depends_on:
      web:
        condition: service_healthy
  job:
    image: busybox
    command: ["sh", "-c", "echo job-done"]
"#;

/// The four labels whose values must agree (config-hash is each tool's
/// own hash of its own model, so only its presence is compared).
const SAME_VALUE: [&str; 4] = [
    "com.docker.compose.project",
    "com.docker.compose.service",
    "com.docker.compose.container-number",
    "com.docker.compose.oneoff",
];

/// One compose implementation with the engine it drives.
trait Side {
    fn tool(&self) -> &'static str;
    /// `<compose> -f FILE -p PROJECT ARGS` with `env` added; stdout+stderr,
    /// panicking on failure.
    fn compose(&self, file: &Path, env: &[(&str, &str)], args: &[&str]) -> String;
    /// The engine's docker-compatible CLI (`husk ARGS` / `docker ARGS`).
    fn cli(&self, args: &[&str]) -> Output;
    /// The container name this tool gives service `svc`'s number `n`.
    fn name(&self, svc: &str, n: u32) -> String;
    /// The body served on 127.0.0.1:`port` inside this side's netns.
    fn fetch(&self, port: u16) -> String;
}

struct Husk<'a>(&'a Engine);

impl Side for Husk<'_> {
    fn tool(&self) -> &'static str {
        "husk compose"
    }
    fn compose(&self, file: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
        let mut all = vec!["compose", "-f", file.to_str().expect("utf-8 path"), "-p"];
        all.push(PROJECT);
        all.extend_from_slice(args);
        let mut cmd = self.0.cmd(&all);
        clean_env(&mut cmd, env);
        checked(&mut cmd, &format!("husk {all:?}"))
    }
    fn cli(&self, args: &[&str]) -> Output {
        self.0.run(args)
    }
    fn name(&self, svc: &str, n: u32) -> String {
        format!("{PROJECT}-{svc}-{n}")
    }
    fn fetch(&self, port: u16) -> String {
        fetch(&self.0.netns, port)
    }
}

struct Docker<'a> {
    dockerd: &'a Dockerd,
    netns: &'a TestNetns,
}

impl Side for Docker<'_> {
    fn tool(&self) -> &'static str {
        "docker-compose"
    }
    fn compose(&self, file: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
        let mut cmd = Command::new(DOCKER_COMPOSE);
        cmd.env("DOCKER_HOST", self.dockerd.host())
            .env("DOCKER_CONFIG", self.dockerd.config_dir())
            .arg("-f")
            .arg(file)
            .args(["-p", PROJECT])
            .args(args)
            .stdin(Stdio::null());
        clean_env(&mut cmd, env);
        checked(&mut cmd, &format!("docker-compose {args:?}"))
    }
    fn cli(&self, args: &[&str]) -> Output {
        self.dockerd.docker(args)
    }
    fn name(&self, svc: &str, n: u32) -> String {
        format!("{PROJECT}_{svc}_{n}")
    }
    fn fetch(&self, port: u16) -> String {
        fetch(self.netns, port)
    }
}

/// No COMPOSE_* settings (nor this file's variables) of whoever runs
/// the tests: only `env`.
fn clean_env(cmd: &mut Command, env: &[(&str, &str)]) {
    for (k, _) in std::env::vars() {
        if k.starts_with("COMPOSE_") || k.ends_with("_SCALE") || k.ends_with("_REV") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
}

fn checked(cmd: &mut Command, what: &str) -> String {
    let out = husk_fixtures::output_via_files(cmd);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}): {text}",
        out.status
    );
    text
}

fn fetch(ns: &TestNetns, port: u16) -> String {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut last = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let got = ns.run(|| -> std::io::Result<String> {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        });
        match got {
            Ok(s) if !s.is_empty() => return s.trim_end().lines().last().unwrap_or("").into(),
            other => last = format!("{other:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing served on {addr}: {last}");
}

fn ok(side: &dyn Side, args: &[&str]) -> String {
    let out = side.cli(args);
    assert!(
        out.status.success(),
        "{}: {args:?} failed: {}",
        side.tool(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn inspect(side: &dyn Side, args: &[&str]) -> serde_json::Value {
    let text = ok(side, args);
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: {args:?} is not JSON ({e}): {text}", side.tool()));
    v[0].clone()
}

fn container(side: &dyn Side, svc: &str, n: u32) -> serde_json::Value {
    inspect(side, &["inspect", &side.name(svc, n)])
}

fn id(side: &dyn Side, svc: &str, n: u32) -> String {
    container(side, svc, n)["Id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: {svc} {n} has no Id", side.tool()))
        .to_string()
}

/// The project's containers, named as compose v2 names them: v1's
/// `P_svc_n` is mapped to `P-svc-n` (the documented difference).
fn project_names(side: &dyn Side) -> Vec<String> {
    let filter = format!("label=com.docker.compose.project={PROJECT}");
    let out = ok(
        side,
        &["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"],
    );
    let mut names: Vec<String> = out
        .lines()
        .map(|n| {
            n.strip_prefix(&format!("{PROJECT}_"))
                .and_then(|rest| rest.rsplit_once('_'))
                .map_or_else(
                    || n.to_string(),
                    |(svc, num)| format!("{PROJECT}-{svc}-{num}"),
                )
        })
        .collect();
    names.sort();
    names
}

/// What one tool did with the file: the facts compared across tools.
#[derive(Debug, Default)]
struct Facts {
    names_up: Vec<String>,
    label_keys: BTreeMap<String, BTreeSet<String>>,
    label_values: BTreeMap<String, BTreeMap<String, String>>,
    network_mode: String,
    port_bindings: serde_json::Value,
    healthcheck: serde_json::Value,
    network_labels: BTreeMap<String, String>,
    alias_reply: String,
    name_reply: String,
    short_id_reply: String,
    hostname_is_short_id: bool,
    port_reply: String,
    job: (String, i64),
    job_ps_status: String,
    job_compose_ps: String,
    project_labels: BTreeMap<String, String>,
    names_scaled: Vec<String>,
    app_numbers: Vec<String>,
    scale_kept_web_and_app1: bool,
    change_kept_web: bool,
    change_recreated_app: bool,
    web_change_recreated_web: bool,
    web_change_kept_app: bool,
    alias_after_web_change: String,
    left_after_down: Vec<String>,
    up_ms: u128,
}

fn run_scenario(side: &dyn Side, file: &Path) -> Facts {
    let mut f = Facts::default();
    let t0 = Instant::now();
    side.compose(file, &[], &["up", "-d"]);
    f.up_ms = t0.elapsed().as_millis();
    // The job may still be starting: wait until it has run.
    wait_for("the job to exit", Duration::from_secs(30), || {
        container(side, "job", 1)["State"]["Status"] == "exited"
    });
    f.names_up = project_names(side);
    for svc in ["web", "app", "job"] {
        let labels = container(side, svc, 1)["Config"]["Labels"].clone();
        let map = labels.as_object().cloned().unwrap_or_default();
        f.label_keys.insert(
            svc.into(),
            map.keys()
                .filter(|k| k.starts_with("com.docker.compose."))
                .cloned()
                .collect(),
        );
        f.label_values.insert(
            svc.into(),
            SAME_VALUE
                .iter()
                .map(|k| {
                    let v = map.get(*k).and_then(|v| v.as_str()).unwrap_or("<missing>");
                    (k.to_string(), v.to_string())
                })
                .collect(),
        );
    }
    let web = container(side, "web", 1);
    f.network_mode = web["HostConfig"]["NetworkMode"]
        .as_str()
        .unwrap_or("")
        .into();
    f.port_bindings = web["HostConfig"]["PortBindings"].clone();
    let hc = &web["Config"]["Healthcheck"];
    f.healthcheck = serde_json::json!({
        "Test": hc["Test"], "Interval": hc["Interval"], "Retries": hc["Retries"],
    });
    let aliases = &web["NetworkSettings"]["Networks"][format!("{PROJECT}_default")]["Aliases"];
    assert!(
        aliases
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "web")),
        "{}: web's aliases on {PROJECT}_default: {aliases}",
        side.tool()
    );
    let net = inspect(side, &["network", "inspect", &format!("{PROJECT}_default")]);
    f.network_labels = net["Labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("com.docker.compose."))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect();
    f.alias_reply = ok(
        side,
        &["exec", &side.name("app", 1), "wget", "-qO-", "http://web/"],
    )
    .trim()
    .into();
    // By its container name too (each tool's own), as docker resolves
    // container names on a user network.
    let url = format!("http://{}/", side.name("web", 1));
    f.name_reply = ok(side, &["exec", &side.name("app", 1), "wget", "-qO-", &url])
        .trim()
        .into();
    // And by its short id, which is also its hostname on docker.
    let short: String = web["Id"].as_str().unwrap_or("").chars().take(12).collect();
    let url = format!("http://{short}/");
    f.short_id_reply = ok(side, &["exec", &side.name("app", 1), "wget", "-qO-", &url])
        .trim()
        .into();
    f.hostname_is_short_id = web["Config"]["Hostname"] == short.as_str();
    f.port_reply = side.fetch(PORT);
    let job = container(side, "job", 1);
    f.job = (
        job["State"]["Status"].as_str().unwrap_or("").into(),
        job["State"]["ExitCode"].as_i64().unwrap_or(-1),
    );

    let filter = "label=com.docker.compose.service=job";
    let status = ok(
        side,
        &["ps", "-a", "--filter", filter, "--format", "{{.Status}}"],
    );
    // "Exited (0) 2 seconds ago": the age is not compared.
    f.job_ps_status = status.split(')').next().unwrap_or("").to_string() + ")";
    // `compose ps -a`'s line for it: v1 says "Exit 0", v2 (and husk)
    // "Exited (0) N seconds ago"; both read as "exited 0".
    let ps = side.compose(file, &[], &["ps", "-a"]);
    let line = ps
        .lines()
        .find(|l| l.starts_with(&side.name("job", 1)))
        .unwrap_or_else(|| panic!("{}: no job in compose ps -a: {ps}", side.tool()));
    f.job_compose_ps = if line.contains("Exit 0") || line.contains("Exited (0)") {
        "exited 0".into()
    } else {
        line.into()
    };
    let labels = container(side, "web", 1)["Config"]["Labels"].clone();
    for k in [
        "com.docker.compose.project.working_dir",
        "com.docker.compose.project.config_files",
    ] {
        let v = labels[k].as_str().unwrap_or("").to_string();
        f.project_labels.insert(k.into(), v);
    }

    // Scale with `up --scale app=2` on both; the later steps keep it
    // (flag and the file's `scale:` through APP_SCALE).
    let (web_id, app1_id) = (id(side, "web", 1), id(side, "app", 1));
    let args = vec!["up", "-d", "--scale", "app=2"];
    side.compose(file, &[], &args);
    f.names_scaled = project_names(side);
    f.app_numbers = (1..=2)
        .map(|n| {
            container(side, "app", n)["Config"]["Labels"]["com.docker.compose.container-number"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    f.scale_kept_web_and_app1 = id(side, "web", 1) == web_id && id(side, "app", 1) == app1_id;

    // A change to app only: app's containers are recreated, web (which
    // app depends on, not the reverse) is left running.
    let app_ids = (id(side, "app", 1), id(side, "app", 2));
    side.compose(file, &[("APP_SCALE", "2"), ("APP_REV", "2")], &args);
    f.change_kept_web =
        id(side, "web", 1) == web_id && container(side, "web", 1)["State"]["Status"] == "running";
    let new_ids = (id(side, "app", 1), id(side, "app", 2));
    f.change_recreated_app = new_ids.0 != app_ids.0 && new_ids.1 != app_ids.1;

    // Then web changes: it is recreated (a new address), app is left
    // running and still reaches it by name.
    let env = [("APP_SCALE", "2"), ("APP_REV", "2"), ("WEB_REV", "2")];
    side.compose(file, &env, &args);
    f.web_change_recreated_web = id(side, "web", 1) != web_id;
    f.web_change_kept_app = (id(side, "app", 1), id(side, "app", 2)) == new_ids;
    f.alias_after_web_change = ok(
        side,
        &["exec", &side.name("app", 2), "wget", "-qO-", "http://web/"],
    )
    .trim()
    .into();

    side.compose(file, &[], &["down"]);
    f.left_after_down = project_names(side);
    if side
        .cli(&["network", "inspect", &format!("{PROJECT}_default")])
        .status
        .success()
    {
        f.left_after_down.push(format!("network {PROJECT}_default"));
    }
    f
}

#[test]
fn the_same_compose_file_on_husk_and_on_docker_compose_with_dockerd() {
    require_root!("the_same_compose_file_on_husk_and_on_docker_compose_with_dockerd");
    assert!(
        Path::new(DOCKER_COMPOSE).exists(),
        "{DOCKER_COMPOSE} missing: apt-get install docker-compose (make deps)"
    );
    let dir = tempdir("husk-compose-docker-");
    let file = dir.path().join("compose.yaml");
    std::fs::write(&file, APP).expect("write compose.yaml");

    // docker-compose first: its facts are the reference. The netns is
    // declared before dockerd so dockerd (and its containers) go first.
    let ns = TestNetns::new("dkc");
    ns.lo_up();
    let dockerd = Dockerd::start_in(&ns);
    let img = tempdir("husk-compose-docker-img-");
    husk_fixtures::busybox_rootfs(&img.path().join("rootfs"));
    let tar = img.path().join("busybox.tar");
    husk_fixtures::tar_tree(&img.path().join("rootfs"), &tar);
    dockerd.docker_ok(&["import", tar.to_str().expect("utf-8 path"), "busybox"]);
    let t = Instant::now();
    let docker = run_scenario(
        &Docker {
            dockerd: &dockerd,
            netns: &ns,
        },
        &file,
    );
    eprintln!("docker-compose scenario: {} ms", t.elapsed().as_millis());
    drop(dockerd);
    drop(ns);

    let e = Engine::new();
    let t = Instant::now();
    let husk = run_scenario(&Husk(&e), &file);
    eprintln!("husk compose scenario: {} ms", t.elapsed().as_millis());
    drop(e);

    eprintln!("docker-compose: {docker:#?}\nhusk: {husk:#?}");
    eprintln!(
        "up -d: husk {} ms, docker-compose {} ms",
        husk.up_ms, docker.up_ms
    );
    assert_eq!(husk.names_up, docker.names_up, "names after up");
    assert_eq!(
        husk.names_up,
        ["cmpx-app-1", "cmpx-job-1", "cmpx-web-1"],
        "names after up"
    );
    for (svc, keys) in &docker.label_keys {
        let ours = husk
            .label_keys
            .get(svc)
            .unwrap_or_else(|| panic!("husk: no labels of {svc}"));
        // v1 writes com.docker.compose.version 1.29.2, husk the v2 release
        // it follows; v2 adds depends_on and image, which v1 lacks.
        let missing: Vec<_> = keys.difference(ours).collect();
        assert!(missing.is_empty(), "{svc}: husk lacks {missing:?}");
        let extra: Vec<_> = ours.difference(keys).collect();
        eprintln!("{svc}: husk's labels beyond docker-compose 1.29.2's: {extra:?}");
    }
    assert_eq!(husk.label_values, docker.label_values, "label values");
    assert_eq!(husk.network_mode, docker.network_mode, "NetworkMode");
    assert_eq!(husk.port_bindings, docker.port_bindings, "PortBindings");
    assert_eq!(husk.healthcheck, docker.healthcheck, "web's healthcheck");
    for k in ["com.docker.compose.network", "com.docker.compose.project"] {
        assert_eq!(
            husk.network_labels.get(k),
            docker.network_labels.get(k),
            "network label {k}"
        );
    }
    assert_eq!(docker.alias_reply, "hello-from-web");
    assert_eq!(
        husk.alias_reply, docker.alias_reply,
        "app reaches web by name"
    );
    assert_eq!(
        husk.name_reply, docker.alias_reply,
        "app reaches web's container"
    );
    assert_eq!(docker.name_reply, docker.alias_reply);
    assert_eq!(husk.short_id_reply, docker.alias_reply, "web by short id");
    assert_eq!(docker.short_id_reply, docker.alias_reply);
    assert!(docker.hostname_is_short_id, "docker: web's hostname");
    assert!(husk.hostname_is_short_id, "husk: web's hostname");
    assert_eq!(docker.port_reply, "hello-from-web");
    assert_eq!(husk.port_reply, docker.port_reply, "published port");
    assert_eq!(docker.job, ("exited".to_string(), 0));
    assert_eq!(husk.job, docker.job, "the one-shot job");
    assert_eq!(docker.job_ps_status, "Exited (0)");
    assert_eq!(husk.job_ps_status, docker.job_ps_status, "the job in ps");
    assert_eq!(docker.job_compose_ps, "exited 0");
    assert_eq!(husk.job_compose_ps, docker.job_compose_ps, "compose ps -a");
    assert_eq!(husk.project_labels, docker.project_labels, "project labels");
    assert_eq!(husk.names_scaled, docker.names_scaled, "names after scale");
    assert_eq!(docker.app_numbers, ["1", "2"]);
    assert_eq!(husk.app_numbers, docker.app_numbers, "app's numbers");
    assert!(docker.scale_kept_web_and_app1 && husk.scale_kept_web_and_app1);
    assert!(docker.change_kept_web, "docker-compose recreated web");
    assert!(husk.change_kept_web, "husk recreated web");
    assert!(docker.change_recreated_app && husk.change_recreated_app);
    assert!(docker.web_change_recreated_web && husk.web_change_recreated_web);
    assert!(docker.web_change_kept_app, "docker-compose recreated app");
    assert!(husk.web_change_kept_app, "husk recreated app");
    assert_eq!(docker.alias_after_web_change, "hello-from-web");
    assert_eq!(
        husk.alias_after_web_change, docker.alias_after_web_change,
        "app reaches the recreated web"
    );
    assert_eq!(docker.left_after_down, Vec::<String>::new());
    assert_eq!(husk.left_after_down, docker.left_after_down, "after down");
}
