//! `al-cli`: a thin command-line layer over the al libraries.

mod checked;
mod cli;
mod commands;
mod output;
mod plugins;
mod prompt;

use clap::Parser;

fn main() {
    quiet_on_closed_stdout();
    let cli = cli::Cli::parse();
    if let Err(err) = commands::run(cli) {
        eprintln!("error: {}", al::error_message(&err));
        // A command stopped by Ctrl-C ends as the shell expects (128 + SIGINT).
        let interrupted = al::error_kind(&err) == al::ErrorKind::Interrupted;
        std::process::exit(if interrupted { 130 } else { 1 });
    }
}

/// `al-cli status | head`: when the reader of standard output goes away,
/// `println!` panics on the broken pipe; end quietly instead, with the
/// status a shell reports for a command ended by SIGPIPE (128 + 13).
/// SIGPIPE itself stays ignored (Rust's default): a plugin that exits
/// before reading its request must be an error al-cli reports, not a signal
/// that kills it. Writes to the project are transactions, so ending
/// mid-print loses nothing committed and applies nothing halfway.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
