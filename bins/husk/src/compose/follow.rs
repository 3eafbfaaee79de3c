//! Service containers' logs side by side, each line behind docker
//! compose's `NAME  | ` prefix: `compose logs` and the attached `up`.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Result;
use husk_compose::Project;
use husk_engine::lifecycle::{self, logs::LogsOptions};
use husk_engine::store::{Container, Paths, Status};

use super::{selected, ComposeLogsArgs};

/// How a followed container's log ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// It exited with this code and its restart policy brought it back:
    /// its next run is followed too.
    Restarted(i32),
    /// Its log is done (with follow: it stopped for good).
    Done,
}

/// Follows (or reads, without `opts.follow`) the logs of `cs`, one thread
/// a container, while `control` runs on this thread with a receiver that
/// gets a container's index each time its log ends; with `restarts`, a
/// container its restart policy restarts is followed on.
pub(super) fn follow<R>(
    p: &Paths,
    cs: &[Container],
    opts: &LogsOptions,
    prefix: bool,
    restarts: bool,
    control: impl FnOnce(mpsc::Receiver<(usize, End)>) -> R,
) -> R {
    let width = cs.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for (i, c) in cs.iter().enumerate() {
            let prefix = if prefix {
                format!("{:<width$}  | ", c.name)
            } else {
                String::new()
            };
            let tx = tx.clone();
            scope.spawn(move || {
                let mut w = Prefixed {
                    prefix: prefix.clone(),
                    partial: Vec::new(),
                };
                let mut e = Prefixed {
                    prefix,
                    partial: Vec::new(),
                };
                let mut opts = opts.clone();
                loop {
                    if let Err(err) = lifecycle::logs::logs(p, &c.id, &opts, &mut w, &mut e) {
                        eprintln!("husk: logs of {}: {}", c.name, husk_fs::Chain(&err));
                        break;
                    }
                    if !(restarts && opts.follow) {
                        break;
                    }
                    // What the next run says is logged after this moment.
                    let stopped = chrono::Utc::now();
                    let Some(code) = back_again(p, &c.id) else {
                        break;
                    };
                    let _ = tx.send((i, End::Restarted(code)));
                    opts.since = Some(stopped);
                }
                // The receiver may be gone (a plain `logs` does not wait).
                let _ = tx.send((i, End::Done));
            });
        }
        drop(tx);
        control(rx)
    })
}

/// Whether the stopped container `id` is being restarted by its policy:
/// waits until it runs again (Some(the code it had exited with)) or
/// stays down (None).
fn back_again(p: &Paths, id: &str) -> Option<i32> {
    let mut code = None;
    loop {
        let c = lifecycle::reconcile(p, &p.load(id).ok()??).ok()?;
        if c.is_running() {
            // Running already at the first look: the policy was quicker
            // than us (the log ended because it had stopped).
            return Some(code.unwrap_or(c.state.exit_code));
        }
        if c.state.status != Status::Restarting {
            return None;
        }
        code = Some(c.state.exit_code);
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(super) fn logs(p: &Paths, project: &Project, o: &ComposeLogsArgs) -> Result<i32> {
    let cs = selected(p, project, &o.services)?;
    let opts = LogsOptions {
        tail: o.tail,
        follow: o.follow,
        ..Default::default()
    };
    follow(p, &cs, &opts, !o.no_log_prefix, false, |rx| {
        rx.iter().count()
    });
    Ok(0)
}

/// Whole lines, each with the container's prefix, onto stdout: a line is
/// one write under stdout's lock, so lines of different containers (and
/// the attached `up`'s own lines) never mix.
struct Prefixed {
    prefix: String,
    partial: Vec<u8>,
}

impl Write for Prefixed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.partial.extend_from_slice(buf);
        while let Some(at) = self.partial.iter().position(|b| *b == b'\n') {
            let mut line = self.prefix.as_bytes().to_vec();
            line.extend(self.partial.drain(..=at));
            let mut o = std::io::stdout().lock();
            o.write_all(&line)?;
            o.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
