//! Command-line definitions (clap derive) with their full `--help` texts.
//!
//! Only definitions live here: no I/O, no networking. Each command group has its own file;
//! `main.rs` dispatches the parsed [`Cli`] to the matching module under `commands/`.

pub mod common;
pub mod completions;
pub mod http;
pub mod misc;
pub mod structs;
pub mod tcp;
pub mod udp;

use clap::{Parser, Subcommand};

/// sockit: netcat, socat, a static HTTP server and Python's `struct`, in one fast binary.
#[derive(Debug, Parser)]
#[command(
    name = "sockit",
    version,
    disable_help_subcommand = true,
    about = "A network toolkit: TCP/UDP clients and servers, framing, socket options, struct records, HTTP/1.1",
    long_about = None,
    after_help = "Exit codes: 0 success, 1 runtime or network failure, 2 usage or bad input; the HTTP client adds 3 (malformed or truncated response) and 4 (HTTP error status under --fail)."
)]
pub struct Cli {
    /// On commands that open sockets: print each socket's details (family, type, fd, local
    /// and peer address, options) and connection events; -vv adds debug logs (buffer sizes
    /// granted, resolution, each connect attempt, receive batches).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every top-level command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// TCP client and server (like netcat, with framing and many clients).
    #[command(subcommand)]
    Tcp(tcp::TcpCommand),
    /// UDP sender and listener, including broadcast.
    #[command(subcommand)]
    Udp(udp::UdpCommand),
    /// HTTP/1.1 server and client.
    #[command(subcommand)]
    Http(http::HttpCommand),
    /// Pack values into bytes with a Python `struct` format.
    Pack(structs::PackArgs),
    /// Unpack bytes into values with a Python `struct` format.
    Unpack(structs::UnpackArgs),
    /// Print the size in bytes of a Python `struct` format.
    Calcsize(structs::CalcsizeArgs),
    /// Print the default options of fresh TCP and UDP sockets.
    Info(misc::InfoArgs),
    /// Demonstrations of networking concepts on loopback.
    #[command(subcommand)]
    Demo(misc::DemoCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        long_about = completions::COMPLETIONS_LONG_ABOUT,
        after_help = completions::COMPLETIONS_AFTER_HELP
    )]
    Completions(completions::CompletionsArgs),
    /// Print sockit's manual page (roff), generated from these same definitions.
    #[command(long_about = completions::MANPAGE_LONG_ABOUT)]
    Manpage(completions::ManpageArgs),
    /// Print the help of sockit or of one of its commands (`sockit help tcp listen`).
    Help(HelpArgs),
}

/// Options of `sockit help`.
#[derive(Debug, clap::Args)]
pub struct HelpArgs {
    /// The command whose help to print, as words: `tcp listen`, `pack`. None: sockit's.
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}
