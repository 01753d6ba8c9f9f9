//! The receiver's data phase: check each record against the accepted manifest, hash and
//! write file bytes as they arrive, verify, place, acknowledge.
//!
//! The accepted manifest is binding. A record for an entry that was not accepted, a data
//! frame outside a file or past its declared size, a file out of order: each is a
//! protocol error that ends the session before a byte of it is written (the part file
//! being written is deleted: a peer that breaks the protocol gets nothing kept). A
//! connection that is merely cut keeps its part files, for the next session to resume.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use super::fs::{self, Root, LARGE_FILE};
use super::paths::escape;
use super::plan::{OnExisting, Plan};
use super::proto::{limits, Answer, Digest, Kind, Offer, ProtoError};
use super::records::{Ack, FileResult, Record, Status};
use super::recv::{RecvConfig, SyncMode};
use super::report::{from_proto, Outcome, Phase, TransferError};
use super::send::tick_with;
use crate::event::Event;

/// Acknowledge progress at least this often (bytes) ...
const ACK_BYTES: u64 = 1 << 20;
/// ... or this often (time).
const ACK_EVERY: Duration = Duration::from_millis(100);

/// The file being received.
struct Current {
    index: usize,
    dir: Option<OwnedFd>,
    part: String,
    file: Option<std::fs::File>,
    hasher: blake3::Hasher,
    pos: u64,
    remaining: u64,
    /// "Identical": no data, the trailer is compared with this digest.
    identical: Option<Digest>,
    failed: Option<String>,
}

/// Runs the data phase to the end record, then finishes (symlinks, folder metadata,
/// sync) and sends the final status.
pub fn receive(
    rd: &mut BufReader<&TcpStream>,
    stream: &TcpStream,
    root: &Root,
    offer: &Offer,
    plan: &mut Plan,
    cfg: &RecvConfig,
) -> Result<Outcome, TransferError> {
    let mut w = stream;
    let mut s = Session {
        root,
        offer,
        plan,
        cfg,
        results: vec![None; offer.entries.len()],
        bytes: 0,
        last_ack: (0, Instant::now()),
        dir_cache: None,
    };
    let mut buf = vec![0u8; limits::FRAME as usize];
    let mut current: Option<Current> = None;
    let mut next = 0usize;
    let run = (|| -> Result<(), TransferError> {
        loop {
            match Record::read(rd).map_err(from_proto)? {
                Record::FileStart { index, start } => {
                    if current.is_some() {
                        return Err(violation("a file starts before the previous one ended"));
                    }
                    let index = index as usize;
                    if index < next || index >= offer.entries.len() {
                        return Err(violation(&format!("data for entry {index}, which is not next in the manifest (data beyond the manifest)")));
                    }
                    next = index + 1;
                    current = Some(s.start(index, start)?);
                }
                Record::Data { len } => {
                    let Some(cur) = current.as_mut() else {
                        return Err(violation("data outside a file (data beyond the manifest)"));
                    };
                    if u64::from(len) > cur.remaining {
                        return Err(violation(&format!(
                            "{} bytes of data past the declared size of {} (data beyond the manifest)",
                            u64::from(len) - cur.remaining,
                            escape(&offer.entries[cur.index].display_path())
                        )));
                    }
                    let payload = &mut buf[..len as usize];
                    rd.read_exact(payload).map_err(|e| from_proto(e.into()))?;
                    s.write(cur, payload);
                    s.maybe_ack(&mut w, Some(cur.index))?;
                }
                Record::Trailer(digest) => {
                    let Some(cur) = current.take() else {
                        return Err(violation("a trailer outside a file"));
                    };
                    if cur.remaining != 0 {
                        let index = cur.index;
                        current = Some(cur);
                        return Err(violation(&format!(
                            "the trailer of entry {index} came {} bytes early",
                            current.as_ref().map_or(0, |c| c.remaining)
                        )));
                    }
                    let index = cur.index;
                    let result = s.finish(cur, &digest);
                    s.verdict(&mut w, index, result)?;
                }
                Record::Abort(why) => {
                    let Some(cur) = current.take() else {
                        return Err(violation("an abort outside a file"));
                    };
                    let shown = escape(&offer.entries[cur.index].display_path());
                    cfg.events.emit(
                        Event::warn(
                            "file-failed",
                            format!("{shown}: the sender aborted it: {}", escape(&why)),
                        )
                        .with("path", shown.as_str()),
                    );
                    s.verdict(&mut w, cur.index, FileResult::Aborted)?;
                }
                Record::End => {
                    if current.is_some() {
                        return Err(violation("the end came inside a file"));
                    }
                    return Ok(());
                }
            }
        }
    })();
    if let Err(err) = run {
        if let Some(cur) = current.take() {
            if matches!(err, TransferError::Protocol(_)) {
                if let Some(dir) = &cur.dir {
                    let _ = fs::remove(dir, &cur.part);
                }
            }
        }
        if let TransferError::Protocol(ProtoError::Violation(why)) = &err {
            let mut out = Vec::new();
            Ack::Error(why.clone()).encode(&mut out);
            let _ = w.write_all(&out);
        }
        return Err(err);
    }
    s.finish_session(&mut w)
}

fn violation(why: &str) -> TransferError {
    ProtoError::Violation(why.to_string()).into()
}

struct Session<'a> {
    root: &'a Root,
    offer: &'a Offer,
    plan: &'a mut Plan,
    cfg: &'a RecvConfig,
    results: Vec<Option<FileResult>>,
    bytes: u64,
    last_ack: (u64, Instant),
    dir_cache: Option<(Vec<String>, OwnedFd)>,
}

impl Session<'_> {
    fn dir(&mut self, parent: &[String]) -> std::io::Result<OwnedFd> {
        if let Some((p, fd)) = &self.dir_cache {
            if p.as_slice() == parent {
                return fd.try_clone();
            }
        }
        let fd = self.root.open_dir(parent)?;
        self.dir_cache = Some((parent.to_vec(), fd.try_clone()?));
        Ok(fd)
    }

    fn start(&mut self, index: usize, start: u64) -> Result<Current, TransferError> {
        let e = &self.offer.entries[index];
        if e.kind != Kind::File {
            return Err(violation(&format!(
                "data for entry {index}, which is not a file"
            )));
        }
        let planned = &mut self.plan.entries[index];
        let valid = match planned.answer {
            Answer::Send => start == 0,
            Answer::Resume { offset, .. } => start == 0 || start == offset,
            Answer::Same { send, .. } => start == e.size || (send && start == 0),
            Answer::Skip | Answer::Refuse => false,
        };
        if !valid {
            return Err(violation(&format!(
                "data for entry {index} from byte {start}, which was not accepted (data beyond the manifest)"
            )));
        }
        let (name, parent) = e
            .path
            .split_last()
            .ok_or_else(|| violation("an empty path"))?;
        let mut cur = Current {
            index,
            dir: None,
            part: fs::part_name(name),
            file: None,
            hasher: blake3::Hasher::new(),
            pos: start,
            remaining: e.size - start,
            identical: None,
            failed: None,
        };
        if let Answer::Same { hash, .. } = planned.answer {
            if start == e.size {
                cur.identical = Some(hash);
                return Ok(cur);
            }
        }
        if start > 0 {
            if let Some(h) = planned.prefix.take() {
                cur.hasher = *h;
            }
        }
        let opened = self.dir(parent).and_then(|dir| {
            let file = fs::open_part(&dir, &cur.part, start == 0)?;
            if start > 0 {
                file.set_len(start)?;
            }
            Ok((dir, file))
        });
        match opened {
            Ok((dir, file)) => {
                cur.dir = Some(dir);
                cur.file = Some(file);
            }
            Err(err) => cur.failed = Some(crate::net::error::describe(&err)),
        }
        tick_with(
            &self.cfg.progress,
            Phase::Transfer,
            self.bytes,
            self.plan.needed,
            Some(&escape(&e.display_path())),
        );
        Ok(cur)
    }

    fn write(&mut self, cur: &mut Current, data: &[u8]) {
        cur.hasher.update(data);
        if cur.failed.is_none() {
            if let Some(f) = &cur.file {
                if let Err(err) = f.write_all_at(data, cur.pos) {
                    cur.failed = Some(crate::net::error::describe(&err));
                }
            }
        }
        cur.pos += data.len() as u64;
        cur.remaining -= data.len() as u64;
        self.bytes += data.len() as u64;
    }

    fn maybe_ack(&mut self, w: &mut &TcpStream, index: Option<usize>) -> Result<(), TransferError> {
        if self.bytes - self.last_ack.0 >= ACK_BYTES || self.last_ack.1.elapsed() >= ACK_EVERY {
            self.last_ack = (self.bytes, Instant::now());
            let mut out = Vec::with_capacity(16);
            Ack::Progress(self.bytes).encode(&mut out);
            w.write_all(&out).map_err(|e| from_proto(e.into()))?;
            let file = index.map(|i| escape(&self.offer.entries[i].display_path()));
            tick_with(
                &self.cfg.progress,
                Phase::Transfer,
                self.bytes,
                self.plan.needed,
                file.as_deref(),
            );
        }
        Ok(())
    }

    /// Verifies and places a finished file.
    fn finish(&mut self, cur: Current, digest: &Digest) -> FileResult {
        let e = &self.offer.entries[cur.index];
        let shown = escape(&e.display_path());
        if let Some(have) = cur.identical {
            return if &have == digest {
                FileResult::Identical
            } else {
                FileResult::Mismatch
            };
        }
        let (Some(dir), Some(file), None) = (&cur.dir, &cur.file, &cur.failed) else {
            let why = cur.failed.as_deref().unwrap_or("not opened");
            self.cfg.events.emit(
                Event::warn(
                    "file-failed",
                    format!("{shown}: could not be written: {why}"),
                )
                .with("path", shown.as_str()),
            );
            if let Some(dir) = &cur.dir {
                let _ = fs::remove(dir, &cur.part);
            }
            return FileResult::WriteFailed;
        };
        if cur.hasher.finalize().as_bytes() != digest {
            let _ = fs::remove(dir, &cur.part);
            self.cfg.events.emit(
                Event::warn(
                    "file-failed",
                    format!("{shown}: digest mismatch: the part file was deleted"),
                )
                .with("path", shown.as_str()),
            );
            return FileResult::Mismatch;
        }
        let sync = match self.cfg.sync {
            SyncMode::File => true,
            SyncMode::Batch => e.size >= LARGE_FILE,
            SyncMode::None => false,
        };
        let meta = fs::set_file_meta(file, e.mode, e.mtime, e.mtime_nanos).and_then(|()| {
            if sync {
                file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(err) = meta {
            self.cfg.events.emit(
                Event::warn(
                    "file-failed",
                    format!("{shown}: {}", crate::net::error::describe(&err)),
                )
                .with("path", shown.as_str()),
            );
            return FileResult::WriteFailed;
        }
        let name = e.path.last().map_or("", String::as_str);
        let how = self.plan.entries[cur.index].place;
        match fs::place(dir, &cur.part, name, how) {
            Ok(Some(got)) => {
                if self.cfg.sync == SyncMode::File {
                    let _ = fs::sync_dir(dir);
                }
                if got != name {
                    self.cfg.events.emit(
                        Event::info("renamed", format!("{shown}: saved as {}", escape(&got)))
                            .with("path", shown.as_str()),
                    );
                }
                FileResult::Verified
            }
            Ok(None) => {
                self.cfg.events.emit(
                    Event::warn(
                        "file-failed",
                        format!(
                            "{shown}: its name was taken meanwhile; kept as {}",
                            escape(&cur.part)
                        ),
                    )
                    .with("path", shown.as_str()),
                );
                FileResult::NotPlaced
            }
            Err(err) => {
                self.cfg.events.emit(
                    Event::warn(
                        "file-failed",
                        format!("{shown}: rename: {}", crate::net::error::describe(&err)),
                    )
                    .with("path", shown.as_str()),
                );
                FileResult::WriteFailed
            }
        }
    }

    fn verdict(
        &mut self,
        w: &mut &TcpStream,
        index: usize,
        result: FileResult,
    ) -> Result<(), TransferError> {
        self.results[index] = Some(result);
        let shown = escape(&self.offer.entries[index].display_path());
        if result.is_ok() {
            self.cfg.events.emit(
                Event::verbose("file-done", format!("{shown}: {}", result.describe()))
                    .with("path", shown.as_str()),
            );
        }
        tick_with(
            &self.cfg.progress,
            Phase::Transfer,
            self.bytes,
            self.plan.needed,
            Some(&shown),
        );
        let mut out = Vec::with_capacity(16);
        Ack::Verdict {
            index: index as u32,
            result,
            bytes: self.bytes,
        }
        .encode(&mut out);
        w.write_all(&out).map_err(|e| from_proto(e.into()))
    }

    /// After the end record: symlinks, folder modes and mtimes, sync, the final status.
    fn finish_session(mut self, w: &mut &TcpStream) -> Result<Outcome, TransferError> {
        let mut status = Status {
            bytes: self.bytes,
            ..Status::default()
        };
        for (i, e) in self.offer.entries.iter().enumerate() {
            let p = &self.plan.entries[i];
            let shown = escape(&e.display_path());
            match e.kind {
                Kind::Folder => {}
                Kind::Symlink => {
                    if p.answer == Answer::Send {
                        let (name, parent) = match e.path.split_last() {
                            Some(x) => x,
                            None => continue,
                        };
                        let made = self.root.open_dir(parent).and_then(|dir| {
                            if self.cfg.existing == OnExisting::Overwrite {
                                let _ = fs::remove(&dir, name);
                            }
                            fs::make_symlink(&dir, name, e.link.as_deref().unwrap_or(""))
                        });
                        if let Err(err) = made {
                            self.cfg.events.emit(Event::warn(
                                "file-failed",
                                format!("{shown}: symlink: {}", crate::net::error::describe(&err)),
                            ));
                        }
                    }
                }
                Kind::File => match (p.answer, self.results[i]) {
                    (_, Some(r)) if r.is_ok() => status.verified += 1,
                    (_, Some(_)) => status.failed += 1,
                    (Answer::Skip, None) => status.skipped += 1,
                    (Answer::Same { send: false, .. }, None)
                        if self.cfg.existing == OnExisting::Skip =>
                    {
                        status.skipped += 1
                    }
                    (Answer::Refuse, None) | (Answer::Same { send: false, .. }, None) => {
                        status.failed += 1
                    }
                    (_, None) => {
                        self.cfg.events.emit(
                            Event::warn("file-failed", format!("{shown}: never sent"))
                                .with("path", shown.as_str()),
                        );
                        status.failed += 1;
                    }
                },
            }
        }
        // Deepest folders first: setting a folder's mtime must come after every change
        // inside it, and a read-only mode after every write.
        for (e, p) in self
            .offer
            .entries
            .iter()
            .zip(self.plan.entries.iter())
            .rev()
        {
            if e.kind == Kind::Folder && p.created {
                if let Ok(dir) = self.root.open_dir(&e.path) {
                    let _ = fs::set_dir_meta(&dir, e.mode, e.mtime, e.mtime_nanos);
                }
            }
        }
        self.dir_cache = None;
        if self.cfg.sync != SyncMode::None {
            if let Err(err) = self.root.sync_all() {
                self.cfg.events.emit(Event::warn(
                    "sync-failed",
                    format!("syncfs: {}", crate::net::error::describe(&err)),
                ));
                status.failed = status.failed.max(1);
            }
        }
        let mut out = Vec::with_capacity(32);
        Ack::Status(status).encode(&mut out);
        w.write_all(&out).map_err(|e| from_proto(e.into()))?;
        let files = self
            .offer
            .entries
            .iter()
            .filter(|e| e.kind == Kind::File)
            .count() as u64;
        Ok(Outcome {
            files,
            verified: u64::from(status.verified),
            skipped: u64::from(status.skipped),
            failed: u64::from(status.failed),
            bytes: status.bytes,
            resumed: 0,
            elapsed: Duration::ZERO,
        })
    }
}
