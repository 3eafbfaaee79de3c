//! `husk container prune`, `husk volume prune`, `husk system prune`:
//! what goes, what stays, docker's warnings and output.

mod common;

use common::engine::*;
use husk_fixtures::require_root;

/// `husk ARGS` answering `answer` to the prompt: (code, stdout, stderr).
fn answering(e: &Engine, args: &[&str], answer: &str) -> (i32, String, String) {
    let out = e.run_with_stdin(args, answer.as_bytes());
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn id(e: &Engine, name: &str) -> String {
    e.inspect(name)["Id"].as_str().unwrap().to_string()
}

fn names(e: &Engine) -> Vec<String> {
    let mut v: Vec<String> = e
        .ok(&["ps", "-a", "--format", "{{.Names}}"])
        .lines()
        .map(String::from)
        .collect();
    v.sort();
    v
}

#[test]
fn container_prune_removes_stopped_ones_the_filters_keep() {
    require_root!("container_prune_removes_stopped_ones_the_filters_keep");
    let e = Engine::new();
    e.ok(&[
        "run",
        "--name",
        "exited",
        "busybox",
        "sh",
        "-c",
        "echo x > /big",
    ]);
    e.ok(&["create", "--name", "created", "busybox", "true"]);
    e.ok(&[
        "run", "--name", "kept", "--label", "keep=yes", "busybox", "true",
    ]);
    e.ok(&["run", "-d", "--name", "running", "busybox", "sleep", "500"]);
    let (exited, created) = (id(&e, "exited"), id(&e, "created"));

    // Declined (or no answer): the warning, and nothing goes.
    let (code, out, _) = answering(&e, &["container", "prune"], "n\n");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
    );
    assert_eq!(names(&e), ["created", "exited", "kept", "running"]);
    // Created before an hour ago: none of them.
    let out = e.ok(&["container", "prune", "-f", "--filter", "until=1h"]);
    assert_eq!(out, "Total reclaimed space: 0B\n");

    let out = e.ok(&["container", "prune", "-f", "--filter", "label!=keep"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Deleted Containers:", "{out}");
    let mut deleted = lines[1..3].to_vec();
    deleted.sort();
    let mut want = [exited.as_str(), created.as_str()];
    want.sort();
    assert_eq!(deleted, want, "{out}");
    assert_eq!(lines[3], "");
    // The 2 bytes `echo x` wrote in the exited container's upper dir.
    assert_eq!(lines[4], "Total reclaimed space: 2B", "{out}");
    assert_eq!(names(&e), ["kept", "running"]);

    let (code, out, _) = answering(&e, &["container", "prune"], "y\n");
    assert_eq!(code, 0);
    assert!(out.contains("Deleted Containers:\n"), "{out}");
    assert_eq!(names(&e), ["running"]);
    let (code, _, err) = e.code(&["container", "prune", "-f", "--filter", "color=red"]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid filter 'color'"), "{err}");
    e.ok(&["rm", "-f", "running"]);
}

fn volumes(e: &Engine) -> Vec<String> {
    let mut v: Vec<String> = e
        .ok(&["volume", "ls", "-q"])
        .lines()
        .map(String::from)
        .collect();
    v.sort();
    v
}

#[test]
fn volume_prune_takes_unused_anonymous_ones_or_all_with_a() {
    require_root!("volume_prune_takes_unused_anonymous_ones_or_all_with_a");
    let e = Engine::new();
    e.ok(&["volume", "create", "named"]);
    e.ok(&["volume", "create", "--label", "keep=1", "labeled"]);
    e.ok(&[
        "run",
        "--name",
        "anon",
        "-v",
        "/anon",
        "busybox",
        "sh",
        "-c",
        "echo abc > /anon/f",
    ]);
    let anon = e.inspect("anon")["Mounts"][0]["Name"]
        .as_str()
        .unwrap()
        .to_string();
    e.ok(&["rm", "anon"]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "user",
        "-v",
        "used:/used",
        "busybox",
        "sleep",
        "500",
    ]);
    e.ok(&[
        "run", "-d", "--name", "user2", "-v", "/held", "busybox", "sleep", "500",
    ]);
    let held = e.inspect("user2")["Mounts"][0]["Name"]
        .as_str()
        .unwrap()
        .to_string();

    let (_, out, _) = answering(&e, &["volume", "prune"], "");
    assert_eq!(
        out,
        "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "
    );
    let out = e.ok(&["volume", "prune", "-f"]);
    assert_eq!(
        out,
        format!("Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 4B\n")
    );
    let mut want = vec![
        held.clone(),
        "labeled".into(),
        "named".into(),
        "used".into(),
    ];
    want.sort();
    assert_eq!(volumes(&e), want);

    let out = e.ok(&["volume", "prune", "-f", "-a", "--filter", "label!=keep"]);
    assert_eq!(
        out,
        "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n"
    );
    let out = e.ok(&["volume", "prune", "-f", "--filter", "all=true"]);
    assert_eq!(
        out,
        "Deleted Volumes:\nlabeled\n\nTotal reclaimed space: 0B\n"
    );
    let mut want = vec![held, "used".into()];
    want.sort();
    assert_eq!(volumes(&e), want);
    e.ok(&["rm", "-f", "-v", "user", "user2"]);
    e.ok(&["volume", "rm", "used"]);
}

#[test]
fn system_prune_takes_containers_images_and_with_volumes_anonymous_volumes() {
    require_root!("system_prune_takes_containers_images_and_with_volumes_anonymous_volumes");
    let e = Engine::new();
    e.ok(&["run", "--name", "done", "-v", "/anon", "busybox", "true"]);
    let done = id(&e, "done");
    // An untagged image: dangling.
    let dangling = e.ok(&["commit", "done"]).trim().to_string();
    assert!(dangling.starts_with("sha256:"), "{dangling}");

    let (_, out, _) = answering(&e, &["system", "prune", "--volumes"], "no\n");
    assert_eq!(
        out,
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all dangling images\n  - unused build cache\nAre you sure you want to continue? [y/N] "
    );
    assert_eq!(names(&e), ["done"]);

    // A build's cache entry, whose image then goes.
    let ctx = tempdir("husk-prune-build-");
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM busybox\nLABEL pruned=yes\n",
    )
    .unwrap();
    e.ok(&["build", "-q", "-t", "built", ctx.path().to_str().unwrap()]);
    let cache = e.root.path().join("build/cache");
    let keys = || std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    assert!(keys() >= 1);
    e.ok(&["rmi", "built"]);

    let out = e.ok(&["system", "prune", "-f"]);
    assert!(out.contains("\nDeleted build cache objects:\n"), "{out}");
    assert_eq!(keys(), 0);
    assert!(
        out.starts_with(&format!("Deleted Containers:\n{done}\n\nDeleted Images:\n")),
        "{out}"
    );
    assert!(out.contains(&format!("deleted: {dangling}\n")), "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("Total reclaimed space: "),
        "{out}"
    );
    assert!(names(&e).is_empty());
    // busybox is tagged: it stays without -a; the anonymous volume without --volumes.
    assert!(e.ok(&["images", "-q"]).lines().count() == 1);
    assert_eq!(e.ok(&["volume", "ls", "-q"]).lines().count(), 1);

    let out = e.ok(&["system", "prune", "-f", "-a", "--volumes"]);
    assert!(out.starts_with("Deleted Volumes:\n"), "{out}");
    assert!(
        out.contains("Deleted Images:\nuntagged: busybox:latest\n"),
        "{out}"
    );
    assert!(e.ok(&["images", "-q"]).is_empty());
    assert!(e.ok(&["volume", "ls", "-q"]).is_empty());
}
