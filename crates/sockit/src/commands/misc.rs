//! Runs `sockit info` and `sockit demo`.

use super::write_stdout;

use crate::ui::event;
use anyhow::Context as _;
use sockit::net::info::default_options;

use super::tcp::block_on;
use crate::cli::misc as args;

/// Runs `sockit info`: the default options of fresh TCP and UDP sockets.
pub fn info(a: args::InfoArgs, verbose: u8) -> anyhow::Result<()> {
    let table = default_options().context("create sockets")?;
    if verbose > 0 {
        event(format!("socket {}", table.tcp));
        event(format!("socket {}", table.udp));
    }
    let text = if a.json {
        let mut tcp = serde_json::Map::new();
        let mut udp = serde_json::Map::new();
        for row in &table.rows {
            tcp.insert(row.name.to_string(), row.tcp.to_json());
            udp.insert(row.name.to_string(), row.udp.to_json());
        }
        let doc = serde_json::json!({ "tcp": tcp, "udp": udp });
        let mut text = serde_json::to_string_pretty(&doc).context("format JSON")?;
        text.push('\n');
        text
    } else {
        let mut rows = vec![vec![
            "OPTION".to_string(),
            "TCP".to_string(),
            "UDP".to_string(),
            "MEANING".to_string(),
        ]];
        for row in &table.rows {
            rows.push(vec![
                row.name.to_string(),
                row.tcp.to_string(),
                row.udp.to_string(),
                row.meaning.to_string(),
            ]);
        }
        crate::ui::table::render(&rows)
    };
    write_stdout(text.as_bytes())
}

/// Runs a `sockit demo` subcommand.
pub fn demo(cmd: args::DemoCommand, verbose: u8) -> anyhow::Result<()> {
    match cmd {
        args::DemoCommand::Sticky(a) => {
            let report = block_on(false, async move {
                sockit::demo::sticky(
                    a.count as usize,
                    &crate::ui::events(verbose, crate::ui::EventFormat::Text),
                )
                .await
                .context("sticky-packet demo on loopback")
            })?;
            write_stdout(report.render().as_bytes())
        }
        args::DemoCommand::Handshake => {
            let report =
                sockit::demo::handshake::handshake().context("handshake demo on loopback")?;
            write_stdout(report.render().as_bytes())
        }
        args::DemoCommand::Close => {
            let report = sockit::demo::close::close().context("close demo on loopback")?;
            write_stdout(report.render().as_bytes())
        }
        args::DemoCommand::Broadcast => {
            let report =
                sockit::demo::broadcast::broadcast().context("broadcast demo on loopback")?;
            write_stdout(report.render().as_bytes())
        }
        args::DemoCommand::Buffers => {
            let report = sockit::demo::buffers::buffers().context("buffers demo on loopback")?;
            write_stdout(report.render().as_bytes())
        }
        args::DemoCommand::Udp => {
            let report = sockit::demo::udp::udp().context("UDP demo on loopback")?;
            write_stdout(report.render().as_bytes())
        }
        args::DemoCommand::Reuseaddr => {
            let report =
                sockit::demo::reuseaddr::reuseaddr().context("SO_REUSEADDR demo on loopback")?;
            write_stdout(report.render().as_bytes())
        }
    }
}

/// Runs `sockit help [COMMAND...]`: the long help of sockit or of the named command.
pub fn help(a: crate::cli::HelpArgs) -> anyhow::Result<()> {
    use clap::CommandFactory as _;
    let mut cmd = crate::cli::Cli::command();
    cmd.build();
    let mut current = &mut cmd;
    for (i, word) in a.command.iter().enumerate() {
        let known: Vec<String> = current
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        current = match current.find_subcommand_mut(word) {
            Some(sub) => sub,
            None => {
                return Err(crate::error::UsageError::new(format!(
                    "no command '{}'; expected one of: {}",
                    a.command[..=i].join(" "),
                    known.join(", ")
                ))
                .into())
            }
        };
    }
    write_stdout(current.render_long_help().to_string().as_bytes())
}
