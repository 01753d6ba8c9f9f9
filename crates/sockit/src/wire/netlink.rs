//! A minimal netlink client: how `ss` and `ip` talk to the kernel.
//!
//! Netlink is a socket family (`AF_NETLINK`) whose peer is the kernel itself. A request
//! is a 16-byte `nlmsghdr` (length, type, flags, sequence, port id) followed by a
//! family-specific structure; with `NLM_F_DUMP` the kernel answers with one message per
//! object (socket, interface, address), split over as many datagrams as needed, and a
//! final `NLMSG_DONE`. Every length read from an answer is checked against the bytes
//! received before it is used.

use std::io;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
/// The most messages one dump may return (a bound against a runaway answer).
const MAX_MESSAGES: usize = 1_000_000;

/// Sends a dump request of `msg_type` with `payload` on a netlink socket of `protocol`
/// and calls `each(type, body)` for every answer message until `NLMSG_DONE`.
pub(crate) fn dump(
    protocol: i32,
    msg_type: u16,
    payload: &[u8],
    mut each: impl FnMut(u16, &[u8]),
) -> io::Result<()> {
    let sock = Socket::new(
        Domain::from(libc::AF_NETLINK),
        Type::RAW,
        Some(Protocol::from(protocol)),
    )?;
    sock.set_read_timeout(Some(Duration::from_secs(5)))?;
    let seq: u32 = 1;
    let len = u32::try_from(16 + payload.len()).map_err(io::Error::other)?;
    let mut req = Vec::with_capacity(16 + payload.len());
    req.extend_from_slice(&len.to_ne_bytes());
    req.extend_from_slice(&msg_type.to_ne_bytes());
    req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req.extend_from_slice(&seq.to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes());
    req.extend_from_slice(payload);
    // Unconnected and unbound: the destination is port id 0, the kernel.
    sock.send(&req)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut count = 0usize;
    loop {
        let n = io::Read::read(&mut &sock, &mut buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "netlink closed",
            ));
        }
        let mut data = &buf[..n];
        while data.len() >= 16 {
            let mlen = u32_at(data, 0) as usize;
            let mtype = u16::from_ne_bytes([data[4], data[5]]);
            if mlen < 16 || mlen > data.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "bad netlink length",
                ));
            }
            let body = &data[16..mlen];
            match mtype {
                NLMSG_DONE => return Ok(()),
                NLMSG_ERROR => {
                    let code = if body.len() >= 4 {
                        i32::from_ne_bytes([body[0], body[1], body[2], body[3]])
                    } else {
                        0
                    };
                    if code == 0 {
                        return Ok(());
                    }
                    return Err(io::Error::from_raw_os_error(code.saturating_neg()));
                }
                t => each(t, body),
            }
            count += 1;
            if count > MAX_MESSAGES {
                return Err(io::Error::other("netlink dump too long"));
            }
            let step = (mlen + 3) & !3;
            data = &data[step.min(data.len())..];
        }
    }
}

/// A native-endian u32 at `at`, 0 if out of range.
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
        .unwrap_or(0)
}

/// The attributes (`rtattr`/`nlattr`: length u16, type u16, value) in `b`, as
/// `(type, value)` pairs; a malformed one ends the list.
pub(crate) fn attrs(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([b[0], b[1]]));
        let ty = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            break;
        }
        out.push((ty, &b[4..len]));
        let step = (len + 3) & !3;
        b = &b[step.min(b.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_stop_at_garbage() {
        let mut b = vec![8, 0, 3, 0, b'l', b'o', 0, 0];
        b.extend_from_slice(&[200, 0, 1, 0, 1]);
        let a = attrs(&b);
        assert_eq!(a, vec![(3, &b"lo\0\0"[..])]);
        assert!(attrs(&[1, 2, 3]).is_empty());
        assert_eq!(u32_at(&[1, 2], 0), 0);
    }
}
