//! Cgroups v1, v2 and hybrid hosts through cgroupfs: limits from the OCI spec, freezing,
//! statistics and removal, for one container at a time (`Manager`).
//!
//! Every controller is driven where the host actually mounts it, so a hybrid host (v1
//! hierarchies plus a unified one owning, say, hugetlb) works without a special case.

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

pub use error::{Error, Result};
pub use layout::{Hierarchy, Layout, Version};
pub use manager::{CgroupDir, Manager};
pub use resources::blkio::blkio_weight_to_io_weight;
pub use resources::cpu::shares_to_weight;
pub use stats::Stats;
