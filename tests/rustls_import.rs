//! Secret import: a rustls handshake, then sealwire's record layer carries
//! the connection. Our `Sealer` writes and the rustls peer reads; our
//! `Opener` reads what the rustls peer wrote; across KeyUpdates started by
//! either side (kernel-connection API), on all six AES-GCM suites; and a
//! typed error for ChaCha20-Poly1305.

mod rustls_common;

use bytes::BytesMut;
use rustls::server::{ServerConnectionData, UnbufferedServerConnection};
use rustls::unbuffered::{ConnectionState, UnbufferedStatus};
use rustls::{ClientConnection, ServerConfig};
use rustls_common::*;
use sealwire::record::{self, ContentType, Deframer, Opener, Sealer};
use sealwire::rustls::import::{self, Handshake, ImportError, KernelSession};
use std::io::{Read, Write};
use std::sync::Arc;

/// Cuts a byte stream into whole records.
fn records(deframer: &mut Deframer, mut bytes: &[u8]) -> Vec<BytesMut> {
    let mut out = Vec::new();
    loop {
        let n = deframer.push(bytes);
        bytes = &bytes[n..];
        let mut progressed = n > 0;
        while let Some(r) = deframer.next_record().unwrap() {
            out.push(r.into_bytes());
            progressed = true;
        }
        if bytes.is_empty() || !progressed {
            assert!(bytes.is_empty(), "deframer stuck");
            return out;
        }
    }
}

/// Every TLS byte `client` has to send.
fn drain(client: &mut ClientConnection) -> Vec<u8> {
    let mut out = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut out).unwrap();
    }
    out
}

/// The records of the client writing `data` (in pieces: rustls buffers
/// only so much unsent data).
fn send(client: &mut ClientConnection, data: &[u8]) -> Vec<u8> {
    let mut wire = drain(client);
    for piece in data.chunks(16_000) {
        client.writer().write_all(piece).unwrap();
        wire.extend_from_slice(&drain(client));
    }
    wire
}

/// Hands `bytes` to the client and returns the plaintext it read.
fn deliver(client: &mut ClientConnection, bytes: &[u8]) -> Result<Vec<u8>, rustls::Error> {
    let mut rd = bytes;
    let mut got = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    while !rd.is_empty() {
        client.read_tls(&mut rd).unwrap();
        client.process_new_packets()?;
        // Read as it comes: rustls buffers only so much plaintext.
        loop {
            match client.reader().read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
    }
    Ok(got)
}

/// Seals `data` in records of at most `chunk` bytes.
fn seal_all(sealer: &mut Sealer, data: &[u8], chunk: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut buf = BytesMut::new();
    for piece in data.chunks(chunk) {
        sealer
            .seal_payload(ContentType::ApplicationData, piece, &mut buf)
            .unwrap();
        wire.extend_from_slice(&buf);
    }
    wire
}

/// Opens application data records; returns the plaintext and any
/// handshake messages met.
fn open_all(opener: &mut Opener, recs: Vec<BytesMut>) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut text = Vec::new();
    let mut hs = Vec::new();
    for r in recs {
        match opener.open(r).unwrap() {
            (ContentType::ApplicationData, p) => text.extend_from_slice(&p),
            (ContentType::Handshake, p) => hs.push(p.to_vec()),
            (t, _) => panic!("unexpected {t:?}"),
        }
    }
    (text, hs)
}

/// rustls handshake with `dangerous_extract_secrets()`: the server's
/// connection moves to sealwire after rustls sent and received a few
/// records, so the sequence numbers do not start at zero.
#[test]
fn extracted_secrets_continue_both_directions() {
    for suite in SUITES {
        for client_side in [Side::AwsLc, Side::Sealwire] {
            let mut cfg = server_config(Side::AwsLc, suite);
            cfg.enable_secret_extraction = true;
            let (mut c, mut s) = connect(client_config(client_side, suite), cfg);
            {
                let (mut cc, mut ss) = (Conn::Client(&mut c), Conn::Server(&mut s));
                transfer(&mut cc, &mut ss, &data(1, 3000), 1000);
                transfer(&mut ss, &mut cc, &data(2, 5000), 1000);
            }
            let negotiated = s.negotiated_cipher_suite().unwrap();
            let secrets = s.dangerous_extract_secrets().unwrap();
            assert!(secrets.tx.0 >= 5 && secrets.rx.0 >= 3, "{suite:?}");
            let (mut sealer, mut opener) = import::from_extracted(negotiated, &secrets).unwrap();
            assert_eq!(sealer.seq(), secrets.tx.0);

            let down = data(3, 200_000);
            let wire = seal_all(&mut sealer, &down, 1 << 14);
            assert_eq!(deliver(&mut c, &wire).unwrap(), down, "{suite:?}");

            let up = data(4, 150_000);
            let mut deframer = Deframer::new();
            let (text, hs) = open_all(&mut opener, records(&mut deframer, &send(&mut c, &up)));
            assert!(hs.is_empty());
            assert_eq!(text, up, "{suite:?}");
        }
    }
}

/// Drives an unbuffered rustls server through the handshake with `client`
/// and hands the connection to sealwire. Returns the session and whatever
/// TLS bytes arrived after the handshake.
fn kernel_server(
    cfg: ServerConfig,
    client: &mut ClientConnection,
) -> Result<(KernelSession<ServerConnectionData>, Vec<u8>), ImportError> {
    enum Next {
        Read,
        Again,
        Done,
    }
    let mut conn = UnbufferedServerConnection::new(Arc::new(cfg)).unwrap();
    let mut incoming: Vec<u8> = drain(client);
    let mut outgoing = vec![0u8; 1 << 16];
    let mut out_len = 0;
    for _ in 0..100 {
        let UnbufferedStatus { discard, state } = conn.process_tls_records(&mut incoming);
        let next = match state.unwrap() {
            ConnectionState::EncodeTlsData(mut e) => {
                out_len += e.encode(&mut outgoing[out_len..]).unwrap();
                Next::Again
            }
            ConnectionState::TransmitTlsData(t) => {
                deliver(client, &outgoing[..out_len]).unwrap();
                out_len = 0;
                t.done();
                Next::Again
            }
            ConnectionState::BlockedHandshake => Next::Read,
            ConnectionState::WriteTraffic(_) => Next::Done,
            _ => panic!("unexpected state during the handshake"),
        };
        incoming.drain(..discard);
        match next {
            Next::Read => incoming.extend_from_slice(&drain(client)),
            Next::Again => {}
            Next::Done => {
                assert!(!client.is_handshaking());
                let session = KernelSession::new(conn.dangerous_into_kernel_connection()?)?;
                return Ok((session, incoming));
            }
        }
    }
    panic!("handshake did not finish");
}

#[test]
fn kernel_connection_with_key_updates_both_ways() {
    for suite in SUITES {
        let mut cfg = server_config(Side::AwsLc, suite);
        cfg.enable_secret_extraction = true;
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut c =
            ClientConnection::new(Arc::new(client_config(Side::AwsLc, suite)), name).unwrap();
        let (mut session, early) = kernel_server(cfg, &mut c).unwrap();
        let mut deframer = Deframer::new();
        assert!(records(&mut deframer, &early).is_empty());

        let mut round = |session: &mut KernelSession<_>, c: &mut ClientConnection, seed| {
            let down = data(seed, 70_000);
            let wire = seal_all(session.sealer(), &down, 1 << 14);
            assert_eq!(deliver(c, &wire).unwrap(), down);
            let up = data(seed + 1, 90_000);
            let mut text = Vec::new();
            for r in records(&mut deframer, &send(c, &up)) {
                match session.opener().open(r).unwrap() {
                    (ContentType::ApplicationData, p) => text.extend_from_slice(&p),
                    (ContentType::Handshake, p) => {
                        // The client's KeyUpdate: our opener moves on; if it
                        // asks for ours, we answer under the old key.
                        match session.handle_handshake(&p).unwrap() {
                            Handshake::KeyUpdate { update_requested } => {
                                if update_requested {
                                    let mut buf = BytesMut::new();
                                    session.send_key_update(false, &mut buf).unwrap();
                                    assert!(deliver(c, &buf).unwrap().is_empty());
                                }
                            }
                            Handshake::Other(t) => panic!("handshake message {t}"),
                        }
                    }
                    (t, _) => panic!("{t:?}"),
                }
            }
            assert!(text == up, "{suite:?} round {seed}");
        };

        round(&mut session, &mut c, 10);
        if !is_tls13(suite) {
            // TLS 1.2 has no KeyUpdate: a typed error, nothing sent.
            let mut buf = BytesMut::new();
            let e = session.send_key_update(true, &mut buf).unwrap_err();
            assert!(
                matches!(e, ImportError::Record(record::Error::Misuse(_))),
                "{e:?}"
            );
            round(&mut session, &mut c, 12);
            continue;
        }
        // The peer updates (rustls's own API, update requested).
        c.refresh_traffic_keys().unwrap();
        round(&mut session, &mut c, 20);
        // Both directions restarted: our answer was the sealer's last
        // record, and the opener counted only the 6 records after the
        // peer's KeyUpdate (90 000 bytes in writes of 16 000; 12 on one key).
        assert_eq!(session.sealer().seq(), 0);
        assert_eq!(session.opener().seq(), 6);
        // We update and request the peer's: rustls follows both.
        let mut buf = BytesMut::new();
        session.send_key_update(true, &mut buf).unwrap();
        assert_eq!(session.sealer().seq(), 0);
        assert!(deliver(&mut c, &buf).unwrap().is_empty());
        round(&mut session, &mut c, 30);
        round(&mut session, &mut c, 40);
    }
}

#[test]
fn bad_key_update_messages_get_their_alerts() {
    use sealwire::record::AlertDescription as A;
    let suite = rustls::CipherSuite::TLS13_AES_128_GCM_SHA256;
    let mut cfg = server_config(Side::AwsLc, suite);
    cfg.enable_secret_extraction = true;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut c = ClientConnection::new(Arc::new(client_config(Side::AwsLc, suite)), name).unwrap();
    let (mut session, _) = kernel_server(cfg, &mut c).unwrap();
    let cases: [(&[u8], A); 5] = [
        (&[], A::UnexpectedMessage),
        (&[24, 0, 0, 1], A::DecodeError),
        (&[24, 0, 0, 2, 0, 0], A::DecodeError),
        (&[24, 0, 0, 1, 0, 4, 0, 0, 0], A::UnexpectedMessage),
        (&[24, 0, 0, 1, 2], A::IllegalParameter),
    ];
    for (msg, alert) in cases {
        let e = session.handle_handshake(msg).unwrap_err();
        assert_eq!(e.alert(), Some(alert), "{msg:?}: {e}");
    }
    // None of them moved the opener.
    assert_eq!(session.opener().seq(), 0);
    assert_eq!(
        session.handle_handshake(&[4, 0, 0, 0]).unwrap(),
        Handshake::Other(4)
    );
}

#[test]
fn chacha20_poly1305_is_a_typed_error() {
    for suite in [
        rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ] {
        let mut cfg = server_config(Side::AwsLc, suite);
        cfg.enable_secret_extraction = true;
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut c =
            ClientConnection::new(Arc::new(client_config(Side::AwsLc, suite)), name).unwrap();
        match kernel_server(cfg, &mut c) {
            Err(ImportError::UnsupportedSuite(s)) => assert_eq!(s, suite),
            other => panic!("{suite:?}: {:?}", other.map(|_| ())),
        }
        // And the provider leaves ChaCha20-Poly1305 to the base.
        let p = sealwire::rustls::provider();
        let chacha = p.cipher_suites.iter().find(|s| s.suite() == suite).unwrap();
        assert!(!sealwire::rustls::is_sealwire_suite(*chacha));
    }
}
