//! Restart policies run by the container's own monitor, against the real
//! kernel: docker's count and backoff, `stop` and `kill` ending the
//! policy, a `kill -9` of the init and of the monitor, a simulated reboot
//! brought back by `start --all-restartable`; and `husk update` read back
//! from the cgroup files themselves.

mod common;

use std::time::Duration;

use common::engine::*;
use husk_fixtures::{require_root, sigkill};

/// `inspect -f` of one template, trimmed.
fn field(e: &Engine, name: &str, template: &str) -> String {
    e.ok(&["inspect", "-f", template, name]).trim().to_string()
}

fn pid_of(e: &Engine, name: &str) -> i32 {
    field(e, name, "{{.State.Pid}}").parse().unwrap()
}

/// Live and not a zombie.
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .map(|i| s[i + 2..].starts_with(|c| c != 'Z' && c != 'X'))
        })
        .unwrap_or(false)
}

/// A cgroup v1 file of the container, read by the test itself.
fn cgroup_file(id: &str, controller: &str, file: &str) -> String {
    std::fs::read_to_string(format!("/sys/fs/cgroup/{controller}/husk/{id}/{file}"))
        .unwrap_or_else(|e| panic!("read {controller}/husk/{id}/{file}: {e}"))
        .trim()
        .to_string()
}

/// A second from now, as `events --until` takes it.
fn soon() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    (now.as_secs() + 1).to_string()
}

fn id_of(e: &Engine, name: &str) -> String {
    field(e, name, "{{.Id}}")
}

#[test]
fn on_failure_stops_after_n_restarts_with_restart_count_n() {
    require_root!("on_failure_stops_after_n_restarts_with_restart_count_n");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--restart",
        "on-failure:2",
        "--name",
        "flaky",
        "busybox",
        "sh",
        "-c",
        "echo ran; exit 3",
    ]);
    wait_for("the policy to give up", Duration::from_secs(30), || {
        field(&e, "flaky", "{{.State.Status}}") == "exited"
    });
    // Settled: no monitor is left to restart it again.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        field(
            &e,
            "flaky",
            "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "exited 3 2 on-failure:2"
    );
    // Three runs in all, each logged.
    assert_eq!(e.ok(&["logs", "flaky"]), "ran\nran\nran\n");
    // docker's events for a policy's restarts: die, then start again.
    let events = e.ok(&[
        "events",
        "--since",
        "1",
        "--until",
        &soon(),
        "--filter",
        "container=flaky",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(
        events.split_whitespace().collect::<Vec<_>>(),
        ["create", "start", "die", "start", "die", "start", "die"],
        "{events}"
    );
    let ps = e.ok(&["ps", "-a", "--format", "{{.Status}}"]);
    assert!(ps.starts_with("Exited (3) "), "{ps}");
    // A clean exit is no failure: no restart.
    e.ok(&[
        "run",
        "-d",
        "--restart",
        "on-failure",
        "--name",
        "clean",
        "busybox",
        "true",
    ]);
    wait_for("clean to exit", Duration::from_secs(10), || {
        field(&e, "clean", "{{.State.Status}}") == "exited"
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(field(&e, "clean", "{{.RestartCount}}"), "0");
}

#[test]
fn flag_errors_are_dockers_and_create_nothing() {
    require_root!("flag_errors_are_dockers_and_create_nothing");
    let e = Engine::new();
    for (args, want) in [
        (
            &["run", "--restart", "sometimes", "busybox"][..],
            "unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
        ),
        (
            &["create", "--restart", "always:3", "busybox"][..],
            "maximum retry count can only be used with 'on-failure'",
        ),
        (
            &["run", "--rm", "--restart", "always", "busybox"][..],
            "conflicting options: cannot specify both --restart and --rm",
        ),
    ] {
        let (code, _, err) = e.code(args);
        assert_eq!(code, 125, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(e.ids().is_empty());
    // `no` with --rm is fine, as in docker; and inspect shows the default.
    e.ok(&[
        "create",
        "--rm",
        "--restart",
        "no",
        "--name",
        "plain",
        "busybox",
        "true",
    ]);
    assert_eq!(
        field(&e, "plain", "{{json .HostConfig.RestartPolicy}}"),
        r#"{"Name":"no","MaximumRetryCount":0}"#
    );
}

#[test]
fn always_restarts_after_kill_9_of_the_init_and_stop_ends_the_policy() {
    require_root!("always_restarts_after_kill_9_of_the_init_and_stop_ends_the_policy");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--restart",
        "always",
        "--name",
        "keeper",
        "busybox",
        "sleep",
        "1000",
    ]);
    let first = pid_of(&e, "keeper");
    assert!(running(first));
    sigkill(first);
    wait_for("the restart", Duration::from_secs(20), || {
        field(&e, "keeper", "{{.State.Status}} {{.RestartCount}}") == "running 1"
    });
    let second = pid_of(&e, "keeper");
    assert_ne!(second, first);
    assert!(running(second));
    assert_eq!(field(&e, "keeper", "{{.State.ExitCode}}"), "0");
    // stop ends the policy until the next start.
    assert_eq!(e.ok(&["stop", "-t", "1", "keeper"]).trim(), "keeper");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        field(&e, "keeper", "{{.State.Status}} {{.RestartCount}}"),
        "exited 1"
    );
    // A start by hand resets the count and the policy is back.
    e.ok(&["start", "keeper"]);
    assert_eq!(field(&e, "keeper", "{{.RestartCount}}"), "0");
    let third = pid_of(&e, "keeper");
    sigkill(third);
    wait_for("the second restart", Duration::from_secs(20), || {
        field(&e, "keeper", "{{.State.Status}} {{.RestartCount}}") == "running 1"
    });
    // docker's kill ends it too (SIGKILL, or no stop signal set).
    e.ok(&["kill", "keeper"]);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(field(&e, "keeper", "{{.State.Status}}"), "exited");
    e.ok(&["rm", "keeper"]);
}

#[test]
fn a_crash_loop_shows_restarting_with_backoff_and_stop_ends_it() {
    require_root!("a_crash_loop_shows_restarting_with_backoff_and_stop_ends_it");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--restart",
        "always",
        "--name",
        "loop",
        "busybox",
        "sh",
        "-c",
        "exit 1",
    ]);
    // 100 ms, 200, 400, 800, ...: soon the wait is long enough to see.
    wait_for("a restarting state", Duration::from_secs(30), || {
        field(&e, "loop", "{{.State.Status}}") == "restarting"
    });
    let state = e.inspect("loop")["State"].clone();
    assert_eq!(state["Restarting"], true);
    assert_eq!(state["Running"], true);
    assert_eq!(state["ExitCode"], 1);
    let count: i64 = field(&e, "loop", "{{.RestartCount}}").parse().unwrap();
    assert!(count >= 1);
    // ps lists it without -a, as docker does.
    let ps = e.ok(&["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(ps.starts_with("loop Restarting (1) "), "{ps}");
    assert_eq!(e.ok(&["stop", "loop"]).trim(), "loop");
    assert_eq!(field(&e, "loop", "{{.State.Status}}"), "exited");
    let after: i64 = field(&e, "loop", "{{.RestartCount}}").parse().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        field(&e, "loop", "{{.State.Status}} {{.RestartCount}}"),
        format!("exited {after}")
    );
    // rm -f ends a crash loop too.
    e.ok(&["start", "loop"]);
    wait_for("restarting again", Duration::from_secs(30), || {
        field(&e, "loop", "{{.State.Status}}") == "restarting"
    });
    assert_eq!(e.ok(&["rm", "-f", "loop"]).trim(), "loop");
    assert!(e.ids().is_empty());
}

#[test]
fn a_killed_monitor_is_taken_over_and_the_policy_goes_on() {
    require_root!("a_killed_monitor_is_taken_over_and_the_policy_goes_on");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--restart",
        "always",
        "--name",
        "orphan",
        "busybox",
        "sleep",
        "1000",
    ]);
    let id = id_of(&e, "orphan");
    let init = pid_of(&e, "orphan");
    let monitor = e.record(&id)["state"]["monitor_pid"].as_i64().unwrap() as i32;
    assert!(running(monitor));
    sigkill(monitor);
    reap_all();
    wait_for("the monitor to die", Duration::from_secs(5), || {
        !running(monitor)
    });
    // The container runs on without it.
    assert!(running(init));
    // The next command notices and a new monitor takes over.
    assert_eq!(
        field(&e, "orphan", "{{.State.Status}} {{.State.Pid}}"),
        format!("running {init}")
    );
    let resumed = e.record(&id)["state"]["monitor_pid"].as_i64().unwrap() as i32;
    assert_ne!(resumed, monitor);
    wait_for("the new monitor", Duration::from_secs(5), || {
        running(resumed)
    });
    // It applies the policy when the init dies.
    sigkill(init);
    wait_for("the restart", Duration::from_secs(20), || {
        field(&e, "orphan", "{{.State.Status}} {{.RestartCount}}") == "running 1"
    });
    assert_ne!(pid_of(&e, "orphan"), init);
    e.ok(&["stop", "-t", "1", "orphan"]);
    assert_eq!(
        field(&e, "orphan", "{{.State.Status}} {{.RestartCount}}"),
        "exited 1"
    );
}

#[test]
fn a_taken_over_container_exits_with_its_real_code() {
    require_root!("a_taken_over_container_exits_with_its_real_code");
    let e = Engine::new();
    // on-failure: an unknown code would pass for a failure and restart it.
    e.ok(&[
        "run",
        "-d",
        "--restart",
        "on-failure:3",
        "--name",
        "job",
        "busybox",
        "sh",
        "-c",
        "while [ ! -e /tmp/go ]; do sleep 1; done; exit 0",
    ]);
    let id = id_of(&e, "job");
    let monitor = e.record(&id)["state"]["monitor_pid"].as_i64().unwrap() as i32;
    sigkill(monitor);
    reap_all();
    wait_for("the monitor to die", Duration::from_secs(5), || {
        !running(monitor)
    });
    // Any command takes it over; exec lets it finish.
    e.ok(&["exec", "job", "touch", "/tmp/go"]);
    wait_for("the exit", Duration::from_secs(20), || {
        field(&e, "job", "{{.State.Status}}") == "exited"
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        field(&e, "job", "{{.State.ExitCode}} {{.RestartCount}}"),
        "0 0"
    );
}

/// What a reboot does to the test's own engine: its processes killed
/// (by the pids its records hold), its mounts gone, its runroot empty.
fn reboot(e: &Engine) {
    for id in e.ids() {
        let r = e.record(&id);
        for key in ["monitor_pid", "pid"] {
            if let Some(pid) = r["state"][key].as_i64().filter(|p| *p > 0) {
                sigkill(pid as i32);
            }
        }
    }
    reap_all();
    std::thread::sleep(Duration::from_millis(200));
    for root in [e.root.path(), e.runroot.path()] {
        let mut points: Vec<String> = mounts_under(root)
            .iter()
            .filter_map(|l| l.split(' ').nth(4).map(String::from))
            .collect();
        // Deepest first.
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = nix::mount::umount2(p.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
    for entry in std::fs::read_dir(e.runroot.path()).unwrap().flatten() {
        std::fs::remove_dir_all(entry.path()).unwrap();
    }
}

#[test]
fn start_all_restartable_brings_back_what_a_reboot_took_and_unless_stopped_remembers() {
    require_root!(
        "start_all_restartable_brings_back_what_a_reboot_took_and_unless_stopped_remembers"
    );
    let e = Engine::new();
    for (name, policy) in [
        ("always-up", "always"),
        ("unless-up", "unless-stopped"),
        ("unless-stopped-by-hand", "unless-stopped"),
        ("always-stopped-by-hand", "always"),
        ("never", "no"),
    ] {
        e.ok(&[
            "run",
            "-d",
            "--restart",
            policy,
            "--name",
            name,
            "busybox",
            "sleep",
            "1000",
        ]);
    }
    e.ok(&[
        "stop",
        "-t",
        "1",
        "unless-stopped-by-hand",
        "always-stopped-by-hand",
    ]);
    reboot(&e);
    let started = e.ok(&["start", "--all-restartable"]);
    let mut names: Vec<&str> = started.lines().collect();
    names.sort();
    // docker's rules at boot: always whatever stopped it, unless-stopped
    // unless a user did, never `no`.
    assert_eq!(
        names,
        ["always-stopped-by-hand", "always-up", "unless-up"],
        "{started}"
    );
    for name in &names {
        assert_eq!(field(&e, name, "{{.State.Status}}"), "running");
        assert!(running(pid_of(&e, name)));
    }
    for name in ["unless-stopped-by-hand", "never"] {
        assert_eq!(field(&e, name, "{{.State.Status}}"), "exited", "{name}");
    }
    // Nothing left to bring back: a second run starts nothing.
    assert_eq!(e.ok(&["start", "--all-restartable"]), "");
}

#[test]
fn update_changes_the_live_cgroup_and_the_record() {
    require_root!("update_changes_the_live_cgroup_and_the_record");
    let e = Engine::new();
    e.ok(&[
        "run", "-d", "-m", "64m", "--name", "tuned", "busybox", "sleep", "1000",
    ]);
    let id = id_of(&e, "tuned");
    assert_eq!(
        cgroup_file(&id, "memory", "memory.limit_in_bytes"),
        (64 << 20).to_string()
    );
    assert_eq!(
        e.ok(&[
            "update",
            "-m",
            "32m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "50",
            "--cpu-shares",
            "512",
            "tuned"
        ]),
        "tuned\n"
    );
    assert_eq!(
        cgroup_file(&id, "memory", "memory.limit_in_bytes"),
        (32 << 20).to_string()
    );
    assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(cgroup_file(&id, "cpu", "cpu.shares"), "512");
    assert_eq!(cgroup_file(&id, "pids", "pids.max"), "50");
    let events = e.ok(&[
        "events",
        "--since",
        "1",
        "--until",
        &soon(),
        "--filter",
        "event=update",
        "--format",
        "{{.Actor.Attributes.name}}",
    ]);
    assert_eq!(events, "tuned\n");
    let hc = e.inspect("tuned")["HostConfig"].clone();
    assert_eq!(hc["Memory"], 32 << 20);
    assert_eq!(hc["NanoCpus"], 500_000_000);
    assert_eq!(hc["PidsLimit"], 50);
    assert_eq!(hc["CpuShares"], 512);
    // docker's errors, nothing changed.
    let (code, out, err) = e.code(&["update", "-m", "1g", "tuned"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"),
        "{err}"
    );
    let (code, _, err) = e.code(&["update", "-m", "300m", "--memory-swap", "200m", "tuned"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Minimum memoryswap limit should be larger than memory limit"),
        "{err}"
    );
    let (code, _, err) = e.code(&["update", "tuned"]);
    assert_eq!(code, 1);
    assert!(err.contains("you must provide one or more flags"), "{err}");
    assert_eq!(
        cgroup_file(&id, "memory", "memory.limit_in_bytes"),
        (32 << 20).to_string()
    );
    // The restart policy, then a kill -9 of the init: the new policy acts.
    e.ok(&["update", "--restart", "on-failure:3", "tuned"]);
    assert_eq!(
        field(&e, "tuned", "{{json .HostConfig.RestartPolicy}}"),
        r#"{"Name":"on-failure","MaximumRetryCount":3}"#
    );
    sigkill(pid_of(&e, "tuned"));
    wait_for("the restart", Duration::from_secs(20), || {
        field(&e, "tuned", "{{.State.Status}} {{.RestartCount}}") == "running 1"
    });
    // The restarted container has the updated limits: they are recorded.
    assert_eq!(
        cgroup_file(&id, "memory", "memory.limit_in_bytes"),
        (32 << 20).to_string()
    );
    assert_eq!(cgroup_file(&id, "pids", "pids.max"), "50");
    // A stopped container: the record only, in force at its next start.
    e.ok(&["stop", "-t", "1", "tuned"]);
    e.ok(&["update", "--pids-limit", "20", "tuned"]);
    // --cpus set CFS values docker will not let a period override.
    let (code, _, err) = e.code(&["update", "--cpu-period", "50000", "tuned"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("CPU Period cannot be updated as NanoCPUs has already been set"),
        "{err}"
    );
    e.ok(&["start", "tuned"]);
    assert_eq!(cgroup_file(&id, "pids", "pids.max"), "20");
    assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_quota_us"), "50000");
    // Period and quota on a created container, and the reverse refusal.
    e.ok(&["create", "--name", "cfs", "busybox", "sleep", "1000"]);
    e.ok(&[
        "update",
        "--cpu-quota",
        "20000",
        "--cpu-period",
        "50000",
        "cfs",
    ]);
    let (code, _, err) = e.code(&["update", "--cpus", "1", "cfs"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Nano CPUs cannot be updated as CPU Period has already been set"),
        "{err}"
    );
    e.ok(&["start", "cfs"]);
    let cfs = id_of(&e, "cfs");
    assert_eq!(cgroup_file(&cfs, "cpu", "cpu.cfs_quota_us"), "20000");
    assert_eq!(cgroup_file(&cfs, "cpu", "cpu.cfs_period_us"), "50000");
    let hc = e.inspect("cfs")["HostConfig"].clone();
    assert_eq!(
        (hc["CpuQuota"].clone(), hc["CpuPeriod"].clone()),
        (20000.into(), 50000.into())
    );
    // --restart with --rm's container: docker's refusal.
    e.ok(&[
        "run", "-d", "--rm", "--name", "gone", "busybox", "sleep", "1000",
    ]);
    let (code, _, err) = e.code(&["update", "--restart", "always", "gone"]);
    assert_eq!(code, 1);
    assert!(err.contains("AutoRemove is enabled"), "{err}");
}

#[test]
fn update_below_usage_is_refused_by_the_kernel_and_changes_nothing() {
    require_root!("update_below_usage_is_refused_by_the_kernel_and_changes_nothing");
    let e = Engine::new();
    // 30 MiB in /dev/shm: memory the kernel cannot reclaim without swap.
    e.ok(&[
        "run",
        "-d",
        "-m",
        "64m",
        "--memory-swap",
        "64m",
        "--name",
        "full",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/dev/shm/f bs=1M count=30 && touch /tmp/filled && sleep 1000",
    ]);
    wait_for("the fill", Duration::from_secs(20), || {
        e.run(&["exec", "full", "test", "-e", "/tmp/filled"])
            .status
            .success()
    });
    let id = id_of(&e, "full");
    let (code, _, err) = e.code(&["update", "-m", "10m", "--memory-swap", "10m", "full"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot update"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        cgroup_file(&id, "memory", "memory.limit_in_bytes"),
        (64 << 20).to_string()
    );
    assert_eq!(e.inspect("full")["HostConfig"]["Memory"], 64 << 20);
}
