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
    die_quietly_on_closed_pipe();
    let cli = cli::Cli::parse();
    if let Err(err) = commands::run(cli) {
        eprintln!("error: {}", message(&err));
        std::process::exit(1);
    }
}

/// `al-cli status | head`: when the reader of standard output goes away,
/// end as `cat` or `grep` do (by SIGPIPE, silently) instead of panicking in
/// `println!`. Rust ignores SIGPIPE by default; this restores the default.
/// Writes to the project are transactions, so ending mid-print loses nothing
/// committed and applies nothing halfway.
fn die_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread starts; setting
    // a signal's disposition to SIG_DFL has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
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
