//! Device access rules: v1 devices.allow/deny lists, v2 an eBPF program on the cgroup.

pub(crate) mod ebpf;

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType, LinuxResources};

use crate::error::{Error, Result};
use crate::fsio;
use crate::layout::Version;
use crate::manager::Manager;

pub(crate) const ACC_MKNOD: u8 = 1;
pub(crate) const ACC_READ: u8 = 2;
pub(crate) const ACC_WRITE: u8 = 4;
pub(crate) const ACC_ALL: u8 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// A validated rule; `None` numbers are wildcards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub allow: bool,
    /// 'a', 'b' or 'c'.
    pub typ: char,
    pub major: Option<i64>,
    pub minor: Option<i64>,
    pub access: u8,
}

impl Rule {
    /// The v1 list syntax, "c 1:3 rwm".
    pub fn v1_line(&self) -> String {
        let n = |v: Option<i64>| v.map_or_else(|| "*".to_string(), |v| v.to_string());
        let mut acc = String::new();
        for (bit, c) in [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')] {
            if self.access & bit != 0 {
                acc.push(c);
            }
        }
        format!("{} {}:{} {acc}", self.typ, n(self.major), n(self.minor))
    }
}

/// The rules runc appends to every container's list (libcontainer/specconv AllowedDevices,
/// runc >= 1.2.3): mknod of anything, the standard character devices, ptys and tun/tap.
/// The runtime appends these (and one rule per linux.devices entry) after the spec's own
/// rules to behave like runc; this crate applies exactly the list it is given.
pub fn default_device_rules() -> Vec<LinuxDeviceCgroup> {
    let r = |typ, major: Option<i64>, minor: Option<i64>, access: &str| {
        let mut d = LinuxDeviceCgroup::default();
        d.set_allow(true);
        d.set_typ(Some(typ));
        d.set_major(major);
        d.set_minor(minor);
        d.set_access(Some(access.to_string()));
        d
    };
    use LinuxDeviceType::{B, C};
    vec![
        r(C, None, None, "m"),
        r(B, None, None, "m"),
        r(C, Some(1), Some(3), "rwm"),    // null
        r(C, Some(1), Some(8), "rwm"),    // random
        r(C, Some(1), Some(7), "rwm"),    // full
        r(C, Some(5), Some(0), "rwm"),    // tty
        r(C, Some(1), Some(5), "rwm"),    // zero
        r(C, Some(1), Some(9), "rwm"),    // urandom
        r(C, Some(136), None, "rwm"),     // /dev/pts/*
        r(C, Some(5), Some(2), "rwm"),    // ptmx
        r(C, Some(10), Some(200), "rwm"), // net/tun
    ]
}

fn rule(d: &LinuxDeviceCgroup) -> Result<Rule> {
    let typ = match d.typ().unwrap_or(LinuxDeviceType::A) {
        LinuxDeviceType::A => 'a',
        LinuxDeviceType::B => 'b',
        LinuxDeviceType::C => 'c',
        t => {
            return Err(Error::invalid(
                "devices.type",
                format!("{:?} is not a cgroup device type (a, b or c)", t.as_str()),
            ))
        }
    };
    let num = |field: &str, v: Option<i64>| -> Result<Option<i64>> {
        match v {
            None | Some(-1) => Ok(None),
            Some(v) if (0..=i64::from(i32::MAX)).contains(&v) => Ok(Some(v)),
            Some(v) => Err(Error::invalid(field, format!("{v} is not a device number"))),
        }
    };
    let access_str = d.access().as_deref().unwrap_or("rwm");
    let mut access = 0u8;
    for c in access_str.chars() {
        let bit = match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            'm' => ACC_MKNOD,
            _ => {
                return Err(Error::invalid(
                    "devices.access",
                    format!("{access_str:?} may only contain r, w and m"),
                ))
            }
        };
        access |= bit;
    }
    if access == 0 {
        access = ACC_ALL;
    }
    Ok(Rule {
        allow: d.allow(),
        typ,
        major: num("devices.major", d.major())?,
        minor: num("devices.minor", d.minor())?,
        access,
    })
}

fn rules(r: &LinuxResources) -> Result<Option<Vec<Rule>>> {
    r.devices()
        .as_ref()
        .map(|d| d.iter().map(rule).collect())
        .transpose()
}

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    if rules(r)?.is_some() {
        m.require("devices", "devices")?;
    }
    Ok(())
}

/// A list of rules replaces whatever was there: v1 starts from "deny all" and then replays
/// the rules in order (as runc's fallback without its emulator); v2 swaps in one program.
pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(rules) = rules(r)? else {
        return Ok(());
    };
    let d = m.require("devices", "devices")?;
    match d.version {
        Version::V1 => {
            // Between "deny all" and the last allow a running process would see EPERM on
            // devices it is entitled to; frozen, it cannot open anything meanwhile. (runc
            // avoids the window by diffing rule sets with an emulator instead.)
            let running = !fsio::procs(&d.path)?.is_empty();
            let freeze = running && m.dir_for("freezer").is_some() && !m.is_frozen()?;
            if freeze {
                m.freeze()?;
            }
            let res = write_v1(&d.path, &rules);
            if freeze {
                m.thaw()?;
            }
            res
        }
        Version::V2 => ebpf::apply(&d.path, &rules),
    }
}

fn write_v1(dir: &std::path::Path, rules: &[Rule]) -> Result<()> {
    fsio::append(dir, "devices.deny", "a")?;
    for rule in rules {
        let file = if rule.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        fsio::append(dir, file, &rule.v1_line())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxDeviceCgroupBuilder;

    #[test]
    fn default_rules_are_valid() {
        let lines: Vec<String> = default_device_rules()
            .iter()
            .map(|d| rule(d).unwrap().v1_line())
            .collect();
        assert_eq!(lines[0], "c *:* m");
        assert_eq!(lines[8], "c 136:* rwm");
        assert_eq!(lines.len(), 11);
    }

    #[test]
    fn lines_and_validation() {
        let d = LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(LinuxDeviceType::C)
            .major(1)
            .minor(3)
            .access("mrw")
            .build()
            .unwrap();
        assert_eq!(rule(&d).unwrap().v1_line(), "c 1:3 rwm");
        let d = LinuxDeviceCgroupBuilder::default()
            .allow(false)
            .build()
            .unwrap();
        assert_eq!(rule(&d).unwrap().v1_line(), "a *:* rwm");
        let d = LinuxDeviceCgroupBuilder::default()
            .typ(LinuxDeviceType::P)
            .build()
            .unwrap();
        assert!(rule(&d).unwrap_err().to_string().contains("device type"));
        let d = LinuxDeviceCgroupBuilder::default()
            .access("rx")
            .build()
            .unwrap();
        assert!(rule(&d).is_err());
        let d = LinuxDeviceCgroupBuilder::default()
            .major(-5)
            .build()
            .unwrap();
        assert!(rule(&d).is_err());
    }
}
