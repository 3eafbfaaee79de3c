//! The fixtures under tests/fixtures, loaded through the public API.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use husk_compose::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn opts(dir: &Path, env: &[(&str, &str)]) -> LoadOptions {
    let mut o = LoadOptions::new(dir);
    o.env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    o
}

const NONE: &[&str] = &[];

#[test]
fn three_service_app() {
    let p = load(&opts(&fixture("app"), &[])).unwrap();
    assert_eq!(p.name, "demo");
    assert_eq!(p.files, [fixture("app/compose.yaml")]);
    assert_eq!(p.project_dir, fixture("app"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.services.keys().collect::<Vec<_>>(), ["app", "job", "web"]);

    let web = &p.services["web"];
    assert_eq!(web.image.as_deref(), Some("busybox"));
    assert_eq!(web.ports.len(), 1);
    assert_eq!(
        (web.ports[0].target, web.ports[0].published),
        (80, Some(PortRange::single(8080)))
    );
    assert_eq!(web.depends_on["app"].condition, Condition::ServiceHealthy);
    assert_eq!(web.networks.keys().collect::<Vec<_>>(), ["default"]);

    let app = &p.services["app"];
    let hc = app.healthcheck.as_ref().unwrap();
    assert_eq!(hc.test, Some(HealthTest::Cmd(vec!["true".into()])));
    assert_eq!(hc.interval, Some(Duration::from_secs(1)));
    assert_eq!(app.environment["GREETING"].as_deref(), Some("hi from .env"));
    assert_eq!(app.environment["APP_MODE"].as_deref(), Some("production"));
    let cmd = app.command.as_ref().unwrap();
    assert!(cmd.from_string);
    assert_eq!(cmd.args, ["sh", "-c", "echo \"$GREETING\" && sleep 3600"]);

    let job = &p.services["job"];
    assert_eq!(job.restart, Some(Restart::No));
    assert_eq!(job.profiles, ["tools"]);
    assert!(!p.is_active(job));

    assert_eq!(p.networks["default"].name, "demo_default");
    assert_eq!(p.start_order(NONE).unwrap(), ["app", "web"]);
    assert_eq!(p.start_order(&["job"]).unwrap(), ["app", "job"]);
    let selected: Vec<&str> = p
        .services_for(&["web"])
        .unwrap()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(selected, ["app", "web"]);
}

#[test]
fn environment_wins_over_dotenv() {
    let p = load(&opts(
        &fixture("app"),
        &[("GREETING", "from the shell"), ("APP_MODE", "dev")],
    ))
    .unwrap();
    let env = &p.services["app"].environment;
    assert_eq!(env["GREETING"].as_deref(), Some("from the shell"));
    assert_eq!(env["APP_MODE"].as_deref(), Some("dev"));
}

#[test]
fn profiles_from_flag_and_environment() {
    let mut o = opts(&fixture("app"), &[]);
    o.profiles = vec!["tools".into()];
    let p = load(&o).unwrap();
    assert_eq!(p.profiles, ["tools"]);
    assert_eq!(p.start_order(NONE).unwrap(), ["app", "job", "web"]);
    let p = load(&opts(
        &fixture("app"),
        &[("COMPOSE_PROFILES", "tools, other")],
    ))
    .unwrap();
    assert_eq!(p.profiles, ["other", "tools"]);
    assert!(p.is_active(&p.services["job"]));
    assert_eq!(p.active_services().count(), 3);
}

#[test]
fn every_interpolation_form() {
    let p = load(&opts(
        &fixture("interpolation"),
        &[("EMPTY", ""), ("OVERRIDDEN", "from-env")],
    ))
    .unwrap();
    let s = &p.services["forms"];
    let env: BTreeMap<&str, &str> = s
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref().unwrap_or("<unset>")))
        .collect();
    let expected = [
        ("PLAIN", "dotenv-value"),
        ("BRACED", "dotenv-value"),
        ("EMBEDDED", "pre-dotenv-value-post"),
        ("DEFAULT_UNSET", "fallback"),
        ("DEFAULT_EMPTY", "fallback"),
        ("DASH_EMPTY", ""),
        ("DASH_UNSET", "fallback"),
        ("ALT_SET", "alt"),
        ("ALT_EMPTY", ""),
        ("PLUS_EMPTY", "alt"),
        ("PLUS_UNSET", ""),
        ("REQUIRED_OK", "dotenv-value"),
        ("REQUIRED_EMPTY_OK", ""),
        ("DOLLAR", "$HOME and ${X}"),
        ("NESTED", "dotenv-value"),
        ("PRECEDENCE", "from-env"),
        ("QUOTED", "literal $FROM_DOTENV"),
        ("MISSING", ""),
        ("ALSO_MISSING", ""),
    ];
    assert_eq!(env, BTreeMap::from(expected));
    assert_eq!(s.image.as_deref(), Some("busybox:1.36"));
    assert_eq!(s.command.as_ref().unwrap().args, ["sh", "-c", "echo $PATH"]);
    assert_eq!(s.ports[0].published, Some(PortRange::single(9090)));
    // One warning per unset variable, in docker compose's words.
    assert_eq!(
        p.warnings,
        ["The \"TOTALLY_UNSET\" variable is not set. Defaulting to a blank string."]
    );
    // COMPOSE_PROJECT_NAME from .env, normalized.
    assert_eq!(p.name, "from_dotenv");
}

#[test]
fn env_file_option_replaces_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("other.env"), "FROM_DOTENV=other\n").unwrap();
    let mut o = opts(&fixture("interpolation"), &[]);
    o.env_files = vec![dir.path().join("other.env")];
    // The fixture's .env is not read, so EMPTY is now unset.
    let err = load(&o).unwrap_err().to_string();
    assert_eq!(
        err,
        "compose.yaml: services.forms.environment.REQUIRED_EMPTY_OK: required variable EMPTY is missing a value: may be empty"
    );
    o.env.insert("EMPTY".into(), String::new());
    let p = load(&o).unwrap();
    assert_eq!(
        p.services["forms"].environment["PLAIN"].as_deref(),
        Some("other")
    );
    assert_eq!(
        p.services["forms"].environment["PRECEDENCE"].as_deref(),
        Some("")
    );
}

#[test]
fn merge_with_the_override_file() {
    let p = load(&opts(&fixture("merge"), &[])).unwrap();
    assert_eq!(
        p.files,
        [
            fixture("merge/compose.yaml"),
            fixture("merge/compose.override.yaml")
        ]
    );
    let web = &p.services["web"];
    assert_eq!(web.image.as_deref(), Some("web:dev"));
    assert_eq!(web.command.as_ref().unwrap().args, ["serve", "--reload"]);
    assert_eq!(web.entrypoint.as_ref().unwrap().args, ["/entry.sh"]);
    let env: Vec<(&str, Option<&str>)> = web
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect();
    assert_eq!(
        env,
        [
            ("EXTRA", Some("1")),
            ("KEEP", Some("base")),
            ("LOG", Some("debug"))
        ]
    );
    assert_eq!(
        web.labels,
        BTreeMap::from([
            ("debug".into(), "true".into()),
            ("tier".into(), "front".into())
        ])
    );
    let ports: Vec<(u16, u16)> = web
        .ports
        .iter()
        .map(|p| (p.published.unwrap().start, p.target))
        .collect();
    assert_eq!(ports, [(8080, 80), (9229, 9229)]);
    let mounts: Vec<(&str, &str)> = web
        .volumes
        .iter()
        .map(|m| (m.source.as_deref().unwrap_or(""), m.target.as_str()))
        .collect();
    let src = fixture("merge/src");
    assert_eq!(
        mounts,
        [("data", "/data"), (src.to_str().unwrap(), "/etc/web")]
    );
    assert!(!web.volumes[1].read_only);
    assert_eq!(web.depends_on["db"].condition, Condition::ServiceHealthy);
    let db = &p.services["db"];
    assert_eq!(db.image.as_deref(), Some("postgres:16"));
    assert_eq!(db.environment["POSTGRES_PASSWORD"].as_deref(), Some("base"));
    assert_eq!(
        db.healthcheck.as_ref().unwrap().test,
        Some(HealthTest::CmdShell("pg_isready -U postgres".into()))
    );
}

#[test]
fn merge_three_explicit_files() {
    let mut o = opts(&fixture("merge"), &[]);
    o.files = vec![
        "compose.yaml".into(),
        "compose.override.yaml".into(),
        "prod.yaml".into(),
    ];
    let p = load(&o).unwrap();
    let web = &p.services["web"];
    assert_eq!(web.entrypoint.as_ref().unwrap().args, ["/prod-entry.sh"]);
    assert!(!web.entrypoint.as_ref().unwrap().from_string);
    assert_eq!(web.dns, ["1.1.1.1", "8.8.8.8"]);
    assert_eq!(
        web.expose
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["9000", "9100"]
    );
    assert_eq!(web.replicas(), 2);
    // Only the base file, for comparison: -f replaces the default lookup.
    o.files = vec!["compose.yaml".into()];
    let base = load(&o).unwrap();
    assert_eq!(base.services["web"].image.as_deref(), Some("web:1"));
    assert_ne!(base.services["web"].config_hash(), web.config_hash());
}

#[test]
fn errors_in_a_later_file_name_that_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.yaml"),
        "services:\n  web:\n    image: busybox\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("over.yaml"),
        "services:\n  web:\n    ports: [\"x:80\"]\n",
    )
    .unwrap();
    let mut o = opts(dir.path(), &[]);
    o.files = vec!["base.yaml".into(), "over.yaml".into()];
    let err = load(&o).unwrap_err().to_string();
    assert!(
        err.starts_with("over.yaml: services.web.ports[0] \"x:80\": host port"),
        "{err}"
    );
}

#[test]
fn dependency_cycle() {
    let p = load(&opts(&fixture("cycle"), &[])).unwrap();
    let err = p.start_order(NONE).unwrap_err().to_string();
    assert_eq!(err, "dependency cycle between services: a -> b -> c -> a: remove one of these depends_on entries");
    assert_eq!(p.start_order(&["d"]).unwrap(), ["d"]);
    let err = p.services_for(&["e"]).unwrap_err().to_string();
    assert_eq!(
        err,
        "no such service: \"e\": the project's services are a, b, c, d"
    );
}

#[test]
fn unknown_keys_are_warnings() {
    let p = load(&opts(&fixture("warnings"), &[])).unwrap();
    assert_eq!(
        p.warnings,
        [
            "compose.yaml: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
            "compose.yaml: colour: unknown key, ignored",
            "compose.yaml: networks.front.drivr: unknown key, ignored",
            "compose.yaml: secrets: not supported by husk yet, ignored",
            "compose.yaml: services.web.colour: unknown key, ignored",
            "compose.yaml: services.web.logging: not supported by husk yet, ignored",
            "compose.yaml: services.web.healthcheck.intervall: unknown key, ignored",
            "compose.yaml: services.web.deploy.placement: not supported by husk yet, ignored",
            "compose.yaml: services.web.deploy.resources.limits.cpu: unknown key, ignored",
        ]
    );
    let web = &p.services["web"];
    assert_eq!(web.restart, Some(Restart::UnlessStopped));
    assert_eq!(
        web.deploy
            .as_ref()
            .unwrap()
            .resources
            .limits
            .as_ref()
            .unwrap()
            .memory,
        Some(64 << 20)
    );
}

#[test]
fn error_fixtures_give_their_one_line_message() {
    let dir = fixture("errors");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 10);
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let expected = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# error: ")
            .unwrap();
        let mut o = opts(&dir, &[]);
        o.files = vec![PathBuf::from(&name)];
        let err = load(&o).map(|_| ()).unwrap_err().to_string();
        assert_eq!(err, expected, "{name:?}");
        assert!(!err.contains('\n'));
    }
}

#[test]
fn project_name_sources_and_normalization() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("My App.v2");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("compose.yaml"),
        "services:\n  web:\n    image: busybox\n",
    )
    .unwrap();
    let name = |o: &LoadOptions| load(o).map(|p| p.name);
    let mut o = opts(&dir, &[]);
    assert_eq!(name(&o).unwrap(), "myappv2");
    std::fs::write(dir.join("compose.yaml"), "name: From-File\nservices: {}\n").unwrap();
    assert_eq!(name(&o).unwrap(), "from-file");
    o.env
        .insert("COMPOSE_PROJECT_NAME".into(), "From_Env".into());
    assert_eq!(name(&o).unwrap(), "from_env");
    o.project_name = Some("-_Flag.Name".into());
    assert_eq!(name(&o).unwrap(), "flagname");
    o.project_name = Some("!!!".into());
    let err = name(&o).unwrap_err().to_string();
    assert_eq!(
        err,
        "project name \"!!!\" has no letter or digit: pass -p NAME, set COMPOSE_PROJECT_NAME or the top-level name:"
    );
    assert_eq!(normalize_project_name("Hello World").unwrap(), "helloworld");
}

#[test]
fn default_files_are_found_in_parents() {
    let root = tempfile::tempdir().unwrap();
    let deep = root.path().join("proj/sub/deeper");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(
        root.path().join("proj/docker-compose.yml"),
        "services:\n  a:\n    image: x\n",
    )
    .unwrap();
    let p = load(&opts(&deep, &[])).unwrap();
    assert_eq!(p.files, [root.path().join("proj/docker-compose.yml")]);
    assert_eq!(p.name, "proj");
    std::fs::write(
        root.path().join("proj/compose.yaml"),
        "services:\n  b:\n    image: x\n",
    )
    .unwrap();
    let p = load(&opts(&deep, &[])).unwrap();
    assert_eq!(p.services.keys().collect::<Vec<_>>(), ["b"]);
    assert_eq!(
        p.warnings,
        ["Found multiple config files with supported names: compose.yaml, docker-compose.yml. Using compose.yaml"]
    );
    let empty = tempfile::tempdir().unwrap();
    let err = load(&opts(empty.path(), &[])).unwrap_err().to_string();
    assert!(err.starts_with("no compose file found in "), "{err}");
    assert!(
        err.ends_with("or its parents: create compose.yaml there or pass -f FILE"),
        "{err}"
    );
}

#[test]
fn compose_file_variable_lists_files() {
    let o = opts(
        &fixture("merge"),
        &[("COMPOSE_FILE", "compose.yaml:prod.yaml")],
    );
    let p = load(&o).unwrap();
    assert_eq!(
        p.files,
        [fixture("merge/compose.yaml"), fixture("merge/prod.yaml")]
    );
    assert_eq!(p.services["web"].image.as_deref(), Some("web:1"));
}

#[test]
fn missing_file_is_a_one_line_error() {
    let mut o = opts(&fixture("app"), &[]);
    o.files = vec!["nope.yaml".into()];
    let err = load(&o).unwrap_err().to_string();
    assert_eq!(err, "nope.yaml: cannot read: No such file or directory (os error 2): check the path and its permissions");
}
