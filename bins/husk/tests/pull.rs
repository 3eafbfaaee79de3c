//! `husk pull` against Debian's docker-registry on 127.0.0.1 (started by
//! the test, stopped by PID on drop), seeded by skopeo.

mod common;

use common::puller::Puller;
use common::*;
use husk_fixtures::registry::{Compression, Format, Registry, Seed};

/// A dead mirror first (nothing listens on port 1), then the registry:
/// mirrors are tried in order.
fn mirror_config(reg: &Registry) -> String {
    format!(
        "[registry]\nregistry_mirrors = [\"http://127.0.0.1:1\", \"{}\"]\n",
        reg.url()
    )
}

#[test]
fn pull_busybox_through_a_mirror_like_docker() {
    husk_fixtures::require_root!("pull_busybox_through_a_mirror_like_docker");
    let reg = Registry::start_http();
    let digest = reg.push_busybox("library/busybox:latest", 3);
    let p = Puller::new(&mirror_config(&reg));
    let out = p.ok(&["pull", "busybox"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Using default tag: latest", "{out}");
    assert_eq!(lines[1], "latest: Pulling from library/busybox", "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.ends_with(": Pull complete"))
            .count(),
        3,
        "{out}"
    );
    assert!(out.contains(&format!("\nDigest: {digest}\n")), "{out}");
    assert!(
        out.contains("\nStatus: Downloaded newer image for busybox:latest\n"),
        "{out}"
    );
    assert_eq!(
        lines.last(),
        Some(&"docker.io/library/busybox:latest"),
        "{out}"
    );
    p.assert_images(&["busybox:latest"]);
    // Stored byte for byte: the manifest digest is the registry's.
    assert_eq!(
        p.ok(&["images", "--digests", "--format", "{{.Digest}}"])
            .trim(),
        digest
    );

    assert_eq!(
        p.h.inspect("busybox")["RepoDigests"],
        serde_json::json!([format!("busybox@{digest}")])
    );

    let again = p.ok(&["pull", "busybox:latest"]);
    assert!(
        again.contains("Status: Image is up to date for busybox:latest"),
        "{again}"
    );
    assert!(!again.contains("Pull complete"), "{again}");
    assert_eq!(
        p.ok(&["pull", "-q", "busybox"]),
        "docker.io/library/busybox:latest\n"
    );

    // -a: every tag of the repository.
    reg.push("library/busybox:1.36", &Seed::busybox(1).marker("old"));
    let out = p.ok(&["pull", "-a", "busybox"]);
    assert!(
        out.contains("1.36: Pulling from library/busybox\n"),
        "{out}"
    );
    assert!(out.ends_with("\ndocker.io/library/busybox\n"), "{out}");
    p.assert_images(&["busybox:1.36", "busybox:latest"]);

    // rmi by name removes a pulled image whole (its RepoDigest with it).
    let out = p.ok(&["rmi", "busybox", "busybox:1.36"]);
    assert!(
        out.contains("Untagged: busybox:latest") && out.contains("Deleted: sha256:"),
        "{out}"
    );
    p.assert_images(&[]);
    assert_eq!(p.h.count("blobs/sha256"), 0);
    assert_eq!(p.h.count("layers"), 0);
}

/// An engine (busybox imported, containers allowed) whose commands run in
/// the host's network namespace, where the test registry listens.
fn host_cmd(e: &engine::Engine, args: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_husk"));
    c.arg("--root")
        .arg(e.root.path())
        .arg("--runroot")
        .arg(e.runroot.path())
        .arg("--config")
        .arg(e.config_path())
        .args(args)
        .stdin(std::process::Stdio::null());
    husk_fixtures::output_via_files(&mut c)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// TLS with a client certificate, both from certs.d beside config.toml;
/// `run` pulls the missing image by tag and by digest, then runs it.
#[test]
fn run_pulls_from_a_tls_registry_by_tag_and_digest() {
    husk_fixtures::require_root!("run_pulls_from_a_tls_registry_by_tag_and_digest");
    let reg = Registry::start_with(husk_fixtures::registry::Options {
        tls: true,
        client_certs: true,
        ..Default::default()
    });
    let digest = reg.push("x/bb:1", &Seed::busybox(2).marker("TLS"));
    let e = engine::Engine::new();
    let image = format!("{}/x/bb:1", reg.host());

    // Without the CA the handshake fails: one line, run's 125, nothing stored.
    let out = host_cmd(
        &e,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            &image,
            "cat",
            "/etc/marker",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(
        err.starts_with(&format!("Unable to find image '{image}' locally\n")),
        "{err}"
    );
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.contains(&format!("TLS with registry {} failed", reg.host())),
        "{err}"
    );
    assert!(last.contains("certs.d"), "{err}");

    let certs = e.root.path().join("certs.d").join(reg.host());
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(reg.ca_cert(), certs.join("ca.crt")).unwrap();
    std::fs::copy(reg.client_cert(), certs.join("client.cert")).unwrap();
    std::fs::copy(reg.client_key(), certs.join("client.key")).unwrap();
    let out = host_cmd(
        &e,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            &image,
            "cat",
            "/etc/marker",
        ],
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(text(&out.stdout).trim(), "TLS amd64");
    assert!(err.contains("1: Pulling from x/bb\n"), "{err}");
    assert!(
        err.contains(&format!("Status: Downloaded newer image for {image}\n")),
        "{err}"
    );

    // Present now: no pull, no line about it.
    let out = host_cmd(&e, &["run", "--rm", "--network", "none", &image, "true"]);
    assert!(out.status.success());
    assert!(
        !text(&out.stderr).contains("Unable to find"),
        "{}",
        text(&out.stderr)
    );

    // By digest: found again by that reference once pulled.
    let pinned = format!("{}/x/bb@{digest}", reg.host());
    let out = host_cmd(&e, &["pull", &pinned]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("{digest}: Pulling from x/bb\n")),
        "{stdout}"
    );
    assert!(stdout.ends_with(&format!("\n{pinned}\n")), "{stdout}");
    let out = host_cmd(
        &e,
        &[
            "run",
            "--rm",
            "--pull",
            "never",
            "--network",
            "none",
            &pinned,
            "cat",
            "/etc/marker",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "TLS amd64");
    assert_consistent_store(e.root.path());
}

fn assert_consistent_store(root: &std::path::Path) {
    assert_store_consistent(root);
}

/// Docker Hub's flow: a 401 with a Bearer challenge, an anonymous token
/// from the token server, used for every request of the pull (cached per
/// scope), by an OCI image with zstd layers.
#[test]
fn token_auth_anonymous_pull_caches_the_token() {
    husk_fixtures::require_root!("token_auth_anonymous_pull_caches_the_token");
    let reg = Registry::start_token("alice", "secret");
    reg.push(
        "team/app:v1",
        &Seed::busybox(3)
            .format(Format::Oci)
            .compression(Compression::Zstd),
    );
    let p = Puller::new("");
    let image = format!("{}/team/app:v1", reg.host());
    p.ok(&["pull", &image]);
    p.assert_images(&[&format!("{}/team/app:v1", reg.host())]);
    // skopeo's push asked first, as alice; husk asks anonymously.
    let asked: Vec<_> = reg
        .token_server()
        .requests()
        .into_iter()
        .filter(|r| r.user.is_none())
        .collect();
    assert_eq!(
        asked.len(),
        1,
        "one token for manifest, config and 3 layers: {asked:?}"
    );
    assert_eq!(
        asked[0].scopes,
        vec!["repository:team/app:pull".to_string()]
    );
    assert_eq!(asked[0].status, 200);
}

#[test]
fn multi_arch_index_selects_the_platform() {
    husk_fixtures::require_root!("multi_arch_index_selects_the_platform");
    let reg = Registry::start_http();
    let index = reg.push_index("multi/bb:latest", &Seed::busybox(2), &["amd64", "arm64"]);
    let p = Puller::new("");
    let image = format!("{}/multi/bb", reg.host());
    let out = p.ok(&["pull", &image]);
    assert!(out.contains(&format!("Digest: {index}\n")), "{out}");
    assert_eq!(p.h.inspect(&image)["Architecture"], "amd64");
    let out = p.ok(&["pull", "--platform", "linux/arm64", &image]);
    assert!(out.contains("Status: Downloaded newer image for"), "{out}");
    assert_eq!(p.h.inspect(&image)["Architecture"], "arm64");

    let err = p.fails(&["pull", "--platform", "linux/s390x", &image]);
    assert!(
        err.contains("no matching manifest for linux/s390x in the manifest list entries")
            && err.contains("linux/amd64, linux/arm64")
            && err.contains("--platform"),
        "{err}"
    );
    let err = p.fails(&["pull", "--platform", "linux/vax", &image]);
    assert!(
        err.contains("invalid platform \"linux/vax\": use OS/ARCH[/VARIANT]"),
        "{err}"
    );
    p.assert_images(&[&format!("{image}:latest")]);

    // By the index's digest alone: listed untagged, as docker lists it.
    let q = Puller::new("");
    let pinned = format!("{image}@{index}");
    let out = q.ok(&["pull", &pinned]);
    assert!(out.ends_with(&format!("\n{pinned}\n")), "{out}");
    q.assert_images(&[&format!("{image}:<none>")]);
    assert_eq!(
        q.ok(&["images", "--digests", "--format", "{{.Digest}}"])
            .trim(),
        index
    );
    assert_eq!(q.h.inspect(&pinned)["Architecture"], "amd64");
}

#[test]
fn bad_references_are_one_line_errors() {
    husk_fixtures::require_root!("bad_references_are_one_line_errors");
    let p = Puller::new("");
    for bad in ["Busy Box", "busybox@sha256:123", "busybox:-x", "a//b"] {
        let err = p.fails(&["pull", bad]);
        assert!(
            err.starts_with("husk: invalid reference format"),
            "{bad}: {err}"
        );
    }
    let e = p.run(&["run", "--rm", "Busy:Box:x"]);
    assert_eq!(e.status.code(), Some(125), "{}", text(&e.stderr));
    p.assert_images(&[]);
}

/// htpasswd basic auth with the credentials docker's config.json holds,
/// and blobs redirected to "blob storage" on another host (127.0.0.2):
/// the registry's Authorization must not follow them there.
#[test]
fn basic_auth_and_redirects_that_drop_credentials() {
    husk_fixtures::require_root!("basic_auth_and_redirects_that_drop_credentials");
    use husk_fixtures::registry::{BlobStore, Fault, FaultProxy};
    let reg = Registry::start_basic("alice", "s3cret");
    reg.push("x/bb:1", &Seed::busybox(2));
    let blobs = BlobStore::start(&reg.storage());
    let proxy = FaultProxy::start(&reg.addr(), Fault::RedirectBlobs { to: blobs.url() });
    let host = proxy.host();
    let image = format!("{host}/x/bb:1");
    let p = Puller::new("");

    let err = p.fails(&["pull", &image]);
    assert!(
        err.contains("pull access denied for x/bb")
            && err.contains(&format!("'husk login {host}'")),
        "{err}"
    );
    p.login(&host, "alice", "wrong");
    let err = p.fails(&["pull", &image]);
    assert!(
        err.contains(&format!("refused the credentials for {host}")),
        "{err}"
    );
    p.assert_images(&[]);

    p.login(&host, "alice", "s3cret");
    p.ok(&["pull", &image]);
    p.assert_images(&[&image]);
    let served = blobs.requests();
    assert_eq!(
        served.len(),
        3,
        "config and 2 layers from blob storage: {served:?}"
    );
    assert!(
        served
            .iter()
            .all(|r| r.authorization.is_none() && r.status == 200),
        "{served:?}"
    );
}

/// A token server that gives nothing to anonymous clients: the token is
/// asked with the user's credentials.
#[test]
fn token_auth_with_credentials() {
    husk_fixtures::require_root!("token_auth_with_credentials");
    use husk_fixtures::registry::{Auth, Options, TokenConfig};
    let mut cfg = TokenConfig::new("bob", "pw");
    cfg.anonymous_pull = false;
    let reg = Registry::start_with(Options {
        auth: Auth::Token(cfg),
        ..Default::default()
    });
    reg.push("priv/app:2", &Seed::busybox(1));
    let p = Puller::new("");
    let image = format!("{}/priv/app:2", reg.host());
    let err = p.fails(&["pull", &image]);
    assert!(err.contains("pull access denied for priv/app"), "{err}");
    p.login(&reg.host(), "bob", "pw");
    p.ok(&["pull", &image]);
    p.assert_images(&[&image]);
    let mine: Vec<_> = reg
        .token_server()
        .requests()
        .into_iter()
        .filter(|r| r.scopes == ["repository:priv/app:pull"] && r.status == 200)
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].user.as_deref(), Some("bob"));
}

/// docker's identity token (config.json `identitytoken`) is exchanged at
/// the token server by OAuth2's refresh_token grant, never sent as a
/// password.
#[test]
fn identity_token_pull() {
    husk_fixtures::require_root!("identity_token_pull");
    use husk_fixtures::registry::{refresh_token, Auth, Options, TokenConfig};
    let mut cfg = TokenConfig::new("carol", "pw");
    cfg.anonymous_pull = false;
    let token = refresh_token(&cfg);
    let reg = Registry::start_with(Options {
        auth: Auth::Token(cfg),
        ..Default::default()
    });
    reg.push("id/app:1", &Seed::busybox(1));
    let p = Puller::new("");
    std::fs::write(
        p.conf.path().join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"","identitytoken":"{token}"}}}}}}"#,
            reg.host()
        ),
    )
    .unwrap();
    let image = format!("{}/id/app:1", reg.host());
    p.ok(&["pull", &image]);
    p.assert_images(&[&image]);
    let grants: Vec<_> = reg
        .token_server()
        .requests()
        .into_iter()
        .filter(|r| r.scopes == ["repository:id/app:pull"])
        .collect();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].method, "POST");
    assert_eq!(grants[0].grant_type.as_deref(), Some("refresh_token"));
    assert_eq!(grants[0].user.as_deref(), Some("carol"));
}

/// `husk build` pulls a base image it does not have, through the same
/// mirror config as `husk pull`, and RUNs on it.
#[test]
fn build_pulls_a_missing_base_image() {
    husk_fixtures::require_root!("build_pulls_a_missing_base_image");
    let reg = Registry::start_http();
    reg.push_busybox("library/busybox:latest", 2);
    let p = Puller::new(&mirror_config(&reg));
    let ctx = tempdir();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM busybox\nRUN echo built > /built\nCMD [\"cat\", \"/built\"]\n",
    )
    .unwrap();
    let ctx_path = ctx.path().to_str().unwrap();
    let out = p.ok(&["build", "--network", "none", "-t", "built:1", ctx_path]);
    assert!(
        out.contains("latest: Pulling from library/busybox\n"),
        "{out}"
    );
    assert!(out.contains("\nSuccessfully tagged "), "{out}");
    let ran = p.ok(&["run", "--rm", "--network", "none", "built:1"]);
    assert_eq!(ran, "built\n");
    // -q: only the id, the pull says nothing.
    let quiet = p.ok(&["build", "-q", "--pull", "--network", "none", ctx_path]);
    assert_eq!(quiet.lines().count(), 1, "{quiet}");
    p.ok(&["rmi", "built:1"]);
}

#[test]
fn build_from_another_platform_pulls_it_and_refuses_run() {
    husk_fixtures::require_root!("build_from_another_platform_pulls_it_and_refuses_run");
    let reg = Registry::start_http();
    reg.push_index(
        "library/busybox:latest",
        &Seed::busybox(2),
        &["amd64", "arm64"],
    );
    let p = Puller::new(&mirror_config(&reg));
    let ctx = tempdir();
    let ctx_path = ctx.path().to_str().unwrap();
    let dockerfile = |text: &str| std::fs::write(ctx.path().join("Dockerfile"), text).unwrap();
    // A stage of another platform without RUN: pulled for that platform,
    // usable by COPY --from; the next FROM is this machine's again.
    dockerfile(
        "FROM --platform=linux/arm64 busybox AS arm\n\
         LABEL stage=arm\n\
         FROM busybox\n\
         COPY --from=arm /bin/busybox /arm-busybox\n",
    );
    p.ok(&["build", "--network", "none", "-t", "mixed:1", ctx_path]);
    assert_eq!(p.h.inspect("mixed:1")["Architecture"], "amd64");
    let ran = p.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "mixed:1",
        "ls",
        "/arm-busybox",
    ]);
    assert_eq!(ran, "/arm-busybox\n");
    // A RUN on it: refused in one line, nothing emulated.
    dockerfile("FROM --platform=linux/arm64 busybox\nRUN echo ran\n");
    let err = p.fails(&["build", "--network", "none", ctx_path]);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("line 2: RUN on a linux/arm64") && err.contains("does not emulate"),
        "{err}"
    );
    // husk build --platform does the same for every FROM.
    dockerfile("FROM busybox\nRUN echo ran\n");
    let err = p.fails(&[
        "build",
        "--platform",
        "linux/arm64",
        "--network",
        "none",
        ctx_path,
    ]);
    assert!(err.contains("does not emulate"), "{err}");
    p.ok(&["build", "--network", "none", ctx_path]);
    assert_eq!(p.h.inspect("busybox")["Architecture"], "amd64");
    let err = p.fails(&["build", "--platform", "linux/vax", ctx_path]);
    assert!(err.contains("linux/vax"), "{err}");
    p.ok(&["rmi", "mixed:1"]);
}
