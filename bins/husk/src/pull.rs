//! `husk pull` and the pull `run`/`create` do for a missing image, with
//! docker's output: per-layer bars on a terminal, per-layer lines
//! otherwise, then `Digest:` and `Status:`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use anyhow::{Context, Result};
use husk_engine::config::CreateOptions;
use husk_engine::store::Paths;
use husk_image::Digest;
use husk_registry::progress::{line, Event, Progress, Quiet};
use husk_registry::{Client, ImageRef, Platform, PullOptions, Pulled, Status};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{CreateArgs, PullArgs, PullPolicy};

/// Where docker writes pull output: stdout for `pull`, stderr for `run`.
#[derive(Clone, Copy)]
enum Out {
    Stdout,
    Stderr,
}

impl Out {
    fn write_line(self, s: &str) {
        // A closed stdout must not turn a finished pull into a failure.
        let _ = match self {
            Out::Stdout => writeln!(std::io::stdout().lock(), "{s}"),
            Out::Stderr => writeln!(std::io::stderr().lock(), "{s}"),
        };
    }

    fn is_terminal(self) -> bool {
        match self {
            Out::Stdout => std::io::stdout().is_terminal(),
            Out::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

pub fn pull(paths: &Paths, a: &PullArgs) -> Result<()> {
    let r = ImageRef::parse(&a.name)?;
    let (client, mut opts) = husk_engine::registry::client(paths)?;
    opts.platform = a.platform.as_deref().map(Platform::parse).transpose()?;
    let out = Out::Stdout;
    if a.all_tags {
        if r.tagged || r.pinned() {
            anyhow::bail!("tag can't be used with --all-tags/-a: give the repository alone");
        }
        return pull_all(paths, &client, &r, &opts, a.quiet, out);
    }
    if !r.tagged && !r.pinned() && !a.quiet {
        out.write_line("Using default tag: latest");
    }
    pull_one(paths, &client, &r, &opts, a.quiet, out)?;
    out.write_line(&r.to_string());
    Ok(())
}

fn pull_all(
    paths: &Paths,
    client: &Client,
    r: &ImageRef,
    opts: &PullOptions,
    quiet: bool,
    out: Out,
) -> Result<()> {
    let repos = husk_registry::pull::repositories(r, &opts.mirrors);
    let mut tags = None;
    let mut last = None;
    for repo in &repos {
        match client.tags(repo) {
            Ok(t) => {
                tags = Some(t);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tags = match (tags, last) {
        (Some(t), _) => t,
        (None, Some(e)) => return Err(e.into()),
        (None, None) => Vec::new(),
    };
    for tag in tags {
        let one = ImageRef::tagged(r.name.with_tag(&tag)?);
        pull_one(paths, client, &one, opts, quiet, out)?;
    }
    out.write_line(r.name.repo());
    Ok(())
}

/// Pulls `r`, printing docker's lines (none with `quiet`) except the last.
fn pull_one(
    paths: &Paths,
    client: &Client,
    r: &ImageRef,
    opts: &PullOptions,
    quiet: bool,
    out: Out,
) -> Result<Pulled> {
    if !quiet {
        out.write_line(&format!("{}: Pulling from {}", r.tag_or_digest(), r.path()));
    }
    let cancel = AtomicBool::new(false);
    let pulled = if quiet {
        husk_registry::pull(client, &paths.root, r, opts, &Quiet, &cancel)
    } else if out.is_terminal() {
        let bars = Bars::new(out);
        let res = husk_registry::pull(client, &paths.root, r, opts, &bars, &cancel);
        bars.done();
        res
    } else {
        husk_registry::pull(client, &paths.root, r, opts, &Lines(out), &cancel)
    }
    .with_context(|| format!("pull {}", r.familiar()))?;
    let name = r.familiar().to_string();
    husk_engine::images::event(&paths.root, "pull", &name, &name);
    if !quiet {
        out.write_line(&format!("Digest: {}", pulled.digest));
        let status = match pulled.status {
            Status::Downloaded => "Downloaded newer image for",
            Status::UpToDate => "Image is up to date for",
        };
        out.write_line(&format!("Status: {status} {}", r.familiar()));
    }
    Ok(pulled)
}

/// `compose up`/`pull`: `image` pulled when it is missing (or `always`),
/// docker's pull lines on stderr.
pub fn ensure(p: &Paths, image: &str, always: bool) -> Result<()> {
    let present = husk_image::Store::open_read(&p.root)
        .and_then(|s| s.resolve(image))
        .is_ok();
    if present && !always {
        return Ok(());
    }
    let r = ImageRef::parse(image).with_context(|| format!("image {image}"))?;
    let (client, opts) = husk_engine::registry::client(p)?;
    pull_one(p, &client, &r, &opts, false, Out::Stderr)?;
    Ok(())
}

/// `run`/`create --pull`: the image pulled as the policy says; the options
/// unchanged (the store resolves the name, or the digest reference, now).
pub fn for_container(p: &Paths, a: &CreateArgs, o: CreateOptions) -> Result<CreateOptions> {
    let platform = a.platform.as_deref().map(Platform::parse).transpose()?;
    let present = || {
        husk_image::Store::open_read(&p.root)
            .and_then(|s| s.resolve(&o.image))
            .is_ok()
    };
    match a.pull {
        PullPolicy::Never => return Ok(o),
        PullPolicy::Missing if present() => return Ok(o),
        _ => {}
    }
    // Not a name a registry could serve (an id, say): create reports it.
    let Ok(r) = ImageRef::parse(&o.image) else {
        return Ok(o);
    };
    if a.pull == PullPolicy::Missing {
        eprintln!("Unable to find image '{}' locally", r.familiar());
    }
    let (client, mut opts) = husk_engine::registry::client(p)?;
    opts.platform = platform;
    pull_one(p, &client, &r, &opts, false, Out::Stderr)?;
    Ok(o)
}

/// Plain lines, for a pipe or a file.
struct Lines(Out);

impl Progress for Lines {
    fn layer(&self, layer: &Digest, event: Event) {
        if let Some(l) = line(layer, &event) {
            self.0.write_line(&l);
        }
    }
}

/// One bar per layer on a terminal.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Digest, ProgressBar>>,
    order: Mutex<Vec<Digest>>,
    out: Out,
}

impl Bars {
    fn new(out: Out) -> Bars {
        let target = match out {
            Out::Stdout => ProgressDrawTarget::stdout(),
            Out::Stderr => ProgressDrawTarget::stderr(),
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(HashMap::new()),
            order: Mutex::new(Vec::new()),
            out,
        }
    }

    /// The bars give way to one final line per layer, as docker leaves them.
    fn done(&self) {
        let bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self.multi.clear();
        for d in self.order.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            if let Some(b) = bars.get(d) {
                self.out
                    .write_line(&format!("{}: {}", d.short(), b.message()));
            }
        }
    }
}

fn text_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg}").unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix}: {msg:<12} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Progress for Bars {
    fn layer(&self, layer: &Digest, event: Event) {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        let bar = bars.entry(layer.clone()).or_insert_with(|| {
            self.order
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(layer.clone());
            let b = self.multi.add(ProgressBar::new(0));
            b.set_style(text_style());
            b.set_prefix(layer.short().to_string());
            b
        });
        match event {
            Event::Waiting => bar.set_message("Pulling fs layer"),
            Event::Exists => bar.finish_with_message("Already exists"),
            Event::Resuming { from, total } | Event::Downloading { done: from, total } => {
                if bar.length() != Some(total) {
                    bar.set_style(bar_style());
                    bar.set_length(total);
                    bar.set_message("Downloading");
                }
                bar.set_position(from);
            }
            Event::Retrying { reason } => bar.set_message(format!("Retrying: {reason}")),
            Event::Extracting => {
                bar.set_style(text_style());
                bar.set_message("Extracting");
            }
            Event::Complete => {
                bar.set_style(text_style());
                bar.finish_with_message("Pull complete");
            }
        }
    }
}
