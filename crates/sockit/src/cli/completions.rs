//! `sockit completions` and `sockit manpage` command-line definitions: both print text
//! generated from the clap definitions in this folder, so they never drift from `--help`.

use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

/// The `--help` text of `sockit completions` (set on its variant in [`super::Command`]:
/// a variant's doc comment would override one set here on the struct).
pub const COMPLETIONS_LONG_ABOUT: &str =
    "Print a completion script for SHELL on stdout: subcommands, flags and their \
values complete on Tab. The script is generated from the same definitions as --help, so it \
always matches this binary.\n\
\n\
Install it once:\n\
\n\
bash: echo 'source <(sockit completions bash)' >> ~/.bashrc\n\
bash, for every user: sockit completions bash > /usr/share/bash-completion/completions/sockit\n\
zsh: sockit completions zsh > ~/.zfunc/_sockit, with fpath+=(~/.zfunc) before compinit in ~/.zshrc\n\
fish: sockit completions fish > ~/.config/fish/completions/sockit.fish\n\
\n\
elvish and powershell scripts are printed the same way.";

/// The example under `sockit completions --help`.
pub const COMPLETIONS_AFTER_HELP: &str =
    "Example: source <(sockit completions bash)   # completions in this bash session";

/// Options of `sockit completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The `--help` text of `sockit manpage` (set on its variant, as for completions).
pub const MANPAGE_LONG_ABOUT: &str =
    "Print sockit's manual page in roff (the man(7) format) on stdout, generated \
from the same definitions as --help: name, synopsis, description, every option and the list \
of subcommands. Give a subcommand path (`tcp`, `tcp listen`, `http serve`) for that \
command's own page, or --out-dir to write every page as a file for installing.\n\
\n\
Read it with: sockit manpage | man -l -\n\
One command: sockit manpage http serve | man -l -\n\
Install them all: sockit manpage --out-dir /usr/local/share/man/man1 \
(writes sockit.1, sockit-tcp.1, sockit-tcp-listen.1, ...)";

/// Options of `sockit manpage`.
#[derive(Debug, Args)]
pub struct ManpageArgs {
    /// The subcommand whose page to print, as typed after `sockit` (e.g. `tcp listen`);
    /// none: the page of `sockit` itself, which lists the subcommands.
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,

    /// Write the page of sockit and of every subcommand into DIR as NAME.1 files
    /// (sockit.1, sockit-tcp.1, sockit-tcp-listen.1, ...) instead of printing one page;
    /// prints the path of each file written.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub out_dir: Option<PathBuf>,
}
