//! A Debian bookworm minbase root filesystem tarball, built once with
//! debootstrap from this machine's apt mirror and cached under
//! target/fixtures/ (an flock keeps parallel tests from building it twice).

use std::path::PathBuf;
use std::process::Command;

/// The cached tarball, or the machine fact that keeps it from being built
/// here (no debootstrap, no Debian mirror); any other failure panics.
pub fn minbase_tar() -> Result<PathBuf, String> {
    let dir = husk_fixtures::workspace_root().join("target/fixtures");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let tar = dir.join("debian-minbase.tar");
    let _lock = husk_fs::Lock::exclusive(&dir.join("debian-minbase.lock"))
        .unwrap_or_else(|e| panic!("lock {}: {e}", dir.display()));
    if tar.is_file() {
        return Ok(tar);
    }
    if Command::new("debootstrap")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("debootstrap is not installed".into());
    }
    let mirror = apt_mirror().ok_or("no Debian mirror in /etc/apt/sources.list*")?;
    let work = dir.join("debian-minbase.work");
    let _ = std::fs::remove_dir_all(&work);
    let rootfs = work.join("rootfs");
    let out = Command::new("debootstrap")
        .args(["--variant=minbase", "bookworm"])
        .arg(&rootfs)
        .arg(&mirror)
        .output()
        .unwrap_or_else(|e| panic!("run debootstrap: {e}"));
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&work);
        let log = String::from_utf8_lossy(&out.stderr);
        let last = log.lines().last().unwrap_or("").to_string();
        panic!("debootstrap from {mirror} failed: {last}");
    }
    let partial = dir.join("debian-minbase.tar.partial");
    let st = Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "--numeric-owner", "-C"])
        .arg(&rootfs)
        .arg("-cf")
        .arg(&partial)
        .arg(".")
        .status()
        .unwrap_or_else(|e| panic!("run tar: {e}"));
    let _ = std::fs::remove_dir_all(&work);
    assert!(st.success(), "tar of the debootstrap rootfs failed");
    std::fs::rename(&partial, &tar).unwrap_or_else(|e| panic!("rename {}: {e}", partial.display()));
    Ok(tar)
}

/// The first Debian archive URI apt uses (deb822 or one-line format).
fn apt_mirror() -> Option<String> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(rd) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut extra: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "list" || x == "sources"))
            .collect();
        extra.sort();
        files.extend(extra);
    }
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            let uri = if let Some(rest) = line.strip_prefix("URIs:") {
                rest.split_whitespace().next()
            } else if let Some(rest) = line.strip_prefix("deb ") {
                rest.split_whitespace().find(|w| w.contains("://"))
            } else {
                None
            };
            // Debian's own archive, not a third-party or security repository.
            if let Some(u) = uri.filter(|u| u.trim_end_matches('/').ends_with("/debian")) {
                return Some(u.to_string());
            }
        }
    }
    None
}
