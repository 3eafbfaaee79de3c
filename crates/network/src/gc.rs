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

    match stale_veths(live) {
        Ok(names) => report.veths = names,
        Err(e) => errors.push(e),
    }
    match driver.firewall.containers() {
        Ok(ids) => {
            for id in ids.into_iter().filter(|id| !live.contains(id)) {
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

/// Deletes host veths whose alias names a container that is not live.
/// Usually the kernel already removed them with the container's netns; a
/// veth survives when its peer was never moved (a crash mid-setup).
fn stale_veths(live: &BTreeSet<String>) -> Result<Vec<String>> {
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
        if live.contains(id) {
            continue;
        }
        match nl.delete_link(link.index, &link.name) {
            Err(e) if e.errno() != Some(libc::ENODEV) => return Err(e),
            _ => removed.push(link.name),
        }
    }
    Ok(removed)
}
