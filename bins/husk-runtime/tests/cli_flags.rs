//! runc's global flags and `spec`, as containerd and podman use them:
//! --log/--log-format json, --rootless, --version.

#[allow(unused_imports)]
mod common;
mod common_conf;

use common::*;
use common_conf::*;

/// The JSON lines of a --log file; panics on a line that is not JSON with
/// level, msg and an RFC 3339 time.
fn json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            for k in ["level", "msg", "time"] {
                assert!(v[k].is_string(), "{k} missing: {l}");
            }
            let t = v["time"].as_str().unwrap();
            assert!(
                t.contains('T') && (t.ends_with('Z') || t.contains('+')),
                "time {t}"
            );
            v
        })
        .collect()
}

#[test]
fn log_json_records_the_error_containerd_shows() {
    require_root!("log_json_records_the_error_containerd_shows");
    let rt = Rt::new();
    let dir = host_dir("log");
    let log = dir.path().join("log.json");
    let l = log.to_str().unwrap();
    // A plain verb, and create (which re-execs itself before doing work).
    let id = rt.id("log-nosuch");
    let out = rt.run(&["--log", l, "--log-format", "json", "state", &id]);
    let err = assert_refused(&rt, &out, &id, None, &[&id]);
    let lines = json_lines(&log);
    let last = lines.last().expect("no log line");
    assert_eq!(last["level"], "error");
    let msg = last["msg"].as_str().unwrap();
    assert!(
        !msg.is_empty() && err.trim_end().ends_with(msg),
        "log msg {msg:?} vs stderr {err:?}"
    );

    let b = bundle(&["true"]);
    std::fs::remove_dir_all(b.rootfs()).unwrap();
    let id = rt.id("log-create");
    let out = rt.run(&[
        "--log",
        l,
        "--log-format=json",
        "create",
        "--bundle",
        p(&b),
        &id,
    ]);
    let err = assert_refused(&rt, &out, &id, Some(b.path()), &["rootfs"]);
    let lines = json_lines(&log);
    assert!(lines.len() >= 2, "{lines:?}");
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "error");
    let msg = last["msg"].as_str().unwrap();
    assert!(
        msg.contains("rootfs") && err.trim_end().ends_with(msg),
        "log msg {msg:?} vs stderr {err:?}"
    );
}

#[test]
fn log_text_format_by_default() {
    require_root!("log_text_format_by_default");
    let rt = Rt::new();
    let dir = host_dir("logtext");
    let log = dir.path().join("log.txt");
    let id = rt.id("logtext");
    rt.fails(&["--log", log.to_str().unwrap(), "state", &id]);
    let text = std::fs::read_to_string(&log).unwrap();
    let last = text.lines().last().unwrap_or_default();
    assert!(last.contains("level=error") && last.contains(&id), "{text}");
}

#[test]
fn rootless_flag_forms_are_accepted() {
    require_root!("rootless_flag_forms_are_accepted");
    let rt = Rt::new();
    for args in [
        vec!["--rootless=true", "list"],
        vec!["--rootless", "true", "list"],
        vec!["--rootless=false", "list"],
        vec!["--rootless", "auto", "list"],
        vec!["list", "--rootless=true"],
    ] {
        let out = rt.ok(&args);
        assert!(out.starts_with("ID "), "{args:?}: {out}");
    }
    let err = rt.fails(&["--rootless=maybe", "list"]);
    assert!(err.contains("maybe"), "{err}");
}

#[test]
fn version_flag() {
    let rt = Rt::new();
    for flag in ["--version", "-v"] {
        let out = rt.ok(&[flag]);
        assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
        assert!(out.lines().any(|l| l.starts_with("spec: 1.")), "{out}");
    }
}

#[test]
fn version_first_line_follows_runc_and_crun() {
    // `runc --version` prints "runc version 1.1.5", crun "crun version
    // 1.8.1"; go-runc and podman read "<name> version <v>".
    let rt = Rt::new();
    let out = rt.ok(&["--version"]);
    assert_eq!(
        out.lines().next().unwrap_or_default(),
        format!("husk-runtime version {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn spec_writes_a_config_that_run_accepts_and_never_overwrites() {
    require_root!("spec_writes_a_config_that_run_accepts_and_never_overwrites");
    let rt = Rt::new();
    let b = bundle(&["true"]);
    let cfg = b.path().join("config.json");
    std::fs::remove_file(&cfg).unwrap();
    // Default bundle ".": in the current directory, as `runc spec` is used.
    let out = rt.cmd().arg("spec").current_dir(b.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    assert!(
        spec["ociVersion"].as_str().unwrap().starts_with("1."),
        "{spec}"
    );
    assert_eq!(spec["root"]["path"], "rootfs");
    spec["process"]["args"] = serde_json::json!(["/bin/payload", "status"]);
    spec["process"]["terminal"] = serde_json::json!(false);
    std::fs::write(&cfg, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    let written = std::fs::read(&cfg).unwrap();
    let status = run_ok(&rt, &b, "spec-run");
    // The default spec keeps runc's default capabilities.
    assert_eq!(field(&status, "CapEff"), "0000000020000420", "{status}");
    assert_eq!(field(&status, "NoNewPrivs"), "1", "{status}");

    let out = rt.run(&["spec", "--bundle", p(&b)]);
    assert!(!out.status.success(), "spec overwrote config.json");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.json") && err.contains("exists"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(std::fs::read(&cfg).unwrap(), written, "config.json changed");
}
