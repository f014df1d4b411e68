//! TLS 1.3 client and server state machines talking to each other in
//! memory (no record layer): every handshake message of one side is handed
//! to the other, and both sides must derive the same keys.

mod common;

use common::handshake::{run as run_both, untouched, Failed, Peer, Tamper};
use common::pki::{have_openssl, make_pki, KeyKind};
use sealwire::handshake::messages::{hs_type, suite, HandshakeMessage};
use sealwire::handshake::tls13::client;
use sealwire::handshake::verify::{RootStore, ServerVerification};
use sealwire::handshake::{
    ClientConfig, Context, Error, Input, ProtocolVersion, ServerConfig, Versions,
};
use sealwire::wire::{CipherSuite, NamedGroup};
use std::sync::Arc;

/// A handshake with `tamper_to_client` applied to every message the client
/// receives.
fn run(
    ccfg: ClientConfig,
    scfg: ServerConfig,
    name: &str,
    tamper_to_client: Tamper<'_>,
) -> Result<(Peer, Peer), Failed> {
    run_both(ccfg, scfg, name, tamper_to_client, &mut untouched())
}

fn configs(kind: KeyKind) -> (ClientConfig, ServerConfig, common::pki::Pki) {
    common::handshake::configs(kind, Versions::TLS13_ONLY)
}

fn assert_same_keys(cl: &Peer, sv: &Peer) {
    assert!(cl.established.is_some() && sv.established.is_some());
    assert_eq!(cl.write_keys, sv.read_keys, "client->server keys differ");
    assert_eq!(sv.write_keys, cl.read_keys, "server->client keys differ");
    assert_eq!(cl.write_keys.len(), 2);
    assert_eq!(cl.write_versions, [ProtocolVersion::Tls13; 2]);
    // TLS 1.3 ignores legacy_record_version (RFC 8446 5.1): nothing pinned.
    assert!(cl.required_versions.is_empty() && sv.required_versions.is_empty());
    assert!(cl.is_connected());
    assert!(sv.is_connected());
}

#[test]
fn every_key_type_suite_and_group() {
    if !have_openssl() {
        return;
    }
    for kind in [KeyKind::EcP256, KeyKind::Ed25519, KeyKind::Rsa] {
        let (c0, s0, _pki) = configs(kind);
        for s in [
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            CipherSuite::TLS13_AES_256_GCM_SHA384,
        ] {
            for g in [NamedGroup::X25519, NamedGroup::Secp256r1] {
                let (mut c, mut sc) = (c0.clone(), s0.clone());
                c.suites13 = vec![s];
                c.key_share_groups = vec![g];
                sc.groups = vec![g];
                let (cl, sv) = run(c, sc, "localhost", &mut |_| {}).unwrap();
                assert_same_keys(&cl, &sv);
                let e = cl.established.as_ref().unwrap();
                assert_eq!((e.suite, e.group), (s, g), "{kind:?}");
                // No HelloRetryRequest: one ServerHello.
                assert_eq!(
                    sv.sent_types
                        .iter()
                        .filter(|t| **t == hs_type::SERVER_HELLO)
                        .count(),
                    1
                );
            }
        }
    }
}

#[test]
fn hello_retry_request_for_p256_only_server() {
    if !have_openssl() {
        return;
    }
    let (mut c, mut s, _pki) = configs(KeyKind::EcP256);
    c.key_share_groups = vec![NamedGroup::X25519];
    c.groups = vec![NamedGroup::X25519, NamedGroup::Secp256r1];
    s.groups = vec![NamedGroup::Secp256r1];
    let (cl, sv) = run(c, s, "localhost", &mut |_| {}).unwrap();
    assert_same_keys(&cl, &sv);
    assert_eq!(cl.established.unwrap().group, NamedGroup::Secp256r1);
    assert_eq!(
        sv.sent_types
            .iter()
            .filter(|t| **t == hs_type::SERVER_HELLO)
            .count(),
        2
    );
    assert_eq!(
        cl.sent_types
            .iter()
            .filter(|t| **t == hs_type::CLIENT_HELLO)
            .count(),
        2
    );
}

#[test]
fn no_common_group_is_handshake_failure() {
    if !have_openssl() {
        return;
    }
    let (mut c, mut s, _pki) = configs(KeyKind::EcP256);
    c.groups = vec![NamedGroup::X25519];
    c.key_share_groups = vec![NamedGroup::X25519];
    s.groups = vec![NamedGroup::Secp256r1];
    match run(c, s, "localhost", &mut |_| {}) {
        Err(Failed::Server(Error::HandshakeFailure(_))) => {}
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn wrong_name_and_untrusted_root_fail_on_client() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::EcP256);
    match run(c.clone(), s.clone(), "wrong.example", &mut |_| {}) {
        Err(Failed::Client(e @ Error::Certificate { .. })) => {
            assert_eq!(e.alert(), Some(sealwire::handshake::Alert::BadCertificate))
        }
        other => panic!("{:?}", other.err()),
    }
    let other = make_pki(KeyKind::EcP256, &["localhost"]);
    let roots = RootStore::from_pem(&std::fs::read(&other.ca).unwrap()).unwrap();
    let mut c2 = c.clone();
    c2.verification = ServerVerification::Roots(Arc::new(roots));
    match run(c2, s.clone(), "localhost", &mut |_| {}) {
        Err(Failed::Client(e)) => {
            assert_eq!(
                e.alert(),
                Some(sealwire::handshake::Alert::UnknownCa),
                "{e}"
            )
        }
        other => panic!("{:?}", other.err()),
    }
    // --insecure skips the chain but still completes.
    let mut c3 = c;
    c3.verification = ServerVerification::DangerousNoVerificationInsecure;
    let (cl, sv) = run(c3, s, "wrong.example", &mut |_| {}).unwrap();
    assert_same_keys(&cl, &sv);
}

#[test]
fn tampered_signature_and_finished_are_decrypt_errors() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::EcP256);
    for (typ, expect_sig) in [
        (hs_type::CERTIFICATE_VERIFY, true),
        (hs_type::FINISHED, false),
    ] {
        let mut tamper = |m: &mut HandshakeMessage| {
            if m.typ == typ {
                let n = m.raw.len();
                m.raw[n - 1] ^= 0x01;
            }
        };
        match run(c.clone(), s.clone(), "localhost", &mut tamper) {
            Err(Failed::Client(e)) => {
                assert_eq!(
                    e.alert(),
                    Some(sealwire::handshake::Alert::DecryptError),
                    "{e}"
                );
                assert_eq!(matches!(e, Error::BadSignature), expect_sig, "{e}");
            }
            other => panic!("{:?}", other.err()),
        }
    }
}

#[test]
fn out_of_order_and_malformed_messages() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::EcP256);
    // Drop EncryptedExtensions by turning it into a Finished: unexpected.
    let mut tamper = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::ENCRYPTED_EXTENSIONS {
            m.typ = hs_type::FINISHED;
            m.raw[0] = hs_type::FINISHED;
        }
    };
    match run(c.clone(), s.clone(), "localhost", &mut tamper) {
        Err(Failed::Client(e @ Error::UnexpectedMessage { .. })) => {
            assert_eq!(
                e.alert(),
                Some(sealwire::handshake::Alert::UnexpectedMessage)
            )
        }
        other => panic!("{:?}", other.err()),
    }
    // Truncate the Certificate body: decode_error.
    let mut tamper = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::CERTIFICATE {
            let body_len = m.raw.len() - 4 - 10;
            m.raw.truncate(m.raw.len() - 10);
            m.raw[1..4].copy_from_slice(&(body_len as u32).to_be_bytes()[1..]);
        }
    };
    match run(c, s, "localhost", &mut tamper) {
        Err(Failed::Client(e @ Error::Decode(_))) => {
            assert_eq!(e.alert(), Some(sealwire::handshake::Alert::DecodeError))
        }
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn downgrade_sentinel_is_refused() {
    if !have_openssl() {
        return;
    }
    let (mut c, _s, _pki) = configs(KeyKind::EcP256);
    c.versions = Versions::BOTH;
    let mut cx = Context::default();
    let st = client::start(c, Some("localhost".into()), &mut cx).unwrap();
    let mut random = [0x42u8; 32];
    random[24..].copy_from_slice(b"DOWNGRD\x01");
    let sh = sealwire::handshake::messages::ServerHello {
        legacy_version: 0x0303,
        random,
        session_id: vec![],
        cipher_suite: suite::ECDHE_ECDSA_AES_128_GCM_SHA256,
        compression_method: 0,
        extensions: vec![],
    };
    match st.handle(&mut cx, Input::Handshake(sh.encode())) {
        Err(e @ Error::Downgrade) => {
            assert_eq!(
                e.alert(),
                Some(sealwire::handshake::Alert::IllegalParameter)
            )
        }
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn key_update_both_ways() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::Ed25519);
    let (mut cl, mut sv) = run(c, s, "localhost", &mut |_| {}).unwrap();
    let mut st = cl.state.take().unwrap();
    st.send_key_update(&mut cl.cx, true).unwrap();
    cl.state = Some(st);
    let to_s = cl.outbox();
    assert_eq!(to_s.len(), 1);
    for i in to_s {
        let st = sv.state.take().unwrap();
        sv.state = Some(st.handle(&mut sv.cx, i).unwrap());
    }
    // The server updated its read keys and answered with its own update.
    let to_c = sv.outbox();
    assert_eq!(to_c.len(), 1);
    for i in to_c {
        let st = cl.state.take().unwrap();
        cl.state = Some(st.handle(&mut cl.cx, i).unwrap());
    }
    cl.outbox();
    assert_eq!(cl.write_keys, sv.read_keys);
    assert_eq!(sv.write_keys, cl.read_keys);
    assert_eq!(cl.write_keys.len(), 3);
    assert_eq!(cl.read_keys.len(), 3);
}

/// Every server-to-client handshake message is covered by the transcript
/// (RFC 8446 4.4.1), so flipping any bit of any of them must make the
/// client fail with a typed error that maps to an alert: never a panic,
/// never a completed handshake. Body bytes are sampled with a stride that
/// still lands on every field of the short messages.
#[test]
fn every_sampled_bit_flip_to_the_client_fails_with_an_alert() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::EcP256);
    // The messages the client receives, in order, untouched.
    let mut sizes = Vec::new();
    run(c.clone(), s.clone(), "localhost", &mut |m| {
        sizes.push((m.typ, m.raw.len()))
    })
    .unwrap();
    assert!(
        sizes.len() >= 5,
        "SH, EE, Certificate, CV, Finished: {sizes:?}"
    );
    let mut runs = 0;
    for (k, &(typ, len)) in sizes.iter().enumerate() {
        let stride = if len > 200 { 13 } else { 3 };
        for pos in (4..len).step_by(stride) {
            let mut seen = 0;
            let mut flipped = false;
            let mut tamper = |m: &mut HandshakeMessage| {
                // ECDSA signatures vary in length from one handshake to
                // the next: a position past this message's end is skipped.
                if seen == k && pos < m.raw.len() {
                    m.raw[pos] ^= 1 << (pos % 8);
                    flipped = true;
                }
                seen += 1;
            };
            let result = run(c.clone(), s.clone(), "localhost", &mut tamper);
            if !flipped {
                continue;
            }
            match result {
                Err(Failed::Client(e)) => {
                    assert!(e.alert().is_some(), "type {typ} byte {pos}: {e}")
                }
                Err(Failed::Server(e)) => panic!("type {typ} byte {pos}: server failed: {e}"),
                Ok(_) => panic!("type {typ} byte {pos}: flipped bit went unnoticed"),
            }
            runs += 1;
        }
    }
    assert!(runs > 100, "{runs} runs");
}
