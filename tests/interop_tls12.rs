//! TLS 1.2 interop with the OpenSSL command line on 127.0.0.1:
//!
//! - `sealwire connect --tls1.2` against `openssl s_server -tls1_2`, and
//!   `openssl s_client -tls1_2` against `sealwire serve --tls1.2`, for
//!   ECDHE-ECDSA and ECDHE-RSA with AES-128-GCM and AES-256-GCM, each moving
//!   1 MiB each way, compared byte for byte, and both sides' key logs
//!   (NSS `CLIENT_RANDOM` lines) must agree on the master secret;
//! - negative cases, in both roles, with the alert checked on both sides:
//!   an untrusted root (unknown_ca); a tampered application data or
//!   Finished record (bad_record_mac); a forged Finished, re-encrypted with
//!   the keys from the key log so that only verify_data is wrong
//!   (decrypt_error); a truncated handshake; TLS_FALLBACK_SCSV to a server
//!   that also speaks TLS 1.3 (inappropriate_fallback).
//!
//! Certificates are made at test time with `openssl`; the processes, their
//! deadlines and the record proxy are the shared harness of
//! `tests/common/interop.rs`.

mod common;

use common::interop::{
    both_logs, data, sealwire, start_server, Dir, Proc, Proxy, RecordHook, Verdict, DEADLINE, MIB,
};
use common::pki::{have_openssl, make_pki, KeyKind, Pki};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The suite as OpenSSL names it, and the key type it needs.
#[derive(Clone, Copy, Debug)]
struct Case {
    openssl: &'static str,
    kind: KeyKind,
}

const CASES: [Case; 4] = [
    Case {
        openssl: "ECDHE-ECDSA-AES128-GCM-SHA256",
        kind: KeyKind::EcP256,
    },
    Case {
        openssl: "ECDHE-ECDSA-AES256-GCM-SHA384",
        kind: KeyKind::EcP256,
    },
    Case {
        openssl: "ECDHE-RSA-AES128-GCM-SHA256",
        kind: KeyKind::Rsa,
    },
    Case {
        openssl: "ECDHE-RSA-AES256-GCM-SHA384",
        kind: KeyKind::Rsa,
    },
];

/// The IANA name of an OpenSSL TLS 1.2 suite name.
fn iana(openssl: &str) -> String {
    let (kx, rest) = openssl.split_at(openssl.find("-AES").unwrap());
    let bits = &rest[4..7];
    let hash = &rest[rest.len() - 6..];
    format!("TLS_{}_WITH_AES_{bits}_GCM_{hash}", kx.replace('-', "_"))
}

fn keylog_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("CLIENT_RANDOM "))
        .map(str::to_string)
        .collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `openssl s_server` on a free port: (process, port).
fn s_server(pki: &Pki, cipher: &str, extra: &[&str]) -> (Proc, u16) {
    start_server("openssl s_server", |port| {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-tls1_2", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-cert", path(&pki.cert), "-key", path(&pki.key)])
            .args(["-cipher", cipher, "-naccept", "1", "-quiet"])
            .args(extra);
        cmd
    })
}

fn connect(port: u16, ca: &Path, extra: &[&str]) -> Proc {
    let mut cmd = sealwire();
    cmd.arg("connect")
        .arg(format!("127.0.0.1:{port}"))
        .args(["--tls1.2", "--servername", "localhost", "--ca", path(ca)])
        .args(["--timeout", "60"])
        .args(extra);
    Proc::spawn("sealwire connect", cmd)
}

fn serve(pki: &Pki, extra: &[&str]) -> (Proc, u16) {
    let mut cmd = sealwire();
    cmd.args(["serve", "--tls1.2", "--port", "0", "--max-connections", "1"])
        .args(["--cert", path(&pki.cert), "--key", path(&pki.key)])
        .args(["--timeout", "60"])
        .args(extra);
    let mut p = Proc::spawn("sealwire serve", cmd);
    let port = p.listening_port();
    (p, port)
}

fn s_client(port: u16, ca: &Path, cipher: &str, extra: &[&str]) -> Proc {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-tls1_2", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-servername", "localhost", "-CAfile", path(ca)])
        .args(["-verify_return_error", "-cipher", cipher, "-quiet"])
        // -quiet implies -ign_eof; we want end of input to close.
        .args(["-no_ign_eof", "-nocommands"])
        .args(extra);
    Proc::spawn("openssl s_client", cmd)
}

/// sealwire client ⇄ openssl s_server: `up` goes to the server, `down`
/// comes back from it.
fn client_vs_s_server(case: Case) {
    client_vs_s_server_with(case, &[], MIB);
}

/// [`client_vs_s_server`] with more s_server options and `size` bytes each
/// way.
fn client_vs_s_server_with(case: Case, srv_extra: &[&str], size: usize) -> String {
    let pki = make_pki(case.kind, &["localhost"]);
    let (ckl, skl) = (pki.dir.join("client.keys"), pki.dir.join("server.keys"));
    let (up, down) = (data(1, size + 123), data(2, size + 77));
    let mut args = vec!["-keylogfile", path(&skl)];
    args.extend_from_slice(srv_extra);
    let (mut srv, port) = s_server(&pki, case.openssl, &args);
    srv.feed(down.clone());
    let mut cli = connect(port, &pki.ca, &["--keylog", path(&ckl), "--trace"]);
    cli.feed(up.clone());
    // Close our input (close_notify) only once all of the server's data
    // arrived, so that nothing is cut short.
    cli.wait_stdout(down.len());
    srv.wait_stdout(up.len());
    cli.close_stdin();
    let (cs, ss) = (cli.finish(), srv.finish());
    let logs = both_logs(&cli, &srv);
    assert!(
        cli.stdout() == down,
        "client got {} bytes of {}\n{logs}",
        cli.stdout_len(),
        down.len()
    );
    assert!(
        srv.stdout() == up,
        "server got {} bytes of {}\n{logs}",
        srv.stdout_len(),
        up.len()
    );
    assert!(
        cs.is_some_and(|s| s.success()),
        "sealwire connect: {cs:?}\n{logs}"
    );
    assert!(ss.is_some(), "s_server hung\n{logs}");
    let (a, b) = (keylog_lines(&ckl), keylog_lines(&skl));
    assert_eq!(a.len(), 1, "{logs}");
    assert_eq!(a, b, "master secrets differ from OpenSSL's");
    let trace = cli.stderr();
    assert!(trace.contains("verified for localhost"), "{trace}");
    assert!(trace.contains("server Finished verified"), "{trace}");
    trace
}

/// openssl s_client ⇄ sealwire server (an echo server).
fn s_client_vs_server(case: Case) {
    s_client_vs_server_with(case, &[], MIB);
}

/// [`s_client_vs_server`] with more s_client options and `size` bytes.
fn s_client_vs_server_with(case: Case, cli_extra: &[&str], size: usize) -> String {
    let pki = make_pki(case.kind, &["localhost"]);
    let (ckl, skl) = (pki.dir.join("client.keys"), pki.dir.join("server.keys"));
    let up = data(3, size + 555);
    let (mut srv, port) = serve(
        &pki,
        &["--keylog", path(&skl), "--trace", "--suites", case.openssl],
    );
    let mut args = vec!["-keylogfile", path(&ckl)];
    args.extend_from_slice(cli_extra);
    let mut cli = s_client(port, &pki.ca, case.openssl, &args);
    cli.feed_echoed(up.clone());
    cli.wait_stdout(up.len());
    cli.close_stdin();
    let (cs, ss) = (cli.finish(), srv.finish());
    let logs = both_logs(&cli, &srv);
    assert!(
        cli.stdout() == up,
        "echo: {} bytes of {}\n{logs}",
        cli.stdout_len(),
        up.len()
    );
    assert!(
        ss.is_some_and(|s| s.success()),
        "sealwire serve: {ss:?}\n{logs}"
    );
    assert!(cs.is_some(), "s_client hung\n{logs}");
    assert!(srv.stderr().contains("closed cleanly"), "{logs}");
    // --suites took the OpenSSL name.
    assert!(
        srv.stderr()
            .contains(&format!("chosen suite {}", iana(case.openssl))),
        "{logs}"
    );
    let (a, b) = (keylog_lines(&ckl), keylog_lines(&skl));
    assert_eq!(b.len(), 1, "{logs}");
    assert_eq!(a, b, "master secrets differ from OpenSSL's");
    srv.stderr()
}

#[test]
fn sealwire_client_vs_openssl_server_ecdsa_aes128() {
    if !have_openssl() {
        return;
    }
    client_vs_s_server(CASES[0]);
}

#[test]
fn sealwire_client_vs_openssl_server_ecdsa_aes256() {
    if !have_openssl() {
        return;
    }
    client_vs_s_server(CASES[1]);
}

#[test]
fn sealwire_client_vs_openssl_server_rsa_aes128() {
    if !have_openssl() {
        return;
    }
    client_vs_s_server(CASES[2]);
}

#[test]
fn sealwire_client_vs_openssl_server_rsa_aes256() {
    if !have_openssl() {
        return;
    }
    client_vs_s_server(CASES[3]);
}

#[test]
fn openssl_client_vs_sealwire_server_ecdsa_aes128() {
    if !have_openssl() {
        return;
    }
    s_client_vs_server(CASES[0]);
}

#[test]
fn openssl_client_vs_sealwire_server_ecdsa_aes256() {
    if !have_openssl() {
        return;
    }
    s_client_vs_server(CASES[1]);
}

#[test]
fn openssl_client_vs_sealwire_server_rsa_aes128() {
    if !have_openssl() {
        return;
    }
    s_client_vs_server(CASES[2]);
}

#[test]
fn openssl_client_vs_sealwire_server_rsa_aes256() {
    if !have_openssl() {
        return;
    }
    s_client_vs_server(CASES[3]);
}

#[test]
fn secp256r1_and_signature_schemes_with_openssl() {
    if !have_openssl() {
        return;
    }
    // The curve OpenSSL is told to use, both roles.
    let t = client_vs_s_server_with(CASES[0], &["-groups", "P-256"], 64 * 1024);
    assert!(t.contains("ServerKeyExchange: group secp256r1"), "{t}");
    let t = s_client_vs_server_with(CASES[3], &["-groups", "P-256"], 64 * 1024);
    assert!(t.contains("group secp256r1"), "{t}");
    // RSA signatures: PKCS#1 v1.5 when the client offers only that, PSS when
    // OpenSSL's server is limited to it.
    let t = s_client_vs_server_with(CASES[2], &["-sigalgs", "RSA+SHA256"], 64 * 1024);
    assert!(t.contains("signed with rsa_pkcs1_sha256"), "{t}");
    let t = client_vs_s_server_with(CASES[2], &["-sigalgs", "rsa_pss_rsae_sha256"], 64 * 1024);
    assert!(
        t.contains("rsa_pss_rsae_sha256 signature over the ECDHE params verified"),
        "{t}"
    );
    let t = client_vs_s_server_with(CASES[3], &["-sigalgs", "RSA+SHA256"], 64 * 1024);
    assert!(
        t.contains("rsa_pkcs1_sha256 signature over the ECDHE params verified"),
        "{t}"
    );
}

#[test]
fn ed25519_server_key_with_openssl() {
    if !have_openssl() {
        return;
    }
    // RFC 8422 5.4: Ed25519 signs ECDHE_ECDSA parameters.
    let case = Case {
        openssl: CASES[0].openssl,
        kind: KeyKind::Ed25519,
    };
    let t = client_vs_s_server_with(case, &[], 64 * 1024);
    assert!(
        t.contains("ed25519 signature over the ECDHE params verified"),
        "{t}"
    );
    let t = s_client_vs_server_with(case, &[], 64 * 1024);
    assert!(t.contains("signed with ed25519"), "{t}");
}

#[test]
fn untrusted_root_fails_on_both_sides() {
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let stranger = make_pki(KeyKind::EcP256, &["localhost"]);
    // sealwire client, OpenSSL server.
    let (mut srv, port) = s_server(&pki, CASES[0].openssl, &[]);
    let mut cli = connect(port, &stranger.ca, &[]);
    cli.feed(b"never sent".to_vec());
    let (cs, _) = (cli.finish(), srv.finish_within(Duration::from_secs(20)));
    let logs = both_logs(&cli, &srv);
    assert!(cs.is_some_and(|s| !s.success()), "{logs}");
    assert!(cli.stderr().contains("unknown_ca"), "{logs}");
    assert!(srv.stderr().contains("unknown ca"), "{logs}");
    assert!(srv.stdout().is_empty(), "{logs}");
    // OpenSSL client, sealwire server.
    let (mut srv, port) = serve(&pki, &[]);
    let mut cli = s_client(port, &stranger.ca, CASES[0].openssl, &[]);
    cli.feed(b"never sent".to_vec());
    let (cs, ss) = (cli.finish(), srv.finish());
    let logs = both_logs(&cli, &srv);
    assert!(cs.is_some_and(|s| !s.success()), "{logs}");
    assert!(ss.is_some_and(|s| !s.success()), "{logs}");
    assert!(
        srv.stderr().contains("peer sent alert unknown_ca"),
        "{logs}"
    );
}

/// Which record [`alter`] changes.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    /// The first application_data(23) record.
    AppData,
    /// The first handshake(22) record after ChangeCipherSpec(20): the
    /// encrypted Finished.
    Finished,
    /// Not a corruption: forward this many bytes, then cut the connection
    /// (a truncated handshake).
    Cut(usize),
    /// Decrypt the encrypted Finished with the session keys (from this NSS
    /// key log), change verify_data, and encrypt it again: a Finished whose
    /// record is authentic but whose content is wrong.
    ForgeFinished(std::path::PathBuf),
}

/// What the relay read from the plaintext ServerHello.
#[derive(Default, Debug)]
struct Hello {
    server_random: Option<[u8; 32]>,
    suite: Option<u16>,
}

/// The session's (client_random, master_secret) from an NSS key log, once
/// written.
fn wait_keylog(p: &Path) -> (Vec<u8>, Vec<u8>) {
    let start = Instant::now();
    loop {
        if let Some(l) = keylog_lines(p).first() {
            let f: Vec<&str> = l.split(' ').collect();
            return (hex::decode(f[1]).unwrap(), hex::decode(f[2]).unwrap());
        }
        assert!(start.elapsed() < DEADLINE, "no key log at {}", p.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Rewrites the encrypted Finished `record` (header included, sequence
/// number 0 right after ChangeCipherSpec) with a wrong verify_data under
/// valid AES-GCM protection (RFC 5246 6.2.3.3, RFC 5288 3).
fn forge_finished(record: &mut [u8], keylog: &Path, hello: &Hello, client_to_server: bool) {
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    use sealwire::handshake::prf::prf;
    use sealwire::handshake::transcript::HashAlg;
    let (client_random, master) = wait_keylog(keylog);
    let suite = hello.suite.expect("ServerHello seen");
    let (hash, key_len) = match suite {
        0xc02b | 0xc02f => (HashAlg::Sha256, 16),
        _ => (HashAlg::Sha384, 32),
    };
    let mut kb = vec![0u8; 2 * key_len + 8];
    let sr = hello.server_random.expect("ServerHello seen");
    prf(
        hash,
        &master,
        b"key expansion",
        &[&sr, &client_random],
        &mut kb,
    );
    let (key, salt) = if client_to_server {
        (&kb[..key_len], &kb[2 * key_len..2 * key_len + 4])
    } else {
        (&kb[key_len..2 * key_len], &kb[2 * key_len + 4..])
    };
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(salt);
    nonce[4..].copy_from_slice(&record[5..13]);
    let body_end = record.len() - 16;
    let mut aad = [0u8; 13];
    aad[8] = 22;
    aad[9..11].copy_from_slice(&[3, 3]);
    aad[11..].copy_from_slice(&((body_end - 13) as u16).to_be_bytes());
    let (head, tag) = record.split_at_mut(body_end);
    let body = &mut head[13..];
    let nonce = aes_gcm::Nonce::from_slice(&nonce);
    let new_tag = if key_len == 16 {
        let c = aes_gcm::Aes128Gcm::new_from_slice(key).unwrap();
        c.decrypt_in_place_detached(nonce, &aad, body, aes_gcm::Tag::from_slice(tag))
            .expect("the key log opens the Finished record");
        assert_eq!(&body[..4], &[20, 0, 0, 12], "a Finished message");
        body[4] ^= 0x01;
        c.encrypt_in_place_detached(nonce, &aad, body).unwrap()
    } else {
        let c = aes_gcm::Aes256Gcm::new_from_slice(key).unwrap();
        c.decrypt_in_place_detached(nonce, &aad, body, aes_gcm::Tag::from_slice(tag))
            .expect("the key log opens the Finished record");
        assert_eq!(&body[..4], &[20, 0, 0, 12], "a Finished message");
        body[4] ^= 0x01;
        c.encrypt_in_place_detached(nonce, &aad, body).unwrap()
    };
    tag.copy_from_slice(&new_tag);
}

/// A proxy hook that alters `target` in the direction client → server when
/// `to_server`, else server → client, and reads the ServerHello on the way
/// (for [`forge_finished`]).
fn alter(target: Target, to_server: bool) -> RecordHook {
    let dir = if to_server {
        Dir::ToServer
    } else {
        Dir::ToClient
    };
    let mut hello = Hello::default();
    let mut ccs_seen = false;
    let mut done = false;
    let mut forwarded = 0usize;
    Box::new(move |d, _, record| {
        let typ = record[0];
        // RFC 5246 7.4.1.3: ServerHello opens the server's first record.
        if d == Dir::ToClient
            && hello.suite.is_none()
            && typ == 22
            && record.len() > 5 + 41
            && record[5] == 2
        {
            let sh = &record[9..];
            hello.server_random = Some(sh[2..34].try_into().unwrap());
            let sid = sh[34] as usize;
            hello.suite = Some(u16::from_be_bytes([sh[35 + sid], sh[36 + sid]]));
        }
        if d != dir {
            return Verdict::Forward;
        }
        if let Target::Cut(limit) = target {
            let keep = record.len().min(limit - forwarded);
            record.truncate(keep);
            forwarded += keep;
            return if forwarded == limit {
                Verdict::Cut
            } else {
                Verdict::Forward
            };
        }
        let hit = !done
            && match &target {
                Target::AppData => typ == 23,
                Target::Finished | Target::ForgeFinished(_) => ccs_seen && typ == 22,
                Target::Cut(_) => false,
            };
        if hit {
            done = true;
            match &target {
                Target::ForgeFinished(keylog) => forge_finished(record, keylog, &hello, to_server),
                _ => *record.last_mut().unwrap() ^= 0x01,
            }
        }
        ccs_seen |= typ == 20;
        Verdict::Forward
    })
}

/// s_server may exit on its own before our alert reaches it (it then prints
/// nothing about it), so the OpenSSL side's report of the alert is given up to
/// three attempts; sealwire's side is checked in full on every attempt.
fn tampered_vs_openssl_server(target: Target) {
    let mut last_logs = String::new();
    for _ in 0..3 {
        match tampered_vs_openssl_server_once(target.clone()) {
            Ok(()) => return,
            Err(logs) => last_logs = logs,
        }
    }
    panic!("s_server never reported bad record mac:\n{last_logs}");
}

fn tampered_vs_openssl_server_once(target: Target) -> Result<(), String> {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let (mut srv, port) = s_server(&pki, CASES[0].openssl, &[]);
    let finished = target == Target::Finished;
    let proxy = Proxy::start(port, alter(target, false));
    let mut cli = connect(proxy.port, &pki.ca, &[]);
    srv.feed(data(9, 64 * 1024));
    cli.feed(b"hello".to_vec());
    let (cs, _) = (cli.finish(), srv.finish_within(Duration::from_secs(20)));
    proxy.join();
    let logs = both_logs(&cli, &srv);
    assert!(cs.is_some_and(|s| !s.success()), "{logs}");
    assert!(cli.stderr().contains("sent alert bad_record_mac"), "{logs}");
    // Nothing of the corrupted record reached the application.
    if finished {
        assert!(cli.stdout().is_empty(), "{logs}");
    }
    if srv.stderr().contains("bad record mac") {
        Ok(())
    } else {
        Err(logs)
    }
}

fn tampered_vs_sealwire_server(target: Target) {
    let pki = make_pki(KeyKind::Rsa, &["localhost"]);
    let (mut srv, port) = serve(&pki, &[]);
    let proxy = Proxy::start(port, alter(target, true));
    let mut cli = s_client(proxy.port, &pki.ca, CASES[2].openssl, &[]);
    cli.feed(data(10, 64 * 1024));
    // The server fails on the corrupted record by itself; then the client.
    let ss = srv.finish();
    let cs = cli.finish_within(Duration::from_secs(20));
    proxy.join();
    let logs = both_logs(&cli, &srv);
    assert!(ss.is_some_and(|s| !s.success()), "{logs}");
    assert!(cs.is_some(), "{logs}");
    assert!(srv.stderr().contains("sent alert bad_record_mac"), "{logs}");
    assert!(cli.stderr().contains("bad record mac"), "{logs}");
    // The echo server never echoed corrupted bytes.
    assert!(cli.stdout().is_empty(), "{logs}");
}

#[test]
fn tampered_app_data_record_to_sealwire_client() {
    if !have_openssl() {
        return;
    }
    tampered_vs_openssl_server(Target::AppData);
}

#[test]
fn tampered_finished_record_to_sealwire_client() {
    if !have_openssl() {
        return;
    }
    tampered_vs_openssl_server(Target::Finished);
}

#[test]
fn tampered_app_data_record_to_sealwire_server() {
    if !have_openssl() {
        return;
    }
    tampered_vs_sealwire_server(Target::AppData);
}

#[test]
fn tampered_finished_record_to_sealwire_server() {
    if !have_openssl() {
        return;
    }
    tampered_vs_sealwire_server(Target::Finished);
}

#[test]
fn forged_finished_to_sealwire_client_is_decrypt_error() {
    if !have_openssl() {
        return;
    }
    let case = CASES[1];
    let pki = make_pki(case.kind, &["localhost"]);
    let keys = pki.dir.join("client.keys");
    let (mut srv, port) = s_server(&pki, case.openssl, &[]);
    let proxy = Proxy::start(port, alter(Target::ForgeFinished(keys.clone()), false));
    let mut cli = connect(proxy.port, &pki.ca, &["--keylog", path(&keys)]);
    srv.feed(data(11, 4096));
    cli.feed(b"hello".to_vec());
    let cs = cli.finish();
    // The alert has to reach s_server before its standard input closes:
    // at end of input it shuts down without reading the socket again.
    srv.expect_stderr("decrypt error");
    srv.finish_within(Duration::from_secs(20));
    proxy.join();
    let logs = both_logs(&cli, &srv);
    assert!(cs.is_some_and(|s| !s.success()), "{logs}");
    assert!(
        cli.stderr()
            .contains("peer Finished did not verify (sent alert decrypt_error)"),
        "{logs}"
    );
    assert!(srv.stderr().contains("decrypt error"), "{logs}");
    assert!(cli.stdout().is_empty() && srv.stdout().is_empty(), "{logs}");
}

#[test]
fn forged_finished_to_sealwire_server_is_decrypt_error() {
    if !have_openssl() {
        return;
    }
    let case = CASES[2];
    let pki = make_pki(case.kind, &["localhost"]);
    let keys = pki.dir.join("server.keys");
    let (mut srv, port) = serve(&pki, &["--keylog", path(&keys)]);
    let proxy = Proxy::start(port, alter(Target::ForgeFinished(keys), true));
    let mut cli = s_client(proxy.port, &pki.ca, case.openssl, &[]);
    cli.feed(b"hello".to_vec());
    let ss = srv.finish();
    let cs = cli.finish_within(Duration::from_secs(20));
    proxy.join();
    let logs = both_logs(&cli, &srv);
    assert!(ss.is_some_and(|s| !s.success()), "{logs}");
    assert!(cs.is_some(), "{logs}");
    assert!(
        srv.stderr()
            .contains("peer Finished did not verify (sent alert decrypt_error)"),
        "{logs}"
    );
    assert!(cli.stderr().contains("decrypt error"), "{logs}");
    assert!(cli.stdout().is_empty(), "{logs}");
}

#[test]
fn truncated_handshake_fails_on_both_sides() {
    if !have_openssl() {
        return;
    }
    // The server's first flight cut inside ServerHello: the sealwire client
    // sees the connection end mid-handshake.
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let (mut srv, port) = s_server(&pki, CASES[0].openssl, &[]);
    let proxy = Proxy::start(port, alter(Target::Cut(5 + 30), false));
    let mut cli = connect(proxy.port, &pki.ca, &[]);
    cli.feed(b"never sent".to_vec());
    let (cs, _) = (cli.finish(), srv.finish_within(Duration::from_secs(20)));
    proxy.join();
    let logs = both_logs(&cli, &srv);
    assert!(cs.is_some_and(|s| !s.success()), "{logs}");
    assert!(
        cli.stderr().contains("connection closed unexpectedly"),
        "{logs}"
    );
    assert!(srv.stdout().is_empty(), "{logs}");
    // s_client's ClientHello cut short: the sealwire server fails the same
    // way and never completes a handshake.
    let (mut srv, port) = serve(&pki, &[]);
    let proxy = Proxy::start(port, alter(Target::Cut(60), true));
    let mut cli = s_client(proxy.port, &pki.ca, CASES[0].openssl, &[]);
    cli.feed(b"never sent".to_vec());
    let ss = srv.finish();
    let cs = cli.finish_within(Duration::from_secs(20));
    proxy.join();
    let logs = both_logs(&cli, &srv);
    assert!(ss.is_some_and(|s| !s.success()), "{logs}");
    assert!(cs.is_some_and(|s| !s.success()), "{logs}");
    assert!(
        srv.stderr().contains("connection closed unexpectedly"),
        "{logs}"
    );
    assert!(cli.stdout().is_empty(), "{logs}");
}

#[test]
fn fallback_scsv_to_a_tls13_capable_server_is_refused() {
    if !have_openssl() {
        return;
    }
    // RFC 7507: s_client -fallback_scsv says it could do better than TLS
    // 1.2; a sealwire server that also speaks TLS 1.3 refuses.
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let mut cmd = sealwire();
    cmd.args(["serve", "--port", "0", "--max-connections", "1"])
        .args(["--cert", path(&pki.cert), "--key", path(&pki.key)])
        .args(["--timeout", "60"]);
    let mut srv = Proc::spawn("sealwire serve (TLS 1.3 and 1.2)", cmd);
    let port = srv.listening_port();
    let mut cli = s_client(port, &pki.ca, CASES[0].openssl, &["-fallback_scsv"]);
    cli.feed(b"never sent".to_vec());
    let ss = srv.finish();
    let cs = cli.finish_within(Duration::from_secs(20));
    let logs = both_logs(&cli, &srv);
    assert!(ss.is_some_and(|s| !s.success()), "{logs}");
    assert!(cs.is_some(), "{logs}");
    assert!(srv.stderr().contains("inappropriate_fallback"), "{logs}");
    assert!(cli.stderr().contains("inappropriate fallback"), "{logs}");
}

#[test]
fn keylog_path_is_only_written_when_asked() {
    if !have_openssl() {
        return;
    }
    // Without --keylog nothing names a secret value: the trace carries labels.
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let (mut srv, port) = s_server(&pki, CASES[0].openssl, &[]);
    let mut cli = connect(port, &pki.ca, &["--trace"]);
    cli.feed(b"x".to_vec());
    cli.wait_stdout(0);
    srv.wait_stdout(1);
    cli.close_stdin();
    let (cs, _) = (cli.finish(), srv.finish_within(Duration::from_secs(20)));
    let logs = both_logs(&cli, &srv);
    assert!(cs.is_some_and(|s| s.success()), "{logs}");
    let trace = cli.stderr();
    for step in [
        "client_random=",
        "offered suites",
        "server_random=",
        "chosen suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ServerKeyExchange: group x25519",
        "Certificate: subject CN=sealwire test server",
        "master_secret",
        "key_block",
    ] {
        assert!(trace.contains(step), "trace lacks {step:?}:\n{trace}");
    }
    assert!(!trace.contains("CLIENT_RANDOM"), "{trace}");
}

/// The lines of `log` that mention an alert (for assertion messages).
fn alert_lines(log: &str) -> String {
    log.lines()
        .filter(|l| l.contains("alert") || l.contains("Alert"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// RFC 5246 7.2.2 / 7.4.1.1: a client's renegotiating ClientHello gets a
/// warning no_renegotiation, not a fatal alert. s_client ("R" on its
/// input) then gives up with its own fatal handshake_failure, as OpenSSL
/// does for a refused renegotiation.
#[test]
fn renegotiating_client_hello_gets_a_warning_no_renegotiation() {
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let (mut srv, port) = serve(&pki, &["--trace"]);
    let cipher = "ECDHE-ECDSA-AES128-GCM-SHA256";
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-tls1_2", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-servername", "localhost", "-CAfile", path(&pki.ca)])
        .args(["-verify_return_error", "-cipher", cipher, "-quiet"])
        .args(["-no_ign_eof", "-msg"]);
    let mut cli = Proc::spawn("openssl s_client", cmd);
    // The echo proves the connection is up before "R" asks to renegotiate
    // (on a line of its own: s_client reads commands at a read's start).
    cli.feed(b"hello\n".to_vec());
    cli.wait_until("the echo", |p| {
        String::from_utf8_lossy(&p.stdout()).contains("\nhello\n")
    });
    cli.feed(b"R\n".to_vec());
    cli.wait_until("the server's answer", |p| {
        String::from_utf8_lossy(&p.stdout()).contains("no_renegotiation")
    });
    cli.close_stdin();
    let (_, _) = (cli.finish(), srv.finish());
    let out = String::from_utf8_lossy(&cli.stdout()).into_owned();
    let logs = both_logs(&cli, &srv);
    assert!(
        out.contains("<<< TLS 1.2, Alert [length 0002], warning no_renegotiation"),
        "{}\n{logs}",
        alert_lines(&out)
    );
    assert!(
        srv.stderr()
            .contains("received a renegotiating ClientHello: sending warning no_renegotiation"),
        "{logs}"
    );
    assert!(!srv.stderr().contains("sending fatal alert"), "{logs}");
}

/// RFC 5246 7.4.1.1, 7.2.2: our client answers a HelloRequest with a
/// warning no_renegotiation and keeps the connection; s_server ("R" on its
/// input) then ends it with its own fatal handshake_failure.
#[test]
fn hello_request_gets_a_warning_no_renegotiation() {
    if !have_openssl() {
        return;
    }
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let (mut srv, port) = start_server("openssl s_server", |port| {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-tls1_2", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-cert", path(&pki.cert), "-key", path(&pki.key)])
            .args(["-naccept", "1", "-msg"]);
        cmd
    });
    let mut cli = connect(port, &pki.ca, &["--trace"]);
    cli.expect_stderr("negotiated: TLS 1.2");
    srv.feed(b"hello\n".to_vec());
    cli.expect_stdout(6);
    srv.feed(b"R\n".to_vec());
    srv.wait_until("the client's answer", |p| {
        String::from_utf8_lossy(&p.stdout()).contains("no_renegotiation")
    });
    srv.close_stdin();
    cli.close_stdin();
    let (_, _) = (cli.finish(), srv.finish());
    let out = String::from_utf8_lossy(&srv.stdout()).into_owned();
    let logs = both_logs(&cli, &srv);
    assert!(
        out.contains("<<< TLS 1.2, Alert [length 0002], warning no_renegotiation"),
        "{}\n{logs}",
        alert_lines(&out)
    );
    assert!(
        cli.stderr()
            .contains("received HelloRequest: sending warning no_renegotiation"),
        "{logs}"
    );
    assert!(!cli.stderr().contains("sending fatal alert"), "{logs}");
    assert_eq!(cli.stdout(), b"hello\n");
}
