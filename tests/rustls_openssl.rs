//! OpenSSL against rustls on `sealwire::rustls::provider()`, both ways:
//! `openssl s_client` against a rustls server, a rustls client against
//! `openssl s_server`, TLS 1.3 and TLS 1.2, over 127.0.0.1. Each exchange
//! moves 1 MiB each way and compares the bytes; every process has a
//! deadline and is killed on drop.

mod rustls_common;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, ServerConnection, StreamOwned};
use rustls_common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(120);
const MIB: usize = 1 << 20;

/// Lines of letters OpenSSL's s_client / s_server never take as commands.
fn text(seed: u64, len: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"0123456789abdefghijlmnopstuvwxyz";
    let raw = data(seed, len);
    raw.iter()
        .enumerate()
        .map(|(i, b)| {
            if i % 64 == 63 || i == len - 1 {
                b'\n'
            } else {
                ALPHABET[usize::from(b % 32)]
            }
        })
        .collect()
}

/// A child killed on drop, its standard output read by a thread (a full
/// pipe would stall it).
struct Proc(Child, Option<std::thread::JoinHandle<Vec<u8>>>);

impl Proc {
    fn new(mut child: Child) -> Proc {
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            out
        });
        Proc(child, Some(reader))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for the child to exit and returns its standard output.
fn finish(p: &mut Proc) -> Vec<u8> {
    let start = Instant::now();
    loop {
        if p.0.try_wait().unwrap().is_some() {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "openssl did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    p.1.take().unwrap().join().unwrap()
}

/// (version flag, suite flag, suite name) for OpenSSL.
fn openssl_suite(suite: rustls::CipherSuite) -> (&'static str, &'static str, &'static str) {
    match suite {
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256 => {
            ("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256")
        }
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384 => {
            ("-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384")
        }
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => {
            ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
        }
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => {
            ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384")
        }
        rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => {
            ("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
        }
        _ => ("-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"),
    }
}

/// Whether something listens on 127.0.0.1:`port` (read from /proc/net/tcp,
/// so s_server's single accept is not used up by a probe).
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

fn read_exact_deadline(r: &mut impl Read, n: usize) -> Vec<u8> {
    let mut got = vec![0u8; n];
    r.read_exact(&mut got).unwrap();
    got
}

/// `openssl s_client` sends 1 MiB to a rustls server on our provider,
/// which checks it, answers with 1 MiB and closes.
#[test]
fn openssl_s_client_against_rustls_server() {
    for suite in SUITES {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let config = Arc::new(server_config(Side::Sealwire, suite));
        let up = text(1, MIB);
        let down = text(2, MIB);
        let (up2, down2) = (up.clone(), down.clone());
        let server = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(DEADLINE)).unwrap();
            let conn = ServerConnection::new(config).unwrap();
            let mut tls = StreamOwned::new(conn, tcp);
            let got = read_exact_deadline(&mut tls, up2.len());
            assert!(got == up2, "server received changed bytes");
            let negotiated = tls.conn.negotiated_cipher_suite().unwrap();
            assert!(sealwire::rustls::is_sealwire_suite(negotiated));
            tls.write_all(&down2).unwrap();
            tls.conn.send_close_notify();
            tls.flush().unwrap();
        });
        let pki = pki(key_kind(suite));
        let (version, flag, name) = openssl_suite(suite);
        let mut client = Proc::new(
            Command::new("openssl")
                .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
                .args([version, flag, name, "-servername", "localhost", "-quiet"])
                .args(["-verify_return_error", "-CAfile"])
                .arg(&pki.ca)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("openssl is installed"),
        );
        let mut stdin = client.0.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&up);
            // stdin stays open until the server has closed (-quiet ignores EOF).
            std::thread::sleep(Duration::from_secs(1));
            drop(stdin);
        });
        let out = finish(&mut client);
        server.join().expect("server side checks");
        feeder.join().unwrap();
        assert_eq!(out.len(), down.len(), "{suite:?}");
        assert!(out == down, "{suite:?}: s_client received changed bytes");
        eprintln!("{suite:?}: openssl s_client <-> rustls server on sealwire: 1 MiB each way");
    }
}

/// A rustls client on our provider against `openssl s_server`: it sends
/// 1 MiB (s_server prints it), reads 1 MiB (s_server's input), closes.
#[test]
fn rustls_client_against_openssl_s_server() {
    for suite in SUITES {
        let pki = pki(key_kind(suite));
        let (version, flag, name) = openssl_suite(suite);
        let up = text(3, MIB);
        let down = text(4, MIB);
        // A free port, then s_server on it; retried if someone took it.
        let (mut server, port) = (0..5)
            .find_map(|_| {
                let port = TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port();
                let mut p = Proc::new(
                    Command::new("openssl")
                        .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
                        .args([version, flag, name, "-naccept", "1", "-quiet"])
                        .arg("-cert")
                        .arg(&pki.cert)
                        .arg("-key")
                        .arg(&pki.key)
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("openssl is installed"),
                );
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(20) {
                    if p.0.try_wait().unwrap().is_some() {
                        return None;
                    }
                    if listening(port) {
                        return Some((p, port));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                p.0.kill().ok();
                None
            })
            .expect("openssl s_server listens");
        let mut stdin = server.0.stdin.take().unwrap();
        let down2 = down.clone();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&down2);
            std::thread::sleep(Duration::from_secs(2));
            drop(stdin);
        });
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(DEADLINE)).unwrap();
        let name_ = ServerName::try_from("localhost").unwrap();
        let conn =
            ClientConnection::new(Arc::new(client_config(Side::Sealwire, suite)), name_).unwrap();
        let mut tls = StreamOwned::new(conn, tcp);
        tls.write_all(&up).unwrap();
        tls.flush().unwrap();
        let got = read_exact_deadline(&mut tls, down.len());
        assert!(got == down, "{suite:?}: client received changed bytes");
        tls.conn.send_close_notify();
        tls.flush().unwrap();
        drop(tls);
        let printed = finish(&mut server);
        feeder.join().unwrap();
        assert!(
            printed.ends_with(&up),
            "{suite:?}: s_server printed {} bytes",
            printed.len()
        );
        eprintln!("{suite:?}: rustls client on sealwire <-> openssl s_server: 1 MiB each way");
    }
}
