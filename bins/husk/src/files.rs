//! `husk cp` and `husk rename`: docker's command lines over the engine.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{bail, Result};
use husk_engine::lifecycle::{self, CopyFrom, CopyOptions, CopyTo};
use husk_engine::store::Paths;

use crate::cli::*;

/// docker's `splitCpArg`: `CONTAINER:PATH`, unless the argument is an
/// absolute local path or an explicit relative one (`./file:name`).
fn split_cp_arg(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.starts_with('.') && !c.is_empty() => (Some(c), p),
        _ => (None, arg),
    }
}

pub fn cp(p: &Paths, a: &CpArgs) -> Result<i32> {
    let opts = CopyOptions {
        archive: a.archive,
        follow_link: a.follow_link,
    };
    let (src_ctr, src) = split_cp_arg(&a.src);
    let (dst_ctr, dst) = split_cp_arg(&a.dest);
    let (copied, shown) = match (src_ctr, dst_ctr) {
        (Some(_), Some(_)) => bail!("copying between containers is not supported"),
        (None, None) => bail!("must specify at least one container source"),
        (Some(c), None) => {
            if src.is_empty() {
                bail!("filepath cannot be empty: give CONTAINER:PATH");
            }
            if dst == "-" {
                let out = std::io::BufWriter::new(std::io::stdout());
                lifecycle::copy_out(p, c, src, CopyTo::Stream(out), opts)?;
                return Ok(0);
            }
            let to = CopyTo::<std::io::Stdout>::Host(Path::new(dst));
            (lifecycle::copy_out(p, c, src, to, opts)?, dst.to_string())
        }
        (None, Some(c)) => {
            if dst.is_empty() {
                bail!("filepath cannot be empty: give CONTAINER:PATH");
            }
            let n = if src == "-" {
                lifecycle::copy_in(p, CopyFrom::Stream(std::io::stdin()), c, dst, opts)?
            } else {
                let from = CopyFrom::<std::io::Stdin>::Host(Path::new(src));
                lifecycle::copy_in(p, from, c, dst, opts)?
            };
            (n, format!("{c}:{dst}"))
        }
    };
    // docker's progress line: only on a terminal, and not with -q.
    if !a.quiet && std::io::stderr().is_terminal() && src != "-" {
        eprintln!(
            "Successfully copied {} to {shown}",
            husk_engine::format::human_size(copied)
        );
    }
    Ok(0)
}

pub fn rename(p: &Paths, a: &RenameArgs) -> Result<i32> {
    lifecycle::rename(p, &a.container, &a.new_name)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp_arguments_split_as_docker_splits_them() {
        assert_eq!(split_cp_arg("web:/etc/hosts"), (Some("web"), "/etc/hosts"));
        assert_eq!(split_cp_arg("/abs/a:b"), (None, "/abs/a:b"));
        assert_eq!(split_cp_arg("./file:name"), (None, "./file:name"));
        assert_eq!(split_cp_arg("plain"), (None, "plain"));
        assert_eq!(split_cp_arg("-"), (None, "-"));
        assert_eq!(split_cp_arg("web:"), (Some("web"), ""));
    }
}
