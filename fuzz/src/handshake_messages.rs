//! The handshake message decoders of TLS 1.3 (RFC 8446 4) and TLS 1.2
//! (RFC 5246 7.4, RFC 8422 5), the handshake message joiner, the peer key
//! share decoding of `kx` and the certificate subject walk of `verify`.
//!
//! Arbitrary bytes must give a typed decode-time error (one that names its
//! alert), never a panic. Whatever parses re-encodes to something that
//! parses to the same value (byte-identical where the encoding is unique).
//! The joiner cuts a stream pushed in arbitrary chunks into exactly the
//! messages a reference reading of RFC 8446 4 finds.

use super::input::{Input, Rng};
use sealwire::handshake::messages::{
    check_new_session_ticket, encode_key_update, parse_key_update, Certificate13,
    CertificateRequest13, ClientHello, DigitallySigned, EncryptedExtensions, HandshakeJoiner,
    HandshakeMessage, ServerHello, MAX_HANDSHAKE_MESSAGE,
};
use sealwire::handshake::tls12::messages as m12;
use sealwire::handshake::{kx, verify, Error};

/// A decoder may only report what is wrong with the bytes, with its alert.
fn refused(what: &str, e: &Error) {
    assert!(
        matches!(
            e,
            Error::Decode(_)
                | Error::IllegalParameter(_)
                | Error::MissingExtension(_)
                | Error::HandshakeFailure(_)
        ),
        "{what}: not a decode-time error: {e:?}"
    );
    assert!(e.alert().is_some(), "{what}: {e:?} sends no alert");
    assert!(!e.to_string().is_empty());
}

fn ok<T>(what: &str, r: Result<T, Error>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            refused(what, &e);
            None
        }
    }
}

/// Counts the decoders that accepted.
struct Tally(usize);

impl Tally {
    fn ok<T>(&mut self, what: &str, r: Result<T, Error>) -> Option<T> {
        let v = ok(what, r);
        self.0 += usize::from(v.is_some());
        v
    }
}

/// Every decoder on one message body; returns how many accepted it.
fn decode_body(body: &[u8]) -> usize {
    let mut t = Tally(0);
    if let Some(ch) = t.ok("ClientHello", ClientHello::parse(body)) {
        let again = ClientHello::parse(ch.encode().body()).expect("re-encoded ClientHello");
        assert_eq!(again, ch);
        t.ok("supported_versions", ch.supported_versions());
        t.ok("supported_groups", ch.supported_groups());
        t.ok("signature_algorithms", ch.signature_algorithms());
        t.ok("key_shares", ch.key_shares());
        if let Some(Some(host)) = t.ok("server_name", ch.server_name()) {
            assert!(!host.is_empty() && host.is_ascii());
        }
    }
    if let Some(sh) = t.ok("ServerHello", ServerHello::parse(body)) {
        let again = ServerHello::parse(sh.encode().body()).expect("re-encoded ServerHello");
        assert_eq!(again, sh);
        let _ = sh.is_hrr();
        t.ok("selected_version", sh.selected_version());
        t.ok("key_share", sh.key_share());
        t.ok("hrr_group", sh.hrr_group());
    }
    if let Some(ee) = t.ok("EncryptedExtensions", EncryptedExtensions::parse(body)) {
        assert_eq!(
            EncryptedExtensions::parse(ee.encode().body()).ok(),
            Some(ee)
        );
    }
    if let Some(c) = t.ok("Certificate13", Certificate13::parse(body)) {
        assert_eq!(Certificate13::parse(c.encode().body()).ok(), Some(c));
    }
    if let Some(c) = t.ok("Certificate12", m12::Certificate12::parse(body)) {
        // The TLS 1.2 encoding is unique.
        assert_eq!(c.encode().body(), body);
    }
    if let Some(s) = t.ok(
        "CertificateVerify",
        DigitallySigned::parse_certificate_verify(body),
    ) {
        assert_eq!(s.encode_certificate_verify().body(), body);
    }
    if let Some(cr) = t.ok("CertificateRequest13", CertificateRequest13::parse(body)) {
        assert!(!cr.extensions.is_empty());
    }
    t.ok("NewSessionTicket", check_new_session_ticket(body));
    if let Some(b) = t.ok("KeyUpdate", parse_key_update(body)) {
        assert_eq!(encode_key_update(b).body(), body);
    }
    if let Some(ske) = t.ok("ServerKeyExchange", m12::ServerKeyExchange::parse(body)) {
        assert_eq!(ske.encode().body(), body);
        let signed = ske.params.signed_content(&[1; 32], &[2; 32]);
        assert_eq!(signed[64..], body[..signed.len() - 64]);
    }
    if let Some(point) = t.ok("ClientKeyExchange", m12::parse_client_key_exchange(body)) {
        assert_eq!(m12::encode_client_key_exchange(&point).body(), body);
    }
    if t.ok("ServerHelloDone", m12::parse_server_hello_done(body))
        .is_some()
    {
        assert!(body.is_empty());
    }
    if let Some(req) = t.ok(
        "CertificateRequest12",
        m12::CertificateRequest12::parse(body),
    ) {
        assert_eq!(req.encode().body(), body);
    }
    t.ok("ec_point_formats", m12::check_ec_point_formats(body));
    if t.ok(
        "extended_master_secret",
        m12::check_extended_master_secret(body),
    )
    .is_some()
    {
        assert!(body.is_empty());
    }
    if t.ok("renegotiation_info", m12::check_renegotiation_info(body))
        .is_some()
    {
        assert_eq!(body, [0]);
    }
    // A trace-only summary: any string will do (an empty subject gives "").
    verify::subject_summary(body);
    t.0
}

/// Pushes `stream` into a joiner in chunks and checks every message against
/// a reference split (RFC 8446 4: type(1) length(3) body).
fn join(stream: &[u8], rng: &mut Rng) -> usize {
    let mut j = HandshakeJoiner::new();
    let mut accepted = 0;
    let mut pushed = 0;
    let mut consumed = 0;
    loop {
        loop {
            let rest = &stream[consumed..pushed];
            let want = if rest.len() < 4 {
                None
            } else {
                let len = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
                if len > MAX_HANDSHAKE_MESSAGE {
                    let e = j.next_message().expect_err("message over the limit");
                    refused("HandshakeJoiner", &e);
                    return accepted;
                }
                (rest.len() >= 4 + len).then_some(len)
            };
            let got = ok("HandshakeJoiner", j.next_message())
                .unwrap_or_else(|| panic!("joiner refused a message the reference accepts"));
            match (got, want) {
                (Some(msg), Some(len)) => {
                    let raw = &stream[consumed..consumed + 4 + len];
                    assert_eq!(msg.raw, raw);
                    assert_eq!(msg.typ, raw[0]);
                    assert_eq!(msg.body(), &raw[4..]);
                    assert_eq!(HandshakeMessage::new(msg.typ, msg.body()), msg);
                    assert!(!msg.name().is_empty());
                    accepted += decode_body(msg.body());
                    consumed += 4 + len;
                }
                (None, None) => break,
                (got, want) => panic!("joiner gave {got:?}, reference expects {want:?}"),
            }
        }
        assert_eq!(j.has_partial(), pushed > consumed);
        if pushed == stream.len() {
            return accepted;
        }
        let n = rng.chunk_len().min(stream.len() - pushed);
        j.push(&stream[pushed..pushed + n]);
        pushed += n;
    }
}

/// Runs one input and returns how many decoders accepted a body. Layout:
/// mode(1) rng(8) bytes.
pub fn run(data: &[u8]) -> usize {
    let mut inp = Input::new(data);
    let mode = inp.u8();
    let mut rng = inp.rng();
    let bytes = inp.rest();
    let accepted = if mode & 1 != 0 {
        join(bytes, &mut rng)
    } else {
        decode_body(bytes)
    };
    if mode & 0x0e == 0x0e {
        // A peer's key share (RFC 8446 4.2.8.2, RFC 8422 5.4).
        let group = [
            kx::group::X25519,
            kx::group::SECP256R1,
            kx::group::SECP384R1,
            kx::group::X25519MLKEM768,
            0x0019,
        ][usize::from(mode >> 4) % 5];
        match kx::KeyExchange::generate(group) {
            Ok(k) => match k.agree(bytes) {
                Ok(secret) => assert!(!secret.is_empty()),
                Err(e) => refused("key share", &e),
            },
            Err(e) => {
                assert_eq!(group, 0x0019);
                refused("key exchange group", &e);
            }
        }
        // The server's side of the same share (TLS 1.3).
        match kx::respond(group, bytes) {
            Ok(r) => assert!(!r.shared.is_empty() && !r.public.is_empty()),
            Err(e) => refused("client key share", &e),
        }
    }
    accepted
}
