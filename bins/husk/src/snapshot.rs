//! `husk commit`, `husk diff`, `husk export`: a container's filesystem
//! as a new image, a change list, a tar archive.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};

use anyhow::{bail, Context, Result};
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
    match &a.output {
        Some(path) => {
            // Written beside the target and renamed: no half archive under the real name.
            let tmp = path.with_file_name(format!(
                ".{}.husk-{}",
                path.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default(),
                std::process::id()
            ));
            let result = (|| -> Result<()> {
                let f = File::create(&tmp).with_context(|| format!("create {}", tmp.display()))?;
                let mut w = BufWriter::with_capacity(1 << 20, f);
                lifecycle::export(p, &a.container, &mut w)?;
                let f = w
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .context("write archive")?;
                f.sync_all().context("fsync archive")?;
                std::fs::rename(&tmp, path)
                    .with_context(|| format!("rename to {}", path.display()))?;
                Ok(())
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        }
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                bail!("cowardly refusing to save to a terminal: use the -o flag or redirect");
            }
            let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
            lifecycle::export(p, &a.container, &mut w)?;
            w.flush().context("write archive to stdout")?;
            Ok(())
        }
    }
}
