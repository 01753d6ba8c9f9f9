//! `sockit http ...` command-line definitions.

use clap::Subcommand;

/// HTTP subcommands.
#[derive(Debug, Subcommand)]
pub enum HttpCommand {}
