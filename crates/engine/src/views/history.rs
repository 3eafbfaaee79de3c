//! `husk history`.

use husk_image::{Image, Store};
use serde::Serialize;

use crate::format::{ellipsis, go_time, human_size, since, Template};
use crate::{Error, Result};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryRow {
    pub comment: String,
    pub created_at: String,
    pub created_by: String,
    pub created_since: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub size: String,
}

#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    pub quiet: bool,
    pub no_trunc: bool,
    pub format: Option<String>,
}

/// Newest entry first; the top one carries the image id, an entry that
/// ends a local image this one was made from (a `commit`'s or a build
/// step's parent: same history and layers up to there) that image's id,
/// the rest `<missing>` (their images never existed here), as docker shows.
pub fn rows(store: &Store, image: &Image, opts: &HistoryOptions) -> Result<Vec<HistoryRow>> {
    let cfg = store.config(image)?;
    let sizes: Vec<u64> = store
        .chain_ids(image)?
        .iter()
        .map(|c| store.layers.meta(c).map(|m| m.size))
        .collect::<std::result::Result<_, _>>()?;
    let now = chrono::Utc::now();
    let mut history = cfg.history.clone();
    if history.is_empty() {
        history = sizes.iter().map(|_| Default::default()).collect();
    }
    let mut layer = 0;
    let mut out = Vec::new();
    for h in &history {
        let size = if h.empty_layer {
            0
        } else {
            let s = sizes.get(layer).copied().unwrap_or(0);
            layer += 1;
            s
        };
        let by = h.created_by.clone().unwrap_or_default();
        out.push(HistoryRow {
            comment: h.comment.clone().unwrap_or_default(),
            created_at: go_time(h.created.as_deref()),
            created_by: if opts.no_trunc { by } else { ellipsis(&by, 45) },
            created_since: since(h.created.as_deref(), now),
            id: "<missing>".into(),
            size: human_size(size),
        });
    }
    let ids = ancestors(store, image, &cfg)?;
    for (i, id) in ids {
        if let Some(row) = out.get_mut(i) {
            row.id = if opts.no_trunc {
                id.to_string()
            } else {
                id.short().to_string()
            };
        }
    }
    out.reverse();
    if let Some(top) = out.first_mut() {
        top.id = if opts.no_trunc {
            image.id.to_string()
        } else {
            image.id.short().to_string()
        };
    }
    Ok(out)
}

/// Local images whose history and layers are a proper prefix of the
/// image's: (index of their last history entry, their id).
fn ancestors(
    store: &Store,
    image: &Image,
    cfg: &husk_image::types::ImageConfig,
) -> Result<Vec<(usize, husk_image::Digest)>> {
    let hist = |c: &husk_image::types::ImageConfig| -> Vec<serde_json::Value> {
        c.history
            .iter()
            .map(|h| serde_json::to_value(h).unwrap_or_default())
            .collect()
    };
    let mine = hist(cfg);
    let mut out = Vec::new();
    for other in store.images()? {
        if other.id == image.id {
            continue;
        }
        // An image whose config cannot be read is not an ancestor to show.
        let Ok(oc) = store.config(&other) else {
            continue;
        };
        let theirs = hist(&oc);
        if !theirs.is_empty()
            && theirs.len() < mine.len()
            && mine.starts_with(&theirs)
            && cfg.rootfs.diff_ids.starts_with(&oc.rootfs.diff_ids)
        {
            out.push((theirs.len() - 1, other.id.clone()));
        }
    }
    Ok(out)
}

pub fn render(rows: &[HistoryRow], opts: &HistoryOptions) -> Result<String> {
    let format = match (&opts.format, opts.quiet) {
        (_, true) => "{{.ID}}".to_string(),
        (Some(f), _) => f.clone(),
        (None, _) => {
            "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}".into()
        }
    };
    let t = Template::parse(&format)?;
    let values = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|source| Error::Json {
            what: "history row",
            source,
        })?;
    Ok(t.render_all(&values, |f| match f {
        "ID" => "IMAGE".into(),
        "CreatedSince" => "CREATED".into(),
        "CreatedBy" => "CREATED BY".into(),
        "CreatedAt" => "CREATED AT".into(),
        other => other.to_uppercase(),
    }))
}
