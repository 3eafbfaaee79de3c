//! [`load`]: finding the files, the variables, interpolating, merging,
//! naming the project and typing it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::env::parse_dotenv;
use crate::interpolate::interpolate_tree;
use crate::merge::merge;
use crate::model::Project;
use crate::name::normalize_project_name;
use crate::parse::{parse_project, Cx, Source};
use crate::paths;
use crate::yaml::parse_yaml;
use crate::Error;

/// The files looked for when none is given, in compose-go's order.
pub const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Merged after the default file when present beside it.
pub const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// What the CLI's flags and environment say. Build it with
/// [`LoadOptions::new`] and set the fields that apply.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// `-f` files, merged in order; relative ones are taken from
    /// `working_dir`. Empty: `COMPOSE_FILE` from `env` (split on
    /// `COMPOSE_PATH_SEPARATOR`, default `:`), else the first of
    /// [`DEFAULT_FILES`] in `working_dir` or its nearest parent that has
    /// one, plus the first of [`OVERRIDE_FILES`] beside it.
    pub files: Vec<PathBuf>,
    /// Where the command runs: an absolute path (the crate never asks the
    /// process for its current directory).
    pub working_dir: PathBuf,
    /// `--project-directory`; default: the first file's directory. Relative
    /// paths in the files (binds, build contexts, env files) and `.env`
    /// are found from here.
    pub project_dir: Option<PathBuf>,
    /// `-p`: wins over `COMPOSE_PROJECT_NAME`, the top-level `name:` and the
    /// project directory's name.
    pub project_name: Option<String>,
    /// The process environment. Passed in, never read by the crate, so
    /// loading is deterministic. It wins over `.env`.
    pub env: BTreeMap<String, String>,
    /// `--env-file`: replaces the project directory's `.env`; relative ones
    /// are taken from `working_dir`.
    pub env_files: Vec<PathBuf>,
    /// `--profile`, added to those in `COMPOSE_PROFILES` (`*` enables all).
    pub profiles: Vec<String>,
}

impl LoadOptions {
    /// Options for a command run in `working_dir`, everything else default.
    pub fn new(working_dir: impl Into<PathBuf>) -> LoadOptions {
        LoadOptions {
            working_dir: working_dir.into(),
            ..LoadOptions::default()
        }
    }
}

/// Loads, interpolates, merges and validates a project.
///
/// Errors are one line naming the file and key; everything that is only
/// worth mentioning ends up in [`Project::warnings`].
pub fn load(opts: &LoadOptions) -> Result<Project, Error> {
    let mut warnings = Vec::new();
    let files = compose_files(opts, &mut warnings)?;
    let project_dir = match (&opts.project_dir, files.first().and_then(|f| f.parent())) {
        (Some(dir), _) => paths::clean(&opts.working_dir.join(dir)),
        (None, Some(dir)) => dir.to_path_buf(),
        (None, None) => opts.working_dir.clone(),
    };
    let mut vars = dotenv_vars(opts, &project_dir)?;
    vars.extend(opts.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let lookup = |k: &str| vars.get(k).cloned();

    let mut sources = Vec::new();
    for path in &files {
        let shown = paths::display(path, &opts.working_dir);
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            file: shown.clone(),
            source,
        })?;
        let mut tree = parse_yaml(&text, &shown)?;
        match &tree {
            Value::Object(map) => {
                if map.contains_key("version") {
                    warnings.push(format!(
                        "{shown}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion"
                    ));
                }
            }
            // An empty override file changes nothing.
            Value::Null => tree = Value::Object(Default::default()),
            other => {
                return Err(Error::Invalid {
                    file: shown,
                    path: "(top level)".to_string(),
                    value: None,
                    message: format!(
                        "found {}: a compose file is a mapping with services: and other keys",
                        kind_of(other)
                    ),
                })
            }
        }
        interpolate_tree(&mut tree, "", &shown, &lookup, &mut warnings)?;
        sources.push(Source {
            display: shown,
            tree,
        });
    }
    let merged = sources
        .iter()
        .fold(Value::Null, |acc, s| merge(acc, s.tree.clone()));

    let name = project_name(opts, &vars, &merged, &sources, &project_dir)?;
    let mut profiles: Vec<String> = opts
        .profiles
        .iter()
        .cloned()
        .chain(
            vars.get("COMPOSE_PROFILES")
                .into_iter()
                .flat_map(|p| p.split(',').map(|s| s.trim().to_string())),
        )
        .filter(|p| !p.is_empty())
        .collect();
    profiles.sort();
    profiles.dedup();

    let mut cx = Cx::new(&sources, &project_dir, &name, &vars);
    let parsed = parse_project(&mut cx, &merged)?;
    warnings.extend(cx.take_warnings());
    Ok(Project {
        name,
        project_dir,
        files,
        services: parsed.services,
        networks: parsed.networks,
        volumes: parsed.volumes,
        profiles,
        warnings,
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        _ => "a scalar",
    }
}

fn compose_files(opts: &LoadOptions, warnings: &mut Vec<String>) -> Result<Vec<PathBuf>, Error> {
    let from_env = opts.env.get("COMPOSE_FILE").filter(|f| !f.is_empty());
    if !opts.files.is_empty() || from_env.is_some() {
        let listed: Vec<PathBuf> = match from_env {
            Some(list) if opts.files.is_empty() => {
                let sep = opts
                    .env
                    .get("COMPOSE_PATH_SEPARATOR")
                    .map(String::as_str)
                    .unwrap_or(":");
                list.split(sep)
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from)
                    .collect()
            }
            _ => opts.files.clone(),
        };
        return Ok(listed
            .iter()
            .map(|f| paths::clean(&opts.working_dir.join(f)))
            .collect());
    }
    let mut dir: Option<&Path> = Some(&opts.working_dir);
    while let Some(d) = dir {
        let found: Vec<&str> = DEFAULT_FILES
            .iter()
            .copied()
            .filter(|n| d.join(n).is_file())
            .collect();
        if let Some(first) = found.first() {
            if found.len() > 1 {
                warnings.push(format!(
                    "Found multiple config files with supported names: {}. Using {first}",
                    found.join(", ")
                ));
            }
            let mut files = vec![d.join(first)];
            files.extend(
                OVERRIDE_FILES
                    .iter()
                    .map(|n| d.join(n))
                    .find(|p| p.is_file()),
            );
            return Ok(files);
        }
        dir = d.parent();
    }
    Err(Error::NoComposeFile {
        dir: opts.working_dir.clone(),
    })
}

/// Variables from `--env-file`s or the project's `.env`, expanded against
/// the process environment.
fn dotenv_vars(opts: &LoadOptions, project_dir: &Path) -> Result<BTreeMap<String, String>, Error> {
    let files: Vec<PathBuf> = if opts.env_files.is_empty() {
        let default = project_dir.join(".env");
        if default.is_file() {
            vec![default]
        } else {
            Vec::new()
        }
    } else {
        opts.env_files
            .iter()
            .map(|f| paths::clean(&opts.working_dir.join(f)))
            .collect()
    };
    let lookup = |k: &str| opts.env.get(k).cloned();
    let mut vars = BTreeMap::new();
    for path in files {
        let shown = paths::display(&path, &opts.working_dir);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            file: shown.clone(),
            source,
        })?;
        let values = parse_dotenv(&text, &lookup).map_err(|(line, message)| Error::EnvFile {
            file: shown,
            line,
            message,
        })?;
        vars.extend(values);
    }
    Ok(vars)
}

/// `-p`, else `COMPOSE_PROJECT_NAME`, else `name:`, else the directory's
/// name; normalized.
fn project_name(
    opts: &LoadOptions,
    vars: &BTreeMap<String, String>,
    merged: &Value,
    sources: &[Source],
    project_dir: &Path,
) -> Result<String, Error> {
    let non_empty = |s: &&String| !s.is_empty();
    if let Some(name) = opts.project_name.as_ref().filter(non_empty) {
        return normalize_project_name(name);
    }
    if let Some(name) = vars.get("COMPOSE_PROJECT_NAME").filter(non_empty) {
        return normalize_project_name(name);
    }
    match merged.get("name") {
        Some(Value::String(name)) if !name.is_empty() => return normalize_project_name(name),
        Some(Value::String(_) | Value::Null) | None => {}
        Some(Value::Number(n)) => return normalize_project_name(&n.to_string()),
        Some(_) => {
            let file = sources
                .iter()
                .rev()
                .find(|s| s.tree.get("name").is_some())
                .map(|s| s.display.clone());
            return Err(Error::Invalid {
                file: file.unwrap_or_default(),
                path: "name".to_string(),
                value: None,
                message: "the project name must be a string: write name: NAME".to_string(),
            });
        }
    }
    let dir_name = project_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    normalize_project_name(&dir_name)
}
