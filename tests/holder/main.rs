//! `socket-holder`: a stand-in for a systemd `.socket` unit, for the tests
//! and benches of restarts (issue 21).
//!
//! ```text
//! socket-holder ADDR -- COMMAND [ARGS...]
//! ```
//!
//! Binds a UDP socket and a TCP listener on `ADDR` (port 0: any free
//! port), prints `holder: listening on <addr>`, and runs `COMMAND` with
//! both sockets as consecutive descriptors, `LISTEN_FDS=2`,
//! `LISTEN_FDS_FIRST_FD` and `LISTEN_PID` set to the command's own process
//! (through `sh -c 'exec ...'`, which keeps the process id), as systemd
//! does. The holder keeps the sockets open for as long as it runs, so
//! queries that arrive while no command runs wait in the socket's queue.
//! SIGHUP restarts the command as `systemctl restart` does: SIGTERM, wait
//! for it to exit, start it again (`holder: restarted in N ms` once the new
//! one runs). SIGTERM or SIGINT stops it and exits. No unsafe code: the
//! descriptors are passed by clearing their close-on-exec flag.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::process::{Child, Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

/// The UDP receive buffer asked for: what arrives while no server runs
/// waits there.
const RECV_BUFFER: usize = 16 << 20;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(cmd)) = (
        args.first().and_then(|a| a.parse::<SocketAddr>().ok()),
        args.iter().position(|a| a == "--").map(|i| &args[i + 1..]),
    ) else {
        eprintln!("usage: socket-holder ADDR -- COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    if cmd.is_empty() {
        eprintln!("usage: socket-holder ADDR -- COMMAND [ARGS...]");
        return ExitCode::from(2);
    }
    let (udp, tcp) = match bind(addr) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("holder: cannot bind {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let first = udp.as_raw_fd();
    if tcp.as_raw_fd() != first + 1 {
        eprintln!(
            "holder: descriptors {first} and {} are not consecutive",
            tcp.as_raw_fd()
        );
        return ExitCode::from(1);
    }
    let local = udp
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .unwrap_or(addr);
    println!(
        "holder: listening on {local} (UDP receive buffer {} bytes)",
        udp.recv_buffer_size().unwrap_or(0)
    );
    let restart = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let _ =
        signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&restart));
    for s in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register(s, Arc::clone(&stop));
    }
    let mut child = match spawn(cmd, first) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("holder: cannot start {}: {e}", cmd[0]);
            return ExitCode::from(1);
        }
    };
    loop {
        if stop.load(Ordering::Relaxed) {
            terminate(&mut child);
            return ExitCode::SUCCESS;
        }
        if restart.swap(false, Ordering::Relaxed) {
            let t0 = Instant::now();
            terminate(&mut child);
            child = match spawn(cmd, first) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("holder: cannot start {}: {e}", cmd[0]);
                    return ExitCode::from(1);
                }
            };
            println!("holder: restarted in {} ms", t0.elapsed().as_millis());
        }
        if let Ok(Some(status)) = child.try_wait() {
            println!("holder: command exited: {status}");
            return ExitCode::from(1);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The UDP socket and TCP listener, kept open across `exec`.
fn bind(addr: SocketAddr) -> std::io::Result<(Socket, Socket)> {
    let udp = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // As systemd's ReceiveBuffer=16M (deploy/mesos-dns.socket): forced
    // past net.core.rmem_max when privileged, else up to it.
    if rustix::net::sockopt::set_socket_recv_buffer_size_force(&udp, RECV_BUFFER).is_err()
    {
        let _ = udp.set_recv_buffer_size(RECV_BUFFER);
    }
    udp.bind(&addr.into())?;
    let port = udp.local_addr()?.as_socket().map_or(0, |a| a.port());
    let tcp = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    tcp.set_reuse_address(true)?;
    tcp.bind(&SocketAddr::new(addr.ip(), port).into())?;
    tcp.listen(1024)?;
    udp.set_cloexec(false)?;
    tcp.set_cloexec(false)?;
    Ok((udp, tcp))
}

fn spawn(cmd: &[String], first: i32) -> std::io::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg("LISTEN_PID=$$; export LISTEN_PID; exec \"$0\" \"$@\"")
        .args(cmd)
        .env("LISTEN_FDS", "2")
        .env("LISTEN_FDS_FIRST_FD", first.to_string())
        .spawn()
}

/// SIGTERM, then waits for the exit (SIGKILL after 30 s).
fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    let _ = child.wait();
}
