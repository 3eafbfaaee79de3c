//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong loading a project or querying it.
///
/// Every message is one line (values are shown escaped) that names the
/// file, the key path (`services.web.ports[0]`) where there is one, and says
/// what to do, so a CLI can print it as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No `-f` was given and no default file exists in the working directory
    /// or any of its parents.
    #[error("no compose file found in {} or its parents: create compose.yaml there or pass -f FILE", dir.display())]
    NoComposeFile { dir: PathBuf },

    /// A compose file, `.env` file or `env_file` could not be read.
    #[error("{file}: cannot read: {source}: check the path and its permissions")]
    Read {
        file: String,
        source: std::io::Error,
    },

    /// The file is not valid YAML.
    #[error("{file}: {message}: fix the YAML syntax there")]
    Yaml { file: String, message: String },

    /// A line of a `.env` or `env_file` file is malformed.
    #[error("{file}:{line}: {message}")]
    EnvFile {
        file: String,
        line: usize,
        message: String,
    },

    /// A value is of the wrong type or form, or refers to something that
    /// does not exist. `value` is the offending scalar, when it is one.
    #[error("{file}: {path}{}: {message}", show_value(value))]
    Invalid {
        file: String,
        path: String,
        value: Option<String>,
        message: String,
    },

    /// `${VAR:?message}` or `${VAR?message}` with the variable missing.
    #[error(
        "{file}: {path}: required variable {variable} is missing a value: {}",
        required_hint(message)
    )]
    MissingVariable {
        file: String,
        path: String,
        variable: String,
        message: String,
    },

    /// The project name normalizes to nothing.
    #[error("project name {name:?} has no letter or digit: pass -p NAME, set COMPOSE_PROJECT_NAME or the top-level name:")]
    ProjectName { name: String },

    /// A service named on the command line is not in the project.
    #[error("no such service: {name:?}: the project's services are {known}")]
    UnknownService { name: String, known: String },

    /// `depends_on` names a service the project does not define.
    #[error("service {service:?} depends on undefined service {dependency:?}: define it or remove it from depends_on")]
    UnknownDependency { service: String, dependency: String },

    /// A required dependency is disabled by its profiles.
    #[error("service {service:?} depends on {dependency:?}, which is disabled by its profiles [{}]: pass --profile {} or name {dependency:?} too", profiles.join(", "), profiles.first().map(String::as_str).unwrap_or_default())]
    DisabledDependency {
        service: String,
        dependency: String,
        profiles: Vec<String>,
    },

    /// `depends_on` goes round in a circle, shown as `a -> b -> a`.
    #[error("dependency cycle between services: {cycle}: remove one of these depends_on entries")]
    Cycle { cycle: String },
}

fn show_value(value: &Option<String>) -> String {
    match value {
        Some(v) => format!(" {v:?}"),
        None => String::new(),
    }
}

fn required_hint(message: &str) -> String {
    if message.is_empty() {
        "set it in the environment or in .env".to_string()
    } else {
        // The author's message says what is needed; keep it on one line.
        message.replace('\n', " ")
    }
}
