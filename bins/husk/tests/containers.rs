//! Containers end to end, as root against the real kernel: `husk run`,
//! the monitor, ps/inspect/logs/stop/kill/rm/exec/wait, through
//! husk-runtime (and crun). Each test has its own --root and --runroot and
//! checks on exit that no container, mount, cgroup or runtime state is left.
//!
//! Tests take one process-wide lock: the test process is the subreaper of
//! the monitors it starts (this machine's PID 1 never reaps), and reaping
//! with waitpid(-1) must not race another test's `Command::status`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::engine::*;
use husk_fixtures::{cgroup_file, require_root, skip, Terminal};

#[test]
fn run_detached_then_ps_inspect_nsenter_logs_stop_rm() {
    require_root!("run_detached_then_ps_inspect_nsenter_logs_stop_rm");
    let e = Engine::new();
    assert_eq!(
        e.ok(&["ps"]),
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
    );
    let id = e.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        "echo hello; exec sleep 500",
    ]);
    let id = id.trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let short = &id[..12];

    let ps = e.ok(&["ps"]);
    let lines: Vec<&str> = ps.lines().collect();
    assert_eq!(lines.len(), 2, "{ps}");
    assert!(
        lines[0].starts_with("CONTAINER ID   IMAGE     COMMAND "),
        "{ps}"
    );
    let cols = columns(lines[1]);
    assert_eq!(cols[0], short, "{ps}");
    assert_eq!(cols[1], "busybox");
    // docker quotes an argument holding a space (moby list.go), then cuts at 20.
    assert_eq!(cols[2], "\"sh -c 'echo hello; …\"");
    assert!(cols[3].ends_with(" ago"), "{ps}");
    assert!(cols[4].starts_with("Up "), "{ps}");
    assert_eq!(cols[5], "web");
    assert_eq!(e.ok(&["ps", "-q"]).trim(), short);
    assert_eq!(e.ok(&["ps", "-q", "--no-trunc"]).trim(), id);

    let info = e.inspect("web");
    assert_eq!(info["Id"], id.as_str());
    assert_eq!(info["Name"], "/web");
    assert_eq!(info["State"]["Status"], "running");
    assert_eq!(info["State"]["Running"], true);
    assert_eq!(info["Path"], "sh");
    assert_eq!(info["Config"]["Hostname"], short);
    assert_eq!(info["Config"]["Image"], "busybox");
    assert_eq!(info["GraphDriver"]["Name"], "overlay");
    assert!(info["Image"].as_str().unwrap().starts_with("sha256:"));
    let pid = info["State"]["Pid"].as_i64().unwrap();
    assert!(pid > 0);
    assert_eq!(
        e.ok(&["inspect", "-f", "{{.State.Pid}}", short]).trim(),
        pid.to_string()
    );
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    let ours = std::fs::read_link("/proc/self/ns/pid").unwrap();
    assert_ne!(theirs, ours);
    let out = Command::new("nsenter")
        .args([
            "--target",
            &pid.to_string(),
            "--pid",
            "--mount",
            "--uts",
            "hostname",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), short);
    let merged = info["GraphDriver"]["Data"]["MergedDir"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        mounts_under(Path::new(&merged)).len(),
        1,
        "rootfs not mounted"
    );

    wait_for("the log line", Duration::from_secs(5), || {
        e.ok(&["logs", "web"]) == "hello\n"
    });
    let log = std::fs::read_to_string(info["LogPath"].as_str().unwrap()).unwrap();
    let rec: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(rec["log"], "hello\n");
    assert_eq!(rec["stream"], "stdout");
    assert!(rec["time"].as_str().unwrap().ends_with('Z'));

    // sleep as PID 1 ignores SIGTERM: stop escalates to SIGKILL after -t.
    assert_eq!(e.ok(&["stop", "-t", "1", "web"]), "web\n");
    let info = e.inspect("web");
    assert_eq!(info["State"]["Status"], "exited");
    assert_eq!(info["State"]["ExitCode"], 137);
    assert_eq!(info["State"]["Pid"], 0);
    assert!(mounts_under(Path::new(&merged)).is_empty());
    assert!(cgroup_dirs(&id).is_empty(), "cgroups left after stop");
    assert_eq!(e.ok(&["ps"]).lines().count(), 1);
    let all = e.ok(&["ps", "-a"]);
    assert!(all.contains("Exited (137) "), "{all}");
    assert_eq!(e.ok(&["rm", "web"]), "web\n");
    assert_eq!(e.ok(&["ps", "-a"]).lines().count(), 1);
    let (code, _, err) = e.code(&["inspect", "web"]);
    assert_eq!(code, 1);
    assert!(err.contains("No such object: web"), "{err}");
}

#[test]
fn limits_reach_the_cgroup() {
    require_root!("limits_reach_the_cgroup");
    let e = Engine::new();
    let id = e.ok(&[
        "run",
        "-d",
        "-m",
        "400m",
        "--pids-limit",
        "64",
        "--cpus",
        "1.5",
        "--cpu-shares",
        "512",
        "busybox",
        "sleep",
        "500",
    ]);
    let id = id.trim();
    let info = e.inspect(id);
    assert_eq!(info["HostConfig"]["Memory"], 419430400);
    assert_eq!(info["HostConfig"]["PidsLimit"], 64);
    assert_eq!(info["HostConfig"]["NanoCpus"], 1_500_000_000i64);
    assert_eq!(info["HostConfig"]["CpuShares"], 512);
    // The files the kernel enforces, v1 or v2, wherever each controller is.
    let pid = info["State"]["Pid"].as_i64().unwrap() as i32;
    let file = |ctrl: &str, v1: &str, v2: &str| {
        cgroup_file(pid, ctrl, v1, v2)
            .unwrap_or_else(|| panic!("no {ctrl} controller on v1 or v2 for {pid}"))
    };
    // --cpus 1.5 is a quota of 150 ms per 100 ms period.
    let quota = file("cpu", "cpu.cfs_quota_us", "cpu.max");
    assert_eq!(
        quota.read(),
        quota.pick("150000", "150000 100000"),
        "{quota:?}"
    );
    // v2 maps shares 512 to weight 20 (crun's formula).
    let shares = file("cpu", "cpu.shares", "cpu.weight");
    assert_eq!(shares.read(), shares.pick("512", "20"), "{shares:?}");
    let limit = file("memory", "memory.limit_in_bytes", "memory.max");
    assert_eq!(limit.read(), "419430400", "{limit:?}");
    let pids = file("pids", "pids.max", "pids.max");
    assert_eq!(pids.read(), "64", "{pids:?}");
    assert_eq!(e.ok(&["rm", "-f", id]).trim(), id);
    assert!(cgroup_dirs(id).is_empty());

    // Over the limit: the kernel's OOM killer ends it, and the record says so.
    let (code, _, err) = e.code(&[
        "run", "--name", "hog", "-m", "8m", "busybox", "payload", "memhog", "64",
    ]);
    assert_eq!(code, 137, "{err}");
    assert_eq!(
        e.ok(&[
            "inspect",
            "-f",
            "{{.State.OOMKilled}} {{.State.ExitCode}}",
            "hog"
        ]),
        "true 137\n"
    );
}

#[test]
fn foreground_run_streams_output_and_exit_codes() {
    require_root!("foreground_run_streams_output_and_exit_codes");
    let e = Engine::new();
    let (code, out, err) = e.code(&[
        "run",
        "--name",
        "three",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!((code, out.as_str(), err.as_str()), (3, "out\n", "err\n"));
    assert_eq!(e.inspect("three")["State"]["ExitCode"], 3);
    let ps = e.ok(&["ps", "-a"]);
    assert!(ps.contains("Exited (3) "), "{ps}");
    let (_, out, err) = e.code(&["logs", "three"]);
    assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
    assert_eq!(e.code(&["logs", "--tail", "1", "three"]).2, "err\n");

    // A command that does not exist: docker's 127, container left "created".
    let (code, _, err) = e.code(&["run", "--name", "nope", "busybox", "no-such-command"]);
    assert_eq!(code, 127, "{err}");
    assert!(err.contains("no-such-command"), "{err}");
    let info = e.inspect("nope");
    assert_eq!(info["State"]["Status"], "created");
    assert_eq!(info["State"]["ExitCode"], 127);
    assert!(
        info["State"]["Error"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{info}"
    );

    // Flags that shape the process: env, workdir, hostname, entrypoint, user.
    let (code, out, err) = e.code(&[
        "run",
        "--rm",
        "-e",
        "FOO=bar",
        "-w",
        "/tmp",
        "--hostname",
        "box",
        "-u",
        "1000:1000",
        "--entrypoint",
        "/bin/sh",
        "busybox",
        "-c",
        "echo $FOO $(pwd) $(hostname) $(id -u):$(id -g)",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "bar /tmp box 1000:1000\n");

    // The engine's own errors are 125.
    let (code, _, err) = e.code(&["run", "no-such-image", "true"]);
    assert_eq!(code, 125, "{err}");
    let (code, _, err) = e.code(&["run", "--name", "-bad", "busybox", "true"]);
    assert_eq!(code, 125, "{err}");
    let (code, _, err) = e.code(&["run", "--name", "three", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("already in use"), "{err}");
}

#[test]
fn rm_flag_removes_the_container() {
    require_root!("rm_flag_removes_the_container");
    let e = Engine::new();
    let (code, out, _) = e.code(&["run", "--rm", "busybox", "sh", "-c", "echo bye; exit 2"]);
    assert_eq!((code, out.as_str()), (2, "bye\n"));
    assert!(e.ids().is_empty(), "record left after --rm");
    let id = e.ok(&["run", "-d", "--rm", "busybox", "sleep", "0.3"]);
    let id = id.trim().to_string();
    wait_for("--rm -d removal", Duration::from_secs(10), || {
        e.ids().is_empty()
    });
    assert!(cgroup_dirs(&id).is_empty());
    assert_eq!(e.ok(&["ps", "-a"]).lines().count(), 1);
}

#[test]
fn create_start_wait_and_restart() {
    require_root!("create_start_wait_and_restart");
    let e = Engine::new();
    let id = e.ok(&[
        "create",
        "--name",
        "job",
        "busybox",
        "sh",
        "-c",
        "echo ran; exit 5",
    ]);
    let id = id.trim();
    assert_eq!(id.len(), 64);
    let ps = e.ok(&["ps", "-a"]);
    assert!(ps.contains("Created"), "{ps}");
    assert_eq!(e.inspect("job")["State"]["Status"], "created");
    assert_eq!(e.ok(&["start", "job"]), "job\n");
    assert_eq!(e.ok(&["wait", "job"]), "5\n");
    assert_eq!(e.inspect("job")["State"]["Status"], "exited");
    // A second start reuses the container and its writable layer.
    e.ok(&["start", "job"]);
    assert_eq!(e.ok(&["wait", "job"]), "5\n");
    assert_eq!(e.ok(&["logs", "job"]), "ran\nran\n");
    // The writable layer survives restarts.
    let id2 = e.ok(&[
        "create",
        "busybox",
        "sh",
        "-c",
        "cat /f 2>/dev/null; echo x > /f",
    ]);
    let id2 = id2.trim();
    e.ok(&["start", id2]);
    e.ok(&["wait", id2]);
    e.ok(&["start", id2]);
    e.ok(&["wait", id2]);
    assert_eq!(e.ok(&["logs", id2]), "x\n");
    assert_eq!(e.ok(&["rm", id]).trim(), id);
}

#[test]
fn exec_kill_and_rm_force() {
    require_root!("exec_kill_and_rm_force");
    let e = Engine::new();
    e.ok(&[
        "run", "-d", "--name", "box", "-e", "A=1", "busybox", "sleep", "500",
    ]);
    let (code, out, err) = e.code(&[
        "exec",
        "-e",
        "B=2",
        "-w",
        "/tmp",
        "box",
        "sh",
        "-c",
        "echo $A $B $(pwd); exit 7",
    ]);
    assert_eq!((code, out.as_str()), (7, "1 2 /tmp\n"), "{err}");
    assert_eq!(e.ok(&["exec", "-u", "1000", "box", "id", "-u"]), "1000\n");
    let work = tempdir("husk-test-exec-");
    std::fs::write(work.path().join("in"), "typed\n").unwrap();
    let out = e
        .cmd(&["exec", "-i", "box", "cat"])
        .stdin(std::fs::File::open(work.path().join("in")).unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "typed\n");
    // Without -i the process reads nothing.
    let out = e
        .cmd(&["exec", "box", "cat"])
        .stdin(std::fs::File::open(work.path().join("in")).unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let (code, _, err) = e.code(&["rm", "box"]);
    assert_eq!(code, 1);
    assert!(err.contains("running"), "{err}");
    assert_eq!(e.ok(&["kill", "-s", "TERM", "box"]), "box\n");
    // PID 1 without a handler ignores TERM; it is still up.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(e.inspect("box")["State"]["Running"], true);
    assert_eq!(e.ok(&["kill", "box"]), "box\n");
    assert_eq!(e.ok(&["wait", "box"]), "137\n");
    e.ok(&["run", "-d", "--name", "box2", "busybox", "sleep", "500"]);
    assert_eq!(e.ok(&["rm", "-f", "box2"]), "box2\n");
    assert_eq!(
        e.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]),
        "box exited\n"
    );
    e.ok(&[
        "run",
        "-d",
        "--name",
        "box3",
        "-l",
        "tier=front",
        "busybox",
        "sleep",
        "500",
    ]);
    assert_eq!(
        e.ok(&["ps", "-q", "-f", "status=exited"]).lines().count(),
        1
    );
    assert_eq!(
        e.ok(&["ps", "--format", "{{.Names}}", "-f", "label=tier=front"]),
        "box3\n"
    );
    assert_eq!(
        e.ok(&[
            "ps",
            "-a",
            "--format",
            "{{.Names}}",
            "-f",
            "name=box",
            "-f",
            "exited=137"
        ]),
        "box\n"
    );
}

#[test]
fn parallel_runs_keep_names_unique_and_records_whole() {
    require_root!("parallel_runs_keep_names_unique_and_records_whole");
    let e = Engine::new();
    // The figure: 20 at once.
    const N: usize = 20;
    let ids: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..N)
            .map(|_| {
                s.spawn(|| {
                    e.ok(&["run", "-d", "busybox", "sleep", "500"])
                        .trim()
                        .to_string()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let names: std::collections::BTreeSet<String> = ids
        .iter()
        .map(|id| e.inspect(id)["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), N, "{names:?}");
    assert_eq!(e.ok(&["ps", "-q"]).lines().count(), N);
    for id in &ids {
        assert_eq!(e.record(id)["state"]["status"], "running");
    }
    let e = &e;
    std::thread::scope(|s| {
        for id in &ids {
            s.spawn(move || assert_eq!(e.ok(&["rm", "-f", id]).trim(), id));
        }
    });
    assert_eq!(e.ok(&["ps", "-a"]).lines().count(), 1);
    for id in &ids {
        assert!(cgroup_dirs(id).is_empty(), "cgroup left for {id}");
    }
    // One name, five racers: exactly one wins, the others are refused.
    let codes: Vec<i32> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..5)
            .map(|_| {
                s.spawn(|| {
                    e.code(&["run", "-d", "--name", "same", "busybox", "sleep", "500"])
                        .0
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(e.ids().len(), 1, "refused racers left records");
    e.ok(&["rm", "-f", "same"]);
}

#[test]
fn rmi_refuses_an_image_a_container_uses() {
    require_root!("rmi_refuses_an_image_a_container_uses");
    let e = Engine::new();
    let id = e.ok(&["create", "busybox", "true"]);
    let (code, _, err) = e.code(&["rmi", "busybox"]);
    assert_eq!(code, 1);
    assert!(err.contains("(must force) - container"), "{err}");
    e.ok(&["rm", id.trim()]);
    e.ok(&["rmi", "busybox"]);
}

#[test]
fn a_dead_monitor_never_leaves_running() {
    require_root!("a_dead_monitor_never_leaves_running");
    let e = Engine::new();
    let id = e.ok(&["run", "-d", "busybox", "sleep", "500"]);
    let id = id.trim();
    let rec = e.record(id);
    let monitor = rec["state"]["monitor_pid"].as_i64().unwrap() as i32;
    let init = rec["state"]["pid"].as_i64().unwrap() as i32;
    assert!(monitor > 0 && init > 0);
    // Pids this test's engine started.
    husk_fixtures::sigkill(monitor);
    husk_fixtures::sigkill(init);
    wait_for("both gone", Duration::from_secs(5), || {
        reap_all();
        !Path::new(&format!("/proc/{init}")).exists()
            && !Path::new(&format!("/proc/{monitor}")).exists()
    });
    let ps = e.ok(&["ps", "-a"]);
    assert!(ps.contains("Exited (255) "), "{ps}");
    let info = e.inspect(id);
    assert_eq!(info["State"]["Running"], false);
    assert!(!info["State"]["Error"].as_str().unwrap().is_empty());
    assert!(
        mounts_under(e.root.path()).is_empty(),
        "rootfs still mounted"
    );
    assert!(cgroup_dirs(id).is_empty(), "cgroup left");
}

/// crun, with hugetlb on a v1 hierarchy as it needs on a hybrid host
/// (husk_fixtures::HugetlbV1 restores the host when the last user drops it).
fn crun_ready(test: &str) -> Option<(PathBuf, husk_fixtures::HugetlbV1)> {
    let crun = PathBuf::from("/usr/bin/crun");
    if !crun.exists() {
        skip(test, "crun is not installed");
        return None;
    }
    Some((crun, husk_fixtures::HugetlbV1::acquire()))
}

#[test]
fn crun_drives_the_same_containers() {
    require_root!("crun_drives_the_same_containers");
    // Declared before the engine: dropped after its containers are gone.
    let Some((crun, _hugetlb)) = crun_ready("crun_drives_the_same_containers") else {
        return;
    };
    let e = Engine::new();
    let crun = crun.to_str().unwrap();
    let (code, out, err) = e.code(&[
        "run",
        "--runtime",
        crun,
        "busybox",
        "sh",
        "-c",
        "echo via crun; exit 4",
    ]);
    assert_eq!((code, out.as_str()), (4, "via crun\n"), "{err}");
    let id = e.ok(&[
        "run",
        "-d",
        "--runtime",
        crun,
        "-m",
        "400m",
        "busybox",
        "sleep",
        "500",
    ]);
    let id = id.trim();
    let info = e.inspect(id);
    // docker shows the runtime's name, not its path.
    assert_eq!(info["HostConfig"]["Runtime"], "crun");
    assert_eq!(e.ok(&["exec", id, "hostname"]).trim(), &id[..12]);
    let pid = info["State"]["Pid"].as_i64().unwrap() as i32;
    let limit = cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")
        .unwrap_or_else(|| panic!("no memory controller on v1 or v2 for {pid}"));
    assert_eq!(limit.read(), "419430400", "{limit:?}");
    e.ok(&["stop", "-t", "1", id]);
    assert_eq!(e.inspect(id)["State"]["ExitCode"], 137);
    let (code, _, err) = e.code(&["run", "--runtime", crun, "busybox", "no-such-command"]);
    assert_eq!(code, 127, "{err}");
    // A bare name is found in PATH.
    let id = e.ok(&["create", "--runtime", "crun", "busybox", "true"]);
    assert_eq!(e.inspect(id.trim())["HostConfig"]["Runtime"], "crun");
}

#[test]
fn foreground_run_forwards_signals_and_logs_follow() {
    require_root!("foreground_run_forwards_signals_and_logs_follow");
    let e = Engine::new();
    let work = tempdir("husk-test-sig-");
    let out_path = work.path().join("out");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = e
        .cmd(&["run", "--name", "sig", "busybox", "payload", "wait-signal"])
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    wait_for("the container to be ready", Duration::from_secs(10), || {
        std::fs::read_to_string(&out_path).is_ok_and(|s| s.contains("ready"))
    });
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&out_path).unwrap(),
        "ready\nsignal 15\n"
    );

    e.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "busybox",
        "sh",
        "-c",
        "echo a; sleep 1; echo b",
    ]);
    assert_eq!(e.ok(&["logs", "-f", "slow"]), "a\nb\n");
    assert_eq!(e.inspect("slow")["State"]["Status"], "exited");
}

#[test]
fn concurrent_starts_run_one_monitor() {
    require_root!("concurrent_starts_run_one_monitor");
    let e = Engine::new();
    let id = e.ok(&["create", "busybox", "sleep", "500"]);
    let id = id.trim();
    let e = &e;
    let codes: Vec<i32> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..3)
            .map(|_| s.spawn(move || e.code(&["start", id]).0))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(e.inspect(id)["State"]["Status"], "running");
    // Exactly one overlay on the rootfs.
    let merged = e.inspect(id)["GraphDriver"]["Data"]["MergedDir"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(mounts_under(Path::new(&merged)).len(), 1);
    e.ok(&["rm", "-f", id]);
}

#[test]
fn default_seccomp_profile_and_network_modes() {
    require_root!("default_seccomp_profile_and_network_modes");
    let e = Engine::new();
    // docker's default profile refuses new user namespaces (no capability
    // is needed for them, so only seccomp stands in the way).
    let run = |extra: &[&str], args: &[&str]| {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(extra);
        all.push("busybox");
        all.extend_from_slice(args);
        e.ok(&all)
    };
    assert_eq!(
        run(&[], &["payload", "syscall", "unshare-user"]),
        "errno 1\n"
    );
    assert_eq!(run(&[], &["payload", "syscall", "getpid"]), "ok\n");
    assert_eq!(
        run(
            &["--security-opt", "seccomp=unconfined"],
            &["payload", "syscall", "unshare-user"]
        ),
        "ok\n"
    );
    // husk runs in the engine's netns: that is the "host" here.
    let ours = e.netns.ns_id();
    let host = run(&["--network", "host"], &["readlink", "/proc/self/ns/net"]);
    assert_eq!(host.trim(), ours);
    let none = run(&["--network", "none"], &["readlink", "/proc/self/ns/net"]);
    assert_ne!(none.trim(), ours);
    let (code, _, err) = e.code(&["run", "--network", "bogus", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("--network"), "{err}");
}

#[test]
fn binds_read_only_rootfs_and_capabilities() {
    require_root!("binds_read_only_rootfs_and_capabilities");
    let e = Engine::new();
    let vol = tempdir("husk-test-vol-");
    let host = vol.path().join("data");
    let rw = format!("{}:/data", host.display());
    let ro = format!("{}:/data:ro", host.display());
    // A missing host directory is created, as docker does.
    let out = e.ok(&[
        "run",
        "--name",
        "vol",
        "-v",
        &rw,
        "busybox",
        "sh",
        "-c",
        "echo hi > /data/f && cat /data/f",
    ]);
    assert_eq!(out, "hi\n");
    assert_eq!(std::fs::read_to_string(host.join("f")).unwrap(), "hi\n");
    let info = e.inspect("vol");
    assert_eq!(info["HostConfig"]["Binds"][0], rw.as_str());
    assert_eq!(info["Mounts"][0]["Destination"], "/data");
    assert_eq!(info["Mounts"][0]["RW"], true);
    let (code, _, err) = e.code(&[
        "run",
        "--rm",
        "-v",
        &ro,
        "busybox",
        "sh",
        "-c",
        "echo x > /data/g",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
    let (code, _, err) = e.code(&["run", "--rm", "--read-only", "busybox", "touch", "/x"]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");

    let cap_eff = |extra: &[&str]| {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["busybox", "payload", "cat", "/proc/self/status"]);
        let status = e.ok(&args);
        status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .unwrap()
            .trim()
            .to_string()
    };
    // docker's 14 default capabilities.
    assert_eq!(cap_eff(&[]), "00000000a80425fb");
    assert_eq!(
        cap_eff(&["--cap-drop", "ALL", "--cap-add", "NET_ADMIN"]),
        "0000000000001000"
    );
    // With CAP_SYS_ADMIN the default seccomp profile lets mount through, as docker's does.
    assert_eq!(
        e.ok(&["run", "--rm", "busybox", "payload", "syscall", "mount"]),
        "errno 1\n"
    );
    assert_eq!(
        e.ok(&[
            "run",
            "--rm",
            "--cap-add",
            "SYS_ADMIN",
            "busybox",
            "payload",
            "syscall",
            "mount"
        ]),
        "ok\n"
    );
    let (code, _, _) = e.code(&["run", "--rm", "--cap-add", "NOPE", "busybox", "true"]);
    assert_eq!(code, 125);
}

#[test]
fn pause_unpause_and_restart() {
    require_root!("pause_unpause_and_restart");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "while true; do echo t; sleep 0.1; done",
    ]);
    assert_eq!(e.ok(&["pause", "ticker"]), "ticker\n");
    let info = e.inspect("ticker");
    assert_eq!(info["State"]["Status"], "paused");
    assert_eq!(info["State"]["Running"], true);
    assert_eq!(info["State"]["Paused"], true);
    assert!(e.ok(&["ps"]).contains("(Paused)"));
    // Frozen: no output while paused.
    std::thread::sleep(Duration::from_millis(300));
    let before = e.ok(&["logs", "ticker"]).lines().count();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(e.ok(&["logs", "ticker"]).lines().count(), before);
    assert_eq!(e.code(&["pause", "ticker"]).0, 1);
    assert_eq!(e.ok(&["unpause", "ticker"]), "ticker\n");
    wait_for("output after unpause", Duration::from_secs(5), || {
        e.ok(&["logs", "ticker"]).lines().count() > before
    });
    let pid = e.inspect("ticker")["State"]["Pid"].as_i64().unwrap();
    assert_eq!(e.ok(&["restart", "-t", "1", "ticker"]), "ticker\n");
    let info = e.inspect("ticker");
    assert_eq!(info["State"]["Status"], "running");
    assert_ne!(info["State"]["Pid"].as_i64().unwrap(), pid);
    // A paused container is still removable by force.
    e.ok(&["pause", "ticker"]);
    assert_eq!(e.ok(&["rm", "-f", "ticker"]), "ticker\n");
}

#[test]
fn interactive_run_reads_stdin() {
    require_root!("interactive_run_reads_stdin");
    let e = Engine::new();
    let work = tempdir("husk-test-stdin-");
    let input = work.path().join("in");
    std::fs::write(&input, "one\ntwo\n").unwrap();
    let out_path = work.path().join("out");
    let status = e
        .cmd(&["run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done"])
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read_to_string(&out_path).unwrap(),
        "one\ntwo\ndone\n"
    );
    // Without -i the container's stdin is empty (/dev/null).
    let status = e
        .cmd(&["run", "--rm", "busybox", "sh", "-c", "cat; echo done"])
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), "done\n");
}

#[test]
fn terminal_run_is_interactive() {
    require_root!("terminal_run_is_interactive");
    let e = Engine::new();
    let mut t = Terminal::spawn(e.cmd(&["run", "--rm", "-it", "busybox", "sh"]), 24, 80);
    t.type_(b"echo hi $((2+3)); tty\nexit 5\n");
    let status = t.wait();
    let text = t.text();
    assert_eq!(status.code(), Some(5), "{text}");
    assert!(text.contains("hi 5\r\n"), "{text}");
    assert!(text.contains("/dev/pts/0"), "{text}");
    assert!(e.ids().is_empty());

    // -t alone: a terminal for the output, nothing to read.
    let (code, out, _) = e.code(&[
        "run",
        "--rm",
        "-t",
        "busybox",
        "sh",
        "-c",
        "tty; echo $TERM",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out, "/dev/pts/0\r\nxterm\r\n");
    // -it needs a terminal to read from.
    let (code, _, err) = e.code(&["run", "-it", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("not a TTY"), "{err}");
}
