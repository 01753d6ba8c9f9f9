//! Addresses, socket building (socket2) and socket information.
//!
//! - [`addr`]: `[ADDR:]PORT`, `HOST:PORT`, `[V6]:PORT` parsing and name resolution.
//! - [`socket`]: [`SocketOptions`] and the constructors that apply them before
//!   `bind`/`connect`.
//! - [`info`]: family, type, fd, local and peer address of a socket; default option table.
//! - [`error`]: short phrases for system errors in one-line messages.
//! - [`values`]: parsers for byte sizes and durations given on the command line.
//! - [`steer`]: CPU steering of new connections in a `SO_REUSEPORT` group.
//! - [`accept`]: what a server does when `accept` fails (backoff on exhaustion).

pub mod accept;
pub mod addr;
pub mod error;
pub mod info;
pub mod socket;
pub mod steer;
pub mod values;

pub use addr::{HostPort, ResolveError};
pub use info::SocketInfo;
pub use socket::{ConnectError, SocketOptions};
