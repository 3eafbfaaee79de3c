//! `husk push` against a real docker-registry on 127.0.0.1: images from
//! `import` and from `load` go up, skopeo reads them back byte-identical
//! by digest, a second push finds every layer there, and a push to
//! another repository of the same registry mounts the blobs.

mod common;

use common::*;
use husk_fixtures::registry::Registry;

fn busybox_tar(dir: &std::path::Path) -> std::path::PathBuf {
    let rootfs = dir.join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let tar = dir.join("busybox.tar");
    tar_dir(&rootfs, &tar, &[]);
    tar
}

fn sha256_hex(data: &[u8]) -> String {
    husk_fixtures::registry::sha256_hex(data)
}

/// Lines of `out` that a layer id starts, as `(id, status)`.
fn layer_lines(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| {
            let (id, status) = l.split_once(": ")?;
            (id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| (id.to_string(), status.to_string()))
        })
        .collect()
}

/// The `TAG: digest: sha256:... size: N` line's digest and size.
fn digest_line(out: &str, tag: &str) -> (String, usize) {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{tag}: digest: ")))
        .unwrap_or_else(|| panic!("no digest line in:\n{out}"));
    let rest = &line[format!("{tag}: digest: ").len()..];
    let (digest, size) = rest.split_once(" size: ").unwrap();
    (digest.to_string(), size.parse().unwrap())
}

/// What the store holds for a blob.
fn store_blob(h: &Husk, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap();
    std::fs::read(h.root().join("blobs/sha256").join(hex)).unwrap()
}

#[test]
fn push_of_an_import_pulls_back_identical_then_exists_then_mounts() {
    husk_fixtures::require_root!("push_of_an_import_pulls_back_identical_then_exists_then_mounts");
    let reg = Registry::start_http();
    let work = tempdir();
    let tar = busybox_tar(work.path());
    let h = Husk::new();
    let name = format!("{}/team/busybox:v1", reg.host());
    h.ok(&["import", tar.to_str().unwrap(), &name]);

    let out = h.ok(&["push", &name]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "The push refers to repository [{}/team/busybox]",
                reg.host()
            )
            .as_str()
        ),
        "{out}"
    );
    let layers = layer_lines(&out);
    let statuses: Vec<&str> = layers.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(statuses, ["Preparing", "Pushing", "Pushed"], "{out}");
    let (digest, size) = digest_line(&out, "v1");

    // skopeo, the peer client, reads back the very bytes the store holds.
    let raw = reg.manifest_raw("team/busybox:v1");
    assert_eq!(format!("sha256:{}", sha256_hex(&raw)), digest);
    assert_eq!(raw.len(), size);
    assert_eq!(raw, store_blob(&h, &digest), "manifest byte-identical");
    let oci = work.path().join("oci");
    reg.copy_to_oci(&format!("team/busybox@{digest}"), &oci);
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let mut blobs = vec![manifest["config"]["digest"].as_str().unwrap().to_string()];
    for l in manifest["layers"].as_array().unwrap() {
        blobs.push(l["digest"].as_str().unwrap().to_string());
    }
    for b in &blobs {
        let got = std::fs::read(oci.join("blobs/sha256").join(&b[7..])).unwrap();
        assert_eq!(got, store_blob(&h, b), "blob {b}");
    }

    // docker's RepoDigests now name the pushed manifest.
    let listed = h.ok(&["images", "--digests"]);
    assert!(
        listed
            .lines()
            .any(|l| l.contains("/team/busybox") && l.contains(&digest)),
        "{listed}"
    );
    assert_eq!(
        h.inspect(&format!("{}/team/busybox@{digest}", reg.host()))["Id"],
        h.inspect(&name)["Id"]
    );

    // Again: the registry has every layer.
    let again = h.ok(&["push", &name]);
    let statuses: Vec<String> = layer_lines(&again).into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, ["Preparing", "Layer already exists"], "{again}");
    assert_eq!(digest_line(&again, "v1").0, digest);

    // Another repository of the same registry: mounted, not uploaded.
    let other = format!("{}/other/copy:v2", reg.host());
    h.ok(&["tag", &name, &other]);
    let mounted = h.ok(&["push", &other]);
    let statuses: Vec<String> = layer_lines(&mounted).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        statuses,
        ["Preparing", "Mounted from team/busybox"],
        "{mounted}"
    );
    assert_eq!(digest_line(&mounted, "v2").0, digest);
    assert_eq!(reg.manifest_raw("other/copy:v2"), raw);
    let log = reg.log();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    assert!(
        log.contains(&format!("mount={}", layer.replace(':', "%3A")))
            || log.contains(&format!("mount={layer}")),
        "the registry saw a mount request: {log}"
    );
}

#[test]
fn push_of_a_loaded_multi_layer_image_and_quiet_all_tags() {
    husk_fixtures::require_root!("push_of_a_loaded_multi_layer_image_and_quiet_all_tags");
    let src = Registry::start_http();
    let seeded = src.push_busybox("library/busybox:latest", 3);
    let work = tempdir();
    let archive = work.path().join("bb.tar");
    let mut args = vec!["copy".to_string(), "--quiet".into()];
    args.extend(src.skopeo_src_flags());
    args.push(src.docker_ref("library/busybox:latest"));
    args.push(format!(
        "docker-archive:{}:busybox:latest",
        archive.display()
    ));
    src.skopeo(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let h = Husk::new();
    h.ok(&["load", "-i", archive.to_str().unwrap()]);

    let dst = Registry::start_http();
    let one = format!("{}/bb:one", dst.host());
    let two = format!("{}/bb:two", dst.host());
    h.ok(&["tag", "busybox", &one]);
    h.ok(&["tag", "busybox", &two]);
    let out = h.ok(&["push", &one]);
    let pushed: Vec<String> = layer_lines(&out)
        .into_iter()
        .filter(|(_, s)| s == "Pushed")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(pushed.len(), 3, "three layers uploaded: {out}");
    let (digest, _) = digest_line(&out, "one");
    let raw = dst.manifest_raw("bb:one");
    assert_eq!(format!("sha256:{}", sha256_hex(&raw)), digest);
    assert_eq!(raw, store_blob(&h, &digest));
    assert_ne!(
        digest, seeded,
        "load made a new manifest: it is what was pushed"
    );
    // docker's ids are the layers' diff ids, top layer first.
    let config: serde_json::Value = serde_json::from_slice(&store_blob(
        &h,
        h.inspect("busybox")["Id"].as_str().unwrap(),
    ))
    .unwrap();
    let mut diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap()[7..19].to_string())
        .collect();
    diff_ids.reverse();
    let preparing: Vec<String> = layer_lines(&out)
        .into_iter()
        .filter(|(_, s)| s == "Preparing")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(preparing, diff_ids, "{out}");

    // -a -q: every tag of the repository, one line each.
    let out = h.ok(&["push", "-a", "-q", &format!("{}/bb", dst.host())]);
    let mut got: Vec<&str> = out.lines().collect();
    got.sort();
    assert_eq!(got, [one.as_str(), two.as_str()]);
    assert_eq!(dst.manifest_raw("bb:two"), raw);
}

#[test]
fn push_errors_are_one_line_with_a_fix() {
    husk_fixtures::require_root!("push_errors_are_one_line_with_a_fix");
    let h = Husk::new();
    let err = h.fails(&["push", "127.0.0.1:1/nothing:here"]);
    assert_eq!(
        err.trim_end(),
        "husk: An image does not exist locally with the tag: 127.0.0.1:1/nothing: tag one first with 'husk tag IMAGE 127.0.0.1:1/nothing:here'"
    );
    let err = h.fails(&["push", "-a", "127.0.0.1:1/nothing:here"]);
    assert_eq!(
        err,
        "husk: tag can't be used with --all-tags/-a: give the repository alone\n"
    );
    let err = h.fails(&["push", "Bad/Name"]);
    assert!(err.starts_with("husk: invalid reference format"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    // A registry that is not there: nothing half-done, one line.
    let work = tempdir();
    let tar = busybox_tar(work.path());
    let port = husk_fixtures::registry::free_port();
    let name = format!("127.0.0.1:{port}/x:y");
    h.ok(&["import", tar.to_str().unwrap(), &name]);
    let err = h.fails(&["push", &name]);
    assert!(
        err.contains(&format!("cannot reach registry 127.0.0.1:{port}")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn push_of_an_image_pulled_from_another_registry_keeps_its_digest() {
    husk_fixtures::require_root!("push_of_an_image_pulled_from_another_registry_keeps_its_digest");
    let a = Registry::start_http();
    let seeded = a.push_busybox("library/busybox:latest", 3);
    let b = Registry::start_http();
    let h = Husk::new();
    let src = format!("{}/library/busybox:latest", a.host());
    h.ok(&["pull", &src]);
    let dst = format!("{}/moved/busybox:latest", b.host());
    h.ok(&["tag", &src, &dst]);
    let out = h.ok(&["push", &dst]);
    let statuses: Vec<String> = layer_lines(&out)
        .into_iter()
        .map(|(_, s)| s)
        .filter(|s| s != "Preparing" && s != "Pushing" && s != "Waiting")
        .collect();
    // Another registry: nothing to mount from, every layer uploaded.
    assert_eq!(statuses, ["Pushed", "Pushed", "Pushed"], "{out}");
    assert_eq!(digest_line(&out, "latest").0, seeded);
    assert_eq!(
        b.manifest_raw("moved/busybox:latest"),
        a.manifest_raw("library/busybox:latest")
    );
}

/// A registry that answers 429 with Retry-After is waited for; one that
/// is not a registry, or asks for auth without saying how, is a one-line
/// error and nothing is recorded.
#[test]
fn push_through_faults() {
    husk_fixtures::require_root!("push_through_faults");
    use husk_fixtures::registry::{Fault, FaultProxy};
    let reg = Registry::start_http();
    let proxy = FaultProxy::start(
        &reg.addr(),
        Fault::TooMany429 {
            retry_after_secs: 1,
            times: 2,
        },
    );
    let work = tempdir();
    let tar = busybox_tar(work.path());
    let h = Husk::new();
    let name = format!("{}/slow/bb:v1", proxy.addr());
    h.ok(&["import", tar.to_str().unwrap(), &name]);
    let out = h.ok(&["push", &name]);
    let (digest, _) = digest_line(&out, "v1");
    let limited = proxy.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(limited, 2, "{:?}", proxy.requests());
    assert_eq!(
        format!("sha256:{}", sha256_hex(&reg.manifest_raw("slow/bb:v1"))),
        digest
    );

    let list = || {
        h.ok(&[
            "images",
            "--digests",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.Digest}}",
        ])
    };
    let listed = list();
    assert!(listed.contains(&digest), "{listed}");
    for (fault, says) in [
        (Fault::NotARegistry, "is not a registry"),
        (
            Fault::Unauthorized401NoChallenge,
            "answered 401 without a usable WWW-Authenticate challenge",
        ),
    ] {
        proxy.set_fault(fault);
        let other = format!("{}/other/bb:v1", proxy.addr());
        h.ok(&["tag", &name, &other]);
        let err = h.fails(&["push", &other]);
        assert!(err.contains(says), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        h.ok(&["rmi", &other]);
    }
    assert_eq!(list(), listed, "nothing recorded");
}

/// On a terminal: one bar per layer, finished with docker's words.
#[test]
fn push_at_a_terminal_shows_a_bar_per_layer() {
    husk_fixtures::require_root!("push_at_a_terminal_shows_a_bar_per_layer");
    let reg = Registry::start_http();
    let work = tempdir();
    let tar = busybox_tar(work.path());
    let h = Husk::new();
    let name = format!("{}/tty/bb:v1", reg.host());
    h.ok(&["import", tar.to_str().unwrap(), &name]);
    let mut t = husk_fixtures::Terminal::spawn(h.cmd(&["push", &name]), 24, 100);
    assert!(t.wait().success(), "{}", t.text());
    let shown = t.text();
    let id = layer_lines(&h.ok(&["push", &name]))[0].0.clone();
    assert!(shown.contains(&format!("{id}: Pushed")), "{shown:?}");
    assert!(shown.contains("v1: digest: sha256:"), "{shown:?}");
    // Drawn, not listed: the bar's line is rewritten in place.
    assert!(shown.contains("\u{1b}["), "{shown:?}");
}
