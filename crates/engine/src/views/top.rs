//! `husk top`: the host's `ps`, kept to the container's processes (host
//! PIDs, from its cgroup), as docker's daemon does it.

use std::collections::HashSet;

use crate::store::{Container, Paths};
use crate::{Error, Result};

/// docker's `container.TopResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Top {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

/// The container's host PIDs: every process of its cgroup (sub-cgroups
/// it made included).
pub fn host_pids(paths: &Paths, c: &Container) -> Result<Vec<i32>> {
    Ok(super::stats::cgroup(paths, c)?.pids()?)
}

/// Runs `ps ARGS` (docker's default `-ef`) and keeps the container's rows.
pub fn top(paths: &Paths, name: &str, ps_args: &[String]) -> Result<Top> {
    let c = crate::lifecycle::reconcile(paths, &paths.resolve(name)?)?;
    if !c.is_running() {
        return Err(Error::Conflict {
            id: c.id,
            reason: "is not running: start it first (husk start)".into(),
        });
    }
    let args: Vec<String> = if ps_args.is_empty() {
        vec!["-ef".into()]
    } else {
        ps_args.to_vec()
    };
    check_args(&args)?;
    let pids = host_pids(paths, &c)?;
    let listed: Vec<String> = pids.iter().map(i32::to_string).collect();
    // `-q PIDS` keeps ps from walking the whole host; some options (BSD
    // `f`) refuse it, so docker runs plain ps again then.
    let mut with_q = args.clone();
    with_q.push("-q".into());
    with_q.push(listed.join(","));
    let out = match run_ps(&with_q) {
        Ok(out) => out,
        Err(_) => run_ps(&args)?,
    };
    parse(&out, &pids.into_iter().collect())
}

/// docker refuses `-o x=PID...` with another key than `pid`: the PID
/// column is what rows are matched on.
fn check_args(args: &[String]) -> Result<()> {
    for a in args {
        for part in a.split(',') {
            if let Some((k, v)) = part.split_once('=') {
                let k = k.rsplit(' ').next().unwrap_or(k);
                if v.trim_start().starts_with("PID") && k != "pid" {
                    return Err(Error::InvalidFlag {
                        flag: "ps options",
                        value: a.clone(),
                        reason: format!(
                            "specifying \"{k}={v}\" is not allowed: the PID header belongs to pid"
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

fn run_ps(args: &[String]) -> Result<String> {
    let out = std::process::Command::new("ps")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            what: "ps".into(),
            source,
        })?;
    if !out.status.success() {
        return Err(Error::Conflict {
            id: "ps".into(),
            reason: format!(
                "ps {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// docker's parsePSOutput: the header's words are the titles, the row's
/// PID column picks it, the last column takes the rest of the line.
fn parse(out: &str, pids: &HashSet<i32>) -> Result<Top> {
    let mut lines = out.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split_ascii_whitespace()
        .map(String::from)
        .collect();
    let pid_col = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| Error::InvalidFlag {
            flag: "ps options",
            value: titles.join(" "),
            reason: "ps printed no PID column: add -o pid (or use -ef)".into(),
        })?;
    let mut processes = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.len() < titles.len() {
            continue;
        }
        let Ok(pid) = fields[pid_col].parse::<i32>() else {
            continue;
        };
        if !pids.contains(&pid) {
            continue;
        }
        let last = titles.len() - 1;
        let mut row: Vec<String> = fields[..last].iter().map(|s| s.to_string()).collect();
        row.push(fields[last..].join(" "));
        processes.push(row);
    }
    Ok(Top { titles, processes })
}

/// docker's table: tabwriter with minwidth 20, padding 3.
pub fn render(t: &Top) -> String {
    let mut lines = vec![t.titles.join("\t")];
    lines.extend(t.processes.iter().map(|p| p.join("\t")));
    crate::format::table::tabwrite_min(&lines, 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS: &str = "\
UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init splash
root        4242    4200  0 10:01 ?        00:00:00 sleep 1000
root        4243    4242  0 10:01 pts/0    00:00:00 sh -c echo hi; sleep 5
";

    #[test]
    fn keeps_the_containers_rows_and_joins_the_command() {
        let t = parse(PS, &[4242, 4243].into_iter().collect()).unwrap();
        assert_eq!(t.titles.len(), 8);
        assert_eq!(t.processes.len(), 2);
        assert_eq!(t.processes[0][1], "4242");
        assert_eq!(t.processes[1][7], "sh -c echo hi; sleep 5");
        let out = render(&t);
        assert!(
            out.starts_with("UID                 PID                 PPID"),
            "{out}"
        );
        assert!(parse("USER COMMAND\nroot x\n", &HashSet::new()).is_err());
    }

    #[test]
    fn refuses_another_key_for_the_pid_header() {
        assert!(check_args(&["-o".into(), "user=PID".into()]).is_err());
        assert!(check_args(&["-o".into(), "pid=PID,comm".into()]).is_ok());
        assert!(check_args(&["aux".into()]).is_ok());
    }
}
