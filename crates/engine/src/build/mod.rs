//! `husk build`: a Dockerfile executed step by step, each filesystem step
//! one layer, each step an image (dangling, like docker's intermediate
//! images) that the cache names by the step's key.
//!
//! ```text
//! context     the context (dir or tar on stdin), .dockerignore, escapes refused
//! mod         options, the stages a target needs, in order (this file)
//! steps       one instruction: cache lookup, then RUN / COPY / config change
//! run         RUN's container, through the engine's create/start/attach/rm
//! copy        COPY/ADD into the step's rootfs, resolved by fd
//! cache       step key → image id
//! output      STEP n/N, --> Using cache, --> id, Successfully tagged, the id
//! work        the build's private temp dir (swept when a build was killed)
//! interrupt   Ctrl-C noted, undone on the way out
//! ```

pub mod cache;
pub mod context;
mod copy;
pub mod interrupt;
pub mod output;
mod run;
mod steps;
mod url;
mod work;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use husk_dockerfile::{BaseRef, Dockerfile, Kind};
use husk_image::{Image, Reference, Store};

use crate::store::Paths;
use crate::{Error, Result};
pub use context::Context;
use output::Printer;

/// Where the context comes from.
pub enum ContextSource {
    Dir(PathBuf),
    /// A tar stream (plain, gzip or zstd): `husk build -`.
    Tar(Box<dyn Read + Send>),
}

/// `husk build`'s flags.
pub struct BuildOptions {
    pub context: ContextSource,
    /// `-f`: a path (relative to the current directory, as docker's), `-`
    /// for stdin (text given here), or None for `Dockerfile` in the context.
    pub dockerfile: Option<DockerfileSource>,
    pub tags: Vec<String>,
    /// `--build-arg K=V` (`K` alone: the caller's environment value).
    pub build_args: Vec<String>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: bool,
    /// `none`, `host`, `bridge`: RUN's network unless RUN --network says.
    pub network: Option<String>,
    pub labels: Vec<String>,
    pub platform: Option<String>,
    pub quiet: bool,
    pub iidfile: Option<PathBuf>,
}

pub enum DockerfileSource {
    Path(PathBuf),
    Text(String),
}

/// "Get this image": the local one, or pulled when it is missing (or
/// always, with `--pull`), printing docker's pull lines unless `quiet`.
/// The one place a build asks for a base or `COPY --from` image. The pull
/// runs before any RUN container of the stage is made and joins its
/// download threads before returning, so the build forks its monitors
/// from a single-threaded process.
/// With `platform` (`FROM --platform`, `husk build --platform`), a local
/// image of another platform is pulled again for that one, as docker does.
pub fn get_image(
    paths: &Paths,
    name: &str,
    pull: bool,
    quiet: bool,
    platform: Option<&husk_registry::Platform>,
) -> Result<Image> {
    if !pull {
        let store = Store::open_read(&paths.root)?;
        match store.resolve(name) {
            Ok(i) => {
                let fits = match platform {
                    None => true,
                    Some(want) => {
                        let c = store.config(&i)?;
                        c.architecture.is_empty() || want.matches(&platform_of(&c))
                    }
                };
                if fits {
                    return Ok(i);
                }
            }
            Err(husk_image::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let r = husk_registry::ImageRef::parse(name)?;
    let (client, mut opts) = crate::registry::client(paths)?;
    opts.platform = platform.cloned();
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let pulled = if quiet {
        husk_registry::pull(
            &client,
            &paths.root,
            &r,
            &opts,
            &husk_registry::progress::Quiet,
            &cancel,
        )
    } else {
        println!("{}: Pulling from {}", r.tag_or_digest(), r.path());
        husk_registry::pull(&client, &paths.root, &r, &opts, &PullLines, &cancel)
    }?;
    if !quiet {
        println!("Digest: {}", pulled.digest);
    }
    Ok(pulled.image)
}

/// An image config's platform, as an index entry names one.
pub(crate) fn platform_of(c: &husk_image::types::ImageConfig) -> husk_image::types::Platform {
    husk_image::types::Platform {
        architecture: c.architecture.clone(),
        os: c.os.clone(),
        variant: c.variant.clone(),
    }
}

/// docker's per-layer pull lines, plain (a build's output is a log).
struct PullLines;

impl husk_registry::progress::Progress for PullLines {
    fn layer(&self, layer: &husk_image::Digest, event: husk_registry::progress::Event) {
        if let Some(l) = husk_registry::progress::line(layer, &event) {
            println!("{l}");
        }
    }
}

/// What a stage has built so far.
#[derive(Clone)]
pub(crate) struct State {
    /// The current image; None before the first step of a `FROM scratch`.
    pub image: Option<Image>,
    /// The runtime config section as docker's JSON.
    pub config: serde_json::Value,
    /// ARGs declared in the stage, with their values.
    pub args: Vec<(String, String)>,
    /// CMD set in this stage (an ENTRYPOINT then keeps it).
    pub cmd_set: bool,
}

impl State {
    pub fn env(&self) -> Vec<String> {
        self.config
            .get("Env")
            .and_then(|e| e.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// docker's lookup while expanding: ENV first, then the stage's ARGs.
    pub fn lookup(&self, name: &str) -> Option<String> {
        for e in self.env().iter().rev() {
            if let Some((k, v)) = e.split_once('=') {
                if k == name {
                    return Some(v.to_string());
                }
            }
        }
        self.args
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    pub fn str_field(&self, f: &str) -> String {
        self.config
            .get(f)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    }
}

/// Everything the steps share.
pub(crate) struct Build<'a> {
    pub paths: &'a Paths,
    pub exe: &'a Path,
    pub o: &'a BuildOptions,
    pub ctx: &'a Context,
    pub work: work::Work,
    pub cache: cache::Cache,
    pub step: usize,
    pub total: usize,
    /// Each built stage's final image, by index.
    pub stages: BTreeMap<usize, Option<Image>>,
    /// Every stage's `AS` name, by index (for `COPY --from`).
    pub stage_names: Vec<Option<String>>,
}

fn build_error(e: impl std::fmt::Display) -> Error {
    Error::Build { msg: e.to_string() }
}

/// Reads the Dockerfile `o` names.
fn dockerfile_text(o: &BuildOptions, ctx: &Context) -> Result<(String, String)> {
    match &o.dockerfile {
        Some(DockerfileSource::Text(t)) => Ok((t.clone(), "Dockerfile".into())),
        Some(DockerfileSource::Path(p)) => {
            if matches!(o.context, ContextSource::Tar(_)) {
                let rel = p.to_string_lossy().into_owned();
                let data = ctx.read_file(&rel)?.ok_or_else(|| Error::Build {
                    msg: format!("{rel}: no such Dockerfile in the context archive: give -f its path inside the archive"),
                })?;
                return Ok((String::from_utf8_lossy(&data).into_owned(), rel));
            }
            let text = std::fs::read_to_string(p).map_err(|e| Error::Build {
                msg: format!(
                    "read the Dockerfile {}: {e}: give an existing file to -f",
                    p.display()
                ),
            })?;
            Ok((text, p.to_string_lossy().into_owned()))
        }
        None => {
            for name in ["Dockerfile", "Containerfile"] {
                if let Some(data) = ctx.read_file(name)? {
                    return Ok((String::from_utf8_lossy(&data).into_owned(), name.into()));
                }
            }
            Err(Error::Build {
                msg: format!(
                    "no Dockerfile (or Containerfile) in the build context {}: add one or give -f FILE",
                    ctx.shown.display()
                ),
            })
        }
    }
}

/// Runs a build; returns the final image. Progress goes to `out`.
pub fn build(paths: &Paths, exe: &Path, mut o: BuildOptions, out: &mut dyn Write) -> Result<Image> {
    interrupt::install();
    let tags = o
        .tags
        .iter()
        .map(|t| {
            Reference::parse(t).map_err(|e| Error::Build {
                msg: format!(
                    "invalid tag {t:?}: {}: use NAME[:TAG] in lower case",
                    husk_fs::Chain(&e)
                ),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    for l in &o.labels {
        if !l.contains('=') || l.starts_with('=') {
            return Err(Error::InvalidFlag {
                flag: "--label",
                value: l.clone(),
                reason: "give KEY=VALUE".into(),
            });
        }
    }
    if let Some(n) = &o.network {
        if !matches!(n.as_str(), "none" | "host" | "bridge" | "default") {
            return Err(Error::InvalidFlag {
                flag: "--network",
                value: n.clone(),
                reason: "a build's RUN steps take none, host or bridge".into(),
            });
        }
        if n == "default" {
            o.network = None;
        }
    }
    // Another platform's base is pulled; a RUN on it is refused (no
    // emulation), checked where it runs.
    let platform = match &o.platform {
        Some(p) => Some(
            husk_registry::Platform::parse(p).map_err(|e| Error::InvalidFlag {
                flag: "--platform",
                value: p.clone(),
                reason: e.to_string(),
            })?,
        ),
        None => None,
    };
    let work = work::Work::new(&paths.root)?;
    let source = std::mem::replace(&mut o.context, ContextSource::Dir(PathBuf::new()));
    let mut ctx = match source {
        ContextSource::Dir(d) => {
            o.context = ContextSource::Dir(d.clone());
            Context::dir(&d)?
        }
        ContextSource::Tar(r) => {
            o.context = ContextSource::Tar(Box::new(std::io::empty()));
            let dir = work.fresh("context")?;
            Context::tar(r, &dir)?
        }
    };
    if let Some(data) = ctx.read_file(".dockerignore")? {
        let text = String::from_utf8_lossy(&data);
        let m = husk_dockerfile::DockerIgnore::parse(&text)
            .map_err(|e| build_error(format!(".dockerignore: {e}")))?;
        let m = std::rc::Rc::new(m);
        let d = m.clone();
        ctx.set_ignore(
            Box::new(move |p: &str| m.is_excluded(p)),
            Box::new(move |p: &str| d.must_descend(p)),
        );
    }
    let (text, file) = dockerfile_text(&o, &ctx)?;
    let df = Dockerfile::parse(&text).map_err(|e| build_error(e.in_file(file.clone())))?;
    let mut printer = Printer::new(o.quiet, out);
    if let Some(s) = &df.directives.syntax {
        printer.note(&format!(
            "note: the syntax directive {s} is ignored: husk's own Dockerfile frontend builds this"
        ));
    }
    let build_args = parse_build_args(&o.build_args)?;
    // The meta args: ARGs before the first FROM, --build-arg over defaults.
    let mut meta: Vec<(String, String)> = Vec::new();
    for i in &df.meta_args {
        if let Kind::Arg(decls) = &i.kind {
            for d in decls {
                let lookup = |n: &str| {
                    meta.iter()
                        .rev()
                        .find(|(k, _)| k == n)
                        .map(|(_, v)| v.clone())
                };
                let value = match build_args.get(&d.name) {
                    Some(v) => Some(v.clone()),
                    None => d
                        .default
                        .as_ref()
                        .map(|w| w.expand(&lookup))
                        .transpose()
                        .map_err(build_error)?,
                };
                if let Some(v) = value {
                    meta.push((d.name.clone(), v));
                }
            }
        }
    }
    let meta_lookup = |n: &str| {
        meta.iter()
            .rev()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    let needed = df
        .needed_stages(o.target.as_deref(), &meta_lookup)
        .map_err(|e| build_error(format!("{file}: {e}")))?;
    let target = *needed
        .last()
        .ok_or_else(|| build_error("the Dockerfile has no stage"))?;
    let total: usize = needed
        .iter()
        .map(|&i| 1 + df.stages[i].instructions.len())
        .sum();
    let mut b = Build {
        paths,
        exe,
        o: &o,
        ctx: &ctx,
        work,
        cache: cache::Cache::new(&paths.root),
        step: 0,
        total,
        stages: BTreeMap::new(),
        stage_names: df.stages.iter().map(|s| s.name.clone()).collect(),
    };
    for &i in &needed {
        let stage = &df.stages[i];
        b.step += 1;
        printer.step(b.step, b.total, &stage.original);
        let base = stage
            .base_ref(&df.stages, &meta_lookup)
            .map_err(|e| build_error(format!("{file}: {e}")))?;
        let mut state = match base {
            BaseRef::Scratch => State {
                image: None,
                config: serde_json::json!({}),
                args: Vec::new(),
                cmd_set: false,
            },
            BaseRef::Stage(s) => {
                let image = b.stages.get(&s).cloned().flatten();
                start_state(paths, image)?
            }
            BaseRef::Image(name) => {
                let want = match &stage.platform {
                    Some(w) => {
                        let p = w.expand(&meta_lookup).map_err(|e| {
                            build_error(format!("{file}: line {}: {e}", stage.line))
                        })?;
                        Some(husk_registry::Platform::parse(&p).map_err(|e| {
                            build_error(format!(
                                "{file}: line {}: FROM --platform: {e}",
                                stage.line
                            ))
                        })?)
                    }
                    // docker's default: the target platform, this
                    // machine's unless --platform says.
                    None => Some(
                        platform
                            .clone()
                            .unwrap_or_else(husk_registry::Platform::host),
                    ),
                };
                let image = get_image(paths, &name, o.pull, o.quiet, want.as_ref())?;
                start_state(paths, Some(image))?
            }
        };
        // The base's ONBUILD triggers run first, as docker runs them; the
        // new image does not inherit them.
        let triggers: Vec<String> = state
            .config
            .get("OnBuild")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if !triggers.is_empty() {
            if let Some(m) = state.config.as_object_mut() {
                m.remove("OnBuild");
            }
            printer.note(&format!(
                "--> Executing {} build trigger(s)",
                triggers.len()
            ));
            for t in &triggers {
                let ins = husk_dockerfile::parse_trigger(t)
                    .map_err(|e| build_error(format!("the base image's ONBUILD {t:?}: {e}")))?;
                printer.note(&format!("ONBUILD {}", ins.original));
                steps::execute(&mut b, &mut state, &ins, &meta, &build_args, &mut printer)?;
            }
        }
        for ins in &stage.instructions {
            if interrupt::requested() {
                return Err(Error::Interrupted);
            }
            b.step += 1;
            printer.step(b.step, b.total, &ins.original);
            steps::execute(&mut b, &mut state, ins, &meta, &build_args, &mut printer)?;
        }
        if i == target && !o.labels.is_empty() {
            steps::labels(&mut b, &mut state, &o.labels, &mut printer)?;
        }
        // A stage of only a FROM is its base image.
        b.stages.insert(i, state.image.clone());
    }
    let fin =
        b.stages.get(&target).cloned().flatten().ok_or_else(|| {
            build_error("the target stage made no image (FROM scratch with no step)")
        })?;
    if !tags.is_empty() {
        let store = Store::open_write(&paths.root)?;
        store.add_image(fin.manifest.clone(), &tags)?;
        for t in &tags {
            printer.tagged(&t.to_string());
        }
    }
    if let Some(f) = &o.iidfile {
        husk_fs::write_atomic(f, fin.id.as_str().as_bytes(), 0o644)?;
    }
    printer.done(&fin.id);
    Ok(fin)
}

fn start_state(paths: &Paths, image: Option<Image>) -> Result<State> {
    let config = match &image {
        Some(i) => Store::open_read(&paths.root)?.runtime_config(i)?,
        None => serde_json::json!({}),
    };
    Ok(State {
        image,
        config,
        args: Vec::new(),
        cmd_set: false,
    })
}

fn parse_build_args(args: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in args {
        match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                out.insert(k.to_string(), v.to_string());
            }
            Some(_) => {
                return Err(Error::InvalidFlag {
                    flag: "--build-arg",
                    value: a.clone(),
                    reason: "give NAME=VALUE".into(),
                })
            }
            None => {
                // docker: a bare name takes the caller's value, if any.
                if let Ok(v) = std::env::var(a) {
                    out.insert(a.clone(), v);
                }
            }
        }
    }
    Ok(out)
}
