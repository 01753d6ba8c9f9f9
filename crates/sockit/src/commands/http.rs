//! Runs `sockit http` commands.

use crate::cli::http as args;

/// Runs a `sockit http` subcommand.
pub fn run(cmd: args::HttpCommand, _verbose: u8) -> anyhow::Result<()> {
    match cmd {}
}
