//! Runs `sockit udp` commands.

use crate::error::UsageError;
use anyhow::Context as _;
use sockit::event::{Event, Level};
use sockit::net::addr::{listen_display, prefer_ipv4};
use sockit::net::error::describe;
use sockit::net::socket::{udp_listener, udp_sender};
use sockit::net::SocketInfo;
use sockit::records::{pack_error, pack_input, send_records};
use sockit::stdio::{no_input, spawn_stdin, Output};
use sockit::udp::listen::ListenError;
use sockit::udp::reply::ReplyTo;
use sockit::udp::{listen, send_messages, ListenConfig, SendConfig, SendError};

use super::tcp::{block_on, listen_address_of, socket_options, source_address};
use crate::cli::udp as args;

/// `SO_RCVBUF` requested for `udp listen` unless `--rcvbuf` says otherwise (the kernel caps
/// it at net.core.rmem_max).
const LISTEN_RCVBUF: usize = 4 << 20;

/// Runs a `sockit udp` subcommand.
pub fn run(cmd: args::UdpCommand, verbose: u8) -> anyhow::Result<()> {
    match cmd {
        args::UdpCommand::Listen(a) => udp_listen(a, verbose),
        args::UdpCommand::Send(a) => udp_send(a, verbose),
    }
}

fn udp_listen(a: args::UdpListenArgs, verbose: u8) -> anyhow::Result<()> {
    let mut opts = socket_options(&a.socket, None);
    opts.reuse_port = a.reuse_port;
    // UDP has no flow control: whatever arrives while the listener is not scheduled must
    // fit in the socket buffer or is dropped. A bigger default buffer absorbs bursts.
    opts.recv_buffer = opts.recv_buffer.or(Some(LISTEN_RCVBUF));
    let events = crate::ui::events(verbose, crate::ui::EventFormat::from_json_flag(a.json));
    let config = ListenConfig {
        buffer: a.buffer,
        raw: a.raw,
        echo: a.echo,
        unpack: a.unpack.clone(),
        events: events.clone(),
        count: if a.once { Some(1) } else { a.count },
        reply: match (a.reply, a.to_all) {
            (false, _) => None,
            (true, false) => Some(ReplyTo::Last),
            (true, true) => Some(ReplyTo::All),
        },
    };
    block_on(false, async move {
        // Handlers first: a SIGTERM right after the ready line must stop us gracefully.
        let stop = crate::ui::signal::shutdown();
        let addr = listen_address_of(&a.addr, a.family.family()).await?;
        let socket = udp_listener(addr, &opts)
            .map_err(|err| anyhow::anyhow!("listen on udp {addr}: {}", describe(&err)))?;
        let local = socket.local_addr().context("getsockname")?;
        if events.wants(Level::Verbose) {
            let info = SocketInfo::of(&socket);
            events.emit(Event::verbose("socket", format!("socket {info}")));
        }
        // A bare PORT listens on every interface: the ready line says so in words.
        events.emit(
            Event::info(
                "listening",
                format!("listening on udp {}", listen_display(local)),
            )
            .with("addr", local),
        );
        let output = Output::direct();
        let input = a.reply.then(spawn_stdin);
        listen(socket, &config, &output, input, stop)
            .await
            .map_err(|err| match err {
                ListenError::Recv(_) => anyhow::Error::new(err).context(format!("udp {local}")),
                ListenError::Output(_) => err.into(),
            })?;
        Ok(())
    })
}

fn udp_send(a: args::UdpSendArgs, verbose: u8) -> anyhow::Result<()> {
    let mut opts = socket_options(&a.socket, None);
    opts.broadcast = a.broadcast;
    let events = crate::ui::events(verbose, crate::ui::EventFormat::from_json_flag(a.json));
    let config = SendConfig {
        wait_reply: a.wait_reply,
        timeout: a.timeout,
        buffer: a.buffer,
        broadcast: a.broadcast,
        events: events.clone(),
    };
    block_on(false, async move {
        let mut addrs = a.target.resolve(Some(a.timeout)).await?;
        a.family.family().keep(&a.target.to_string(), &mut addrs)?;
        prefer_ipv4(&mut addrs);
        opts.bind = source_address(&a.bind, &addrs).await?;
        if let Some(local) = opts.bind {
            addrs.retain(|d| d.is_ipv4() == local.is_ipv4());
        }
        let Some(&dest) = addrs.first() else {
            anyhow::bail!("resolve {}: no addresses found", a.target);
        };
        let socket = udp_sender(dest, &opts)
            .map_err(|err| anyhow::anyhow!("udp socket for {dest}: {}", describe(&err)))?;
        let output = Output::stdout();
        let input = if a.message.is_some() {
            no_input()
        } else {
            spawn_stdin()
        };
        let result = async {
            if verbose > 0 {
                // Connect first (as sending would) so -v shows the peer address.
                sockit::udp::send::prepare(&socket, dest, &config).await?;
                let info = SocketInfo::of(&socket);
                events.emit(Event::verbose("socket", format!("socket {info}")));
            }
            if a.interactive {
                return sockit::udp::session::session(&socket, dest, input, &config, &output).await;
            }
            let message = a.message.as_deref().map(str::as_bytes);
            if let Some(st) = &a.pack {
                // MESSAGE, when given, is the one line to pack.
                let lines = match message {
                    Some(text) => one_chunk(text),
                    None => input,
                };
                let records = pack_input(lines, st.clone());
                return send_records(&socket, dest, records, &config, &output).await;
            }
            send_messages(&socket, dest, message, input, &config, &output).await
        }
        .await;
        match result {
            Ok(()) => Ok(()),
            Err(err) if err.is_usage() => Err(UsageError::new(err.to_string()).into()),
            Err(SendError::Stdin(err)) if pack_error(&err).is_some() => {
                Err(UsageError::new(err.to_string()).into())
            }
            Err(err) => Err(err.into()),
        }
    })
}

/// An input holding just `text` (a MESSAGE argument to pack like a stdin line).
fn one_chunk(text: &[u8]) -> sockit::stdio::InputChunks {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    // A fresh channel with room for one item: this cannot fail.
    let _ = tx.try_send(Ok(bytes::Bytes::copy_from_slice(text)));
    rx
}
