//! What a container's process starts with and what the runtime refuses
//! (issue 17): no signal ignored or blocked whatever the runtime's caller
//! had (runc and crun give the same, see runtime_peers.rs), so a pipeline
//! ends on SIGPIPE; uids and gids beyond runc's 0..=2147483647 (4294967295
//! is "unchanged" to setresuid: the process stayed root); hostnames with a
//! control character; ids too long to name the state directory.

#[allow(unused_imports)]
mod common;
mod common_conf;

use std::os::unix::process::CommandExt;
use std::process::Command;

use common::*;
use common_conf::*;
use serde_json::json;

/// `payload signals` of a process that starts as runc and crun start one.
const CLEAN: &str = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n";

/// Makes the runtime's own signal state as bad as a careless caller can:
/// ignored SIGPIPE, SIGTERM, SIGHUP, SIGUSR1, glibc's 32 and 33 (what
/// posix_spawn leaves) and SIGRTMIN; SIGWINCH, SIGUSR2 and SIGRTMAX
/// blocked. None of it may reach the container.
fn careless_caller(cmd: &mut Command) {
    // SAFETY: only async-signal-safe calls (signal, sigprocmask, syscall)
    // run between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [
                libc::SIGPIPE,
                libc::SIGTERM,
                libc::SIGHUP,
                libc::SIGUSR1,
                libc::SIGRTMIN(),
            ] {
                libc::signal(sig, libc::SIG_IGN);
            }
            // glibc's signal() refuses 32 and 33: the raw syscall.
            #[repr(C)]
            struct Act {
                handler: libc::c_ulong,
                flags: libc::c_ulong,
                restorer: libc::c_ulong,
                mask: u64,
            }
            let ign = Act {
                handler: libc::SIG_IGN as libc::c_ulong,
                flags: 0,
                restorer: 0,
                mask: 0,
            };
            for sig in [32, 33] {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    &ign as *const Act,
                    std::ptr::null_mut::<Act>(),
                    8usize,
                );
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGWINCH, libc::SIGUSR2, libc::SIGRTMAX()] {
                libc::sigaddset(&mut set, sig);
            }
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
}

fn careless(rt: &Rt, args: &[&str]) -> Bg {
    let mut cmd = rt.cmd();
    cmd.args(args);
    careless_caller(&mut cmd);
    Bg::spawn(cmd)
}

#[test]
fn run_exec_and_exec_tty_start_with_default_signals() {
    require_root!("run_exec_and_exec_tty_start_with_default_signals");
    let rt = Rt::new();

    // From an ordinary caller (std's spawn: SIGPIPE reset, but glibc's
    // posix_spawn leaves 32 and 33 ignored) and from a careless one.
    let b = bundle(&["/bin/payload", "signals"]);
    assert_eq!(run_ok(&rt, &b, "sig-run"), CLEAN);
    let id = rt.id("sig-run-careless");
    let (code, out, err) = careless(&rt, &["run", "--bundle", p(&b), &id]).wait(30);
    assert_eq!((code, out.as_str()), (0, CLEAN), "{err}");

    // exec, with and without a terminal, into a container whose create
    // and start came from a careless caller, by a careless caller.
    let b = bundle(&["sleep", "300"]);
    let id = rt.id("sig-exec");
    let (code, _, err) = careless(&rt, &["create", "--bundle", p(&b), &id]).wait(30);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = careless(&rt, &["start", &id]).wait(30);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = careless(&rt, &["exec", &id, "/bin/payload", "signals"]).wait(30);
    assert_eq!((code, out.as_str()), (0, CLEAN), "exec: {err}");
    assert_eq!(
        rt.ok(&["exec", &id, "/bin/payload", "signals"]),
        CLEAN,
        "exec from an ordinary caller"
    );

    let dir = host_dir("sig-tty");
    let sock = dir.path().join("console.sock");
    let pid_file = dir.path().join("exec.pid");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let (code, _, err) = careless(
        &rt,
        &[
            "exec",
            "--tty",
            "--detach",
            "--console-socket",
            sock.to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            &id,
            "/bin/payload",
            "signals",
        ],
    )
    .wait(30);
    assert_eq!(code, 0, "exec -t: {err}");
    let (conn, _) = listener.accept().unwrap();
    let reader = read_pty(recv_fd(&conn));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The detached process is ours to reap (we are the subreaper).
    reap_blocking(pid);
    assert!(
        wait_until(std::time::Duration::from_secs(10), || reader.is_finished()),
        "exec -t: the pty never saw EOF"
    );
    assert_eq!(reader.join().unwrap(), CLEAN, "exec -t");
}

/// `yes | head -c 100` ends: yes dies of SIGPIPE once head is gone. With
/// SIGPIPE ignored yes spins at 100% CPU forever (seen for minutes).
#[test]
fn a_pipeline_ends_on_sigpipe() {
    require_root!("a_pipeline_ends_on_sigpipe");
    let rt = Rt::new();
    let line = "0123456789".repeat(50);
    let script = format!("yes {line} | head -c 100 | wc -c");
    let b = bundle(&["sh", "-c", &script]);
    let id = rt.id("sigpipe");
    // Bg::wait kills the runtime after 20 s and fails; Rt's drop then
    // deletes (kills) the container.
    let (code, out, err) = Bg::spawn({
        let mut c = rt.cmd();
        c.args(["run", "--bundle", p(&b), &id]);
        c
    })
    .wait(20);
    assert_eq!((code, out.trim()), (0, "100"), "{err}");
}

#[test]
fn ids_beyond_runcs_range_are_refused() {
    require_root!("ids_beyond_runcs_range_are_refused");
    let rt = Rt::new();
    for (field, user, shown) in [
        (
            "process.user.uid",
            json!({"uid": 4294967295u32, "gid": 0}),
            "4294967295",
        ),
        (
            "process.user.uid",
            json!({"uid": 2147483648u32, "gid": 0}),
            "2147483648",
        ),
        (
            "process.user.gid",
            json!({"uid": 1000, "gid": 4294967295u32}),
            "4294967295",
        ),
        (
            "process.user.additionalGids[1]",
            json!({"uid": 1000, "gid": 1000, "additionalGids": [10, 4294967295u32]}),
            "4294967295",
        ),
    ] {
        let mut b = bundle(&["/bin/payload", "id"]);
        b.edit(|c| c["process"]["user"] = user.clone());
        let id = rt.id("uid");
        let out = rt.run(&["run", "--bundle", p(&b), &id]);
        assert!(out.stdout.is_empty(), "{field} {shown}: the process ran");
        assert_refused(
            &rt,
            &out,
            &id,
            Some(b.path()),
            &[field, shown, "2147483647"],
        );
    }
    // The top of the range works.
    let mut b = bundle(&["/bin/payload", "id"]);
    b.edit(|c| {
        c["process"]["user"] =
            json!({"uid": 2147483647u32, "gid": 2147483647u32, "additionalGids": [2147483647u32]})
    });
    assert_eq!(
        run_ok(&rt, &b, "uidmax").trim(),
        "uid=2147483647 gid=2147483647 euid=2147483647 egid=2147483647 groups=2147483647"
    );

    // exec's --user and --process are held to the same range.
    let b = bundle(&["sleep", "300"]);
    let id = rt.id("uidexec");
    rt.ok(&["run", "--detach", "--bundle", p(&b), &id]);
    for user in ["4294967295", "0:4294967295", "2147483648:0"] {
        let out = rt.run(&["exec", "--user", user, &id, "/bin/payload", "id"]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "--user {user} ran");
        assert!(out.stdout.is_empty(), "--user {user}: the process ran");
        assert_eq!(err.lines().count(), 1, "--user {user}: {err}");
        assert!(err.contains("2147483647"), "--user {user}: {err}");
    }
    let dir = host_dir("uidproc");
    let process = dir.path().join("process.json");
    std::fs::write(
        &process,
        json!({"cwd": "/", "args": ["/bin/payload", "id"], "user": {"uid": 4294967295u32, "gid": 0}})
            .to_string(),
    )
    .unwrap();
    let out = rt.run(&["exec", "--process", process.to_str().unwrap(), &id]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && out.stdout.is_empty(), "{err}");
    assert!(err.contains("process.user.uid"), "{err}");
    assert_eq!(rt.status(&id), "running");
    assert_eq!(
        rt.ok(&["exec", "--user", "2147483647", &id, "/bin/payload", "id"])
            .split(' ')
            .next(),
        Some("uid=2147483647")
    );
}

#[test]
fn hostnames_with_control_characters_are_refused() {
    require_root!("hostnames_with_control_characters_are_refused");
    let rt = Rt::new();
    let long = "h".repeat(65);
    for (field, value, needle) in [
        ("hostname", "evil\n127.0.0.1 bank", "\\n"),
        ("hostname", "nul\u{0}byte", "\\0"),
        ("hostname", "tab\there", "\\t"),
        ("hostname", long.as_str(), "65 bytes"),
        ("domainname", "example.com\nx", "\\n"),
    ] {
        let mut b = bundle(&["/bin/payload", "hostname"]);
        b.edit(|c| c[field] = json!(value));
        let id = rt.id("uts");
        let out = rt.run(&["run", "--bundle", p(&b), &id]);
        assert_refused(&rt, &out, &id, Some(b.path()), &[field, needle]);
    }
    // The longest name the kernel keeps is fine.
    let mut b = bundle(&["/bin/payload", "hostname"]);
    let max = "h".repeat(64);
    b.edit(|c| c["hostname"] = json!(max));
    assert_eq!(run_ok(&rt, &b, "uts64").trim(), max);
}

#[test]
fn ids_too_long_for_a_file_name_are_refused() {
    require_root!("ids_too_long_for_a_file_name_are_refused");
    let rt = Rt::new();
    let b = bundle(&["true"]);
    for len in [256, 300, 5000] {
        let id = "x".repeat(len);
        for verb in ["create", "run"] {
            let out = rt.run(&[verb, "--bundle", p(&b), &id]);
            assert_refused(
                &rt,
                &out,
                &id,
                Some(b.path()),
                &[&format!("{len} bytes"), "at most 255"],
            );
        }
        let out = rt.run(&["state", &id]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success() && err.contains("at most 255"),
            "{err}"
        );
    }
    // The longest allowed id works end to end: its state dir, its cgroup
    // dirs, and with a terminal, its console socket.
    let mut id = unique("husk-t-long-");
    id.push_str(&"y".repeat(255 - id.len()));
    rt.ids.borrow_mut().push(id.clone());
    let b = bundle(&["/bin/payload", "exit", "3"]);
    assert_eq!(
        rt.run(&["run", "--bundle", p(&b), &id]).status.code(),
        Some(3)
    );
    let mut b = bundle(&["sh", "-c", "tty; exit 4"]);
    b.edit(|c| c["process"]["terminal"] = json!(true));
    let out = rt.run(&["run", "--bundle", p(&b), &id]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("/dev/pts/"));
    assert!(!rt.root.path().join(&id).exists());
}

/// `run` of a terminal process that exits at once ends: the relay used to
/// miss a SIGCHLD that came before it blocked the signal, then spin on
/// the hung-up pty master at 100% CPU forever (seen in a 1-in-2 race).
#[test]
fn a_terminal_run_of_a_quick_process_ends() {
    require_root!("a_terminal_run_of_a_quick_process_ends");
    let rt = Rt::new();
    let mut b = bundle(&["/bin/payload", "exit", "5"]);
    b.edit(|c| c["process"]["terminal"] = json!(true));
    for i in 0..20 {
        let id = rt.id(&format!("ttyquick{i}"));
        // Bg::wait kills the runtime after 20 s and fails.
        let (code, _, err) = Bg::spawn({
            let mut c = rt.cmd();
            c.args(["run", "--bundle", p(&b), &id]);
            c
        })
        .wait(20);
        assert_eq!(code, 5, "run {i}: {err}");
    }
}
