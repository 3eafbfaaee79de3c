//! `husk`: docker's command line over the husk engine. Thin by design: each
//! command parses, calls the library, prints; errors are one line on stderr
//! and exit status 1, as docker's image commands do.

mod cli;
mod images;

use clap::Parser;

use cli::{Cli, Command, ImageCommand};

fn main() {
    let cli = Cli::parse();
    let root = cli.root.as_path();
    let result = match &cli.command {
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => images::import(root, a),
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => images::load(root, a),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => images::save(root, a),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => images::images(root, a),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => images::rmi(root, a),
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => images::tag(root, a),
        Command::History(a) | Command::Image(ImageCommand::History(a)) => images::history(root, a),
        Command::Image(ImageCommand::Inspect(a)) => images::inspect(root, a),
        Command::Image(ImageCommand::Prune(a)) => images::prune(root, a),
    };
    if let Err(e) = result {
        eprintln!("husk: {e:#}");
        std::process::exit(1);
    }
}
