//! `sockit pack`, `sockit unpack` and `sockit calcsize` command-line definitions.

use clap::Args;

/// Options of `sockit pack`.
#[derive(Debug, Args)]
pub struct PackArgs {}

/// Options of `sockit unpack`.
#[derive(Debug, Args)]
pub struct UnpackArgs {}

/// Options of `sockit calcsize`.
#[derive(Debug, Args)]
pub struct CalcsizeArgs {}
