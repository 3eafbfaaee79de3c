//! `husk pull`: manifest (and index) → config → layers, each layer
//! streamed from the wire through its digest, the decompressor and the
//! unpacker at once, into husk-image's store; the image is recorded only
//! when every part is stored and verified (one index.json rewrite).
//!
//! Layers download in parallel on a few scoped threads, all joined before
//! [`pull`] returns: no thread outlives it, so a caller that forks later
//! forks a single-threaded process. A download keeps what it received in
//! a partial blob file; a failed or interrupted pull (Ctrl-C, kill -9, a
//! lost connection) leaves it there, and the next try sends a Range
//! request for the rest and unpacks from the file plus the new bytes.

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use husk_image::types::{Descriptor, ImageConfig, Manifest};
use husk_image::{Digest, Image, Store};

use crate::client::{Client, Repository};
use crate::manifest::{self, Parsed, Platform};
use crate::progress::{Event, Progress};
use crate::reference::{api_host, ImageRef};
use crate::transport::{transient, Endpoint};
use crate::{Error, Result};

/// Downloads at once: enough to fill a link, few enough to be polite.
pub const DEFAULT_JOBS: usize = 3;

#[derive(Debug, Clone)]
pub struct PullOptions {
    /// `--platform`; None is this machine's.
    pub platform: Option<Platform>,
    /// `registry_mirrors`: tried in order for docker.io, then docker.io.
    pub mirrors: Vec<Endpoint>,
    /// Parallel layer downloads.
    pub jobs: usize,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            platform: None,
            mirrors: Vec::new(),
            jobs: DEFAULT_JOBS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// docker's `Downloaded newer image for …`.
    Downloaded,
    /// docker's `Image is up to date for …`.
    UpToDate,
}

#[derive(Debug, Clone)]
pub struct Pulled {
    pub image: Image,
    /// What the reference resolved to (the index's digest for a
    /// multi-platform image): docker's `Digest:` line.
    pub digest: Digest,
    pub status: Status,
}

/// Where `r` can be fetched from, in the order to try.
pub fn repositories(r: &ImageRef, mirrors: &[Endpoint]) -> Vec<Repository> {
    let registry = r.registry().to_string();
    let mut out = Vec::new();
    if registry == "docker.io" {
        out.extend(mirrors.iter().map(|m| Repository {
            endpoint: m.clone(),
            registry: m.host.clone(),
            path: r.path().to_string(),
        }));
    }
    out.push(Repository {
        endpoint: Endpoint::new(api_host(&registry)),
        registry,
        path: r.path().to_string(),
    });
    out
}

/// Pulls `r` into the store at `root`. `cancel` stops the downloads
/// early (what they received is kept for the next pull).
pub fn pull(
    client: &Client,
    root: &Path,
    r: &ImageRef,
    opts: &PullOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<Pulled> {
    let shown = r.familiar();
    let repos = repositories(r, &opts.mirrors);
    let want = opts.platform.clone().unwrap_or_else(Platform::host);
    if let Some(p) = unchanged(client, root, r, &repos, &want) {
        return Ok(p);
    }
    let (repo, top) = first_answer(&repos, |repo| {
        client.get_manifest(repo, &r.manifest_reference())
    })?;
    let host = repo.endpoint.host.clone();
    let (manifest, fetched) = match manifest::parse(&top, &host, &shown)? {
        Parsed::Image(m) => (m, top.clone()),
        Parsed::Index(index) => {
            let entry = manifest::select(&index, &want, &shown)?;
            let child = client.get_manifest(repo, entry.digest.as_str())?;
            match manifest::parse(&child, &host, &shown)? {
                Parsed::Image(m) => (m, child),
                Parsed::Index(_) => {
                    return Err(Error::MediaType {
                        reference: shown,
                        media_type: "a nested index".into(),
                    })
                }
            }
        }
    };
    let config_what = format!("image config {}", manifest.config.digest);
    let config_bytes = client.get_blob_bytes(
        repo,
        &manifest.config.digest,
        manifest.config.size,
        &config_what,
    )?;
    let config: ImageConfig = serde_json::from_slice(&config_bytes)
        .map_err(|e| Error::malformed(&host, config_what.clone(), e))?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(Error::malformed(
            &host,
            format!("image {shown}"),
            format!(
                "its manifest lists {} layers but its config {} diff ids",
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            ),
        ));
    }
    check_platform(&config, &want, &shown)?;

    // The network part that needs no store is done: take the lock now.
    let store = Store::open_write(root)?;
    let manifest_digest = fetched.digest.clone();
    let up_to_date = !r.pinned()
        && store
            .resolve(&r.name.to_string())
            .is_ok_and(|i| i.manifest.digest == manifest_digest);
    if !up_to_date {
        fetch_layers(
            client, &store, repo, &manifest, &config, opts, progress, cancel,
        )?;
    }
    store.blobs.put_bytes(&config_bytes)?;
    let stored = store.blobs.put_bytes(&fetched.bytes)?;
    let media_type = manifest
        .media_type
        .clone()
        .unwrap_or_else(|| fetched.media_type.clone());
    let desc = Descriptor::new(&media_type, stored, fetched.bytes.len() as u64);
    // docker's RepoDigest (`REPO@` what the reference resolved to) is
    // recorded on every pull, so the image is found by it later.
    let pin = format!("{}@{}", r.name.repo(), top.digest);
    if !r.pinned() {
        store.add_image(desc.clone(), std::slice::from_ref(&r.name))?;
    }
    let image = store.add_pinned(desc, &pin)?;
    // Where the blobs are on the registry side, so a push to another
    // repository there mounts them. A hint: failing to note it costs an
    // upload later, not this pull.
    let sources = crate::sources::Sources::new(root);
    for d in
        std::iter::once(&manifest.config.digest).chain(manifest.layers.iter().map(|l| &l.digest))
    {
        let _ = sources.record(d, &repo.registry, &repo.path);
    }
    Ok(Pulled {
        image,
        digest: top.digest,
        status: if up_to_date {
            Status::UpToDate
        } else {
            Status::Downloaded
        },
    })
}

/// docker's check before pulling a tag it has: a HEAD of the manifest;
/// when the registry names the digest the local image was pulled by (and
/// the local image is the platform wanted), nothing more is asked (Docker
/// Hub counts manifest GETs, not HEADs). Any failure: pull as usual.
fn unchanged(
    client: &Client,
    root: &Path,
    r: &ImageRef,
    repos: &[Repository],
    want: &Platform,
) -> Option<Pulled> {
    if r.pinned() {
        return None;
    }
    let (image, known) = {
        let store = Store::open_read(root).ok()?;
        let image = store.resolve(&r.name.to_string()).ok()?;
        let config = store.config(&image).ok()?;
        check_platform(&config, want, "").ok()?;
        let prefix = format!("{}@", r.name.repo());
        let known: Vec<Digest> = store
            .repo_digests(&image)
            .ok()?
            .iter()
            .filter_map(|p| p.strip_prefix(&prefix)?.parse().ok())
            .collect();
        (image, known)
    };
    if known.is_empty() {
        return None;
    }
    let (_, head) = first_answer(repos, |repo| client.head_manifest(repo, r.name.tag())).ok()?;
    let digest = head?;
    known.contains(&digest).then_some(Pulled {
        image,
        digest,
        status: Status::UpToDate,
    })
}

/// The first repository that answers `f`; a mirror's failure falls
/// through to the next, the last one's is reported.
fn first_answer<T>(
    repos: &[Repository],
    f: impl Fn(&Repository) -> Result<T>,
) -> Result<(&Repository, T)> {
    let mut last = None;
    for repo in repos {
        match f(repo) {
            Ok(v) => return Ok((repo, v)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(Error::Cancelled))
}

/// The image must be the platform asked for (this machine's by default),
/// whether an index chose it or it came alone.
fn check_platform(config: &ImageConfig, want: &Platform, shown: &str) -> Result<()> {
    let p = husk_image::types::Platform {
        architecture: config.architecture.clone(),
        os: config.os.clone(),
        variant: config.variant.clone(),
    };
    if config.architecture.is_empty() || want.matches(&p) {
        return Ok(());
    }
    Err(Error::NoPlatform {
        reference: shown.to_string(),
        wanted: want.to_string(),
        available: format!("only {}/{}", config.os, config.architecture),
    })
}

/// One layer to store: its place in the manifest and its chain.
struct Job<'a> {
    desc: &'a Descriptor,
    diff_id: &'a Digest,
    parent: Option<Digest>,
}

#[allow(clippy::too_many_arguments)]
fn fetch_layers(
    client: &Client,
    store: &Store,
    repo: &Repository,
    manifest: &Manifest,
    config: &ImageConfig,
    opts: &PullOptions,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<()> {
    let mut parent: Option<Digest> = None;
    let mut remote: VecDeque<Job> = VecDeque::new();
    let mut local: Vec<Job> = Vec::new();
    let mut seen = HashSet::new();
    for (desc, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
        let chain = Digest::chain(parent.as_ref(), diff_id);
        let job = Job {
            desc,
            diff_id,
            parent: parent.clone(),
        };
        if store.layers.exists(&chain) && store.blobs.exists(&desc.digest) {
            progress.layer(&desc.digest, Event::Exists);
        } else if store.blobs.exists(&desc.digest) || !seen.insert(desc.digest.clone()) {
            // The blob is here (or comes with an earlier layer): unpack
            // from the store, after the downloads.
            progress.layer(&desc.digest, Event::Waiting);
            local.push(job);
        } else {
            progress.layer(&desc.digest, Event::Waiting);
            remote.push_back(job);
        }
        parent = Some(chain);
    }
    let queue = Mutex::new(remote);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    let workers = opts.jobs.clamp(1, 8).min(queue_len(&queue)).max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if stop.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                    break;
                }
                let Some(job) = lock(&queue).pop_front() else {
                    break;
                };
                let flags = Flags {
                    stop: &stop,
                    cancel,
                };
                if let Err(e) = download(client, store, repo, &job, progress, &flags) {
                    stop.store(true, Ordering::Relaxed);
                    let mut f = lock(&failed);
                    // The first failure is the cause; the others were stopped by it.
                    if f.is_none() || matches!(*f, Some(Error::Cancelled)) {
                        *f = Some(e);
                    }
                    break;
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    for job in local {
        let blob = store.blobs.open(&job.desc.digest)?;
        store.put_layer(
            job.parent.as_ref(),
            io::BufReader::new(blob),
            Some(&job.desc.media_type),
            Some(&job.desc.digest),
            Some(job.diff_id),
        )?;
        progress.layer(&job.desc.digest, Event::Complete);
    }
    Ok(())
}

fn queue_len(q: &Mutex<VecDeque<Job>>) -> usize {
    lock(q).len()
}

struct Flags<'a> {
    /// Another layer failed.
    stop: &'a AtomicBool,
    /// The caller gave up (Ctrl-C handled by the caller).
    cancel: &'a AtomicBool,
}

impl Flags<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed)
    }
}

/// Downloads and stores one layer, resuming its partial file, retrying
/// transient failures from where they stopped.
fn download(
    client: &Client,
    store: &Store,
    repo: &Repository,
    job: &Job,
    progress: &dyn Progress,
    flags: &Flags,
) -> Result<()> {
    let digest = &job.desc.digest;
    let size = job.desc.size;
    let what = format!("layer {digest}");
    let partial = store.blobs.partial_path(digest);
    let opts = client.transport().options();
    let mut wait = opts.backoff;
    let attempts = opts.attempts.max(1);
    for attempt in 1..=attempts {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&partial)
            .map_err(|e| Error::io("open", &partial, e))?;
        let mut have = file
            .metadata()
            .map_err(|e| Error::io("stat", &partial, e))?
            .len();
        if have > size {
            truncate(&file, &partial)?;
            have = 0;
        }
        let stream = fetch(client, repo, job.desc, have, &what)?;
        if stream.offset == 0 && have > 0 {
            // The registry sent the whole blob instead of the rest.
            truncate(&file, &partial)?;
            have = 0;
        }
        if have > 0 {
            progress.layer(
                digest,
                Event::Resuming {
                    from: have,
                    total: size,
                },
            );
        }
        let failure: Mutex<Option<(Error, bool)>> = Mutex::new(None);
        let prefix = File::open(&partial)
            .map_err(|e| Error::io("open", &partial, e))?
            .take(have);
        let wire = Wire {
            inner: stream.reader,
            file: &mut file,
            got: have,
            size,
            digest,
            progress,
            flags,
            failure: &failure,
            client,
            repo,
            what: &what,
            ended: false,
        };
        let result = store.put_received_layer(
            job.parent.as_ref(),
            io::BufReader::with_capacity(64 * 1024, prefix).chain(wire),
            Some(&job.desc.media_type),
            digest,
            job.diff_id,
            &partial,
        );
        let err = match result {
            Ok(_) => {
                progress.layer(digest, Event::Complete);
                return Ok(());
            }
            Err(e) => e,
        };
        match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            // The wire failed: what it wrote is good, keep it to resume.
            Some((wire_err, true)) => {
                if attempt == attempts || !transient(&wire_err) || flags.stopped() {
                    return Err(wire_err);
                }
                progress.layer(
                    digest,
                    Event::Retrying {
                        reason: wire_err.to_string(),
                    },
                );
                std::thread::sleep(wait);
                wait *= 2;
            }
            Some((wire_err, false)) => {
                let _ = std::fs::remove_file(&partial);
                return Err(wire_err);
            }
            // The data was bad (digest, compression, tar): none of it is kept.
            None => {
                let _ = std::fs::remove_file(&partial);
                return Err(bad_layer(err, &repo.endpoint.host, digest));
            }
        }
    }
    Err(Error::Cancelled)
}

/// The blob from the registry or, for a foreign layer the registry has
/// no copy of, from the first of its URLs that serves it.
fn fetch(
    client: &Client,
    repo: &Repository,
    desc: &Descriptor,
    have: u64,
    what: &str,
) -> Result<crate::client::BlobStream> {
    let err = match client.get_blob(repo, &desc.digest, have, what) {
        Ok(s) => return Ok(s),
        Err(e @ Error::Status { status: 404, .. }) if !desc.urls.is_empty() => e,
        Err(e) => return Err(e),
    };
    for url in &desc.urls {
        if let Ok(s) = client.get_url(url, have, what) {
            return Ok(s);
        }
    }
    Err(err)
}

/// A store error caused by the blob's content, said as the registry's fault.
fn bad_layer(e: husk_image::Error, host: &str, digest: &Digest) -> Error {
    match e {
        husk_image::Error::DigestMismatch {
            what,
            expected,
            actual,
        } => Error::DigestMismatch {
            what: format!("{what} {digest}"),
            expected,
            actual,
        },
        husk_image::Error::Layers(source) => Error::CorruptLayer {
            host: host.to_string(),
            digest: digest.to_string(),
            source,
        },
        other => Error::Image(other),
    }
}

fn truncate(file: &File, path: &Path) -> Result<()> {
    file.set_len(0).map_err(|e| Error::io("truncate", path, e))
}

/// The response body on its way to the unpacker: appended to the partial
/// file, counted against the size the manifest gave, reported, and
/// stopped when the pull is. Its own failures are kept in `failure`
/// (with whether the bytes so far can be kept), since the unpacker only
/// sees an I/O error.
struct Wire<'a> {
    inner: Box<dyn Read + Send>,
    file: &'a mut File,
    got: u64,
    size: u64,
    digest: &'a Digest,
    progress: &'a dyn Progress,
    flags: &'a Flags<'a>,
    failure: &'a Mutex<Option<(Error, bool)>>,
    client: &'a Client,
    repo: &'a Repository,
    what: &'a str,
    /// The last byte came (the unpacker reads the end more than once).
    ended: bool,
}

impl Wire<'_> {
    fn fail(&self, e: Error, keep: bool) -> io::Error {
        let msg = e.to_string();
        let mut f = lock(self.failure);
        if f.is_none() {
            *f = Some((e, keep));
        }
        io::Error::other(msg)
    }
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.flags.stopped() {
            return Err(self.fail(Error::Cancelled, true));
        }
        // Never read past the size the manifest gave.
        let room = (self.size - self.got).min(buf.len() as u64) as usize;
        let n = if room == 0 {
            let mut probe = [0u8; 1];
            match self.inner.read(&mut probe) {
                Ok(0) => 0,
                Ok(_) => {
                    let e = Error::malformed(
                        &self.repo.endpoint.host,
                        self.what.to_string(),
                        format!("more than the {} bytes its manifest gives", self.size),
                    );
                    return Err(self.fail(e, false));
                }
                Err(e) => {
                    let e = self.client.read_error(self.repo, e, self.what);
                    return Err(self.fail(e, true));
                }
            }
        } else {
            match self.inner.read(&mut buf[..room]) {
                Ok(n) => n,
                Err(e) => {
                    let e = self.client.read_error(self.repo, e, self.what);
                    return Err(self.fail(e, true));
                }
            }
        };
        if n == 0 {
            if self.got < self.size {
                let e = Error::Truncated {
                    host: self.repo.endpoint.host.clone(),
                    what: self.what.to_string(),
                    got: self.got,
                    expected: self.size,
                };
                return Err(self.fail(e, true));
            }
            if !self.ended {
                self.ended = true;
                self.progress.layer(self.digest, Event::Extracting);
            }
            return Ok(0);
        }
        if let Err(e) = self.file.write_all(&buf[..n]) {
            let e = Error::io("write partial blob", "tmp/partial-", e);
            return Err(self.fail(e, false));
        }
        self.got += n as u64;
        self.progress.layer(
            self.digest,
            Event::Downloading {
                done: self.got,
                total: self.size,
            },
        );
        Ok(n)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
