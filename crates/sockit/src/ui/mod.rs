//! Rendering for the `sockit` binary: events on stderr, tables, signals.
//!
//! The library reports through [`sockit::event::Events`]; this module turns those events
//! into `sockit: ...` lines (or JSON lines with `--json`), and owns what only a program
//! may do: install signal handlers.
//!
//! - [`event`]: one `sockit: ...` line on stderr, written with a single `write(2)` so
//!   lines from concurrent connections never interleave mid-line.
//! - [`events`]: the sink handed to library calls.
//! - [`table`]: aligned text tables.
//! - [`signal`]: graceful shutdown on Ctrl-C / SIGTERM.

pub mod signal;
pub mod table;

use std::fmt::Display;
use std::io::Write;

use sockit::event::{Event, Events, Level, Value};

/// Prints one event line, `sockit: {message}`, to stderr.
///
/// The line is formatted first and written at once (stderr is unbuffered: `eprintln!`
/// would issue one `write` per formatted piece, and a reader could see half a line).
/// A closed stderr is ignored: a server must not die because nobody reads its log.
pub fn event(message: impl Display) {
    let line = format!("sockit: {message}\n");
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}

/// How events are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// `sockit: message` lines.
    Text,
    /// One JSON object per line: `{"event":"connected","level":"info","message":...,"peer":...}`.
    Json,
}

impl EventFormat {
    /// `--json` on a long-running command: JSON lines instead of text.
    pub fn from_json_flag(json: bool) -> EventFormat {
        if json {
            EventFormat::Json
        } else {
            EventFormat::Text
        }
    }
}

/// The sink for library calls: events at the level `-v` asks for, rendered on stderr.
///
/// Without `-v` the sink takes [`Level::Info`] and above; `-v` adds [`Level::Verbose`]
/// (socket details), `-vv` adds [`Level::Debug`].
pub fn events(verbose: u8, format: EventFormat) -> Events {
    let min = match verbose {
        0 => Level::Info,
        1 => Level::Verbose,
        _ => Level::Debug,
    };
    Events::new(min, move |e: &Event| match format {
        EventFormat::Text => event(&e.message),
        EventFormat::Json => {
            let mut line = json_line(e);
            line.push('\n');
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(line.as_bytes());
            let _ = err.flush();
        }
    })
}

/// One event as one JSON object (no newline).
pub fn json_line(e: &Event) -> String {
    let mut obj = serde_json::Map::new();
    obj.insert("event".into(), e.kind.into());
    obj.insert("level".into(), e.level.name().into());
    obj.insert("message".into(), e.message.clone().into());
    for field in &e.fields {
        let value = match &field.value {
            Value::Str(s) => serde_json::Value::from(s.clone()),
            Value::UInt(n) => serde_json::Value::from(*n),
            Value::Int(n) => serde_json::Value::from(*n),
            Value::Float(x) => serde_json::Value::from(*x),
            Value::Bool(b) => serde_json::Value::from(*b),
        };
        obj.insert(field.name.into(), value);
    }
    serde_json::Value::Object(obj).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_kind_level_message_and_fields() {
        let e = Event::warn("peer-error", "127.0.0.1:5 reset")
            .with("peer", "127.0.0.1:5")
            .with("bytes", 7u64);
        let v: serde_json::Value = serde_json::from_str(&json_line(&e)).unwrap();
        assert_eq!(v["event"], "peer-error");
        assert_eq!(v["level"], "warn");
        assert_eq!(v["message"], "127.0.0.1:5 reset");
        assert_eq!(v["peer"], "127.0.0.1:5");
        assert_eq!(v["bytes"], 7);
    }
}
