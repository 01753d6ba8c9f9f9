//! Following TCP connections across packets, to say what each packet means.
//!
//! One packet alone says little: a bare ACK can finish a handshake, acknowledge data or
//! acknowledge a FIN. [`Tracker`] remembers, per connection, each side's initial
//! sequence number (so numbers can be shown relative, from 0), when the SYN left (so the
//! handshake can be timed), how far each side's data reached (so a segment sent again is
//! a retransmission), and which FINs were sent and acknowledged (the four steps of the
//! close).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use super::decode::{Packet, Transport};

/// The most connections remembered at once; past that the oldest knowledge is dropped
/// (a capture on a busy machine must not grow without bound).
pub const MAX_CONNECTIONS: usize = 4096;

type End = (IpAddr, u16);

#[derive(Debug, Default, Clone)]
struct Side {
    isn: Option<u32>,
    /// The sequence number just past the highest byte (or SYN/FIN) sent.
    next: Option<u32>,
    fin_seq: Option<u32>,
    fin_acked: bool,
}

#[derive(Debug, Default, Clone)]
struct Conn {
    /// Index 0 is the side that sent the first packet seen (normally the SYN).
    sides: [Side; 2],
    first: Option<End>,
    syn_at: Option<Duration>,
    synack_seen: bool,
    established: bool,
    close_steps: u8,
}

/// What the tracker has to say about one TCP packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotation {
    /// Sequence and acknowledgement numbers relative to each side's ISN.
    pub relative: Option<(u32, u32)>,
    /// The remarks, e.g. `handshake 1/3`, `close 2/4`, `retransmission`, `zero window`.
    pub notes: Vec<String>,
}

/// Remembers TCP connections seen in a capture.
#[derive(Debug, Default)]
pub struct Tracker {
    conns: HashMap<(End, End), Conn>,
}

fn key(a: End, b: End) -> (End, End) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Tracker {
    /// A tracker that knows no connection yet.
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// Looks at a packet captured `at` (time since the capture started) and says what it
    /// means for its connection. Non-TCP packets get an empty annotation.
    pub fn observe(&mut self, p: &Packet, at: Duration) -> Annotation {
        let Transport::Tcp {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window,
            ..
        } = p.transport
        else {
            return Annotation::default();
        };
        let me: End = (p.src, src_port);
        let peer: End = (p.dst, dst_port);
        let k = key(me, peer);
        if flags.syn && !flags.ack {
            // A new connection (or a new incarnation of a reused 4-tuple).
            self.conns.remove(&k);
        }
        if !self.conns.contains_key(&k) && self.conns.len() >= MAX_CONNECTIONS {
            self.conns.clear();
        }
        let c = self.conns.entry(k).or_default();
        let first = *c.first.get_or_insert(me);
        let (mine, theirs) = if first == me { (0, 1) } else { (1, 0) };
        let mut notes = Vec::new();

        let isn = *c.sides[mine].isn.get_or_insert(seq);
        let seg_len = u32::try_from(p.payload.len())
            .unwrap_or(u32::MAX)
            .wrapping_add(u32::from(flags.syn) + u32::from(flags.fin));
        let end = seq.wrapping_add(seg_len);
        // Retransmission: a segment carrying something, entirely below what was sent.
        if seg_len > 0 && !flags.rst {
            if let Some(next) = c.sides[mine].next {
                if (end.wrapping_sub(next) as i32) <= 0 {
                    notes.push("retransmission".to_string());
                }
            }
            let advance = match c.sides[mine].next {
                Some(next) => (end.wrapping_sub(next) as i32) > 0,
                None => true,
            };
            if advance {
                c.sides[mine].next = Some(end);
            }
        }
        let rel_seq = seq.wrapping_sub(isn);
        let rel_ack = c.sides[theirs].isn.map_or(ack, |i| ack.wrapping_sub(i));

        if flags.rst {
            notes.push("reset: the connection is aborted, no close handshake".to_string());
        } else if flags.syn && !flags.ack {
            if notes.is_empty() {
                c.syn_at = Some(at);
                notes.push("handshake 1/3: the client asks to connect (SYN)".to_string());
            }
        } else if flags.syn && flags.ack {
            if notes.is_empty() {
                c.synack_seen = true;
                notes.push("handshake 2/3: the server accepts (SYN-ACK)".to_string());
            }
        } else if flags.ack && c.synack_seen && !c.established && mine == 0 {
            c.established = true;
            let took = c
                .syn_at
                .map(|s| {
                    format!(
                        ", handshake done in {} µs",
                        at.saturating_sub(s).as_micros()
                    )
                })
                .unwrap_or_default();
            notes.push(format!("handshake 3/3: connection established{took}"));
        }

        if !flags.rst {
            // The ACK part first: does it acknowledge the other side's FIN?
            if flags.ack {
                if let Some(fs) = c.sides[theirs].fin_seq {
                    if !c.sides[theirs].fin_acked && ack == fs.wrapping_add(1) {
                        c.sides[theirs].fin_acked = true;
                        c.close_steps += 1;
                        let step = c.close_steps;
                        if !flags.fin {
                            notes.push(format!("close {step}/4: FIN acknowledged"));
                        } else {
                            c.close_steps += 1;
                            notes.push(format!(
                                "close {step}+{}/4: FIN acknowledged, and this side closes too",
                                step + 1
                            ));
                        }
                    }
                }
            }
            if flags.fin && c.sides[mine].fin_seq.is_none() {
                c.sides[mine].fin_seq = Some(seq.wrapping_add(p.payload.len() as u32));
                if !notes.iter().any(|n| n.starts_with("close")) {
                    c.close_steps += 1;
                    let step = c.close_steps;
                    notes.push(if step == 1 {
                        "close 1/4: this side has no more to send (FIN)".to_string()
                    } else {
                        format!("close {step}/4: the other side closes too (FIN)")
                    });
                }
            }
        }
        if window == 0 && !flags.rst && !flags.syn {
            notes.push("zero window: the receiver's buffer is full".to_string());
        }
        Annotation {
            relative: Some((rel_seq, rel_ack)),
            notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode::{decode, Decoded};
    use super::*;

    fn tcp(src: u16, dst: u16, seq: u32, ack: u32, f: &str, data: &[u8]) -> Packet {
        let mut b = etherparse::PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
            .tcp(src, dst, seq, 1000);
        for c in f.chars() {
            b = match c {
                'S' => b.syn(),
                'A' => b.ack(ack),
                'F' => b.fin(),
                'R' => b.rst(),
                'P' => b.psh(),
                _ => b,
            };
        }
        let mut out = Vec::new();
        b.write(&mut out, data).expect("vec");
        match decode(&out) {
            Decoded::Ip(p) => *p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_the_handshake_the_data_and_the_close() {
        let mut t = Tracker::new();
        let ms = Duration::from_millis;
        let seq = [
            tcp(5000, 80, 100, 0, "S", b""),
            tcp(80, 5000, 900, 101, "SA", b""),
            tcp(5000, 80, 101, 901, "A", b""),
            tcp(5000, 80, 101, 901, "PA", b"hi"),
            tcp(5000, 80, 101, 901, "PA", b"hi"),
            tcp(5000, 80, 103, 901, "FA", b""),
            tcp(80, 5000, 901, 104, "FA", b""),
            tcp(5000, 80, 104, 902, "A", b""),
        ];
        let notes: Vec<String> = seq
            .iter()
            .enumerate()
            .map(|(i, p)| t.observe(p, ms(i as u64)).notes.join("; "))
            .collect();
        assert!(notes[0].starts_with("handshake 1/3"), "{notes:?}");
        assert!(notes[1].starts_with("handshake 2/3"), "{notes:?}");
        assert!(
            notes[2].contains("handshake 3/3") && notes[2].contains("2000 µs"),
            "{notes:?}"
        );
        assert_eq!(notes[3], "");
        assert_eq!(notes[4], "retransmission");
        assert!(notes[5].starts_with("close 1/4"), "{notes:?}");
        assert!(notes[6].starts_with("close 2+3/4"), "{notes:?}");
        assert!(notes[7].starts_with("close 4/4"), "{notes:?}");
        let a = t.observe(&tcp(5000, 80, 104, 902, "A", b""), ms(9));
        assert_eq!(a.relative, Some((4, 2)));
    }
}
