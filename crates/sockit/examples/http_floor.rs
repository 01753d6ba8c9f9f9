//! The floor for `bench/http.sh`: the least a tokio HTTP server can do per request.
//!
//! It has sockit's shape (one current-thread runtime per core, each with its own
//! `SO_REUSEPORT` listener, `TCP_NODELAY`, one `write` per response) but no parsing
//! beyond finding `\r\n\r\n`, no files, no timers, no logging: every request gets the
//! same 1 KiB response, with a head as long as sockit's. Whatever sockit spends per
//! request above this is the price of being a real server; this is not one.
//!
//! Usage: `cargo run --release --example http_floor -- PORT [WORKERS]`

use std::io;
use std::net::SocketAddr;

use sockit::net::socket::std_tcp_listener;
use sockit::net::SocketOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A 1 KiB body behind a head shaped like sockit's answer for a cached file.
fn response() -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\nServer: sockit\r\nDate: Sun, 22 Nov 2026 04:00:00 GMT\r\n\
Content-Type: application/octet-stream\r\nLast-Modified: Sun, 22 Nov 2026 04:00:00 GMT\r\n\
ETag: \"69212c40-400\"\r\nAccept-Ranges: bytes\r\nContent-Length: 1024\r\n\r\n"
        .to_vec();
    r.resize(r.len() + 1024, b'x');
    r
}

async fn serve(mut conn: TcpStream, resp: &'static [u8]) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut have = 0;
    let mut out = Vec::with_capacity(resp.len());
    loop {
        if have == buf.len() {
            return; // a head over 16 KiB: not what this floor is for
        }
        match conn.read(&mut buf[have..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => have += n,
        }
        let mut start = 0;
        while let Some(p) = buf[start..have].windows(4).position(|w| w == b"\r\n\r\n") {
            out.extend_from_slice(resp);
            start += p + 4;
        }
        buf.copy_within(start..have, 0);
        have -= start;
        if !out.is_empty() {
            if conn.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}

fn worker(listener: std::net::TcpListener, resp: &'static [u8]) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            let _ = conn.set_nodelay(true);
            tokio::spawn(serve(conn, resp));
        }
    })
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || io::Error::other("usage: http_floor PORT [WORKERS]");
    let port: u16 = args
        .next()
        .ok_or_else(usage)?
        .parse()
        .map_err(|_| usage())?;
    let workers = match args.next() {
        Some(w) => w.parse().map_err(|_| usage())?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let opts = SocketOptions {
        reuse_port: true,
        ..SocketOptions::default()
    };
    let resp: &'static [u8] = Box::leak(response().into_boxed_slice());
    let mut threads = Vec::new();
    for _ in 0..workers.max(1) {
        let listener = std_tcp_listener(addr, &opts)?;
        threads.push(std::thread::spawn(move || worker(listener, resp)));
    }
    for t in threads {
        t.join()
            .map_err(|_| io::Error::other("worker panicked"))??;
    }
    Ok(())
}
