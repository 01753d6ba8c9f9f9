//! Resuming: a sender or a receiver killed (SIGKILL) in the middle of a file leaves a part
//! file; running the same `send` again continues after the proven prefix, sends fewer
//! bytes, and ends with identical bytes. A corrupted part is not resumed. An offer that
//! does not fit on the disk is refused before anything is written.

mod common;

use common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SIZE: u64 = 192 << 20;

/// A file of SIZE pseudo-random bytes (a different prefix would change its digest).
fn make_source(dir: &Path) -> PathBuf {
    let p = dir.join("big.bin");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..(SIZE >> 20) {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        std::io::Write::write_all(&mut f, &block).unwrap();
    }
    p
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = fa.read(&mut ba).unwrap();
        let mut nb = 0;
        while nb < na {
            let n = fb.read(&mut bb[nb..na]).unwrap();
            if n == 0 {
                return false;
            }
            nb += n;
        }
        if na == 0 {
            return fb.read(&mut bb).unwrap() == 0;
        }
        if ba[..na] != bb[..na] {
            return false;
        }
    }
}

fn recv(dir: &Path) -> (Proc, u16) {
    let d = dir.to_str().unwrap();
    let p = Proc::sockit_with_stdin(
        &[
            "recv",
            "--dir",
            d,
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--once",
            "--yes",
            "--json",
        ],
        std::process::Stdio::null(),
    );
    let port = p.listening_addr("tcp").port();
    (p, port)
}

fn sender(port: u16, file: &Path) -> Proc {
    let to = format!("127.0.0.1:{port}");
    Proc::sockit_with_stdin(
        &["send", file.to_str().unwrap(), "--to", &to, "--json"],
        std::process::Stdio::null(),
    )
}

fn part(dir: &Path) -> PathBuf {
    dir.join(".big.bin.sockit-part")
}

fn part_len(dir: &Path) -> u64 {
    std::fs::metadata(part(dir)).map_or(0, |m| m.len())
}

/// The `bytes` of the JSON summary event in `stderr`.
fn summary_bytes(stderr: &str) -> u64 {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "summary")
        .and_then(|v| v["bytes"].as_u64())
        .unwrap_or_else(|| panic!("no summary in {stderr}"))
}

/// Starts a transfer and stops the receiver (SIGSTOP) once its part file holds 16 MiB:
/// from then on nothing moves, so the kill that follows lands mid-file for sure.
fn start_and_freeze(src: &Path, out: &Path) -> (Proc, Proc) {
    let (mut r, port) = recv(out);
    let s = sender(port, src);
    assert!(
        wait_cond(TIMEOUT, || part_len(out) >= 16 << 20),
        "no part file grew\n{}\n{}",
        r.diag(),
        s.diag()
    );
    r.signal(libc::SIGSTOP);
    (r, s)
}

/// Runs the same send again and checks it finished identical with fewer bytes sent.
fn resend(src_file: &Path, out: &Path) -> (u64, String) {
    let (mut r, port) = recv(out);
    let mut s = sender(port, src_file);
    assert_eq!(
        s.expect_exit_within(Duration::from_secs(120)),
        0,
        "{}",
        s.diag()
    );
    assert_eq!(r.expect_exit(), 0, "{}", r.diag());
    assert!(
        same_bytes(src_file, &out.join("big.bin")),
        "bytes differ after the resume"
    );
    assert!(!part(out).exists(), "the part file is gone once placed");
    (summary_bytes(&s.stderr.text()), s.stderr.text())
}

#[test]
fn killing_the_sender_mid_file_then_sending_again_resumes() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = make_source(src.path());
    let (mut r, mut s) = start_and_freeze(&file, out.path());
    s.kill();
    r.signal(libc::SIGCONT);
    assert_eq!(
        r.expect_exit(),
        1,
        "a cut session is a failed session\n{}",
        r.diag()
    );
    let kept = part_len(out.path());
    assert!((16 << 20..SIZE).contains(&kept), "part of {kept} bytes");
    assert!(
        !out.path().join("big.bin").exists(),
        "nothing half-written under the final name"
    );
    let (bytes, err) = resend(&file, out.path());
    assert!(err.contains("resuming at"), "{err}");
    assert_eq!(bytes, SIZE - kept, "only what was missing is sent again");
}

#[test]
fn killing_the_receiver_mid_file_then_sending_again_resumes() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = make_source(src.path());
    let (mut r, mut s) = start_and_freeze(&file, out.path());
    r.kill();
    assert_eq!(s.expect_exit(), 1, "{}", s.diag());
    let kept = part_len(out.path());
    assert!((16 << 20..SIZE).contains(&kept), "part of {kept} bytes");
    let (bytes, _) = resend(&file, out.path());
    assert!(bytes < SIZE, "{bytes} bytes sent again");
    assert_eq!(bytes, SIZE - kept);
}

#[test]
fn a_corrupted_part_is_not_resumed() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = make_source(src.path());
    let (mut r, mut s) = start_and_freeze(&file, out.path());
    s.kill();
    r.signal(libc::SIGCONT);
    r.expect_exit();
    use std::os::unix::fs::FileExt;
    let p = std::fs::OpenOptions::new()
        .write(true)
        .open(part(out.path()))
        .unwrap();
    p.write_all_at(b"corrupted", 4096).unwrap();
    drop(p);
    let (bytes, err) = resend(&file, out.path());
    assert!(err.contains("differs, sending it whole"), "{err}");
    assert_eq!(bytes, SIZE, "the whole file is sent again");
}

#[test]
fn an_offer_larger_than_the_free_space_is_refused_before_writing() {
    if !is_root() {
        skip("mounting a small tmpfs needs root");
        return;
    }
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let small = out.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let mounted = std::process::Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=1m",
            "tmpfs",
            small.to_str().unwrap(),
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        skip("cannot mount a tmpfs here");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(small.clone());
    let f = src.path().join("two-mib.bin");
    std::fs::write(&f, vec![1u8; 2 << 20]).unwrap();
    let (mut r, port) = recv(&small);
    let mut s = sender(port, &f);
    assert_eq!(s.expect_exit(), 1, "{}", s.diag());
    assert!(s.stderr.text().contains("free"), "{}", s.diag());
    assert_eq!(r.expect_exit(), 1);
    assert!(
        std::fs::read_dir(&small).unwrap().next().is_none(),
        "nothing written"
    );
}
