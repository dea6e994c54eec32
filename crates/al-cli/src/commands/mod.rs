//! One module per subcommand.

pub mod catalog;
mod demo;
mod evaluate;
mod init;
mod label;
mod query;
mod report;
mod rows;
mod serve;
mod simulate;
mod status;
mod stream;
mod synthesize;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let g = &cli.global;
    if fits_models(&cli.command) {
        stop_on_ctrl_c();
    }
    match cli.command {
        Command::Init(args) => init::run(g, *args),
        Command::Status => status::run(g),
        Command::Upgrade => status::upgrade(g),
        Command::Demo(args) => demo::run(g, args),
        Command::Models => catalog::models(g),
        Command::Strategies => catalog::strategies(g),
        Command::Query(args) => query::run(g, args),
        Command::Label(args) => label::run(g, args),
        Command::Evaluate(args) => evaluate::run(g, args),
        Command::Report(args) => report::run(g, args),
        Command::Simulate(args) => simulate::run(g, args),
        Command::History(args) => label::history(g, args),
        Command::Add(args) => rows::add(g, args),
        Command::Export(args) => rows::export(g, args),
        Command::Predict(args) => rows::predict(g, args),
        Command::Plugins(args) => crate::plugins::run(g, args),
        Command::Stream(args) => stream::run(g, args),
        Command::Synthesize(args) => synthesize::run(g, args),
        Command::Serve(args) => serve::run(g, args),
    }
}

/// The commands that fit models: Ctrl-C asks them to stop at their next
/// check (between trees, members, folds and pool chunks) and they end with
/// nothing written. `simulate` keeps its finished repeats its own way;
/// `serve` and the rest end on Ctrl-C as any program does.
fn fits_models(command: &Command) -> bool {
    matches!(
        command,
        Command::Query(_)
            | Command::Label(_)
            | Command::Evaluate(_)
            | Command::Report(_)
            | Command::Predict(_)
            | Command::Stream(_)
            | Command::Synthesize(_)
    )
}

/// The first Ctrl-C asks the work to stop (`al_data::interrupt`); a second
/// one ends the process at once, as if no handler were installed.
fn stop_on_ctrl_c() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static ASKED: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| {
        if ASKED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        al::interrupt::request();
    });
}
