//! Command-line shape: docker's command names and flags.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "husk",
    version,
    about = "A daemonless docker-compatible container engine"
)]
pub struct Cli {
    /// Engine root: images, layers, containers.
    #[arg(
        long,
        global = true,
        env = "HUSK_ROOT",
        default_value = "/var/lib/husk"
    )]
    pub root: PathBuf,
    /// Volatile state: bundles and the OCI runtime's state (gone after a reboot).
    #[arg(long, global = true, env = "HUSK_RUNROOT", default_value = "/run/husk")]
    pub runroot: PathBuf,
    /// Engine config file (default /etc/husk/config.toml when present)
    #[arg(long, global = true, env = "HUSK_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Build an image from a Dockerfile
    Build(BuildArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(ImportArgs),
    /// Load an image from a tar archive or STDIN
    Load(LoadArgs),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// List images
    Images(ImagesArgs),
    /// Remove one or more images
    Rmi(RmiArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Create and run a new container from an image
    Run(RunArgs),
    /// Create a new container
    Create(CreateArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// List containers
    Ps(PsArgs),
    /// Return low-level information on containers (or images)
    Inspect(InspectArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Remove one or more containers
    Rm(RmArgs),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(WaitArgs),
    /// Pause all processes within one or more containers
    Pause(WaitArgs),
    /// Unpause all processes within one or more containers
    Unpause(WaitArgs),
    /// Restart one or more containers
    Restart(StopArgs),
    /// Manage volumes
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Define and run multi-container applications (Compose files)
    Compose(crate::compose::ComposeArgs),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Update configuration of one or more containers
    Update(UpdateArgs),
    /// The per-container monitor (started by `start`; not for humans)
    #[command(name = "__monitor", hide = true)]
    Monitor {
        id: String,
        /// fd 4 is the container's stdin
        #[arg(long)]
        stdin: bool,
        /// Key sequence that detaches the attached terminal
        #[arg(long)]
        detach_keys: Option<String>,
        /// Take over a running container whose monitor died
        #[arg(long)]
        resume: bool,
    },
    /// Attach to a running container's output (and wait for its exit)
    Attach(AttachArgs),
    /// Authenticate to a registry (defaults to Docker Hub)
    Login(LoginArgs),
    /// Log out from a registry (defaults to Docker Hub)
    Logout(LogoutArgs),
    /// Upload an image to a registry
    Push(PushArgs),
    /// Create a new image from a container's changes
    Commit(CommitArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(DiffArgs),
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
    /// Show a running container as the kernel sees it: processes, namespaces, cgroups, layers, network, capabilities
    #[command(name = "x-ray")]
    XRay(XRayArgs),
    /// Show which container a host process belongs to (from its cgroup)
    Which(WhichArgs),
    /// Say why a container stopped or failed to start
    Why(WhyArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(CpArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage husk
    #[command(subcommand)]
    System(SystemCommand),
    /// Get real time events from the server
    Events(EventsArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(StatsArgs),
    /// Display system-wide information
    Info(FormatArgs),
    /// Show the husk version information
    Version(FormatArgs),
}

#[derive(Args)]
pub struct XRayArgs {
    /// Format output: 'json' (the text is for people)
    #[arg(long)]
    pub format: Option<String>,
    pub container: String,
}

#[derive(Args)]
pub struct WhichArgs {
    /// A process id as the host sees it
    pub pid: i32,
}

#[derive(Args)]
pub struct WhyArgs {
    /// Format output: 'json' (the text is for people)
    #[arg(long)]
    pub format: Option<String>,
    pub container: String,
}

#[derive(Args)]
pub struct CommitArgs {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short, long)]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long = "change")]
    pub change: Vec<String>,
    /// Commit message
    #[arg(short, long)]
    pub message: Option<String>,
    /// Pause container during commit (-p=false to not pause)
    #[arg(short, long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true)]
    pub pause: bool,
    pub container: String,
    /// REPOSITORY[:TAG]
    pub name: Option<String>,
}

#[derive(Args)]
pub struct DiffArgs {
    pub container: String,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    pub container: String,
}

#[derive(Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q)
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// Proxy received signals to the process (--sig-proxy=false to disable)
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true)]
    pub sig_proxy: bool,
    #[command(flatten)]
    pub create: CreateArgs,
}

#[derive(Args)]
pub struct AttachArgs {
    /// Do not attach STDIN (only a -it container's stdin can be attached)
    #[arg(long)]
    pub no_stdin: bool,
    /// Proxy all received signals to the process (--sig-proxy=false to disable)
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true)]
    pub sig_proxy: bool,
    pub container: String,
}

#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    /// Print help (`-h` is --hostname, as in docker)
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Set meta data on a container
    #[arg(short, long = "label")]
    pub label: Vec<String>,
    /// Memory limit (e.g. 400m)
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Tune container pids limit (-1 for unlimited)
    #[arg(long)]
    pub pids_limit: Option<i64>,
    /// Number of CPUs
    #[arg(long)]
    pub cpus: Option<f64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<i64>,
    /// Connect a container to a network: bridge (default), none, host, container:NAME or a network made with `husk network create` (repeat to join several networks)
    #[arg(long, alias = "net")]
    pub network: Vec<String>,
    /// Publish a container's port(s) to the host: [IP:][HOSTPORT:]CPORT[/PROTO]
    #[arg(short = 'p', long)]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random host ports
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33), on a --ipv6 network
    #[arg(long)]
    pub ip6: Option<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long)]
    pub mac_address: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias")]
    pub network_alias: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long)]
    pub add_host: Vec<String>,
    /// Set custom DNS servers
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// OCI runtime binary (default: husk-runtime next to husk)
    #[arg(long)]
    pub runtime: Option<PathBuf>,
    /// Security options: no-new-privileges[:true|false], seccomp=unconfined|PROFILE.json
    #[arg(long)]
    pub security_opt: Vec<String>,
    /// Bind mount a volume: [HOST-PATH|NAME:]CONTAINER-PATH[:OPTIONS]
    #[arg(short, long = "volume")]
    pub volume: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long)]
    pub read_only: bool,
    /// Add Linux capabilities
    #[arg(long)]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long)]
    pub cap_drop: Vec<String>,
    /// Keep STDIN open: the container reads husk's stdin (foreground run)
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Read in a file of environment variables
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    /// Attach a filesystem mount: type=bind|volume|tmpfs,source=,target=[,readonly]
    #[arg(long)]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory: PATH[:OPTIONS]
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long)]
    pub memory_reservation: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Ulimit options: NAME=SOFT[:HARD]
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// Signal to stop the container
    #[arg(long)]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long, allow_negative_numbers = true)]
    pub stop_timeout: Option<i64>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Logging driver for the container (json-file)
    #[arg(long)]
    pub log_driver: Option<String>,
    /// Log driver options: max-size=SIZE (default 20m, -1 for no rotation), max-file=N (default 5)
    #[arg(long)]
    pub log_opt: Vec<String>,
    #[command(flatten)]
    pub health: HealthArgs,
    /// Restart policy to apply when a container exits: no, on-failure[:N], always, unless-stopped
    #[arg(long)]
    pub restart: Option<String>,
    /// Pull image before running: missing, always or never
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing)]
    pub pull: PullPolicy,
    /// Set platform if server is multi-platform capable: OS/ARCH[/VARIANT]
    #[arg(long)]
    pub platform: Option<String>,
    /// Add a host device to the container: HOST[:CONTAINER[:rwm]]
    #[arg(long)]
    pub device: Vec<String>,
    /// Add a rule to the cgroup allowed devices list: 'c 1:3 mr'
    #[arg(long)]
    pub device_cgroup_rule: Vec<String>,
    /// Add additional groups to join
    #[arg(long)]
    pub group_add: Vec<String>,
    /// Sysctl options: KEY=VALUE (namespaced ones only)
    #[arg(long)]
    pub sysctl: Vec<String>,
    /// Size of /dev/shm (default 64m)
    #[arg(long)]
    pub shm_size: Option<String>,
    /// IPC mode: none, private, shareable, host or container:NAME
    #[arg(long)]
    pub ipc: Option<String>,
    /// PID namespace: host or container:NAME
    #[arg(long)]
    pub pid: Option<String>,
    /// UTS namespace: host
    #[arg(long)]
    pub uts: Option<String>,
    /// Cgroup namespace: host or private
    #[arg(long)]
    pub cgroupns: Option<String>,
    /// Parent cgroup for the container
    #[arg(long)]
    pub cgroup_parent: Option<String>,
    /// Write the container ID to the file
    #[arg(long)]
    pub cidfile: Option<PathBuf>,
    /// Attach to STDIN, STDOUT or STDERR
    #[arg(short = 'a', long)]
    pub attach: Vec<String>,
    /// Disable OOM Killer
    #[arg(long)]
    pub oom_kill_disable: bool,
    /// Tune host's OOM preferences (-1000 to 1000)
    #[arg(long, allow_negative_numbers = true)]
    pub oom_score_adj: Option<i64>,
    /// Tune container memory swappiness (0 to 100, -1 for the kernel's)
    #[arg(long, allow_negative_numbers = true)]
    pub memory_swappiness: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long, allow_negative_numbers = true)]
    pub cpu_quota: Option<i64>,
    /// Limit CPU real-time runtime in microseconds
    #[arg(long)]
    pub cpu_rt_runtime: Option<i64>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long)]
    pub blkio_weight: Option<i64>,
    /// Block IO weight (relative device weight): DEVICE:WEIGHT
    #[arg(long)]
    pub blkio_weight_device: Vec<String>,
    /// Limit read rate (bytes per second) from a device: DEVICE:RATE
    #[arg(long)]
    pub device_read_bps: Vec<String>,
    /// Limit write rate (bytes per second) to a device: DEVICE:RATE
    #[arg(long)]
    pub device_write_bps: Vec<String>,
    /// Limit read rate (IO per second) from a device: DEVICE:N
    #[arg(long)]
    pub device_read_iops: Vec<String>,
    /// Limit write rate (IO per second) to a device: DEVICE:N
    #[arg(long)]
    pub device_write_iops: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long)]
    pub label_file: Vec<PathBuf>,
    /// Add an annotation to the container (passed through to the OCI runtime)
    #[arg(long)]
    pub annotation: Vec<String>,
    /// Mount volumes from the specified container(s): NAME[:ro|rw]
    #[arg(long)]
    pub volumes_from: Vec<String>,
    /// Container NIS domain name
    #[arg(long)]
    pub domainname: Option<String>,
    /// Expose a port or a range of ports
    #[arg(long)]
    pub expose: Vec<String>,
    /// Set DNS options
    #[arg(long)]
    pub dns_option: Vec<String>,
    /// IMAGE [COMMAND] [ARG...]: one list, so that flag parsing stops at
    /// the image as docker's does (`run busybox sh -c ...`).
    #[arg(
        value_name = "IMAGE [COMMAND] [ARG...]",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub image_and_cmd: Vec<String>,
}

/// `run`/`create`'s healthcheck flags: values are checked by the engine,
/// so a bad one gets husk's one-line error and exit 125.
#[derive(Args)]
pub struct HealthArgs {
    /// Command to run to check health
    #[arg(long)]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s)
    #[arg(long, allow_hyphen_values = true)]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s)
    #[arg(long, allow_hyphen_values = true)]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long, allow_hyphen_values = true)]
    pub health_retries: Option<String>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)
    #[arg(long, allow_hyphen_values = true)]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h) (default 0s)
    #[arg(long, allow_hyphen_values = true)]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long)]
    pub no_healthcheck: bool,
}

#[derive(Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short, long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q)
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// Start every container its restart policy would bring back after a reboot
    #[arg(long, conflicts_with_all = ["attach", "interactive"])]
    pub all_restartable: bool,
    #[arg(required_unless_present = "all_restartable")]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long, allow_negative_numbers = true)]
    pub cpu_quota: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long)]
    pub cpus: Option<f64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Memory limit
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Memory soft limit
    #[arg(long)]
    pub memory_reservation: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long, allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Only display container IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output: 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Filter output: id=, name=, status=, label=, exited=, ancestor=
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last")]
    pub last: Option<usize>,
    /// Show the latest created container (includes all states)
    #[arg(short, long)]
    pub latest: bool,
    /// Display total file sizes
    #[arg(short, long)]
    pub size: bool,
    /// Show only the container host process PID belongs to
    #[arg(long)]
    pub pid: Option<i32>,
}

#[derive(Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs ("all" for all)
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long, allow_hyphen_values = true)]
    pub since: Option<String>,
    /// Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long, allow_hyphen_values = true)]
    pub until: Option<String>,
    pub container: String,
}

#[derive(Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container (default: the
    /// container's --stop-timeout, else 10; -1 waits forever)
    #[arg(short, long, alias = "timeout", allow_negative_numbers = true)]
    pub time: Option<i64>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short, long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Keep STDIN open
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// CONTAINER COMMAND [ARG...]
    #[arg(
        value_name = "CONTAINER COMMAND [ARG...]",
        required = true,
        num_args = 2..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub container_and_cmd: Vec<String>,
}

#[derive(Args)]
pub struct PortArgs {
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}

#[derive(Args)]
pub struct WaitArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Subcommand)]
pub enum ImageCommand {
    Import(ImportArgs),
    Load(LoadArgs),
    Pull(PullArgs),
    Save(SaveArgs),
    #[command(alias = "list")]
    Ls(ImagesArgs),
    #[command(alias = "remove")]
    Rm(RmiArgs),
    Tag(TagArgs),
    History(HistoryArgs),
    /// Display detailed information on one or more images
    Inspect(InspectArgs),
    /// Remove unused images
    Prune(PruneArgs),
}

#[derive(Args)]
pub struct BuildArgs {
    /// Name and optionally a tag in the 'name:tag' format
    #[arg(short, long = "tag")]
    pub tag: Vec<String>,
    /// Name of the Dockerfile (default: 'PATH/Dockerfile'; - for STDIN)
    #[arg(short, long)]
    pub file: Option<PathBuf>,
    /// Set build-time variables
    #[arg(long)]
    pub build_arg: Vec<String>,
    /// Set the target build stage to build
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use cache when building the image
    #[arg(long)]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image
    #[arg(long)]
    pub pull: bool,
    /// Networking mode for the RUN instructions: bridge (default), none or host
    #[arg(long)]
    pub network: Option<String>,
    /// Set metadata for an image
    #[arg(long)]
    pub label: Vec<String>,
    /// Set platform if server is multi-platform capable (this machine's only)
    #[arg(long)]
    pub platform: Option<String>,
    /// Suppress the build output and print image ID on success
    #[arg(short, long)]
    pub quiet: bool,
    /// Write the image ID to the file
    #[arg(long)]
    pub iidfile: Option<PathBuf>,
    /// Build context: a directory, or - for a tar archive on STDIN
    pub context: String,
}

#[derive(Args)]
pub struct ImportArgs {
    /// Tarball (tar, tar.gz, tar.zst) or - for STDIN
    pub file: String,
    /// REPOSITORY[:TAG]
    pub reference: Option<String>,
    /// Set commit message for imported image
    #[arg(short, long)]
    pub message: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullPolicy {
    Missing,
    Always,
    Never,
}

#[derive(Args)]
pub struct PullArgs {
    /// Download all tagged images in the repository
    #[arg(short = 'a', long)]
    pub all_tags: bool,
    /// Set platform if server is multi-platform capable: OS/ARCH[/VARIANT]
    #[arg(long)]
    pub platform: Option<String>,
    /// Suppress verbose output
    #[arg(short, long)]
    pub quiet: bool,
    /// NAME[:TAG|@DIGEST]
    pub name: String,
}

#[derive(Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short, long)]
    pub input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SaveFormat {
    DockerArchive,
    OciArchive,
}

#[derive(Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "docker-archive")]
    pub format: SaveFormat,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args)]
pub struct ImagesArgs {
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'
    #[arg(long)]
    pub format: Option<String>,
    /// Filter output (only dangling=true|false for now)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Show all images (default hides intermediate images: a build's unnamed steps)
    #[arg(short, long)]
    pub all: bool,
    /// REPOSITORY[:TAG]
    pub reference: Option<String>,
}

#[derive(Args)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Args)]
pub struct HistoryArgs {
    #[arg(short, long)]
    pub quiet: bool,
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(long)]
    pub format: Option<String>,
    pub image: String,
}

#[derive(Args)]
pub struct InspectArgs {
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(VolumeCreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(VolumeLsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(alias = "remove")]
    Rm(VolumeRmArgs),
    /// Remove unused local volumes
    Prune(VolumePruneArgs),
}

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(NetworkCreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(NetworkLsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(alias = "remove")]
    Rm(NetworkRmArgs),
    /// Remove all unused networks
    Prune(NetworkPruneArgs),
    /// Connect a container to a network
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network
    Disconnect(NetworkDisconnectArgs),
}

#[derive(Args)]
pub struct NetworkConnectArgs {
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33), on a --ipv6 network
    #[arg(long)]
    pub ip6: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long)]
    pub alias: Vec<String>,
    pub network: String,
    pub container: String,
}

#[derive(Args)]
pub struct NetworkDisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short, long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}

#[derive(Args)]
pub struct NetworkCreateArgs {
    /// Driver to manage the Network (only bridge)
    #[arg(short, long, default_value = "bridge")]
    pub driver: String,
    /// Subnet in CIDR format that represents a network segment (one IPv4
    /// and, with --ipv6, one IPv6)
    #[arg(long)]
    pub subnet: Vec<String>,
    /// IPv4 or IPv6 Gateway for the master subnet of its family
    #[arg(long)]
    pub gateway: Vec<String>,
    /// Allocate container ip from a sub-range (one per family)
    #[arg(long)]
    pub ip_range: Vec<String>,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Enable IPv6 networking
    #[arg(long)]
    pub ipv6: bool,
    /// Set metadata on a network
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options (com.docker.network.bridge.name, com.docker.network.driver.mtu)
    #[arg(short, long)]
    pub opt: Vec<String>,
    pub name: String,
}

#[derive(Args)]
pub struct NetworkLsArgs {
    /// Only display network IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate the output
    #[arg(long)]
    pub no_trunc: bool,
    /// Provide filter values (name=, id=, driver=, label=, type=custom|builtin)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Format output: 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct NetworkRmArgs {
    /// Do not error if the network does not exist
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(Args)]
pub struct NetworkPruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args)]
pub struct VolumeCreateArgs {
    /// Volume driver name (only local)
    #[arg(short, long, default_value = "local")]
    pub driver: String,
    /// Set metadata for a volume
    #[arg(long)]
    pub label: Vec<String>,
    /// Volume name (generated when absent)
    pub name: Option<String>,
}

#[derive(Args)]
pub struct VolumeLsArgs {
    /// Only display volume names
    #[arg(short, long)]
    pub quiet: bool,
    /// Format output: 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct VolumeRmArgs {
    /// Force the removal of one or more volumes (accepted; in-use volumes are still refused)
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub volumes: Vec<String>,
}

#[derive(Args)]
pub struct LoginArgs {
    /// Username
    #[arg(short, long)]
    pub username: Option<String>,
    /// Password
    #[arg(short, long)]
    pub password: Option<String>,
    /// Take the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// Registry (HOST[:PORT]); Docker Hub when absent
    pub server: Option<String>,
}

#[derive(Args)]
pub struct LogoutArgs {
    /// Registry (HOST[:PORT]); Docker Hub when absent
    pub server: Option<String>,
}

#[derive(Args)]
pub struct PushArgs {
    /// Push all tags of the repository
    #[arg(short, long)]
    pub all_tags: bool,
    /// Suppress verbose output
    #[arg(short, long)]
    pub quiet: bool,
    /// NAME[:TAG]
    pub reference: String,
}

#[derive(Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// Suppress progress output during copy (it is only shown on a terminal)
    #[arg(short, long)]
    pub quiet: bool,
    /// CONTAINER:SRC_PATH, a local path, or - (a tar archive on STDIN)
    pub src: String,
    /// CONTAINER:DEST_PATH, a local path, or - (a tar archive to STDOUT)
    pub dest: String,
}

#[derive(Args)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

#[derive(Subcommand)]
pub enum ContainerCommand {
    /// Remove all stopped containers
    Prune(ContainerPruneArgs),
}

#[derive(Args)]
pub struct ContainerPruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>", "label=<key>[=<value>]")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args)]
pub struct VolumePruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short, long)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args)]
pub struct EventsArgs {
    /// Show all events created since timestamp (RFC 3339, unix seconds or a duration like 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output: type=, event=, container=, image=, label=, volume=, network=
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Format output: 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct TopArgs {
    pub container: String,
    /// ps options (default -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

#[derive(Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output: 'table', 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct FormatArgs {
    /// Format output: 'json' or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Subcommand)]
pub enum SystemCommand {
    /// Remove unused data
    Prune(SystemPruneArgs),
    /// Show husk disk usage
    Df(DfArgs),
    /// Display system-wide information
    Info(FormatArgs),
    /// Get real time events from the server
    Events(EventsArgs),
}

#[derive(Args)]
pub struct SystemPruneArgs {
    /// Remove all unused images not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Args)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    pub verbose: bool,
    /// Format output: 'table', 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
}
