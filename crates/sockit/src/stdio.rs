//! Stdin and stdout on dedicated threads, with big buffers.
//!
//! tokio's own `stdin()`/`stdout()` hand every read and write to the blocking pool and
//! copy through an intermediate buffer; for a `head -c 4G /dev/zero | sockit ...` pipe that
//! is the bottleneck. Here one thread per direction does plain blocking `read(2)` /
//! `write(2)` with 256 KiB buffers and passes `Bytes` over a small channel: no extra copy,
//! few system calls, and the async side never blocks on a slow terminal or pipe.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame::BufferPool;
use tokio::sync::{mpsc, oneshot};

/// Size of each stdin read at most (a pipe grown to 1 MiB can fill it in one read).
pub const STDIN_CHUNK: usize = 1 << 20;

/// Chunks in flight between the stdin thread and the network (bounded: backpressure).
const STDIN_QUEUE: usize = 4;

/// Chunks in flight towards stdout (bounded: a slow stdout slows the network reader
/// down instead of filling memory).
const STDOUT_QUEUE: usize = 16;

/// A stream of stdin chunks; `None` after end of input, `Some(Err)` on a read error.
pub type InputChunks = mpsc::Receiver<io::Result<Bytes>>;

/// Starts a thread reading stdin in chunks of up to [`STDIN_CHUNK`] bytes.
///
/// The thread is detached: if the program finishes while it is blocked in `read` (a
/// terminal nobody types into), the process exits anyway.
pub fn spawn_stdin() -> InputChunks {
    let (tx, rx) = mpsc::channel(STDIN_QUEUE);
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_loop(libc::STDIN_FILENO, tx));
    if let Err(err) = spawned {
        // Without a thread there is no stdin; report it as a read error.
        let (tx, rx) = mpsc::channel(1);
        let _ = tx.try_send(Err(err));
        return rx;
    }
    rx
}

/// True when stdin is a terminal that belongs to another process group: the program was
/// started in the background (`sockit tcp listen 9000 &`). Reading would stop the whole
/// process with SIGTTIN, so servers then leave stdin alone.
pub fn stdin_is_background_terminal() -> bool {
    let stdin = std::io::stdin();
    rustix::termios::isatty(&stdin)
        && rustix::termios::tcgetpgrp(&stdin).is_ok_and(|pgrp| pgrp != rustix::process::getpgrp())
}

/// Turns every `\n` not already preceded by `\r` into `\r\n` as the chunks pass (`-C`,
/// for talking to SMTP or HTTP by hand): line endings split across two chunks are
/// handled, and nothing is buffered beyond one chunk.
pub fn crlf(mut input: InputChunks) -> InputChunks {
    let (tx, rx) = mpsc::channel(STDIN_QUEUE);
    tokio::spawn(async move {
        let mut last_cr = false;
        while let Some(chunk) = input.recv().await {
            let item = chunk.map(|data| {
                let mut out = BytesMut::with_capacity(data.len() + data.len() / 16 + 1);
                for &b in data.iter() {
                    if b == b'\n' && !last_cr {
                        out.put_u8(b'\r');
                    }
                    out.put_u8(b);
                    last_cr = b == b'\r';
                }
                out.freeze()
            });
            if tx.send(item).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// An input that is already at its end (for modes that do not read stdin).
pub fn no_input() -> InputChunks {
    mpsc::channel(1).1
}

fn read_loop(fd: RawFd, tx: mpsc::Sender<io::Result<Bytes>>) {
    grow_pipe(fd);
    // 2 MiB buffers carved into reads of up to 1 MiB, reused once written.
    let mut pool = BufferPool::new(4, 2 * STDIN_CHUNK, STDIN_CHUNK / 4);
    loop {
        let buf = pool.buffer();
        match read_into(fd, buf) {
            Ok(0) => return,
            Ok(_) => {
                if tx.blocking_send(Ok(buf.split().freeze())).is_err() {
                    return;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => wait_fd(fd, libc::POLLIN),
            Err(err) => {
                let _ = tx.blocking_send(Err(err));
                return;
            }
        }
    }
}

/// `read(2)` into the spare capacity of `buf`, without zeroing it first.
fn read_into(fd: RawFd, buf: &mut BytesMut) -> io::Result<usize> {
    let spare = buf.chunk_mut();
    let len = spare.len().min(STDIN_CHUNK);
    // SAFETY: `spare` is valid for writes of `len` bytes; read(2) writes at most `len`.
    let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), len) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    // SAFETY: the kernel initialised the first `n` bytes of the spare capacity.
    unsafe { buf.advance_mut(n) };
    Ok(n)
}

/// Asks for a 1 MiB pipe buffer when `fd` is a pipe (the default is 64 KiB): the writer
/// on the other side blocks less often and each read returns more. Best effort.
fn grow_pipe(fd: RawFd) {
    // SAFETY: fcntl with F_SETPIPE_SZ only reads its integer argument; on a non-pipe it
    // fails with EBADF/EINVAL and changes nothing.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

/// Blocks until `fd` is ready for `events` (for descriptors inherited in non-blocking mode).
fn wait_fd(fd: RawFd, events: libc::c_short) {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1.
    unsafe {
        libc::poll(&mut pfd, 1, 1000);
    }
}

enum Msg {
    Data(Bytes),
    Flush(oneshot::Sender<()>),
}

/// The first error stdout failed with, kept so every later write can report it.
///
/// `io::Error` is not `Clone`; the OS error number (or, failing that, the kind) is enough
/// to rebuild an error that prints the same (`No space left on device (os error 28)`).
#[derive(Debug)]
struct Failure {
    failed: AtomicBool,
    code: Mutex<Option<FailureCode>>,
    /// Becomes `true` at the failure, for whoever waits in [`Output::failed`].
    signal: tokio::sync::watch::Sender<bool>,
}

impl Default for Failure {
    fn default() -> Failure {
        Failure {
            failed: AtomicBool::new(false),
            code: Mutex::new(None),
            signal: tokio::sync::watch::channel(false).0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum FailureCode {
    Os(i32),
    Kind(io::ErrorKind),
}

impl Failure {
    fn record(&self, err: &io::Error) {
        let mut code = self.code.lock().unwrap_or_else(|p| p.into_inner());
        if code.is_none() {
            *code = Some(match err.raw_os_error() {
                Some(errno) => FailureCode::Os(errno),
                None => FailureCode::Kind(err.kind()),
            });
        }
        self.failed.store(true, Ordering::Release);
        self.signal.send_replace(true);
    }

    fn error(&self) -> Option<io::Error> {
        if !self.failed.load(Ordering::Acquire) {
            return None;
        }
        let code = *self.code.lock().unwrap_or_else(|p| p.into_inner());
        Some(match code {
            Some(FailureCode::Os(errno)) => io::Error::from_raw_os_error(errno),
            Some(FailureCode::Kind(kind)) => io::Error::from(kind),
            None => io::Error::from(io::ErrorKind::BrokenPipe),
        })
    }
}

/// A handle for writing data to stdout. Cheap to clone; each [`Output::write`] reaches
/// stdout whole, in order, with one `write(2)` when possible.
///
/// Two kinds: [`Output::stdout`] hands data to a dedicated thread (servers: a slow
/// terminal must not stall the tasks serving clients), [`Output::direct`] writes in the
/// caller's thread (single-socket loops such as `udp listen`, where blocking on stdout is
/// exactly the right backpressure and a thread hand-off per batch would dominate the cost).
///
/// **Never losing data quietly.** When stdout fails (`EPIPE` because the reader of a pipe
/// went away, `ENOSPC` on a full disk), nothing more can be delivered: every later
/// [`Output::write`] and [`Output::flush`] returns that first error, so the caller stops
/// taking data from its peers (and says so) instead of reading on and discarding.
#[derive(Clone)]
pub struct Output {
    /// `None` for direct output.
    tx: Option<mpsc::Sender<Msg>>,
    fd: RawFd,
    failure: Arc<Failure>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("threaded", &self.tx.is_some())
            .field("failed", &self.is_closed())
            .finish()
    }
}

impl Output {
    /// Starts the stdout thread and returns a handle to it.
    pub fn stdout() -> Output {
        Output::spawn(libc::STDOUT_FILENO)
    }

    /// Writes to stdout directly from the calling thread, blocking while stdout blocks.
    pub fn direct() -> Output {
        Output {
            tx: None,
            fd: libc::STDOUT_FILENO,
            failure: Arc::default(),
        }
    }

    /// An output that discards everything (for library use and tests).
    pub fn sink() -> Output {
        let (tx, mut rx) = mpsc::channel::<Msg>(STDOUT_QUEUE);
        let _ = std::thread::Builder::new()
            .name("sink".into())
            .spawn(move || {
                while let Some(msg) = rx.blocking_recv() {
                    if let Msg::Flush(done) = msg {
                        let _ = done.send(());
                    }
                }
            });
        Output {
            tx: Some(tx),
            fd: -1,
            failure: Arc::default(),
        }
    }

    /// Output to any file descriptor the caller owns and keeps open (a file, a pipe, a
    /// socket), through a writer thread like [`Output::stdout`].
    pub fn to_fd(fd: RawFd) -> Output {
        Output::spawn(fd)
    }

    fn spawn(fd: RawFd) -> Output {
        let (tx, mut rx) = mpsc::channel::<Msg>(STDOUT_QUEUE);
        let failure = Arc::new(Failure::default());
        let seen = failure.clone();
        let spawned = std::thread::Builder::new()
            .name("stdout".into())
            .spawn(move || {
                while let Some(msg) = rx.blocking_recv() {
                    match msg {
                        Msg::Data(data) => write_or_fail(fd, &data, &seen),
                        Msg::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            });
        if let Err(err) = spawned {
            failure.record(&err);
        }
        Output {
            tx: Some(tx),
            fd,
            failure,
        }
    }

    /// Writes `data` to stdout: queued for the stdout thread (waiting while the queue is
    /// full: backpressure), or written at once by a direct output.
    ///
    /// Returns the error stdout failed with, if it has failed (possibly on an earlier,
    /// queued write): the data was not delivered and no later data will be.
    pub async fn write(&self, data: Bytes) -> io::Result<()> {
        if !self.worth_writing(&data)? {
            return Ok(());
        }
        match &self.tx {
            Some(tx) => tx.send(Msg::Data(data)).await.map_err(|_| self.gone())?,
            None => write_or_fail(self.fd, &data, &self.failure),
        }
        self.status()
    }

    /// Writes `data` from a non-async context; errors as [`Output::write`].
    pub fn write_blocking(&self, data: Bytes) -> io::Result<()> {
        if !self.worth_writing(&data)? {
            return Ok(());
        }
        match &self.tx {
            Some(tx) => tx.blocking_send(Msg::Data(data)).map_err(|_| self.gone())?,
            None => write_or_fail(self.fd, &data, &self.failure),
        }
        self.status()
    }

    /// `Err` once stdout has failed; `Ok(false)` for nothing to write.
    fn worth_writing(&self, data: &Bytes) -> io::Result<bool> {
        self.status()?;
        Ok(!data.is_empty())
    }

    /// Waits until everything written before this call has reached stdout, and says
    /// whether all of it did.
    pub async fn flush(&self) -> io::Result<()> {
        if let Some(tx) = &self.tx {
            let (done, wait) = oneshot::channel();
            if tx.send(Msg::Flush(done)).await.is_err() || wait.await.is_err() {
                return Err(self.gone());
            }
        }
        self.status()
    }

    /// Completes when stdout fails (at once if it already has). A server selects on it:
    /// a write queued for the stdout thread fails after `write` returned, and without
    /// another write nothing else would notice.
    pub async fn failed(&self) {
        let mut rx = self.failure.signal.subscribe();
        let _ = rx.wait_for(|failed| *failed).await;
    }

    /// True once stdout has failed: nothing written from then on is delivered.
    pub fn is_closed(&self) -> bool {
        self.failure.error().is_some()
    }

    /// `Err` with stdout's failure, if it failed.
    pub fn status(&self) -> io::Result<()> {
        match self.failure.error() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// The writer thread is gone (it could not be started, or it panicked).
    fn gone(&self) -> io::Error {
        self.failure
            .error()
            .unwrap_or_else(|| io::Error::other("stdout writer thread ended"))
    }
}

/// Writes unless stdout already failed; on failure (EPIPE from `| head`, a full disk)
/// records the error, so later output is refused instead of blocking or lost unseen.
fn write_or_fail(fd: RawFd, data: &[u8], failure: &Failure) {
    if failure.failed.load(Ordering::Relaxed) {
        return;
    }
    if let Err(err) = write_all(fd, data) {
        failure.record(&err);
    }
}

/// Writes everything with `write(2)`, retrying on EINTR and waiting on EAGAIN (stdout may
/// have been left non-blocking by another program sharing the terminal).
fn write_all(fd: RawFd, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: `data` is valid for reads of `data.len()` bytes.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    wait_fd(fd, libc::POLLOUT);
                    continue;
                }
                _ => return Err(err),
            }
        }
        data = &data[n as usize..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::{FromRawFd, IntoRawFd};

    #[tokio::test]
    async fn output_writes_in_order_and_flushes() {
        let (mut reader, writer) = std::io::pipe().unwrap();
        let out = Output::spawn(writer.into_raw_fd());
        for i in 0..100 {
            out.write(Bytes::from(format!("{i},"))).await.unwrap();
        }
        out.flush().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = reader.read(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(text.starts_with("0,1,2,"), "{text}");
        assert!(text.ends_with("98,99,"), "{text}");
    }

    #[tokio::test]
    async fn a_full_disk_is_reported_by_every_later_write() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Output::spawn(full.into_raw_fd());
        // The first write is queued; its failure shows at the latest on flush.
        let _ = out.write(Bytes::from_static(b"lost")).await;
        let err = out.flush().await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
        // Whoever waits for the failure hears of it.
        tokio::time::timeout(std::time::Duration::from_secs(5), out.failed())
            .await
            .unwrap();
        let again = out.write(Bytes::from_static(b"more")).await.unwrap_err();
        assert_eq!(again.raw_os_error(), Some(libc::ENOSPC));
        assert!(out.is_closed());
    }

    #[tokio::test]
    async fn a_closed_pipe_is_reported_by_direct_output() {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut out = Output::direct();
        out.fd = writer.into_raw_fd();
        let err = out.write(Bytes::from_static(b"x")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        assert!(out.flush().await.is_err());
    }

    #[tokio::test]
    async fn crlf_converts_bare_newlines_across_chunks() {
        let (tx, rx) = mpsc::channel(4);
        for part in [&b"HELO a\n"[..], b"DATA\r", b"\nx\n\n"] {
            tx.send(Ok(Bytes::copy_from_slice(part))).await.unwrap();
        }
        drop(tx);
        let mut out = crlf(rx);
        let mut all = Vec::new();
        while let Some(chunk) = out.recv().await {
            all.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(all, b"HELO a\r\nDATA\r\nx\r\n\r\n");
    }

    #[test]
    fn read_loop_delivers_everything_then_ends() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let fd = reader.into_raw_fd();
        let (tx, mut rx) = mpsc::channel(4);
        let thread = std::thread::spawn(move || read_loop(fd, tx));
        let feeder = std::thread::spawn(move || {
            std::io::Write::write_all(&mut writer, &vec![7u8; 1 << 20]).unwrap();
        });
        let mut total = 0;
        while let Some(chunk) = rx.blocking_recv() {
            total += chunk.unwrap().len();
        }
        assert_eq!(total, 1 << 20);
        thread.join().unwrap();
        feeder.join().unwrap();
        // SAFETY: the fd came from `into_raw_fd` above and is closed exactly once here.
        drop(unsafe { std::fs::File::from_raw_fd(fd) });
    }
}
