//! `sockit relay` command-line definitions.

use std::time::Duration;

use clap::Args;
use sockit::relay::{parse_listen, parse_target, Listen, Target};

use super::common::{parse_duration, size_at_most};

/// Options of `sockit relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Where to accept connections: tcp-listen:[HOST:]PORT (HOST defaults to 127.0.0.1)
    /// or unix-listen:PATH.
    #[arg(value_name = "LISTEN", value_parser = parse_listen_arg)]
    pub listen: Listen,

    /// Where to connect for each accepted connection: tcp:HOST:PORT or unix:PATH.
    #[arg(value_name = "TARGET", value_parser = parse_target_arg)]
    pub target: Target,

    /// Relay at most N connections at once; more are closed on arrival, with a message.
    #[arg(long, value_name = "N", default_value_t = 1024, allow_hyphen_values = true,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Copy buffer per direction (default 256K; at most 16M): one read and one write
    /// per buffer.
    #[arg(long, value_name = "BYTES", default_value = "256K", value_parser = size_at_most(16 << 20))]
    pub buffer: usize,

    /// Give up connecting to TARGET after SECS (the client is then closed).
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// Replace a stale socket file at the unix-listen PATH (one nobody listens on). A
    /// path that is not a socket, or one a live server listens on, is never replaced.
    #[arg(long)]
    pub unlink: bool,

    /// Print events (connections, byte counts, failures) as JSON lines on stderr.
    #[arg(long)]
    pub json: bool,
}

fn parse_listen_arg(text: &str) -> Result<Listen, String> {
    parse_listen(text).map_err(|err| err.to_string())
}

fn parse_target_arg(text: &str) -> Result<Target, String> {
    parse_target(text).map_err(|err| err.to_string())
}
