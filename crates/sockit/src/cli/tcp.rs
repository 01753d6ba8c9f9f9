//! `sockit tcp ...` command-line definitions.

use clap::Subcommand;

/// TCP subcommands.
#[derive(Debug, Subcommand)]
pub enum TcpCommand {}
