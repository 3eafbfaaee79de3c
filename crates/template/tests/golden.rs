//! Replays what a real docker CLI printed (tests/golden/NNN.txt, captured
//! by tests/golden/capture.sh from docker 28.2.2's CLI against dockerd
//! 20.10.24): the same template over the same input must give the same
//! stdout, stderr and exit status, errors included.

use std::path::Path;

use husk_template::docker::{self, FormatError};
use serde_json::Value;

struct Case {
    name: String,
    mode: String,
    template: String,
    input: Value,
    stdout: String,
    stderr: String,
    exit: i32,
}

fn load(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if let Some(name) = bare.strip_prefix("-- ").and_then(|n| n.strip_suffix(" --")) {
            sections.push((name.to_string(), String::new()));
        } else if let Some(last) = sections.last_mut() {
            last.1.push_str(line);
        }
    }
    let get = |name: &str| -> String {
        let body = sections
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{}: no -- {name} -- section", path.display()))
            .1
            .clone();
        // capture.sh ends every section with one newline of its own.
        body.strip_suffix('\n').unwrap_or(&body).to_string()
    };
    Case {
        name: path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        mode: get("mode"),
        template: get("template"),
        input: serde_json::from_str(&get("input")).expect("input JSON"),
        stdout: get("stdout"),
        stderr: get("stderr"),
        exit: get("exit").trim().parse().expect("exit status"),
    }
}

/// What husk prints for the case, the way docker's CLI does it.
fn run(c: &Case) -> (String, String, i32) {
    let items = c.input.as_array().cloned().unwrap_or_default();
    match c.mode.as_str() {
        "inspect-container" | "inspect-image" => {
            let schema = if c.mode == "inspect-image" {
                &docker::IMAGE
            } else {
                &docker::CONTAINER
            };
            let objs: Vec<(Value, &_)> = items.into_iter().map(|v| (v, schema)).collect();
            let out = docker::inspect_all(&c.template, &objs);
            (out.stdout, out.stderr, out.code)
        }
        "ps" | "images" => {
            let (schema, validate) = if c.mode == "ps" {
                (&docker::PS, true)
            } else {
                (&docker::IMAGES, false)
            };
            match docker::format_rows(&c.template, &items, schema, validate) {
                Ok(rows) => {
                    assert!(!rows.table, "{}: table goldens need the tabwriter", c.name);
                    let out: String = rows.lines.iter().map(|l| format!("{l}\n")).collect();
                    (out, String::new(), 0)
                }
                Err(e) => {
                    let _: &FormatError = &e;
                    (String::new(), format!("{e}\n"), 1)
                }
            }
        }
        other => panic!("{}: unknown mode {other}", c.name),
    }
}

#[test]
fn docker_goldens() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/golden")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "txt")
                && p.file_name().is_some_and(|n| n != "cases.txt")
        })
        .collect();
    paths.sort();
    assert!(paths.len() >= 60, "goldens missing: {}", paths.len());
    let mut failed = Vec::new();
    for p in &paths {
        let c = load(p);
        let (stdout, stderr, exit) = run(&c);
        if (stdout.as_str(), stderr.as_str(), exit)
            != (c.stdout.as_str(), c.stderr.as_str(), c.exit)
        {
            failed.push(format!(
                "{} {:?}\n  docker: {:?} {:?} {}\n  husk:   {:?} {:?} {}",
                c.name, c.template, c.stdout, c.stderr, c.exit, stdout, stderr, exit
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} goldens differ:\n{}",
        failed.len(),
        paths.len(),
        failed.join("\n")
    );
}
