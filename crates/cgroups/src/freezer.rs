//! Freezing: v1 freezer.state, v2 cgroup.freeze + cgroup.events.

use std::thread::sleep;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::fsio;
use crate::layout::Version;
use crate::manager::{CgroupDir, Manager};

fn dir(m: &Manager) -> Result<&CgroupDir> {
    m.require("freezer", "freeze")
}

pub(crate) fn freeze(m: &Manager) -> Result<()> {
    let d = dir(m)?;
    match d.version {
        Version::V1 => freeze_v1(d),
        Version::V2 => set_v2(d, true),
    }
}

pub(crate) fn thaw(m: &Manager) -> Result<()> {
    let d = dir(m)?;
    match d.version {
        Version::V1 => fsio::write(&d.path, "freezer.state", "THAWED"),
        Version::V2 => set_v2(d, false),
    }
}

pub(crate) fn is_frozen(m: &Manager) -> Result<bool> {
    let d = dir(m)?;
    match d.version {
        // FREEZING is not frozen yet: a pause that has not settled must not read as paused.
        Version::V1 => Ok(fsio::read(&d.path, "freezer.state")?.trim() == "FROZEN"),
        Version::V2 => {
            Ok(fsio::read_opt(&d.path, "cgroup.freeze")?.is_some_and(|s| s.trim() == "1"))
        }
    }
}

/// A v1 freeze can stay in FREEZING while a task sits in an uninterruptible sleep (or one is
/// forking). Like runc we re-request FROZEN in a loop and, every 50 tries, thaw briefly so
/// such a task can get out of the kernel, giving up after about 1000 tries.
fn freeze_v1(d: &CgroupDir) -> Result<()> {
    for i in 0..1000 {
        if i % 50 == 49 {
            fsio::write(&d.path, "freezer.state", "THAWED")?;
            sleep(Duration::from_millis(10));
        }
        fsio::write(&d.path, "freezer.state", "FROZEN")?;
        if i % 25 == 24 {
            sleep(Duration::from_micros(10));
        }
        match fsio::read(&d.path, "freezer.state")?.trim() {
            "FROZEN" => return Ok(()),
            "FREEZING" => {}
            other => {
                return Err(Error::Freeze {
                    path: d.path.clone(),
                    reason: format!("unexpected freezer.state {other:?}"),
                })
            }
        }
    }
    fsio::write(&d.path, "freezer.state", "THAWED")?;
    Err(Error::Freeze {
        path: d.path.clone(),
        reason: "tasks did not freeze (still FREEZING after 1000 tries)".into(),
    })
}

/// cgroup.freeze is a request; cgroup.events says when every task has stopped.
fn set_v2(d: &CgroupDir, frozen: bool) -> Result<()> {
    if !fsio::exists(&d.path, "cgroup.freeze") {
        return Err(Error::Freeze {
            path: d.path.clone(),
            reason: "the kernel has no cgroup.freeze (needs linux 5.2)".into(),
        });
    }
    let want = if frozen { "1" } else { "0" };
    fsio::write(&d.path, "cgroup.freeze", want)?;
    let mut delay = Duration::from_micros(100);
    for _ in 0..60 {
        let events = fsio::read_keyed(&d.path, "cgroup.events")?;
        if fsio::keyed(&events, "frozen").to_string() == want {
            return Ok(());
        }
        sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(100));
    }
    if frozen {
        // Leave it running rather than half frozen.
        let _ = fsio::write(&d.path, "cgroup.freeze", "0");
    }
    Err(Error::Freeze {
        path: d.path.clone(),
        reason: format!("cgroup.events did not report frozen {want}"),
    })
}
