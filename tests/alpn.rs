//! ALPN (RFC 7301) between the sealwire client and server, TLS 1.3 and
//! TLS 1.2: in memory with the answer altered in flight, and over a socket
//! pair with `Connection`, together with KeyUpdate every few records.

mod common;

use common::handshake::{configs, expect_client, expect_server, read_exactly, run, untouched};
use common::pki::{have_openssl, KeyKind};
use sealwire::conn::Connection;
use sealwire::handshake::alpn;
use sealwire::handshake::messages::{
    ext, hs_type, EncryptedExtensions, Extension, HandshakeMessage, ServerHello,
};
use sealwire::handshake::Trace;
use sealwire::handshake::{Alert, ClientConfig, Error, ServerConfig, Versions};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn names(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|n| n.as_bytes().to_vec()).collect()
}

const VERSIONS: [Versions; 2] = [Versions::TLS13_ONLY, Versions::TLS12_ONLY];

fn with_alpn(
    versions: Versions,
    client: &[&str],
    server: &[&str],
) -> (ClientConfig, ServerConfig, common::pki::Pki) {
    let (mut c, mut s, pki) = configs(KeyKind::EcP256, versions);
    c.alpn_protocols = names(client);
    s.alpn_protocols = names(server);
    (c, s, pki)
}

/// The server's ALPN extension replaced by `data` (in EncryptedExtensions
/// for TLS 1.3, in ServerHello for TLS 1.2), or added if absent.
fn replace_answer(m: &mut HandshakeMessage, data: &[u8]) {
    let set = |exts: &mut Vec<Extension>| {
        exts.retain(|e| e.typ != ext::ALPN);
        exts.push(Extension {
            typ: ext::ALPN,
            data: data.to_vec(),
        });
    };
    if m.typ == hs_type::ENCRYPTED_EXTENSIONS {
        let mut ee = EncryptedExtensions::parse(m.body()).unwrap();
        set(&mut ee.extensions);
        *m = ee.encode();
    } else if m.typ == hs_type::SERVER_HELLO {
        let mut sh = ServerHello::parse(m.body()).unwrap();
        if sh.selected_version().unwrap().is_none() {
            set(&mut sh.extensions);
            *m = sh.encode();
        }
    }
}

#[test]
fn alpn_server_preference_both_versions() {
    if !have_openssl() {
        return;
    }
    for v in VERSIONS {
        let (c, s, _pki) = with_alpn(v, &["http/1.1", "h2"], &["h2", "http/1.1"]);
        let (cl, sv) = run(c, s, "localhost", &mut untouched(), &mut untouched()).unwrap();
        let ce = cl.established.unwrap();
        let se = sv.established.unwrap();
        assert_eq!(ce.alpn_protocol.as_deref(), Some(&b"h2"[..]), "{v:?}");
        assert_eq!(se.alpn_protocol.as_deref(), Some(&b"h2"[..]), "{v:?}");
        assert!(ce.summary().contains("ALPN h2"), "{}", ce.summary());
    }
}

#[test]
fn alpn_none_unless_both_configure_it() {
    if !have_openssl() {
        return;
    }
    for v in VERSIONS {
        for (client, server) in [(&["h2"][..], &[][..]), (&[][..], &["h2"][..])] {
            let (c, s, _pki) = with_alpn(v, client, server);
            let mut saw_alpn = false;
            let (cl, sv) = run(
                c,
                s,
                "localhost",
                &mut |m| {
                    let exts = match m.typ {
                        hs_type::ENCRYPTED_EXTENSIONS => {
                            EncryptedExtensions::parse(m.body()).unwrap().extensions
                        }
                        hs_type::SERVER_HELLO => ServerHello::parse(m.body()).unwrap().extensions,
                        _ => return,
                    };
                    saw_alpn |= exts.iter().any(|e| e.typ == ext::ALPN);
                },
                &mut untouched(),
            )
            .unwrap();
            assert!(!saw_alpn, "{v:?} {client:?} {server:?}");
            assert_eq!(cl.established.unwrap().alpn_protocol, None);
            assert_eq!(sv.established.unwrap().alpn_protocol, None);
        }
    }
}

#[test]
fn alpn_no_overlap_is_no_application_protocol() {
    if !have_openssl() {
        return;
    }
    for v in VERSIONS {
        let (c, s, _pki) = with_alpn(v, &["http/1.1"], &["h2"]);
        let r = run(c, s, "localhost", &mut untouched(), &mut untouched());
        expect_server(r, Alert::NoApplicationProtocol);
    }
}

#[test]
fn alpn_client_rejects_bad_answers() {
    if !have_openssl() {
        return;
    }
    let not_offered = alpn::extension(&names(&["spdy/3"])).data;
    let two = alpn::extension(&names(&["h2", "http/1.1"])).data;
    for v in VERSIONS {
        for (data, alert) in [
            (&not_offered[..], Alert::IllegalParameter),
            (&two[..], Alert::IllegalParameter),
            (&b"\x00\x00"[..], Alert::DecodeError),
            (&b"\x00\x01\x00"[..], Alert::DecodeError),
        ] {
            let (c, s, _pki) = with_alpn(v, &["h2", "http/1.1"], &["h2"]);
            let r = run(
                c,
                s,
                "localhost",
                &mut |m| replace_answer(m, data),
                &mut untouched(),
            );
            expect_client(r, alert);
        }
        // An answer to a client that offered nothing.
        let (c, s, _pki) = with_alpn(v, &[], &[]);
        let one = alpn::extension(&names(&["h2"])).data;
        let r = run(
            c,
            s,
            "localhost",
            &mut |m| replace_answer(m, &one),
            &mut untouched(),
        );
        expect_client(r, Alert::UnsupportedExtension);
    }
}

#[test]
fn alpn_server_rejects_malformed_offer() {
    if !have_openssl() {
        return;
    }
    for v in VERSIONS {
        for data in [&b"\x00\x00"[..], b"\x00\x03\x02h2\x00", b"\x00\x02\x02h"] {
            let (c, s, _pki) = with_alpn(v, &["h2"], &["h2"]);
            let r = run(c, s, "localhost", &mut untouched(), &mut |m| {
                if m.typ == hs_type::CLIENT_HELLO {
                    let mut ch =
                        sealwire::handshake::messages::ClientHello::parse(m.body()).unwrap();
                    for e in &mut ch.extensions {
                        if e.typ == ext::ALPN {
                            e.data = data.to_vec();
                        }
                    }
                    *m = ch.encode();
                }
            });
            expect_server(r, Alert::DecodeError);
        }
    }
}

/// Client and server over a socket pair with ALPN, both updating their
/// sending keys every `every` records (TLS 1.3), echoing a transfer that
/// is compared byte for byte.
fn socket_pair_transfer(v: Versions, every: Option<u64>) {
    let (mut c, mut s, _pki) = with_alpn(v, &["http/1.1", "h2"], &["h2", "http/1.1"]);
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let (cl, sl) = (Arc::clone(&lines), Arc::clone(&lines));
    c.trace = Trace::to(move |l| cl.lock().unwrap().push(format!("client {l}")));
    s.trace = Trace::to(move |l| sl.lock().unwrap().push(format!("server {l}")));
    let (a, b) = UnixStream::pair().unwrap();
    for x in [&a, &b] {
        x.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    }
    let payload: Vec<u8> = (0..(1usize << 18) + 77)
        .map(|i| (i * 13 + i / 509) as u8)
        .collect();
    let len = payload.len();
    let server = std::thread::spawn(move || -> Result<(Option<Vec<u8>>, u64), Error> {
        let mut c = Connection::server(b, s)?;
        c.set_key_update_every(every)?;
        let alpn = c.alpn_protocol().map(<[u8]>::to_vec);
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            // Small writes: many records, many updates.
            let n = c.read(&mut buf[..3000])?;
            if n == 0 {
                c.close()?;
                return Ok((alpn, total));
            }
            c.write_all(&buf[..n])?;
            total += n as u64;
        }
    });
    let mut conn = Connection::client(a, c, Some("localhost")).unwrap();
    assert_eq!(conn.alpn_protocol(), Some(&b"h2"[..]));
    conn.set_key_update_every(every).unwrap();
    // One chunk out, its echo back: neither side ever blocks on a full
    // socket buffer while the other is writing too.
    let mut echo = Vec::with_capacity(len);
    for chunk in payload.chunks(1000) {
        conn.write_all(chunk).unwrap();
        echo.extend(read_exactly(&mut conn, chunk.len()));
    }
    assert!(echo == payload, "echo differs");
    conn.close().unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(conn.read(&mut buf).unwrap(), 0);
    let (alpn, total) = server.join().unwrap().unwrap();
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(total, len as u64);
    let lines = lines.lock().unwrap();
    let count = |what: &str| lines.iter().filter(|l| l.contains(what)).count();
    let (sent_c, sent_s) = (
        count("client send KeyUpdate"),
        count("server send KeyUpdate"),
    );
    let (got_c, got_s) = (
        count("client received KeyUpdate"),
        count("server received KeyUpdate"),
    );
    assert_eq!((sent_c, sent_s), (got_s, got_c), "every update arrived");
    match every {
        // Each side sealed at least len / 3000 records of its own.
        Some(n) => {
            let min = len / 3000 / n as usize;
            assert!(sent_c >= min && sent_s >= min, "{sent_c} {sent_s} < {min}");
        }
        None => assert_eq!(sent_c + sent_s, 0),
    }
}

#[test]
fn alpn_and_key_updates_over_a_socket_pair_tls13() {
    if !have_openssl() {
        return;
    }
    socket_pair_transfer(Versions::TLS13_ONLY, Some(3));
    socket_pair_transfer(Versions::TLS13_ONLY, Some(1));
}

#[test]
fn alpn_over_a_socket_pair_tls12() {
    if !have_openssl() {
        return;
    }
    socket_pair_transfer(Versions::TLS12_ONLY, None);
}

#[test]
fn key_update_every_is_refused_on_tls12() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = with_alpn(Versions::TLS12_ONLY, &[], &[]);
    let (a, b) = UnixStream::pair().unwrap();
    let server = std::thread::spawn(move || {
        let mut c = Connection::server(b, s).unwrap();
        let mut buf = [0u8; 16];
        let _ = c.read(&mut buf);
    });
    let mut conn = Connection::client(a, c, Some("localhost")).unwrap();
    assert!(matches!(
        conn.set_key_update_every(Some(2)),
        Err(Error::Misuse(_))
    ));
    conn.close().unwrap();
    server.join().unwrap();
}
