//! The profiles docker, podman and containers-common really send load and enforce.

mod common;

use std::path::Path;

use common::*;
use husk_seccomp::{parse, validate, Filter};
use oci_spec::runtime::LinuxSeccomp;
use serde_json::Value;

const ENOSYS: i32 = libc::ENOSYS;
const EPERM: i32 = libc::EPERM;

fn reference_seccomp(file: &str) -> LinuxSeccomp {
    let path = husk_fixtures::client_spec(file);
    let spec: Value = serde_json::from_slice(&std::fs::read(&path).expect("read reference spec"))
        .expect("reference spec is json");
    let raw = &spec["linux"]["seccomp"];
    let parsed = parse(raw).expect("parse seccomp");
    // Our field-checking parser and plain serde must agree on valid input.
    let direct: LinuxSeccomp = serde_json::from_value(raw.clone()).expect("serde seccomp");
    assert_eq!(parsed, direct);
    parsed
}

/// Writes nothing through a pipe end made in the parent: proves `write` is allowed.
fn write_to_pipe() -> i32 {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return LOAD_FAILED + 1;
    }
    write_empty(fds[1])
}

fn only_on_x86_64(test: &str) -> bool {
    if cfg!(target_arch = "x86_64") {
        return true;
    }
    husk_fixtures::skip(test, "the reference profiles list x86 architectures only");
    false
}

#[test]
fn docker_profile_allows_basics_and_denies_the_rest() {
    if !only_on_x86_64("docker_profile_allows_basics_and_denies_the_rest") {
        return;
    }
    let profile = reference_seccomp("docker-run-config.json");
    validate(&profile).expect("validate docker profile");
    let f = Filter::new(&profile).expect("build docker profile");
    // Pipe creation happens inside the child, so `pipe2`/`pipe` must be allowed too.
    for (name, body, expected) in [
        ("getpid", getpid as fn() -> i32, 0),
        ("write", write_to_pipe, 0),
        ("getcwd", getcwd, 0),
        ("personality(query)", || personality(0xffff_ffff), 0),
        // PER_BSD is not among docker's allowed personas.
        ("personality(PER_BSD)", || personality(6), EPERM),
        // Docker grants no CAP_SYS_ADMIN, so its profile leaves these to the default ERRNO.
        (
            "unshare(CLONE_NEWUSER)",
            || unshare(libc::CLONE_NEWUSER),
            EPERM,
        ),
        ("keyctl", keyctl_get_keyring_id, EPERM),
        ("add_key", add_key, EPERM),
        ("sethostname", sethostname_same, EPERM),
        // ENOSYS on purpose, so that glibc falls back to clone().
        ("clone3", clone3_invalid, ENOSYS),
    ] {
        assert_eq!(filtered(&f, body), Outcome::Exited(expected), "{name}");
    }
}

#[test]
fn podman_profile_allows_basics_and_denies_the_rest() {
    if !only_on_x86_64("podman_profile_allows_basics_and_denies_the_rest") {
        return;
    }
    let profile = reference_seccomp("podman-run-config.json");
    validate(&profile).expect("validate podman profile");
    let f = Filter::new(&profile).expect("build podman profile");
    let audit = || socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_AUDIT);
    let route = || socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE);
    for (name, body, expected) in [
        ("getpid", getpid as fn() -> i32, 0),
        ("write", write_to_pipe, 0),
        ("keyctl", keyctl_get_keyring_id, 0),
        // Listed with errnoRet 1.
        ("sethostname", sethostname_same, EPERM),
        // Not listed at all: podman's defaultErrnoRet is ENOSYS.
        ("add_key", add_key, ENOSYS),
        // Two conditions on different arguments: only the AND of both is refused.
        ("socket(netlink, audit)", audit, libc::EINVAL),
        ("socket(netlink, route)", route, 0),
    ] {
        assert_eq!(filtered(&f, body), Outcome::Exited(expected), "{name}");
    }
}

/// Debian's containers-common profile is in the containers/common format (`archMap`,
/// `includes`/`excludes` by capability and arch); this does the part of its conversion to
/// OCI that matters here, for podman's default capabilities on amd64.
fn containers_common_to_oci(profile: &Value, caps: &[&str]) -> Value {
    let has = |v: &Value| v.as_str().is_some_and(|c| caps.contains(&c));
    let arches = profile["archMap"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["architecture"] == "SCMP_ARCH_X86_64")
        .flat_map(|m| {
            let subs = m["subArchitectures"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            std::iter::once(m["architecture"].clone()).chain(subs)
        })
        .collect::<Vec<_>>();
    let syscalls = profile["syscalls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
            let inc_caps = list(&s["includes"]["caps"]);
            let inc_arches = list(&s["includes"]["arches"]);
            let exc_caps = list(&s["excludes"]["caps"]);
            inc_caps.iter().all(has)
                && (inc_arches.is_empty() || inc_arches.iter().any(|a| a == "amd64"))
                && !exc_caps.iter().any(has)
        })
        .cloned()
        .collect::<Vec<_>>();
    serde_json::json!({
        "defaultAction": profile["defaultAction"],
        "defaultErrnoRet": profile["defaultErrnoRet"],
        "architectures": arches,
        "syscalls": syscalls,
    })
}

#[test]
fn containers_common_profile_loads() {
    let test = "containers_common_profile_loads";
    let path = Path::new("/usr/share/containers/seccomp.json");
    if !path.exists() {
        husk_fixtures::skip(test, "golang-github-containers-common is not installed");
        return;
    }
    if !only_on_x86_64(test) {
        return;
    }
    let raw: Value = serde_json::from_slice(&std::fs::read(path).expect("read profile"))
        .expect("profile is json");
    let caps = [
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP",
        "CAP_SETGID",
        "CAP_SETPCAP",
        "CAP_SETUID",
        "CAP_SYS_CHROOT",
    ];
    let profile = parse(&containers_common_to_oci(&raw, &caps)).expect("parse profile");
    let f = Filter::new(&profile).expect("build profile");
    for (name, body, expected) in [
        ("getpid", getpid as fn() -> i32, 0),
        ("write", write_to_pipe, 0),
        ("sethostname", sethostname_same, EPERM),
        ("add_key", add_key, ENOSYS),
    ] {
        assert_eq!(filtered(&f, body), Outcome::Exited(expected), "{name}");
    }
}
