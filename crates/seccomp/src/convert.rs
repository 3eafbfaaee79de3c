//! One place that maps spec values onto libseccomp and kernel values, so `Filter::new` and
//! `features()` cannot disagree about what is supported.

use libc::c_ulong;
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp};
use oci_spec::runtime::{
    Arch, LinuxSeccompAction as Action, LinuxSeccompArg, LinuxSeccompFilterFlag as Flag,
    LinuxSeccompOperator as Op,
};

use crate::error::{invalid, Result};

/// The kernel compares at most six syscall arguments.
pub(crate) const MAX_ARGS: usize = 6;

pub(crate) const NOTIFY_UNSUPPORTED: &str =
    "SCMP_ACT_NOTIFY is not supported yet (no listenerPath handling)";

/// The value exactly as it is written in config.json (serde is the spec's spelling; strum's
/// Display on these enums is not guaranteed to match it).
pub(crate) fn spelling<T: serde::Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{value:?}"),
    }
}

/// `field`/`errno_field` are the JSON paths used in messages, e.g. `syscalls[2].action`.
pub(crate) fn action(
    field: &str,
    errno_field: &str,
    action: Action,
    errno_ret: Option<u32>,
) -> Result<ScmpAction> {
    // The kernel keeps 16 bits of SECCOMP_RET_DATA; libseccomp would silently truncate the
    // rest, turning e.g. 65537 into 1 (EPERM), so refuse instead.
    let data = || -> Result<u16> {
        let value = errno_ret.unwrap_or(libc::EPERM as u32);
        u16::try_from(value)
            .map_err(|_| invalid(errno_field, format!("{value} is out of range (0..=65535)")))
    };
    Ok(match action {
        Action::ScmpActAllow => ScmpAction::Allow,
        // EPERM is what runc and crun return when errnoRet is absent, for ERRNO and TRACE.
        Action::ScmpActErrno => ScmpAction::Errno(i32::from(data()?)),
        Action::ScmpActTrace => ScmpAction::Trace(data()?),
        // SCMP_ACT_KILL predates KILL_PROCESS and has always meant "kill the thread".
        Action::ScmpActKill | Action::ScmpActKillThread => ScmpAction::KillThread,
        Action::ScmpActKillProcess => ScmpAction::KillProcess,
        Action::ScmpActTrap => ScmpAction::Trap,
        Action::ScmpActLog => ScmpAction::Log,
        Action::ScmpActNotify => return Err(invalid(field, NOTIFY_UNSUPPORTED)),
    })
}

pub(crate) fn arch(arch: Arch) -> ScmpArch {
    match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

/// Every architecture the spec names except NATIVE (always in the filter), for `features()`.
pub(crate) const ARCHES: [Arch; 23] = [
    Arch::ScmpArchX86,
    Arch::ScmpArchX86_64,
    Arch::ScmpArchX32,
    Arch::ScmpArchArm,
    Arch::ScmpArchAarch64,
    Arch::ScmpArchMips,
    Arch::ScmpArchMips64,
    Arch::ScmpArchMips64n32,
    Arch::ScmpArchMipsel,
    Arch::ScmpArchMipsel64,
    Arch::ScmpArchMipsel64n32,
    Arch::ScmpArchPpc,
    Arch::ScmpArchPpc64,
    Arch::ScmpArchPpc64le,
    Arch::ScmpArchS390,
    Arch::ScmpArchS390x,
    Arch::ScmpArchParisc,
    Arch::ScmpArchParisc64,
    Arch::ScmpArchRiscv64,
    Arch::ScmpArchLoongarch64,
    Arch::ScmpArchM68k,
    Arch::ScmpArchSh,
    Arch::ScmpArchSheb,
];

/// Actions `Filter::new` accepts (everything but NOTIFY), for `features()`.
pub(crate) const ACTIONS: [Action; 8] = [
    Action::ScmpActKill,
    Action::ScmpActKillThread,
    Action::ScmpActKillProcess,
    Action::ScmpActTrap,
    Action::ScmpActErrno,
    Action::ScmpActTrace,
    Action::ScmpActLog,
    Action::ScmpActAllow,
];

pub(crate) const OPERATORS: [Op; 7] = [
    Op::ScmpCmpNe,
    Op::ScmpCmpLt,
    Op::ScmpCmpLe,
    Op::ScmpCmpEq,
    Op::ScmpCmpGe,
    Op::ScmpCmpGt,
    Op::ScmpCmpMaskedEq,
];

pub(crate) const FLAGS: [Flag; 4] = [
    Flag::SeccompFilterFlagTsync,
    Flag::SeccompFilterFlagLog,
    Flag::SeccompFilterFlagSpecAllow,
    Flag::SeccompFilterFlagWaitKillableRecv,
];

/// The seccomp(2) flag bit, or an error for flags we recognise but cannot honour.
pub(crate) fn flag(field: &str, flag: Flag) -> Result<c_ulong> {
    match flag {
        Flag::SeccompFilterFlagTsync => Ok(libc::SECCOMP_FILTER_FLAG_TSYNC),
        Flag::SeccompFilterFlagLog => Ok(libc::SECCOMP_FILTER_FLAG_LOG),
        Flag::SeccompFilterFlagSpecAllow => Ok(libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW),
        // Only changes how a NOTIFY listener waits, and we have no listener.
        Flag::SeccompFilterFlagWaitKillableRecv => Err(invalid(
            field,
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs SCMP_ACT_NOTIFY, which is not supported yet",
        )),
    }
}

/// Whether the running kernel accepts a seccomp(2) filter flag; libseccomp probes the same way.
pub(crate) fn kernel_has_flag(flag: c_ulong) -> bool {
    // SAFETY: seccomp(2) validates the flags before it reads the program; with a NULL program
    // it then fails with EFAULT, so nothing is ever installed and no memory is touched.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flag,
            std::ptr::null::<libc::sock_fprog>(),
        )
    };
    rc < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EFAULT)
}

/// `field` is e.g. `syscalls[1].args[0]`.
pub(crate) fn condition(field: &str, arg: &LinuxSeccompArg) -> Result<ScmpArgCompare> {
    let index = arg.index();
    if index >= MAX_ARGS {
        return Err(invalid(
            format!("{field}.index"),
            format!("{index} is out of range (0..={})", MAX_ARGS - 1),
        ));
    }
    let (op, datum) = match arg.op() {
        Op::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value()),
        Op::ScmpCmpLt => (ScmpCompareOp::Less, arg.value()),
        Op::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value()),
        Op::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value()),
        Op::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value()),
        Op::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value()),
        // Spec (and runc): `value` is the mask and `valueTwo` what the masked argument must equal.
        Op::ScmpCmpMaskedEq => (
            ScmpCompareOp::MaskedEqual(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    // MAX_ARGS keeps the index far below u32::MAX.
    let index = u32::try_from(index).unwrap_or(u32::MAX);
    Ok(ScmpArgCompare::new(index, op, datum))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    fn round_trips<T: serde::Serialize + DeserializeOwned + std::fmt::Debug + PartialEq>(
        all: &[T],
    ) {
        let mut seen = std::collections::HashSet::new();
        for value in all {
            let name = spelling(value);
            assert!(seen.insert(name.clone()), "{name} listed twice");
            let back: T = serde_json::from_value(serde_json::Value::String(name.clone()))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&back, value);
        }
    }

    #[test]
    fn tables_use_spec_spellings() {
        round_trips(&ACTIONS);
        round_trips(&OPERATORS);
        round_trips(&FLAGS);
        round_trips(&ARCHES);
        assert_eq!(spelling(&Arch::ScmpArchX86_64), "SCMP_ARCH_X86_64");
        assert_eq!(
            spelling(&Flag::SeccompFilterFlagSpecAllow),
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
        );
    }
}
