//! `Project::canonical_yaml` (what `husk compose config` prints) and
//! `Service::config_hash`.

use std::path::{Path, PathBuf};

use husk_compose::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Loads the canonical output again from a scratch directory.
fn reload(yaml: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
    load(&LoadOptions::new(dir.path())).unwrap()
}

/// The golden file is the exact output; the job service is absent because
/// its profile is not active.
#[test]
fn app_config_matches_the_golden_file() {
    let p = load(&LoadOptions::new(fixture("app"))).unwrap();
    let expected = std::fs::read_to_string(fixture("app/expected-config.yaml")).unwrap();
    assert_eq!(p.canonical_yaml(), expected);
}

#[test]
fn canonical_output_loads_back_to_the_same_project() {
    for (dir, files) in [
        ("app", vec![]),
        (
            "merge",
            vec!["compose.yaml", "compose.override.yaml", "prod.yaml"],
        ),
        ("interpolation", vec![]),
    ] {
        let mut o = LoadOptions::new(fixture(dir));
        o.files = files.into_iter().map(PathBuf::from).collect();
        let p = load(&o).unwrap();
        let yaml = p.canonical_yaml();
        let again = reload(&yaml);
        assert_eq!(again.canonical_yaml(), yaml, "{dir}");
        for s in p.active_services() {
            let name = &s.name;
            assert_eq!(
                again.services[name].config_hash(),
                s.config_hash(),
                "{dir}/{name}"
            );
        }
    }
}

#[test]
fn canonical_output_shows_long_forms() {
    let p = load(&LoadOptions::new(fixture("app"))).unwrap();
    let yaml = p.canonical_yaml();
    assert!(yaml.starts_with("name: demo\nservices:\n"), "{yaml}");
    assert!(
        yaml.contains(
            "    ports:\n      - protocol: tcp\n        published: \"8080\"\n        target: 80\n"
        ),
        "{yaml}"
    );
    assert!(
        !yaml.contains("  job:"),
        "inactive services are left out: {yaml}"
    );
}

#[test]
fn config_hash_tracks_changes_but_not_scale() {
    let base = "services:\n  web:\n    image: busybox\n    environment: [A=1]\n";
    let h = |yaml: &str| reload(yaml).services["web"].config_hash();
    let original = h(base);
    assert_eq!(original, h(base));
    assert_eq!(
        original,
        h("services:\n  web:\n    environment: {A: \"1\"}\n    image: busybox\n")
    );
    assert_eq!(original, h(&format!("{base}    scale: 3\n")));
    assert_eq!(original, h(&format!("{base}    deploy: {{replicas: 4}}\n")));
    assert_ne!(
        original,
        h("services:\n  web:\n    image: busybox\n    environment: [A=2]\n")
    );
    assert_ne!(original, h(&format!("{base}    ports: [\"80:80\"]\n")));
}
