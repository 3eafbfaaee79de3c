//! config.md "mounts"/"root" and config-linux.md, checked from inside the
//! container against the real kernel, as root.

#[allow(unused_imports)]
mod common;
mod common_conf;

use std::path::Path;

use common::*;
use common_conf::*;
use serde_json::json;

fn add_mounts(b: &mut Bundle, mounts: serde_json::Value) {
    b.edit(|c| {
        let ms = c["mounts"].as_array_mut().unwrap();
        ms.extend(mounts.as_array().unwrap().iter().cloned());
    });
}

fn bind_self_shared(dir: &Path) -> MountGuard {
    use nix::mount::{mount, MsFlags};
    mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>).expect("bind host dir");
    let g = MountGuard(dir.to_path_buf());
    mount(
        None::<&str>,
        dir,
        None::<&str>,
        MsFlags::MS_SHARED,
        None::<&str>,
    )
    .expect("make shared");
    g
}

fn mount_tmpfs(dir: &Path) -> MountGuard {
    use nix::mount::{mount, MsFlags};
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=1m"),
    )
    .expect("tmpfs");
    MountGuard(dir.to_path_buf())
}

#[test]
fn mounts_are_made_in_order_with_their_options() {
    require_root!("mounts_are_made_in_order_with_their_options");
    let rt = Rt::new();
    let ro = host_dir("ro");
    std::fs::write(ro.path().join("hello"), "hi\n").unwrap();
    // A host dir with a submount: rbind carries it, bind does not.
    let deep = host_dir("rbind");
    std::fs::create_dir(deep.path().join("sub")).unwrap();
    let _sub = mount_tmpfs(&deep.path().join("sub"));
    std::fs::write(deep.path().join("sub/f"), "deep\n").unwrap();

    let mut b = bundle(&[
        "sh",
        "-c",
        "echo mode=$(stat -c %a /mnt/t); grep ' /mnt/t ' /proc/mounts; grep ' /mnt/t/ro ' /proc/mounts; \
         cat /mnt/t/ro/hello; /bin/payload write /mnt/t/ro/x y 2>/dev/null; echo ro-write=$?; \
         /bin/payload write /mnt/t/w y; echo tmpfs-write=$?; \
         cat /mnt/r/sub/f; echo nr=$(ls -A /mnt/nr/sub | wc -l)",
    ]);
    add_mounts(
        &mut b,
        json!([
            {"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m", "mode=750"]},
            // Inside the tmpfs just made: only works if mounts go in order.
            {"destination": "/mnt/t/ro", "type": "bind", "source": ro.path(), "options": ["bind", "ro"]},
            {"destination": "/mnt/r", "type": "bind", "source": deep.path(), "options": ["rbind"]},
            {"destination": "/mnt/nr", "type": "bind", "source": deep.path(), "options": ["bind"]}
        ]),
    );
    let out = run_ok(&rt, &b, "mounts");
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l.len(), 8, "{out}");
    assert_eq!(l[0], "mode=750");
    assert!(l[1].starts_with("tmpfs /mnt/t tmpfs "), "{out}");
    for o in ["rw", "nosuid", "size=1024k", "mode=750"] {
        assert!(
            l[1].split([' ', ',']).any(|x| x == o),
            "{o} missing: {}",
            l[1]
        );
    }
    assert!(
        l[2].contains(" /mnt/t/ro ") && l[2].split([' ', ',']).any(|x| x == "ro"),
        "{out}"
    );
    assert_eq!(l[3], "hi");
    assert_eq!(l[4], "ro-write=1", "write through a ro bind must fail");
    assert_eq!(l[5], "tmpfs-write=0");
    assert_eq!(l[6], "deep", "rbind carries submounts");
    assert_eq!(l[7], "nr=0", "plain bind does not carry submounts");
    // Nothing the container wrote reached the host dir behind the ro bind.
    assert!(!ro.path().join("x").exists());
}

/// Runs a container with `mounts` (binding a shared host dir S), waits
/// until it is up, then mounts a tmpfs with a marker at S/sub on the host
/// and returns what the container saw at each of `probes` (sub/marker).
fn propagation_probe(
    name: &str,
    rootfs_prop: Option<&str>,
    opts: &[(&str, &[&str])],
) -> Vec<String> {
    let rt = Rt::new();
    let s = host_dir(name);
    std::fs::create_dir(s.path().join("sub")).unwrap();
    let _shared = bind_self_shared(s.path());
    let mut script = String::from("touch /mnt/p0/ready; i=0; while [ $i -lt 100 ]; do [ -e /mnt/p0/sub/marker ] && break; /bin/payload sleep 0.05; i=$((i+1)); done; ");
    let mut mounts = Vec::new();
    for (i, (_, o)) in opts.iter().enumerate() {
        mounts.push(json!({"destination": format!("/mnt/p{i}"), "type": "bind", "source": s.path(), "options": o}));
        script.push_str(&format!(
            "[ -e /mnt/p{i}/sub/marker ] && echo sees || echo blind; "
        ));
    }
    let mut b = bundle(&["sh", "-c", &script]);
    add_mounts(&mut b, json!(mounts));
    if let Some(prop) = rootfs_prop {
        b.edit(|c| c["linux"]["rootfsPropagation"] = json!(prop));
    }
    let id = rt.id(name);
    let mut cmd = rt.cmd();
    cmd.args(["run", "--bundle", p(&b), &id]);
    let mut bg = Bg::spawn(cmd);
    let up = wait_until(std::time::Duration::from_secs(10), || {
        s.path().join("ready").exists()
    });
    let _sub = up.then(|| {
        let g = mount_tmpfs(&s.path().join("sub"));
        std::fs::write(s.path().join("sub/marker"), "m").unwrap();
        g
    });
    let (code, out, err) = bg.wait(20);
    assert!(up, "container never came up: {err}");
    assert_eq!(code, 0, "{out}\n{err}");
    out.lines().map(String::from).collect()
}

#[test]
fn mount_propagation_options_are_applied() {
    require_root!("mount_propagation_options_are_applied");
    // p0 must see the marker (the container waits on it), so it is rslave.
    let seen = propagation_probe(
        "prop-opts",
        None,
        &[
            ("slave", &["rbind", "rslave"]),
            ("private", &["rbind", "rprivate"]),
        ],
    );
    assert_eq!(seen, vec!["sees", "blind"]);
}

#[test]
fn rootfs_propagation_decides_what_reaches_the_container() {
    require_root!("rootfs_propagation_decides_what_reaches_the_container");
    // runc's default (rslave): host mounts under a bind reach the container.
    let seen = propagation_probe("prop-default", None, &[("plain", &["rbind"])]);
    assert_eq!(seen, vec!["sees"]);
    // rprivate: they do not (the container waits its 5s and reports).
    let seen = propagation_probe("prop-private", Some("rprivate"), &[("plain", &["rbind"])]);
    assert_eq!(seen, vec!["blind"]);
}

#[test]
fn rootfs_propagation_value_is_validated() {
    require_root!("rootfs_propagation_value_is_validated");
    let rt = Rt::new();
    let mut b = bundle(&["true"]);
    b.edit(|c| c["linux"]["rootfsPropagation"] = json!("sideways"));
    let id = rt.id("prop-bad");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(
        &rt,
        &out,
        &id,
        Some(b.path()),
        &["rootfsPropagation", "sideways"],
    );
}

#[test]
fn readonly_root_and_writable_tmpfs() {
    require_root!("readonly_root_and_writable_tmpfs");
    let rt = Rt::new();
    let script = "/bin/payload write /x d 2>/dev/null; echo root=$?; /bin/payload write /tmp/y d 2>/dev/null; echo tmp=$?";
    let b = bundle(&["sh", "-c", script]);
    assert_eq!(run_ok(&rt, &b, "ro"), "root=1\ntmp=1\n");
    let mut b = bundle(&["sh", "-c", script]);
    add_mounts(
        &mut b,
        json!([{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}]),
    );
    assert_eq!(run_ok(&rt, &b, "ro-tmp"), "root=1\ntmp=0\n");
    assert!(
        !b.rootfs().join("tmp/y").exists(),
        "tmpfs write reached the rootfs"
    );
    let mut b = bundle(&["sh", "-c", script]);
    b.edit(|c| c["root"]["readonly"] = json!(false));
    assert_eq!(run_ok(&rt, &b, "rw"), "root=0\ntmp=0\n");
    assert_eq!(std::fs::read_to_string(b.rootfs().join("x")).unwrap(), "d");
}

#[test]
fn masked_paths_are_empty() {
    require_root!("masked_paths_are_empty");
    let rt = Rt::new();
    // This kernel has no /proc/kcore (CONFIG_PROC_KCORE off): the masked
    // files checked are those of the default list that exist here.
    let files: Vec<&str> = [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
    ]
    .into_iter()
    .filter(|f| Path::new(f).exists())
    .collect();
    assert!(!files.is_empty(), "no maskable /proc file on this host");
    let mut script = String::new();
    for f in &files {
        script.push_str(&format!("echo {f}=$(/bin/payload cat {f} | wc -c),$?; "));
    }
    script.push_str("[ -d /sys/firmware ] && echo fw-dir; echo fw=$(ls -A /sys/firmware | wc -l)");
    let b = bundle(&["sh", "-c", &script]);
    let want: String = files
        .iter()
        .map(|f| format!("{f}=0,0\n"))
        .collect::<String>()
        + "fw-dir\nfw=0\n";
    assert_eq!(run_ok(&rt, &b, "masked"), want);
    // Control: unmasked, /proc/timer_list has content and /sys/firmware
    // entries on this host.
    let mut b = bundle(&[
        "sh",
        "-c",
        "echo $(/bin/payload cat /proc/timer_list | wc -c); ls -A /sys/firmware | wc -l",
    ]);
    b.edit(|c| c["linux"]["maskedPaths"] = json!([]));
    let out = run_ok(&rt, &b, "unmasked");
    let n: Vec<u64> = out.split_whitespace().map(|x| x.parse().unwrap()).collect();
    assert!(n[0] > 0, "control: timer_list empty even unmasked: {out}");
    if std::fs::read_dir("/sys/firmware")
        .map(|d| d.count())
        .unwrap_or(0)
        > 0
    {
        assert!(
            n[1] > 0,
            "control: /sys/firmware empty even unmasked: {out}"
        );
    }
}

#[test]
fn propagation_option_of_a_tmpfs_mount_is_applied() {
    require_root!("propagation_option_of_a_tmpfs_mount_is_applied");
    let rt = Rt::new();
    let mut b = bundle(&["sh", "-c", "grep -E ' /mnt/(sh|pr) ' /proc/self/mountinfo"]);
    add_mounts(
        &mut b,
        json!([
            {"destination": "/mnt/sh", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]},
            {"destination": "/mnt/pr", "type": "tmpfs", "source": "tmpfs", "options": ["private"]}
        ]),
    );
    let out = run_ok(&rt, &b, "tmpfs-prop");
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l.len(), 2, "{out}");
    // mountinfo field 7 on: optional fields up to "-".
    let tags = |line: &str| -> Vec<String> {
        line.split(' ')
            .skip(6)
            .take_while(|f| *f != "-")
            .map(String::from)
            .collect()
    };
    assert!(
        l[0].contains(" /mnt/sh ") && tags(l[0]).iter().any(|t| t.starts_with("shared:")),
        "{out}"
    );
    assert!(l[1].contains(" /mnt/pr ") && tags(l[1]).is_empty(), "{out}");
}

#[test]
fn readonly_paths_refuse_writes() {
    require_root!("readonly_paths_refuse_writes");
    let rt = Rt::new();
    let b = bundle(&[
        "/bin/payload",
        "write",
        "/proc/sys/kernel/hostname",
        "changed",
    ]);
    let (code, out, err) = rt.run_bundle(&b, "ropaths");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    // Control: the same write works when /proc/sys is not read-only (it
    // only changes the container's own uts namespace).
    let mut b = bundle(&[
        "sh",
        "-c",
        "/bin/payload write /proc/sys/kernel/hostname changed && hostname",
    ]);
    b.edit(|c| c["linux"]["readonlyPaths"] = json!([]));
    assert_eq!(run_ok(&rt, &b, "rwpaths"), "changed\n");
}

#[test]
fn default_devices_have_the_right_numbers_and_modes() {
    require_root!("default_devices_have_the_right_numbers_and_modes");
    let rt = Rt::new();
    let b = bundle(&[
        "sh",
        "-c",
        "stat -c '%n %F %t:%T %a %u:%g' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; \
         for l in fd stdin stdout stderr ptmx; do echo $l=$(readlink /dev/$l); done; \
         echo x > /dev/null && echo null-ok; echo zero=$(head -c 3 /dev/zero | wc -c); \
         echo rnd=$(head -c 5 /dev/urandom | wc -c)",
    ]);
    let out = run_ok(&rt, &b, "devs");
    let want = "/dev/null character special file 1:3 666 0:0\n\
                /dev/zero character special file 1:5 666 0:0\n\
                /dev/full character special file 1:7 666 0:0\n\
                /dev/random character special file 1:8 666 0:0\n\
                /dev/urandom character special file 1:9 666 0:0\n\
                /dev/tty character special file 5:0 666 0:0\n\
                fd=/proc/self/fd\nstdin=/proc/self/fd/0\nstdout=/proc/self/fd/1\nstderr=/proc/self/fd/2\nptmx=pts/ptmx\n\
                null-ok\nzero=3\nrnd=5\n";
    assert_eq!(out, want);
}

#[test]
fn spec_devices_are_created_with_owner_and_mode() {
    require_root!("spec_devices_are_created_with_owner_and_mode");
    let rt = Rt::new();
    let mut b = bundle(&[
        "sh",
        "-c",
        "stat -c '%n %F %t:%T %a %u:%g' /dev/fuse /dev/net/tun /dev/husk-blk",
    ]);
    b.edit(|c| {
        c["linux"]["devices"] = json!([
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 1000, "gid": 10},
            {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o666},
            {"path": "/dev/husk-blk", "type": "b", "major": 7, "minor": 200, "fileMode": 0o600}
        ])
    });
    assert_eq!(
        run_ok(&rt, &b, "spec-devs"),
        "/dev/fuse character special file a:e5 640 1000:10\n\
         /dev/net/tun character special file a:c8 666 0:0\n\
         /dev/husk-blk block special file 7:c8 600 0:0\n"
    );
}

#[test]
fn namespaced_sysctls_are_set_inside_only() {
    require_root!("namespaced_sysctls_are_set_inside_only");
    let rt = Rt::new();
    let host_fwd = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let host_shm = std::fs::read_to_string("/proc/sys/kernel/shmmni").unwrap();
    let mut b = bundle(&[
        "sh",
        "-c",
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni",
    ]);
    let want_fwd = if host_fwd.trim() == "1" { "0" } else { "1" };
    b.edit(|c| {
        c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": want_fwd, "kernel.shmmni": "1234"})
    });
    assert_eq!(run_ok(&rt, &b, "sysctl"), format!("{want_fwd}\n1234\n"));
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_fwd
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/shmmni").unwrap(),
        host_shm
    );
}

#[test]
fn non_namespaced_sysctl_is_refused_before_anything_exists() {
    require_root!("non_namespaced_sysctl_is_refused_before_anything_exists");
    let rt = Rt::new();
    let before = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap();
    let mut b = bundle(&["true"]);
    b.edit(|c| c["linux"]["sysctl"] = json!({"kernel.pid_max": "40000"}));
    let id = rt.id("sysctl-host");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(&rt, &out, &id, Some(b.path()), &["kernel.pid_max"]);
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap(),
        before
    );
    // A net.* key without the container's own network namespace too.
    let mut b = bundle(&["true"]);
    b.edit(|c| {
        c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
        c["linux"]["namespaces"] =
            json!([{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]);
    });
    let id = rt.id("sysctl-nonet");
    let out = rt.run(&["create", "--bundle", p(&b), &id]);
    assert_refused(
        &rt,
        &out,
        &id,
        Some(b.path()),
        &["net.ipv4.ip_forward", "network"],
    );
}

/// The cgroup path of `controller` in a /proc/PID/cgroup dump (on a host with
/// only cgroup v2, the one `0::` line holds every controller).
fn cg_line(dump: &str, controller: &str) -> String {
    if husk_fixtures::cgroup_v2_only() {
        if let Some(p) = dump.lines().find_map(|l| l.strip_prefix("0::")) {
            return p.to_string();
        }
    }
    dump.lines()
        .find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, ctrl, path) = (parts.next()?, parts.next()?, parts.next()?);
            ctrl.split(',')
                .any(|c| c == controller)
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("no {controller} in {dump}"))
}

fn no_cgroupns(b: &mut Bundle) {
    b.edit(|c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "cgroup")
    });
}

/// Removes `name` (and anything under it) from every v1 hierarchy.
struct CgroupCleanup(String);

impl Drop for CgroupCleanup {
    fn drop(&mut self) {
        let mut dirs = cgroup_dirs(&self.0);
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in dirs {
            let _ = std::fs::remove_dir(d);
        }
    }
}

#[test]
fn absolute_cgroups_path_from_inside() {
    require_root!("absolute_cgroups_path_from_inside");
    let rt = Rt::new();
    let parent = unique("husk-conf-cgabs");
    let _clean = CgroupCleanup(parent.clone());
    let mut b = bundle(&["/bin/payload", "cat", "/proc/self/cgroup"]);
    no_cgroupns(&mut b);
    b.edit(|c| c["linux"]["cgroupsPath"] = json!(format!("/{parent}/c")));
    let out = run_ok(&rt, &b, "cgabs");
    for ctrl in ["memory", "pids", "cpu", "freezer", "devices"] {
        assert_eq!(
            cg_line(&out, ctrl),
            format!("/{parent}/c"),
            "{ctrl}:\n{out}"
        );
    }
    let left: Vec<_> = cgroup_dirs("c")
        .into_iter()
        .filter(|d| d.to_string_lossy().contains(&parent))
        .collect();
    assert!(left.is_empty(), "container cgroup left: {left:?}");
}

#[test]
fn relative_cgroups_path_is_under_the_callers_cgroup() {
    require_root!("relative_cgroups_path_is_under_the_callers_cgroup");
    if husk_fixtures::cgroup_v2_only() {
        // The kernel's no-internal-process rule: this test's own cgroup holds this
        // test, so it cannot also parent a cgroup with controllers (runc fails alike).
        skip(
            "relative_cgroups_path_is_under_the_callers_cgroup",
            "cgroup v2 only: the caller's cgroup holds processes, so it cannot parent a container cgroup",
        );
        return;
    }
    let rt = Rt::new();
    let name = unique("husk-conf-cgrel");
    let _clean = CgroupCleanup(name.clone());
    let mut b = bundle(&["/bin/payload", "cat", "/proc/self/cgroup"]);
    no_cgroupns(&mut b);
    b.edit(|c| c["linux"]["cgroupsPath"] = json!(name));
    let out = run_ok(&rt, &b, "cgrel");
    let me = std::process::id().to_string();
    for ctrl in ["memory", "pids", "cpu"] {
        let own = own_cgroup(&me, ctrl);
        let want = format!("{}/{name}", own.trim_end_matches('/'));
        assert_eq!(cg_line(&out, ctrl), want, "{ctrl} (ours: {own}):\n{out}");
    }
    assert!(cgroup_dirs(&name).is_empty(), "{:?}", cgroup_dirs(&name));
}

#[test]
fn cgroup_namespace_root_is_the_container_cgroup() {
    require_root!("cgroup_namespace_root_is_the_container_cgroup");
    let rt = Rt::new();
    let b = bundle(&["/bin/payload", "cat", "/proc/self/cgroup"]);
    let out = run_ok(&rt, &b, "cgns");
    for ctrl in ["memory", "pids", "cpu"] {
        assert_eq!(cg_line(&out, ctrl), "/", "{ctrl}:\n{out}");
    }
}

#[test]
fn namespaces_joined_by_path() {
    require_root!("namespaces_joined_by_path");
    let rt = Rt::new();
    let mut a = bundle(&["/bin/payload", "sleep", "30"]);
    a.edit(|c| c["hostname"] = json!("husk-first"));
    let ida = rt.id("ns-a");
    rt.ok(&["run", "-d", "--bundle", p(&a), &ida]);
    let pid = rt.state(&ida)["pid"].as_i64().unwrap();
    let host_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    assert_ne!(host_net, std::fs::read_link("/proc/self/ns/net").unwrap());

    let mut b = bundle(&[
        "sh",
        "-c",
        "/bin/payload readlink /proc/self/ns/net; hostname",
    ]);
    b.edit(|c| {
        c.as_object_mut().unwrap().remove("hostname");
        c["linux"]["namespaces"] = json!([
            {"type": "pid"}, {"type": "ipc"}, {"type": "mount"}, {"type": "cgroup"},
            {"type": "network", "path": format!("/proc/{pid}/ns/net")},
            {"type": "uts", "path": format!("/proc/{pid}/ns/uts")}
        ]);
    });
    let out = run_ok(&rt, &b, "ns-b");
    assert_eq!(out, format!("{}\nhusk-first\n", host_net.display()));
    rt.ok(&["delete", "-f", &ida]);
}

#[test]
fn without_a_pid_namespace_host_pids_are_visible() {
    require_root!("without_a_pid_namespace_host_pids_are_visible");
    let rt = Rt::new();
    let me = std::process::id();
    let mut b = bundle(&[
        "sh",
        "-c",
        &format!("/bin/payload pid; /bin/payload exists /proc/{me}/status"),
    ]);
    b.edit(|c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "pid")
    });
    let out = run_ok(&rt, &b, "nopidns");
    let l: Vec<&str> = out.lines().collect();
    let pid: u32 = l[0].parse().unwrap();
    assert!(pid > 1, "{out}");
    assert_eq!(l[1], "true", "the test process is not visible: {out}");
}
