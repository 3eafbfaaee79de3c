//! The registry API over [`Transport`] and [`Auth`]: every request carries
//! the Authorization for its scope, a 401 is answered once through its
//! challenge, and the v2 calls pull (and push) need are named here.

use std::io::Read;

use husk_image::Digest;
use ureq::http::{Method, Response};

use crate::auth::{Auth, Lookup};
use crate::transport::{transient, Body, Endpoint, Options, Transport};
use crate::{Error, Result};

/// Manifests kinds pull asks for, most specific first.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Manifests are small; a larger answer is not one.
const MANIFEST_LIMIT: u64 = 4 << 20;

/// One repository on one endpoint: where requests go, the registry name
/// whose credentials apply, and the repository's path there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub endpoint: Endpoint,
    /// `docker.io`, `127.0.0.1:5000`: the key credentials are stored under.
    pub registry: String,
    /// `library/busybox`.
    pub path: String,
}

impl Repository {
    /// `repository:library/busybox:pull` for `actions` "pull" or "pull,push".
    pub fn scope(&self, actions: &str) -> String {
        format!("repository:{}:{actions}", self.path)
    }
}

/// A manifest as the registry sent it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: String,
    /// sha256 of `bytes`, checked against what was asked for.
    pub digest: Digest,
}

/// A blob being received from `offset` on (the server honoured the Range).
pub struct BlobStream {
    pub offset: u64,
    /// Bytes still to come, when the server said.
    pub remaining: Option<u64>,
    pub reader: Box<dyn Read + Send>,
}

pub struct Client {
    transport: Transport,
    auth: Auth,
    logins: Box<Lookup>,
}

impl Client {
    /// A client without credentials (anonymous pulls).
    pub fn new(opts: Options) -> Client {
        Client {
            transport: Transport::new(opts),
            auth: Auth::default(),
            logins: Box::new(|_| Ok(None)),
        }
    }

    /// Credentials by registry name, looked up when a registry asks.
    pub fn with_logins(mut self, lookup: Box<Lookup>) -> Client {
        self.logins = lookup;
        self
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The low-level call push and pull share: `method` on `target` (a
    /// `/v2/...` path or an absolute URL the registry gave) with the
    /// Authorization for `scope`; a 401 is answered through its challenge
    /// and the request sent once more (a reader body cannot be sent
    /// twice: authenticate with an earlier request of the same scope).
    #[allow(clippy::too_many_arguments)]
    pub fn request(
        &self,
        repo: &Repository,
        scope: &str,
        method: Method,
        target: &str,
        headers: &[(&str, String)],
        mut body: Body<'_>,
        what: &str,
    ) -> Result<Response<ureq::Body>> {
        let host = repo.endpoint.host.as_str();
        let login = (self.logins)(&repo.registry)?;
        let mut all: Vec<(&str, String)> = headers.to_vec();
        if let Some(h) = self.auth.cached(host, scope, login.as_ref()) {
            all.push(("authorization", h));
        }
        let replayable = !matches!(body, Body::Reader(_));
        let resp = self.transport.send(
            &repo.endpoint,
            method.clone(),
            target,
            &all,
            reborrow(&mut body),
            what,
        )?;
        if resp.status().as_u16() != 401 || !replayable {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let had_auth = all.iter().any(|(k, _)| *k == "authorization");
        self.auth.forget(host, scope);
        let header = self.auth.answer(
            &self.transport,
            host,
            &repo.registry,
            &challenge,
            scope,
            login.as_ref(),
        )?;
        all.retain(|(k, _)| *k != "authorization");
        all.push(("authorization", header));
        let resp = self
            .transport
            .send(&repo.endpoint, method, target, &all, body, what)?;
        if resp.status().as_u16() == 401 {
            return Err(match (&login, had_auth) {
                (Some(_), _) => Error::BadCredentials {
                    host: host.to_string(),
                    registry: repo.registry.clone(),
                },
                (None, _) => Error::Denied {
                    registry: repo.registry.clone(),
                    repo: repo.path.clone(),
                },
            });
        }
        Ok(resp)
    }

    /// `GET /v2/`: checks the endpoint is a registry (and, with a login,
    /// that the credentials work).
    pub fn ping(&self, repo: &Repository) -> Result<()> {
        let resp = self.request(
            repo,
            "",
            Method::GET,
            "/v2/",
            &[],
            Body::Empty,
            "the API version check",
        )?;
        let status = resp.status().as_u16();
        if status == 200 && is_registry(&resp) {
            return Ok(());
        }
        Err(self.status_error(repo, resp, "the API version check"))
    }

    /// The manifest (or index) `reference` names, checked against the
    /// digest asked for or the one the registry announced.
    pub fn get_manifest(&self, repo: &Repository, reference: &str) -> Result<Fetched> {
        let what = format!("manifest {}:{reference}", repo.path);
        let target = format!("/v2/{}/manifests/{reference}", repo.path);
        let resp = self.request(
            repo,
            &repo.scope("pull"),
            Method::GET,
            &target,
            &[("accept", MANIFEST_ACCEPT.to_string())],
            Body::Empty,
            &what,
        )?;
        if resp.status().as_u16() != 200 {
            return Err(self.status_error(repo, resp, &what));
        }
        let media_type = header(&resp, "content-type").unwrap_or_default();
        if !is_registry(&resp) && media_type.starts_with("text/html") {
            return Err(self.status_error(repo, resp, &what));
        }
        let announced = header(&resp, "docker-content-digest");
        let bytes = resp
            .into_body()
            .with_config()
            .limit(MANIFEST_LIMIT)
            .read_to_vec()
            .map_err(|e| self.transport.classify(&repo.endpoint.host, e, &what))?;
        let digest = Digest::of(&bytes);
        let expected = match reference.parse::<Digest>() {
            Ok(d) => Some(d.to_string()),
            Err(_) => announced.filter(|a| a.starts_with("sha256:")),
        };
        if let Some(e) = expected {
            if e != digest.as_str() {
                return Err(Error::DigestMismatch {
                    what,
                    expected: e,
                    actual: digest.to_string(),
                });
            }
        }
        Ok(Fetched {
            bytes,
            media_type: media_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
            digest,
        })
    }

    /// `HEAD` of a manifest: its digest, or None when absent.
    pub fn head_manifest(&self, repo: &Repository, reference: &str) -> Result<Option<Digest>> {
        let what = format!("manifest {}:{reference}", repo.path);
        let target = format!("/v2/{}/manifests/{reference}", repo.path);
        let resp = self.request(
            repo,
            &repo.scope("pull"),
            Method::HEAD,
            &target,
            &[("accept", MANIFEST_ACCEPT.to_string())],
            Body::Empty,
            &what,
        )?;
        match resp.status().as_u16() {
            200 => Ok(header(&resp, "docker-content-digest").and_then(|d| d.parse().ok())),
            404 => Ok(None),
            _ => Err(self.status_error(repo, resp, &what)),
        }
    }

    /// A small blob (an image config) of `size` bytes, read whole and
    /// checked; a cut or stalled transfer is resumed (Range) and retried.
    pub fn get_blob_bytes(
        &self,
        repo: &Repository,
        digest: &Digest,
        size: u64,
        what: &str,
    ) -> Result<Vec<u8>> {
        let opts = self.transport.options();
        let attempts = opts.attempts.max(1);
        let mut wait = opts.backoff;
        let mut data = Vec::new();
        for attempt in 1..=attempts {
            match self.read_blob_into(repo, digest, size, what, &mut data) {
                Ok(()) => break,
                Err(e) if attempt < attempts && transient(&e) => {
                    std::thread::sleep(wait);
                    wait *= 2;
                }
                Err(e) => return Err(e),
            }
        }
        let actual = Digest::of(&data);
        if &actual != digest {
            return Err(Error::DigestMismatch {
                what: what.to_string(),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(data)
    }

    /// Appends the rest of the blob to `data` (all of it when the server
    /// ignores the Range); at most one byte past `size`, so an oversized
    /// blob fails its digest rather than filling memory.
    fn read_blob_into(
        &self,
        repo: &Repository,
        digest: &Digest,
        size: u64,
        what: &str,
        data: &mut Vec<u8>,
    ) -> Result<()> {
        let mut s = self.get_blob(repo, digest, data.len() as u64, what)?;
        if s.offset == 0 {
            data.clear();
        }
        let limit = size.saturating_sub(data.len() as u64) + 1;
        (&mut s.reader)
            .take(limit)
            .read_to_end(data)
            .map_err(|e| self.read_error(repo, e, what))?;
        if (data.len() as u64) < size {
            return Err(Error::Truncated {
                host: repo.endpoint.host.clone(),
                what: what.to_string(),
                got: data.len() as u64,
                expected: size,
            });
        }
        Ok(())
    }

    /// The blob from byte `offset` on (a Range request when not 0); the
    /// returned offset is 0 when the server sent the whole blob instead.
    pub fn get_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        offset: u64,
        what: &str,
    ) -> Result<BlobStream> {
        let target = format!("/v2/{}/blobs/{digest}", repo.path);
        let mut headers = Vec::new();
        if offset > 0 {
            headers.push(("range", format!("bytes={offset}-")));
        }
        let resp = self.request(
            repo,
            &repo.scope("pull"),
            Method::GET,
            &target,
            &headers,
            Body::Empty,
            what,
        )?;
        let status = resp.status().as_u16();
        let offset = match status {
            200 => 0,
            206 => offset,
            // The partial file already holds the whole blob.
            416 if offset > 0 => {
                return Ok(BlobStream {
                    offset,
                    remaining: Some(0),
                    reader: Box::new(std::io::empty()),
                })
            }
            _ => return Err(self.status_error(repo, resp, what)),
        };
        let remaining = header(&resp, "content-length").and_then(|v| v.parse().ok());
        let reader = resp.into_body().into_reader();
        Ok(BlobStream {
            offset,
            remaining,
            reader: Box::new(reader),
        })
    }

    /// A foreign layer from one of its URLs (http or https, no
    /// credentials: it is not the registry), from byte `offset` on.
    pub fn get_url(&self, url: &str, offset: u64, what: &str) -> Result<BlobStream> {
        let ep = Endpoint::from_url(url).map_err(|_| Error::Status {
            host: url.to_string(),
            what: format!("{what} (its URL is not http or https)"),
            status: 0,
        })?;
        let mut headers = Vec::new();
        if offset > 0 {
            headers.push(("range", format!("bytes={offset}-")));
        }
        let resp = self
            .transport
            .send(&ep, Method::GET, url, &headers, Body::Empty, what)?;
        let offset = match resp.status().as_u16() {
            200 => 0,
            206 => offset,
            status => {
                return Err(Error::Status {
                    host: ep.host,
                    what: what.to_string(),
                    status,
                })
            }
        };
        let remaining = header(&resp, "content-length").and_then(|v| v.parse().ok());
        Ok(BlobStream {
            offset,
            remaining,
            reader: Box::new(resp.into_body().into_reader()),
        })
    }

    /// `GET /v2/<path>/tags/list`.
    pub fn tags(&self, repo: &Repository) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let what = format!("the tags of {}", repo.path);
        let target = format!("/v2/{}/tags/list", repo.path);
        let resp = self.request(
            repo,
            &repo.scope("pull"),
            Method::GET,
            &target,
            &[],
            Body::Empty,
            &what,
        )?;
        if resp.status().as_u16() != 200 {
            return Err(self.status_error(repo, resp, &what));
        }
        let bytes = resp
            .into_body()
            .with_config()
            .limit(MANIFEST_LIMIT)
            .read_to_vec()
            .map_err(|e| self.transport.classify(&repo.endpoint.host, e, &what))?;
        let t: Tags = serde_json::from_slice(&bytes)
            .map_err(|e| Error::malformed(&repo.endpoint.host, what.clone(), e))?;
        Ok(t.tags.unwrap_or_default())
    }

    /// A read error of a response body, as husk reports it.
    pub fn read_error(&self, repo: &Repository, e: std::io::Error, what: &str) -> Error {
        self.transport
            .classify(&repo.endpoint.host, ureq::Error::from(e), what)
    }

    /// A status the caller did not expect, named for the user: the
    /// registry's JSON error codes when it sent them.
    pub fn status_error(&self, repo: &Repository, resp: Response<ureq::Body>, what: &str) -> Error {
        let status = resp.status().as_u16();
        let host = repo.endpoint.host.clone();
        let registry_header = is_registry(&resp);
        let codes = error_codes(resp);
        if !registry_header && codes.is_empty() && matches!(status, 200 | 404 | 405 | 400) {
            return Error::NotRegistry {
                url: format!("{}/v2/", self.transport.base_url(&repo.endpoint)),
                status,
            };
        }
        let has = |c: &str| codes.iter().any(|x| x == c);
        match status {
            401 => Error::NoChallenge { host },
            403 => Error::Denied {
                registry: repo.registry.clone(),
                repo: repo.path.clone(),
            },
            404 if has("NAME_UNKNOWN") => Error::Denied {
                registry: repo.registry.clone(),
                repo: repo.path.clone(),
            },
            404 if what.starts_with("manifest ") => Error::ManifestUnknown {
                reference: what["manifest ".len()..].to_string(),
            },
            _ => Error::Status {
                host,
                what: what.to_string(),
                status,
            },
        }
    }
}

/// The `code`s of a registry's `{"errors":[{"code":…}]}` body.
fn error_codes(resp: Response<ureq::Body>) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Code>,
    }
    #[derive(serde::Deserialize)]
    struct Code {
        code: String,
    }
    let body = resp
        .into_body()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    serde_json::from_slice::<Errors>(&body)
        .map(|e| e.errors.into_iter().map(|c| c.code).collect())
        .unwrap_or_default()
}

/// Every answer of a distribution registry carries this header.
fn is_registry(resp: &Response<ureq::Body>) -> bool {
    resp.headers()
        .contains_key("docker-distribution-api-version")
}

fn header(resp: &Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The same body again, for a second send (bytes) or the only one (reader).
fn reborrow<'a>(b: &'a mut Body<'_>) -> Body<'a> {
    match b {
        Body::Empty => Body::Empty,
        Body::Bytes(x) => Body::Bytes(x),
        Body::Reader(r) => Body::Reader(*r),
    }
}
