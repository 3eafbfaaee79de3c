//! The seed walkthrough, end to end: `husk run -it -m 400m busybox sh`
//! under a pty the test drives, looked at from inside (sh is PID 1) and
//! from the host (a plain process with children, namespaces, a cgroup).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::engine::*;
use husk_fixtures::{cgroup_file, require_root, Terminal};

fn host_ps() -> Vec<(i32, i32, String)> {
    let out = husk_fixtures::output_via_files(Command::new("ps").args(["-eo", "pid=,ppid=,args="]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let pid = f.next()?.parse().ok()?;
            let ppid = f.next()?.parse().ok()?;
            Some((pid, ppid, f.collect::<Vec<_>>().join(" ")))
        })
        .collect()
}

#[test]
fn run_it_busybox_sh_is_a_plain_process_seen_from_both_sides() {
    require_root!("run_it_busybox_sh_is_a_plain_process_seen_from_both_sides");
    let e = Engine::new();
    let mut t = Terminal::spawn(
        e.cmd(&[
            "run", "-it", "--name", "seed", "-m", "400m", "busybox", "/bin/sh",
        ]),
        24,
        80,
    );

    // Inside: sh is PID 1, and nothing of the host shows.
    t.type_(b"ps -o pid,args; echo ps-done-$((6*7))\n");
    let text = t.expect("ps-done-42");
    let ps_lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(char::is_numeric))
        .collect();
    assert!(
        ps_lines.iter().any(|l| l.starts_with("1 /bin/sh")),
        "sh is not PID 1 inside:\n{text}"
    );
    assert!(
        ps_lines.len() <= 3,
        "host processes visible inside:\n{text}"
    );
    t.type_(b"sleep 500 & echo started-$((40+2))\n");
    t.expect("started-42");

    // Outside: inspect gives the host PID; sleep 500 is its child there.
    let info = e.inspect("seed");
    let pid = info["State"]["Pid"].as_i64().unwrap() as i32;
    assert!(pid > 1, "{info}");
    assert_eq!(info["State"]["Status"], "running");
    let id = info["Id"].as_str().unwrap().to_string();
    let short = &id[..12];
    let mut sleeper = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sleeper.is_none() {
        sleeper = host_ps()
            .into_iter()
            .find(|(_, ppid, args)| *ppid == pid && args == "sleep 500");
        assert!(Instant::now() < deadline, "no `sleep 500` child of {pid}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sh_args = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
    assert_eq!(sh_args, "/bin/sh\0");

    // husk ps: docker's columns.
    let table = e.ok(&["ps"]);
    let rows: Vec<Vec<String>> = table.lines().map(columns).collect();
    assert_eq!(
        rows[0],
        [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES"
        ]
    );
    assert_eq!(rows[1][0], short);
    assert_eq!(rows[1][1], "busybox");
    assert_eq!(rows[1][2], "\"/bin/sh\"");
    assert!(rows[1][4].starts_with("Up "), "{table}");
    assert_eq!(rows[1].last().unwrap(), "seed");

    // nsenter with the host PID: the container's pid, mount and uts view.
    let target = pid.to_string();
    let ns = |args: &[&str]| {
        let out = husk_fixtures::output_via_files(
            Command::new("nsenter")
                .args(["--target", &target, "--pid", "--mount", "--uts"])
                .args(args),
        );
        assert!(out.status.success(), "nsenter {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(ns(&["hostname"]), format!("{short}\n"));
    let inside = ns(&["ps", "-o", "pid,args"]);
    assert!(inside.contains("1 /bin/sh"), "{inside}");
    assert!(inside.contains("sleep 500"), "{inside}");

    // -m 400m on the cgroup (v1 memory, or memory.max where unified owns it).
    let limit = cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")
        .unwrap_or_else(|| panic!("no memory controller on v1 or v2 for {pid}"));
    assert_eq!(limit.read(), "419430400", "{limit:?}");

    // Leaving the shell ends the container; its exit code is husk's.
    t.type_(b"kill %1; exit 3\n");
    let status = t.wait();
    assert_eq!(status.code(), Some(3));
    let info = e.inspect("seed");
    assert_eq!(info["State"]["Status"], "exited");
    assert_eq!(info["State"]["ExitCode"], 3);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default()
                != "/bin/sh\0",
        "the container's sh outlived it"
    );
    e.ok(&["rm", "seed"]);
}
