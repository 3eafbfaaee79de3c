//! Image names the way docker reads them: `busybox` means
//! `docker.io/library/busybox:latest`; lists show the short "familiar" form.

use std::fmt;

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
        let bad = |reason| Error::InvalidReference {
            name: s.to_string(),
            reason,
        };
        if s.contains('@') {
            return Err(bad("digest references cannot be tagged"));
        }
        // A ':' after the last '/' starts the tag; one before is a registry port.
        let last_slash = s.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match s[last_slash..].rfind(':') {
            Some(i) => (&s[..last_slash + i], &s[last_slash + i + 1..]),
            None => (s, DEFAULT_TAG),
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
        let domain = if has_domain {
            parts.remove(0)
        } else {
            DEFAULT_DOMAIN
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
        Ok(Reference {
            repo: format!("{domain}/{path}"),
            tag: tag.to_string(),
        })
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
        let r = Reference::parse("docker.io/library/debian:12").unwrap();
        assert_eq!(r.familiar(), "debian:12");
        assert_eq!(
            Reference::parse("user/app").unwrap().familiar(),
            "user/app:latest"
        );
    }

    #[test]
    fn rejects_bad_names() {
        for bad in ["", "Foo", "a:", "a:-x", "a@sha256:00", "a//b", ":tag"] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }
}
