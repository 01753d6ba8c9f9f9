//! Runs `sockit send` and `sockit recv`: flags to library calls, events and progress to
//! the terminal, outcomes to exit codes.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::UsageError;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sockit::event::{Event, Events, Level};
use sockit::net::SocketOptions;
use sockit::transfer::discover;
use sockit::transfer::paths::escape;
use sockit::transfer::plan::OnExisting;
use sockit::transfer::recv::{self, OfferInfo, RecvConfig, SyncMode};
use sockit::transfer::report::{Phase, Progress, ProgressFn, TransferError};
use sockit::transfer::send::{self, SendConfig};
use sockit::transfer::walk::WalkOptions;

use crate::cli::transfer::{RecvArgs, SendArgs, SyncArg};
use crate::ui::EventFormat;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// One progress bar on stderr, only on a terminal and without --json; events are printed
/// above it (suspending it) so lines and the bar never mix.
#[derive(Clone)]
struct Bars {
    multi: Option<MultiProgress>,
    bar: Arc<Mutex<Option<(Phase, ProgressBar)>>>,
}

impl Bars {
    fn new(json: bool) -> Bars {
        let on = !json && std::io::stderr().is_terminal();
        Bars {
            multi: on.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bar: Arc::new(Mutex::new(None)),
        }
    }

    fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.multi {
            Some(m) => m.suspend(f),
            None => f(),
        }
    }

    fn update(&self, p: &Progress) {
        let Some(multi) = &self.multi else { return };
        let Ok(mut slot) = self.bar.lock() else {
            return;
        };
        if slot.as_ref().is_none_or(|(phase, _)| *phase != p.phase) {
            if let Some((_, old)) = slot.take() {
                old.finish_and_clear();
            }
            let template = match p.phase {
                Phase::Waiting => "{spinner} {msg} {elapsed}",
                Phase::Hashing => {
                    "checking prefix {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}"
                }
                Phase::Transfer => "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
            };
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = multi.add(ProgressBar::new(p.total).with_style(style));
            if p.phase == Phase::Waiting {
                bar.set_message("waiting for the peer");
                bar.enable_steady_tick(Duration::from_millis(200));
            }
            *slot = Some((p.phase, bar));
        }
        if let Some((_, bar)) = slot.as_ref() {
            bar.set_length(p.total);
            bar.set_position(p.done);
            if let Some(f) = &p.file {
                bar.set_message(f.clone());
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some((_, bar)) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }

    fn progress(&self) -> Option<ProgressFn> {
        self.multi.as_ref()?;
        let me = self.clone();
        Some(Arc::new(move |p: &Progress| me.update(p)))
    }

    /// The event sink: the usual rendering, printed above the bar.
    fn events(&self, verbose: u8, json: bool) -> Events {
        let format = if json {
            EventFormat::Json
        } else {
            EventFormat::Text
        };
        let inner = crate::ui::events(verbose, format);
        let min = match verbose {
            0 => Level::Info,
            1 => Level::Verbose,
            _ => Level::Debug,
        };
        let me = self.clone();
        Events::new(min, move |e: &Event| me.suspend(|| inner.emit(e.clone())))
    }
}

/// Runs `sockit send`.
pub fn send(a: SendArgs, verbose: u8) -> anyhow::Result<()> {
    let bars = Bars::new(a.json);
    let events = bars.events(verbose, a.json);
    let config = SendConfig {
        walk: WalkOptions {
            symlinks: a.symlinks,
            exclude: a.exclude.clone(),
        },
        resume: !a.no_resume,
        timeout: a.timeout,
        socket: SocketOptions::default(),
        events: events.clone(),
        progress: bars.progress(),
    };
    let rt = runtime()?;
    let result = rt.block_on(async {
        let (target, addrs) = match &a.to {
            Some(to) => (to.to_string(), to.resolve(Some(a.timeout)).await?),
            None => {
                let found = discover::find(
                    &a.broadcast,
                    a.discovery_port,
                    a.name.as_deref(),
                    a.discover_wait,
                    &events,
                )
                .await?;
                let chosen = choose(found, a.name.as_deref())?;
                (chosen.to_string(), vec![chosen])
            }
        };
        send::send(
            a.paths.clone(),
            &target,
            &addrs,
            config,
            crate::ui::signal::shutdown(),
        )
        .await
        .map_err(to_anyhow)
    });
    bars.finish();
    rt.shutdown_background();
    let outcome = result?;
    if outcome.ok() {
        Ok(())
    } else {
        anyhow::bail!(
            "not every file arrived: {} failed (the messages above say which)",
            outcome.failed
        )
    }
}

/// Picks the receiver among discovery answers: the one named, or the only one.
fn choose(found: Vec<discover::Found>, name: Option<&str>) -> anyhow::Result<SocketAddr> {
    let list = || {
        found
            .iter()
            .map(|f| format!("{} at {}", escape(&f.name), f.addr))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match found.as_slice() {
        [] => anyhow::bail!(
            "no receiver answered the discovery query (is `sockit recv --discoverable` running?)"
        ),
        [one] => Ok(one.addr),
        _ => match name {
            Some(_) => Ok(found[0].addr),
            None => Err(UsageError::new(format!(
                "several receivers answered ({}): pick one with --name",
                list()
            ))
            .into()),
        },
    }
}

fn to_anyhow(err: TransferError) -> anyhow::Error {
    if err.is_usage() {
        UsageError::new(err.to_string()).into()
    } else {
        err.into()
    }
}

/// Runs `sockit recv`.
pub fn recv(a: RecvArgs, verbose: u8) -> anyhow::Result<()> {
    let bars = Bars::new(a.json);
    let events = bars.events(verbose, a.json);
    let existing = if a.overwrite {
        OnExisting::Overwrite
    } else if a.rename {
        OnExisting::Rename
    } else if a.skip_existing {
        OnExisting::Skip
    } else {
        OnExisting::Refuse
    };
    let sync = match a.sync {
        SyncArg::Batch => SyncMode::Batch,
        SyncArg::File => SyncMode::File,
        SyncArg::None => SyncMode::None,
    };
    let yes = a.yes;
    let prompt_bars = bars.clone();
    let prompt_events = events.clone();
    let accept = Arc::new(move |info: &OfferInfo<'_>| {
        if yes {
            return true;
        }
        if !std::io::stdin().is_terminal() {
            prompt_events.emit(Event::warn(
                "declined",
                "stdin is not a terminal, so nobody can be asked: pass --yes to accept offers",
            ));
            return false;
        }
        // The waiting spinner would redraw over the question: end it first.
        prompt_bars.finish();
        ask(&format!("accept the offer from {}? [y/N] ", info.peer))
    });
    let config = RecvConfig {
        dir: a.dir.clone(),
        existing,
        skip_identical: a.skip_identical,
        resume: !a.no_resume,
        max_size: a.max_size,
        sync,
        once: a.once,
        timeout: a.timeout,
        events: events.clone(),
        progress: bars.progress(),
        accept,
    };
    let rt = runtime()?;
    let result = rt.block_on(async {
        let addr = SocketAddr::new(a.bind, a.port);
        let listener =
            sockit::net::socket::tcp_listener(addr, &SocketOptions::default()).map_err(|e| {
                anyhow::anyhow!("listen on tcp {addr}: {}", sockit::net::error::describe(&e))
            })?;
        let port = listener.local_addr()?.port();
        let responder = if a.discoverable {
            let name = a.name.clone().unwrap_or_else(default_name);
            let socket = discover::responder_socket(a.bind, a.discovery_port).map_err(|e| {
                anyhow::anyhow!(
                    "discovery on udp port {}: {}",
                    a.discovery_port,
                    sockit::net::error::describe(&e)
                )
            })?;
            events.emit(Event::info(
                "discoverable",
                format!(
                    "answering discovery queries on udp port {} as {}",
                    a.discovery_port,
                    escape(&name)
                ),
            ));
            Some(tokio::spawn(discover::answer(
                socket,
                a.bind,
                name,
                port,
                events.clone(),
            )))
        } else {
            None
        };
        let report = recv::serve(listener, config, crate::ui::signal::shutdown())
            .await
            .map_err(to_anyhow);
        if let Some(task) = responder {
            task.abort();
        }
        report
    });
    bars.finish();
    rt.shutdown_background();
    let report = result?;
    if a.once && report.failed > 0 {
        anyhow::bail!("the session did not deliver every file");
    }
    Ok(())
}

fn default_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "sockit".into())
}

/// Asks a yes/no question on the terminal; anything but y/yes is no.
fn ask(question: &str) -> bool {
    let mut err = std::io::stderr();
    let _ = err.write_all(question.as_bytes());
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}
