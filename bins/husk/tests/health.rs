//! Healthchecks run by the container's monitor through the runtime's
//! `exec`: the `--health-*` flags and the image's HEALTHCHECK, State.Health
//! and Config.Healthcheck in inspect, ps's suffix and `--filter health=`;
//! and ps's volume, network, before and since filters.

mod common;

use std::time::Duration;

use common::engine::*;
use husk_fixtures::require_root;

const LONG: Duration = Duration::from_secs(30);

fn health(e: &Engine, name: &str) -> serde_json::Value {
    e.inspect(name)["State"]["Health"].clone()
}

fn status_is(e: &Engine, name: &str, want: &str) -> bool {
    health(e, name)["Status"] == want
}

fn ps_status(e: &Engine, name: &str) -> String {
    e.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"])
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")).map(String::from))
        .unwrap_or_default()
}

fn names(e: &Engine, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["ps", "-a", "--format", "{{.Names}}"];
    for f in filters {
        args.push("--filter");
        args.push(f);
    }
    e.ok(&args).lines().map(String::from).collect()
}

#[test]
fn a_check_turns_unhealthy_and_back_to_healthy() {
    require_root!("a_check_turns_unhealthy_and_back_to_healthy");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "hc",
        "--health-cmd",
        "cat /tmp/ok",
        "--health-interval",
        "300ms",
        "--health-retries",
        "2",
        "busybox",
        "sleep",
        "300",
    ]);
    // A check that has not run yet: starting, shown as docker shows it.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "true",
        "--health-interval",
        "1h",
        "busybox",
        "sleep",
        "300",
    ]);
    let slow = e.inspect("slow");
    assert_eq!(
        slow["State"]["Health"],
        serde_json::json!({"Status": "starting", "FailingStreak": 0, "Log": []})
    );
    assert_eq!(
        slow["Config"]["Healthcheck"],
        serde_json::json!({"Test": ["CMD-SHELL", "true"], "Interval": 3_600_000_000_000u64})
    );
    assert!(
        ps_status(&e, "slow").ends_with(" (health: starting)"),
        "{}",
        ps_status(&e, "slow")
    );
    // Where docker's Config has it: right after Cmd.
    let keys: Vec<&String> = slow["Config"].as_object().unwrap().keys().collect();
    let cmd = keys.iter().position(|k| *k == "Cmd").unwrap();
    assert_eq!(keys[cmd + 1], "Healthcheck");

    wait_for("hc unhealthy", LONG, || status_is(&e, "hc", "unhealthy"));
    let h = health(&e, "hc");
    assert!(h["FailingStreak"].as_i64().unwrap() >= 2, "{h}");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], 1, "{h}");
    assert!(
        last["Output"].as_str().unwrap().contains("No such file"),
        "{h}"
    );
    for k in ["Start", "End"] {
        assert!(last[k].as_str().unwrap().starts_with("20"), "{h}");
    }
    assert!(
        ps_status(&e, "hc").ends_with(" (unhealthy)"),
        "{}",
        ps_status(&e, "hc")
    );
    assert_eq!(names(&e, &["health=unhealthy"]), ["hc"]);
    assert_eq!(names(&e, &["health=starting"]), ["slow"]);

    // Fixed from inside: healthy at the next probe, streak reset.
    e.ok(&["exec", "hc", "sh", "-c", "echo fine > /tmp/ok"]);
    wait_for("h healthy", LONG, || status_is(&e, "hc", "healthy"));
    let h = health(&e, "hc");
    assert_eq!(h["FailingStreak"], 0, "{h}");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["ExitCode"].clone(), last["Output"].clone()),
        (0.into(), "fine\n".into())
    );
    assert!(
        ps_status(&e, "hc").ends_with(" (healthy)"),
        "{}",
        ps_status(&e, "hc")
    );
    assert_eq!(names(&e, &["health=healthy"]), ["hc"]);
    assert_eq!(names(&e, &["health=none"]), Vec::<String>::new());

    // And broken again: unhealthy after two failures; docker keeps 5 probes.
    e.ok(&["exec", "hc", "rm", "/tmp/ok"]);
    wait_for("h unhealthy again", LONG, || {
        status_is(&e, "hc", "unhealthy")
    });
    let log = health(&e, "hc")["Log"].as_array().unwrap().len();
    assert!((2..=5).contains(&log), "{log}");
    // The record holds it too (written by the monitor, atomically).
    let id = e.inspect("hc")["Id"].as_str().unwrap().to_string();
    assert_eq!(e.record(&id)["state"]["health"]["Status"], "unhealthy");
    // docker's events, one per change of status, in the engine's journal.
    let journal = std::fs::read_to_string(e.root.path().join("events.log")).unwrap();
    let changes: Vec<String> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["Actor"]["ID"] == id.as_str())
        .filter_map(|v| v["Action"].as_str().map(String::from))
        .filter(|a| a.starts_with("health_status"))
        .collect();
    assert_eq!(
        changes,
        [
            "health_status: unhealthy",
            "health_status: healthy",
            "health_status: unhealthy"
        ]
    );
}

#[test]
fn a_hanging_check_is_killed_at_its_timeout() {
    require_root!("a_hanging_check_is_killed_at_its_timeout");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "hang",
        "--health-cmd",
        "sleep 1000",
        "--health-timeout",
        "500ms",
        "--health-interval",
        "200ms",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "300",
    ]);
    wait_for("three timed-out probes", LONG, || {
        health(&e, "hang")["Log"]
            .as_array()
            .is_some_and(|l| l.len() >= 3)
    });
    let h = health(&e, "hang");
    assert_eq!(h["Status"], "unhealthy", "{h}");
    for p in h["Log"].as_array().unwrap() {
        assert_eq!(p["ExitCode"], -1, "{h}");
        assert_eq!(p["Output"], "Health check exceeded timeout (500ms)", "{h}");
    }
    // Killed, not left behind: at most the probe in flight runs.
    let ps = e.ok(&["exec", "hang", "ps", "-o", "args"]);
    let sleeping = ps.lines().filter(|l| l.trim() == "sleep 1000").count();
    assert!(sleeping <= 1, "probes pile up:\n{ps}");
}

#[test]
fn the_image_check_runs_and_no_healthcheck_turns_it_off() {
    require_root!("the_image_check_runs_and_no_healthcheck_turns_it_off");
    let e = Engine::new();
    let ctx = tempdir("husk-health-ctx-");
    // A RUN step long enough for several probes: none may run in it
    // (the step's change would hold /probed).
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM busybox\nHEALTHCHECK --interval=100ms --retries=4 CMD touch /probed\nRUN sleep 1\n",
    )
    .unwrap();
    e.ok(&["build", "-q", "-t", "checked", ctx.path().to_str().unwrap()]);
    let (code, out, err) = e.code(&[
        "run",
        "--rm",
        "--no-healthcheck",
        "checked",
        "sh",
        "-c",
        "test -e /probed && echo probed-during-build || echo clean",
    ]);
    assert_eq!((code, out.trim()), (0, "clean"), "{err}");

    e.ok(&["run", "-d", "--name", "img", "checked", "sleep", "300"]);
    assert_eq!(
        e.inspect("img")["Config"]["Healthcheck"],
        serde_json::json!({"Test": ["CMD-SHELL", "touch /probed"], "Interval": 100_000_000, "Retries": 4})
    );
    wait_for("img healthy", LONG, || status_is(&e, "img", "healthy"));
    e.ok(&["exec", "img", "test", "-e", "/probed"]);

    // Flags override the image's check field by field.
    e.ok(&[
        "create",
        "--name",
        "tuned",
        "--health-retries",
        "9",
        "checked",
        "sleep",
        "300",
    ]);
    assert_eq!(
        e.inspect("tuned")["Config"]["Healthcheck"],
        serde_json::json!({"Test": ["CMD-SHELL", "touch /probed"], "Interval": 100_000_000, "Retries": 9})
    );

    e.ok(&[
        "run",
        "-d",
        "--name",
        "off",
        "--no-healthcheck",
        "checked",
        "sleep",
        "300",
    ]);
    let off = e.inspect("off");
    assert_eq!(
        off["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["NONE"])
    );
    std::thread::sleep(Duration::from_millis(700));
    let off = e.inspect("off");
    assert!(off["State"].get("Health").is_none(), "{}", off["State"]);
    let (code, _, _) = e.code(&["exec", "off", "test", "-e", "/probed"]);
    assert_eq!(code, 1, "a disabled check ran");
    let status = ps_status(&e, "off");
    assert!(
        status.starts_with("Up ") && !status.contains('('),
        "{status}"
    );
    assert_eq!(names(&e, &["health=none", "status=running"]), ["off"]);

    // A CMD-SHELL check runs under the image's SHELL, as docker's does.
    let ctx = tempdir("husk-health-shell-");
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM busybox\n\
         RUN printf '#!/bin/sh\\necho via-tellsh\\nexec /bin/sh \"$@\"\\n' > /bin/tellsh && chmod +x /bin/tellsh\n\
         SHELL [\"/bin/tellsh\", \"-c\"]\n\
         HEALTHCHECK --interval=100ms CMD true\n",
    )
    .unwrap();
    e.ok(&["build", "-q", "-t", "shelled", ctx.path().to_str().unwrap()]);
    e.ok(&["run", "-d", "--name", "sh", "shelled", "sleep", "300"]);
    assert_eq!(
        e.inspect("sh")["Config"]["Shell"],
        serde_json::json!(["/bin/tellsh", "-c"])
    );
    wait_for("sh healthy", LONG, || status_is(&e, "sh", "healthy"));
    assert_eq!(health(&e, "sh")["Log"][0]["Output"], "via-tellsh\n");
}

#[test]
fn bad_health_flags_fail_in_one_line_with_125() {
    require_root!("bad_health_flags_fail_in_one_line_with_125");
    let e = Engine::new();
    for (args, says) in [
        (
            vec!["--no-healthcheck", "--health-cmd", "true"],
            "conflicts with --health-*",
        ),
        (vec!["--health-interval", "-1s"], "cannot be negative"),
        (vec!["--health-timeout", "5"], "missing unit"),
        (vec!["--health-start-period", "10ns"], "less than 1ms"),
        (vec!["--health-retries", "x"], "whole number"),
        (vec!["--health-retries", "-2"], "cannot be negative"),
    ] {
        let mut all = vec!["create"];
        all.extend(args.iter().copied());
        all.extend(["busybox", "true"]);
        let (code, _, err) = e.code(&all);
        assert_eq!(code, 125, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    assert!(e.ids().is_empty());
    let (code, _, err) = e.code(&["ps", "--filter", "health=sick"]);
    assert_ne!(code, 0);
    assert!(err.contains("starting, healthy, unhealthy, none"), "{err}");
}

#[test]
fn ps_filters_volume_network_before_since() {
    require_root!("ps_filters_volume_network_before_since");
    let e = Engine::new();
    let bind = tempdir("husk-health-bind-");
    let bind_spec = format!("{}:/hostdir", bind.path().display());
    e.ok(&[
        "create",
        "--name",
        "ca",
        "-v",
        "vol1:/data",
        "busybox",
        "true",
    ]);
    e.ok(&[
        "create",
        "--name",
        "cb",
        "--network",
        "none",
        "busybox",
        "true",
    ]);
    e.ok(&[
        "create",
        "--name",
        "cc",
        "--network",
        "host",
        "busybox",
        "true",
    ]);
    e.ok(&[
        "create", "--name", "cd", "-v", &bind_spec, "busybox", "true",
    ]);

    assert_eq!(names(&e, &["volume=vol1"]), ["ca"]);
    assert_eq!(names(&e, &["volume=/data"]), ["ca"]);
    assert_eq!(names(&e, &["volume=/hostdir"]), ["cd"]);
    assert_eq!(names(&e, &["volume=vol1", "volume=/hostdir"]), ["cd", "ca"]);
    assert_eq!(names(&e, &["network=none"]), ["cb"]);
    assert_eq!(names(&e, &["network=host"]), ["cc"]);
    assert_eq!(names(&e, &["network=bridge"]), ["cd", "ca"]);
    assert_eq!(names(&e, &["before=cc"]), ["cb", "ca"]);
    assert_eq!(names(&e, &["since=ca"]), ["cd", "cc", "cb"]);
    assert_eq!(names(&e, &["since=ca", "before=cd"]), ["cc", "cb"]);
    assert_eq!(names(&e, &["since=ca", "network=none"]), ["cb"]);
    // Not running: ps without -a shows none of them.
    assert_eq!(e.ok(&["ps", "-q", "--filter", "since=ca"]), "");
    let (code, _, err) = e.code(&["ps", "-a", "--filter", "before=nosuch"]);
    assert_ne!(code, 0);
    assert!(err.contains("nosuch"), "{err}");
    for n in ["ca", "cb", "cc", "cd"] {
        e.ok(&["rm", n]);
    }
    e.ok(&["volume", "rm", "vol1"]);
}

#[test]
fn no_probe_runs_while_paused_and_a_restart_starts_over() {
    require_root!("no_probe_runs_while_paused_and_a_restart_starts_over");
    let e = Engine::new();
    // Always failing, but too many retries to turn unhealthy: the streak
    // counts the probes.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "pz",
        "--health-cmd",
        "false",
        "--health-interval",
        "200ms",
        "--health-retries",
        "1000",
        "busybox",
        "sleep",
        "300",
    ]);
    let streak = |e: &Engine| health(e, "pz")["FailingStreak"].as_i64().unwrap();
    wait_for("three probes", LONG, || streak(&e) >= 3);
    e.ok(&["pause", "pz"]);
    let at_pause = streak(&e);
    std::thread::sleep(Duration::from_millis(1500));
    // One probe may have been under way as the container froze.
    assert!(streak(&e) <= at_pause + 1, "{}", health(&e, "pz"));
    e.ok(&["unpause", "pz"]);
    wait_for("probes after unpause", LONG, || streak(&e) >= at_pause + 3);

    e.ok(&["kill", "pz"]);
    wait_for("pz exited", LONG, || {
        e.inspect("pz")["State"]["Status"] == "exited"
    });
    // Kept after the exit, as docker keeps it.
    let before = health(&e, "pz");
    assert_eq!(before["Status"], "starting", "{before}");
    let streak_before = before["FailingStreak"].as_i64().unwrap();
    assert!(streak_before >= at_pause + 3, "{before}");
    e.ok(&["start", "pz"]);
    let after = e.inspect("pz");
    let h = &after["State"]["Health"];
    assert_eq!(h["Status"], "starting", "{h}");
    assert!(h["FailingStreak"].as_i64().unwrap() < streak_before, "{h}");
    // The log of the earlier run stays.
    let started = after["State"]["StartedAt"].as_str().unwrap();
    let first = h["Log"][0]["Start"].as_str().unwrap();
    assert!(first < started, "{first} {started}");
}
