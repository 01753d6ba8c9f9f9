//! Runs `sockit http` commands: flags -> [`ServeConfig`], signals -> shutdown, errors
//! -> the flag they came from.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::error::UsageError;
use anyhow::Context;
use sockit::http::{LogFormat, LogSink, ServeConfig, Server, Spread, MAX_DURATION, MAX_WORKERS};

use crate::cli::http::{self as args, LogFormatArg, SpreadArg};

mod client;

/// Runs a `sockit http` subcommand.
pub fn run(cmd: args::HttpCommand, verbose: u8) -> anyhow::Result<()> {
    match cmd {
        args::HttpCommand::Serve(a) => serve(a, verbose),
        args::HttpCommand::Get(a) => client::run("GET", false, a.client, verbose),
        args::HttpCommand::Request(a) => client::run(&a.method, true, a.client, verbose),
        args::HttpCommand::Raw(a) => client::raw(a, verbose),
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

/// `--header 'Name: value'`, checked by the library's rules and named by its flag.
fn parse_header_arg(text: &str) -> Result<(String, String), UsageError> {
    let bad =
        |why: &dyn std::fmt::Display| UsageError::new(format!("invalid --header {text:?}: {why}"));
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| bad(&"expected 'Name: value'"))?;
    let (name, value) = (name.trim(), value.trim());
    sockit::http::check_header(name, value).map_err(|e| bad(&e))?;
    Ok((name.to_string(), value.to_string()))
}

/// `--auth user:pass`, split at the first colon.
fn parse_auth_arg(text: &str) -> Result<(String, String), UsageError> {
    match text.split_once(':') {
        Some((user, pass)) if !user.is_empty() => Ok((user.to_string(), pass.to_string())),
        _ => Err(UsageError::new(format!(
            "invalid --auth {text:?}: expected user:password"
        ))),
    }
}

/// A timeout flag in seconds: at least 1, at most one year.
fn seconds(flag: &str, secs: u64) -> Result<Duration, UsageError> {
    let max = MAX_DURATION.as_secs();
    if secs == 0 || secs > max {
        return Err(UsageError::new(format!(
            "{flag}: must be between 1 and {max} seconds (one year), not {secs}"
        )));
    }
    Ok(Duration::from_secs(secs))
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
    let max_upload = sockit::net::values::parse_byte_count(&a.max_upload)
        .map_err(|why| UsageError::new(format!("--max-upload: {why}")))?;
    let header_timeout = seconds("--header-timeout", a.header_timeout)?;
    let idle_timeout = seconds("--idle-timeout", a.idle_timeout)?;
    if a.max_connections == 0 {
        return Err(UsageError::new("--max-connections: must be at least 1").into());
    }
    if let Some(w) = a.workers.filter(|&w| w == 0 || w > MAX_WORKERS) {
        return Err(UsageError::new(format!(
            "--workers: must be between 1 and {MAX_WORKERS}, not {w}"
        ))
        .into());
    }
    let events = crate::ui::events(verbose, crate::ui::EventFormat::Text);
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
        header_timeout,
        idle_timeout,
        max_connections: a.max_connections,
        log: match (a.quiet, a.log_format) {
            (true, _) => LogFormat::Off,
            (false, LogFormatArg::Common) => LogFormat::Common,
            (false, LogFormatArg::Json) => LogFormat::Json,
        },
        log_to: LogSink::new(std::io::stderr()),
        events: events.clone(),
        spread: match a.spread {
            SpreadArg::Cpu => Spread::Cpu,
            SpreadArg::Hash => Spread::Hash,
        },
        ..ServeConfig::default()
    };
    if let Some(w) = a.workers {
        config.workers = w;
    }
    let tls = tls_setup(&a, addr)?;
    if let Some(t) = &tls {
        // The engine listens on a private loopback port; TLS is terminated in front of
        // it (sockit::tls::front) on the address the user asked for.
        config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        let inner = config.events.clone();
        let public = t.public;
        let root = a.dir.display().to_string();
        config.events = sockit::event::Events::new(sockit::event::Level::Debug, move |e| {
            if e.kind == "listening" {
                inner.emit(
                    sockit::event::Event::info(
                        "listening",
                        format!("serving {root} on https://{public}/"),
                    )
                    .with("addr", public),
                );
            } else {
                inner.emit(e.clone());
            }
        });
    }
    let server = Server::bind(config).with_context(|| format!("cannot serve on {addr}"))?;
    if let Some(t) = tls {
        sockit::tls::front::spawn(t.listener, t.config, server.local_addr(), events.clone())
            .context("cannot start the TLS front")?;
    }
    // Install the handlers before the startup line: a supervisor (or a test) that sends
    // SIGTERM as soon as it reads it must get a graceful stop, not death by signal.
    let first = signals::install(server.handle()).context("cannot install signal handlers")?;
    server
        .run_until(first)
        .with_context(|| format!("cannot serve on {addr}"))
}

/// The TLS side of `http serve`: the public listener and the rustls config.
struct TlsServe {
    listener: std::net::TcpListener,
    public: SocketAddr,
    config: std::sync::Arc<rustls::ServerConfig>,
}

fn tls_setup(a: &args::ServeArgs, addr: SocketAddr) -> anyhow::Result<Option<TlsServe>> {
    let (chain, key) = if let (Some(cert), Some(key)) = (&a.tls_cert, &a.tls_key) {
        let chain = sockit::tls::load_certs(cert)
            .map_err(|e| UsageError::new(format!("--tls-cert {e}")))?;
        let key =
            sockit::tls::load_key(key).map_err(|e| UsageError::new(format!("--tls-key {e}")))?;
        (chain, key)
    } else if a.tls_self_signed {
        let mut names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        if !addr.ip().is_unspecified() && !names.contains(&addr.ip().to_string()) {
            names.push(addr.ip().to_string());
        }
        let made = sockit::tls::server::SelfSigned::generate(&names)?;
        let path = match &a.tls_ca_out {
            Some(p) => p.clone(),
            None => std::env::temp_dir().join(format!("sockit-ca-{}.pem", std::process::id())),
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        std::io::Write::write_all(&mut file, made.ca_pem.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        crate::ui::event(format!(
            "TLS certificate for {} (SHA-256 {}); clients trust the CA in {} (sockit http get --cacert {p}, curl --cacert {p})",
            names.join(", "),
            made.fingerprint,
            path.display(),
            p = path.display()
        ));
        (made.chain, made.key)
    } else {
        return Ok(None);
    };
    let config = sockit::tls::server::config(chain, key, &[b"http/1.1"])
        .map_err(|e| UsageError::new(format!("TLS: {e}")))?;
    let listener = sockit::net::socket::std_tcp_listener(addr, &Default::default())
        .with_context(|| format!("cannot serve on {addr}"))?;
    let public = listener.local_addr().context("cannot serve")?;
    Ok(Some(TlsServe {
        listener,
        public,
        config,
    }))
}

/// Ctrl-C and SIGTERM for `http serve`: the first starts a graceful shutdown, a second
/// one means "now" (exit 130 after removing unfinished uploads).
mod signals {
    use std::future::Future;

    use sockit::http::Handle;
    use tokio::signal::unix::{signal, Signal, SignalKind};

    /// Registers the handlers now and returns a future completing at the first signal.
    pub fn install(handle: Handle) -> std::io::Result<impl Future<Output = ()> + Send> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (mut term, mut int) = {
            let _guard = rt.enter();
            (
                signal(SignalKind::terminate())?,
                signal(SignalKind::interrupt())?,
            )
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("sockit-signals".into())
            .spawn(move || {
                rt.block_on(async {
                    next(&mut term, &mut int).await;
                    // Not `eprintln!`: with stderr gone (a closed pipe) it would panic
                    // this thread and the server would never shut down.
                    crate::ui::event(
                        "shutting down (finishing in-flight requests; again to force)",
                    );
                    let _ = tx.send(());
                    // A second Ctrl-C / SIGTERM means "now": do not make the user wait.
                    next(&mut term, &mut int).await;
                    handle.abandon();
                    crate::ui::event("forced exit");
                    std::process::exit(130);
                })
            })?;
        Ok(async move {
            let _ = rx.await;
        })
    }

    async fn next(term: &mut Signal, int: &mut Signal) {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    }
}
