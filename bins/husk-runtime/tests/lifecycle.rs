//! runtime.md operations and lifecycle, end to end against the real kernel.

#[allow(unused_imports)]
mod common;
use common::*;

use std::path::Path;
use std::time::Duration;

fn p(b: &Bundle) -> &str {
    b.path().to_str().unwrap_or_default()
}

#[test]
fn run_is_pid1_with_its_hostname_and_only_its_processes() {
    require_root!("run_is_pid1_with_its_hostname_and_only_its_processes");
    let rt = Rt::new();
    let b = bundle(&[
        "sh",
        "-c",
        "echo pid=$$; hostname; ls /proc | grep -c '^[0-9]'",
    ]);
    let (code, out, err) = rt.run_bundle(&b, "pid1");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "pid=1");
    assert_eq!(lines[1], "husk-test");
    // sh and ls (grep is in the pipe too): nothing from the host.
    let n: u32 = lines[2].trim().parse().unwrap();
    assert!(n <= 3, "saw {n} processes: {out}");
}

#[test]
fn network_namespace_has_only_loopback() {
    require_root!("network_namespace_has_only_loopback");
    let rt = Rt::new();
    let b = bundle(&["ls", "/sys/class/net"]);
    let (code, out, err) = rt.run_bundle(&b, "net");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), vec!["lo"]);
}

#[test]
fn exit_codes_propagate() {
    require_root!("exit_codes_propagate");
    let rt = Rt::new();
    let b = bundle(&["sh", "-c", "exit 3"]);
    assert_eq!(rt.run_bundle(&b, "exit").0, 3);
    let b = bundle(&["/bin/payload", "exit", "42"]);
    assert_eq!(rt.run_bundle(&b, "exit42").0, 42);
}

#[test]
fn killed_by_signal_exits_128_plus_n() {
    require_root!("killed_by_signal_exits_128_plus_n");
    let rt = Rt::new();
    let b = bundle(&["sleep", "60"]);
    let id = rt.id("sig");
    let mut child = rt
        .cmd()
        .args(["run", "--bundle", p(&b), &id])
        .spawn()
        .unwrap();
    wait_for(|| rt.run(&["state", &id]).status.success() && rt.status(&id) == "running");
    rt.ok(&["kill", &id, "KILL"]);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(137));
    // run deletes the container after it exits.
    assert!(!rt.run(&["state", &id]).status.success());
}

#[test]
fn create_start_state_kill_delete() {
    require_root!("create_start_state_kill_delete");
    let rt = Rt::new();
    let b = bundle(&["sleep", "60"]);
    let id = rt.id("life");
    let pidfile = b.path().join("pid");
    rt.ok(&[
        "create",
        "--bundle",
        p(&b),
        "--pid-file",
        pidfile.to_str().unwrap(),
        &id,
    ]);
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let st = rt.state(&id);
    assert_eq!(st["status"], "created");
    assert_eq!(st["pid"], pid);
    assert_eq!(st["id"], id.as_str());
    assert_eq!(st["bundle"], p(&b));
    assert_eq!(st["rootfs"], b.rootfs().to_str().unwrap());
    assert!(st["created"].as_str().unwrap().ends_with('Z'));
    // The init is detached from the runtime: the create process is gone and
    // the init is now a child of the subreaper (this test, as a shim would be).
    let ppid = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid: i32 = ppid
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(ppid, std::process::id() as i32);
    // The cgroup holds it (default path /<id>).
    let procs = std::fs::read_to_string(
        husk_fixtures::cgroup_root("pids")
            .join(&id)
            .join("cgroup.procs"),
    )
    .unwrap();
    assert!(procs.lines().any(|l| l == pid.to_string()), "{procs}");

    rt.ok(&["start", &id]);
    assert_eq!(rt.status(&id), "running");
    let err = rt.fails(&["start", &id]);
    assert!(err.contains("running"), "{err}");
    let err = rt.fails(&["delete", &id]);
    assert!(err.contains("delete --force"), "{err}");
    rt.ok(&["kill", &id, "9"]);
    wait_for(|| rt.status(&id) == "stopped");
    assert_eq!(rt.state(&id)["pid"], 0);
    rt.ok(&["delete", &id]);
    assert!(cgroup_dirs(&id).is_empty());
    assert!(rt.fails(&["state", &id]).contains("does not exist"));
}

#[test]
fn create_then_delete_without_start_leaves_nothing() {
    require_root!("create_then_delete_without_start_leaves_nothing");
    let rt = Rt::new();
    let b = bundle(&["true"]);
    let id = rt.id("nostart");
    rt.ok(&["create", "--bundle", p(&b), &id]);
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    rt.ok(&["delete", &id]);
    assert!(!Path::new(&format!("/proc/{pid}/exe")).exists() || zombie_or_gone(pid));
    assert!(cgroup_dirs(&id).is_empty());
    assert!(
        mounts_under(b.path()).is_empty(),
        "{:?}",
        mounts_under(b.path())
    );
}

#[test]
fn delete_force_kills_a_running_container_and_tolerates_missing_ones() {
    require_root!("delete_force_kills_a_running_container_and_tolerates_missing_ones");
    let rt = Rt::new();
    let b = bundle(&["sleep", "60"]);
    let id = rt.id("force");
    rt.ok(&["run", "--detach", "--bundle", p(&b), &id]);
    assert_eq!(rt.status(&id), "running");
    rt.ok(&["delete", "--force", &id]);
    assert!(cgroup_dirs(&id).is_empty());
    // containerd calls delete --force again after the container is gone.
    rt.ok(&["delete", "--force", &id]);
    let err = rt.fails(&["delete", &id]);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn two_containers_at_once() {
    require_root!("two_containers_at_once");
    let rt = Rt::new();
    let b1 = bundle(&["sleep", "60"]);
    let b2 = bundle(&["sleep", "60"]);
    let a = rt.id("two-a");
    let c = rt.id("two-b");
    rt.ok(&["run", "-d", "--bundle", p(&b1), &a]);
    rt.ok(&["run", "-d", "--bundle", p(&b2), &c]);
    let list = rt.ok(&["list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let q = rt.ok(&["list", "-q"]);
    assert!(q.contains(&a) && q.contains(&c));
    let table = rt.ok(&["list"]);
    assert!(table.starts_with("ID "), "{table}");
    assert_ne!(rt.state(&a)["pid"], rt.state(&c)["pid"]);
    rt.ok(&["delete", "-f", &a]);
    rt.ok(&["delete", "-f", &c]);
}

#[test]
fn kill_accepts_names_numbers_and_all() {
    require_root!("kill_accepts_names_numbers_and_all");
    let rt = Rt::new();
    let b = bundle(&["sh", "-c", "trap 'exit 7' TERM; sleep 60 & wait"]);
    let id = rt.id("killall");
    rt.ok(&["run", "-d", "--bundle", p(&b), &id]);
    wait_for(|| rt.ok(&["ps", "--format", "json", &id]).matches(',').count() >= 1);
    let err = rt.fails(&["kill", &id, "NOSUCHSIG"]);
    assert!(err.contains("NOSUCHSIG"), "{err}");
    rt.ok(&["kill", "--all", &id, "SIGKILL"]);
    wait_for(|| rt.status(&id) == "stopped");
    rt.ok(&["delete", &id]);
}

#[test]
fn runs_with_no_pivot() {
    require_root!("runs_with_no_pivot");
    let rt = Rt::new();
    let b = bundle(&["cat", "/etc/hostname"]);
    let id = rt.id("nopivot");
    let out = rt.run(&["run", "--no-pivot", "--bundle", p(&b), &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "busybox\n");
}

#[test]
fn absolute_cgroups_path_is_used_and_removed() {
    require_root!("absolute_cgroups_path_is_used_and_removed");
    let rt = Rt::new();
    let mut b = bundle(&["sleep", "60"]);
    let cg = unique("husk-t-abs");
    b.edit(|c| c["linux"]["cgroupsPath"] = serde_json::json!(format!("/husk-test/{cg}")));
    let id = rt.id("abs");
    rt.ok(&["run", "-d", "--bundle", p(&b), &id]);
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    for h in ["memory", "pids", "cpu", "freezer"] {
        let procs = std::fs::read_to_string(
            husk_fixtures::cgroup_root(h).join(format!("husk-test/{cg}/cgroup.procs")),
        )
        .unwrap_or_else(|e| panic!("{h}: {e}"));
        assert!(procs.lines().any(|l| l == pid.to_string()), "{h}: {procs}");
    }
    rt.ok(&["delete", "-f", &id]);
    assert!(cgroup_dirs(&cg).is_empty(), "{:?}", cgroup_dirs(&cg));
}

#[test]
fn pause_and_resume_freeze_the_container() {
    require_root!("pause_and_resume_freeze_the_container");
    let rt = Rt::new();
    let b = bundle(&["sleep", "60"]);
    let id = rt.id("pause");
    rt.ok(&["run", "-d", "--bundle", p(&b), &id]);
    rt.ok(&["pause", &id]);
    assert_eq!(rt.status(&id), "paused");
    assert!(rt.fails(&["pause", &id]).contains("paused"));
    rt.ok(&["resume", &id]);
    assert_eq!(rt.status(&id), "running");
    rt.ok(&["delete", "-f", &id]);
}

pub fn wait_for(mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("condition not reached in 5s");
}

fn zombie_or_gone(pid: i64) -> bool {
    husk_state_gone(pid)
}

fn husk_state_gone(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
    }
}

/// A unix socket address holds 108 bytes; a deep `--root` plus a 64-hex
/// id (as engines use) must still work.
#[test]
fn long_root_and_id_fit_the_socket_address() {
    require_root!("long_root_and_id_fit_the_socket_address");
    let top = tempfile::Builder::new()
        .prefix("husk-rt-long-")
        .tempdir()
        .unwrap();
    let deep = top.path().join("a".repeat(60)).join("b".repeat(60));
    std::fs::create_dir_all(&deep).unwrap();
    let b = bundle(&["true"]);
    let id = format!("{:0>64}", std::process::id());
    let run = |args: &[&str]| {
        husk_fixtures::output_via_files(
            std::process::Command::new(bin())
                .arg("--root")
                .arg(&deep)
                .args(args)
                .stdin(std::process::Stdio::null()),
        )
    };
    let out = run(&["create", "--bundle", p(&b), &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["start", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid: i32 = {
        let s = run(&["state", &id]);
        let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
        v["pid"].as_i64().unwrap_or(0) as i32
    };
    wait_for(|| {
        let s = run(&["state", &id]);
        String::from_utf8_lossy(&s.stdout).contains("stopped")
    });
    assert!(run(&["delete", &id]).status.success());
    reap(pid);
}

#[test]
fn kill_sends_realtime_signals_by_name_and_number() {
    require_root!("kill_sends_realtime_signals_by_name_and_number");
    let rt = Rt::new();
    for (sig, n) in [("SIGRTMIN+3", 37), ("RTMAX-2", 62), ("40", 40)] {
        // The trap's exit status says the signal arrived as that number
        // (an untrapped one would end it with 128+n).
        let script = format!("trap 'exit 7' {n}; sleep 60 & wait");
        let b = bundle(&["sh", "-c", &script]);
        let id = rt.id("rtsig");
        let mut child = rt
            .cmd()
            .args(["run", "--bundle", p(&b), &id])
            .spawn()
            .unwrap();
        wait_for(|| {
            rt.run(&["state", &id]).status.success()
                && rt.ok(&["ps", "--format", "json", &id]).matches(',').count() >= 1
        });
        rt.ok(&["kill", &id, sig]);
        assert_eq!(child.wait().unwrap().code(), Some(7), "{sig}");
    }
}
