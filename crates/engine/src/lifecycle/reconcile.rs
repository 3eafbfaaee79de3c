//! Reconciliation: records tell the truth whatever happened to the
//! processes behind them (a killed monitor, a killed `husk`, a reboot);
//! what crashes left that no record names is found and removed; and the
//! cleanup helpers every verb shares.

use std::path::Path;
use std::time::Duration;

use crate::monitor::runtime::Runtime;
use crate::monitor::teardown::{self, lock_dir, release_rootfs, remove_files, Step, Teardown};
use crate::proc;
use crate::store::{names, Container, Paths, Status};
use crate::Result;

pub(crate) fn runtime_of(paths: &Paths, c: &Container) -> Runtime {
    Runtime {
        binary: c.host_config.runtime.clone().into(),
        root: paths.runtime_root(),
        log: None,
    }
}

/// Frees what a container no process owns may still hold: the runtime's
/// state and cgroups, the rootfs mount, the bundle, the network.
pub(super) fn release(paths: &Paths, c: &Container) {
    let rt = runtime_of(paths, c);
    // A failure here must not keep the container: the gc of a later
    // command frees what an absent container still holds.
    teardown::report("husk: ", &Teardown::container(paths, c, &rt, false).run());
}

/// [`release`] after a monitor died: first what it left at work in its
/// session (a runtime `create` or `start` it had started, the init they
/// made), then, after the runtime's own delete, the cgroups of a `create`
/// killed before it recorded them, which no runtime state names.
fn release_after_crash(paths: &Paths, c: &Container) {
    let rt = runtime_of(paths, c);
    let failed = Teardown::new()
        .then(Step::KillSession, || {
            kill_session_of(c.state.monitor_pid, c.state.monitor_start);
            Ok(())
        })
        .chain(Teardown::container(paths, c, &rt, false))
        .then(Step::Cgroups, || {
            // The path the spec gives the container (linux.cgroupsPath).
            let cgroups = crate::oci::extra::cgroups_path(c);
            match husk_cgroups::Manager::new(Some(&cgroups), &c.id, false) {
                Ok(m) if m.dirs().iter().any(|d| d.path.exists()) => m
                    .destroy()
                    .map_err(|e| format!("container {}: {}", c.id, husk_fs::Chain(&e))),
                _ => Ok(()),
            }
        })
        .run();
    teardown::report("husk: ", &failed);
}

/// Kills what the dead monitor `pid` (started at `start`) left in its
/// session: the monitor is a session leader, and the runtime processes it
/// starts (and a terminal-less init) stay in its session. Safe against
/// pid reuse: the kernel gives no new process the id of a session that
/// still has members, so when `pid` now names another process, the dead
/// monitor's session is empty.
fn kill_session_of(pid: i32, start: u64) {
    if pid <= 0 || proc::start_time(pid).is_some_and(|t| t != start) {
        return;
    }
    // Again until empty: a runtime can fork between the read and the kill.
    for _ in 0..20 {
        let members = proc::session_members(pid, start);
        if members.is_empty() {
            return;
        }
        for (p, _) in &members {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*p),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        for (p, t) in &members {
            proc::wait_gone(*p, *t, Duration::from_secs(2));
        }
    }
}

/// Whether `c`'s record may lie: it says running, or names a monitor
/// that was starting it, and neither that monitor nor the init lives.
fn orphaned(c: &Container) -> bool {
    (c.is_running() || c.state.monitor_pid != 0) && !crate::store::container_alive(c)
}

/// Makes the record tell the truth: a "running" container whose init and
/// monitor are both gone (killed monitor, rebooted host, wiped /run) is
/// cleaned up and marked exited; a container whose monitor died while
/// starting it is undone (mount, cgroups, runtime state, network) and
/// left as a failed start. A live init without its monitor stays
/// running: it is, though nobody collects its output any more.
pub fn reconcile(paths: &Paths, c: &Container) -> Result<Container> {
    // A dead monitor whose restart policy had work: a new one takes over.
    if crate::monitor::restart::needs_resume(paths, c) {
        if let Some(c) = super::restartable::resume(paths, c)? {
            return Ok(c);
        }
    }
    if !orphaned(c) {
        return Ok(c.clone());
    }
    Ok(settle(paths, &c.id, None)?.unwrap_or_else(|| c.clone()))
}

/// `start` saw `monitor` (pid, start time) die before it reported: the
/// start failed, so what it had set up is undone at once, even an init
/// that runs (nobody would collect its output), and a `--rm` container
/// is removed, as its monitor would have. True when it is gone.
pub(super) fn abandoned(paths: &Paths, id: &str, monitor: (i32, u64)) -> Result<bool> {
    match settle(paths, id, Some(monitor))? {
        Some(c) => discard_ended(paths, &c),
        None => Ok(true),
    }
}

/// Settles a container nobody owns any more, holding its monitor lock:
/// no monitor can start it meanwhile, and no other command settles it at
/// the same time. Returns the record as it is now (`None`: removed).
fn settle(paths: &Paths, id: &str, abandoned: Option<(i32, u64)>) -> Result<Option<Container>> {
    let _owner = match proc::try_lock(&paths.monitor_lock(id)) {
        Ok(Some(lock)) => lock,
        // A monitor holds it (it is starting or running the container,
        // and owns its record), another command is settling it, or the
        // container is gone.
        Ok(None) | Err(_) => return paths.load(id),
    };
    settle_locked(paths, id, abandoned)
}

/// [`reconcile`] for a caller that holds the container's monitor lock
/// already (a second `flock` of ours on it would fail as if another
/// process held it).
pub(super) fn reconcile_locked(paths: &Paths, c: &Container) -> Result<Option<Container>> {
    if !orphaned(c) {
        return Ok(Some(c.clone()));
    }
    settle_locked(paths, &c.id, None)
}

/// [`settle`]'s work, the monitor lock held by the caller.
fn settle_locked(
    paths: &Paths,
    id: &str,
    abandoned: Option<(i32, u64)>,
) -> Result<Option<Container>> {
    let Some(c) = paths.load(id)? else {
        return Ok(None);
    };
    let (pid, start) = (c.state.monitor_pid, c.state.monitor_start);
    let undo = abandoned.is_some_and(|m| m == (pid, start) && pid > 0);
    if !undo && !orphaned(&c) {
        return Ok(Some(c));
    }
    release_after_crash(paths, &c);
    let ran_to_its_end = c.is_running() && !undo;
    let settle_record = |r: &mut Container| {
        // Every writer of these fields holds the monitor lock, as we do;
        // this guards against a record replaced meanwhile all the same.
        if (r.state.monitor_pid, r.state.monitor_start) != (pid, start) {
            return;
        }
        if ran_to_its_end {
            r.state.status = Status::Exited;
            r.state.exit_code = 255;
            r.state.error = "container and its monitor are gone without an exit record (monitor killed, host rebooted or disk full)".into();
            r.state.finished_at = proc::now_rfc3339();
        } else {
            // A start that never finished, as the monitor leaves a failed
            // one: created, or exited once it has run before. A `--rm`
            // container is done either way and is removed.
            if r.state.started_at.is_empty() && !r.host_config.auto_remove {
                r.state.status = Status::Created;
            } else {
                r.state.status = Status::Exited;
                r.state.finished_at = proc::now_rfc3339();
            }
            r.state.exit_code = 125;
            r.state.error = "its monitor died before the container was running (was it killed?): start it again".into();
        }
        r.state.pid = 0;
        r.state.pid_start = 0;
        r.state.monitor_pid = 0;
        r.state.monitor_start = 0;
        r.network = None;
    };
    match paths.update(id, |r| {
        settle_record(r);
        Ok(())
    }) {
        Ok(updated) => Ok(updated),
        // A full disk (a container filled it, likely the very one whose
        // monitor could not record its exit) must not lock every command
        // out, `rm` first, which is how the space comes back: say so and
        // go on with the truth in memory; a later command records it.
        Err(e) if husk_fs::is_no_space(&e) => {
            eprintln!(
                "husk: warning: container {id} has exited but its record cannot be updated: no space left on device (ENOSPC)"
            );
            let mut now = c;
            settle_record(&mut now);
            Ok(Some(now))
        }
        Err(e) => Err(e),
    }
}

/// Removes a `--rm` container that ended without its monitor removing it
/// (the monitor was killed), as docker removes such containers when it
/// starts again. True when it is gone.
pub fn discard_ended(paths: &Paths, c: &Container) -> Result<bool> {
    let ended = |c: &Container| c.host_config.auto_remove && c.state.status == Status::Exited;
    if !ended(c) {
        return Ok(false);
    }
    // Not while a monitor (a `start` of it) or another command holds it.
    let _owner = match proc::try_lock(&paths.monitor_lock(&c.id)) {
        Ok(Some(lock)) => lock,
        Ok(None) => return Ok(false),
        Err(_) => return Ok(paths.load(&c.id)?.is_none()),
    };
    let Some(c) = paths.load(&c.id)? else {
        return Ok(true);
    };
    if !ended(&c) {
        return Ok(false);
    }
    release(paths, &c);
    remove_files(paths, &c.id)?;
    Ok(true)
}

/// Removes what crashes left: `--rm` containers that ended without their
/// monitor (see [`discard_ended`]), and what no record names: the
/// directory of a `create` killed before it wrote the record, the renamed
/// directory (`.rm-ID`) of a removal killed half way, a bundle whose
/// record is gone. Cheap when there is nothing to do: the records read,
/// a liveness check per running `--rm` one, a stat per directory. Best
/// effort: what fails is said and left for the next command.
pub fn sweep(paths: &Paths) {
    for c in paths.all().unwrap_or_default() {
        if !c.host_config.auto_remove {
            continue;
        }
        if let Err(e) = reconcile(paths, &c).and_then(|c| discard_ended(paths, &c)) {
            eprintln!("husk: {}", husk_fs::Chain(&e));
        }
    }
    let mut unrecorded = Vec::new();
    if let Ok(rd) = std::fs::read_dir(paths.containers()) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".rm-") {
                // Its remover holds this lock until the last file is gone
                // (see `take_files`): free means the remover died.
                if let Some(_held) = lock_dir(&e.path()) {
                    release_rootfs(&e.path().join("merged"));
                    remove_leftover(&e.path());
                }
            } else if names::is_full_id(&name) && !paths.record(&name).exists() {
                unrecorded.push(paths.dir(&name));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(paths.runroot.join("containers")) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if names::is_full_id(&name) && !paths.record(&name).exists() {
                unrecorded.push(e.path());
            }
        }
    }
    if unrecorded.is_empty() {
        return;
    }
    // `create` makes a container's directory and writes its record under
    // this lock, and `rm` renames the directory away under it: holding
    // it, a directory without a record is no command's work in progress.
    let Ok(_lock) = paths.lock() else {
        return;
    };
    for dir in unrecorded {
        let id = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        if id.is_some_and(|id| !paths.record(&id).exists()) {
            release_rootfs(&dir.join("merged"));
            remove_leftover(&dir);
        }
    }
}

fn remove_leftover(dir: &Path) {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => eprintln!("husk: remove leftover {}: {e}", dir.display()),
    }
}

/// Every container, reconciled, oldest first; `--rm` containers that
/// ended without their monitor are removed, and what crashes left (here
/// and on the network) is collected on the way.
pub fn list(paths: &Paths) -> Result<Vec<Container>> {
    sweep(paths);
    let mut all = Vec::new();
    for c in paths.all()? {
        let c = reconcile(paths, &c)?;
        match discard_ended(paths, &c) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => eprintln!("husk: {}", husk_fs::Chain(&e)),
        }
        all.push(c);
    }
    if let Err(e) = crate::network::gc(paths) {
        eprintln!("husk: {}", husk_fs::Chain(&e));
    }
    Ok(all)
}
