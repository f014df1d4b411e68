//! Client certificates (mutual TLS) in TLS 1.3 and TLS 1.2: the sealwire
//! state machines against each other in memory, `Connection` over a socket
//! pair (the verified chain on the server), and interop with the `openssl`
//! command line both ways (`s_client -cert -key` against `sealwire serve
//! --client-ca`, `sealwire connect --cert --key` against `s_server -Verify`).

mod common;

use common::handshake::{configs, expect_server, run, untouched, Peer};
use common::interop::{data, sealwire, start_server, Proc, MIB};
use common::pki::{have_openssl, make_client_cert, make_pki, KeyKind, Pki};
use sealwire::conn::Connection;
use sealwire::handshake::messages::{hs_type, HandshakeMessage};
use sealwire::handshake::verify::{certs_from_pem, CertifiedKey, ClientAuth, RootStore};
use sealwire::handshake::{Alert, ClientConfig, Error, ProtocolVersion, ServerConfig, Versions};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const BOTH: [Versions; 2] = [Versions::TLS13_ONLY, Versions::TLS12_ONLY];

fn roots(ca: &Path) -> Arc<RootStore> {
    Arc::new(RootStore::from_pem(&std::fs::read(ca).unwrap()).unwrap())
}

fn certified(cert: &Path, key: &Path) -> CertifiedKey {
    CertifiedKey::from_pem(&std::fs::read(cert).unwrap(), &std::fs::read(key).unwrap()).unwrap()
}

fn der(cert: &Path) -> Vec<u8> {
    certs_from_pem(&std::fs::read(cert).unwrap()).unwrap()[0].to_vec()
}

/// Configs for `versions` whose server asks for client certificates from
/// its own CA (required or not); the client has no certificate yet.
fn mtls_configs(versions: Versions, required: bool) -> (ClientConfig, ServerConfig, Pki) {
    let (c, mut s, pki) = configs(KeyKind::EcP256, versions);
    let r = roots(&pki.ca);
    s.client_auth = Some(if required {
        ClientAuth::required(r)
    } else {
        ClientAuth::optional(r)
    });
    (c, s, pki)
}

fn both_ways(cl: &Peer, sv: &Peer) {
    assert_eq!(cl.write_keys, sv.read_keys, "client->server keys differ");
    assert_eq!(sv.write_keys, cl.read_keys, "server->client keys differ");
    assert!(cl.is_connected() && sv.is_connected());
}

fn server_chain(sv: &Peer) -> &[Vec<u8>] {
    &sv.established
        .as_ref()
        .expect("server established")
        .peer_chain
}

#[test]
fn client_certificate_of_every_key_type_is_verified_both_versions() {
    if !have_openssl() {
        return;
    }
    for versions in BOTH {
        for kind in [KeyKind::EcP256, KeyKind::Rsa, KeyKind::Ed25519] {
            let (mut c, s, pki) = mtls_configs(versions, true);
            let (cert, key) = make_client_cert(&pki, kind, "client");
            c.client_cert = Some(certified(&cert, &key));
            let (cl, sv) = run(c, s, "localhost", &mut |_| {}, &mut untouched())
                .unwrap_or_else(|e| panic!("{versions:?} {kind:?}: {e:?}"));
            both_ways(&cl, &sv);
            assert_eq!(server_chain(&sv), [der(&cert)], "{versions:?} {kind:?}");
            assert!(cl.sent_types.contains(&hs_type::CERTIFICATE_VERIFY));
            assert!(sv.sent_types.contains(&hs_type::CERTIFICATE_REQUEST));
            let v = sv.established.as_ref().unwrap().version;
            let want = if versions.tls13 {
                ProtocolVersion::Tls13
            } else {
                ProtocolVersion::Tls12
            };
            assert_eq!(v, want);
        }
    }
}

#[test]
fn required_without_certificate_is_refused() {
    if !have_openssl() {
        return;
    }
    for (versions, alert) in [
        (Versions::TLS13_ONLY, Alert::CertificateRequired),
        (Versions::TLS12_ONLY, Alert::HandshakeFailure),
    ] {
        let (c, s, _pki) = mtls_configs(versions, true);
        let r = run(c, s, "localhost", &mut |_| {}, &mut untouched());
        expect_server(r, alert);
    }
}

#[test]
fn optional_without_certificate_is_accepted() {
    if !have_openssl() {
        return;
    }
    for versions in BOTH {
        let (c, s, _pki) = mtls_configs(versions, false);
        let (cl, sv) = run(c, s, "localhost", &mut |_| {}, &mut untouched()).unwrap();
        both_ways(&cl, &sv);
        assert!(server_chain(&sv).is_empty(), "{versions:?}");
        assert!(!cl.sent_types.contains(&hs_type::CERTIFICATE_VERIFY));
    }
}

#[test]
fn optional_with_certificate_still_verifies_it() {
    if !have_openssl() {
        return;
    }
    for versions in BOTH {
        let (mut c, s, _pki) = mtls_configs(versions, false);
        let other = make_pki(KeyKind::EcP256, &["localhost"]);
        let (cert, key) = make_client_cert(&other, KeyKind::EcP256, "stranger");
        c.client_cert = Some(certified(&cert, &key));
        let r = run(c, s, "localhost", &mut |_| {}, &mut untouched());
        expect_server(r, Alert::UnknownCa);
    }
}

#[test]
fn certificate_from_another_ca_is_unknown_ca() {
    if !have_openssl() {
        return;
    }
    for versions in BOTH {
        let (mut c, s, _pki) = mtls_configs(versions, true);
        let other = make_pki(KeyKind::EcP256, &["localhost"]);
        let (cert, key) = make_client_cert(&other, KeyKind::EcP256, "stranger");
        c.client_cert = Some(certified(&cert, &key));
        let r = run(c, s, "localhost", &mut |_| {}, &mut untouched());
        let e = expect_server(r, Alert::UnknownCa);
        assert!(e.to_string().contains("UnknownIssuer"), "{e}");
    }
}

#[test]
fn server_auth_only_certificate_is_bad_certificate() {
    if !have_openssl() {
        return;
    }
    for versions in BOTH {
        let (mut c, s, pki) = mtls_configs(versions, true);
        // The server's own leaf: same CA, but extendedKeyUsage serverAuth.
        c.client_cert = Some(certified(&pki.cert, &pki.key));
        let r = run(c, s, "localhost", &mut |_| {}, &mut untouched());
        expect_server(r, Alert::BadCertificate);
    }
}

/// Flips the last byte of the client's CertificateVerify signature.
fn break_certificate_verify(m: &mut HandshakeMessage) {
    if m.typ == hs_type::CERTIFICATE_VERIFY {
        *m.raw.last_mut().unwrap() ^= 1;
    }
}

#[test]
fn bad_certificate_verify_is_decrypt_error() {
    if !have_openssl() {
        return;
    }
    for versions in BOTH {
        for kind in [KeyKind::EcP256, KeyKind::Rsa] {
            let (mut c, s, pki) = mtls_configs(versions, true);
            let (cert, key) = make_client_cert(&pki, kind, "client");
            c.client_cert = Some(certified(&cert, &key));
            let r = run(
                c,
                s,
                "localhost",
                &mut |_| {},
                &mut break_certificate_verify,
            );
            let e = expect_server(r, Alert::DecryptError);
            assert!(
                matches!(e, Error::BadSignature),
                "{versions:?} {kind:?}: {e}"
            );
        }
    }
}

#[test]
fn certificate_verify_with_an_unoffered_scheme_is_illegal_parameter() {
    if !have_openssl() {
        return;
    }
    for versions in BOTH {
        let (mut c, s, pki) = mtls_configs(versions, true);
        let (cert, key) = make_client_cert(&pki, KeyKind::EcP256, "client");
        c.client_cert = Some(certified(&cert, &key));
        // rsa_pkcs1_sha1, which we never offer.
        let mut to_server = |m: &mut HandshakeMessage| {
            if m.typ == hs_type::CERTIFICATE_VERIFY {
                m.raw[4..6].copy_from_slice(&[0x02, 0x01]);
            }
        };
        let r = run(c, s, "localhost", &mut |_| {}, &mut to_server);
        expect_server(r, Alert::IllegalParameter);
    }
}

#[test]
fn client_certificate_is_not_sent_unasked() {
    if !have_openssl() {
        return;
    }
    for versions in BOTH {
        let (mut c, s, pki) = configs(KeyKind::EcP256, versions);
        let (cert, key) = make_client_cert(&pki, KeyKind::EcP256, "client");
        c.client_cert = Some(certified(&cert, &key));
        let (cl, sv) = run(c, s, "localhost", &mut |_| {}, &mut untouched()).unwrap();
        both_ways(&cl, &sv);
        assert!(!cl.sent_types.contains(&hs_type::CERTIFICATE));
        assert!(server_chain(&sv).is_empty());
    }
}

// ---------------------------------------------------------------------
// Connection over a socket pair.
// ---------------------------------------------------------------------

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    }
    (a, b)
}

#[test]
fn connection_exposes_the_verified_client_certificate() {
    if !have_openssl() {
        return;
    }
    for versions in BOTH {
        let (mut c, s, pki) = mtls_configs(versions, true);
        let (cert, key) = make_client_cert(&pki, KeyKind::EcP256, "client");
        c.client_cert = Some(certified(&cert, &key));
        let (a, b) = pair();
        let server = std::thread::spawn(move || -> Result<Vec<Vec<u8>>, Error> {
            let mut conn = Connection::server(b, s)?;
            let mut buf = [0u8; 64];
            let n = conn.read(&mut buf)?;
            conn.write_all(&buf[..n])?;
            conn.close()?;
            Ok(conn.peer_certificates().to_vec())
        });
        let mut conn = Connection::client(a, c, Some("localhost")).unwrap();
        conn.write_all(b"ping").unwrap();
        let mut buf = [0u8; 64];
        let n = conn.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(conn.peer_certificates(), [der(&pki.cert)]);
        let chain = server.join().unwrap().unwrap();
        assert_eq!(chain, [der(&cert)], "{versions:?}");
    }
}

#[test]
fn connection_without_certificate_gets_the_alert() {
    if !have_openssl() {
        return;
    }
    for (versions, alert) in [
        (Versions::TLS13_ONLY, Alert::CertificateRequired),
        (Versions::TLS12_ONLY, Alert::HandshakeFailure),
    ] {
        let (c, s, _pki) = mtls_configs(versions, true);
        let (a, b) = pair();
        let server = std::thread::spawn(move || Connection::server(b, s).map(|_| ()));
        // TLS 1.3: the client is done after its Finished and hears of the
        // refusal on its first read; TLS 1.2: during the handshake.
        let got = Connection::client(a, c, Some("localhost")).and_then(|mut conn| {
            let mut buf = [0u8; 16];
            conn.read(&mut buf).map(|_| ())
        });
        match got {
            Err(Error::PeerAlert(a)) => assert_eq!(a, alert, "{versions:?}"),
            other => panic!("{versions:?}: {other:?}"),
        }
        let e = server.join().unwrap().unwrap_err();
        assert_eq!(e.alert(), Some(alert), "{e}");
    }
}

// ---------------------------------------------------------------------
// OpenSSL interop.
// ---------------------------------------------------------------------

fn version_flags(tls13: bool) -> (&'static str, &'static str) {
    if tls13 {
        ("--tls1.3", "-tls1_3")
    } else {
        ("--tls1.2", "-tls1_2")
    }
}

fn sealwire_serve(pki: &Pki, extra: &[&str]) -> (Proc, u16) {
    let mut cmd = sealwire();
    cmd.args(["serve", "--cert"])
        .arg(&pki.cert)
        .arg("--key")
        .arg(&pki.key)
        .arg("--client-ca")
        .arg(&pki.ca)
        .args(["--port", "0", "--trace", "--timeout", "60"])
        .args(["--max-connections", "1"])
        .args(extra);
    let mut p = Proc::spawn("sealwire serve", cmd);
    let port = p.listening_port();
    (p, port)
}

fn s_client(pki: &Pki, port: u16, extra: &[&str]) -> Proc {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(&pki.ca)
        .args(["-verify_return_error", "-servername", "localhost"])
        .args(["-quiet", "-no_ign_eof"])
        .args(extra);
    Proc::spawn("openssl s_client", cmd)
}

#[test]
fn openssl_s_client_with_certificate_against_sealwire_serve() {
    if !have_openssl() {
        return;
    }
    for tls13 in [true, false] {
        let (ours, theirs) = version_flags(tls13);
        let pki = make_pki(KeyKind::EcP256, &["localhost"]);
        let (cert, key) = make_client_cert(&pki, KeyKind::Rsa, "openssl-client");
        let (mut server, port) = sealwire_serve(&pki, &[ours]);
        let cert = cert.to_str().unwrap();
        let key = key.to_str().unwrap();
        let mut client = s_client(&pki, port, &[theirs, "-cert", cert, "-key", key]);
        let payload = data(7, MIB + 333);
        client.feed(payload.clone());
        client.expect_stdout(payload.len());
        assert!(client.stdout() == payload, "s_client got a different echo");
        client.close_stdin();
        client.wait_exit();
        let status = server.wait_exit();
        let trace = server.stderr();
        assert!(status.success(), "{trace}");
        assert!(
            trace.contains("client certificate verified: subject CN=openssl-client, O=sealwire"),
            "{trace}"
        );
        assert!(trace.contains("client CertificateVerify: "), "{trace}");
        assert!(
            trace.contains(&format!("echoed {} bytes, closed cleanly", payload.len())),
            "{trace}"
        );
    }
}

#[test]
fn openssl_s_client_without_certificate_is_refused_unless_optional() {
    if !have_openssl() {
        return;
    }
    for (tls13, alert) in [(true, "certificate_required"), (false, "handshake_failure")] {
        let (ours, theirs) = version_flags(tls13);
        let pki = make_pki(KeyKind::EcP256, &["localhost"]);
        let (mut server, port) = sealwire_serve(&pki, &[ours]);
        let mut client = s_client(&pki, port, &[theirs]);
        client.feed(b"never echoed\n".to_vec());
        client.wait_exit();
        let status = server.wait_exit();
        let trace = server.stderr();
        assert!(!status.success(), "{trace}");
        assert!(trace.contains(&format!("(sent alert {alert})")), "{trace}");
        assert!(!String::from_utf8_lossy(&client.stdout()).contains("never"));
        let theirs_err = client.stderr().replace(' ', "_");
        assert!(theirs_err.contains(alert), "{}", client.stderr());

        // Optional: the same client is served.
        let (mut server, port) = sealwire_serve(&pki, &[ours, "--client-auth", "optional"]);
        let mut client = s_client(&pki, port, &[theirs]);
        client.feed(b"echoed\n".to_vec());
        client.expect_stdout(7);
        client.close_stdin();
        client.wait_exit();
        assert!(server.wait_exit().success(), "{}", server.stderr());
        assert!(
            server.stderr().contains("no client certificate"),
            "{}",
            server.stderr()
        );
    }
}

fn s_server(pki: &Pki, tls13: bool) -> (Proc, u16) {
    let (_, theirs) = version_flags(tls13);
    start_server("openssl s_server", |port| {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-naccept", "1", "-quiet", theirs, "-cert"])
            .arg(&pki.cert)
            .arg("-key")
            .arg(&pki.key)
            .args(["-Verify", "1", "-verify_return_error", "-CAfile"])
            .arg(&pki.ca);
        cmd
    })
}

fn sealwire_connect(pki: &Pki, port: u16, tls13: bool, cert: &Path, key: &Path) -> Proc {
    let (ours, _) = version_flags(tls13);
    let mut cmd = sealwire();
    cmd.arg("connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--ca")
        .arg(&pki.ca)
        .args([
            "--servername",
            "localhost",
            "--trace",
            "--timeout",
            "60",
            ours,
        ])
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key);
    Proc::spawn("sealwire connect", cmd)
}

#[test]
fn sealwire_connect_with_certificate_against_openssl_s_server() {
    if !have_openssl() {
        return;
    }
    for tls13 in [true, false] {
        for kind in [KeyKind::EcP256, KeyKind::Rsa] {
            let pki = make_pki(KeyKind::EcP256, &["localhost"]);
            let (cert, key) = make_client_cert(&pki, kind, "sealwire-client");
            let (mut server, port) = s_server(&pki, tls13);
            let mut client = sealwire_connect(&pki, port, tls13, &cert, &key);
            let to_server = data(8, MIB + 4321);
            let to_client = data(9, 100_001);
            client.feed(to_server.clone());
            client.expect_stderr("handshake complete");
            server.feed(to_client.clone());
            client.expect_stdout(to_client.len());
            assert!(client.stdout() == to_client, "client got different bytes");
            server.expect_stdout(to_server.len());
            assert!(server.stdout() == to_server, "s_server got different bytes");
            client.close_stdin();
            let status = client.wait_exit();
            let trace = client.stderr();
            assert!(status.success(), "{trace}\ns_server: {}", server.stderr());
            server.wait_exit();
            assert!(trace.contains("CertificateVerify"), "{trace}");
            assert!(trace.contains("subject CN=sealwire-client"), "{trace}");
        }
    }
}

#[test]
fn sealwire_connect_with_a_foreign_certificate_is_refused_by_s_server() {
    if !have_openssl() {
        return;
    }
    for tls13 in [true, false] {
        let pki = make_pki(KeyKind::EcP256, &["localhost"]);
        let other = make_pki(KeyKind::EcP256, &["localhost"]);
        let (cert, key) = make_client_cert(&other, KeyKind::EcP256, "stranger");
        let (mut server, port) = s_server(&pki, tls13);
        let mut client = sealwire_connect(&pki, port, tls13, &cert, &key);
        client.feed(b"never delivered\n".to_vec());
        let status = client.wait_exit();
        let trace = client.stderr();
        assert!(!status.success(), "{trace}");
        assert!(trace.contains("peer sent alert unknown_ca"), "{trace}");
        server.close_stdin();
        server.wait_exit();
        assert!(!String::from_utf8_lossy(&server.stdout()).contains("never"));
    }
}
