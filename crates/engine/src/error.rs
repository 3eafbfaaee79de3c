use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Image(#[from] husk_image::Error),
    #[error(transparent)]
    Layers(#[from] husk_layers::Error),
    #[error(transparent)]
    Fs(#[from] husk_fs::Error),
    #[error(transparent)]
    Network(#[from] husk_network::Error),
    #[error(transparent)]
    Registry(#[from] husk_registry::Error),
    #[error(transparent)]
    Cgroups(#[from] husk_cgroups::Error),
    #[error(transparent)]
    Compose(#[from] husk_compose::Error),
    #[error("config {}: {reason}", path.display())]
    Config { path: PathBuf, reason: String },
    #[error(
        "template parsing error: {reason} in {format:?} (Go template syntax, as docker's --format)"
    )]
    Template { format: String, reason: String },
    #[error("encode {what}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("decode {}", path.display())]
    Decode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("no such container: {name}")]
    NoSuchContainer { name: String },
    #[error("multiple containers match {prefix:?}: give more of the id")]
    AmbiguousContainer { prefix: String },
    #[error("invalid container name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-]+ are allowed")]
    InvalidName { name: String },
    #[error("the container name \"/{name}\" is already in use by container {id}: remove or rename that container to reuse the name")]
    NameInUse { name: String, id: String },
    #[error("invalid value {value:?} for {flag}: {reason}")]
    InvalidFlag {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("no command specified for container {id}: give one after the image name")]
    NoCommand { id: String },
    #[error("container {id}: {reason}")]
    Conflict { id: String, reason: String },
    #[error("compose project {project}: {reason}")]
    ComposeConflict { project: String, reason: String },
    #[error("network {name}: {reason}")]
    NetworkConflict { name: String, reason: String },
    #[error("user {user:?} in container {id}: {reason}")]
    User {
        id: String,
        user: String,
        reason: String,
    },
    #[error("spawn {what}")]
    Spawn {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("runtime {op} of container {id} failed: {msg}")]
    Runtime {
        op: &'static str,
        id: String,
        msg: String,
    },
    #[error("start container {id}: {msg}")]
    Start { id: String, msg: String, code: i32 },
    /// docker's words for an exec whose command cannot run (127: not
    /// found, 126: not executable).
    #[error("exec failed: unable to start container process: {msg}")]
    Exec { msg: String, code: i32 },
    #[error("no such volume: {name}")]
    NoSuchVolume { name: String },
    #[error("remove {name}: volume is in use by container(s) {containers}: remove them first")]
    VolumeInUse { name: String, containers: String },
    /// A build that cannot go on: bad Dockerfile input, a context escape,
    /// a missing source (one line naming the thing and the fix).
    #[error("{msg}")]
    Build { msg: String },
    /// A RUN step's command failed: the build stops with its exit code.
    #[error("{step}: the command returned a non-zero code: {code}")]
    BuildStep { step: String, code: i32 },
    /// The build was interrupted (Ctrl-C, SIGTERM); what it made is undone.
    #[error("build interrupted: its containers, mounts and temp files are removed")]
    Interrupted,
    #[error("no process {pid} on this host: give a PID as the host sees it (ps -e lists them)")]
    NoSuchProcess { pid: i32 },
    #[error("process {pid} is not in a husk container (its cgroup is {cgroup})")]
    NotInContainer { pid: i32, cgroup: String },
    /// A verb's own refusal, in docker's words where docker has them
    /// (`cp` to a path that is not there, `rename` to the same name, a
    /// prune filter it does not know).
    #[error("{msg}")]
    Refused { msg: String },
    #[error("{op} for container {id}: {errno}")]
    Sys {
        op: &'static str,
        id: String,
        errno: nix::errno::Errno,
    },
}

impl Error {
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The exit status `husk run`/`start` use for this error: docker's 125
    /// for the engine's own failures, 126/127 when the command cannot run.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Start { code, .. } | Error::Exec { code, .. } => *code,
            Error::BuildStep { code, .. } => *code,
            Error::Interrupted => 130,
            _ => 125,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
