//! `husk commit`, `husk diff`, `husk export` and `husk history` end to
//! end, as root against the real kernel with the busybox image: a
//! container's writes, deletions and replaced directories become a layer
//! that `run`, `save` + skopeo and docker read back as the container saw
//! it; hostile symlinks never make diff or export read host files.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::engine::*;
use husk_fixtures::require_root;

struct Ent {
    kind: tar::EntryType,
    data: Vec<u8>,
    link: Option<PathBuf>,
}

fn read_tar(path: &Path) -> BTreeMap<String, Ent> {
    let f = std::fs::File::open(path).unwrap();
    let mut ar = tar::Archive::new(f);
    let mut out = BTreeMap::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8(e.path_bytes().to_vec()).unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let ent = Ent {
            kind: e.header().entry_type(),
            link: e.link_name().unwrap().map(|l| l.into_owned()),
            data,
        };
        out.insert(name.trim_end_matches('/').to_string(), ent);
    }
    out
}

/// An image with a directory to replace and a hostile symlink: `/hx`
/// points at /etc, which on the host is the host's /etc.
fn base_image(e: &Engine) -> String {
    e.ok(&[
        "run",
        "--name",
        "base",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /stuff/sub && echo a > /stuff/a && echo b > /stuff/sub/b \
         && echo keep > /keep && ln -s /etc /hx",
    ]);
    let id = e.ok(&["commit", "-m", "base layer", "base", "base:1"]);
    let id = id.trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    id
}

const WORK: &str = "rm /etc/group && rm -rf /stuff && mkdir /stuff && echo c > /stuff/c \
     && echo changed > /keep && rm /hx && mkdir /hx && echo mine > /hx/passwd \
     && ln -s /etc/shadow /esc && mkdir /new && echo n > /new/file && ln /new/file /new/link";

#[test]
fn commit_of_writes_deletes_and_replaced_dirs_runs_saves_and_loads_in_docker() {
    require_root!("commit_of_writes_deletes_and_replaced_dirs_runs_saves_and_loads_in_docker");
    let e = Engine::new();
    let base = base_image(&e);
    e.ok(&["run", "--name", "work", "base:1", "sh", "-c", WORK]);

    // docker diff's lines and order; /hx/passwd is new even though the
    // image's /hx led to the host's /etc, which has a passwd.
    let diff = e.ok(&["diff", "work"]);
    assert_eq!(
        diff.lines().collect::<Vec<_>>(),
        [
            "A /esc",
            "C /etc",
            "D /etc/group",
            "D /hx",
            "A /hx/passwd",
            "C /keep",
            "A /new",
            "A /new/file",
            "A /new/link",
            "D /stuff",
            "A /stuff/c",
        ],
        "{diff}"
    );

    let id = e.ok(&[
        "commit",
        "-a",
        "Tess <t@example.com>",
        "-m",
        "the work",
        "-c",
        "ENV MODE=committed",
        "-c",
        r#"CMD ["cat", "/stuff/c"]"#,
        "work",
        "work:1",
    ]);
    let id = id.trim();
    // The committed image runs with its CMD and ENV; what was deleted is
    // absent, what a replaced directory held before is gone.
    assert_eq!(e.ok(&["run", "--rm", "work:1"]), "c\n");
    let seen = e.ok(&[
        "run",
        "--rm",
        "work:1",
        "sh",
        "-c",
        "ls /stuff; cat /keep /hx/passwd; test -e /etc/group || echo nogroup; \
         echo $MODE; readlink /esc; stat -c %h /new/file",
    ]);
    assert_eq!(
        seen, "c\nchanged\nmine\nnogroup\ncommitted\n/etc/shadow\n2\n",
        "{seen}"
    );
    let info = e.inspect(id);
    assert_eq!(info["Author"], "Tess <t@example.com>");
    assert_eq!(info["RootFS"]["Layers"].as_array().unwrap().len(), 3);

    // history: newest first, the parent image's id on its step.
    let hist = e.ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.ID}}|{{.CreatedBy}}|{{.Comment}}",
        "work:1",
    ]);
    let rows: Vec<&str> = hist.lines().collect();
    assert_eq!(rows.len(), 3, "{hist}");
    assert_eq!(rows[0], format!("{id}|sh -c {WORK}|the work"));
    assert!(
        rows[1].starts_with(&format!("{base}|sh -c mkdir -p /stuff/sub")),
        "{hist}"
    );
    assert!(rows[1].ends_with("|base layer"), "{hist}");
    // The imported busybox is local too: its id shows on its step.
    let busybox = e.inspect("busybox")["Id"].as_str().unwrap().to_string();
    assert!(
        rows[2].starts_with(&format!("{busybox}|husk import|")),
        "{hist}"
    );

    // save: skopeo reads it, docker loads and runs it as husk did.
    let work = tempdir("husk-commit-");
    let archive = work.path().join("work.tar");
    e.ok(&["save", "-o", archive.to_str().unwrap(), "work:1"]);
    let sk = std::process::Command::new("skopeo")
        .args(["inspect", &format!("docker-archive:{}", archive.display())])
        .output()
        .unwrap();
    assert!(
        sk.status.success(),
        "{}",
        String::from_utf8_lossy(&sk.stderr)
    );
    let sk: serde_json::Value = serde_json::from_slice(&sk.stdout).unwrap();
    assert_eq!(sk["Layers"].as_array().unwrap().len(), 3, "{sk}");
    assert!(
        sk["Env"]
            .as_array()
            .unwrap()
            .contains(&"MODE=committed".into()),
        "{sk}"
    );
    let dk = husk_fixtures::registry::Dockerd::start();
    dk.docker_ok(&["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(dk.run("work:1", &[]), "c\n");
    assert_eq!(
        dk.run(
            "work:1",
            &[
                "sh",
                "-c",
                "ls /stuff; test -e /etc/group || echo nogroup; cat /hx/passwd"
            ]
        ),
        "c\nnogroup\nmine\n"
    );
}

#[test]
fn export_of_stopped_and_running_containers_matches_their_files_and_never_reads_host_files() {
    require_root!(
        "export_of_stopped_and_running_containers_matches_their_files_and_never_reads_host_files"
    );
    let e = Engine::new();
    base_image(&e);
    e.ok(&["run", "--name", "work", "base:1", "sh", "-c", WORK]);
    let work = tempdir("husk-export-");
    let out = work.path().join("stopped.tar");
    e.ok(&["export", "-o", out.to_str().unwrap(), "work"]);
    assert!(
        mounts_under(e.root.path()).is_empty(),
        "export left its mount behind"
    );
    let t = read_tar(&out);
    assert_eq!(t["stuff/c"].data, b"c\n");
    assert!(!t.contains_key("stuff/a") && !t.contains_key("stuff/sub"));
    assert!(!t.contains_key("etc/group"), "deleted file exported");
    assert_eq!(t["keep"].data, b"changed\n");
    assert_eq!(t["hx/passwd"].data, b"mine\n");
    assert_eq!(t["esc"].kind, tar::EntryType::Symlink);
    assert_eq!(t["esc"].link.as_deref(), Some(Path::new("/etc/shadow")));
    assert_eq!(t["new/link"].kind, tar::EntryType::Link);
    assert!(t["bin/busybox"].data.len() > 100_000);
    // No entry holds a host file's bytes, whatever the container's
    // symlinks point at.
    for host in ["/etc/shadow", "/etc/passwd", "/etc/group"] {
        if let Ok(data) = std::fs::read(host) {
            for (name, ent) in &t {
                assert!(ent.data != data, "{name} holds the host's {host}");
            }
        }
    }
    assert!(t["etc/passwd"]
        .data
        .starts_with(b"root:x:0:0:root:/root:/bin/sh\n"));

    // A running container: its mounted rootfs, as it is now.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "live",
        "base:1",
        "sh",
        "-c",
        "echo live > /live && ln -s / /rootlink && exec sleep 300",
    ]);
    wait_for("the live file", std::time::Duration::from_secs(10), || {
        e.ok(&["diff", "live"]).contains("A /live")
    });
    let live = e.run(&["export", "live"]);
    assert!(
        live.status.success(),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let f = work.path().join("live.tar");
    std::fs::write(&f, &live.stdout).unwrap();
    let t = read_tar(&f);
    assert_eq!(t["live"].data, b"live\n");
    assert_eq!(t["rootlink"].kind, tar::EntryType::Symlink);
    assert!(t.contains_key("stuff/a"), "base image's files missing");
    e.ok(&["rm", "-f", "live"]);

    // Bad input: one line naming the container.
    let (code, _, err) = e.code(&["export", "-o", out.to_str().unwrap(), "nosuch"]);
    assert_ne!(code, 0);
    assert!(err.contains("no such container: nosuch"), "{err}");
}

#[test]
fn commit_pauses_a_running_container_and_thaws_it_and_empty_changes_make_no_layer() {
    require_root!("commit_pauses_a_running_container_and_thaws_it_and_empty_changes_make_no_layer");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "live",
        "busybox",
        "sh",
        "-c",
        "echo one > /one && exec sleep 300",
    ]);
    wait_for("the file", std::time::Duration::from_secs(10), || {
        e.ok(&["diff", "live"]).contains("A /one")
    });
    e.ok(&["commit", "live", "live:1"]);
    let info = e.inspect("live");
    assert_eq!(info["State"]["Status"], "running");
    assert_eq!(info["State"]["Paused"], false);
    // Thawed: it still runs commands.
    assert_eq!(e.ok(&["exec", "live", "cat", "/one"]), "one\n");
    assert_eq!(e.ok(&["run", "--rm", "live:1", "cat", "/one"]), "one\n");
    // -p=false reads it live.
    e.ok(&["commit", "-p=false", "live", "live:2"]);
    e.ok(&["rm", "-f", "live"]);

    // A container that changed nothing: an empty_layer history entry, no layer.
    e.ok(&["run", "--name", "idle", "busybox", "true"]);
    let layers = |n: &str| e.inspect(n)["RootFS"]["Layers"].as_array().unwrap().len();
    e.ok(&[
        "commit",
        "-c",
        "USER 1000",
        "-c",
        "WORKDIR /tmp",
        "idle",
        "idle:1",
    ]);
    assert_eq!(layers("idle:1"), layers("busybox"));
    assert_eq!(
        e.ok(&["run", "--rm", "idle:1", "sh", "-c", "id -u; pwd"]),
        "1000\n/tmp\n"
    );
    let sizes = e.ok(&["history", "--format", "{{.Size}}", "idle:1"]);
    assert_eq!(sizes.lines().next(), Some("0B"), "{sizes}");

    // Bad -c: a one-line error, no image.
    let before = e.ok(&["images", "-q"]);
    let (code, _, err) = e.code(&["commit", "-c", "RUN rm -rf /", "idle", "idle:2"]);
    assert_ne!(code, 0);
    assert!(err.contains("RUN is not a commit change"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(e.ok(&["images", "-q"]), before);
}
