//! The `sockit` binary: parse the command line, dispatch, map errors to exit codes.

#![warn(missing_docs)]

mod cli;
mod commands;
mod error;
mod ui;

use clap::Parser;
use cli::{Cli, Command};
use error::{UsageError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => exit_on_clap_error(err),
    };
    init_logging(cli.verbose);
    let code = match run(cli) {
        Ok(()) => EXIT_OK,
        Err(err) => {
            let code = exit_code_for(&err);
            ui::event(one_line(&err));
            code
        }
    };
    std::process::exit(code);
}

/// `--help` and `--version` print as clap formats them; usage errors become one line,
/// `sockit: invalid value 'abc' for '[ADDR:]PORT': ...`, exit code 2 (like every other
/// bad-input error).
fn exit_on_clap_error(err: clap::Error) -> ! {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => err.exit(),
        _ => {
            let text = err.render().to_string();
            // The first paragraph is the error; the rest is usage and a --help hint.
            let first: Vec<&str> = text
                .trim_start()
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let line = first.join(" ");
            let line = line.strip_prefix("error: ").unwrap_or(&line);
            ui::event(line);
            std::process::exit(EXIT_USAGE);
        }
    }
}

/// Runs one parsed command to completion.
fn run(cli: Cli) -> anyhow::Result<()> {
    let verbose = cli.verbose;
    match cli.command {
        Command::Tcp(cmd) => commands::tcp::run(cmd, verbose),
        Command::Udp(cmd) => commands::udp::run(cmd, verbose),
        Command::Http(cmd) => commands::http::run(cmd, verbose),
        Command::Send(args) => commands::transfer::send(args, verbose),
        Command::Recv(args) => commands::transfer::recv(args, verbose),
        Command::Pack(args) => commands::structs::pack(args),
        Command::Unpack(args) => commands::structs::unpack(args),
        Command::Calcsize(args) => commands::structs::calcsize(args),
        Command::Info(args) => commands::misc::info(args, verbose),
        Command::Scan(args) => commands::scan::run(args, verbose),
        Command::Relay(args) => commands::relay::run(args, verbose),
        Command::Demo(cmd) => commands::misc::demo(cmd, verbose),
        Command::Trace(args) => commands::wire::trace(args, verbose),
        Command::Sockets(args) => commands::wire::sockets(args),
        Command::Ping(args) => commands::wire::ping(args, verbose),
        Command::Ifaces(args) => commands::wire::ifaces(args),
        Command::Resolve(args) => commands::wire::resolve(args),
        Command::Completions(args) => commands::completions::completions(args),
        Command::Manpage(args) => commands::completions::manpage(args),
        Command::Help(args) => commands::misc::help(args),
    }
}

/// Usage errors (bad input) exit 2; the HTTP client adds 3 (malformed or truncated
/// response) and 4 (HTTP error status under --fail); everything else that fails exits 1.
fn exit_code_for(err: &anyhow::Error) -> i32 {
    use sockit::http::client::ClientError;
    if err.chain().any(|cause| cause.is::<UsageError>()) {
        return EXIT_USAGE;
    }
    match err.chain().find_map(|c| c.downcast_ref::<ClientError>()) {
        Some(c) if c.is_request() => EXIT_USAGE,
        Some(c) if c.is_malformed() => 3,
        Some(c) if c.is_status() => 4,
        _ => EXIT_FAILURE,
    }
}

/// Joins an error and its causes into a single line: `outer: inner: root`.
///
/// Library errors often name their cause in their own message already ("connection
/// reset by peer") and also expose it as their `source()`, an `io::Error` whose Display
/// is the OS text, capitalised, with its number ("Connection reset by peer (os error
/// 104)"). So system errors are rendered the short way (`describe`), and a cause whose
/// text the line already holds, in any case, is not repeated.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => sockit::net::error::describe(io),
            None => cause.to_string(),
        };
        let text = text.trim();
        if text.is_empty() || line.to_lowercase().contains(&text.to_lowercase()) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(text);
    }
    line.replace('\n', " ")
}

/// `-vv` and above turn on debug logs (to stderr); `RUST_LOG` overrides.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 | 1 => "warn",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
