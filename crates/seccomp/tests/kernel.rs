//! Filters loaded into a real kernel (in forked children) behave as the profile says.

mod common;

use common::*;
use husk_seccomp::{install, Error, Filter};
use serde_json::json;

const ENOSYS: i32 = libc::ENOSYS;

#[test]
fn errno_with_custom_errno_ret() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["chroot", "mkdir", "getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    }));
    assert_eq!(filtered(&f, chroot_root), Outcome::Exited(38));
    assert_eq!(filtered(&f, mkdir_tmp), Outcome::Exited(38));
    assert_eq!(filtered(&f, getcwd), Outcome::Exited(38));
    assert_eq!(filtered(&f, getpid), Outcome::Exited(0));
}

#[test]
fn errno_without_errno_ret_is_eperm() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]
    }));
    assert_eq!(filtered(&f, getcwd), Outcome::Exited(libc::EPERM));
}

#[test]
fn kill_actions_and_trap_raise_sigsys() {
    for action in [
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_KILL",
        "SCMP_ACT_TRAP",
    ] {
        let f = filter(json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["getppid"], "action": action}]
        }));
        assert_eq!(
            filtered(&f, getppid),
            Outcome::Signaled(libc::SIGSYS),
            "{action}"
        );
        assert_eq!(filtered(&f, getpid), Outcome::Exited(0), "{action}");
    }
}

#[test]
fn trace_without_tracer_is_enosys() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_TRACE", "errnoRet": 7}]
    }));
    assert_eq!(filtered(&f, getppid), Outcome::Exited(ENOSYS));
}

#[test]
fn log_allows() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_LOG"}]
    }));
    assert_eq!(filtered(&f, getppid), Outcome::Exited(0));
}

#[test]
fn default_errno_with_allow_list() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        "syscalls": [{"names": ["getpid", "exit", "exit_group"], "action": "SCMP_ACT_ALLOW"}]
    }));
    assert_eq!(filtered(&f, getpid), Outcome::Exited(0));
    assert_eq!(filtered(&f, getppid), Outcome::Exited(38));
    assert_eq!(filtered(&f, getcwd), Outcome::Exited(38));
}

#[test]
fn default_errno_without_errno_ret_is_eperm() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["getpid", "exit", "exit_group"], "action": "SCMP_ACT_ALLOW"}]
    }));
    assert_eq!(filtered(&f, getppid), Outcome::Exited(libc::EPERM));
}

#[test]
fn arg_condition_denies_only_matching_value() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 0, "value": 0xffff_ffffu32, "op": "SCMP_CMP_EQ"}]}]
    }));
    assert_eq!(
        filtered(&f, || personality(0xffff_ffff)),
        Outcome::Exited(libc::EPERM)
    );
    assert_eq!(filtered(&f, || personality(0)), Outcome::Exited(0));
}

#[test]
fn socket_inet_denied_unix_allowed() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::EAFNOSUPPORT,
                      "args": [{"index": 0, "value": libc::AF_INET, "op": "SCMP_CMP_EQ"}]}]
    }));
    let inet = || socket(libc::AF_INET, libc::SOCK_STREAM, 0);
    let unix = || socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
    assert_eq!(filtered(&f, inet), Outcome::Exited(libc::EAFNOSUPPORT));
    assert_eq!(filtered(&f, unix), Outcome::Exited(0));
}

#[test]
fn conditions_on_different_args_are_anded() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [
            {"index": 0, "value": libc::AF_UNIX, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": libc::SOCK_DGRAM, "op": "SCMP_CMP_EQ"}]}]
    }));
    let dgram = || socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0);
    let stream = || socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
    assert_eq!(filtered(&f, dgram), Outcome::Exited(libc::EPERM));
    assert_eq!(filtered(&f, stream), Outcome::Exited(0));
}

#[test]
fn conditions_on_the_same_arg_are_ored_like_runc() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [
            {"index": 1, "value": libc::SOCK_DGRAM, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": libc::SOCK_SEQPACKET, "op": "SCMP_CMP_EQ"}]}]
    }));
    let ty = |ty| move || socket(libc::AF_UNIX, ty, 0);
    assert_eq!(
        filtered(&f, ty(libc::SOCK_DGRAM)),
        Outcome::Exited(libc::EPERM)
    );
    assert_eq!(
        filtered(&f, ty(libc::SOCK_SEQPACKET)),
        Outcome::Exited(libc::EPERM)
    );
    assert_eq!(filtered(&f, ty(libc::SOCK_STREAM)), Outcome::Exited(0));
}

#[test]
fn masked_eq_uses_value_as_mask_and_value_two_as_expected() {
    let cloexec = libc::SOCK_CLOEXEC as u64;
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [
            {"index": 1, "value": cloexec, "valueTwo": cloexec, "op": "SCMP_CMP_MASKED_EQ"}]}]
    }));
    let ty = |ty| move || socket(libc::AF_UNIX, ty, 0);
    assert_eq!(
        filtered(&f, ty(libc::SOCK_STREAM | libc::SOCK_CLOEXEC)),
        Outcome::Exited(libc::EPERM)
    );
    assert_eq!(filtered(&f, ty(libc::SOCK_STREAM)), Outcome::Exited(0));
}

#[test]
fn other_comparisons() {
    // personality(0xffffffff) only queries, personality(0) sets PER_LINUX: both harmless.
    for (op, value, denied, allowed) in [
        ("SCMP_CMP_NE", 0u64, 0xffff_ffffu64, 0u64),
        ("SCMP_CMP_GT", 0, 0xffff_ffff, 0),
        ("SCMP_CMP_GE", 1, 0xffff_ffff, 0),
        ("SCMP_CMP_LT", 1, 0, 0xffff_ffff),
        ("SCMP_CMP_LE", 0, 0, 0xffff_ffff),
    ] {
        let f = filter(json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                          "args": [{"index": 0, "value": value, "op": op}]}]
        }));
        assert_eq!(
            filtered(&f, || personality(denied)),
            Outcome::Exited(libc::EPERM),
            "{op}"
        );
        assert_eq!(
            filtered(&f, || personality(allowed)),
            Outcome::Exited(0),
            "{op}"
        );
    }
}

#[test]
fn unknown_syscall_names_are_skipped() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["husk_no_such_syscall", "getcwd"], "action": "SCMP_ACT_ERRNO"}]
    }));
    assert_eq!(filtered(&f, getcwd), Outcome::Exited(libc::EPERM));
}

#[test]
fn rules_with_the_default_action_are_skipped() {
    let f = filter(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::EPERM},
            {"names": ["getpid", "exit_group"], "action": "SCMP_ACT_ALLOW"}]
    }));
    assert_eq!(filtered(&f, getppid), Outcome::Exited(libc::EPERM));
    assert_eq!(filtered(&f, getpid), Outcome::Exited(0));
}

#[test]
fn flags_are_passed_to_the_kernel() {
    let supported = husk_seccomp::features().supported_flags;
    for flag in supported.iter().filter(|f| !f.contains("WAIT_KILLABLE")) {
        let f = filter(json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "flags": [flag],
            "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]
        }));
        assert_eq!(filtered(&f, getcwd), Outcome::Exited(libc::EPERM), "{flag}");
    }
    assert!(supported.iter().any(|f| f == "SECCOMP_FILTER_FLAG_TSYNC"));
}

#[test]
fn install_loads_in_the_calling_process() {
    let p = profile(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}]
    }));
    // As root this is the path without no_new_privs (CAP_SYS_ADMIN); `install` allocates
    // while it builds, which glibc keeps safe in a forked child.
    let root = husk_fixtures::is_root();
    let outcome = in_child(|| {
        if !root && set_no_new_privs() != 0 {
            return LOAD_FAILED;
        }
        match install(&p) {
            Ok(()) => getcwd(),
            Err(_) => LOAD_FAILED,
        }
    });
    assert_eq!(outcome, Outcome::Exited(5));
}

#[test]
fn load_without_privileges_or_no_new_privs_is_denied() {
    husk_fixtures::require_root!("load_without_privileges_or_no_new_privs_is_denied");
    let f = filter(json!({"defaultAction": "SCMP_ACT_ALLOW",
                          "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}));
    let drop_root = || {
        // SAFETY: plain integers; leaving uid 0 clears the capability sets.
        unsafe { libc::setresuid(65534, 65534, 65534) }
    };
    let denied = in_child(|| {
        if drop_root() != 0 {
            return LOAD_FAILED;
        }
        match f.load() {
            Err(Error::LoadDenied) => 0,
            _ => 1,
        }
    });
    assert_eq!(denied, Outcome::Exited(0));
    let with_nnp = in_child(|| {
        if set_no_new_privs() != 0 || drop_root() != 0 || f.load().is_err() {
            return LOAD_FAILED;
        }
        getcwd()
    });
    assert_eq!(with_nnp, Outcome::Exited(libc::EPERM));
}

#[test]
fn filter_is_small_and_reports_its_size() {
    let f: Filter = filter(json!({"defaultAction": "SCMP_ACT_ALLOW"}));
    assert!(f.instructions() > 0 && f.instructions() < 64, "{f:?}");
}
