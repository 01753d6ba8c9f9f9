//! `sockit completions SHELL` and `sockit manpage`: the scripts and pages are generated
//! from the same clap definitions as `--help`, so these tests take the list of commands
//! and flags from `--help` and check that a real bash completes them and a real `man`
//! (and `groff`) renders them.

mod common;

use common::*;
use std::process::Command;

/// The top-level subcommands as `sockit --help` lists them (without clap's `help`).
fn subcommands_from_help() -> Vec<String> {
    let out = run_sockit(&["--help"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    let names: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    for expected in ["tcp", "udp", "http", "pack", "completions", "manpage"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from --help's commands {names:?}:\n{text}"
        );
    }
    names
}

/// The long flags (`--echo`) that `sockit ARGS --help` documents.
fn long_flags_from_help(args: &[&str]) -> Vec<String> {
    let mut argv = args.to_vec();
    argv.push("--help");
    let out = run_sockit(&argv, b"");
    assert_eq!(out.code, 0, "{out:?}");
    let mut flags: Vec<String> = out
        .stdout_text()
        .lines()
        .filter_map(|l| {
            // "  -e, --echo  ...", "      --port <PORT>  ...": the flag part ends at two spaces.
            let head = l.trim_start().split("  ").next()?;
            if !head.starts_with('-') {
                return None;
            }
            let flag = head
                .split([' ', ',', '=', '[', '<'])
                .find(|t| t.starts_with("--") && t.len() > 2)?;
            // `-v, --verbose...` (a counted flag) is the flag --verbose.
            Some(flag.trim_end_matches("...").to_string())
        })
        .collect();
    flags.sort();
    flags.dedup();
    assert!(flags.iter().any(|f| f == "--help"), "{flags:?}");
    flags
}

/// Runs `bash -c SCRIPT` with the binary under test first on PATH.
fn bash(script: &str) -> Output {
    let bin_dir = std::path::Path::new(sockit_bin())
        .parent()
        .expect("binary has a folder");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-c", script])
        .env("PATH", path);
    run_proc(Proc::spawn(cmd, "bash -c"), b"", TIMEOUT)
}

/// Renders a man page (roff on stdin) the way a user reads it: `man -l -`, plain text.
fn man_render(page: &[u8]) -> String {
    let mut cmd = Command::new("man");
    cmd.args(["-l", "-"])
        .env("MANWIDTH", "200")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("LC_ALL", "C.UTF-8");
    let out = run_proc(Proc::spawn(cmd, "man -l -"), page, TIMEOUT);
    assert_eq!(out.code, 0, "man -l - failed: {}", out.stderr);
    // Without a terminal man-db prints plain text, but strip overstrikes to be sure.
    let mut text = String::new();
    for c in out.stdout_text().chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    text
}

/// `groff -man -ww`: the page is valid roff (no warnings at all, every warning enabled).
fn assert_groff_clean(page: &[u8], what: &str) {
    let mut cmd = Command::new("groff");
    cmd.args(["-man", "-Tutf8", "-ww", "-z"]);
    let out = run_proc(Proc::spawn(cmd, "groff -man"), page, TIMEOUT);
    assert_eq!(out.code, 0, "groff failed on {what}: {}", out.stderr);
    assert!(
        out.stderr.trim().is_empty(),
        "groff warns about {what}: {}",
        out.stderr
    );
}

#[test]
fn bash_completion_script_is_sourceable_and_registers_sockit() {
    if !has_cmd("bash") {
        return;
    }
    let out = bash("source <(sockit completions bash) && complete -p sockit");
    assert_eq!(out.code, 0, "{out:?}");
    let line = out.stdout_text();
    assert!(
        line.starts_with("complete ") && line.trim_end().ends_with(" sockit"),
        "{line:?}"
    );
}

#[test]
fn bash_completes_every_subcommand_and_the_flags_of_tcp_listen() {
    if !has_cmd("bash") {
        return;
    }
    // Calls the registered completion function the way bash does on Tab, for
    // `sockit <Tab>` and `sockit tcp listen --<Tab>`, and prints the candidates.
    let script = r#"
source <(sockit completions bash) || exit 9
func=$(complete -p sockit | sed -E 's/.*-F ([^ ]+) .*/\1/')
tab() {
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    "$func" sockit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf '%s\n' "${COMPREPLY[@]}"
}
tab sockit ''
echo '--'
tab sockit tcp listen --
"#;
    let out = bash(script);
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    let (top, listen) = text.split_once("--\n").expect("two lists");
    let top: Vec<&str> = top.split_whitespace().collect();
    for name in subcommands_from_help() {
        assert!(
            top.contains(&name.as_str()),
            "`sockit <Tab>` does not offer {name}: {top:?}"
        );
    }
    let listen: Vec<&str> = listen.split_whitespace().collect();
    for flag in long_flags_from_help(&["tcp", "listen"]) {
        assert!(
            listen.contains(&flag.as_str()),
            "`sockit tcp listen --<Tab>` does not offer {flag}: {listen:?}"
        );
    }
}

#[test]
fn zsh_and_fish_scripts_name_every_subcommand() {
    let names = subcommands_from_help();
    let zsh = run_sockit(&["completions", "zsh"], b"");
    assert_eq!(zsh.code, 0, "{zsh:?}");
    let zsh = zsh.stdout_text();
    assert!(
        zsh.starts_with("#compdef sockit"),
        "{}",
        &zsh[..zsh.len().min(200)]
    );
    let fish = run_sockit(&["completions", "fish"], b"");
    assert_eq!(fish.code, 0, "{fish:?}");
    let fish = fish.stdout_text();
    assert!(fish.contains("complete -c sockit"), "{fish}");
    for name in &names {
        // zsh lists each subcommand as 'NAME:description'; fish offers it with -a "NAME".
        assert!(
            zsh.contains(&format!("'{name}:")),
            "zsh script lacks {name}"
        );
        assert!(
            fish.contains(&format!("-a \"{name}\"")),
            "fish script lacks {name}"
        );
    }
    for shell in ["elvish", "powershell"] {
        let out = run_sockit(&["completions", shell], b"");
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout_text().contains("sockit"), "{shell}: {out:?}");
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = run_sockit(&["completions", "tcsh"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(out.stderr.contains("tcsh"), "{out:?}");
}

#[test]
fn manpage_renders_with_man_and_lists_every_subcommand() {
    if !has_cmd("man") || !has_cmd("groff") {
        return;
    }
    let out = run_sockit(&["manpage"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with(b".ie"), "roff expected: {out:?}");
    assert_groff_clean(&out.stdout, "sockit.1");
    let text = man_render(&out.stdout);
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SUBCOMMANDS"] {
        assert!(
            text.lines().any(|l| l == section),
            "no {section} section:\n{text}"
        );
    }
    assert!(text.contains("sockit - A network toolkit"), "{text}");
    for name in subcommands_from_help() {
        assert!(
            text.contains(&format!("sockit-{name}(1)")),
            "the page does not list {name}:\n{text}"
        );
    }
    assert!(text.contains("Exit codes: 0 success"), "{text}");
}

#[test]
fn manpage_of_a_subcommand_documents_each_of_its_flags() {
    if !has_cmd("man") || !has_cmd("groff") {
        return;
    }
    for path in [&["tcp", "listen"][..], &["http", "serve"], &["pack"]] {
        let mut args = vec!["manpage"];
        args.extend_from_slice(path);
        let out = run_sockit(&args, b"");
        assert_eq!(out.code, 0, "{out:?}");
        let title = format!("sockit-{}", path.join("-"));
        assert_groff_clean(&out.stdout, &title);
        let text = man_render(&out.stdout);
        assert!(
            text.contains(&format!("{title} - ")),
            "no NAME line for {title}:\n{text}"
        );
        assert!(
            text.contains(&format!("sockit {}", path.join(" "))),
            "synopsis of {title} lacks the full command:\n{text}"
        );
        for flag in long_flags_from_help(path) {
            assert!(text.contains(&flag), "{title} does not document {flag}");
        }
    }
}

#[test]
fn manpage_out_dir_writes_one_valid_page_per_command() {
    if !has_cmd("groff") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("man1");
    let out = run_sockit(&["manpage", "--out-dir", dir.to_str().expect("utf-8")], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let listed: Vec<String> = out.stdout_text().lines().map(str::to_string).collect();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("out dir exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(listed.len(), files.len(), "{listed:?} vs {files:?}");
    for want in [
        "sockit.1",
        "sockit-tcp.1",
        "sockit-tcp-listen.1",
        "sockit-http-serve.1",
    ] {
        assert!(files.iter().any(|f| f == want), "{want} missing: {files:?}");
    }
    for name in subcommands_from_help() {
        assert!(
            files.contains(&format!("sockit-{name}.1")),
            "no page for {name}: {files:?}"
        );
    }
    // `sockit help` is a command of its own (it takes --help too), so it has a page.
    assert!(files.iter().any(|f| f == "sockit-help.1"), "{files:?}");
    for f in &files {
        let page = std::fs::read(dir.join(f)).expect("read page");
        assert_groff_clean(&page, f);
    }
}

#[test]
fn manpage_of_an_unknown_subcommand_is_a_usage_error() {
    let out = run_sockit(&["manpage", "tcp", "lisen"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(nonempty_lines(&out.stderr).len(), 1, "{out:?}");
    assert!(
        out.stderr
            .contains("`sockit tcp` has no subcommand `lisen`")
            && out.stderr.contains("listen"),
        "{out:?}"
    );
}

#[test]
fn help_texts_say_how_to_install() {
    let out = run_sockit(&["completions", "--help"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    for needle in ["bash", "zsh", "fish", "source <(sockit completions bash)"] {
        assert!(
            text.contains(needle),
            "completions --help lacks {needle:?}:\n{text}"
        );
    }
    let out = run_sockit(&["manpage", "--help"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let text = out.stdout_text();
    for needle in ["man -l -", "--out-dir", "COMMAND"] {
        assert!(
            text.contains(needle),
            "manpage --help lacks {needle:?}:\n{text}"
        );
    }
}
