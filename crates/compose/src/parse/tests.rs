//! Every syntax the typing accepts, through `load` on a scratch directory.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use crate::*;

fn load_yaml(yaml: &str) -> Result<(Project, tempfile::TempDir), Error> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
    let mut opts = LoadOptions::new(dir.path());
    opts.env = BTreeMap::from([
        ("HOME".to_string(), "/home/u".to_string()),
        ("FROM_ENV".to_string(), "e".to_string()),
    ]);
    opts.project_name = Some("proj".to_string());
    load(&opts).map(|p| (p, dir))
}

fn project(yaml: &str) -> Project {
    load_yaml(yaml).unwrap().0
}

fn service(yaml: &str) -> Service {
    let p = project(yaml);
    p.services.values().next().unwrap().clone()
}

fn error(yaml: &str) -> String {
    let err = load_yaml(yaml).map(|_| ()).unwrap_err().to_string();
    assert!(!err.contains('\n'), "not one line: {err}");
    err
}

#[test]
fn image_and_simple_keys() {
    let s = service(
        "services:
  web:
    image: nginx:1.25
    user: 1000
    working_dir: /app
    hostname: web1
    domainname: example.org
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    init: true
    stop_signal: SIGINT
    stop_grace_period: 1m30s
    dns: 1.1.1.1
    dns_search: [example.org]
    privileged: \"true\"
    read_only: yes
    tty: true
    stdin_open: true
    container_name: web-one
    scale: 1
    pull_policy: if_not_present
    shm_size: 64m
    sysctls: [net.core.somaxconn=1024]
    security_opt: [no-new-privileges:true]
    platform: linux/amd64
    pid: host
    ipc: shareable
    group_add: [audio]
",
    );
    assert_eq!(s.image.as_deref(), Some("nginx:1.25"));
    assert_eq!(s.user.as_deref(), Some("1000"));
    assert_eq!(s.working_dir.as_deref(), Some("/app"));
    assert_eq!(
        (s.hostname.as_deref(), s.domainname.as_deref()),
        (Some("web1"), Some("example.org"))
    );
    assert_eq!(
        (s.cap_add.clone(), s.cap_drop.clone()),
        (vec!["NET_ADMIN".to_string()], vec!["ALL".to_string()])
    );
    assert_eq!(s.init, Some(true));
    assert_eq!(s.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(s.stop_grace_period, Some(Duration::from_secs(90)));
    assert_eq!(s.dns, ["1.1.1.1"]);
    assert_eq!(s.dns_search, ["example.org"]);
    assert!(s.privileged && s.read_only && s.tty && s.stdin_open);
    assert_eq!(s.container_name.as_deref(), Some("web-one"));
    assert_eq!(s.scale, Some(1));
    assert_eq!(s.pull_policy, Some(PullPolicy::Missing));
    assert_eq!(s.shm_size, Some(64 << 20));
    assert_eq!(s.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(s.security_opt, ["no-new-privileges:true"]);
    assert_eq!(s.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(
        (s.pid.as_deref(), s.ipc.as_deref()),
        (Some("host"), Some("shareable"))
    );
    assert_eq!(s.group_add, ["audio"]);
    assert_eq!(s.networks.keys().collect::<Vec<_>>(), ["default"]);
}

#[test]
fn build_short_and_long() {
    let (p, dir) = load_yaml(
        "services:
  a:
    build: ./app
  b:
    build:
      context: ../other
      dockerfile: Dockerfile.dev
      args: [A=1, FROM_ENV, MISSING]
      target: dev
      labels: {x: y}
  c:
    build:
      args: {B: 2, C: }
  d:
    build: https://github.com/a/b.git#main
",
    )
    .unwrap();
    let root = dir.path();
    assert_eq!(
        p.services["a"].build.as_ref().unwrap().context,
        root.join("app").display().to_string()
    );
    let b = p.services["b"].build.as_ref().unwrap();
    assert_eq!(Path::new(&b.context), root.parent().unwrap().join("other"));
    assert_eq!(b.dockerfile.as_deref(), Some("Dockerfile.dev"));
    assert_eq!(b.args["A"].as_deref(), Some("1"));
    assert_eq!(b.args["FROM_ENV"].as_deref(), Some("e"));
    assert_eq!(b.args["MISSING"], None);
    assert_eq!(b.target.as_deref(), Some("dev"));
    assert_eq!(b.labels["x"], "y");
    let c = p.services["c"].build.as_ref().unwrap();
    assert_eq!(c.context, root.display().to_string());
    assert_eq!(
        (c.args["B"].as_deref(), c.args["C"].as_deref()),
        (Some("2"), None)
    );
    assert_eq!(
        p.services["d"].build.as_ref().unwrap().context,
        "https://github.com/a/b.git#main"
    );
}

#[test]
fn command_and_entrypoint() {
    let p = project(
        "services:
  a:
    image: x
    command: sh -c 'echo \"hi there\"; sleep 1'
    entrypoint: [/bin/tini, --]
  b:
    image: x
    entrypoint: []
    command: \"\"
",
    );
    let a = &p.services["a"];
    let cmd = a.command.as_ref().unwrap();
    assert_eq!(cmd.args, ["sh", "-c", "echo \"hi there\"; sleep 1"]);
    assert!(cmd.from_string);
    let ep = a.entrypoint.as_ref().unwrap();
    assert_eq!(ep.args, ["/bin/tini", "--"]);
    assert!(!ep.from_string);
    let b = &p.services["b"];
    assert!(b.entrypoint.as_ref().unwrap().args.is_empty());
    assert!(b.command.as_ref().unwrap().args.is_empty());
}

#[test]
fn environment_list_and_map() {
    let p = project(
        "services:
  a:
    image: x
    environment: [A=1, B=x=y, FROM_ENV, MISSING, EMPTY=]
  b:
    image: x
    environment:
      N: 1
      F: 1.5
      T: true
      S: yes
      NOVAL:
      FROM_ENV:
",
    );
    let a = &p.services["a"].environment;
    assert_eq!(a["A"].as_deref(), Some("1"));
    assert_eq!(a["B"].as_deref(), Some("x=y"));
    assert_eq!(a["FROM_ENV"].as_deref(), Some("e"));
    assert_eq!(a["MISSING"], None);
    assert_eq!(a["EMPTY"].as_deref(), Some(""));
    let b = &p.services["b"].environment;
    assert_eq!(b["N"].as_deref(), Some("1"));
    assert_eq!(b["F"].as_deref(), Some("1.5"));
    assert_eq!(b["T"].as_deref(), Some("true"));
    assert_eq!(b["S"].as_deref(), Some("yes"));
    assert_eq!(b["NOVAL"], None);
    assert_eq!(b["FROM_ENV"].as_deref(), Some("e"));
}

#[test]
fn env_file_string_list_and_required() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.env"),
        "A=from_a\nB=from_a\nC=${FROM_ENV}x\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.env"), "B=from_b\n").unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:
  one:
    image: x
    env_file: a.env
  two:
    image: x
    env_file:
      - ./a.env
      - path: b.env
      - path: missing.env
        required: false
    environment:
      A: override
      C:
      UNSET_HERE:
",
    )
    .unwrap();
    let mut opts = LoadOptions::new(dir.path());
    opts.env.insert("FROM_ENV".into(), "e".into());
    let p = load(&opts).unwrap();
    let one = &p.services["one"];
    assert_eq!(one.environment["A"].as_deref(), Some("from_a"));
    assert_eq!(one.environment["C"].as_deref(), Some("ex"));
    assert_eq!(one.env_file[0].path, dir.path().join("a.env"));
    let two = &p.services["two"];
    assert_eq!(two.environment["A"].as_deref(), Some("override"));
    assert_eq!(two.environment["B"].as_deref(), Some("from_b"));
    // A bare key the environment lacks keeps the env_file value.
    assert_eq!(two.environment["C"].as_deref(), Some("ex"));
    assert_eq!(two.environment["UNSET_HERE"], None);
    assert_eq!(two.env_file.len(), 3);
    assert!(!two.env_file[2].required);

    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  one:\n    image: x\n    env_file: nope.env\n",
    )
    .unwrap();
    let err = load(&opts).unwrap_err().to_string();
    assert!(
        err.starts_with("compose.yaml: services.one.env_file: cannot read "),
        "{err}"
    );
    assert!(
        err.ends_with("create it or mark it required: false"),
        "{err}"
    );

    std::fs::write(dir.path().join("bad.env"), "OK=1\nBAD LINE\n").unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  one:\n    image: x\n    env_file: bad.env\n",
    )
    .unwrap();
    let err = load(&opts).unwrap_err().to_string();
    assert!(err.starts_with("bad.env:2: "), "{err}");
    assert!(err.contains("(env_file of services.one)"), "{err}");
}

#[test]
fn ports_short_and_long() {
    let s = service(
        "services:
  a:
    image: x
    ports:
      - \"8080:80\"
      - 127.0.0.1:5353:53/udp
      - 9000
      - 8000-8001:80-81
      - target: 443
        published: \"8443\"
        host_ip: 0.0.0.0
        protocol: tcp
        mode: host
        name: https
      - target: \"5000\"
        published: 5000
",
    );
    let ports: Vec<(u16, Option<String>, Protocol)> = s
        .ports
        .iter()
        .map(|p| (p.target, p.published.map(|r| r.to_string()), p.protocol))
        .collect();
    assert_eq!(
        ports,
        [
            (80, Some("8080".into()), Protocol::Tcp),
            (53, Some("5353".into()), Protocol::Udp),
            (9000, None, Protocol::Tcp),
            (80, Some("8000".into()), Protocol::Tcp),
            (81, Some("8001".into()), Protocol::Tcp),
            (443, Some("8443".into()), Protocol::Tcp),
            (5000, Some("5000".into()), Protocol::Tcp),
        ]
    );
    assert_eq!(s.ports[1].host_ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(s.ports[5].mode.as_deref(), Some("host"));
    assert_eq!(s.ports[5].name.as_deref(), Some("https"));
}

#[test]
fn expose_and_tmpfs() {
    let s = service(
        "services:\n  a:\n    image: x\n    expose: [80, \"53/udp\", 8000-8010]\n    tmpfs: /run\n",
    );
    assert_eq!(
        s.expose.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["80", "53/udp", "8000-8010"]
    );
    assert_eq!(s.tmpfs, ["/run"]);
    let s = service("services:\n  a:\n    image: x\n    tmpfs: [/run, \"/tmp:size=64m\"]\n");
    assert_eq!(s.tmpfs, ["/run", "/tmp:size=64m"]);
}

#[test]
fn volumes_short_and_long() {
    let (p, dir) = load_yaml(
        "services:
  a:
    image: x
    volumes:
      - data:/data
      - ./rel:/rel
      - /abs:/abs:ro
      - ~/home:/h
      - /anon
      - type: volume
        source: data
        target: /v
        read_only: true
        volume: {nocopy: true}
      - type: bind
        source: ./b
        target: /b
        bind: {create_host_path: false, propagation: rslave}
      - type: tmpfs
        target: /t
        tmpfs: {size: 64m, mode: \"1777\"}
volumes:
  data:
",
    )
    .unwrap();
    let v = &p.services["a"].volumes;
    assert_eq!(
        (v[0].kind, v[0].source.as_deref(), v[0].target.as_str()),
        (MountType::Volume, Some("data"), "/data")
    );
    assert_eq!(v[1].kind, MountType::Bind);
    assert_eq!(
        v[1].source.as_deref(),
        Some(dir.path().join("rel").to_str().unwrap())
    );
    assert!(v[1].bind.as_ref().unwrap().create_host_path);
    assert_eq!(
        (v[2].source.as_deref(), v[2].read_only),
        (Some("/abs"), true)
    );
    assert_eq!(v[3].source.as_deref(), Some("/home/u/home"));
    assert_eq!(
        (v[4].kind, v[4].source.as_deref()),
        (MountType::Volume, None)
    );
    assert!(v[5].read_only && v[5].volume.as_ref().unwrap().nocopy);
    let b = v[6].bind.as_ref().unwrap();
    assert_eq!(
        v[6].source.as_deref(),
        Some(dir.path().join("b").to_str().unwrap())
    );
    assert!(!b.create_host_path);
    assert_eq!(b.propagation.as_deref(), Some("rslave"));
    let t = v[7].tmpfs.as_ref().unwrap();
    assert_eq!(
        (v[7].kind, t.size, t.mode),
        (MountType::Tmpfs, Some(64 << 20), Some(0o1777))
    );
    assert_eq!(p.volumes["data"].name, "proj_data");
}

#[test]
fn undeclared_named_volume_is_an_error() {
    let err = error("services:\n  web:\n    image: x\n    volumes: [\"data:/data\"]\n");
    assert_eq!(
        err,
        "compose.yaml: services.web.volumes[0] \"data:/data\": named volume \"data\" is not declared: add it under the top-level volumes key, or write ./data for a host directory"
    );
    let err = error("services:\n  web:\n    image: x\n    volumes: [{type: volume, source: data, target: /d}]\n");
    assert!(
        err.starts_with(
            "compose.yaml: services.web.volumes[0]: named volume \"data\" is not declared"
        ),
        "{err}"
    );
}

#[test]
fn networks_list_map_and_default() {
    let p = project(
        "services:
  a:
    image: x
  b:
    image: x
    networks: [front]
  c:
    image: x
    networks:
      front:
        aliases: [c1, c2]
        ipv4_address: 172.20.0.5
      back:
  d:
    image: x
    network_mode: host
networks:
  front:
    driver: bridge
    internal: true
    ipam:
      config:
        - subnet: 172.20.0.0/16
          gateway: 172.20.0.1
    labels: [team=a]
  back:
    external: true
  named:
    name: custom
",
    );
    assert_eq!(
        p.services["a"].networks.keys().collect::<Vec<_>>(),
        ["default"]
    );
    assert_eq!(
        p.services["b"].networks.keys().collect::<Vec<_>>(),
        ["front"]
    );
    let c = &p.services["c"].networks;
    assert_eq!(c["front"].aliases, ["c1", "c2"]);
    assert_eq!(c["front"].ipv4_address, Some(Ipv4Addr::new(172, 20, 0, 5)));
    assert_eq!(c["back"], ServiceNetwork::default());
    assert!(p.services["d"].networks.is_empty());
    let front = &p.networks["front"];
    assert_eq!(
        (front.name.as_str(), front.driver.as_deref(), front.internal),
        ("proj_front", Some("bridge"), true)
    );
    let pool = &front.ipam.as_ref().unwrap().config[0];
    assert_eq!(
        (pool.subnet.as_deref(), pool.gateway.as_deref()),
        (Some("172.20.0.0/16"), Some("172.20.0.1"))
    );
    assert_eq!(front.labels["team"], "a");
    assert!(p.networks["back"].external);
    assert_eq!(p.networks["back"].name, "back");
    assert_eq!(p.networks["named"].name, "custom");
    assert_eq!(p.networks["default"].name, "proj_default");
}

#[test]
fn network_errors() {
    let err = error("services:\n  web:\n    image: x\n    networks: [nope]\n");
    assert_eq!(err, "compose.yaml: services.web.networks.nope: network \"nope\" is not declared: add it under the top-level networks key");
    let err =
        error("services:\n  web:\n    image: x\n    network_mode: host\n    networks: [default]\n");
    assert!(
        err.contains("services.web.network_mode: network_mode and networks exclude each other"),
        "{err}"
    );
    let err = error("services: {}\nnetworks:\n  n:\n    external: true\n    driver: bridge\n");
    assert!(
        err.starts_with("compose.yaml: networks.n.driver: an external network is made elsewhere"),
        "{err}"
    );
}

#[test]
fn depends_on_list_and_map() {
    let p = project(
        "services:
  web:
    image: x
    depends_on:
      db:
        condition: service_healthy
        restart: true
      init:
        condition: service_completed_successfully
        required: false
      cache:
  app:
    image: x
    depends_on: [db]
  db: {image: x}
  init: {image: x}
  cache: {image: x}
",
    );
    let web = &p.services["web"].depends_on;
    assert_eq!(
        web["db"],
        Dependency {
            condition: Condition::ServiceHealthy,
            restart: true,
            required: true
        }
    );
    assert_eq!(
        web["init"].condition,
        Condition::ServiceCompletedSuccessfully
    );
    assert!(!web["init"].required);
    assert_eq!(web["cache"], Dependency::default());
    assert_eq!(p.services["app"].depends_on["db"], Dependency::default());
}

#[test]
fn depends_on_undefined() {
    let err = error("services:\n  web:\n    image: x\n    depends_on: [db]\n");
    assert_eq!(err, "compose.yaml: services.web.depends_on.db: service \"db\" is not defined: define it or remove it from depends_on");
    let p = project(
        "services:\n  web:\n    image: x\n    depends_on:\n      db:\n        required: false\n",
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w
                .contains("services.web.depends_on.db: optional dependency \"db\" is not defined")),
        "{:?}",
        p.warnings
    );
    let err = error("services:\n  web:\n    image: x\n    depends_on: {db: {condition: started}}\n  db: {image: x}\n");
    assert!(
        err.contains("services.web.depends_on.db.condition \"started\": unknown condition"),
        "{err}"
    );
}

#[test]
fn restart_policies() {
    let p = project(
        "services:
  a: {image: x, restart: no}
  b: {image: x, restart: \"no\"}
  c: {image: x, restart: always}
  d: {image: x, restart: on-failure}
  e: {image: x, restart: on-failure:3}
  f: {image: x, restart: unless-stopped}
",
    );
    let r: Vec<Restart> = p.services.values().map(|s| s.restart.unwrap()).collect();
    assert_eq!(
        r,
        [
            Restart::No,
            Restart::No,
            Restart::Always,
            Restart::OnFailure { max_retries: None },
            Restart::OnFailure {
                max_retries: Some(3)
            },
            Restart::UnlessStopped
        ]
    );
    assert_eq!(r[4].to_string(), "on-failure:3");
    let err = error("services:\n  a: {image: x, restart: sometimes}\n");
    assert_eq!(err, "compose.yaml: services.a.restart \"sometimes\": unknown restart policy: use no, always, on-failure[:N] or unless-stopped");
}

#[test]
fn healthchecks() {
    let p = project(
        "services:
  a:
    image: x
    healthcheck:
      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost\"]
      interval: 1m30s
      timeout: 10s
      start_period: 500ms
      start_interval: 1s
      retries: 3
  b:
    image: x
    healthcheck:
      test: curl -f http://localhost || exit 1
  c:
    image: x
    healthcheck:
      test: [\"CMD-SHELL\", \"pg_isready\"]
  d:
    image: x
    healthcheck:
      disable: true
  e:
    image: x
    healthcheck:
      test: [\"NONE\"]
",
    );
    let a = p.services["a"].healthcheck.as_ref().unwrap();
    assert_eq!(
        a.test,
        Some(HealthTest::Cmd(vec![
            "curl".into(),
            "-f".into(),
            "http://localhost".into()
        ]))
    );
    assert_eq!(a.interval, Some(Duration::from_secs(90)));
    assert_eq!(a.timeout, Some(Duration::from_secs(10)));
    assert_eq!(a.start_period, Some(Duration::from_millis(500)));
    assert_eq!(a.start_interval, Some(Duration::from_secs(1)));
    assert_eq!(a.retries, Some(3));
    let b = p.services["b"].healthcheck.as_ref().unwrap();
    assert_eq!(
        b.test,
        Some(HealthTest::CmdShell(
            "curl -f http://localhost || exit 1".into()
        ))
    );
    assert_eq!(
        b.test.as_ref().unwrap().to_docker(),
        ["CMD-SHELL", "curl -f http://localhost || exit 1"]
    );
    let c = p.services["c"].healthcheck.as_ref().unwrap();
    assert_eq!(c.test, Some(HealthTest::CmdShell("pg_isready".into())));
    assert!(p.services["d"].healthcheck.as_ref().unwrap().disabled());
    assert!(p.services["e"].healthcheck.as_ref().unwrap().disabled());

    let err =
        error("services:\n  a:\n    image: x\n    healthcheck:\n      test: [\"RUN\", \"x\"]\n");
    assert!(err.starts_with("compose.yaml: services.a.healthcheck.test[0] \"RUN\": a test list starts with CMD, CMD-SHELL or NONE"), "{err}");
    let err = error("services:\n  a:\n    image: x\n    healthcheck:\n      interval: 10\n");
    assert!(
        err.starts_with("compose.yaml: services.a.healthcheck.interval \"10\": missing unit"),
        "{err}"
    );
}

#[test]
fn deploy_resources_and_legacy_keys() {
    let p = project(
        "services:
  a:
    image: x
    deploy:
      replicas: 3
      resources:
        limits: {cpus: \"0.5\", memory: 512M, pids: 100}
        reservations: {cpus: 0.25, memory: 128m}
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3}
      labels: [a=b]
  b:
    image: x
    mem_limit: 1g
    cpus: 1.5
    pids_limit: 10
    mem_reservation: 256m
",
    );
    let a = p.services["a"].deploy.as_ref().unwrap();
    assert_eq!(a.replicas, Some(3));
    assert_eq!(p.services["a"].replicas(), 3);
    let l = a.resources.limits.as_ref().unwrap();
    assert_eq!(
        (l.cpus, l.memory, l.pids),
        (Some(0.5), Some(512 << 20), Some(100))
    );
    let r = a.resources.reservations.as_ref().unwrap();
    assert_eq!((r.cpus, r.memory), (Some(0.25), Some(128 << 20)));
    let rp = a.restart_policy.as_ref().unwrap();
    assert_eq!(
        (rp.condition.as_deref(), rp.delay, rp.max_attempts),
        (Some("on-failure"), Some(Duration::from_secs(5)), Some(3))
    );
    assert_eq!(a.labels["a"], "b");
    let b = p.services["b"].deploy.as_ref().unwrap();
    let l = b.resources.limits.as_ref().unwrap();
    assert_eq!(
        (l.cpus, l.memory, l.pids),
        (Some(1.5), Some(1 << 30), Some(10))
    );
    assert_eq!(
        b.resources.reservations.as_ref().unwrap().memory,
        Some(256 << 20)
    );
    assert_eq!(p.services["b"].replicas(), 1);

    let err = error("services:\n  a:\n    image: x\n    mem_limit: 1g\n    deploy: {resources: {limits: {memory: 2g}}}\n");
    assert_eq!(err, "compose.yaml: services.a.mem_limit: conflicts with deploy.resources.limits.memory: set only one of them");
    let err = error("services:\n  a:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n");
    assert!(
        err.contains("services.a.scale \"2\": differs from deploy.replicas (3)"),
        "{err}"
    );
}

#[test]
fn labels_extra_hosts_ulimits() {
    let s = service(
        "services:
  a:
    image: x
    labels: [com.example.a=1, flag]
    extra_hosts: [\"db:10.0.0.2\", \"v6=::1\", \"gw:host-gateway\"]
    ulimits:
      nproc: 65535
      nofile: {soft: 20000, hard: 40000}
",
    );
    assert_eq!(s.labels["com.example.a"], "1");
    assert_eq!(s.labels["flag"], "");
    assert_eq!(
        s.extra_hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["db=10.0.0.2", "v6=::1", "gw=host-gateway"]
    );
    assert_eq!(
        s.ulimits["nproc"],
        Ulimit {
            soft: 65535,
            hard: 65535
        }
    );
    assert_eq!(
        s.ulimits["nofile"],
        Ulimit {
            soft: 20000,
            hard: 40000
        }
    );
    let s = service("services:\n  a:\n    image: x\n    labels: {b: 2}\n    extra_hosts: {db: 10.0.0.2, multi: [10.0.0.3, \"::2\"]}\n");
    assert_eq!(s.labels["b"], "2");
    assert_eq!(s.extra_hosts.len(), 3);
    let err = error("services:\n  a:\n    image: x\n    extra_hosts: [\"db:nope\"]\n");
    assert!(
        err.starts_with(
            "compose.yaml: services.a.extra_hosts[0] \"db:nope\": \"nope\" is not an IP address"
        ),
        "{err}"
    );
}

#[test]
fn top_level_volumes() {
    let p = project(
        "services: {}
volumes:
  a:
  b:
    driver: local
    driver_opts: {type: tmpfs, device: tmpfs}
    labels: {x: y}
  c:
    external: true
  d:
    name: shared
  e:
    external:
      name: legacy
",
    );
    assert_eq!(p.volumes["a"].name, "proj_a");
    assert_eq!(p.volumes["b"].driver_opts["type"], "tmpfs");
    assert_eq!(
        (p.volumes["c"].name.as_str(), p.volumes["c"].external),
        ("c", true)
    );
    assert_eq!(p.volumes["d"].name, "shared");
    assert_eq!(
        (p.volumes["e"].name.as_str(), p.volumes["e"].external),
        ("legacy", true)
    );
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("volumes.e.external: external.name is deprecated")));
}

#[test]
fn unknown_keys_warn_with_their_path() {
    let p = project(
        "version: \"3.8\"
x-common: &c {image: x}
foo: 1
services:
  web:
    <<: *c
    foo: bar
    x-meta: {anything: 1}
    logging: {driver: json-file}
    healthcheck: {test: [CMD, \"true\"], bogus: 1}
    ports: [{target: 80, nope: 1}]
volumes:
  v:
    what: 1
",
    );
    let w = &p.warnings;
    for expected in [
        "compose.yaml: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
        "compose.yaml: foo: unknown key, ignored",
        "compose.yaml: services.web.foo: unknown key, ignored",
        "compose.yaml: services.web.logging: not supported by husk yet, ignored",
        "compose.yaml: services.web.healthcheck.bogus: unknown key, ignored",
        "compose.yaml: services.web.ports[0].nope: unknown key, ignored",
        "compose.yaml: volumes.v.what: unknown key, ignored",
    ] {
        assert!(w.iter().any(|x| x == expected), "missing {expected:?} in {w:#?}");
    }
    assert!(!w.iter().any(|x| x.contains("x-")), "{w:#?}");
    assert_eq!(p.services["web"].image.as_deref(), Some("x"));
}

#[test]
fn type_errors_name_file_service_and_key() {
    for (yaml, expected) in [
        ("services:\n  web:\n    image: [a]\n", "compose.yaml: services.web.image: found a list: write a string here"),
        ("services:\n  web:\n    image: x\n    ports: [\"80:x\"]\n", "compose.yaml: services.web.ports[0] \"80:x\": container port: \"x\" is not a port number (1-65535): use [[HOST_IP:]HOST:]CONTAINER[/PROTO], e.g. 8080:80 or 127.0.0.1:53:53/udp"),
        ("services:\n  web:\n    image: x\n    tty: maybe\n", "compose.yaml: services.web.tty \"maybe\": found a string: write true or false here"),
        ("services:\n  web:\n    image: x\n    scale: -1\n", "compose.yaml: services.web.scale \"-1\": found a number: write a whole number from 0 to 4294967295 here"),
        ("services:\n  web:\n    image: x\n    shm_size: lots\n", "compose.yaml: services.web.shm_size \"lots\": not a size: use a number of bytes or a number with a unit (k, m, g, t, p), e.g. 512m"),
        ("services:\n  web:\n    image: x\n    command: \"echo 'unterminated\"\n", "compose.yaml: services.web.command \"echo 'unterminated\": unterminated single quote: close it with '"),
        ("services:\n  web:\n    build: {}\n    extends: base\n", "compose.yaml: services.web.extends: extends is not supported by husk yet: copy the base service's keys into this one"),
        ("services:\n  web:\n    restart: always\n", "compose.yaml: services.web: has neither image nor build: add image: NAME or build: DIR"),
        ("services:\n  \"we b\":\n    image: x\n", "compose.yaml: services.we b: a service name may hold only letters, digits, '.', '_' and '-': rename it"),
        ("services: [web]\n", "compose.yaml: services: found a list: write a mapping (key: value lines) here"),
        ("- a\n", "compose.yaml: (top level): found a list: a compose file is a mapping with services: and other keys"),
    ] {
        assert_eq!(error(yaml), expected, "{yaml}");
    }
}
