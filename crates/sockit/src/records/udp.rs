//! `udp send --pack`: one datagram per packed record.

use std::net::SocketAddr;

use tokio::net::UdpSocket;

use crate::stdio::{InputChunks, Output};
use crate::udp::send::{prepare, send_one, SendConfig, SendError};

/// Sends each record of `records` (see [`pack_input`](super::pack_input)) as one
/// datagram, waiting for a reply after each if configured.
///
/// An input error (such as a line that cannot be packed) ends sending with
/// [`SendError::Stdin`]; [`pack_error`](super::pack_error) tells which line it was.
pub async fn send_records(
    socket: &UdpSocket,
    dest: SocketAddr,
    mut records: InputChunks,
    config: &SendConfig,
    output: &Output,
) -> Result<(), SendError> {
    prepare(socket, dest, config).await?;
    let result = async {
        while let Some(record) = records.recv().await {
            let record = record.map_err(SendError::Stdin)?;
            send_one(socket, dest, &record, config, output).await?;
        }
        Ok(())
    }
    .await;
    crate::udp::send::finish(result, output).await
}
