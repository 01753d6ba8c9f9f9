//! Runs `sockit misc` commands.

use crate::cli::misc as args;

/// Runs `sockit info`.
pub fn info(_args: args::InfoArgs, _verbose: u8) -> anyhow::Result<()> {
    anyhow::bail!("sockit info is not implemented yet")
}

/// Runs a `sockit demo` subcommand.
pub fn demo(cmd: args::DemoCommand, _verbose: u8) -> anyhow::Result<()> {
    match cmd {}
}
