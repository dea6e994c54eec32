//! One module per subcommand.

mod demo;
mod init;
mod status;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(args) => init::run(&cli.global, *args),
        Command::Status => status::run(&cli.global),
        Command::Demo(args) => demo::run(&cli.global, args),
    }
}
