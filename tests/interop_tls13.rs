//! TLS 1.3 interop with the `openssl` command line: the sealwire
//! client against `openssl s_server`, `openssl s_client` against the
//! sealwire server, over 127.0.0.1, with certificates made at test time.
//!
//! Every exchange moves at least 1 MiB each way and compares the bytes. The
//! data ends deterministically: a side's standard input is closed (which
//! makes it send close_notify) only after the data it must receive has fully
//! arrived. Every process has a deadline and is killed on drop.

mod common;

use common::interop::{
    data, sealwire, sealwire_connect_with, sealwire_serve_with, start_server, Dir, Proc, Proxy,
    RecordHook, Verdict, MIB,
};
use common::pki::{have_openssl, make_pki, temp_dir, KeyKind, Pki};
use std::path::Path;
use std::process::Command;

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
    let mut args = extra.to_vec();
    if !extra.contains(&"--max-connections") {
        args.extend(["--max-connections", "1"]);
    }
    sealwire_serve_with(&pki.cert, &pki.key, &args)
}

fn sealwire_connect(ca: &Path, port: u16, extra: &[&str]) -> Proc {
    sealwire_connect_with(ca, port, extra)
}

fn s_client(ca: &Path, port: u16, extra: &[&str]) -> Proc {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-tls1_3", "-CAfile"])
        .arg(ca)
        .args(["-verify_return_error", "-servername", "localhost"])
        .args(extra);
    Proc::spawn("openssl s_client", cmd)
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
    client.expect_stderr("handshake complete");
    if c.server_key_update {
        // Let s_server take in all of our data first, so the status line it
        // prints for `K` cannot land in the middle of it.
        let needle = &to_server[to_server.len() - 4096..];
        server.wait_until("all client data", |p| {
            p.stdout().windows(needle.len()).any(|w| w == needle)
        });
        let half = to_client.len() / 2 / 64 * 64; // ends with a newline
        server.feed(to_client[..half].to_vec());
        client.expect_stdout(half);
        server.feed(b"K\n".to_vec());
        client.expect_stderr("received KeyUpdate (update_requested=true)");
        server.feed(to_client[half..].to_vec());
    } else {
        server.feed(to_client.clone());
    }
    client.expect_stdout(to_client.len());
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
        server.expect_stdout(to_server.len());
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
        client.expect_stdout(half);
        client.feed(b"K\n".to_vec());
        server.expect_stderr("received KeyUpdate (update_requested=true)");
        client.feed(payload[half..].to_vec());
    } else {
        client.feed(payload.clone());
    }
    client.expect_stdout(payload.len());
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
    if !have_openssl() {
        return;
    }
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
    if !have_openssl() {
        return;
    }
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
    if !have_openssl() {
        return;
    }
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
    if !have_openssl() {
        return;
    }
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
    if !have_openssl() {
        return;
    }
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
fn failing_client(pki: &Pki, ca: &Path, name: &str, via: Option<RecordHook>) -> (String, String) {
    let (mut server, port) = s_server(pki, &["-tls1_3", "-quiet"]);
    let proxy = via.map(|f| Proxy::start(port, f));
    let target = proxy.as_ref().map_or(port, |p| p.port);
    let mut cmd = sealwire();
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
    let mut client = Proc::spawn("sealwire connect", cmd);
    client.feed(b"never delivered\n".to_vec());
    let status = client.wait_exit();
    assert!(!status.success(), "client should fail: {}", client.stderr());
    assert!(!String::from_utf8_lossy(&client.stdout()).contains("never"));
    server.close_stdin();
    server.wait_exit();
    (client.stderr(), server.stderr())
}

/// Runs s_client against our server until both exit; returns their stderr.
fn failing_server(
    pki: &Pki,
    ca: &Path,
    extra: &[&str],
    via: Option<RecordHook>,
) -> (String, String) {
    let (mut server, port) = sealwire_serve(pki, &["--tls1.3"]);
    let proxy = via.map(|f| Proxy::start(port, f));
    let target = proxy.as_ref().map_or(port, |p| p.port);
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
    if !have_openssl() {
        return;
    }
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
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let other = make_pki(KeyKind::EcP256, &["localhost"]);
    let (ours, theirs) = failing_client(&pki, &other.ca, "localhost", None);
    assert!(ours.contains("sent alert unknown_ca"), "{ours}");
    assert!(theirs.contains("alert unknown ca"), "{theirs}");

    let (theirs, ours) = failing_server(&pki, &other.ca, &[], None);
    assert!(ours.contains("peer sent alert unknown_ca"), "{ours}");
    assert!(theirs.to_lowercase().contains("verify error"), "{theirs}");
}

/// Flips the last byte (in the AEAD tag) of the `index`th record in `dir`.
fn flip_tag(dir: Dir, index: usize) -> RecordHook {
    Box::new(move |d, i, rec| {
        if d == dir && i == index {
            let n = rec.len();
            rec[n - 1] ^= 0x80;
        }
        Verdict::Forward
    })
}

/// Cuts 10 bytes off the first handshake message in `dir` (a hello), fixing
/// the record and message lengths so it parses as a short message.
fn truncate_hello(dir: Dir) -> RecordHook {
    Box::new(move |d, i, rec| {
        if d == dir && i == 0 && rec[0] == 22 {
            let hs_len = u32::from_be_bytes([0, rec[6], rec[7], rec[8]]) as usize - 10;
            rec.truncate(5 + 4 + hs_len);
            rec[6..9].copy_from_slice(&(hs_len as u32).to_be_bytes()[1..]);
            let rl = (4 + hs_len) as u16;
            rec[3..5].copy_from_slice(&rl.to_be_bytes());
        }
        Verdict::Forward
    })
}

#[test]
fn tampered_record() {
    if !have_openssl() {
        return;
    }
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
    if !have_openssl() {
        return;
    }
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
    let cut: RecordHook = Box::new(|d, i, rec| {
        if d == Dir::ToClient && i == 1 {
            rec.clear();
            Verdict::Cut
        } else {
            Verdict::Forward
        }
    });
    let (ours, _) = failing_client(&pki, &pki.ca, "localhost", Some(cut));
    assert!(ours.contains("connection closed unexpectedly"), "{ours}");
}

#[test]
fn keylog_is_written_in_nss_format() {
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let dir = temp_dir("keylog");
    let log = dir.join("keys.log");
    let (mut server, port) = s_server(&pki, &["-tls1_3", "-quiet"]);
    let mut client = sealwire_connect(&pki.ca, port, &["--keylog", log.to_str().unwrap()]);
    client.feed(b"hi\n".to_vec());
    server.expect_stdout(3);
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
    if !have_openssl() {
        return;
    }
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
        c.expect_stdout(d.len());
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
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let (mut server, port) = sealwire_serve(&pki, &[]);
    let mut client = sealwire_connect(&pki.ca, port, &[]);
    client.feed(b"x\n".to_vec());
    client.expect_stdout(2);
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
