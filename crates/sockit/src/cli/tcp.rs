//! `sockit tcp ...` command-line definitions.

use std::time::Duration;

use clap::{Args, Subcommand};
use sockit::net::addr::{parse_host_port, parse_listen_addr, HostPort};
use sockit::net::values::parse_secs;

use super::common::{parse_duration, BindArgs, FamilyArgs, FrameArgs, SocketArgs, TcpOptionArgs};
use super::structs::parse_record_format;

/// TCP subcommands.
#[derive(Debug, Subcommand)]
pub enum TcpCommand {
    /// Listen for TCP clients: many at once, print, echo or chat.
    #[command(
        long_about = "Listen for TCP clients and serve many at once, one task each; the server keeps \
listening after a client leaves.\n\n\
Default mode: what each client sends goes to stdout (prefixed with [ADDR:PORT] at line \
starts while more than one client is connected; byte-exact passthrough with exactly one), \
and each stdin line goes to every connected client. --echo sends each client back what it \
sent; --chat relays each client's messages to the others, like ncat --chat.\n\n\
A bare PORT listens on every IPv4 interface (0.0.0.0), like nc -l; use 127.0.0.1:PORT for \
local clients only, [::]:PORT or [::1]:PORT for IPv6. Port 0 picks a free port. When ready, \
prints 'sockit: listening on tcp ADDR:PORT' on stderr, then 'connection from' / 'closed' \
events. SO_REUSEADDR is always on, so a restarted server binds at once. Ctrl-C or SIGTERM \
closes every client and exits 0.",
        after_help = "Examples:\n  \
sockit tcp listen 8000                       print what clients send\n  \
sockit tcp listen 127.0.0.1:0 --echo         echo server on a free local port\n  \
sockit tcp listen [::]:8000 --chat           chat room over IPv4 and IPv6\n  \
sockit tcp listen 9000 --once > file         receive one upload, like nc -l\n  \
sockit tcp listen 9000 --frame len32         print each length-prefixed message as a line\n  \
sockit tcp listen 9000 --unpack i5sf         print each 16-byte record as (1, b'zhang', 1.75)\n  \
sockit tcp listen 9000 --frame 'struct:!I'   messages behind a struct.pack('!I', len) header"
    )]
    Listen(ListenArgs),

    /// Connect to a TCP server: stdin to the socket, the socket to stdout.
    #[command(
        long_about = "Connect to a TCP server and copy stdin to the socket and the socket to stdout, \
both directions at once. At the end of stdin the client half-closes the connection \
(shutdown of the writing side, like nc -N) so the server knows the request is complete, \
and exits when the server closes; --no-shutdown keeps the writing side open.\n\n\
HOST may be a name (every address it resolves to is tried in turn), an IPv4 address or \
[IPv6]. Refused, unreachable, timed-out connections and unknown names give a one-line \
error and exit code 1.",
        after_help = "Examples:\n  \
printf 'GET / HTTP/1.0\\r\\n\\r\\n' | sockit tcp connect example.org:80\n  \
sockit tcp connect localhost:8000 < file      upload a file\n  \
sockit tcp connect [::1]:8000 --timeout 5     give up after 5 s of silence\n  \
sockit tcp connect 127.0.0.1:9000 --frame len32   each stdin line is one message\n  \
echo \"1 b'zhang' 1.75\" | sockit tcp connect 127.0.0.1:9000 --pack i5sf"
    )]
    Connect(ConnectArgs),
}

/// `--slow-client`: what happens to a client that does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SlowClientArg {
    /// Disconnect it, so it cannot stall the others.
    Drop,
    /// Hold stdin back for everyone until it reads.
    Wait,
}

/// `--max-buffered SIZE`: at most 16 GiB.
fn parse_budget(text: &str) -> Result<usize, String> {
    let size = sockit::net::values::parse_size(text)?;
    if size > 16 << 30 {
        return Err(format!("'{text}': at most 16G"));
    }
    Ok(size)
}

/// `-q SECS`: 0 allowed (quit at once), at most a year.
fn parse_quit_secs(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("'{text}': expected 0 or more seconds"));
    }
    if value > 365.0 * 86400.0 {
        return Err(format!("'{text}': at most one year (31536000 seconds)"));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Options of `sockit tcp listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to listen: PORT (all IPv4 interfaces), ADDR:PORT, or [V6]:PORT.
    #[arg(value_name = "[ADDR:]PORT", value_parser = parse_listen_addr)]
    pub addr: HostPort,

    /// Send each client back what it sent (each message, with --frame).
    #[arg(long, conflicts_with = "chat")]
    pub echo: bool,

    /// Relay each client's lines to all other clients as '<user N> line', with join and
    /// leave announcements; control characters are escaped.
    #[arg(long)]
    pub chat: bool,

    /// Print each received record unpacked with a Python struct format FMT, as a tuple
    /// line: (1, b'zhang', 1.75).
    ///
    /// Without --frame each connection's bytes are cut every calcsize(FMT) bytes (16 for
    /// 'i5sf'), however TCP split or merged them; bytes left over when the client closes
    /// are reported on stderr with their count. With --frame each message is one record
    /// and must be exactly calcsize(FMT) bytes (others are reported and skipped). With
    /// --echo the records are echoed back unchanged instead of printed.
    #[arg(long, value_name = "FMT", conflicts_with = "chat", value_parser = parse_record_format)]
    pub unpack: Option<pystruct::Struct>,

    /// Accept a single client, stop listening, and exit when the connection is done in
    /// both directions (plain netcat).
    ///
    /// With stdin a pipe or a file, sockit sends all of it, half-closes at its end, and
    /// exits when the client has acknowledged every byte and closed its side; the client
    /// half-closing first does not cut the transfer short. Exit 1 if the client leaves
    /// before stdin was sent.
    #[arg(long)]
    pub once: bool,

    /// Half-close each connection at the end of stdin (the default; netcat's -N).
    #[arg(short = 'N', long = "shutdown", overrides_with = "no_shutdown")]
    pub shutdown: bool,

    /// Do not half-close connections at the end of stdin: clients get no end-of-data
    /// signal until they close themselves.
    #[arg(long)]
    pub no_shutdown: bool,

    /// Quit SECS seconds after the end of stdin, closing every client (0: as soon as stdin
    /// ends and its data is sent), like nc -q.
    #[arg(short = 'q', value_name = "SECS", allow_hyphen_values = true, value_parser = parse_quit_secs)]
    pub quit_after_eof: Option<Duration>,

    /// What to do when a client does not read the stdin lines sent to it and its queue is
    /// full: 'drop' disconnects it (with a message) so it cannot stall the others; 'wait'
    /// holds stdin back for everyone until it reads. A lone client is always waited for.
    #[arg(long, value_enum, value_name = "POLICY", default_value = "drop")]
    pub slow_client: SlowClientArg,

    /// Serve at most N clients at once; further connections are closed at once, with a
    /// message.
    #[arg(long, value_name = "N", default_value_t = 1024, allow_hyphen_values = true, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Memory for unfinished messages (lines without their newline, partly received
    /// frames) of all clients together; the client that would exceed it is disconnected.
    /// Suffixes K, M, G.
    #[arg(long, value_name = "SIZE", default_value = "64M", allow_hyphen_values = true, value_parser = parse_budget)]
    pub max_buffered: usize,

    /// Write what clients send byte for byte: no [ADDR:PORT] prefixes, no escaping of
    /// control bytes, no newline added after framed messages.
    #[arg(long)]
    pub raw: bool,

    /// Print events (listening, connections, errors) as JSON lines on stderr.
    #[arg(long)]
    pub json: bool,

    /// Close a connection with no traffic in either direction for SECS (500ms, 2m, ...;
    /// at most a year), with a message; the server goes on.
    #[arg(short = 'i', long, value_name = "SECS", allow_hyphen_values = true, value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,

    /// Set SO_REUSEPORT: several servers may listen on the same port; the kernel spreads
    /// connections between them.
    #[arg(long)]
    pub reuse_port: bool,

    #[command(flatten)]
    pub frame: FrameArgs,

    #[command(flatten)]
    pub socket: SocketArgs,

    #[command(flatten)]
    pub tcp: TcpOptionArgs,

    #[command(flatten)]
    pub family: FamilyArgs,

    /// Send each stdin line ending \n as \r\n (for SMTP, HTTP or any CRLF protocol by
    /// hand), like nc -C.
    #[arg(short = 'C', long)]
    pub crlf: bool,
}

/// Options of `sockit tcp connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The server: HOST:PORT or [V6]:PORT.
    #[arg(value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub target: HostPort,

    /// Pack each stdin line with a Python struct format FMT and send the record.
    ///
    /// A line holds the values as Python literals separated by whitespace: 1 b'zhang'
    /// 1.75 for 'i5sf' (quoted bytes may contain spaces: b'hello world'). Blank lines are
    /// skipped. Records go out as raw bytes (calcsize(FMT) each), or as one message each
    /// with --frame. A line that cannot be packed (wrong number of values, a value out of
    /// range, a bad literal) stops the client with its line number and exit code 2; the
    /// records before it have been sent.
    #[arg(long, value_name = "FMT", value_parser = parse_record_format)]
    pub pack: Option<pystruct::Struct>,

    /// Keep the writing side open at the end of stdin (no half-close); exit only when
    /// the server closes.
    #[arg(long, overrides_with = "shutdown")]
    pub no_shutdown: bool,

    /// Half-close at the end of stdin (the default; netcat's -N).
    #[arg(short = 'N', long = "shutdown")]
    pub shutdown: bool,

    /// Quit SECS seconds after the end of stdin even if the server has not closed (0: as
    /// soon as stdin is sent), like nc -q.
    #[arg(short = 'q', value_name = "SECS", allow_hyphen_values = true, value_parser = parse_quit_secs)]
    pub quit_after_eof: Option<Duration>,

    /// The server closing before all of stdin was sent is not an error (exit 0). Without
    /// it sockit says how many bytes were not sent and exits 1.
    #[arg(long)]
    pub ignore_close: bool,

    /// Print events as JSON lines on stderr.
    #[arg(long)]
    pub json: bool,

    /// Close the connection after SECS with no traffic in either direction (exit 1), like
    /// the idle part of --timeout but without limiting the connect.
    #[arg(short = 'i', long, value_name = "SECS", allow_hyphen_values = true, value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,

    /// Give up connecting after SECS, and close the connection after SECS without data
    /// in either direction (fractions allowed: 0.5).
    #[arg(long, short = 'w', value_name = "SECS", allow_hyphen_values = true, value_parser = parse_secs)]
    pub timeout: Option<Duration>,

    #[command(flatten)]
    pub bind: BindArgs,

    #[command(flatten)]
    pub frame: FrameArgs,

    #[command(flatten)]
    pub socket: SocketArgs,

    #[command(flatten)]
    pub tcp: TcpOptionArgs,

    #[command(flatten)]
    pub family: FamilyArgs,

    /// Send each stdin line ending \n as \r\n (for SMTP, HTTP or any CRLF protocol by
    /// hand), like nc -C.
    #[arg(short = 'C', long)]
    pub crlf: bool,
}
