use oci_spec::runtime::{LinuxBlockIo, LinuxResources, LinuxThrottleDevice};

use crate::error::{Error, Result};
use crate::fsio;
use crate::layout::Version;
use crate::manager::{CgroupDir, Manager};

/// The v1 controller is "blkio", the v2 one "io".
fn dir(m: &Manager) -> Result<&CgroupDir> {
    m.dir_for("blkio")
        .or_else(|| m.dir_for("io"))
        .ok_or(Error::ControllerMissing {
            field: "blockIO".into(),
            controller: "blkio",
        })
}

fn check_weight(field: &str, w: Option<u16>) -> Result<()> {
    match w {
        Some(w) if w != 0 && !(10..=1000).contains(&w) => {
            Err(Error::invalid(field, format!("{w} is outside 10..1000")))
        }
        _ => Ok(()),
    }
}

fn check_dev(field: &str, major: i64, minor: i64) -> Result<()> {
    if major < 0 || minor < 0 {
        return Err(Error::invalid(
            field,
            format!("device {major}:{minor} is negative"),
        ));
    }
    Ok(())
}

fn list(v: &Option<Vec<LinuxThrottleDevice>>) -> &[LinuxThrottleDevice] {
    v.as_deref().unwrap_or(&[])
}

fn throttles(b: &LinuxBlockIo) -> [(&'static str, &'static str, &[LinuxThrottleDevice]); 4] {
    [
        (
            "blkio.throttle.read_bps_device",
            "rbps",
            list(b.throttle_read_bps_device()),
        ),
        (
            "blkio.throttle.write_bps_device",
            "wbps",
            list(b.throttle_write_bps_device()),
        ),
        (
            "blkio.throttle.read_iops_device",
            "riops",
            list(b.throttle_read_iops_device()),
        ),
        (
            "blkio.throttle.write_iops_device",
            "wiops",
            list(b.throttle_write_iops_device()),
        ),
    ]
}

fn is_empty(b: &LinuxBlockIo) -> bool {
    b.weight().is_none()
        && b.leaf_weight().is_none()
        && !matches!(b.weight_device(), Some(v) if !v.is_empty())
        && throttles(b).iter().all(|(_, _, v)| v.is_empty())
}

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(b) = r.block_io() else { return Ok(()) };
    check_weight("blockIO.weight", b.weight())?;
    check_weight("blockIO.leafWeight", b.leaf_weight())?;
    for wd in b.weight_device().iter().flatten() {
        check_dev("blockIO.weightDevice", wd.major(), wd.minor())?;
        check_weight("blockIO.weightDevice.weight", wd.weight())?;
        check_weight("blockIO.weightDevice.leafWeight", wd.leaf_weight())?;
    }
    for (file, _, devs) in throttles(b) {
        for t in devs {
            check_dev(file, t.major(), t.minor())?;
        }
    }
    if !is_empty(b) {
        dir(m)?;
    }
    Ok(())
}

pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(b) = r.block_io() else { return Ok(()) };
    if is_empty(b) {
        return Ok(());
    }
    let d = dir(m)?;
    match d.version {
        Version::V1 => set_v1(d, b),
        Version::V2 => set_v2(d, b),
    }
}

fn set_v1(d: &CgroupDir, b: &LinuxBlockIo) -> Result<()> {
    let dir = &d.path;
    // BFQ's files replace CFQ's on current kernels; prefer them as runc does.
    let bfq = fsio::exists(dir, "blkio.bfq.weight");
    let (weight, weight_device) = if bfq {
        ("blkio.bfq.weight", "blkio.bfq.weight_device")
    } else {
        ("blkio.weight", "blkio.weight_device")
    };
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        fsio::write(dir, weight, &w.to_string())?;
    }
    if let Some(w) = b.leaf_weight().filter(|w| *w != 0) {
        fsio::write(dir, "blkio.leaf_weight", &w.to_string())?;
    }
    for wd in b.weight_device().iter().flatten() {
        let dev = format!("{}:{}", wd.major(), wd.minor());
        if let Some(w) = wd.weight().filter(|w| *w != 0) {
            fsio::append(dir, weight_device, &format!("{dev} {w}"))?;
        }
        if let Some(w) = wd.leaf_weight().filter(|w| *w != 0) {
            fsio::append(dir, "blkio.leaf_weight_device", &format!("{dev} {w}"))?;
        }
    }
    for (file, _, devs) in throttles(b) {
        for t in devs {
            fsio::append(
                dir,
                file,
                &format!("{}:{} {}", t.major(), t.minor(), t.rate()),
            )?;
        }
    }
    Ok(())
}

/// io.weight's range (1..10000) from blkio's (10..1000), runc's ConvertBlkIOToIOWeightValue.
pub fn blkio_weight_to_io_weight(w: u16) -> u64 {
    1 + (u64::from(w).saturating_sub(10)) * 9999 / 990
}

/// One io.max line per device, "MAJ:MIN rbps=N wiops=M", in the order devices first appear.
pub(crate) fn io_max_lines(b: &LinuxBlockIo) -> Vec<String> {
    let mut lines: Vec<((i64, i64), String)> = Vec::new();
    for (_, key, devs) in throttles(b) {
        for t in devs {
            let dev = (t.major(), t.minor());
            let kv = format!(" {key}={}", t.rate());
            match lines.iter_mut().find(|(d, _)| *d == dev) {
                Some((_, l)) => l.push_str(&kv),
                None => lines.push((dev, format!("{}:{}{kv}", dev.0, dev.1))),
            }
        }
    }
    lines.into_iter().map(|(_, l)| l).collect()
}

fn set_v2(d: &CgroupDir, b: &LinuxBlockIo) -> Result<()> {
    let dir = &d.path;
    let bfq = fsio::exists(dir, "io.bfq.weight");
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        if bfq {
            fsio::write(dir, "io.bfq.weight", &w.to_string())?;
        } else {
            fsio::write(dir, "io.weight", &blkio_weight_to_io_weight(w).to_string())?;
        }
    }
    for wd in b.weight_device().iter().flatten() {
        if let Some(w) = wd.weight().filter(|w| *w != 0) {
            let dev = format!("{}:{}", wd.major(), wd.minor());
            if bfq {
                fsio::append(dir, "io.bfq.weight", &format!("{dev} {w}"))?;
            } else {
                let w = blkio_weight_to_io_weight(w);
                fsio::append(dir, "io.weight", &format!("{dev} {w}"))?;
            }
        }
    }
    if b.leaf_weight().is_some() {
        eprintln!("husk-cgroups: warning: blockIO.leafWeight has no cgroup v2 file, ignored");
    }
    for line in io_max_lines(b) {
        fsio::append(dir, "io.max", &line)?;
    }
    Ok(())
}
