//! OCI resources as systemd unit properties, as runc's systemd driver sets them. The same
//! limits are then written to the cgroup files; the properties are what keeps systemd from
//! writing its own defaults over them on a daemon-reload.

use oci_spec::runtime::LinuxResources;

use crate::resources::cpu::shares_to_weight;

rustbus::dbus_variant_sig!(Prop, Bool => bool; U64 => u64; Str => String; Pids => Vec<u32>);

pub(crate) fn properties(r: &LinuxResources, pure_v2: bool) -> Vec<(String, Prop)> {
    let mut out: Vec<(String, Prop)> = Vec::new();
    let mut put = |k: &str, v: u64| out.push((k.to_string(), Prop::U64(v)));
    let positive = |v: Option<i64>| v.filter(|v| *v > 0).map(|v| v as u64);
    if let Some(m) = r.memory() {
        let limit = positive(m.limit());
        if let Some(l) = limit {
            put(if pure_v2 { "MemoryMax" } else { "MemoryLimit" }, l);
        }
        if pure_v2 {
            // OCI's swap is memory+swap; v2's memory.swap.max is swap alone.
            if let (Some(l), Some(s)) = (limit, positive(m.swap())) {
                if s >= l {
                    put("MemorySwapMax", s - l);
                }
            }
            if let Some(low) = positive(m.reservation()) {
                put("MemoryLow", low);
            }
        }
    }
    if let Some(p) = r.pids() {
        if p.limit() > 0 {
            put("TasksMax", p.limit() as u64);
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(shares) = c.shares().filter(|s| *s > 0) {
            if pure_v2 {
                put("CPUWeight", shares_to_weight(shares));
            } else {
                put("CPUShares", shares);
            }
        }
        if let (Some(q), Some(p)) = (positive(c.quota()), c.period().filter(|p| *p > 0)) {
            // systemd keeps the quota as a whole percent of a CPU: round up to 10 ms per
            // second so the files written afterwards are never above the unit's quota.
            let mut per_sec = q.saturating_mul(1_000_000) / p;
            if per_sec % 10_000 != 0 {
                per_sec = (per_sec / 10_000 + 1) * 10_000;
            }
            put("CPUQuotaPerSecUSec", per_sec);
            if pure_v2 {
                put("CPUQuotaPeriodUSec", p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(json: &str) -> LinuxResources {
        serde_json::from_str(json).unwrap()
    }

    fn get(props: &[(String, Prop)], k: &str) -> Option<u64> {
        props
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| match v {
                Prop::U64(v) => Some(*v),
                _ => None,
            })
    }

    #[test]
    fn v2_memory_swap_cpu_pids() {
        let r = res(
            r#"{"memory":{"limit":419430400,"swap":838860800,"reservation":-1},
                "cpu":{"shares":1024,"quota":150000,"period":100000},"pids":{"limit":64}}"#,
        );
        let p = properties(&r, true);
        assert_eq!(get(&p, "MemoryMax"), Some(419430400));
        assert_eq!(get(&p, "MemorySwapMax"), Some(419430400));
        assert_eq!(get(&p, "MemoryLow"), None);
        assert_eq!(get(&p, "TasksMax"), Some(64));
        assert_eq!(get(&p, "CPUWeight"), Some(shares_to_weight(1024)));
        assert_eq!(get(&p, "CPUQuotaPerSecUSec"), Some(1_500_000));
        assert_eq!(get(&p, "CPUQuotaPeriodUSec"), Some(100_000));
    }

    #[test]
    fn v1_names_and_quota_rounding() {
        let r =
            res(r#"{"memory":{"limit":-1},"cpu":{"shares":512,"quota":33333,"period":100000}}"#);
        let p = properties(&r, false);
        assert_eq!(get(&p, "MemoryLimit"), None);
        assert_eq!(get(&p, "CPUShares"), Some(512));
        assert_eq!(get(&p, "CPUQuotaPerSecUSec"), Some(340_000));
        assert_eq!(get(&p, "CPUQuotaPeriodUSec"), None);
    }
}
