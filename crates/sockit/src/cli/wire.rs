//! `sockit trace`, `sockets`, `ping`, `ifaces` and `resolve`: what the kernel does below
//! the socket API.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::common::parse_duration;

/// Options of `sockit trace`.
#[derive(Debug, Args)]
#[command(
    long_about = "Capture packets with a raw AF_PACKET socket (the course's SOCK_RAW) and print one \
line per packet: seconds since the start, protocol, addresses and ports, TCP flags (SYN, SYN-ACK, \
ACK, PSH, FIN, RST) with sequence and acknowledgement numbers relative to each side's initial \
sequence number, window, payload length and a printable preview; UDP and ICMP likewise. \
Remarks say what is happening: 'handshake 1/3' .. 'handshake 3/3 ... done in 38 us', \
'close 1/4' .. 'close 4/4', 'retransmission', 'zero window', 'reset'.\n\n\
FILTER is a small tcpdump-like expression: tcp, udp, icmp, port N, host ADDR, joined by \
'and'. It is compiled to a classic BPF program attached to the socket (SO_ATTACH_FILTER), \
so the kernel drops everything else. Capturing needs root or CAP_NET_RAW; without it \
sockit says so in one line and exits 1.\n\n\
Ctrl-C (or --count, --timeout) ends the capture with a summary line; a pcap file (-w) is \
then complete.\n\n\
Examples:\n  sudo sockit trace tcp and port 9000\n  sudo sockit trace --layers --count 3 port 9000\n  \
sudo sockit trace -w conn.pcap --timeout 10 port 9000   (then: tcpdump -r conn.pcap)"
)]
pub struct TraceArgs {
    /// The interface to capture on.
    #[arg(long, short = 'i', default_value = "lo")]
    pub iface: String,
    /// Print each header field by field: link, network, transport, payload (the layers
    /// of the TCP/IP model, made concrete).
    #[arg(long)]
    pub layers: bool,
    /// Also write every captured frame to this pcap file (readable by tcpdump -r and
    /// Wireshark).
    #[arg(short = 'w', long = "write", value_name = "FILE.pcap")]
    pub write: Option<PathBuf>,
    /// Stop after this many packets (1 to 10000000).
    #[arg(long, short = 'c', allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub count: Option<u64>,
    /// Stop after this long (`10`, `1.5`, `500ms`, `2m`).
    #[arg(long, value_name = "SECS", allow_hyphen_values = true, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Print the summary as a JSON event line on stderr.
    #[arg(long)]
    pub json: bool,
    /// The filter: `tcp and port 9000`, `udp`, `icmp`, `host 127.0.0.1` (words joined by
    /// `and`). None: every IP packet.
    #[arg(value_name = "FILTER", trailing_var_arg = true)]
    pub filter: Vec<String>,
}

/// Options of `sockit sockets`.
#[derive(Debug, Args)]
#[command(
    long_about = "List the machine's TCP and UDP sockets with their state in the TCP state machine \
(LISTEN, ESTAB, SYN-SENT, SYN-RECV, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, CLOSING, \
TIME-WAIT; UDP: UNCONN or ESTAB), their queues (Recv-Q: bytes received and not yet read, or \
for a listener connections waiting in the accept queue; Send-Q: bytes sent and not yet \
acknowledged, or the accept queue's limit), their addresses, the remaining time of a \
TIME-WAIT socket and the owning process. Read with netlink sock_diag, like `ss`.\n\n\
Examples:\n  sockit sockets --state listen\n  sockit sockets --state time-wait --port 9000\n  sockit sockets --udp"
)]
pub struct SocketsArgs {
    /// Only sockets in this state, spelled as ss spells it: listen, established, syn-sent,
    /// syn-recv, fin-wait-1, fin-wait-2, time-wait, close-wait, last-ack, closing, closed.
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// Only sockets whose local or peer port is N.
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Only TCP sockets (default: TCP and UDP).
    #[arg(long, short = 't')]
    pub tcp: bool,
    /// Only UDP sockets.
    #[arg(long, short = 'u')]
    pub udp: bool,
    /// One JSON object per socket, one per line.
    #[arg(long)]
    pub json: bool,
}

/// Options of `sockit ping`.
#[derive(Debug, Args)]
#[command(
    long_about = "Send ICMP echo requests and time the replies, like ping: one line per reply with \
its round-trip time, then a summary with loss and min/avg/max. Uses an unprivileged ICMP \
datagram socket where the system allows it (net.ipv4.ping_group_range), else a raw socket \
(root or CAP_NET_RAW). HOST is an address or a name; IPv6 works the same.\n\n\
Examples:\n  sockit ping 127.0.0.1\n  sockit ping -c 3 ::1"
)]
pub struct PingArgs {
    /// The host to ping.
    pub host: String,
    /// How many requests (1 to 100000).
    #[arg(short = 'c', long, default_value_t = 4, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub count: u32,
    /// Time between requests.
    #[arg(short = 'i', long, default_value = "1", value_name = "SECS", allow_hyphen_values = true, value_parser = parse_duration)]
    pub interval: Duration,
    /// How long to wait for each reply.
    #[arg(short = 'W', long, default_value = "1", value_name = "SECS", allow_hyphen_values = true, value_parser = parse_duration)]
    pub wait: Duration,
}

/// Options of `sockit ifaces`.
#[derive(Debug, Args)]
#[command(
    long_about = "List network interfaces (what the course uses ifconfig for): each with its index, \
flags (UP, BROADCAST, LOOPBACK, MULTICAST, ...), MTU, hardware address, and every address \
with its prefix length, netmask and (IPv4) broadcast address: the address a UDP broadcast \
sender aims at. Read with netlink, like `ip addr`.\n\nExample:\n  sockit ifaces\n  sockit ifaces --json"
)]
pub struct IfacesArgs {
    /// Print a JSON array of interfaces.
    #[arg(long)]
    pub json: bool,
}

/// Options of `sockit resolve`.
#[derive(Debug, Args)]
#[command(
    long_about = "Print what getaddrinfo(3) returns for NAME: one line per answer with family \
(inet, inet6), socket type (stream, dgram, raw), protocol and address, exactly what Python's \
socket.getaddrinfo(NAME, None) returns. Works for localhost, host names (/etc/hosts) and \
domain names (DNS).\n\nExamples:\n  sockit resolve localhost\n  sockit resolve --canonical localhost"
)]
pub struct ResolveArgs {
    /// The name to resolve.
    pub name: String,
    /// Ask for the canonical name too (AI_CANONNAME).
    #[arg(long)]
    pub canonical: bool,
    /// One JSON object per answer.
    #[arg(long)]
    pub json: bool,
}
