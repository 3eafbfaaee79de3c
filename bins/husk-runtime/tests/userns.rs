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

peer_suite!(husk, runc, crun; [user_namespace]);

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
    rt.ok(&["delete", "--force", &id]);
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

/// What husk-runtime cannot do yet, or what is wrong, is refused before
/// anything exists, in one line naming the field.
#[test]
fn bad_user_namespace_configs_are_refused() {
    require_root!("bad_user_namespace_configs_are_refused");
    let rt = Rt::new();
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 3] = [
        ("need a user namespace", |c| {
            c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": BASE, "size": 1}]);
        }),
        ("needs both", |c| {
            let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
            ns.push(json!({"type": "user"}));
        }),
        ("joining a user namespace by path is not supported", |c| {
            let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
            ns.push(json!({"type": "user", "path": "/proc/self/ns/user"}));
        }),
    ];
    for (want, edit) in cases {
        let mut b = bundle(&["true"]);
        b.edit(edit);
        let id = rt.id("userns-bad");
        let err = rt.fails(&["create", "--bundle", p(&b), &id]);
        assert!(err.contains(want), "{want}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
