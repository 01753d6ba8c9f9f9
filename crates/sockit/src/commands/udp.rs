//! Runs `sockit udp` commands.

use crate::cli::udp as args;

/// Runs a `sockit udp` subcommand.
pub fn run(cmd: args::UdpCommand, _verbose: u8) -> anyhow::Result<()> {
    match cmd {}
}
