//! Compiled seccomp programs are cached under `<root>/@seccomp` by content:
//! the second container with the same profile loads the cached program, and
//! it still refuses what the profile refuses; a damaged entry is recompiled.

#[allow(unused_imports)]
mod common;

use common::*;

fn deny_mkdir(b: &mut husk_fixtures::Bundle) {
    b.edit(|v| {
        v["linux"]["seccomp"] = serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
        });
    });
}

fn cache_entries(rt: &Rt) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(rt.root.path().join("@seccomp"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn cached_filters_still_refuse_and_damage_is_recompiled() {
    require_root!("cached_filters_still_refuse_and_damage_is_recompiled");
    let rt = Rt::new();
    let mut b = bundle(&["sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?"]);
    deny_mkdir(&mut b);
    b.write();

    let (code, out, err) = rt.run_bundle(&b, "first");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("rc=1"),
        "mkdir not refused on a fresh compile: {out}"
    );
    let entries = cache_entries(&rt);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let program = std::fs::read(&entries[0]).unwrap();
    assert!(!program.is_empty() && program.len().is_multiple_of(8));

    let (code, out, err) = rt.run_bundle(&b, "second");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("rc=1"),
        "mkdir not refused from the cache: {out}"
    );
    assert_eq!(cache_entries(&rt).len(), 1);

    std::fs::write(&entries[0], b"not a program").unwrap();
    let (code, out, err) = rt.run_bundle(&b, "third");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("rc=1"),
        "mkdir not refused after recompiling: {out}"
    );
    assert_eq!(std::fs::read(&entries[0]).unwrap(), program);
}
