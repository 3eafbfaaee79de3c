//! Bad profiles are refused before anything is created, with one line naming the field.

use husk_seccomp::{features, parse, validate};
use oci_spec::runtime::LinuxSeccomp;
use serde_json::{json, Value};

fn parse_err(profile: Value) -> String {
    parse(&profile)
        .expect_err("profile must be refused")
        .to_string()
}

fn validate_err(profile: Value) -> String {
    let profile: LinuxSeccomp = serde_json::from_value(profile).expect("typed profile");
    validate(&profile)
        .expect_err("profile must be refused")
        .to_string()
}

#[test]
fn unknown_action_names_the_syscall_entry() {
    let err = parse_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["a"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["b"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["c"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["d"], "action": "SCMP_ACT_FOO"}]
    }));
    assert_eq!(
        err,
        r#"seccomp: syscalls[3].action: unknown action "SCMP_ACT_FOO""#
    );
}

#[test]
fn unknown_default_action() {
    let err = parse_err(json!({"defaultAction": "SCMP_ACT_NOPE"}));
    assert_eq!(
        err,
        r#"seccomp: defaultAction: unknown action "SCMP_ACT_NOPE""#
    );
}

#[test]
fn unknown_architecture() {
    let err = parse_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_FOO"]
    }));
    assert_eq!(
        err,
        r#"seccomp: architectures[1]: unknown architecture "SCMP_ARCH_FOO""#
    );
}

#[test]
fn unknown_operator() {
    let err = parse_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
                               {"index": 1, "value": 2, "op": "SCMP_CMP_ABOUT"}]}]
    }));
    assert_eq!(
        err,
        r#"seccomp: syscalls[0].args[1].op: unknown operator "SCMP_CMP_ABOUT""#
    );
}

#[test]
fn unknown_flag() {
    let err = parse_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_FOO"]
    }));
    assert_eq!(
        err,
        r#"seccomp: flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FOO""#
    );
}

#[test]
fn wrong_types_still_name_the_entry() {
    let err = parse_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": "EPERM"}]
    }));
    assert!(
        err.starts_with("seccomp: syscalls[0]: invalid type"),
        "{err}"
    );
    let err = parse_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"action": "SCMP_ACT_ERRNO"}]
    }));
    assert!(
        err.starts_with("seccomp: syscalls[0]: missing field `names`"),
        "{err}"
    );
    let err = parse_err(json!({}));
    assert!(
        err.starts_with("seccomp: linux.seccomp: missing field `defaultAction`"),
        "{err}"
    );
    let err = parse_err(json!(["SCMP_ACT_ALLOW"]));
    assert_eq!(err, "seccomp: linux.seccomp: expected an object");
}

#[test]
fn notify_is_refused_clearly() {
    let err = validate_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/run/agent.sock",
        "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]
    }));
    assert_eq!(
        err,
        "seccomp: syscalls[0].action: SCMP_ACT_NOTIFY is not supported yet (no listenerPath handling)"
    );
    let err = validate_err(json!({"defaultAction": "SCMP_ACT_NOTIFY"}));
    assert!(
        err.starts_with("seccomp: defaultAction: SCMP_ACT_NOTIFY"),
        "{err}"
    );
    let err = validate_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    }));
    assert!(
        err.starts_with("seccomp: flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
        "{err}"
    );
}

#[test]
fn argument_index_out_of_range() {
    let err = validate_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]
    }));
    assert_eq!(
        err,
        "seccomp: syscalls[0].args[0].index: 6 is out of range (0..=5)"
    );
}

#[test]
fn errno_ret_out_of_range() {
    let err = validate_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 65537}]
    }));
    assert_eq!(
        err,
        "seccomp: syscalls[0].errnoRet: 65537 is out of range (0..=65535)"
    );
    let err = validate_err(json!({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}));
    assert_eq!(
        err,
        "seccomp: defaultErrnoRet: 70000 is out of range (0..=65535)"
    );
}

#[test]
fn empty_syscall_name() {
    let err = validate_err(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getpid", ""], "action": "SCMP_ACT_ERRNO"}]
    }));
    assert_eq!(err, "seccomp: syscalls[0].names[1]: empty syscall name");
}

#[test]
fn architecture_unknown_to_libseccomp() {
    // Only libseccomp >= 2.6 knows loongarch64; with it this profile is simply valid.
    let profile =
        json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_LOONGARCH64"]});
    let supported = features()
        .archs
        .iter()
        .any(|a| a == "SCMP_ARCH_LOONGARCH64");
    let profile: LinuxSeccomp = serde_json::from_value(profile).expect("typed profile");
    match validate(&profile) {
        Ok(()) => assert!(supported),
        Err(e) => {
            assert!(!supported);
            let msg = e.to_string();
            assert!(
                msg.starts_with("seccomp: architectures[0]: SCMP_ARCH_LOONGARCH64 is not supported by libseccomp"),
                "{msg}"
            );
        }
    }
}

#[test]
fn architecture_of_the_other_byte_order() {
    let foreign = if cfg!(target_endian = "little") {
        "SCMP_ARCH_S390X"
    } else {
        "SCMP_ARCH_X86_64"
    };
    let err = validate_err(json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": [foreign]}));
    assert_eq!(
        err,
        format!("seccomp: architectures[0]: {foreign} has another byte order than this host's architecture")
    );
}

#[test]
fn good_profiles_validate() {
    let profile: LinuxSeccomp = serde_json::from_value(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_NATIVE", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                          "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_RISCV64"],
        "flags": ["SECCOMP_FILTER_FLAG_TSYNC"],
        "syscalls": [
            {"names": ["read", "write", "socketcall", "husk_future_syscall"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 4},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    }))
    .expect("typed profile");
    validate(&profile).expect("valid profile");
}

#[test]
fn features_lists_spec_spellings() {
    let f = features();
    assert!(f.enabled);
    for action in [
        "SCMP_ACT_ALLOW",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_LOG",
    ] {
        assert!(
            f.actions.iter().any(|a| a == action),
            "{action} in {:?}",
            f.actions
        );
    }
    assert!(!f.actions.iter().any(|a| a == "SCMP_ACT_NOTIFY"));
    assert_eq!(f.operators.len(), 7);
    assert!(f.operators.iter().any(|o| o == "SCMP_CMP_MASKED_EQ"));
    for arch in ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"] {
        assert!(f.archs.iter().any(|a| a == arch), "{arch} in {:?}", f.archs);
    }
    assert!(f
        .known_flags
        .iter()
        .any(|x| x == "SECCOMP_FILTER_FLAG_TSYNC"));
    assert!(f.supported_flags.iter().all(|x| f.known_flags.contains(x)));
    // Every name we advertise is one a profile can use.
    let profile = json!({
        "defaultAction": "SCMP_ACT_KILL",
        "architectures": f.archs,
        "flags": f.supported_flags,
        "syscalls": f.actions.iter().zip(["getpid", "getppid", "getuid", "getgid", "gettid", "getcwd", "getpgrp", "getsid"])
            .map(|(action, name)| json!({"names": [name], "action": action})).collect::<Vec<_>>(),
    });
    let profile = parse(&profile).expect("advertised names parse");
    validate(&profile).expect("advertised names validate");
}
