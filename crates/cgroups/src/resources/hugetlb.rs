use oci_spec::runtime::LinuxResources;

use crate::error::{Error, Result};
use crate::fsio;
use crate::layout::Version;
use crate::manager::Manager;

/// "2MB", "1GB", "64KB": the size names the kernel uses in hugetlb file names.
fn check_page_size(s: &str) -> Result<()> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !matches!(unit, "KB" | "MB" | "GB")
    {
        return Err(Error::invalid(
            "hugepageLimits.pageSize",
            format!("{s:?} is not a size like 2MB or 1GB"),
        ));
    }
    Ok(())
}

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(limits) = r.hugepage_limits() else {
        return Ok(());
    };
    for l in limits {
        check_page_size(l.page_size())?;
        if l.limit() < -1 {
            return Err(Error::invalid(
                "hugepageLimits.limit",
                format!("{} is below -1", l.limit()),
            ));
        }
    }
    if !limits.is_empty() {
        m.require("hugetlb", "hugepageLimits")?;
    }
    Ok(())
}

/// v1: `hugetlb.<size>.limit_in_bytes`; v2: `hugetlb.<size>.max`. Where the kernel has
/// reservation accounting (rsvd files) that limit is set too, as runc does, so a mapping
/// cannot reserve past the limit and fault later.
pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(limits) = r.hugepage_limits() else {
        return Ok(());
    };
    if limits.is_empty() {
        return Ok(());
    }
    let d = m.require("hugetlb", "hugepageLimits")?;
    for l in limits {
        let size = l.page_size();
        let (file, rsvd, value) = match d.version {
            Version::V1 => (
                format!("hugetlb.{size}.limit_in_bytes"),
                format!("hugetlb.{size}.rsvd.limit_in_bytes"),
                l.limit().to_string(),
            ),
            Version::V2 => (
                format!("hugetlb.{size}.max"),
                format!("hugetlb.{size}.rsvd.max"),
                super::v2_limit(l.limit()),
            ),
        };
        fsio::write(&d.path, &file, &value)?;
        if fsio::exists(&d.path, &rsvd) {
            fsio::write(&d.path, &rsvd, &value)?;
        }
    }
    Ok(())
}
