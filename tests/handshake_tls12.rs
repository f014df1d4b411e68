//! The TLS 1.2 client and server state machines against each other in
//! memory: each side's actions become the other side's inputs, messages can
//! be altered in flight, and both sides must derive the same record keys.

mod common;

use common::handshake::{expect_client, expect_server, run, untouched as none, Failed, Peer};
use common::pki::{have_openssl, make_pki, KeyKind};
use sealwire::handshake::kx::group;
use sealwire::handshake::messages::{ext, hs_type, suite, HandshakeMessage, ServerHello};
use sealwire::handshake::tls13::{client, server};
use sealwire::handshake::verify::{RootStore, ServerVerification};
use sealwire::handshake::{
    Action, Alert, ClientConfig, Context, Error, Input, KeyLog, KeyLogSink, ProtocolVersion,
    ServerConfig, Trace, Versions,
};
use sealwire::wire::{CipherSuite, NamedGroup};
use std::sync::{Arc, Mutex};

fn configs(kind: KeyKind) -> (ClientConfig, ServerConfig, common::pki::Pki) {
    common::handshake::configs(kind, Versions::TLS12_ONLY)
}

fn check_agreed(cl: &Peer, sv: &Peer, key_len: usize) {
    assert_eq!(cl.write_keys.len(), 1);
    assert_eq!(sv.write_keys.len(), 1);
    assert_eq!(cl.write_keys, sv.read_keys, "client -> server keys");
    assert_eq!(sv.write_keys, cl.read_keys, "server -> client keys");
    assert_ne!(cl.write_keys, cl.read_keys, "directions use different keys");
    assert_eq!(cl.write_keys[0].len(), key_len + 4);
    assert_eq!(cl.write_versions, [ProtocolVersion::Tls12]);
    assert_eq!(sv.write_versions, [ProtocolVersion::Tls12]);
    // Both sides pin the record version once the ServerHello is out.
    assert_eq!(cl.required_versions, [0x0303]);
    assert_eq!(sv.required_versions, [0x0303]);
    assert!(cl.is_connected());
    assert!(sv.is_connected());
    let (ce, se) = (
        cl.established.as_ref().unwrap(),
        sv.established.as_ref().unwrap(),
    );
    assert_eq!(ce.version, ProtocolVersion::Tls12);
    assert_eq!((ce.suite, ce.group), (se.suite, se.group));
    assert!(!ce.peer_chain.is_empty());
}

/// Rewrites a ServerHello's extensions.
fn edit_server_hello(m: &mut HandshakeMessage, f: impl FnOnce(&mut ServerHello)) {
    if m.typ == hs_type::SERVER_HELLO {
        let mut sh = ServerHello::parse(m.body()).unwrap();
        f(&mut sh);
        *m = sh.encode();
    }
}

#[test]
fn every_suite_group_and_key_type() {
    if !have_openssl() {
        return;
    }
    let cases = [
        (
            KeyKind::EcP256,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            16,
        ),
        (
            KeyKind::EcP256,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            32,
        ),
        (
            KeyKind::Rsa,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            16,
        ),
        (
            KeyKind::Rsa,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            32,
        ),
        (
            KeyKind::Ed25519,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            16,
        ),
    ];
    let mut pkis = std::collections::HashMap::new();
    for (kind, s, key_len) in cases {
        let (c0, s0) = {
            let e = pkis
                .entry(format!("{kind:?}"))
                .or_insert_with(|| configs(kind));
            (e.0.clone(), e.1.clone())
        };
        for g in [NamedGroup::X25519, NamedGroup::Secp256r1] {
            let (mut c, mut sc) = (c0.clone(), s0.clone());
            c.suites12 = vec![s];
            sc.groups = vec![g];
            let (cl, sv) = run(c, sc, "localhost", &mut none(), &mut none()).unwrap();
            check_agreed(&cl, &sv, key_len);
            let e = cl.established.as_ref().unwrap();
            assert_eq!((e.suite, e.group), (s, g), "{kind:?}");
            assert_eq!(
                sv.sent_types,
                [
                    hs_type::SERVER_HELLO,
                    hs_type::CERTIFICATE,
                    hs_type::SERVER_KEY_EXCHANGE,
                    hs_type::SERVER_HELLO_DONE,
                    hs_type::FINISHED
                ]
            );
            assert_eq!(
                cl.sent_types,
                [
                    hs_type::CLIENT_HELLO,
                    hs_type::CLIENT_KEY_EXCHANGE,
                    hs_type::FINISHED
                ]
            );
        }
    }
}

#[test]
fn rsa_pkcs1_and_pss_signatures() {
    if !have_openssl() {
        return;
    }
    use sealwire::handshake::verify::scheme;
    let (c0, s0, _pki) = configs(KeyKind::Rsa);
    for sch in [scheme::RSA_PKCS1_SHA256, scheme::RSA_PSS_RSAE_SHA256] {
        // Offer only this scheme by rewriting the ClientHello's list.
        let mut only = |m: &mut HandshakeMessage| {
            if m.typ == hs_type::CLIENT_HELLO {
                let mut ch = sealwire::handshake::messages::ClientHello::parse(m.body()).unwrap();
                for e in ch.extensions.iter_mut() {
                    if e.typ == ext::SIGNATURE_ALGORITHMS {
                        *e = sealwire::handshake::messages::build::u16_list(
                            ext::SIGNATURE_ALGORITHMS,
                            &[sch],
                        );
                    }
                }
                *m = ch.encode();
            }
        };
        // The client checks the scheme against its own ClientHello, which
        // still lists both; the server must pick the only one it was told.
        let mut seen = None;
        let mut spy = |m: &mut HandshakeMessage| {
            if m.typ == hs_type::SERVER_KEY_EXCHANGE {
                let ske = sealwire::handshake::tls12::messages::ServerKeyExchange::parse(m.body())
                    .unwrap();
                seen = Some(ske.signed.scheme);
            }
        };
        // The altered ClientHello changes the server's transcript, so the
        // Finished check must fail, on the server first.
        let r = run(c0.clone(), s0.clone(), "localhost", &mut spy, &mut only);
        let e = expect_server(r, Alert::DecryptError);
        assert!(matches!(e, Error::BadFinished), "{e}");
        assert_eq!(seen, Some(sch));
    }
}

#[test]
fn downgrade_sentinel_only_from_tls13_capable_server() {
    if !have_openssl() {
        return;
    }
    let (c, mut s, _pki) = configs(KeyKind::EcP256);
    for tls13 in [false, true] {
        s.versions = if tls13 {
            Versions::BOTH
        } else {
            Versions::TLS12_ONLY
        };
        let mut random = None;
        let mut spy = |m: &mut HandshakeMessage| {
            if m.typ == hs_type::SERVER_HELLO {
                random = Some(ServerHello::parse(m.body()).unwrap().random);
            }
        };
        // A TLS 1.2-only client ignores the sentinel (RFC 8446 4.1.3).
        let (cl, sv) = run(c.clone(), s.clone(), "localhost", &mut spy, &mut none()).unwrap();
        check_agreed(&cl, &sv, 16);
        assert_eq!(random.unwrap()[24..] == *b"DOWNGRD\x01", tls13);
    }
    // A TLS 1.3-capable client talking to a TLS 1.2-only server: fine.
    let mut c2 = c.clone();
    c2.versions = Versions::BOTH;
    s.versions = Versions::TLS12_ONLY;
    let (cl, sv) = run(c2.clone(), s.clone(), "localhost", &mut none(), &mut none()).unwrap();
    check_agreed(&cl, &sv, 16);
    // ... but one whose ServerHello carries the sentinel is a downgrade.
    let mut mark = |m: &mut HandshakeMessage| {
        edit_server_hello(m, |sh| sh.random[24..].copy_from_slice(b"DOWNGRD\x01"))
    };
    let e = expect_client(
        run(c2, s, "localhost", &mut mark, &mut none()),
        Alert::IllegalParameter,
    );
    assert!(matches!(e, Error::Downgrade), "{e}");
}

#[test]
fn extended_master_secret_is_required_both_ways() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::EcP256);
    let mut strip_sh = |m: &mut HandshakeMessage| {
        edit_server_hello(m, |sh| {
            sh.extensions
                .retain(|e| e.typ != ext::EXTENDED_MASTER_SECRET)
        })
    };
    let e = expect_client(
        run(
            c.clone(),
            s.clone(),
            "localhost",
            &mut strip_sh,
            &mut none(),
        ),
        Alert::HandshakeFailure,
    );
    assert!(e.to_string().contains("extended master secret"), "{e}");
    let mut strip_ch = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::CLIENT_HELLO {
            let mut ch = sealwire::handshake::messages::ClientHello::parse(m.body()).unwrap();
            ch.extensions
                .retain(|e| e.typ != ext::EXTENDED_MASTER_SECRET);
            *m = ch.encode();
        }
    };
    let e = expect_server(
        run(c, s, "localhost", &mut none(), &mut strip_ch),
        Alert::HandshakeFailure,
    );
    assert!(e.to_string().contains("extended master secret"), "{e}");
}

#[test]
fn tampered_signature_and_finished() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::EcP256);
    let flip_last = |typ: u8| {
        move |m: &mut HandshakeMessage| {
            if m.typ == typ {
                let n = m.raw.len();
                m.raw[n - 1] ^= 0x80;
            }
        }
    };
    let e = expect_client(
        run(
            c.clone(),
            s.clone(),
            "localhost",
            &mut flip_last(hs_type::SERVER_KEY_EXCHANGE),
            &mut none(),
        ),
        Alert::DecryptError,
    );
    assert!(matches!(e, Error::BadSignature), "{e}");
    let e = expect_client(
        run(
            c.clone(),
            s.clone(),
            "localhost",
            &mut flip_last(hs_type::FINISHED),
            &mut none(),
        ),
        Alert::DecryptError,
    );
    assert!(matches!(e, Error::BadFinished), "{e}");
    let e = expect_server(
        run(
            c,
            s,
            "localhost",
            &mut none(),
            &mut flip_last(hs_type::FINISHED),
        ),
        Alert::DecryptError,
    );
    assert!(matches!(e, Error::BadFinished), "{e}");
}

#[test]
fn unoffered_curve_or_scheme_and_bad_points() {
    if !have_openssl() {
        return;
    }
    let (mut c, s, _pki) = configs(KeyKind::EcP256);
    c.groups = vec![NamedGroup::X25519];
    // Say secp256r1 in ServerKeyExchange: not offered.
    let mut curve = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::SERVER_KEY_EXCHANGE {
            m.raw[5..7].copy_from_slice(&group::SECP256R1.to_be_bytes());
        }
    };
    expect_client(
        run(c.clone(), s.clone(), "localhost", &mut curve, &mut none()),
        Alert::IllegalParameter,
    );
    // An RSA scheme on an ECDSA suite.
    let mut sch = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::SERVER_KEY_EXCHANGE {
            // header(4) + curve_type(1) + group(2) + len(1) + 32-byte X25519 point
            m.raw[40..42].copy_from_slice(&0x0804u16.to_be_bytes());
        }
    };
    expect_client(
        run(c.clone(), s.clone(), "localhost", &mut sch, &mut none()),
        Alert::IllegalParameter,
    );
    // An all-zero X25519 point from the client (RFC 7748 6.1).
    let mut zero = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::CLIENT_KEY_EXCHANGE {
            for b in &mut m.raw[5..] {
                *b = 0;
            }
        }
    };
    expect_server(
        run(c.clone(), s.clone(), "localhost", &mut none(), &mut zero),
        Alert::IllegalParameter,
    );
    // A truncated ClientKeyExchange.
    let mut short = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::CLIENT_KEY_EXCHANGE {
            m.raw[4] += 1;
        }
    };
    expect_server(
        run(c, s, "localhost", &mut none(), &mut short),
        Alert::DecodeError,
    );
}

#[test]
fn out_of_order_messages_are_unexpected() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::EcP256);
    // ServerKeyExchange relabelled ServerHelloDone: skipped a message.
    let mut relabel = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::SERVER_KEY_EXCHANGE {
            *m = HandshakeMessage::new(hs_type::SERVER_HELLO_DONE, &[]);
        }
    };
    let e = expect_client(
        run(c.clone(), s.clone(), "localhost", &mut relabel, &mut none()),
        Alert::UnexpectedMessage,
    );
    assert!(matches!(e, Error::UnexpectedMessage { .. }));
    // A Finished in place of ClientKeyExchange.
    let mut early = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::CLIENT_KEY_EXCHANGE {
            *m = HandshakeMessage::new(hs_type::FINISHED, &[0; 12]);
        }
    };
    expect_server(
        run(c.clone(), s.clone(), "localhost", &mut none(), &mut early),
        Alert::UnexpectedMessage,
    );
    // A ChangeCipherSpec where a handshake message belongs.
    let mut cx = Context::default();
    let st = client::start(c, Some("localhost".into()), &mut cx).unwrap();
    let mut scx = Context::default();
    let sst = server::start(s);
    let ch = match cx.actions.pop() {
        Some(Action::Send(m)) => m,
        other => panic!("{other:?}"),
    };
    let sst = sst.handle(&mut scx, Input::Handshake(ch)).unwrap();
    assert!(matches!(
        sst.handle(&mut scx, Input::ChangeCipherSpec),
        Err(Error::UnexpectedMessage { .. })
    ));
    drop(st);
}

#[test]
fn untrusted_root_and_wrong_name() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::Rsa);
    let e = expect_client(
        run(
            c.clone(),
            s.clone(),
            "wrong.example",
            &mut none(),
            &mut none(),
        ),
        Alert::BadCertificate,
    );
    assert!(matches!(e, Error::Certificate { .. }));
    let other = make_pki(KeyKind::EcP256, &["localhost"]);
    let roots = RootStore::from_pem(&std::fs::read(&other.ca).unwrap()).unwrap();
    let mut c2 = c.clone();
    c2.verification = ServerVerification::Roots(Arc::new(roots));
    expect_client(
        run(c2, s.clone(), "localhost", &mut none(), &mut none()),
        Alert::UnknownCa,
    );
    let mut c3 = c;
    c3.verification = ServerVerification::DangerousNoVerificationInsecure;
    let (cl, sv) = run(c3, s, "wrong.example", &mut none(), &mut none()).unwrap();
    check_agreed(&cl, &sv, 16);
}

#[test]
fn certificate_request_gets_an_empty_certificate() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::EcP256);
    // Replace ServerHelloDone by a CertificateRequest on its way to the
    // client, which then waits for ServerHelloDone with no keys yet.
    let cr_body = [1u8, 64, 0, 2, 4, 3, 0, 0];
    let mut cr = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::SERVER_HELLO_DONE {
            *m = HandshakeMessage::new(hs_type::CERTIFICATE_REQUEST, &cr_body);
        }
    };
    let (mut cl, mut sv) = run(c, s, "localhost", &mut cr, &mut none()).unwrap();
    assert!(!cl.state.as_ref().unwrap().is_connected());
    assert!(cl.write_keys.is_empty(), "no keys before ServerHelloDone");
    // Now the ServerHelloDone: the client answers with an empty Certificate
    // (RFC 5246 7.4.6) before its ClientKeyExchange.
    let done = HandshakeMessage::new(hs_type::SERVER_HELLO_DONE, &[]);
    cl.feed(Input::Handshake(done), &mut none()).unwrap();
    let wire = cl.outbox();
    assert_eq!(
        cl.sent_types,
        [
            hs_type::CLIENT_HELLO,
            hs_type::CERTIFICATE,
            hs_type::CLIENT_KEY_EXCHANGE,
            hs_type::FINISHED
        ]
    );
    match &wire[0] {
        Input::Handshake(m) => assert_eq!(m.raw, [hs_type::CERTIFICATE, 0, 0, 3, 0, 0, 0]),
        Input::ChangeCipherSpec => panic!("CCS first"),
    }
    // Our server never asked for a certificate: unexpected_message.
    let first = wire.into_iter().next().unwrap();
    let e = sv.feed(first, &mut none()).unwrap_err();
    assert_eq!(e.alert(), Some(Alert::UnexpectedMessage), "{e}");
    // A second CertificateRequest is unexpected as well.
    let (c, s, _pki2) = configs(KeyKind::EcP256);
    let (cl, _) = run(c, s, "localhost", &mut cr, &mut none()).unwrap();
    let again = HandshakeMessage::new(hs_type::CERTIFICATE_REQUEST, &cr_body);
    assert!(matches!(
        cl.state
            .unwrap()
            .handle(&mut Context::default(), Input::Handshake(again)),
        Err(Error::UnexpectedMessage { .. })
    ));
}

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl KeyLog for Lines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.0.lock().unwrap().push(format!(
            "{label} {} {}",
            hex::encode(client_random),
            hex::encode(secret)
        ));
    }
}

#[test]
fn trace_shows_steps_and_labels_keylog_has_the_master_secret() {
    if !have_openssl() {
        return;
    }
    let (mut c, mut s, _pki) = configs(KeyKind::EcP256);
    let trace = Arc::new(Mutex::new(Vec::<String>::new()));
    let t2 = trace.clone();
    c.trace = Trace::to(move |l| t2.lock().unwrap().push(format!("client: {l}")));
    let t3 = trace.clone();
    s.trace = Trace::to(move |l| t3.lock().unwrap().push(format!("server: {l}")));
    let (ck, sk) = (Arc::new(Lines::default()), Arc::new(Lines::default()));
    c.keylog = KeyLogSink(Some(ck.clone()));
    s.keylog = KeyLogSink(Some(sk.clone()));
    let (cl, sv) = run(c, s, "localhost", &mut none(), &mut none()).unwrap();
    check_agreed(&cl, &sv, 16);
    let ck = ck.0.lock().unwrap().clone();
    assert_eq!(ck, *sk.0.lock().unwrap());
    assert_eq!(ck.len(), 1);
    let parts: Vec<&str> = ck[0].split(' ').collect();
    assert_eq!(parts[0], "CLIENT_RANDOM");
    assert_eq!((parts[1].len(), parts[2].len()), (64, 96));
    let text = trace.lock().unwrap().join("\n");
    for needle in [
        "client: ClientHello: client_random=",
        "client: ServerHello (TLS 1.2): server_random=",
        "chosen suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "group x25519",
        "verified for localhost",
        "extended master secret",
        "key_block",
        "server: client Finished verified",
        "client: server Finished verified",
    ] {
        assert!(text.contains(needle), "trace lacks {needle:?}:\n{text}");
    }
    // Labels only: the master secret never appears in the trace.
    assert!(!text.contains(parts[2]), "master secret in the trace");
}

/// sealwire client and server over real sockets through
/// [`sealwire::conn::Connection`]: the TLS 1.2 record layer carries 1 MiB
/// each way (an echo), then close_notify both ways.
#[test]
fn connection_over_tcp_echoes_a_mebibyte() {
    if !have_openssl() {
        return;
    }
    use sealwire::conn::Connection;
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;
    for (kind, s) in [
        (
            KeyKind::EcP256,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ),
        (
            KeyKind::Rsa,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ),
    ] {
        let (mut c, sc, _pki) = configs(kind);
        c.suites12 = vec![s];
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || -> Result<u64, Error> {
            let (sock, _) = listener.accept()?;
            sock.set_read_timeout(Some(Duration::from_secs(60)))?;
            let mut conn = Connection::server(sock, sc)?;
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0u64;
            loop {
                let n = conn.read(&mut buf)?;
                if n == 0 {
                    conn.close()?;
                    return Ok(total);
                }
                conn.write_all(&buf[..n])?;
                total += n as u64;
            }
        });
        let sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut conn = Connection::client(sock, c, Some("localhost")).unwrap();
        let e = conn.established().unwrap();
        assert_eq!((e.version, e.suite), (ProtocolVersion::Tls12, s));
        let msg: Vec<u8> = (0..(1usize << 20) + 1001)
            .map(|i| (i * 7 + i / 251) as u8)
            .collect();
        let mut back = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        // Write in 64 KiB steps and read the echo as we go, so neither side
        // blocks on a full socket buffer.
        let mut written = 0;
        for chunk in msg.chunks(1 << 16) {
            conn.write_all(chunk).unwrap();
            written += chunk.len();
            while back.len() < written {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "early close");
                back.extend_from_slice(&buf[..n]);
            }
        }
        assert!(back == msg, "echo differs");
        conn.close().unwrap();
        assert_eq!(
            conn.read(&mut buf).unwrap(),
            0,
            "close_notify from the server"
        );
        assert!(conn.peer_closed());
        assert_eq!(server.join().unwrap().unwrap(), msg.len() as u64);
    }
}

#[test]
fn fallback_scsv_refused_only_by_a_tls13_server() {
    if !have_openssl() {
        return;
    }
    let (c, mut s, _pki) = configs(KeyKind::EcP256);
    let mut fallback = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::CLIENT_HELLO {
            let mut ch = sealwire::handshake::messages::ClientHello::parse(m.body()).unwrap();
            ch.cipher_suites.push(suite::FALLBACK_SCSV);
            *m = ch.encode();
        }
    };
    // A TLS 1.2-only server has nothing better to offer: it carries on (the
    // altered ClientHello then fails the Finished check, which proves the
    // handshake went that far).
    let e = expect_server(
        run(
            c.clone(),
            s.clone(),
            "localhost",
            &mut none(),
            &mut fallback,
        ),
        Alert::DecryptError,
    );
    assert!(matches!(e, Error::BadFinished), "{e}");
    s.versions = Versions::BOTH;
    let e = expect_server(
        run(c, s, "localhost", &mut none(), &mut fallback),
        Alert::InappropriateFallback,
    );
    assert!(matches!(e, Error::InappropriateFallback), "{e}");
}

/// Any change to any handshake message, in either direction, ends the
/// handshake with an error (the transcript, signature or Finished catches
/// it) and never panics: byte flips at random places and truncations.
#[test]
fn every_altered_message_fails_the_handshake() {
    if !have_openssl() {
        return;
    }
    use rand::{Rng, SeedableRng};
    let (c, s, _pki) = configs(KeyKind::EcP256);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let client_msgs = [
        hs_type::CLIENT_HELLO,
        hs_type::CLIENT_KEY_EXCHANGE,
        hs_type::FINISHED,
    ];
    let server_msgs = [
        hs_type::SERVER_HELLO,
        hs_type::CERTIFICATE,
        hs_type::SERVER_KEY_EXCHANGE,
        hs_type::SERVER_HELLO_DONE,
        hs_type::FINISHED,
    ];
    let mut cases = 0;
    for (to_server, list) in [(true, &client_msgs[..]), (false, &server_msgs[..])] {
        for &typ in list {
            for round in 0..12 {
                let seed: u64 = rng.gen();
                let mut hit = false;
                let mut alter = |m: &mut HandshakeMessage| {
                    if m.typ != typ || hit {
                        return;
                    }
                    hit = true;
                    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                    if round % 3 == 2 && m.raw.len() > 4 {
                        // Truncate the body, keeping the header consistent.
                        let keep = r.gen_range(0..m.raw.len() - 4);
                        *m = HandshakeMessage::new(typ, &m.body()[..keep]);
                    } else if m.raw.len() > 4 {
                        let at = r.gen_range(4..m.raw.len());
                        m.raw[at] ^= 1 << r.gen_range(0..8);
                    } else {
                        // An empty body (ServerHelloDone): add a byte.
                        *m = HandshakeMessage::new(typ, &[0]);
                    }
                };
                let r = if to_server {
                    run(c.clone(), s.clone(), "localhost", &mut none(), &mut alter)
                } else {
                    run(c.clone(), s.clone(), "localhost", &mut alter, &mut none())
                };
                assert!(hit, "message {typ} never sent");
                match r {
                    Err(Failed::Client(e)) | Err(Failed::Server(e)) => {
                        assert!(e.alert().is_some(), "{e}");
                    }
                    Ok((cl, sv)) => {
                        // Only a change that stalls the handshake may get
                        // here; neither side may be connected with keys the
                        // other lacks.
                        let both = cl.state.as_ref().unwrap().is_connected()
                            && sv.state.as_ref().unwrap().is_connected();
                        assert!(!both, "altered {typ} (round {round}) went unnoticed");
                    }
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 8 * 12);
}
