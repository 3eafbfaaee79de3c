//! Turning the merged, interpolated YAML tree into the typed model, with a
//! warning for every key it does not know and an error (naming file, path
//! and fix) for every value it cannot use.

mod build;
mod links;
mod mounts;
mod ports;
mod project;
mod runtime;
mod service;
mod top;
mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

pub(crate) use project::parse_project;

/// One compose file after interpolation, before merging: kept to tell
/// which file an error in the merged tree came from.
pub(crate) struct Source {
    /// The file as shown in messages.
    pub display: String,
    pub tree: Value,
}

/// What the typing functions share.
pub(crate) struct Cx<'a> {
    sources: &'a [Source],
    /// The file that errors and warnings are attributed to right now.
    file: String,
    warnings: Vec<String>,
    project_dir: &'a Path,
    project_name: &'a str,
    /// Variables for `environment: [KEY]` and `build.args: [KEY]`: the
    /// process environment over `.env`.
    vars: &'a BTreeMap<String, String>,
    /// Top-level volume keys, for checking named volume sources.
    declared_volumes: BTreeSet<String>,
    /// Top-level network keys, for checking service networks.
    declared_networks: BTreeSet<String>,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(
        sources: &'a [Source],
        project_dir: &'a Path,
        project_name: &'a str,
        vars: &'a BTreeMap<String, String>,
    ) -> Cx<'a> {
        let file = sources
            .last()
            .map(|s| s.display.clone())
            .unwrap_or_default();
        Cx {
            sources,
            file,
            warnings: Vec::new(),
            project_dir,
            project_name,
            vars,
            declared_volumes: BTreeSet::new(),
            declared_networks: BTreeSet::new(),
        }
    }

    /// Attributes what follows to the last file that reaches deepest along
    /// `segments` (`["services", "web", "ports"]`): the file whose value won
    /// the merge, or at least the one that defined the enclosing key.
    fn locate(&mut self, segments: &[&str]) {
        let mut best: Option<(usize, &str)> = None;
        for source in self.sources {
            let mut node = &source.tree;
            let mut depth = 0;
            for seg in segments {
                match node.get(seg) {
                    Some(next) => {
                        node = next;
                        depth += 1;
                    }
                    None => break,
                }
            }
            if best.is_none_or(|(d, _)| depth >= d) {
                best = Some((depth, &source.display));
            }
        }
        if let Some((_, display)) = best {
            self.file = display.to_string();
        }
    }

    fn warn(&mut self, path: &str, message: &str) {
        let warning = format!("{}: {path}: {message}", self.file);
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    fn unknown_key(&mut self, path: &str) {
        self.warn(path, "unknown key, ignored");
    }

    fn unsupported_key(&mut self, path: &str) {
        self.warn(path, "not supported by husk yet, ignored");
    }

    /// Takes the warnings gathered so far.
    pub(crate) fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// `HOME` from the variables, for `~` in paths.
    fn home(&self) -> Option<&str> {
        self.vars.get("HOME").map(String::as_str)
    }
}

#[cfg(test)]
mod tests;
