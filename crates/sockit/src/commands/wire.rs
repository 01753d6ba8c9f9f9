//! Runs `sockit trace`, `sockets`, `ping`, `ifaces` and `resolve`.

use std::io;
use std::net::IpAddr;

use anyhow::Context as _;
use sockit::wire::capture::{self, CaptureError, TraceConfig};
use sockit::wire::decode::Decoded;
use sockit::wire::filter::Filter;
use sockit::wire::pcap::PcapFile;
use sockit::wire::sockets::{self, Proto, SocketQuery, TcpState};
use sockit::wire::{ifaces, ping, resolve};

use super::tcp::block_on;
use super::write_stdout;
use crate::cli::wire as args;
use crate::error::UsageError;

/// Writes one line (or a few) to stdout at once, for commands that print as packets
/// arrive; the error is stdout's (EPIPE, ENOSPC), which ends the command with exit 1.
fn put(data: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut out = io::stdout().lock();
    out.write_all(data)?;
    out.flush()
}

/// Runs `sockit trace`.
pub fn trace(a: args::TraceArgs, verbose: u8) -> anyhow::Result<()> {
    let filter = Filter::parse(&a.filter).map_err(|e| UsageError::new(format!("FILTER: {e}")))?;
    let events = crate::ui::events(verbose, crate::ui::EventFormat::from_json_flag(a.json));
    let cfg = TraceConfig {
        iface: a.iface.clone(),
        filter,
        count: a.count,
        timeout: a.timeout,
        events,
    };
    let mut pcap = match &a.write {
        Some(path) => {
            Some(PcapFile::create(path).with_context(|| format!("create {}", path.display()))?)
        }
        None => None,
    };
    let layers = a.layers;
    let result = block_on(false, async {
        capture::trace(&cfg, crate::ui::signal::shutdown(), |t| {
            if let Some(p) = pcap.as_mut() {
                p.write(t.frame, t.time)?;
            }
            let mut text = t.line();
            text.push('\n');
            if layers {
                if let Decoded::Ip(p) = &t.decoded {
                    text.push_str(&p.layers());
                }
            }
            put(text.as_bytes())
        })
        .await
        .map_err(|e| match e {
            CaptureError::NoInterface(_) => anyhow::Error::new(UsageError::new(e.to_string())),
            CaptureError::Output(io) => anyhow::Error::new(io).context("write stdout"),
            other => anyhow::Error::new(other),
        })
    });
    if let Some(p) = pcap {
        p.finish().context("write pcap file")?;
    }
    result.map(|_| ())
}

/// Runs `sockit sockets`.
pub fn sockets(a: args::SocketsArgs) -> anyhow::Result<()> {
    let state = match &a.state {
        Some(s) => Some(TcpState::parse(s).ok_or_else(|| {
            UsageError::new(format!(
                "--state: unknown state '{s}' (listen, established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, close-wait, last-ack, closing, closed)"
            ))
        })?),
        None => None,
    };
    let both = !a.tcp && !a.udp;
    let q = SocketQuery {
        state,
        port: a.port,
        tcp: a.tcp || both,
        udp: a.udp || both,
    };
    let list = sockets::list(&q).context("read sockets with netlink sock_diag")?;
    let mut text = String::new();
    if a.json {
        for e in &list {
            let v = serde_json::json!({
                "proto": if e.proto == Proto::Tcp { "tcp" } else { "udp" },
                "state": e.state.ss_name(),
                "recv_q": e.recv_q,
                "send_q": e.send_q,
                "local": e.local.to_string(),
                "peer": e.peer.to_string(),
                "timer": e.timer.map(|(k, d)| serde_json::json!({"kind": k, "secs": d.as_secs_f64()})),
                "pid": e.process.as_ref().map(|p| p.0),
                "process": e.process.as_ref().map(|p| p.1.clone()),
            });
            text.push_str(&v.to_string());
            text.push('\n');
        }
        return write_stdout(text.as_bytes());
    }
    let mut rows = vec![[
        "PROTO", "STATE", "RECV-Q", "SEND-Q", "LOCAL", "PEER", "TIMER", "PROCESS",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for e in &list {
        rows.push(vec![
            if e.proto == Proto::Tcp { "tcp" } else { "udp" }.to_string(),
            e.state.ss_name().to_string(),
            e.recv_q.to_string(),
            e.send_q.to_string(),
            e.local.to_string(),
            e.peer.to_string(),
            e.timer
                .map(|(k, d)| format!("{k} {:.1}s", d.as_secs_f64()))
                .unwrap_or_else(|| "-".into()),
            e.process
                .as_ref()
                .map(|(pid, name)| format!("{name}({pid})"))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    write_stdout(crate::ui::table::render(&rows).as_bytes())
}

/// Resolves a ping target: an address as is, a name through getaddrinfo.
fn target(host: &str) -> anyhow::Result<IpAddr> {
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse() {
        return Ok(ip);
    }
    let answers = resolve::resolve(host, false).map_err(|e| UsageError::new(e.to_string()))?;
    answers
        .first()
        .map(|r| r.addr)
        .ok_or_else(|| UsageError::new(format!("HOST: '{host}' has no address")).into())
}

/// Runs `sockit ping`.
pub fn ping(a: args::PingArgs, verbose: u8) -> anyhow::Result<()> {
    let ip = target(&a.host)?;
    let cfg = ping::PingConfig {
        target: ip,
        count: a.count,
        interval: a.interval,
        wait: a.wait,
    };
    write_stdout(format!("PING {} ({ip}): {} data bytes\n", a.host, ping::PAYLOAD).as_bytes())?;
    let summary = block_on(false, async {
        ping::ping(&cfg, crate::ui::signal::shutdown(), |r| {
            put(format!(
                "{} bytes from {}: icmp_seq={} time={:.3} ms\n",
                r.bytes,
                r.from,
                r.seq,
                r.rtt.as_secs_f64() * 1000.0
            )
            .as_bytes())
        })
        .await
        .map_err(|e| match e {
            ping::PingError::Output(io) => anyhow::Error::new(io).context("write stdout"),
            other => anyhow::Error::new(other),
        })
    })?;
    if verbose > 0 {
        crate::ui::event(format!("used an ICMP {} socket", summary.socket_kind));
    }
    let mut text = format!(
        "--- {} ping statistics ---\n{} packets transmitted, {} received, {:.1}% packet loss\n",
        a.host,
        summary.sent,
        summary.received,
        summary.loss_percent()
    );
    if let Some((min, avg, max)) = summary.rtt {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        text.push_str(&format!(
            "rtt min/avg/max = {:.3}/{:.3}/{:.3} ms\n",
            ms(min),
            ms(avg),
            ms(max)
        ));
    }
    put(text.as_bytes()).context("write stdout")?;
    if summary.received == 0 {
        anyhow::bail!("no reply from {ip}");
    }
    Ok(())
}

/// Runs `sockit ifaces`.
pub fn ifaces(a: args::IfacesArgs) -> anyhow::Result<()> {
    let list = ifaces::list().context("read interfaces with netlink")?;
    if a.json {
        let doc: Vec<serde_json::Value> = list
            .iter()
            .map(|i| {
                serde_json::json!({
                    "index": i.index,
                    "name": i.name,
                    "mtu": i.mtu,
                    "flags": i.flag_names(),
                    "mac": i.mac,
                    "addrs": i.addrs.iter().map(|a| serde_json::json!({
                        "family": if a.addr.is_ipv4() { "inet" } else { "inet6" },
                        "addr": a.addr.to_string(),
                        "prefix": a.prefix,
                        "netmask": if a.addr.is_ipv4() { Some(ifaces::netmask_v4(a.prefix).to_string()) } else { None },
                        "broadcast": a.broadcast.map(|b| b.to_string()),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&doc).context("format JSON")?;
        text.push('\n');
        return write_stdout(text.as_bytes());
    }
    let mut text = String::new();
    for i in &list {
        text.push_str(&format!(
            "{}: {} <{}> mtu {}\n",
            i.index,
            i.name,
            i.flag_names().join(","),
            i.mtu
        ));
        if let Some(mac) = &i.mac {
            text.push_str(&format!("    ether {mac}\n"));
        }
        for a in &i.addrs {
            if a.addr.is_ipv4() {
                text.push_str(&format!(
                    "    inet {}/{} netmask {}{}\n",
                    a.addr,
                    a.prefix,
                    ifaces::netmask_v4(a.prefix),
                    a.broadcast
                        .map(|b| format!(" broadcast {b}"))
                        .unwrap_or_default()
                ));
            } else {
                text.push_str(&format!("    inet6 {}/{}\n", a.addr, a.prefix));
            }
        }
    }
    write_stdout(text.as_bytes())
}

/// Runs `sockit resolve`.
pub fn resolve(a: args::ResolveArgs) -> anyhow::Result<()> {
    let answers = resolve::resolve(&a.name, a.canonical).map_err(|e| {
        let text = e.to_string();
        anyhow::Error::new(io::Error::other(text))
    })?;
    let mut text = String::new();
    for r in &answers {
        if a.json {
            let v = serde_json::json!({
                "family": r.family, "type": r.socktype, "protocol": r.protocol,
                "address": r.addr.to_string(), "canonical": r.canonical,
            });
            text.push_str(&v.to_string());
        } else {
            text.push_str(&format!(
                "{:<6} {:<7} {:<4} {}",
                r.family, r.socktype, r.protocol, r.addr
            ));
            if let Some(c) = &r.canonical {
                text.push_str(&format!("  (canonical name {c})"));
            }
        }
        text.push('\n');
    }
    write_stdout(text.as_bytes())
}
