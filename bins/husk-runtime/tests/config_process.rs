//! config.md "process" (and hostname/domainname), checked from inside the
//! container with the payload against the real kernel, as root.

#[allow(unused_imports)]
mod common;
mod common_conf;

use common::*;
use common_conf::*;
use serde_json::json;

#[test]
fn args_are_passed_verbatim() {
    require_root!("args_are_passed_verbatim");
    let rt = Rt::new();
    let b = bundle(&[
        "sh",
        "-c",
        "printf '[%s]' \"$0\" \"$@\"",
        "zero",
        "a b",
        "",
        "c'd",
    ]);
    assert_eq!(run_ok(&rt, &b, "args"), "[zero][a b][][c'd]");
}

#[test]
fn env_is_exactly_the_spec_plus_home() {
    require_root!("env_is_exactly_the_spec_plus_home");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "env"]);
    b.edit(|c| c["process"]["env"] = json!(["PATH=/bin", "FOO=bar baz", "EMPTY="]));
    let mut got: Vec<String> = run_ok(&rt, &b, "env").lines().map(String::from).collect();
    got.sort();
    // HOME comes from the rootfs's /etc/passwd (root:/root), as runc does.
    assert_eq!(
        got,
        vec!["EMPTY=", "FOO=bar baz", "HOME=/root", "PATH=/bin"]
    );

    // An explicit HOME wins.
    let mut b = bundle(&["/bin/payload", "env"]);
    b.edit(|c| c["process"]["env"] = json!(["HOME=/x"]));
    assert_eq!(run_ok(&rt, &b, "env-home").trim(), "HOME=/x");
}

#[test]
fn cwd_is_the_spec_cwd() {
    require_root!("cwd_is_the_spec_cwd");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "cwd"]);
    b.edit(|c| c["process"]["cwd"] = json!("/home/user"));
    assert_eq!(run_ok(&rt, &b, "cwd").trim(), "/home/user");
    // A relative program name is found through PATH, not the cwd.
    let mut b = bundle(&["payload", "cwd"]);
    b.edit(|c| c["process"]["cwd"] = json!("/etc"));
    assert_eq!(run_ok(&rt, &b, "cwd-path").trim(), "/etc");
}

#[test]
fn user_uid_gid_and_additional_gids() {
    require_root!("user_uid_gid_and_additional_gids");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "id"]);
    b.edit(|c| c["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [10]}));
    assert_eq!(
        run_ok(&rt, &b, "user").trim(),
        "uid=1000 gid=1000 euid=1000 egid=1000 groups=10"
    );
    // Without additionalGids the supplementary groups are empty, not root's.
    let mut b = bundle(&["/bin/payload", "id"]);
    b.edit(|c| c["process"]["user"] = json!({"uid": 1000, "gid": 1000}));
    assert_eq!(
        run_ok(&rt, &b, "user-nogroups").trim(),
        "uid=1000 gid=1000 euid=1000 egid=1000 groups="
    );
}

#[test]
fn umask_from_the_spec_and_default() {
    require_root!("umask_from_the_spec_and_default");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "umask"]);
    b.edit(|c| c["process"]["user"]["umask"] = json!(0o027));
    assert_eq!(run_ok(&rt, &b, "umask").trim(), "0027");
    let b = bundle(&["/bin/payload", "umask"]);
    assert_eq!(run_ok(&rt, &b, "umask-default").trim(), "0022");
}

#[test]
fn rlimit_nofile_is_exact() {
    require_root!("rlimit_nofile_is_exact");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "rlimit", "RLIMIT_NOFILE"]);
    b.edit(|c| {
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768}])
    });
    assert_eq!(run_ok(&rt, &b, "nofile").trim(), "512 768");
    let b = bundle(&["/bin/payload", "rlimit", "RLIMIT_NOFILE"]);
    assert_eq!(run_ok(&rt, &b, "nofile-default").trim(), "1024 1024");
}

#[test]
fn raising_a_hard_rlimit_without_cap_sys_resource_fails_create() {
    require_root!("raising_a_hard_rlimit_without_cap_sys_resource_fails_create");
    let caps = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = u64::from_str_radix(&field(&caps, "CapEff"), 16).unwrap();
    if eff & (1u64 << 24) != 0 {
        // bit 24 = CAP_SYS_RESOURCE
        skip(
            "raising_a_hard_rlimit_without_cap_sys_resource_fails_create",
            "this host grants CAP_SYS_RESOURCE: raising a hard limit is allowed",
        );
        return;
    }
    let rt = Rt::new();
    let (_, hard) = own_rlimit(libc::RLIMIT_NOFILE);
    let above = hard + 1000;
    let mut b = bundle(&["/bin/payload", "rlimit", "RLIMIT_NOFILE"]);
    b.edit(|c| {
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": above, "hard": above}])
    });
    let id = rt.id("nofile-raise");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(
        &rt,
        &out,
        &id,
        Some(b.path()),
        &["RLIMIT_NOFILE", &above.to_string()],
    );
}

const DEFAULT_CAPS: &str = "0000000020000420"; // AUDIT_WRITE(29) | NET_BIND_SERVICE(10) | KILL(5)

#[test]
fn default_capabilities_are_exact() {
    require_root!("default_capabilities_are_exact");
    let rt = Rt::new();
    let b = bundle(&["/bin/payload", "status"]);
    let st = run_ok(&rt, &b, "caps");
    for k in ["CapBnd", "CapEff", "CapPrm"] {
        assert_eq!(field(&st, k), DEFAULT_CAPS, "{k}\n{st}");
    }
    assert_eq!(field(&st, "CapInh"), "0000000000000000", "{st}");
    assert_eq!(field(&st, "CapAmb"), "0000000000000000", "{st}");
}

#[test]
fn added_capability_shows_in_every_set() {
    require_root!("added_capability_shows_in_every_set");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "status"]);
    b.edit(|c| {
        for set in ["bounding", "effective", "permitted"] {
            c["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap()
                .push(json!("CAP_SYS_ADMIN"));
        }
    });
    let st = run_ok(&rt, &b, "caps-admin");
    let want = format!("{:016x}", 0x2000_0420u64 | 1 << 21);
    for k in ["CapBnd", "CapEff", "CapPrm"] {
        assert_eq!(field(&st, k), want, "{k}\n{st}");
    }
}

#[test]
fn ambient_capability_survives_exec_as_non_root() {
    require_root!("ambient_capability_survives_exec_as_non_root");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "status"]);
    b.edit(|c| {
        c["process"]["user"] = json!({"uid": 1000, "gid": 1000});
        c["process"]["capabilities"]["inheritable"] = json!(["CAP_NET_BIND_SERVICE"]);
        c["process"]["capabilities"]["ambient"] = json!(["CAP_NET_BIND_SERVICE"]);
    });
    let st = run_ok(&rt, &b, "caps-amb");
    // A non-root exec of a file without file caps keeps only the ambient set.
    for k in ["CapAmb", "CapInh", "CapPrm", "CapEff"] {
        assert_eq!(field(&st, k), "0000000000000400", "{k}\n{st}");
    }
    assert_eq!(field(&st, "CapBnd"), DEFAULT_CAPS, "{st}");

    // The same as non-root without ambient: nothing survives exec.
    let mut b = bundle(&["/bin/payload", "status"]);
    b.edit(|c| c["process"]["user"] = json!({"uid": 1000, "gid": 1000}));
    let st = run_ok(&rt, &b, "caps-noamb");
    assert_eq!(field(&st, "CapEff"), "0000000000000000", "{st}");
    assert_eq!(field(&st, "CapAmb"), "0000000000000000", "{st}");
}

#[test]
fn no_new_privileges_true_and_false() {
    require_root!("no_new_privileges_true_and_false");
    let rt = Rt::new();
    let b = bundle(&["/bin/payload", "status"]);
    assert_eq!(field(&run_ok(&rt, &b, "nnp1"), "NoNewPrivs"), "1");
    let mut b = bundle(&["/bin/payload", "status"]);
    b.edit(|c| c["process"]["noNewPrivileges"] = json!(false));
    assert_eq!(field(&run_ok(&rt, &b, "nnp0"), "NoNewPrivs"), "0");
}

#[test]
fn hostname_and_domainname() {
    require_root!("hostname_and_domainname");
    let rt = Rt::new();
    let mut b = bundle(&["sh", "-c", "/bin/payload hostname; /bin/payload domainname"]);
    b.edit(|c| {
        c["hostname"] = json!("husk-h1");
        c["domainname"] = json!("husk.example");
    });
    assert_eq!(run_ok(&rt, &b, "uts"), "husk-h1\nhusk.example\n");
}

#[test]
fn oom_score_adj_can_be_raised() {
    require_root!("oom_score_adj_can_be_raised");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "cat", "/proc/self/oom_score_adj"]);
    b.edit(|c| c["process"]["oomScoreAdj"] = json!(500));
    assert_eq!(run_ok(&rt, &b, "oom").trim(), "500");
}

#[test]
fn oom_score_adj_below_the_callers_needs_cap_sys_resource() {
    require_root!("oom_score_adj_below_the_callers_needs_cap_sys_resource");
    let own: i32 = std::fs::read_to_string("/proc/self/oom_score_adj")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let lower = own - 100;
    // What this machine does: a child of ours may not go below our value
    // (the kernel's oom_score_adj_min) without CAP_SYS_RESOURCE.
    let probe = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("echo {lower} > /proc/self/oom_score_adj"))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    if probe.success() {
        skip(
            "oom_score_adj_below_the_callers_needs_cap_sys_resource",
            "this host lets us lower oom_score_adj (CAP_SYS_RESOURCE held)",
        );
        return;
    }
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "cat", "/proc/self/oom_score_adj"]);
    b.edit(|c| c["process"]["oomScoreAdj"] = json!(lower));
    let id = rt.id("oom-low");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(
        &rt,
        &out,
        &id,
        Some(b.path()),
        &["oomScoreAdj", "CAP_SYS_RESOURCE"],
    );
}

#[test]
fn terminal_through_console_socket() {
    require_root!("terminal_through_console_socket");
    let rt = Rt::new();
    let dir = host_dir("console");
    let sock = dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let mut b = bundle(&["sh", "-c", TTY_SCRIPT]);
    b.edit(|c| c["process"]["terminal"] = json!(true));
    let id = rt.id("tty");
    rt.ok(&[
        "create",
        "--console-socket",
        sock.to_str().unwrap(),
        "--bundle",
        p(&b),
        &id,
    ]);
    let (conn, _) = listener.accept().unwrap();
    let master = recv_fd(&conn);
    // The fd really is a pty master (TIOCGPTN answers only on masters).
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int.
    let rc = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&master),
            libc::TIOCGPTN,
            &mut n,
        )
    };
    assert_eq!(rc, 0, "received fd is not a pty master");
    rt.ok(&["start", &id]);
    let reader = read_pty(master);
    assert!(
        wait_until(std::time::Duration::from_secs(10), || rt.status(&id)
            == "stopped"),
        "container did not stop"
    );
    assert!(
        wait_until(std::time::Duration::from_secs(5), || reader.is_finished()),
        "pty master never saw EOF"
    );
    let out = reader.join().unwrap();
    assert_eq!(out, TTY_WANT);
    rt.ok(&["delete", &id]);
}

/// What a terminal container checks: its tty, /dev/console, stdio on the
/// pty, and that it is the session leader with the pty as controlling tty
/// (sh's pid is its session id).
const TTY_SCRIPT: &str = "tty; [ -c /dev/console ] && echo console-ok; \
    [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-tty; \
    [ \"$(cut -d' ' -f6 /proc/$$/stat)\" = \"$$\" ] && echo session-leader";
const TTY_WANT: &str = "/dev/pts/0\nconsole-ok\nstdio-tty\nsession-leader\n";
