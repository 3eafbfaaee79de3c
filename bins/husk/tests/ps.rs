//! `husk ps` selection and columns beyond the basics: -n/-l, -s and the
//! ancestor filter, against real containers.

mod common;

use common::engine::*;
use husk_fixtures::require_root;

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn last_size_and_ancestor_select_like_docker() {
    require_root!("last_size_and_ancestor_select_like_docker");
    let e = Engine::new();
    e.ok(&["tag", "busybox", "other:1"]);
    let first = e.ok(&["create", "--name", "first", "busybox", "true"]);
    let second = e.ok(&["create", "--name", "second", "other:1", "true"]);
    e.ok(&[
        "run",
        "--name",
        "third",
        "busybox",
        "sh",
        "-c",
        "head -c 5000 /dev/zero > /five-k",
    ]);
    let third = e.inspect("third")["Id"].as_str().unwrap().to_string();

    // Nothing runs, yet -l and -n show the newest in any state.
    assert_eq!(e.ok(&["ps", "-q"]), "");
    assert_eq!(
        e.ok(&["ps", "-l", "-q", "--no-trunc"]),
        format!("{third}\n")
    );
    assert_eq!(
        lines(&e.ok(&["ps", "-n", "2", "-q", "--no-trunc"])),
        [third.as_str(), second.trim()]
    );
    assert_eq!(
        lines(&e.ok(&[
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            "ancestor=busybox"
        ])),
        [third.as_str(), first.trim()]
    );
    assert_eq!(
        e.ok(&[
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            "ancestor=other:1"
        ]),
        second
    );
    let image_id = e.inspect("second")["Image"].as_str().unwrap().to_string();
    assert_eq!(
        e.ok(&[
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("ancestor={}", &image_id[7..19])
        ]),
        format!("{third}\n{second}{first}")
    );

    let table = e.ok(&["ps", "-a", "-s", "--filter", "name=third"]);
    let rows = lines(&table);
    assert!(rows[0].ends_with("NAMES     SIZE"), "{table}");
    let size = rows[1].rsplit("   ").next().unwrap().trim();
    assert!(
        size.starts_with("5kB (virtual ") && size.ends_with("MB)"),
        "SIZE column: {size:?}\n{table}"
    );
    let fmt = e.ok(&[
        "ps",
        "-a",
        "-s",
        "--filter",
        "name=third",
        "--format",
        "{{.Size}}",
    ]);
    assert_eq!(fmt.trim(), size);
}
