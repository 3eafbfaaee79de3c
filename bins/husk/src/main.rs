//! `husk`: docker's command line over the husk engine. Thin by design: each
//! command parses, calls the library, prints; errors are one line on
//! stderr. Image commands exit 1 on error; `run`/`create`/`start` use
//! docker's 125 for the engine's own errors (126/127 when the command
//! cannot run), and a foreground `run` exits with the container's code.

mod build;
mod cli;
mod compose;
mod containers;
mod events;
mod files;
mod images;
mod networks;
mod observe;
mod output;
mod prune;
mod pull;
mod push_output;
mod registry;
mod snapshot;
mod update;
mod usage;
mod volumes;
mod xray;

use cli::{Command, ContainerCommand, ImageCommand, NetworkCommand, SystemCommand, VolumeCommand};
use husk_engine::store::Paths;

fn main() {
    // What husk creates (container dirs, the overlay's upper dir that
    // becomes the container's `/`, volumes, /etc files, layers) must not
    // depend on the caller's umask: a 077 one would lock every non-root
    // user of the container out of its own root. podman does the same.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    let cli = usage::parse();
    let root = cli.root.as_path();
    let paths = Paths::new(root, &cli.runroot).with_config(cli.config.clone());
    let ok = |r: anyhow::Result<()>| r.map(|()| 0);
    // Before any command touches them: no other user may reach what images
    // and containers keep in the root and runroot (setuid files, devices).
    let secured = paths.secure();
    let result = match &cli.command {
        _ if secured.is_err() => secured.map(|()| 0).map_err(Into::into),
        Command::Build(a) => build::build(&paths, a),
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => ok(images::import(root, a)),
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => ok(images::load(root, a)),
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => ok(pull::pull(&paths, a)),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => ok(images::save(root, a)),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => ok(images::images(root, a)),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => ok(images::rmi(root, a)),
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => ok(images::tag(root, a)),
        Command::History(a) | Command::Image(ImageCommand::History(a)) => {
            ok(images::history(root, a))
        }
        Command::Image(ImageCommand::Inspect(a)) => ok(images::inspect(root, a)),
        Command::Image(ImageCommand::Prune(a)) => ok(images::prune(root, a)),
        Command::Run(a) => containers::run(&paths, a),
        Command::Create(a) => containers::create(&paths, a),
        Command::Start(a) => containers::start(&paths, a),
        Command::Ps(a) => containers::ps(&paths, a),
        Command::Inspect(a) => containers::inspect(root, &paths, a),
        Command::Logs(a) => containers::logs(&paths, a),
        Command::Stop(a) => containers::stop(&paths, a),
        Command::Kill(a) => containers::kill(&paths, a),
        Command::Rm(a) => containers::rm(&paths, a),
        Command::Exec(a) => containers::exec(&paths, a),
        Command::Wait(a) => containers::wait(&paths, a),
        Command::Pause(a) => containers::pause(&paths, a),
        Command::Unpause(a) => containers::unpause(&paths, a),
        Command::Restart(a) => containers::restart(&paths, a),
        Command::Volume(VolumeCommand::Create(a)) => volumes::create(root, a),
        Command::Volume(VolumeCommand::Ls(a)) => volumes::ls(root, a),
        Command::Volume(VolumeCommand::Inspect(a)) => volumes::inspect(root, a),
        Command::Volume(VolumeCommand::Rm(a)) => volumes::rm(root, a),
        Command::Network(NetworkCommand::Create(a)) => networks::create(&paths, a),
        Command::Network(NetworkCommand::Ls(a)) => networks::ls(&paths, a),
        Command::Network(NetworkCommand::Inspect(a)) => networks::inspect(&paths, a),
        Command::Network(NetworkCommand::Rm(a)) => networks::rm(&paths, a),
        Command::Network(NetworkCommand::Prune(a)) => networks::prune(&paths, a),
        Command::Network(NetworkCommand::Connect(a)) => networks::connect(&paths, a),
        Command::Network(NetworkCommand::Disconnect(a)) => networks::disconnect(&paths, a),
        Command::Compose(a) => compose::compose(&paths, a),
        Command::Port(a) => containers::port(&paths, a),
        Command::Update(a) => update::update(&paths, a),
        Command::Monitor {
            id, resume: true, ..
        } => Ok(husk_engine::monitor::restart::resume(&paths, id)),
        Command::Monitor {
            id,
            stdin,
            detach_keys,
            ..
        } => Ok(containers::monitor(
            &paths,
            id,
            *stdin,
            detach_keys.as_deref(),
        )),
        Command::Attach(a) => containers::attach(&paths, a),
        Command::Login(a) => ok(registry::login(&paths, a)),
        Command::Logout(a) => ok(registry::logout(a)),
        Command::Push(a) => ok(registry::push(&paths, a)),
        Command::Commit(a) => ok(snapshot::commit(&paths, a)),
        Command::Diff(a) => ok(snapshot::diff(&paths, a)),
        Command::Export(a) => ok(snapshot::export(&paths, a)),
        Command::XRay(a) => ok(xray::xray(&paths, a)),
        Command::Which(a) => ok(xray::which(&paths, a)),
        Command::Why(a) => ok(xray::why(&paths, a)),
        Command::Cp(a) => files::cp(&paths, a),
        Command::Rename(a) => files::rename(&paths, a),
        Command::Container(ContainerCommand::Prune(a)) => prune::containers(&paths, a),
        Command::Volume(VolumeCommand::Prune(a)) => prune::volumes(&paths, a),
        Command::System(SystemCommand::Prune(a)) => prune::system(&paths, a),
        Command::Events(a) | Command::System(SystemCommand::Events(a)) => events::events(&paths, a),
        Command::Top(a) => observe::top(&paths, a),
        Command::Stats(a) => observe::stats(&paths, a),
        Command::Info(a) | Command::System(SystemCommand::Info(a)) => observe::info(&paths, a),
        Command::Version(a) => observe::version(a),
        Command::System(SystemCommand::Df(a)) => observe::df(&paths, a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("husk: {}", error_line(&e));
            let code = match &cli.command {
                Command::Run(_)
                | Command::Create(_)
                | Command::Start(_)
                | Command::Exec(_)
                | Command::Attach(_) => e
                    .downcast_ref::<husk_engine::Error>()
                    .map(|e| e.exit_code())
                    .unwrap_or(125),
                // A failing RUN's own code; 130 after Ctrl-C.
                Command::Build(_) => match e.downcast_ref::<husk_engine::Error>() {
                    Some(
                        e
                        @ (husk_engine::Error::BuildStep { .. } | husk_engine::Error::Interrupted),
                    ) => e.exit_code(),
                    _ => 1,
                },
                _ => 1,
            };
            std::process::exit(code);
        }
    }
}

/// The error and its causes on one line, joined by ": " (our error types
/// keep their cause out of their message, so each is said once), with
/// control characters escaped, so a hostile file name or archive cannot
/// break the line or drive the terminal.
fn error_line(e: &anyhow::Error) -> String {
    let line = format!("{e:#}");
    line.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}
