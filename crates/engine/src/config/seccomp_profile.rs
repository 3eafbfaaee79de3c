//! docker-format seccomp profiles (`archMap`, `includes`/`excludes` by
//! capability, architecture and kernel) and their conversion to the OCI
//! `linux.seccomp` object, evaluated the way moby's `profiles/seccomp`
//! `setupSeccomp` does for the container's bounding set.
//!
//! `seccomp/default.json` is docker's default profile, unchanged, as
//! shipped in moby's `profiles/seccomp/default.json` (docker 20.10.24, the
//! copy in Debian bookworm's golang-github-docker-docker-dev package).
//! Copyright Docker, Inc. and the moby contributors, Apache License 2.0.
//! It is vendored so that builds and CI never depend on a host package.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Error, Result};

/// docker's default profile (see the module comment for origin and license).
pub const DEFAULT_PROFILE: &str = include_str!("seccomp/default.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(default)]
    default_action: String,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default)]
    architectures: Vec<String>,
    #[serde(default)]
    arch_map: Vec<ArchMap>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    syscalls: Vec<Syscall>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: String,
    #[serde(default)]
    sub_architectures: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Syscall {
    #[serde(default)]
    name: String,
    #[serde(default)]
    names: Vec<String>,
    action: String,
    #[serde(default)]
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Option<Vec<Value>>,
    #[serde(default)]
    includes: Filter,
    #[serde(default)]
    excludes: Filter,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(default)]
    caps: Vec<String>,
    #[serde(default)]
    arches: Vec<String>,
    #[serde(default)]
    min_kernel: Option<String>,
}

/// What a profile is evaluated against.
#[derive(Debug, Clone)]
pub struct Host {
    /// libseccomp's name of the native architecture (`amd64`, `arm64`, ...).
    pub arch: &'static str,
    /// `(major, minor)` of the running kernel.
    pub kernel: (u64, u64),
}

impl Host {
    pub fn current() -> Host {
        let release = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        Host {
            arch: native_arch(),
            // An unreadable release makes every minKernel rule apply, as
            // on any kernel newer than the profile.
            kernel: parse_kernel(&release).unwrap_or((u64::MAX, u64::MAX)),
        }
    }
}

/// docker's GOARCH → libseccomp mapping, from Rust's names.
fn native_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        "mips64" if cfg!(target_endian = "little") => "mipsel64",
        "mips64" => "mips64",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// libseccomp name → the spec's `SCMP_ARCH_*` (docker's nativeToSeccomp).
fn scmp_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86" => "SCMP_ARCH_X86",
        "amd64" => "SCMP_ARCH_X86_64",
        "arm" => "SCMP_ARCH_ARM",
        "arm64" => "SCMP_ARCH_AARCH64",
        "mips64" => "SCMP_ARCH_MIPS64",
        "mips64n32" => "SCMP_ARCH_MIPS64N32",
        "mipsel64" => "SCMP_ARCH_MIPSEL64",
        "mips3l64n32" => "SCMP_ARCH_MIPSEL64N32",
        "mipsle" => "SCMP_ARCH_MIPSEL",
        "ppc" => "SCMP_ARCH_PPC",
        "ppc64" => "SCMP_ARCH_PPC64",
        "ppc64le" => "SCMP_ARCH_PPC64LE",
        "s390" => "SCMP_ARCH_S390",
        "s390x" => "SCMP_ARCH_S390X",
        "riscv64" => "SCMP_ARCH_RISCV64",
        _ => return None,
    })
}

/// `6.1.0-13-amd64` → (6, 1); docker compares only these two numbers.
fn parse_kernel(release: &str) -> Option<(u64, u64)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

fn bad(value: &str, reason: String) -> Error {
    Error::InvalidFlag {
        flag: "--security-opt seccomp",
        value: value.to_string(),
        reason,
    }
}

/// Checks a docker-format profile (`seccomp=FILE`'s contents) without
/// evaluating it; `source` names it in errors.
pub fn check(body: &str, source: &str) -> Result<()> {
    parse(body, source).map(drop)
}

fn parse(body: &str, source: &str) -> Result<Profile> {
    let p: Profile = serde_json::from_str(body)
        .map_err(|e| bad(source, format!("decoding seccomp profile failed: {e}")))?;
    if !p.architectures.is_empty() && !p.arch_map.is_empty() {
        return Err(bad(
            source,
            "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'".into(),
        ));
    }
    for (i, s) in p.syscalls.iter().enumerate() {
        if !s.name.is_empty() && !s.names.is_empty() {
            return Err(bad(
                source,
                format!("syscalls[{i}]: 'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'"),
            ));
        }
        for f in [&s.includes, &s.excludes] {
            if let Some(k) = &f.min_kernel {
                if parse_kernel(k).is_none() || k.split('.').count() != 2 {
                    return Err(bad(
                        source,
                        format!("syscalls[{i}]: invalid kernel version {k:?}, expected \"<kernel>.<major>\""),
                    ));
                }
            }
        }
    }
    Ok(p)
}

/// Converts a docker-format profile to OCI `linux.seccomp` for a process
/// whose bounding set is `caps` (`CAP_*` names). `None` when the profile
/// disables seccomp (no default action and no rules, as docker reads it).
pub fn to_oci(body: &str, source: &str, caps: &[String], host: &Host) -> Result<Option<Value>> {
    let p = parse(body, source)?;
    if p.default_action.is_empty() && p.syscalls.is_empty() {
        return Ok(None);
    }
    let has = |c: &String| caps.iter().any(|x| x == c);
    let kernel_ge = |k: &str| parse_kernel(k).is_some_and(|v| host.kernel >= v);
    let mut architectures: Vec<String> = p.architectures.clone();
    if let Some(native) = scmp_arch(host.arch) {
        if let Some(m) = p.arch_map.iter().find(|m| m.architecture == native) {
            architectures.push(m.architecture.clone());
            architectures.extend(m.sub_architectures.iter().cloned());
        }
    }
    let mut syscalls = Vec::new();
    for s in &p.syscalls {
        let ex = &s.excludes;
        if ex.arches.iter().any(|a| a == host.arch)
            || ex.caps.iter().any(has)
            || ex.min_kernel.as_deref().is_some_and(kernel_ge)
        {
            continue;
        }
        let inc = &s.includes;
        if (!inc.arches.is_empty() && !inc.arches.iter().any(|a| a == host.arch))
            || !inc.caps.iter().all(has)
            || inc.min_kernel.as_deref().is_some_and(|k| !kernel_ge(k))
        {
            continue;
        }
        let names = if s.name.is_empty() {
            s.names.clone()
        } else {
            vec![s.name.clone()]
        };
        let mut call = json!({"names": names, "action": s.action});
        if let Some(e) = s.errno_ret {
            call["errnoRet"] = json!(e);
        }
        if let Some(args) = s.args.as_ref().filter(|a| !a.is_empty()) {
            call["args"] = json!(args);
        }
        syscalls.push(call);
    }
    let mut out = json!({
        "defaultAction": p.default_action,
        "syscalls": syscalls,
    });
    if let Some(e) = p.default_errno_ret {
        out["defaultErrnoRet"] = json!(e);
    }
    if !architectures.is_empty() {
        out["architectures"] = json!(architectures);
    }
    if !p.flags.is_empty() {
        out["flags"] = json!(p.flags);
    }
    Ok(Some(out))
}

/// Compiles the OCI profile as the runtime will (libseccomp), so a profile
/// naming an unknown action, operator or architecture is refused at
/// `create`, not when the container starts.
pub fn compile_check(oci: &Value, source: &str) -> Result<()> {
    husk_seccomp::parse(oci)
        .and_then(|p| husk_seccomp::validate(&p))
        .map_err(|e| bad(source, e.to_string()))
}

/// docker's default profile for a process whose bounding set is `caps`.
pub fn default_for(caps: &[String]) -> Value {
    // The vendored profile is tested to parse, so this cannot fail; an
    // empty object would still be refused by the runtime rather than
    // silently run unconfined.
    to_oci(DEFAULT_PROFILE, "default", caps, &Host::current())
        .ok()
        .flatten()
        .unwrap_or_else(|| json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    fn names_for(p: &Value, action: &str) -> Vec<String> {
        p["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["action"] == action && s.get("args").is_none())
            .flat_map(|s| s["names"].as_array().unwrap().clone())
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    }

    const AMD64: Host = Host {
        arch: "amd64",
        kernel: (6, 1),
    };

    #[test]
    fn default_profile_follows_caps_arch_and_kernel() {
        let dflt = crate::config::caps::capabilities(&[], &[], u64::MAX);
        let p = to_oci(DEFAULT_PROFILE, "default", &dflt, &AMD64)
            .unwrap()
            .unwrap();
        assert_eq!(p["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(
            p["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
        let allowed = names_for(&p, "SCMP_ACT_ALLOW");
        for n in [
            "read",
            "mkdir",
            "arch_prctl",
            "modify_ldt",
            "ptrace",
            "chroot",
        ] {
            assert!(allowed.contains(&n.to_string()), "{n} not allowed");
        }
        for n in [
            "mount",
            "unshare",
            "setns",
            "reboot",
            "s390_runtime_instr",
            "bpf",
        ] {
            assert!(!allowed.contains(&n.to_string()), "{n} allowed");
        }
        // clone without namespace flags only, clone3 ENOSYS so libcs fall back.
        let s = p["syscalls"].as_array().unwrap();
        let clone = s.iter().find(|s| s["names"] == json!(["clone"])).unwrap();
        assert_eq!(clone["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
        assert_eq!(clone["args"][0]["value"], 2_114_060_288u64);
        let clone3 = s.iter().find(|s| s["names"] == json!(["clone3"])).unwrap();
        assert_eq!(clone3["action"], "SCMP_ACT_ERRNO");
        assert_eq!(clone3["errnoRet"], 38);

        let admin = caps(&["CAP_SYS_ADMIN", "CAP_CHOWN"]);
        let p = to_oci(DEFAULT_PROFILE, "default", &admin, &AMD64)
            .unwrap()
            .unwrap();
        let allowed = names_for(&p, "SCMP_ACT_ALLOW");
        for n in ["mount", "unshare", "setns", "clone", "clone3"] {
            assert!(allowed.contains(&n.to_string()), "{n} not allowed");
        }
        assert!(!p["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["action"] == "SCMP_ACT_ERRNO"));

        // ptrace comes with kernel 4.8 (minKernel).
        let old = Host {
            arch: "amd64",
            kernel: (4, 4),
        };
        let p = to_oci(DEFAULT_PROFILE, "default", &dflt, &old)
            .unwrap()
            .unwrap();
        assert!(!names_for(&p, "SCMP_ACT_ALLOW").contains(&"ptrace".to_string()));

        let s390 = Host {
            arch: "s390x",
            kernel: (6, 1),
        };
        let p = to_oci(DEFAULT_PROFILE, "default", &dflt, &s390)
            .unwrap()
            .unwrap();
        assert!(names_for(&p, "SCMP_ACT_ALLOW").contains(&"s390_runtime_instr".to_string()));
        assert_eq!(
            p["architectures"],
            json!(["SCMP_ARCH_S390X", "SCMP_ARCH_S390"])
        );
    }

    #[test]
    fn default_profile_compiles_for_every_capability_set() {
        let all: Vec<String> = crate::config::caps::ALL_CAPS
            .iter()
            .map(|s| s.to_string())
            .collect();
        for caps in [
            Vec::new(),
            crate::config::caps::capabilities(&[], &[], u64::MAX),
            all,
        ] {
            let p = default_for(&caps);
            compile_check(&p, "default").unwrap();
        }
        let bad = json!({"defaultAction": "SCMP_ACT_FOO", "syscalls": []});
        assert!(compile_check(&bad, "f").is_err());
    }

    #[test]
    fn custom_profiles_and_errors() {
        let body = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":1},
                        {"names":["mkdirat"],"action":"SCMP_ACT_ERRNO","args":[]}]}"#;
        let p = to_oci(body, "f", &[], &AMD64).unwrap().unwrap();
        assert_eq!(
            p["syscalls"][0],
            json!({"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1})
        );
        assert_eq!(
            p["syscalls"][1],
            json!({"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO"})
        );
        assert_eq!(p["architectures"], json!(["SCMP_ARCH_X86_64"]));
        assert!(to_oci("{}", "f", &[], &AMD64).unwrap().is_none());
        assert!(check("{", "f")
            .unwrap_err()
            .to_string()
            .contains("decoding seccomp profile failed"));
        let both = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],
            "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[]}]}"#;
        assert!(check(both, "f").is_err());
        let k = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"4"}}]}"#;
        assert!(check(k, "f").is_err());
        assert_eq!(parse_kernel("6.18.44-fc-v595"), Some((6, 18)));
        assert_eq!(parse_kernel("3.12-1-amd64"), Some((3, 12)));
    }
}
