//! TLS 1.3 resumption against the `openssl` command line, both ways:
//! `openssl s_client -sess_out` then `-sess_in` against `sealwire serve`,
//! and `sealwire connect --sess-out` then `--sess-in` against
//! `openssl s_server -naccept 2`. Every process has a deadline and is
//! killed on drop.

mod common;

use common::interop::{sealwire_connect_with, sealwire_serve_with, start_server, Proc};
use common::pki::{have_openssl, make_pki, temp_dir, KeyKind, Pki};
use std::path::Path;
use std::process::Command;

fn s_client(pki: &Pki, port: u16, sess: (&str, &Path)) -> Proc {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-tls1_3", "-CAfile"])
        .arg(&pki.ca)
        .args([
            "-verify_return_error",
            "-servername",
            "localhost",
            "-no_ign_eof",
        ])
        .arg(sess.0)
        .arg(sess.1);
    Proc::spawn("openssl s_client", cmd)
}

/// One line through s_client and back from the echo server.
fn s_client_round(pki: &Pki, port: u16, sess: (&str, &Path), line: &str) -> String {
    let mut c = s_client(pki, port, sess);
    c.feed(line.as_bytes().to_vec());
    c.wait_until("the echo", |p| {
        String::from_utf8_lossy(&p.stdout()).contains(line)
    });
    c.close_stdin();
    assert!(c.wait_exit().success(), "s_client: {}", c.stderr());
    String::from_utf8_lossy(&c.stdout()).into_owned()
}

#[test]
fn s_client_resumes_against_sealwire_serve() {
    if !have_openssl() {
        return common::skipped("s_client resumption", "no openssl");
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let sess = temp_dir("resume-s-client").join("sess.pem");
    let (mut server, port) = sealwire_serve_with(
        &pki.cert,
        &pki.key,
        &["--max-connections", "2", "--tickets", "2"],
    );

    let first = s_client_round(&pki, port, ("-sess_out", &sess), "first line\n");
    assert!(first.contains("New, TLSv1.3"), "{first}");
    assert!(sess.exists(), "s_client wrote no session");
    let second = s_client_round(&pki, port, ("-sess_in", &sess), "second line\n");
    assert!(second.contains("Reused, TLSv1.3"), "{second}");

    assert!(server.wait_exit().success(), "{}", server.stderr());
    let log = server.stderr();
    assert_eq!(log.matches("send NewSessionTicket").count(), 4, "{log}");
    assert!(log.contains("binder verified"), "{log}");
    assert!(log.contains(", resumed"), "{log}");
    assert_eq!(log.matches(": resumed session").count(), 1, "{log}");
}

/// One line from our client to s_server, which prints it.
fn connect_round(server: &Proc, pki: &Pki, port: u16, sess: (&str, &Path), line: &str) -> String {
    let path = sess.1.to_str().expect("a UTF-8 temporary path");
    let mut c = sealwire_connect_with(&pki.ca, port, &[sess.0, path]);
    c.expect_stderr("handshake complete");
    c.feed(line.as_bytes().to_vec());
    server.wait_until("the line", |p| {
        String::from_utf8_lossy(&p.stdout()).contains(line)
    });
    c.close_stdin();
    assert!(c.wait_exit().success(), "connect: {}", c.stderr());
    c.stderr()
}

/// `serve --ticket-key-rotation 1`: after two rotations the ticket's key
/// is gone, and s_client's -sess_in gets a full handshake.
#[test]
fn s_client_ticket_outlives_its_key() {
    if !have_openssl() {
        return common::skipped("s_client ticket key rotation", "no openssl");
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let sess = temp_dir("resume-rotation").join("sess.pem");
    let (mut server, port) = sealwire_serve_with(
        &pki.cert,
        &pki.key,
        &["--max-connections", "2", "--ticket-key-rotation", "1"],
    );
    let first = s_client_round(&pki, port, ("-sess_out", &sess), "first line\n");
    assert!(first.contains("New, TLSv1.3"), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let second = s_client_round(&pki, port, ("-sess_in", &sess), "second line\n");
    assert!(second.contains("New, TLSv1.3"), "{second}");
    assert!(server.wait_exit().success(), "{}", server.stderr());
    let log = server.stderr();
    assert!(log.contains("no usable ticket; full handshake"), "{log}");
    assert!(!log.contains(": resumed session"), "{log}");
}

#[test]
fn sealwire_connect_resumes_against_s_server() {
    if !have_openssl() {
        return common::skipped("connect resumption", "no openssl");
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let sess = temp_dir("resume-connect").join("sessions.txt");
    let (mut server, port) = start_server("openssl s_server", |port| {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-naccept", "2", "-tls1_3", "-cert"])
            .arg(&pki.cert)
            .arg("-key")
            .arg(&pki.key);
        cmd
    });
    let first = connect_round(&server, &pki, port, ("--sess-out", &sess), "one\n");
    assert!(
        first.contains("sealwire connect: full handshake"),
        "{first}"
    );
    let text = std::fs::read_to_string(&sess).unwrap();
    assert!(text.starts_with("sealwire-sessions v1\nticket "), "{text}");
    let second = connect_round(&server, &pki, port, ("--sess-in", &sess), "two\n");
    assert!(second.contains("pre_shared_key accepted"), "{second}");
    assert!(
        second.contains("sealwire connect: resumed session"),
        "{second}"
    );
    assert!(!second.contains("Certificate: "), "{second}");
    server.close_stdin();
    server.finish();
    let out = String::from_utf8_lossy(&server.stdout()).into_owned();
    assert!(out.contains("Reused session-id"), "{out}");
}
