//! How the docker CLI runs templates, and the Go types it runs them on
//! (checked against docker 28.2.2's and 20.10.24's CLI; see tests/golden).
//!
//! - `inspect -f`: the template is parsed as given (no `\t` expansion);
//!   a parse error exits 64. Each object is executed on its Go struct
//!   first; if that fails, again on the raw JSON with `missingkey=error`,
//!   and that error is the one reported. So a missing key in a Go map
//!   (`.Config.Labels.nope`) prints `<no value>`, a missing struct field
//!   (`.State.Foo`) is `map has no entry for key "Foo"`.
//! - `ps`/`images`/`volume ls --format`: `table` is stripped, spaces
//!   trimmed, `\t`/`\n` expanded, then each row is executed on the
//!   formatter's context struct. `ps` first validates the unprocessed
//!   format on an empty context.

use serde_json::{Map, Value};

use crate::{Error, Mode, Schema, Template, Zero};

/// `types.ContainerJSON`.
pub const CONTAINER: Schema = Schema {
    root: "*types.ContainerJSON",
    maps: &[
        ("Config.Labels", Zero::Str),
        ("Config.ExposedPorts", Zero::Struct),
        ("Config.Volumes", Zero::Struct),
        ("HostConfig.PortBindings", Zero::Slice),
        ("HostConfig.LogConfig.Config", Zero::Str),
        ("HostConfig.Sysctls", Zero::Str),
        ("HostConfig.StorageOpt", Zero::Str),
        ("HostConfig.Tmpfs", Zero::Str),
        ("HostConfig.Annotations", Zero::Str),
        ("GraphDriver.Data", Zero::Str),
        ("NetworkSettings.Ports", Zero::Slice),
        ("NetworkSettings.Networks", Zero::Nil),
        ("NetworkSettings.Networks.*.DriverOpts", Zero::Str),
    ],
    slices: &[
        "Args",
        "ExecIDs",
        "Mounts",
        "Config.Cmd",
        "Config.Entrypoint",
        "Config.Env",
        "Config.OnBuild",
        "Config.Shell",
        "HostConfig.Binds",
        "HostConfig.CapAdd",
        "HostConfig.CapDrop",
        "HostConfig.CgroupnsMode",
        "HostConfig.ConsoleSize",
        "HostConfig.DeviceCgroupRules",
        "HostConfig.DeviceRequests",
        "HostConfig.Devices",
        "HostConfig.Dns",
        "HostConfig.DnsOptions",
        "HostConfig.DnsSearch",
        "HostConfig.ExtraHosts",
        "HostConfig.GroupAdd",
        "HostConfig.Links",
        "HostConfig.MaskedPaths",
        "HostConfig.Mounts",
        "HostConfig.ReadonlyPaths",
        "HostConfig.SecurityOpt",
        "HostConfig.Ulimits",
        "HostConfig.VolumesFrom",
        "HostConfig.BlkioWeightDevice",
        "HostConfig.BlkioDeviceReadBps",
        "HostConfig.BlkioDeviceWriteBps",
        "HostConfig.BlkioDeviceReadIOps",
        "HostConfig.BlkioDeviceWriteIOps",
        "NetworkSettings.SecondaryIPAddresses",
        "NetworkSettings.SecondaryIPv6Addresses",
        "NetworkSettings.Networks.*.Links",
        "NetworkSettings.Networks.*.Aliases",
        "NetworkSettings.Networks.*.DNSNames",
    ],
    context: false,
    methods: &[],
    fields: &[],
};

/// `types.ImageInspect`.
pub const IMAGE: Schema = Schema {
    root: "*types.ImageInspect",
    maps: &[
        ("Config.Labels", Zero::Str),
        ("Config.ExposedPorts", Zero::Struct),
        ("Config.Volumes", Zero::Struct),
        ("ContainerConfig.Labels", Zero::Str),
        ("ContainerConfig.ExposedPorts", Zero::Struct),
        ("ContainerConfig.Volumes", Zero::Struct),
        ("GraphDriver.Data", Zero::Str),
    ],
    slices: &[
        "RepoTags",
        "RepoDigests",
        "RootFS.Layers",
        "Config.Cmd",
        "Config.Entrypoint",
        "Config.Env",
        "Config.OnBuild",
        "Config.Shell",
        "ContainerConfig.Cmd",
        "ContainerConfig.Entrypoint",
        "ContainerConfig.Env",
        "ContainerConfig.OnBuild",
        "ContainerConfig.Shell",
    ],
    context: false,
    methods: &[],
    fields: &[],
};

/// `volume.Volume`.
pub const VOLUME: Schema = Schema {
    root: "*volume.Volume",
    maps: &[
        ("Labels", Zero::Str),
        ("Options", Zero::Str),
        ("Status", Zero::Nil),
    ],
    slices: &[],
    context: false,
    methods: &[],
    fields: &[],
};

/// `network.Inspect`.
pub const NETWORK: Schema = Schema {
    root: "*network.Inspect",
    maps: &[
        ("Containers", Zero::Nil),
        ("Labels", Zero::Str),
        ("Options", Zero::Str),
    ],
    slices: &[],
    context: false,
    methods: &[],
    fields: &[],
};

/// `docker network ls --format`'s row.
pub const NETWORKS: Schema = Schema {
    root: "*formatter.networkContext",
    maps: &[],
    slices: &[],
    context: true,
    methods: &["Label"],
    fields: &[
        "CreatedAt",
        "Driver",
        "ID",
        "IPv6",
        "Internal",
        "Labels",
        "Name",
        "Scope",
    ],
};

/// `docker ps --format`'s row.
pub const PS: Schema = Schema {
    root: "*formatter.ContainerContext",
    maps: &[],
    slices: &[],
    context: true,
    methods: &["Label"],
    fields: &[
        "Command",
        "CreatedAt",
        "ID",
        "Image",
        "Labels",
        "LocalVolumes",
        "Mounts",
        "Names",
        "Networks",
        "Ports",
        "RunningFor",
        "Size",
        "State",
        "Status",
    ],
};

/// `docker images --format`'s row.
pub const IMAGES: Schema = Schema {
    root: "*formatter.imageContext",
    maps: &[],
    slices: &[],
    context: true,
    methods: &[],
    fields: &[
        "Containers",
        "CreatedAt",
        "CreatedSince",
        "Digest",
        "ID",
        "Repository",
        "SharedSize",
        "Size",
        "Tag",
        "UniqueSize",
        "VirtualSize",
    ],
};

/// `docker history --format`'s row.
pub const HISTORY: Schema = Schema {
    root: "*formatter.historyContext",
    maps: &[],
    slices: &[],
    context: true,
    methods: &[],
    fields: &[
        "Comment",
        "CreatedAt",
        "CreatedBy",
        "CreatedSince",
        "ID",
        "Size",
    ],
};

/// `docker volume ls --format`'s row.
pub const VOLUMES: Schema = Schema {
    root: "*formatter.volumeContext",
    maps: &[],
    slices: &[],
    context: true,
    methods: &["Label"],
    fields: &[
        "Driver",
        "Labels",
        "Links",
        "Mountpoint",
        "Name",
        "Scope",
        "Size",
    ],
};

/// One object through `inspect -f`: typed first, raw with
/// `missingkey=error` when that fails.
pub fn inspect(t: &Template, v: &Value, schema: &Schema) -> Result<String, Error> {
    t.execute(v, Mode::Typed(schema)).or_else(|_| {
        t.execute(
            v,
            Mode::Raw {
                missing_key_error: true,
            },
        )
    })
}

/// What a docker command prints, and its exit status.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// `docker inspect -f FORMAT` over the objects found: each result on its
/// own line, each failure on stderr after them; 64 for a bad template;
/// `json` prints them as one JSON array.
pub fn inspect_all(format: &str, items: &[(Value, &Schema)]) -> Output {
    // The current CLI's `-f json`: the objects as one compact JSON array.
    if format == "json" {
        let objs: Vec<String> = items.iter().map(|(v, _)| v.to_string()).collect();
        return Output {
            stdout: format!("[{}]\n", objs.join(",")),
            ..Output::default()
        };
    }
    let t = match Template::parse(format) {
        Ok(t) => t,
        Err(e) => {
            return Output {
                stdout: String::new(),
                stderr: format!("template parsing error: {e}\n"),
                code: 64,
            }
        }
    };
    let mut out = Output::default();
    for (v, schema) in items {
        match inspect(&t, v, schema) {
            Ok(s) => {
                out.stdout.push_str(&s);
                out.stdout.push('\n');
            }
            Err(e) => {
                out.stderr
                    .push_str(&format!("template parsing error: {e}\n"));
                out.code = 1;
            }
        }
    }
    // docker's inspector flushes an empty buffer as one empty line.
    if out.stdout.is_empty() {
        out.stdout.push('\n');
    }
    out
}

/// A formatter's `--format` failing, in docker's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// `ps` parsing the format as given.
    #[error("failed to parse template: {0}")]
    Parse(Error),
    /// `ps` running the format on an empty row.
    #[error("failed to execute template: {0}")]
    Validate(Error),
    #[error("template parsing error: {0}")]
    Row(Error),
}

/// A formatter format after docker's preFormat: whether it is a table, and
/// the template text (`table` stripped, spaces trimmed, `\t`/`\n`
/// expanded, `json` meaning `{{json .}}`).
pub fn pre_format(format: &str) -> (bool, String) {
    if format == "json" {
        return (false, "{{json .}}".into());
    }
    let (table, rest) = match format.strip_prefix("table") {
        Some(r) => (true, r),
        None => (false, format),
    };
    let text = rest
        .trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n");
    (table, text)
}

/// An empty row of a formatter context: every field `""`.
pub fn empty_context(schema: &Schema) -> Value {
    let mut m = Map::new();
    for f in schema.fields {
        m.insert(f.to_string(), Value::String(String::new()));
    }
    for f in schema.methods {
        m.insert(f.to_string(), Value::Object(Map::new()));
    }
    Value::Object(m)
}

/// Rows rendered through a formatter format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    pub table: bool,
    pub template: Template,
    pub lines: Vec<String>,
}

/// `docker ps/images/volume ls --format FORMAT` over `rows` (each a JSON
/// object with the schema's fields). `validate` is `ps`'s check of the
/// unprocessed format on an empty row.
pub fn format_rows(
    format: &str,
    rows: &[Value],
    schema: &Schema,
    validate: bool,
) -> Result<Rows, FormatError> {
    if validate {
        let t = Template::parse(format).map_err(FormatError::Parse)?;
        t.execute(&empty_context(schema), Mode::Typed(schema))
            .map_err(FormatError::Validate)?;
    }
    let (table, text) = pre_format(format);
    let template = Template::parse(&text).map_err(FormatError::Row)?;
    let lines = rows
        .iter()
        .map(|r| template.execute(r, Mode::Typed(schema)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(FormatError::Row)?;
    Ok(Rows {
        table,
        template,
        lines,
    })
}

impl PartialEq for Template {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for Template {}
