//! The `run`/`create` flags beyond the basics, against the real kernel:
//! --env-file, volumes (named, anonymous, --mount, --tmpfs), memory/cpuset
//! limits in the cgroup files, --ulimit, --stop-signal/--stop-timeout,
//! --privileged and --security-opt (docker's seccomp profile, custom
//! profiles, no-new-privileges), bad input refused before anything exists,
//! and hostile mount targets that must not reach the host.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::engine::*;
use husk_fixtures::{cgroup_file, require_root, skip};

fn status_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("{field} missing in {status}"))
        .trim()
        .to_string()
}

fn volumes_on_disk(e: &Engine) -> Vec<String> {
    std::fs::read_dir(e.root.path().join("volumes"))
        .map(|rd| {
            rd.flatten()
                .map(|d| d.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn env_file_like_docker() {
    require_root!("env_file_like_docker");
    let e = Engine::new();
    let dir = tempdir("husk-test-env-");
    let f = dir.path().join("env");
    std::fs::write(
        &f,
        "# a comment\nA=1\n  B=two words \nFROM_HOST\nNOT_SET_ANYWHERE_XYZ\nC=x=y\nD=from-file\n",
    )
    .unwrap();
    let out = husk_fixtures::output_via_files(
        e.cmd(&[
            "run",
            "--rm",
            "--env-file",
            f.to_str().unwrap(),
            "-e",
            "D=from-flag",
            "busybox",
            "env",
        ])
        .env("FROM_HOST", "host value"),
    );
    assert!(out.status.success(), "{out:?}");
    let env = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = env.lines().collect();
    for want in [
        "A=1",
        "B=two words ",
        "FROM_HOST=host value",
        "C=x=y",
        "D=from-flag",
    ] {
        assert!(lines.contains(&want), "{want} missing:\n{env}");
    }
    assert!(!env.contains("NOT_SET_ANYWHERE_XYZ"), "{env}");
    assert!(!env.contains("D=from-file"), "{env}");
}

#[test]
fn named_and_anonymous_volumes() {
    require_root!("named_and_anonymous_volumes");
    let e = Engine::new();
    e.ok(&[
        "run",
        "--name",
        "writer",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "echo persisted > /data/f",
    ]);
    let info = e.inspect("writer");
    let m = &info["Mounts"][0];
    let src = e.root.path().join("volumes/data/_data");
    assert_eq!(m["Type"], "volume");
    assert_eq!(m["Name"], "data");
    assert_eq!(m["Source"], src.to_str().unwrap());
    assert_eq!(m["Destination"], "/data");
    assert_eq!(m["Driver"], "local");
    assert_eq!(m["RW"], true);
    assert_eq!(info["HostConfig"]["Binds"][0], "data:/data");
    // The data outlives the container (rm without -v keeps named volumes).
    e.ok(&["rm", "-v", "writer"]);
    assert_eq!(
        e.ok(&["run", "--rm", "-v", "data:/d:ro", "busybox", "cat", "/d/f"]),
        "persisted\n"
    );
    let (code, _, err) = e.code(&[
        "run",
        "--rm",
        "-v",
        "data:/d:ro",
        "busybox",
        "touch",
        "/d/g",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
    // --mount type=volume names the same volume.
    assert_eq!(
        e.ok(&[
            "run",
            "--rm",
            "--mount",
            "type=volume,source=data,target=/m,readonly",
            "busybox",
            "cat",
            "/m/f"
        ]),
        "persisted\n"
    );
    assert_eq!(e.ok(&["volume", "ls", "-q"]), "data\n");
    let vi: serde_json::Value =
        serde_json::from_str(&e.ok(&["volume", "inspect", "data"])).unwrap();
    assert_eq!(vi[0]["Mountpoint"], src.to_str().unwrap());
    assert_eq!(vi[0]["Driver"], "local");

    // Anonymous volumes: a fresh one per container, gone with rm -v.
    e.ok(&[
        "create", "--name", "anon", "-v", "/scratch", "busybox", "true",
    ]);
    let info = e.inspect("anon");
    let m = &info["Mounts"][0];
    assert_eq!(m["Type"], "volume");
    let name = m["Name"].as_str().unwrap().to_string();
    assert_eq!(name.len(), 64, "{name}");
    assert_eq!(
        info["Config"]["Volumes"],
        serde_json::json!({"/scratch": {}})
    );
    assert!(info["HostConfig"]["Binds"].is_null());
    assert!(e.root.path().join("volumes").join(&name).is_dir());
    // In use: volume rm refuses.
    let (code, _, err) = e.code(&["volume", "rm", &name]);
    assert_eq!(code, 1);
    assert!(err.contains("in use"), "{err}");
    e.ok(&["rm", "-v", "anon"]);
    assert!(!e.root.path().join("volumes").join(&name).exists());
    // --rm takes its anonymous volumes along.
    e.ok(&["run", "--rm", "-v", "/scratch", "busybox", "true"]);
    assert_eq!(volumes_on_disk(&e), ["data"]);
    // rm without -v keeps them.
    e.ok(&["run", "--name", "keep", "-v", "/scratch", "busybox", "true"]);
    e.ok(&["rm", "keep"]);
    assert_eq!(volumes_on_disk(&e).len(), 2);
    for v in volumes_on_disk(&e) {
        e.ok(&["volume", "rm", &v]);
    }
    assert!(volumes_on_disk(&e).is_empty());
    // A new volume is filled from the image's directory (docker's
    // copy-up), unless nocopy; one with data is left as it is.
    let passwd = e.ok(&[
        "run",
        "--rm",
        "-v",
        "conf:/etc",
        "busybox",
        "cat",
        "/etc/passwd",
    ]);
    assert!(passwd.starts_with("root:"), "{passwd}");
    assert!(e.root.path().join("volumes/conf/_data/passwd").is_file());
    std::fs::write(e.root.path().join("volumes/conf/_data/passwd"), "mine\n").unwrap();
    assert_eq!(
        e.ok(&[
            "run",
            "--rm",
            "-v",
            "conf:/etc",
            "busybox",
            "cat",
            "/etc/passwd"
        ]),
        "mine\n"
    );
    let ls = e.ok(&[
        "run",
        "--rm",
        "-v",
        "bare:/etc:nocopy",
        "busybox",
        "ls",
        "/etc",
    ]);
    assert!(!ls.contains("passwd"), "{ls}");
    for v in ["conf", "bare"] {
        e.ok(&["volume", "rm", v]);
    }
    e.ok(&["volume", "create", "--label", "a=b", "made"]);
    assert_eq!(
        e.ok(&["volume", "ls"]),
        "DRIVER    VOLUME NAME\nlocal     made\n"
    );
    e.ok(&["volume", "rm", "made"]);
}

#[test]
fn tmpfs_and_bind_mounts() {
    require_root!("tmpfs_and_bind_mounts");
    let e = Engine::new();
    let host = tempdir("husk-test-bind-");
    std::fs::write(host.path().join("hello"), "from host\n").unwrap();
    let bind = format!(
        "type=bind,source={},target=/b,readonly",
        host.path().display()
    );
    let out = e.ok(&[
        "run",
        "--name",
        "tm",
        "--tmpfs",
        "/run1:size=64k,mode=700",
        "--mount",
        "type=tmpfs,target=/t2,tmpfs-size=1m,tmpfs-mode=1770",
        "--mount",
        &bind,
        "busybox",
        "sh",
        "-c",
        "grep -E ' /(run1|t2) ' /proc/mounts; stat -c %a /t2; cat /b/hello; touch /b/x || echo ro",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    let run1 = lines.iter().find(|l| l.contains(" /run1 ")).unwrap();
    assert!(run1.starts_with("tmpfs /run1 tmpfs rw,"), "{out}");
    for o in ["nosuid", "nodev", "noexec", "size=64k", "mode=700"] {
        assert!(run1.contains(o), "{o} missing: {run1}");
    }
    let t2 = lines.iter().find(|l| l.contains(" /t2 ")).unwrap();
    assert!(
        t2.contains("size=1024k") && t2.contains("mode=1770"),
        "{t2}"
    );
    assert!(out.contains("\n1770\nfrom host\n"), "{out}");
    assert!(out.ends_with("ro\n"), "{out}");
    assert!(!host.path().join("x").exists());
    let info = e.inspect("tm");
    assert_eq!(info["HostConfig"]["Tmpfs"]["/run1"], "size=64k,mode=700");
    let hm = &info["HostConfig"]["Mounts"];
    assert_eq!(hm[0]["Type"], "tmpfs");
    assert_eq!(hm[0]["TmpfsOptions"]["SizeBytes"], 1 << 20);
    assert_eq!(hm[0]["TmpfsOptions"]["Mode"], 0o1770);
    assert_eq!(hm[1]["Type"], "bind");
    assert_eq!(hm[1]["ReadOnly"], true);
    // Top-level Mounts: --mount entries, not --tmpfs (as docker).
    let mounts = info["Mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 2, "{mounts:?}");
    assert_eq!(mounts[1]["Source"], host.path().to_str().unwrap());
    assert_eq!(mounts[1]["RW"], false);
    // tmpfs exec overrides docker's noexec default.
    let out = e.ok(&[
        "run",
        "--rm",
        "--tmpfs",
        "/x:exec",
        "busybox",
        "sh",
        "-c",
        "grep ' /x ' /proc/mounts",
    ]);
    assert!(!out.contains("noexec"), "{out}");
}

#[test]
fn memory_and_cpuset_limits_reach_the_cgroup() {
    require_root!("memory_and_cpuset_limits_reach_the_cgroup");
    let e = Engine::new();
    let id = e
        .ok(&[
            "run",
            "-d",
            "-m",
            "64m",
            "--memory-swap",
            "128m",
            "--memory-reservation",
            "32m",
            "--cpuset-cpus",
            "0",
            "--cpuset-mems",
            "0",
            "busybox",
            "sleep",
            "500",
        ])
        .trim()
        .to_string();
    let info = e.inspect(&id);
    let hc = &info["HostConfig"];
    assert_eq!(hc["Memory"], 64 << 20);
    assert_eq!(hc["MemorySwap"], 128 << 20);
    assert_eq!(hc["MemoryReservation"], 32 << 20);
    assert_eq!(hc["CpusetCpus"], "0");
    assert_eq!(hc["CpusetMems"], "0");
    // The files the kernel enforces, v1 or v2, wherever each controller is.
    let test = "memory_and_cpuset_limits_reach_the_cgroup";
    let pid = info["State"]["Pid"].as_i64().unwrap() as i32;
    let file = |ctrl: &str, v1: &str, v2: &str| {
        cgroup_file(pid, ctrl, v1, v2)
            .unwrap_or_else(|| panic!("no {ctrl} controller on v1 or v2 for {pid}"))
    };
    let limit = file("memory", "memory.limit_in_bytes", "memory.max");
    assert_eq!(limit.read(), (64u64 << 20).to_string(), "{limit:?}");
    let soft = file("memory", "memory.soft_limit_in_bytes", "memory.low");
    assert_eq!(soft.read(), (32u64 << 20).to_string(), "{soft:?}");
    // memory+swap on v1; v2 limits swap alone (128m - 64m).
    let swap = file("memory", "memory.memsw.limit_in_bytes", "memory.swap.max");
    if swap.path().exists() {
        let want = swap.pick("134217728", "67108864");
        assert_eq!(swap.read(), want, "{swap:?}");
    } else {
        skip(test, "swap accounting is off: memory.memsw.* missing");
    }
    for (v1, v2) in [
        ("cpuset.cpus", "cpuset.cpus"),
        ("cpuset.mems", "cpuset.mems"),
    ] {
        let f = file("cpuset", v1, v2);
        assert_eq!(f.read(), "0", "{f:?}");
    }
    e.ok(&["rm", "-f", &id]);
    // -m alone: docker's default memory+swap is twice the memory.
    e.ok(&["create", "--name", "dflt", "-m", "64m", "busybox", "true"]);
    assert_eq!(e.inspect("dflt")["HostConfig"]["MemorySwap"], 128 << 20);
}

#[test]
fn ulimits_apply_inside() {
    require_root!("ulimits_apply_inside");
    let e = Engine::new();
    // Only lowering: without CAP_SYS_RESOURCE a hard limit cannot be raised.
    let out = e.ok(&[
        "run",
        "--name",
        "ul",
        "--ulimit",
        "nofile=512:1024",
        "--ulimit",
        "nproc=300",
        "busybox",
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; ulimit -u",
    ]);
    assert_eq!(out, "512\n1024\n300\n");
    assert_eq!(
        e.inspect("ul")["HostConfig"]["Ulimits"],
        serde_json::json!([{"Name": "nofile", "Hard": 1024, "Soft": 512},
                           {"Name": "nproc", "Hard": 300, "Soft": 300}])
    );
}

#[test]
fn stop_signal_and_stop_timeout() {
    require_root!("stop_signal_and_stop_timeout");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "sig",
        "--stop-signal",
        "SIGUSR1",
        "busybox",
        "sh",
        "-c",
        "trap 'echo got usr1; exit 7' USR1; echo ready; while true; do sleep 0.1; done",
    ]);
    wait_for("ready", Duration::from_secs(10), || {
        e.ok(&["logs", "sig"]).contains("ready")
    });
    assert_eq!(e.inspect("sig")["Config"]["StopSignal"], "SIGUSR1");
    e.ok(&["stop", "sig"]);
    assert!(e.ok(&["logs", "sig"]).contains("got usr1"));
    assert_eq!(e.inspect("sig")["State"]["ExitCode"], 7);

    // A process that ignores the stop signal is killed after --stop-timeout.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "stubborn",
        "--stop-timeout",
        "1",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; echo ready; while true; do sleep 0.1; done",
    ]);
    wait_for("ready", Duration::from_secs(10), || {
        e.ok(&["logs", "stubborn"]).contains("ready")
    });
    assert_eq!(e.inspect("stubborn")["Config"]["StopTimeout"], 1);
    let t = Instant::now();
    e.ok(&["stop", "stubborn"]);
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    assert_eq!(e.inspect("stubborn")["State"]["ExitCode"], 137);
}

#[test]
fn security_options_and_seccomp_profiles() {
    require_root!("security_options_and_seccomp_profiles");
    let e = Engine::new();
    let status = |extra: &[&str]| {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["busybox", "cat", "/proc/self/status"]);
        e.ok(&args)
    };
    let s = status(&[]);
    assert_eq!(status_field(&s, "NoNewPrivs:"), "0");
    assert_eq!(status_field(&s, "Seccomp:"), "2");
    let s = status(&["--security-opt", "no-new-privileges"]);
    assert_eq!(status_field(&s, "NoNewPrivs:"), "1");
    let s = status(&["--security-opt", "no-new-privileges:true"]);
    assert_eq!(status_field(&s, "NoNewPrivs:"), "1");
    let s = status(&["--security-opt", "no-new-privileges=false"]);
    assert_eq!(status_field(&s, "NoNewPrivs:"), "0");
    let s = status(&["--security-opt", "seccomp=unconfined"]);
    assert_eq!(status_field(&s, "Seccomp:"), "0");

    // docker's profile refuses unshare without CAP_SYS_ADMIN; busybox's
    // unshare applet then fails, and works once unconfined.
    let (code, _, err) = e.code(&["run", "--rm", "busybox", "unshare", "-U", "true"]);
    assert_ne!(code, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
    e.ok(&[
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "unshare",
        "-U",
        "true",
    ]);
    // Syscalls of the allowlist work, clone3 falls back to clone.
    assert_eq!(
        e.ok(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "mkdir /tmp/d && (echo sub) && echo ok"
        ]),
        "sub\nok\n"
    );

    // A custom docker-format profile that refuses mkdir.
    let dir = tempdir("husk-test-seccomp-");
    let prof = dir.path().join("no-mkdir.json");
    std::fs::write(
        &prof,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", prof.display());
    let (code, _, err) = e.code(&[
        "run",
        "--rm",
        "--security-opt",
        &opt,
        "busybox",
        "mkdir",
        "/tmp/nope",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
    // Everything else is allowed by that profile, unshare included.
    e.ok(&[
        "run",
        "--rm",
        "--security-opt",
        &opt,
        "busybox",
        "unshare",
        "-U",
        "true",
    ]);
    e.ok(&[
        "create",
        "--name",
        "so",
        "--security-opt",
        &opt,
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "true",
    ]);
    assert_eq!(
        e.inspect("so")["HostConfig"]["SecurityOpt"],
        serde_json::json!([opt, "no-new-privileges"])
    );
}

#[test]
fn privileged_gets_everything() {
    require_root!("privileged_gets_everything");
    let e = Engine::new();
    let host = std::fs::read_to_string("/proc/self/status").unwrap();
    let bnd = status_field(&host, "CapBnd:");
    let out = e.ok(&[
        "run",
        "--name",
        "priv",
        "--privileged",
        "busybox",
        "sh",
        "-c",
        "cat /proc/self/status; grep -E '^sysfs /sys |^cgroup.* /sys/fs/cgroup' /proc/mounts | head -2; ls /dev; \
         echo timer_list $(head -c 1 /proc/timer_list | wc -c)",
    ]);
    assert_eq!(status_field(&out, "CapEff:"), bnd);
    assert_eq!(status_field(&out, "Seccomp:"), "0");
    let sys = out.lines().find(|l| l.starts_with("sysfs /sys ")).unwrap();
    assert!(sys.contains(" rw,"), "{sys}");
    // Host devices (the loop devices of this machine, when it has them).
    if Path::new("/dev/loop0").exists() {
        assert!(out.lines().any(|l| l == "loop0"), "{out}");
    }
    // Not masked: docker masks /proc/timer_list (and others) only when unprivileged.
    assert!(out.contains("timer_list 1"), "{out}");
    assert_eq!(e.inspect("priv")["HostConfig"]["Privileged"], true);
    // Without it: the default set, /sys read-only, /proc/kcore masked.
    let out = e.ok(&[
        "run", "--rm", "busybox", "sh", "-c",
        "grep '^sysfs /sys ' /proc/mounts; echo timer_list $(head -c 1 /proc/timer_list | wc -c); ls /dev | grep -c loop; true",
    ]);
    assert!(out.contains(" ro,"), "{out}");
    assert!(out.contains("timer_list 0"), "{out}");
    assert!(out.ends_with("\n0\n"), "{out}");
}

#[test]
fn bad_values_fail_before_anything_is_created() {
    require_root!("bad_values_fail_before_anything_is_created");
    let e = Engine::new();
    let dir = tempdir("husk-test-bad-");
    let missing = dir.path().join("missing");
    let bad_profile = dir.path().join("bad.json");
    std::fs::write(&bad_profile, "{not json").unwrap();
    let bad_action = dir.path().join("bad-action.json");
    std::fs::write(
        &bad_action,
        r#"{"defaultAction": "SCMP_ACT_FOO", "syscalls": []}"#,
    )
    .unwrap();
    let m = missing.to_str().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--memory-swap".into(), "128m".into()], "--memory-swap"),
        (
            vec![
                "-m".into(),
                "64m".into(),
                "--memory-swap".into(),
                "32m".into(),
            ],
            "--memory-swap",
        ),
        (
            vec![
                "--memory-swap".into(),
                "lots".into(),
                "-m".into(),
                "8m".into(),
            ],
            "--memory-swap",
        ),
        (
            vec![
                "-m".into(),
                "16m".into(),
                "--memory-reservation".into(),
                "32m".into(),
            ],
            "--memory-reservation",
        ),
        (
            vec!["--cpuset-cpus".into(), "0-4095".into()],
            "--cpuset-cpus",
        ),
        (vec!["--cpuset-cpus".into(), "x".into()], "--cpuset-cpus"),
        (vec!["--cpuset-mems".into(), "9".into()], "--cpuset-mems"),
        (
            vec!["--ulimit".into(), "nofile=2048:1024".into()],
            "--ulimit",
        ),
        (vec!["--ulimit".into(), "bogus=1".into()], "--ulimit"),
        (
            vec!["--stop-signal".into(), "SIGFOO".into()],
            "--stop-signal",
        ),
        (
            vec!["--security-opt".into(), format!("seccomp={m}")],
            "seccomp",
        ),
        (
            vec![
                "--security-opt".into(),
                format!("seccomp={}", bad_profile.display()),
            ],
            "seccomp",
        ),
        (
            vec![
                "--security-opt".into(),
                format!("seccomp={}", bad_action.display()),
            ],
            "SCMP_ACT_FOO",
        ),
        (
            vec!["--security-opt".into(), "bogus".into()],
            "--security-opt",
        ),
        (
            vec!["--mount".into(), format!("type=bind,source={m},target=/x")],
            "does not exist",
        ),
        (
            vec!["--mount".into(), "type=volume,source=..,target=/x".into()],
            "--mount",
        ),
        (
            vec![
                "--mount".into(),
                "type=tmpfs,target=/x,tmpfs-size=big".into(),
            ],
            "--mount",
        ),
        (
            vec!["--mount".into(), "target=/x,bogus=1".into()],
            "--mount",
        ),
        (vec!["--tmpfs".into(), "relative".into()], "--tmpfs"),
        (vec!["--tmpfs".into(), "/x:bogus".into()], "--tmpfs"),
        (vec!["-v".into(), "bad name:/x".into()], "--volume"),
        (vec!["-v".into(), "vol:/".into()], "--volume"),
        (
            vec!["-v".into(), "v1:/x".into(), "-v".into(), "v2:/x".into()],
            "duplicate",
        ),
        (vec!["--env-file".into(), m.to_string()], "env file"),
    ];
    for (flags, want) in &cases {
        let mut args: Vec<&str> = vec!["create"];
        args.extend(flags.iter().map(String::as_str));
        args.extend(["busybox", "true"]);
        let (code, out, err) = e.code(&args);
        assert_eq!(code, 125, "{flags:?}: {out} {err}");
        assert!(err.contains(want), "{flags:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{flags:?}: {err}");
        assert!(e.ids().is_empty(), "{flags:?} created a container");
        assert!(volumes_on_disk(&e).is_empty(), "{flags:?} created a volume");
    }
    assert!(!missing.exists(), "a missing --mount source was created");
    // An unknown image creates no volume either.
    let (code, _, err) = e.code(&[
        "run",
        "-v",
        "named:/x",
        "-v",
        "/anon",
        "nosuchimage",
        "true",
    ]);
    assert_eq!(code, 125);
    assert!(err.contains("nosuchimage"), "{err}");
    assert!(volumes_on_disk(&e).is_empty());
}

#[test]
fn hostile_targets_stay_inside_the_rootfs() {
    require_root!("hostile_targets_stay_inside_the_rootfs");
    let e = Engine::new();
    // An image whose /evil points at a host directory (absolute symlink) and
    // whose /rel climbs out with `..`.
    let outside = tempdir("husk-test-outside-");
    let work = tempdir("husk-test-evil-");
    let rootfs = work.path().join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    std::os::unix::fs::symlink(outside.path(), rootfs.join("evil")).unwrap();
    std::os::unix::fs::symlink(
        "../../../../../../../..".to_string() + outside.path().to_str().unwrap(),
        rootfs.join("rel"),
    )
    .unwrap();
    let tar = work.path().join("evil.tar");
    husk_fixtures::tar_tree(&rootfs, &tar);
    e.ok(&["import", tar.to_str().unwrap(), "evil"]);
    let o = outside
        .path()
        .to_str()
        .unwrap()
        .trim_start_matches('/')
        .to_string();
    let dotdot = format!("v2:/../../../../{o}/dotdot");
    for flags in [
        vec!["-v", "v1:/evil/vol"],
        vec!["-v", "/rel/anon"],
        vec!["-v", dotdot.as_str()],
        vec!["--mount", "type=tmpfs,target=/evil/tmp"],
        vec!["--tmpfs", "/rel/tmp2"],
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend(flags.iter().copied());
        args.extend(["evil", "sh", "-c", "true"]);
        // Whether the runtime mounts inside or refuses, nothing may appear
        // in the host directory the symlinks name.
        let _ = e.code(&args);
        let left: Vec<_> = std::fs::read_dir(outside.path())
            .unwrap()
            .flatten()
            .map(|d| d.file_name())
            .collect();
        assert!(
            left.is_empty(),
            "{flags:?} wrote outside the rootfs: {left:?}"
        );
    }
    for v in volumes_on_disk(&e) {
        e.ok(&["volume", "rm", &v]);
    }
}

#[test]
fn an_os_error_is_said_once() {
    require_root!("an_os_error_is_said_once");
    let e = Engine::new();
    let (code, _, err) = e.code(&["run", "--env-file", "/nope", "busybox", "true"]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("/nope"), "{err}");
    assert_eq!(
        err.matches("No such file or directory").count(),
        1,
        "the cause must be said exactly once: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
