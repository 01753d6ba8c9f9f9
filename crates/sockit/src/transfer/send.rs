//! The sending end: connect, offer, stream every file back to back, collect verdicts.
//!
//! The session runs on a blocking thread with a blocking socket: the data path is one
//! `read` from the file and one `write` to the socket per frame, with BLAKE3 hashing the
//! bytes while they are in the buffer (one pass over the disk, no hashing pre-pass). A
//! second thread reads the receiver's acknowledgements as they come, so progress is what
//! the receiver has, and the sender never waits for a per-file answer before sending the
//! next file. The async wrapper owns the shutdown future: shutting the socket down wakes
//! both threads.

use std::future::Future;
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::paths::escape;
use super::proto::{
    self, Answer, Hello, Kind, ProtoError, Verdict, CAP_RESUME, CAP_SYMLINKS, VERSION,
};
use super::records::{Ack, FileResult, Record, Status};
use super::report::{from_proto, human_bytes, Outcome, Phase, Progress, ProgressFn, TransferError};
use super::walk::{self, Manifest, WalkOptions};
use crate::event::{Event, Events};
use crate::net::SocketOptions;

/// Payload bytes per data frame: big enough that per-frame costs vanish, small enough
/// that the sender's buffer stays small (measured: 256 KiB user buffers are the sweet
/// spot on loopback).
const FRAME: usize = 256 << 10;

/// Small records are gathered up to this size before one `write`.
const FLUSH_AT: usize = 256 << 10;

/// What `send` needs besides the paths.
#[derive(Clone)]
pub struct SendConfig {
    /// What to include.
    pub walk: WalkOptions,
    /// Offer to resume from part files the receiver holds.
    pub resume: bool,
    /// How long the receiver may stay silent during the transfer (not while a person
    /// decides on the offer).
    pub timeout: Duration,
    /// Socket options for the connection.
    pub socket: SocketOptions,
    /// Where events go.
    pub events: Events,
    /// Where progress goes.
    pub progress: Option<ProgressFn>,
}

/// Sends `paths` to the receiver at `addrs` (tried in turn; `target` names it in
/// messages). Returns how the session ended; `Outcome::ok` says whether everything
/// arrived and verified.
pub async fn send(
    paths: Vec<PathBuf>,
    target: &str,
    addrs: &[SocketAddr],
    config: SendConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, TransferError> {
    let events = config.events.clone();
    let walk_opts = config.walk.clone();
    let manifest = tokio::task::spawn_blocking(move || walk::build(&paths, &walk_opts, &events))
        .await
        .map_err(|e| TransferError::io("walk", std::io::Error::other(e)))??;
    let files = manifest
        .offer
        .entries
        .iter()
        .filter(|e| e.kind == Kind::File)
        .count();
    let folders = manifest
        .offer
        .entries
        .iter()
        .filter(|e| e.kind == Kind::Folder)
        .count();
    config.events.emit(
        Event::info(
            "offer",
            format!(
                "offering {files} files and {folders} folders ({}) to {target}",
                human_bytes(manifest.offer.total)
            ),
        )
        .with("files", files)
        .with("folders", folders)
        .with("bytes", manifest.offer.total),
    );
    let stream =
        crate::net::socket::tcp_connect(target, addrs, &config.socket, Some(config.timeout))
            .await?;
    let peer = stream
        .peer_addr()
        .map_err(|e| TransferError::io("getpeername", e))?;
    config
        .events
        .emit(Event::info("connected", format!("connected to {peer}")).with("peer", peer));
    let stream = stream
        .into_std()
        .and_then(|s| s.set_nonblocking(false).map(|()| s))
        .map_err(|e| TransferError::io("socket", e))?;
    let waker = stream
        .try_clone()
        .map_err(|e| TransferError::io("socket", e))?;
    let job = tokio::task::spawn_blocking(move || session(stream, manifest, &config));
    tokio::pin!(job);
    tokio::select! {
        r = &mut job => r.map_err(|e| TransferError::io("session", std::io::Error::other(e)))?,
        () = shutdown => {
            let _ = waker.shutdown(std::net::Shutdown::Both);
            let _ = job.await;
            Err(TransferError::Interrupted)
        }
    }
}

fn session(stream: TcpStream, m: Manifest, cfg: &SendConfig) -> Result<Outcome, TransferError> {
    let started = Instant::now();
    let io = |what: &str| {
        let what = what.to_string();
        move |e| TransferError::io(what, e)
    };
    stream
        .set_read_timeout(Some(cfg.timeout))
        .map_err(io("socket"))?;
    stream
        .set_write_timeout(Some(cfg.timeout))
        .map_err(io("socket"))?;
    let _ = stream.set_nodelay(true);
    let mut rd = BufReader::new(&stream);
    let mut w = &stream;

    let mut caps = CAP_SYMLINKS;
    if cfg.resume {
        caps |= CAP_RESUME;
    }
    let hello = Hello {
        version: VERSION,
        caps,
        session: super::random16(),
    };
    w.write_all(&hello.encode())
        .map_err(|e| from_proto(e.into()))?;
    let theirs = Hello::read(&mut rd).map_err(from_proto)?;
    if theirs.version != VERSION {
        return Err(ProtoError::Version(theirs.version).into());
    }
    let mut m = m;
    if theirs.caps & CAP_SYMLINKS == 0 {
        let before = m.offer.entries.len();
        let keep: Vec<bool> = m
            .offer
            .entries
            .iter()
            .map(|e| e.kind != Kind::Symlink)
            .collect();
        let mut k = keep.iter();
        m.offer.entries.retain(|_| *k.next().unwrap_or(&true));
        let mut k = keep.iter();
        m.sources.retain(|_| *k.next().unwrap_or(&true));
        if m.offer.entries.len() != before {
            cfg.events.emit(Event::warn(
                "left-out",
                "the receiver does not take symlinks: left them out",
            ));
        }
    }
    let offer = &m.offer;
    w.write_all(&proto::encode_offer(offer)?)
        .map_err(|e| from_proto(e.into()))?;

    cfg.events
        .emit(Event::info("waiting", "waiting for the receiver to accept"));
    tick(cfg, Phase::Waiting, 0, 0, None);
    // A person may be reading the offer: no timeout until the decision.
    stream.set_read_timeout(None).map_err(io("socket"))?;
    let (verdict, reason) = proto::read_decision(&mut rd).map_err(from_proto)?;
    if verdict != Verdict::Accepted {
        return Err(TransferError::Refused(escape(&reason)));
    }
    stream
        .set_read_timeout(Some(cfg.timeout))
        .map_err(io("socket"))?;
    let mut answers = Vec::with_capacity(offer.entries.len());
    for _ in &offer.entries {
        answers.push(Answer::read(&mut rd).map_err(from_proto)?);
    }
    cfg.events
        .emit(Event::info("accepted", "the receiver accepted the offer"));

    // What the receiver will get, for the progress total.
    let mut to_send = 0u64;
    for (e, a) in offer.entries.iter().zip(&answers) {
        if e.kind == Kind::File {
            to_send += match a {
                Answer::Send | Answer::Same { send: true, .. } => e.size,
                Answer::Resume { offset, .. } => e.size.saturating_sub(*offset),
                _ => 0,
            };
        }
    }
    let names: Arc<Vec<String>> = Arc::new(
        offer
            .entries
            .iter()
            .map(|e| escape(&e.display_path()))
            .collect(),
    );
    let acks_stream = stream.try_clone().map_err(io("socket"))?;
    let ack_cfg = cfg.clone();
    let ack_names = names.clone();
    let leftover = rd.buffer().to_vec();
    drop(rd);
    let reader =
        std::thread::spawn(move || read_acks(acks_stream, leftover, &ack_cfg, &ack_names, to_send));

    let sent = send_files(&mut w, &m, &answers, cfg, to_send);
    if sent.is_err() {
        // Wake the reader: nothing more will come from us.
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
    let acked = reader.join().unwrap_or_else(|_| {
        Err(TransferError::Cut(
            "the acknowledgement reader failed".into(),
        ))
    });
    let status = match (sent, acked) {
        (_, Ok(status)) => status,
        // The receiver's own words beat our broken pipe.
        (_, Err(e @ TransferError::Protocol(_))) => return Err(e),
        (Err(e), _) | (Ok(()), Err(e)) => return Err(e),
    };
    let files = offer
        .entries
        .iter()
        .filter(|e| e.kind == Kind::File)
        .count() as u64;
    let outcome = Outcome {
        files,
        verified: u64::from(status.verified),
        skipped: u64::from(status.skipped),
        failed: u64::from(status.failed) + m.left_out,
        bytes: status.bytes,
        resumed: 0,
        elapsed: started.elapsed(),
    };
    summary(&cfg.events, &outcome, "sent");
    Ok(outcome)
}

/// Emits the closing summary line.
pub(crate) fn summary(events: &Events, o: &Outcome, verb: &str) {
    let secs = o.elapsed.as_secs_f64().max(1e-6);
    let rate = o.bytes as f64 / secs;
    events.emit(
        Event::info(
            "summary",
            format!(
                "{verb} {} files, {} in {:.2} s ({}/s), verified {}/{}{}{}",
                o.files,
                human_bytes(o.bytes),
                secs,
                human_bytes(rate as u64),
                o.verified,
                o.files - o.skipped,
                if o.skipped > 0 {
                    format!(", {} skipped", o.skipped)
                } else {
                    String::new()
                },
                if o.failed > 0 {
                    format!(", {} FAILED", o.failed)
                } else {
                    String::new()
                },
            ),
        )
        .with("files", o.files)
        .with("verified", o.verified)
        .with("skipped", o.skipped)
        .with("failed", o.failed)
        .with("bytes", o.bytes)
        .with("seconds", secs)
        .with("ok", o.ok()),
    );
}

pub(crate) fn tick_with(
    progress: &Option<ProgressFn>,
    phase: Phase,
    done: u64,
    total: u64,
    file: Option<&str>,
) {
    if let Some(p) = progress {
        p(&Progress {
            phase,
            done,
            total,
            file: file.map(str::to_string),
        });
    }
}

fn tick(cfg: &SendConfig, phase: Phase, done: u64, total: u64, file: Option<&str>) {
    tick_with(&cfg.progress, phase, done, total, file);
}

fn send_files(
    w: &mut &TcpStream,
    m: &Manifest,
    answers: &[Answer],
    cfg: &SendConfig,
    total: u64,
) -> Result<(), TransferError> {
    let wire = |e: std::io::Error| from_proto(e.into());
    let mut out: Vec<u8> = Vec::with_capacity(FLUSH_AT + FRAME + 64);
    for (i, (e, a)) in m.offer.entries.iter().zip(answers).enumerate() {
        if e.kind != Kind::File {
            continue;
        }
        let name = escape(&e.display_path());
        let index = i as u32;
        let file = match std::fs::File::open(&m.sources[i]) {
            Ok(f) => f,
            Err(err)
                if matches!(
                    a,
                    Answer::Send | Answer::Resume { .. } | Answer::Same { .. }
                ) =>
            {
                cfg.events.emit(
                    Event::warn(
                        "file-failed",
                        format!("{name}: {}", crate::net::error::describe(&err)),
                    )
                    .with("path", name.as_str()),
                );
                continue;
            }
            Err(_) => continue,
        };
        let mut hasher = blake3::Hasher::new();
        let start = match *a {
            Answer::Skip | Answer::Refuse => continue,
            Answer::Send => 0,
            Answer::Resume { offset, hash } => {
                if offset > e.size || !prefix_matches(&file, offset, &hash, &mut hasher, cfg, &name)
                {
                    cfg.events.emit(
                        Event::info(
                            "restart",
                            format!("{name}: the receiver's part file differs, sending it whole"),
                        )
                        .with("path", name.as_str()),
                    );
                    hasher = blake3::Hasher::new();
                    0
                } else {
                    cfg.events.emit(
                        Event::info(
                            "resume",
                            format!(
                                "{name}: resuming at {}% ({} already there)",
                                offset * 100 / e.size.max(1),
                                human_bytes(offset)
                            ),
                        )
                        .with("path", name.as_str())
                        .with("offset", offset),
                    );
                    offset
                }
            }
            Answer::Same { hash, send } => {
                if prefix_matches(&file, e.size, &hash, &mut hasher, cfg, &name) {
                    e.size
                } else if send {
                    hasher = blake3::Hasher::new();
                    0
                } else {
                    continue;
                }
            }
        };
        tick(cfg, Phase::Transfer, 0, total, Some(&name));
        Record::FileStart { index, start }.encode(&mut out);
        let mut pos = start;
        let mut failed: Option<String> = None;
        while pos < e.size {
            let n = (e.size - pos).min(FRAME as u64) as usize;
            let at = out.len() + 5;
            out.resize(at + n, 0);
            match read_full(&file, &mut out[at..], pos) {
                Ok(()) => {}
                Err(err) => {
                    out.truncate(at - 5);
                    failed = Some(crate::net::error::describe(&err));
                    break;
                }
            }
            super::records::put_data_header(&mut out, at - 5, n as u32);
            hasher.update(&out[at..]);
            pos += n as u64;
            if out.len() >= FLUSH_AT {
                w.write_all(&out).map_err(wire)?;
                out.clear();
            }
        }
        match failed {
            Some(why) => {
                cfg.events.emit(
                    Event::warn("file-failed", format!("{name}: {why}; aborted"))
                        .with("path", name.as_str()),
                );
                Record::Abort(why).encode(&mut out);
            }
            None => Record::Trailer(*hasher.finalize().as_bytes()).encode(&mut out),
        }
        if out.len() >= FLUSH_AT {
            w.write_all(&out).map_err(wire)?;
            out.clear();
        }
    }
    Record::End.encode(&mut out);
    w.write_all(&out).map_err(wire)?;
    w.flush().map_err(wire)?;
    Ok(())
}

/// Reads exactly `buf.len()` bytes at `pos`; a file that shrank is an error.
fn read_full(file: &std::fs::File, buf: &mut [u8], mut pos: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], pos) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file shrank while being sent",
                ))
            }
            Ok(n) => {
                done += n;
                pos += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Hashes our first `len` bytes into `hasher` and compares with the receiver's digest.
fn prefix_matches(
    file: &std::fs::File,
    len: u64,
    theirs: &[u8; 32],
    hasher: &mut blake3::Hasher,
    cfg: &SendConfig,
    name: &str,
) -> bool {
    let mut last = Instant::now();
    let ok = super::fs::hash_prefix(file, len, hasher, |done| {
        if last.elapsed() >= Duration::from_millis(100) {
            last = Instant::now();
            tick(cfg, Phase::Hashing, done, len, Some(name));
        }
    });
    ok.is_ok() && hasher.clone().finalize().as_bytes() == theirs
}

fn read_acks(
    stream: TcpStream,
    leftover: Vec<u8>,
    cfg: &SendConfig,
    names: &[String],
    total: u64,
) -> Result<Status, TransferError> {
    let mut rd = BufReader::new((&leftover[..]).chain(&stream));
    loop {
        match Ack::read(&mut rd).map_err(from_proto)? {
            Ack::Progress(n) => tick(cfg, Phase::Transfer, n, total, None),
            Ack::Verdict {
                index,
                result,
                bytes,
            } => {
                let name = names.get(index as usize).map_or("?", String::as_str);
                tick(cfg, Phase::Transfer, bytes, total, Some(name));
                let ev = match result {
                    FileResult::Verified | FileResult::Identical => {
                        Event::verbose("file-done", format!("{name}: {}", result.describe()))
                    }
                    _ => Event::warn("file-failed", format!("{name}: {}", result.describe())),
                };
                cfg.events
                    .emit(ev.with("path", name).with("result", result.describe()));
            }
            Ack::Status(s) => return Ok(s),
            Ack::Error(why) => {
                return Err(
                    ProtoError::Violation(format!("the receiver says: {}", escape(&why))).into(),
                )
            }
        }
    }
}
