//! The push pipeline's chunked upload against a real docker-registry:
//! every blob sent in PATCH chunks by two threads, read back
//! byte-identical by skopeo.

use std::sync::Mutex;

use husk_fixtures::registry::{sha256_hex, Registry};
use husk_image::{Reference, Store};
use husk_registry::push::{push, Event, PushOptions};
use husk_registry::sources::Sources;
use husk_registry::{Client, Endpoint, Options, Repository};

/// A store at `work/root` holding an import of the busybox rootfs as
/// `name`.
fn store_with_busybox(work: &std::path::Path, name: &str) -> (Store, husk_image::Image) {
    let rootfs = work.join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    tar.append_dir_all(".", &rootfs).unwrap();
    let tar = tar.into_inner().unwrap();

    let root = work.join("root");
    let store = Store::open_write(&root).unwrap();
    let name = Reference::parse(name).unwrap();
    husk_image::import(&store, &tar[..], "rootfs.tar", Some(&name), None).unwrap();
    drop(store);
    let store = Store::open_read(&root).unwrap();
    let image = store.resolve(&name.to_string()).unwrap();
    (store, image)
}

#[test]
fn chunked_upload_on_two_threads_reads_back_identical() {
    husk_fixtures::require_root!("chunked_upload_on_two_threads_reads_back_identical");
    let reg = Registry::start_http();
    let work = tempfile::tempdir().unwrap();
    let (store, image) = store_with_busybox(work.path(), &format!("{}/chunked:v1", reg.host()));
    let layer_size = store.manifest(&image).unwrap().layers[0].size;
    let chunk = 256 << 10;
    assert!(layer_size > 3 * chunk, "the layer takes several chunks");

    let repo = Repository {
        endpoint: Endpoint::new(&reg.host()),
        registry: reg.host(),
        path: "chunked".into(),
    };
    let opts = PushOptions {
        parallel: 2,
        monolithic_max: 0,
        chunk_size: chunk,
    };
    let events = Mutex::new(Vec::new());
    let pushed = push(
        &Client::new(Options::default()),
        &store,
        &image,
        &repo,
        "v1",
        &opts,
        &|e| events.lock().unwrap().push(e),
    )
    .unwrap();

    let raw = reg.manifest_raw("chunked:v1");
    assert_eq!(
        format!("sha256:{}", sha256_hex(&raw)),
        pushed.digest.as_str()
    );
    assert_eq!(raw, store.blobs.read(&image.manifest.digest).unwrap());
    let oci = work.path().join("oci");
    reg.copy_to_oci("chunked:v1", &oci);
    let manifest = store.manifest(&image).unwrap();
    let digests =
        std::iter::once(&manifest.config.digest).chain(manifest.layers.iter().map(|l| &l.digest));
    for d in digests {
        let got = std::fs::read(oci.join("blobs/sha256").join(d.hex())).unwrap();
        assert_eq!(got, store.blobs.read(d).unwrap(), "blob {d}");
    }
    let events = events.into_inner().unwrap();
    let progress: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Pushing { done, .. } => Some(*done),
            _ => None,
        })
        .collect();
    let expected: Vec<u64> = (0..=layer_size.div_ceil(chunk))
        .map(|i| (i * chunk).min(layer_size))
        .collect();
    assert_eq!(progress, expected, "one step per chunk");
    let patches = reg
        .log()
        .matches("\"PATCH /v2/chunked/blobs/uploads/")
        .count();
    assert!(
        patches as u64 > layer_size.div_ceil(chunk),
        "{patches} PATCH requests for the layer and the config"
    );
}

/// A stale hint (the source repository never had the blob): the registry
/// answers the mount with an upload session, and the blob goes up through
/// it, no second upload opened.
#[test]
fn a_refused_mount_uploads_through_the_session_it_opened() {
    husk_fixtures::require_root!("a_refused_mount_uploads_through_the_session_it_opened");
    let reg = Registry::start_http();
    let work = tempfile::tempdir().unwrap();
    let (store, image) = store_with_busybox(work.path(), &format!("{}/stale:v1", reg.host()));
    let sources = Sources::new(store.root());
    let manifest = store.manifest(&image).unwrap();
    for d in [&manifest.config.digest, &manifest.layers[0].digest] {
        sources.record(d, &reg.host(), "never/had/it").unwrap();
    }
    let repo = Repository {
        endpoint: Endpoint::new(&reg.host()),
        registry: reg.host(),
        path: "stale".into(),
    };
    let events = Mutex::new(Vec::new());
    push(
        &Client::new(Options::default()),
        &store,
        &image,
        &repo,
        "v1",
        &PushOptions::default(),
        &|e| events.lock().unwrap().push(e),
    )
    .unwrap();
    assert!(
        matches!(events.lock().unwrap().last(), Some(Event::Pushed { .. })),
        "{events:?}"
    );
    let log = reg.log();
    assert_eq!(
        log.matches("\"POST /v2/stale/blobs/uploads/?mount=")
            .count(),
        2,
        "{log}"
    );
    assert_eq!(
        log.matches("\"POST /v2/stale/blobs/uploads/ ").count(),
        0,
        "{log}"
    );
    assert_eq!(
        reg.manifest_raw("stale:v1"),
        store.blobs.read(&image.manifest.digest).unwrap()
    );
    // The hint now names where the blobs really are, first.
    let layer = &manifest.layers[0].digest;
    assert_eq!(
        sources.repositories(layer, &reg.host()),
        ["stale", "never/had/it"]
    );
}
