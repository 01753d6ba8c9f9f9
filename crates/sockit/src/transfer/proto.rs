//! The wire format of docs/protocol.md: hellos, the offer (manifest), the decision and
//! answers, data records and acknowledgements.
//!
//! Pure bytes, no sockets: every function packs into or parses from buffers and
//! `std::io::Read`ers, so the same code serves the sender, the receiver and the tests.
//! Fixed-size fields are packed with `pystruct` (the formats are the ones the protocol
//! document gives, so a Python peer uses the very same strings). Every length or count a
//! peer sends is checked against [`limits`] before it sizes a buffer: a hostile peer
//! cannot make the receiver allocate more than the limits allow.

use std::io::{self, Read};
use std::sync::LazyLock;

use pystruct::{Struct, Typed};

/// Hard bounds on everything a peer can declare (docs/protocol.md, "Limits").
pub mod limits {
    /// Bytes of the manifest after the offer header.
    pub const MANIFEST_BYTES: u32 = 16 << 20;
    /// Entries in one offer.
    pub const ENTRIES: u32 = 1_000_000;
    /// Components in one path.
    pub const DEPTH: u8 = 64;
    /// Bytes in one path component (NAME_MAX).
    pub const COMPONENT: u16 = 255;
    /// Bytes of a symlink target.
    pub const LINK_TARGET: u16 = 4095;
    /// Bytes of the sender's name.
    pub const NAME: u16 = 64;
    /// Bytes in one data frame.
    pub const FRAME: u32 = 1 << 20;
    /// Bytes in one file.
    pub const FILE_SIZE: u64 = 1 << 60;
    /// Bytes of a reason text.
    pub const REASON: u16 = 1024;
}

/// Magic of a hello.
pub const HELLO_MAGIC: [u8; 4] = *b"SKXF";
/// Magic of an offer header.
pub const OFFER_MAGIC: [u8; 4] = *b"SKXO";
/// Magic of a decision.
pub const DECISION_MAGIC: [u8; 4] = *b"SKXD";
/// The protocol version this code speaks.
pub const VERSION: u16 = 1;
/// Capability: the receiver may answer "resume".
pub const CAP_RESUME: u32 = 1;
/// Capability: the offer may contain symlinks.
pub const CAP_SYMLINKS: u32 = 2;

/// Size of a BLAKE3 digest.
pub type Digest = [u8; 32];

macro_rules! formats {
    ($($name:ident: $t:ty = $fmt:literal;)*) => {$(
        pub(crate) static $name: LazyLock<Typed<$t>> = LazyLock::new(|| {
            Struct::new($fmt)
                .and_then(|st| st.typed::<$t>())
                .expect(concat!("format ", $fmt, " matches its Rust record"))
        });
    )*};
}

formats! {
    HELLO: ([u8; 4], u16, u32, [u8; 16]) = "!4sHI16s";
    OFFER: ([u8; 4], u32, u32, u64, u16) = "!4sIIQH";
    ENTRY: (u8, u16, u64, i64, u32, u8) = "!BHQqIB";
    LEN16: (u16,) = "!H";
    DECISION: ([u8; 4], u8, u16) = "!4sBH";
    ANSWER: (u8, u64, [u8; 32]) = "!BQ32s";
    FILE_START: (u8, u32, u64) = "!cIQ";
    DATA: (u8, u32) = "!cI";
    TRAILER: (u8, [u8; 32]) = "!c32s";
    TAG_LEN: (u8, u16) = "!cH";
    PROGRESS: (u8, u64) = "!cQ";
    VERDICT: (u8, u32, u8, u64) = "!cIBQ";
    STATUS: (u8, u32, u32, u32, u64) = "!cIIIQ";
}

/// Size of a hello on the wire.
pub const HELLO_LEN: usize = 26;
/// Size of an offer header on the wire.
pub const OFFER_HEADER_LEN: usize = 22;
/// Size of one answer on the wire.
pub const ANSWER_LEN: usize = 41;

/// Why a peer's bytes cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    /// The connection failed or ended early.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The peer does not speak this protocol at all.
    #[error("the peer does not speak the sockit transfer protocol (got {0:02x?})")]
    BadMagic([u8; 4]),
    /// The peer speaks another version.
    #[error("the peer speaks transfer protocol version {0}; this sockit speaks {VERSION}")]
    Version(u16),
    /// The offer breaks a rule: the receiver refuses it whole.
    #[error("invalid offer: {0}")]
    Invalid(String),
    /// A record that the protocol does not allow here.
    #[error("protocol error: {0}")]
    Violation(String),
}

pub(crate) fn pack<T: for<'a> pystruct::Record<'a>>(st: &Typed<T>, rec: &T, out: &mut Vec<u8>) {
    let at = out.len();
    out.resize(at + st.size(), 0);
    // The buffer was just sized for the record; packing a typed record cannot fail then.
    let _ = st.pack_into(out, at, rec);
}

pub(crate) fn read_rec<T: for<'a> pystruct::Record<'a>>(
    st: &Typed<T>,
    r: &mut impl Read,
) -> io::Result<T> {
    let mut buf = [0u8; 64];
    let buf = &mut buf[..st.size()];
    r.read_exact(buf)?;
    st.unpack(buf)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn push_text(out: &mut Vec<u8>, text: &str, max: u16) {
    let mut end = text.len().min(usize::from(max));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // `end` is at most `max`, a u16.
    pack(&LEN16, &(end as u16,), out);
    out.extend_from_slice(&text.as_bytes()[..end]);
}

/// The first record each way: who we are and what we can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// Protocol version.
    pub version: u16,
    /// Capability bits ([`CAP_RESUME`], [`CAP_SYMLINKS`]).
    pub caps: u32,
    /// 16 random bytes naming this side of the session in logs.
    pub session: [u8; 16],
}

impl Hello {
    /// The bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HELLO_LEN);
        pack(
            &HELLO,
            &(HELLO_MAGIC, self.version, self.caps, self.session),
            &mut out,
        );
        out
    }

    /// Reads a hello; a wrong magic is an error, a different version is returned for the
    /// caller to answer (the receiver still says which version it speaks).
    pub fn read(r: &mut impl Read) -> Result<Hello, ProtoError> {
        let (magic, version, caps, session) = read_rec(&HELLO, r)?;
        if magic != HELLO_MAGIC {
            return Err(ProtoError::BadMagic(magic));
        }
        Ok(Hello {
            version,
            caps,
            session,
        })
    }
}

/// What an entry of the manifest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A folder: created before any data.
    Folder,
    /// A regular file: its bytes follow in the data phase.
    File,
    /// A symbolic link (only with [`CAP_SYMLINKS`]).
    Symlink,
}

impl Kind {
    fn code(self) -> u8 {
        match self {
            Kind::Folder => 0,
            Kind::File => 1,
            Kind::Symlink => 2,
        }
    }
}

/// One entry of the offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Folder, file or symlink.
    pub kind: Kind,
    /// Permission bits (at most 0o7777).
    pub mode: u16,
    /// Bytes of a file; 0 otherwise.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Nanoseconds of the modification time.
    pub mtime_nanos: u32,
    /// The path as components (never a string with separators).
    pub path: Vec<String>,
    /// The target of a symlink.
    pub link: Option<String>,
}

impl Entry {
    /// The path joined with `/`, for messages (escape it before printing).
    pub fn display_path(&self) -> String {
        self.path.join("/")
    }
}

/// The whole offer: every entry the sender will send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// The sender's name (host name), for the receiver's prompt.
    pub name: String,
    /// Sum of the file sizes.
    pub total: u64,
    /// Folders before their contents.
    pub entries: Vec<Entry>,
}

/// Serializes an offer (header and manifest); checks the same limits the receiver will.
pub fn encode_offer(offer: &Offer) -> Result<Vec<u8>, ProtoError> {
    let mut body = Vec::new();
    let name_len = offer.name.len().min(usize::from(limits::NAME));
    let mut name_end = name_len;
    while !offer.name.is_char_boundary(name_end) {
        name_end -= 1;
    }
    body.extend_from_slice(&offer.name.as_bytes()[..name_end]);
    for e in &offer.entries {
        let depth = u8::try_from(e.path.len())
            .ok()
            .filter(|d| (1..=limits::DEPTH).contains(d))
            .ok_or_else(|| {
                ProtoError::Invalid(format!("{} is nested too deep", e.display_path()))
            })?;
        let rec = (e.kind.code(), e.mode, e.size, e.mtime, e.mtime_nanos, depth);
        pack(&ENTRY, &rec, &mut body);
        for c in &e.path {
            if c.is_empty() || c.len() > usize::from(limits::COMPONENT) {
                return Err(ProtoError::Invalid(format!(
                    "{} has a component of {} bytes",
                    e.display_path(),
                    c.len()
                )));
            }
            push_text(&mut body, c, limits::COMPONENT);
        }
        if e.kind == Kind::Symlink {
            push_text(
                &mut body,
                e.link.as_deref().unwrap_or(""),
                limits::LINK_TARGET,
            );
        }
    }
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&l| l <= limits::MANIFEST_BYTES)
        .ok_or_else(|| {
            ProtoError::Invalid(format!(
                "the manifest would be {} bytes (at most {})",
                body.len(),
                limits::MANIFEST_BYTES
            ))
        })?;
    let count = u32::try_from(offer.entries.len())
        .ok()
        .filter(|&n| n <= limits::ENTRIES)
        .ok_or_else(|| {
            ProtoError::Invalid(format!(
                "{} entries (at most {})",
                offer.entries.len(),
                limits::ENTRIES
            ))
        })?;
    let mut out = Vec::with_capacity(OFFER_HEADER_LEN + body.len());
    let header = (OFFER_MAGIC, len, count, offer.total, name_end as u16);
    pack(&OFFER, &header, &mut out);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Reads and parses an offer, checking every declared size before it is used.
///
/// Structural rules only (sizes, counts, UTF-8, field ranges); the path rules that need
/// the whole offer live in [`crate::transfer::paths`].
pub fn read_offer(r: &mut impl Read) -> Result<Offer, ProtoError> {
    let (magic, len, count, total, name_len) = read_rec(&OFFER, r)?;
    if magic != OFFER_MAGIC {
        return Err(ProtoError::BadMagic(magic));
    }
    if len > limits::MANIFEST_BYTES {
        return Err(ProtoError::Invalid(format!(
            "manifest of {len} bytes (at most {})",
            limits::MANIFEST_BYTES
        )));
    }
    if count > limits::ENTRIES {
        return Err(ProtoError::Invalid(format!(
            "{count} entries (at most {})",
            limits::ENTRIES
        )));
    }
    if name_len > limits::NAME {
        return Err(ProtoError::Invalid(format!(
            "sender name of {name_len} bytes (at most {})",
            limits::NAME
        )));
    }
    // Grows as bytes arrive: a peer that announces 16 MiB and sends nothing costs nothing.
    let mut body = Vec::new();
    r.take(u64::from(len)).read_to_end(&mut body)?;
    if body.len() != len as usize {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
    }
    parse_manifest(&body, count, total, name_len)
}

fn parse_manifest(body: &[u8], count: u32, total: u64, name_len: u16) -> Result<Offer, ProtoError> {
    let bad = |m: String| ProtoError::Invalid(m);
    let mut cur = body;
    let name = take(&mut cur, usize::from(name_len))
        .ok_or_else(|| bad("manifest ends inside the sender name".into()))?;
    let name = std::str::from_utf8(name)
        .map_err(|_| bad("the sender name is not UTF-8".into()))?
        .to_string();
    // Each entry takes at least its fixed part, so `count` is bounded by the body's size
    // too: the entry vector below is never sized by a bare claim.
    let min_entry = ENTRY.size();
    if (count as usize).saturating_mul(min_entry) > cur.len() {
        return Err(bad(format!(
            "{count} entries cannot fit in {} bytes",
            cur.len()
        )));
    }
    let mut entries = Vec::with_capacity(count as usize);
    let mut sum: u64 = 0;
    for i in 0..count {
        let n = i + 1;
        let head = take(&mut cur, ENTRY.size())
            .ok_or_else(|| bad(format!("manifest ends inside entry {n}")))?;
        let (kind, mode, size, mtime, nanos, depth) = ENTRY
            .unpack(head)
            .map_err(|e| bad(format!("entry {n}: {e}")))?;
        let kind = match kind {
            0 => Kind::Folder,
            1 => Kind::File,
            2 => Kind::Symlink,
            k => return Err(bad(format!("entry {n} has unknown kind {k}"))),
        };
        if mode > 0o7777 {
            return Err(bad(format!("entry {n} has mode {mode:o}")));
        }
        if nanos >= 1_000_000_000 {
            return Err(bad(format!("entry {n} has {nanos} nanoseconds")));
        }
        if kind != Kind::File && size != 0 {
            return Err(bad(format!("entry {n} is not a file but has {size} bytes")));
        }
        if size > limits::FILE_SIZE {
            return Err(bad(format!("entry {n} declares {size} bytes")));
        }
        if depth == 0 || depth > limits::DEPTH {
            return Err(bad(format!(
                "entry {n} has {depth} path components (1 to {})",
                limits::DEPTH
            )));
        }
        let mut path = Vec::with_capacity(usize::from(depth));
        for _ in 0..depth {
            let c = take_text(&mut cur, limits::COMPONENT)
                .map_err(|m| bad(format!("entry {n}: {m}")))?;
            path.push(c);
        }
        let link = if kind == Kind::Symlink {
            Some(
                take_text(&mut cur, limits::LINK_TARGET)
                    .map_err(|m| bad(format!("entry {n}: link target: {m}")))?,
            )
        } else {
            None
        };
        sum = sum
            .checked_add(size)
            .ok_or_else(|| bad("file sizes overflow".into()))?;
        entries.push(Entry {
            kind,
            mode,
            size,
            mtime,
            mtime_nanos: nanos,
            path,
            link,
        });
    }
    if !cur.is_empty() {
        return Err(bad(format!("{} bytes after the last entry", cur.len())));
    }
    if sum != total {
        return Err(bad(format!(
            "the files add up to {sum} bytes, the header says {total}"
        )));
    }
    Ok(Offer {
        name,
        total,
        entries,
    })
}

fn take<'a>(cur: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if cur.len() < n {
        return None;
    }
    let (head, rest) = cur.split_at(n);
    *cur = rest;
    Some(head)
}

/// A `!H`-prefixed, non-empty UTF-8 string of at most `max` bytes.
fn take_text(cur: &mut &[u8], max: u16) -> Result<String, String> {
    let len = take(cur, 2).ok_or("the manifest ends inside a length")?;
    let len = u16::from_be_bytes([len[0], len[1]]);
    if len == 0 {
        return Err("an empty name".into());
    }
    if len > max {
        return Err(format!("a name of {len} bytes (at most {max})"));
    }
    let bytes = take(cur, usize::from(len)).ok_or("the manifest ends inside a name")?;
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| "a name that is not valid UTF-8".into())
}

/// The receiver's verdict on the offer as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted: answers follow.
    Accepted = 0,
    /// The offer breaks a rule of the protocol.
    Invalid = 1,
    /// Declined by the person or by policy.
    Declined = 2,
    /// Over the receiver's `--max-size`.
    TooLarge = 3,
    /// Not enough free space.
    NoSpace = 4,
}

impl Verdict {
    fn from_code(c: u8) -> Option<Verdict> {
        Some(match c {
            0 => Verdict::Accepted,
            1 => Verdict::Invalid,
            2 => Verdict::Declined,
            3 => Verdict::TooLarge,
            4 => Verdict::NoSpace,
            _ => return None,
        })
    }
}

/// Encodes a decision with its reason.
pub fn encode_decision(verdict: Verdict, reason: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut end = reason.len().min(usize::from(limits::REASON));
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    pack(
        &DECISION,
        &(DECISION_MAGIC, verdict as u8, end as u16),
        &mut out,
    );
    out.extend_from_slice(&reason.as_bytes()[..end]);
    out
}

/// Reads a decision and its reason.
pub fn read_decision(r: &mut impl Read) -> Result<(Verdict, String), ProtoError> {
    let (magic, verdict, len) = read_rec(&DECISION, r)?;
    if magic != DECISION_MAGIC {
        return Err(ProtoError::BadMagic(magic));
    }
    let verdict = Verdict::from_code(verdict)
        .ok_or_else(|| ProtoError::Violation(format!("unknown verdict {verdict}")))?;
    if len > limits::REASON {
        return Err(ProtoError::Violation(format!("a reason of {len} bytes")));
    }
    let mut buf = vec![0u8; usize::from(len)];
    r.read_exact(&mut buf)?;
    Ok((verdict, String::from_utf8_lossy(&buf).into_owned()))
}

/// The receiver's answer for one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Send it from byte 0 (folders: created or already there).
    Send,
    /// Not wanted; send nothing.
    Skip,
    /// A part file holds `offset` bytes with this BLAKE3.
    Resume {
        /// Bytes the receiver already holds.
        offset: u64,
        /// Their BLAKE3.
        hash: Digest,
    },
    /// Something else is in the way and stays; send nothing.
    Refuse,
    /// A file of this size exists with this BLAKE3; identical: say so; else send (`send`)
    /// or not.
    Same {
        /// The existing file's BLAKE3.
        hash: Digest,
        /// Whether to send the file when it differs.
        send: bool,
    },
}

impl Answer {
    /// Appends the 41-byte wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let rec = match *self {
            Answer::Send => (0, 0, [0; 32]),
            Answer::Skip => (1, 0, [0; 32]),
            Answer::Resume { offset, hash } => (2, offset, hash),
            Answer::Refuse => (3, 0, [0; 32]),
            Answer::Same { hash, send: true } => (4, 0, hash),
            Answer::Same { hash, send: false } => (5, 0, hash),
        };
        pack(&ANSWER, &rec, out);
    }

    /// Reads one answer.
    pub fn read(r: &mut impl Read) -> Result<Answer, ProtoError> {
        let (action, offset, hash) = read_rec(&ANSWER, r)?;
        Ok(match action {
            0 => Answer::Send,
            1 => Answer::Skip,
            2 => Answer::Resume { offset, hash },
            3 => Answer::Refuse,
            4 => Answer::Same { hash, send: true },
            5 => Answer::Same { hash, send: false },
            a => return Err(ProtoError::Violation(format!("unknown answer {a}"))),
        })
    }
}
