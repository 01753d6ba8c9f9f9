//! Runs `sockit tcp` commands.

use std::net::SocketAddr;

use crate::error::UsageError;
use anyhow::Context as _;
use sockit::event::{Event, Level};
use sockit::frame::Framing;
use sockit::net::addr::{
    listen_display, resolve_listen, select_source, Family, HostPort, SelectError,
};
use sockit::net::error::describe;
use sockit::net::socket::{tcp_connect, tcp_listener};
use sockit::net::{SocketInfo, SocketOptions};
use sockit::records::{pack_error, pack_input};
use sockit::stdio::{crlf, spawn_stdin, stdin_is_background_terminal, Output};
use sockit::tcp::{run_client, serve, ClientConfig, ClientError, Mode, ServerConfig, SlowClient};

use crate::cli::common::{BindArgs, SocketArgs, TcpOptionArgs};
use crate::cli::tcp as args;

/// Runs a `sockit tcp` subcommand.
pub fn run(cmd: args::TcpCommand, verbose: u8) -> anyhow::Result<()> {
    match cmd {
        args::TcpCommand::Listen(a) => listen(a, verbose),
        args::TcpCommand::Connect(a) => connect(a, verbose),
    }
}

/// Turns the shared option groups into library socket options.
pub(crate) fn socket_options(socket: &SocketArgs, tcp: Option<&TcpOptionArgs>) -> SocketOptions {
    let mut opts = SocketOptions {
        send_buffer: socket.sndbuf,
        recv_buffer: socket.rcvbuf,
        ..SocketOptions::default()
    };
    if let Some(tcp) = tcp {
        opts.nodelay = tcp.nodelay;
        if let Some(idle) = tcp.keepalive {
            opts.keepalive = true;
            opts.keepalive_idle = idle;
        }
        if let Some(idle) = tcp.keepalive_idle {
            opts.keepalive = true;
            opts.keepalive_idle = Some(idle);
        }
    }
    opts
}

/// `--bind`: the library picks the source address of the destination's family; a
/// mismatch is the user's to fix (exit 2), named with the flag.
pub(crate) async fn source_address(
    bind: &BindArgs,
    dests: &[SocketAddr],
) -> anyhow::Result<Option<SocketAddr>> {
    let Some(hp) = &bind.bind else {
        return Ok(None);
    };
    match select_source(hp, dests).await {
        Ok(addr) => Ok(Some(addr)),
        Err(SelectError::Resolve(err)) => Err(err.into()),
        Err(err) => Err(UsageError::new(format!("--bind {err}")).into()),
    }
}

/// Where to listen: resolved by the library (IPv4 first for names).
pub(crate) async fn listen_address(addr: &HostPort) -> anyhow::Result<SocketAddr> {
    Ok(resolve_listen(addr).await?)
}

/// Where to listen, of one family (`-4`/`-6`) when asked.
pub(crate) async fn listen_address_of(
    addr: &HostPort,
    family: Family,
) -> anyhow::Result<SocketAddr> {
    if family == Family::Any {
        return listen_address(addr).await;
    }
    let mut addrs = addr.resolve(None).await?;
    family.keep(&addr.to_string(), &mut addrs)?;
    Ok(addrs[0])
}

/// Builds a runtime: multi-threaded for servers, single-threaded for one stream.
pub(crate) fn runtime(multi_thread: bool) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder
        .enable_all()
        .build()
        .context("start the async runtime")
}

/// Runs a future to completion, then drops the runtime without waiting for blocking
/// threads (a name lookup stuck in getaddrinfo must not delay the exit).
pub(crate) fn block_on<T>(
    multi_thread: bool,
    fut: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let rt = runtime(multi_thread)?;
    let result = rt.block_on(fut);
    rt.shutdown_background();
    result
}

fn listen(a: args::ListenArgs, verbose: u8) -> anyhow::Result<()> {
    let mut opts = socket_options(&a.socket, Some(&a.tcp));
    opts.reuse_port = a.reuse_port;
    let mode = if a.echo {
        Mode::Echo
    } else if a.chat {
        Mode::Chat
    } else {
        Mode::Print
    };
    if let Some(st) = &a.unpack {
        a.frame.check_record("--unpack", st)?;
    }
    // --unpack without --frame: the record size is the message boundary.
    let framing = match (&a.unpack, &a.frame.frame) {
        (Some(st), Framing::Raw) => Framing::Fixed(st.size()),
        (_, framing) => framing.clone(),
    };
    let events = crate::ui::events(verbose, crate::ui::EventFormat::from_json_flag(a.json));
    let config = ServerConfig {
        mode,
        framing,
        // Chat messages are lines unless a framing is chosen: the line default applies.
        max_frame: if mode == Mode::Chat {
            a.frame.max_frame_for(&Framing::Line)
        } else {
            a.frame.max_frame
        },
        once: a.once,
        events: events.clone(),
        unpack: a.unpack.clone(),
        shutdown_on_eof: !a.no_shutdown,
        quit_after_eof: a.quit_after_eof,
        end_with_peer: std::io::IsTerminal::is_terminal(&std::io::stdin()),
        slow_client: match a.slow_client {
            args::SlowClientArg::Drop => SlowClient::Drop,
            args::SlowClientArg::Wait => SlowClient::Wait,
        },
        max_connections: a.max_connections as usize,
        buffer_budget: a.max_buffered,
        raw: a.raw,
        idle_timeout: a.idle_timeout,
    };
    block_on(true, async move {
        // Handlers first: a SIGTERM right after the ready line must stop us gracefully.
        let stop = crate::ui::signal::shutdown();
        let addr = listen_address_of(&a.addr, a.family.family()).await?;
        let listener = tcp_listener(addr, &opts)
            .map_err(|err| anyhow::anyhow!("listen on tcp {addr}: {}", describe(&err)))?;
        let local = listener.local_addr().context("getsockname")?;
        if events.wants(Level::Verbose) {
            let info = SocketInfo::of(&listener);
            events.emit(Event::verbose("socket", format!("socket {info}")));
        }
        events.emit(
            Event::info(
                "listening",
                format!("listening on tcp {}", listen_display(local)),
            )
            .with("addr", local),
        );
        // A server started with `&` from a shell must not read the terminal (SIGTTIN
        // would stop it at the first client).
        let input = (mode == Mode::Print && !stdin_is_background_terminal())
            .then(spawn_stdin)
            .map(|input| if a.crlf { crlf(input) } else { input });
        serve(listener, config, input, Output::stdout(), stop).await?;
        Ok(())
    })
}

fn connect(a: args::ConnectArgs, verbose: u8) -> anyhow::Result<()> {
    if let Some(st) = &a.pack {
        a.frame.check_record("--pack", st)?;
    }
    let mut opts = socket_options(&a.socket, Some(&a.tcp));
    let config = ClientConfig {
        framing: a.frame.frame.clone(),
        max_frame: a.frame.max_frame,
        shutdown_on_eof: !a.no_shutdown,
        idle_timeout: a.idle_timeout.or(a.timeout),
        input_messages: a.pack.is_some(),
        quit_after_eof: a.quit_after_eof,
        ignore_close: a.ignore_close,
        end_with_peer: std::io::IsTerminal::is_terminal(&std::io::stdin()),
    };
    let events = crate::ui::events(verbose, crate::ui::EventFormat::from_json_flag(a.json));
    block_on(false, async move {
        let mut addrs = a.target.resolve(a.timeout).await?;
        a.family.family().keep(&a.target.to_string(), &mut addrs)?;
        opts.bind = source_address(&a.bind, &addrs).await?;
        if let Some(local) = opts.bind {
            addrs.retain(|d| d.is_ipv4() == local.is_ipv4());
        }
        let stream = tcp_connect(&a.target.to_string(), &addrs, &opts, a.timeout).await?;
        if events.wants(Level::Verbose) {
            let info = SocketInfo::of(&stream);
            events.emit(Event::verbose("socket", format!("socket {info}")));
            if let Ok(peer) = stream.peer_addr() {
                events.emit(
                    Event::verbose("connected", format!("connected to {peer}")).with("peer", peer),
                );
            }
        }
        let input = match &a.pack {
            Some(st) => pack_input(spawn_stdin(), st.clone()),
            None if a.crlf => crlf(spawn_stdin()),
            None => spawn_stdin(),
        };
        match run_client(stream, input, Output::stdout(), &config).await {
            Err(ClientError::Stdin(err)) if pack_error(&err).is_some() => {
                Err(UsageError::new(err.to_string()).into())
            }
            result => Ok(result?),
        }
    })
}
