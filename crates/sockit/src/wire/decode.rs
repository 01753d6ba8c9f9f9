//! Decoding a captured frame into its layers, and the one-line and layered views of it.
//!
//! A frame is headers inside headers: the link layer (Ethernet: MAC addresses and the
//! type of what follows), the network layer (IP: addresses, TTL, protocol), the transport
//! layer (TCP or UDP ports; TCP's sequence numbers, flags, window) and finally the
//! application's bytes. That nesting *is* the TCP/IP model; `--layers` prints it field by
//! field. Slicing is done by `etherparse`, which checks every length before reading it:
//! a truncated or garbage frame becomes [`Decoded::Undecodable`], never a panic.

use std::fmt::Write as _;
use std::net::IpAddr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};

use crate::text::escape_bytes;

/// How many payload bytes the one-line view shows.
pub const PREVIEW: usize = 32;

/// TCP flag bits, as in the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// Synchronize: opens a connection, carries the initial sequence number.
    pub syn: bool,
    /// The acknowledgement number is valid.
    pub ack: bool,
    /// The sender has no more data: one half of the close.
    pub fin: bool,
    /// Reset: abort the connection at once.
    pub rst: bool,
    /// Push: hand the data to the application without waiting.
    pub psh: bool,
}

impl TcpFlags {
    /// The flags as the course names them: `SYN`, `SYN-ACK`, `ACK`, `PSH-ACK`, `FIN-ACK`, `RST`.
    pub fn name(&self) -> String {
        let mut parts = Vec::new();
        for (on, name) in [
            (self.syn, "SYN"),
            (self.fin, "FIN"),
            (self.rst, "RST"),
            (self.psh, "PSH"),
            (self.ack, "ACK"),
        ] {
            if on {
                parts.push(name);
            }
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join("-")
        }
    }
}

/// The transport layer of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A TCP segment.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number: the stream offset of the first byte (absolute).
        seq: u32,
        /// Acknowledgement number: the next byte expected from the other side (absolute).
        ack: u32,
        /// Flags.
        flags: TcpFlags,
        /// Receive window the sender advertises (unscaled).
        window: u16,
        /// Header length in bytes (20 plus options).
        header_len: usize,
    },
    /// A UDP datagram.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// The length field (header plus data).
        length: u16,
    },
    /// An ICMP (or ICMPv6) message.
    Icmp {
        /// Type: 8 echo request, 0 echo reply (ICMPv6: 128, 129), 3 unreachable, ...
        kind: u8,
        /// Code within the type.
        code: u8,
        /// For echo messages: identifier and sequence number.
        echo: Option<(u16, u16)>,
    },
    /// Another IP protocol, by number.
    Other(u8),
}

/// The layers of one decoded IP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Ethernet source and destination MACs and EtherType (all zero MACs on loopback).
    pub link: Option<([u8; 6], [u8; 6], u16)>,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit: routers decrement it, 0 means dropped.
    pub ttl: u8,
    /// IPv4 identification (0 on IPv6).
    pub ip_id: u16,
    /// IPv4 "don't fragment".
    pub dont_fragment: bool,
    /// IP header length.
    pub ip_header_len: usize,
    /// IP total length (header plus payload).
    pub ip_total_len: usize,
    /// The transport layer.
    pub transport: Transport,
    /// The application bytes.
    pub payload: Vec<u8>,
}

/// What a frame turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// An IP packet.
    Ip(Box<Packet>),
    /// A frame that is not IP (ARP, ...), with its EtherType.
    NotIp(u16),
    /// Too short or malformed, with the reason.
    Undecodable(String),
}

/// Decodes an Ethernet frame (as `lo` and Ethernet devices deliver them).
pub fn decode(frame: &[u8]) -> Decoded {
    let sliced = match SlicedPacket::from_ethernet(frame) {
        Ok(s) => s,
        Err(e) => return Decoded::Undecodable(e.to_string()),
    };
    let link = match &sliced.link {
        Some(etherparse::LinkSlice::Ethernet2(eth)) => {
            Some((eth.source(), eth.destination(), eth.ether_type().0))
        }
        _ => None,
    };
    let (src, dst, ttl, ip_id, df, hlen, total) = match &sliced.net {
        Some(NetSlice::Ipv4(v4)) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                h.ttl(),
                h.identification(),
                h.dont_fragment(),
                usize::from(h.ihl()) * 4,
                usize::from(h.total_len()),
            )
        }
        Some(NetSlice::Ipv6(v6)) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                h.hop_limit(),
                0,
                false,
                40,
                40 + usize::from(h.payload_length()),
            )
        }
        None => return Decoded::NotIp(link.map(|l| l.2).unwrap_or(0)),
    };
    let (transport, payload) = match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => (
            Transport::Tcp {
                src_port: t.source_port(),
                dst_port: t.destination_port(),
                seq: t.sequence_number(),
                ack: t.acknowledgment_number(),
                flags: TcpFlags {
                    syn: t.syn(),
                    ack: t.ack(),
                    fin: t.fin(),
                    rst: t.rst(),
                    psh: t.psh(),
                },
                window: t.window_size(),
                header_len: usize::from(t.data_offset()) * 4,
            },
            t.payload(),
        ),
        Some(TransportSlice::Udp(u)) => (
            Transport::Udp {
                src_port: u.source_port(),
                dst_port: u.destination_port(),
                length: u.length(),
            },
            u.payload(),
        ),
        Some(TransportSlice::Icmpv4(i)) => (
            icmp(i.type_u8(), i.code_u8(), i.bytes5to8(), [0, 8]),
            i.payload(),
        ),
        Some(TransportSlice::Icmpv6(i)) => (
            icmp(i.type_u8(), i.code_u8(), i.bytes5to8(), [129, 128]),
            i.payload(),
        ),
        None => {
            let number = match &sliced.net {
                Some(NetSlice::Ipv4(v4)) => v4.payload_ip_number().0,
                Some(NetSlice::Ipv6(v6)) => v6.payload().ip_number.0,
                None => 0,
            };
            (Transport::Other(number), &[][..])
        }
    };
    Decoded::Ip(Box::new(Packet {
        link,
        src,
        dst,
        ttl,
        ip_id,
        dont_fragment: df,
        ip_header_len: hlen,
        ip_total_len: total,
        transport,
        payload: payload.to_vec(),
    }))
}

/// `127.0.0.1:9000` or `[::1]:9000`.
pub fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

fn icmp_name(kind: u8, v6: bool) -> &'static str {
    match (v6, kind) {
        (false, 0) | (true, 129) => "echo reply",
        (false, 8) | (true, 128) => "echo request",
        (false, 3) | (true, 1) => "destination unreachable",
        (false, 11) | (true, 3) => "time exceeded",
        (true, 135) => "neighbor solicitation",
        (true, 136) => "neighbor advertisement",
        _ => "other",
    }
}

/// A short printable preview of payload bytes, escaped.
pub fn preview(payload: &[u8]) -> String {
    let shown = &payload[..payload.len().min(PREVIEW)];
    let mut s = escape_bytes(shown);
    if payload.len() > PREVIEW {
        s.push_str("...");
    }
    s
}

impl Packet {
    /// The one-line view, without time or annotation. `rel` gives TCP's sequence and
    /// acknowledgement numbers relative to each side's initial sequence number (what
    /// tcpdump and Wireshark show by default), when known.
    pub fn line(&self, rel: Option<(u32, u32)>) -> String {
        let v6 = self.src.is_ipv6();
        let mut s = String::new();
        match &self.transport {
            Transport::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                ..
            } => {
                let (seq, ack) = rel.unwrap_or((*seq, *ack));
                let _ = write!(
                    s,
                    "TCP {} > {} [{}] seq {seq}",
                    endpoint(self.src, *src_port),
                    endpoint(self.dst, *dst_port),
                    flags.name()
                );
                if flags.ack {
                    let _ = write!(s, " ack {ack}");
                }
                let _ = write!(s, " win {window} len {}", self.payload.len());
            }
            Transport::Udp {
                src_port, dst_port, ..
            } => {
                let _ = write!(
                    s,
                    "UDP {} > {} len {}",
                    endpoint(self.src, *src_port),
                    endpoint(self.dst, *dst_port),
                    self.payload.len()
                );
            }
            Transport::Icmp { kind, code, echo } => {
                let _ = write!(
                    s,
                    "{} {} > {} {} (type {kind} code {code})",
                    if v6 { "ICMP6" } else { "ICMP" },
                    self.src,
                    self.dst,
                    icmp_name(*kind, v6)
                );
                if let Some((id, seq)) = echo {
                    let _ = write!(s, " id {id} seq {seq}");
                }
                let _ = write!(s, " len {}", self.payload.len());
            }
            Transport::Other(n) => {
                let _ = write!(s, "IP proto {n} {} > {}", self.src, self.dst);
            }
        }
        if !self.payload.is_empty() && !matches!(self.transport, Transport::Icmp { .. }) {
            let _ = write!(s, " \"{}\"", preview(&self.payload));
        }
        s
    }

    /// The layered view: one indented line per layer, each header field by field.
    pub fn layers(&self) -> String {
        let mut s = String::new();
        if let Some((src, dst, ty)) = self.link {
            let mac = |m: [u8; 6]| {
                m.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            };
            let _ = writeln!(
                s,
                "  link       Ethernet II: src {} dst {} type 0x{ty:04x} ({}) [14 bytes]",
                mac(src),
                mac(dst),
                match ty {
                    0x0800 => "IPv4",
                    0x86dd => "IPv6",
                    0x0806 => "ARP",
                    _ => "other",
                }
            );
        }
        let proto = match self.transport {
            Transport::Tcp { .. } => "TCP",
            Transport::Udp { .. } => "UDP",
            Transport::Icmp { .. } => "ICMP",
            Transport::Other(_) => "other",
        };
        if self.src.is_ipv4() {
            let _ = writeln!(
                s,
                "  network    IPv4: src {} dst {} ttl {} protocol {proto} id {} {}total length {} [{} bytes]",
                self.src,
                self.dst,
                self.ttl,
                self.ip_id,
                if self.dont_fragment { "DF " } else { "" },
                self.ip_total_len,
                self.ip_header_len
            );
        } else {
            let _ = writeln!(
                s,
                "  network    IPv6: src {} dst {} hop limit {} next header {proto} payload length {} [{} bytes]",
                self.src,
                self.dst,
                self.ttl,
                self.ip_total_len.saturating_sub(40),
                self.ip_header_len
            );
        }
        match &self.transport {
            Transport::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                header_len,
            } => {
                let _ = writeln!(
                    s,
                    "  transport  TCP: src port {src_port} dst port {dst_port} seq {seq} ack {ack} flags {} window {window} [{header_len} bytes]",
                    flags.name()
                );
            }
            Transport::Udp {
                src_port,
                dst_port,
                length,
            } => {
                let _ = writeln!(
                    s,
                    "  transport  UDP: src port {src_port} dst port {dst_port} length {length} [8 bytes]"
                );
            }
            Transport::Icmp { kind, code, echo } => {
                let _ = write!(
                    s,
                    "  transport  ICMP: type {kind} ({}) code {code}",
                    icmp_name(*kind, self.src.is_ipv6())
                );
                if let Some((id, seq)) = echo {
                    let _ = write!(s, " id {id} seq {seq}");
                }
                let _ = writeln!(s, " [8 bytes]");
            }
            Transport::Other(n) => {
                let _ = writeln!(s, "  transport  protocol {n} (not decoded)");
            }
        }
        let _ = writeln!(
            s,
            "  payload    {} bytes{}",
            self.payload.len(),
            if self.payload.is_empty() {
                String::new()
            } else {
                format!(": \"{}\"", preview(&self.payload))
            }
        );
        s
    }
}

/// An ICMP (v4 or v6) header; `echo_types` are the echo reply and request type numbers
/// of that version, whose bytes 5-8 hold the identifier and sequence number.
fn icmp(kind: u8, code: u8, rest: [u8; 4], echo_types: [u8; 2]) -> Transport {
    let echo = echo_types.contains(&kind).then(|| {
        (
            u16::from_be_bytes([rest[0], rest[1]]),
            u16::from_be_bytes([rest[2], rest[3]]),
        )
    });
    Transport::Icmp { kind, code, echo }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A loopback Ethernet + IPv4 + TCP frame (SYN from 40000 to 9000), as captured.
    pub(crate) fn syn_frame(payload: &[u8]) -> Vec<u8> {
        let builder = etherparse::PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
            .tcp(40000, 9000, 1000, 65495)
            .syn();
        let mut out = Vec::new();
        builder
            .write(&mut out, payload)
            .expect("writing to a Vec cannot fail");
        out
    }

    #[test]
    fn decodes_a_tcp_syn() {
        let frame = syn_frame(b"");
        let Decoded::Ip(p) = decode(&frame) else {
            panic!("not decoded")
        };
        assert!(
            matches!(p.transport, Transport::Tcp { flags, seq: 1000, .. } if flags.syn && !flags.ack)
        );
        let line = p.line(Some((0, 0)));
        assert!(
            line.contains("127.0.0.1:40000 > 127.0.0.1:9000 [SYN] seq 0"),
            "{line}"
        );
        let layers = p.layers();
        assert!(
            layers.contains("link")
                && layers.contains("network")
                && layers.contains("transport")
                && layers.contains("payload")
        );
    }

    #[test]
    fn truncated_and_garbage_frames_never_panic() {
        let frame = syn_frame(b"hello world");
        for cut in 0..frame.len() {
            let d = decode(&frame[..cut]);
            if let Decoded::Ip(p) = d {
                let _ = p.line(None);
                let _ = p.layers();
            }
        }
        let mut seed = 0x1234_5678u32;
        for len in 0..300 {
            let garbage: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            let _ = decode(&garbage);
            let mut ip = garbage.clone();
            if ip.len() > 14 {
                ip[12] = 0x08;
                ip[13] = 0x00;
                ip[14] = 0x45;
            }
            if let Decoded::Ip(p) = decode(&ip) {
                let _ = p.line(None);
                let _ = p.layers();
            }
        }
    }
}
