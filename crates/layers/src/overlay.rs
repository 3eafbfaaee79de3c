//! overlayfs mounts for containers: read-only image layers below, one
//! writable upper dir above.

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

use crate::{Error, Result};

/// The kernel copies mount data into one page.
const MAX_OPTIONS: usize = 4095;

/// Mounts an overlay at `merged`. `lowers` are given top layer first, the
/// order of overlay's `lowerdir=`; use [`crate::LayerStore::lowerdirs`] to
/// keep the option string short.
pub fn mount_overlay(lowers: &[PathBuf], upper: &Path, work: &Path, merged: &Path) -> Result<()> {
    let fail = |reason: String| Error::Overlay {
        path: merged.to_path_buf(),
        reason,
    };
    if lowers.is_empty() {
        return Err(fail("no lower layers".into()));
    }
    let mut lower = Vec::with_capacity(lowers.len());
    for p in lowers.iter().map(|p| p.as_path()).chain([upper, work]) {
        let s = p
            .to_str()
            .ok_or_else(|| fail(format!("{} is not valid UTF-8", p.display())))?;
        // ':' separates lower dirs and ',' options; the store never makes such paths.
        if s.contains([':', ',', '\\']) {
            return Err(fail(format!("{s} contains ':', ',' or '\\'")));
        }
        lower.push(s);
    }
    let (upper, work) = (lower[lowers.len()], lower[lowers.len() + 1]);
    let data = format!(
        "lowerdir={},upperdir={upper},workdir={work}",
        lower[..lowers.len()].join(":")
    );
    if data.len() > MAX_OPTIONS {
        return Err(fail(format!(
            "{} layers make {} bytes of mount options, over the kernel's {MAX_OPTIONS}: use shorter lower paths",
            lowers.len(),
            data.len()
        )));
    }
    nix::mount::mount(
        Some("overlay"),
        merged,
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .map_err(|e| fail(format!("mount: {e}")))
}

/// Unmounts what [`mount_overlay`] mounted. `MNT_DETACH` so a process still
/// holding a file open there does not keep the container from being removed.
pub fn unmount(merged: &Path) -> Result<()> {
    nix::mount::umount2(merged, MntFlags::MNT_DETACH).map_err(|e| Error::nix("umount", merged, e))
}

/// Mounts a read-only overlay of `lowers` (top first) at `merged`, with no
/// upper dir: a view that nothing can change, e.g. a stopped container's
/// upper dir stacked as the top lower layer over its image's layers, so
/// its whiteouts and opaque dirs hide what they hide. Overlay needs at
/// least two lower dirs without an upper one.
pub fn mount_readonly(lowers: &[PathBuf], merged: &Path) -> Result<()> {
    let fail = |reason: String| Error::Overlay {
        path: merged.to_path_buf(),
        reason,
    };
    if lowers.len() < 2 {
        return Err(fail(
            "a read-only overlay needs at least two lower dirs".into(),
        ));
    }
    let mut lower = Vec::with_capacity(lowers.len());
    for p in lowers {
        let s = p
            .to_str()
            .ok_or_else(|| fail(format!("{} is not valid UTF-8", p.display())))?;
        if s.contains([':', ',', '\\']) {
            return Err(fail(format!("{s} contains ':', ',' or '\\'")));
        }
        lower.push(s);
    }
    let data = format!("lowerdir={}", lower.join(":"));
    if data.len() > MAX_OPTIONS {
        return Err(fail(format!(
            "{} layers make {} bytes of mount options, over the kernel's {MAX_OPTIONS}",
            lowers.len(),
            data.len()
        )));
    }
    nix::mount::mount(
        Some("overlay"),
        merged,
        Some("overlay"),
        MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(data.as_str()),
    )
    .map_err(|e| fail(format!("mount: {e}")))
}
