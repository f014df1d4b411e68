//! ALPN and scheduled KeyUpdate with the `openssl` command line, both
//! ways: `sealwire connect --alpn` against `openssl s_server -alpn`, and
//! `openssl s_client -alpn` against `sealwire serve --alpn`, over
//! 127.0.0.1 with certificates made at test time. With
//! `--key-update-every` OpenSSL must accept a stream of KeyUpdates while
//! the bytes stay intact.

mod common;

use common::interop::{data, sealwire_connect_with, sealwire_serve_with, start_server, Proc};
use common::pki::{have_openssl, make_pki, KeyKind, Pki};
use std::process::Command;

/// `openssl s_server` for one connection, not quiet: its stdout carries
/// the ALPN lines ("ALPN protocols selected: ...") besides the data.
fn s_server(pki: &Pki, version: &str, alpn: &str) -> (Proc, u16) {
    start_server("openssl s_server", |port| {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-naccept", "1", "-cert"])
            .arg(&pki.cert)
            .arg("-key")
            .arg(&pki.key)
            .args([version, "-alpn", alpn]);
        cmd
    })
}

fn sealwire_serve(pki: &Pki, extra: &[&str]) -> (Proc, u16) {
    let args = [&["--max-connections", "1"], extra].concat();
    sealwire_serve_with(&pki.cert, &pki.key, &args)
}

fn sealwire_connect(pki: &Pki, port: u16, extra: &[&str]) -> Proc {
    sealwire_connect_with(&pki.ca, port, extra)
}

/// `openssl s_client`, not quiet (its stdout then shows "ALPN protocol:
/// ..." or "No ALPN negotiated"); `-no_ign_eof` ends the connection when
/// its standard input closes.
fn s_client(pki: &Pki, port: u16, version: &str, alpn: &str) -> Proc {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(version)
        .arg("-CAfile")
        .arg(&pki.ca)
        .args(["-verify_return_error", "-servername", "localhost"])
        .args(["-alpn", alpn, "-no_ign_eof"]);
    Proc::spawn("openssl s_client", cmd)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// `s_client` (offering `alpn`, version flag `version`) echoes `payload`
/// through `sealwire serve` started with `serve_args`; both exit, the
/// server successfully. Returns s_client's stdout and the server's trace.
fn s_client_echo(
    pki: &Pki,
    serve_args: &[&str],
    version: &str,
    alpn: &str,
    payload: &[u8],
) -> (String, String) {
    let (mut server, port) = sealwire_serve(pki, serve_args);
    let mut client = s_client(pki, port, version, alpn);
    client.feed_echoed(payload.to_vec());
    client.wait_until("the echo", |p| contains(&p.stdout(), payload));
    client.close_stdin();
    client.wait_exit();
    let status = server.wait_exit();
    let trace = server.stderr();
    assert!(status.success(), "server failed: {trace}");
    let out = String::from_utf8_lossy(&client.stdout()).into_owned();
    (out, trace)
}

/// Our client offers `offer` to s_server configured with `server`, which
/// must agree on `expect`; both sides send 200 KiB; our client updates its
/// keys every `every` records (TLS 1.3). Returns the client's trace.
fn client_vs_s_server(
    pki: &Pki,
    tls13: bool,
    offer: &str,
    server: &str,
    expect: &str,
    every: Option<u64>,
) -> String {
    let (ours, theirs) = if tls13 {
        ("--tls1.3", "-tls1_3")
    } else {
        ("--tls1.2", "-tls1_2")
    };
    let (mut srv, port) = s_server(pki, theirs, server);
    let every_s = every.map(|n| n.to_string());
    let mut args = vec![ours, "--alpn", offer];
    if let Some(n) = &every_s {
        args.extend(["--key-update-every", n.as_str()]);
    }
    let mut client = sealwire_connect(pki, port, &args);
    let to_client = data(11, 200 * 1024);
    // Small writes: many records from our side, so many updates.
    let to_server = data(12, 200 * 1024);
    client.feed(to_server.clone());
    client.expect_stderr("handshake complete");
    srv.feed(to_client.clone());
    client.expect_stdout(to_client.len());
    assert!(client.stdout() == to_client, "client received other bytes");
    let tail = &to_server[to_server.len() - 4096..];
    srv.wait_until("all of the client's data", |p| contains(&p.stdout(), tail));
    // Without -quiet s_server prints "Read BLOCK" where a read returned
    // no data (after a KeyUpdate, for one); the data has no capitals.
    let out = String::from_utf8_lossy(&srv.stdout()).replace("Read BLOCK\n", "");
    let start = out
        .find(std::str::from_utf8(&to_server[..64]).unwrap())
        .expect("start of the client's data");
    assert!(
        out.as_bytes()[start..].starts_with(&to_server),
        "s_server received other bytes"
    );
    client.close_stdin();
    let status = client.wait_exit();
    let trace = client.stderr();
    assert!(status.success(), "client failed: {trace}\n{}", srv.stderr());
    srv.wait_exit();
    let text = String::from_utf8_lossy(&srv.stdout()).into_owned();
    assert!(
        text.contains(&format!("ALPN protocols selected: {expect}")),
        "{text}"
    );
    assert!(
        trace.contains(&format!("ALPN protocol: {expect}")),
        "{trace}"
    );
    trace
}

#[test]
fn sealwire_client_alpn_with_openssl_server() {
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    for tls13 in [true, false] {
        // s_server takes the first of its own list that the client offers.
        client_vs_s_server(&pki, tls13, "http/1.1,h2", "h2,http/1.1", "h2", None);
        // No overlap: OpenSSL 3's s_server refuses with
        // no_application_protocol, and our client reports the alert.
        let (mut srv, port) = s_server(&pki, if tls13 { "-tls1_3" } else { "-tls1_2" }, "h2");
        let mut client = sealwire_connect(&pki, port, &["--alpn", "spdy/3"]);
        client.close_stdin();
        let status = client.wait_exit();
        srv.finish();
        let trace = client.stderr();
        assert!(!status.success(), "{trace}");
        assert!(
            trace.contains("peer sent alert no_application_protocol"),
            "{trace}"
        );
    }
}

#[test]
fn sealwire_client_key_update_every_with_openssl_server() {
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let trace = client_vs_s_server(&pki, true, "h2", "h2", "h2", Some(2));
    // 200 KiB in records of at most 16 KiB: at least 13 records, so at
    // least 6 updates.
    let sent = count(&trace, "send KeyUpdate");
    assert!(sent >= 6, "{sent} KeyUpdates sent:\n{trace}");
}

#[test]
fn openssl_client_alpn_with_sealwire_server() {
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    for (ours, theirs) in [("--tls1.3", "-tls1_3"), ("--tls1.2", "-tls1_2")] {
        let payload = data(13, 128 * 1024);
        let serve = [ours, "--alpn", "h2,http/1.1"];
        let (out, trace) = s_client_echo(&pki, &serve, theirs, "http/1.1,h2", &payload);
        assert!(out.contains("ALPN protocol: h2"), "{out}");
        assert!(trace.contains("ALPN h2"), "{trace}");
    }
}

#[test]
fn openssl_client_without_overlap_gets_no_application_protocol() {
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    for (ours, theirs) in [("--tls1.3", "-tls1_3"), ("--tls1.2", "-tls1_2")] {
        let (mut server, port) = sealwire_serve(&pki, &[ours, "--alpn", "h2"]);
        let mut client = s_client(&pki, port, theirs, "spdy/3");
        client.close_stdin();
        let cstatus = client.wait_exit();
        server.wait_exit();
        let (cerr, trace) = (client.stderr(), server.stderr());
        assert!(!cstatus.success(), "s_client succeeded:\n{cerr}");
        // OpenSSL names alert 120 by number.
        assert!(cerr.contains("alert number 120"), "{cerr}");
        assert!(trace.contains("no_application_protocol"), "{trace}");
    }
}

#[test]
fn openssl_client_receives_key_updates_from_sealwire_server() {
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let payload = data(14, 512 * 1024);
    let serve = ["--tls1.3", "--key-update-every", "3"];
    let (out, trace) = s_client_echo(&pki, &serve, "-tls1_3", "h2", &payload);
    assert!(
        trace.contains(&format!("echoed {} bytes, closed cleanly", payload.len())),
        "{trace}"
    );
    // s_client writes 16 KiB at a time: at least 32 records echoed, so at
    // least 10 updates; the server offered no ALPN, so none was agreed.
    let sent = count(&trace, "send KeyUpdate");
    assert!(sent >= 10, "{sent} KeyUpdates sent:\n{trace}");
    assert!(out.contains("No ALPN negotiated"), "{out}");
}
