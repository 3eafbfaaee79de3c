//! `husk compose`: a Compose project (husk-compose's typed model) made
//! real with the engine's own verbs: networks, volumes and containers
//! named and labelled as docker compose names and labels them, so `husk
//! ps --filter label=com.docker.compose.project=NAME` and scripts written
//! for docker compose find them.
//!
//! There is no project state of its own: the labels are the record. What
//! a project has is what carries its project label.

mod convert;
mod down;
mod run;
mod up;

pub use convert::container_name;
pub use down::{down, DownOptions};
pub use run::{create_oneoff, RunOptions};
pub use up::{up, Progress, UpOptions};

use crate::store::{Container, Paths};
use crate::Result;

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const NUMBER: &str = "com.docker.compose.container-number";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// A one-off's full random id; its name carries the first 12 digits.
pub const SLUG: &str = "com.docker.compose.slug";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const IMAGE: &str = "com.docker.compose.image";
pub const VERSION: &str = "com.docker.compose.version";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";
/// The docker compose release whose labels these are.
pub const COMPAT_VERSION: &str = "2.20.2";

/// The project's service containers (not one-off `run` ones), by service
/// and number.
pub fn containers(paths: &Paths, project: &str) -> Result<Vec<Container>> {
    let mut out: Vec<Container> = paths
        .all()?
        .into_iter()
        .filter(|c| c.config.labels.get(PROJECT).map(String::as_str) == Some(project))
        .filter(|c| c.config.labels.get(ONEOFF).map(String::as_str) != Some("True"))
        .collect();
    out.sort_by_key(|c| (service_of(c).to_string(), number_of(c)));
    Ok(out)
}

/// The project's one-off `run` containers.
pub fn oneoffs(paths: &Paths, project: &str) -> Result<Vec<Container>> {
    Ok(paths
        .all()?
        .into_iter()
        .filter(|c| c.config.labels.get(PROJECT).map(String::as_str) == Some(project))
        .filter(|c| c.config.labels.get(ONEOFF).map(String::as_str) == Some("True"))
        .collect())
}

pub fn service_of(c: &Container) -> &str {
    c.config.labels.get(SERVICE).map_or("", String::as_str)
}

pub fn number_of(c: &Container) -> u32 {
    c.config
        .labels
        .get(NUMBER)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
