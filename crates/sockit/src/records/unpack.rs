//! `--unpack FMT`: received records to Python tuple lines.

use std::fmt::Write as _;
use std::net::SocketAddr;

use bytes::{BufMut, BytesMut};
use pystruct::{repr, Struct};

/// Appends `record` unpacked as a Python tuple, `(1, b'zhang', 1.75)`, without a newline.
///
/// Fails (with a message naming both sizes) when `record` is not exactly one record of
/// `st`: with `--frame`, a message of the wrong size; over UDP, a datagram.
pub fn render_tuple(st: &Struct, record: &[u8], out: &mut String) -> Result<(), String> {
    let values = st.unpack_refs(record).map_err(|_| {
        format!(
            "{} bytes, but a record of format '{}' is {} bytes",
            record.len(),
            st.format(),
            st.size()
        )
    })?;
    // Writing to a String cannot fail.
    let _ = repr::write_tuple(out, values);
    Ok(())
}

/// `udp listen --unpack`: renders one datagram as `[ADDR:PORT] (1, b'zhang', 1.75)` (or
/// the bare tuple with `raw`) plus a newline. A datagram of the wrong size adds nothing
/// to `out` and returns the error, for the caller to report before it listens on.
pub fn render_datagram(
    st: &Struct,
    data: &[u8],
    from: SocketAddr,
    raw: bool,
    out: &mut BytesMut,
) -> Result<(), String> {
    let mut line = String::new();
    if !raw {
        let _ = write!(line, "[{from}] ");
    }
    render_tuple(st, data, &mut line)?;
    out.extend_from_slice(line.as_bytes());
    out.put_u8(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_python_tuples() {
        let st = Struct::new("i5sf").unwrap();
        let mut s = String::new();
        render_tuple(
            &st,
            b"\x01\x00\x00\x00zhang\x00\x00\x00\x00\x00\xe0?",
            &mut s,
        )
        .unwrap();
        assert_eq!(s, "(1, b'zhang', 1.75)");
        let err = render_tuple(&st, b"short", &mut s).unwrap_err();
        assert_eq!(err, "5 bytes, but a record of format 'i5sf' is 16 bytes");
    }

    #[test]
    fn datagrams_get_their_sender() {
        let st = Struct::new("!H").unwrap();
        let from: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut out = BytesMut::new();
        render_datagram(&st, b"\x00\x07", from, false, &mut out).unwrap();
        assert!(render_datagram(&st, b"\x00\x07\x00", from, false, &mut out).is_err());
        render_datagram(&st, b"\x00\x08", from, true, &mut out).unwrap();
        assert_eq!(&out[..], b"[127.0.0.1:5000] (7,)\n(8,)\n");
    }
}
