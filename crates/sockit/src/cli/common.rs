//! Option groups shared by several commands: socket buffers, TCP options, framing.

use std::time::Duration;

use clap::Args;
use sockit::frame::{Framing, DEFAULT_MAX_FRAME};
use sockit::net::addr::{parse_bind_addr, HostPort};
use sockit::net::values::{parse_buffer_size, parse_secs, parse_size};

fn parse_framing(text: &str) -> Result<Framing, String> {
    text.parse()
}

/// Socket buffer sizes (any socket).
#[derive(Debug, Clone, Args)]
pub struct SocketArgs {
    /// Set SO_SNDBUF, the kernel send buffer, in bytes (suffixes K, M allowed).
    ///
    /// Linux doubles the value for its own bookkeeping and reports the double (see -v);
    /// it is capped by net.core.wmem_max.
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true, value_parser = parse_buffer_size)]
    pub sndbuf: Option<usize>,

    /// Set SO_RCVBUF, the kernel receive buffer, in bytes (suffixes K, M allowed).
    ///
    /// Set before connect/listen, so it also sizes the TCP window offered in the
    /// handshake. Linux doubles the value; capped by net.core.rmem_max.
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true, value_parser = parse_buffer_size)]
    pub rcvbuf: Option<usize>,
}

/// TCP-only socket options.
#[derive(Debug, Clone, Args)]
pub struct TcpOptionArgs {
    /// Set TCP_NODELAY: send small writes at once instead of merging them (Nagle's
    /// algorithm). Lower latency for interactive traffic, more packets.
    #[arg(long)]
    pub nodelay: bool,

    /// Set SO_KEEPALIVE: probe an idle connection so a vanished peer is noticed; with
    /// =SECS (--keepalive=30), the idle time before the first probe (TCP_KEEPIDLE).
    #[arg(
        long,
        value_name = "SECS",
        num_args = 0..=1,
        require_equals = true,
        value_parser = parse_secs
    )]
    pub keepalive: Option<Option<Duration>>,
}

/// Message framing on a TCP stream.
#[derive(Debug, Clone, Args)]
pub struct FrameArgs {
    /// How messages are delimited on the stream: raw, line, null, len16, len32, varint,
    /// struct:FMT, fixed:N.
    ///
    /// raw (default) passes bytes through as they arrive. With any other framing each
    /// input line (without its newline) is sent as one message and each received message
    /// is printed as one line, whatever way TCP merged or split the data ("sticky
    /// packets"). line/null end each message with \n / NUL; len16/len32 put a 2/4-byte
    /// big-endian length before it; varint an unsigned LEB128 length; struct:FMT a length
    /// packed with a Python struct format holding one integer, as Python's
    /// struct.pack('!I', len(msg)) + msg does ('struct:!I', 'struct:<H'; quote it in the
    /// shell); fixed:N cuts messages of exactly N bytes.
    #[arg(long, value_name = "FRAMING", default_value = "raw", value_parser = parse_framing)]
    pub frame: Framing,

    /// Largest message accepted or sent, in bytes (suffixes K, M, G). A longer frame
    /// ends that connection with an error instead of being buffered.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FRAME, allow_hyphen_values = true, value_parser = parse_size)]
    pub max_frame: usize,
}

/// The local source address of an outgoing socket.
#[derive(Debug, Clone, Args)]
pub struct BindArgs {
    /// Source address to bind before connecting or sending: ADDR or ADDR:PORT
    /// ([V6] or [V6]:PORT for IPv6). Without a port the kernel picks one.
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_bind_addr)]
    pub bind: Option<HostPort>,
}
