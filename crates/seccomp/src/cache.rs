//! Compiled filters kept on disk by content: libseccomp needs ~15 ms to
//! compile docker's profile for its three x86 architectures, and every
//! container of an engine carries the same few profiles. crun keeps such a
//! cache too.
//!
//! The key covers everything the program depends on: the profile (as
//! serialized) and the libseccomp version. The kernel flags are not cached:
//! they are probed on every use, as the kernel may change under a cache on
//! disk that survives a reboot.

use std::io::Write;
use std::path::{Path, PathBuf};

use libc::sock_filter;
use oci_spec::runtime::LinuxSeccomp;
use sha2::{Digest, Sha256};

use crate::filter::{self, Filter};
use crate::Result;

const INSN: usize = std::mem::size_of::<sock_filter>();

impl Filter {
    /// [`Filter::new`], through a cache of compiled programs under `dir`
    /// (created 0700 if missing). A cache that cannot be read or written
    /// costs a compile, never an error.
    pub fn cached(profile: &LinuxSeccomp, dir: &Path) -> Result<Filter> {
        let Some(path) = entry(profile, dir) else {
            return Filter::new(profile);
        };
        if let Some(program) = read(&path) {
            if let Ok(f) = Filter::from_program(profile, program) {
                return Ok(f);
            }
        }
        let f = Filter::new(profile)?;
        write(dir, &path, f.program());
        Ok(f)
    }
}

fn entry(profile: &LinuxSeccomp, dir: &Path) -> Option<PathBuf> {
    let json = serde_json::to_vec(profile).ok()?;
    let mut h = Sha256::new();
    h.update(filter::libseccomp_version().as_bytes());
    h.update([0]);
    h.update(&json);
    Some(dir.join(format!("{}.bpf", hex::encode(h.finalize()))))
}

fn read(path: &Path) -> Option<Vec<sock_filter>> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.is_empty() || bytes.len() % INSN != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(INSN)
            .map(|c| sock_filter {
                code: u16::from_ne_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect(),
    )
}

/// Temp file, fsync, rename: a reader sees a whole program or none.
fn write(dir: &Path, path: &Path, program: &[sock_filter]) {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir);
    let mut bytes = Vec::with_capacity(program.len() * INSN);
    for i in program {
        bytes.extend_from_slice(&i.code.to_ne_bytes());
        bytes.extend_from_slice(&[i.jt, i.jf]);
        bytes.extend_from_slice(&i.k.to_ne_bytes());
    }
    let tmp = dir.join(format!(".tmp.{}", std::process::id()));
    let done = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(&bytes)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: &str) -> LinuxSeccomp {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_cached_program_is_the_compiled_one_and_keys_differ_by_profile() {
        let dir = tempfile::tempdir().unwrap();
        let deny_mkdir = profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"#,
        );
        let deny_rmdir = profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["rmdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
        );
        let fresh = Filter::new(&deny_mkdir).unwrap();
        let first = Filter::cached(&deny_mkdir, dir.path()).unwrap();
        let again = Filter::cached(&deny_mkdir, dir.path()).unwrap();
        assert_eq!(fresh.program_bytes(), first.program_bytes());
        assert_eq!(fresh.program_bytes(), again.program_bytes());
        let other = Filter::cached(&deny_rmdir, dir.path()).unwrap();
        assert_ne!(other.program_bytes(), fresh.program_bytes());
        let entries = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(entries, 2, "one file per profile, no temp files left");

        // A damaged entry is recompiled, not trusted.
        let path = entry(&deny_mkdir, dir.path()).unwrap();
        std::fs::write(&path, [1u8, 2, 3]).unwrap();
        let healed = Filter::cached(&deny_mkdir, dir.path()).unwrap();
        assert_eq!(healed.program_bytes(), fresh.program_bytes());
        assert_eq!(
            std::fs::read(&path).unwrap().len(),
            fresh.instructions() * INSN
        );

        // A bad profile is an error with or without a cache.
        let bad = profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[""],"action":"SCMP_ACT_ERRNO"}]}"#,
        );
        assert!(Filter::cached(&bad, dir.path()).is_err());
    }
}
