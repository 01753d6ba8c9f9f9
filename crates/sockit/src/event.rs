//! Events: how a long-running library call says what is happening.
//!
//! A server runs for hours; a person (or a supervisor script) wants to know when it is
//! listening, who connected, who left and why, and what went wrong with one client while
//! the others carry on. The library never prints: it builds an [`Event`] and hands it to
//! the [`Events`] sink its caller gave it. The `sockit` binary renders each event as a
//! `sockit: ...` line on stderr, or with `--json` as one JSON object per line; a Rust
//! program can collect them, count them, or ignore them ([`Events::discard`]).
//!
//! ```
//! use sockit::event::{Event, Events, Level};
//! use std::sync::{Arc, Mutex};
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let log = seen.clone();
//! let events = Events::new(Level::Info, move |e: &Event| log.lock().unwrap().push(e.message.clone()));
//! events.emit(Event::info("listening", "listening on tcp 127.0.0.1:9000").with("port", 9000u16));
//! events.emit(Event::verbose("socket", "socket details")); // below Info: not delivered
//! assert_eq!(seen.lock().unwrap().as_slice(), ["listening on tcp 127.0.0.1:9000"]);
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How much an event matters to the person watching; a sink drops events below the
/// level it was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Internals worth seeing only while debugging (`-vv`).
    Debug,
    /// Details of sockets and connections (`-v`): file descriptors, options, which
    /// worker took a connection.
    Verbose,
    /// The normal course of things: listening, a connection came and went.
    Info,
    /// Something went wrong for one peer or one message; the command carries on.
    Warn,
    /// Something went wrong that ends the command or a whole part of it.
    Error,
}

impl Level {
    /// The level's name in JSON output: `debug`, `verbose`, `info`, `warn`, `error`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Verbose => "verbose",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// The value of one structured detail of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text, including addresses (`127.0.0.1:9000`).
    Str(String),
    /// A count, a size, a port.
    UInt(u64),
    /// A signed number.
    Int(i64),
    /// A duration in seconds, or any other measurement.
    Float(f64),
    /// A flag.
    Bool(bool),
}

macro_rules! value_from {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::$variant(v as $as)
            }
        }
    )*};
}
value_from!(u8 => UInt as u64, u16 => UInt as u64, u32 => UInt as u64, u64 => UInt as u64,
    usize => UInt as u64, i32 => Int as i64, i64 => Int as i64, f64 => Float as f64);

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Str(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Str(v.to_string())
    }
}
impl From<SocketAddr> for Value {
    fn from(v: SocketAddr) -> Value {
        Value::Str(v.to_string())
    }
}
impl From<Duration> for Value {
    fn from(v: Duration) -> Value {
        Value::Float(v.as_secs_f64())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::UInt(n) => write!(f, "{n}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// One named detail of an event (`peer`, `bytes`, `worker`), for machine-readable output.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The detail's name, a stable lowercase identifier.
    pub name: &'static str,
    /// Its value.
    pub value: Value,
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// A stable machine name for the kind of event (`listening`, `connected`, `closed`,
    /// `peer-error`, ...): what a script matches on.
    pub kind: &'static str,
    /// How much it matters.
    pub level: Level,
    /// The sentence a person reads, without any program-name prefix.
    pub message: String,
    /// Structured details; the message already says them in words.
    pub fields: Vec<Field>,
}

impl Event {
    /// An event of `kind` at `level`.
    pub fn new(level: Level, kind: &'static str, message: impl Into<String>) -> Event {
        Event {
            kind,
            level,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// An [`Level::Info`] event.
    pub fn info(kind: &'static str, message: impl Into<String>) -> Event {
        Event::new(Level::Info, kind, message)
    }

    /// A [`Level::Warn`] event.
    pub fn warn(kind: &'static str, message: impl Into<String>) -> Event {
        Event::new(Level::Warn, kind, message)
    }

    /// A [`Level::Error`] event.
    pub fn error(kind: &'static str, message: impl Into<String>) -> Event {
        Event::new(Level::Error, kind, message)
    }

    /// A [`Level::Verbose`] event (shown with `-v`).
    pub fn verbose(kind: &'static str, message: impl Into<String>) -> Event {
        Event::new(Level::Verbose, kind, message)
    }

    /// A [`Level::Debug`] event (shown with `-vv`).
    pub fn debug(kind: &'static str, message: impl Into<String>) -> Event {
        Event::new(Level::Debug, kind, message)
    }

    /// Adds a structured detail.
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> Event {
        self.fields.push(Field {
            name,
            value: value.into(),
        });
        self
    }

    /// The value of the detail called `name`, if the event has it.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }
}

type Sink = dyn Fn(&Event) + Send + Sync;

/// Where a library call's events go: a cheap, cloneable handle every task of a server
/// shares.
///
/// The sink is called on whichever thread the event happens on, possibly on several at
/// once; it must not block for long (a server's event loop is waiting).
#[derive(Clone)]
pub struct Events {
    sink: Option<Arc<Sink>>,
    min: Level,
}

impl Events {
    /// Delivers every event at `min` or above to `sink`.
    pub fn new(min: Level, sink: impl Fn(&Event) + Send + Sync + 'static) -> Events {
        Events {
            sink: Some(Arc::new(sink)),
            min,
        }
    }

    /// Drops every event (for library users who do not care, and for benchmarks).
    pub fn discard() -> Events {
        Events {
            sink: None,
            min: Level::Error,
        }
    }

    /// Whether an event at `level` would be delivered: check before building an event
    /// that is costly to describe (socket details take system calls).
    pub fn wants(&self, level: Level) -> bool {
        self.sink.is_some() && level >= self.min
    }

    /// Delivers `event` if its level is wanted.
    pub fn emit(&self, event: Event) {
        if let Some(sink) = &self.sink {
            if event.level >= self.min {
                sink(&event);
            }
        }
    }
}

impl Default for Events {
    fn default() -> Events {
        Events::discard()
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("delivering", &self.sink.is_some())
            .field("min", &self.min)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn levels_below_the_minimum_are_dropped() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let events = Events::new(Level::Verbose, move |e: &Event| {
            log.lock().unwrap().push((e.kind, e.level))
        });
        assert!(events.wants(Level::Verbose));
        assert!(!events.wants(Level::Debug));
        events.emit(Event::debug("d", "hidden"));
        events.emit(Event::verbose("v", "shown"));
        events.emit(Event::warn("w", "shown"));
        assert_eq!(
            *seen.lock().unwrap(),
            [("v", Level::Verbose), ("w", Level::Warn)]
        );
    }

    #[test]
    fn discard_wants_nothing() {
        let events = Events::discard();
        assert!(!events.wants(Level::Error));
        events.emit(Event::error("e", "nobody hears this"));
    }

    #[test]
    fn fields_keep_their_order_and_values() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let e = Event::info("closed", "127.0.0.1:5000 closed")
            .with("peer", peer)
            .with("bytes", 42usize)
            .with("after", Duration::from_millis(1500));
        assert_eq!(e.field("peer"), Some(&Value::Str("127.0.0.1:5000".into())));
        assert_eq!(e.field("bytes"), Some(&Value::UInt(42)));
        assert_eq!(e.field("after"), Some(&Value::Float(1.5)));
        assert_eq!(e.fields[0].name, "peer");
    }
}
