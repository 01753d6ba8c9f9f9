//! `sockit info` and `sockit demo ...` command-line definitions.

use clap::{Args, Subcommand};

/// Options of `sockit info`.
#[derive(Debug, Args)]
pub struct InfoArgs {}

/// Demonstrations.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {}
