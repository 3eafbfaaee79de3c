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

/// `--format` and `inspect -f` fail as docker's CLI does: same text on
/// stderr, same exit status (the outputs are tests/golden in
/// crates/template, captured from docker 28.2.2 against dockerd 20.10).
#[test]
fn format_errors_are_dockers() {
    require_root!("format_errors_are_dockers");
    let e = Engine::new();
    e.ok(&[
        "create",
        "--name",
        "web",
        "-l",
        "tier=front",
        "busybox",
        "true",
    ]);
    let run = |args: &[&str]| e.code(args);

    // A label missing from the map is `<no value>`, not an error.
    assert_eq!(
        run(&[
            "inspect",
            "-f",
            "{{.Config.Labels.tier}}|{{.Config.Labels.nope}}",
            "web"
        ]),
        (0, "front|<no value>\n".into(), String::new())
    );
    assert_eq!(
        run(&["inspect", "-f", "{{.State.Foo}}", "web"]),
        (
            1,
            "\n".into(),
            "template parsing error: template: :1:8: executing \"\" at <.State.Foo>: \
             map has no entry for key \"Foo\"\n"
                .into()
        )
    );
    assert_eq!(
        run(&["inspect", "-f", "{{.Name", "web"]),
        (
            64,
            String::new(),
            "template parsing error: template: :1: unclosed action\n".into()
        )
    );
    assert_eq!(
        run(&["ps", "-a", "--format", "{{.Names}} {{.Label \"tier\"}}"]),
        (0, "web front\n".into(), String::new())
    );
    assert_eq!(
        run(&["ps", "-a", "--format", "{{.Foo}}"]),
        (
            1,
            String::new(),
            "failed to execute template: template: :1:2: executing \"\" at <.Foo>: \
             can't evaluate field Foo in type *formatter.ContainerContext\n"
                .into()
        )
    );
    assert_eq!(
        run(&["images", "--format", "x\\t{{upper .Size 1}}"]),
        (
            1,
            String::new(),
            "template parsing error: template: :1:4: executing \"\" at <upper>: \
             wrong number of args for upper: want 1 got 2\n"
                .into()
        )
    );
    e.ok(&["rm", "web"]);
}
