//! RUN: the command runs in a container of the current build state, made,
//! started and waited for through the same engine path as `husk run`
//! (create → the `__monitor` → the OCI runtime), its output streamed. Its
//! upper dir is then the step's change; the container is removed after,
//! whatever happened (success, failure, Ctrl-C).

use std::io::Write;
use std::path::Path;

use husk_image::Digest;

use super::interrupt;
use crate::config::CreateOptions;
use crate::lifecycle::{self, logs};
use crate::store::{Container, Paths};
use crate::{Error, Result};

/// What a RUN step's container gets.
pub struct RunSpec<'a> {
    /// The image of the current state.
    pub image: &'a Digest,
    pub argv: Vec<String>,
    pub env: Vec<String>,
    pub user: String,
    pub workdir: String,
    /// `none`, `host`, `bridge`; `None` = the engine's default.
    pub network: Option<String>,
}

/// A RUN container, removed (with its anonymous volumes) on drop.
pub struct RunContainer<'p> {
    paths: &'p Paths,
    pub container: Container,
}

impl Drop for RunContainer<'_> {
    fn drop(&mut self) {
        let id = &self.container.id;
        if let Err(e) = lifecycle::remove_with_volumes(self.paths, id, true, true) {
            eprintln!(
                "husk build: remove container {}: {}",
                &id[..12],
                husk_fs::Chain(&e)
            );
        }
    }
}

impl RunContainer<'_> {
    /// The container's upper dir: what the command changed.
    pub fn upper(&self) -> std::path::PathBuf {
        self.paths.dir(&self.container.id).join("upper")
    }
}

/// Runs `spec` to its end; the container stays (for its upper dir) until
/// the returned guard drops. `Ok((guard, code))` whatever the exit code.
pub fn run<'p>(
    paths: &'p Paths,
    exe: &Path,
    spec: &RunSpec<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(RunContainer<'p>, i32)> {
    let o = CreateOptions {
        image: spec.image.to_string(),
        cmd: spec.argv.clone(),
        // The image's ENTRYPOINT does not wrap a RUN.
        entrypoint: Some(String::new()),
        env: spec.env.clone(),
        user: (!spec.user.is_empty()).then(|| spec.user.clone()),
        workdir: (!spec.workdir.is_empty()).then(|| spec.workdir.clone()),
        network: spec.network.clone(),
        labels: vec!["husk.build=true".into()],
        // A RUN step runs no healthcheck, whatever the image says.
        health: crate::config::health::HealthOptions {
            disable: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let container = lifecycle::create(paths, &o)?;
    let guard = RunContainer { paths, container };
    let id = guard.container.id.clone();
    if interrupt::requested() {
        return Err(Error::Interrupted);
    }
    let mut started = lifecycle::start(paths, &id, exe, None)?;
    // A Ctrl-C while it was starting: not left to run to its end.
    if interrupt::requested() {
        let _ = lifecycle::kill(paths, &id, "KILL");
    }
    let mut forward = |sig: i32| {
        // Ctrl-C (or a TERM/HUP) ends the build: the command is killed at
        // once, the container removed by the guard.
        if matches!(
            sig,
            libc::SIGINT | libc::SIGTERM | libc::SIGHUP | libc::SIGQUIT
        ) {
            interrupt::request();
            let _ = lifecycle::kill(paths, &id, "KILL");
        }
    };
    let opts = logs::AttachOptions {
        sig_proxy: true,
        resize: None,
    };
    let outcome = logs::attach(&paths.log(&id), &mut started, &opts, &mut forward, out, err);
    // The monitor has torn the container down before its report; reaped
    // here so no zombie stays.
    let _ = started.monitor.wait();
    if interrupt::requested() {
        return Err(Error::Interrupted);
    }
    match outcome {
        logs::Outcome::Exited(code) => Ok((guard, code)),
        logs::Outcome::Detached | logs::Outcome::Lost => Err(Error::Build {
            msg: format!(
                "the monitor of build container {} died before reporting its exit",
                &id[..12]
            ),
        }),
    }
}
