//! Checks a spec before anything is created. A field this runtime cannot
//! honour is refused by name: silently dropping a security setting (an
//! LSM label, a user namespace) would run the container with more power
//! than its author asked for.

use husk_namespaces::Plan;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::{Error, Result};

pub fn validate(spec: &Spec, plan: &Plan, has_console_socket: bool) -> Result<()> {
    let unsupported = |field: &str| {
        Err(Error::Spec(format!(
            "{field}: not supported by husk-runtime yet (remove it from config.json)"
        )))
    };
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| Error::Spec("process: missing".into()))?;
    if !process.cwd().is_absolute() {
        return Err(Error::Spec(format!(
            "process.cwd: {} is not an absolute path",
            process.cwd().display()
        )));
    }
    validate_user(process.user())?;
    let caps = crate::capabilities::CapSets::from_spec(process.capabilities().as_ref())?;
    let unraisable = caps.unraisable_ambient();
    if !unraisable.is_empty() {
        eprintln!(
            "husk-runtime: warning: process.capabilities.ambient: {} not raised: an ambient capability must also be permitted and inheritable",
            unraisable.join(", ")
        );
    }
    if process.terminal() == Some(true) && !has_console_socket {
        return Err(Error::Spec(
            "process.terminal: a terminal needs --console-socket (or set terminal to false)".into(),
        ));
    }
    if let Some(adj) = process.oom_score_adj() {
        if !(-1000..=1000).contains(&adj) {
            return Err(Error::Spec(format!(
                "process.oomScoreAdj: {adj} is outside -1000..1000"
            )));
        }
    }
    if process
        .apparmor_profile()
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        return lsm_missing("process.apparmorProfile", "AppArmor");
    }
    if process
        .selinux_label()
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        return lsm_missing("process.selinuxLabel", "SELinux");
    }
    if process.exec_cpu_affinity().is_some() {
        return unsupported("process.execCPUAffinity");
    }
    if spec.hostname().as_deref().is_some_and(|h| !h.is_empty())
        && !plan.has(LinuxNamespaceType::Uts)
    {
        return Err(Error::Spec(
            "hostname: setting a hostname needs a uts namespace in linux.namespaces".into(),
        ));
    }
    if spec.domainname().as_deref().is_some_and(|h| !h.is_empty())
        && !plan.has(LinuxNamespaceType::Uts)
    {
        return Err(Error::Spec(
            "domainname: setting a domainname needs a uts namespace in linux.namespaces".into(),
        ));
    }
    if let Some(h) = spec.hostname().as_deref() {
        validate_uts_name("hostname", h)?;
    }
    if let Some(d) = spec.domainname().as_deref() {
        validate_uts_name("domainname", d)?;
    }
    for (i, m) in spec.mounts().as_deref().unwrap_or(&[]).iter().enumerate() {
        if !m.destination().is_absolute() {
            return Err(Error::Spec(format!(
                "mounts[{i}].destination: {} is not an absolute path",
                m.destination().display()
            )));
        }
    }
    let Some(linux) = spec.linux().as_ref() else {
        return Ok(());
    };
    crate::userns::validate(linux, plan)?;
    if linux
        .mount_label()
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        return lsm_missing("linux.mountLabel", "SELinux");
    }
    if linux.intel_rdt().is_some() {
        return unsupported("linux.intelRdt");
    }
    if linux.memory_policy().is_some() {
        return unsupported("linux.memoryPolicy");
    }
    if linux.time_offsets().as_ref().is_some_and(|t| !t.is_empty()) {
        return unsupported("linux.timeOffsets");
    }
    if linux.net_devices().as_ref().is_some_and(|t| !t.is_empty()) {
        return unsupported("linux.netDevices");
    }
    // linux.seccomp is checked by compiling it: create and exec do that
    // once, through the cache, right after this (see `seccomp_filter`).
    for key in linux
        .sysctl()
        .as_ref()
        .map(|m| m.keys())
        .into_iter()
        .flatten()
    {
        validate_sysctl(key, plan)?;
    }
    Ok(())
}

/// The largest uid or gid runc accepts. Above it the kernel's ids are
/// negative in 32 bits, and 4294967295 is (uid_t)-1, which setresuid and
/// setgroups take as "leave unchanged": the process would stay root.
pub const MAX_ID: u32 = i32::MAX as u32;

fn validate_user(user: &oci_spec::runtime::User) -> Result<()> {
    let out_of_range = |field: String, id: u32| {
        Err(Error::Spec(format!(
            "{field}: {id} is out of range: uids and gids must be in 0..={MAX_ID}"
        )))
    };
    if user.uid() > MAX_ID {
        return out_of_range("process.user.uid".into(), user.uid());
    }
    if user.gid() > MAX_ID {
        return out_of_range("process.user.gid".into(), user.gid());
    }
    for (i, g) in user
        .additional_gids()
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        if *g > MAX_ID {
            return out_of_range(format!("process.user.additionalGids[{i}]"), *g);
        }
    }
    Ok(())
}

/// The kernel's limit on a host or domain name (__NEW_UTS_LEN).
const UTS_NAME_MAX: usize = 64;

/// A hostname or domainname the kernel would take but that breaks whatever
/// reads it back (/etc/hosts lines, prompts, logs): control characters
/// such as a newline or NUL, or more than the kernel keeps.
fn validate_uts_name(field: &str, name: &str) -> Result<()> {
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(Error::Spec(format!(
            "{field}: {name:?} contains the control character {c:?}: use letters, digits, '-' and '.'"
        )));
    }
    if name.len() > UTS_NAME_MAX {
        return Err(Error::Spec(format!(
            "{field}: {name:?} is {} bytes long, more than the kernel's {UTS_NAME_MAX}",
            name.len()
        )));
    }
    Ok(())
}

fn lsm_missing(field: &str, lsm: &str) -> Result<()> {
    Err(Error::Spec(format!(
        "{field}: {lsm} is not enabled on this host (remove the field)"
    )))
}

/// Only keys that live in a namespace the container owns may be set:
/// anything else would change the host for everyone.
pub fn validate_sysctl(key: &str, plan: &Plan) -> Result<()> {
    let (ok, ns) = match husk_spec::sysctl_namespace(key) {
        Some(ns @ "ipc") => (plan.has(LinuxNamespaceType::Ipc), ns),
        Some(ns @ "network") => (plan.has(LinuxNamespaceType::Network), ns),
        Some(ns @ "uts") => (plan.has(LinuxNamespaceType::Uts), ns),
        _ => {
            return Err(Error::Spec(format!(
                "linux.sysctl: {key} is not namespaced: setting it would change the host"
            )))
        }
    };
    if !ok {
        return Err(Error::Spec(format!(
            "linux.sysctl: {key} needs the container's own {ns} namespace"
        )));
    }
    Ok(())
}

/// The compiled `linux.seccomp` of `spec`, through the runtime's cache of
/// compiled programs under `root`: a bad profile fails here, before
/// anything exists, and the process inherits the program ready to load.
/// The cache dir's `@` is not allowed in container ids, so no container's
/// state dir can ever be that name.
pub const SECCOMP_CACHE: &str = "@seccomp";

pub fn seccomp_filter(
    spec: &oci_spec::runtime::Spec,
    root: &std::path::Path,
) -> Result<Option<husk_seccomp::Filter>> {
    let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    Ok(seccomp
        .map(|s| husk_seccomp::Filter::cached(s, &root.join(SECCOMP_CACHE)))
        .transpose()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(json: &str) -> Plan {
        Plan::from_spec(&serde_json::from_str::<Vec<_>>(json).unwrap()).unwrap()
    }

    #[test]
    fn ids_beyond_runcs_range_are_refused() {
        let user = |json: &str| serde_json::from_str::<oci_spec::runtime::User>(json).unwrap();
        validate_user(&user(
            r#"{"uid":2147483647,"gid":2147483647,"additionalGids":[0]}"#,
        ))
        .unwrap();
        for (json, field) in [
            (r#"{"uid":4294967295,"gid":0}"#, "process.user.uid"),
            (r#"{"uid":0,"gid":2147483648}"#, "process.user.gid"),
            (
                r#"{"uid":0,"gid":0,"additionalGids":[1,4294967295]}"#,
                "process.user.additionalGids[1]",
            ),
        ] {
            let e = validate_user(&user(json)).unwrap_err().to_string();
            assert!(e.contains(field) && e.contains("0..=2147483647"), "{e}");
        }
    }

    #[test]
    fn uts_names_without_control_characters() {
        validate_uts_name("hostname", "web-1.example").unwrap();
        validate_uts_name("hostname", &"h".repeat(64)).unwrap();
        for bad in ["a\nb", "a\0b", "tab\t", "del\u{7f}"] {
            let e = validate_uts_name("hostname", bad).unwrap_err().to_string();
            assert!(e.contains("control character"), "{e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
        let e = validate_uts_name("domainname", &"d".repeat(65))
            .unwrap_err()
            .to_string();
        assert!(e.contains("65 bytes") && e.contains("domainname"), "{e}");
    }

    #[test]
    fn sysctl_keys_must_be_namespaced() {
        let p = plan(r#"[{"type":"network"},{"type":"ipc"}]"#);
        validate_sysctl("net.ipv4.ip_forward", &p).unwrap();
        validate_sysctl("kernel.shmmax", &p).unwrap();
        validate_sysctl("fs.mqueue.msg_max", &p).unwrap();
        let e = validate_sysctl("kernel.pid_max", &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not namespaced"), "{e}");
        let e = validate_sysctl("net.ipv4.ip_forward", &plan("[]"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("network namespace"), "{e}");
    }
}
