//! `sockit scan` command-line definitions.

use std::time::Duration;

use clap::Args;
use sockit::net::addr::{parse_host, Host};

use super::common::parse_duration;

/// Options of `sockit scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The one host to scan: an IP address or a name (its first address, IPv4 first).
    /// Only this address is contacted.
    #[arg(value_name = "HOST", value_parser = parse_scan_host)]
    pub host: Host,

    /// Ports: single ports and ranges, comma-separated: 22,80,8000-8100 (1 to 65535).
    #[arg(value_name = "PORTS", allow_hyphen_values = true, value_parser = parse_ports_arg)]
    pub ports: PortList,

    /// Scan UDP instead of TCP: an empty datagram per port; a reply means open, an ICMP
    /// port-unreachable closed, silence open|filtered.
    #[arg(short = 'u', long)]
    pub udp: bool,

    /// How long each port may take to answer (default 1 s; 500ms, 2, ...; at most a year).
    #[arg(short = 'w', long, value_name = "SECS", default_value = "1", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Ports probed at once (1 to 4096; each holds a file descriptor).
    #[arg(long, value_name = "N", default_value_t = 100, allow_hyphen_values = true,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,

    /// Print every port, closed and filtered ones too (default: only open and
    /// open|filtered ones, then the summary).
    #[arg(long)]
    pub all: bool,

    #[command(flatten)]
    pub family: super::common::FamilyArgs,

    /// One JSON object per port on stdout ({"port":22,"proto":"tcp","state":"open"}) and
    /// the summary as a JSON event on stderr.
    #[arg(long)]
    pub json: bool,
}

fn parse_scan_host(text: &str) -> Result<Host, String> {
    parse_host(text).map_err(|err| err.to_string())
}

/// The ports of `PORTS`, sorted, each once.
#[derive(Debug, Clone)]
pub struct PortList(pub Vec<u16>);

fn parse_ports_arg(text: &str) -> Result<PortList, String> {
    sockit::scan::parse_ports(text)
        .map(PortList)
        .map_err(|err| err.to_string())
}
