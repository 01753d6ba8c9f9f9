//! The receiving end: listen, take one session at a time, validate the whole offer
//! before touching the disk, ask, answer per entry, then hand the data phase to
//! [`super::sink`].
//!
//! Sessions are served one after the other: a receiver writes into one folder, and two
//! offers racing for the same names would make "never replace" and "resume" ambiguous. A
//! second sender waits in the listen backlog until the first session ends (or its peer
//! goes silent for the timeout).

use std::future::Future;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::fs::Root;
use super::paths::{self, escape};
use super::plan::{self, OnExisting, PlanOptions};
use super::proto::{
    self, Hello, Kind, Offer, ProtoError, Verdict, CAP_RESUME, CAP_SYMLINKS, VERSION,
};
use super::report::{from_proto, human_bytes, Outcome, Phase, ProgressFn, TransferError};
use super::send::tick_with;
use super::sink;
use crate::event::{Event, Events};

/// How received files are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// One `syncfs` at the end of the session; files of 16 MiB or more fsynced before
    /// their rename (the default: measured 2.5–3x faster than fsync per small file).
    #[default]
    Batch,
    /// fsync every file before its rename, and its folder after.
    File,
    /// Leave it to the kernel.
    None,
}

/// What the person (or policy) is asked about: who offers what.
pub struct OfferInfo<'a> {
    /// The sender's address.
    pub peer: SocketAddr,
    /// The validated offer.
    pub offer: &'a Offer,
}

/// Decides on a validated offer (the binary asks on the terminal, or says yes for
/// `--yes`). Runs on the session's thread and may block while a person decides.
pub type AcceptFn = Arc<dyn Fn(&OfferInfo<'_>) -> bool + Send + Sync>;

/// What `serve` needs.
#[derive(Clone)]
pub struct RecvConfig {
    /// The target folder (created if missing).
    pub dir: PathBuf,
    /// What to do with existing files.
    pub existing: OnExisting,
    /// Skip files already there with the same content.
    pub skip_identical: bool,
    /// Offer to resume from part files.
    pub resume: bool,
    /// Refuse offers over this many bytes.
    pub max_size: Option<u64>,
    /// Durability.
    pub sync: SyncMode,
    /// Serve one session, then return.
    pub once: bool,
    /// How long a sender may stay silent.
    pub timeout: Duration,
    /// Where events go.
    pub events: Events,
    /// Where progress goes.
    pub progress: Option<ProgressFn>,
    /// Accepts or declines an offer.
    pub accept: AcceptFn,
}

/// How `serve` ended.
#[derive(Debug, Clone, Default)]
pub struct ServeReport {
    /// Sessions served.
    pub sessions: u64,
    /// Sessions in which not every file arrived (or that failed).
    pub failed: u64,
}

/// Serves transfer sessions on `listener` until `shutdown` completes (or after one session
/// with `once`). Each session's problems are reported as events and counted; only a
/// failure of the listener itself is an error.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: RecvConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<ServeReport, TransferError> {
    let local = listener
        .local_addr()
        .map_err(|e| TransferError::io("getsockname", e))?;
    config.events.emit(
        Event::info(
            "listening",
            format!(
                "listening on tcp {local}, saving into {}",
                config.dir.display()
            ),
        )
        .with("addr", local)
        .with("port", local.port()),
    );
    let config = Arc::new(config);
    let mut report = ServeReport::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    config.events.emit(Event::warn("accept-error", format!("accept: {}", crate::net::error::describe(&e))));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        config
            .events
            .emit(Event::info("connection", format!("connection from {peer}")).with("peer", peer));
        let stream = match stream
            .into_std()
            .and_then(|s| s.set_nonblocking(false).map(|()| s))
        {
            Ok(s) => s,
            Err(e) => {
                config
                    .events
                    .emit(Event::warn("session-failed", format!("{peer}: {e}")));
                continue;
            }
        };
        let waker = stream
            .try_clone()
            .map_err(|e| TransferError::io("socket", e))?;
        let cfg = config.clone();
        let job = tokio::task::spawn_blocking(move || session(stream, peer, &cfg));
        tokio::pin!(job);
        let result = tokio::select! {
            r = &mut job => r.unwrap_or_else(|e| Err(TransferError::io("session", std::io::Error::other(e)))),
            () = &mut shutdown => {
                let _ = waker.shutdown(std::net::Shutdown::Both);
                let _ = job.await;
                report.sessions += 1;
                report.failed += 1;
                break;
            }
        };
        report.sessions += 1;
        match result {
            Ok(outcome) if outcome.ok() => {}
            Ok(_) => report.failed += 1,
            Err(e) => {
                report.failed += 1;
                config.events.emit(
                    Event::error("session-failed", format!("session with {peer} failed: {e}"))
                        .with("peer", peer),
                );
            }
        }
        if config.once {
            break;
        }
    }
    Ok(report)
}

fn session(
    stream: TcpStream,
    peer: SocketAddr,
    cfg: &RecvConfig,
) -> Result<Outcome, TransferError> {
    let started = Instant::now();
    let sock = |e| TransferError::io("socket", e);
    stream.set_read_timeout(Some(cfg.timeout)).map_err(sock)?;
    stream.set_write_timeout(Some(cfg.timeout)).map_err(sock)?;
    let _ = stream.set_nodelay(true);
    let mut rd = BufReader::with_capacity(256 << 10, &stream);
    let mut w = &stream;
    let wire = |e: std::io::Error| from_proto(e.into());

    let theirs = Hello::read(&mut rd).map_err(from_proto)?;
    let mut ours = CAP_SYMLINKS;
    if cfg.resume {
        ours |= CAP_RESUME;
    }
    let caps = ours & theirs.caps;
    let hello = Hello {
        version: VERSION,
        caps,
        session: super::random16(),
    };
    w.write_all(&hello.encode()).map_err(wire)?;
    if theirs.version != VERSION {
        return Err(ProtoError::Version(theirs.version).into());
    }
    let offer = match proto::read_offer(&mut rd) {
        Ok(o) => o,
        Err(ProtoError::Invalid(why)) => return refuse(w, peer, cfg, Verdict::Invalid, &why),
        Err(e) => return Err(from_proto(e)),
    };
    if let Err(why) = paths::validate(&offer, caps & CAP_SYMLINKS != 0) {
        return refuse(w, peer, cfg, Verdict::Invalid, &why);
    }
    describe(&offer, peer, &cfg.events);
    if let Some(max) = cfg.max_size {
        if offer.total > max {
            let why = format!(
                "{} is over the limit of {} (--max-size)",
                human_bytes(offer.total),
                human_bytes(max)
            );
            return refuse(w, peer, cfg, Verdict::TooLarge, &why);
        }
    }
    tick_with(&cfg.progress, Phase::Waiting, 0, 0, None);
    if !(cfg.accept)(&OfferInfo {
        peer,
        offer: &offer,
    }) {
        return refuse(w, peer, cfg, Verdict::Declined, "declined");
    }
    let root = Root::open(&cfg.dir)
        .map_err(|e| TransferError::io(format!("open {}", cfg.dir.display()), e))?;
    let opts = PlanOptions {
        existing: cfg.existing,
        skip_identical: cfg.skip_identical,
        resume: caps & CAP_RESUME != 0,
        events: cfg.events.clone(),
        progress: cfg.progress.clone(),
    };
    let mut plan = plan::make(&root, &offer, &opts)
        .map_err(|e| TransferError::io("look at the target folder", e))?;
    let free = root
        .free_bytes()
        .map_err(|e| TransferError::io("statvfs", e))?;
    if plan.needed > free {
        let why = format!(
            "{} to come, {} free",
            human_bytes(plan.needed),
            human_bytes(free)
        );
        return refuse(w, peer, cfg, Verdict::NoSpace, &why);
    }
    plan::create_folders(&root, &offer, &mut plan, &cfg.events);
    let mut out = proto::encode_decision(Verdict::Accepted, "");
    for p in &plan.entries {
        p.answer.encode(&mut out);
        if out.len() >= 64 << 10 {
            w.write_all(&out).map_err(wire)?;
            out.clear();
        }
    }
    w.write_all(&out).map_err(wire)?;
    let mut outcome = sink::receive(&mut rd, &stream, &root, &offer, &mut plan, cfg)?;
    outcome.elapsed = started.elapsed();
    super::send::summary(&cfg.events, &outcome, "received");
    Ok(outcome)
}

/// Sends a refusal, says so, and ends the session; nothing was written.
fn refuse(
    mut w: &TcpStream,
    peer: SocketAddr,
    cfg: &RecvConfig,
    verdict: Verdict,
    why: &str,
) -> Result<Outcome, TransferError> {
    let _ = w.write_all(&proto::encode_decision(verdict, why));
    let _ = w.flush();
    cfg.events.emit(
        Event::warn("refused", format!("refused the offer from {peer}: {why}"))
            .with("peer", peer)
            .with("reason", why),
    );
    Err(TransferError::Refused(why.to_string()))
}

/// How many names a list in the offer summary shows before "and N more".
const LIST_MAX: usize = 20;

/// Shows who offers what: counts and size, a summary per top-level entry, and every
/// dot-file and executable by name (the entries a person should look at twice).
fn describe(offer: &Offer, peer: SocketAddr, events: &Events) {
    let files = offer
        .entries
        .iter()
        .filter(|e| e.kind == Kind::File)
        .count();
    let folders = offer
        .entries
        .iter()
        .filter(|e| e.kind == Kind::Folder)
        .count();
    let links = offer
        .entries
        .iter()
        .filter(|e| e.kind == Kind::Symlink)
        .count();
    let name = escape(&offer.name);
    let mut msg = format!(
        "{peer} ({name}) offers {files} files, {folders} folders{} ({})",
        if links > 0 {
            format!(", {links} symlinks")
        } else {
            String::new()
        },
        human_bytes(offer.total)
    );
    let mut tops: Vec<(String, u64, u64, bool)> = Vec::new();
    for e in &offer.entries {
        if e.path.len() == 1 {
            tops.push((escape(&e.path[0]), 0, e.size, e.kind == Kind::Folder));
        } else if let Some(t) = tops.last_mut() {
            if e.kind == Kind::File {
                t.1 += 1;
                t.2 += e.size;
            }
        }
    }
    let shown: Vec<String> = tops
        .iter()
        .take(LIST_MAX)
        .map(|(n, count, size, dir)| {
            if *dir {
                format!("{n}/ ({count} files, {})", human_bytes(*size))
            } else {
                format!("{n} ({})", human_bytes(*size))
            }
        })
        .collect();
    msg.push_str(": ");
    msg.push_str(&list(shown, tops.len()));
    events.emit(
        Event::info("offer", msg)
            .with("peer", peer)
            .with("sender", name.as_str())
            .with("files", files)
            .with("folders", folders)
            .with("bytes", offer.total),
    );
    let dots: Vec<String> = offer
        .entries
        .iter()
        .filter(|e| e.path.last().is_some_and(|c| c.starts_with('.')))
        .map(|e| escape(&e.display_path()))
        .collect();
    if !dots.is_empty() {
        let n = dots.len();
        events.emit(
            Event::info("offer-dotfiles", format!("dot-files: {}", dots.join(", ")))
                .with("count", n),
        );
    }
    let exes: Vec<String> = offer
        .entries
        .iter()
        .filter(|e| e.kind == Kind::File && e.mode & 0o111 != 0)
        .map(|e| escape(&e.display_path()))
        .collect();
    if !exes.is_empty() {
        let n = exes.len();
        events.emit(
            Event::info(
                "offer-executables",
                format!("executables: {}", exes.join(", ")),
            )
            .with("count", n),
        );
    }
}

fn list(mut names: Vec<String>, total: usize) -> String {
    names.truncate(LIST_MAX);
    let mut s = names.join(", ");
    if total > LIST_MAX {
        s.push_str(&format!(" and {} more", total - LIST_MAX));
    }
    s
}
