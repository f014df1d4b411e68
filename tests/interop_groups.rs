//! The groups and signature schemes against the `openssl` command line
//! (OpenSSL 3.0 has no ML-KEM: the hybrid is tested against rustls in
//! `handshake_groups.rs`): the sealwire client against `openssl s_server`
//! and `openssl s_client` against the sealwire server, TLS 1.3 and 1.2,
//! over 127.0.0.1 with certificates made at test time. Every process has a
//! deadline and is killed on drop.

mod common;

use common::key_pki;

use key_pki::{Key, KeyPki};
use sealwire::conn::Connection;
use sealwire::handshake::verify::{RootStore, ServerVerification};
use sealwire::handshake::{ClientConfig, Established, ServerConfig, Versions};
use sealwire::wire::{NamedGroup, SignatureScheme};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

/// A child killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl_group(g: NamedGroup) -> &'static str {
    match g {
        NamedGroup::X25519 => "X25519",
        NamedGroup::Secp256r1 => "P-256",
        _ => "P-384",
    }
}

fn version_flag(tls13: bool) -> &'static str {
    if tls13 {
        "-tls1_3"
    } else {
        "-tls1_2"
    }
}

fn versions(tls13: bool) -> Versions {
    if tls13 {
        Versions::TLS13_ONLY
    } else {
        Versions::TLS12_ONLY
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Connects once s_server listens (it may take a moment to start).
fn connect_when_up(port: u16, server: &mut Proc) -> TcpStream {
    let start = Instant::now();
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            return s;
        }
        if let Ok(Some(st)) = server.0.try_wait() {
            panic!("s_server exited early: {st}");
        }
        assert!(start.elapsed() < DEADLINE, "s_server never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The groups a client offers for group `g` and a `leaf` certificate:
/// OpenSSL, as RFC 8422 5.1.1 has it for TLS 1.2, wants an ECDSA
/// certificate's curve among them too (else it finds no usable suite).
fn client_groups(g: NamedGroup, leaf: Key) -> Vec<NamedGroup> {
    let curve = match leaf {
        Key::P256 => Some(NamedGroup::Secp256r1),
        Key::P384 => Some(NamedGroup::Secp384r1),
        _ => None,
    };
    let mut v = vec![g];
    v.extend(curve.filter(|c| *c != g));
    v
}

/// The sealwire client against `openssl s_server -www`: a GET, the status
/// page back. Returns what the handshake agreed.
fn client_vs_s_server(pki: &KeyPki, leaf: Key, tls13: bool, g: NamedGroup) -> Established {
    let port = free_port();
    let mut server = Proc(
        Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &port.to_string(),
                "-naccept",
                "1",
                "-www",
            ])
            .args([version_flag(tls13), "-groups", openssl_group(g)])
            .arg("-cert")
            .arg(&pki.cert)
            .arg("-key")
            .arg(&pki.key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server"),
    );
    let sock = connect_when_up(port, &mut server);
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    sock.set_write_timeout(Some(DEADLINE)).unwrap();
    let roots = RootStore::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap();
    let mut c = ClientConfig::new(ServerVerification::Roots(Arc::new(roots)));
    c.versions = versions(tls13);
    c.groups = client_groups(g, leaf);
    c.key_share_groups = vec![g];
    let mut conn = Connection::client(sock, c, Some("localhost")).expect("handshake with s_server");
    conn.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut page = Vec::new();
    let mut buf = vec![0u8; 1 << 14];
    // s_server -www closes the TCP connection after the page, with or
    // without close_notify: read until either.
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 {
            break;
        }
        page.extend_from_slice(&buf[..n]);
    }
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("HTTP/1.0 200 ok"), "{page}");
    conn.established().unwrap().clone()
}

/// `openssl s_client` against the sealwire server (taking group `g` only),
/// which echoes one line and closes. `sigalgs` restricts what s_client
/// offers.
fn s_client_vs_server(
    pki: &KeyPki,
    leaf: Key,
    tls13: bool,
    g: NamedGroup,
    sigalgs: Option<&str>,
) -> Established {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cfg = ServerConfig::from_pem(
        &std::fs::read(&pki.cert).unwrap(),
        &std::fs::read(&pki.key).unwrap(),
    )
    .unwrap();
    cfg.versions = versions(tls13);
    cfg.groups = vec![g];
    let server = std::thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut conn = Connection::server(sock, cfg).expect("handshake with s_client");
        let mut line = Vec::new();
        let mut buf = [0u8; 256];
        while !line.ends_with(b"\n") {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "s_client closed early");
            line.extend_from_slice(&buf[..n]);
        }
        conn.write_all(b"echo:").unwrap();
        conn.write_all(&line).unwrap();
        conn.close().unwrap();
        conn.established().unwrap().clone()
    });
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args([version_flag(tls13), "-groups"])
        .arg(
            client_groups(g, leaf)
                .into_iter()
                .map(openssl_group)
                .collect::<Vec<_>>()
                .join(":"),
        )
        .args(["-servername", "localhost", "-verify_return_error", "-quiet"])
        .arg("-CAfile")
        .arg(&pki.ca);
    if let Some(s) = sigalgs {
        cmd.args(["-sigalgs", s]);
    }
    let mut client = Proc(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl s_client"),
    );
    client
        .0
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello sealwire\n")
        .unwrap();
    let start = Instant::now();
    while client.0.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < DEADLINE, "s_client did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The output is a few lines: it fit in the pipes while s_client ran.
    let (mut stdout, mut stderr) = (String::new(), String::new());
    client
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    client
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stdout.contains("echo:hello sealwire"),
        "stdout {stdout}; stderr {stderr}"
    );
    server.join().unwrap()
}

#[test]
fn every_curve_both_versions_both_directions() {
    let pki = key_pki::make(Key::P256, Key::P256);
    for tls13 in [true, false] {
        for g in [
            NamedGroup::X25519,
            NamedGroup::Secp256r1,
            NamedGroup::Secp384r1,
        ] {
            let what = format!("{} tls13={tls13}", g);
            let e = client_vs_s_server(&pki, Key::P256, tls13, g);
            assert_eq!(e.group, g, "client {what}");
            assert_eq!(
                e.signature_scheme,
                Some(SignatureScheme::EcdsaSecp256r1Sha256),
                "{what}"
            );
            let e = s_client_vs_server(&pki, Key::P256, tls13, g, None);
            assert_eq!(e.group, g, "server {what}");
            assert_eq!(
                e.signature_scheme,
                Some(SignatureScheme::EcdsaSecp256r1Sha256),
                "{what}"
            );
        }
    }
}

#[test]
fn every_key_type_both_versions_both_directions() {
    for (key, want) in [
        (Key::P384, SignatureScheme::EcdsaSecp384r1Sha384),
        (Key::Ed25519, SignatureScheme::Ed25519),
        (Key::Rsa(2048), SignatureScheme::RsaPssRsaeSha256),
    ] {
        // A P-384 CA too, so chains signed with ECDSA SHA-384 are checked.
        let pki = key_pki::make(Key::P384, key);
        for tls13 in [true, false] {
            let what = format!("{key:?} tls13={tls13}");
            let e = client_vs_s_server(&pki, key, tls13, NamedGroup::X25519);
            // TLS 1.2's ECDSA code points name the hash only (RFC 5246
            // 7.4.1.4.1): s_server signs with P-384 and SHA-256, the first
            // ECDSA scheme we offer, and we verify that too.
            let client_want = if key == Key::P384 && !tls13 {
                SignatureScheme::EcdsaSecp256r1Sha256
            } else {
                want
            };
            assert_eq!(e.signature_scheme, Some(client_want), "client {what}");
            let e = s_client_vs_server(&pki, key, tls13, NamedGroup::Secp384r1, None);
            assert_eq!(e.signature_scheme, Some(want), "server {what}");
            assert_eq!(e.group, NamedGroup::Secp384r1, "{what}");
        }
    }
}

#[test]
fn rsa_schemes_openssl_asks_for() {
    let pki = key_pki::make(Key::P256, Key::Rsa(2048));
    for (tls13, sigalgs, want) in [
        (
            true,
            "rsa_pss_rsae_sha384",
            SignatureScheme::RsaPssRsaeSha384,
        ),
        (
            true,
            "rsa_pss_rsae_sha512",
            SignatureScheme::RsaPssRsaeSha512,
        ),
        (
            false,
            "rsa_pss_rsae_sha256",
            SignatureScheme::RsaPssRsaeSha256,
        ),
        (false, "RSA+SHA256", SignatureScheme::RsaPkcs1Sha256),
        (false, "RSA+SHA384", SignatureScheme::RsaPkcs1Sha384),
        (false, "RSA+SHA512", SignatureScheme::RsaPkcs1Sha512),
    ] {
        let e = s_client_vs_server(
            &pki,
            Key::Rsa(2048),
            tls13,
            NamedGroup::X25519,
            Some(sigalgs),
        );
        assert_eq!(e.signature_scheme, Some(want), "{sigalgs} tls13={tls13}");
    }
    // ECDSA SHA-384 in TLS 1.2's signature_algorithms, from a P-384 key.
    let pki = key_pki::make(Key::P256, Key::P384);
    let e = s_client_vs_server(
        &pki,
        Key::P384,
        false,
        NamedGroup::Secp256r1,
        Some("ECDSA+SHA384"),
    );
    assert_eq!(
        e.signature_scheme,
        Some(SignatureScheme::EcdsaSecp384r1Sha384)
    );
}
