//! destroy(): kill everything in the cgroup, then remove its directories everywhere.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::fsio;
use crate::manager::{CgroupDir, Manager};

/// Pids in the cgroup and its sub-cgroups, across every hierarchy (a process the runtime
/// placed in only some hierarchies, or a container that made its own sub-cgroups, is
/// still ours to kill).
fn all_pids(m: &Manager) -> Result<BTreeSet<i32>> {
    let mut pids = BTreeSet::new();
    for d in m.dirs() {
        pids.extend(fsio::procs(&d.path)?);
        for child in fsio::child_cgroups(&d.path)? {
            pids.extend(fsio::procs(&child)?);
        }
    }
    Ok(pids)
}

/// SIGKILL to every pid in the cgroup, with the cgroup frozen meanwhile so nothing can fork
/// a child we would miss; thawed again so the kills are delivered.
fn kill_all(m: &Manager) -> Result<()> {
    // v2's cgroup.kill (linux 5.14) does the whole subtree atomically in the kernel.
    if let Some(v2) = m.v2().filter(|d| fsio::exists(&d.path, "cgroup.kill")) {
        fsio::write(&v2.path, "cgroup.kill", "1")?;
    }
    let pids = all_pids(m)?;
    if pids.is_empty() {
        return Ok(());
    }
    let frozen = m.dir_for("freezer").is_some() && m.freeze().is_ok();
    for pid in &pids {
        // ESRCH: it exited meanwhile, which is what we want.
        let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
    }
    if frozen {
        m.thaw()?;
    }
    Ok(())
}

/// Kills until no pid is left (a process can fork between the read and the kill when there
/// is no freezer), giving up after about five seconds.
fn kill_until_empty(m: &Manager) -> Result<()> {
    let mut delay = Duration::from_millis(1);
    for _ in 0..40 {
        kill_all(m)?;
        if all_pids(m)?.is_empty() {
            return Ok(());
        }
        sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(200));
    }
    let left = all_pids(m)?;
    Err(Error::Destroy {
        path: m.dirs().first().map(|d| d.path.clone()).unwrap_or_default(),
        reason: format!("processes {left:?} survived SIGKILL"),
    })
}

/// rmdir with retries: a killed task can still be leaving the cgroup for a moment (EBUSY).
/// Gone already (ENOENT) is success.
fn rmdir_retry(path: &Path) -> Result<()> {
    let mut delay = Duration::from_millis(10);
    for i in 0..10 {
        match std::fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && i < 9 => {
                sleep(delay);
                delay *= 2;
            }
            Err(e) => return Err(Error::io("rmdir", path, e)),
        }
    }
    Ok(())
}

/// Removes the parents this manager created, bottom up, stopping at the first one another
/// container still uses (ENOTEMPTY/EBUSY): shared parents are not ours alone.
fn remove_created_parents(d: &CgroupDir) -> Result<()> {
    let Some(top) = &d.first_missing else {
        return Ok(());
    };
    let mut parents: Vec<PathBuf> = Vec::new();
    let mut p = d.path.parent();
    while let Some(dir) = p {
        if !dir.starts_with(top) {
            break;
        }
        parents.push(dir.to_path_buf());
        p = dir.parent();
    }
    for dir in parents {
        match std::fs::remove_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY) | Some(libc::EBUSY)) => {
                return Ok(())
            }
            Err(e) => return Err(Error::io("rmdir", &dir, e)),
        }
    }
    Ok(())
}

/// Keeps going after an error so one stuck hierarchy does not leave the others behind, and
/// returns the first error met.
pub(crate) fn destroy(m: &Manager) -> Result<()> {
    let mut first: Option<Error> = kill_until_empty(m).err();
    for d in m.dirs() {
        let res = (|| {
            for child in fsio::child_cgroups(&d.path)? {
                rmdir_retry(&child)?;
            }
            rmdir_retry(&d.path)?;
            remove_created_parents(d)
        })();
        if let Err(e) = res {
            first.get_or_insert(e);
        }
    }
    match first {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
