//! The capture filter: a small tcpdump-like expression compiled to classic BPF.
//!
//! A raw `AF_PACKET` socket sees every frame of every interface. Copying all of them to
//! user space only to throw most away is what a *socket filter* avoids: a tiny program in
//! the kernel's classic BPF machine (the one tcpdump uses) runs on each frame and returns
//! how many bytes to keep, 0 meaning "drop". [`Filter::parse`] reads `tcp and port 9000`,
//! [`Filter::compile`] turns it into that program, and the kernel drops the rest before
//! it is ever queued on our socket.

use std::fmt;
use std::net::IpAddr;

use socket2::SockFilter;

/// One word of the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Primitive {
    /// TCP segments (IP protocol 6).
    Tcp,
    /// UDP datagrams (IP protocol 17).
    Udp,
    /// ICMP messages (protocol 1 over IPv4, 58 over IPv6).
    Icmp,
    /// TCP or UDP with this source or destination port.
    Port(u16),
    /// IP packets from or to this address.
    Host(IpAddr),
}

/// A conjunction of primitives (`tcp and port 9000`); empty means every IP packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Every primitive must hold for a packet to be kept.
    pub all: Vec<Primitive>,
}

/// Why a filter expression was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    /// A word that is not `tcp`, `udp`, `icmp`, `port`, `host` or `and`.
    #[error(
        "unknown filter word '{0}' (expected tcp, udp, icmp, port N, host ADDR, joined by 'and')"
    )]
    Unknown(String),
    /// `port` or `host` without its value, or a bad value.
    #[error("'{0}' needs a value: {1}")]
    Value(&'static str, String),
    /// Two primitives without `and` between them, or a dangling `and`.
    #[error("primitives must be joined by 'and'")]
    Join,
    /// Too many primitives: the program would not fit classic BPF's 8-bit jumps.
    #[error("at most {MAX_PRIMITIVES} primitives")]
    TooLong,
}

/// The most primitives one filter may hold (keeps every jump within 255 instructions).
pub const MAX_PRIMITIVES: usize = 8;

impl Filter {
    /// Parses words as tcpdump takes them: `["tcp", "and", "port", "9000"]`. A single
    /// argument with spaces (`"tcp and port 9000"`) is split too.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Filter, FilterError> {
        let words: Vec<String> = words
            .iter()
            .flat_map(|w| {
                w.as_ref()
                    .split_whitespace()
                    .map(str::to_lowercase)
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut all = Vec::new();
        let mut i = 0;
        let mut expect_primitive = true;
        while i < words.len() {
            let w = words[i].as_str();
            if !expect_primitive {
                if w != "and" && w != "&&" {
                    return Err(FilterError::Join);
                }
                expect_primitive = true;
                i += 1;
                continue;
            }
            let p = match w {
                "tcp" => Primitive::Tcp,
                "udp" => Primitive::Udp,
                "icmp" | "icmp6" => Primitive::Icmp,
                "port" => {
                    i += 1;
                    let v = words
                        .get(i)
                        .ok_or(FilterError::Value("port", "missing".into()))?;
                    Primitive::Port(v.parse().map_err(|_| {
                        FilterError::Value("port", format!("'{v}' is not 0..65535"))
                    })?)
                }
                "host" => {
                    i += 1;
                    let v = words
                        .get(i)
                        .ok_or(FilterError::Value("host", "missing".into()))?;
                    let ip = if v == "localhost" {
                        IpAddr::from([127, 0, 0, 1])
                    } else {
                        v.parse().map_err(|_| {
                            FilterError::Value("host", format!("'{v}' is not an IP address"))
                        })?
                    };
                    Primitive::Host(ip)
                }
                "and" | "&&" => return Err(FilterError::Join),
                other => return Err(FilterError::Unknown(other.to_string())),
            };
            all.push(p);
            if all.len() > MAX_PRIMITIVES {
                return Err(FilterError::TooLong);
            }
            expect_primitive = false;
            i += 1;
        }
        if expect_primitive && !all.is_empty() {
            return Err(FilterError::Join);
        }
        Ok(Filter { all })
    }

    /// Compiles the filter for Ethernet frames (what `lo` and Ethernet devices deliver).
    ///
    /// `ifindex` keeps only frames of that interface (the kernel's `SKF_AD_IFINDEX`
    /// ancillary load: a packet socket bound to nothing sees all interfaces).
    /// `drop_outgoing` drops frames we send (`SKF_AD_PKTTYPE == PACKET_OUTGOING`): on
    /// loopback each packet passes twice, once leaving and once arriving, and tcpdump
    /// shows it once, so do we.
    pub fn compile(&self, ifindex: Option<u32>, drop_outgoing: bool) -> Vec<SockFilter> {
        let mut a = Asm::default();
        if let Some(index) = ifindex {
            a.op(LD_W_ABS, SKF_AD_OFF + SKF_AD_IFINDEX);
            a.jump(index, None, Some(REJECT));
        }
        if drop_outgoing {
            a.op(LD_W_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
            a.jump(PACKET_OUTGOING, Some(REJECT), None);
        }
        if self.all.is_empty() {
            a.ret_label(ACCEPT);
            a.ret_label(REJECT);
            return a.finish();
        }
        a.op(LDH_ABS, 12);
        a.jump(0x0800, Some(V4), None);
        a.jump(0x86dd, Some(V6), Some(REJECT));
        a.label(V4);
        for p in &self.all {
            v4(&mut a, p);
        }
        a.ret_keep();
        a.label(V6);
        for p in &self.all {
            v6(&mut a, p);
        }
        a.ret_label(ACCEPT);
        a.ret_label(REJECT);
        a.finish()
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.all.is_empty() {
            return f.write_str("all packets");
        }
        for (i, p) in self.all.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            match p {
                Primitive::Tcp => f.write_str("tcp")?,
                Primitive::Udp => f.write_str("udp")?,
                Primitive::Icmp => f.write_str("icmp")?,
                Primitive::Port(n) => write!(f, "port {n}")?,
                Primitive::Host(ip) => write!(f, "host {ip}")?,
            }
        }
        Ok(())
    }
}

// Classic BPF opcodes (linux/filter.h) and the kernel's ancillary offsets.
const LD_W_ABS: u16 = 0x20;
const LDH_ABS: u16 = 0x28;
const LDB_ABS: u16 = 0x30;
const LDH_IND: u16 = 0x48;
const LDXB_MSH: u16 = 0xb1;
const JEQ_K: u16 = 0x15;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;
const SKF_AD_OFF: u32 = 0xffff_f000;
const SKF_AD_PKTTYPE: u32 = 4;
const SKF_AD_IFINDEX: u32 = 8;
const PACKET_OUTGOING: u32 = 4;
/// How many bytes of a kept frame to copy: all of them (262144, tcpdump's snap length).
pub const SNAPLEN: u32 = 262_144;

type Label = u8;
const ACCEPT: Label = 0;
const REJECT: Label = 1;
const V4: Label = 2;
const V6: Label = 3;
// Labels from 4 on: "this primitive passed", one per primitive and family.

/// A tiny assembler: instructions with symbolic jump targets, resolved in `finish`.
#[derive(Default)]
struct Asm {
    code: Vec<(u16, Option<Label>, Option<Label>, u32)>,
    labels: Vec<(Label, usize)>,
    next: Label,
}

impl Asm {
    fn op(&mut self, code: u16, k: u32) {
        self.code.push((code, None, None, k));
    }
    fn jump(&mut self, k: u32, jt: Option<Label>, jf: Option<Label>) {
        self.code.push((JEQ_K, jt, jf, k));
    }
    fn label(&mut self, l: Label) {
        self.labels.push((l, self.code.len()));
    }
    fn fresh(&mut self) -> Label {
        self.next = self.next.max(3) + 1;
        self.next
    }
    fn ret_keep(&mut self) {
        self.op(RET_K, SNAPLEN);
    }
    fn ret_label(&mut self, l: Label) {
        self.label(l);
        self.op(RET_K, if l == ACCEPT { SNAPLEN } else { 0 });
    }
    fn finish(self) -> Vec<SockFilter> {
        let at = |l: Label| {
            self.labels
                .iter()
                .find(|(x, _)| *x == l)
                .map(|&(_, i)| i)
                .unwrap_or(self.code.len())
        };
        self.code
            .iter()
            .enumerate()
            .map(|(i, &(code, jt, jf, k))| {
                let rel = |t: Option<Label>| match t {
                    // Forward jumps only; MAX_PRIMITIVES keeps them below 256.
                    Some(l) => u8::try_from(at(l).saturating_sub(i + 1)).unwrap_or(u8::MAX),
                    None => 0,
                };
                SockFilter::new(code, rel(jt), rel(jf), k)
            })
            .collect()
    }
}

/// IPv4 over Ethernet: the IP header starts at 14, protocol at 23, addresses at 26/30.
fn v4(a: &mut Asm, p: &Primitive) {
    let proto = |a: &mut Asm, n: u32| {
        a.op(LDB_ABS, 23);
        a.jump(n, None, Some(REJECT));
    };
    match p {
        Primitive::Tcp => proto(a, 6),
        Primitive::Udp => proto(a, 17),
        Primitive::Icmp => proto(a, 1),
        Primitive::Port(port) => {
            let ok = a.fresh();
            let ports = a.fresh();
            a.op(LDB_ABS, 23);
            a.jump(6, Some(ports), None);
            a.jump(17, Some(ports), Some(REJECT));
            a.label(ports);
            // A later fragment has no transport header: not ours.
            a.op(LDH_ABS, 20);
            a.code.push((JSET_K, Some(REJECT), None, 0x1fff));
            // X = the IP header length (4 * IHL), then the ports right after it.
            a.op(LDXB_MSH, 14);
            a.op(LDH_IND, 14);
            a.jump(u32::from(*port), Some(ok), None);
            a.op(LDH_IND, 16);
            a.jump(u32::from(*port), Some(ok), Some(REJECT));
            a.label(ok);
        }
        Primitive::Host(IpAddr::V4(ip)) => {
            let ok = a.fresh();
            let k = u32::from(*ip);
            a.op(LD_W_ABS, 26);
            a.jump(k, Some(ok), None);
            a.op(LD_W_ABS, 30);
            a.jump(k, Some(ok), Some(REJECT));
            a.label(ok);
        }
        Primitive::Host(IpAddr::V6(_)) => a.op(RET_K, 0),
    }
}

/// IPv6 over Ethernet: next header at 20, addresses at 22/38, ports at 54/56 (no
/// extension headers, as on loopback).
fn v6(a: &mut Asm, p: &Primitive) {
    let proto = |a: &mut Asm, n: u32| {
        a.op(LDB_ABS, 20);
        a.jump(n, None, Some(REJECT));
    };
    match p {
        Primitive::Tcp => proto(a, 6),
        Primitive::Udp => proto(a, 17),
        Primitive::Icmp => proto(a, 58),
        Primitive::Port(port) => {
            let ok = a.fresh();
            let ports = a.fresh();
            a.op(LDB_ABS, 20);
            a.jump(6, Some(ports), None);
            a.jump(17, Some(ports), Some(REJECT));
            a.label(ports);
            a.op(LDH_ABS, 54);
            a.jump(u32::from(*port), Some(ok), None);
            a.op(LDH_ABS, 56);
            a.jump(u32::from(*port), Some(ok), Some(REJECT));
            a.label(ok);
        }
        Primitive::Host(IpAddr::V6(ip)) => {
            let ok = a.fresh();
            let dst = a.fresh();
            let words: Vec<u32> = ip
                .octets()
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            for (base, fail) in [(22u32, dst), (38u32, REJECT)] {
                if base == 38 {
                    a.label(dst);
                }
                for (i, w) in words.iter().enumerate() {
                    a.op(LD_W_ABS, base + 4 * i as u32);
                    let last = i == 3;
                    a.jump(*w, if last { Some(ok) } else { None }, Some(fail));
                }
            }
            a.label(ok);
        }
        Primitive::Host(IpAddr::V4(_)) => a.op(RET_K, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tcpdump_words() {
        let f = Filter::parse(&["tcp", "and", "port", "9000"]).unwrap();
        assert_eq!(f.all, vec![Primitive::Tcp, Primitive::Port(9000)]);
        let g = Filter::parse(&["tcp and port 9000"]).unwrap();
        assert_eq!(f, g);
        assert_eq!(f.to_string(), "tcp and port 9000");
        assert!(Filter::parse::<&str>(&[]).unwrap().all.is_empty());
    }

    #[test]
    fn refuses_bad_words() {
        assert!(matches!(
            Filter::parse(&["tcpp"]),
            Err(FilterError::Unknown(_))
        ));
        assert!(matches!(
            Filter::parse(&["port"]),
            Err(FilterError::Value(..))
        ));
        assert!(matches!(
            Filter::parse(&["port", "70000"]),
            Err(FilterError::Value(..))
        ));
        assert!(matches!(
            Filter::parse(&["host", "nope"]),
            Err(FilterError::Value(..))
        ));
        assert_eq!(Filter::parse(&["tcp", "udp"]), Err(FilterError::Join));
        assert_eq!(Filter::parse(&["tcp", "and"]), Err(FilterError::Join));
        let many = vec!["tcp and"; 20].join(" ") + " tcp";
        assert_eq!(Filter::parse(&[many]), Err(FilterError::TooLong));
    }

    #[test]
    fn every_jump_lands_inside_the_program() {
        let words = "tcp and port 1 and host ::1 and host 127.0.0.1 and udp and icmp and port 2 and host ::2";
        let f = Filter::parse(&[words]).unwrap();
        let prog = f.compile(Some(1), true);
        assert!(prog.len() < 256);
    }
}
