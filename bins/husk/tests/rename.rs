//! `husk rename`: the new name works everywhere, the old one nowhere;
//! docker's refusals.

mod common;

use common::engine::*;
use husk_fixtures::require_root;

#[test]
fn rename_running_and_stopped_then_use_the_new_name() {
    require_root!("rename_running_and_stopped_then_use_the_new_name");
    let e = Engine::new();
    let id = e.ok(&["run", "-d", "--name", "old", "busybox", "sleep", "500"]);
    let id = id.trim();
    e.ok(&["create", "--name", "other", "busybox", "true"]);
    e.ok(&["rename", "old", "new"]);
    assert_eq!(e.inspect("new")["Id"], id);
    assert_eq!(e.inspect("new")["Name"], "/new");
    // As docker, the hostname stays what it was.
    assert_eq!(e.ok(&["exec", "new", "hostname"]).trim(), &id[..12]);
    assert_eq!(e.ok(&["ps", "--format", "{{.Names}}"]), "new\n");
    let (code, _, err) = e.code(&["inspect", "old"]);
    assert_eq!(code, 1, "{err}");

    // Taken, invalid, the same, empty.
    let (code, _, err) = e.code(&["rename", "new", "other"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("\"/other\" is already in use by container"),
        "{err}"
    );
    let (code, _, err) = e.code(&["rename", "new", "bad/name"]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid container name \"bad/name\""), "{err}");
    let (code, _, err) = e.code(&["rename", "new", "new"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Renaming a container with the same name as its current name"),
        "{err}"
    );
    let (code, _, err) = e.code(&["rename", "nosuch", "x1"]);
    assert_eq!(code, 1);
    assert!(err.contains("no such container: nosuch"), "{err}");

    // Stopped, by id prefix; then it starts under its new name.
    e.ok(&["stop", "-t", "1", "new"]);
    e.ok(&["rename", &id[..12], "newer"]);
    e.ok(&["start", "newer"]);
    assert_eq!(e.ok(&["exec", "newer", "echo", "hi"]), "hi\n");
    // The old name is free again.
    e.ok(&["create", "--name", "new", "busybox", "true"]);
    e.ok(&["rm", "-f", "newer", "new", "other"]);
}
