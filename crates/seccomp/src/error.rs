use libseccomp::error::SeccompError;

/// Every message starts with `seccomp:` and names the profile field at fault (JSON spelling,
/// e.g. `syscalls[3].args[0].op`), so the runtime can print it as is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The profile asks for something we reject before building anything.
    #[error("seccomp: {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// libseccomp refused a step of the build.
    #[error("seccomp: {field}: {op}")]
    Build {
        field: String,
        op: &'static str,
        #[source]
        source: SeccompError,
    },
    /// Moving the generated BPF program out of libseccomp failed.
    #[error("seccomp: export bpf program: {op}")]
    Export {
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("seccomp: filter has {len} bpf instructions, the kernel takes at most {max}")]
    TooLarge { len: usize, max: usize },
    #[error(
        "seccomp: load filter: permission denied (set no_new_privs or keep CAP_SYS_ADMIN until the filter is loaded)"
    )]
    LoadDenied,
    #[error("seccomp: load filter with SECCOMP_FILTER_FLAG_TSYNC: thread {tid} could not be synchronized")]
    Tsync { tid: libc::c_long },
    #[error("seccomp: load filter")]
    Load {
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}
