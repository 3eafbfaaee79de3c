//! The config.json and process.json that containerd (ctr), dockerd and
//! podman really hand a runtime (captured on this kind of machine, kept in
//! tests/data/client-specs), run unchanged but for the rootfs,
//! the ids and host paths that only existed on the capturing machine.

#[allow(unused_imports)]
mod common;
use common::*;

use std::path::Path;

/// A bundle whose config.json is a real client's, adapted to this test.
fn client_bundle(name: &str, args: &[&str], hook_out: &Path) -> Bundle {
    let path = husk_fixtures::client_spec(name);
    let data =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut b = Bundle::new(&["true"]);
    let mut cfg: serde_json::Value = serde_json::from_str(&data).expect("client spec parses");
    cfg["root"]["path"] = serde_json::json!(b.rootfs());
    cfg["process"]["args"] = serde_json::json!(args);
    cfg["linux"]["cgroupsPath"] = serde_json::json!(format!("/{}", unique("husk-t-client")));
    // Bind sources (hosts, hostname, resolv.conf, shm, .containerenv) lived
    // on the capturing machine: recreate each as an empty file or dir.
    let scratch = b.path().join("client-files");
    if let Some(mounts) = cfg["mounts"].as_array_mut() {
        for (i, m) in mounts.iter_mut().enumerate() {
            let is_bind = m["type"] == "bind"
                || m["options"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|x| x == "bind" || x == "rbind"));
            if !is_bind {
                continue;
            }
            let dest = m["destination"].as_str().unwrap_or_default().to_string();
            let src = scratch.join(format!("m{i}"));
            if dest == "/dev/shm" {
                std::fs::create_dir_all(&src).unwrap();
            } else {
                std::fs::create_dir_all(&scratch).unwrap();
                std::fs::write(&src, format!("{dest}\n")).unwrap();
            }
            m["source"] = serde_json::json!(src);
        }
    }
    // dockerd's prestart hook (libnetwork-setkey) pointed at its own pid:
    // keep a prestart hook, one that records the state it is given.
    if cfg.get("hooks").is_some_and(|h| !h.is_null()) {
        cfg["hooks"] = serde_json::json!({"prestart": [{
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("cat > {}", hook_out.display())]
        }]});
    }
    b.config = cfg;
    b.write();
    b
}

fn run_client(name: &str, expect_seccomp: bool) {
    let rt = Rt::new();
    let hook_out = tempfile::NamedTempFile::new().unwrap();
    let b = client_bundle(name, &["/bin/payload", "status"], hook_out.path());
    let (code, out, err) = rt.run_bundle(&b, "client");
    assert_eq!(code, 0, "{name}: {err}");
    let seccomp = out
        .lines()
        .find(|l| l.starts_with("Seccomp:"))
        .unwrap_or_default();
    assert_eq!(
        seccomp.split_whitespace().nth(1),
        Some(if expect_seccomp { "2" } else { "0" }),
        "{name}: {out}"
    );
    // Capabilities: the client's bounding set, exactly.
    let want = b.config["process"]["capabilities"]["bounding"]
        .as_array()
        .unwrap()
        .len() as u32;
    let bnd = out.lines().find(|l| l.starts_with("CapBnd:")).unwrap();
    let mask = u64::from_str_radix(bnd.split_whitespace().nth(1).unwrap(), 16).unwrap();
    assert_eq!(mask.count_ones(), want, "{name}: {bnd}");
    if b.config.get("hooks").is_some_and(|h| !h.is_null()) {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(hook_out.path()).unwrap()).unwrap();
        assert_eq!(state["status"], "created");
        assert!(state["pid"].as_i64().unwrap() > 0);
    }
}

#[test]
fn docker_config_runs_with_its_seccomp_profile_and_hook() {
    require_root!("docker_config_runs_with_its_seccomp_profile_and_hook");
    run_client("docker-run-config.json", true);
}

#[test]
fn podman_config_runs_with_its_seccomp_profile() {
    require_root!("podman_config_runs_with_its_seccomp_profile");
    run_client("podman-run-config.json", true);
}

#[test]
fn containerd_config_runs() {
    require_root!("containerd_config_runs");
    run_client("ctr-run-config.json", false);
}

/// Each client's exec process.json against a container made from its own
/// config, the way containerd-shim, dockerd and conmon call exec.
#[test]
fn exec_process_json_of_each_client() {
    require_root!("exec_process_json_of_each_client");
    for client in ["docker", "podman", "ctr"] {
        let rt = Rt::new();
        let hook_out = tempfile::NamedTempFile::new().unwrap();
        let b = client_bundle(
            &format!("{client}-run-config.json"),
            &["sleep", "60"],
            hook_out.path(),
        );
        let id = rt.id(client);
        let pidfile = b.path().join("pid");
        rt.ok(&[
            "create",
            "--bundle",
            b.path().to_str().unwrap(),
            "--pid-file",
            pidfile.to_str().unwrap(),
            &id,
        ]);
        rt.ok(&["start", &id]);
        let process = husk_fixtures::client_spec(&format!("{client}-exec-process.json"));
        let out = rt.run(&["exec", "--process", process.to_str().unwrap(), &id]);
        assert!(
            out.status.success(),
            "{client}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if client != "docker" {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "exec-ok\n",
                "{client}"
            );
        }
        // The detached form conmon and the shim use.
        let epid = b.path().join("exec.pid");
        rt.ok(&[
            "exec",
            "--process",
            process.to_str().unwrap(),
            "--detach",
            "--pid-file",
            epid.to_str().unwrap(),
            &id,
        ]);
        let exec_pid: i32 = std::fs::read_to_string(&epid)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // We are the subreaper (as the shim would be): the detached process
        // is ours to reap. An unreaped zombie in the container's pid
        // namespace would keep its init from ever finishing its exit.
        reap_blocking(exec_pid);
        rt.ok(&["kill", &id, "9"]);
        for _ in 0..200 {
            if rt.status(&id) == "stopped" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        assert_eq!(rt.status(&id), "stopped", "{client}");
        rt.ok(&["delete", &id]);
        rt.ok(&["delete", "--force", &id]);
    }
}
