//! What a docker user trips over on first contact, checked against the
//! real kernel: each test is one of docker's behaviours a script or a
//! habit relies on (`kill && rm`, `rm -f` of nothing, exec's 126/127,
//! `-w` of a new directory, `lo` under `--network none`, flag errors).

mod common;

use common::engine::*;
use husk_fixtures::require_root;

#[test]
fn kill_returns_once_the_container_is_dead() {
    require_root!("kill_returns_once_the_container_is_dead");
    let e = Engine::new();
    e.ok(&["run", "-d", "--name", "victim", "busybox", "sleep", "500"]);
    // No sleep between: docker's kill (SIGKILL) answers after the exit.
    assert_eq!(e.ok(&["kill", "victim"]).trim(), "victim");
    assert_eq!(
        e.ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            "victim"
        ])
        .trim(),
        "exited 137"
    );
    e.ok(&["start", "victim"]);
    e.ok(&["kill", "victim"]);
    assert_eq!(e.ok(&["rm", "victim"]).trim(), "victim");
}

#[test]
fn rm_force_of_a_missing_container_is_silent_success() {
    require_root!("rm_force_of_a_missing_container_is_silent_success");
    let e = Engine::new();
    e.ok(&["create", "--name", "there", "busybox", "true"]);
    let (code, out, err) = e.code(&["rm", "-f", "no-such-container", "there"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "there\n", ""));
    // Without -f it is still an error, as in docker.
    let (code, _, err) = e.code(&["rm", "no-such-container"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no such container: no-such-container"),
        "{err}"
    );
}

#[test]
fn flag_mistakes_are_one_line_and_exit_125() {
    require_root!("flag_mistakes_are_one_line_and_exit_125");
    let e = Engine::new();
    e.ok(&["run", "-d", "--name", "web", "busybox", "sleep", "500"]);
    for (args, want) in [
        (
            &["run", "--restart-always", "busybox"][..],
            "husk: unknown flag: --restart-always: see 'husk run --help'\n",
        ),
        (
            &["exec", "--privileged", "web", "true"][..],
            "husk: unknown flag: --privileged: see 'husk exec --help'\n",
        ),
        (
            &["run", "--cpus", "abc", "busybox"][..],
            "husk: invalid value \"abc\" for --cpus: invalid float literal\n",
        ),
        (
            &["kill", "--bogus", "web"][..],
            "husk: unknown flag: --bogus: see 'husk kill --help'\n",
        ),
    ] {
        let (code, out, err) = e.code(args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (125, "", want),
            "{args:?}"
        );
    }
    // Nothing was created by the refused commands, and web still runs.
    assert_eq!(e.ids().len(), 1);
    let (code, _, err) = e.code(&["search", "busybox"]);
    assert_eq!(code, 125);
    assert!(
        err.starts_with("husk: 'search' is not a husk command yet: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn exec_of_a_missing_or_unrunnable_command_is_127_or_126() {
    require_root!("exec_of_a_missing_or_unrunnable_command_is_127_or_126");
    let e = Engine::new();
    let tools = tempdir("husk-test-tools-");
    let script = tools.path().join("hello");
    std::fs::write(&script, "#!/bin/sh\necho hello from the volume\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let bind = format!("{}:/tools", tools.path().display());
    e.ok(&[
        "run", "-d", "--name", "web", "-v", &bind, "busybox", "sleep", "500",
    ]);
    e.ok(&["exec", "web", "sh", "-c", "echo data > /tmp/plain"]);
    for (args, code, msg) in [
        (
            &["exec", "web", "no-such-command"][..],
            127,
            "exec: \"no-such-command\": executable file not found in $PATH",
        ),
        (
            &["exec", "web", "/etc"][..],
            126,
            "exec: \"/etc\": permission denied",
        ),
        (
            &["exec", "web", "/tmp/plain"][..],
            126,
            "exec: \"/tmp/plain\": permission denied",
        ),
        (
            &["exec", "-w", "/tmp", "web", "./missing"][..],
            127,
            "no such file or directory",
        ),
    ] {
        let (got, out, err) = e.code(args);
        assert_eq!((got, out.as_str()), (code, ""), "{args:?}: {err}");
        assert!(err.starts_with("husk: exec failed: "), "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(!err.contains("husk-runtime"), "{args:?}: {err}");
    }
    // Found where the container sees it (a volume), not only in the image;
    // the command's own status is still its own.
    assert_eq!(
        e.ok(&["exec", "web", "/tools/hello"]),
        "hello from the volume\n"
    );
    assert_eq!(e.code(&["exec", "web", "sh", "-c", "exit 1"]).0, 1);
}

#[test]
fn workdir_that_does_not_exist_is_created() {
    require_root!("workdir_that_does_not_exist_is_created");
    let e = Engine::new();
    // As docker and runc: made root-owned 0755, also on a read-only root
    // and for a user who could not have made it.
    assert_eq!(
        e.ok(&[
            "run",
            "--rm",
            "-w",
            "/srv/new/dir",
            "busybox",
            "sh",
            "-c",
            "pwd; stat -c '%u %a' ."
        ]),
        "/srv/new/dir\n0 755\n"
    );
    assert_eq!(
        e.ok(&[
            "run",
            "--rm",
            "--read-only",
            "-u",
            "65534",
            "-w",
            "/made",
            "busybox",
            "pwd"
        ]),
        "/made\n"
    );
}

#[test]
fn network_none_still_has_a_loopback() {
    require_root!("network_none_still_has_a_loopback");
    let e = Engine::new();
    let out = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "ip -o link show lo; ip -o link | wc -l; ping -c1 -W2 127.0.0.1 >/dev/null && echo pong",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("<LOOPBACK,UP,LOWER_UP>"), "{out}");
    // Only lo: none means no other interface.
    assert_eq!(&lines[1..], ["1", "pong"], "{out}");
}

#[test]
fn ps_quotes_the_command_as_docker_does() {
    require_root!("ps_quotes_the_command_as_docker_does");
    let e = Engine::new();
    e.code(&["run", "--name", "three", "busybox", "sh", "-c", "exit 3"]);
    let out = e.ok(&["ps", "-a"]);
    let row = out.lines().nth(1).unwrap_or_default();
    assert_eq!(columns(row)[2], "\"sh -c 'exit 3'\"", "{out}");
    assert_eq!(
        e.ok(&["ps", "-a", "--format", "{{.Command}}"]),
        "\"sh -c 'exit 3'\"\n"
    );
}

#[test]
fn inspect_shows_dockers_host_config_and_exposed_ports() {
    require_root!("inspect_shows_dockers_host_config_and_exposed_ports");
    let e = Engine::new();
    e.ok(&[
        "create",
        "--name",
        "pub",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1::53/udp",
        "busybox",
        "true",
    ]);
    let v = e.inspect("pub");
    assert_eq!(
        v["Config"]["ExposedPorts"],
        serde_json::json!({"53/udp": {}, "80/tcp": {}})
    );
    let hc = &v["HostConfig"];
    assert_eq!(hc["NetworkMode"], "default");
    assert_eq!(hc["Runtime"], "husk-runtime");
    for (k, want) in [
        ("ShmSize", serde_json::json!(67108864)),
        ("CpuQuota", serde_json::json!(0)),
        ("CpuPeriod", serde_json::json!(0)),
        ("PidMode", serde_json::json!("")),
        ("IpcMode", serde_json::json!("private")),
        ("OomScoreAdj", serde_json::json!(0)),
        ("CgroupnsMode", serde_json::json!("host")),
        ("ContainerIDFile", serde_json::json!("")),
        ("BlkioWeightDevice", serde_json::json!([])),
        ("ConsoleSize", serde_json::json!([0, 0])),
    ] {
        assert_eq!(hc[k], want, "HostConfig.{k} in {hc:#}");
    }
    assert_eq!(hc["MaskedPaths"][0], "/proc/asound");
    assert_eq!(hc["ReadonlyPaths"][3], "/proc/sys");
    // docker's key order, as `docker inspect` prints them.
    let keys: Vec<&str> = hc.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        &keys[..4],
        ["Binds", "ContainerIDFile", "LogConfig", "NetworkMode"]
    );
    assert!(keys.len() >= 60, "{keys:?}");

    e.ok(&[
        "create",
        "--name",
        "priv",
        "--network",
        "bridge",
        "--privileged",
        "busybox",
        "true",
    ]);
    let hc = e.inspect("priv")["HostConfig"].clone();
    assert_eq!(hc["NetworkMode"], "bridge");
    assert!(
        hc["MaskedPaths"].is_null() && hc["ReadonlyPaths"].is_null(),
        "{hc:#}"
    );
    assert!(e.inspect("priv")["Config"]["ExposedPorts"].is_null());
}
