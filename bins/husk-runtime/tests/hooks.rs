//! runtime-spec hooks: order, state on stdin, namespaces, failures, timeouts.

#[allow(unused_imports)]
mod common;
use common::*;

use std::path::Path;

fn p(b: &Bundle) -> &str {
    b.path().to_str().unwrap_or_default()
}

/// A hook that appends "<name> <status> <pid> <its mount ns>" to `log`.
fn recorder(name: &str, log: &Path) -> serde_json::Value {
    serde_json::json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", format!(
            "s=$(cat); st=$(echo \"$s\" | sed 's/.*\"status\":\"\\([a-z]*\\)\".*/\\1/'); \
             echo {name} $st $(readlink /proc/self/ns/mnt) >> {}", log.display())]
    })
}

#[test]
fn every_hook_runs_in_order_with_the_state_on_stdin() {
    require_root!("every_hook_runs_in_order_with_the_state_on_stdin");
    let rt = Rt::new();
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("hooks.log");
    let mut b = bundle(&["true"]);
    // Hooks that run inside the container need /bin/sh there and a place
    // to write that the test can read: bind the log dir in.
    b.edit(|c| {
        c["root"]["readonly"] = serde_json::json!(false);
        c["mounts"].as_array_mut().unwrap().push(serde_json::json!({
            "destination": log_dir.path(), "type": "bind", "source": log_dir.path(), "options": ["rbind"]
        }));
        c["hooks"] = serde_json::json!({
            "prestart": [recorder("prestart", &log)],
            "createRuntime": [recorder("createRuntime", &log)],
            "createContainer": [recorder("createContainer", &log)],
            "startContainer": [recorder("startContainer", &log)],
            "poststart": [recorder("poststart", &log)],
            "poststop": [recorder("poststop", &log)],
        });
    });
    let (code, _, err) = rt.run_bundle(&b, "hooks");
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
    let names: Vec<&str> = lines.iter().map(|l| l[0]).collect();
    assert_eq!(
        names,
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ],
        "{text}"
    );
    let host_mnt = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let host_mnt = host_mnt.to_str().unwrap();
    for l in &lines {
        let in_container = matches!(l[0], "createContainer" | "startContainer");
        assert_eq!(
            l[2] != host_mnt,
            in_container,
            "{l:?} ran in the wrong mount namespace"
        );
    }
    assert_eq!(lines[0][1], "created");
    assert_eq!(lines[4][1], "running");
    assert_eq!(lines[5][1], "stopped");
}

#[test]
fn a_failing_create_hook_fails_create_and_cleans_up() {
    require_root!("a_failing_create_hook_fails_create_and_cleans_up");
    let rt = Rt::new();
    let mut b = bundle(&["true"]);
    b.edit(|c| {
        c["hooks"] = serde_json::json!({"createRuntime": [
            {"path": "/bin/sh", "args": ["sh", "-c", "echo no network for you >&2; exit 4"]}
        ]});
    });
    let id = rt.id("hookfail");
    let err = rt.fails(&["create", "--bundle", p(&b), &id]);
    assert!(
        err.contains("hooks.createRuntime[0]") && err.contains("no network for you"),
        "{err}"
    );
    assert!(rt.fails(&["state", &id]).contains("does not exist"));
    assert!(cgroup_dirs(&id).is_empty());
    assert!(mounts_under(b.path()).is_empty());
}

#[test]
fn hooks_time_out() {
    require_root!("hooks_time_out");
    let rt = Rt::new();
    let mut b = bundle(&["true"]);
    b.edit(|c| {
        c["hooks"] = serde_json::json!({"prestart": [
            {"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}
        ]});
    });
    let id = rt.id("hooktimeout");
    let start = std::time::Instant::now();
    let err = rt.fails(&["create", "--bundle", p(&b), &id]);
    assert!(err.contains("timed out"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

/// The runtime spec: a failing poststart or poststop hook is a warning and
/// the remaining hooks still run. A hook without `env` gets the runtime's
/// environment (runc's), one with `env` exactly that.
#[test]
fn failing_poststart_and_poststop_hooks_warn_and_the_rest_run() {
    require_root!("failing_poststart_and_poststop_hooks_warn_and_the_rest_run");
    let rt = Rt::new();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hooks.log");
    let env_hook = |name: &str, env: Option<&[&str]>| {
        let mut h = serde_json::json!({
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("echo {name} probe=${{HUSK_HOOK_PROBE:-unset}} >> {}", log.display())]
        });
        if let Some(env) = env {
            h["env"] = serde_json::json!(env);
        }
        h
    };
    let mut b = bundle(&["sleep", "30"]);
    b.edit(|c| {
        c["hooks"] = serde_json::json!({
            "poststart": [{"path": "/bin/false"}, env_hook("poststart", None), {"path": "/bin/false"}],
            "poststop": [{"path": "/bin/false"}, env_hook("poststop", Some(&["PATH=/bin"])), {"path": "/bin/false"}],
        });
    });
    let id = rt.id("poststart");
    rt.ok(&["create", "--bundle", p(&b), &id]);
    // The runtime's own environment, which a hook without `env` inherits.
    let with_probe = |args: &[&str]| {
        husk_fixtures::output_via_files(
            rt.cmd()
                .args(args)
                .env("HUSK_HOOK_PROBE", "inherited")
                .stdin(std::process::Stdio::null()),
        )
    };
    let out = with_probe(&["start", &id]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: hooks.poststart[0]"), "{err}");
    assert!(err.contains("warning: hooks.poststart[2]"), "{err}");
    assert_eq!(rt.status(&id), "running");
    let out = with_probe(&["delete", "--force", &id]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: hooks.poststop[0]"), "{err}");
    assert!(err.contains("warning: hooks.poststop[2]"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "poststart probe=inherited\npoststop probe=unset\n"
    );
}

/// docker's default seccomp profile (from the captured dockerd config)
/// makes a denied syscall fail inside the container.
#[test]
fn docker_seccomp_profile_denies_inside_the_container() {
    require_root!("docker_seccomp_profile_denies_inside_the_container");
    let spec = husk_fixtures::client_spec("docker-run-config.json");
    let data =
        std::fs::read_to_string(&spec).unwrap_or_else(|e| panic!("read {}: {e}", spec.display()));
    let docker: serde_json::Value = serde_json::from_str(&data).unwrap();
    let rt = Rt::new();
    let mut b = bundle(&[
        "sh",
        "-c",
        "/bin/payload syscall unshare-user; /bin/payload syscall getpid",
    ]);
    b.edit(|c| {
        c["linux"]["seccomp"] = docker["linux"]["seccomp"].clone();
        c["process"]["noNewPrivileges"] = serde_json::json!(false);
    });
    let (code, out, err) = rt.run_bundle(&b, "seccomp");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "errno 1\nok\n");
}
