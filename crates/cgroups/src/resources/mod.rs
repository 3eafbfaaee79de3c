//! Resource limits: one module per controller, each with `validate` (no writes) and `set`,
//! and each writing v1 or v2 files depending on where its controller lives.

pub(crate) mod blkio;
pub(crate) mod cpu;
pub(crate) mod cpuset;
pub(crate) mod hugetlb;
pub(crate) mod memory;
pub(crate) mod network;
pub(crate) mod pids;
pub(crate) mod rdma;
pub(crate) mod unified;

use oci_spec::runtime::LinuxResources;

use crate::devices;
use crate::error::{Error, Result};
use crate::manager::Manager;

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    devices::validate(m, r)?;
    memory::validate(m, r)?;
    cpu::validate(m, r)?;
    cpuset::validate(m, r)?;
    pids::validate(m, r)?;
    blkio::validate(m, r)?;
    hugetlb::validate(m, r)?;
    network::validate(m, r)?;
    rdma::validate(m, r)?;
    unified::validate(m, r)
}

/// The controllers `r` touches, by their v2 names plus unified keys' prefixes.
fn wanted_controllers(r: &LinuxResources) -> Vec<&str> {
    let mut c = Vec::new();
    let mut want = |yes: bool, name| {
        if yes {
            c.push(name)
        }
    };
    want(r.memory().is_some(), "memory");
    want(r.cpu().is_some(), "cpu");
    want(
        r.cpu()
            .as_ref()
            .is_some_and(|c| c.cpus().is_some() || c.mems().is_some()),
        "cpuset",
    );
    want(r.pids().is_some(), "pids");
    want(r.block_io().is_some(), "io");
    want(
        r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty()),
        "hugetlb",
    );
    want(r.rdma().as_ref().is_some_and(|h| !h.is_empty()), "rdma");
    for key in r.unified().iter().flat_map(|u| u.keys()) {
        if let Some((prefix, _)) = key.split_once('.') {
            c.push(prefix);
        }
    }
    c
}

/// runc's order: cpuset and devices first, `unified` last so its raw values win.
pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    m.enable_v2_controllers(&wanted_controllers(r));
    cpuset::set(m, r)?;
    devices::set(m, r)?;
    memory::set(m, r)?;
    cpu::set(m, r)?;
    pids::set(m, r)?;
    blkio::set(m, r)?;
    hugetlb::set(m, r)?;
    network::set(m, r)?;
    rdma::set(m, r)?;
    unified::set(m, r)
}

/// OCI uses -1 for "unlimited" and 0 (or absence) for "leave alone"; anything below -1 is
/// meaningless.
pub(crate) fn check_limit(field: &str, v: Option<i64>) -> Result<()> {
    match v {
        Some(v) if v < -1 => Err(Error::invalid(field, format!("{v} is below -1"))),
        _ => Ok(()),
    }
}

/// v1 takes "-1" for unlimited, v2 takes "max".
pub(crate) fn v2_limit(v: i64) -> String {
    if v < 0 {
        "max".to_string()
    } else {
        v.to_string()
    }
}
