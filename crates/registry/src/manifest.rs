//! What a manifest endpoint can answer: an image manifest (docker schema 2
//! or OCI) or an index (docker manifest list or OCI index) to choose a
//! platform from; docker schema 1 is refused.

use std::fmt;

use husk_image::types::{
    Descriptor, Index, Manifest, MT_DOCKER_LIST, MT_DOCKER_MANIFEST, MT_OCI_INDEX, MT_OCI_MANIFEST,
};

use crate::client::Fetched;
use crate::{Error, Result};

pub enum Parsed {
    Image(Manifest),
    Index(Index),
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shape {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    layers: Option<serde_json::Value>,
    #[serde(default)]
    fs_layers: Option<serde_json::Value>,
}

/// Reads `f` (fetched from `host` for `reference`) by its media type, or
/// its shape when the registry sent none.
pub fn parse(f: &Fetched, host: &str, reference: &str) -> Result<Parsed> {
    let what = || format!("manifest {reference}");
    if f.media_type.contains("distribution.manifest.v1") {
        return Err(Error::Schema1 {
            reference: reference.to_string(),
        });
    }
    let shape: Shape =
        serde_json::from_slice(&f.bytes).map_err(|e| Error::malformed(host, what(), e))?;
    if shape.schema_version == Some(1) || shape.fs_layers.is_some() {
        return Err(Error::Schema1 {
            reference: reference.to_string(),
        });
    }
    let mt = match f.media_type.as_str() {
        "" | "application/json" | "text/plain" => shape.media_type.clone().unwrap_or_default(),
        other => other.to_string(),
    };
    let is_index = match mt.as_str() {
        MT_OCI_INDEX | MT_DOCKER_LIST => true,
        MT_OCI_MANIFEST | MT_DOCKER_MANIFEST => false,
        "" if shape.manifests.is_some() => true,
        "" if shape.layers.is_some() => false,
        other => {
            return Err(Error::MediaType {
                reference: reference.to_string(),
                media_type: other.to_string(),
            })
        }
    };
    if is_index {
        let i: Index =
            serde_json::from_slice(&f.bytes).map_err(|e| Error::malformed(host, what(), e))?;
        Ok(Parsed::Index(i))
    } else {
        let mut m: Manifest =
            serde_json::from_slice(&f.bytes).map_err(|e| Error::malformed(host, what(), e))?;
        if m.media_type.is_none() {
            m.media_type = Some(if mt.is_empty() {
                MT_OCI_MANIFEST.into()
            } else {
                mt
            });
        }
        Ok(Parsed::Image(m))
    }
}

/// `OS/ARCH[/VARIANT]`, as `--platform` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// This machine: `linux/amd64` here.
    pub fn host() -> Platform {
        let architecture = husk_image::types::host_arch().to_string();
        Platform {
            os: "linux".into(),
            variant: default_variant(&architecture).map(str::to_string),
            architecture,
        }
    }

    pub fn parse(s: &str) -> Result<Platform> {
        let bad = || Error::BadPlatform {
            given: s.to_string(),
        };
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(ok) {
            return Err(bad());
        }
        let architecture = normalize_arch(parts[1]).to_string();
        if !KNOWN_ARCHES.contains(&architecture.as_str()) || !KNOWN_OSES.contains(&parts[0]) {
            return Err(bad());
        }
        Ok(Platform {
            os: parts[0].to_string(),
            variant: parts
                .get(2)
                .map(|v| v.to_string())
                .or_else(|| default_variant(&architecture).map(str::to_string)),
            architecture,
        })
    }

    /// Whether an index entry's platform is this one.
    pub fn matches(&self, p: &husk_image::types::Platform) -> bool {
        let arch = normalize_arch(&p.architecture);
        let variant = p
            .variant
            .clone()
            .or_else(|| default_variant(arch).map(str::to_string));
        p.os == self.os
            && arch == self.architecture
            && (self.variant.is_none() || variant == self.variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(v) if Some(v.as_str()) != default_variant(&self.architecture) => write!(f, "/{v}"),
            _ => Ok(()),
        }
    }
}

const KNOWN_OSES: &[&str] = &["linux", "windows", "darwin", "freebsd"];
const KNOWN_ARCHES: &[&str] = &[
    "amd64", "386", "arm", "arm64", "ppc64le", "s390x", "riscv64", "mips64le", "loong64",
];

/// containerd's aliases: `x86_64`, `aarch64`.
fn normalize_arch(a: &str) -> &str {
    match a {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" => "386",
        other => other,
    }
}

/// The variant an index entry without one means (arm64 is v8, arm v7).
fn default_variant(arch: &str) -> Option<&'static str> {
    match arch {
        "arm64" => Some("v8"),
        "arm" => Some("v7"),
        _ => None,
    }
}

/// The index entry for `want`; an error listing what there is otherwise.
pub fn select<'a>(index: &'a Index, want: &Platform, reference: &str) -> Result<&'a Descriptor> {
    index
        .manifests
        .iter()
        .filter(|d| d.media_type != MT_OCI_INDEX && d.media_type != MT_DOCKER_LIST)
        .find(|d| d.platform.as_ref().is_some_and(|p| want.matches(p)))
        .ok_or_else(|| {
            let available: Vec<String> = index
                .manifests
                .iter()
                .filter_map(|d| d.platform.as_ref())
                .filter(|p| p.os != "unknown")
                .map(|p| {
                    let mut s = format!("{}/{}", p.os, p.architecture);
                    if let Some(v) = &p.variant {
                        s.push('/');
                        s.push_str(v);
                    }
                    s
                })
                .collect();
            Error::NoPlatform {
                reference: reference.to_string(),
                wanted: want.to_string(),
                available: if available.is_empty() {
                    "no platforms".into()
                } else {
                    available.join(", ")
                },
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use husk_image::Digest;

    fn entry(arch: &str, variant: Option<&str>) -> Descriptor {
        let mut d = Descriptor::new(MT_OCI_MANIFEST, Digest::of(arch.as_bytes()), 1);
        d.platform = Some(husk_image::types::Platform {
            architecture: arch.into(),
            os: "linux".into(),
            variant: variant.map(str::to_string),
        });
        d
    }

    #[test]
    fn platform_selection() {
        let index = Index {
            manifests: vec![
                entry("arm64", Some("v8")),
                entry("amd64", None),
                entry("arm", Some("v6")),
            ],
            ..Index::default()
        };
        let pick =
            |p: &str| select(&index, &Platform::parse(p).unwrap(), "x").map(|d| d.digest.clone());
        assert_eq!(pick("linux/amd64").unwrap(), Digest::of(b"amd64"));
        assert_eq!(pick("linux/arm64").unwrap(), Digest::of(b"arm64"));
        assert_eq!(pick("linux/arm/v6").unwrap(), Digest::of(b"arm"));
        let err = pick("linux/s390x").unwrap_err().to_string();
        assert!(
            err.contains("linux/arm64/v8, linux/amd64, linux/arm/v6"),
            "{err}"
        );
        assert!(pick("linux/arm").is_err());
    }

    #[test]
    fn bad_platforms() {
        for bad in [
            "linux",
            "linux/",
            "Linux/amd64",
            "linux/amd64/v1/x",
            "linux/vax",
            "plan9/amd64",
        ] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Platform::parse("linux/aarch64").unwrap().to_string(),
            "linux/arm64"
        );
    }

    #[test]
    fn schema1_refused() {
        let f = Fetched {
            bytes: br#"{"schemaVersion":1,"fsLayers":[]}"#.to_vec(),
            media_type: "application/vnd.docker.distribution.manifest.v1+prettyjws".into(),
            digest: Digest::of(b""),
        };
        assert!(matches!(parse(&f, "h", "x:1"), Err(Error::Schema1 { .. })));
        let f = Fetched {
            media_type: String::new(),
            ..f
        };
        assert!(matches!(parse(&f, "h", "x:1"), Err(Error::Schema1 { .. })));
    }
}
