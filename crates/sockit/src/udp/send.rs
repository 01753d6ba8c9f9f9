//! Sending datagrams (`sendto`), optionally waiting for each reply.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::net::UdpSocket;

use super::listen::{recv_datagram, render, truncated};
use super::{MAX_DATAGRAM_V4, MAX_DATAGRAM_V6};
use crate::event::Events;
use crate::net::error::{describe, secs};
use crate::stdio::{InputChunks, Output};

/// How `udp send` behaves.
#[derive(Debug, Clone)]
pub struct SendConfig {
    /// After each datagram, wait for one reply and print it.
    pub wait_reply: bool,
    /// How long to wait for a reply.
    pub timeout: Duration,
    /// Receive buffer for replies.
    pub buffer: usize,
    /// `SO_BROADCAST` is on (the socket must then stay unconnected: replies come from
    /// the responders' own addresses, not from the broadcast address).
    pub broadcast: bool,
    /// Where truncated replies are reported.
    pub events: Events,
}

impl Default for SendConfig {
    fn default() -> Self {
        SendConfig {
            wait_reply: false,
            timeout: Duration::from_secs(5),
            buffer: super::DEFAULT_BUFFER,
            broadcast: false,
            events: Events::discard(),
        }
    }
}

/// Why sending failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message cannot fit in one datagram.
    #[error("message of {len} bytes is larger than the largest UDP datagram over {family} ({max} bytes)")]
    TooBig {
        /// The message size.
        len: usize,
        /// The limit.
        max: usize,
        /// `IPv4` or `IPv6`.
        family: &'static str,
    },
    /// The kernel refused the size (`EMSGSIZE`), e.g. a smaller limit on the route.
    #[error("message of {len} bytes is too long for one datagram to {dest} (EMSGSIZE: the kernel refused it)")]
    KernelTooBig {
        /// The message size.
        len: usize,
        /// The destination.
        dest: SocketAddr,
    },
    /// `EACCES` sending to a broadcast address without `SO_BROADCAST`.
    #[error("send to {dest}: permission denied: {dest} is a broadcast address; add --broadcast")]
    Broadcast {
        /// The destination.
        dest: SocketAddr,
    },
    /// The send or receive failed.
    #[error("send to {dest}: {}", describe(.source))]
    Io {
        /// The destination.
        dest: SocketAddr,
        /// The error.
        source: io::Error,
    },
    /// No reply arrived in time.
    #[error("no reply from {dest}: timed out after {}", secs(*.timeout))]
    NoReply {
        /// The destination.
        dest: SocketAddr,
        /// The timeout.
        timeout: Duration,
    },
    /// The destination answered with an ICMP "port unreachable".
    #[error("send to {dest}: connection refused (nothing is listening there)")]
    Refused {
        /// The destination.
        dest: SocketAddr,
    },
    /// Reading stdin failed.
    #[error("read stdin: {}", describe(.0))]
    Stdin(io::Error),
    /// Writing a reply to stdout failed (a full disk, a closed pipe): replies would be
    /// lost, so sending stops.
    #[error("write stdout: {}", describe(.0))]
    Output(io::Error),
}

impl SendError {
    /// True for errors in the input (a message that cannot fit in a datagram), as
    /// opposed to failures reported by the network stack.
    pub fn is_usage(&self) -> bool {
        matches!(self, SendError::TooBig { .. })
    }
}

/// The largest payload for the destination's family.
pub fn max_datagram(dest: &SocketAddr) -> (usize, &'static str) {
    if dest.is_ipv4() {
        (MAX_DATAGRAM_V4, "IPv4")
    } else {
        (MAX_DATAGRAM_V6, "IPv6")
    }
}

/// Checks a message against the largest datagram before the kernel does.
pub fn check_size(len: usize, dest: &SocketAddr) -> Result<(), SendError> {
    let (max, family) = max_datagram(dest);
    if len > max {
        return Err(SendError::TooBig { len, max, family });
    }
    Ok(())
}

/// Prepares a socket for sending to `dest`: a unicast destination is `connect`ed, so the
/// kernel filters replies to that peer and reports an ICMP "port unreachable" as
/// `ECONNREFUSED`; a broadcast socket stays unconnected.
pub async fn prepare(
    socket: &UdpSocket,
    dest: SocketAddr,
    config: &SendConfig,
) -> Result<(), SendError> {
    if config.broadcast {
        return Ok(());
    }
    socket
        .connect(dest)
        .await
        .map_err(|err| classify(err, dest, 0))
}

fn classify(err: io::Error, dest: SocketAddr, len: usize) -> SendError {
    match err.raw_os_error() {
        Some(libc::EACCES) => SendError::Broadcast { dest },
        Some(libc::EMSGSIZE) => SendError::KernelTooBig { len, dest },
        Some(libc::ECONNREFUSED) => SendError::Refused { dest },
        _ => SendError::Io { dest, source: err },
    }
}

/// Sends one datagram (and waits for its reply if configured, printing it to `output`).
pub async fn send_one(
    socket: &UdpSocket,
    dest: SocketAddr,
    msg: &[u8],
    config: &SendConfig,
    output: &Output,
) -> Result<(), SendError> {
    check_size(msg.len(), &dest)?;
    let sent = if config.broadcast {
        socket.send_to(msg, dest).await
    } else {
        socket.send(msg).await
    };
    sent.map_err(|err| classify(err, dest, msg.len()))?;
    tracing::debug!("sent a datagram of {} bytes to {dest}", msg.len());
    if config.wait_reply && config.broadcast {
        wait_replies(socket, dest, config, output).await?;
    } else if config.wait_reply {
        let reply = wait_reply(socket, dest, config).await?;
        output.write(reply).await.map_err(SendError::Output)?;
    }
    Ok(())
}

/// After a broadcast, every host on the segment may answer: prints each reply as
/// `[sender] payload` until the timeout, and fails only if none came.
async fn wait_replies(
    socket: &UdpSocket,
    dest: SocketAddr,
    config: &SendConfig,
    output: &Output,
) -> Result<(), SendError> {
    let deadline = tokio::time::Instant::now() + config.timeout;
    let mut replies = 0usize;
    loop {
        let mut buf = BytesMut::with_capacity(config.buffer);
        let received =
            tokio::time::timeout_at(deadline, recv_datagram(socket, &mut buf, config.buffer)).await;
        let datagram = match received {
            Err(_) => break,
            // An ICMP error from one host says nothing about the others: keep listening.
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::ConnectionRefused => continue,
            Ok(Err(err)) => return Err(classify(err, dest, 0)),
            Ok(Ok(datagram)) => datagram,
        };
        replies += 1;
        if datagram.truncated() {
            config
                .events
                .emit(truncated(datagram.from, datagram.len, config.buffer));
        }
        output
            .write(render(&datagram, false))
            .await
            .map_err(SendError::Output)?;
    }
    if replies == 0 {
        return Err(SendError::NoReply {
            dest,
            timeout: config.timeout,
        });
    }
    Ok(())
}

/// Waits for one reply; the payload is returned ending with a newline.
async fn wait_reply(
    socket: &UdpSocket,
    dest: SocketAddr,
    config: &SendConfig,
) -> Result<Bytes, SendError> {
    let mut buf = BytesMut::with_capacity(config.buffer);
    let received = tokio::time::timeout(
        config.timeout,
        recv_datagram(socket, &mut buf, config.buffer),
    )
    .await;
    let datagram = match received {
        Err(_) => {
            return Err(SendError::NoReply {
                dest,
                timeout: config.timeout,
            })
        }
        Ok(Err(err)) => return Err(classify(err, dest, 0)),
        Ok(Ok(datagram)) => datagram,
    };
    if datagram.truncated() {
        config
            .events
            .emit(truncated(datagram.from, datagram.len, config.buffer));
    }
    if datagram.data.last() == Some(&b'\n') {
        return Ok(datagram.data);
    }
    let mut out = BytesMut::with_capacity(datagram.data.len() + 1);
    out.extend_from_slice(&datagram.data);
    out.put_u8(b'\n');
    Ok(out.freeze())
}

/// Sends `message` as one datagram, or, without a message, each line of `input` (without
/// its newline) as one datagram.
pub async fn send_messages(
    socket: &UdpSocket,
    dest: SocketAddr,
    message: Option<&[u8]>,
    mut input: InputChunks,
    config: &SendConfig,
    output: &Output,
) -> Result<(), SendError> {
    prepare(socket, dest, config).await?;
    if let Some(msg) = message {
        let result = send_one(socket, dest, msg, config, output).await;
        return finish(result, output).await;
    }
    // Each line is sent straight from the stdin chunk; only a line split across two
    // chunks is copied. A line longer than any datagram is refused once it is known to be.
    let (max, family) = max_datagram(&dest);
    let mut pending = BytesMut::new();
    let result = async {
        while let Some(chunk) = input.recv().await {
            let chunk = chunk.map_err(SendError::Stdin)?;
            let mut rest = &chunk[..];
            while let Some(at) = rest.iter().position(|&b| b == b'\n') {
                let line = &rest[..at];
                if pending.is_empty() {
                    send_one(socket, dest, line, config, output).await?;
                } else {
                    pending.extend_from_slice(line);
                    let whole = pending.split();
                    send_one(socket, dest, &whole, config, output).await?;
                }
                rest = &rest[at + 1..];
            }
            pending.extend_from_slice(rest);
            if pending.len() > max {
                return Err(SendError::TooBig {
                    len: pending.len(),
                    max,
                    family,
                });
            }
        }
        if !pending.is_empty() {
            send_one(socket, dest, &pending, config, output).await?;
        }
        Ok(())
    }
    .await;
    finish(result, output).await
}

/// Flushes the replies; a sending error wins over an output error that came after it.
pub(crate) async fn finish(
    result: Result<(), SendError>,
    output: &Output,
) -> Result<(), SendError> {
    let flushed = output.flush().await.map_err(SendError::Output);
    result.and(flushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limits_per_family() {
        let v4: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        assert!(check_size(65507, &v4).is_ok());
        let err = check_size(65508, &v4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "message of 65508 bytes is larger than the largest UDP datagram over IPv4 (65507 bytes)"
        );
        assert!(check_size(65527, &v6).is_ok());
        assert!(check_size(65528, &v6).is_err());
    }

    #[tokio::test]
    async fn port_unreachable_ends_the_wait_at_once() {
        // A port nobody listens on: bind, note it, close.
        let dest = UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let config = SendConfig {
            wait_reply: true,
            timeout: Duration::from_secs(10),
            ..SendConfig::default()
        };
        let started = std::time::Instant::now();
        let result = send_messages(
            &socket,
            dest,
            Some(b"anyone?"),
            crate::stdio::no_input(),
            &config,
            &Output::sink(),
        )
        .await;
        assert!(
            matches!(result, Err(SendError::Refused { .. })),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn broadcast_without_permission_is_explained() {
        let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        let dest: SocketAddr = "127.255.255.255:9".parse().unwrap();
        let err = socket.send_to(b"x", dest).await.unwrap_err();
        let err = classify(err, dest, 1);
        assert!(err.to_string().contains("add --broadcast"), "{err}");
    }
}
