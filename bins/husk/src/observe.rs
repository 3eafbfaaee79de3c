//! Looking at containers and the engine: `top`, `stats`, `info`,
//! `version`, `system df`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Result;
use husk_engine::format::template;
use husk_engine::store::{Container, Paths};
use husk_engine::views::{stats, system, top};
use husk_engine::{lifecycle, Error};
use serde_json::Value;

use crate::cli::{DfArgs, FormatArgs, StatsArgs, TopArgs};

pub fn top(paths: &Paths, a: &TopArgs) -> Result<i32> {
    let t = top::top(paths, &a.container, &a.ps_args)?;
    print!("{}", top::render(&t));
    Ok(0)
}

/// The containers `stats` shows, with the name each was asked by.
fn stats_targets(paths: &Paths, a: &StatsArgs) -> Result<Vec<(String, Container)>> {
    if a.containers.is_empty() {
        let all = lifecycle::list(paths)?;
        return Ok(all
            .into_iter()
            .filter(|c| a.all || c.is_running())
            .map(|c| (c.short_id().to_string(), c))
            .collect());
    }
    a.containers
        .iter()
        .map(|n| Ok((n.clone(), lifecycle::reconcile(paths, &paths.resolve(n)?)?)))
        .collect()
}

/// How often streaming `stats` redraws, and the span a CPU % covers.
const INTERVAL: Duration = Duration::from_secs(1);

pub fn stats(paths: &Paths, a: &StatsArgs) -> Result<i32> {
    let format = a
        .format
        .clone()
        .filter(|f| !f.is_empty() && f != "table")
        .unwrap_or_else(|| stats::DEFAULT_FORMAT.to_string());
    let mut prev: HashMap<String, stats::Sample> = HashMap::new();
    let terminal = std::io::stdout().is_terminal() && !a.no_stream;
    let mut first = true;
    loop {
        let targets = stats_targets(paths, a)?;
        let read = |c: &Container| -> Result<stats::Sample> {
            // Gone between the listing and the reading: its counters are zero.
            match stats::sample(paths, c) {
                Ok(s) => Ok(s),
                Err(Error::Cgroups(_)) => Ok(stats::Sample::default()),
                Err(e) => Err(e.into()),
            }
        };
        if first {
            // docker's first CPU % already covers an interval.
            for (_, c) in &targets {
                prev.insert(c.id.clone(), read(c)?);
            }
            std::thread::sleep(INTERVAL);
            first = false;
        }
        let mut rows = Vec::new();
        let mut next = HashMap::new();
        for (given, c) in &targets {
            let cur = read(c)?;
            let before = prev.get(&c.id).cloned().unwrap_or_else(|| cur.clone());
            rows.push(stats::row(c, given, &before, &cur, a.no_trunc));
            next.insert(c.id.clone(), cur);
        }
        prev = next;
        let out = match template::rows(&format, &rows, &stats::STATS, stats::header) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("{}", husk_fs::Chain(&e));
                return Ok(1);
            }
        };
        let mut stdout = std::io::stdout().lock();
        // docker clears the screen for each redraw on a terminal.
        let clear = if terminal { "\x1b[2J\x1b[H" } else { "" };
        if write!(stdout, "{clear}{out}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return Ok(0);
        }
        if a.no_stream {
            return Ok(0);
        }
        std::thread::sleep(INTERVAL);
    }
}

/// A document through `--format` as docker's inspect-style commands run
/// it, or `render` for the default text.
fn print_document(v: &Value, format: Option<&str>, render: impl Fn(&Value) -> String) -> i32 {
    match format {
        None | Some("") => {
            print!("{}", render(v));
            0
        }
        Some(f) => {
            let f = if f == "json" { "{{json .}}" } else { f };
            let out = template::inspect(f, &[(v.clone(), &system::DOCUMENT)]);
            print!("{}", out.stdout);
            eprint!("{}", out.stderr);
            out.code
        }
    }
}

pub fn info(paths: &Paths, a: &FormatArgs) -> Result<i32> {
    let v = system::info(paths)?;
    Ok(print_document(&v, a.format.as_deref(), system::render_info))
}

pub fn version(a: &FormatArgs) -> Result<i32> {
    let v = system::version();
    Ok(print_document(
        &v,
        a.format.as_deref(),
        system::render_version,
    ))
}

pub fn df(paths: &Paths, a: &DfArgs) -> Result<i32> {
    if a.verbose {
        if a.format.is_some() {
            anyhow::bail!(
                "the verbose and the format options conflict: give one of -v and --format"
            );
        }
        print!("{}", system::df_verbose(paths)?);
        return Ok(0);
    }
    let rows = system::df(paths)?;
    match a
        .format
        .as_deref()
        .filter(|f| !f.is_empty() && *f != "table")
    {
        None => print!("{}", system::render_df(&rows)),
        Some(f) => {
            let values: Vec<Value> = rows.iter().map(system::df_value).collect();
            match template::rows(f, &values, &system::DF, system::df_header) {
                Ok(out) => print!("{out}"),
                Err(e) => {
                    eprintln!("{}", husk_fs::Chain(&e));
                    return Ok(1);
                }
            }
        }
    }
    Ok(0)
}
