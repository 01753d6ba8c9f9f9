//! Wiring from parsed command lines to library calls: one file per command group.
//!
//! These functions connect stdin/stdout to the library and choose the runtime; the
//! networking itself lives in the library modules.

pub mod completions;
pub mod http;
pub mod misc;
pub mod relay;
pub mod scan;
pub mod structs;
pub mod tcp;
pub mod transfer;
pub mod udp;
pub mod wire;

/// Writes a command's whole output to stdout. A failed write (a full disk, a reader that
/// went away) is an error: the output did not arrive, so the command must not exit 0.
pub(crate) fn write_stdout(data: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(data)
        .and_then(|()| out.flush())
        .context("write stdout")
}
