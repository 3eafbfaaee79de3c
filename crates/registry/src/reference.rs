//! What `husk pull` is given: a name with a tag, a digest, or both, in
//! docker's normalization (husk_image::Reference does the name part), and
//! where its registry is.

use std::fmt;

use husk_image::{Digest, Reference};

use crate::Result;

/// docker.io's registry host, as docker reaches it.
pub const DOCKER_HUB_HOST: &str = "registry-1.docker.io";

/// `busybox`, `busybox:1.36`, `busybox@sha256:…`, `host:5000/a/b:tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The name, with tag `latest` when neither tag nor digest was given.
    pub name: Reference,
    /// Whether a tag was written (`busybox` and `busybox@sha256:…` have none).
    pub tagged: bool,
    pub digest: Option<Digest>,
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<ImageRef> {
        let (name, tagged, digest) = Reference::parse_pinned(s)?;
        Ok(ImageRef {
            name,
            tagged,
            digest,
        })
    }

    /// A tagged reference to `name`.
    pub fn tagged(name: Reference) -> ImageRef {
        ImageRef {
            name,
            tagged: true,
            digest: None,
        }
    }

    /// The registry as named: `docker.io`, `localhost:5000`.
    pub fn registry(&self) -> &str {
        self.name.domain()
    }

    /// The repository on its registry: `library/busybox`.
    pub fn path(&self) -> &str {
        self.name.path()
    }

    /// What `/v2/<path>/manifests/<reference>` asks for: the digest when
    /// pinned (it wins over a tag, as in docker), else the tag.
    pub fn manifest_reference(&self) -> String {
        match &self.digest {
            Some(d) => d.to_string(),
            None => self.name.tag().to_string(),
        }
    }

    /// The tag or digest part alone, as docker's `latest: Pulling from` line shows it.
    pub fn tag_or_digest(&self) -> String {
        self.manifest_reference()
    }

    /// Whether the content is pinned by digest (then no tag is recorded).
    pub fn pinned(&self) -> bool {
        self.digest.is_some()
    }

    /// `busybox:latest` or `busybox@sha256:…`, as docker prints it.
    pub fn familiar(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}@{d}", self.name.familiar_repo()),
            None => self.name.familiar(),
        }
    }
}

/// `docker.io/library/busybox:latest` or `docker.io/library/busybox@sha256:…`.
impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.digest {
            Some(d) => write!(f, "{}@{d}", self.name.repo()),
            None => write!(f, "{}", self.name),
        }
    }
}

/// The host serving `registry`'s API (docker.io is served elsewhere).
pub fn api_host(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" => DOCKER_HUB_HOST,
        other => other,
    }
}

/// Hosts docker lets speak plain http without configuration.
pub fn is_loopback(host: &str) -> bool {
    let name = host_without_port(host);
    name == "localhost"
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `127.0.0.1` from `127.0.0.1:5000`, `[::1]` from `[::1]:5000`.
pub fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_normalization() {
        let r = ImageRef::parse("busybox").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
        assert_eq!((r.registry(), r.path()), ("docker.io", "library/busybox"));
        assert_eq!(api_host(r.registry()), DOCKER_HUB_HOST);
        assert!(!r.tagged);
        let hex = "b".repeat(64);
        let r = ImageRef::parse(&format!("127.0.0.1:5000/x/busybox:1@sha256:{hex}")).unwrap();
        assert_eq!(r.manifest_reference(), format!("sha256:{hex}"));
        assert_eq!(
            r.familiar(),
            format!("127.0.0.1:5000/x/busybox@sha256:{hex}")
        );
        assert!(ImageRef::parse("x/UPPER").is_err());
    }

    #[test]
    fn loopback_hosts() {
        for h in ["localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:80"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["docker.io", "10.0.0.1:5000", "example.com"] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
