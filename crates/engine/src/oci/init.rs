//! `--init`: husk's own static init (`bins/husk-init`) bind-mounted into
//! the container and put in front of its command, as docker does with
//! docker-init.
//!
//! It goes to [`PATH_IN_CONTAINER`], under /dev: the runtime mounts a
//! fresh tmpfs there for every container, so the mount target it creates
//! leaves nothing in the container's layer and works with any image (one
//! without /sbin, or a `--read-only` one).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::{Error, Result};

/// Where the init appears inside the container.
pub const PATH_IN_CONTAINER: &str = "/dev/husk-init";

/// `$HUSK_INIT`, else `husk-init` next to the running `husk`.
pub fn binary() -> Result<PathBuf> {
    let path = match std::env::var_os("HUSK_INIT") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let exe =
                std::env::current_exe().map_err(|e| Error::io("locate", "/proc/self/exe", e))?;
            exe.parent().unwrap_or(Path::new("/")).join("husk-init")
        }
    };
    let bad = |reason: &str| Error::InvalidFlag {
        flag: "--init",
        value: path.display().to_string(),
        reason: reason.into(),
    };
    let head = read_head(&path)
        .map_err(|e| bad(&format!("{e}: build it with 'make init' or set HUSK_INIT")))?;
    if has_interpreter(&head) {
        return Err(bad(
            "dynamically linked: it must be static to run in any image (make init)",
        ));
    }
    Ok(path)
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(64 * 1024)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// Whether a 64-bit little-endian ELF has a PT_INTERP program header (it
/// needs a dynamic loader the image may not have). Anything else is left
/// for the runtime's exec to judge.
fn has_interpreter(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 || elf[5] != 1 {
        return false;
    }
    let u16_at = |o: usize| {
        elf.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let phoff = elf
        .get(0x20..0x28)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as usize);
    let (Some(phoff), Some(size), Some(num)) = (phoff, u16_at(0x36), u16_at(0x38)) else {
        return false;
    };
    (0..num).any(|i| {
        elf.get(phoff + i * size..phoff + i * size + 4)
            .is_some_and(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) == PT_INTERP)
    })
}

/// Mounts the init read-only and makes it the process's argv\[0\].
pub fn apply(spec: &mut Value, init: &Path) {
    if let Some(mounts) = spec["mounts"].as_array_mut() {
        mounts.push(json!({
            "destination": PATH_IN_CONTAINER,
            "type": "bind",
            "source": init,
            "options": ["bind", "ro", "nosuid", "nodev", "rprivate"],
        }));
    }
    if let Some(args) = spec["process"]["args"].as_array_mut() {
        args.splice(0..0, [json!(PATH_IN_CONTAINER), json!("--")]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_prepends_and_mounts() {
        let mut spec =
            json!({"process": {"args": ["sh", "-c", "x"]}, "mounts": [{"destination": "/dev"}]});
        apply(&mut spec, Path::new("/opt/husk-init"));
        assert_eq!(
            spec["process"]["args"],
            json!([PATH_IN_CONTAINER, "--", "sh", "-c", "x"])
        );
        assert_eq!(spec["mounts"][1]["source"], "/opt/husk-init");
        assert_eq!(spec["mounts"][1]["destination"], PATH_IN_CONTAINER);
    }

    #[test]
    fn interpreter_detection() {
        // The test binary itself is dynamically linked.
        let me = read_head(&std::env::current_exe().unwrap()).unwrap();
        assert!(has_interpreter(&me));
        assert!(!has_interpreter(b"#!/bin/sh\n"));
        assert!(!has_interpreter(&[]));
    }
}
