//! The process's identity and limits: rlimits, groups, gid, uid.

use nix::unistd::{Gid, Uid};
use oci_spec::runtime::{PosixRlimit, PosixRlimitType, User};

use crate::error::Context;
use crate::{sys, Error, Result};

fn resource(t: PosixRlimitType) -> libc::c_int {
    (match t {
        PosixRlimitType::RlimitCpu => libc::RLIMIT_CPU,
        PosixRlimitType::RlimitFsize => libc::RLIMIT_FSIZE,
        PosixRlimitType::RlimitData => libc::RLIMIT_DATA,
        PosixRlimitType::RlimitStack => libc::RLIMIT_STACK,
        PosixRlimitType::RlimitCore => libc::RLIMIT_CORE,
        PosixRlimitType::RlimitRss => libc::RLIMIT_RSS,
        PosixRlimitType::RlimitNproc => libc::RLIMIT_NPROC,
        PosixRlimitType::RlimitNofile => libc::RLIMIT_NOFILE,
        PosixRlimitType::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        PosixRlimitType::RlimitAs => libc::RLIMIT_AS,
        PosixRlimitType::RlimitLocks => libc::RLIMIT_LOCKS,
        PosixRlimitType::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        PosixRlimitType::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        PosixRlimitType::RlimitNice => libc::RLIMIT_NICE,
        PosixRlimitType::RlimitRtprio => libc::RLIMIT_RTPRIO,
        PosixRlimitType::RlimitRttime => libc::RLIMIT_RTTIME,
    }) as libc::c_int
}

fn spec_name(t: PosixRlimitType) -> String {
    // oci-spec's Display is the lower-case form; the spec writes RLIMIT_X.
    format!("{t:?}").trim_start_matches("Rlimit").to_uppercase()
}

pub fn apply_rlimits(rlimits: &[PosixRlimit]) -> Result<()> {
    for (i, r) in rlimits.iter().enumerate() {
        if r.soft() > r.hard() {
            return Err(Error::Spec(format!(
                "process.rlimits[{i}]: RLIMIT_{} soft limit {} is above its hard limit {}",
                spec_name(r.typ()),
                r.soft(),
                r.hard()
            )));
        }
        sys::setrlimit(resource(r.typ()), r.soft(), r.hard()).map_err(|e| {
            let hint = if e.raw_os_error() == Some(libc::EPERM) {
                " (raising a hard limit needs CAP_SYS_RESOURCE, which this host's bounding set lacks)"
            } else {
                ""
            };
            Error::Spec(format!(
                "process.rlimits[{i}]: RLIMIT_{} soft {} hard {}: {e}{hint}",
                spec_name(r.typ()),
                r.soft(),
                r.hard()
            ))
        })?;
    }
    Ok(())
}

/// setgroups, setresgid, setresuid — in that order, since dropping uid 0
/// first would take away the right to change groups.
pub fn switch_user(user: &User) -> Result<()> {
    let mut groups: Vec<Gid> = user
        .additional_gids()
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|g| Gid::from_raw(*g))
        .collect();
    groups.dedup();
    // A rootless user namespace denies setgroups: fine while the process
    // asks for no additional groups (it keeps none anyway).
    if !(groups.is_empty() && crate::userns::setgroups_denied()) {
        nix::unistd::setgroups(&groups).ctx("setgroups", "process.user.additionalGids")?;
    }
    let gid = Gid::from_raw(user.gid());
    nix::unistd::setresgid(gid, gid, gid)
        .ctx("setgid", format!("process.user.gid {}", user.gid()))?;
    let uid = Uid::from_raw(user.uid());
    nix::unistd::setresuid(uid, uid, uid)
        .ctx("setuid", format!("process.user.uid {}", user.uid()))?;
    Ok(())
}

pub fn umask(user: &User) {
    sys::umask(user.umask().unwrap_or(0o022) as libc::mode_t);
}
