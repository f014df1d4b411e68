//! TLS 1.3 interop with the `openssl` command line (issue 6): the sealwire
//! client against `openssl s_server`, `openssl s_client` against the
//! sealwire server, over 127.0.0.1, with certificates made at test time.
//!
//! Every exchange moves at least 1 MiB each way and compares the bytes. The
//! data ends deterministically: a side's standard input is closed (which
//! makes it send close_notify) only after the data it must receive has fully
//! arrived. Every process has a deadline and is killed on drop.

mod tls_common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tls_common::{make_pki, temp_dir, KeyKind, Pki};

/// Generous: the CI machine has 2 cores shared by many jobs.
const DEADLINE: Duration = Duration::from_secs(120);
const MIB: usize = 1 << 20;

fn sealwire() -> &'static str {
    env!("CARGO_BIN_EXE_sealwire")
}

/// `len` bytes of lines from an alphabet without the letters OpenSSL's
/// s_client/s_server treat as commands at the start of a read (Q, R, K, k,
/// q, r, c, ...), so data is never mistaken for a command.
fn data(seed: u64, len: usize) -> Vec<u8> {
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
    // OpenSSL's s_server/s_client hold back a last line without its newline.
    if let Some(last) = out.last_mut() {
        *last = b'\n';
    }
    out
}

/// A child process with captured output; killed on drop.
struct Proc {
    name: String,
    child: Child,
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    feeders: Vec<std::thread::JoinHandle<()>>,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
}

fn collect(mut r: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let b = Arc::clone(&buf);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 65536];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    buf
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stdin = child.stdin.take();
        let out = collect(child.stdout.take().unwrap());
        let err = collect(child.stderr.take().unwrap());
        Proc {
            name: name.into(),
            child,
            stdin: Arc::new(Mutex::new(stdin)),
            feeders: Vec::new(),
            out,
            err,
        }
    }

    /// Writes `bytes` to standard input from a thread (the child may not
    /// read until its peer does); standard input stays open.
    fn feed(&mut self, bytes: Vec<u8>) {
        let stdin = Arc::clone(&self.stdin);
        self.feeders.push(std::thread::spawn(move || {
            if let Some(s) = stdin.lock().unwrap().as_mut() {
                let _ = s.write_all(&bytes);
                let _ = s.flush();
            }
        }));
    }

    fn close_stdin(&mut self) {
        for f in self.feeders.drain(..) {
            let _ = f.join();
        }
        self.stdin.lock().unwrap().take();
    }

    fn stdout(&self) -> Vec<u8> {
        self.out.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    fn wait_until(&self, what: &str, cond: impl Fn(&Proc) -> bool) {
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

    fn wait_stdout_len(&self, n: usize) {
        self.wait_until(&format!("{n} bytes on stdout"), |p| {
            p.out.lock().unwrap().len() >= n
        });
    }

    fn wait_stderr(&self, needle: &str) {
        self.wait_until(&format!("{needle:?} on stderr"), |p| {
            p.stderr().contains(needle)
        });
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                // Let the collectors drain the pipes.
                std::thread::sleep(Duration::from_millis(50));
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
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether something listens on 127.0.0.1:`port` (read from /proc/net/tcp,
/// so a server's single accept is not used up).
fn listening(port: u16) -> bool {
    let needle = format!(":{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .map(|t| {
            t.lines().any(|l| {
                let f: Vec<_> = l.split_whitespace().collect();
                f.len() > 3 && f[1].ends_with(&needle) && f[3] == "0A"
            })
        })
        .unwrap_or(false)
}

/// Starts a server on a free port, retrying on another port if the chosen
/// one was taken before the server bound it (the server then exits).
fn start_server(name: &str, make: impl Fn(u16) -> Command) -> (Proc, u16) {
    for _ in 0..5 {
        let port = free_port();
        let mut p = Proc::spawn(name, &mut make(port));
        let start = Instant::now();
        loop {
            if listening(port) {
                return (p, port);
            }
            if p.child.try_wait().unwrap().is_some() {
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

fn openssl_suite(ours: &str) -> &'static str {
    match ours {
        "TLS_AES_128_GCM_SHA256" => "TLS_AES_128_GCM_SHA256",
        _ => "TLS_AES_256_GCM_SHA384",
    }
}

fn openssl_group(ours: &str) -> &'static str {
    match ours {
        "x25519" => "X25519",
        _ => "P-256",
    }
}

fn s_server(pki: &Pki, extra: &[&str]) -> (Proc, u16) {
    start_server("openssl s_server", |port| {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-naccept", "1", "-cert"])
            .arg(&pki.cert)
            .arg("-key")
            .arg(&pki.key)
            .args(extra);
        cmd
    })
}

fn sealwire_serve(pki: &Pki, extra: &[&str]) -> (Proc, u16) {
    start_server("sealwire serve", |port| {
        let mut cmd = Command::new(sealwire());
        cmd.args(["serve", "--cert"])
            .arg(&pki.cert)
            .arg("--key")
            .arg(&pki.key)
            .args(["--port", &port.to_string(), "--trace", "--timeout", "60"])
            .args(extra);
        if !extra.contains(&"--max-connections") {
            cmd.args(["--max-connections", "1"]);
        }
        cmd
    })
}

fn sealwire_connect(ca: &Path, port: u16, extra: &[&str]) -> Proc {
    let mut cmd = Command::new(sealwire());
    cmd.arg("connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--ca")
        .arg(ca)
        .args(["--servername", "localhost", "--trace", "--timeout", "60"])
        .args(extra);
    Proc::spawn("sealwire connect", &mut cmd)
}

fn s_client(ca: &Path, port: u16, extra: &[&str]) -> Proc {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-tls1_3", "-CAfile"])
        .arg(ca)
        .args(["-verify_return_error", "-servername", "localhost"])
        .args(extra);
    Proc::spawn("openssl s_client", &mut cmd)
}

struct ClientCase<'a> {
    suite: &'a str,
    /// s_server's groups (its preference).
    server_groups: &'a str,
    /// Our client's supported groups and its first key share.
    client_groups: &'a str,
    key_shares: &'a str,
    expect_hrr: bool,
    /// s_server sends `K` (KeyUpdate, update_requested) halfway.
    server_key_update: bool,
    /// Our client sends a KeyUpdate right after the handshake.
    client_key_update: bool,
}

/// The sealwire client against `openssl s_server`: 1 MiB (+) each way.
fn client_vs_s_server(pki: &Pki, c: ClientCase<'_>) {
    let mut extra = vec![
        "-tls1_3",
        "-ciphersuites",
        openssl_suite(c.suite),
        "-groups",
        c.server_groups,
    ];
    // s_server interprets stdin commands such as `K` only without -quiet;
    // without it stdout also carries status lines, so the check is then a
    // containment instead of equality.
    if !c.server_key_update {
        extra.push("-quiet");
    }
    let (mut server, port) = s_server(pki, &extra);
    let mut args = vec![
        "--tls1.3",
        "--suites",
        c.suite,
        "--groups",
        c.client_groups,
        "--key-shares",
        c.key_shares,
    ];
    if c.client_key_update {
        args.push("--key-update");
    }
    let mut client = sealwire_connect(&pki.ca, port, &args);

    let to_client = data(1, MIB + 12_345);
    let to_server = data(2, MIB + 54_321);
    client.feed(to_server.clone());
    // s_server may read its input before the handshake is done and then
    // stall it; give it data only once the handshake completed.
    client.wait_stderr("handshake complete");
    if c.server_key_update {
        // Let s_server take in all of our data first, so the status line it
        // prints for `K` cannot land in the middle of it.
        let needle = &to_server[to_server.len() - 4096..];
        server.wait_until("all client data", |p| {
            p.stdout().windows(needle.len()).any(|w| w == needle)
        });
        let half = to_client.len() / 2 / 64 * 64; // ends with a newline
        server.feed(to_client[..half].to_vec());
        client.wait_stdout_len(half);
        server.feed(b"K\n".to_vec());
        client.wait_stderr("received KeyUpdate (update_requested=true)");
        server.feed(to_client[half..].to_vec());
    } else {
        server.feed(to_client.clone());
    }
    client.wait_stdout_len(to_client.len());
    assert!(
        client.stdout() == to_client,
        "client received different bytes"
    );
    if c.server_key_update {
        let needle = &to_server[to_server.len() - 4096..];
        server.wait_until("all client data", |p| {
            p.stdout().windows(needle.len()).any(|w| w == needle)
        });
        let out = server.stdout();
        let start = out
            .windows(64)
            .position(|w| w == &to_server[..64])
            .expect("start of the client's data");
        assert!(
            out[start..].starts_with(&to_server),
            "s_server received different bytes"
        );
    } else {
        server.wait_stdout_len(to_server.len());
        assert!(
            server.stdout() == to_server,
            "s_server received different bytes"
        );
    }
    // Our close_notify at end of input; s_server answers with its own.
    client.close_stdin();
    let status = client.wait_exit();
    assert!(
        status.success(),
        "client failed: {}\ns_server: {}",
        client.stderr(),
        server.stderr()
    );
    server.wait_exit();
    let trace = client.stderr();
    assert_eq!(trace.contains("HelloRetryRequest"), c.expect_hrr, "{trace}");
    assert!(trace.contains("verified for localhost"), "{trace}");
    assert!(trace.contains(&format!("suite {}", c.suite)), "{trace}");
    assert!(trace.contains("received alert close_notify"), "{trace}");
    if c.client_key_update {
        assert!(
            trace.contains("received KeyUpdate (update_requested=false)"),
            "{trace}"
        );
    }
}

struct ServerCase<'a> {
    suite: &'a str,
    /// Our server's groups.
    server_groups: &'a str,
    /// s_client's groups (it sends a key share for the first only).
    client_groups: &'a str,
    expect_hrr: bool,
    /// s_client sends `K` (KeyUpdate, update_requested) halfway.
    client_key_update: bool,
}

/// `openssl s_client` against the sealwire server (an echo server): 1 MiB
/// (+) each way.
fn s_client_vs_server(pki: &Pki, c: ServerCase<'_>) {
    let (mut server, port) = sealwire_serve(
        pki,
        &["--tls1.3", "--suites", c.suite, "--groups", c.server_groups],
    );
    let mut client = s_client(
        &pki.ca,
        port,
        &[
            "-ciphersuites",
            openssl_suite(c.suite),
            "-groups",
            c.client_groups,
            "-quiet",
            "-no_ign_eof",
        ],
    );
    let payload = data(3, MIB + 777);
    if c.client_key_update {
        let half = payload.len() / 2 / 64 * 64; // ends with a newline
        client.feed(payload[..half].to_vec());
        client.wait_stdout_len(half);
        client.feed(b"K\n".to_vec());
        server.wait_stderr("received KeyUpdate (update_requested=true)");
        client.feed(payload[half..].to_vec());
    } else {
        client.feed(payload.clone());
    }
    client.wait_stdout_len(payload.len());
    assert!(
        client.stdout() == payload,
        "s_client received a different echo"
    );
    client.close_stdin();
    client.wait_exit();
    let status = server.wait_exit();
    let trace = server.stderr();
    assert!(status.success(), "server failed: {trace}");
    assert!(
        trace.contains(&format!("echoed {} bytes, closed cleanly", payload.len())),
        "{trace}"
    );
    assert_eq!(trace.contains("HelloRetryRequest"), c.expect_hrr, "{trace}");
    assert!(trace.contains(&format!("suite {}", c.suite)), "{trace}");
    if c.client_key_update {
        assert!(trace.contains("send KeyUpdate"), "{trace}");
    }
}

#[test]
fn sealwire_client_vs_openssl_server_suites_and_groups() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    for suite in ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"] {
        for g in ["x25519", "P-256"] {
            client_vs_s_server(
                &pki,
                ClientCase {
                    suite,
                    server_groups: openssl_group(g),
                    client_groups: g,
                    key_shares: g,
                    expect_hrr: false,
                    server_key_update: false,
                    client_key_update: false,
                },
            );
        }
    }
}

#[test]
fn openssl_client_vs_sealwire_server_suites_and_groups() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    for suite in ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"] {
        for g in ["x25519", "P-256"] {
            s_client_vs_server(
                &pki,
                ServerCase {
                    suite,
                    server_groups: g,
                    client_groups: openssl_group(g),
                    expect_hrr: false,
                    client_key_update: false,
                },
            );
        }
    }
}

#[test]
fn hello_retry_request_both_directions() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    // Our client shares x25519 but supports P-256; s_server takes P-256 only.
    client_vs_s_server(
        &pki,
        ClientCase {
            suite: "TLS_AES_128_GCM_SHA256",
            server_groups: "P-256",
            client_groups: "x25519,P-256",
            key_shares: "x25519",
            expect_hrr: true,
            server_key_update: false,
            client_key_update: false,
        },
    );
    // s_client shares X25519 (its first group); our server takes P-256 only.
    s_client_vs_server(
        &pki,
        ServerCase {
            suite: "TLS_AES_256_GCM_SHA384",
            server_groups: "P-256",
            client_groups: "X25519:P-256",
            expect_hrr: true,
            client_key_update: false,
        },
    );
}

#[test]
fn key_update_with_openssl_both_directions() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    // s_server's `K`, and our own KeyUpdate answered by s_server.
    client_vs_s_server(
        &pki,
        ClientCase {
            suite: "TLS_AES_256_GCM_SHA384",
            server_groups: "X25519",
            client_groups: "x25519",
            key_shares: "x25519",
            expect_hrr: false,
            server_key_update: true,
            client_key_update: true,
        },
    );
    // s_client's `K` to our server.
    s_client_vs_server(
        &pki,
        ServerCase {
            suite: "TLS_AES_128_GCM_SHA256",
            server_groups: "x25519",
            client_groups: "X25519",
            expect_hrr: false,
            client_key_update: true,
        },
    );
}

#[test]
fn other_server_key_types_with_openssl() {
    for kind in [KeyKind::Ed25519, KeyKind::Rsa] {
        let pki = make_pki(kind, &["localhost"]);
        client_vs_s_server(
            &pki,
            ClientCase {
                suite: "TLS_AES_128_GCM_SHA256",
                server_groups: "X25519",
                client_groups: "x25519",
                key_shares: "x25519",
                expect_hrr: false,
                server_key_update: false,
                client_key_update: false,
            },
        );
        s_client_vs_server(
            &pki,
            ServerCase {
                suite: "TLS_AES_128_GCM_SHA256",
                server_groups: "x25519",
                client_groups: "X25519",
                expect_hrr: false,
                client_key_update: false,
            },
        );
    }
}

// ---------------------------------------------------------------------
// Negative cases: each must fail with the expected alert on both sides.
// ---------------------------------------------------------------------

/// Runs our client against s_server until both exit; returns their stderr.
fn failing_client(pki: &Pki, ca: &Path, name: &str, via: Option<ProxyFn>) -> (String, String) {
    let (mut server, port) = s_server(pki, &["-tls1_3", "-quiet"]);
    let target = match via {
        Some(f) => proxy(port, f),
        None => port,
    };
    let mut cmd = Command::new(sealwire());
    cmd.arg("connect")
        .arg(format!("127.0.0.1:{target}"))
        .arg("--ca")
        .arg(ca)
        .args([
            "--servername",
            name,
            "--trace",
            "--tls1.3",
            "--timeout",
            "30",
        ]);
    let mut client = Proc::spawn("sealwire connect", &mut cmd);
    client.feed(b"never delivered\n".to_vec());
    let status = client.wait_exit();
    assert!(!status.success(), "client should fail: {}", client.stderr());
    assert!(!String::from_utf8_lossy(&client.stdout()).contains("never"));
    server.close_stdin();
    server.wait_exit();
    (client.stderr(), server.stderr())
}

/// Runs s_client against our server until both exit; returns their stderr.
fn failing_server(pki: &Pki, ca: &Path, extra: &[&str], via: Option<ProxyFn>) -> (String, String) {
    let (mut server, port) = sealwire_serve(pki, &["--tls1.3"]);
    let target = match via {
        Some(f) => proxy(port, f),
        None => port,
    };
    let mut args = vec!["-quiet", "-no_ign_eof"];
    args.extend_from_slice(extra);
    let mut client = s_client(ca, target, &args);
    client.feed(b"never echoed\n".to_vec());
    client.wait_exit();
    let status = server.wait_exit();
    assert!(
        !status.success(),
        "server should report a failed connection"
    );
    assert!(!String::from_utf8_lossy(&client.stdout()).contains("never"));
    client.close_stdin();
    (client.stderr(), server.stderr())
}

#[test]
fn wrong_server_name() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let (ours, theirs) = failing_client(&pki, &pki.ca, "wrong.example", None);
    assert!(ours.contains("sent alert bad_certificate"), "{ours}");
    assert!(theirs.contains("alert bad certificate"), "{theirs}");

    let (theirs, ours) =
        failing_server(&pki, &pki.ca, &["-verify_hostname", "wrong.example"], None);
    assert!(ours.contains("peer sent alert"), "{ours}");
    assert!(theirs.to_lowercase().contains("verify error"), "{theirs}");
}

#[test]
fn untrusted_root() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let other = make_pki(KeyKind::EcP256, &["localhost"]);
    let (ours, theirs) = failing_client(&pki, &other.ca, "localhost", None);
    assert!(ours.contains("sent alert unknown_ca"), "{ours}");
    assert!(theirs.contains("alert unknown ca"), "{theirs}");

    let (theirs, ours) = failing_server(&pki, &other.ca, &[], None);
    assert!(ours.contains("peer sent alert unknown_ca"), "{ours}");
    assert!(theirs.to_lowercase().contains("verify error"), "{theirs}");
}

/// Direction of a proxied record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    ToServer,
    ToClient,
}

/// Sees each record (header included) with its direction and index in that
/// direction; may change it. Returning false forwards nothing more and
/// closes both connections.
type ProxyFn = Box<dyn FnMut(Dir, usize, &mut Vec<u8>) -> bool + Send>;

fn read_record(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut rec = vec![0u8; 5];
    s.read_exact(&mut rec).ok()?;
    let len = u16::from_be_bytes([rec[3], rec[4]]) as usize;
    rec.resize(5 + len, 0);
    s.read_exact(&mut rec[5..]).ok()?;
    Some(rec)
}

/// A one-connection TCP proxy to 127.0.0.1:`upstream` that passes records
/// through `f`. Returns its port.
fn proxy(upstream: u16, f: ProxyFn) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let f = Arc::new(Mutex::new(f));
    std::thread::spawn(move || {
        let Ok((down, _)) = listener.accept() else {
            return;
        };
        let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
            return;
        };
        for s in [&down, &up] {
            let _ = s.set_read_timeout(Some(DEADLINE));
        }
        let pump = |mut from: TcpStream, mut to: TcpStream, dir: Dir, f: Arc<Mutex<ProxyFn>>| {
            std::thread::spawn(move || {
                let mut i = 0;
                while let Some(mut rec) = read_record(&mut from) {
                    let go_on = (f.lock().unwrap())(dir, i, &mut rec);
                    i += 1;
                    if !go_on {
                        // A cut: both connections end here, in both directions.
                        let _ = from.shutdown(Shutdown::Both);
                        let _ = to.shutdown(Shutdown::Both);
                        return;
                    }
                    if to.write_all(&rec).is_err() {
                        // This direction's receiver is gone; stop reading, but
                        // leave the other direction running so an alert
                        // already on its way still gets through.
                        let _ = from.shutdown(Shutdown::Read);
                        return;
                    }
                }
                // End of stream (or a read error): pass the half-close on.
                // Closing both halves here raced the other direction's
                // last record (an alert) and the peer saw a bare EOF.
                let _ = to.shutdown(Shutdown::Write);
            })
        };
        let a = pump(
            down.try_clone().unwrap(),
            up.try_clone().unwrap(),
            Dir::ToServer,
            Arc::clone(&f),
        );
        let b = pump(up, down, Dir::ToClient, f);
        let _ = a.join();
        let _ = b.join();
    });
    port
}

/// Flips the last byte (in the AEAD tag) of the `index`th record in `dir`.
fn flip_tag(dir: Dir, index: usize) -> ProxyFn {
    Box::new(move |d, i, rec| {
        if d == dir && i == index {
            let n = rec.len();
            rec[n - 1] ^= 0x80;
        }
        true
    })
}

/// Cuts 10 bytes off the first handshake message in `dir` (a hello), fixing
/// the record and message lengths so it parses as a short message.
fn truncate_hello(dir: Dir) -> ProxyFn {
    Box::new(move |d, i, rec| {
        if d == dir && i == 0 && rec[0] == 22 {
            let hs_len = u32::from_be_bytes([0, rec[6], rec[7], rec[8]]) as usize - 10;
            rec.truncate(5 + 4 + hs_len);
            rec[6..9].copy_from_slice(&(hs_len as u32).to_be_bytes()[1..]);
            let rl = (4 + hs_len) as u16;
            rec[3..5].copy_from_slice(&rl.to_be_bytes());
        }
        true
    })
}

#[test]
fn tampered_record() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    // s_server: ServerHello, CCS, then encrypted records: break the first.
    let (ours, theirs) =
        failing_client(&pki, &pki.ca, "localhost", Some(flip_tag(Dir::ToClient, 2)));
    assert!(ours.contains("sent alert bad_record_mac"), "{ours}");
    assert!(theirs.contains("alert bad record mac"), "{theirs}");
    // s_client: ClientHello, CCS, Finished: break its Finished.
    let (theirs, ours) = failing_server(&pki, &pki.ca, &[], Some(flip_tag(Dir::ToServer, 2)));
    assert!(ours.contains("sent alert bad_record_mac"), "{ours}");
    assert!(theirs.contains("alert bad record mac"), "{theirs}");
}

#[test]
fn truncated_handshake() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let (ours, theirs) = failing_client(
        &pki,
        &pki.ca,
        "localhost",
        Some(truncate_hello(Dir::ToClient)),
    );
    assert!(ours.contains("sent alert decode_error"), "{ours}");
    assert!(theirs.contains("alert decode error"), "{theirs}");
    let (theirs, ours) = failing_server(&pki, &pki.ca, &[], Some(truncate_hello(Dir::ToServer)));
    assert!(ours.contains("sent alert decode_error"), "{ours}");
    assert!(theirs.contains("alert decode error"), "{theirs}");
    // A connection cut in the middle of the handshake ends promptly with a
    // typed error, not a hang.
    let cut: ProxyFn = Box::new(|d, i, _| !(d == Dir::ToClient && i == 1));
    let (ours, _) = failing_client(&pki, &pki.ca, "localhost", Some(cut));
    assert!(ours.contains("connection closed unexpectedly"), "{ours}");
}

#[test]
fn keylog_is_written_in_nss_format() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let dir = temp_dir("keylog");
    let log = dir.join("keys.log");
    let (mut server, port) = s_server(&pki, &["-tls1_3", "-quiet"]);
    let mut client = sealwire_connect(&pki.ca, port, &["--keylog", log.to_str().unwrap()]);
    client.feed(b"hi\n".to_vec());
    server.wait_stdout_len(3);
    client.close_stdin();
    assert!(client.wait_exit().success(), "{}", client.stderr());
    server.wait_exit();
    let text = std::fs::read_to_string(&log).unwrap();
    for label in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "EXPORTER_SECRET",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} in {text}"));
        let f: Vec<_> = line.split(' ').collect();
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].len(), 64, "client random");
        assert_eq!(f[2].len(), 64, "SHA-256 secret");
    }
    // The trace names secrets but never prints them.
    let secret = text
        .lines()
        .next()
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .to_string();
    assert!(!client.stderr().contains(&secret));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sealwire_server_handles_concurrent_sealwire_clients() {
    let pki = make_pki(KeyKind::Ed25519, &["localhost"]);
    let (mut server, port) = sealwire_serve(&pki, &["--max-connections", "3"]);
    let mut clients: Vec<(Proc, Vec<u8>)> = (0..3)
        .map(|i| {
            let mut c = sealwire_connect(&pki.ca, port, &[]);
            let d = data(10 + i, 256 * 1024);
            c.feed(d.clone());
            (c, d)
        })
        .collect();
    // All three are connected at once before any closes.
    for (c, d) in &clients {
        c.wait_stdout_len(d.len());
        assert!(c.stdout() == *d, "echo differs");
    }
    for (c, _) in &mut clients {
        c.close_stdin();
        assert!(c.wait_exit().success(), "{}", c.stderr());
    }
    assert!(server.wait_exit().success(), "{}", server.stderr());
    assert_eq!(server.stderr().matches("closed cleanly").count(), 3);
}

#[test]
fn trace_shows_the_steps_in_order() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let (mut server, port) = sealwire_serve(&pki, &[]);
    let mut client = sealwire_connect(&pki.ca, port, &[]);
    client.feed(b"x\n".to_vec());
    client.wait_stdout_len(2);
    client.close_stdin();
    assert!(client.wait_exit().success());
    server.wait_exit();
    for (who, trace) in [("client", client.stderr()), ("server", server.stderr())] {
        let steps = [
            "ClientHello: client_random=",
            "ClientHello: offered suites",
            "ServerHello: server_random=",
            "group X25519MLKEM768",
            "derived client_handshake_traffic_secret",
            "Certificate: subject CN=sealwire test server",
            "derived client_application_traffic_secret_0",
            "handshake complete",
        ];
        let mut at = 0;
        for s in steps {
            let pos = trace[at..]
                .find(s)
                .unwrap_or_else(|| panic!("{who}: {s:?} missing or out of order:\n{trace}"));
            at += pos;
        }
    }
    let ct = client.stderr();
    assert!(ct.contains("verified for localhost"), "{ct}");
}
