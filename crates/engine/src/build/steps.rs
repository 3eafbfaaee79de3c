//! One instruction: its cache key, a cache hit (`--> Using cache`), or its
//! work: RUN in a container, COPY/ADD into an overlay of the current
//! state, or a config change; then the step's image.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use husk_dockerfile::{Command, Healthcheck, Instruction, Kind, RunCommand, RunNetwork, Source};
use husk_image::types::History;
use husk_image::{Image, NewImage, Store};
use serde_json::{json, Value};

use super::cache::Key;
use super::context::Context;
use super::copy::{self, CopyOpts};
use super::output::Printer;
use super::run::{self, RunSpec};
use super::{build_error, interrupt, Build, State};
use crate::{Error, Result};

/// Runs one instruction of a stage on `state`.
pub(crate) fn execute(
    b: &mut Build<'_>,
    state: &mut State,
    ins: &Instruction,
    meta: &[(String, String)],
    build_args: &BTreeMap<String, String>,
    printer: &mut Printer<'_>,
) -> Result<()> {
    let lookup = |st: &State| {
        let st = st.clone();
        move |n: &str| st.lookup(n)
    };
    let ex = |st: &State, w: &husk_dockerfile::Word| -> Result<String> {
        w.expand(&lookup(st))
            .map_err(|e| build_error(format!("line {}: {e}", ins.line)))
    };
    let mut cfg = state.config.clone();
    if !cfg.is_object() {
        cfg = json!({});
    }
    // WORKDIR makes its directory, as docker does, when the image lacks it.
    let mut workdir: Option<String> = None;
    match &ins.kind {
        Kind::Arg(decls) => {
            for d in decls {
                let value = match build_args.get(&d.name) {
                    Some(v) => Some(v.clone()),
                    None => match &d.default {
                        Some(w) => Some(ex(state, w)?),
                        None => meta
                            .iter()
                            .rev()
                            .find(|(k, _)| k == &d.name)
                            .map(|(_, v)| v.clone()),
                    },
                };
                state.args.retain(|(k, _)| k != &d.name);
                if let Some(v) = value {
                    state.args.push((d.name.clone(), v));
                }
            }
            // An ARG changes no image: nothing to commit.
            if let Some(i) = &state.image {
                printer.made(&i.id);
            }
            return Ok(());
        }
        Kind::Run(r) => return run_step(b, state, ins, r, printer),
        Kind::Copy(c) => return copy_step(b, state, ins, c, false, printer),
        Kind::Add(c) => return copy_step(b, state, ins, c, true, printer),
        Kind::Env(kvs) => {
            let mut env = state.env();
            for kv in kvs {
                let k = ex(state, &kv.key)?;
                let v = ex(state, &kv.value)?;
                env.retain(|e| e.split_once('=').map(|(x, _)| x) != Some(k.as_str()));
                env.push(format!("{k}={v}"));
            }
            cfg["Env"] = json!(env);
        }
        Kind::Label(kvs) => {
            let mut labels = cfg
                .get("Labels")
                .and_then(|l| l.as_object())
                .cloned()
                .unwrap_or_default();
            for kv in kvs {
                labels.insert(ex(state, &kv.key)?, Value::String(ex(state, &kv.value)?));
            }
            cfg["Labels"] = Value::Object(labels);
        }
        Kind::Workdir(w) => {
            let dir = ex(state, w)?;
            let cur = state.str_field("WorkingDir");
            let joined = if dir.starts_with('/') {
                PathBuf::from(&dir)
            } else {
                Path::new(if cur.is_empty() { "/" } else { &cur }).join(&dir)
            };
            let dir = clean_abs(&joined);
            cfg["WorkingDir"] = json!(dir);
            workdir = Some(dir);
        }
        Kind::User(w) => cfg["User"] = json!(ex(state, w)?),
        Kind::Cmd(c) => {
            cfg["Cmd"] = json!(argv(state, c));
            state.cmd_set = true;
        }
        Kind::Entrypoint(c) => {
            cfg["Entrypoint"] = json!(argv(state, c));
            // docker: an ENTRYPOINT drops a CMD inherited from the base.
            if !state.cmd_set {
                cfg["Cmd"] = Value::Null;
            }
        }
        Kind::Expose(words) => {
            let mut ports = cfg
                .get("ExposedPorts")
                .and_then(|l| l.as_object())
                .cloned()
                .unwrap_or_default();
            for w in words {
                for p in ex(state, w)?.split_whitespace() {
                    let p = if p.contains('/') {
                        p.to_ascii_lowercase()
                    } else {
                        format!("{p}/tcp")
                    };
                    ports.insert(p, json!({}));
                }
            }
            cfg["ExposedPorts"] = Value::Object(ports);
        }
        Kind::Volume(words) => {
            let mut vols = cfg
                .get("Volumes")
                .and_then(|l| l.as_object())
                .cloned()
                .unwrap_or_default();
            for w in words {
                let v = ex(state, w)?;
                if v.is_empty() {
                    return Err(build_error(format!(
                        "line {}: VOLUME needs a path",
                        ins.line
                    )));
                }
                vols.insert(v, json!({}));
            }
            cfg["Volumes"] = Value::Object(vols);
        }
        Kind::StopSignal(w) => {
            let s = ex(state, w)?;
            if husk_fs::signal_number(&s).is_none() {
                return Err(build_error(format!(
                    "line {}: STOPSIGNAL {s:?} is not a signal: use a name like SIGTERM or a number",
                    ins.line
                )));
            }
            cfg["StopSignal"] = json!(s);
        }
        Kind::Shell(v) => cfg["Shell"] = json!(v),
        Kind::Healthcheck(h) => {
            cfg["Healthcheck"] = match h {
                Healthcheck::None => json!({"Test": ["NONE"]}),
                Healthcheck::Check {
                    command,
                    interval,
                    timeout,
                    start_period,
                    start_interval,
                    retries,
                } => {
                    let test = match command {
                        Command::Shell(s) => json!(["CMD-SHELL", s]),
                        Command::Exec(v) => {
                            let mut t = vec!["CMD".to_string()];
                            t.extend(v.iter().cloned());
                            json!(t)
                        }
                    };
                    let mut m = serde_json::Map::new();
                    m.insert("Test".into(), test);
                    for (k, d) in [
                        ("Interval", interval),
                        ("Timeout", timeout),
                        ("StartPeriod", start_period),
                        ("StartInterval", start_interval),
                    ] {
                        if !d.is_zero() {
                            m.insert(k.into(), json!(d.as_nanos() as u64));
                        }
                    }
                    if *retries > 0 {
                        m.insert("Retries".into(), json!(retries));
                    }
                    Value::Object(m)
                }
            }
        }
        Kind::Onbuild { trigger, .. } => {
            let mut list = cfg
                .get("OnBuild")
                .and_then(|l| l.as_array())
                .cloned()
                .unwrap_or_default();
            list.push(json!(trigger));
            cfg["OnBuild"] = Value::Array(list);
        }
        // The config's author is not the runtime section: kept in history.
        Kind::Maintainer(_) => {}
    }
    // The parent fixes the config and the env the words expanded with;
    // the stage's ARG values are the rest.
    let key = Key {
        parent: state.image.as_ref().map(|i| &i.id),
        instruction: &format!("CONFIG {}", ins.original),
        extra: &[json!(state.args).to_string()],
    }
    .digest();
    if hit(b, state, &key, printer)? {
        return Ok(());
    }
    state.config = cfg;
    let made = match &workdir {
        Some(dir) => make_workdir(b, state, dir)?,
        None => None,
    };
    commit(
        b,
        state,
        &key,
        made.as_ref().map(|s| s.upper.as_path()),
        &ins.original,
        printer,
    )
}

/// The staged layer that creates `dir`, or None when the image has it.
fn make_workdir(b: &Build<'_>, state: &State, dir: &str) -> Result<Option<Staging>> {
    let mut staging = Staging::new(b, state.image.as_ref())?;
    let rootfs: OwnedFd = std::fs::File::open(&staging.merged)
        .map_err(|e| Error::io("open", &staging.merged, e))?
        .into();
    let path = Path::new(dir);
    match husk_fs::open_in_root(&rootfs, path, nix::fcntl::OFlag::O_PATH) {
        Ok(_) => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        Err(e) => return Err(e.into()),
    }
    husk_fs::mkdir_all_in_root(&rootfs, path, 0o755)?;
    drop(rootfs);
    staging.unmount()?;
    Ok(Some(staging))
}

/// `--label K=V` of `husk build`: one last config step on the target.
pub(crate) fn labels(
    b: &mut Build<'_>,
    state: &mut State,
    labels: &[String],
    printer: &mut Printer<'_>,
) -> Result<()> {
    let mut cfg = state.config.clone();
    if !cfg.is_object() {
        cfg = json!({});
    }
    let mut map = cfg
        .get("Labels")
        .and_then(|l| l.as_object())
        .cloned()
        .unwrap_or_default();
    for l in labels {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        map.insert(k.into(), json!(v));
    }
    cfg["Labels"] = Value::Object(map);
    let text = format!("LABEL {}", labels.join(" "));
    let key = Key {
        parent: state.image.as_ref().map(|i| &i.id),
        instruction: &format!("CONFIG {text}"),
        extra: &[],
    }
    .digest();
    if hit(b, state, &key, printer)? {
        return Ok(());
    }
    state.config = cfg;
    commit(b, state, &key, None, &text, printer)
}

/// A cache hit (`--> Using cache`), or with `make` (which returns the
/// step's upper dir, if it makes a layer) a new image.
fn commit(
    b: &mut Build<'_>,
    state: &mut State,
    key: &str,
    layer: Option<&Path>,
    created_by: &str,
    printer: &mut Printer<'_>,
) -> Result<()> {
    if interrupt::requested() {
        return Err(Error::Interrupted);
    }
    let store = Store::open_write(&b.paths.root)?;
    let layers = match layer {
        Some(dir) => {
            let parent = match &state.image {
                Some(i) => store.top_chain_id(i)?,
                None => None,
            };
            vec![store.put_layer_from_dir(parent.as_ref(), dir)?]
        }
        None => Vec::new(),
    };
    let img = store.commit_image(&NewImage {
        parent: state.image.clone(),
        history: vec![History {
            created_by: Some(created_by.to_string()),
            comment: Some("husk build".into()),
            empty_layer: layers.is_empty(),
            ..Default::default()
        }],
        layers,
        config: state.config.clone(),
        ..Default::default()
    })?;
    drop(store);
    b.cache.put(key, &img.id)?;
    printer.made(&img.id);
    state.image = Some(img);
    Ok(())
}

/// The cached image for `key`, made current; false on a miss (or with
/// `--no-cache`).
fn hit(b: &Build<'_>, state: &mut State, key: &str, printer: &mut Printer<'_>) -> Result<bool> {
    if b.o.no_cache {
        return Ok(false);
    }
    let store = Store::open_read(&b.paths.root)?;
    let Some(img) = b.cache.get(&store, key) else {
        return Ok(false);
    };
    state.config = store.runtime_config(&img)?;
    printer.cached(&img.id);
    state.image = Some(img);
    Ok(true)
}

/// A command in shell form with the stage's SHELL, or exec form as is.
fn argv(state: &State, c: &Command) -> Vec<String> {
    match c {
        Command::Exec(v) => v.clone(),
        Command::Shell(s) => {
            let mut a = shell(state);
            a.push(s.clone());
            a
        }
    }
}

fn shell(state: &State) -> Vec<String> {
    state
        .config
        .get("Shell")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect::<Vec<_>>()
        })
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
}

/// `/a/./b/../c` → `/a/c`.
fn clean_abs(p: &Path) -> String {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            std::path::Component::Normal(n) => out.push(n),
            std::path::Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out.to_string_lossy().into_owned()
}

fn run_step(
    b: &mut Build<'_>,
    state: &mut State,
    ins: &Instruction,
    r: &husk_dockerfile::Run,
    printer: &mut Printer<'_>,
) -> Result<()> {
    if let Some(m) = r.mounts.first() {
        return Err(build_error(format!(
            "line {}: RUN --mount={m} is not supported by husk yet: COPY what the step needs instead",
            ins.line
        )));
    }
    if let Some(s) = &r.security {
        return Err(build_error(format!(
            "line {}: RUN --security={s} is not supported by husk: remove the flag",
            ins.line
        )));
    }
    let Some(image) = state.image.clone() else {
        return Err(build_error(format!(
            "line {}: RUN in a FROM scratch stage with nothing in it: there is no shell; COPY a root filesystem in first",
            ins.line
        )));
    };
    {
        // No emulation: a RUN needs an image this machine executes.
        let store = Store::open_read(&b.paths.root)?;
        let c = store.config(&image)?;
        let host = husk_registry::Platform::host();
        if !c.architecture.is_empty() && !host.matches(&super::platform_of(&c)) {
            let v = c
                .variant
                .as_ref()
                .map(|v| format!("/{v}"))
                .unwrap_or_default();
            return Err(build_error(format!(
                "line {}: RUN on a {}/{}{v} image: husk does not emulate other platforms; \
                 build on a {}/{} machine, or use this stage only for COPY --from",
                ins.line, c.os, c.architecture, host.os, host.architecture
            )));
        }
    }
    let argv = match r.run_command() {
        RunCommand::Exec(v) => v,
        RunCommand::Shell(s) => {
            let mut a = shell(state);
            a.push(s);
            a
        }
        // The script runs through the shell (husk does not write the
        // script file into the container yet).
        RunCommand::Script { data, .. } => {
            let mut a = shell(state);
            a.push(data);
            a
        }
    };
    // Build args are the command's environment, never the image's.
    let mut env = state.env();
    let mut arg_env = Vec::new();
    for (k, v) in &state.args {
        if !env
            .iter()
            .any(|e| e.split_once('=').map(|(x, _)| x) == Some(k.as_str()))
        {
            arg_env.push(format!("{k}={v}"));
        }
    }
    env.extend(arg_env.iter().cloned());
    let user = state.str_field("User");
    let workdir = state.str_field("WorkingDir");
    let network = match r.network {
        Some(RunNetwork::None) => Some("none".to_string()),
        Some(RunNetwork::Host) => Some("host".to_string()),
        Some(RunNetwork::Default) | None => b.o.network.clone(),
    };
    let shown = format!("RUN {}", argv.join(" "));
    let argv_json = json!(argv).to_string();
    let extra = vec![
        json!(arg_env).to_string(),
        format!("user={user}"),
        format!("workdir={workdir}"),
    ];
    let key = Key {
        parent: Some(&image.id),
        instruction: &format!("RUN {argv_json}"),
        extra: &extra,
    }
    .digest();
    if hit(b, state, &key, printer)? {
        return Ok(());
    }
    let spec = RunSpec {
        image: &image.id,
        argv,
        env,
        user,
        workdir,
        network,
    };
    let mut captured: Vec<u8> = Vec::new();
    let quiet = printer.quiet;
    let (guard, code) = if quiet {
        let mut err_buf: Vec<u8> = Vec::new();
        let r = run::run(b.paths, b.exe, &spec, &mut captured, &mut err_buf);
        captured.extend(err_buf);
        r?
    } else {
        let mut err = std::io::stderr();
        run::run(b.paths, b.exe, &spec, printer.sink(), &mut err)?
    };
    if code != 0 {
        if quiet {
            eprint!("{}", String::from_utf8_lossy(&captured));
        }
        drop(guard);
        return Err(Error::BuildStep {
            step: format!("line {}: {shown}", ins.line),
            code,
        });
    }
    let upper = guard.upper();
    scrub_mount_points(&upper, &image, b)?;
    let created_by = format!("{shown} # buildkit");
    let r = commit(b, state, &key, Some(&upper), &created_by, printer);
    drop(guard);
    r
}

/// What the runtime made only to mount over (an empty `/etc/hosts`, the
/// `/proc` directory an image lacked) is not the command's change: docker
/// and podman leave it out of the layer too. The upper dir is the
/// command's (hostile): everything is resolved inside it and inside the
/// layers by fd, and removed with `unlinkat` in the resolved parent.
fn scrub_mount_points(upper: &Path, image: &Image, b: &Build<'_>) -> Result<()> {
    use nix::fcntl::OFlag;
    use nix::sys::stat::SFlag;
    use std::os::fd::AsRawFd;
    let store = Store::open_read(&b.paths.root)?;
    let lowers = store.lowerdirs(image)?;
    drop(store);
    let open_dir = |p: &Path| -> Result<OwnedFd> {
        Ok(std::fs::File::open(p)
            .map_err(|e| Error::io("open", p, e))?
            .into())
    };
    let upper_fd = open_dir(upper)?;
    let lower_fds = lowers
        .iter()
        .map(|l| open_dir(&b.paths.root.join(l)))
        .collect::<Result<Vec<_>>>()?;
    for p in [
        "etc/hosts",
        "etc/hostname",
        "etc/resolv.conf",
        "proc",
        "sys",
        "dev",
        "etc",
    ] {
        let path = Path::new(p);
        // Only when no lower layer has it and it is empty in the upper dir.
        if lower_fds
            .iter()
            .any(|l| husk_fs::open_in_root(l, path, OFlag::O_PATH).is_ok())
        {
            continue;
        }
        let (parent, name) = match p.rsplit_once('/') {
            Some((d, n)) => (Path::new(d), n),
            None => (Path::new("."), p),
        };
        let Ok(dir) = husk_fs::open_in_root(&upper_fd, parent, OFlag::O_PATH | OFlag::O_DIRECTORY)
        else {
            continue;
        };
        let Ok(st) = nix::sys::stat::fstatat(
            Some(dir.as_raw_fd()),
            name,
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        ) else {
            continue;
        };
        let kind = super::context::kind(&st);
        let how = if kind == SFlag::S_IFREG && st.st_size == 0 {
            nix::unistd::UnlinkatFlags::NoRemoveDir
        } else if kind == SFlag::S_IFDIR {
            // Fails, harmlessly, unless empty.
            nix::unistd::UnlinkatFlags::RemoveDir
        } else {
            continue;
        };
        let _ = nix::unistd::unlinkat(Some(dir.as_raw_fd()), name, how);
    }
    Ok(())
}

/// A writable view of the current state for COPY: an overlay of its layers
/// with a fresh upper dir (the step's change), unmounted on drop.
struct Staging {
    upper: PathBuf,
    merged: PathBuf,
    mounted: bool,
}

impl Staging {
    fn new(b: &Build<'_>, image: Option<&Image>) -> Result<Staging> {
        let base = b.work.fresh("copy")?;
        let upper = base.join("upper");
        let workdir = base.join("work");
        let merged = base.join("merged");
        for d in [&upper, &workdir, &merged] {
            crate::store::private_create(d)?;
        }
        // The upper dir becomes the layer's root directory: a normal one.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&upper, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io("chmod", &upper, e))?;
        let lowers = match image {
            Some(i) => {
                let store = Store::open_read(&b.paths.root)?;
                store.lowerdirs(i)?
            }
            None => Vec::new(),
        };
        if lowers.is_empty() {
            // Nothing below: the copy goes straight into the upper dir.
            return Ok(Staging {
                merged: upper.clone(),
                upper,
                mounted: false,
            });
        }
        let lowers: Vec<PathBuf> = lowers.iter().map(|l| b.paths.root.join(l)).collect();
        husk_layers::mount_overlay(&lowers, &upper, &workdir, &merged)?;
        Ok(Staging {
            upper,
            merged,
            mounted: true,
        })
    }

    fn unmount(&mut self) -> Result<()> {
        if self.mounted {
            self.mounted = false;
            husk_layers::unmount(&self.merged)?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = self.unmount();
    }
}

fn copy_step(
    b: &mut Build<'_>,
    state: &mut State,
    ins: &Instruction,
    c: &husk_dockerfile::Copy,
    add: bool,
    printer: &mut Printer<'_>,
) -> Result<()> {
    let what = if add { "ADD" } else { "COPY" };
    let lookup = {
        let st = state.clone();
        move |n: &str| st.lookup(n)
    };
    let ex = |w: &husk_dockerfile::Word| -> Result<String> {
        w.expand(&lookup)
            .map_err(|e| build_error(format!("line {}: {e}", ins.line)))
    };
    let dest = ex(&c.dest)?;
    let chown = c.chown.as_ref().map(ex).transpose()?;
    let chmod = match c.chmod.as_ref().map(ex).transpose()? {
        Some(m) => Some(
            u32::from_str_radix(&m, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| {
                    build_error(format!(
                        "line {}: --chmod={m}: give octal permission bits like 755",
                        ins.line
                    ))
                })?,
        ),
        None => None,
    };
    // The source tree: the context, or a stage's or image's rootfs.
    let from_image = match c.from.as_ref().map(ex).transpose()? {
        None => None,
        Some(f) => Some(from_image(b, &f, ins)?),
    };
    let from_staging = match &from_image {
        Some(img) => Some(Staging::new(b, img.as_ref())?),
        None => None,
    };
    let from_ctx = match &from_staging {
        Some(s) => Some(Context::rootfs(&s.merged, "--from")?),
        None => None,
    };
    let src: &Context = from_ctx.as_ref().unwrap_or(b.ctx);
    let mut paths = Vec::new();
    let mut heredocs = Vec::new();
    let mut extra = Vec::new();
    let mut urls = Vec::new();
    let checksum = c.checksum.as_ref().map(ex).transpose()?;
    if checksum.is_some() && c.sources.iter().any(|s| !matches!(s, Source::Path(_))) {
        return Err(build_error(format!(
            "line {}: ADD --checksum applies to one URL source only",
            ins.line
        )));
    }
    for s in &c.sources {
        match s {
            Source::Heredoc(h) => {
                let body = if h.expand {
                    husk_dockerfile::expand_heredoc(&h.content, &lookup)
                        .map_err(|e| build_error(format!("line {}: {e}", ins.line)))?
                } else {
                    h.content.clone()
                };
                extra.push(format!("heredoc {}\0{body}", h.name));
                heredocs.push((h.name.clone(), body));
            }
            Source::Path(w) => {
                let p = ex(w)?;
                let is_url = p.starts_with("http://") || p.starts_with("https://");
                if is_url && add && from_image.is_none() {
                    let d = super::url::download(b, &p, checksum.as_deref(), ins.line)?;
                    // docker re-downloads each build: the content, not
                    // the URL alone, decides a cache hit.
                    extra.push(format!("url {p}\0{}", d.digest));
                    urls.push(d);
                    continue;
                }
                if is_url || p.starts_with("git@") {
                    return Err(build_error(format!(
                        "line {}: {what} {p}: {what} takes no URL here: use ADD (without --from) to download a file",
                        ins.line
                    )));
                }
                for rel in src.expand(&p)? {
                    if from_image.is_none() {
                        extra.push(format!("{rel}\0{}", src.checksum(&rel)?));
                    } else {
                        extra.push(rel.clone());
                    }
                    paths.push(rel);
                }
            }
        }
    }
    if let Some(img) = &from_image {
        extra.push(format!(
            "from {}",
            img.as_ref().map(|i| i.id.to_string()).unwrap_or_default()
        ));
    }
    let instruction = format!(
        "{what} chown={chown:?} chmod={chmod:?} dest={dest} workdir={}",
        state.str_field("WorkingDir")
    );
    let key = Key {
        parent: state.image.as_ref().map(|i| &i.id),
        instruction: &instruction,
        extra: &extra,
    }
    .digest();
    if hit(b, state, &key, printer)? {
        return Ok(());
    }
    let mut staging = Staging::new(b, state.image.as_ref())?;
    let rootfs: OwnedFd = std::fs::File::open(&staging.merged)
        .map_err(|e| Error::io("open", &staging.merged, e))?
        .into();
    let owner = match &chown {
        None => (0, 0),
        Some(u) => {
            let (uid, gid, _) = crate::oci::spec::resolve_user_in("build", u, &staging.merged)
                .map_err(|e| {
                    build_error(format!(
                        "line {}: --chown={u}: {}",
                        ins.line,
                        husk_fs::Chain(&e)
                    ))
                })?;
            (uid, gid)
        }
    };
    let o = CopyOpts {
        owner,
        chmod,
        extract: add,
    };
    let workdir = state.str_field("WorkingDir");
    let many = paths.len() + heredocs.len() + urls.len() > 1;
    let dest_for = |d: &str| {
        if many && !d.ends_with('/') {
            format!("{d}/")
        } else {
            d.to_string()
        }
    };
    if !paths.is_empty() {
        copy::copy(src, &paths, &rootfs, &dest_for(&dest), &workdir, &o)?;
    }
    if !heredocs.is_empty() {
        let tmp = b.work.fresh("heredoc")?;
        for (name, body) in &heredocs {
            let f = tmp.join(name);
            std::fs::write(&f, body).map_err(|e| Error::io("write", &f, e))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644))
                .map_err(|e| Error::io("chmod", &f, e))?;
        }
        let hctx = Context::dir(&tmp)?;
        let names: Vec<String> = heredocs.iter().map(|(n, _)| n.clone()).collect();
        copy::copy(&hctx, &names, &rootfs, &dest_for(&dest), &workdir, &o)?;
    }
    for d in &urls {
        // A download is a file, never an archive to unpack.
        let uctx = Context::dir(&d.dir)?;
        let uo = CopyOpts {
            extract: false,
            ..o
        };
        copy::copy(
            &uctx,
            std::slice::from_ref(&d.name),
            &rootfs,
            &dest_for(&dest),
            &workdir,
            &uo,
        )?;
    }
    drop(rootfs);
    staging.unmount()?;
    drop(from_ctx);
    drop(from_staging);
    let created_by = format!("{} # buildkit", ins.original);
    commit(b, state, &key, Some(&staging.upper), &created_by, printer)
}

/// `COPY --from=X`: an earlier stage (by name or index), else an image.
fn from_image(b: &Build<'_>, name: &str, ins: &Instruction) -> Result<Option<Image>> {
    let lower = name.to_ascii_lowercase();
    let by_name = b
        .stage_names
        .iter()
        .position(|n| n.as_deref() == Some(lower.as_str()));
    let by_index = name
        .parse::<usize>()
        .ok()
        .filter(|i| *i < b.stage_names.len());
    if let Some(i) = by_name.or(by_index) {
        return match b.stages.get(&i) {
            Some(img) => Ok(img.clone()),
            None => Err(build_error(format!(
                "line {}: COPY --from={name}: that stage is not built before this one: \
                 name an earlier stage",
                ins.line
            ))),
        };
    }
    super::get_image(b.paths, name, b.o.pull, b.o.quiet, None).map(Some)
}
