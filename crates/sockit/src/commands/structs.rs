//! Runs `sockit structs` commands.

use crate::cli::structs as args;

/// Runs `sockit pack`.
pub fn pack(_args: args::PackArgs) -> anyhow::Result<()> {
    anyhow::bail!("sockit pack is not implemented yet")
}

/// Runs `sockit unpack`.
pub fn unpack(_args: args::UnpackArgs) -> anyhow::Result<()> {
    anyhow::bail!("sockit unpack is not implemented yet")
}

/// Runs `sockit calcsize`.
pub fn calcsize(_args: args::CalcsizeArgs) -> anyhow::Result<()> {
    anyhow::bail!("sockit calcsize is not implemented yet")
}
