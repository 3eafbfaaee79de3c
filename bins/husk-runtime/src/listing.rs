//! `list` and `ps` output, as runc prints them.

use std::io::Write;

use anyhow::{bail, Context, Result};
use husk_process::Runtime;

pub(crate) fn list(rt: &Runtime, quiet: bool, format: &str, out: &mut impl Write) -> Result<()> {
    let all = rt.list()?;
    if quiet {
        for (s, _) in &all {
            writeln!(out, "{}", s.id)?;
        }
        return Ok(());
    }
    if format == "json" {
        let v: Vec<_> = all.iter().map(|(s, st)| s.oci_json(*st)).collect();
        writeln!(out, "{}", serde_json::to_string(&v)?)?;
        return Ok(());
    }
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
    for (s, st) in &all {
        let pid = if *st == husk_state::Status::Stopped {
            0
        } else {
            s.pid
        };
        rows.push(vec![
            s.id.clone(),
            pid.to_string(),
            st.to_string(),
            s.bundle.display().to_string(),
            s.created.clone(),
            if s.owner.is_empty() {
                "root".into()
            } else {
                s.owner.clone()
            },
        ]);
    }
    write!(out, "{}", crate::table::render(&rows, 12, 3))?;
    Ok(())
}

/// runc's `ps` table: the host's ps(1) output, header plus the lines whose
/// PID column is one of the container's processes.
pub(crate) fn ps_table(pids: &[i32], args: &[String], out: &mut impl Write) -> Result<()> {
    let args: Vec<String> = if args.is_empty() {
        vec!["-ef".into()]
    } else {
        args.to_vec()
    };
    let o = std::process::Command::new("ps")
        .args(&args)
        .output()
        .context("run ps(1)")?;
    if !o.status.success() {
        bail!(
            "ps {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&o.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| anyhow::anyhow!("ps {}: output has no PID column", args.join(" ")))?;
    writeln!(out, "{header}")?;
    for l in lines {
        let pid = l
            .split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            writeln!(out, "{l}")?;
        }
    }
    Ok(())
}
