//! `husk x-ray`, `husk which`, `husk why`: a container as the kernel sees
//! it, the container a host process is in, why a container ended.

use std::io::Write;

use anyhow::{bail, Context, Result};
use husk_engine::store::Paths;
use husk_engine::views::{which, why, xray as x};

use crate::cli::{WhichArgs, WhyArgs, XRayArgs};

/// Only `json` or none: the text layouts are for people, not templates.
fn json_wanted(format: &Option<String>) -> Result<bool> {
    match format.as_deref() {
        None => Ok(false),
        Some("json") => Ok(true),
        Some(f) => bail!("--format {f:?} is not supported here: use --format json or no --format"),
    }
}

/// What a container chose (commands, file names) goes to the terminal
/// with its control characters escaped.
fn print_lines(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for line in text.lines() {
        writeln!(out, "{}", husk_fs::printable(line, usize::MAX)).context("write to stdout")?;
    }
    Ok(())
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    let s = serde_json::to_string_pretty(v).context("encode json")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{s}").context("write to stdout")?;
    Ok(())
}

pub fn xray(p: &Paths, a: &XRayArgs) -> Result<()> {
    let json = json_wanted(&a.format)?;
    let r = x::xray(p, &a.container)?;
    if json {
        print_json(&r)
    } else {
        print_lines(&x::render::text(&r))
    }
}

pub fn which(p: &Paths, a: &WhichArgs) -> Result<()> {
    let o = which::which(p, a.pid)?;
    print_lines(&which::describe(&o))
}

pub fn why(p: &Paths, a: &WhyArgs) -> Result<()> {
    let json = json_wanted(&a.format)?;
    let w = why::why(p, &a.container)?;
    if json {
        return print_json(&w);
    }
    let mut text = format!("{}: {}\n", w.name, w.answer);
    for d in &w.details {
        text.push_str(&format!("  {d}\n"));
    }
    print_lines(&text)
}
