//! Hostile inputs: each must fail safely or stay inside the container.
//! Symlinks and `..` in mount destinations, CVE-2024-21626 (`cwd` through a
//! leaked fd), runtime fds leaking into the container, CVE-2019-5736
//! (overwriting the runtime binary through /proc/PID/exe).

#[allow(unused_imports)]
mod common;
mod common_conf;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::*;
use common_conf::*;
use serde_json::json;

fn add_mount(b: &mut Bundle, m: serde_json::Value) {
    b.edit(|c| c["mounts"].as_array_mut().unwrap().push(m));
}

#[test]
fn mount_destination_through_an_absolute_symlink_stays_in_the_rootfs() {
    require_root!("mount_destination_through_an_absolute_symlink_stays_in_the_rootfs");
    let rt = Rt::new();
    let host = host_dir("symlink-target");
    let name = host
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let mut b = bundle(&["sh", "-c", "/bin/payload write /evil/x/f inside && cat /evil/x/f && grep -c ' /tmp/NAME/x ' /proc/self/mountinfo"
        .replace("NAME", &name)
        .as_str()]);
    // rootfs/evil -> /tmp/<host dir>: resolved on the host, a mount at
    // /evil/x would land in the host's directory.
    symlink(host.path(), b.rootfs().join("evil")).unwrap();
    add_mount(
        &mut b,
        json!({"destination": "/evil/x", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}),
    );
    let (code, out, err) = rt.run_bundle(&b, "symlink");
    // Whatever the outcome, the host directory is untouched.
    let entries: Vec<_> = std::fs::read_dir(host.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        entries.is_empty(),
        "the host dir was written to: {entries:?} ({err})"
    );
    assert!(mounts_under(host.path()).is_empty());
    // And the mount happened where the symlink points inside the rootfs:
    // a writable tmpfs under the otherwise read-only root.
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "inside1\n");
    assert!(b.rootfs().join("tmp").join(&name).join("x").is_dir());
    assert!(
        !b.rootfs().join("tmp").join(&name).join("x/f").exists(),
        "tmpfs write reached the rootfs"
    );
}

#[test]
fn bind_destination_with_dotdot_stays_in_the_rootfs() {
    require_root!("bind_destination_with_dotdot_stays_in_the_rootfs");
    let rt = Rt::new();
    let src = host_dir("dotdot-src");
    std::fs::write(src.path().join("marker"), "m").unwrap();
    let target_name = unique("husk-conf-dotdot");
    let host_target = Path::new("/tmp").join(&target_name);
    for (i, dest) in [
        format!("../../../../tmp/{target_name}"),
        format!("/../../../../tmp/{target_name}"),
    ]
    .iter()
    .enumerate()
    {
        let mut b = bundle(&["/bin/payload", "cat", &format!("/tmp/{target_name}/marker")]);
        add_mount(
            &mut b,
            json!({"destination": dest, "type": "bind", "source": src.path(), "options": ["rbind", "ro"]}),
        );
        let id = rt.id(&format!("dotdot{i}"));
        let out = rt.run(&["run", "--bundle", p(&b), &id]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !host_target.exists(),
            "{dest}: created on the host: {}",
            host_target.display()
        );
        if out.status.success() {
            // Clamped at the rootfs: the bind is /tmp/<name> inside.
            assert_eq!(String::from_utf8_lossy(&out.stdout), "m", "{dest}");
            assert!(b.rootfs().join("tmp").join(&target_name).is_dir(), "{dest}");
        } else {
            // Refused: it must say which field, and leave nothing.
            let lines: Vec<&str> = err.lines().collect();
            assert_eq!(lines.len(), 1, "{dest}: {err}");
            assert!(err.contains("destination"), "{dest}: {err}");
            assert_nothing_left(&rt, &id, Some(b.path()));
        }
    }
}

#[test]
fn cwd_through_proc_self_fd_never_escapes() {
    require_root!("cwd_through_proc_self_fd_never_escapes");
    // CVE-2024-21626: a host directory fd leaked into the init makes
    // cwd=/proc/self/fd/N a cwd outside the rootfs; from there ../../..
    // reaches the host's /.
    let rt = Rt::new();
    let host_name = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    assert_ne!(
        host_name, "busybox\n",
        "the check needs a host /etc/hostname unlike the rootfs's"
    );
    for n in 3..10 {
        let mut b = bundle(&[
            "sh",
            "-c",
            "pwd -P; cat ../../../../../../../../etc/hostname",
        ]);
        b.edit(|c| c["process"]["cwd"] = json!(format!("/proc/self/fd/{n}")));
        let id = rt.id(&format!("cwd-fd{n}"));
        let out = rt.run(&["run", "--bundle", p(&b), &id]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            assert!(
                stdout.ends_with("busybox\n"),
                "fd {n}: escaped the rootfs: {stdout}"
            );
            assert!(
                !stdout.contains(host_name.trim()) || host_name.trim().is_empty(),
                "fd {n}: {stdout}"
            );
        } else {
            assert!(
                err.contains("process.cwd"),
                "fd {n}: failed without naming process.cwd: {err}{stdout}"
            );
            assert_eq!(err.lines().count(), 1, "fd {n}: {err}");
            assert!(stdout.is_empty(), "fd {n}: the process ran: {stdout}");
            assert_nothing_left(&rt, &id, Some(b.path()));
        }
    }
}

/// Asserts `payload fds` output holds only stdio and the payload's own
/// readdir of /proc/self/fd.
fn only_stdio(fds: &str) {
    let mut seen = Vec::new();
    for line in fds.lines() {
        let (n, target) = line.split_once(' ').unwrap_or((line, ""));
        let n: i32 = n.parse().unwrap_or_else(|_| panic!("bad line {line}"));
        if n > 2 {
            assert!(
                target.starts_with("/proc/") && target.ends_with("/fd"),
                "runtime fd {n} -> {target} leaked into the container:\n{fds}"
            );
        }
        seen.push(n);
    }
    assert!(
        seen.len() <= 4 && [0, 1, 2].iter().all(|f| seen.contains(f)),
        "{fds}"
    );
}

#[test]
fn no_runtime_fd_leaks_into_the_container() {
    require_root!("no_runtime_fd_leaks_into_the_container");
    let rt = Rt::new();
    // Foreground run.
    let b = bundle(&["/bin/payload", "fds"]);
    only_stdio(&run_ok(&rt, &b, "fds-run"));
    // create + start, as containerd does: the init waits on exec.sock in
    // between, and must close what it held for that.
    let b = bundle(&["/bin/payload", "fds"]);
    let id = rt.id("fds-create");
    let mut cmd = rt.cmd();
    cmd.args(["create", "--bundle", p(&b), &id]);
    let mut bg = Bg::spawn(cmd);
    let (code, _, err) = bg.wait(20);
    assert_eq!(code, 0, "{err}");
    rt.ok(&["start", &id]);
    assert!(wait_until(std::time::Duration::from_secs(10), || rt
        .status(&id)
        == "stopped"));
    only_stdio(&bg.stdout());
    rt.ok(&["delete", &id]);
    // And with --preserve-fds 1 exactly fd 3 is added.
    let b = bundle(&["/bin/payload", "fds"]);
    let id = rt.id("fds-preserve");
    let extra = std::fs::File::open(b.path().join("config.json")).unwrap();
    let mut cmd = rt.cmd();
    cmd.args(["run", "--preserve-fds", "1", "--bundle", p(&b), &id]);
    let raw = std::os::fd::AsRawFd::as_raw_fd(&extra);
    // SAFETY: between fork and exec only async-signal-safe calls run.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            // dup2 onto itself keeps close-on-exec: clear it instead.
            let r = if raw == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, 3)
            };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let bg = Bg::spawn(cmd);
    let (code, out, err) = wait_or_kill_init(&rt, &id, bg, 20);
    assert_eq!(code, 0, "{err}");
    let fd3: Vec<&str> = out.lines().filter(|l| l.starts_with("3 ")).collect();
    assert_eq!(fd3.len(), 1, "{out}");
    assert!(
        fd3[0].ends_with("/config.json"),
        "fd 3 is not the preserved one: {out}"
    );
    let others: Vec<&str> = out
        .lines()
        .filter(|l| !["0 ", "1 ", "2 ", "3 "].iter().any(|p| l.starts_with(p)))
        .filter(|l| !(l.contains("/proc/") && l.ends_with("/fd")))
        .collect();
    assert!(others.is_empty(), "leaked: {others:?}\n{out}");
}

/// Waits for a foreground `run`; on timeout kills the container's init
/// (pid read from state.json, without the runtime: a stuck init may hold
/// the container's lock) and the runtime, then panics.
fn wait_or_kill_init(rt: &Rt, id: &str, mut bg: Bg, secs: u64) -> (i32, String, String) {
    if wait_until(std::time::Duration::from_secs(secs), || {
        bg.child.try_wait().ok().flatten().is_some()
    }) {
        return bg.wait(1);
    }
    let pid = kill_recorded_init(rt.root.path(), id);
    let (out, err) = (bg.stdout(), bg.stderr());
    drop(bg);
    panic!("run {id} hung for {secs}s (init pid {pid} killed)\nstdout: {out}\nstderr: {err}");
}

#[test]
fn preserve_fds_the_caller_did_not_pass_leak_nothing() {
    require_root!("preserve_fds_the_caller_did_not_pass_leak_nothing");
    // --preserve-fds 2 while fds 3 and 4 are closed in the caller: the
    // runtime's own files (its lock, sockets, state) would take those
    // numbers and be handed to the container. It must refuse, or pass
    // nothing of its own.
    let rt = Rt::new();
    let b = bundle(&["/bin/payload", "fds"]);
    let id = rt.id("fds-unpassed");
    let mut cmd = rt.cmd();
    cmd.args(["run", "--preserve-fds", "2", "--bundle", p(&b), &id]);
    // SAFETY: between fork and exec only async-signal-safe close runs.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::close(3);
            libc::close(4);
            Ok(())
        });
    }
    let (code, out, err) = wait_or_kill_init(&rt, &id, Bg::spawn(cmd), 20);
    if code != 0 {
        assert!(
            err.contains("preserve-fds"),
            "failed without naming --preserve-fds: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_nothing_left(&rt, &id, Some(b.path()));
        return;
    }
    let root = rt.root.path().to_string_lossy().into_owned();
    for line in out.lines() {
        let (n, target) = line.split_once(' ').unwrap_or((line, ""));
        let n: i32 = n.parse().unwrap();
        assert!(
            n <= 2 || (target.starts_with("/proc/") && target.ends_with("/fd")),
            "runtime fd {n} -> {target} handed to the container (runtime root {root}):\n{out}"
        );
    }
}

fn host_binary() -> Vec<u8> {
    std::fs::read(bin()).expect("read husk-runtime")
}

/// How `/proc/PID/exe` of a waiting init is protected: "sealed memfd"
/// (link /memfd:husk-runtime, all four seals) or "read-only mount" (a
/// detached read-only bind of the binary, runc 1.2's way); panics if it is
/// neither, i.e. the init runs from the writable host binary.
fn exe_protection(pid: i64) -> &'static str {
    let exe = format!("/proc/{pid}/exe");
    let link = std::fs::read_link(&exe).unwrap();
    let r = std::fs::File::open(&exe).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&r);
    // SAFETY: F_GET_SEALS on an fd we own.
    let seals = unsafe { libc::fcntl(fd, libc::F_GET_SEALS) };
    if seals >= 0 {
        assert!(
            link.to_string_lossy().starts_with("/memfd:husk-runtime"),
            "{}",
            link.display()
        );
        for s in [
            libc::F_SEAL_WRITE,
            libc::F_SEAL_GROW,
            libc::F_SEAL_SHRINK,
            libc::F_SEAL_SEAL,
        ] {
            assert!(seals & s != 0, "seal {s:#x} missing: {seals:#x}");
        }
        return "sealed memfd";
    }
    let vfs = nix::sys::statvfs::fstatvfs(&r).unwrap();
    assert!(
        vfs.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
        "the waiting init runs from a writable file: {}",
        link.display()
    );
    // Not the host's own mount of the binary: that one is writable.
    assert_ne!(link, bin(), "the init runs from the host path itself");
    "read-only mount"
}

#[test]
fn created_init_runs_from_a_protected_copy() {
    require_root!("created_init_runs_from_a_protected_copy");
    let rt = Rt::new();
    let before = host_binary();
    let b = bundle(&["/bin/payload", "sleep", "30"]);
    let id = rt.id("memfd");
    rt.ok(&["create", "--bundle", p(&b), &id]);
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    let how = exe_protection(pid);
    let exe = format!("/proc/{pid}/exe");
    let w = std::fs::OpenOptions::new().write(true).open(&exe);
    assert!(w.is_err(), "{exe} ({how}) opened for writing");
    rt.ok(&["delete", "-f", &id]);
    assert!(host_binary() == before, "the host binary changed");
}

/// The attack of CVE-2019-5736 from inside a container: container A is
/// created, so its PID 1 is still the runtime, waiting for `start`.
/// Container B shares A's pid namespace and, as PID 1's neighbour, holds
/// /proc/1/exe open by O_PATH; once A starts (the runtime execs the user's
/// program and no runtime process runs the file any more), B reopens the
/// held file for writing and writes to it. Were the runtime executing the
/// host binary, that would rewrite husk-runtime on the host.
///
/// The runtime used is a private copy of husk-runtime: while any process
/// (another test, a foreground `run`) executes the same inode, opening it
/// for writing fails with ETXTBSY whatever the protection, and the test
/// would pass by luck. `extra_caps` are given to the attacker; with
/// CAP_SYS_ADMIN it also tries to clear a read-only mount attribute.
fn exe_attack(name: &str, extra_caps: &[&str], memfd: bool) -> String {
    let rt = Rt::new();
    let tmp = host_dir("exe-copy");
    let copy = tmp.path().join("husk-runtime");
    std::fs::copy(bin(), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let cmd = |args: &[&str]| {
        let mut c = std::process::Command::new(&copy);
        c.arg("--root").arg(rt.root.path()).args(args);
        if memfd {
            // exe.rs's switch to its fallback: a sealed memfd copy.
            c.env("HUSK_RUNTIME_EXE_COPY", "1");
        }
        c
    };
    let a = bundle(&["/bin/payload", "sleep", "30"]);
    let ida = rt.id(&format!("{name}-victim"));
    let (code, _, err) = Bg::spawn(cmd(&["create", "--bundle", p(&a), &ida])).wait(20);
    assert_eq!(code, 0, "{err}");
    let pid = rt.state(&ida)["pid"].as_i64().unwrap();

    let unlock = if extra_caps.contains(&"CAP_SYS_ADMIN") {
        "unlock"
    } else {
        ""
    };
    let mut b = bundle(&["/bin/payload", "overwrite-exe", "/proc/1/exe", "4", unlock]);
    b.edit(|c| {
        let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "pid");
        ns.push(json!({"type": "pid", "path": format!("/proc/{pid}/ns/pid")}));
        for set in ["bounding", "effective", "permitted"] {
            let v = c["process"]["capabilities"][set].as_array_mut().unwrap();
            v.extend(extra_caps.iter().map(|c| json!(c)));
        }
    });
    let idb = rt.id(&format!("{name}-attacker"));
    // Detached: no runtime process stays behind executing the copy.
    let mut attacker = Bg::spawn(cmd(&["run", "-d", "--bundle", p(&b), &idb]));
    let (code, _, err) = attacker.wait(20);
    assert_eq!(code, 0, "{err}");
    let holding = wait_until(std::time::Duration::from_secs(10), || {
        attacker.stdout().contains("link ")
    });
    assert!(
        holding,
        "attacker never opened /proc/1/exe: {}",
        attacker.stdout()
    );
    assert_eq!(
        rt.status(&idb),
        "running",
        "attacker ended before start: {}",
        attacker.stdout()
    );
    let pid_b = rt.state(&idb)["pid"].as_i64().unwrap() as i32;
    let (code, _, err) = Bg::spawn(cmd(&["start", &ida])).wait(20);
    assert_eq!(code, 0, "{err}");
    assert!(
        wait_until(std::time::Duration::from_secs(20), || rt.status(&idb)
            == "stopped"),
        "attacker still running"
    );
    let out = attacker.stdout();
    assert!(
        std::fs::read(&copy).unwrap() == before,
        "the runtime binary was overwritten!\n{out}"
    );
    assert!(
        !out.contains("wrote"),
        "the attacker wrote to the runtime's exe:\n{out}"
    );
    // It really tried after A started, and was refused by the protection
    // (EROFS, or EPERM from a seal), not by ETXTBSY while still in use.
    let last = out
        .lines()
        .rfind(|l| l.contains("refused"))
        .unwrap_or_default();
    assert!(
        !last.is_empty() && !last.contains("Text file busy"),
        "{out}"
    );
    // B's init was re-parented to us (the subreaper at the level of the
    // `run -d` that forked it): reap it, or A's PID 1 cannot finish dying
    // (the kernel waits for every pid of the namespace to be released).
    reap(pid_b);
    rt.ok(&["delete", "-f", &idb]);
    rt.ok(&["delete", "-f", &ida]);
    out
}

#[test]
fn container_cannot_overwrite_the_runtime_binary() {
    require_root!("container_cannot_overwrite_the_runtime_binary");
    exe_attack("exe", &[], false);
}

#[test]
fn container_cannot_overwrite_the_runtime_binary_memfd_fallback() {
    require_root!("container_cannot_overwrite_the_runtime_binary_memfd_fallback");
    let out = exe_attack("exe-memfd", &[], true);
    assert!(out.starts_with("link /memfd:husk-runtime"), "{out}");
}

#[test]
fn privileged_container_cannot_overwrite_the_runtime_binary_memfd_fallback() {
    require_root!("privileged_container_cannot_overwrite_the_runtime_binary_memfd_fallback");
    let out = exe_attack("exe-memfd-priv", &["CAP_SYS_ADMIN"], true);
    assert!(out.starts_with("link /memfd:husk-runtime"), "{out}");
}

#[test]
fn privileged_container_cannot_overwrite_the_runtime_binary() {
    require_root!("privileged_container_cannot_overwrite_the_runtime_binary");
    // runc's sealed memfd holds even against CAP_SYS_ADMIN in the
    // container; a read-only *mount* can be made writable again by
    // whoever may change mount attributes (mount_setattr on the detached
    // mount, or on an open_tree clone of it).
    let out = exe_attack("exe-priv", &["CAP_SYS_ADMIN"], false);
    eprintln!("{out}");
}
