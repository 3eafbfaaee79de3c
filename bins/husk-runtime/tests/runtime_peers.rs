//! The same core cases against husk-runtime, runc and crun: what the peers
//! do on this machine is the reference for what husk-runtime must do
//! (peer/mod.rs has how each runtime is driven).

#[allow(unused_imports)]
mod common;
mod common_conf;
#[macro_use]
mod peer;

use std::path::Path;
use std::process::Command;

use common::*;
use common_conf::*;
use peer::Peer;
use serde_json::json;

const DEFAULT_CAPS: &str = "0000000020000420";

pub fn pid1_hostname_and_exit_code(rt: &Peer) {
    let b = rt.bundle(&["sh", "-c", "echo $$; hostname; exit 7"]);
    let (code, out, err) = rt.run_bundle(&b, "pid1");
    assert_eq!(
        (code, out.as_str()),
        (7, "1\nhusk-test\n"),
        "{}: {err}",
        rt.name
    );
}

pub fn default_capabilities(rt: &Peer) {
    let st = rt.run_ok(&rt.bundle(&["/bin/payload", "status"]), "caps");
    for k in ["CapBnd", "CapEff", "CapPrm"] {
        assert_eq!(field(&st, k), DEFAULT_CAPS, "{}: {k}\n{st}", rt.name);
    }
    assert_eq!(field(&st, "CapAmb"), "0000000000000000", "{}", rt.name);
    assert_eq!(field(&st, "NoNewPrivs"), "1", "{}", rt.name);
}

pub fn masked_paths(rt: &Peer) {
    let files: Vec<&str> = ["/proc/kcore", "/proc/keys", "/proc/timer_list"]
        .into_iter()
        .filter(|f| Path::new(f).exists())
        .collect();
    let mut script = String::new();
    for f in &files {
        script.push_str(&format!("echo $(/bin/payload cat {f} | wc -c); "));
    }
    script.push_str("[ -d /sys/firmware ] && echo $(ls -A /sys/firmware | wc -l)");
    let out = rt.run_ok(&rt.bundle(&["sh", "-c", &script]), "masked");
    assert_eq!(out, "0\n".repeat(files.len() + 1), "{}", rt.name);
}

pub fn user_and_groups(rt: &Peer) {
    let mut b = rt.bundle(&["/bin/payload", "id"]);
    b.edit(|c| c["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [10]}));
    assert_eq!(
        rt.run_ok(&b, "user").trim(),
        "uid=1000 gid=1000 euid=1000 egid=1000 groups=10",
        "{}",
        rt.name
    );
}

pub fn umask(rt: &Peer) {
    let mut b = rt.bundle(&["/bin/payload", "umask"]);
    b.edit(|c| c["process"]["user"]["umask"] = json!(0o027));
    assert_eq!(rt.run_ok(&b, "umask").trim(), "0027", "{}", rt.name);
}

pub fn rlimit_nofile(rt: &Peer) {
    let mut b = rt.bundle(&["/bin/payload", "rlimit", "RLIMIT_NOFILE"]);
    b.edit(|c| {
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768}])
    });
    assert_eq!(rt.run_ok(&b, "nofile").trim(), "512 768", "{}", rt.name);
}

pub fn readonly_root_and_paths(rt: &Peer) {
    let b = rt.bundle(&[
        "sh",
        "-c",
        "/bin/payload write /x d 2>/dev/null; echo root=$?; /bin/payload write /proc/sys/kernel/hostname h 2>/dev/null; echo procsys=$?",
    ]);
    assert_eq!(rt.run_ok(&b, "ro"), "root=1\nprocsys=1\n", "{}", rt.name);
}

pub fn oom_score_adj(rt: &Peer) {
    let mut b = rt.bundle(&["/bin/payload", "cat", "/proc/self/oom_score_adj"]);
    b.edit(|c| c["process"]["oomScoreAdj"] = json!(500));
    assert_eq!(rt.run_ok(&b, "oom").trim(), "500", "{}", rt.name);
}

pub fn namespaced_sysctl(rt: &Peer) {
    let host = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let want = if host.trim() == "1" { "0" } else { "1" };
    let mut b = rt.bundle(&["/bin/payload", "cat", "/proc/sys/net/ipv4/ip_forward"]);
    b.edit(|c| c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": want}));
    assert_eq!(rt.run_ok(&b, "sysctl").trim(), want, "{}", rt.name);
}

pub fn host_sysctl_refused(rt: &Peer) {
    let before = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap();
    let mut b = rt.bundle(&["true"]);
    b.edit(|c| c["linux"]["sysctl"] = json!({"kernel.pid_max": "40000"}));
    let id = rt.id("pidmax");
    let (code, _, err) = Bg::spawn(rt.cmd(&["create", "--bundle", p(&b), &id])).wait(30);
    assert_ne!(code, 0, "{} accepted kernel.pid_max", rt.name);
    assert!(err.contains("pid_max"), "{}: {err}", rt.name);
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap(),
        before
    );
}

pub fn tmpfs_mount_options(rt: &Peer) {
    let mut b = rt.bundle(&[
        "sh",
        "-c",
        "stat -c %a /mnt/t; grep ' /mnt/t ' /proc/mounts",
    ]);
    b.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m", "mode=750"]}),
        )
    });
    let out = rt.run_ok(&b, "tmpfs");
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l[0], "750", "{}: {out}", rt.name);
    for o in ["nosuid", "size=1024k", "mode=750"] {
        assert!(
            l[1].split([' ', ',']).any(|x| x == o),
            "{}: {o}: {out}",
            rt.name
        );
    }
}

/// Bind mounts of a shared host dir with rslave and rprivate: a mount the
/// host makes under it afterwards reaches only the rslave one.
pub fn bind_propagation_options(rt: &Peer) {
    use nix::mount::{mount, MsFlags};
    let s = host_dir(&format!("peer-prop-{}", rt.name));
    std::fs::create_dir(s.path().join("sub")).unwrap();
    mount(
        Some(s.path()),
        s.path(),
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .unwrap();
    let _g = MountGuard(s.path().to_path_buf());
    mount(
        None::<&str>,
        s.path(),
        None::<&str>,
        MsFlags::MS_SHARED,
        None::<&str>,
    )
    .unwrap();
    let mut b = rt.bundle(&[
        "sh",
        "-c",
        "touch /mnt/p0/ready; i=0; while [ $i -lt 100 ]; do [ -e /mnt/p0/sub/marker ] && break; /bin/payload sleep 0.05; i=$((i+1)); done; \
         for d in p0 p1; do [ -e /mnt/$d/sub/marker ] && echo sees || echo blind; done",
    ]);
    b.edit(|c| {
        c["linux"]["rootfsPropagation"] = json!("rslave");
        let ms = c["mounts"].as_array_mut().unwrap();
        ms.push(json!({"destination": "/mnt/p0", "type": "bind", "source": s.path(), "options": ["rbind", "rslave"]}));
        ms.push(json!({"destination": "/mnt/p1", "type": "bind", "source": s.path(), "options": ["rbind", "rprivate"]}));
    });
    let id = rt.id("prop");
    let mut bg = Bg::spawn(rt.cmd(&["run", "--bundle", p(&b), &id]));
    let up = wait_until(std::time::Duration::from_secs(10), || {
        s.path().join("ready").exists()
    });
    let _sub = up.then(|| {
        mount(
            Some("tmpfs"),
            &s.path().join("sub"),
            Some("tmpfs"),
            MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        let g = MountGuard(s.path().join("sub"));
        std::fs::write(s.path().join("sub/marker"), "m").unwrap();
        g
    });
    let (code, out, err) = bg.wait(30);
    assert!(up, "{}: container never came up: {err}", rt.name);
    assert_eq!(
        (code, out.as_str()),
        (0, "sees\nblind\n"),
        "{}: {err}",
        rt.name
    );
}

pub fn no_fd_leaks(rt: &Peer) {
    let out = rt.run_ok(&rt.bundle(&["/bin/payload", "fds"]), "fds");
    for line in out.lines() {
        let (n, target) = line.split_once(' ').unwrap_or((line, ""));
        let n: i32 = n.parse().unwrap();
        assert!(
            n <= 2 || target.ends_with("/fd"),
            "{}: fd {n} -> {target} leaked\n{out}",
            rt.name
        );
    }
}

/// The console-socket contract containerd uses: create with a terminal,
/// receive the pty master over the socket, start, read the output.
pub fn terminal_console_socket(rt: &Peer) {
    let dir = host_dir(&format!("peer-tty-{}", rt.name));
    let sock = dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let mut b = rt.bundle(&["sh", "-c", TTY_SCRIPT]);
    b.edit(|c| c["process"]["terminal"] = json!(true));
    let id = rt.id("tty");
    let (code, _, err) = Bg::spawn(rt.cmd(&[
        "create",
        "--console-socket",
        sock.to_str().unwrap(),
        "--bundle",
        p(&b),
        &id,
    ]))
    .wait(30);
    assert_eq!(code, 0, "{}: {err}", rt.name);
    let (conn, _) = listener.accept().unwrap();
    let reader = read_pty(recv_fd(&conn));
    let (code, _, err) = Bg::spawn(rt.cmd(&["start", &id])).wait(30);
    assert_eq!(code, 0, "{}: {err}", rt.name);
    assert!(
        wait_until(std::time::Duration::from_secs(10), || reader.is_finished()),
        "{}: pty never saw EOF",
        rt.name
    );
    assert_eq!(reader.join().unwrap(), TTY_WANT, "{}", rt.name);
}

const TTY_SCRIPT: &str = "tty; [ -c /dev/console ] && echo console-ok; \
    [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-tty; \
    [ \"$(cut -d' ' -f6 /proc/$$/stat)\" = \"$$\" ] && echo session-leader";
const TTY_WANT: &str = "/dev/pts/0\nconsole-ok\nstdio-tty\nsession-leader\n";

pub fn ambient_capability(rt: &Peer) {
    let mut b = rt.bundle(&["/bin/payload", "status"]);
    b.edit(|c| {
        c["process"]["user"] = json!({"uid": 1000, "gid": 1000});
        c["process"]["capabilities"]["inheritable"] = json!(["CAP_NET_BIND_SERVICE"]);
        c["process"]["capabilities"]["ambient"] = json!(["CAP_NET_BIND_SERVICE"]);
    });
    let st = rt.run_ok(&b, "amb");
    for k in ["CapAmb", "CapInh", "CapPrm", "CapEff"] {
        assert_eq!(field(&st, k), "0000000000000400", "{}: {k}\n{st}", rt.name);
    }
}

pub fn no_new_privileges_off(rt: &Peer) {
    let mut b = rt.bundle(&["/bin/payload", "status"]);
    b.edit(|c| c["process"]["noNewPrivileges"] = json!(false));
    assert_eq!(
        field(&rt.run_ok(&b, "nnp0"), "NoNewPrivs"),
        "0",
        "{}",
        rt.name
    );
}

pub fn hostname_and_domainname(rt: &Peer) {
    let mut b = rt.bundle(&["sh", "-c", "/bin/payload hostname; /bin/payload domainname"]);
    b.edit(|c| {
        c["hostname"] = json!("husk-h1");
        c["domainname"] = json!("husk.example");
    });
    let out = rt.run_ok(&b, "uts");
    // A fact of this machine, not a test bug: runc 1.1 predates the
    // domainname field (runc 1.2 added it) and leaves "(none)".
    if rt.name == "runc" && rt.version().starts_with("1.1.") {
        assert_eq!(out, "husk-h1\n(none)\n");
        skip(
            "runc::hostname_and_domainname",
            "runc 1.1 does not support domainname",
        );
        return;
    }
    assert_eq!(out, "husk-h1\nhusk.example\n", "{}", rt.name);
}

/// A relative cgroupsPath, seen from inside without a cgroup namespace.
/// The runtime spec leaves its meaning to the runtime: runc (and husk)
/// put it under the runtime's own cgroup in each v1 hierarchy, crun 1.8
/// under the hierarchy's root (a fact of crun, not a test bug).
pub fn relative_cgroups_path(rt: &Peer) {
    let name = unique(&format!("husk-p-{}-cgrel", rt.name));
    let mut b = rt.bundle(&["/bin/payload", "cat", "/proc/self/cgroup"]);
    b.edit(|c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "cgroup");
        c["linux"]["cgroupsPath"] = json!(name);
    });
    let out = rt.run_ok(&b, "cgrel");
    let me = std::process::id().to_string();
    for ctrl in ["memory", "pids"] {
        let own = own_cgroup(&me, ctrl);
        let want = if rt.name == "crun" {
            format!("/{name}")
        } else {
            format!("{}/{name}", own.trim_end_matches('/'))
        };
        let got = out
            .lines()
            .find(|l| {
                l.split(':')
                    .nth(1)
                    .is_some_and(|c| c.split(',').any(|x| x == ctrl))
            })
            .and_then(|l| l.splitn(3, ':').nth(2))
            .unwrap_or_default();
        let mut left = cgroup_dirs(&name);
        left.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in &left {
            let _ = std::fs::remove_dir(d);
        }
        assert_eq!(got, want, "{}: {ctrl}\n{out}", rt.name);
    }
}

pub fn default_devices(rt: &Peer) {
    let b = rt.bundle(&[
        "sh",
        "-c",
        "stat -c '%n %F %t:%T %a %u:%g' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; \
         for l in fd stdin stdout stderr ptmx; do echo $l=$(readlink /dev/$l); done",
    ]);
    let want = "/dev/null character special file 1:3 666 0:0\n\
                /dev/zero character special file 1:5 666 0:0\n\
                /dev/full character special file 1:7 666 0:0\n\
                /dev/random character special file 1:8 666 0:0\n\
                /dev/urandom character special file 1:9 666 0:0\n\
                /dev/tty character special file 5:0 666 0:0\n\
                fd=/proc/self/fd\nstdin=/proc/self/fd/0\nstdout=/proc/self/fd/1\nstderr=/proc/self/fd/2\nptmx=pts/ptmx\n";
    assert_eq!(rt.run_ok(&b, "devs"), want, "{}", rt.name);
}

pub fn spec_devices(rt: &Peer) {
    let mut b = rt.bundle(&[
        "sh",
        "-c",
        "stat -c '%n %F %t:%T %a %u:%g' /dev/fuse /dev/net/tun",
    ]);
    b.edit(|c| {
        c["linux"]["devices"] = json!([
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 1000, "gid": 10},
            {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o666}
        ])
    });
    assert_eq!(
        rt.run_ok(&b, "specdevs"),
        "/dev/fuse character special file a:e5 640 1000:10\n/dev/net/tun character special file a:c8 666 0:0\n",
        "{}",
        rt.name
    );
}

/// CVE-2024-21626: cwd through a leaked fd must fail or stay inside.
pub fn cwd_proc_self_fd(rt: &Peer) {
    for n in 3..10 {
        let mut b = rt.bundle(&["sh", "-c", "cat ../../../../../../../../etc/hostname"]);
        b.edit(|c| c["process"]["cwd"] = json!(format!("/proc/self/fd/{n}")));
        let (code, out, err) = rt.run_bundle(&b, &format!("cwd{n}"));
        if code == 0 {
            assert_eq!(out, "busybox\n", "{}: fd {n} escaped the rootfs", rt.name);
        } else {
            assert!(out.is_empty(), "{}: fd {n}: {out}{err}", rt.name);
        }
    }
}

/// --preserve-fds 2 while the caller has fds 3 and 4 closed: whatever the
/// runtime opened itself must not reach the container. crun passes
/// nothing; runc 1.1.5 hands over its own /sys/fs/cgroup dir fd (the leak
/// class of CVE-2024-21626: a fact of that runc, recorded as a SKIP line);
/// husk-runtime must refuse or pass nothing.
pub fn preserve_fds_not_passed(rt: &Peer) {
    let b = rt.bundle(&["/bin/payload", "fds"]);
    let id = rt.id("pfds");
    let mut cmd = rt.cmd(&["run", "--preserve-fds", "2", "--bundle", p(&b), &id]);
    // SAFETY: between fork and exec only async-signal-safe close runs.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::close(3);
            libc::close(4);
            Ok(())
        });
    }
    let mut bg = Bg::spawn(cmd);
    if !wait_until(std::time::Duration::from_secs(20), || {
        bg.child.try_wait().ok().flatten().is_some()
    }) {
        // Kill the init without the runtime (it may hold the lock).
        let pid = kill_recorded_init(rt.root.path(), &id);
        let (out, err) = (bg.stdout(), bg.stderr());
        drop(bg);
        panic!(
            "{}: run hung (init {pid} killed)\nstdout: {out}\nstderr: {err}",
            rt.name
        );
    }
    let (code, out, err) = bg.wait(1);
    if code != 0 {
        assert!(err.contains("preserve-fds"), "{}: {err}", rt.name);
        return;
    }
    let leaked: Vec<&str> = out
        .lines()
        .filter(|l| {
            let (n, t) = l.split_once(' ').unwrap_or((l, ""));
            n.parse::<i32>().unwrap_or(0) > 2 && !(t.starts_with("/proc/") && t.ends_with("/fd"))
        })
        .collect();
    if rt.name == "runc" && !leaked.is_empty() {
        skip(
            "runc::preserve_fds_not_passed",
            &format!("runc 1.1.5 hands its own fds to the container: {leaked:?}"),
        );
        return;
    }
    assert!(
        leaked.is_empty(),
        "{}: runtime fds leaked: {leaked:?}\n{out}",
        rt.name
    );
}

/// `cmd` started as a shim starts a runtime: every signal at its default
/// disposition and none blocked. This test process is not like that: cargo
/// starts it with glibc's posix_spawn, which leaves signals 32 and 33
/// ignored, and runc and crun pass on what they are given. (husk-runtime
/// must not, even then: signals_and_limits.rs tests a careless caller.)
fn from_a_clean_caller(mut cmd: Command) -> Command {
    #[repr(C)]
    struct Act {
        handler: libc::c_ulong,
        flags: libc::c_ulong,
        restorer: libc::c_ulong,
        mask: u64,
    }
    // SAFETY: only raw syscalls, async-signal-safe, between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            let dfl = Act {
                handler: libc::SIG_DFL as libc::c_ulong,
                flags: 0,
                restorer: 0,
                mask: 0,
            };
            for sig in 1..=64 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::syscall(
                        libc::SYS_rt_sigaction,
                        sig,
                        &dfl as *const Act,
                        std::ptr::null_mut::<Act>(),
                        8usize,
                    );
                }
            }
            let empty = 0u64;
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                &empty as *const u64,
                std::ptr::null_mut::<u64>(),
                8usize,
            );
            Ok(())
        });
    }
    cmd
}

/// Every signal at its default disposition, none blocked (issue 17): the
/// runtime's own state (Rust ignores SIGPIPE) must not reach the
/// container, for `run` and for `exec`.
pub fn default_signal_state(rt: &Peer) {
    const CLEAN: &str = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n";
    let b = rt.bundle(&["/bin/payload", "signals"]);
    let id = rt.id("sigs");
    let (code, out, err) = Bg::spawn(from_a_clean_caller(rt.cmd(&[
        "run",
        "--bundle",
        p(&b),
        &id,
    ])))
    .wait(30);
    assert_eq!((code, out.as_str()), (0, CLEAN), "{}: run: {err}", rt.name);
    let b = rt.bundle(&["sleep", "60"]);
    let id = rt.id("sigexec");
    let (code, _, err) = Bg::spawn(from_a_clean_caller(rt.cmd(&[
        "run",
        "--detach",
        "--bundle",
        p(&b),
        &id,
    ])))
    .wait(30);
    assert_eq!(code, 0, "{}: {err}", rt.name);
    let (code, out, err) = Bg::spawn(from_a_clean_caller(rt.cmd(&[
        "exec",
        &id,
        "/bin/payload",
        "signals",
    ])))
    .wait(30);
    assert_eq!((code, out.as_str()), (0, CLEAN), "{}: exec: {err}", rt.name);
}

peer_suite!(husk, runc, crun; [
    pid1_hostname_and_exit_code,
    default_capabilities,
    masked_paths,
    user_and_groups,
    umask,
    rlimit_nofile,
    readonly_root_and_paths,
    oom_score_adj,
    namespaced_sysctl,
    host_sysctl_refused,
    tmpfs_mount_options,
    bind_propagation_options,
    no_fd_leaks,
    terminal_console_socket,
    ambient_capability,
    no_new_privileges_off,
    hostname_and_domainname,
    relative_cgroups_path,
    default_devices,
    spec_devices,
    cwd_proc_self_fd,
    preserve_fds_not_passed,
    default_signal_state,
]);
