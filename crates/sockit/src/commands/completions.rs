//! Runs `sockit completions` and `sockit manpage`: text generated from the clap
//! definitions in `cli/`, so completions and man pages say exactly what `--help` says.

use super::write_stdout;
use std::path::Path;

use crate::error::UsageError;
use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{completions as args, Cli};

/// Runs `sockit completions SHELL`: prints the completion script for that shell.
pub fn completions(a: args::CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    // Generated into memory first: clap_complete panics on a failed write, and a reader
    // that went away (`| head`) is not an error here.
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "sockit", &mut script);
    write_stdout(&script)
}

/// Runs `sockit manpage [COMMAND...] [--out-dir DIR]`: prints one man page, or writes
/// every page into DIR.
pub fn manpage(a: args::ManpageArgs) -> anyhow::Result<()> {
    let root = command_tree();
    if let Some(dir) = a.out_dir {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("create folder {}", dir.display()))?;
        let mut written = String::new();
        write_pages(&root, &dir, &mut written)?;
        return write_stdout(written.as_bytes());
    }
    let mut page_of = &root;
    for name in &a.command {
        page_of = match page_of.find_subcommand(name) {
            Some(sub) => sub,
            None => {
                let here = page_of.get_bin_name().unwrap_or("sockit");
                let known: Vec<&str> = page_of.get_subcommands().map(|c| c.get_name()).collect();
                let known = if known.is_empty() {
                    "it has no subcommands".to_string()
                } else {
                    format!("its subcommands are {}", known.join(", "))
                };
                return Err(UsageError::new(format!(
                    "manpage: `{here}` has no subcommand `{name}`; {known}"
                ))
                .into());
            }
        };
    }
    write_stdout(&render(page_of)?)
}

/// The whole command tree, built, so every subcommand knows its full name (the page of
/// `tcp listen` is `sockit-tcp-listen`, its synopsis `sockit tcp listen`); without clap's
/// implicit `help` subcommand, which is no page of its own.
fn command_tree() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// One command's man page in roff.
fn render(cmd: &clap::Command) -> anyhow::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .context("render the man page")?;
    Ok(page)
}

/// Writes the page of `cmd` and of each of its subcommands (recursively) into `dir` as
/// `NAME.1`, appending each path written (one a line) to `written`.
fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut String) -> anyhow::Result<()> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, render(cmd)?).with_context(|| format!("write {}", path.display()))?;
    written.push_str(&format!("{}\n", path.display()));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}
