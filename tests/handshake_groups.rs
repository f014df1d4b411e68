//! Every key exchange group (X25519MLKEM768, x25519, secp256r1,
//! secp384r1) and every server key type (ECDSA P-256 and P-384, Ed25519,
//! RSA with PSS), in TLS 1.3 and (where the group applies) TLS 1.2:
//! sealwire against itself and against rustls (aws-lc-rs provider) both
//! ways, over in-process Unix socket pairs; the hybrid's HelloRetryRequest
//! path both ways; the key loading and key/certificate match checks.

mod common;

use common::{key_pki, pki};

use key_pki::Key;
use rustls::crypto::aws_lc_rs::kx_group;
use sealwire::conn::Connection;
use sealwire::handshake::verify::{KeyType, RootStore, ServerVerification, SigningKey};
use sealwire::handshake::{
    Alert, ClientConfig, Error, Established, ProtocolVersion, ServerConfig, Trace, Versions,
};
use sealwire::wire::{NamedGroup, SignatureScheme};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TLS13_GROUPS: [NamedGroup; 4] = [
    NamedGroup::X25519Mlkem768,
    NamedGroup::X25519,
    NamedGroup::Secp256r1,
    NamedGroup::Secp384r1,
];
const TLS12_GROUPS: [NamedGroup; 3] = [
    NamedGroup::X25519,
    NamedGroup::Secp256r1,
    NamedGroup::Secp384r1,
];
const KEYS: [Key; 4] = [Key::P256, Key::P384, Key::Ed25519, Key::Rsa(2048)];

fn pair() -> (UnixStream, UnixStream) {
    common::socket_pair()
}

fn read_pem(p: &std::path::Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

/// The scheme each key type signs with (RSA: PSS, best first).
fn expected_scheme(k: Key) -> SignatureScheme {
    match k {
        Key::P256 => SignatureScheme::EcdsaSecp256r1Sha256,
        Key::P384 => SignatureScheme::EcdsaSecp384r1Sha384,
        Key::Ed25519 => SignatureScheme::Ed25519,
        _ => SignatureScheme::RsaPssRsaeSha256,
    }
}

fn versions(tls13: bool) -> Versions {
    if tls13 {
        Versions::TLS13_ONLY
    } else {
        Versions::TLS12_ONLY
    }
}

fn client_config(pki: &key_pki::KeyPki, tls13: bool, groups: &[NamedGroup]) -> ClientConfig {
    let roots = RootStore::from_pem(&read_pem(&pki.ca)).unwrap();
    let mut c = ClientConfig::new(ServerVerification::Roots(Arc::new(roots)));
    c.versions = versions(tls13);
    c.groups = groups.to_vec();
    c.key_share_groups = vec![groups[0]];
    c
}

fn server_config(pki: &key_pki::KeyPki, tls13: bool) -> ServerConfig {
    let mut s = ServerConfig::from_pem(&read_pem(&pki.cert), &read_pem(&pki.key)).unwrap();
    s.versions = versions(tls13);
    s
}

/// Collects trace lines.
fn trace_to(lines: &Arc<Mutex<Vec<String>>>) -> Trace {
    let l = Arc::clone(lines);
    Trace::to(move |s| l.lock().unwrap().push(s.to_string()))
}

/// The sealwire client against the sealwire server; both report what they
/// agreed after one message each way.
fn sealwire_pair(c: ClientConfig, s: ServerConfig) -> (Established, Established) {
    let (a, b) = pair();
    let server = std::thread::spawn(move || -> Result<Established, Error> {
        let mut conn = Connection::server(b, s)?;
        let mut buf = [0u8; 64];
        let n = conn.read(&mut buf)?;
        assert_eq!(&buf[..n], b"ping");
        conn.write_all(b"pong")?;
        conn.close()?;
        Ok(conn.established().unwrap().clone())
    });
    let mut conn = Connection::client(a, c, Some("localhost")).expect("client handshake");
    conn.write_all(b"ping").unwrap();
    let mut buf = [0u8; 64];
    let n = conn.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"pong");
    let ce = conn.established().unwrap().clone();
    let se = server.join().unwrap().expect("server handshake");
    (ce, se)
}

#[test]
fn every_group_and_key_type_against_ourselves() {
    for key in KEYS {
        let pki = key_pki::make(Key::P256, key);
        for tls13 in [true, false] {
            let groups: &[NamedGroup] = if tls13 { &TLS13_GROUPS } else { &TLS12_GROUPS };
            for &g in groups {
                let (ce, se) =
                    sealwire_pair(client_config(&pki, tls13, &[g]), server_config(&pki, tls13));
                let what = format!("{key:?} {} tls13={tls13}", g);
                for e in [&ce, &se] {
                    assert_eq!(e.group, g, "{what}");
                    assert_eq!(e.signature_scheme, Some(expected_scheme(key)), "{what}");
                    assert_eq!(
                        e.version,
                        if tls13 {
                            ProtocolVersion::Tls13
                        } else {
                            ProtocolVersion::Tls12
                        },
                        "{what}"
                    );
                }
            }
        }
    }
}

#[test]
fn default_configs_agree_on_the_hybrid_and_tls12_falls_back_to_x25519() {
    let pki = key_pki::make(Key::P256, Key::P256);
    let roots = Arc::new(RootStore::from_pem(&read_pem(&pki.ca)).unwrap());
    let c = ClientConfig::new(ServerVerification::Roots(Arc::clone(&roots)));
    assert_eq!(c.groups[0], NamedGroup::X25519Mlkem768);
    let s = ServerConfig::from_pem(&read_pem(&pki.cert), &read_pem(&pki.key)).unwrap();
    assert_eq!(s.groups[0], NamedGroup::X25519Mlkem768);
    let (ce, se) = sealwire_pair(c.clone(), s.clone());
    assert_eq!(
        (ce.group, se.group),
        (NamedGroup::X25519Mlkem768, NamedGroup::X25519Mlkem768)
    );
    // TLS 1.2 never negotiates the hybrid, though it is offered first.
    let mut s12 = s;
    s12.versions = Versions::TLS12_ONLY;
    let (ce, se) = sealwire_pair(c, s12);
    assert_eq!(ce.version, ProtocolVersion::Tls12);
    assert_eq!(
        (ce.group, se.group),
        (NamedGroup::X25519, NamedGroup::X25519)
    );
}

#[test]
fn hybrid_hello_retry_request_between_sealwire_peers() {
    let pki = key_pki::make(Key::P256, Key::P256);
    // The client shares x25519 only; the server accepts the hybrid only.
    let mut c = client_config(
        &pki,
        true,
        &[NamedGroup::X25519, NamedGroup::X25519Mlkem768],
    );
    let lines = Arc::new(Mutex::new(Vec::new()));
    c.trace = trace_to(&lines);
    let mut s = server_config(&pki, true);
    s.groups = vec![NamedGroup::X25519Mlkem768];
    let (ce, se) = sealwire_pair(c, s);
    assert_eq!(
        (ce.group, se.group),
        (NamedGroup::X25519Mlkem768, NamedGroup::X25519Mlkem768)
    );
    let t = lines.lock().unwrap().join("\n");
    assert!(t.contains("HelloRetryRequest: suite"), "{t}");
    assert!(
        t.contains("ClientHello (retry): key share X25519MLKEM768"),
        "{t}"
    );
    assert!(t.contains("negotiated: TLS 1.3"), "{t}");
    assert!(
        t.contains("group X25519MLKEM768, signature ecdsa_secp256r1_sha256"),
        "{t}"
    );
}

// ---------------------------------------------------------------------
// rustls, both ways
// ---------------------------------------------------------------------

fn rustls_group(g: NamedGroup) -> &'static dyn rustls::crypto::SupportedKxGroup {
    match g {
        NamedGroup::X25519Mlkem768 => kx_group::X25519MLKEM768,
        NamedGroup::X25519 => kx_group::X25519,
        NamedGroup::Secp256r1 => kx_group::SECP256R1,
        NamedGroup::Secp384r1 => kx_group::SECP384R1,
        _ => unreachable!("not a group of ours"),
    }
}

fn rustls_provider(groups: &[NamedGroup]) -> Arc<rustls::crypto::CryptoProvider> {
    let mut p = rustls::crypto::aws_lc_rs::default_provider();
    p.kx_groups = groups.iter().map(|g| rustls_group(*g)).collect();
    Arc::new(p)
}

fn rustls_version(tls13: bool) -> &'static rustls::SupportedProtocolVersion {
    if tls13 {
        &rustls::version::TLS13
    } else {
        &rustls::version::TLS12
    }
}

fn rustls_client(
    pki: &key_pki::KeyPki,
    tls13: bool,
    groups: &[NamedGroup],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in sealwire::handshake::verify::certs_from_pem(&read_pem(&pki.ca)).unwrap() {
        roots.add(c).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(rustls_provider(groups))
            .with_protocol_versions(&[rustls_version(tls13)])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn rustls_server(
    pki: &key_pki::KeyPki,
    tls13: bool,
    groups: &[NamedGroup],
) -> Arc<rustls::ServerConfig> {
    let chain = sealwire::handshake::verify::certs_from_pem(&read_pem(&pki.cert)).unwrap();
    let key = rustls_pemfile::private_key(&mut &read_pem(&pki.key)[..])
        .unwrap()
        .unwrap();
    let mut cfg = rustls::ServerConfig::builder_with_provider(rustls_provider(groups))
        .with_protocol_versions(&[rustls_version(tls13)])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    cfg.send_tls13_tickets = 0;
    Arc::new(cfg)
}

/// The rustls client: handshake, `ping` → `pong`; returns the group
/// rustls negotiated.
fn rustls_client_run(
    cfg: Arc<rustls::ClientConfig>,
    sock: UnixStream,
) -> Result<NamedGroup, String> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(cfg, name).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(b"ping").map_err(|e| e.to_string())?;
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).map_err(|e| e.to_string())?;
    assert_eq!(&buf, b"pong");
    let g = tls
        .conn
        .negotiated_key_exchange_group()
        .ok_or("no group")?
        .name();
    Ok(NamedGroup::from(u16::from(g)))
}

/// The rustls server: handshake, `ping` → `pong`, close_notify; returns
/// the group rustls negotiated.
fn rustls_server_run(
    cfg: Arc<rustls::ServerConfig>,
    sock: UnixStream,
) -> Result<NamedGroup, String> {
    let conn = rustls::ServerConnection::new(cfg).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).map_err(|e| e.to_string())?;
    assert_eq!(&buf, b"ping");
    tls.write_all(b"pong").map_err(|e| e.to_string())?;
    tls.flush().map_err(|e| e.to_string())?;
    let g = tls
        .conn
        .negotiated_key_exchange_group()
        .ok_or("no group")?
        .name();
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(NamedGroup::from(u16::from(g)))
}

/// sealwire client, rustls server: (what sealwire agreed, rustls's group).
fn sealwire_to_rustls(c: ClientConfig, s: Arc<rustls::ServerConfig>) -> (Established, NamedGroup) {
    let (a, b) = pair();
    let server = std::thread::spawn(move || rustls_server_run(s, b));
    let mut conn = Connection::client(a, c, Some("localhost")).expect("sealwire client");
    conn.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = conn.read(&mut buf[got..]).unwrap();
        assert!(n > 0, "rustls closed early");
        got += n;
    }
    assert_eq!(&buf, b"pong");
    let e = conn.established().unwrap().clone();
    let g = server.join().unwrap().expect("rustls server");
    (e, g)
}

/// rustls client, sealwire server: (what sealwire agreed, rustls's group).
fn rustls_to_sealwire(c: Arc<rustls::ClientConfig>, s: ServerConfig) -> (Established, NamedGroup) {
    let (a, b) = pair();
    let server = std::thread::spawn(move || -> Result<Established, Error> {
        let mut conn = Connection::server(b, s)?;
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            let n = conn.read(&mut buf[got..])?;
            assert!(n > 0, "rustls closed early");
            got += n;
        }
        assert_eq!(&buf, b"ping");
        conn.write_all(b"pong")?;
        Ok(conn.established().unwrap().clone())
    });
    let g = rustls_client_run(c, a).expect("rustls client");
    let e = server.join().unwrap().expect("sealwire server");
    (e, g)
}

#[test]
fn every_group_and_key_type_against_rustls_both_ways() {
    for key in KEYS {
        let pki = key_pki::make(Key::P256, key);
        for tls13 in [true, false] {
            let groups: &[NamedGroup] = if tls13 { &TLS13_GROUPS } else { &TLS12_GROUPS };
            for &g in groups {
                let what = format!("{key:?} {} tls13={tls13}", g);
                let (e, rg) = sealwire_to_rustls(
                    client_config(&pki, tls13, &[g]),
                    rustls_server(&pki, tls13, &[g]),
                );
                assert_eq!((e.group, rg), (g, g), "sealwire client: {what}");
                // The rustls server picks the RSA-PSS hash it prefers.
                if matches!(key, Key::Rsa(_)) {
                    assert!(
                        [
                            SignatureScheme::RsaPssRsaeSha256,
                            SignatureScheme::RsaPssRsaeSha384,
                            SignatureScheme::RsaPssRsaeSha512
                        ]
                        .contains(&e.signature_scheme.unwrap()),
                        "{what}: {}",
                        e.signature_scheme.unwrap()
                    );
                } else {
                    assert_eq!(e.signature_scheme, Some(expected_scheme(key)), "{what}");
                }
                let (e, rg) = rustls_to_sealwire(
                    rustls_client(&pki, tls13, &[g]),
                    server_config(&pki, tls13),
                );
                assert_eq!((e.group, rg), (g, g), "sealwire server: {what}");
                assert_eq!(e.signature_scheme, Some(expected_scheme(key)), "{what}");
            }
        }
    }
}

#[test]
fn hybrid_with_rustls_defaults_both_ways() {
    let pki = key_pki::make(Key::P256, Key::P256);
    // rustls's default provider prefers X25519MLKEM768 and sends shares for
    // it and x25519; ours do the same.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    assert_eq!(
        NamedGroup::from(u16::from(provider.kx_groups[0].name())),
        NamedGroup::X25519Mlkem768,
        "rustls's default group preference"
    );
    let mut roots = rustls::RootCertStore::empty();
    for c in sealwire::handshake::verify::certs_from_pem(&read_pem(&pki.ca)).unwrap() {
        roots.add(c).unwrap();
    }
    let rc = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let s = ServerConfig::from_pem(&read_pem(&pki.cert), &read_pem(&pki.key)).unwrap();
    let (e, g) = rustls_to_sealwire(rc, s);
    assert_eq!(
        (e.group, g),
        (NamedGroup::X25519Mlkem768, NamedGroup::X25519Mlkem768)
    );
    assert_eq!(e.version, ProtocolVersion::Tls13);

    let roots = RootStore::from_pem(&read_pem(&pki.ca)).unwrap();
    let c = ClientConfig::new(ServerVerification::Roots(Arc::new(roots)));
    let chain = sealwire::handshake::verify::certs_from_pem(&read_pem(&pki.cert)).unwrap();
    let key = rustls_pemfile::private_key(&mut &read_pem(&pki.key)[..])
        .unwrap()
        .unwrap();
    let rs = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let (e, g) = sealwire_to_rustls(c, rs);
    assert_eq!(
        (e.group, g),
        (NamedGroup::X25519Mlkem768, NamedGroup::X25519Mlkem768)
    );
}

#[test]
fn hybrid_hello_retry_request_with_rustls_both_ways() {
    let pki = key_pki::make(Key::P256, Key::P256);
    // rustls client shares x25519 first; our server takes the hybrid only.
    let rc = rustls_client(
        &pki,
        true,
        &[NamedGroup::X25519, NamedGroup::X25519Mlkem768],
    );
    let mut s = server_config(&pki, true);
    s.groups = vec![NamedGroup::X25519Mlkem768];
    let lines = Arc::new(Mutex::new(Vec::new()));
    s.trace = trace_to(&lines);
    let (e, g) = rustls_to_sealwire(rc, s);
    assert_eq!(
        (e.group, g),
        (NamedGroup::X25519Mlkem768, NamedGroup::X25519Mlkem768)
    );
    let t = lines.lock().unwrap().join("\n");
    assert!(
        t.contains("HelloRetryRequest: no usable key share; asking for X25519MLKEM768"),
        "{t}"
    );

    // Our client shares x25519; the rustls server takes the hybrid only.
    let mut c = client_config(
        &pki,
        true,
        &[NamedGroup::X25519, NamedGroup::X25519Mlkem768],
    );
    let lines = Arc::new(Mutex::new(Vec::new()));
    c.trace = trace_to(&lines);
    let (e, g) = sealwire_to_rustls(c, rustls_server(&pki, true, &[NamedGroup::X25519Mlkem768]));
    assert_eq!(
        (e.group, g),
        (NamedGroup::X25519Mlkem768, NamedGroup::X25519Mlkem768)
    );
    let t = lines.lock().unwrap().join("\n");
    assert!(
        t.contains("ClientHello (retry): key share X25519MLKEM768"),
        "{t}"
    );
}

// ---------------------------------------------------------------------
// Keys and certificates
// ---------------------------------------------------------------------

/// Runs `openssl` in `dir` to convert `input` (PKCS#8) to another form.
fn convert(dir: &std::path::Path, args: &[&str]) {
    pki::openssl(dir, args);
}

#[test]
fn every_openssl_key_form_loads_and_matches_its_certificate() {
    let cases: &[(Key, KeyType)] = &[
        (Key::P256, KeyType::EcdsaP256),
        (Key::P384, KeyType::EcdsaP384),
        (Key::Ed25519, KeyType::Ed25519),
        (Key::Rsa(2048), KeyType::Rsa(2048)),
        (Key::Rsa(3072), KeyType::Rsa(3072)),
        (Key::Rsa(4096), KeyType::Rsa(4096)),
    ];
    for &(key, typ) in cases {
        let pki = key_pki::make(Key::P256, key);
        let cert = read_pem(&pki.cert);
        let mut forms = vec![("pkcs8", read_pem(&pki.key))];
        match key {
            Key::P256 | Key::P384 => {
                // `openssl ec` writes the traditional SEC 1 form.
                convert(&pki.dir, &["ec", "-in", "leaf.key", "-out", "trad.key"]);
                forms.push(("sec1", read_pem(&pki.dir.join("trad.key"))));
                // `openssl ecparam -genkey` puts EC PARAMETERS first.
                let curve = if key == Key::P256 {
                    "prime256v1"
                } else {
                    "secp384r1"
                };
                convert(
                    &pki.dir,
                    &["ecparam", "-name", curve, "-genkey", "-out", "ecparam.key"],
                );
                let k = SigningKey::from_pem(&read_pem(&pki.dir.join("ecparam.key"))).unwrap();
                assert_eq!(k.key_type(), typ);
            }
            Key::Rsa(_) => {
                convert(
                    &pki.dir,
                    &["rsa", "-in", "leaf.key", "-traditional", "-out", "trad.key"],
                );
                let trad = read_pem(&pki.dir.join("trad.key"));
                assert!(String::from_utf8_lossy(&trad).contains("BEGIN RSA PRIVATE KEY"));
                forms.push(("pkcs1", trad));
            }
            _ => {}
        }
        for (form, pem) in forms {
            let k = SigningKey::from_pem(&pem).unwrap_or_else(|e| panic!("{key:?} {form}: {e}"));
            assert_eq!(k.key_type(), typ, "{form}");
            assert!(format!("{k:?}").contains("redacted"));
            let s = ServerConfig::from_pem(&cert, &pem)
                .unwrap_or_else(|e| panic!("{key:?} {form}: {e}"));
            assert_eq!(s.key.key_type(), typ);
        }
    }
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused_at_start() {
    let a = key_pki::make(Key::P256, Key::P256);
    let b = key_pki::make(Key::P256, Key::P256);
    let c = key_pki::make(Key::P256, Key::Rsa(2048));
    for (cert, key, what) in [
        (&a.cert, &b.key, "another P-256 key"),
        (&a.cert, &c.key, "an RSA key for a P-256 certificate"),
        (&c.cert, &a.key, "a P-256 key for an RSA certificate"),
    ] {
        match ServerConfig::from_pem(&read_pem(cert), &read_pem(key)) {
            Err(Error::Config(msg)) => assert!(msg.contains("does not match"), "{what}: {msg}"),
            other => panic!("{what}: {:?}", other.map(|_| ())),
        }
    }
    // The command line refuses to start with a clear error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sealwire"))
        .args(["serve", "--port", "0", "--cert"])
        .arg(&a.cert)
        .arg("--key")
        .arg(&b.key)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not match the public key of the certificate"),
        "{err}"
    );
    assert!(!err.contains("listening"), "{err}");
}

#[test]
fn a_certificate_signed_with_an_algorithm_we_do_not_verify_is_refused() {
    // A P-521 CA: its ECDSA-SHA512 signature is not one we verify.
    let pki = key_pki::make(Key::P521, Key::P256);
    for tls13 in [true, false] {
        let c = client_config(&pki, tls13, &[NamedGroup::X25519]);
        let s = server_config(&pki, tls13);
        let (a, b) = pair();
        let server = std::thread::spawn(move || Connection::server(b, s).map(|_| ()));
        let err = Connection::client(a, c, Some("localhost")).unwrap_err();
        assert_eq!(err.alert(), Some(Alert::UnsupportedCertificate), "{err}");
        match server.join().unwrap() {
            Err(Error::PeerAlert(Alert::UnsupportedCertificate)) => {}
            other => panic!("server: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------

/// Kills a child on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn cli_groups_and_trace_name_the_hybrid_and_the_scheme() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let pki = key_pki::make(Key::P256, Key::Rsa(2048));
    let bin = env!("CARGO_BIN_EXE_sealwire");
    let mut server = Child(
        Command::new(bin)
            .args(["serve", "--port", "0", "--max-connections", "1", "--tls1.3"])
            .args(["--groups", "X25519MLKEM768", "--timeout", "30", "--cert"])
            .arg(&pki.cert)
            .arg("--key")
            .arg(&pki.key)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = std::io::BufReader::new(server.0.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let port = line
        .trim()
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    // The client shares x25519 first: the server asks for the hybrid.
    let mut client = Child(
        Command::new(bin)
            .args([
                "connect",
                &format!("127.0.0.1:{port}"),
                "--servername",
                "localhost",
            ])
            .args([
                "--groups",
                "x25519,X25519MLKEM768",
                "--trace",
                "--timeout",
                "30",
            ])
            .arg("--ca")
            .arg(&pki.ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    client
        .0
        .stdin
        .take()
        .unwrap()
        .write_all(b"hybrid\n")
        .unwrap();
    let start = std::time::Instant::now();
    while client.0.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(60), "connect hung");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (mut out, mut trace) = (String::new(), String::new());
    client
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    client
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut trace)
        .unwrap();
    assert_eq!(out, "hybrid\n", "{trace}");
    assert!(trace.contains("HelloRetryRequest: suite"), "{trace}");
    assert!(
        trace.contains(
            "negotiated: TLS 1.3, suite TLS_AES_128_GCM_SHA256, group X25519MLKEM768, \
             signature rsa_pss_rsae_sha256"
        ),
        "{trace}"
    );
    assert!(server.0.wait().unwrap().success());
    // An unknown group name is refused with the list of known ones.
    let out = Command::new(bin)
        .args(["connect", "127.0.0.1:1", "--insecure", "--groups", "x448"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("known: X25519MLKEM768, x25519, P-256, P-384"),
        "{e}"
    );
}
