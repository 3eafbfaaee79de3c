//! The build's private scratch space: `<root>/build/tmp/<random>/`, locked
//! by its builder for the whole build, removed on drop. A build killed
//! outright (SIGKILL) leaves its dir unlocked; the next build unmounts
//! what it left mounted there and removes it.

use std::path::{Path, PathBuf};

use husk_fs::Lock;

use crate::{Error, Result};

pub struct Work {
    pub dir: PathBuf,
    _lock: Option<Lock>,
    next: std::cell::Cell<u32>,
}

impl Work {
    pub fn new(root: &Path) -> Result<Work> {
        let base = root.join("build").join("tmp");
        crate::store::private_create(&base)?;
        sweep(&base);
        let name: String = crate::store::names::new_id()[..16].to_string();
        // Made under a dot name the sweep skips, locked, then renamed (the
        // lock follows the inode): no other build can sweep it meanwhile.
        let dir = base.join(&name);
        let making = base.join(format!(".{name}"));
        crate::store::private_create(&making)?;
        let lock = Lock::try_exclusive_dir(&making).map_err(Error::from)?;
        std::fs::rename(&making, &dir).map_err(|e| Error::io("rename", &making, e))?;
        Ok(Work {
            dir,
            _lock: lock,
            next: std::cell::Cell::new(0),
        })
    }

    /// A fresh, empty directory in the scratch space.
    pub fn fresh(&self, what: &str) -> Result<PathBuf> {
        let n = self.next.get() + 1;
        self.next.set(n);
        let p = self.dir.join(format!("{what}-{n}"));
        crate::store::private_create(&p)?;
        Ok(p)
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        release(&self.dir);
    }
}

/// Unmounts whatever is still mounted under `dir` (an overlay of an
/// interrupted step) and removes it.
fn release(dir: &Path) {
    if let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") {
        let prefix = dir.to_string_lossy().into_owned();
        let mut points: Vec<String> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(|s| s.replace("\\040", " ")))
            .filter(|p| p.starts_with(&prefix))
            .collect();
        // Deepest first.
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = husk_layers::unmount(Path::new(&p));
        }
    }
    if let Err(e) = std::fs::remove_dir_all(dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            eprintln!("husk build: remove {}: {e}", dir.display());
        }
    }
}

/// What builds killed outright left: dirs no live builder locks.
fn sweep(base: &Path) {
    let Ok(rd) = std::fs::read_dir(base) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if let Ok(Some(_held)) = Lock::try_exclusive_dir(&p) {
            release(&p);
        }
    }
}
