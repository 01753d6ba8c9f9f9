//! `sockit info` and `sockit demo ...` command-line definitions.

use clap::{Args, Subcommand};

/// Options of `sockit info`.
#[derive(Debug, Args)]
#[command(
    long_about = "Print the options a fresh IPv4 TCP socket and a fresh IPv4 UDP socket start with, \
as the kernel reports them (getsockopt): SO_TYPE, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, \
SO_RCVBUF, TCP_NODELAY, SO_KEEPALIVE, SO_BROADCAST, SO_LINGER, IP_TTL, TCP_MAXSEG and more, \
with what each is for. '-' marks an option that does not apply (TCP options on UDP)."
)]
pub struct InfoArgs {
    /// Print JSON: {"tcp": {"SO_SNDBUF": 16384, ...}, "udp": {...}}; booleans and numbers
    /// stay typed, options that do not apply are null.
    #[arg(long)]
    pub json: bool,
}

/// Demonstrations.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Show TCP's sticky packets on loopback, then the course's three cures: a length
    /// prefix, an end marker, and pacing the sender (with its cost).
    #[command(
        long_about = "Show TCP's \"sticky packets\" on loopback: a sender writes N small messages \
back to back, one send() each; a slightly slow receiver reads with recv(1024) and prints \
every read, showing the messages merged into fewer reads with their boundaries lost. Then \
the same messages are sent with len32 framing (a 4-byte big-endian length before each) and \
come out whole and separate; then with an end marker (\\n after each message, the receiver \
splits on it), also whole whatever the reads; then unframed but paced (20 ms between sends, \
the receiver reading at once), which keeps them apart only as long as the receiver keeps up, \
at a cost of 20 ms per message. A summary line closes each part, and a conclusion the whole."
    )]
    Sticky(StickyArgs),
    /// Show the three-way handshake, the four-way close and TIME-WAIT, with both
    /// sockets' states after each step.
    #[command(
        long_about = "The TCP connection lifecycle of the course (three-way handshake, four-way close, TIME_WAIT) on loopback: \
a client connects, then closes first, then the server closes. After each step both sockets' \
states are read with netlink sock_diag (ESTABLISHED, FIN-WAIT-2 / CLOSE-WAIT, TIME-WAIT), and \
when capturing is allowed (root or CAP_NET_RAW) the packets each step caused are shown with \
their flags (SYN, SYN-ACK, ACK, FIN). Ends with which side is left in TIME-WAIT."
    )]
    Handshake,
    /// Show why a restarted server gets EADDRINUSE, and what SO_REUSEADDR changes.
    #[command(
        long_about = "The course's SO_REUSEADDR on loopback: a server closes while a client is \
connected, so its end of the connection is left in TIME-WAIT holding the port. A new server \
binding the same port without SO_REUSEADDR fails with EADDRINUSE (Address already in use); \
with SO_REUSEADDR it succeeds. Ends with a one-line conclusion naming the port."
    )]
    Reuseaddr,
    /// Show an empty recv when the peer closes, EPIPE/ECONNRESET when writing to a closed
    /// peer, and what SO_LINGER 0 changes.
    #[command(
        long_about = "The course's peer close and broken pipe, on loopback: (1) a server closes \
and the client's recv returns empty bytes, b'', the end of the stream; (2) the client sends \
anyway: the first send is accepted (the bytes only reach the kernel; the peer's kernel answers \
with a reset) and the second fails with EPIPE (Python's BrokenPipeError) or ECONNRESET; (3) a \
server closes with SO_LINGER 0: a reset instead of a FIN, the client's recv fails with \
ECONNRESET, and no TIME-WAIT is left. Ends with a one-line conclusion."
    )]
    Close,
    /// Show UDP keeping message boundaries, cutting long datagrams, and one socket
    /// serving many peers.
    #[command(
        long_about = "The course's UDP (recvfrom/sendto) on loopback: (1) five datagrams sent \
back to back are five recvfrom calls, even when the receiver reads late: no sticky packets; \
(2) recvfrom(10) of a 100-byte datagram returns 10 bytes and the other 90 are lost (MSG_TRUNC \
tells the real length); (3) three clients send to one port and the server answers each from \
the address recvfrom gave, with no accept. Ends with a one-line conclusion."
    )]
    Udp,
    /// Show how much send accepts when the peer does not read, against SO_SNDBUF and
    /// SO_RCVBUF.
    #[command(
        long_about = "The course's network buffers on loopback: a client sends 4 KiB at a time \
to a server that never reads, until send would block. Done three times: with 16 KiB buffers, \
with the kernel's defaults, and with 1 MiB buffers (SO_SNDBUF on the client, SO_RCVBUF on \
the server, set before the connection). Prints what getsockopt reports (Linux doubles the \
request) and how many bytes send accepted, then a one-line conclusion."
    )]
    Buffers,
    /// Show one sendto reaching every receiver of a broadcast address, and EACCES
    /// without SO_BROADCAST.
    #[command(
        long_about = "The course's UDP broadcast on loopback: three receivers bind \
127.255.255.255 on one port (SO_REUSEADDR), as three hosts would listen. A sendto to the \
broadcast address without SO_BROADCAST is refused by the kernel with EACCES (Python's \
PermissionError); with SO_BROADCAST one sendto reaches all three. Nothing leaves loopback. \
Ends with a one-line conclusion."
    )]
    Broadcast,
}

/// Options of `sockit demo sticky`.
#[derive(Debug, Args)]
pub struct StickyArgs {
    /// How many messages to send (1 to 10000).
    #[arg(long, short = 'n', default_value_t = 20, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub count: u32,
}
