//! Receiving datagrams with their sender (`recvfrom`), detecting truncation.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::batch::RecvBatch;
use super::reply::{Peers, ReplyTo};
use crate::event::{Event, Events};
use crate::net::error::describe;
use crate::stdio::{InputChunks, Output};

/// How `udp listen` treats each datagram.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    /// Receive buffer size: longer datagrams are truncated (and reported).
    pub buffer: usize,
    /// Print only the payload bytes, without `[sender] ` and added newline.
    pub raw: bool,
    /// Send each datagram back to its sender instead of printing it.
    pub echo: bool,
    /// `--unpack FMT`: print each datagram as a Python tuple (it must be one record).
    pub unpack: Option<pystruct::Struct>,
    /// Where truncated, unreadable and unanswerable datagrams are reported.
    pub events: Events,
    /// Stop after this many datagrams (`--count`, `--once`).
    pub count: Option<u64>,
    /// Send stdin lines, one datagram each, to these senders (`--reply`).
    pub reply: Option<ReplyTo>,
}

impl Default for ListenConfig {
    fn default() -> Self {
        ListenConfig {
            buffer: super::DEFAULT_BUFFER,
            raw: false,
            echo: false,
            unpack: None,
            events: Events::discard(),
            count: None,
            reply: None,
        }
    }
}

/// One received datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The bytes that fitted in the buffer.
    pub data: Bytes,
    /// The datagram's real length; more than `data.len()` when it was truncated.
    pub len: usize,
    /// Who sent it.
    pub from: SocketAddr,
}

impl Datagram {
    /// True when the datagram was longer than the buffer and lost its tail.
    pub fn truncated(&self) -> bool {
        self.len > self.data.len()
    }
}

/// Receives one datagram into a buffer of `buffer` bytes.
///
/// Uses `recvfrom(..., MSG_TRUNC)`: on Linux the return value is then the datagram's real
/// length even when the buffer was smaller, so truncation is detected instead of silent.
pub async fn recv_datagram(
    socket: &UdpSocket,
    buf: &mut BytesMut,
    buffer: usize,
) -> io::Result<Datagram> {
    loop {
        // Also wake on a pending socket error: on a connected socket an ICMP "port
        // unreachable" arrives as ECONNREFUSED without readable data, and must not look
        // like silence.
        let ready = socket.ready(Interest::READABLE | Interest::ERROR).await?;
        if ready.is_error() {
            if let Some(err) = socket.take_error()? {
                return Err(err);
            }
            // No error after all: clear the readiness so the wait above blocks again.
            // (Each interest separately: tokio's try_io ignores combined interests.)
            let _ = socket.try_io(Interest::ERROR, || {
                Err::<(), _>(io::ErrorKind::WouldBlock.into())
            });
        }
        if !ready.is_readable() {
            continue;
        }
        if let Some(datagram) = try_recv_datagram(socket, buf, buffer)? {
            return Ok(datagram);
        }
    }
}

/// Receives one datagram if one is queued, without waiting (`Ok(None)` otherwise).
pub fn try_recv_datagram(
    socket: &UdpSocket,
    buf: &mut BytesMut,
    buffer: usize,
) -> io::Result<Option<Datagram>> {
    buf.clear();
    buf.reserve(buffer);
    let result = socket.try_io(Interest::READABLE, || {
        let spare = &mut buf.spare_capacity_mut()[..buffer];
        SockRef::from(socket).recv_from_with_flags(spare, libc::MSG_TRUNC)
    });
    match result {
        Ok((len, from)) => {
            let got = len.min(buffer);
            // SAFETY: recvfrom initialised the first `got` bytes of the spare capacity.
            unsafe { buf.advance_mut(got) };
            let from = from.as_socket().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "sender is not an IP address")
            })?;
            Ok(Some(Datagram {
                data: buf.split().freeze(),
                len,
                from,
            }))
        }
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(err) => Err(err),
    }
}

/// `recvmmsg` calls per wake-up at most, so output is written at least that often.
const ROUNDS: usize = 8;

/// Output gathered per write, at most.
const BATCH_BYTES: usize = 256 * 1024;

/// Serves datagrams on `socket` until `shutdown` completes: prints each with its sender
/// (or echoes it), and reports truncated ones on stderr.
///
/// Each wake-up drains what is queued with `recvmmsg` (many datagrams per system call)
/// and prints them with one write, so bursts of small datagrams cost little per datagram.
pub async fn listen(
    socket: UdpSocket,
    config: &ListenConfig,
    output: &Output,
    mut input: Option<InputChunks>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ListenError> {
    tokio::pin!(shutdown);
    let mut batch = RecvBatch::new(config.buffer);
    let mut out = BytesMut::new();
    let mut peers = Peers::default();
    let mut lines = BytesMut::new();
    let mut received: u64 = 0;
    'serve: loop {
        if config.count.is_some_and(|n| received >= n) {
            break;
        }
        tokio::select! {
            () = &mut shutdown => break,
            ready = socket.readable() => ready.map_err(ListenError::Recv)?,
            chunk = next_input(&mut input), if input.is_some() => {
                match chunk {
                    Some(Ok(chunk)) => {
                        lines.extend_from_slice(&chunk);
                        send_lines(&socket, &mut lines, &peers, config).await;
                    }
                    Some(Err(err)) => {
                        config.events.emit(Event::error("stdin-error", format!("read stdin: {}", describe(&err))));
                        input = None;
                    }
                    None => {
                        // The end of stdin: a last line without its newline still goes.
                        if !lines.is_empty() {
                            lines.extend_from_slice(b"\n");
                            send_lines(&socket, &mut lines, &peers, config).await;
                        }
                        input = None;
                    }
                }
                continue;
            }
        }
        for _ in 0..ROUNDS {
            let n = match batch.try_recv(&socket) {
                Ok(0) => break,
                Ok(n) => {
                    // Once per system call (up to 64 datagrams), not per datagram.
                    tracing::debug!("recvmmsg: {n} datagrams");
                    n
                }
                Err(err) if is_transient(&err) => {
                    // An ICMP error for an earlier echo (the sender left): not ours to die of.
                    tracing::debug!("recvmmsg: {}", describe(&err));
                    continue;
                }
                Err(err) => {
                    let _ = output.write(out.split().freeze()).await;
                    let _ = output.flush().await;
                    return Err(ListenError::Recv(err));
                }
            };
            for i in 0..n {
                let Some(datagram) = batch.get(i) else { break };
                let Some(from) = datagram.from else { continue };
                handle(&socket, datagram.data, datagram.len, from, config, &mut out).await;
                peers.heard(from, std::time::Instant::now());
                received += 1;
                if config.count.is_some_and(|n| received >= n) {
                    // Datagrams past the count stay in the socket for whoever is next.
                    output
                        .write(out.split().freeze())
                        .await
                        .map_err(ListenError::Output)?;
                    break 'serve;
                }
            }
            if out.len() >= BATCH_BYTES {
                break;
            }
        }
        if !out.is_empty() {
            output
                .write(out.split().freeze())
                .await
                .map_err(ListenError::Output)?;
        }
    }
    output.flush().await.map_err(ListenError::Output)
}

/// The next stdin chunk, or never when there is no stdin to read.
async fn next_input(input: &mut Option<InputChunks>) -> Option<std::io::Result<Bytes>> {
    match input {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Sends each complete line in `lines` (without its newline) as one datagram to the
/// chosen senders; a line before anyone has sent anything is reported and dropped.
async fn send_lines(
    socket: &UdpSocket,
    lines: &mut BytesMut,
    peers: &Peers,
    config: &ListenConfig,
) {
    let Some(to) = config.reply else {
        lines.clear();
        return;
    };
    while let Some(at) = lines.iter().position(|&b| b == b'\n') {
        let line = lines.split_to(at + 1);
        let payload = &line[..at];
        let targets = peers.targets(to, std::time::Instant::now());
        if targets.is_empty() {
            config.events.emit(Event::warn(
                "reply-dropped",
                "stdin line not sent: no sender to reply to yet",
            ));
            continue;
        }
        for target in targets {
            if let Err(err) = socket.send_to(payload, target).await {
                config.events.emit(
                    Event::warn(
                        "reply-failed",
                        format!("reply to {target}: {}", describe(&err)),
                    )
                    .with("peer", target),
                );
            }
        }
    }
    // A line longer than any datagram cannot be sent: drop it rather than grow forever.
    if lines.len() > super::DEFAULT_BUFFER {
        config.events.emit(Event::warn(
            "reply-dropped",
            format!(
                "stdin line longer than {} bytes not sent",
                super::DEFAULT_BUFFER
            ),
        ));
        lines.clear();
    }
}

/// Why `udp listen` stopped before it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Receiving failed for a reason other than an ICMP error about an earlier echo.
    #[error("receive: {}", describe(.0))]
    Recv(io::Error),
    /// Writing to stdout failed (a full disk, a closed pipe): datagrams received from
    /// now on could not be delivered, so listening stops instead of discarding them.
    #[error("write stdout: {}", describe(.0))]
    Output(io::Error),
}

/// Reports truncation, then echoes the datagram or renders it into `out`.
async fn handle(
    socket: &UdpSocket,
    data: &[u8],
    len: usize,
    from: SocketAddr,
    config: &ListenConfig,
    out: &mut BytesMut,
) {
    let cut = len > data.len();
    if cut {
        config.events.emit(truncated(from, len, config.buffer));
    }
    if config.echo {
        if cut {
            return;
        }
        if let Err(err) = socket.send_to(data, from).await {
            config.events.emit(
                Event::warn("echo-failed", format!("echo to {from}: {}", describe(&err)))
                    .with("peer", from),
            );
        }
        return;
    }
    if let Some(st) = &config.unpack {
        if let Err(err) = crate::records::render_datagram(st, data, from, config.raw, out) {
            config.events.emit(
                Event::warn(
                    "datagram-ignored",
                    format!("datagram from {from} ignored: {err}"),
                )
                .with("peer", from),
            );
        }
        return;
    }
    render_into(data, from, config.raw, out);
}

/// The event telling the user a datagram did not fit the receive buffer, with its real
/// length (the kernel drops the tail of a datagram that does not fit; only `MSG_TRUNC`
/// tells how long it was).
pub fn truncated(from: SocketAddr, len: usize, buffer: usize) -> Event {
    Event::warn(
        "truncated",
        format!("datagram from {from} truncated: {len} bytes, buffer {buffer}"),
    )
    .with("peer", from)
    .with("len", len)
    .with("buffer", buffer)
}

/// `[127.0.0.1:40000] hello` and a newline, the payload escaped so that the datagram
/// stays on one line (see [`crate::text::escape_into`]); or the bare payload with `raw`.
pub fn render(datagram: &Datagram, raw: bool) -> Bytes {
    let mut out = BytesMut::new();
    render_into(&datagram.data, datagram.from, raw, &mut out);
    out.freeze()
}

/// Appends one datagram to the output. With `raw`, the bytes as they are. Otherwise one
/// line, `[sender] payload`: the payload escaped ([`crate::text::escape_into`]) so that a
/// datagram holding `a\n[10.0.0.9:53] b` or a terminal escape cannot pass for a second
/// line from another sender or drive the terminal; one trailing newline just ends the line.
fn render_into(data: &[u8], from: SocketAddr, raw: bool, out: &mut BytesMut) {
    if raw {
        out.extend_from_slice(data);
        return;
    }
    use std::fmt::Write as _;
    let payload = data.strip_suffix(b"\n").unwrap_or(data);
    out.reserve(payload.len() + 50);
    out.put_u8(b'[');
    let _ = write!(out, "{from}");
    out.extend_from_slice(b"] ");
    crate::text::escape_into(payload, out);
    out.put_u8(b'\n');
}

fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || matches!(
        err.raw_os_error(),
        Some(libc::EHOSTUNREACH | libc::ENETUNREACH)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn truncation_reports_the_real_length() {
        let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        tx.send_to(&[b'x'; 3000], rx.local_addr().unwrap())
            .await
            .unwrap();
        let mut buf = BytesMut::new();
        let d = recv_datagram(&rx, &mut buf, 1024).await.unwrap();
        assert_eq!(d.len, 3000);
        assert_eq!(d.data.len(), 1024);
        assert!(d.truncated());
        assert_eq!(d.from, tx.local_addr().unwrap());
    }

    #[tokio::test]
    async fn whole_datagrams_are_not_truncated() {
        let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        tx.send_to(b"hello", rx.local_addr().unwrap())
            .await
            .unwrap();
        tx.send_to(b"", rx.local_addr().unwrap()).await.unwrap();
        let mut buf = BytesMut::new();
        let d = recv_datagram(&rx, &mut buf, 5).await.unwrap();
        assert_eq!(
            (&d.data[..], d.len, d.truncated()),
            (&b"hello"[..], 5, false)
        );
        assert_eq!(
            &render(&d, false)[..],
            format!("[{}] hello\n", d.from).as_bytes()
        );
        assert_eq!(&render(&d, true)[..], b"hello");
        let odd = Datagram {
            data: Bytes::from_static(b"line1\nline2\x00\xff\n"),
            len: 16,
            from: d.from,
        };
        assert_eq!(
            &render(&odd, false)[..],
            format!("[{}] line1\\nline2\\x00\\xff\n", d.from).as_bytes()
        );
        assert_eq!(&render(&odd, true)[..], &odd.data[..]);
        let empty = recv_datagram(&rx, &mut buf, 5).await.unwrap();
        assert_eq!(empty.len, 0);
    }
}
