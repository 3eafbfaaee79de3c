//! runtime.md operations beyond the lifecycle: exec, update, events,
//! features, argument order, and limits seen through the runtime.

#[allow(unused_imports)]
mod common;
use common::*;

fn p(b: &Bundle) -> &str {
    b.path().to_str().unwrap_or_default()
}

fn wait_status(rt: &Rt, id: &str, want: &str) {
    for _ in 0..400 {
        if rt.status(id) == want {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("{id} never became {want}");
}

#[test]
fn exec_joins_the_container_and_propagates_exit_codes() {
    require_root!("exec_joins_the_container_and_propagates_exit_codes");
    let rt = Rt::new();
    let b = bundle(&["sleep", "60"]);
    let id = rt.id("exec");
    rt.ok(&["run", "-d", "--bundle", p(&b), &id]);
    // Same pid namespace: the exec'd shell sees the init as PID 1 and
    // itself with a small pid; same hostname; same cgroup.
    let out = rt.ok(&[
        "exec",
        &id,
        "sh",
        "-c",
        "echo $$; hostname; cat /proc/1/cmdline | tr '\\0' ' '",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].parse::<u32>().unwrap() < 10, "{out}");
    assert_eq!(lines[1], "husk-test");
    assert_eq!(lines[2].trim(), "sleep 60");
    let init = rt.state(&id)["pid"].as_i64().unwrap();
    let host_cg = std::fs::read_to_string(format!("/proc/{init}/cgroup")).unwrap();
    let mem = host_cg
        .lines()
        .find(|l| l.contains(":memory:"))
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let procs =
        std::fs::read_to_string(format!("/sys/fs/cgroup/memory{mem}/cgroup.procs")).unwrap();
    assert_eq!(
        procs.lines().count(),
        1,
        "exec'd process gone, only the init is left"
    );
    // `-l` belongs to ls, not to exec.
    let ls = rt.ok(&["exec", &id, "ls", "-l", "/bin/busybox"]);
    assert!(ls.starts_with("-r"), "{ls}");
    assert_eq!(
        rt.run(&["exec", &id, "sh", "-c", "exit 7"]).status.code(),
        Some(7)
    );
    // Flags: env, cwd, user, and the container's own settings underneath.
    let env = rt.ok(&[
        "exec",
        "--env",
        "FOO=bar",
        "--cwd",
        "/tmp",
        "--user",
        "1000:1000",
        &id,
        "/bin/payload",
        "env",
    ]);
    assert!(env.lines().any(|l| l == "FOO=bar"), "{env}");
    let id_out = rt.ok(&["exec", "--user", "1000:1000", &id, "/bin/payload", "id"]);
    assert!(id_out.starts_with("uid=1000 gid=1000"), "{id_out}");
    let cwd = rt.ok(&["exec", "--cwd", "/tmp", &id, "/bin/payload", "cwd"]);
    assert_eq!(cwd, "/tmp\n");
    let err = rt.fails(&["exec", &id, "no-such-command"]);
    assert!(
        err.contains("no-such-command") && err.contains("not found"),
        "{err}"
    );
    rt.ok(&["delete", "-f", &id]);
}

#[test]
fn exec_into_a_stopped_container_is_refused() {
    require_root!("exec_into_a_stopped_container_is_refused");
    let rt = Rt::new();
    let b = bundle(&["true"]);
    let id = rt.id("execstop");
    rt.ok(&["run", "-d", "--bundle", p(&b), &id]);
    wait_status(&rt, &id, "stopped");
    let err = rt.fails(&["exec", &id, "true"]);
    assert!(err.contains("stopped"), "{err}");
    rt.ok(&["delete", &id]);
}

#[test]
fn options_after_the_container_id_as_runc_takes_them() {
    require_root!("options_after_the_container_id_as_runc_takes_them");
    let rt = Rt::new();
    let b = bundle(&["sleep", "60"]);
    let id = rt.id("order");
    let pidfile = b.path().join("pid");
    rt.ok(&[
        "create",
        &id,
        "--bundle",
        p(&b),
        "--pid-file",
        pidfile.to_str().unwrap(),
    ]);
    assert!(pidfile.exists());
    rt.ok(&["start", &id]);
    rt.ok(&["kill", &id, "KILL"]);
    wait_status(&rt, &id, "stopped");
    rt.ok(&["delete", &id, "--force"]);
}

#[test]
fn update_changes_limits_of_a_running_container() {
    require_root!("update_changes_limits_of_a_running_container");
    let rt = Rt::new();
    let b = bundle(&["sleep", "60"]);
    let id = rt.id("update");
    rt.ok(&["run", "-d", "--bundle", p(&b), &id]);
    rt.ok(&["update", "--memory", "400m", "--pids-limit", "33", &id]);
    // The files the kernel enforces, v1 or v2, wherever each controller is.
    let pid = rt.state(&id)["pid"].as_i64().unwrap() as i32;
    let file = |ctrl: &str, v1: &str, v2: &str| {
        husk_fixtures::cgroup_file(pid, ctrl, v1, v2)
            .unwrap_or_else(|| panic!("no {ctrl} controller on v1 or v2 for {pid}"))
    };
    let mem = file("memory", "memory.limit_in_bytes", "memory.max");
    assert_eq!(mem.read(), "419430400", "{mem:?}");
    let pids = file("pids", "pids.max", "pids.max");
    assert_eq!(pids.read(), "33", "{pids:?}");
    // containerd's form: LinuxResources JSON on stdin.
    let mut child = rt
        .cmd()
        .args(["update", "--resources", "-", &id])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"cpu":{"quota":50000,"period":100000}}"#)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let q = file("cpu", "cpu.cfs_quota_us", "cpu.max");
    assert_eq!(q.read(), q.pick("50000", "50000 100000"), "{q:?}");
    let err = rt.fails(&["update", "--memory", "lots", &id]);
    assert!(err.contains("--memory"), "{err}");
    rt.ok(&["delete", "-f", &id]);
}

#[test]
fn oom_kill_exits_137_and_is_reported() {
    require_root!("oom_kill_exits_137_and_is_reported");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "memhog", "256"]);
    b.edit(|c| {
        c["linux"]["resources"]["memory"] = serde_json::json!({"limit": 33554432, "swap": 33554432})
    });
    let id = rt.id("oom");
    rt.ok(&["run", "-d", "--bundle", p(&b), &id]);
    wait_status(&rt, &id, "stopped");
    let ev: serde_json::Value = serde_json::from_str(&rt.ok(&["events", "--stats", &id])).unwrap();
    assert_eq!(ev["type"], "stats");
    assert!(
        ev["data"]["memory"]["oomKillCount"].as_u64().unwrap() >= 1,
        "{ev}"
    );
    assert_eq!(ev["data"]["memory"]["usage"]["limit"], 33554432);
    rt.ok(&["delete", &id]);
    // In the foreground the exit status is 128+SIGKILL.
    let (code, _, _) = rt.run_bundle(&b, "oom-fg");
    assert_eq!(code, 137);
}

#[test]
fn pids_limit_makes_fork_fail_inside() {
    require_root!("pids_limit_makes_fork_fail_inside");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "forks", "20"]);
    b.edit(|c| c["linux"]["resources"]["pids"] = serde_json::json!({"limit": 5}));
    let (code, out, err) = rt.run_bundle(&b, "pids");
    assert_eq!(code, 0, "{err}");
    let n: u32 = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n < 5, "{out}");
}

#[test]
fn features_describe_this_runtime() {
    let rt = Rt::new();
    let v: serde_json::Value = serde_json::from_str(&rt.ok(&["features"])).unwrap();
    assert_eq!(v["ociVersionMax"], "1.2.0");
    assert!(v["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h == "createRuntime"));
    let ns = v["linux"]["namespaces"].as_array().unwrap();
    assert!(ns.iter().any(|n| n == "pid") && ns.iter().any(|n| n == "user"));
    assert!(!ns.iter().any(|n| n == "time"));
    assert_eq!(v["linux"]["mountExtensions"]["idmap"]["enabled"], true);
    assert!(v["linux"]["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "CAP_SYS_ADMIN"));
    assert_eq!(v["linux"]["seccomp"]["enabled"], true);
    assert!(v["linux"]["seccomp"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "SCMP_ACT_ERRNO"));
    assert_eq!(v["linux"]["apparmor"]["enabled"], false);
    assert!(v["mountOptions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o == "rbind"));
    for o in ["rro", "rnosymfollow", "idmap", "ridmap"] {
        assert!(
            v["mountOptions"].as_array().unwrap().iter().any(|x| x == o),
            "{o}"
        );
    }
}

#[test]
fn checkpoint_and_restore_say_not_supported() {
    let rt = Rt::new();
    let err = rt.fails(&["checkpoint", "x"]);
    assert!(err.contains("not supported"), "{err}");
    let err = rt.fails(&["restore", "x"]);
    assert!(err.contains("not supported"), "{err}");
}

#[test]
fn scheduler_io_priority_and_personality_apply() {
    require_root!("scheduler_io_priority_and_personality_apply");
    let rt = Rt::new();
    // Field 41 of /proc/self/stat is the policy (5 = SCHED_IDLE); uname -m
    // under PER_LINUX32 reports a 32-bit machine.
    let mut b = bundle(&[
        "sh",
        "-c",
        "cut -d' ' -f41 /proc/self/stat; uname -m; ionice -p $$",
    ]);
    b.edit(|c| {
        c["process"]["scheduler"] = serde_json::json!({"policy": "SCHED_IDLE"});
        c["process"]["ioPriority"] = serde_json::json!({"class": "IOPRIO_CLASS_BE", "priority": 6});
        c["linux"]["personality"] = serde_json::json!({"domain": "LINUX32"});
    });
    let (code, out, err) = rt.run_bundle(&b, "sched");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "5", "{out}");
    assert_eq!(lines[1], "i686", "{out}");
    assert!(lines[2].contains("prio 6"), "{out}");
    let mut b = bundle(&["true"]);
    b.edit(|c| {
        c["process"]["ioPriority"] = serde_json::json!({"class": "IOPRIO_CLASS_BE", "priority": 9})
    });
    let (code, _, err) = rt.run_bundle(&b, "badprio");
    assert_ne!(code, 0);
    assert!(err.contains("process.ioPriority.priority"), "{err}");
}

/// `run` of a terminal container without --console-socket relays the pty
/// to our own terminal, as `runc run` does. script(1) gives us a pty.
#[test]
fn foreground_run_relays_a_terminal() {
    require_root!("foreground_run_relays_a_terminal");
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        skip(
            "foreground_run_relays_a_terminal",
            "script(1) from bsdutils is not installed",
        );
        return;
    }
    let rt = Rt::new();
    let mut b = bundle(&["sh"]);
    b.edit(|c| c["process"]["terminal"] = serde_json::json!(true));
    let id = rt.id("tty");
    let cmd = format!(
        "{} --root {} run --bundle {} {id}",
        bin().display(),
        rt.root.path().display(),
        p(&b)
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::{Read, Write};
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    stdin.write_all(b"tty; echo hello-$((40+2))\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    stdin.write_all(b"exit 3\n").unwrap();
    let status = child.wait().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.contains("/dev/pts/0"), "{out}");
    assert!(out.contains("hello-42"), "{out}");
    assert_eq!(status.code(), Some(3), "{out}");
}

/// pause freezes every process (a counter loop stops), resume thaws it.
#[test]
fn pause_stops_a_counter_and_resume_continues_it() {
    require_root!("pause_stops_a_counter_and_resume_continues_it");
    let rt = Rt::new();
    let data = tempfile::tempdir().unwrap();
    let mut b = bundle(&[
        "sh",
        "-c",
        "i=0; while :; do i=$((i+1)); echo $i > /data/n; usleep 20000; done",
    ]);
    b.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(serde_json::json!({
            "destination": "/data", "type": "bind", "source": data.path(), "options": ["rbind"]
        }));
    });
    let id = rt.id("counter");
    rt.ok(&["run", "-d", "--bundle", p(&b), &id]);
    let n = || -> u64 {
        std::fs::read_to_string(data.path().join("n"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    };
    let pause = std::time::Duration::from_millis(300);
    // A loaded machine may take a while to schedule the shell: poll.
    let until = |f: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !f() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        f()
    };
    assert!(until(&|| n() > 0), "counter never ran");
    rt.ok(&["pause", &id]);
    assert_eq!(rt.status(&id), "paused");
    let frozen = n();
    std::thread::sleep(pause);
    assert_eq!(n(), frozen, "counter moved while paused");
    rt.ok(&["resume", &id]);
    assert!(
        until(&|| n() > frozen),
        "counter did not continue after resume"
    );
    // A paused container can still be force-deleted.
    rt.ok(&["pause", &id]);
    rt.ok(&["delete", "-f", &id]);
}
