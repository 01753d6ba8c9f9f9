//! `sockit udp ...` command-line definitions.

use clap::Subcommand;

/// UDP subcommands.
#[derive(Debug, Subcommand)]
pub enum UdpCommand {}
