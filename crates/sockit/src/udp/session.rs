//! An interactive UDP exchange (`udp send --interactive`), like `nc -u HOST PORT`: stdin
//! lines go out as datagrams while replies are printed as they arrive, in both
//! directions at once, until stdin ends and the peer has been quiet for the timeout.
//!
//! The socket is connected, so the kernel keeps only the peer's datagrams and reports an
//! ICMP port-unreachable (nothing listens there) as `ECONNREFUSED` on the next call;
//! that is said once and the session goes on, as the peer may come up later.

use std::net::SocketAddr;

use bytes::{BufMut, BytesMut};
use tokio::net::UdpSocket;

use super::send::{check_size, prepare, SendConfig, SendError};
use crate::event::Event;
use crate::stdio::{InputChunks, Output};

/// Runs the session until stdin has ended and no reply came for `config.timeout`.
pub async fn session(
    socket: &UdpSocket,
    dest: SocketAddr,
    mut input: InputChunks,
    config: &SendConfig,
    output: &Output,
) -> Result<(), SendError> {
    prepare(socket, dest, config).await?;
    let mut lines = BytesMut::new();
    let mut buf = vec![0u8; config.buffer.clamp(1, super::MAX_BUFFER)];
    let mut input_open = true;
    let mut refused_said = false;
    loop {
        let quiet = async {
            if input_open {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(config.timeout).await;
        };
        tokio::select! {
            chunk = input.recv(), if input_open => match chunk {
                Some(chunk) => {
                    lines.extend_from_slice(&chunk.map_err(SendError::Stdin)?);
                    send_lines(socket, dest, &mut lines).await?;
                }
                None => {
                    if !lines.is_empty() {
                        lines.put_u8(b'\n');
                        send_lines(socket, dest, &mut lines).await?;
                    }
                    input_open = false;
                }
            },
            got = socket.recv(&mut buf) => match got {
                Ok(n) => {
                    let mut out = BytesMut::with_capacity(n + 1);
                    out.extend_from_slice(&buf[..n]);
                    if !out.ends_with(b"\n") {
                        out.put_u8(b'\n');
                    }
                    output.write(out.freeze()).await.map_err(SendError::Output)?;
                }
                Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => {
                    if !refused_said {
                        config.events.emit(Event::warn(
                            "refused",
                            format!("{dest}: port unreachable (nothing listens there yet)"),
                        ).with("peer", dest));
                        refused_said = true;
                    }
                }
                Err(err) => return Err(SendError::Io { dest, source: err }),
            },
            () = quiet => break,
        }
    }
    output.flush().await.map_err(SendError::Output)
}

/// Sends each complete line of `lines` (without its newline) as one datagram.
async fn send_lines(
    socket: &UdpSocket,
    dest: SocketAddr,
    lines: &mut BytesMut,
) -> Result<(), SendError> {
    while let Some(at) = lines.iter().position(|&b| b == b'\n') {
        let line = lines.split_to(at + 1);
        check_size(at, &dest)?;
        match socket.send(&line[..at]).await {
            Ok(_) => {}
            // An ICMP error about an earlier datagram surfaces here; the next send works.
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => {
                socket
                    .send(&line[..at])
                    .await
                    .map_err(|source| SendError::Io { dest, source })?;
            }
            Err(source) => return Err(SendError::Io { dest, source }),
        }
    }
    let (max, family) = super::send::max_datagram(&dest);
    if lines.len() > max {
        return Err(SendError::TooBig {
            len: lines.len(),
            max,
            family,
        });
    }
    Ok(())
}
