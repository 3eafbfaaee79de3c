//! `husk image inspect`: docker's JSON shape, key order included.

use husk_image::{Image, Store};
use serde::Serialize;
use serde_json::Value;

use crate::{Error, Result};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub parent: String,
    pub comment: String,
    pub created: String,
    pub docker_version: String,
    pub author: String,
    pub config: Value,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    pub size: u64,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
    pub metadata: Metadata,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    #[serde(rename = "Type")]
    pub kind: String,
    pub layers: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata {
    pub last_tag_time: String,
}

pub fn inspect(store: &Store, image: &Image) -> Result<ImageInspect> {
    let cfg = store.config(image)?;
    let raw: Value =
        serde_json::from_slice(&store.config_bytes(image)?).map_err(|source| Error::Json {
            what: "image config",
            source,
        })?;
    let text = |k: &str| {
        raw.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut tags: Vec<String> = image.names.iter().map(|n| n.familiar()).collect();
    tags.sort();
    Ok(ImageInspect {
        id: image.id.to_string(),
        repo_tags: tags,
        repo_digests: repo_digests(store, image)?,
        parent: String::new(),
        comment: cfg
            .history
            .last()
            .and_then(|h| h.comment.clone())
            .unwrap_or_else(|| text("comment")),
        created: cfg
            .created
            .clone()
            .unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        docker_version: text("docker_version"),
        author: cfg.author.clone().unwrap_or_default(),
        config: cfg.config.clone(),
        architecture: cfg.architecture.clone(),
        variant: cfg.variant.clone(),
        os: cfg.os.clone(),
        size: store.size(image)?,
        root_fs: RootFs {
            kind: cfg.rootfs.kind.clone(),
            layers: cfg.rootfs.diff_ids.iter().map(|d| d.to_string()).collect(),
        },
        metadata: Metadata {
            last_tag_time: "0001-01-01T00:00:00Z".into(),
        },
    })
}

/// `busybox@sha256:…` for each reference the image was pulled by.
fn repo_digests(store: &Store, image: &Image) -> Result<Vec<String>> {
    let mut out: Vec<String> = store
        .repo_digests(image)?
        .iter()
        .filter_map(|p| husk_image::Reference::parse_pinned(p).ok())
        .filter_map(|(r, _, d)| Some(format!("{}@{}", r.familiar_repo(), d?)))
        .collect();
    out.sort();
    Ok(out)
}

/// A JSON array indented with four spaces and a trailing newline, as docker prints.
pub fn to_docker_json<T: Serialize>(items: &[T]) -> Result<String> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    items.serialize(&mut ser).map_err(|source| Error::Json {
        what: "inspect output",
        source,
    })?;
    out.push(b'\n');
    Ok(String::from_utf8_lossy(&out).into_owned())
}
