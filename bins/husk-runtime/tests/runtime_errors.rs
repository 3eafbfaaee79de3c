//! runtime.md "errors" and fail-closed checks: every refusal exits non-zero
//! with one line on stderr that says what is wrong, and leaves nothing
//! behind (no state dir, no cgroup dir, no mounts).

#[allow(unused_imports)]
mod common;
mod common_conf;

use common::*;
use common_conf::*;
use serde_json::json;

#[test]
fn unknown_id_is_an_error_for_every_verb() {
    require_root!("unknown_id_is_an_error_for_every_verb");
    let rt = Rt::new();
    let id = unique("husk-t-nosuch");
    for verb in [
        vec!["state", &id],
        vec!["start", &id],
        vec!["kill", &id, "KILL"],
        vec!["delete", &id],
        vec!["pause", &id],
        vec!["resume", &id],
        vec!["ps", &id],
    ] {
        let out = rt.run(&verb);
        let err = assert_refused(&rt, &out, &id, None, &[&id]);
        assert!(err.contains("does not exist"), "{verb:?}: {err}");
    }
}

#[test]
fn invalid_ids_are_refused_before_anything_is_created() {
    require_root!("invalid_ids_are_refused_before_anything_is_created");
    let rt = Rt::new();
    let b = bundle(&["true"]);
    let escape = unique("husk-t-escape");
    let outside = rt.root.path().parent().unwrap().join(&escape);
    for id in [
        format!("../{escape}"),
        "a/b".into(),
        "..".into(),
        ".".into(),
        "".into(),
        "x\ny".into(),
    ] {
        let out = rt.run(&["create", "--bundle", p(&b), &id]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{id:?} accepted");
        assert_eq!(err.lines().count(), 1, "{id:?}: {err}");
        assert!(err.to_lowercase().contains("id"), "{id:?}: {err}");
        assert!(!outside.exists(), "{id:?} created {}", outside.display());
        let left: Vec<_> = std::fs::read_dir(rt.root.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{id:?}: runtime root not empty: {left:?}");
        assert!(mounts_under(b.path()).is_empty(), "{id:?}: mounts left");
        if let Some(name) = std::path::Path::new(&id)
            .file_name()
            .and_then(|n| n.to_str())
        {
            assert!(cgroup_dirs(name).is_empty(), "{id:?}: cgroup left");
        }
    }
}

#[test]
fn an_existing_id_is_refused_and_left_alone() {
    require_root!("an_existing_id_is_refused_and_left_alone");
    let rt = Rt::new();
    let b = bundle(&["sleep", "30"]);
    let id = rt.id("dup");
    rt.ok(&["create", "--bundle", p(&b), &id]);
    let pid = rt.state(&id)["pid"].clone();
    let err = rt.fails(&["create", "--bundle", p(&b), &id]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&id) && err.contains("exists"), "{err}");
    assert_eq!(rt.status(&id), "created");
    assert_eq!(rt.state(&id)["pid"], pid);
    rt.ok(&["delete", "-f", &id]);
}

fn write_config(b: &Bundle, text: &str) {
    std::fs::write(b.path().join("config.json"), text).unwrap();
}

#[test]
fn malformed_config_names_the_file_and_position() {
    require_root!("malformed_config_names_the_file_and_position");
    let rt = Rt::new();
    let b = bundle(&["true"]);
    write_config(
        &b,
        "{\n  \"ociVersion\": \"1.2.0\",\n  \"process\": {,\n}\n",
    );
    let id = rt.id("badjson");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(&rt, &out, &id, Some(b.path()), &["config.json", "line 3"]);
    // Valid JSON of the wrong shape too.
    write_config(
        &b,
        &serde_json::to_string_pretty(&json!({"ociVersion": "1.2.0", "process": {"args": "sh", "cwd": "/"}, "root": {"path": "rootfs"}}))
            .unwrap(),
    );
    let id = rt.id("badshape");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(&rt, &out, &id, Some(b.path()), &["config.json", "line"]);
    // No config.json at all.
    std::fs::remove_file(b.path().join("config.json")).unwrap();
    let id = rt.id("nojson");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(&rt, &out, &id, Some(b.path()), &["config.json"]);
}

#[test]
fn unsupported_fields_are_refused_by_name() {
    require_root!("unsupported_fields_are_refused_by_name");
    let rt = Rt::new();
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, &str, Edit); 5] = [
        ("apparmor", "apparmorProfile", |c| {
            c["process"]["apparmorProfile"] = json!("docker-default")
        }),
        ("selinux", "selinuxLabel", |c| {
            c["process"]["selinuxLabel"] = json!("system_u:system_r:container_t:s0")
        }),
        ("timens", "time", |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "time"}));
        }),
        ("uidmaps", "uidMappings", |c| {
            c["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            c["linux"]["gidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        }),
        ("intelrdt", "intelRdt", |c| {
            c["linux"]["intelRdt"] = json!({"closID": "husk", "l3CacheSchema": "L3:0=ff"})
        }),
    ];
    for (name, field, edit) in cases {
        let mut b = bundle(&["true"]);
        b.edit(edit);
        let id = rt.id(name);
        let out = rt.run(&["create", "--bundle", p(&b), &id]);
        assert_refused(&rt, &out, &id, Some(b.path()), &[field]);
    }
}

#[test]
fn hooks_are_refused_or_run() {
    require_root!("hooks_are_refused_or_run");
    // Hooks run host binaries as root: a runtime that does not run them
    // must refuse the spec, never ignore it. One that does must run them.
    let rt = Rt::new();
    let mut b = bundle(&["true"]);
    let marker = b.path().join("hook-ran");
    b.edit(|c| {
        c["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", format!("touch {}", marker.display())]}]})
    });
    let id = rt.id("hooks");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    if out.status.success() {
        assert!(
            marker.exists(),
            "hooks accepted but createRuntime did not run"
        );
        rt.ok(&["delete", "-f", &id]);
    } else {
        assert_refused(&rt, &out, &id, Some(b.path()), &["hooks"]);
        assert!(!marker.exists());
    }
}

#[test]
fn terminal_without_console_socket_is_refused() {
    require_root!("terminal_without_console_socket_is_refused");
    let rt = Rt::new();
    let mut b = bundle(&["true"]);
    b.edit(|c| c["process"]["terminal"] = json!(true));
    let id = rt.id("noconsole");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(
        &rt,
        &out,
        &id,
        Some(b.path()),
        &["terminal", "console-socket"],
    );
    // A socket path nobody listens on.
    let dir = host_dir("noconsole");
    let sock = dir.path().join("nobody.sock");
    let id = rt.id("deadconsole");
    let out = rt.run(&[
        "create",
        "--console-socket",
        sock.to_str().unwrap(),
        "--bundle",
        p(&b),
        &id,
    ]);
    assert_refused(&rt, &out, &id, Some(b.path()), &["console-socket"]);
}

#[test]
fn missing_rootfs_is_refused() {
    require_root!("missing_rootfs_is_refused");
    let rt = Rt::new();
    let b = bundle(&["true"]);
    std::fs::remove_dir_all(b.rootfs()).unwrap();
    let id = rt.id("norootfs");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(&rt, &out, &id, Some(b.path()), &["rootfs"]);
    // And a missing executable fails create (not start) naming it.
    let b = bundle(&["/bin/no-such-binary"]);
    let id = rt.id("noexe");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(&rt, &out, &id, Some(b.path()), &["/bin/no-such-binary"]);
}

#[test]
fn missing_bundle_is_refused() {
    require_root!("missing_bundle_is_refused");
    let rt = Rt::new();
    let id = rt.id("nobundle");
    let dir = host_dir("nobundle");
    let gone = dir.path().join("gone");
    let out = rt.run(&["create", "--bundle", gone.to_str().unwrap(), &id]);
    assert_refused(&rt, &out, &id, None, &[gone.to_str().unwrap()]);
}

#[test]
fn an_os_error_is_said_once() {
    require_root!("an_os_error_is_said_once");
    let rt = Rt::new();
    // A root that cannot be made: the runtime's own step and the kernel's
    // answer, each once.
    let out = husk_fixtures::output_via_files(std::process::Command::new(bin()).args([
        "--root",
        "/dev/null/x",
        "list",
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("/dev/null/x"), "{err}");
    assert_eq!(err.matches("Not a directory").count(), 1, "{err}");
    // A failure inside the init (the executable is missing) crosses the
    // channel to the parent with its cause, said once.
    let b = bundle(&["/bin/no-such-binary"]);
    let id = rt.id("noexe-once");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    let err = assert_refused(&rt, &out, &id, Some(b.path()), &["/bin/no-such-binary"]);
    let lower = err.to_lowercase();
    assert_eq!(
        lower.matches("no such file or directory").count(),
        1,
        "{err}"
    );
}

/// Puts a state file back as it was, on every exit from the test, so the
/// harness can delete the container it holds.
struct Restore(std::path::PathBuf, String);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, &self.1);
    }
}

#[test]
fn an_unreadable_cgroup_record_stops_delete() {
    require_root!("an_unreadable_cgroup_record_stops_delete");
    let rt = Rt::new();
    let b = bundle(&["true"]);
    let id = rt.id("badcgroup");
    rt.ok(&["create", "--bundle", p(&b), &id]);
    let path = rt.root.path().join(&id).join("state.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let _restore = Restore(path.clone(), text.clone());
    let mut state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["cgroup"] = json!(42);
    std::fs::write(&path, state.to_string()).unwrap();
    // Deleting without knowing the cgroup would leave it behind: refuse,
    // say why, and keep the container so a fixed record can delete it.
    let out = rt.run(&["delete", "--force", &id]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "delete went on without the cgroup");
    assert!(err.contains("cgroup") && err.contains(&id), "{err}");
    assert!(path.exists(), "the container's state was removed");
}
