//! The root filesystem: the overlay mount as mountinfo shows it, each
//! lower dir traced back to its image layer (the `l/<short>` symlink →
//! `layers/<chain id>/diff` → the diff id, size and history step), and
//! what the container changed in its upper dir so far.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::store::{Container, Paths};

/// How many changes the text shows; JSON has them all.
pub const CHANGES_SHOWN: usize = 12;

#[derive(Debug, Clone, Serialize)]
pub struct Rootfs {
    /// `overlay on MERGED type overlay (OPTIONS)`, from /proc/self/mountinfo.
    pub mount: String,
    pub merged: PathBuf,
    /// Top layer first, as overlay stacks them.
    pub lower: Vec<Layer>,
    pub upper: PathBuf,
    pub work: PathBuf,
    /// docker diff's `A /path`, `C /path`, `D /path`.
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Layer {
    /// As the mount names it (`/var/lib/husk/l/ABCD...`).
    pub dir: String,
    /// Where that leads (`/var/lib/husk/layers/<hex>/diff`).
    pub target: PathBuf,
    pub chain_id: String,
    pub diff_id: String,
    /// Unpacked bytes.
    pub size: u64,
    /// The image history step that made it (`ADD file:... in /`).
    pub created_by: String,
}

pub fn rootfs(paths: &Paths, c: &Container) -> Rootfs {
    let dir = paths.dir(&c.id);
    let merged = dir.join("merged");
    let (mount, lowerdirs) = mount_line(&merged);
    let lowerdirs = lowerdirs.unwrap_or_else(|| c.lower_dirs.clone());
    let upper = dir.join("upper");
    let changes = husk_layers::changes(&upper, &c.lower_dirs)
        .map(|v| v.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    Rootfs {
        mount,
        lower: layers(paths, c, &lowerdirs),
        merged,
        upper,
        work: dir.join("work"),
        changes,
    }
}

/// The mountinfo line of the overlay on `merged` in mount(8)'s words, and
/// its `lowerdir=` list.
fn mount_line(merged: &Path) -> (String, Option<Vec<String>>) {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let want = merged.to_string_lossy();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.splitn(3, ' ').collect();
        if l.get(4) != Some(&want.as_ref()) || r.len() < 3 {
            continue;
        }
        let (fstype, source, sup) = (r[0], r[1], r[2]);
        let opts = l.get(5).copied().unwrap_or("");
        let lower = sup
            .split(',')
            .find_map(|o| o.strip_prefix("lowerdir="))
            .map(|s| s.split(':').map(String::from).collect());
        return (
            format!("{source} on {want} type {fstype} ({opts},{sup})"),
            lower,
        );
    }
    (format!("nothing is mounted on {want}"), None)
}

fn layers(paths: &Paths, c: &Container, lowerdirs: &[String]) -> Vec<Layer> {
    let store = husk_image::Store::open_read(&paths.root).ok();
    let image = store.as_ref().and_then(|s| s.resolve(&c.image_id).ok());
    // Bottom first: chain id → (diff id, size, history step).
    let mut known: Vec<(String, String, u64, String)> = Vec::new();
    if let (Some(s), Some(i)) = (&store, &image) {
        let chains = s.chain_ids(i).unwrap_or_default();
        let cfg = s.config(i).ok();
        let diff_ids = cfg
            .as_ref()
            .map(|c| c.rootfs.diff_ids.clone())
            .unwrap_or_default();
        let steps: Vec<String> = cfg
            .as_ref()
            .map(|c| {
                c.history
                    .iter()
                    .filter(|h| !h.empty_layer)
                    .map(|h| h.created_by.clone().unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default();
        for (n, chain) in chains.iter().enumerate() {
            known.push((
                chain.hex().to_string(),
                diff_ids.get(n).map(ToString::to_string).unwrap_or_default(),
                s.layers.meta(chain).map(|m| m.size).unwrap_or(0),
                steps.get(n).cloned().unwrap_or_default(),
            ));
        }
    }
    lowerdirs
        .iter()
        .map(|d| {
            let target = std::fs::canonicalize(d).unwrap_or_else(|_| PathBuf::from(d));
            // layers/<hex>/diff
            let hex = target
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let k = known.iter().find(|k| k.0 == hex);
            Layer {
                dir: d.clone(),
                chain_id: format!("sha256:{hex}"),
                diff_id: k.map(|k| k.1.clone()).unwrap_or_default(),
                size: k.map(|k| k.2).unwrap_or(0),
                created_by: k.map(|k| k.3.clone()).unwrap_or_default(),
                target,
            }
        })
        .collect()
}
