//! Command-line definitions (clap derive) with their full `--help` texts.
//!
//! Only definitions live here: no I/O, no networking. Each command group has its own file;
//! `main.rs` dispatches the parsed [`Cli`] to the matching module under `commands/`.

pub mod common;
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

use clap::{Parser, Subcommand};

/// sockit: netcat, socat, a static HTTP server and Python's `struct`, in one fast binary.
#[derive(Debug, Parser)]
#[command(
    name = "sockit",
    version,
    disable_help_subcommand = true,
    about = "A network toolkit: TCP/UDP clients and servers, framing, struct records, HTTP/1.1 and TLS, file transfer, scans and relays, packet tracing",
    long_about = None,
    after_help = "Exit codes: 0 success, 1 runtime or network failure, 2 usage or bad input; the HTTP client adds 3 (malformed or truncated response) and 4 (HTTP error status under --fail)."
)]
pub struct Cli {
    /// On commands that open sockets: print each socket's details (family, type, fd, local
    /// and peer address, options) and connection events; -vv adds debug logs (buffer sizes
    /// granted, resolution, each connect attempt, receive batches).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every top-level command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// TCP client and server (like netcat, with framing and many clients).
    #[command(subcommand)]
    Tcp(tcp::TcpCommand),
    /// UDP sender and listener, including broadcast.
    #[command(subcommand)]
    Udp(udp::UdpCommand),
    /// HTTP/1.1 server and client.
    #[command(subcommand)]
    Http(http::HttpCommand),
    /// Send files and folders to a `sockit recv`, verified (BLAKE3) and resumable.
    Send(transfer::SendArgs),
    /// Receive files from `sockit send` into a folder, safely.
    Recv(transfer::RecvArgs),
    /// Pack values into bytes with a Python `struct` format.
    Pack(structs::PackArgs),
    /// Unpack bytes into values with a Python `struct` format.
    Unpack(structs::UnpackArgs),
    /// Print the size in bytes of a Python `struct` format.
    Calcsize(structs::CalcsizeArgs),
    /// Forward every connection accepted on LISTEN to TARGET (port forwarding, like socat).
    #[command(
        long_about = "Forward every connection accepted on LISTEN to a new connection to TARGET, \
copying bytes both ways, like socat TCP-LISTEN:... TCP:.... Endpoints: tcp-listen:[HOST:]PORT \
(HOST defaults to 127.0.0.1, so nothing is exposed by accident) or unix-listen:PATH to accept; \
tcp:HOST:PORT or unix:PATH to connect. A half-close on either side is passed through (the \
other side's writing direction is shut down and the copy the other way goes on), so request \
and answer protocols work through the relay. Each connection's close is reported with its \
byte counts. A failing target or connection ends only that connection. Ctrl-C or SIGTERM \
stops accepting and gives open connections 2 s.",
        after_help = "Examples:\n  \
sockit relay tcp-listen:8080 tcp:127.0.0.1:80              forward local 8080 to 80\n  \
sockit relay unix-listen:/tmp/web.sock tcp:127.0.0.1:8000  a Unix socket in front of a TCP server\n  \
sockit relay tcp-listen:9000 unix:/run/app.sock --json     TCP in front of a Unix socket"
    )]
    Relay(relay::RelayArgs),
    /// Scan ports of one host: which are open, closed or filtered (like nc -z).
    #[command(
        long_about = "Scan ports of one host, like nc -z: a TCP connect scan (the handshake \
completes: open; a reset: closed; no answer in time: filtered), or with -u a UDP scan (an \
empty datagram; a reply: open; an ICMP port-unreachable: closed; silence: open|filtered). \
Only the one address given is contacted, at most --concurrency ports at once, each for at \
most --timeout. Open ports are printed one per line (--all: every port), then a summary \
line on stderr. Exit 0 when at least one port is open (or open|filtered), 1 when none is, \
2 for bad input.",
        after_help = "Examples:\n  \
sockit scan 127.0.0.1 22,80,8000-8100\n  \
sockit scan localhost 1-1024 --timeout 200ms\n  \
sockit scan 127.0.0.1 53,123 -u --all\n  \
sockit scan 127.0.0.1 8000-8010 --json"
    )]
    Scan(scan::ScanArgs),
    /// Print the default options of fresh TCP and UDP sockets.
    Info(misc::InfoArgs),
    /// Demonstrations of networking concepts on loopback.
    #[command(subcommand)]
    Demo(misc::DemoCommand),
    /// Capture packets on an interface and explain them (raw AF_PACKET socket + BPF).
    Trace(wire::TraceArgs),
    /// List TCP and UDP sockets with their states, queues and processes (like ss).
    Sockets(wire::SocketsArgs),
    /// Send ICMP echo requests and time the replies.
    Ping(wire::PingArgs),
    /// List network interfaces: addresses, prefixes, broadcast addresses, MTU, flags.
    Ifaces(wire::IfacesArgs),
    /// Print what getaddrinfo returns for a name.
    Resolve(wire::ResolveArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        long_about = completions::COMPLETIONS_LONG_ABOUT,
        after_help = completions::COMPLETIONS_AFTER_HELP
    )]
    Completions(completions::CompletionsArgs),
    /// Print sockit's manual page (roff), generated from these same definitions.
    #[command(long_about = completions::MANPAGE_LONG_ABOUT)]
    Manpage(completions::ManpageArgs),
    /// Print the help of sockit or of one of its commands (`sockit help tcp listen`).
    Help(HelpArgs),
}

/// Options of `sockit help`.
#[derive(Debug, clap::Args)]
pub struct HelpArgs {
    /// The command whose help to print, as words: `tcp listen`, `pack`. None: sockit's.
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}
