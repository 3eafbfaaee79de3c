//! `exec` without `--process`: runc builds the process from the
//! container's own config.json process plus the command-line flags.

use anyhow::{bail, Context, Result};
use husk_process::Runtime;

use crate::cli::ExecArgs;

/// The process for `exec`: `--process FILE` as given, or runc's way of
/// building one from the container's own process plus the flags.
pub(crate) fn exec_process(
    rt: &Runtime,
    id: &str,
    a: &ExecArgs,
    command: &[String],
) -> Result<oci_spec::runtime::Process> {
    if let Some(f) = &a.process {
        if !command.is_empty() {
            bail!("exec: give either --process or a command, not both");
        }
        let data = std::fs::read(f).with_context(|| format!("read {}", f.display()))?;
        return serde_json::from_slice(&data)
            .with_context(|| format!("{}: invalid process", f.display()));
    }
    if command.is_empty() {
        bail!("exec: no command given (husk-runtime exec ID COMMAND [ARG...], or --process FILE)");
    }
    let mut p = rt.base_process(id)?;
    p.set_args(Some(command.to_vec()));
    p.set_terminal(Some(a.tty));
    p.set_console_size(None);
    let mut env = p.env().clone().unwrap_or_default();
    for e in &a.env {
        let key = e.split('=').next().unwrap_or_default();
        env.retain(|x| x.split('=').next() != Some(key));
        env.push(e.clone());
    }
    p.set_env(Some(env));
    if let Some(cwd) = &a.cwd {
        p.set_cwd(cwd.clone());
    }
    if let Some(u) = &a.user {
        let (uid, gid) = match u.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (u.as_str(), None),
        };
        let uid: u32 = uid
            .parse()
            .with_context(|| format!("--user {u}: UID must be a number"))?;
        let mut user = p.user().clone();
        user.set_uid(uid);
        if let Some(g) = gid {
            user.set_gid(
                g.parse()
                    .with_context(|| format!("--user {u}: GID must be a number"))?,
            );
        }
        p.set_user(user);
    }
    if !a.additional_gids.is_empty() {
        let mut user = p.user().clone();
        user.set_additional_gids(Some(a.additional_gids.clone()));
        p.set_user(user);
    }
    if !a.cap.is_empty() {
        let mut caps = p.capabilities().clone().unwrap_or_default();
        for name in &a.cap {
            let cap: oci_spec::runtime::Capability =
                serde_json::from_value(serde_json::json!(name))
                    .with_context(|| format!("--cap {name}: unknown capability"))?;
            for set in [
                caps.bounding().clone(),
                caps.effective().clone(),
                caps.permitted().clone(),
            ]
            .iter()
            .enumerate()
            {
                let mut s = set.1.clone().unwrap_or_default();
                s.insert(cap);
                match set.0 {
                    0 => caps.set_bounding(Some(s)),
                    1 => caps.set_effective(Some(s)),
                    _ => caps.set_permitted(Some(s)),
                };
            }
        }
        p.set_capabilities(Some(caps));
    }
    if a.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if let Some(l) = &a.process_label {
        p.set_selinux_label(Some(l.clone()));
    }
    if let Some(l) = &a.apparmor {
        p.set_apparmor_profile(Some(l.clone()));
    }
    Ok(p)
}
