//! `husk pull` through the fixture's fault proxy in front of a real
//! docker-registry: every failure is one line, exit 1, and leaves no half
//! image; interrupted downloads resume with a Range request.

mod common;

use std::time::{Duration, Instant};

use common::puller::Puller;
use husk_fixtures::registry::{Fault, FaultProxy, Registry, Seed};

const IMAGE: &str = "x/bb:1";

/// A registry with a 3-layer image whose extra layers are `bytes` large,
/// behind a fault proxy; the layer blobs' (digest, size).
fn setup(bytes: usize) -> (Registry, FaultProxy, Vec<(String, u64)>) {
    let reg = Registry::start_http();
    reg.push(IMAGE, &Seed::busybox(3).layer_bytes(bytes));
    let m: serde_json::Value = serde_json::from_slice(&reg.manifest_raw(IMAGE)).unwrap();
    let layers = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["digest"].as_str().unwrap().to_string(),
                l["size"].as_u64().unwrap(),
            )
        })
        .collect();
    let proxy = FaultProxy::start(&reg.addr(), Fault::None);
    (reg, proxy, layers)
}

fn partials(p: &Puller) -> Vec<(String, u64)> {
    std::fs::read_dir(p.h.root().join("tmp"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("partial-"))
                .map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    (n, e.metadata().map(|m| m.len()).unwrap_or(0))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn registry_faults_are_one_line_errors_and_store_nothing() {
    husk_fixtures::require_root!("registry_faults_are_one_line_errors_and_store_nothing");
    let (_reg, proxy, _) = setup(32 * 1024);
    let p = Puller::new("[registry]\nstall_timeout = 2\n");
    let image = format!("{}/{IMAGE}", proxy.host());
    let schema1 = br#"{"schemaVersion":1,"name":"x/bb","tag":"1","fsLayers":[],"history":[]}"#;
    let cases: Vec<(Fault, &str)> = vec![
        (Fault::WrongDigest, "the registry served corrupt data"),
        (Fault::WrongManifestDigest, "digest mismatch"),
        (Fault::TruncateBlob, "pull again to resume"),
        (
            Fault::Unauthorized401NoChallenge,
            "answered 401 without a usable WWW-Authenticate challenge",
        ),
        (Fault::NotFound404, "not found: check the name and tag"),
        (Fault::NotARegistry, "is not a registry"),
        (
            Fault::ServeManifest {
                media_type: "application/vnd.docker.distribution.manifest.v1+prettyjws".into(),
                body: schema1.to_vec(),
            },
            "docker schema 1 image, which is no longer supported",
        ),
    ];
    for (fault, want) in cases {
        proxy.set_fault(fault.clone());
        let err = p.fails(&["pull", &image]);
        assert!(err.starts_with("husk: pull "), "{fault:?}: {err}");
        assert!(err.contains(want), "{fault:?}: {err}");
        p.assert_images(&[]);
        if fault == Fault::WrongDigest {
            // Bad bytes are not kept to resume from.
            assert!(partials(&p).is_empty(), "{:?}", partials(&p));
        }
    }
}

#[test]
fn too_many_requests_is_retried_after_the_delay() {
    husk_fixtures::require_root!("too_many_requests_is_retried_after_the_delay");
    let (_reg, proxy, _) = setup(32 * 1024);
    proxy.set_fault(Fault::TooMany429 {
        retry_after_secs: 1,
        times: 2,
    });
    let p = Puller::new("");
    let image = format!("{}/{IMAGE}", proxy.host());
    p.ok(&["pull", &image]);
    let statuses: Vec<u16> = proxy.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    p.assert_images(&[&image]);

    // Pulled again unchanged: one HEAD of the manifest, nothing else (as
    // docker does, which Docker Hub does not count as a pull).
    proxy.clear();
    let out = p.ok(&["pull", &image]);
    assert!(out.contains("Status: Image is up to date for"), "{out}");
    let asked: Vec<(String, String)> = proxy
        .requests()
        .iter()
        .filter(|r| r.path.contains("/manifests/") || r.path.contains("/blobs/"))
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(
        asked,
        [("HEAD".to_string(), "/v2/x/bb/manifests/1".to_string())]
    );
}

/// The connection is cut halfway through the first blob: the same pull
/// asks for the rest with a Range request, so that blob crosses the wire
/// once in all, not once and a half.
#[test]
fn a_cut_connection_resumes_with_a_range_request() {
    husk_fixtures::require_root!("a_cut_connection_resumes_with_a_range_request");
    let (_reg, proxy, layers) = setup(512 * 1024);
    proxy.set_fault(Fault::CutMidLayerOnce);
    let p = Puller::new("[registry]\nmax_concurrent_downloads = 1\n");
    let image = format!("{}/{IMAGE}", proxy.host());
    let out = p.ok(&["pull", &image]);
    assert!(out.contains("Retrying"), "{out}");
    let ranges = proxy.ranges();
    assert_eq!(ranges.len(), 1, "{ranges:?}");
    let (cut, size) = layers
        .iter()
        .find(|(d, _)| ranges[0].0.contains(d.as_str()))
        .expect("the Range was for a layer");
    assert!(
        ranges[0].1.starts_with("bytes=") && ranges[0].1 != "bytes=0-",
        "{ranges:?}"
    );
    assert_eq!(
        proxy.bytes_served(cut),
        *size,
        "the blob crossed the wire once"
    );
    p.assert_images(&[&image]);
    assert!(partials(&p).is_empty(), "{:?}", partials(&p));
}

/// A stalled transfer fails after stall_timeout with a clear line; the
/// bytes received are kept and the next pull asks only for the rest.
#[test]
fn a_stall_times_out_and_the_next_pull_resumes() {
    husk_fixtures::require_root!("a_stall_times_out_and_the_next_pull_resumes");
    let (_reg, proxy, layers) = setup(512 * 1024);
    let total: u64 = layers.iter().map(|(_, s)| s).sum();
    proxy.set_fault(Fault::StallMidLayer);
    let p = Puller::new("[registry]\nstall_timeout = 1\n");
    let image = format!("{}/{IMAGE}", proxy.host());
    let err = p.fails(&["pull", &image]);
    assert!(
        err.contains(&format!(
            "no data from {} for 1 s while reading layer sha256:",
            proxy.host()
        )) && err.contains("pull again to resume"),
        "{err}"
    );
    p.assert_images(&[]);
    let kept: u64 = partials(&p).iter().map(|(_, l)| l).sum();
    assert!(kept > 0, "received bytes are kept");
    // image prune gives that space back (put aside here, to resume below).
    let tmp = p.h.root().join("tmp");
    let aside = common::tempdir();
    for (name, _) in partials(&p) {
        std::fs::copy(tmp.join(&name), aside.path().join(&name)).unwrap();
    }
    p.ok(&["image", "prune", "-f"]);
    assert!(partials(&p).is_empty(), "{:?}", partials(&p));
    for e in std::fs::read_dir(aside.path()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), tmp.join(e.file_name())).unwrap();
    }
    proxy.set_fault(Fault::None);
    proxy.clear();
    p.ok(&["pull", &image]);
    assert!(!proxy.ranges().is_empty(), "resumed with Range");
    assert!(
        proxy.bytes_served("/blobs/") < total,
        "second pull fetched {} of {total}",
        proxy.bytes_served("/blobs/")
    );
    p.assert_images(&[&image]);
}

/// Ctrl-C in the middle of a slow pull: nothing listed, and the next pull
/// completes while downloading less than the whole image.
#[test]
fn sigint_mid_pull_then_the_next_pull_downloads_less() {
    husk_fixtures::require_root!("sigint_mid_pull_then_the_next_pull_downloads_less");
    let (_reg, proxy, layers) = setup(1024 * 1024);
    let total: u64 = layers.iter().map(|(_, s)| s).sum();
    proxy.set_fault(Fault::SlowBlobs {
        bytes_per_sec: 512 * 1024,
    });
    let p = Puller::new("");
    let image = format!("{}/{IMAGE}", proxy.host());
    let mut cmd = p.h.cmd(&[]);
    cmd.arg("--config").arg(p.config()).args(["pull", &image]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while partials(&p).iter().map(|(_, l)| l).sum::<u64>() < 300 * 1024 {
        assert!(Instant::now() < deadline, "the pull never got going");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on the child this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let st = child.wait().unwrap();
    assert!(!st.success());
    p.assert_images(&[]);

    proxy.set_fault(Fault::None);
    proxy.clear();
    let out = p.ok(&["pull", &image]);
    assert!(out.contains("Resuming download"), "{out}");
    let second = proxy.bytes_served("/blobs/");
    assert!(second < total, "second pull fetched {second} of {total}");
    p.assert_images(&[&image]);
}

/// A foreign layer (with `urls`) the registry has no copy of is fetched
/// from its URL, another host, without the registry's credentials.
#[test]
fn foreign_layers_follow_their_urls_when_the_registry_has_no_copy() {
    husk_fixtures::require_root!("foreign_layers_follow_their_urls_when_the_registry_has_no_copy");
    use husk_fixtures::registry::BlobStore;
    let (reg, _proxy, layers) = setup(64 * 1024);
    // "Elsewhere": a copy of the blobs served from 127.0.0.2.
    let elsewhere = tempfile::Builder::new()
        .prefix("husk-test-foreign-")
        .tempdir()
        .unwrap();
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(reg.storage())
        .arg(elsewhere.path().join("storage"))
        .status()
        .unwrap();
    assert!(st.success());
    let blobs = BlobStore::start(&elsewhere.path().join("storage"));
    // The registry loses its copy of the last layer.
    let (foreign, _) = layers.last().unwrap().clone();
    let hex = &foreign["sha256:".len()..];
    let data = reg
        .storage()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    std::fs::remove_file(&data).unwrap();
    let mut m: serde_json::Value = serde_json::from_slice(&reg.manifest_raw(IMAGE)).unwrap();
    let last = m["layers"].as_array_mut().unwrap().last_mut().unwrap();
    last["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip".into();
    last["urls"] = serde_json::json!([format!("{}/blobs/{foreign}", blobs.url())]);
    let body = serde_json::to_vec(&m).unwrap();
    let proxy = FaultProxy::start(
        &reg.addr(),
        Fault::ServeManifest {
            media_type: "application/vnd.docker.distribution.manifest.v2+json".into(),
            body,
        },
    );
    let p = Puller::new("");
    let image = format!("{}/{IMAGE}", proxy.host());
    p.ok(&["pull", &image]);
    p.assert_images(&[&image]);
    let served = blobs.requests();
    assert_eq!(served.len(), 1, "{served:?}");
    assert!(
        served[0].path.contains(hex) && served[0].status == 200,
        "{served:?}"
    );
    assert!(served[0].authorization.is_none());
}

/// A layer already in the store is never downloaded again: a second image
/// made of the first one's three layers plus one says `Already exists`
/// three times and only its own layer crosses the wire.
#[test]
fn layers_in_the_store_are_not_downloaded() {
    husk_fixtures::require_root!("layers_in_the_store_are_not_downloaded");
    let (reg, proxy, layers) = setup(64 * 1024);
    reg.push("x/other:1", &Seed::busybox(4).layer_bytes(64 * 1024));
    let p = Puller::new("");
    p.ok(&["pull", &format!("{}/{IMAGE}", proxy.host())]);
    proxy.clear();
    let other = format!("{}/x/other:1", proxy.host());
    let out = p.ok(&["pull", &other]);
    for (d, _) in &layers {
        assert!(
            out.contains(&format!("{}: Already exists\n", &d[7..19])),
            "{out}"
        );
        assert_eq!(proxy.bytes_served(d), 0, "{d} downloaded again");
    }
    assert_eq!(out.matches("Already exists").count(), 3, "{out}");
    assert_eq!(out.matches("Pull complete").count(), 1, "{out}");
    p.assert_images(&[&format!("{}/{IMAGE}", proxy.host()), &other]);
}
