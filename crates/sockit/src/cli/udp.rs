//! `sockit udp ...` command-line definitions.

use std::time::Duration;

use clap::{Args, Subcommand};
use sockit::net::addr::{parse_host_port, parse_listen_addr, HostPort};
use sockit::udp::{MAX_BUFFER, MAX_DATAGRAM_V6};

use super::common::{parse_duration, size_at_most, BindArgs, FamilyArgs, SocketArgs};
use super::structs::parse_record_format;

/// `--pack`/`--unpack` for UDP: a record is one datagram, so it must fit in one
/// (65527 bytes over IPv6, 65507 over IPv4; the send checks the family's limit).
fn parse_datagram_record(text: &str) -> Result<pystruct::Struct, String> {
    let st = parse_record_format(text)?;
    if st.size() > MAX_DATAGRAM_V6 {
        return Err(format!(
            "a record of {} bytes cannot fit in one UDP datagram (at most {MAX_DATAGRAM_V6} bytes)",
            st.size()
        ));
    }
    Ok(st)
}

/// UDP subcommands.
#[derive(Debug, Subcommand)]
pub enum UdpCommand {
    /// Receive datagrams and print each with its sender, or echo them.
    #[command(
        allow_negative_numbers = true,
        long_about = "Bind a UDP socket and print every datagram with its sender (recvfrom), one line \
each: '[127.0.0.1:40000] hello'. In these lines a datagram stays on one line whatever it \
holds: newlines, other control bytes, backslashes and invalid UTF-8 are shown escaped \
(\\n, \\r, \\t, \\\\, \\xNN; one trailing newline just ends the line), so a sender cannot \
forge a second '[sender]' line or send escape sequences to your terminal; valid UTF-8 \
text is shown as is. --raw prints only the payload bytes, byte-exact; --echo sends each \
datagram back to its sender (sendto) instead.\n\n\
A datagram longer than --buffer is detected (MSG_TRUNC) and reported on stderr with its \
real size, never silently cut. The socket asks for a 4 MiB receive buffer (SO_RCVBUF, \
capped by net.core.rmem_max; --rcvbuf overrides) so bursts are not dropped while the \
listener is busy printing. Broadcasts are received when bound to 0.0.0.0:PORT or to the \
broadcast address itself (e.g. 127.255.255.255:PORT).\n\n\
A bare PORT (or :PORT) listens on every IPv4 interface (0.0.0.0), like nc -l -u; the \
ready line says so: 'sockit: listening on udp 0.0.0.0:9999 (all interfaces)'. Use \
127.0.0.1:PORT for this host only. Prints 'sockit: listening on udp ADDR:PORT' on stderr \
when ready.",
        after_help = "Examples:\n  \
sockit udp listen 9999                      print datagrams with their senders (all interfaces)\n  \
sockit udp listen 127.0.0.1:9999 --echo     echo server\n  \
sockit udp listen 9999 --buffer 1024        report datagrams longer than 1 KiB\n  \
sockit udp listen 9999 --unpack i5sf        print each datagram as (1, b'zhang', 1.75)"
    )]
    Listen(UdpListenArgs),

    /// Send a datagram (or one per stdin line), optionally waiting for the reply.
    #[command(
        allow_negative_numbers = true,
        long_about = "Send MESSAGE as one datagram to HOST:PORT, or, without MESSAGE, each stdin line \
(without its newline) as one datagram. --wait-reply waits for an answer after each datagram \
and prints it; no answer within --timeout is an error (exit 1). After a broadcast, \
--wait-reply listens for the whole --timeout and prints every answer as \"[sender] payload\", \
one per responding host (discovery); none at all is the error.\n\n\
A datagram carries at most 65507 bytes over IPv4 and 65527 over IPv6; longer messages are \
refused with the size and the limit. Sending to a broadcast address needs --broadcast \
(SO_BROADCAST); only ever broadcast to addresses you own, e.g. 127.255.255.255.",
        after_help = "Examples:\n  \
sockit udp send 127.0.0.1:9999 hello\n  \
sockit udp send localhost:9999 ping --wait-reply --timeout 2\n  \
printf 'a\\nb\\n' | sockit udp send [::1]:9999         two datagrams\n  \
sockit udp send --broadcast 127.255.255.255:9999 hi\n  \
sockit udp send -b 127.255.255.255:9999 who --wait-reply -w 1   every answer\n  \
echo \"1 b'zhang' 1.75\" | sockit udp send 127.0.0.1:9999 --pack i5sf"
    )]
    Send(UdpSendArgs),
}

/// Options of `sockit udp listen`.
#[derive(Debug, Args)]
pub struct UdpListenArgs {
    /// Where to listen: PORT (every IPv4 interface, 0.0.0.0), ADDR:PORT, or [V6]:PORT.
    #[arg(value_name = "[ADDR:]PORT", value_parser = parse_listen_addr)]
    pub addr: HostPort,

    /// Print events (listening, truncated or unreadable datagrams) as JSON lines on stderr.
    #[arg(long)]
    pub json: bool,

    /// Send each datagram back to its sender instead of printing it.
    #[arg(long)]
    pub echo: bool,

    /// Print only the payload bytes, byte-exact: no sender prefix, no escaping, no added
    /// newline.
    #[arg(long)]
    pub raw: bool,

    /// Print each datagram unpacked with a Python struct format FMT, as a tuple:
    /// [ADDR:PORT] (1, b'zhang', 1.75) (only the tuple with --raw).
    ///
    /// Each datagram must be exactly one record, calcsize(FMT) bytes; others are reported
    /// on stderr with both sizes and skipped. With --echo datagrams are echoed, not printed.
    #[arg(long, value_name = "FMT", value_parser = parse_datagram_record)]
    pub unpack: Option<pystruct::Struct>,

    /// Receive buffer in bytes (1 to 64K): longer datagrams are truncated and reported.
    /// The default, 64K, holds any datagram.
    #[arg(long, value_name = "BYTES", default_value = "65536", allow_hyphen_values = true, value_parser = size_at_most(MAX_BUFFER))]
    pub buffer: usize,

    /// Set SO_REUSEPORT: several listeners may share the port.
    #[arg(long)]
    pub reuse_port: bool,

    /// Exit after N datagrams (1 to 2^63; for scripts).
    #[arg(long, value_name = "N", allow_hyphen_values = true,
          value_parser = clap::value_parser!(u64).range(1..=(i64::MAX as u64)), conflicts_with = "once")]
    pub count: Option<u64>,

    /// Exit after the first datagram (--count 1).
    #[arg(long)]
    pub once: bool,

    /// Send each stdin line as one datagram to the sender of the last datagram received,
    /// like nc -ul (a line before any datagram arrived is reported and dropped). Every
    /// sender is served, never only the first.
    #[arg(long, conflicts_with = "echo")]
    pub reply: bool,

    /// With --reply: send each stdin line to every sender heard from in the last 5
    /// minutes (at most 1024), not only the last one.
    #[arg(long, requires = "reply")]
    pub to_all: bool,

    #[command(flatten)]
    pub socket: SocketArgs,

    #[command(flatten)]
    pub family: FamilyArgs,
}

/// Options of `sockit udp send`.
#[derive(Debug, Args)]
pub struct UdpSendArgs {
    /// The destination: HOST:PORT or [V6]:PORT.
    #[arg(value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub target: HostPort,

    /// Print events (truncated replies, -v socket details) as JSON lines on stderr.
    #[arg(long)]
    pub json: bool,

    /// The message to send as one datagram; without it, each stdin line is one datagram.
    #[arg(value_name = "MESSAGE")]
    pub message: Option<String>,

    /// Pack each stdin line (or MESSAGE) with a Python struct format FMT and send the
    /// record as one datagram.
    ///
    /// A line holds the values as Python literals separated by whitespace: 1 b'zhang'
    /// 1.75 for 'i5sf'. Blank lines are skipped. A line that cannot be packed stops the
    /// sender with its line number and exit code 2; the records before it have been sent.
    #[arg(long, value_name = "FMT", value_parser = parse_datagram_record)]
    pub pack: Option<pystruct::Struct>,

    /// Set SO_BROADCAST, allowing a broadcast destination such as 127.255.255.255.
    #[arg(long, short = 'b')]
    pub broadcast: bool,

    /// Interactive session, like nc -u: each stdin line goes out as one datagram while
    /// replies are printed as they arrive; ends when stdin has ended and no reply came
    /// for --timeout.
    #[arg(short = 'i', long, conflicts_with_all = ["wait_reply", "message", "broadcast", "pack"])]
    pub interactive: bool,

    /// After each datagram, wait for one reply and print it. With --broadcast, print
    /// every reply that arrives within --timeout as "[sender] payload" (exit 1 if none).
    #[arg(long)]
    pub wait_reply: bool,

    /// How long --wait-reply waits (and a host name may take to resolve), in seconds:
    /// fractions and units allowed (0.5, 500ms, 2m), 1 ms to one year.
    #[arg(long, short = 'w', value_name = "SECS", default_value = "5", allow_hyphen_values = true, value_parser = parse_duration)]
    pub timeout: Duration,

    /// Receive buffer for replies, in bytes (1 to 64K; the default holds any datagram).
    #[arg(long, value_name = "BYTES", default_value = "65536", allow_hyphen_values = true, value_parser = size_at_most(MAX_BUFFER))]
    pub buffer: usize,

    #[command(flatten)]
    pub bind: BindArgs,

    #[command(flatten)]
    pub socket: SocketArgs,

    #[command(flatten)]
    pub family: FamilyArgs,
}
