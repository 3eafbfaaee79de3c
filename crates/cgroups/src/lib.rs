//! Cgroups v1, v2 and hybrid hosts through cgroupfs: limits from the OCI spec, freezing,
//! statistics and removal, for one container at a time (`Manager`).
//!
//! Every controller is driven where the host actually mounts it, so a hybrid host (v1
//! hierarchies plus a unified one owning, say, hugetlb) needs no special case.
//!
//! Lifecycle: `Manager::new` (paths only) → `validate` → `create` → `apply(pid)` and
//! `set(resources)` in either order (both work; `set` after `apply` is runc's order) →
//! `freeze`/`thaw`/`stats`/`set` (update) → `destroy`. The `Manager` serialises to JSON so
//! a later process acts on exactly the same directories.

mod devices;
mod error;
mod freezer;
mod fsio;
mod layout;
mod manager;
mod path;
mod remove;
mod resources;
pub mod stats;
mod systemd;

pub use devices::default_device_rules;
pub use error::{Error, Result};
pub use layout::{Hierarchy, Layout, Version};
pub use manager::{CgroupDir, Manager};
pub use resources::blkio::blkio_weight_to_io_weight;
pub use resources::cpu::shares_to_weight;
pub use stats::Stats;
pub use systemd::Unit as SystemdUnit;
