//! The registry client's errors: one line each, naming the thing and the
//! fix; causes stay in `source` (husk_fs::Chain prints them once).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Image(#[from] husk_image::Error),
    #[error(transparent)]
    Layers(#[from] husk_layers::Error),
    #[error("cannot reach registry {host}: check the name and port, that it runs, and for plain http list it in insecure_registries")]
    Connect {
        host: String,
        #[source]
        source: ureq::Error,
    },
    #[error("TLS with registry {host} failed: put its CA in {certs_dir}/{host}/ca.crt, or list it in insecure_registries")]
    Tls {
        host: String,
        certs_dir: String,
        #[source]
        source: ureq::Error,
    },
    #[error("no data from {host} for {secs} s while reading {what}: the registry or the network stalled; pull again to resume")]
    Stalled {
        host: String,
        what: String,
        secs: u64,
    },
    #[error("registry {host} still answers {status} to {what} after {attempts} attempts: wait and pull again")]
    Unavailable {
        host: String,
        what: String,
        status: u16,
        attempts: u32,
    },
    #[error("registry {host} answered {status} to {what}{}", hint(*status))]
    Status {
        host: String,
        what: String,
        status: u16,
    },
    #[error("pull access denied for {repo}: the repository does not exist or needs 'husk login {registry}'")]
    Denied { registry: String, repo: String },
    #[error("registry {host} refused the credentials for {registry}: log in again with 'husk login {registry}'")]
    BadCredentials { host: String, registry: String },
    #[error("registry {host} answered 401 without a usable WWW-Authenticate challenge: it is not a registry husk can log in to (check the address)")]
    NoChallenge { host: String },
    #[error("{url} is not a registry (GET /v2/ answered {status} without Docker-Distribution-API-Version): check the host and port")]
    NotRegistry { url: String, status: u16 },
    #[error("token server {realm} gave no usable token: check the registry's auth configuration")]
    Token {
        realm: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("manifest for {reference} not found: check the name and tag (husk pull -a lists none either)")]
    ManifestUnknown { reference: String },
    #[error("{reference} is a docker schema 1 image, which is no longer supported: rebuild and push it with a current docker or skopeo")]
    Schema1 { reference: String },
    #[error(
        "{reference} has media type {media_type:?}, not an image manifest or index husk can pull"
    )]
    MediaType {
        reference: String,
        media_type: String,
    },
    #[error("no matching manifest for {wanted} in the manifest list entries of {reference} (it has {available}): choose one with --platform")]
    NoPlatform {
        reference: String,
        wanted: String,
        available: String,
    },
    #[error("invalid platform {given:?}: use OS/ARCH[/VARIANT], e.g. linux/amd64")]
    BadPlatform { given: String },
    #[error("{what} digest mismatch: expected {expected}, got {actual}: the registry served corrupt data, nothing was stored")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{what} from {host} is malformed: the registry served something that is not an image")]
    Malformed {
        host: String,
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("layer {digest} from {host} does not unpack: the registry served corrupt data; nothing of it was kept, pull again")]
    CorruptLayer {
        host: String,
        digest: String,
        #[source]
        source: husk_layers::Error,
    },
    #[error("{what} from {host} ended after {got} of {expected} bytes: pull again to resume")]
    Truncated {
        host: String,
        what: String,
        got: u64,
        expected: u64,
    },
    #[error("{op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("certificate file {}: use PEM (ca.crt, client.cert, client.key)", path.display())]
    Cert {
        path: PathBuf,
        #[source]
        source: ureq::Error,
    },
    #[error("registry mirror {mirror:?}: use http://HOST[:PORT] or https://HOST[:PORT]")]
    BadMirror { mirror: String },
    #[error("{url} is not an http or https URL")]
    BadUrl { url: String },
    #[error("{url} answered HTTP {status}")]
    FetchStatus { url: String, status: u16 },
    #[error("the pull was cancelled")]
    Cancelled,
    #[error("login to {registry} failed: the registry refused the user name or password: check them and log in again")]
    LoginRefused { registry: String },
    #[error("blob {digest} of the image is not in the store: pull or load the image again")]
    MissingBlob {
        digest: String,
        #[source]
        source: std::io::Error,
    },
    #[error("push access denied for {repo}: log in with 'husk login {registry}' as a user who may push there")]
    PushDenied { registry: String, repo: String },
    #[error("{reference} is pinned by digest: push a tag (husk tag IMAGE NAME:TAG, then husk push NAME:TAG)")]
    PushDigest { reference: String },
    #[error(transparent)]
    Fs(#[from] husk_fs::Error),
    #[error(transparent)]
    Credentials(#[from] crate::credentials::Error),
}

fn hint(status: u16) -> &'static str {
    match status {
        400..=499 => ": check the name and your access",
        _ => ": the registry failed, try again later",
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub fn malformed(
        host: &str,
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Malformed {
            host: host.to_string(),
            what: what.into(),
            source: source.into(),
        }
    }
}
