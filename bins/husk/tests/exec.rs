//! `husk exec` hands the runtime a process file (`exec --process`) built
//! from the container's own process: its env, capabilities and user carry
//! over, and `-e`, `-w`, `-u` change only what they name.

mod common;

use common::engine::*;
use husk_fixtures::require_root;

fn status_field(text: &str, field: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {field} in:\n{text}"))
}

#[test]
fn exec_inherits_the_container_process_and_overrides_what_it_names() {
    require_root!("exec_inherits_the_container_process_and_overrides_what_it_names");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "--network",
        "none",
        "-e",
        "A=1",
        "-e",
        "B=2",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "KILL",
        "-w",
        "/tmp",
        "busybox",
        "sleep",
        "300",
    ]);
    // The container's env and cwd, with -e overriding by name; `-e NAME`
    // takes the caller's value.
    let out = husk_fixtures::output_via_files(
        e.cmd(&[
            "exec",
            "-e",
            "B=3",
            "-e",
            "C",
            "box",
            "sh",
            "-c",
            "echo $A$B$C; pwd",
        ])
        .env("C", "x"),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "13x\n/tmp\n");
    assert_eq!(e.ok(&["exec", "-w", "/etc", "box", "pwd"]), "/etc\n");
    // Capabilities are the container's, not the runtime's defaults.
    let pid = e.inspect("box")["State"]["Pid"].as_i64().unwrap();
    let init = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let exec = e.ok(&["exec", "box", "cat", "/proc/self/status"]);
    assert_eq!(
        status_field(&exec, "CapEff:"),
        status_field(&init, "CapEff:")
    );
    assert_eq!(
        status_field(&exec, "CapBnd:"),
        status_field(&init, "CapBnd:")
    );
    assert_eq!(status_field(&exec, "CapEff:"), "0000000000000020");
    assert_eq!(
        e.ok(&["exec", "-u", "65534:65534", "box", "id", "-u"]),
        "65534\n"
    );
    // Nothing of the exec is left in the runroot.
    let left: Vec<_> = std::fs::read_dir(e.runroot.path())
        .unwrap()
        .flatten()
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("exec-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    e.ok(&["rm", "-f", "box"]);
}

#[test]
fn etc_files_are_readable_by_any_user_whatever_the_callers_umask() {
    require_root!("etc_files_are_readable_by_any_user_whatever_the_callers_umask");
    use std::os::unix::process::CommandExt;
    let e = Engine::new();
    let mut cmd = e.cmd(&[
        "run",
        "--rm",
        "-u",
        "65534:65534",
        "busybox",
        "sh",
        "-c",
        "cat /etc/hostname /etc/hosts /etc/resolv.conf >/dev/null && stat -c %a /etc/hosts",
    ]);
    // SAFETY: umask is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o077);
            Ok(())
        });
    }
    let out = husk_fixtures::output_via_files(&mut cmd);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "644\n");
}
