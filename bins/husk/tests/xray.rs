//! `husk x-ray`, `husk which`/`ps --pid` and `husk why` against the real
//! kernel: every figure x-ray prints is checked against /proc and the
//! cgroup files read here, by the test itself.

mod common;

use std::collections::BTreeSet;

use common::engine::*;
use husk_fixtures::{cgroup_file, require_root};
use serde_json::Value;

fn ns_inode(pid: i32, kind: &str) -> u64 {
    let l = std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).unwrap();
    let s = l.to_str().unwrap();
    s[s.find('[').unwrap() + 1..s.len() - 1].parse().unwrap()
}

fn status_field(pid: i32, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{key}:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

fn json(e: &Engine, args: &[&str]) -> Value {
    let out = e.ok(args);
    serde_json::from_str(&out).unwrap_or_else(|err| panic!("{args:?}: {err}: {out}"))
}

#[test]
fn xray_figures_are_the_kernels() {
    require_root!("xray_figures_are_the_kernels");
    let e = Engine::new();
    // A two-layer image: busybox plus a committed layer.
    e.ok(&[
        "run",
        "--name",
        "base",
        "busybox",
        "sh",
        "-c",
        "echo hi > /hello",
    ]);
    e.ok(&["commit", "base", "two"]);
    e.ok(&["rm", "base"]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "xr",
        "-m",
        "64m",
        "--pids-limit",
        "50",
        "-p",
        "18089:80",
        "two",
        "sh",
        "-c",
        "echo x > /changed; sleep 300 & sleep 301 & wait",
    ]);
    let info = e.inspect("xr");
    let id = info["Id"].as_str().unwrap().to_string();
    let pid = info["State"]["Pid"].as_i64().unwrap() as i32;
    // The init has run its first command once x-ray sees 3 processes.
    let mut x = Value::Null;
    for _ in 0..100 {
        x = json(&e, &["x-ray", "--format", "json", "xr"]);
        if x["processes"].as_array().unwrap().len() == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    assert_eq!(x["id"], id.as_str());
    assert_eq!(x["init"]["host_pid"], pid);
    assert_eq!(x["init"]["pid"], 1);

    // Processes: the cgroup's own list, read here.
    let procs = cgroup_file(pid, "pids", "cgroup.procs", "cgroup.procs").unwrap();
    let want: BTreeSet<i64> = procs.read().lines().map(|l| l.parse().unwrap()).collect();
    let got: BTreeSet<i64> = x["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["host_pid"].as_i64().unwrap())
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 3, "{x:#}");
    for p in x["processes"].as_array().unwrap() {
        let host = p["host_pid"].as_i64().unwrap() as i32;
        let nspid = status_field(host, "NSpid");
        let inside: i64 = nspid.split_whitespace().last().unwrap().parse().unwrap();
        assert_eq!(p["pid"], inside, "{p}");
    }
    // From the init up to its monitor.
    let monitor = e.record(&id)["state"]["monitor_pid"].as_i64().unwrap();
    let chain = x["ancestry"].as_array().unwrap();
    assert_eq!(chain.first().unwrap()["host_pid"], pid);
    assert_eq!(chain.last().unwrap()["host_pid"], monitor, "{chain:?}");

    // Namespaces: the inode of each, against the host's.
    for n in x["namespaces"].as_array().unwrap() {
        let kind = n["kind"].as_str().unwrap();
        assert_eq!(n["inode"], ns_inode(pid, kind), "{kind}");
        // husk's own namespaces are the host's, but for the test's netns.
        if kind != "net" {
            assert_eq!(
                n["host_inode"],
                ns_inode(std::process::id() as i32, kind),
                "{kind}"
            );
        }
        let own = ["mnt", "uts", "ipc", "net", "pid"].contains(&kind);
        assert_eq!(n["shared_with_host"], !own, "{kind}");
    }
    assert!(x["namespaces"].as_array().unwrap().len() >= 5);

    // Limits and usage, file by file, as the cgroup files say.
    let files = x["resources"].as_array().unwrap();
    let value_of = |path: &std::path::Path| {
        files
            .iter()
            .find(|f| f["file"] == path.to_str().unwrap())
            .unwrap_or_else(|| panic!("x-ray has no {}: {files:?}", path.display()))["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mem = cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max").unwrap();
    assert_eq!(value_of(mem.path()), "67108864");
    assert_eq!(mem.read(), "67108864");
    let pids_max = cgroup_file(pid, "pids", "pids.max", "pids.max").unwrap();
    assert_eq!(value_of(pids_max.path()), "50");
    let current = cgroup_file(pid, "pids", "pids.current", "pids.current").unwrap();
    assert_eq!(value_of(current.path()), current.read());

    // The root filesystem: one lower dir per image layer, top first.
    let mut diff_ids: Vec<String> = json(&e, &["image", "inspect", "two"])[0]["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    diff_ids.reverse();
    let lower = x["rootfs"]["lower"].as_array().unwrap();
    assert_eq!(lower.len(), 2);
    let got_ids: Vec<String> = lower
        .iter()
        .map(|l| l["diff_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got_ids, diff_ids);
    for l in lower {
        assert!(
            std::path::Path::new(l["target"].as_str().unwrap()).is_dir(),
            "{l}"
        );
        assert!(l["size"].as_u64().unwrap() > 0, "{l}");
    }
    assert!(x["rootfs"]["mount"]
        .as_str()
        .unwrap()
        .contains(&format!("/containers/{id}/merged type overlay")));
    let changes: Vec<&str> = x["rootfs"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(changes.contains(&"A /changed"), "{changes:?}");

    // Network: the veth pair and the rule that publishes 18089.
    let net = &x["network"];
    assert!(net["host_ifindex"].as_u64().is_some(), "{net}");
    assert_eq!(net["peer_ifindex"], net["ifindex"], "{net}");
    let ip = info["NetworkSettings"]["IPAddress"].as_str().unwrap();
    assert!(
        net["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().starts_with(&format!("{ip}/"))),
        "{net}"
    );
    assert!(net["bridge"].as_str().is_some(), "{net}");
    let rules = net["nft_rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r.as_str().unwrap().contains("18089") && r.as_str().unwrap().contains(ip)),
        "{net}"
    );

    // Credentials, capabilities, seccomp, as /proc/PID/status says.
    let sec = &x["security"];
    let eff = u64::from_str_radix(&status_field(pid, "CapEff"), 16).unwrap();
    assert_eq!(
        sec["cap_effective"].as_array().unwrap().len(),
        eff.count_ones() as usize
    );
    let caps: Vec<&str> = sec["cap_effective"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        caps.contains(&"CAP_CHOWN") && !caps.contains(&"CAP_SYS_ADMIN"),
        "{caps:?}"
    );
    let bnd = u64::from_str_radix(&status_field(pid, "CapBnd"), 16).unwrap();
    assert_eq!(
        sec["cap_bounding"].as_array().unwrap().len(),
        bnd.count_ones() as usize
    );
    assert_eq!(sec["seccomp"], "filter");
    assert_eq!(sec["no_new_privs"], status_field(pid, "NoNewPrivs") == "1");
    assert!(sec["uid"].as_str().unwrap().starts_with("0 "), "{sec}");

    // The commands to paste.
    assert_eq!(
        x["commands"][0],
        format!("nsenter --target {pid} --mount --uts --ipc --net --pid")
    );
    assert_eq!(x["commands"][1], format!("cat {}", mem.path().display()));

    // The screen says the same.
    let text = e.ok(&["x-ray", "xr"]);
    for want in [
        format!("process {pid} on this host, PID 1 inside"),
        format!("nsenter --target {pid}"),
        "67108864".to_string(),
        "= 64MiB".to_string(),
        "A /changed".to_string(),
        "18089".to_string(),
    ] {
        assert!(text.contains(&want), "no {want:?} in:\n{text}");
    }
    e.ok(&["rm", "-f", "xr"]);

    // A stopped container has no process to look at: one line, and where to look.
    e.ok(&["run", "--name", "done", "busybox", "true"]);
    let (code, _, err) = e.code(&["x-ray", "done"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("is not running") && err.contains("husk why done"),
        "{err}"
    );
    e.ok(&["rm", "done"]);
}

#[test]
fn which_and_ps_pid_name_a_host_process_container() {
    require_root!("which_and_ps_pid_name_a_host_process_container");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        "sleep 300 & wait",
    ]);
    let info = e.inspect("web");
    let id = info["Id"].as_str().unwrap();
    let pid = info["State"]["Pid"].as_i64().unwrap() as i32;
    let out = e.ok(&["which", &pid.to_string()]);
    assert!(
        out.starts_with(&format!("{pid} is PID 1 in container web ({})", &id[..12])),
        "{out}"
    );
    // A child of the init: its pid inside as /proc says.
    let procs = cgroup_file(pid, "pids", "cgroup.procs", "cgroup.procs").unwrap();
    let mut child = None;
    for _ in 0..100 {
        child = procs
            .read()
            .lines()
            .map(|l| l.parse::<i32>().unwrap())
            .find(|p| *p != pid);
        if child.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let child = child.expect("the sleep");
    let inside = status_field(child, "NSpid");
    let inside = inside.split_whitespace().last().unwrap();
    let out = e.ok(&["which", &child.to_string()]);
    assert!(
        out.starts_with(&format!("{child} is PID {inside} in container web")),
        "{out}"
    );
    assert!(out.contains("sleep 300"), "{out}");
    assert_eq!(
        e.ok(&["ps", "-q", "--pid", &child.to_string()]).trim(),
        &id[..12]
    );
    let table = e.ok(&["ps", "--pid", &pid.to_string()]);
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(table.lines().nth(1).unwrap().ends_with(" web"), "{table}");

    // A host process (this test) is in no container: exit 1, one line.
    let me = std::process::id().to_string();
    for args in [vec!["which", me.as_str()], vec!["ps", "--pid", me.as_str()]] {
        let (code, out, err) = e.code(&args);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(
            err.contains(&format!("process {me} is not in a husk container")),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let (code, _, err) = e.code(&["which", "2147483646"]);
    assert_eq!(code, 1);
    assert!(err.contains("no process 2147483646"), "{err}");
    e.ok(&["rm", "-f", "web"]);
}

fn why(e: &Engine, name: &str) -> (Value, String) {
    let v = json(e, &["why", "--format", "json", name]);
    let text = e.ok(&["why", name]);
    (v, text)
}

#[test]
fn why_names_the_oom_killer_the_sender_and_the_missing_command() {
    require_root!("why_names_the_oom_killer_the_sender_and_the_missing_command");
    let e = Engine::new();

    // The OOM killer, with the limit and the peak the monitor saw.
    let (code, _, err) = e.code(&[
        "run", "--name", "hog", "-m", "8m", "busybox", "payload", "memhog", "64",
    ]);
    assert_eq!(code, 137, "{err}");
    let (v, text) = why(&e, "hog");
    assert_eq!(v["reason"], "oom-killed", "{v}");
    assert!(
        text.contains("OOM-killed") && text.contains("memory limit of 8MiB"),
        "{text}"
    );
    let id = e.inspect("hog")["Id"].as_str().unwrap().to_string();
    let mem = &e.record(&id)["state"]["end"]["memory"];
    assert_eq!(mem["limit"], 8 * 1024 * 1024, "{mem}");
    let peak = mem["peak"].as_u64().unwrap();
    assert!(peak > 4 * 1024 * 1024 && peak <= 8 * 1024 * 1024, "{mem}");
    assert!(mem["failcnt"].as_u64().unwrap() > 0, "{mem}");

    // 127: the command and where it was looked for.
    let (code, _, _) = e.code(&["run", "--name", "nf", "busybox", "no-such-cmd"]);
    assert_eq!(code, 127);
    let (v, text) = why(&e, "nf");
    assert_eq!(v["reason"], "not-found", "{v}");
    assert!(
        text.contains("\"no-such-cmd\" not found") && text.contains("PATH=/"),
        "{text}"
    );
    // 126: there, but not executable.
    let (code, _, _) = e.code(&["run", "--name", "nx", "busybox", "/etc/passwd"]);
    assert_eq!(code, 126);
    let (v, text) = why(&e, "nx");
    assert_eq!(v["reason"], "not-executable", "{v}");
    assert!(
        text.contains("\"/etc/passwd\" exists but cannot be executed"),
        "{text}"
    );

    // `husk kill`: SIGKILL, and who sent it.
    e.ok(&["run", "-d", "--name", "killed", "busybox", "sleep", "300"]);
    let (v, _) = why(&e, "killed");
    assert_eq!(v["reason"], "running", "{v}");
    e.ok(&["kill", "killed"]);
    let (v, text) = why(&e, "killed");
    assert_eq!(v["reason"], "killed", "{v}");
    assert!(
        text.contains("killed by SIGKILL (exit code 137), sent by `husk kill`"),
        "{text}"
    );

    // `husk stop` whose signal is ignored (an init has no default
    // handlers): SIGKILL after the timeout.
    e.ok(&["run", "-d", "--name", "stopped", "busybox", "sleep", "300"]);
    e.ok(&["stop", "-t", "1", "stopped"]);
    let (v, text) = why(&e, "stopped");
    assert_eq!(v["reason"], "killed", "{v}");
    assert!(
        text.contains("sent by `husk stop`") && text.contains("1s timeout"),
        "{text}"
    );

    // A plain exit code, and a kill from outside husk.
    let (code, _, _) = e.code(&["run", "--name", "three", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(code, 3);
    let (v, text) = why(&e, "three");
    assert_eq!(v["reason"], "exited");
    assert!(text.contains("exited with code 3"), "{text}");
    e.ok(&[
        "run",
        "-d",
        "--name",
        "ext",
        "busybox",
        "sh",
        "-c",
        "sleep 300 & wait",
    ]);
    let pid = e.inspect("ext")["State"]["Pid"].as_i64().unwrap() as i32;
    // Ours to signal: the init of the container this test made.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let code = e.ok(&["wait", "ext"]);
    assert_eq!(code.trim(), "137");
    let (_, text) = why(&e, "ext");
    assert!(
        text.contains("killed by SIGKILL") && text.contains("not by husk"),
        "{text}"
    );

    // A seccomp profile that kills on chroot: SIGSYS, the filter's doing.
    let dir = tempdir("husk-test-seccomp-");
    let profile = dir.path().join("kill-chroot.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["chroot"], "action": "SCMP_ACT_KILL_PROCESS"}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let (code, _, _) = e.code(&[
        "run",
        "--name",
        "sys",
        "--security-opt",
        &opt,
        "busybox",
        "payload",
        "syscall",
        "chroot",
    ]);
    assert_eq!(code, 128 + libc::SIGSYS);
    let (v, text) = why(&e, "sys");
    assert_eq!(v["reason"], "seccomp", "{v}");
    assert!(
        text.contains("a seccomp denial: killed by SIGSYS"),
        "{text}"
    );

    for n in [
        "hog", "nf", "nx", "killed", "stopped", "three", "ext", "sys",
    ] {
        e.ok(&["rm", "-f", n]);
    }
}

#[test]
fn why_names_the_taken_port_and_the_missing_mount_source() {
    require_root!("why_names_the_taken_port_and_the_missing_mount_source");
    let e = Engine::new();
    e.ok(&[
        "run", "-d", "--name", "holder", "-p", "18091:80", "busybox", "sleep", "300",
    ]);
    let holder = e.inspect("holder")["Id"].as_str().unwrap().to_string();
    let (code, _, _) = e.code(&[
        "run", "-d", "--name", "second", "-p", "18091:80", "busybox", "sleep", "300",
    ]);
    assert_eq!(code, 125);
    let (v, text) = why(&e, "second");
    assert_eq!(v["reason"], "port-taken", "{v}");
    assert!(text.contains("18091") && text.contains(&holder), "{text}");

    // A host process listening on the port: this test, in the engine's netns.
    let listener = e
        .netns
        .run(|| std::net::TcpListener::bind("0.0.0.0:18092").unwrap());
    let (code, _, _) = e.code(&[
        "run", "-d", "--name", "third", "-p", "18092:80", "busybox", "sleep", "300",
    ]);
    assert_eq!(code, 125);
    let (v, text) = why(&e, "third");
    assert_eq!(v["reason"], "port-taken", "{v}");
    let me = std::process::id();
    assert!(
        text.contains(&format!("host port 18092 was taken by host PID {me} (")),
        "{text}"
    );
    drop(listener);

    let src = tempdir("husk-test-src-");
    let mount = format!("type=bind,source={},target=/data", src.path().display());
    e.ok(&[
        "create", "--name", "mnt", "--mount", &mount, "busybox", "true",
    ]);
    std::fs::remove_dir(src.path()).unwrap();
    let (code, _, _) = e.code(&["start", "mnt"]);
    assert_ne!(code, 0);
    let (v, text) = why(&e, "mnt");
    assert_eq!(v["reason"], "mount-source", "{v}");
    assert!(
        text.contains(&format!(
            "mount source {} does not exist",
            src.path().display()
        )),
        "{text}"
    );
    for n in ["holder", "second", "third", "mnt"] {
        e.ok(&["rm", "-f", n]);
    }
}
