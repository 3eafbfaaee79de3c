//! Image names the way docker reads them: `busybox` means
//! `docker.io/library/busybox:latest`; lists show the short "familiar" form.

use std::fmt;

use husk_layers::Digest;

use crate::{Error, Result};

const DEFAULT_DOMAIN: &str = "docker.io";
const OFFICIAL_PREFIX: &str = "library/";
pub const DEFAULT_TAG: &str = "latest";

/// A tagged name, stored fully qualified (`docker.io/library/busybox:latest`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    repo: String,
    tag: String,
}

impl Reference {
    /// Parses `NAME[:TAG]`; digests (`@sha256:`) are not names a store can tag.
    pub fn parse(s: &str) -> Result<Reference> {
        if s.contains('@') {
            return Err(Error::InvalidReference {
                name: s.to_string(),
                reason: "digest references cannot be tagged",
            });
        }
        Ok(Reference::parse_tagged(s)?.0)
    }

    /// Parses what a registry can serve: `NAME[:TAG][@sha256:HEX]`. Returns
    /// the name (tag `latest` when none was given), whether a tag was
    /// given, and the digest, which pins the content whatever the tag says.
    pub fn parse_pinned(s: &str) -> Result<(Reference, bool, Option<Digest>)> {
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) => {
                let d = d.parse::<Digest>().map_err(|_| Error::InvalidReference {
                    name: s.to_string(),
                    reason: "a digest is sha256: and 64 lowercase hex digits",
                })?;
                (n, Some(d))
            }
            None => (s, None),
        };
        let (r, tagged) = Reference::parse_tagged(name).map_err(|e| match e {
            Error::InvalidReference { reason, .. } => Error::InvalidReference {
                name: s.to_string(),
                reason,
            },
            other => other,
        })?;
        Ok((r, tagged, digest))
    }

    /// `NAME[:TAG]` and whether the tag was given.
    fn parse_tagged(s: &str) -> Result<(Reference, bool)> {
        let bad = |reason| Error::InvalidReference {
            name: s.to_string(),
            reason,
        };
        // A ':' after the last '/' starts the tag; one before is a registry port.
        let last_slash = s.rfind('/').map_or(0, |i| i + 1);
        let (name, tag, tagged) = match s[last_slash..].rfind(':') {
            Some(i) => (&s[..last_slash + i], &s[last_slash + i + 1..], true),
            None => (s, DEFAULT_TAG, false),
        };
        if name.is_empty() {
            return Err(bad("empty repository name"));
        }
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !tag_ok {
            return Err(bad(
                "tags are up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'",
            ));
        }
        let mut parts: Vec<&str> = name.split('/').collect();
        let has_domain = parts.len() > 1
            && (parts[0].contains(['.', ':'])
                || parts[0] == "localhost"
                || parts[0].bytes().any(|b| b.is_ascii_uppercase()));
        let domain = match has_domain {
            // docker's legacy name for the same registry.
            true if parts[0] == "index.docker.io" => {
                parts.remove(0);
                DEFAULT_DOMAIN
            }
            true => parts.remove(0),
            false => DEFAULT_DOMAIN,
        };
        for p in &parts {
            let ok = !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && p.as_bytes()[0].is_ascii_alphanumeric();
            if !ok {
                return Err(bad(
                    "repository name must be lowercase [a-z0-9] with '.', '_' or '-' between",
                ));
            }
        }
        let mut path = parts.join("/");
        if domain == DEFAULT_DOMAIN && parts.len() == 1 {
            path = format!("{OFFICIAL_PREFIX}{path}");
        }
        Ok((
            Reference {
                repo: format!("{domain}/{path}"),
                tag: tag.to_string(),
            },
            tagged,
        ))
    }

    /// The same repository with another tag (checked like a parsed one).
    pub fn with_tag(&self, tag: &str) -> Result<Reference> {
        Reference::parse(&format!("{}:{tag}", self.repo))
    }

    /// The registry: `docker.io`, `localhost:5000`.
    pub fn domain(&self) -> &str {
        self.repo.split_once('/').map_or("", |(d, _)| d)
    }

    /// The repository path on its registry: `library/busybox`.
    pub fn path(&self) -> &str {
        self.repo.split_once('/').map_or(&self.repo, |(_, p)| p)
    }

    /// `docker.io/library/busybox`.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// `busybox` (docker.io and library/ dropped), as `images` shows it.
    pub fn familiar_repo(&self) -> &str {
        let r = self.repo.strip_prefix("docker.io/").unwrap_or(&self.repo);
        r.strip_prefix(OFFICIAL_PREFIX).unwrap_or(r)
    }

    /// `busybox:latest`.
    pub fn familiar(&self) -> String {
        format!("{}:{}", self.familiar_repo(), self.tag)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.repo, self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_docker() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
        assert_eq!(r.familiar(), "busybox:latest");
        let r = Reference::parse("localhost:5000/a/b:v1").unwrap();
        assert_eq!(r.repo(), "localhost:5000/a/b");
        assert_eq!(r.tag(), "v1");
        assert_eq!(r.familiar(), "localhost:5000/a/b:v1");
        assert_eq!(
            Reference::parse("index.docker.io/busybox")
                .unwrap()
                .to_string(),
            "docker.io/library/busybox:latest"
        );
        let r = Reference::parse("docker.io/library/debian:12").unwrap();
        assert_eq!(r.familiar(), "debian:12");
        assert_eq!(
            Reference::parse("user/app").unwrap().familiar(),
            "user/app:latest"
        );
    }

    #[test]
    fn pinned_references() {
        let hex = "a".repeat(64);
        let (r, tagged, d) = Reference::parse_pinned(&format!("busybox@sha256:{hex}")).unwrap();
        assert_eq!(r.repo(), "docker.io/library/busybox");
        assert!(!tagged);
        assert_eq!(d.unwrap().hex(), hex);
        let (r, tagged, d) = Reference::parse_pinned("127.0.0.1:5000/x/y:v2").unwrap();
        assert_eq!(
            (r.domain(), r.path(), r.tag()),
            ("127.0.0.1:5000", "x/y", "v2")
        );
        assert!(tagged && d.is_none());
        for bad in ["busybox@sha256:12", "busybox@md5:00", "Busy@sha256:", "@"] {
            assert!(Reference::parse_pinned(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_bad_names() {
        for bad in ["", "Foo", "a:", "a:-x", "a@sha256:00", "a//b", ":tag"] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
