//! `husk commit`, `husk diff`, `husk export`: a container's filesystem
//! as a new image, a change list, a tar archive.

use std::io::Write;

use anyhow::{Context, Result};
use husk_engine::lifecycle::{self, CommitOptions};
use husk_engine::store::Paths;

use crate::cli::{CommitArgs, DiffArgs, ExportArgs};

pub fn commit(p: &Paths, a: &CommitArgs) -> Result<()> {
    let opts = CommitOptions {
        changes: a.change.clone(),
        message: a.message.clone(),
        author: a.author.clone(),
        pause: a.pause,
        name: a.name.clone(),
    };
    let image = lifecycle::commit(p, &a.container, &opts)?;
    println!("{}", image.id);
    Ok(())
}

pub fn diff(p: &Paths, a: &DiffArgs) -> Result<()> {
    let changes = lifecycle::diff(p, &a.container)?;
    let mut out = std::io::stdout().lock();
    for c in changes {
        // A name the container chose: no control characters to the terminal.
        let line = husk_fs::printable(&c.to_string(), usize::MAX);
        writeln!(out, "{line}").context("write to stdout")?;
    }
    Ok(())
}

pub fn export(p: &Paths, a: &ExportArgs) -> Result<()> {
    crate::output::write_archive(a.output.as_deref(), |w| {
        lifecycle::export(p, &a.container, w)?;
        Ok(())
    })
}
