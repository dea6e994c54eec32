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
        eprintln!("error: {}", message(&err));
        std::process::exit(1);
    }
}

/// The error and its causes, skipping a cause its parent already quotes
/// (an I/O error inside "cannot read FILE: ..." would read twice).
fn message(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
