//! User namespaces (issue 15): the init is created in a new user namespace
//! with the spec's mappings, becomes its root, and everything the runtime
//! makes inside belongs to the mapped root; `exec` joins it. The same case
//! runs against runc and crun, which do this on this machine.

#[allow(unused_imports)]
mod common;
mod common_conf;
#[macro_use]
mod peer;

use std::process::Command;

use common::*;
use common_conf::*;
use peer::Peer;
use serde_json::json;

/// Container ids 0..65535 are host ids 100000..165535.
const BASE: u32 = 100000;

/// A bundle whose config asks for a new user namespace, its rootfs owned
/// by the mapped root (as an image unpacked for it would be).
fn userns_bundle(b: &mut Bundle) {
    let status = Command::new("chown")
        .args(["-R", "-h", &format!("{BASE}:{BASE}")])
        .arg(b.rootfs())
        .status()
        .expect("chown");
    assert!(status.success());
    let map = json!([{"containerID": 0, "hostID": BASE, "size": 65536}]);
    b.edit(|c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map;
    });
}

/// Inside: root, the spec's map, /dev/null usable (the host's node, bound:
/// no mknod in a user namespace), /dev/shm owned by the container's root.
pub fn user_namespace(rt: &Peer) {
    let mut b = rt.bundle(&[
        "sh",
        "-c",
        "id; cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '; \
         echo x > /dev/null && echo null-ok; stat -c '%u:%g' /dev/shm; \
         /bin/payload write /dev/shm/f d && stat -c '%u:%g' /dev/shm/f",
    ]);
    userns_bundle(&mut b);
    assert_eq!(
        rt.run_ok(&b, "userns"),
        "uid=0(root) gid=0(root)\n 0 100000 65536\n 0 100000 65536\nnull-ok\n0:0\n0:0\n",
        "{}",
        rt.name
    );
}

/// A host dir owned by the host's root, bound with `idmap` into a
/// container with a user namespace: its files show with their owners seen
/// through the container's mapping (root's as root, 1000's as 1000), and
/// a file the container's root makes is the host's root's on disk. A
/// plain bind of the same dir shows the overflow id.
pub fn idmapped_bind_mount(rt: &Peer) {
    let src = host_dir(&format!("idmap-{}", rt.name));
    std::fs::write(src.path().join("f0"), "x").unwrap();
    std::fs::write(src.path().join("f1000"), "x").unwrap();
    std::os::unix::fs::chown(src.path().join("f1000"), Some(1000), Some(1000)).unwrap();
    let mut b = rt.bundle(&[
        "sh",
        "-c",
        "stat -c '%n %u:%g' /id/f0 /id/f1000 /plain/f0; touch /id/made && echo made",
    ]);
    userns_bundle(&mut b);
    b.edit(|c| {
        let ms = c["mounts"].as_array_mut().unwrap();
        ms.push(json!({"destination": "/id", "type": "bind", "source": src.path(), "options": ["rbind", "idmap"]}));
        ms.push(json!({"destination": "/plain", "type": "bind", "source": src.path(), "options": ["rbind"]}));
    });
    let (code, out, err) = rt.run_bundle(&b, "idmap");
    if rt.name == "runc" && rt.version().starts_with("1.1.") {
        // runc 1.1 predates idmapped mounts (1.2 added them): the option
        // is ignored and the owners show unmapped.
        assert!(out.contains("/id/f0 65534:65534"), "runc: {out}{err}");
        skip(
            "runc::idmapped_bind_mount",
            "runc 1.1 does not support idmap mounts",
        );
        return;
    }
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "/id/f0 0:0\n/id/f1000 1000:1000\n/plain/f0 65534:65534\nmade\n"
        ),
        "{}: {err}",
        rt.name
    );
    use std::os::unix::fs::MetadataExt;
    let made = std::fs::metadata(src.path().join("made")).unwrap();
    assert_eq!((made.uid(), made.gid()), (0, 0), "{}", rt.name);
}

peer_suite!(husk, runc, crun; [user_namespace, idmapped_bind_mount]);

/// `ridmap` reaches a mount below the source; mappings given on the mount
/// itself are used instead of the container's.
#[test]
fn ridmap_and_mappings_of_the_mount() {
    require_root!("ridmap_and_mappings_of_the_mount");
    use nix::mount::{mount, MsFlags};
    let rt = Rt::new();
    let src = host_dir("ridmap");
    let sub = src.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    // A bind of another dir of the same filesystem as the mount below: not
    // a tmpfs, which kernels before 6.3 cannot idmap.
    let other = host_dir("ridmap-sub");
    mount(
        Some(other.path()),
        &sub,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .unwrap();
    let _sub = MountGuard(sub.clone());
    std::fs::write(sub.join("f"), "x").unwrap();
    std::fs::write(src.path().join("g"), "x").unwrap();
    std::os::unix::fs::chown(src.path().join("g"), Some(2000), Some(2000)).unwrap();
    let mut b = bundle(&["stat", "-c", "%n %u:%g", "/r/sub/f", "/m/g"]);
    userns_bundle(&mut b);
    b.edit(|c| {
        let ms = c["mounts"].as_array_mut().unwrap();
        ms.push(json!({"destination": "/r", "type": "bind", "source": src.path(), "options": ["rbind", "ridmap"]}));
        // The mount's own mapping goes from the ids on the source
        // (containerID) to host ids: on-disk 2000 is host id BASE+7, which
        // the container's user namespace shows as 7.
        ms.push(json!({"destination": "/m", "type": "bind", "source": src.path(), "options": ["bind", "idmap"],
            "uidMappings": [{"containerID": 2000, "hostID": BASE + 7, "size": 1}],
            "gidMappings": [{"containerID": 2000, "hostID": BASE + 7, "size": 1}]}));
    });
    assert_eq!(run_ok(&rt, &b, "ridmap"), "/r/sub/f 0:0\n/m/g 7:7\n");
}

/// Wrong idmap configs are refused before anything exists, naming the mount.
#[test]
fn bad_idmap_mounts_are_refused() {
    require_root!("bad_idmap_mounts_are_refused");
    let rt = Rt::new();
    let cases: [(&str, Edit); 3] = [
        ("idmap is only supported on bind mounts", |c| {
            c["mounts"].as_array_mut().unwrap().push(
                json!({"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}),
            );
        }),
        ("need the idmap or ridmap option", |c| {
            c["mounts"].as_array_mut().unwrap().push(
                json!({"destination": "/t", "type": "bind", "source": "/tmp", "options": ["rbind"],
                "uidMappings": [{"containerID": 0, "hostID": BASE, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": BASE, "size": 1}]}),
            );
        }),
        ("idmap needs uidMappings and gidMappings", |c| {
            c["mounts"].as_array_mut().unwrap().push(
                json!({"destination": "/t", "type": "bind", "source": "/tmp", "options": ["rbind", "idmap"]}),
            );
        }),
    ];
    for err in refusals(&rt, &cases) {
        assert!(err.contains("/t"), "{err}");
    }
}

/// Seen from the host: the init runs as the mapped root, an exec joins the
/// user namespace (its own map, its user mapped too), and the host's view of
/// a file the container wrote is the mapped owner.
#[test]
fn host_sees_mapped_ids_and_exec_joins() {
    require_root!("host_sees_mapped_ids_and_exec_joins");
    let rt = Rt::new();
    let mut b = bundle(&["sleep", "60"]);
    userns_bundle(&mut b);
    b.edit(|c| c["root"]["readonly"] = json!(false));
    let id = rt.id("userns-host");
    rt.ok(&["run", "--detach", "--bundle", p(&b), &id]);
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(
        field(&status, "Uid"),
        format!("{BASE}\t{BASE}\t{BASE}\t{BASE}")
    );
    let out = rt.ok(&[
        "exec",
        "--user",
        "1000:1000",
        &id,
        "sh",
        "-c",
        "cat /proc/self/uid_map | tr -s ' '; id -u; touch /tmp/by-1000",
    ]);
    assert_eq!(out, " 0 100000 65536\n1000\n");
    let meta = std::fs::metadata(b.rootfs().join("tmp/by-1000")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((meta.uid(), meta.gid()), (BASE + 1000, BASE + 1000));
    assert!(rt.remove(&id).status.success());
}

/// Without a network namespace the user namespace does not own one and may
/// not mount sysfs: the host's /sys is bound instead (runc's way); with a
/// cgroup namespace too, the cgroup mounts still work.
#[test]
fn host_network_and_cgroup_namespace() {
    require_root!("host_network_and_cgroup_namespace");
    let rt = Rt::new();
    let mut b = bundle(&[
        "sh",
        "-c",
        "ls /sys/class/net >/dev/null && echo sys-ok; [ -n \"$(ls /sys/fs/cgroup)\" ] && echo cgroup-ok",
    ]);
    userns_bundle(&mut b);
    b.edit(|c| {
        let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "network");
        if !ns.iter().any(|n| n["type"] == "cgroup") {
            ns.push(json!({"type": "cgroup"}));
        }
    });
    assert_eq!(run_ok(&rt, &b, "userns-hostnet"), "sys-ok\ncgroup-ok\n");
}

/// A pod with `hostUsers: false`, as containerd lays it out: the sandbox
/// creates the user namespace (and the network and ipc ones), a container
/// joins them by path and creates its own pid, mount and uts namespaces,
/// which then belong to the pod's user namespace (its /proc mounts, it is
/// PID 1 of its own pid namespace); exec joins the same user namespace.
#[test]
fn a_container_joins_the_pods_user_namespace() {
    require_root!("a_container_joins_the_pods_user_namespace");
    let rt = Rt::new();
    let mut sandbox = bundle(&["sleep", "60"]);
    userns_bundle(&mut sandbox);
    let pod = rt.id("pod");
    rt.ok(&["run", "--detach", "--bundle", p(&sandbox), &pod]);
    let pid = rt.state(&pod)["pid"].as_i64().unwrap();
    let ns = |t: &str| {
        std::fs::read_link(format!("/proc/{pid}/ns/{t}"))
            .unwrap()
            .display()
            .to_string()
    };
    let mut b = bundle(&[
        "sh",
        "-c",
        "echo $$; for t in user net ipc; do readlink /proc/self/ns/$t; done; cat /proc/self/uid_map | tr -s ' '; \
         [ \"$(readlink /proc/self/ns/pid)\" != \"$(readlink /proc/1/ns/pid)\" ] || echo own-pid-ns; sleep 60",
    ]);
    userns_bundle(&mut b);
    b.edit(|c| {
        let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| !["user", "network", "ipc"].contains(&n["type"].as_str().unwrap()));
        for t in ["user", "net", "ipc"] {
            let typ = if t == "net" { "network" } else { t };
            ns.push(json!({"type": typ, "path": format!("/proc/{pid}/ns/{t}")}));
        }
    });
    let ctr = rt.id("pod-ctr");
    rt.ok(&["run", "--detach", "--bundle", p(&b), &ctr]);
    let out = rt.ok(&[
        "exec",
        &ctr,
        "sh",
        "-c",
        "readlink /proc/self/ns/user; id -u",
    ]);
    assert_eq!(out, format!("{}\n0\n", ns("user")));
    let ctr_pid = rt.state(&ctr)["pid"].as_i64().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{ctr_pid}/status")).unwrap();
    assert_eq!(
        field(&status, "NSpid").split('\t').next_back(),
        Some("1"),
        "{status}"
    );
    assert_eq!(
        field(&status, "Uid"),
        format!("{BASE}\t{BASE}\t{BASE}\t{BASE}")
    );
    assert!(rt.remove(&ctr).status.success());
    assert!(rt.remove(&pod).status.success());
}

/// A new user namespace with a network namespace made beforehand (as
/// netavark or CNI make one and pass its path): the container is in it,
/// and the runtime's prestart hook still runs in the runtime's own.
#[test]
fn new_user_namespace_joins_a_network_namespace_by_path() {
    require_root!("new_user_namespace_joins_a_network_namespace_by_path");
    let rt = Rt::new();
    let net = husk_fixtures::TestNetns::new("uns");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hook");
    let mut b = bundle(&["readlink", "/proc/self/ns/net"]);
    userns_bundle(&mut b);
    b.edit(|c| {
        let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "network");
        ns.push(json!({"type": "network", "path": net.path}));
        c["hooks"] = json!({"prestart": [{"path": "/bin/sh",
            "args": ["sh", "-c", format!("readlink /proc/self/ns/net > {}", log.display())]}]});
    });
    assert_eq!(
        run_ok(&rt, &b, "userns-netns"),
        format!("{}\n", net.ns_id())
    );
    let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("{}\n", ours.display())
    );
}

/// podman drives husk-runtime (`--runtime`) with a user namespace
/// (`--uidmap`; podman shifts the image's files itself): the client path
/// of a rootful `podman run --uidmap`. (With a user namespace podman lets
/// the runtime make the network namespace and configures it afterwards;
/// one passed by path is owned by the host's user namespace, and podman's
/// default ping_group_range sysctl then fails for runc as for husk.) Its
/// containers go under a cgroup parent of the test's own, removed
/// afterwards; podman's default RLIMIT_NOFILE and RLIMIT_NPROC are above
/// the test's hard limits (no CAP_SYS_RESOURCE here: runc fails the
/// same), so the test lowers them.
#[test]
fn podman_runs_husk_runtime_in_a_user_namespace() {
    require_root!("podman_runs_husk_runtime_in_a_user_namespace");
    if Command::new("podman").arg("--version").output().is_err() {
        skip(
            "podman_runs_husk_runtime_in_a_user_namespace",
            "podman is not installed (make deps installs it)",
        );
        return;
    }
    let p = tempfile::Builder::new()
        .prefix("husk-userns-podman-")
        .tempdir()
        .unwrap();
    // podman (libpod with cgroupfs) makes its dirs in every v1 hierarchy
    // /proc/self/cgroup names: were hugetlb unmounted and mounted again by
    // a crun test meanwhile, they would land on the bare /sys/fs/cgroup
    // tmpfs, out of the cleanup's sight. Held mounted until the cleanup
    // (declared after, dropped before) ran, as build.rs's podman test does.
    let _hugetlb = husk_fixtures::HugetlbV1::acquire();
    let parent = unique("husk-pm");
    let _cleanup = PodmanCleanup {
        dir: p.path().to_path_buf(),
        parent: parent.clone(),
    };
    let podman = |args: &[&str]| {
        // In a pid namespace of its own: podman's conmon outlives it and
        // would be adopted by this (subreaper) test process, whose zombie
        // would keep its cgroups, and hugetlb's v1 root with them, alive.
        // When podman ends, the kernel kills and reaps what it left.
        let out = husk_fixtures::output_via_files(
            Command::new("unshare")
                .args(["--fork", "--pid", "--mount-proc", "--kill-child", "podman"])
                .arg("--root")
                .arg(p.path().join("root"))
                .arg("--runroot")
                .arg(p.path().join("run"))
                .args([
                    "--storage-driver",
                    "overlay",
                    "--cgroup-manager",
                    "cgroupfs",
                ])
                .args(["--events-backend", "file", "--runtime"])
                .arg(bin())
                .args(args)
                .stdin(std::process::Stdio::null()),
        );
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "podman {args:?}: {err}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let rootfs = p.path().join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let tar = p.path().join("busybox.tar");
    husk_fixtures::tar_tree(&rootfs, &tar);
    podman(&["import", tar.to_str().unwrap(), "busybox"]);
    let out = podman(&[
        "run",
        "--rm",
        "--cgroup-parent",
        &format!("/{parent}"),
        "--network",
        "none",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        "--uidmap",
        &format!("0:{BASE}:65536"),
        "busybox",
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map | tr -s ' '; stat -c %u /bin/busybox; echo $$",
    ]);
    assert_eq!(out, format!("0\n 0 {BASE} 65536\n0\n1\n"));
}

/// What podman leaves of a test: its mounts under the test's dir, and the
/// cgroup parent in every hierarchy.
struct PodmanCleanup {
    dir: std::path::PathBuf,
    parent: String,
}

impl Drop for PodmanCleanup {
    fn drop(&mut self) {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut mounts: Vec<&str> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| std::path::Path::new(m).starts_with(&self.dir))
            .collect();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = nix::mount::umount2(m, nix::mount::MntFlags::MNT_DETACH);
        }
        // The parent holds podman's `conmon` cgroup (and the containers').
        for d in husk_fixtures::cgroup_dirs(&self.parent) {
            remove_cgroup_tree(&d);
        }
    }
}

/// What husk-runtime cannot do yet, or what is wrong, is refused before
/// anything exists, in one line naming the field.
#[test]
fn bad_user_namespace_configs_are_refused() {
    require_root!("bad_user_namespace_configs_are_refused");
    let rt = Rt::new();
    let cases: [(&str, Edit); 3] = [
        ("need a user namespace", |c| {
            c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": BASE, "size": 1}]);
        }),
        ("needs both", |c| {
            let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
            ns.push(json!({"type": "user"}));
        }),
        ("together with a new user namespace is not supported", |c| {
            let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
            ns.retain(|n| n["type"] != "mount");
            ns.push(json!({"type": "mount", "path": "/proc/self/ns/mnt"}));
            ns.push(json!({"type": "user"}));
            let map = json!([{"containerID": 0, "hostID": BASE, "size": 65536}]);
            c["linux"]["uidMappings"] = map.clone();
            c["linux"]["gidMappings"] = map;
        }),
    ];
    refusals(&rt, &cases);
}

type Edit = fn(&mut serde_json::Value);

/// Each edit of the default bundle makes `create` fail with its message in
/// one line (and nothing left: `fails` checks the exit); the messages.
fn refusals(rt: &Rt, cases: &[(&str, Edit)]) -> Vec<String> {
    let mut errs = Vec::new();
    for (want, edit) in cases {
        let mut b = bundle(&["true"]);
        b.edit(edit);
        let id = rt.id("refused");
        let err = rt.fails(&["create", "--bundle", p(&b), &id]);
        assert!(err.contains(want), "{want}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        errs.push(err);
    }
    errs
}

/// Removes a cgroup dir and the (empty) cgroups below it, deepest first.
fn remove_cgroup_tree(dir: &std::path::Path) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_cgroup_tree(&e.path());
        }
    }
    let _ = std::fs::remove_dir(dir);
}
