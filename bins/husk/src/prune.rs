//! `husk container prune`, `husk volume prune`, `husk system prune`:
//! docker's warnings, confirmation and output.

use std::io::Write;

use anyhow::Result;
use husk_engine::format::human_size;
use husk_engine::lifecycle::{self, PruneFilters, Pruned};
use husk_engine::store::Paths;

use crate::cli::*;

/// docker's `PromptForConfirmation`: the warning, then a y/N answer read
/// from stdin (anything but y or yes, end of input included, is no).
pub(crate) fn confirm(warning: &str) -> Result<bool> {
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// "Deleted THINGS:" and one line each, then a blank line; empty when none.
pub(crate) fn deleted(what: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = format!("Deleted {what}:\n");
    for i in items {
        out.push_str(i);
        out.push('\n');
    }
    out.push('\n');
    out
}

fn total(bytes: u64) {
    println!("Total reclaimed space: {}", human_size(bytes));
}

/// Prints what was removed and warns about what could not be: the
/// prune's exit status stays 0 (docker's daemon only logs those).
fn report(what: &str, p: &Pruned) -> u64 {
    for f in &p.failed {
        eprintln!("husk: warning: {f}");
    }
    print!("{}", deleted(what, &p.deleted));
    p.reclaimed
}

pub fn containers(p: &Paths, a: &ContainerPruneArgs) -> Result<i32> {
    let filters = PruneFilters::parse(&a.filter, &["until", "label"])?;
    if !a.force && !confirm("WARNING! This will remove all stopped containers.")? {
        return Ok(0);
    }
    let pruned = lifecycle::prune_containers(p, &filters)?;
    total(report("Containers", &pruned));
    Ok(0)
}

fn volume_warning(all: bool) -> &'static str {
    if all {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    }
}

pub fn volumes(p: &Paths, a: &VolumePruneArgs) -> Result<i32> {
    let mut filters = PruneFilters::parse(&a.filter, &["label", "all"])?;
    filters.all |= a.all;
    if !a.force && !confirm(volume_warning(filters.all))? {
        return Ok(0);
    }
    let pruned = lifecycle::prune_volumes(p, &filters)?;
    total(report("Volumes", &pruned));
    Ok(0)
}

/// docker's `system prune` warning: what each pruner takes. husk's build
/// cache is step images (the image prune takes them) and the entries
/// naming them.
fn system_warning(a: &SystemPruneArgs) -> String {
    let mut items = vec![
        "all stopped containers",
        "all networks not used by at least one container",
    ];
    if a.volumes {
        items.push("all anonymous volumes not used by at least one container");
    }
    items.push(if a.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    });
    items.push(if a.all {
        "all build cache"
    } else {
        "unused build cache"
    });
    let mut out = String::from("WARNING! This will remove:");
    for i in items {
        out.push_str("\n  - ");
        out.push_str(i);
    }
    out
}

pub fn system(p: &Paths, a: &SystemPruneArgs) -> Result<i32> {
    if !a.force && !confirm(&system_warning(a))? {
        return Ok(0);
    }
    let none = PruneFilters::default();
    let mut bytes = report("Containers", &lifecycle::prune_containers(p, &none)?);
    print!(
        "{}",
        deleted("Networks", &husk_engine::network::user::prune(p)?)
    );
    if a.volumes {
        bytes += report("Volumes", &lifecycle::prune_volumes(p, &none)?);
    }
    let store = husk_engine::images::open_write(&p.root)?;
    let (events, b) = husk_engine::images::prune(&store, a.all)?;
    print!("{}", crate::images::deleted_images(&events));
    bytes += b;
    let cache = husk_engine::build::cache::Cache::new(&p.root).prune(&store, a.all)?;
    print!("{}", deleted("build cache objects", &cache));
    total(bytes);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_warning_is_dockers() {
        let a = SystemPruneArgs {
            all: false,
            force: false,
            volumes: true,
        };
        assert_eq!(
            system_warning(&a),
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all dangling images\n  - unused build cache"
        );
    }
}
