//! HTTP to registries: ureq 3 over rustls (ring), one agent per host so
//! each gets its own TLS setup (system roots plus `certs.d/HOST[:PORT]`),
//! plain http for loopback and `insecure_registries` hosts that do not
//! speak TLS, redirects followed by hand so credentials never go to
//! another host, and retries with backoff for what is worth retrying.
//!
//! No thread is ever started here: ureq resolves names on the calling
//! thread as long as no resolve, per-call or global timeout is set (it
//! spawns a lookup thread only to enforce those), so none is set.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ureq::http::{self, Method, Response, Uri};
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
use ureq::{Agent, SendBody};

use crate::reference::is_loopback;
use crate::{Error, Result};

/// Redirects followed before giving up (blob storage adds one or two).
const MAX_REDIRECTS: usize = 10;
/// The longest a 429's Retry-After is obeyed; longer is an error to report.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What the engine config and the command line decide.
#[derive(Debug, Clone)]
pub struct Options {
    /// Hosts (`HOST[:PORT]`) that may use plain http or unverified TLS.
    pub insecure_registries: Vec<String>,
    /// docker's certs.d: `DIR/HOST[:PORT]/{ca.crt, client.cert, client.key}`.
    pub certs_dir: Option<PathBuf>,
    /// A read that waits longer than this for a byte fails as stalled.
    pub stall_timeout: Duration,
    /// Tries of one request before a transient failure is reported.
    pub attempts: u32,
    /// The first retry's wait; it doubles each time.
    pub backoff: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            insecure_registries: Vec::new(),
            certs_dir: None,
            stall_timeout: Duration::from_secs(30),
            attempts: 4,
            backoff: Duration::from_millis(500),
        }
    }
}

/// `https` unless the host is known to speak plain http.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Https,
    Http,
}

/// Where requests go: a host and, for mirrors given as URLs, its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `HOST[:PORT]`.
    pub host: String,
    /// Forced by the configuration; `None` is https, falling back to http
    /// for loopback and insecure hosts whose port does not speak TLS.
    pub scheme: Option<Scheme>,
}

impl Endpoint {
    pub fn new(host: &str) -> Endpoint {
        Endpoint {
            host: host.to_string(),
            scheme: None,
        }
    }

    /// `http://127.0.0.1:5000` or `https://mirror.example` (a path is ignored).
    pub fn from_url(url: &str) -> Result<Endpoint> {
        let bad = || Error::BadMirror {
            mirror: url.to_string(),
        };
        let (scheme, rest) = if let Some(r) = url.strip_prefix("http://") {
            (Scheme::Http, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (Scheme::Https, r)
        } else {
            return Err(bad());
        };
        let host = rest.split('/').next().unwrap_or("");
        if host.is_empty() || host.contains(['@', '?', '#', ' ']) {
            return Err(bad());
        }
        Ok(Endpoint {
            host: host.to_string(),
            scheme: Some(scheme),
        })
    }
}

/// A request body: bytes can be sent again on a retry or a redirect, a
/// reader only once.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    Reader(&'a mut (dyn Read + Send)),
}

pub struct Transport {
    opts: Options,
    agents: Mutex<HashMap<(String, bool), Agent>>,
    /// Hosts whose port answered a TLS hello in plain http.
    plain: Mutex<HashSet<String>>,
    system_roots: OnceLock<Arc<Vec<Certificate<'static>>>>,
}

impl Transport {
    pub fn new(opts: Options) -> Transport {
        Transport {
            opts,
            agents: Mutex::new(HashMap::new()),
            plain: Mutex::new(HashSet::new()),
            system_roots: OnceLock::new(),
        }
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Whether `host` may use plain http or unverified TLS.
    pub fn insecure(&self, host: &str) -> bool {
        self.opts.insecure_registries.iter().any(|h| h == host)
    }

    fn may_fall_back(&self, host: &str) -> bool {
        is_loopback(host) || self.insecure(host)
    }

    /// The base URL (`https://host:port`) requests to `ep` use now.
    pub fn base_url(&self, ep: &Endpoint) -> String {
        let plain = match ep.scheme {
            Some(s) => s == Scheme::Http,
            None => lock(&self.plain).contains(&ep.host),
        };
        format!("{}://{}", if plain { "http" } else { "https" }, ep.host)
    }

    /// Sends `method` to `target` (a `/v2/...` path on `ep`, or an absolute
    /// URL a registry gave, such as an upload location), retrying
    /// transient failures and following redirects. Statuses other than
    /// 429 and 502-504 come back as responses for the caller to read;
    /// `what` names the request in errors.
    pub fn send(
        &self,
        ep: &Endpoint,
        method: Method,
        target: &str,
        headers: &[(&str, String)],
        mut body: Body<'_>,
        what: &str,
    ) -> Result<Response<ureq::Body>> {
        let once = matches!(body, Body::Reader(_));
        let attempts = if once { 1 } else { self.opts.attempts.max(1) };
        let mut wait = self.opts.backoff;
        for attempt in 1..=attempts {
            let last = attempt == attempts;
            match self.send_following(ep, &method, target, headers, &mut body) {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if !matches!(status, 429 | 502..=504) {
                        return Ok(resp);
                    }
                    if last {
                        return Err(Error::Unavailable {
                            host: ep.host.clone(),
                            what: what.to_string(),
                            status,
                            attempts,
                        });
                    }
                    let after = retry_after(&resp).unwrap_or(wait);
                    if after > MAX_RETRY_AFTER {
                        return Err(Error::Unavailable {
                            host: ep.host.clone(),
                            what: what.to_string(),
                            status,
                            attempts: attempt,
                        });
                    }
                    std::thread::sleep(after);
                }
                Err(e) => {
                    // Nothing listens there: trying again will not change that.
                    let refused = matches!(&e, ureq::Error::ConnectionFailed)
                        || matches!(&e, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused);
                    let e = self.classify(&ep.host, e, what);
                    if last || refused || !transient(&e) {
                        return Err(e);
                    }
                    std::thread::sleep(wait);
                }
            }
            wait *= 2;
        }
        unreachable_attempts()
    }

    /// One try, following redirects (the Authorization header is dropped
    /// when a redirect leaves the host, as docker does for blob storage).
    fn send_following(
        &self,
        ep: &Endpoint,
        method: &Method,
        target: &str,
        headers: &[(&str, String)],
        body: &mut Body<'_>,
    ) -> Result<Response<ureq::Body>, ureq::Error> {
        let mut url = if target.starts_with("http://") || target.starts_with("https://") {
            target.to_string()
        } else {
            format!("{}{target}", self.base_url(ep))
        };
        let mut method = method.clone();
        let mut same_host = true;
        for _ in 0..=MAX_REDIRECTS {
            let resp = self.send_once(ep, &method, &url, headers, body, same_host)?;
            if !resp.status().is_redirection() {
                return Ok(resp);
            }
            let Some(next) = location(&url, &resp) else {
                return Ok(resp);
            };
            same_host = same_host && authority(&next) == authority(&url);
            // 303 (and 301/302 for anything but GET/HEAD, as browsers and
            // Go do) turns into a GET without a body.
            let status = resp.status().as_u16();
            if status == 303 || (matches!(status, 301 | 302) && method != Method::HEAD) {
                if method != Method::HEAD {
                    method = Method::GET;
                }
                *body = Body::Empty;
            }
            url = next;
        }
        Err(ureq::Error::TooManyRedirects)
    }

    fn send_once(
        &self,
        ep: &Endpoint,
        method: &Method,
        url: &str,
        headers: &[(&str, String)],
        body: &mut Body<'_>,
        with_auth: bool,
    ) -> Result<Response<ureq::Body>, ureq::Error> {
        let uri: Uri = url.parse().map_err(|_| ureq::Error::BadUri(url.into()))?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let tls = uri.scheme_str() == Some("https");
        let agent = self
            .agent(&host, tls)
            .map_err(|e| ureq::Error::Other(Box::new(e)))?;
        let mut b = http::Request::builder().method(method.clone()).uri(uri);
        for (k, v) in headers {
            if !with_auth && k.eq_ignore_ascii_case("authorization") {
                continue;
            }
            b = b.header(*k, v.as_str());
        }
        let result = match body {
            Body::Empty => agent.run(b.body(())?),
            Body::Bytes(bytes) => agent.run(b.body(*bytes)?),
            Body::Reader(r) => {
                let mut r: &mut dyn Read = *r;
                agent.run(b.body(SendBody::from_reader(&mut r))?)
            }
        };
        match result {
            // The port answered in plain http: use http from now on, if allowed.
            Err(e)
                if tls
                    && ep.scheme.is_none()
                    && host == ep.host
                    && self.may_fall_back(&host)
                    && not_tls(&e) =>
            {
                lock(&self.plain).insert(host.clone());
                let plain_url = format!("http://{}", &url["https://".len()..]);
                self.send_once(ep, method, &plain_url, headers, body, with_auth)
            }
            other => other,
        }
    }

    fn agent(&self, host: &str, tls: bool) -> Result<Agent> {
        let key = (host.to_string(), tls);
        if let Some(a) = lock(&self.agents).get(&key) {
            return Ok(a.clone());
        }
        let mut cfg = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("husk/", env!("CARGO_PKG_VERSION")))
            // Bytes as sent: digests are over the compressed blob.
            .accept_encoding("identity")
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(self.opts.stall_timeout))
            .timeout_per_write(Some(self.opts.stall_timeout));
        if tls {
            cfg = cfg.tls_config(self.tls_config(host)?);
        }
        let agent: Agent = cfg.build().into();
        lock(&self.agents).insert(key, agent.clone());
        Ok(agent)
    }

    fn tls_config(&self, host: &str) -> Result<TlsConfig> {
        let mut roots: Vec<Certificate<'static>> = self.system_roots().as_ref().clone();
        let mut client = None;
        if let Some(dir) = self.opts.certs_dir.as_ref().map(|d| d.join(host)) {
            let (cas, cert) = read_certs_dir(&dir)?;
            roots.extend(cas);
            client = cert;
        }
        // ring (the stack chosen: no aws-lc, no C toolchain beyond ring's)
        // as ureq's own `rustls` feature would set it, without the bundled
        // root store that feature brings: roots are the system's (below).
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(TlsConfig::builder()
            .unversioned_rustls_crypto_provider(provider)
            .root_certs(RootCerts::Specific(Arc::new(roots)))
            .client_cert(client)
            .disable_verification(self.insecure(host))
            .build())
    }

    fn system_roots(&self) -> &Arc<Vec<Certificate<'static>>> {
        self.system_roots.get_or_init(|| {
            // Unreadable system certificates leave only certs.d: the TLS
            // error that follows names that directory.
            let found = rustls_native_certs::load_native_certs();
            Arc::new(
                found
                    .certs
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                    .collect(),
            )
        })
    }

    /// A ureq error as husk reports it.
    pub fn classify(&self, host: &str, e: ureq::Error, what: &str) -> Error {
        if let ureq::Error::Other(inner) = &e {
            if inner.is::<Error>() {
                if let ureq::Error::Other(inner) = e {
                    if let Ok(mine) = inner.downcast::<Error>() {
                        return *mine;
                    }
                }
                return Error::Cancelled;
            }
        }
        if is_stall(&e) {
            return Error::Stalled {
                host: host.to_string(),
                what: what.to_string(),
                secs: self.opts.stall_timeout.as_secs().max(1),
            };
        }
        if is_tls(&e) {
            return Error::Tls {
                host: host.to_string(),
                certs_dir: self
                    .opts
                    .certs_dir
                    .as_ref()
                    .map_or("certs.d".into(), |d| d.display().to_string()),
                source: e,
            };
        }
        Error::Connect {
            host: host.to_string(),
            source: e,
        }
    }
}

/// Errors worth another try: the connection, not the request, failed.
pub fn transient(e: &Error) -> bool {
    matches!(
        e,
        Error::Connect { .. } | Error::Stalled { .. } | Error::Truncated { .. }
    )
}

fn unreachable_attempts<T>() -> Result<T> {
    // The loop returns on its last attempt; this keeps the type honest.
    Err(Error::Cancelled)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking thread leaves valid data behind (inserts only).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn retry_after(resp: &Response<ureq::Body>) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The absolute URL a redirect points to.
fn location(current: &str, resp: &Response<ureq::Body>) -> Option<String> {
    let loc = resp.headers().get("location")?.to_str().ok()?;
    if loc.starts_with("http://") || loc.starts_with("https://") {
        return Some(loc.to_string());
    }
    let uri: Uri = current.parse().ok()?;
    let base = format!("{}://{}", uri.scheme_str()?, uri.authority()?.as_str());
    if loc.starts_with('/') {
        Some(format!("{base}{loc}"))
    } else {
        let path = uri.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        Some(format!("{base}{dir}{loc}"))
    }
}

fn authority(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    Some(format!(
        "{}://{}",
        uri.scheme_str()?,
        uri.authority()?.as_str()
    ))
}

fn rustls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(r) => Some(r),
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

/// The server answered the TLS hello with something that is not TLS, or
/// hung up on it (an http server that could not parse it).
fn not_tls(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) if io.get_ref().is_none_or(|i| !i.is::<rustls::Error>()) => matches!(
            io.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
        ),
        _ => matches!(rustls_error(e), Some(rustls::Error::InvalidMessage(_))),
    }
}

fn is_tls(e: &ureq::Error) -> bool {
    rustls_error(e).is_some() || matches!(e, ureq::Error::Tls(_) | ureq::Error::Pem(_))
}

fn is_stall(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Timeout(t) => !matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve),
        ureq::Error::BodyStalled => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ),
        _ => false,
    }
}

/// docker's certs.d layout: `*.crt` are CAs, `X.cert` + `X.key` a client pair.
fn read_certs_dir(dir: &Path) -> Result<(Vec<Certificate<'static>>, Option<ClientCert>)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), None)),
        Err(e) => return Err(Error::io("read certs directory", dir, e)),
    };
    let mut names: Vec<PathBuf> = Vec::new();
    for ent in entries {
        names.push(
            ent.map_err(|e| Error::io("read certs directory", dir, e))?
                .path(),
        );
    }
    names.sort();
    let mut cas = Vec::new();
    let mut client = None;
    for p in &names {
        match p.extension().and_then(|e| e.to_str()) {
            Some("crt") => cas.extend(pem_items(p)?.into_iter().filter_map(|i| match i {
                PemItem::Certificate(c) => Some(c),
                _ => None,
            })),
            Some("cert") => {
                let key_path = p.with_extension("key");
                let chain: Vec<Certificate<'static>> = pem_items(p)?
                    .into_iter()
                    .filter_map(|i| match i {
                        PemItem::Certificate(c) => Some(c),
                        _ => None,
                    })
                    .collect();
                let key: Option<PrivateKey<'static>> =
                    pem_items(&key_path)?.into_iter().find_map(|i| match i {
                        PemItem::PrivateKey(k) => Some(k),
                        _ => None,
                    });
                if let Some(key) = key {
                    client = Some(ClientCert::new_with_certs(&chain, key));
                }
            }
            _ => {}
        }
    }
    Ok((cas, client))
}

fn pem_items(path: &Path) -> Result<Vec<PemItem<'static>>> {
    let data = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    ureq::tls::parse_pem(&data)
        .map(|i| {
            i.map(|i| match i {
                PemItem::Certificate(c) => PemItem::Certificate(c.to_owned()),
                PemItem::PrivateKey(k) => PemItem::PrivateKey(k.to_owned()),
                other => other,
            })
            .map_err(|source| Error::Cert {
                path: path.to_path_buf(),
                source,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_urls() {
        let e = Endpoint::from_url("http://127.0.0.1:5000/").unwrap();
        assert_eq!(
            (e.host.as_str(), e.scheme),
            ("127.0.0.1:5000", Some(Scheme::Http))
        );
        assert!(Endpoint::from_url("127.0.0.1:5000").is_err());
        assert!(Endpoint::from_url("https://").is_err());
    }

    #[test]
    fn relative_redirects() {
        let resp = Response::builder()
            .status(307)
            .header("location", "/blobs/x")
            .body(ureq::Body::builder().data(""))
            .unwrap();
        assert_eq!(
            location("http://h:1/v2/a/blobs/sha256:1", &resp).as_deref(),
            Some("http://h:1/blobs/x")
        );
    }
}
