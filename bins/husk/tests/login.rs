//! `husk login`/`logout` against real registries (htpasswd basic auth and
//! a token server, as Docker Hub), credentials in docker's config.json
//! shared both ways with the docker CLI, a credential helper speaking
//! docker's protocol, and `push` using what login stored.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Output, Stdio};

use common::*;
use husk_fixtures::registry::{Dockerd, Registry};

fn busybox_tar(dir: &Path) -> std::path::PathBuf {
    let rootfs = dir.join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let tar = dir.join("busybox.tar");
    tar_dir(&rootfs, &tar, &[]);
    tar
}

/// `husk ARGS` with docker's config in `config` and `stdin` fed in.
fn husk_with(h: &Husk, config: &Path, args: &[&str], stdin: &str, path: Option<&Path>) -> Output {
    let mut c = h.cmd(args);
    c.env("DOCKER_CONFIG", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = path {
        let old = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![p.to_path_buf()];
        dirs.extend(std::env::split_paths(&old));
        c.env("PATH", std::env::join_paths(dirs).unwrap());
    }
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn config_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap()
}

/// Login checked against the registry, kept in config.json as docker
/// keeps it, used by push; bad credentials change nothing; logout.
fn login_push_logout(reg: &Registry) {
    let (user, pass) = reg.credentials().unwrap();
    let work = tempdir();
    let config = work.path().join("docker");
    let h = Husk::new();
    let host = reg.host();
    let name = format!("{host}/private/bb:v1");
    h.ok(&["import", busybox_tar(work.path()).to_str().unwrap(), &name]);

    // Not logged in: the push is refused in one line naming login.
    let out = husk_with(&h, &config, &["push", &name], "", None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.ends_with(&format!(
            "push access denied for private/bb: log in with 'husk login {host}' as a user who may push there\n"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // Wrong password: one line, nothing stored.
    let out = husk_with(
        &h,
        &config,
        &["login", "-u", user, "-p", "wrong", &host],
        "",
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = text(&out.stderr);
    assert_eq!(
        err,
        format!(
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n\
             husk: login to {host} failed: the registry refused the user name or password: check them and log in again\n"
        )
    );
    assert!(!config.join("config.json").exists(), "nothing stored");

    let out = husk_with(
        &h,
        &config,
        &["login", "-u", user, "--password-stdin", &host],
        &format!("{pass}\n"),
        None,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), "Login Succeeded\n");
    assert!(text(&out.stderr).starts_with("WARNING! Your credentials are stored unencrypted in '"));
    let v = config_json(&config);
    let entry = if is_token(reg) {
        // The token server's refresh token is kept, not the password.
        let token = v["auths"][host.as_str()]["identitytoken"].clone();
        assert!(token.as_str().is_some_and(|t| t.len() > 10), "{v}");
        assert!(!v.to_string().contains(pass), "{v}");
        serde_json::json!({ "identitytoken": token })
    } else {
        serde_json::json!({ "auth": base64_of(&format!("{user}:{pass}")) })
    };
    assert_eq!(v, serde_json::json!({"auths": {host.clone(): entry}}));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&config.join("config.json")), 0o600);
    assert_eq!(mode(&config), 0o700);

    // A failed login leaves the good one alone.
    let before = std::fs::read(config.join("config.json")).unwrap();
    let out = husk_with(
        &h,
        &config,
        &["login", "-u", user, "--password-stdin", &host],
        "nope",
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(std::fs::read(config.join("config.json")).unwrap(), before);

    // Logged in: push works with what login stored.
    let out = husk_with(&h, &config, &["push", &name], "", None);
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).contains(": Pushed\n"), "{out:?}");
    let digest = digest_of_push(&text(&out.stdout));
    assert_eq!(
        reg.manifest_raw("private/bb:v1"),
        std::fs::read(h.root().join("blobs/sha256").join(&digest)).unwrap()
    );

    let out = husk_with(&h, &config, &["logout", &host], "", None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        format!("Removing login credentials for {host}\n")
    );
    assert_eq!(config_json(&config), serde_json::json!({"auths": {}}));
    let out = husk_with(&h, &config, &["logout", &host], "", None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), format!("Not logged in to {host}\n"));
}

fn is_token(reg: &Registry) -> bool {
    matches!(reg.auth(), husk_fixtures::registry::Auth::Token(_))
}

fn digest_of_push(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.contains(": digest: sha256:"))
        .unwrap();
    line.split("sha256:")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string()
}

fn base64_of(s: &str) -> String {
    let out = std::process::Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(s.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn login_push_logout_with_htpasswd() {
    husk_fixtures::require_root!("login_push_logout_with_htpasswd");
    login_push_logout(&Registry::start_basic("alice", "s3cret:x"));
}

#[test]
fn login_push_logout_with_a_token_server() {
    husk_fixtures::require_root!("login_push_logout_with_a_token_server");
    let reg = Registry::start_token("bob", "hunter2");
    login_push_logout(&reg);
    let asked = reg.token_server().requests();
    assert!(
        asked.iter().any(|r| r.status == 200
            && r.user.as_deref() == Some("bob")
            && r.granted
                .iter()
                .any(|g| g == "repository:private/bb:pull,push")),
        "push asked for pull,push with bob's credentials: {asked:?}"
    );
    let push_tokens = asked
        .iter()
        .filter(|r| r.status == 200 && r.scopes == ["repository:private/bb:pull,push"])
        .count();
    assert_eq!(
        push_tokens, 1,
        "one push token shared by the upload threads: {asked:?}"
    );
    assert!(
        asked
            .iter()
            .any(|r| r.status == 401 && r.user.as_deref() == Some("bob")),
        "the bad password reached the token server and was refused: {asked:?}"
    );
}

#[test]
fn login_flag_errors_are_docker_s() {
    let h = Husk::new();
    let work = tempdir();
    let config = work.path().join("docker");
    let out = husk_with(
        &h,
        &config,
        &["login", "--password-stdin", "127.0.0.1:1"],
        "pw",
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "husk: Must provide --username with --password-stdin\n"
    );
    let out = husk_with(&h, &config, &["login", "127.0.0.1:1"], "", None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "husk: Cannot perform an interactive login from a non TTY device: give -u USER and --password-stdin\n"
    );
    let out = husk_with(
        &h,
        &config,
        &[
            "login",
            "-u",
            "x",
            "-p",
            "y",
            "--password-stdin",
            "127.0.0.1:1",
        ],
        "pw",
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).ends_with(
        "husk: --password and --password-stdin are mutually exclusive: give one of them\n"
    ));
    let out = husk_with(&h, &config, &["logout"], "", None);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        "Not logged in to https://index.docker.io/v1/\n"
    );
    assert!(!config.join("config.json").exists());
}

/// docker's CLI and husk read each other's logins: docker login, husk
/// push; husk login, docker pull and run of what husk pushed.
#[test]
fn docker_and_husk_share_logins_and_images() {
    husk_fixtures::require_root!("docker_and_husk_share_logins_and_images");
    let reg = Registry::start_basic("carol", "pw1");
    let dk = Dockerd::start();
    let config = dk.config_dir();
    let work = tempdir();
    let h = Husk::new();
    let host = reg.host();
    let name = format!("{host}/shared/bb:v1");
    h.ok(&["import", busybox_tar(work.path()).to_str().unwrap(), &name]);

    // docker writes config.json, husk pushes with it.
    dk.docker_ok(&["login", "-u", "carol", "-p", "pw1", &host]);
    let out = husk_with(&h, &config, &["push", &name], "", None);
    assert!(out.status.success(), "{out:?}");

    // husk logs out and in again (docker's file, rewritten by husk).
    let out = husk_with(&h, &config, &["logout", &host], "", None);
    assert_eq!(
        text(&out.stdout),
        format!("Removing login credentials for {host}\n")
    );
    let denied = dk.docker(&["pull", &name]);
    assert!(!denied.status.success(), "docker sees the logout");
    let out = husk_with(
        &h,
        &config,
        &["login", "-u", "carol", "--password-stdin", &host],
        "pw1\n",
        None,
    );
    assert!(out.status.success(), "{out:?}");

    // docker pulls and runs what husk pushed, logged in by husk.
    let pulled = dk.pull(&name);
    let digest = digest_of_push(&text(
        &husk_with(&h, &config, &["push", &name], "", None).stdout,
    ));
    assert!(pulled.contains(&format!("sha256:{digest}")), "{pulled}");
    let ran = dk.run(&name, &["cat", "/etc/passwd"]);
    assert!(ran.contains("root:"), "{ran}");
}

/// A credential helper (docker's protocol; Debian's need a desktop
/// keyring) keeps the secret: config.json only marks the login.
const HELPER: &str = r#"#!/usr/bin/python3
import json, os, sys
db_path = os.environ["HELPER_DB"]
db = json.load(open(db_path)) if os.path.exists(db_path) else {}
op, data = sys.argv[1], sys.stdin.read()
open(db_path + ".log", "a").write(op + "\n")
if op == "store":
    c = json.loads(data); db[c["ServerURL"]] = [c["Username"], c["Secret"]]
    json.dump(db, open(db_path, "w"))
elif op in ("get", "erase"):
    if data not in db:
        print("credentials not found in native keychain"); sys.exit(1)
    if op == "get":
        print(json.dumps({"ServerURL": data, "Username": db[data][0], "Secret": db[data][1]}))
    else:
        del db[data]; json.dump(db, open(db_path, "w"))
"#;

#[test]
fn creds_store_helper_keeps_the_secret() {
    husk_fixtures::require_root!("creds_store_helper_keeps_the_secret");
    let reg = Registry::start_basic("dave", "pw2");
    let work = tempdir();
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let helper = bin.join("docker-credential-hsktest");
    std::fs::write(&helper, HELPER).unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = work.path().join("docker");
    std::fs::create_dir(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        "{\n\t\"credsStore\": \"hsktest\",\n\t\"psFormat\": \"table {{.ID}}\"\n}",
    )
    .unwrap();
    let db = work.path().join("keychain.json");
    let h = Husk::new();
    let host = reg.host();
    let run = |args: &[&str], stdin: &str| {
        let mut c = h.cmd(args);
        c.env("DOCKER_CONFIG", &config).env("HELPER_DB", &db);
        let old = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin.clone()];
        dirs.extend(std::env::split_paths(&old));
        c.env("PATH", std::env::join_paths(dirs).unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&["login", "-u", "dave", "--password-stdin", &host], "pw2");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), "Login Succeeded\n");
    assert_eq!(text(&out.stderr), "", "no plain-text warning with a helper");
    assert_eq!(
        config_json(&config),
        serde_json::json!({"credsStore": "hsktest", "psFormat": "table {{.ID}}", "auths": {host.clone(): {}}})
    );
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&db).unwrap()).unwrap();
    assert_eq!(kept, serde_json::json!({host.clone(): ["dave", "pw2"]}));

    let name = format!("{host}/helped:v1");
    h.ok(&["import", busybox_tar(work.path()).to_str().unwrap(), &name]);
    let calls = || std::fs::read_to_string(work.path().join("keychain.json.log")).unwrap();
    let before = calls().lines().count();
    let out = run(&["push", &name], "");
    assert!(
        out.status.success(),
        "push with the helper's secret: {out:?}"
    );
    // Asked once for the whole push, not once per request.
    assert_eq!(calls().lines().skip(before).collect::<Vec<_>>(), ["get"]);

    let out = run(&["logout", &host], "");
    assert_eq!(
        text(&out.stdout),
        format!("Removing login credentials for {host}\n")
    );
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&db).unwrap()).unwrap();
    assert_eq!(kept, serde_json::json!({}));
    assert_eq!(
        config_json(&config),
        serde_json::json!({"credsStore": "hsktest", "psFormat": "table {{.ID}}", "auths": {}})
    );
}

/// A pulled image pushed to another repository of the same token-auth
/// registry: every blob mounted with one token for push here and pull
/// there, and the manifest goes up unchanged (same digest as pulled).
#[test]
fn pulled_image_mounts_into_another_repository_with_a_token() {
    husk_fixtures::require_root!("pulled_image_mounts_into_another_repository_with_a_token");
    let reg = Registry::start_token("erin", "pw3");
    let seeded = reg.push_busybox("library/busybox:latest", 3);
    let work = tempdir();
    let config = work.path().join("docker");
    let h = Husk::new();
    let host = reg.host();
    let src = format!("{host}/library/busybox:latest");
    let out = husk_with(&h, &config, &["pull", &src], "", None);
    assert!(out.status.success(), "{out:?}");
    let dst = format!("{host}/erin/bb:copy");
    h.ok(&["tag", &src, &dst]);
    let out = husk_with(
        &h,
        &config,
        &["login", "-u", "erin", "--password-stdin", &host],
        "pw3",
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let out = husk_with(&h, &config, &["push", &dst], "", None);
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    let mounted = stdout
        .lines()
        .filter(|l| l.ends_with(": Mounted from library/busybox"))
        .count();
    assert_eq!(mounted, 3, "{stdout}");
    assert!(!stdout.contains(": Pushed"), "{stdout}");
    assert_eq!(
        digest_of_push(&stdout),
        seeded.trim_start_matches("sha256:")
    );
    assert_eq!(
        reg.manifest_raw("erin/bb:copy"),
        reg.manifest_raw("library/busybox:latest")
    );
    let asked = reg.token_server().requests();
    assert!(
        asked.iter().any(|r| r.status == 200
            && r.scopes.iter().any(|s| s == "repository:erin/bb:pull,push")
            && r.scopes
                .iter()
                .any(|s| s == "repository:library/busybox:pull")),
        "one token for both repositories: {asked:?}"
    );
}

/// `docker login` to a token registry keeps an identity token (the token
/// server's refresh token), not the password: husk pushes with it.
#[test]
fn docker_identity_token_logs_husk_in() {
    husk_fixtures::require_root!("docker_identity_token_logs_husk_in");
    let reg = Registry::start_token("frank", "pw4");
    let dk = Dockerd::start();
    let config = dk.config_dir();
    let host = reg.host();
    dk.docker_ok(&["login", "-u", "frank", "-p", "pw4", &host]);
    let v = config_json(&config);
    let entry = &v["auths"][host.as_str()];
    assert!(
        entry["identitytoken"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "docker kept an identity token: {v}"
    );
    let work = tempdir();
    let h = Husk::new();
    let name = format!("{host}/frank/bb:v1");
    h.ok(&["import", busybox_tar(work.path()).to_str().unwrap(), &name]);
    let out = husk_with(&h, &config, &["push", &name], "", None);
    assert!(out.status.success(), "{out:?}");
    let asked = reg.token_server().requests();
    assert!(
        asked
            .iter()
            .any(|r| r.grant_type.as_deref() == Some("refresh_token")
                && r.status == 200
                && r.user.as_deref() == Some("frank")
                && r.granted
                    .iter()
                    .any(|g| g == "repository:frank/bb:pull,push")),
        "husk traded the identity token for a push token: {asked:?}"
    );

    // husk's own login keeps an identity token too, which docker uses.
    let out = husk_with(&h, &config, &["logout", &host], "", None);
    assert!(out.status.success(), "{out:?}");
    let out = husk_with(
        &h,
        &config,
        &["login", "-u", "frank", "--password-stdin", &host],
        "pw4",
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let v = config_json(&config);
    assert!(
        v["auths"][host.as_str()]["identitytoken"].is_string(),
        "{v}"
    );
    assert!(!v.to_string().contains("pw4"), "{v}");
    let pulled = dk.pull(&name);
    assert!(
        pulled.contains("Downloaded newer image") || pulled.contains("Image is up to date"),
        "{pulled}"
    );
    let ran = dk.run(&name, &["cat", "/etc/passwd"]);
    assert!(ran.contains("root:"), "{ran}");
}

/// At a terminal: docker's prompts, the password not echoed, then the
/// stored credentials tried first by the next plain `login`.
#[test]
fn login_prompts_at_a_terminal_without_echo() {
    husk_fixtures::require_root!("login_prompts_at_a_terminal_without_echo");
    let reg = Registry::start_basic("gina", "pw-at-tty");
    let work = tempdir();
    let config = work.path().join("docker");
    let h = Husk::new();
    let host = reg.host();
    let mut c = h.cmd(&["login", &host]);
    c.env("DOCKER_CONFIG", &config);
    let mut t = husk_fixtures::Terminal::spawn(c, 24, 80);
    t.expect("Username: ");
    t.type_(b"gina\n");
    t.expect("Password: ");
    t.type_(b"pw-at-tty\n");
    assert!(t.wait().success(), "{}", t.text());
    let shown = t.text();
    assert!(shown.contains("Login Succeeded"), "{shown}");
    assert!(
        !shown.contains("pw-at-tty"),
        "the password was echoed: {shown}"
    );
    assert!(config_json(&config)["auths"][host.as_str()]["auth"].is_string());

    let mut c = h.cmd(&["login", &host]);
    c.env("DOCKER_CONFIG", &config);
    let mut t = husk_fixtures::Terminal::spawn(c, 24, 80);
    assert!(t.wait().success(), "{}", t.text());
    let shown = t.text().replace('\r', "");
    assert!(
        shown.starts_with("Authenticating with existing credentials... [Username: gina]\n"),
        "{shown}"
    );
    assert!(shown.ends_with("Login Succeeded\n"), "{shown}");
    assert!(!shown.contains("Password:"), "{shown}");
}
