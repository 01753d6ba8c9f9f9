//! `sockit send` and `sockit recv` command-line definitions.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sockit::net::addr::{parse_host, parse_host_port, HostPort};
use sockit::net::values::{parse_byte_count, parse_secs};
use sockit::transfer::{DEFAULT_PORT, DISCOVERY_PORT};

/// `HOST:PORT`, or a bare `HOST` meaning the default port.
fn parse_target(text: &str) -> Result<HostPort, String> {
    parse_host_port(text).or_else(|first| {
        parse_host(text)
            .map(|host| HostPort {
                host,
                port: DEFAULT_PORT,
            })
            .map_err(|_| first.to_string())
    })
}

/// Durability of received files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncArg {
    /// One syncfs at the end; files of 16 MiB or more fsynced before their rename.
    Batch,
    /// fsync every file and its folder.
    File,
    /// Leave it to the kernel.
    None,
}

const RECV_LONG: &str =
    "Wait for files from `sockit send`, verify each byte for byte (BLAKE3) and \
store them in --dir (default: the current folder). Listens on TCP port 47470 unless --port \
says otherwise (--port 0 picks a free port; the startup line says which).\n\n\
Nothing is written before the whole offer was checked: every path component (no absolute \
paths, no `..`, no control characters, at most 255 bytes), case and Unicode collisions, \
depth and size limits. The offer is shown (who, how much, every dot-file and executable) \
and, on a terminal, you are asked; --yes accepts without asking (needed when stdin is not a \
terminal). Every write stays below --dir and never follows a symlink found there.\n\n\
Each file goes to a hidden part file `.NAME.sockit-part`, is verified, then renamed without \
replacing anything. An existing file is left alone and that entry refused, unless \
--overwrite, --rename (store NAME (1).EXT) or --skip-existing. A cut transfer leaves only \
part files; running the same `sockit send` again resumes them after checking their prefix.\n\n\
Exit codes: 0 every file arrived and verified (with --once), 1 some did not, 2 usage.";

const RECV_AFTER: &str = "Examples:\n  \
sockit recv --dir incoming --bind 127.0.0.1 --yes --once\n  \
sockit recv --port 0 --yes                         any free port\n  \
sockit recv --name laptop --discoverable           findable by `sockit send --discover`\n  \
sockit recv --overwrite --max-size 10G";

const SEND_LONG: &str = "Send files and folders to a `sockit recv`. Folders go recursively with \
empty folders, permissions and mtimes; symlinks are left out unless --symlinks (then only \
those pointing inside what is sent). The whole offer goes first; the receiver answers per \
file (send, skip, resume), then all files stream back to back over one TCP connection, each \
followed by its BLAKE3, which the receiver checks before the file takes its name.\n\n\
Resuming is running the same command again: files the receiver holds part of continue \
after their prefix is proven identical (otherwise they start over).\n\n\
Without --to, --discover broadcasts a query (UDP port 47471) on every local interface, or \
only to each --broadcast ADDR, lists who answered, and sends to the one called --name, or \
to the only one.\n\n\
Exit codes: 0 every file arrived and verified, 1 some did not (the summary says which), \
2 usage.";

const SEND_AFTER: &str = "Examples:\n  \
sockit send report.pdf photos/ --to 127.0.0.1:47470\n  \
sockit send big.iso --to otherhost                 default port 47470\n  \
sockit send src --exclude target --exclude '*.o' --to 127.0.0.1\n  \
sockit send notes.txt --discover --broadcast 127.255.255.255";

/// Options of `sockit recv`.
#[derive(Debug, Args)]
#[command(long_about = RECV_LONG, after_help = RECV_AFTER)]
pub struct RecvArgs {
    /// Folder to store files in (created if missing).
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Address to listen on (127.0.0.1 for this machine only).
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    pub bind: IpAddr,

    /// TCP port to listen on (0: any free port).
    #[arg(long, short = 'p', value_name = "PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Accept offers without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Replace existing files (after the new one is verified, atomically).
    #[arg(long, conflicts_with_all = ["rename", "skip_existing"])]
    pub overwrite: bool,

    /// Store a file whose name is taken as NAME (1).EXT.
    #[arg(long, conflicts_with = "skip_existing")]
    pub rename: bool,

    /// Skip files whose name is taken.
    #[arg(long)]
    pub skip_existing: bool,

    /// Skip files already there with the same size and BLAKE3 (hashes the existing file).
    #[arg(long)]
    pub skip_identical: bool,

    /// Never resume from part files: every file starts over.
    #[arg(long)]
    pub no_resume: bool,

    /// Refuse offers larger than SIZE in total (suffixes K, M, G, T).
    #[arg(long, value_name = "SIZE", value_parser = parse_byte_count)]
    pub max_size: Option<u64>,

    /// How received files are made durable.
    #[arg(long, value_enum, default_value = "batch")]
    pub sync: SyncArg,

    /// Exit after one session (its result is the exit code).
    #[arg(long)]
    pub once: bool,

    /// Seconds a connected sender may stay silent before the session is cut.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_secs)]
    pub timeout: Duration,

    /// Answer discovery queries (UDP broadcast) from `sockit send --discover`.
    #[arg(long)]
    pub discoverable: bool,

    /// The name discovery answers with (default: the host name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// UDP port for discovery queries.
    #[arg(long, value_name = "PORT", default_value_t = DISCOVERY_PORT)]
    pub discovery_port: u16,

    /// Events as JSON lines on stderr (no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// Options of `sockit send`.
#[derive(Debug, Args)]
#[command(long_about = SEND_LONG, after_help = SEND_AFTER)]
pub struct SendArgs {
    /// Files and folders to send.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The receiver: HOST:PORT, or HOST for port 47470.
    #[arg(long, short = 't', value_name = "HOST:PORT", value_parser = parse_target, required_unless_present = "discover", conflicts_with = "discover")]
    pub to: Option<HostPort>,

    /// Find the receiver by UDP broadcast instead of --to.
    #[arg(long)]
    pub discover: bool,

    /// With --discover: the receiver's name.
    #[arg(long, value_name = "NAME", requires = "discover")]
    pub name: Option<String>,

    /// With --discover: broadcast only to ADDR (repeatable), e.g. 127.255.255.255.
    #[arg(long, short = 'b', value_name = "ADDR", requires = "discover")]
    pub broadcast: Vec<IpAddr>,

    /// UDP port discovery queries go to.
    #[arg(long, value_name = "PORT", default_value_t = DISCOVERY_PORT)]
    pub discovery_port: u16,

    /// Seconds to wait for discovery answers.
    #[arg(long, value_name = "SECS", default_value = "1.5", value_parser = parse_secs)]
    pub discover_wait: Duration,

    /// Send symlinks whose target stays inside what is sent (others are left out).
    #[arg(long)]
    pub symlinks: bool,

    /// Leave out names or relative paths matching GLOB (*, ?, [a-z], **; repeatable).
    #[arg(long, short = 'x', value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Do not resume: every file is sent whole.
    #[arg(long)]
    pub no_resume: bool,

    /// Seconds the receiver may stay silent during the transfer (not while deciding).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_secs)]
    pub timeout: Duration,

    /// Events as JSON lines on stderr (no progress bar).
    #[arg(long)]
    pub json: bool,
}
