//! Repair after a crash: whatever a container left behind (host veth,
//! firewall chain, address) is removed once the container is no longer
//! among the live ones. Keeps going past failures and reports them all.

use std::collections::BTreeSet;

use crate::bridge::{BridgeDriver, ALIAS_PREFIX};
use crate::driver::GcReport;
use crate::netlink::Netlink;
use crate::{Error, Result};

pub(crate) fn collect(driver: &BridgeDriver, live: &BTreeSet<String>) -> Result<GcReport> {
    let mut report = GcReport::default();
    let mut errors = Vec::new();
    // Only what this engine's address book names is ours to remove: every
    // path releases the address last, so anything a dead container of ours
    // left still has one, and the veths and rules of another engine
    // sharing the host (another --root) are never touched.
    let book: BTreeSet<String> = driver.ipam.allocations()?.into_values().collect();
    let stale = |id: &str| !live.contains(id) && book.contains(id);

    match stale_veths(&stale) {
        Ok(names) => report.veths = names,
        Err(e) => errors.push(e),
    }
    match driver.firewall.containers() {
        Ok(ids) => {
            for id in ids.into_iter().filter(|id| stale(id)) {
                match driver.firewall.remove_container(&id) {
                    Ok(()) => report.rules.push(id),
                    Err(e) => errors.push(e),
                }
            }
        }
        Err(e) => errors.push(e),
    }
    match driver.ipam.retain(|id| live.contains(id)) {
        Ok(gone) => report.addresses = gone,
        Err(e) => errors.push(e),
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(Error::Teardown(errors))
    }
}

/// Deletes host veths whose alias names a stale container. Usually the
/// kernel already removed them with the container's netns; a veth survives
/// while its namespace is pinned or being freed.
fn stale_veths(stale: &dyn Fn(&str) -> bool) -> Result<Vec<String>> {
    let mut nl = Netlink::new()?;
    let mut removed = Vec::new();
    for link in nl.links()? {
        let Some(id) = link
            .alias
            .as_deref()
            .and_then(|a| a.strip_prefix(ALIAS_PREFIX))
        else {
            continue;
        };
        if !stale(id) {
            continue;
        }
        match nl.delete_link(link.index, &link.name) {
            Err(e) if e.errno() != Some(libc::ENODEV) => return Err(e),
            _ => removed.push(link.name),
        }
    }
    Ok(removed)
}
