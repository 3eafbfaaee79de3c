//! `syscalls[]` entries → libseccomp rules, with runc's semantics.

use libseccomp::{ScmpAction, ScmpArgCompare, ScmpFilterContext, ScmpSyscall};
use oci_spec::runtime::LinuxSyscall;

use crate::convert::{self, MAX_ARGS};
use crate::error::{invalid, Error, Result};

/// Adds the rules of `syscalls[index]` to `ctx`.
pub(crate) fn add(
    ctx: &mut ScmpFilterContext,
    index: usize,
    call: &LinuxSyscall,
    default: ScmpAction,
) -> Result<()> {
    let field = format!("syscalls[{index}]");
    let action = convert::action(
        &format!("{field}.action"),
        &format!("{field}.errnoRet"),
        call.action(),
        call.errno_ret(),
    )?;
    // Conditions are checked even when the rule is then dropped, so a broken profile is
    // reported no matter which default action it is combined with.
    let conditions = call
        .args()
        .iter()
        .flatten()
        .enumerate()
        .map(|(j, arg)| convert::condition(&format!("{field}.args[{j}]"), arg))
        .collect::<Result<Vec<_>>>()?;
    for (j, name) in call.names().iter().enumerate() {
        if name.is_empty() {
            return Err(invalid(format!("{field}.names[{j}]"), "empty syscall name"));
        }
    }

    // libseccomp rejects a rule whose action is the default one (it could never change the
    // outcome), so it is dropped here as runc does.
    if action == default {
        return Ok(());
    }

    let groups = condition_groups(&conditions, call);
    for (j, name) in call.names().iter().enumerate() {
        // A name libseccomp cannot resolve is a syscall this architecture or this libseccomp
        // does not know. Profiles list syscalls of newer kernels on purpose, so like runc we
        // skip it silently instead of refusing to start the container. Names that exist only
        // on another architecture (e.g. socketcall) resolve to pseudo numbers and are kept.
        let Ok(nr) = ScmpSyscall::from_name(name) else {
            continue;
        };
        let added = if groups.is_empty() {
            ctx.add_rule(action, nr).map(drop)
        } else {
            groups
                .iter()
                .try_for_each(|group| ctx.add_rule_conditional(action, nr, group).map(drop))
        };
        added.map_err(|source| Error::Build {
            field: format!("{field}.names[{j}] {name:?}"),
            op: "add rule",
            source,
        })?;
    }
    Ok(())
}

/// The sets of conditions to add as one rule each.
///
/// Conditions of one libseccomp rule are ANDed, and conditions on *different* arguments keep
/// that meaning (e.g. podman's socket(AF_NETLINK, _, NETLINK_AUDIT) rule). But when several
/// conditions test the *same* argument, runc adds each as its own rule, i.e. ORs them: its
/// first versions added every condition as a separate rule and it kept that behaviour for
/// same-argument conditions when it started ANDing the others. Profiles in the wild are
/// written against runc, so doing the same keeps a profile meaning one thing on every runtime,
/// even though it means a range such as GE 5 + LE 10 cannot be written in one entry.
fn condition_groups(
    conditions: &[ScmpArgCompare],
    call: &LinuxSyscall,
) -> Vec<Vec<ScmpArgCompare>> {
    if conditions.is_empty() {
        return Vec::new();
    }
    let mut per_index = [0usize; MAX_ARGS];
    for arg in call.args().iter().flatten() {
        // `convert::condition` has already refused indexes >= MAX_ARGS.
        if let Some(count) = per_index.get_mut(arg.index()) {
            *count += 1;
        }
    }
    if per_index.iter().any(|&count| count > 1) {
        conditions.iter().map(|c| vec![*c]).collect()
    } else {
        vec![conditions.to_vec()]
    }
}
