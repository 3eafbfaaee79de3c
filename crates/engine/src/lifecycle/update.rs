//! `husk update`: new resource limits or restart policy for a container,
//! with docker's checks and words (the daemon's `verifyContainerSettings`
//! and `Container.UpdateContainer`): written to the record, and for a
//! running container first applied to its live cgroups through the
//! runtime's `update --resources -` (runc's contract), so a limit the
//! kernel refuses (memory below what is in use) changes nothing. The next
//! start (and every policy restart) builds its spec from the record.

use serde_json::{json, Value};

use super::{reconcile, runtime_of};
use crate::config::resources;
use crate::config::restart::RestartPolicy;
use crate::store::{HostConfig, Paths};
use crate::{Error, Result};

/// What `husk update` was given, as typed.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    pub memory: Option<String>,
    pub memory_swap: Option<String>,
    pub memory_reservation: Option<String>,
    pub cpus: Option<f64>,
    pub cpu_shares: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_limit: Option<i64>,
    pub blkio_weight: Option<u16>,
    pub restart: Option<String>,
}

/// The values checked, each `None` when not given (or given as docker's
/// "leave it": a zero).
#[derive(Debug, Default)]
struct Changes {
    memory: Option<i64>,
    memory_swap: Option<i64>,
    memory_reservation: Option<i64>,
    nano_cpus: Option<i64>,
    cpu_shares: Option<i64>,
    cpu_period: Option<i64>,
    cpu_quota: Option<i64>,
    cpuset_cpus: Option<String>,
    cpuset_mems: Option<String>,
    pids_limit: Option<i64>,
    blkio_weight: Option<u16>,
    restart: Option<RestartPolicy>,
}

fn bad(flag: &'static str, value: impl ToString, reason: &str) -> Error {
    Error::InvalidFlag {
        flag,
        value: value.to_string(),
        reason: reason.into(),
    }
}

impl UpdateOptions {
    /// No flag given: docker wants one at least.
    pub fn is_empty(&self) -> bool {
        self.memory.is_none()
            && self.memory_swap.is_none()
            && self.memory_reservation.is_none()
            && self.cpus.is_none()
            && self.cpu_shares.is_none()
            && self.cpu_period.is_none()
            && self.cpu_quota.is_none()
            && self.cpuset_cpus.is_none()
            && self.cpuset_mems.is_none()
            && self.pids_limit.is_none()
            && self.blkio_weight.is_none()
            && self.restart.is_none()
    }

    /// Each value on its own, as the daemon checks an update.
    fn check(&self) -> Result<Changes> {
        let nonzero = |v: i64| (v != 0).then_some(v);
        let memory = match self.memory.as_deref() {
            // docker's zero: leave it as it is.
            Some(s) if crate::config::parse_memory(s)? == 0 => None,
            Some(s) => Some(crate::config::parse_size("--memory", s, "memory")?),
            None => None,
        };
        let memory_swap = match self.memory_swap.as_deref() {
            None => None,
            Some("-1") => Some(-1),
            Some(s) => nonzero(husk_spec::units::ram_in_bytes(s).ok_or_else(|| {
                bad(
                    "--memory-swap",
                    s,
                    "not a size: use a number with b, k, m, g, t or p, or -1",
                )
            })?),
        };
        let memory_reservation = self
            .memory_reservation
            .as_deref()
            .map(|s| crate::config::parse_size("--memory-reservation", s, "memory reservation"))
            .transpose()?;
        if let (Some(m), Some(s)) = (memory, memory_swap) {
            if s > 0 && s < m {
                return Err(bad(
                    "--memory-swap",
                    s,
                    "Minimum memoryswap limit should be larger than memory limit, see usage",
                ));
            }
        }
        if let (Some(m), Some(r)) = (memory, memory_reservation) {
            if m < r {
                return Err(bad(
                    "--memory",
                    m,
                    "Minimum memory limit can not be less than memory reservation limit, see usage",
                ));
            }
        }
        if let Some(c) = self.cpus {
            resources::check_cpus(c, &resources::online("cpus"))?;
        }
        let nano_cpus = self
            .cpus
            .map(|c| (c * 1e9).round() as i64)
            .and_then(nonzero);
        let cpu_period = self.cpu_period.and_then(nonzero);
        let cpu_quota = self.cpu_quota.and_then(nonzero);
        if nano_cpus.is_some() && cpu_period.is_some() {
            return Err(bad(
                "--cpus",
                self.cpus.unwrap_or_default(),
                "Conflicting options: Nano CPUs and CPU Period cannot both be set",
            ));
        }
        if nano_cpus.is_some() && cpu_quota.is_some() {
            return Err(bad(
                "--cpus",
                self.cpus.unwrap_or_default(),
                "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
            ));
        }
        if let Some(p) = cpu_period {
            if !(1000..=1_000_000).contains(&p) {
                return Err(bad(
                    "--cpu-period",
                    p,
                    "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
                ));
            }
        }
        if let Some(q) = cpu_quota {
            if (1..1000).contains(&q) {
                return Err(bad(
                    "--cpu-quota",
                    q,
                    "CPU cfs quota can not be less than 1ms (i.e. 1000)",
                ));
            }
        }
        if let Some(c) = &self.cpuset_cpus {
            resources::check_cpuset("--cpuset-cpus", c, &resources::online("cpus"))?;
        }
        if let Some(m) = &self.cpuset_mems {
            resources::check_cpuset("--cpuset-mems", m, &resources::online("mems"))?;
        }
        let blkio_weight = self.blkio_weight.filter(|w| *w != 0);
        if let Some(w) = blkio_weight {
            if !(10..=1000).contains(&w) {
                return Err(bad(
                    "--blkio-weight",
                    w,
                    "Range of blkio weight is from 10 to 1000",
                ));
            }
        }
        Ok(Changes {
            memory,
            memory_swap,
            memory_reservation,
            nano_cpus,
            cpu_shares: self.cpu_shares.and_then(nonzero),
            cpu_period,
            cpu_quota,
            cpuset_cpus: self.cpuset_cpus.clone().filter(|s| !s.is_empty()),
            cpuset_mems: self.cpuset_mems.clone().filter(|s| !s.is_empty()),
            pids_limit: self.pids_limit,
            blkio_weight,
            restart: self
                .restart
                .as_deref()
                .map(|r| RestartPolicy::parse(Some(r)))
                .transpose()?,
        })
    }
}

impl Changes {
    /// Lays the changes over `h`, with docker's checks against what the
    /// container has already.
    fn apply(&self, id: &str, h: &mut HostConfig) -> Result<()> {
        let refuse = |reason: &str| Error::Conflict {
            id: id.to_string(),
            reason: format!("cannot update: {reason}"),
        };
        if self.nano_cpus.is_some() && h.extra.cpu_period > 0 {
            return Err(refuse("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set"));
        }
        if self.nano_cpus.is_some() && h.extra.cpu_quota > 0 {
            return Err(refuse("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set"));
        }
        if self.cpu_period.is_some() && h.nano_cpus > 0 {
            return Err(refuse("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"));
        }
        if self.cpu_quota.is_some() && h.nano_cpus > 0 {
            return Err(refuse(
                "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set",
            ));
        }
        if let Some(m) = self.memory {
            if m > h.memory_swap && self.memory_swap.is_none() {
                return Err(refuse("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"));
            }
        }
        if let Some(p) = &self.restart {
            if h.auto_remove && !p.is_none() {
                return Err(refuse(
                    "Restart policy cannot be updated because AutoRemove is enabled for the container",
                ));
            }
        }
        let set = |dst: &mut i64, v: Option<i64>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        set(&mut h.memory, self.memory);
        set(&mut h.memory_swap, self.memory_swap);
        set(&mut h.memory_reservation, self.memory_reservation);
        set(&mut h.nano_cpus, self.nano_cpus);
        set(&mut h.cpu_shares, self.cpu_shares);
        set(&mut h.extra.cpu_period, self.cpu_period);
        set(&mut h.extra.cpu_quota, self.cpu_quota);
        if let Some(c) = &self.cpuset_cpus {
            h.cpuset_cpus = c.clone();
        }
        if let Some(m) = &self.cpuset_mems {
            h.cpuset_mems = m.clone();
        }
        if let Some(p) = self.pids_limit {
            // docker's 0 and -1 both lift the limit.
            h.pids_limit = (p > 0).then_some(p);
        }
        if let Some(w) = self.blkio_weight {
            h.extra.blkio_weight = w;
        }
        if let Some(p) = &self.restart {
            h.restart_policy = p.clone();
        }
        let swap = h.memory_swap;
        if swap > 0 && h.memory > 0 && swap < h.memory {
            return Err(refuse(
                "Minimum memoryswap limit should be larger than memory limit, see usage",
            ));
        }
        if h.memory > 0 && h.memory_reservation > 0 && h.memory < h.memory_reservation {
            return Err(refuse(
                "Minimum memory limit can not be less than memory reservation limit, see usage",
            ));
        }
        Ok(())
    }

    /// The OCI `LinuxResources` of what changed, for the runtime's
    /// `update` (`h`: the host config with the changes applied).
    fn live(&self, h: &HostConfig, swap_accounting: bool) -> Value {
        let mut r = json!({});
        if self.memory.is_some() {
            r["memory"]["limit"] = json!(h.memory);
        }
        if self.memory_swap.is_some() && swap_accounting {
            r["memory"]["swap"] = json!(h.memory_swap);
        }
        if self.memory_reservation.is_some() {
            r["memory"]["reservation"] = json!(h.memory_reservation);
        }
        if self.cpu_shares.is_some() {
            r["cpu"]["shares"] = json!(h.cpu_shares);
        }
        if self.nano_cpus.is_some() {
            let period: i64 = 100_000;
            r["cpu"]["period"] = json!(period);
            r["cpu"]["quota"] = json!(h.nano_cpus * period / 1_000_000_000);
        }
        if self.cpu_period.is_some() {
            r["cpu"]["period"] = json!(h.extra.cpu_period);
        }
        if self.cpu_quota.is_some() {
            r["cpu"]["quota"] = json!(h.extra.cpu_quota);
        }
        if let Some(c) = &self.cpuset_cpus {
            r["cpu"]["cpus"] = json!(c);
        }
        if let Some(m) = &self.cpuset_mems {
            r["cpu"]["mems"] = json!(m);
        }
        if self.pids_limit.is_some() {
            r["pids"]["limit"] = json!(h.pids_limit.unwrap_or(-1));
        }
        if self.blkio_weight.is_some() {
            r["blockIO"]["weight"] = json!(h.extra.blkio_weight);
        }
        r
    }
}

/// Whether the host can weigh block I/O (v1 `blkio.weight`, v2 `io.weight`
/// or BFQ's): without, docker discards the weight with a warning.
fn blkio_weight_supported() -> bool {
    [
        "/sys/fs/cgroup/blkio/blkio.weight",
        "/sys/fs/cgroup/blkio/blkio.bfq.weight",
        "/sys/fs/cgroup/io.weight",
        "/sys/fs/cgroup/io.bfq.weight",
    ]
    .iter()
    .any(|p| std::path::Path::new(p).exists())
}

/// `husk update [flags] CONTAINER`: the warnings docker would print.
pub fn update(paths: &Paths, name: &str, o: &UpdateOptions) -> Result<Vec<String>> {
    let mut changes = o.check()?;
    let mut warnings = Vec::new();
    if changes.blkio_weight.is_some() && !blkio_weight_supported() {
        warnings.push(
            "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
                .to_string(),
        );
        changes.blkio_weight = None;
    }
    let c = reconcile(paths, &paths.resolve(name)?)?;
    let mut next = c.host_config.clone();
    changes.apply(&c.id, &mut next)?;
    if c.is_running() {
        let live = changes.live(&next, crate::oci::spec::swap_limit_supported());
        if live.as_object().is_some_and(|m| !m.is_empty()) {
            runtime_of(paths, &c)
                .update(&c.id, &live)
                .map_err(|e| Error::Conflict {
                    id: c.id.clone(),
                    reason: format!("cannot update: {}", husk_fs::Chain(&e)),
                })?;
        }
    }
    paths.update(&c.id, |r| changes.apply(&c.id, &mut r.host_config))?;
    crate::events::container(paths, &c, "update", &[]);
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(memory: i64, swap: i64) -> HostConfig {
        HostConfig {
            memory,
            memory_swap: swap,
            ..Default::default()
        }
    }

    #[test]
    fn memory_above_the_recorded_swap_needs_a_new_swap_as_docker_says() {
        let o = UpdateOptions {
            memory: Some("1g".into()),
            ..Default::default()
        };
        let mut h = host(400 << 20, 800 << 20);
        let e = o.check().unwrap().apply("c", &mut h).unwrap_err();
        assert!(e
            .to_string()
            .contains("update the memoryswap at the same time"));
        let o = UpdateOptions {
            memory: Some("1g".into()),
            memory_swap: Some("2g".into()),
            ..Default::default()
        };
        let ch = o.check().unwrap();
        ch.apply("c", &mut h).unwrap();
        assert_eq!((h.memory, h.memory_swap), (1 << 30, 2 << 30));
        assert_eq!(ch.live(&h, true)["memory"]["limit"], 1 << 30);
        assert!(ch.live(&h, false)["memory"].get("swap").is_none());
    }

    #[test]
    fn value_errors_are_dockers() {
        let err = |o: UpdateOptions| o.check().unwrap_err().to_string();
        let e = err(UpdateOptions {
            memory: Some("300m".into()),
            memory_swap: Some("200m".into()),
            ..Default::default()
        });
        assert!(e.contains("Minimum memoryswap limit should be larger than memory limit"));
        let e = err(UpdateOptions {
            memory: Some("1m".into()),
            ..Default::default()
        });
        assert!(e.contains("allowed is 6MB"), "{e}");
        let e = err(UpdateOptions {
            cpu_period: Some(10),
            ..Default::default()
        });
        assert!(e.contains("CPU cfs period can not be less than 1ms"));
        let e = err(UpdateOptions {
            blkio_weight: Some(5),
            ..Default::default()
        });
        assert!(e.contains("Range of blkio weight is from 10 to 1000"));
        let e = err(UpdateOptions {
            restart: Some("sometimes".into()),
            ..Default::default()
        });
        assert!(e.contains("unknown policy 'sometimes'"));
    }

    #[test]
    fn cpus_and_pids_become_cfs_and_pids_values() {
        let o = UpdateOptions {
            cpus: Some(0.5),
            pids_limit: Some(-1),
            restart: Some("on-failure:2".into()),
            ..Default::default()
        };
        let mut h = host(0, 0);
        h.pids_limit = Some(10);
        let ch = o.check().unwrap();
        ch.apply("c", &mut h).unwrap();
        let live = ch.live(&h, true);
        assert_eq!(live["cpu"]["quota"], 50_000);
        assert_eq!(live["cpu"]["period"], 100_000);
        assert_eq!(live["pids"]["limit"], -1);
        assert_eq!(h.pids_limit, None);
        assert_eq!(h.restart_policy.to_string(), "on-failure:2");
        // A restart policy on an --rm container: docker's refusal.
        let mut rm = host(0, 0);
        rm.auto_remove = true;
        let o = UpdateOptions {
            restart: Some("always".into()),
            ..Default::default()
        };
        let e = o.check().unwrap().apply("c", &mut rm).unwrap_err();
        assert!(e.to_string().contains("AutoRemove is enabled"));
    }
}
