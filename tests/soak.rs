//! `sealwire serve` under load and abuse, on loopback.
//!
//! One server process; at the same time:
//!
//! - good clients (sealwire's own client), each a full handshake and an
//!   echo of 64 KiB to 1 MiB (1 MiB each in the full form), every byte
//!   checked;
//! - clients that send random bytes, that send a ClientHello and then stop
//!   halfway through the handshake, that send their ClientHello one byte a
//!   second (slowloris), and that connect and never write: the server must
//!   close each of them within its handshake timeout.
//!
//! Checked: every good client's bytes come back; the server's thread count
//! stays within `--max-concurrent`; after the clients are gone its file
//! descriptors and threads return to what they were before; peak RSS
//! (VmHWM) stays under a bound; it still serves afterwards; on SIGTERM it
//! refuses new connections, lets an open connection finish its echo, and
//! exits 0. Handshakes per second, MB/s, peak RSS, fds and threads are
//! printed.
//!
//! Short form by default (200 good clients, 20 of each bad kind, well
//! under a minute on 2 cores); the full form (1000 concurrent good clients
//! of 1 MiB each, 50 of each bad kind) with
//! `SEALWIRE_SOAK_FULL=1 cargo test --release --test soak -- --nocapture`.
//!
//! Every wait is bounded: clients have socket timeouts and loop counts,
//! and the server's exit has a deadline. Linux only (/proc).

mod common;

#[cfg(not(target_os = "linux"))]
#[test]
fn soak() {
    common::skipped("soak", "Linux only: it reads the server's /proc/<pid>");
}

#[cfg(target_os = "linux")]
mod linux {
    use super::common::interop::{sealwire, Proc};
    use super::common::loud;
    use super::common::pki::{have_openssl, make_pki, KeyKind};
    use sealwire::conn::Connection;
    use sealwire::handshake::verify::{RootStore, ServerVerification};
    use sealwire::handshake::ClientConfig;
    use std::io::{ErrorKind, Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    const KIB: usize = 1 << 10;
    const MIB: usize = 1 << 20;
    /// Echo chunk: written, then read back in full before the next, so the
    /// bytes in flight stay within the socket buffers.
    const CHUNK: usize = 64 * KIB;
    /// Socket timeouts of the clients: far above any wait the server
    /// should cause, and the bound on every client's blocking call.
    const CLIENT_IO: Duration = Duration::from_secs(30);

    struct Profile {
        name: &'static str,
        good: usize,
        min_len: usize,
        max_len: usize,
        bad_each: usize,
        max_concurrent: usize,
        handshake_timeout: Duration,
        idle_timeout: Duration,
        /// Whether every good client waits, after its handshake, until all
        /// have shaken hands, so that all of them are open at once (needs
        /// `max_concurrent` above the number of clients).
        hold: bool,
        /// Added to the handshake timeout for the bad clients' close: the
        /// server's clock starts at accept, after any wait in the backlog.
        slack: Duration,
    }

    const SHORT: Profile = Profile {
        name: "short",
        good: 200,
        min_len: 64 * KIB,
        max_len: MIB,
        bad_each: 20,
        max_concurrent: 96,
        hold: false,
        handshake_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(4),
        slack: Duration::from_secs(15),
    };

    const FULL: Profile = Profile {
        name: "full",
        good: 1000,
        min_len: MIB,
        max_len: MIB,
        bad_each: 50,
        max_concurrent: 1100,
        hold: true,
        handshake_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(10),
        slack: Duration::from_secs(30),
    };

    /// Threads that may still be ending after giving back their slot, over
    /// `--max-concurrent` plus the main thread.
    const THREAD_SLACK: usize = 16;

    /// Deterministic bytes for client `seed` (xorshift64*).
    fn pattern(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        out.truncate(len);
        out
    }

    fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
        let s = TcpStream::connect_timeout(&addr, CLIENT_IO)?;
        s.set_read_timeout(Some(CLIENT_IO))?;
        s.set_write_timeout(Some(CLIENT_IO))?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    /// A meeting point for `n` threads with a bounded wait (std's
    /// `Barrier` waits for ever).
    struct Rendezvous {
        n: usize,
        arrived: Mutex<usize>,
        all_in: Condvar,
    }

    impl Rendezvous {
        fn new(n: usize) -> Self {
            Rendezvous {
                n,
                arrived: Mutex::new(0),
                all_in: Condvar::new(),
            }
        }

        /// Arrives and waits up to `limit` for the others; whether all came.
        fn meet(&self, limit: Duration) -> bool {
            let mut arrived = self.arrived.lock().unwrap();
            *arrived += 1;
            self.all_in.notify_all();
            let (arrived, _) = self
                .all_in
                .wait_timeout_while(arrived, limit, |a| *a < self.n)
                .unwrap();
            *arrived >= self.n
        }
    }

    /// What one good client measured.
    struct Echoed {
        handshake: Duration,
        bytes: usize,
    }

    /// A full handshake, then `len` bytes echoed chunk by chunk and
    /// compared, close_notify both ways. With `hold`, all clients meet
    /// there after their handshakes (a failed one too) before echoing.
    /// `between` runs after each chunk.
    fn good_client(
        addr: SocketAddr,
        cfg: ClientConfig,
        seed: u64,
        len: usize,
        hold: Option<&Rendezvous>,
        mut between: impl FnMut(usize),
    ) -> Result<Echoed, String> {
        let start = Instant::now();
        let conn = connect(addr)
            .map_err(|e| format!("connect: {e}"))
            .and_then(|sock| {
                Connection::client(sock, cfg, Some("localhost"))
                    .map_err(|e| format!("handshake: {e}"))
            });
        let handshake = start.elapsed();
        if hold.is_some_and(|r| !r.meet(CLIENT_IO)) {
            return Err("not every client finished its handshake in time".into());
        }
        let mut conn = conn?;
        let data = pattern(seed, len);
        let mut back = vec![0u8; CHUNK];
        for (i, chunk) in data.chunks(CHUNK).enumerate() {
            conn.write_all(chunk).map_err(|e| format!("write: {e}"))?;
            let mut got = 0;
            while got < chunk.len() {
                match conn.read(&mut back[got..chunk.len()]) {
                    Ok(0) => return Err(format!("closed after {} bytes", i * CHUNK + got)),
                    Ok(n) => got += n,
                    Err(e) => return Err(format!("read at {}: {e}", i * CHUNK + got)),
                }
            }
            if back[..chunk.len()] != *chunk {
                return Err(format!("echo differs in chunk {i}"));
            }
            between(i);
        }
        conn.close().map_err(|e| format!("close: {e}"))?;
        match conn.read(&mut back) {
            Ok(0) => Ok(Echoed {
                handshake,
                bytes: len,
            }),
            Ok(n) => Err(format!("{n} bytes after the echo")),
            Err(e) => Err(format!("waiting for close_notify: {e}")),
        }
    }

    /// The bytes of one ClientHello (the client's first flight), taken by
    /// a transport that records writes and fails the first read.
    fn client_hello(cfg: ClientConfig) -> Vec<u8> {
        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl Read for Capture {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("captured"))
            }
        }
        impl Write for Capture {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Arc::new(Mutex::new(Vec::new()));
        assert!(Connection::client(Capture(sink.clone()), cfg, Some("localhost")).is_err());
        let hello = sink.lock().unwrap().clone();
        assert!(
            hello.len() > 100 && hello[0] == 22,
            "no ClientHello record captured"
        );
        hello
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Bad {
        RandomBytes,
        HalfHandshake,
        Slowloris,
        Silent,
    }

    /// Reads until the server closes (EOF or reset) or `limit` passes;
    /// whether it closed.
    fn wait_closed(s: &mut TcpStream, limit: Instant) -> bool {
        let mut buf = [0u8; 4096];
        while Instant::now() < limit {
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
        false
    }

    /// One abusive client; Ok(time until the server closed it).
    fn bad_client(
        addr: SocketAddr,
        kind: Bad,
        seed: u64,
        hello: &[u8],
        limit: Duration,
    ) -> Result<Duration, String> {
        let start = Instant::now();
        let until = start + limit;
        let mut s = connect(addr).map_err(|e| format!("{kind:?}: connect: {e}"))?;
        let closed = match kind {
            Bad::RandomBytes => {
                let junk = pattern(seed ^ 0xBAD, KIB + (seed as usize % (3 * KIB)));
                // The server may close as soon as it has read a few bytes.
                let _ = s.write_all(&junk);
                wait_closed(&mut s, until)
            }
            Bad::HalfHandshake => {
                s.write_all(hello)
                    .map_err(|e| format!("{kind:?}: write: {e}"))?;
                // The server's flight arrives; our second flight never does.
                wait_closed(&mut s, until)
            }
            Bad::Slowloris => {
                let mut closed = false;
                for b in hello {
                    if Instant::now() >= until {
                        break;
                    }
                    if s.write_all(std::slice::from_ref(b)).is_err() {
                        closed = true;
                        break;
                    }
                    // One byte a second: the pause is a read that ends
                    // early if the server closes.
                    if wait_closed(&mut s, (Instant::now() + Duration::from_secs(1)).min(until)) {
                        closed = true;
                        break;
                    }
                }
                closed
            }
            Bad::Silent => wait_closed(&mut s, until),
        };
        if closed {
            Ok(start.elapsed())
        } else {
            Err(format!(
                "{kind:?}: still open after {:.1} s",
                limit.as_secs_f64()
            ))
        }
    }

    fn count_dir(path: &str) -> usize {
        std::fs::read_dir(path)
            .map(|d| d.count())
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// (threads, file descriptors) of process `pid`.
    fn threads_fds(pid: u32) -> (usize, usize) {
        (
            count_dir(&format!("/proc/{pid}/task")),
            count_dir(&format!("/proc/{pid}/fd")),
        )
    }

    /// A field of /proc/<pid>/status in kB, e.g. VmHWM (peak RSS).
    fn status_kb(pid: u32, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
    }

    fn cpu_model() -> String {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                    .map(|(_, m)| m.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into())
    }

    /// Waits up to `limit` for the server's threads and fds to come back to
    /// `baseline`; the last counts seen.
    fn settle(pid: u32, baseline: (usize, usize), limit: Duration) -> (usize, usize) {
        let start = Instant::now();
        loop {
            let now = threads_fds(pid);
            if now == baseline || start.elapsed() >= limit {
                return now;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn sigterm(pid: u32) {
        // SAFETY: kill(2) with a pid this test spawned and has not reaped
        // (the child is still running: the caller checked) and a valid
        // signal number; no memory is passed.
        let r = unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        assert_eq!(r, 0, "kill: {}", std::io::Error::last_os_error());
    }

    fn server_tail(server: &Proc) -> String {
        let err = server.stderr();
        let lines: Vec<&str> = err.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    #[test]
    fn soak() {
        if !have_openssl() {
            return;
        }
        let full = std::env::var_os("SEALWIRE_SOAK_FULL").is_some_and(|v| v == "1");
        let p = if full { FULL } else { SHORT };
        let pki = make_pki(KeyKind::EcP256, &["localhost"]);
        let ca = std::fs::read(&pki.ca).unwrap();
        let cfg = ClientConfig::new(ServerVerification::Roots(Arc::new(
            RootStore::from_pem(&ca).unwrap(),
        )));
        let mut cmd = sealwire();
        cmd.args(["serve", "--port", "0", "--cert"])
            .arg(&pki.cert)
            .arg("--key")
            .arg(&pki.key)
            .arg("--max-concurrent")
            .arg(p.max_concurrent.to_string())
            .arg("--handshake-timeout")
            .arg(p.handshake_timeout.as_secs_f64().to_string())
            .arg("--idle-timeout")
            .arg(p.idle_timeout.as_secs_f64().to_string());
        let mut server = Proc::spawn("sealwire serve", cmd);
        let port = server.listening_port();
        let pid = server.child.id();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let hello = client_hello(cfg.clone());

        // One connection served and gone, so that buffers and lazily made
        // state are in the baseline.
        good_client(addr, cfg.clone(), 0, CHUNK, None, |_| {}).expect("warm-up client");
        let idle_since = Instant::now();
        while threads_fds(pid).0 != 1 && idle_since.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let baseline = threads_fds(pid);
        assert_eq!(baseline.0, 1, "an idle server runs one thread");
        loud(&format!(
            "soak ({}): {} good clients of {}..{} KiB, {} of each bad kind, \
             --max-concurrent {}, handshake timeout {:?}, idle timeout {:?}; {}",
            p.name,
            p.good,
            p.min_len / KIB,
            p.max_len / KIB,
            p.bad_each,
            p.max_concurrent,
            p.handshake_timeout,
            p.idle_timeout,
            cpu_model()
        ));
        loud(&format!(
            "server before: {} threads, {} fds",
            baseline.0, baseline.1
        ));

        // The server's peak thread and fd counts while the clients run.
        let stop = Arc::new(AtomicBool::new(false));
        let peak_threads = Arc::new(AtomicUsize::new(0));
        let peak_fds = Arc::new(AtomicUsize::new(0));
        let monitor = {
            let (stop, pt, pf) = (stop.clone(), peak_threads.clone(), peak_fds.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let (t, f) = threads_fds(pid);
                    pt.fetch_max(t, Ordering::SeqCst);
                    pf.fetch_max(f, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };

        // The bad clients first, so that they hold slots while the good
        // ones arrive.
        let bad_limit = p.handshake_timeout + p.slack;
        let mut bad: Vec<(Bad, JoinHandle<Result<Duration, String>>)> = Vec::new();
        for kind in [
            Bad::RandomBytes,
            Bad::HalfHandshake,
            Bad::Slowloris,
            Bad::Silent,
        ] {
            for i in 0..p.bad_each {
                let hello = hello.clone();
                let seed = (kind as u64) << 32 | i as u64;
                bad.push((
                    kind,
                    std::thread::spawn(move || bad_client(addr, kind, seed, &hello, bad_limit)),
                ));
            }
        }
        std::thread::sleep(Duration::from_millis(200));

        let gate = Arc::new(Barrier::new(p.good + 1));
        let hold = p.hold.then(|| Arc::new(Rendezvous::new(p.good)));
        let good: Vec<JoinHandle<Result<Echoed, String>>> = (0..p.good)
            .map(|i| {
                let (cfg, gate, hold) = (cfg.clone(), gate.clone(), hold.clone());
                let span = p.max_len - p.min_len;
                let len = p.min_len + (i * 7919 * KIB) % (span + 1);
                std::thread::spawn(move || {
                    gate.wait();
                    good_client(addr, cfg, 1 + i as u64, len, hold.as_deref(), |_| {})
                })
            })
            .collect();
        gate.wait();
        let start = Instant::now();
        let good: Vec<Result<Echoed, String>> = good
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("client panicked".into())))
            .collect();
        let wall = start.elapsed();
        let bad: Vec<(Bad, Result<Duration, String>)> = bad
            .into_iter()
            .map(|(k, h)| {
                (
                    k,
                    h.join().unwrap_or_else(|_| Err("client panicked".into())),
                )
            })
            .collect();
        stop.store(true, Ordering::SeqCst);
        monitor.join().unwrap();

        let failures: Vec<&String> = good.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(
            failures.is_empty(),
            "{} of {} good clients failed, e.g. {:?}\nserver:\n{}",
            failures.len(),
            p.good,
            &failures[..failures.len().min(5)],
            server_tail(&server)
        );
        let echoed: Vec<&Echoed> = good.iter().filter_map(|r| r.as_ref().ok()).collect();
        let bytes: usize = echoed.iter().map(|e| e.bytes).sum();
        let mut hs: Vec<Duration> = echoed.iter().map(|e| e.handshake).collect();
        hs.sort();
        loud(&format!(
            "good clients: {} handshakes and {:.1} MiB echoed in {:.2} s ({:.1} MB/s each way); \
             the last handshake done {:.2} s after the start ({:.0} handshakes/s); \
             handshake latency median {:.1} ms",
            echoed.len(),
            bytes as f64 / MIB as f64,
            wall.as_secs_f64(),
            bytes as f64 / 1e6 / wall.as_secs_f64(),
            hs[hs.len() - 1].as_secs_f64(),
            echoed.len() as f64 / hs[hs.len() - 1].as_secs_f64(),
            hs[hs.len() / 2].as_secs_f64() * 1e3,
        ));
        for kind in [
            Bad::RandomBytes,
            Bad::HalfHandshake,
            Bad::Slowloris,
            Bad::Silent,
        ] {
            let of_kind: Vec<&Result<Duration, String>> = bad
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, r)| r)
                .collect();
            let errors: Vec<&String> = of_kind.iter().filter_map(|r| r.as_ref().err()).collect();
            assert!(
                errors.is_empty(),
                "{kind:?} clients not closed by the server: {:?}\nserver:\n{}",
                &errors[..errors.len().min(5)],
                server_tail(&server)
            );
            let longest = of_kind
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .max()
                .copied()
                .unwrap_or_default();
            loud(&format!(
                "{kind:?}: {} clients, all closed by the server, the last after {:.2} s",
                of_kind.len(),
                longest.as_secs_f64()
            ));
        }

        let peak_threads = peak_threads.load(Ordering::SeqCst);
        if p.hold {
            assert!(
                peak_threads > p.good,
                "the {} good clients were not open at once ({peak_threads} server threads at most)",
                p.good
            );
        }
        let hwm_kb = status_kb(pid, "VmHWM");
        let after = settle(pid, baseline, Duration::from_secs(10));
        loud(&format!(
            "server peak: {} threads, {} fds, {:.1} MiB RSS (VmHWM); after: {} threads, {} fds",
            peak_threads,
            peak_fds.load(Ordering::SeqCst),
            hwm_kb as f64 / 1024.0,
            after.0,
            after.1
        ));
        assert!(
            peak_threads <= p.max_concurrent + 1 + THREAD_SLACK,
            "{peak_threads} server threads with --max-concurrent {}",
            p.max_concurrent
        );
        assert_eq!(
            after, baseline,
            "server (threads, fds) did not return to the baseline within 10 s"
        );
        // Stacks of at most max_concurrent threads and their buffers.
        let rss_bound_kb = (64 + p.max_concurrent as u64) * 1024;
        assert!(
            hwm_kb < rss_bound_kb,
            "peak RSS {hwm_kb} kB over {rss_bound_kb} kB"
        );

        // Still serving after the abuse.
        for i in 0..4 {
            good_client(addr, cfg.clone(), 10_000 + i, 256 * KIB, None, |_| {})
                .unwrap_or_else(|e| panic!("after the soak: {e}\n{}", server_tail(&server)));
        }

        // SIGTERM with one connection in the middle of its echo: it
        // finishes, new connections are refused, the server exits 0.
        let (first_chunk, echoing) = mpsc::channel::<()>();
        let (go_on, resume) = mpsc::channel::<()>();
        let last = {
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                good_client(addr, cfg, 20_000, 8 * CHUNK, None, |i| {
                    if i == 0 {
                        let _ = first_chunk.send(());
                        let _ = resume.recv_timeout(CLIENT_IO);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                })
            })
        };
        echoing
            .recv_timeout(CLIENT_IO)
            .expect("the last client did not get its first chunk back");
        assert!(server.child.try_wait().unwrap().is_none(), "server exited");
        sigterm(pid);
        let signalled = Instant::now();
        // The accept loop polls for the signal every 10 ms.
        std::thread::sleep(Duration::from_millis(300));
        let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
        go_on.send(()).unwrap();
        let last = last.join().unwrap();
        assert!(
            refused.is_err(),
            "a connection was accepted after SIGTERM\n{}",
            server_tail(&server)
        );
        last.unwrap_or_else(|e| {
            panic!(
                "the connection open at SIGTERM failed: {e}\n{}",
                server_tail(&server)
            )
        });
        let exit_limit = p.idle_timeout + Duration::from_secs(5);
        let status = server.finish_within(exit_limit);
        loud(&format!(
            "SIGTERM: open connection finished, new ones refused, exit {:?} after {:.2} s",
            status.and_then(|s| s.code()),
            signalled.elapsed().as_secs_f64()
        ));
        let status = status.unwrap_or_else(|| {
            panic!(
                "server still running {exit_limit:?} after SIGTERM\n{}",
                server_tail(&server)
            )
        });
        assert!(status.success(), "{status}\n{}", server_tail(&server));
        assert!(server
            .stderr()
            .contains("stopped on a signal; every connection finished"));
    }
}
