//! `push`: an image of the store to a repository, as docker sends one.
//! Each blob (the layers, then the config) is skipped when the registry
//! has it (HEAD), mounted when another repository of the same registry is
//! known to hold it ([`Sources`]), else uploaded: in one PUT when small,
//! in PATCH chunks when large. The manifest goes last, as the exact bytes
//! the store holds and with their media type, so its digest is the one the
//! image has here. Layers go up in parallel on a bounded number of scoped
//! threads, all joined before `push` returns.

use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use husk_image::types::Descriptor;
use husk_image::{Digest, Image, Store};
use ureq::http::{Method, Response};

use crate::client::{Client, Repository};
use crate::sources::Sources;
use crate::transport::Body;
use crate::{Error, Result};

/// How a push sends its blobs.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Blobs uploaded at once (docker: 5).
    pub parallel: usize,
    /// Blobs up to this size go in one PUT; larger ones in chunks.
    pub monolithic_max: u64,
    /// The size of each PATCH of a chunked upload.
    pub chunk_size: u64,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            parallel: 3,
            monolithic_max: 16 << 20,
            chunk_size: 16 << 20,
        }
    }
}

/// What happens to a layer, in docker's words. `id` is docker's short id
/// of the layer (its diff id's first 12 hex digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Preparing { id: String },
    Waiting { id: String },
    Pushing { id: String, done: u64, total: u64 },
    Pushed { id: String },
    Mounted { id: String, from: String },
    Exists { id: String },
}

/// The pushed manifest: docker's `TAG: digest: DIGEST size: N`.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub tag: String,
    pub digest: Digest,
    pub size: u64,
}

/// What a mount attempt leaves to do.
enum Mount {
    /// The registry linked the blob from this repository.
    Mounted(String),
    /// An upload is needed: into the session the registry opened, if any.
    Upload(Option<String>),
}

/// One blob to send.
struct Blob {
    desc: Descriptor,
    /// docker's progress id; None for the config (docker shows no line).
    id: Option<String>,
}

/// Pushes `image` to `repo` as `tag`, telling `progress` what happens to
/// each layer. Sources learns where every blob now is.
pub fn push(
    client: &Client,
    store: &Store,
    image: &Image,
    repo: &Repository,
    tag: &str,
    opts: &PushOptions,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Pushed> {
    // Denied is pull's word for a refusal: here it is the push refused.
    push_image(client, store, image, repo, tag, opts, progress).map_err(|e| match e {
        Error::Denied { registry, .. } => Error::PushDenied {
            registry,
            repo: repo.path.clone(),
        },
        e => e,
    })
}

fn push_image(
    client: &Client,
    store: &Store,
    image: &Image,
    repo: &Repository,
    tag: &str,
    opts: &PushOptions,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Pushed> {
    let manifest = store.manifest(image)?;
    let manifest_bytes = store.blobs.read(&image.manifest.digest)?;
    let diff_ids = store.config(image)?.rootfs.diff_ids;
    let mut blobs: Vec<Blob> = Vec::new();
    for (i, layer) in manifest.layers.iter().enumerate() {
        // docker never pushes a foreign layer: its URLs are where it lives.
        // A layer listed twice (empty layers) goes up once.
        if is_foreign(&layer.media_type)
            || manifest.layers[..i]
                .iter()
                .any(|l| l.digest == layer.digest)
        {
            continue;
        }
        let id = diff_ids.get(i).unwrap_or(&layer.digest).short().to_string();
        blobs.push(Blob {
            desc: layer.clone(),
            id: Some(id),
        });
    }
    // docker lists the top layer first.
    blobs.reverse();
    blobs.push(Blob {
        desc: manifest.config.clone(),
        id: None,
    });
    for b in &blobs {
        if let Some(id) = &b.id {
            progress(Event::Preparing { id: id.clone() });
        }
    }
    let parallel = opts.parallel.max(1);
    for b in blobs.iter().skip(parallel) {
        if let Some(id) = &b.id {
            progress(Event::Waiting { id: id.clone() });
        }
    }

    let sources = Sources::new(store.root());
    let pusher = Pusher {
        client,
        store,
        repo,
        opts,
        sources: &sources,
        progress,
    };
    // One token for the threads to share, fetched before they start (and
    // a refusal said once).
    pusher.authenticate(tag)?;
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..parallel.min(blobs.len()) {
            s.spawn(|| loop {
                if failed.load(Ordering::SeqCst) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(b) = blobs.get(i) else { return };
                if let Err(e) = pusher.blob(b) {
                    failed.store(true, Ordering::SeqCst);
                    let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                    slot.get_or_insert(e);
                    return;
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }

    let media_type = manifest
        .media_type
        .clone()
        .unwrap_or_else(|| image.manifest.media_type.clone());
    pusher.manifest(tag, &media_type, &manifest_bytes, &image.manifest.digest)?;
    Ok(Pushed {
        tag: tag.to_string(),
        digest: image.manifest.digest.clone(),
        size: manifest_bytes.len() as u64,
    })
}

fn is_foreign(media_type: &str) -> bool {
    media_type.contains(".foreign.") || media_type.contains(".nondistributable.")
}

struct Pusher<'a> {
    client: &'a Client,
    store: &'a Store,
    repo: &'a Repository,
    opts: &'a PushOptions,
    sources: &'a Sources,
    progress: &'a (dyn Fn(Event) + Sync),
}

impl Pusher<'_> {
    fn scope(&self) -> String {
        self.repo.scope("pull,push")
    }

    fn tell(&self, b: &Blob, make: impl FnOnce(String) -> Event) {
        if let Some(id) = &b.id {
            (self.progress)(make(id.clone()));
        }
    }

    fn blob(&self, b: &Blob) -> Result<()> {
        let digest = &b.desc.digest;
        if self.exists(digest)? {
            self.tell(b, |id| Event::Exists { id });
        } else {
            match self.mount(b)? {
                Mount::Mounted(from) => self.tell(b, |id| Event::Mounted { id, from }),
                Mount::Upload(session) => {
                    self.upload(b, session)?;
                    self.tell(b, |id| Event::Pushed { id });
                }
            }
        }
        self.sources
            .record(digest, &self.repo.registry, &self.repo.path)
    }

    /// `HEAD` of the tag's manifest with the push scope: answers the
    /// registry's challenge once, so the upload threads find the token.
    fn authenticate(&self, tag: &str) -> Result<()> {
        let what = format!("manifest {}:{tag}", self.repo.path);
        let target = format!("/v2/{}/manifests/{tag}", self.repo.path);
        let resp = self.send(
            Method::HEAD,
            &target,
            &self.scope(),
            &[],
            Body::Empty,
            &what,
        )?;
        match resp.status().as_u16() {
            200 | 404 => Ok(()),
            _ => Err(self.client.status_error(self.repo, resp, &what)),
        }
    }

    /// `HEAD /v2/<name>/blobs/<digest>`.
    fn exists(&self, digest: &Digest) -> Result<bool> {
        let what = format!("blob {digest}");
        let target = format!("/v2/{}/blobs/{digest}", self.repo.path);
        let resp = self.send(
            Method::HEAD,
            &target,
            &self.scope(),
            &[],
            Body::Empty,
            &what,
        )?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.client.status_error(self.repo, resp, &what)),
        }
    }

    /// Asks the registry to mount the blob from a repository known to hold
    /// it. A registry that cannot opens an upload instead (202): the blob
    /// goes up through that one, as docker does.
    fn mount(&self, b: &Blob) -> Result<Mount> {
        let digest = &b.desc.digest;
        let candidates = self
            .sources
            .repositories(digest, &self.repo.registry)
            .into_iter()
            .filter(|r| *r != self.repo.path)
            .take(3);
        for from in candidates {
            // One token for both: push here, pull there.
            let scope = format!("{} repository:{from}:pull", self.scope());
            let target = format!(
                "/v2/{}/blobs/uploads/?{}",
                self.repo.path,
                crate::auth::encode_query(&[("mount", digest.as_str()), ("from", from.as_str())])
            );
            let what = format!("mount of blob {digest} from {from}");
            let resp = match self.send(Method::POST, &target, &scope, &[], Body::Empty, &what) {
                Ok(r) => r,
                // No pull access to the source: upload instead, as docker does.
                Err(Error::Denied { .. }) => continue,
                Err(e) => return Err(e),
            };
            match resp.status().as_u16() {
                201 => return Ok(Mount::Mounted(from)),
                202 => return Ok(Mount::Upload(Some(self.location(&resp, &what)?))),
                401 | 403 | 404 => continue,
                _ => return Err(self.client.status_error(self.repo, resp, &what)),
            }
        }
        Ok(Mount::Upload(None))
    }

    /// Uploads the blob, through `session` (an upload the registry opened)
    /// or a new one.
    fn upload(&self, b: &Blob, session: Option<String>) -> Result<()> {
        let digest = &b.desc.digest;
        let path = self.store.blobs.path(digest);
        let mut file = File::open(&path).map_err(|e| Error::MissingBlob {
            digest: digest.to_string(),
            source: e,
        })?;
        let size = file
            .metadata()
            .map_err(|e| Error::io("stat", &path, e))?
            .len();
        let what = format!("upload of blob {digest}");
        let mut location = match session {
            Some(l) => l,
            None => {
                let start = format!("/v2/{}/blobs/uploads/", self.repo.path);
                let resp =
                    self.send(Method::POST, &start, &self.scope(), &[], Body::Empty, &what)?;
                if resp.status().as_u16() != 202 {
                    return Err(self.client.status_error(self.repo, resp, &what));
                }
                self.location(&resp, &what)?
            }
        };
        self.tell(b, |id| Event::Pushing {
            id,
            done: 0,
            total: size,
        });
        let octets = ("content-type", "application/octet-stream".to_string());
        if size > self.opts.monolithic_max {
            let chunk = self.opts.chunk_size.max(1);
            let mut done = 0u64;
            let mut buf = Vec::new();
            while done < size {
                buf.clear();
                (&mut file)
                    .take(chunk)
                    .read_to_end(&mut buf)
                    .map_err(|e| Error::io("read", &path, e))?;
                if buf.is_empty() {
                    return Err(Error::io(
                        "read",
                        &path,
                        std::io::ErrorKind::UnexpectedEof.into(),
                    ));
                }
                let end = done + buf.len() as u64 - 1;
                let headers = [octets.clone(), ("content-range", format!("{done}-{end}"))];
                let resp = self.send(
                    Method::PATCH,
                    &location,
                    &self.scope(),
                    &headers,
                    Body::Bytes(&buf),
                    &what,
                )?;
                if resp.status().as_u16() != 202 {
                    return Err(self.client.status_error(self.repo, resp, &what));
                }
                location = self.location(&resp, &what)?;
                done += buf.len() as u64;
                self.tell(b, |id| Event::Pushing {
                    id,
                    done,
                    total: size,
                });
            }
            let target = with_digest(&location, digest);
            let resp = self.send(Method::PUT, &target, &self.scope(), &[], Body::Empty, &what)?;
            self.check_created(resp, digest, &what)
        } else {
            let mut data = Vec::with_capacity(size as usize);
            file.read_to_end(&mut data)
                .map_err(|e| Error::io("read", &path, e))?;
            let target = with_digest(&location, digest);
            let resp = self.send(
                Method::PUT,
                &target,
                &self.scope(),
                &[octets],
                Body::Bytes(&data),
                &what,
            )?;
            self.check_created(resp, digest, &what)
        }
    }

    fn manifest(&self, tag: &str, media_type: &str, bytes: &[u8], digest: &Digest) -> Result<()> {
        let what = format!("manifest {}:{tag}", self.repo.path);
        let target = format!("/v2/{}/manifests/{tag}", self.repo.path);
        let resp = self.send(
            Method::PUT,
            &target,
            &self.scope(),
            &[("content-type", media_type.to_string())],
            Body::Bytes(bytes),
            &what,
        )?;
        self.check_created(resp, digest, &what)
    }

    fn check_created(&self, resp: Response<ureq::Body>, digest: &Digest, what: &str) -> Result<()> {
        if resp.status().as_u16() != 201 {
            return Err(self.client.status_error(self.repo, resp, what));
        }
        if let Some(got) = header(&resp, "docker-content-digest") {
            if got != digest.as_str() {
                return Err(Error::DigestMismatch {
                    what: what.to_string(),
                    expected: digest.to_string(),
                    actual: got,
                });
            }
        }
        Ok(())
    }

    fn location(&self, resp: &Response<ureq::Body>, what: &str) -> Result<String> {
        header(resp, "location").ok_or_else(|| {
            Error::malformed(
                &self.repo.endpoint.host,
                what.to_string(),
                "a 202 without a Location header",
            )
        })
    }

    fn send(
        &self,
        method: Method,
        target: &str,
        scope: &str,
        headers: &[(&str, String)],
        body: Body<'_>,
        what: &str,
    ) -> Result<Response<ureq::Body>> {
        self.client
            .request(self.repo, scope, method, target, headers, body, what)
    }
}

/// An upload location with `digest=` added to its query.
fn with_digest(location: &str, digest: &Digest) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!(
        "{location}{sep}{}",
        crate::auth::encode_query(&[("digest", digest.as_str())])
    )
}

fn header(resp: &Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_goes_into_the_query() {
        let d = Digest::of(b"x");
        assert_eq!(
            with_digest("/v2/a/blobs/uploads/u?_state=s", &d),
            format!("/v2/a/blobs/uploads/u?_state=s&digest=sha256%3A{}", d.hex())
        );
        assert_eq!(
            with_digest("http://h/v2/a/blobs/uploads/u", &d),
            format!("http://h/v2/a/blobs/uploads/u?digest=sha256%3A{}", d.hex())
        );
    }

    #[test]
    fn foreign_layers_are_not_pushed() {
        assert!(is_foreign(
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
        ));
        assert!(is_foreign(
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        ));
        assert!(!is_foreign("application/vnd.oci.image.layer.v1.tar+gzip"));
    }
}
