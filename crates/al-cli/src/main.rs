//! `al-cli`: a thin command-line layer over the al libraries.

mod checked;
mod cli;
mod commands;
mod output;
mod plot;
mod plugins;
mod prompt;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    if let Err(err) = commands::run(cli) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
