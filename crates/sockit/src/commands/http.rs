//! Runs `sockit http` commands.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use anyhow::Context;
use sockit::http::config::{parse_auth_arg, parse_header_arg, Spread};
use sockit::http::{parse_size, LogFormat, ServeConfig};
use sockit::UsageError;

use crate::cli::http::{self as args, LogFormatArg, SpreadArg};

/// Runs a `sockit http` subcommand.
pub fn run(cmd: args::HttpCommand, verbose: u8) -> anyhow::Result<()> {
    match cmd {
        args::HttpCommand::Serve(a) => serve(a, verbose),
    }
}

fn resolve_bind(bind: &str, port: u16) -> Result<SocketAddr, UsageError> {
    let trimmed = bind.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    (bind, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| UsageError::new(format!("invalid --bind address {bind:?}")))
}

fn serve(a: args::ServeArgs, verbose: u8) -> anyhow::Result<()> {
    let addr = resolve_bind(&a.bind, a.port)?;
    if !a.dir.is_dir() {
        return Err(UsageError::new(format!("{} is not a folder", a.dir.display())).into());
    }
    let headers = a
        .headers
        .iter()
        .map(|h| parse_header_arg(h))
        .collect::<Result<Vec<_>, _>>()?;
    let auth = a.auth.as_deref().map(parse_auth_arg).transpose()?;
    let max_upload = parse_size(&a.max_upload)?;
    if a.header_timeout == 0 || a.idle_timeout == 0 {
        return Err(UsageError::new("timeouts must be at least 1 second").into());
    }
    if a.max_connections == 0 || a.workers == Some(0) {
        return Err(UsageError::new("--max-connections and --workers must be at least 1").into());
    }
    let mut config = ServeConfig {
        root: a.dir.clone(),
        addr,
        write: a.write,
        allow_trace: a.allow_trace,
        cors: a.cors,
        spa: a.spa,
        hidden: a.hidden,
        follow_symlinks: a.follow_symlinks,
        compress: a.compress,
        headers,
        auth,
        max_upload,
        header_timeout: Duration::from_secs(a.header_timeout),
        idle_timeout: Duration::from_secs(a.idle_timeout),
        max_connections: a.max_connections,
        log: match (a.quiet, a.log_format) {
            (true, _) => LogFormat::Off,
            (false, LogFormatArg::Common) => LogFormat::Common,
            (false, LogFormatArg::Json) => LogFormat::Json,
        },
        events: crate::ui::events(verbose, crate::ui::EventFormat::Text),
        spread: match a.spread {
            SpreadArg::Cpu => Spread::Cpu,
            SpreadArg::Hash => Spread::Hash,
        },
        ..ServeConfig::default()
    };
    if let Some(w) = a.workers {
        config.workers = w;
    }
    sockit::http::serve(config).with_context(|| format!("cannot serve on {addr}"))
}
