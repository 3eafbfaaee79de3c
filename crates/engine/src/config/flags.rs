//! The checks of `create`'s resource, security, mount and env-file flags,
//! docker's rules and messages, done before anything is created.

use super::CreateOptions;
use crate::{Error, Result};

/// What the flags beyond the basic ones decided, checked before anything
/// is created (see [`check_flags`]).
pub(crate) struct Checked {
    pub(crate) memory_swap: i64,
    pub(crate) memory_reservation: i64,
    pub(crate) ulimits: Vec<crate::config::resources::Ulimit>,
    pub(crate) seccomp: bool,
    pub(crate) seccomp_profile: Option<String>,
    pub(crate) no_new_privileges: bool,
    pub(crate) mounts: Vec<crate::config::mounts::MountFlag>,
    pub(crate) tmpfs: Vec<(String, String)>,
    pub(crate) env_from_files: Vec<String>,
}

fn flag_err(flag: &'static str, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidFlag {
        flag,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Checks a `seccomp=FILE` profile: docker's format, then compiled as the
/// runtime will for docker's default capabilities. Rules that apply only
/// to other capability sets are checked by the runtime when they apply.
fn seccomp_profile_check(body: &str, opt: &str) -> Result<()> {
    use crate::config::seccomp_profile;
    seccomp_profile::check(body, opt)?;
    let caps = crate::config::caps::capabilities(&[], &[], u64::MAX);
    match seccomp_profile::to_oci(body, opt, &caps, &seccomp_profile::Host::current())? {
        Some(oci) => seccomp_profile::compile_check(&oci, opt),
        None => Ok(()),
    }
}

/// docker's checks of the memory, cpuset, ulimit, security, mount and
/// env-file flags; reads files but creates nothing.
pub(crate) fn check_flags(o: &CreateOptions, memory: i64) -> Result<Checked> {
    use crate::config::{mounts, resources};
    let memory_swap = match o.memory_swap.as_deref() {
        None => 0,
        Some("-1") => -1,
        Some(s) => husk_spec::units::ram_in_bytes(s).ok_or_else(|| {
            flag_err(
                "--memory-swap",
                s,
                "not a size: use a number with b, k, m, g, t or p, or -1",
            )
        })?,
    };
    if memory_swap != 0 && memory == 0 {
        return Err(flag_err(
            "--memory-swap",
            o.memory_swap.as_deref().unwrap_or(""),
            "you should always set the memory limit (-m) when using the memory-swap limit",
        ));
    }
    if memory_swap > 0 && memory_swap < memory {
        return Err(flag_err(
            "--memory-swap",
            o.memory_swap.as_deref().unwrap_or(""),
            "minimum memoryswap limit should be larger than memory limit",
        ));
    }
    let memory_reservation = match o.memory_reservation.as_deref() {
        None => 0,
        Some(s) => {
            let v = super::parse_size("--memory-reservation", s, "memory reservation")?;
            if memory > 0 && memory < v {
                return Err(flag_err(
                    "--memory-reservation",
                    s,
                    "minimum memory limit can not be less than memory reservation limit",
                ));
            }
            v
        }
    };
    if let Some(u) = &o.user {
        resources::check_user_ids("--user", u)?;
    }
    if let Some(c) = o.cpus {
        resources::check_cpus(c, &resources::online("cpus"))?;
    }
    if let Some(h) = o.hostname.as_deref().filter(|h| !h.is_empty()) {
        resources::check_hostname(h)?;
    }
    if let Some(c) = &o.cpuset_cpus {
        resources::check_cpuset("--cpuset-cpus", c, &resources::online("cpus"))?;
    }
    if let Some(m) = &o.cpuset_mems {
        resources::check_cpuset("--cpuset-mems", m, &resources::online("mems"))?;
    }
    let ulimits = o
        .ulimits
        .iter()
        .map(|u| resources::parse_ulimit(u))
        .collect::<Result<Vec<_>>>()?;
    for (i, u) in ulimits.iter().enumerate() {
        if ulimits[..i].iter().any(|x| x.name == u.name) {
            return Err(flag_err("--ulimit", &u.name, "given twice"));
        }
    }
    if let Some(s) = &o.stop_signal {
        if husk_fs::signal_number(s).is_none() {
            return Err(flag_err(
                "--stop-signal",
                s,
                "invalid signal: use a name like SIGUSR1 or a number",
            ));
        }
    }
    let mut seccomp = true;
    let mut seccomp_profile = None;
    let mut no_new_privileges = false;
    for opt in &o.security_opt {
        // docker takes `key=value`, and `key:value` from older releases.
        let (k, v) = match opt.split_once('=').or_else(|| opt.split_once(':')) {
            Some((k, v)) => (k, Some(v)),
            None => (opt.as_str(), None),
        };
        match (k, v) {
            ("no-new-privileges", None | Some("true")) => no_new_privileges = true,
            ("no-new-privileges", Some("false")) => no_new_privileges = false,
            ("seccomp", Some("unconfined")) => {
                seccomp = false;
                seccomp_profile = None;
            }
            ("seccomp", Some(file)) if !file.is_empty() => {
                let body = std::fs::read_to_string(file).map_err(|e| {
                    flag_err(
                        "--security-opt",
                        opt,
                        format!("opening seccomp profile ({file}) failed: {e}"),
                    )
                })?;
                seccomp_profile_check(&body, opt)?;
                seccomp = true;
                seccomp_profile = Some(body);
            }
            ("apparmor" | "label", Some(v)) => super::extra::check_lsm_opt(opt, k, v)?,
            _ => return Err(flag_err(
                "--security-opt",
                opt,
                "use no-new-privileges[:true|false], seccomp=unconfined or seccomp=PROFILE.json",
            )),
        }
    }
    let mounts = o
        .mounts
        .iter()
        .map(|m| mounts::parse_mount(m))
        .collect::<Result<Vec<_>>>()?;
    mounts::check_sources(&mounts)?;
    let tmpfs = o
        .tmpfs
        .iter()
        .map(|t| mounts::parse_tmpfs(t))
        .collect::<Result<Vec<_>>>()?;
    let mut env_from_files = Vec::new();
    for f in &o.env_files {
        env_from_files.extend(resources::read_env_file(f)?);
    }
    Ok(Checked {
        memory_swap,
        memory_reservation,
        ulimits,
        seccomp,
        seccomp_profile,
        no_new_privileges,
        mounts,
        tmpfs,
        env_from_files,
    })
}
