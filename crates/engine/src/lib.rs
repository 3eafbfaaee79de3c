//! The engine behind the `husk` CLI: docker's verbs over images, containers,
//! volumes and networks, in docker's output formats.
//!
//! Modules, lowest first; a module imports only from modules above it in
//! this list (never from one below), so the path of a request reads top-down:
//!
//! ```text
//! error                      the engine's Error
//! proc, logtime, format      leaves: /proc and flock; log timestamps; docker's output conventions
//! config                     docker's flags → checked values (caps, mounts, resources, seccomp, log)
//! store                      container records, names, ids, paths, locks, resolve
//! events                     the events journal every verb and monitor appends to
//! images                     rmi and prune over husk-image's Store
//! volumes                    local volumes; mount points realized, volume copy-up
//! network                    bridge/host/none/container: modes over husk-network; config.toml
//! registry                   config.toml's [registry] → a husk-registry client
//! oci                        a container record → the OCI runtime spec
//! monitor                    `husk __monitor`: the runtime driver, supervision, terminal relay,
//!                            the json-file writer, teardown
//! lifecycle                  one file per verb: create, start, attach/logs, exec, kill/stop/wait,
//!                            rm, and the reconciliation every verb runs first
//! views                      docker's shapes: ps, inspect, images, image inspect, history;
//!                            x-ray, which, why: the kernel's view of a container
//! build                      `husk build`: Dockerfile steps through lifecycle's create/start
//! ```

// docker's inspect document is one large `json!` literal.
#![recursion_limit = "256"]

pub mod error;

pub mod format;
pub mod logtime;
pub mod proc;

pub mod config;
pub mod store;

pub mod events;

pub mod images;
pub mod network;
pub mod registry;
pub mod volumes;

pub mod oci;

pub mod monitor;

pub mod lifecycle;

pub mod views;

pub mod build;

pub mod compose;

pub use error::{Error, Result};
