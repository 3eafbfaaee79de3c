//! `husk build`: flags to the engine's builder, progress on stdout.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use husk_engine::build::{self, BuildOptions, ContextSource, DockerfileSource};
use husk_engine::store::Paths;

use crate::cli::BuildArgs;

pub fn build(p: &Paths, a: &BuildArgs) -> Result<i32> {
    let stdin_dockerfile = a.file.as_deref() == Some(std::path::Path::new("-"));
    let context = if a.context == "-" {
        if stdin_dockerfile {
            bail!("the context and the Dockerfile cannot both come from stdin: give one a path");
        }
        if std::io::stdin().is_terminal() {
            bail!("the build context is read from stdin, but stdin is a terminal: pipe a tar archive in");
        }
        ContextSource::Tar(Box::new(std::io::stdin()))
    } else {
        ContextSource::Dir(PathBuf::from(&a.context))
    };
    let dockerfile = match &a.file {
        None => None,
        Some(f) if stdin_dockerfile => {
            let _ = f;
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("read the Dockerfile from stdin")?;
            Some(DockerfileSource::Text(text))
        }
        Some(f) => Some(DockerfileSource::Path(f.clone())),
    };
    let o = BuildOptions {
        context,
        dockerfile,
        tags: a.tag.clone(),
        build_args: a.build_arg.clone(),
        target: a.target.clone(),
        no_cache: a.no_cache,
        pull: a.pull,
        network: a.network.clone(),
        labels: a.label.clone(),
        platform: a.platform.clone(),
        quiet: a.quiet,
        iidfile: a.iidfile.clone(),
    };
    let exe = std::env::current_exe().context("locate the husk binary (/proc/self/exe)")?;
    let mut out = std::io::stdout();
    build::build(p, &exe, o, &mut out)?;
    Ok(0)
}
