//! `husk update` and `husk start --all-restartable`: a container's limits
//! and restart policy, and the boot hook that applies the policies.

use anyhow::{bail, Context, Result};
use husk_engine::lifecycle::{self, UpdateOptions};
use husk_engine::store::Paths;

use crate::cli::{StartArgs, UpdateArgs};

/// `husk update [flags] CONTAINER...`: each name echoed once updated, as
/// docker does; docker's warnings on stderr.
pub fn update(p: &Paths, a: &UpdateArgs) -> Result<i32> {
    let o = UpdateOptions {
        memory: a.memory.clone(),
        memory_swap: a.memory_swap.clone(),
        memory_reservation: a.memory_reservation.clone(),
        cpus: a.cpus,
        cpu_shares: a.cpu_shares,
        cpu_period: a.cpu_period,
        cpu_quota: a.cpu_quota,
        cpuset_cpus: a.cpuset_cpus.clone(),
        cpuset_mems: a.cpuset_mems.clone(),
        pids_limit: a.pids_limit,
        blkio_weight: a.blkio_weight,
        restart: a.restart.clone(),
    };
    if o.is_empty() {
        bail!(
            "you must provide one or more flags when using this command: see 'husk update --help'"
        );
    }
    crate::containers::each(&a.containers, |n| {
        for w in lifecycle::update(p, n, &o)? {
            eprintln!("WARNING: {w}");
        }
        Ok(())
    })
}

/// `husk start --all-restartable`: the names of the containers started.
pub fn start_restartable(p: &Paths, a: &StartArgs) -> Result<i32> {
    if !a.containers.is_empty() {
        bail!(
            "--all-restartable starts every container whose restart policy says so: give no names"
        );
    }
    let exe = std::env::current_exe().context("locate the husk binary (/proc/self/exe)")?;
    let mut failed = 0;
    for (name, started) in lifecycle::start_restartable(p, &exe)? {
        match started {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("husk: {name}: {}", husk_fs::Chain(&e));
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}
