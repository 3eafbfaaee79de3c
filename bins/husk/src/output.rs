//! What every `inspect` prints: docker's indented JSON array, or each
//! object through `--format` as docker's CLI runs it.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use husk_engine::format::template::{self, Schema};
use husk_engine::views::image_inspect::to_docker_json;
use serde_json::Value;

/// Prints the objects found, each with the docker type it stands for;
/// returns docker's exit status for the template (64: it does not parse,
/// 1: it failed on an object, 0).
pub fn print_inspected(found: &[(Value, &Schema)], format: Option<&str>) -> Result<i32> {
    match format {
        None => {
            let values: Vec<&Value> = found.iter().map(|(v, _)| v).collect();
            print!("{}", to_docker_json(&values)?);
            Ok(0)
        }
        Some(f) => {
            let out = template::inspect(f, found);
            print!("{}", out.stdout);
            eprint!("{}", out.stderr);
            Ok(out.code)
        }
    }
}

/// Where `save` and `export` write their archive: `-o PATH` is written
/// beside PATH and renamed after an fsync, so no half archive ever has the
/// real name; without `-o` stdout, never a terminal (docker's refusal).
pub fn write_archive(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let Some(path) = output else {
        let stdout = std::io::stdout();
        if stdout.is_terminal() {
            bail!("cowardly refusing to save to a terminal: use the -o flag or redirect");
        }
        let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
        write(&mut w)?;
        return w.flush().context("write archive to stdout");
    };
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
        write(&mut w)?;
        let f = w
            .into_inner()
            .map_err(|e| e.into_error())
            .context("write archive")?;
        f.sync_all().context("fsync archive")?;
        std::fs::rename(&tmp, path).with_context(|| format!("rename to {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
