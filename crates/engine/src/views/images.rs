//! `husk images`.

use husk_image::Store;
use serde::Serialize;

use crate::format::{go_time, human_size, since, Template};
use crate::{Error, Result};

/// One row of `husk images`; field names are docker's `--format` names.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRow {
    pub containers: String,
    pub created_at: String,
    pub created_since: String,
    pub digest: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub repository: String,
    pub shared_size: String,
    pub size: String,
    pub tag: String,
    pub unique_size: String,
    pub virtual_size: String,
    #[serde(skip)]
    created: String,
}

#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub quiet: bool,
    pub digests: bool,
    pub no_trunc: bool,
    pub format: Option<String>,
    /// Only images with no name (`--filter dangling=true`).
    pub dangling_only: bool,
    /// `-a`: intermediate images too (a build's unnamed steps that another
    /// image builds on), which docker hides by default.
    pub all: bool,
}

/// What names an image's place in a build: its layers and its history.
fn lineage(cfg: &husk_image::types::ImageConfig) -> String {
    serde_json::json!([cfg.rootfs.diff_ids, cfg.history]).to_string()
}

/// The lineage of the image `cfg` was built on by one step: one history
/// entry less, and one layer less unless that entry was metadata only.
fn parent_lineage(cfg: &husk_image::types::ImageConfig) -> Option<String> {
    let (last, history) = cfg.history.split_last()?;
    let mut diff_ids = cfg.rootfs.diff_ids.clone();
    if !last.empty_layer {
        diff_ids.pop()?;
    }
    Some(serde_json::json!([diff_ids, history]).to_string())
}

pub fn rows(store: &Store, opts: &ListOptions) -> Result<Vec<ImageRow>> {
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    let images = store.images()?;
    let configs = images
        .iter()
        .map(|i| store.config(i))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    // docker hides intermediate images: unnamed ones another image was
    // built on by one step (`husk build` makes one per step).
    let parents: std::collections::HashSet<String> = if opts.all {
        Default::default()
    } else {
        configs.iter().filter_map(parent_lineage).collect()
    };
    for (img, cfg) in images.into_iter().zip(configs) {
        if opts.dangling_only && (!img.names.is_empty() || !store.repo_digests(&img)?.is_empty()) {
            continue;
        }
        if img.names.is_empty() && parents.contains(&lineage(&cfg)) {
            continue;
        }
        let size = human_size(store.size(&img)?);
        let id = if opts.no_trunc {
            img.id.to_string()
        } else {
            img.id.short().to_string()
        };
        let created = cfg.created.clone().unwrap_or_default();
        // (familiar repository, digest) of each reference it was pulled by.
        let pins: Vec<(String, String)> = store
            .repo_digests(&img)?
            .iter()
            .filter_map(|p| husk_image::Reference::parse_pinned(p).ok())
            .filter_map(|(r, _, d)| Some((r.familiar_repo().to_string(), d?.to_string())))
            .collect();
        let digest_of = |repo: &str| {
            pins.iter()
                .find(|(r, _)| r == repo)
                .map_or("<none>".to_string(), |(_, d)| d.clone())
        };
        let row = |repo: &str, tag: &str| ImageRow {
            containers: "N/A".into(),
            created_at: go_time(cfg.created.as_deref()),
            created_since: since(cfg.created.as_deref(), now),
            digest: digest_of(repo),
            id: id.clone(),
            repository: repo.into(),
            shared_size: "N/A".into(),
            size: size.clone(),
            tag: tag.into(),
            unique_size: "N/A".into(),
            virtual_size: size.clone(),
            created: created.clone(),
        };
        if img.names.is_empty() {
            match pins.first() {
                // Pulled by digest only: docker lists the repository untagged.
                Some((repo, _)) => out.push(row(repo, "<none>")),
                None => out.push(row("<none>", "<none>")),
            }
        }
        let mut names = img.names.clone();
        names.sort();
        for n in &names {
            out.push(row(n.familiar_repo(), n.tag()));
        }
    }
    // Newest first, as docker lists them.
    out.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then(a.repository.cmp(&b.repository))
            .then(a.tag.cmp(&b.tag))
    });
    Ok(out)
}

pub fn render(rows: &[ImageRow], opts: &ListOptions) -> Result<String> {
    let format = match (&opts.format, opts.quiet, opts.digests) {
        (_, true, _) => "{{.ID}}".to_string(),
        (Some(f), _, _) => f.clone(),
        (None, _, true) => {
            "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                .into()
        }
        (None, _, false) => {
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}".into()
        }
    };
    let t = Template::parse(&format)?;
    let values = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|source| Error::Json {
            what: "image row",
            source,
        })?;
    Ok(t.render_all(&values, header))
}

fn header(field: &str) -> String {
    match field {
        "ID" => "IMAGE ID".into(),
        "CreatedSince" => "CREATED".into(),
        "CreatedAt" => "CREATED AT".into(),
        "VirtualSize" => "VIRTUAL SIZE".into(),
        "SharedSize" => "SHARED SIZE".into(),
        "UniqueSize" => "UNIQUE SIZE".into(),
        other => other.to_uppercase(),
    }
}
