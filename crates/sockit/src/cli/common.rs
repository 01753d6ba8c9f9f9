//! Option groups shared by several commands (socket buffers, TCP options, framing), and
//! the bounded value parsers every command's flags use.
//!
//! Every number a flag gives ends up sizing an allocation, a timer or a kernel option;
//! an absurd one (`--buffer 64G`, `--timeout 18446744073709551615`, `--keepalive=1e-9`)
//! must be a usage error (exit 2, one line naming the flag, the value and the limit), not
//! an aborted allocation, an `Instant` overflow panic or a confusing network error later.
//! So every size and duration flag goes through one of these parsers:
//!
//! - [`parse_duration`]: 1 ms to one year; `5`, `1.5`, `500ms`, `2m`, `1h`;
//! - [`size_at_most`]`(max)`: a byte count with K/M/G suffixes, 1 to `max`;
//! - [`parse_buffer_size`]: `SO_SNDBUF`/`SO_RCVBUF` (at most 1 GiB, a C int doubled);
//! - [`parse_keepalive`]: `TCP_KEEPIDLE` whole seconds, 1 to 32767;
//! - [`FrameArgs`]: `--frame`/`--max-frame`, checked together, with [`FrameArgs::check_record`]
//!   for a `--pack`/`--unpack` record size.

use std::time::Duration;

use crate::error::UsageError;
use clap::{ArgMatches, Args, FromArgMatches};
use sockit::frame::{Framing, MAX_FRAME_LIMIT};
use sockit::net::addr::{parse_bind_addr, HostPort};
pub use sockit::net::values::parse_buffer_size;
use sockit::net::values::{human_size, parse_keepalive_secs, parse_size_at_most};

/// Parses a duration flag: seconds by default, fractions allowed (`5`, `1.5`), or with a
/// unit (`500ms`, `2m`, `1h`, `1d`). Zero, negative values, NaN, infinity, anything below
/// 1 ms (timers cannot wait less; `1e-9` would round to nothing) and anything above one
/// year are refused, so clap reports `invalid value '1e-9' for '--timeout <SECS>': ...`
/// with exit 2. Use as `value_parser = parse_duration` (with `allow_hyphen_values = true`
/// so `-1` reaches the parser and gets a range message instead of "unexpected argument").
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    sockit::net::values::parse_duration(text)
}

/// A value parser for a byte count of at least 1 and at most `max` (suffixes K, M, G,
/// T), for flags that size an allocation: `value_parser = size_at_most(65536)`. Values
/// above `max` are refused with the limit in the message (exit 2).
pub fn size_at_most(max: usize) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync {
    move |text: &str| parse_size_at_most(text, max)
}

/// Parses the `--keepalive=SECS` idle time: `TCP_KEEPIDLE` counts whole seconds (1 to
/// 32767), so `1e-9` or `0.5` are usage errors here instead of rounding to 0 and failing
/// later as a network error.
pub fn parse_keepalive(text: &str) -> Result<Duration, String> {
    parse_keepalive_secs(text)
}

fn parse_framing(text: &str) -> Result<Framing, String> {
    text.parse()
}

/// `--max-frame` itself: 1 byte to [`MAX_FRAME_LIMIT`] (1 GiB).
fn parse_max_frame(text: &str) -> Result<usize, String> {
    parse_size_at_most(text, MAX_FRAME_LIMIT)
}

/// Socket buffer sizes (any socket).
#[derive(Debug, Clone, Args)]
pub struct SocketArgs {
    /// Set SO_SNDBUF, the kernel send buffer, in bytes (suffixes K, M allowed).
    ///
    /// Linux doubles the value for its own bookkeeping and reports the double (see -v);
    /// it is capped by net.core.wmem_max.
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true, value_parser = parse_buffer_size)]
    pub sndbuf: Option<usize>,

    /// Set SO_RCVBUF, the kernel receive buffer, in bytes (suffixes K, M allowed).
    ///
    /// What arrives while the program is busy waits here: for UDP, datagrams that do not
    /// fit are dropped; for TCP, it is set before connect/listen, so it also sizes the
    /// window offered in the handshake. Linux doubles the value; capped by
    /// net.core.rmem_max.
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true, value_parser = parse_buffer_size)]
    pub rcvbuf: Option<usize>,
}

/// TCP-only socket options.
#[derive(Debug, Clone, Args)]
pub struct TcpOptionArgs {
    /// Set TCP_NODELAY: send small writes at once instead of merging them (Nagle's
    /// algorithm). Lower latency for interactive traffic, more packets.
    #[arg(long)]
    pub nodelay: bool,

    /// Set SO_KEEPALIVE: probe an idle connection so a vanished peer is noticed; with
    /// =SECS (--keepalive=30), the idle time before the first probe (TCP_KEEPIDLE, whole
    /// seconds from 1 to 32767). The = is needed so a bare --keepalive never swallows the
    /// address after it; --keepalive-idle SECS is the spelling without it.
    #[arg(
        long,
        value_name = "SECS",
        num_args = 0..=1,
        require_equals = true,
        value_parser = parse_keepalive
    )]
    pub keepalive: Option<Option<Duration>>,

    /// SO_KEEPALIVE with SECS of idle time before the first probe (TCP_KEEPIDLE, whole
    /// seconds from 1 to 32767): --keepalive=SECS without the =.
    #[arg(long, value_name = "SECS", conflicts_with = "keepalive", value_parser = parse_keepalive)]
    pub keepalive_idle: Option<Duration>,
}

/// Message framing on a TCP stream: `--frame` and `--max-frame`, parsed and checked
/// together.
///
/// `max_frame` is the limit to use: the `--max-frame` given, or the framing's default
/// ([`Framing::default_max_frame`]: 1 MiB for `line`/`null`, 16 MiB for the others). A
/// `fixed:N` record size above it is refused while parsing (exit 2), since a record is
/// buffered whole before it is handed out.
#[derive(Debug, Clone)]
pub struct FrameArgs {
    /// The framing (`--frame`, default raw).
    pub frame: Framing,
    /// The largest message accepted or sent, in bytes.
    pub max_frame: usize,
    /// `--max-frame` as given, if it was.
    explicit_max: Option<usize>,
}

/// The clap definitions behind [`FrameArgs`] (which adds the cross-checks).
#[derive(Debug, Clone, Args)]
struct FrameFlags {
    /// How messages are delimited on the stream: raw, line, null, len16, len32, varint,
    /// struct:FMT, fixed:N.
    ///
    /// raw (default) passes bytes through as they arrive. With any other framing each
    /// input line (without its newline) is sent as one message and each received message
    /// is printed as one line, whatever way TCP merged or split the data ("sticky
    /// packets"). line/null end each message with \n / NUL; len16/len32 put a 2/4-byte
    /// big-endian length before it; varint an unsigned LEB128 length; struct:FMT a length
    /// packed with a Python struct format holding one integer, as Python's
    /// struct.pack('!I', len(msg)) + msg does ('struct:!I', 'struct:<H'; quote it in the
    /// shell); fixed:N cuts messages of exactly N bytes (N at most --max-frame).
    #[arg(long, value_name = "FRAMING", default_value = "raw", value_parser = parse_framing)]
    frame: Framing,

    /// Largest message accepted or sent, in bytes (suffixes K, M, G; at most 1G). Default:
    /// 1M for line and null (and --chat, which speaks lines), whose messages are
    /// buffered until a delimiter that may never come; 16M for the other framings.
    ///
    /// A longer received frame ends that connection with an error instead of being
    /// buffered; a longer stdin line is reported once and never sent in part.
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true, value_parser = parse_max_frame)]
    max_frame: Option<usize>,
}

impl FrameArgs {
    /// Checks the options together: a `fixed:N` record must fit `--max-frame`.
    fn resolve(flags: FrameFlags) -> Result<FrameArgs, String> {
        let max_frame = flags
            .max_frame
            .unwrap_or_else(|| flags.frame.default_max_frame());
        if let Framing::Fixed(size) = flags.frame {
            if size > max_frame {
                return Err(format!(
                    "invalid value 'fixed:{size}' for '--frame <FRAMING>': {}",
                    record_over_limit(size, max_frame, flags.max_frame.is_some())
                ));
            }
        }
        Ok(FrameArgs {
            frame: flags.frame,
            max_frame,
            explicit_max: flags.max_frame,
        })
    }

    /// The limit for messages sent and received with `framing` when it is not the
    /// `--frame` given (e.g. `--chat` on a raw stream speaks lines): `--max-frame` if it
    /// was given, else that framing's default.
    pub fn max_frame_for(&self, framing: &Framing) -> usize {
        self.explicit_max
            .unwrap_or_else(|| framing.default_max_frame())
    }

    /// Checks a `--pack`/`--unpack` record format against `--max-frame`: a record is
    /// built or buffered whole, so `--unpack 100000000000s` must be refused before the
    /// first byte asks for 100 GB. `flag` names the option in the message
    /// (`invalid value '100000000000s' for '--unpack <FMT>': a record of ... bytes is
    /// larger than --max-frame (16777216 bytes, 16 MiB) ...`); the error maps to exit 2.
    pub fn check_record(&self, flag: &str, st: &pystruct::Struct) -> Result<(), UsageError> {
        if st.size() > self.max_frame {
            return Err(UsageError::new(format!(
                "invalid value '{}' for '{flag} <FMT>': {}",
                st.format(),
                record_over_limit(st.size(), self.max_frame, self.explicit_max.is_some())
            )));
        }
        Ok(())
    }
}

fn record_over_limit(size: usize, max: usize, explicit: bool) -> String {
    let advice = if max >= MAX_FRAME_LIMIT {
        String::new()
    } else if explicit || size <= MAX_FRAME_LIMIT {
        format!("; raise --max-frame (at most {MAX_FRAME_LIMIT}) for bigger records")
    } else {
        format!("; records are limited to {MAX_FRAME_LIMIT} bytes (1 GiB)")
    };
    let given = if explicit { "" } else { ", the default" };
    format!(
        "a record of {size} bytes is larger than --max-frame ({max} bytes, {}{given}){advice}",
        human_size(max)
    )
}

impl FromArgMatches for FrameArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let flags = FrameFlags::from_arg_matches(matches)?;
        FrameArgs::resolve(flags)
            .map_err(|msg| clap::Error::raw(clap::error::ErrorKind::ValueValidation, msg))
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        let flags = FrameFlags::from_arg_matches_mut(matches)?;
        FrameArgs::resolve(flags)
            .map_err(|msg| clap::Error::raw(clap::error::ErrorKind::ValueValidation, msg))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = FrameArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for FrameArgs {
    fn group_id() -> Option<clap::Id> {
        FrameFlags::group_id()
    }

    fn augment_args(cmd: clap::Command) -> clap::Command {
        FrameFlags::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        FrameFlags::augment_args_for_update(cmd)
    }
}

/// `-4` / `-6`: the address family a command may use.
#[derive(Debug, Clone, Args)]
pub struct FamilyArgs {
    /// Use IPv4 only (a name's IPv6 addresses are ignored).
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only (a name's IPv4 addresses are ignored).
    #[arg(short = '6')]
    pub ipv6: bool,
}

impl FamilyArgs {
    /// The family chosen.
    pub fn family(&self) -> sockit::net::addr::Family {
        use sockit::net::addr::Family;
        match (self.ipv4, self.ipv6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        }
    }
}

/// The local source address of an outgoing socket.
#[derive(Debug, Clone, Args)]
pub struct BindArgs {
    /// Source address to bind before connecting or sending: ADDR or ADDR:PORT
    /// ([V6] or [V6]:PORT for IPv6). Without a port the kernel picks one.
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_bind_addr)]
    pub bind: Option<HostPort>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        frame: FrameArgs,
    }

    fn parse(args: &[&str]) -> Result<FrameArgs, String> {
        let mut argv = vec!["sockit"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)
            .map(|cli| cli.frame)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn line_framings_default_to_a_smaller_max_frame() {
        assert_eq!(parse(&["--frame", "line"]).unwrap().max_frame, 1 << 20);
        assert_eq!(parse(&["--frame", "null"]).unwrap().max_frame, 1 << 20);
        assert_eq!(parse(&["--frame", "len32"]).unwrap().max_frame, 16 << 20);
        assert_eq!(parse(&[]).unwrap().max_frame, 16 << 20);
        let given = parse(&["--frame", "line", "--max-frame", "4M"]).unwrap();
        assert_eq!(given.max_frame, 4 << 20);
        assert_eq!(given.max_frame_for(&Framing::Line), 4 << 20);
        assert_eq!(parse(&[]).unwrap().max_frame_for(&Framing::Line), 1 << 20);
    }

    #[test]
    fn fixed_records_must_fit_max_frame() {
        for size in [
            "100000000000",
            "18446744073709551615",
            "99999999999999999999",
        ] {
            let err = parse(&["--frame", &format!("fixed:{size}")]).unwrap_err();
            assert!(err.contains(&format!("fixed:{size}")), "{err}");
            assert!(err.contains("--max-frame"), "{err}");
        }
        assert!(parse(&["--frame", "fixed:17M"]).is_err());
        assert!(parse(&["--frame", "fixed:20000000"]).is_err());
        let ok = parse(&["--frame", "fixed:20000000", "--max-frame", "20000000"]).unwrap();
        assert_eq!(ok.frame, Framing::Fixed(20_000_000));
    }

    #[test]
    fn max_frame_is_bounded() {
        assert!(parse(&["--max-frame", "1G"]).is_ok());
        for bad in ["2G", "0", "-1", "999999999G"] {
            assert!(parse(&["--max-frame", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn records_must_fit_max_frame() {
        let args = parse(&[]).unwrap();
        let huge = pystruct::Struct::new("100000000000s").unwrap();
        let err = args
            .check_record("--unpack", &huge)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid value '100000000000s' for '--unpack <FMT>': a record of 100000000000 bytes is larger than --max-frame (16777216 bytes, 16 MiB"),
            "{err}"
        );
        let small = pystruct::Struct::new("i5sf").unwrap();
        assert!(args.check_record("--unpack", &small).is_ok());
    }

    #[test]
    fn durations_and_sizes_are_bounded() {
        assert!(parse_duration("1e-9").is_err());
        assert!(parse_duration("18446744073709551615").is_err());
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(size_at_most(65536)("64G").is_err());
        assert!(parse_keepalive("1e-9").is_err());
    }
}
