//! CPU steering for a `SO_REUSEPORT` group: a new connection goes to the listener of the
//! worker that matches the CPU its handshake was processed on.
//!
//! Without a program the kernel picks a listener of the group by a hash of the four-tuple,
//! so every worker ends up serving connections from every client thread and every CPU,
//! and each request wakes a thread on another CPU. With `SO_ATTACH_REUSEPORT_CBPF` and a
//! three-instruction classic BPF program (`return cpu % workers`), the connections whose
//! packets arrive on one CPU (one NIC queue under RSS, or one client thread on loopback)
//! all land on one worker, which the scheduler then keeps near that CPU: fewer cross-CPU
//! wake-ups and warmer caches. This is the kernel's own example for the option
//! (`tools/testing/selftests/net/reuseport_bpf_cpu.c`).
//!
//! Steering can pile connections onto one worker when their packets all arrive on one
//! CPU (a single-queue NIC, a single client thread); the HTTP server rebalances at accept
//! time for that (see `http::server::balance`).

use std::io;
use std::os::fd::AsRawFd;

/// Attaches `return cpu % workers` to the reuse-port group `listener` belongs to.
///
/// Listeners join the group in the order they start listening, so listener `i` (the
/// `i`-th bound) receives the connections handled on CPUs `i`, `i + workers`, ...
/// Errors (an old kernel, a sandbox that forbids socket filters) are returned for the
/// caller to ignore: the kernel's hash keeps working without a program.
pub fn steer_by_cpu(listener: &impl AsRawFd, workers: usize) -> io::Result<()> {
    let workers = u32::try_from(workers.max(1)).unwrap_or(u32::MAX);
    let mut program = [
        // A = the CPU processing this packet
        bpf(
            (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            (libc::SKF_AD_OFF + libc::SKF_AD_CPU) as u32,
        ),
        // A = A % workers
        bpf(
            (libc::BPF_ALU | libc::BPF_MOD | libc::BPF_K) as u16,
            workers,
        ),
        // the index of the listener in the group
        bpf((libc::BPF_RET | libc::BPF_A) as u16, 0),
    ];
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `program`, which outlives the call; the kernel copies the
    // program and checks it before attaching.
    let r = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_REUSEPORT_CBPF,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn bpf(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::socket::std_tcp_listener;
    use crate::net::SocketOptions;

    #[test]
    fn the_program_attaches_to_a_reuse_port_group() {
        let opts = SocketOptions {
            reuse_port: true,
            ..SocketOptions::default()
        };
        let a = std_tcp_listener("127.0.0.1:0".parse().unwrap(), &opts).unwrap();
        let b = std_tcp_listener(a.local_addr().unwrap(), &opts).unwrap();
        steer_by_cpu(&a, 2).unwrap();
        // Connections still arrive (on one of the two listeners).
        let _c = std::net::TcpStream::connect(a.local_addr().unwrap()).unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if a.accept().is_ok() || b.accept().is_ok() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no connection arrived"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}
