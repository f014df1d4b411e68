//! The interop harness: child processes (`openssl s_server`/`s_client`,
//! `sealwire serve`/`connect`) on 127.0.0.1, and a record proxy between
//! them that can alter or cut the traffic.
//!
//! Every wait has a deadline, every child is killed on drop, and a child's
//! standard input is closed only when the test says so (for `sealwire
//! connect` and `s_client` that ends the connection with close_notify).
//! Ports come from the kernel (bind to port 0); readiness is read from
//! /proc/net/tcp or from the server's own "listening on" line, never by
//! connecting to the server, which would use up its single accept.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Generous: the CI machine has 2 cores shared by many jobs.
pub const DEADLINE: Duration = Duration::from_secs(120);
pub const MIB: usize = 1 << 20;

/// The sealwire command line built for these tests.
pub fn sealwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sealwire"))
}

/// `len` bytes of lines from an alphabet without the letters OpenSSL's
/// s_client/s_server treat as commands at the start of a read (Q, R, K, k,
/// q, r, c, ...), so data is never mistaken for a command. Deterministic
/// in `seed`; the last byte is a newline, because s_server and s_client
/// hold back a last line without one.
pub fn data(seed: u64, len: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"0123456789abdefghijlmnopstuvwxyz";
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if out.len() % 64 == 63 {
            out.push(b'\n');
        } else {
            out.push(ALPHABET[(x >> 59) as usize]);
        }
    }
    if let Some(last) = out.last_mut() {
        *last = b'\n';
    }
    out
}

/// A free port from the kernel (released at once; the server binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether something listens on 127.0.0.1:`port` (Linux /proc/net/tcp:
/// local address `0100007F:PORT`, state 0A = LISTEN).
pub fn listening(port: u16) -> bool {
    let want = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .map(|t| {
            t.lines().skip(1).any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3 && f[1] == want && f[3] == "0A"
            })
        })
        .unwrap_or(false)
}

/// Starts a server that takes its port on the command line (`make(port)`)
/// on a free port, retrying on another port if the chosen one was taken
/// before the server bound it (the server then exits).
pub fn start_server(name: &str, make: impl Fn(u16) -> Command) -> (Proc, u16) {
    for _ in 0..5 {
        let port = free_port();
        let mut p = Proc::spawn(name, make(port));
        let start = Instant::now();
        loop {
            if listening(port) {
                return (p, port);
            }
            if p.child.try_wait().unwrap().is_some() {
                p.finish();
                eprintln!(
                    "{name} could not listen on {port}, retrying:\n{}",
                    p.stderr()
                );
                break;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{name}: not listening on {port}\nstderr:\n{}",
                p.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("{name}: could not start on a free port");
}

/// `sealwire serve` with this certificate and key on a port it picks,
/// tracing, and `extra` arguments; the process and its port.
pub fn sealwire_serve_with(
    cert: &std::path::Path,
    key: &std::path::Path,
    extra: &[&str],
) -> (Proc, u16) {
    let mut cmd = sealwire();
    cmd.args(["serve", "--cert"])
        .arg(cert)
        .arg("--key")
        .arg(key)
        .args(["--port", "0", "--trace", "--timeout", "60"])
        .args(extra);
    let mut p = Proc::spawn("sealwire serve", cmd);
    let port = p.listening_port();
    (p, port)
}

/// `sealwire connect` to 127.0.0.1:`port` verifying `localhost` against
/// `ca`, tracing, with `extra` arguments.
pub fn sealwire_connect_with(ca: &std::path::Path, port: u16, extra: &[&str]) -> Proc {
    let mut cmd = sealwire();
    cmd.arg("connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--ca")
        .arg(ca)
        .args(["--servername", "localhost", "--trace", "--timeout", "60"])
        .args(extra);
    Proc::spawn("sealwire connect", cmd)
}

/// One write job for a child's standard input.
type StdinJob = Box<dyn FnOnce(&mut ChildStdin) + Send>;

/// A child process whose stdout and stderr are collected by threads; killed
/// on drop if still running.
pub struct Proc {
    pub name: String,
    pub child: Child,
    /// Jobs for the stdin writer thread, in order; dropping it closes stdin
    /// once the jobs before are done.
    stdin: Option<mpsc::Sender<StdinJob>>,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    /// The stdin writer and the two output collectors.
    threads: Vec<JoinHandle<()>>,
    /// Lines of stderr as they come (for "listening on ...").
    err_lines: mpsc::Receiver<String>,
}

fn collect(mut r: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    })
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        let mut threads = vec![collect(child.stdout.take().unwrap(), out.clone())];
        let (line_tx, err_lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let err2 = err.clone();
        threads.push(std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = String::new();
            loop {
                line.clear();
                match r.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        err2.lock().unwrap().extend_from_slice(line.as_bytes());
                        let _ = line_tx.send(line.clone());
                    }
                }
            }
        }));
        // The child may read its input only once connected, so writes run
        // on a thread of their own; stdin closes when the job queue does.
        let mut stdin = child.stdin.take().unwrap();
        let (tx, jobs) = mpsc::channel::<StdinJob>();
        threads.push(std::thread::spawn(move || {
            for job in jobs {
                job(&mut stdin);
            }
        }));
        Proc {
            name: name.to_string(),
            child,
            stdin: Some(tx),
            out,
            err,
            threads,
            err_lines,
        }
    }

    /// Queues `bytes` for standard input; stdin stays open.
    pub fn feed(&mut self, bytes: Vec<u8>) {
        self.queue(Box::new(move |stdin| {
            let _ = stdin.write_all(&bytes);
            let _ = stdin.flush();
        }));
    }

    /// Like [`Proc::feed`] for a peer that echoes: writes in 16 KiB steps
    /// and keeps at most 64 KiB unanswered, so that a single-threaded
    /// client (s_client blocks in write while the echo fills its receive
    /// buffer) cannot deadlock against the echo server.
    pub fn feed_echoed(&mut self, bytes: Vec<u8>) {
        let echoed = self.out.clone();
        self.queue(Box::new(move |stdin| {
            let start = Instant::now();
            for (i, chunk) in bytes.chunks(16 * 1024).enumerate() {
                let sent = i * 16 * 1024;
                while sent > echoed.lock().unwrap().len() + 64 * 1024 {
                    if start.elapsed() > DEADLINE {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                if stdin.write_all(chunk).and_then(|()| stdin.flush()).is_err() {
                    return;
                }
            }
        }));
    }

    fn queue(&mut self, job: StdinJob) {
        let tx = self.stdin.as_ref().expect("stdin already closed");
        // A send fails only if the writer thread is gone (it does not end
        // before the queue closes).
        let _ = tx.send(job);
    }

    /// Closes standard input once everything queued is written.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    pub fn stdout(&self) -> Vec<u8> {
        self.out.lock().unwrap().clone()
    }

    pub fn stdout_len(&self) -> usize {
        self.out.lock().unwrap().len()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    /// Waits until `cond` holds; panics with the child's stderr at the
    /// deadline.
    pub fn wait_until(&self, what: &str, cond: impl Fn(&Proc) -> bool) {
        let start = Instant::now();
        while !cond(self) {
            assert!(
                start.elapsed() < DEADLINE,
                "{}: timed out waiting for {what}\nstderr:\n{}",
                self.name,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until stdout holds `n` bytes; panics at the deadline.
    pub fn expect_stdout(&self, n: usize) {
        self.wait_until(&format!("{n} bytes on stdout"), |p| p.stdout_len() >= n);
    }

    /// Waits until stderr contains `needle`; panics at the deadline.
    pub fn expect_stderr(&self, needle: &str) {
        self.wait_until(&format!("{needle:?} on stderr"), |p| {
            p.stderr().contains(needle)
        });
    }

    /// Waits until stdout holds `n` bytes, the child exits, or the deadline
    /// passes; whether the bytes arrived.
    pub fn wait_stdout(&mut self, n: usize) -> bool {
        let start = Instant::now();
        while self.stdout_len() < n {
            if let Ok(Some(_)) = self.child.try_wait() {
                self.join_threads();
                return self.stdout_len() >= n;
            }
            if start.elapsed() > DEADLINE {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Waits for the child to exit (standard input stays as it is); panics
    /// with its stderr at the deadline. All of its output is collected when
    /// this returns.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                self.join_threads();
                return s;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{}: did not exit\nstderr:\n{}",
                self.name,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Closes standard input and waits for the exit within the deadline;
    /// the status, or `None` if the child had to be killed.
    pub fn finish(&mut self) -> Option<ExitStatus> {
        self.finish_within(DEADLINE)
    }

    /// [`Proc::finish`] with a limit of its own.
    pub fn finish_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.close_stdin();
        let start = Instant::now();
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if start.elapsed() < limit => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        self.join_threads();
        status
    }

    /// Joins the collectors and the stdin writer of an exited child: its
    /// pipes are closed, so each thread ends (the writer once its queue is
    /// closed or a write fails on the closed pipe).
    fn join_threads(&mut self) {
        self.close_stdin();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// The port from sealwire's "sealwire serve: listening on
    /// 127.0.0.1:N" line (for `serve --port 0`).
    pub fn listening_port(&mut self) -> u16 {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            match self.err_lines.recv_timeout(Duration::from_millis(100)) {
                Ok(l) => {
                    if let Some(rest) = l.trim().strip_prefix("sealwire serve: listening on ") {
                        return rest.rsplit(':').next().unwrap().parse().unwrap();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(st)) = self.child.try_wait() {
                        panic!("{} exited: {st}\n{}", self.name, self.stderr());
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!(
            "{} did not say where it listens:\n{}",
            self.name,
            self.stderr()
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The stderr of two processes, for an assertion message.
pub fn both_logs(p: &Proc, q: &Proc) -> String {
    format!(
        "--- {} stderr:\n{}\n--- {} stderr:\n{}",
        p.name,
        p.stderr(),
        q.name,
        q.stderr()
    )
}

/// Direction of a proxied record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dir {
    ToServer,
    ToClient,
}

/// What the proxy does with a record after the hook saw it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Pass the (possibly changed) record on.
    Forward,
    /// Pass on what is left of the record (the hook may truncate or empty
    /// it), then close both connections in both directions.
    Cut,
}

/// Sees each TLS record (header included) with its direction and its index
/// in that direction; may change it. One hook serves both directions, so it
/// can carry what it saw in one (a ServerHello) to the other.
pub type RecordHook = Box<dyn FnMut(Dir, usize, &mut Vec<u8>) -> Verdict + Send>;

/// A one-connection TCP proxy on 127.0.0.1 that passes whole records
/// through a [`RecordHook`].
pub struct Proxy {
    pub port: u16,
    handle: Option<JoinHandle<()>>,
}

fn read_record(s: &mut TcpStream) -> Option<Vec<u8>> {
    // TLSPlaintext / TLSCiphertext header: type(1) version(2) length(2).
    let mut rec = vec![0u8; 5];
    s.read_exact(&mut rec).ok()?;
    let len = u16::from_be_bytes([rec[3], rec[4]]) as usize;
    rec.resize(5 + len, 0);
    s.read_exact(&mut rec[5..]).ok()?;
    Some(rec)
}

impl Proxy {
    /// Accepts one connection (within the deadline) and relays it to
    /// 127.0.0.1:`upstream`.
    pub fn start(upstream: u16, hook: RecordHook) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hook = Arc::new(Mutex::new(hook));
        let handle = std::thread::spawn(move || {
            listener.set_nonblocking(true).unwrap();
            let start = Instant::now();
            let down = loop {
                match listener.accept() {
                    Ok((s, _)) => break s,
                    Err(_) if start.elapsed() < DEADLINE => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    Err(_) => return,
                }
            };
            down.set_nonblocking(false).unwrap();
            let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                return;
            };
            for s in [&down, &up] {
                let _ = s.set_read_timeout(Some(DEADLINE));
            }
            let a = pump(
                down.try_clone().unwrap(),
                up.try_clone().unwrap(),
                Dir::ToServer,
                Arc::clone(&hook),
            );
            let b = pump(up, down, Dir::ToClient, hook);
            let _ = a.join();
            let _ = b.join();
        });
        Proxy {
            port,
            handle: Some(handle),
        }
    }

    /// Waits until both directions have ended.
    pub fn join(mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    dir: Dir,
    hook: Arc<Mutex<RecordHook>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut i = 0;
        while let Some(mut rec) = read_record(&mut from) {
            let verdict = (hook.lock().unwrap())(dir, i, &mut rec);
            i += 1;
            if verdict == Verdict::Cut {
                let _ = to.write_all(&rec);
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
            if to.write_all(&rec).is_err() {
                // This direction's receiver is gone; stop reading, but
                // leave the other direction running so that an alert
                // already on its way still gets through.
                let _ = from.shutdown(Shutdown::Read);
                return;
            }
        }
        // End of stream (or a read error): pass the half-close on. Closing
        // both halves here would race the other direction's last record
        // (an alert), and the peer would see a bare end of stream.
        let _ = to.shutdown(Shutdown::Write);
    })
}
