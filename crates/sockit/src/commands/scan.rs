//! Runs `sockit scan`.

use std::fmt::Write as _;

use sockit::event::Event;
use sockit::net::addr::{Host, HostPort};
use sockit::scan::{scan, PortResult, PortState, ScanConfig, Summary, Transport};

use super::tcp::{block_on, listen_address_of};
use super::write_stdout;
use crate::cli::scan::ScanArgs;

/// Runs `sockit scan HOST PORTS`: exit 0 when at least one port is open (or
/// open|filtered for UDP), 1 when none is, like `nc -z`.
pub fn run(a: ScanArgs, verbose: u8) -> anyhow::Result<()> {
    let events = crate::ui::events(verbose, crate::ui::EventFormat::from_json_flag(a.json));
    let transport = if a.udp {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let config = ScanConfig {
        transport,
        timeout: a.timeout,
        concurrency: usize::from(a.concurrency),
    };
    let ports = a.ports.0;
    let (all, json) = (a.all, a.json);
    let started = std::time::Instant::now();
    let (ip, results) = block_on(false, async move {
        // One address, IPv4 first for a name; the port here only completes the syntax.
        let target = HostPort {
            host: a.host.clone(),
            port: 0,
        };
        let ip = match &a.host {
            Host::Ip(ip) => *ip,
            Host::Name(_) => listen_address_of(&target, a.family.family()).await?.ip(),
        };
        let results = scan(ip, &ports, config, |_| {}).await;
        Ok((ip, results))
    })?;
    let mut out = String::new();
    for r in results.iter().filter(|r| all || shown(r.state)) {
        line(&mut out, r, transport, json);
    }
    write_stdout(out.as_bytes())?;
    let s = Summary::of(&results);
    let mut text = format!(
        "scanned {} {} port{} of {ip} in {:.2} s: {} open, {} closed, {} filtered",
        results.len(),
        transport.name(),
        if results.len() == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64(),
        s.open,
        s.closed,
        s.filtered
    );
    if transport == Transport::Udp {
        let _ = write!(text, ", {} open|filtered", s.open_filtered);
    }
    events.emit(
        Event::info("summary", text)
            .with("host", ip.to_string())
            .with("open", s.open)
            .with("closed", s.closed)
            .with("filtered", s.filtered)
            .with("open_filtered", s.open_filtered),
    );
    if s.open + s.open_filtered == 0 {
        anyhow::bail!("no open port");
    }
    Ok(())
}

/// Ports listed without `--all`: the ones that may have something behind them.
fn shown(state: PortState) -> bool {
    matches!(state, PortState::Open | PortState::OpenFiltered)
}

fn line(out: &mut String, r: &PortResult, transport: Transport, json: bool) {
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::json!({"port": r.port, "proto": transport.name(), "state": r.state.name()})
        );
    } else {
        let _ = writeln!(out, "{}/{} {}", r.port, transport.name(), r.state);
    }
}
