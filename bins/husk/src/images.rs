//! The image commands: parse, call the store/engine, print docker's lines.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::Path;

use anyhow::{bail, Context, Result};
use husk_engine::format::template::{self, Schema};
use husk_engine::images as remove;
use husk_engine::views::{history, image_inspect as inspect, images as list};
use husk_image::{Format, Reference, SaveItem, Store};

use crate::cli::*;

fn stdin_file() -> Result<File> {
    let fd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .context("dup stdin")?;
    Ok(File::from(fd))
}

pub fn import(root: &Path, a: &ImportArgs) -> Result<()> {
    let name = a.reference.as_deref().map(Reference::parse).transpose()?;
    let store = remove::open_write(root)?;
    let shown = husk_image::printable(&a.file, 200);
    let reader = if a.file == "-" {
        stdin_file()?
    } else {
        File::open(&a.file)
            .with_context(|| format!("open {shown}: give a rootfs tarball or - for stdin"))?
    };
    let img = husk_image::import(&store, reader, &a.file, name.as_ref(), a.message.as_deref())
        .with_context(|| format!("import {shown}"))?;
    let id = img.id.to_string();
    remove::event(root, "import", &id, &id);
    println!("{}", img.id);
    Ok(())
}

pub fn load(root: &Path, a: &LoadArgs) -> Result<()> {
    let store = remove::open_write(root)?;
    let loaded = match &a.input {
        Some(p) => husk_image::load(&store, p).context("load")?,
        None => {
            if std::io::stdin().is_terminal() {
                bail!("requested load from stdin, but stdin is empty: use 'husk load -i FILE' or pipe an archive in");
            }
            let spooled = husk_image::spool(&store, stdin_file()?).context("load")?;
            husk_image::load(&store, spooled.path())
                .map_err(|e| e.renamed(spooled.path(), Path::new("stdin")))
                .context("load")?
        }
    };
    for l in loaded {
        let id = l.image.id.to_string();
        remove::event(root, "load", &id, &id);
        if l.names.is_empty() {
            println!("Loaded image ID: {}", l.image.id);
        }
        for n in &l.names {
            println!("Loaded image: {}", n.familiar());
        }
    }
    Ok(())
}

pub fn save(root: &Path, a: &SaveArgs) -> Result<()> {
    let store = Store::open_read(root)?;
    let mut items: Vec<SaveItem> = Vec::new();
    for name in &a.images {
        let image = store.resolve(name)?;
        let as_name = Reference::parse(name)
            .ok()
            .filter(|r| image.names.contains(r));
        match items
            .iter_mut()
            .find(|i| i.image.manifest.digest == image.manifest.digest)
        {
            Some(item) => item.names.extend(as_name),
            None => items.push(SaveItem {
                image,
                names: as_name.into_iter().collect(),
            }),
        }
    }
    let format = match a.format {
        SaveFormat::DockerArchive => Format::DockerArchive,
        SaveFormat::OciArchive => Format::OciArchive,
    };
    crate::output::write_archive(a.output.as_deref(), |w| {
        husk_image::save(&store, &items, format, w)?;
        Ok(())
    })?;
    for item in &items {
        let id = item.image.id.to_string();
        remove::event(root, "save", &id, &id);
    }
    Ok(())
}

pub fn images(root: &Path, a: &ImagesArgs) -> Result<()> {
    let store = Store::open_read(root)?;
    let mut opts = list::ListOptions {
        quiet: a.quiet,
        digests: a.digests,
        no_trunc: a.no_trunc,
        format: a.format.clone(),
        dangling_only: false,
        all: a.all,
    };
    for f in &a.filter {
        match f.as_str() {
            "dangling=true" => opts.dangling_only = true,
            "dangling=false" => {}
            other => bail!("invalid filter {other:?}: only dangling=true|false is supported"),
        }
    }
    let mut rows = list::rows(&store, &opts)?;
    if let Some(r) = &a.reference {
        // docker matches REPOSITORY or REPOSITORY:TAG.
        let (repo, tag) = match r.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            Some((repo, tag)) => (repo.to_string(), Some(tag.to_string())),
            None => (r.clone(), None),
        };
        let repo = Reference::parse(&repo)
            .map(|x| x.familiar_repo().to_string())
            .unwrap_or(repo);
        rows.retain(|row| row.repository == repo && tag.iter().all(|t| &row.tag == t));
    }
    if let (Some(f), false) = (&opts.format, opts.quiet) {
        check_format(f, &rows, &template::IMAGES)?;
    }
    print!("{}", list::render(&rows, &opts)?);
    Ok(())
}

pub fn rmi(root: &Path, a: &RmiArgs) -> Result<()> {
    let store = remove::open_write(root)?;
    let mut failed = 0;
    for name in &a.images {
        match remove::rmi(&store, name, a.force) {
            Ok(events) => remove::describe(&events)
                .iter()
                .for_each(|l| println!("{l}")),
            Err(e) => {
                eprintln!("husk: {}", husk_fs::Chain(&e));
                failed += 1;
            }
        }
    }
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

pub fn tag(root: &Path, a: &TagArgs) -> Result<()> {
    let store = Store::open_write(root)?;
    store.tag(&a.source, &a.target)?;
    let id = store.resolve(&a.target)?.id.to_string();
    let name = Reference::parse(&a.target).map_or(a.target.clone(), |r| r.familiar());
    remove::event(root, "tag", &id, &name);
    Ok(())
}

pub fn history(root: &Path, a: &HistoryArgs) -> Result<()> {
    let store = Store::open_read(root)?;
    let img = store.resolve(&a.image)?;
    let opts = history::HistoryOptions {
        quiet: a.quiet,
        no_trunc: a.no_trunc,
        format: a.format.clone(),
    };
    let rows = history::rows(&store, &img, &opts)?;
    if let (Some(f), false) = (&opts.format, opts.quiet) {
        check_format(f, &rows, &template::HISTORY)?;
    }
    print!("{}", history::render(&rows, &opts)?);
    Ok(())
}

/// Runs a user's `--format` over the rows first, so an execution error
/// is reported as docker reports it (exit 1) rather than rendered empty.
fn check_format<T: serde::Serialize>(format: &str, rows: &[T], schema: &Schema) -> Result<()> {
    let values = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if let Err(e) = template::rows(format, &values, schema, |f| f.to_string()) {
        eprintln!("{}", husk_fs::Chain(&e));
        std::process::exit(1);
    }
    Ok(())
}

pub fn inspect(root: &Path, a: &InspectArgs) -> Result<()> {
    let store = Store::open_read(root)?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in &a.images {
        match store.resolve(name) {
            Ok(img) => found.push((
                serde_json::to_value(inspect::inspect(&store, &img)?)?,
                &template::IMAGE,
            )),
            Err(husk_image::Error::NotFound { .. }) => missing.push(name.clone()),
            Err(e) => return Err(e.into()),
        }
    }
    let code = crate::output::print_inspected(&found, a.format.as_deref())?;
    if code != 0 {
        std::process::exit(code);
    }
    if !missing.is_empty() {
        for m in &missing {
            eprintln!("husk: no such image: {m}: list images with 'husk images'");
        }
        std::process::exit(1);
    }
    Ok(())
}

pub fn prune(root: &Path, a: &PruneArgs) -> Result<()> {
    if !a.force {
        let what = if a.all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        };
        print!("WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Ok(());
        }
    }
    let store = remove::open_write(root)?;
    let (events, freed) = remove::prune(&store, a.all)?;
    if !events.is_empty() {
        println!("Deleted Images:");
        for l in remove::describe(&events) {
            // docker prints these in lower case here.
            let mut c = l.chars();
            let first = c.next().map(|ch| ch.to_ascii_lowercase()).into_iter();
            println!("{}", first.chain(c).collect::<String>());
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        husk_engine::format::human_size(freed)
    );
    Ok(())
}
