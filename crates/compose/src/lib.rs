//! Compose files per the [Compose Specification], loaded into a typed,
//! validated [`Project`]. Pure logic: no containers, no network, no engine;
//! the only I/O is reading the compose files, `.env` and `env_file`s.
//!
//! ```no_run
//! use husk_compose::{load, LoadOptions};
//!
//! let mut opts = LoadOptions::new("/srv/app");
//! opts.env = std::env::vars().collect();
//! opts.profiles = vec!["tools".into()];
//! let project = load(&opts)?;
//! for warning in &project.warnings {
//!     eprintln!("WARN {warning}");
//! }
//! for name in project.start_order(&[] as &[&str])? {
//!     let service = &project.services[&name];
//!     println!("{name}: {}", service.config_hash());
//! }
//! # Ok::<(), husk_compose::Error>(())
//! ```
//!
//! What [`load`] does, in docker compose's order:
//!
//! 1. finds the files (`-f`, `COMPOSE_FILE`, or `compose.yaml` & co. with
//!    their `compose.override.yaml`);
//! 2. reads the variables: the passed environment over the project's
//!    `.env` (never `std::env`, so loading is deterministic);
//! 3. parses each file and interpolates its strings (`$VAR`, `${VAR:-x}`,
//!    `${VAR:?msg}`, `$$`, ...); an unset variable becomes "" with a warning;
//! 4. merges the files (later wins; mappings, environment, labels, ports,
//!    volumes by target, ... merge; command and entrypoint are replaced);
//! 5. names the project (`-p`, `COMPOSE_PROJECT_NAME`, `name:`, directory);
//! 6. types everything into [`Service`], [`Network`], [`Volume`]: every
//!    short syntax becomes its long form, relative paths become absolute,
//!    unknown keys become warnings (`x-*` keys are allowed silently), bad
//!    values become one-line [`Error`]s naming file, key path and fix.
//!
//! The [`Project`] then answers which services a command acts on
//! ([`Project::services_for`], with profiles), in which order to start them
//! ([`Project::start_order`]), what `docker compose config` prints
//! ([`Project::canonical_yaml`]) and whether a service changed
//! ([`Service::config_hash`]).
//!
//! # YAML
//!
//! YAML is read with [`serde-saphyr`](https://crates.io/crates/serde-saphyr):
//! `serde_yaml` is unmaintained (archived in 2024) and its forks
//! (`serde_yaml_ng`, `serde_norway`) still sit on `unsafe-libyaml`, a
//! machine translation of C libyaml. serde-saphyr is actively maintained,
//! pure safe Rust (on the saphyr parser), supports merge keys (`<<: *x`,
//! common in compose files), refuses duplicate keys, and has budgets
//! against alias bombs, which matters for files a user may have been handed.
//! Its YAML 1.2 booleans mode keeps `restart: no` a string, as docker
//! compose (go-yaml v3) does. The canonical output is written by a small
//! writer of our own so its layout and quoting are exactly docker compose's.
//!
//! [Compose Specification]: https://github.com/compose-spec/compose-spec/blob/main/spec.md

mod canonical;
mod duration;
mod emit;
mod env;
mod error;
mod interpolate;
mod load;
mod merge;
mod model;
mod mount;
mod name;
mod order;
mod parse;
mod paths;
mod policy;
mod port;
mod shell;
mod size;
mod toplevel;
mod yaml;

pub use duration::{format_duration, parse_duration};
pub use error::Error;
pub use load::{load, LoadOptions, DEFAULT_FILES, OVERRIDE_FILES};
pub use model::{
    Build, Command, Condition, Dependency, EnvFile, ExtraHost, Project, Service, ServiceNetwork,
};
pub use mount::{BindOptions, Mount, MountType, TmpfsOptions, VolumeOptions};
pub use name::normalize_project_name;
pub use policy::{
    Deploy, HealthTest, Healthcheck, PullPolicy, ResourceLimits, Resources, Restart, RestartPolicy,
    Ulimit,
};
pub use port::{ExposedPort, Port, PortRange, Protocol};
pub use shell::split_words;
pub use size::parse_bytes;
pub use toplevel::{Ipam, IpamPool, Network, Volume};
