use oci_spec::runtime::{LinuxRdma, LinuxResources};

use crate::error::{Error, Result};
use crate::fsio;
use crate::manager::Manager;

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(rdma) = r.rdma() else { return Ok(()) };
    for dev in rdma.keys() {
        if dev.is_empty() || dev.contains(char::is_whitespace) {
            return Err(Error::invalid(
                "rdma",
                format!("{dev:?} is not a device name"),
            ));
        }
    }
    if !rdma.is_empty() {
        m.require("rdma", "rdma")?;
    }
    Ok(())
}

/// "mlx4_0 hca_handle=2 hca_object=max": the same rdma.max syntax on v1 and v2.
pub(crate) fn line(dev: &str, l: &LinuxRdma) -> String {
    let v = |x: Option<u32>| x.map_or_else(|| "max".to_string(), |x| x.to_string());
    format!(
        "{dev} hca_handle={} hca_object={}",
        v(l.hca_handles()),
        v(l.hca_objects())
    )
}

pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(rdma) = r.rdma() else { return Ok(()) };
    if rdma.is_empty() {
        return Ok(());
    }
    let d = m.require("rdma", "rdma")?;
    // Sorted so the writes are deterministic (the spec's map has no order).
    let mut devs: Vec<_> = rdma.iter().collect();
    devs.sort_by(|a, b| a.0.cmp(b.0));
    for (dev, l) in devs {
        fsio::append(&d.path, "rdma.max", &line(dev, l))?;
    }
    Ok(())
}
