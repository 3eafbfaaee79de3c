//! Credentials against config.json files as docker writes them and a
//! credential helper speaking docker's protocol (a small program of the
//! test's own: Debian's helpers need a desktop keyring).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::*;

fn cred(u: &str, p: &str) -> Credential {
    Credential {
        username: u.into(),
        secret: p.into(),
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// What `docker login` leaves: tab-indented, auth = base64("user:pass").
const DOCKER_WROTE: &str = "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5000\": {\n\t\t\t\"auth\": \"YWxpY2U6czNjcjN0OndpdGg6Y29sb25z\"\n\t\t},\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": \"Ym9iOmh1Yg==\"\n\t\t}\n\t},\n\t\"psFormat\": \"table {{.ID}}\",\n\t\"proxies\": {\n\t\t\"default\": {\n\t\t\t\"httpProxy\": \"http://127.0.0.1:3128\"\n\t\t}\n\t}\n}";

#[test]
fn reads_docker_auths_under_every_name_docker_accepts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), DOCKER_WROTE).unwrap();
    let c = Credentials::at(dir.path());
    for name in [
        "127.0.0.1:5000",
        "http://127.0.0.1:5000/v2/",
        "https://127.0.0.1:5000",
    ] {
        assert_eq!(
            c.get(name).unwrap(),
            Some(cred("alice", "s3cr3t:with:colons")),
            "{name}"
        );
    }
    for name in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
        assert_eq!(c.get(name).unwrap(), Some(cred("bob", "hub")), "{name}");
    }
    assert_eq!(c.get("127.0.0.1:5001").unwrap(), None);
}

#[test]
fn finds_a_legacy_url_key_and_an_identity_token() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"auths":{"http://reg.example:5000/v2/":{"auth":"dTpw"},
            "tok.example":{"auth":"dTo=","identitytoken":"refresh-me"},
            "plain.example":{"username":"x","password":"y"},
            "empty.example":{}}}"#,
    )
    .unwrap();
    let c = Credentials::at(dir.path());
    assert_eq!(c.get("reg.example:5000").unwrap(), Some(cred("u", "p")));
    let t = c.get("tok.example").unwrap().unwrap();
    assert_eq!(t.identity_token(), Some("refresh-me"));
    assert_eq!(c.get("plain.example").unwrap(), Some(cred("x", "y")));
    assert_eq!(c.get("empty.example").unwrap(), None);
}

#[test]
fn missing_config_is_not_logged_in() {
    let dir = tempfile::tempdir().unwrap();
    let c = Credentials::at(&dir.path().join("nothing-here"));
    assert_eq!(c.get("docker.io").unwrap(), None);
    assert!(!c.erase("docker.io").unwrap());
    assert!(!dir.path().join("nothing-here/config.json").exists());
}

#[test]
fn store_keeps_every_other_key_and_writes_0600_in_a_0700_dir() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("docker");
    let c = Credentials::at(&cfg);
    c.store("127.0.0.1:5000", &cred("alice", "pw")).unwrap();
    assert_eq!(mode(&cfg), 0o700);
    assert_eq!(mode(&cfg.join("config.json")), 0o600);
    assert_eq!(
        std::fs::read_to_string(cfg.join("config.json")).unwrap(),
        "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5000\": {\n\t\t\t\"auth\": \"YWxpY2U6cHc=\"\n\t\t}\n\t}\n}"
    );

    std::fs::write(cfg.join("config.json"), DOCKER_WROTE).unwrap();
    let before = json(&cfg.join("config.json"));
    c.store("docker.io", &cred("carol", "new")).unwrap();
    let after = json(&cfg.join("config.json"));
    assert_eq!(after["psFormat"], before["psFormat"]);
    assert_eq!(after["proxies"], before["proxies"]);
    assert_eq!(
        after["auths"]["127.0.0.1:5000"],
        before["auths"]["127.0.0.1:5000"]
    );
    let keys: Vec<_> = after.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["auths", "psFormat", "proxies"], "order kept");
    assert_eq!(c.get("docker.io").unwrap(), Some(cred("carol", "new")));
    assert_eq!(
        after["auths"][DOCKER_HUB_KEY]["auth"],
        serde_json::json!("Y2Fyb2w6bmV3")
    );
}

#[test]
fn a_new_password_replaces_an_old_identity_token() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"auths":{"reg.example":{"auth":"dTo=","identitytoken":"old"}}}"#,
    )
    .unwrap();
    let c = Credentials::at(dir.path());
    c.store("reg.example", &cred("u", "fresh")).unwrap();
    assert_eq!(c.get("reg.example").unwrap(), Some(cred("u", "fresh")));
}

#[test]
fn erase_removes_every_variant_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("config.json");
    std::fs::write(
        &p,
        r#"{"auths":{"reg.example:5000":{"auth":"dTpw"},"https://reg.example:5000":{"auth":"dTpw"},
            "other.example":{"auth":"dTpw"}},"detachKeys":"ctrl-x"}"#,
    )
    .unwrap();
    let c = Credentials::at(dir.path());
    assert!(c.erase("reg.example:5000").unwrap());
    let after = json(&p);
    assert_eq!(
        after,
        serde_json::json!({"auths":{"other.example":{"auth":"dTpw"}},"detachKeys":"ctrl-x"})
    );
    assert_eq!(c.get("reg.example:5000").unwrap(), None);
    let bytes = std::fs::read(&p).unwrap();
    assert!(!c.erase("reg.example:5000").unwrap());
    assert_eq!(std::fs::read(&p).unwrap(), bytes, "nothing rewritten");
}

#[test]
fn writes_through_a_symlinked_config() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("dotfiles");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("docker.json"), r#"{"psFormat":"x"}"#).unwrap();
    let cfg = dir.path().join("cfg");
    std::fs::create_dir(&cfg).unwrap();
    std::os::unix::fs::symlink("../dotfiles/docker.json", cfg.join("config.json")).unwrap();
    Credentials::at(&cfg)
        .store("reg.example", &cred("u", "p"))
        .unwrap();
    assert!(cfg
        .join("config.json")
        .symlink_metadata()
        .unwrap()
        .is_symlink());
    let v = json(&real.join("docker.json"));
    assert_eq!(v["psFormat"], "x");
    assert_eq!(v["auths"]["reg.example"]["auth"], "dTpw");
}

#[test]
fn broken_config_is_a_one_line_error_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("config.json");
    std::fs::write(&p, "{\"auths\": {").unwrap();
    let c = Credentials::at(dir.path());
    let e = c.get("docker.io").unwrap_err().to_string();
    assert!(
        e.contains("config.json") && e.contains("fix the JSON"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    assert!(c.store("docker.io", &cred("u", "p")).is_err());
    assert_eq!(std::fs::read(&p).unwrap(), b"{\"auths\": {");

    std::fs::write(&p, r#"{"auths":{"reg.example":{"auth":"!!notbase64"}}}"#).unwrap();
    let e = c.get("reg.example").unwrap_err().to_string();
    assert!(e.contains("log in to reg.example again"), "{e}");
    std::fs::write(&p, r#"{"auths":[]}"#).unwrap();
    let e = c.get("reg.example").unwrap_err().to_string();
    assert!(e.contains("auths has the wrong type"), "{e}");
}

/// A credential helper speaking docker's protocol, keeping what it is
/// given in a JSON file beside it and logging each call (op and stdin).
const HELPER: &str = r#"#!/usr/bin/python3
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
db_path = os.path.join(here, "keychain.json")
db = json.load(open(db_path)) if os.path.exists(db_path) else {}
op = sys.argv[1]
data = sys.stdin.read()
with open(os.path.join(here, "calls.log"), "a") as log:
    log.write(op + " " + data.strip() + "\n")
def save():
    json.dump(db, open(db_path, "w"))
if op == "store":
    c = json.loads(data)
    if not c.get("ServerURL"):
        print("no credentials server URL"); sys.exit(1)
    db[c["ServerURL"]] = [c["Username"], c["Secret"]]
    save()
elif op in ("get", "erase"):
    if data not in db:
        print("credentials not found in native keychain"); sys.exit(1)
    if op == "get":
        u, s = db[data]
        print(json.dumps({"ServerURL": data, "Username": u, "Secret": s}))
    else:
        del db[data]; save()
elif op == "list":
    print(json.dumps({k: v[0] for k, v in db.items()}))
else:
    print("unknown op"); sys.exit(1)
"#;

fn helper_dir(name: &str) -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    let p = bin.path().join(format!("docker-credential-{name}"));
    std::fs::write(&p, HELPER).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn creds_store_keeps_the_secret_in_the_helper_and_marks_auths() {
    let bin = helper_dir("testkeys");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("config.json");
    std::fs::write(&p, "{\n\t\"auths\": {},\n\t\"credsStore\": \"testkeys\"\n}").unwrap();
    let c = Credentials::at(dir.path()).with_helper_path(bin.path());

    assert_eq!(
        c.get("docker.io").unwrap(),
        None,
        "not found is not an error"
    );
    c.store("docker.io", &cred("alice", "pw")).unwrap();
    c.store("127.0.0.1:5000", &cred(Credential::TOKEN_USERNAME, "idtok"))
        .unwrap();
    let v = json(&p);
    assert_eq!(v["credsStore"], "testkeys");
    assert_eq!(v["auths"][DOCKER_HUB_KEY], serde_json::json!({}));
    assert_eq!(v["auths"]["127.0.0.1:5000"], serde_json::json!({}));
    assert!(!std::fs::read_to_string(&p).unwrap().contains("pw"));

    assert_eq!(c.get("index.docker.io").unwrap(), Some(cred("alice", "pw")));
    let t = c.get("127.0.0.1:5000").unwrap().unwrap();
    assert_eq!(t.identity_token(), Some("idtok"));

    let log = std::fs::read_to_string(bin.path().join("calls.log")).unwrap();
    assert!(
        log.contains(&format!("get {DOCKER_HUB_KEY}\n")),
        "docker hub asked by its key: {log}"
    );
    assert!(log.contains(
        r#"store {"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"pw"}"#
    ));

    assert!(c.erase("docker.io").unwrap());
    assert_eq!(c.get("docker.io").unwrap(), None);
    assert!(json(&p)["auths"].get(DOCKER_HUB_KEY).is_none());
    assert!(!c.erase("docker.io").unwrap());
}

#[test]
fn cred_helpers_per_registry_win_over_creds_store() {
    let store_bin = helper_dir("general");
    let special_bin = helper_dir("special");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"credsStore":"general","credHelpers":{"special.example":"special"}}"#,
    )
    .unwrap();
    let path = std::env::join_paths([store_bin.path(), special_bin.path()]).unwrap();
    let c = Credentials::at(dir.path()).with_helper_path(path);
    c.store("special.example", &cred("s", "1")).unwrap();
    c.store("other.example", &cred("o", "2")).unwrap();
    let special = std::fs::read_to_string(special_bin.path().join("keychain.json")).unwrap();
    let general = std::fs::read_to_string(store_bin.path().join("keychain.json")).unwrap();
    assert!(special.contains("special.example") && !special.contains("other.example"));
    assert!(general.contains("other.example") && !general.contains("special.example"));
    assert_eq!(
        c.get("https://special.example").unwrap(),
        Some(cred("s", "1"))
    );
}

#[test]
fn a_missing_or_failing_helper_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("config.json");
    std::fs::write(&p, r#"{"credsStore":"nonesuch"}"#).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let c = Credentials::at(dir.path()).with_helper_path(empty.path());
    let e = c
        .store("reg.example", &cred("u", "p"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("docker-credential-nonesuch not found in PATH")
            && e.contains("remove the setting"),
        "{e}"
    );
    assert_eq!(std::fs::read(&p).unwrap(), br#"{"credsStore":"nonesuch"}"#);

    std::fs::write(&p, r#"{"credsStore":"../../bin/sh"}"#).unwrap();
    let e = c.get("reg.example").unwrap_err().to_string();
    assert!(e.contains("is not a name"), "{e}");

    let bin = tempfile::tempdir().unwrap();
    let h = bin.path().join("docker-credential-broken");
    std::fs::write(&h, "#!/bin/sh\necho 'keyring is locked'\nexit 1\n").unwrap();
    std::fs::set_permissions(&h, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(&p, r#"{"credsStore":"broken"}"#).unwrap();
    let c = Credentials::at(dir.path()).with_helper_path(bin.path());
    let e = c.get("reg.example").unwrap_err().to_string();
    assert_eq!(
        e,
        "docker-credential-broken get for reg.example: keyring is locked: check the credential helper"
    );
}
