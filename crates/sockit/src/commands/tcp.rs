//! Runs `sockit tcp` commands.

use crate::cli::tcp as args;

/// Runs a `sockit tcp` subcommand.
pub fn run(cmd: args::TcpCommand, _verbose: u8) -> anyhow::Result<()> {
    match cmd {}
}
