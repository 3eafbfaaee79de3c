//! The container commands: parse, call the engine, print docker's lines.
//! Each returns the process exit status.

use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use husk_engine::config::CreateOptions;
use husk_engine::format::template;
use husk_engine::lifecycle;
use husk_engine::lifecycle::exec::{self, ExecOptions};
use husk_engine::lifecycle::logs::{self, AttachOptions, LogsOptions, Outcome};
use husk_engine::lifecycle::Started;
use husk_engine::logtime;
use husk_engine::monitor::{self, detach};
use husk_engine::store::Paths;
use husk_engine::views::inspect;
use husk_engine::views::ps::{self as list, PsOptions};

use crate::cli::*;

fn options(a: &CreateArgs) -> Result<CreateOptions> {
    let (image, cmd) = a
        .image_and_cmd
        .split_first()
        .context("give an image to run")?;
    Ok(CreateOptions {
        image: image.clone(),
        cmd: cmd.to_vec(),
        name: a.name.clone(),
        env: a.env.clone(),
        workdir: a.workdir.clone(),
        entrypoint: a.entrypoint.clone(),
        hostname: a.hostname.clone(),
        user: a.user.clone(),
        labels: a.label.clone(),
        memory: a.memory.clone(),
        pids_limit: a.pids_limit,
        cpus: a.cpus,
        cpu_shares: a.cpu_shares,
        network: a.network.first().cloned(),
        extra_networks: a.network.iter().skip(1).cloned().collect(),
        publish: a.publish.clone(),
        publish_all: a.publish_all,
        // The record keeps both in one field, told apart by family.
        ip: (a.ip.is_some() || a.ip6.is_some())
            .then(|| husk_engine::network::join_ips(a.ip.as_deref(), a.ip6.as_deref())),
        mac_address: a.mac_address.clone(),
        network_aliases: a.network_alias.clone(),
        add_hosts: a.add_host.clone(),
        dns: a.dns.clone(),
        dns_search: a.dns_search.clone(),
        auto_remove: a.rm,
        runtime: a.runtime.clone(),
        interactive: a.interactive,
        tty: a.tty,
        security_opt: a.security_opt.clone(),
        volumes: a.volume.clone(),
        read_only: a.read_only,
        cap_add: a.cap_add.clone(),
        cap_drop: a.cap_drop.clone(),
        env_files: a.env_file.clone(),
        mounts: a.mount.clone(),
        tmpfs: a.tmpfs.clone(),
        memory_swap: a.memory_swap.clone(),
        memory_reservation: a.memory_reservation.clone(),
        cpuset_cpus: a.cpuset_cpus.clone(),
        cpuset_mems: a.cpuset_mems.clone(),
        ulimits: a.ulimit.clone(),
        stop_signal: a.stop_signal.clone(),
        stop_timeout: a.stop_timeout,
        privileged: a.privileged,
        init: a.init,
        log_driver: a.log_driver.clone(),
        log_opts: a.log_opt.clone(),
        health: husk_engine::config::health::HealthOptions {
            cmd: a.health.health_cmd.clone(),
            interval: a.health.health_interval.clone(),
            timeout: a.health.health_timeout.clone(),
            start_period: a.health.health_start_period.clone(),
            start_interval: a.health.health_start_interval.clone(),
            retries: a.health.health_retries.clone(),
            disable: a.health.no_healthcheck,
        },
        extra: extra_flags(a),
        restart: a.restart.clone(),
    })
}

/// The rest of docker's run flags (the engine's config/extra.rs).
fn extra_flags(a: &CreateArgs) -> husk_engine::config::extra::ExtraFlags {
    husk_engine::config::extra::ExtraFlags {
        devices: a.device.clone(),
        device_cgroup_rules: a.device_cgroup_rule.clone(),
        group_add: a.group_add.clone(),
        sysctls: a.sysctl.clone(),
        shm_size: a.shm_size.clone(),
        ipc: a.ipc.clone(),
        pid: a.pid.clone(),
        uts: a.uts.clone(),
        cgroupns: a.cgroupns.clone(),
        cgroup_parent: a.cgroup_parent.clone(),
        cidfile: a.cidfile.clone(),
        attach: a.attach.clone(),
        oom_kill_disable: a.oom_kill_disable,
        oom_score_adj: a.oom_score_adj,
        memory_swappiness: a.memory_swappiness,
        cpu_period: a.cpu_period,
        cpu_quota: a.cpu_quota,
        cpu_rt_runtime: a.cpu_rt_runtime,
        blkio_weight: a.blkio_weight,
        blkio_weight_device: a.blkio_weight_device.clone(),
        device_read_bps: a.device_read_bps.clone(),
        device_write_bps: a.device_write_bps.clone(),
        device_read_iops: a.device_read_iops.clone(),
        device_write_iops: a.device_write_iops.clone(),
        label_files: a.label_file.clone(),
        annotations: a.annotation.clone(),
        volumes_from: a.volumes_from.clone(),
        domainname: a.domainname.clone(),
        expose: a.expose.clone(),
        dns_options: a.dns_option.clone(),
    }
}

fn exe() -> Result<std::path::PathBuf> {
    std::env::current_exe().context("locate the husk binary (/proc/self/exe)")
}

/// docker's streams when `-a` names none: stdout and stderr (and stdin
/// with `-i`) unless detached; what inspect's Config.Attach* show.
fn default_attach(o: &mut CreateOptions, detached: bool) {
    if detached || !o.extra.attach.is_empty() {
        return;
    }
    if o.interactive {
        o.extra.attach.push("stdin".into());
    }
    o.extra.attach.extend(["stdout".into(), "stderr".into()]);
}

pub fn create(p: &Paths, a: &CreateArgs) -> Result<i32> {
    let mut o = options(a)?;
    default_attach(&mut o, false);
    let o = crate::pull::for_container(p, a, o)?;
    let c = lifecycle::create(p, &o)?;
    println!("{}", c.id);
    Ok(0)
}

/// The caller's terminal in raw mode while a `run -it`, `exec -it` or a
/// `compose exec`/`run` is attached (keys
/// go to the container's terminal as typed, Ctrl-C included); restored on
/// drop.
pub(crate) struct RawTerminal {
    saved: nix::sys::termios::Termios,
}

impl RawTerminal {
    pub(crate) fn enter() -> Result<RawTerminal> {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let stdin = std::io::stdin();
        let saved = tcgetattr(stdin.as_fd()).context("read the terminal's settings")?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).context("set the terminal raw")?;
        Ok(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        use nix::sys::termios::{tcsetattr, SetArg};
        let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

pub fn run(p: &Paths, a: &RunArgs) -> Result<i32> {
    let attach_tty = a.create.tty && a.create.interactive && !a.detach;
    if attach_tty && !std::io::stdin().is_terminal() {
        bail!("the input device is not a TTY: drop -t, or run from a terminal");
    }
    if let Some(k) = &a.detach_keys {
        detach::parse(k)?;
    }
    if a.detach && !a.create.attach.is_empty() {
        bail!("conflicting options: -a (--attach) and -d (--detach) cannot both be given");
    }
    let mut o = options(&a.create)?;
    default_attach(&mut o, a.detach);
    let o = crate::pull::for_container(p, &a.create, o)?;
    let c = lifecycle::create(p, &o)?;
    // `-i` in the foreground: the container reads our stdin directly.
    let stdin = std::io::stdin();
    let input = (a.create.interactive && !a.detach).then(|| stdin.as_fd());
    let started = lifecycle::start_attached(p, &c.id, &exe()?, input, a.detach_keys.as_deref());
    let mut started = match started {
        Ok(s) => s,
        Err(e) => {
            // docker keeps the failed container unless --rm.
            let code = e.exit_code();
            eprintln!("husk: {}", husk_fs::Chain(&e));
            return Ok(code);
        }
    };
    if a.detach {
        println!("{}", c.id);
        return Ok(0);
    }
    // `-a stdout` alone: the container's stderr is not shown (nor kept
    // from the log), as docker attaches only the streams named.
    let shown = |s: &str| {
        a.create.attach.is_empty() || a.create.attach.iter().any(|x| x.eq_ignore_ascii_case(s))
    };
    let streams = (shown("stdout"), shown("stderr"));
    foreground(p, &c.id, &mut started, attach_tty, a.sig_proxy, streams)
}

/// The attached part of `run` and `start -a`: the container's output on
/// ours, signals forwarded (`sig_proxy`), and with `tty` our terminal raw
/// (keys go to the container's terminal as typed, Ctrl-C included) with
/// its resizes passed on; returns the container's exit code, or 0 when
/// the detach keys were typed.
fn foreground(
    p: &Paths,
    id: &str,
    started: &mut Started,
    tty: bool,
    sig_proxy: bool,
    (show_out, show_err): (bool, bool),
) -> Result<i32> {
    let raw = if tty {
        Some(RawTerminal::enter()?)
    } else {
        None
    };
    let mut out: Box<dyn Write> = if show_out {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::io::sink())
    };
    let mut err: Box<dyn Write> = if show_err {
        Box::new(std::io::stderr().lock())
    } else {
        Box::new(std::io::sink())
    };
    let mut forward = |sig: i32| {
        if let Err(e) = lifecycle::kill(p, id, &sig.to_string()) {
            eprintln!("husk: forward signal {sig}: {}", husk_fs::Chain(&e));
        }
    };
    let o = AttachOptions {
        sig_proxy,
        resize: tty.then_some(started.monitor.id() as i32),
    };
    let outcome = logs::attach(&p.log(id), started, &o, &mut forward, &mut out, &mut err);
    drop(raw);
    match outcome {
        // The monitor reports once the container is recorded (or, with
        // --rm, gone); what it deletes after that is no one's to wait for.
        Outcome::Exited(code) => Ok(code),
        // The monitor runs on with the container; it is not ours to wait for.
        Outcome::Detached => Ok(0),
        Outcome::Lost => {
            let _ = started.monitor.wait();
            // The monitor died without a report (killed): the record,
            // settled, says what is left; a `--rm` container that ended
            // goes as its monitor would have removed it.
            let rec = lifecycle::reconcile(p, &p.resolve(id)?)?;
            let left = if rec.is_running() {
                "it runs on with nobody collecting its output: remove it with `husk rm -f`"
            } else {
                lifecycle::discard_ended(p, &rec)?;
                "its exit code is unknown"
            };
            bail!(
                "the monitor of container {} died before reporting the container's exit; {left}",
                rec.short_id()
            )
        }
    }
}

pub fn start(p: &Paths, a: &StartArgs) -> Result<i32> {
    if a.all_restartable {
        return crate::update::start_restartable(p, a);
    }
    if a.attach || a.interactive {
        return start_attached(p, a);
    }
    let mut failed = 0;
    for name in &a.containers {
        match lifecycle::start(p, name, &exe()?, None) {
            Ok(_) => println!("{name}"),
            Err(e) => {
                eprintln!("husk: {}", husk_fs::Chain(&e));
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// `start -a [-i]`: like a foreground `run` of an existing container.
fn start_attached(p: &Paths, a: &StartArgs) -> Result<i32> {
    let [name] = a.containers.as_slice() else {
        bail!("you cannot start and attach multiple containers at once");
    };
    let c = lifecycle::reconcile(p, &p.resolve(name)?)?;
    // Input only for a container created with -i, as docker does.
    let with_input = a.interactive && c.config.open_stdin;
    let tty = with_input && c.config.tty;
    if tty && !std::io::stdin().is_terminal() {
        bail!("the input device is not a TTY: drop -i, or run from a terminal");
    }
    let stdin = std::io::stdin();
    let input = with_input.then(|| stdin.as_fd());
    let mut started =
        lifecycle::start_attached(p, &c.id, &exe()?, input, a.detach_keys.as_deref())?;
    foreground(p, &c.id, &mut started, tty, true, (true, true))
}

/// `husk attach`: the output of a running container until it exits, with
/// its exit code. A `-it` container also takes our terminal for its input
/// (detach keys included); another container's stdin stays with whoever
/// started it.
pub fn attach(p: &Paths, a: &AttachArgs) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let c = lifecycle::reconcile(p, &p.resolve(&a.container)?)?;
    if c.config.tty && c.config.open_stdin && !a.no_stdin && c.is_running() {
        if !std::io::stdin().is_terminal() {
            bail!("the input device is not a TTY: use --no-stdin, or run from a terminal");
        }
        let raw = RawTerminal::enter()?;
        let stdin = std::io::stdin();
        let code = logs::attach_terminal(p, &c.id, stdin.as_fd(), &mut out, &mut err);
        drop(raw);
        // None: detached, the container runs on.
        return Ok(code?.unwrap_or(0));
    }
    let id = c.id;
    let mut forward = |sig: i32| {
        if let Err(e) = lifecycle::kill(p, &id, &sig.to_string()) {
            eprintln!("husk: forward signal {sig}: {}", husk_fs::Chain(&e));
        }
    };
    Ok(logs::attach_running(
        p,
        &id,
        a.sig_proxy,
        &mut forward,
        &mut out,
        &mut err,
    )?)
}

pub fn ps(p: &Paths, a: &PsArgs) -> Result<i32> {
    let filters = list::Filters::parse(&a.filter)?;
    let last = if a.latest { Some(1) } else { a.last };
    let show_all = a.all || filters.implies_all() || last.is_some();
    let mut all = lifecycle::list(p)?;
    filters.retain(&mut all, show_all)?;
    if let Some(pid) = a.pid {
        let id = husk_engine::views::which::which(p, pid)?.container.id;
        all.retain(|c| c.id == id);
    }
    if let Some(n) = last {
        // Records come oldest first; -n keeps the newest n.
        all.drain(..all.len().saturating_sub(n));
    }
    let sizes = a.size.then(|| list::sizes(p, &all));
    let now = chrono::Utc::now();
    if let Some(f) = &a.format {
        let items: Vec<serde_json::Value> = all
            .iter()
            .rev()
            .map(|c| list::row(c, a.no_trunc, sizes.as_ref(), now))
            .collect();
        return Ok(
            match template::rows(f, &items, &template::PS, |f| f.to_uppercase()) {
                Ok(out) => {
                    print!("{out}");
                    0
                }
                Err(e) => {
                    eprintln!("{}", husk_fs::Chain(&e));
                    1
                }
            },
        );
    }
    let o = PsOptions {
        all: show_all,
        quiet: a.quiet,
        no_trunc: a.no_trunc,
        last: None,
        sizes,
    };
    print!("{}", list::render(&all, &o, now));
    Ok(0)
}

/// Containers first, then images, as docker's untyped `inspect` does.
pub fn inspect(root: &Path, p: &Paths, a: &InspectArgs) -> Result<i32> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in &a.images {
        match p.resolve(name) {
            Ok(c) => {
                let c = lifecycle::reconcile(p, &c)?;
                found.push((inspect::inspect(p, &c), &template::CONTAINER));
            }
            Err(husk_engine::Error::NoSuchContainer { .. }) => {
                let store = husk_image::Store::open_read(root)?;
                match store.resolve(name) {
                    Ok(img) => found.push((
                        serde_json::to_value(husk_engine::views::image_inspect::inspect(
                            &store, &img,
                        )?)?,
                        &template::IMAGE,
                    )),
                    Err(_) => missing.push(name.clone()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    let code = crate::output::print_inspected(&found, a.format.as_deref())?;
    if code == 64 {
        return Ok(code);
    }
    for m in &missing {
        eprintln!("Error: No such object: {m}");
    }
    Ok(if missing.is_empty() { code } else { 1 })
}

pub fn logs(p: &Paths, a: &LogsArgs) -> Result<i32> {
    let tail = match a.tail.as_str() {
        "all" => None,
        n => Some(
            n.parse::<usize>()
                .with_context(|| format!("invalid --tail {n:?}: give a number or \"all\""))?,
        ),
    };
    let now = chrono::Utc::now();
    let time = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|v| logtime::parse(v, now).map_err(|e| anyhow::anyhow!("invalid {flag}: {e}")))
            .transpose()
    };
    let o = LogsOptions {
        tail,
        follow: a.follow,
        timestamps: a.timestamps,
        since: time("--since", &a.since)?,
        until: time("--until", &a.until)?,
    };
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    logs::logs(p, &a.container, &o, &mut out, &mut err)?;
    out.flush()?;
    Ok(0)
}

/// Runs `f` for each name, echoing it on success as docker does.
pub(crate) fn each(
    names: &[String],
    mut f: impl FnMut(&str) -> husk_engine::Result<()>,
) -> Result<i32> {
    let mut failed = 0;
    for n in names {
        match f(n) {
            Ok(()) => println!("{n}"),
            Err(e) => {
                eprintln!("husk: {}", husk_fs::Chain(&e));
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// `-t N` as a timeout; `None` leaves it to the container's --stop-timeout.
fn stop_timeout(a: &StopArgs) -> Option<Duration> {
    a.time.map(|t| {
        u64::try_from(t)
            .map(Duration::from_secs)
            // docker's -1: wait for as long as it takes.
            .unwrap_or(Duration::from_secs(100 * 365 * 86_400))
    })
}

pub fn stop(p: &Paths, a: &StopArgs) -> Result<i32> {
    each(&a.containers, |n| {
        lifecycle::stop_with(p, n, stop_timeout(a))
    })
}

pub fn kill(p: &Paths, a: &KillArgs) -> Result<i32> {
    each(&a.containers, |n| {
        lifecycle::kill(p, n, &a.signal).map(drop)
    })
}

pub fn rm(p: &Paths, a: &RmArgs) -> Result<i32> {
    let mut failed = 0;
    for n in &a.containers {
        match lifecycle::remove_with_volumes(p, n, a.force, a.volumes) {
            Ok(()) => println!("{n}"),
            // docker's `rm -f`: a container that is not there is already
            // removed, silently, so cleanup scripts under `set -e` go on.
            Err(husk_engine::Error::NoSuchContainer { .. }) if a.force => {}
            Err(e) => {
                eprintln!("husk: {}", husk_fs::Chain(&e));
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

pub fn exec(p: &Paths, a: &ExecArgs) -> Result<i32> {
    // docker's rule: a raw terminal needs a terminal to read from.
    let raw = a.tty && a.interactive && !a.detach;
    if raw && !std::io::stdin().is_terminal() {
        bail!("the input device is not a TTY: drop -t, or run from a terminal");
    }
    let o = ExecOptions {
        env: a.env.clone(),
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        detach: a.detach,
        interactive: a.interactive,
        tty: a.tty,
    };
    let (container, cmd) = a
        .container_and_cmd
        .split_first()
        .context("give a container and a command")?;
    let _raw = if raw {
        Some(RawTerminal::enter()?)
    } else {
        None
    };
    Ok(exec::exec(p, container, cmd, &o)?)
}

pub fn wait(p: &Paths, a: &WaitArgs) -> Result<i32> {
    let mut failed = 0;
    for n in &a.containers {
        match lifecycle::wait(p, n) {
            Ok(code) => println!("{code}"),
            Err(e) => {
                eprintln!("husk: {}", husk_fs::Chain(&e));
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

pub fn pause(p: &Paths, a: &WaitArgs) -> Result<i32> {
    each(&a.containers, |n| lifecycle::pause(p, n))
}

pub fn unpause(p: &Paths, a: &WaitArgs) -> Result<i32> {
    each(&a.containers, |n| lifecycle::unpause(p, n))
}

/// stop (if running) then start, keeping the container and its layer.
pub fn restart(p: &Paths, a: &StopArgs) -> Result<i32> {
    let exe = exe()?;
    each(&a.containers, |n| {
        lifecycle::stop_with(p, n, stop_timeout(a))?;
        lifecycle::start(p, n, &exe, None)?;
        let c = p.resolve(n)?;
        husk_engine::events::container(p, &c, "restart", &[]);
        Ok(())
    })
}

/// `husk port CONTAINER [PRIVATE_PORT[/PROTO]]`: docker's lines.
pub fn port(p: &Paths, a: &PortArgs) -> Result<i32> {
    let c = lifecycle::reconcile(p, &p.resolve(&a.container)?)?;
    let mut ports: Vec<husk_network::PublishedPort> = c
        .network
        .as_ref()
        .and_then(|n| n.endpoint.as_ref())
        .filter(|_| c.is_running())
        .map(|e| e.ports.clone())
        .unwrap_or_default();
    ports.sort_by_key(|p| (p.container_port, p.proto, p.host_ip, p.host_port));
    let Some(want) = &a.port else {
        for p in &ports {
            println!("{p}");
        }
        return Ok(0);
    };
    let (port, proto) = want.split_once('/').unwrap_or((want, "tcp"));
    let port: u16 = port
        .parse()
        .with_context(|| format!("invalid port {want:?}: give PRIVATE_PORT[/PROTO]"))?;
    let matching: Vec<_> = ports
        .iter()
        .filter(|p| p.container_port == port && p.proto.as_str() == proto)
        .collect();
    if matching.is_empty() {
        bail!(
            "no public port '{port}/{proto}' published for {}",
            a.container
        );
    }
    for p in matching {
        let ip = p.host_ip.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
        println!("{ip}:{}", p.host_port);
    }
    Ok(0)
}

pub fn monitor(p: &Paths, id: &str, stdin: bool, detach_keys: Option<&str>) -> i32 {
    monitor::run(p, id, stdin, detach_keys)
}
