//! `sockit send` / `sockit recv` with the real binary on loopback: files and folders
//! arrive whole (empty files, nested empty folders, a sparse file, modes and mtimes),
//! existing files are never replaced unless asked, exit codes say whether everything
//! arrived, and what a person sees is escaped.

mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

/// A running `sockit recv --once` on 127.0.0.1 with a free port.
pub struct Recv {
    pub proc: Proc,
    pub port: u16,
}

pub fn recv(dir: &Path, extra: &[&str]) -> Recv {
    let d = dir.to_str().unwrap();
    let mut args = vec![
        "recv",
        "--dir",
        d,
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--once",
    ];
    args.extend_from_slice(extra);
    let proc = Proc::sockit_with_stdin(&args, std::process::Stdio::null());
    let port = proc.listening_addr("tcp").port();
    Recv { proc, port }
}

pub fn send(port: u16, paths: &[&Path], extra: &[&str]) -> Output {
    let to = format!("127.0.0.1:{port}");
    let mut args: Vec<&str> = vec!["send"];
    for p in paths {
        args.push(p.to_str().unwrap());
    }
    args.extend_from_slice(&["--to", &to]);
    args.extend_from_slice(extra);
    run_sockit(&args, b"")
}

/// Every file's bytes, every entry's mode and every file's mtime are the same.
fn assert_same_tree(a: &Path, b: &Path) {
    let ma = std::fs::symlink_metadata(a).unwrap();
    let mb = std::fs::symlink_metadata(b).unwrap();
    assert_eq!(
        ma.file_type().is_dir(),
        mb.file_type().is_dir(),
        "{}",
        b.display()
    );
    assert_eq!(
        ma.permissions().mode() & 0o777,
        mb.permissions().mode() & 0o777,
        "mode of {}",
        b.display()
    );
    if ma.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(a)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let mut other: Vec<_> = std::fs::read_dir(b)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        other.sort();
        assert_eq!(names, other, "entries of {}", b.display());
        for n in names {
            assert_same_tree(&a.join(&n), &b.join(&n));
        }
        assert_eq!(ma.mtime(), mb.mtime(), "mtime of folder {}", b.display());
    } else {
        assert_eq!(
            std::fs::read(a).unwrap(),
            std::fs::read(b).unwrap(),
            "bytes of {}",
            b.display()
        );
        assert_eq!(
            (ma.mtime(), ma.mtime_nsec()),
            (mb.mtime(), mb.mtime_nsec()),
            "mtime of {}",
            b.display()
        );
    }
}

fn set_mtime(p: &Path, secs: i64) {
    let t = std::time::UNIX_EPOCH + Duration::from_secs(secs as u64);
    let f = std::fs::File::options().read(true).open(p).unwrap();
    f.set_modified(t).unwrap();
}

#[test]
fn folders_with_empty_files_and_nested_empty_folders_arrive_identical() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let top = src.path().join("project");
    std::fs::create_dir_all(top.join("a/b/c/empty")).unwrap();
    std::fs::create_dir_all(top.join("also-empty")).unwrap();
    std::fs::write(top.join("zero.bin"), b"").unwrap();
    std::fs::write(top.join("a/b/c/deep.txt"), b"deep\n").unwrap();
    std::fs::write(top.join("run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(top.join("run.sh"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::set_permissions(top.join("a/b"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(top.join("a/big.bin"), &big).unwrap();
    set_mtime(&top.join("a/big.bin"), 1_000_000_000);
    let single = src.path().join("single.txt");
    std::fs::write(&single, b"one file on its own\n").unwrap();
    for d in ["a/b/c/empty", "a/b/c", "a/b", "a", "also-empty", ""] {
        let p = top.join(d);
        let f = std::fs::File::open(&p).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(1_500_000_000))
            .unwrap();
    }

    let mut r = recv(out.path(), &["--yes"]);
    let s = send(r.port, &[&top, &single], &[]);
    assert_eq!(s.code, 0, "{s:?}\n{}", r.proc.diag());
    assert!(s.stderr.contains("verified 5/5"), "{}", s.stderr);
    assert_eq!(r.proc.expect_exit(), 0, "{}", r.proc.diag());
    assert_same_tree(&top, &out.path().join("project"));
    assert_same_tree(&single, &out.path().join("single.txt"));
    let err = r.proc.stderr.text();
    assert!(err.contains("executables: project/run.sh"), "{err}");
    assert!(err.contains("verified 5/5"), "{err}");
    // No part file is left behind.
    let parts = walk(out.path())
        .into_iter()
        .filter(|p| p.contains("sockit-part"))
        .count();
    assert_eq!(parts, 0);
}

fn walk(p: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        out.push(e.file_name().to_string_lossy().into_owned());
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        }
    }
    out
}

#[test]
fn a_large_sparse_file_arrives_verified() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let f = src.path().join("sparse.img");
    let file = std::fs::File::create(&f).unwrap();
    file.set_len(96 << 20).unwrap();
    use std::os::unix::fs::FileExt;
    file.write_all_at(b"middle", 48 << 20).unwrap();
    file.write_all_at(b"end", (96 << 20) - 3).unwrap();
    drop(file);
    let mut r = recv(out.path(), &["--yes"]);
    let s = send(r.port, &[&f], &["--json"]);
    assert_eq!(s.code, 0, "{s:?}");
    assert_eq!(r.proc.expect_exit(), 0, "{}", r.proc.diag());
    assert_same_tree(&f, &out.path().join("sparse.img"));
    // --json: every stderr line is one JSON object, the summary among them.
    let summary = s
        .stderr
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{l:?}: {e}"))
        })
        .find(|v| v["event"] == "summary")
        .expect("a summary event");
    assert_eq!(summary["verified"], 1);
    assert_eq!(summary["bytes"], 96u64 << 20);
    assert_eq!(summary["ok"], true);
}

#[test]
fn an_existing_file_is_not_replaced_unless_asked() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let f = src.path().join("notes.txt");
    std::fs::write(&f, b"new content").unwrap();
    let other = src.path().join("other.txt");
    std::fs::write(&other, b"other").unwrap();
    std::fs::write(out.path().join("notes.txt"), b"precious").unwrap();

    // Default: that entry is refused, the rest arrives, both ends exit 1.
    let mut r = recv(out.path(), &["--yes"]);
    let s = send(r.port, &[&f, &other], &[]);
    assert_eq!(s.code, 1, "{s:?}");
    assert_eq!(r.proc.expect_exit(), 1, "{}", r.proc.diag());
    assert!(
        r.proc
            .stderr
            .text()
            .contains("notes.txt: already exists, not replaced"),
        "{}",
        r.proc.diag()
    );
    assert_eq!(
        std::fs::read(out.path().join("notes.txt")).unwrap(),
        b"precious"
    );
    assert_eq!(
        std::fs::read(out.path().join("other.txt")).unwrap(),
        b"other"
    );

    // --skip-existing: skipped on purpose, exit 0.
    let mut r = recv(out.path(), &["--yes", "--skip-existing"]);
    let s = send(r.port, &[&f], &[]);
    assert_eq!(s.code, 0, "{s:?}");
    assert_eq!(r.proc.expect_exit(), 0);
    assert_eq!(
        std::fs::read(out.path().join("notes.txt")).unwrap(),
        b"precious"
    );

    // --rename: stored beside it.
    let mut r = recv(out.path(), &["--yes", "--rename"]);
    let s = send(r.port, &[&f], &[]);
    assert_eq!(s.code, 0, "{s:?}");
    assert_eq!(r.proc.expect_exit(), 0);
    assert_eq!(
        std::fs::read(out.path().join("notes.txt")).unwrap(),
        b"precious"
    );
    assert_eq!(
        std::fs::read(out.path().join("notes (1).txt")).unwrap(),
        b"new content"
    );

    // --skip-identical: the same bytes are not sent again.
    let mut r = recv(out.path(), &["--yes", "--skip-identical", "--json"]);
    let s = send(r.port, &[&other], &[]);
    assert_eq!(s.code, 0, "{s:?}");
    assert_eq!(r.proc.expect_exit(), 0);
    assert!(
        r.proc.stderr.text().contains("\"bytes\":0"),
        "{}",
        r.proc.diag()
    );

    // --overwrite: replaced, after verification.
    let mut r = recv(out.path(), &["--yes", "--overwrite"]);
    let s = send(r.port, &[&f], &[]);
    assert_eq!(s.code, 0, "{s:?}");
    assert_eq!(r.proc.expect_exit(), 0);
    assert_eq!(
        std::fs::read(out.path().join("notes.txt")).unwrap(),
        b"new content"
    );
}

#[test]
fn offers_are_refused_without_yes_off_a_terminal_and_over_max_size() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let f = src.path().join("f.bin");
    std::fs::write(&f, vec![7u8; 5000]).unwrap();
    let mut r = recv(out.path(), &[]);
    let s = send(r.port, &[&f], &[]);
    assert_eq!(s.code, 1, "{s:?}");
    assert!(
        s.stderr.contains("refused the offer: declined"),
        "{}",
        s.stderr
    );
    assert_eq!(r.proc.expect_exit(), 1);
    assert!(
        r.proc.stderr.text().contains("pass --yes"),
        "{}",
        r.proc.diag()
    );

    let mut r = recv(out.path(), &["--yes", "--max-size", "4K"]);
    let s = send(r.port, &[&f], &[]);
    assert_eq!(s.code, 1, "{s:?}");
    assert!(s.stderr.contains("--max-size"), "{}", s.stderr);
    assert_eq!(r.proc.expect_exit(), 1);
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn usage_errors_exit_2_and_unsendable_names_are_escaped() {
    let out = run_sockit(&["send", "/nonexistent/file", "--to", "127.0.0.1:9"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    let out = run_sockit(&["send", "x"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    let out = run_sockit(&["recv", "--overwrite", "--rename"], b"");
    assert_eq!(out.code, 2, "{out:?}");

    // A local name with a terminal escape cannot be offered; the warning shows it escaped.
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let top = src.path().join("top");
    std::fs::create_dir(&top).unwrap();
    std::fs::write(top.join("evil\x1b[2J.txt"), b"x").unwrap();
    std::fs::write(top.join("fine.txt"), b"y").unwrap();
    let mut r = recv(dst.path(), &["--yes"]);
    let s = send(r.port, &[&top], &[]);
    assert!(s.stderr.contains("evil\\x1b[2J.txt"), "{}", s.stderr);
    assert!(
        !s.stderr.contains('\x1b'),
        "raw escape printed: {:?}",
        s.stderr
    );
    assert_eq!(
        s.code, 1,
        "a file left out is a file that did not arrive: {s:?}"
    );
    r.proc.expect_exit();
    assert_eq!(
        std::fs::read(dst.path().join("top/fine.txt")).unwrap(),
        b"y"
    );
}

#[test]
fn the_receiver_reports_a_sender_that_is_not_there() {
    let port = free_tcp_port();
    let f = tempfile::NamedTempFile::new().unwrap();
    let s = send(port, &[f.path()], &["--timeout", "2"]);
    assert_eq!(s.code, 1, "{s:?}");
    assert!(s.stderr.contains("connection refused"), "{}", s.stderr);
}

#[test]
fn symlinks_only_with_the_flag_and_only_inside_and_excludes_leave_things_out() {
    let src = tempfile::tempdir().unwrap();
    let top = src.path().join("tree");
    std::fs::create_dir_all(top.join("sub")).unwrap();
    std::fs::write(top.join("target.txt"), b"t").unwrap();
    std::fs::write(top.join("skip.log"), b"l").unwrap();
    std::fs::write(top.join("sub/keep.txt"), b"k").unwrap();
    std::os::unix::fs::symlink("../target.txt", top.join("sub/inside")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", top.join("outside")).unwrap();

    // Without --symlinks: both links left out (not a failure), *.log excluded.
    let out = tempfile::tempdir().unwrap();
    let mut r = recv(out.path(), &["--yes"]);
    let s = send(r.port, &[&top], &["--exclude", "*.log"]);
    assert_eq!(s.code, 0, "{s:?}");
    assert_eq!(r.proc.expect_exit(), 0);
    let got = out.path().join("tree");
    assert!(got.join("sub/keep.txt").exists() && !got.join("skip.log").exists());
    assert!(std::fs::symlink_metadata(got.join("sub/inside")).is_err());

    // With --symlinks: the inside link travels as a link, the outside one is left out.
    let out = tempfile::tempdir().unwrap();
    let mut r = recv(out.path(), &["--yes"]);
    let s = send(r.port, &[&top], &["--symlinks"]);
    assert!(s.stderr.contains("outside: a symlink with"), "{}", s.stderr);
    assert_eq!(r.proc.expect_exit(), 0, "{}", r.proc.diag());
    let got = out.path().join("tree");
    assert_eq!(
        std::fs::read_link(got.join("sub/inside")).unwrap(),
        Path::new("../target.txt")
    );
    assert!(std::fs::symlink_metadata(got.join("outside")).is_err());
}

/// `sockit recv` on a pseudo-terminal (util-linux `script`), answering its question.
fn recv_on_a_terminal(dir: &Path, answer: &str) -> (i32, Output, String) {
    let port = free_tcp_port();
    let cmd = format!(
        "{} recv --dir {} --bind 127.0.0.1 --port {port} --once",
        sockit_bin(),
        dir.display()
    );
    let mut r = Proc::program("script", &["-qfec", &cmd, "/dev/null"]);
    wait_tcp_listening(port);
    let src = tempfile::tempdir().unwrap();
    let f = src.path().join("asked.txt");
    std::fs::write(&f, b"asked first").unwrap();
    let to = format!("127.0.0.1:{port}");
    let s = std::thread::scope(|sc| {
        let sender = sc.spawn(|| run_sockit(&["send", f.to_str().unwrap(), "--to", &to], b""));
        r.expect_stdout("? [y/N]");
        r.write(format!("{answer}\n"));
        sender.join().unwrap()
    });
    let code = r.expect_exit();
    (code, s, r.stdout.text())
}

#[test]
fn on_a_terminal_the_receiver_asks_before_accepting() {
    if !has_cmd("script") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let (code, s, screen) = recv_on_a_terminal(out.path(), "n");
    assert_eq!(s.code, 1, "{s:?}");
    assert!(s.stderr.contains("declined"), "{}", s.stderr);
    assert_eq!(code, 1, "{screen}");
    assert!(!out.path().join("asked.txt").exists());
    let (code, s, screen) = recv_on_a_terminal(out.path(), "y");
    assert_eq!(s.code, 0, "{s:?}\n{screen}");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("offers 1 files"), "{screen}");
    assert_eq!(
        std::fs::read(out.path().join("asked.txt")).unwrap(),
        b"asked first"
    );
}
