//! Runs `sockit relay`.

use sockit::event::Event;
use sockit::relay::{Relay, RelayConfig, RelayError};

use super::tcp::block_on;
use crate::cli::relay::RelayArgs;
use crate::error::UsageError;

/// Runs `sockit relay LISTEN TARGET` until Ctrl-C or SIGTERM.
pub fn run(a: RelayArgs, verbose: u8) -> anyhow::Result<()> {
    let events = crate::ui::events(verbose, crate::ui::EventFormat::from_json_flag(a.json));
    let config = RelayConfig {
        listen: a.listen,
        target: a.target,
        max_connections: a.max_connections as usize,
        buffer: a.buffer,
        unlink: a.unlink,
        connect_timeout: a.connect_timeout,
        events: events.clone(),
    };
    block_on(true, async move {
        // Handlers first: a SIGTERM right after the ready line must stop us gracefully.
        let stop = crate::ui::signal::shutdown();
        let target = config.target.to_string();
        let relay = match Relay::bind(config).await {
            Ok(relay) => relay,
            // A path the user pointed at that cannot be used: theirs to fix.
            Err(err @ (RelayError::NotASocket(_) | RelayError::Stale(_))) => {
                let hint = if matches!(err, RelayError::Stale(_)) {
                    " (--unlink replaces it)"
                } else {
                    ""
                };
                return Err(UsageError::new(format!("{err}{hint}")).into());
            }
            Err(err) => return Err(err.into()),
        };
        let local = relay.local();
        events.emit(
            Event::info("listening", format!("relaying {local} to {target}"))
                .with("addr", local.as_str())
                .with("target", target.as_str()),
        );
        relay.run(stop).await?;
        Ok(())
    })
}
