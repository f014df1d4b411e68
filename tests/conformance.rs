//! RFC conformance of the record layer and the hello handling, checked with
//! raw bytes over loopback against `Connection::server`, with a sealwire
//! client through a proxy that alters the records, and with the
//! state machines driven in memory where the record layer plays no part.
//!
//! ```text
//!   raw client ──bytes──▶ 127.0.0.1 ──▶ Connection::server (thread, bounded timeouts)
//!   Connection::client ◀─▶ proxy (a hook on each record, each way) ◀─▶ Connection::server
//! ```
//!
//! Every socket has a read timeout, and each check of "the server answers at
//! once" uses a deadline shorter than the server's own timeout.

mod common;

use common::handshake::{configs, expect_server, run, untouched};
use common::pki::{have_openssl, KeyKind, Pki};
use sealwire::conn::Connection;
use sealwire::handshake::codec::Writer;
use sealwire::handshake::kx::{group, KeyExchange};
use sealwire::handshake::messages::{
    build, ext, hs_type, suite, version, ClientHello, Extension, HandshakeMessage,
};
use sealwire::handshake::{Alert, ClientConfig, Error, ServerConfig, Versions};
use sealwire::wire::NamedGroup;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the server under test waits for a record before giving up.
const SERVER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a test waits for the server's answer: well below
/// [`SERVER_TIMEOUT`], so an answer only the timeout would produce fails.
const ANSWER_DEADLINE: Duration = Duration::from_secs(8);

const HANDSHAKE: u8 = 22;
const ALERT: u8 = 21;
const CCS: u8 = 20;
const APP_DATA: u8 = 23;

/// A record as read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rec {
    typ: u8,
    version: u16,
    payload: Vec<u8>,
}

fn frame(typ: u8, version: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![typ];
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Cuts whole records off the front of `buf`.
fn take_records(buf: &mut Vec<u8>) -> Vec<Rec> {
    let mut out = Vec::new();
    while buf.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
        if buf.len() < 5 + len {
            break;
        }
        let rec: Vec<u8> = buf.drain(..5 + len).collect();
        out.push(Rec {
            typ: rec[0],
            version: u16::from_be_bytes([rec[1], rec[2]]),
            payload: rec[5..].to_vec(),
        });
    }
    out
}

/// A server accepting one connection; the thread runs `then` on the
/// established connection and returns its result.
fn serve<T: Send + 'static>(
    cfg: ServerConfig,
    then: impl FnOnce(&mut Connection<TcpStream>) -> Result<T, Error> + Send + 'static,
) -> (SocketAddr, JoinHandle<Result<T, Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (sock, _) = listener.accept()?;
        sock.set_read_timeout(Some(SERVER_TIMEOUT))?;
        sock.set_write_timeout(Some(SERVER_TIMEOUT))?;
        let mut c = Connection::server(sock, cfg)?;
        then(&mut c)
    });
    (addr, h)
}

/// A server whose handshake result is all that matters.
fn serve_handshake(cfg: ServerConfig) -> (SocketAddr, JoinHandle<Result<(), Error>>) {
    serve(cfg, |_| Ok(()))
}

/// A client that writes bytes and reads records.
struct Raw {
    sock: TcpStream,
    buf: Vec<u8>,
    closed: bool,
}

impl Raw {
    fn connect(addr: SocketAddr) -> Raw {
        let sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(ANSWER_DEADLINE)).unwrap();
        Raw {
            sock,
            buf: Vec::new(),
            closed: false,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        // The server may have closed already; what it answered is checked.
        let _ = self.sock.write_all(bytes);
    }

    /// Records until the server closes, or until `ANSWER_DEADLINE`
    /// passes (then `closed` stays false).
    fn read_until_close(&mut self) -> Vec<Rec> {
        let start = Instant::now();
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        while start.elapsed() < ANSWER_DEADLINE {
            match self.sock.read(&mut chunk) {
                Ok(0) => {
                    self.closed = true;
                    break;
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    self.closed = true;
                    break;
                }
                Err(_) => break,
            }
            out.extend(take_records(&mut self.buf));
        }
        out
    }

    /// At least one record, or none if the server closed or the deadline
    /// passed.
    fn read_some(&mut self) -> Vec<Rec> {
        let start = Instant::now();
        let mut chunk = [0u8; 4096];
        loop {
            let recs = take_records(&mut self.buf);
            if !recs.is_empty() || start.elapsed() >= ANSWER_DEADLINE {
                return recs;
            }
            match self.sock.read(&mut chunk) {
                Ok(0) => {
                    self.closed = true;
                    return recs;
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => return recs,
            }
        }
    }

    /// Records until one of type `typ` came (inclusive), or the server
    /// closed, or the deadline passed.
    fn read_until_type(&mut self, typ: u8) -> Vec<Rec> {
        let start = Instant::now();
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        while start.elapsed() < ANSWER_DEADLINE && !out.iter().any(|r: &Rec| r.typ == typ) {
            match self.sock.read(&mut chunk) {
                Ok(0) => {
                    self.closed = true;
                    break;
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => break,
            }
            out.extend(take_records(&mut self.buf));
        }
        out
    }
}

/// The fatal plaintext alert among `recs` (and that it is the last record).
fn plaintext_alert(recs: &[Rec]) -> Option<Alert> {
    let last = recs.last()?;
    (last.typ == ALERT && last.payload.len() == 2 && last.payload[0] == 2)
        .then(|| Alert::from_code(last.payload[1]))
}

fn pki_and_server(versions: Versions) -> Option<(ClientConfig, ServerConfig, Pki)> {
    if !have_openssl() {
        return None;
    }
    Some(configs(KeyKind::EcP256, versions))
}

/// A TLS 1.3 ClientHello offering x25519 with a fresh share, and TLS 1.2
/// as well when `tls12` (suites and the extensions a TLS 1.2 server needs).
fn client_hello(legacy_version: u16, versions: &[u16]) -> ClientHello {
    let kx = KeyExchange::generate(group::X25519).unwrap();
    client_hello_with(&kx, legacy_version, versions)
}

/// [`client_hello`] with the share of `kx`.
fn client_hello_with(kx: &KeyExchange, legacy_version: u16, versions: &[u16]) -> ClientHello {
    let mut random = [0u8; 32];
    getrandom_fill(&mut random);
    let mut extensions = vec![
        build::server_name("localhost"),
        build::u16_list(ext::SUPPORTED_GROUPS, &[group::X25519, group::SECP256R1]),
        build::u16_list(ext::SIGNATURE_ALGORITHMS, &[0x0403, 0x0804, 0x0807]),
        build::key_share_client(&[sealwire::handshake::messages::KeyShareEntry {
            group: kx.group(),
            key_exchange: kx.public_key().to_vec(),
        }]),
        Extension {
            typ: ext::EXTENDED_MASTER_SECRET,
            data: vec![],
        },
    ];
    if !versions.is_empty() {
        extensions.push(build::supported_versions_client(versions));
    }
    ClientHello {
        legacy_version,
        random,
        session_id: vec![0x5a; 32],
        cipher_suites: vec![
            suite::TLS13_AES_128_GCM_SHA256,
            suite::ECDHE_ECDSA_AES_128_GCM_SHA256,
        ],
        compression_methods: vec![0],
        extensions,
    }
}

fn getrandom_fill(b: &mut [u8]) {
    use rand::RngCore;
    rand::thread_rng().fill_bytes(b);
}

/// Sends `wire` (framed records) and returns the records the server sent
/// back until it closed or the deadline passed, whether it closed, and the
/// server's result.
fn exchange(cfg: ServerConfig, wire: &[u8]) -> (Vec<Rec>, bool, Result<(), Error>) {
    let (addr, h) = serve_handshake(cfg);
    let mut raw = Raw::connect(addr);
    raw.send(wire);
    let recs = raw.read_until_close();
    let closed = raw.closed;
    drop(raw);
    (recs, closed, h.join().unwrap())
}

fn server_hello_version(recs: &[Rec]) -> Option<u16> {
    let r = recs.first()?;
    if r.typ != HANDSHAKE || r.payload.first() != Some(&hs_type::SERVER_HELLO) {
        return None;
    }
    let body = &r.payload[4..];
    let sh = sealwire::handshake::messages::ServerHello::parse(
        &body[..body
            .len()
            .min(u32::from_be_bytes([0, r.payload[1], r.payload[2], r.payload[3]]) as usize)],
    )
    .ok()?;
    Some(
        sh.selected_version()
            .ok()
            .flatten()
            .unwrap_or(sh.legacy_version),
    )
}

#[test]
fn first_client_hello_record_version_is_ignored() {
    let Some((_, s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    for rv in [0x0300u16, 0x0301, 0x0303, 0x0304, 0x03fe] {
        let ch = client_hello(version::TLS12, &[version::TLS13]).encode();
        let (addr, h) = serve_handshake(s.clone());
        let mut raw = Raw::connect(addr);
        raw.send(&frame(HANDSHAKE, rv, &ch.raw));
        let recs = raw.read_until_type(CCS);
        assert_eq!(
            server_hello_version(&recs),
            Some(version::TLS13),
            "record version {rv:#06x}: {recs:?}"
        );
        drop(raw);
        let _ = h.join().unwrap();
    }
}

#[test]
fn server_plaintext_records_carry_0x0303() {
    let Some((_, s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    // TLS 1.3: ServerHello and the compatibility CCS.
    let ch = client_hello(version::TLS12, &[version::TLS13]).encode();
    let (addr, h) = serve_handshake(s.clone());
    let mut raw = Raw::connect(addr);
    raw.send(&frame(HANDSHAKE, 0x0301, &ch.raw));
    let recs = raw.read_until_type(CCS);
    let plain: Vec<&Rec> = recs.iter().filter(|r| r.typ != APP_DATA).collect();
    assert!(plain.len() >= 2, "{recs:?}");
    assert!(plain.iter().all(|r| r.version == 0x0303), "{plain:?}");
    drop(raw);
    let _ = h.join().unwrap();

    // HelloRetryRequest: a server that wants P-256 only.
    let mut s256 = s.clone();
    s256.groups = vec![NamedGroup::Secp256r1];
    let (addr, h) = serve_handshake(s256);
    let mut raw = Raw::connect(addr);
    raw.send(&frame(HANDSHAKE, 0x0301, &ch.raw));
    let recs = raw.read_until_type(CCS);
    assert_eq!(recs[0].payload[0], hs_type::SERVER_HELLO, "{recs:?}");
    assert!(recs.iter().all(|r| r.version == 0x0303), "{recs:?}");
    drop(raw);
    let _ = h.join().unwrap();

    // TLS 1.2: the whole first flight.
    let ch12 = client_hello(version::TLS12, &[]).encode();
    let (addr, h) = serve_handshake(s.clone());
    let mut raw = Raw::connect(addr);
    raw.send(&frame(HANDSHAKE, 0x0301, &ch12.raw));
    let mut recs = Vec::new();
    let start = Instant::now();
    // ServerHelloDone ends the flight.
    while start.elapsed() < ANSWER_DEADLINE
        && !recs.iter().any(|r: &Rec| {
            r.payload
                .windows(4)
                .any(|w| w == [hs_type::SERVER_HELLO_DONE, 0, 0, 0])
        })
    {
        let more = raw.read_until_type(HANDSHAKE);
        if more.is_empty() {
            break;
        }
        recs.extend(more);
    }
    assert_eq!(server_hello_version(&recs), Some(version::TLS12));
    assert!(recs.iter().all(|r| r.version == 0x0303), "{recs:?}");
    drop(raw);
    let _ = h.join().unwrap();

    // An alert before any encryption.
    let mut bad = client_hello(version::TLS12, &[version::TLS13]);
    bad.compression_methods = vec![1];
    let (recs, _, r) = exchange(s, &frame(HANDSHAKE, 0x0301, &bad.encode().raw));
    assert!(r.is_err());
    assert_eq!(plaintext_alert(&recs), Some(Alert::IllegalParameter));
    assert_eq!(recs.last().unwrap().version, 0x0303);
}

#[test]
fn plaintext_record_over_2_14_is_record_overflow() {
    let Some((_, s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    for len in [(1usize << 14) + 1, (1 << 14) + 2048] {
        // A ClientHello padded to `len` bytes in one record.
        let mut ch = client_hello(version::TLS12, &[version::TLS13]);
        let base = ch.encode().raw.len();
        ch.extensions.push(Extension {
            typ: 21,
            data: vec![0; len - base - 4],
        });
        let raw = ch.encode().raw;
        assert_eq!(raw.len(), len);
        let (recs, closed, r) = exchange(s.clone(), &frame(HANDSHAKE, 0x0301, &raw));
        assert_eq!(plaintext_alert(&recs), Some(Alert::RecordOverflow), "{len}");
        assert!(closed);
        assert_eq!(r.unwrap_err().alert(), Some(Alert::RecordOverflow));
    }
    // Exactly 2^14 is fine.
    let mut ch = client_hello(version::TLS12, &[version::TLS13]);
    let base = ch.encode().raw.len();
    ch.extensions.push(Extension {
        typ: 21,
        data: vec![0; (1 << 14) - base - 4],
    });
    let (addr, h) = serve_handshake(s);
    let mut raw = Raw::connect(addr);
    raw.send(&frame(HANDSHAKE, 0x0301, &ch.encode().raw));
    let recs = raw.read_until_type(CCS);
    assert_eq!(server_hello_version(&recs), Some(version::TLS13));
    drop(raw);
    let _ = h.join().unwrap();
}

#[test]
fn ssl3_legacy_version_is_protocol_version_whatever_supported_versions_says() {
    let Some((_, s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    for lv in [0x0300u16, 0x0200, 0x0002] {
        for sv in [
            &[version::TLS13][..],
            &[version::TLS13, version::TLS12],
            &[],
        ] {
            let ch = client_hello(lv, sv).encode();
            let (recs, closed, r) = exchange(s.clone(), &frame(HANDSHAKE, 0x0301, &ch.raw));
            assert_eq!(
                plaintext_alert(&recs),
                Some(Alert::ProtocolVersion),
                "{lv:#06x} {sv:?}: {recs:?}"
            );
            assert!(closed);
            assert!(matches!(r, Err(Error::ProtocolVersion)), "{r:?}");
        }
    }
}

#[test]
fn high_legacy_version_without_tls13_negotiates_tls12() {
    let Some((_, s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    for lv in [0x0304u16, 0x0305, 0xfefe] {
        for sv in [&[][..], &[version::TLS12][..]] {
            // The record version as a TLS 1.0 client sends it, and (where it
            // is a TLS record version at all) the hello's own version.
            let record_versions: &[u16] = if lv >> 8 == 3 {
                &[0x0301, lv]
            } else {
                &[0x0301]
            };
            for &rv in record_versions {
                let ch = client_hello(lv, sv).encode();
                let (addr, h) = serve_handshake(s.clone());
                let mut raw = Raw::connect(addr);
                raw.send(&frame(HANDSHAKE, rv, &ch.raw));
                let recs = raw.read_until_type(HANDSHAKE);
                assert_eq!(
                    server_hello_version(&recs),
                    Some(version::TLS12),
                    "{lv:#06x} {sv:?} record {rv:#06x}: {recs:?}"
                );
                drop(raw);
                let _ = h.join().unwrap();
            }
        }
    }
}

/// What the [`proxy`] does with each record of one direction: given its
/// index and the record, the bytes to forward in its place.
type Hook = Box<dyn FnMut(usize, Rec) -> Vec<Vec<u8>> + Send>;

/// Forwards every whole record read from `from` to `to` through `hook`
/// (with its index), then shuts `to` for writing.
fn pump(mut from: TcpStream, mut to: TcpStream, mut hook: Hook) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut index = 0;
    loop {
        match from.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        for rec in take_records(&mut buf) {
            for out in hook(index, rec) {
                if to.write_all(&out).is_err() {
                    return;
                }
            }
            index += 1;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// Forwards one connection to `to`; each whole record of each direction
/// goes through that direction's hook (with its index), which returns the
/// records to forward in its place.
fn proxy_both(to: SocketAddr, client_hook: Hook, server_hook: Hook) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((client, _)) = listener.accept() else {
            return;
        };
        let Ok(server) = TcpStream::connect(to) else {
            return;
        };
        for s in [&client, &server] {
            let _ = s.set_read_timeout(Some(SERVER_TIMEOUT));
        }
        let (c_rd, s_wr) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        std::thread::spawn(move || pump(server, client, server_hook));
        pump(c_rd, s_wr, client_hook);
    });
    addr
}

fn reframe(r: &Rec) -> Vec<u8> {
    frame(r.typ, r.version, &r.payload)
}

/// A sealwire TLS 1.3 client through a proxy running `hook`, against a
/// server that reads until the client's close; returns the client's result
/// of handshake-then-read and the server's.
fn through_proxy(hook: Hook) -> Option<ProxyRun> {
    through_proxy_both(
        Versions::TLS13_ONLY,
        hook,
        Box::new(|_, rec| vec![reframe(&rec)]),
    )
}

/// As [`through_proxy`], with the given versions and a hook on each
/// direction.
fn through_proxy_both(
    versions: Versions,
    client_hook: Hook,
    server_hook: Hook,
) -> Option<ProxyRun> {
    let (c, s, _pki) = pki_and_server(versions)?;
    let (saddr, h) = serve(s, |conn| {
        let mut buf = [0u8; 64];
        conn.read(&mut buf)
    });
    let paddr = proxy_both(saddr, client_hook, server_hook);
    let start = Instant::now();
    let sock = TcpStream::connect(paddr).unwrap();
    sock.set_read_timeout(Some(ANSWER_DEADLINE)).unwrap();
    let client = Connection::client(sock, c, Some("localhost")).and_then(|mut conn| {
        let mut buf = [0u8; 64];
        conn.read(&mut buf)
    });
    let took = start.elapsed();
    Some(ProxyRun {
        client,
        server: h.join().unwrap(),
        took,
    })
}

/// What [`through_proxy`] saw: each side's result and the time to the
/// client's result.
struct ProxyRun {
    client: Result<usize, Error>,
    server: Result<usize, Error>,
    took: Duration,
}

fn assert_unexpected_message_at_once(what: &str, r: Option<ProxyRun>) {
    let Some(ProxyRun {
        client,
        server,
        took,
    }) = r
    else {
        return;
    };
    let server = server.unwrap_err();
    assert_eq!(
        server.alert(),
        Some(Alert::UnexpectedMessage),
        "{what}: {server}"
    );
    assert!(
        matches!(client, Err(Error::PeerAlert(Alert::UnexpectedMessage))),
        "{what}: client saw {client:?}"
    );
    assert!(took < ANSWER_DEADLINE, "{what}: took {took:?}");
}

#[test]
fn second_compat_ccs_is_unexpected_message_at_once() {
    let r = through_proxy(Box::new(|_, rec| {
        let mut out = vec![reframe(&rec)];
        if rec.typ == CCS {
            out.push(reframe(&rec));
        }
        out
    }));
    assert_unexpected_message_at_once("second CCS", r);
}

#[test]
fn ccs_other_than_0x01_is_unexpected_message_at_once() {
    for payload in [&[2u8][..], &[1, 1], &[0]] {
        let p = payload.to_vec();
        let r = through_proxy(Box::new(move |_, mut rec| {
            if rec.typ == CCS {
                rec.payload = p.clone();
            }
            vec![reframe(&rec)]
        }));
        assert_unexpected_message_at_once(&format!("CCS {payload:?}"), r);
    }
}

#[test]
fn ccs_after_the_handshake_is_unexpected_message_at_once() {
    // The client's first protected record is its Finished.
    let r = through_proxy(Box::new(|_, rec| {
        let mut out = vec![reframe(&rec)];
        if rec.typ == APP_DATA {
            out.push(frame(CCS, 0x0303, &[1]));
        }
        out
    }));
    assert_unexpected_message_at_once("CCS after Finished", r);
}

#[test]
fn ccs_before_the_first_client_hello_is_unexpected_message() {
    let Some((_, s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    let ch = client_hello(version::TLS12, &[version::TLS13]).encode();
    let mut wire = frame(CCS, 0x0303, &[1]);
    wire.extend(frame(HANDSHAKE, 0x0301, &ch.raw));
    let (recs, closed, r) = exchange(s, &wire);
    assert_eq!(plaintext_alert(&recs), Some(Alert::UnexpectedMessage));
    assert!(closed && r.is_err());
}

/// TLS 1.2 (RFC 5246 6.2.1, appendix E.1): once the ServerHello is out,
/// every record carries the negotiated 0x0303; a record with another 0x03xx
/// is protocol_version, from the client's side and from the server's. The
/// first record of each side may differ (the client's ClientHello record is
/// checked elsewhere; the server's first is its ServerHello).
#[test]
fn tls12_records_after_the_server_hello_carry_0x0303() {
    for (from_client, at, version) in [
        (true, 1, 0x0301),
        (true, 1, 0x0302),
        (true, 2, 0x0301),
        (false, 1, 0x0301),
        (false, 1, 0x0304),
    ] {
        let retag = move |i: usize, mut rec: Rec| {
            if i == at {
                rec.version = version;
            }
            vec![reframe(&rec)]
        };
        let pass: Hook = Box::new(|_, rec| vec![reframe(&rec)]);
        let (client_hook, server_hook): (Hook, Hook) = if from_client {
            (Box::new(retag), pass)
        } else {
            (pass, Box::new(retag))
        };
        let what = format!(
            "{} record {at} at {version:#06x}",
            if from_client { "client" } else { "server" }
        );
        let Some(ProxyRun {
            client,
            server,
            took,
        }) = through_proxy_both(Versions::TLS12_ONLY, client_hook, server_hook)
        else {
            return;
        };
        let (rejecter, other) = if from_client {
            (server, client)
        } else {
            (client, server)
        };
        let e = rejecter.unwrap_err();
        assert_eq!(e.alert(), Some(Alert::ProtocolVersion), "{what}: {e}");
        assert!(
            matches!(other, Err(Error::PeerAlert(Alert::ProtocolVersion))),
            "{what}: the other side saw {other:?}"
        );
        assert!(took < ANSWER_DEADLINE, "{what}: took {took:?}");
    }
}

/// The ClientHello going to the server rewritten by `f`.
fn tamper_client_hello(f: impl Fn(&mut ClientHello)) -> impl FnMut(&mut HandshakeMessage) {
    move |m| {
        if m.typ == hs_type::CLIENT_HELLO {
            let mut ch = ClientHello::parse(m.body()).unwrap();
            f(&mut ch);
            *m = ch.encode();
        }
    }
}

fn replace_ext(exts: &mut Vec<Extension>, e: Extension) {
    exts.retain(|x| x.typ != e.typ);
    exts.push(e);
}

fn server_name_ext(list: impl FnOnce(&mut Writer)) -> Extension {
    Extension::build(ext::SERVER_NAME, |w| {
        w.vec16(list);
    })
}

fn host_name(name: &[u8]) -> Extension {
    server_name_ext(|w| {
        w.u8(0).vec16(|w| {
            w.bytes(name);
        });
    })
}

#[test]
fn finished_of_the_wrong_length_is_decode_error() {
    if !have_openssl() {
        return;
    }
    for versions in [Versions::TLS13_ONLY, Versions::TLS12_ONLY] {
        for len in [0usize, 11, 31, 33, 64] {
            let (c, s, _pki) = configs(KeyKind::EcP256, versions);
            let mut to_server = |m: &mut HandshakeMessage| {
                if m.typ == hs_type::FINISHED {
                    *m = HandshakeMessage::new(hs_type::FINISHED, &vec![0; len]);
                }
            };
            let r = run(c, s, "localhost", &mut untouched(), &mut to_server);
            expect_server(r, Alert::DecodeError);
        }
        // The right length with a wrong value stays decrypt_error.
        let (c, s, _pki) = configs(KeyKind::EcP256, versions);
        let mut to_server = |m: &mut HandshakeMessage| {
            if m.typ == hs_type::FINISHED {
                let len = m.body().len();
                *m = HandshakeMessage::new(hs_type::FINISHED, &vec![0; len]);
            }
        };
        let r = run(c, s, "localhost", &mut untouched(), &mut to_server);
        expect_server(r, Alert::DecryptError);
    }
}

#[test]
fn bad_server_names_are_refused_with_the_rfc_alert() {
    if !have_openssl() {
        return;
    }
    let cases: Vec<(&str, Extension, Alert)> = vec![
        ("empty list", server_name_ext(|_| {}), Alert::DecodeError),
        ("empty host_name", host_name(b""), Alert::DecodeError),
        ("NUL", host_name(b"local\0host"), Alert::IllegalParameter),
        ("ESC", host_name(b"\x1b[31mred"), Alert::IllegalParameter),
        ("DEL", host_name(b"a\x7fb"), Alert::IllegalParameter),
        (
            "non-ASCII",
            host_name("bücher.test".as_bytes()),
            Alert::IllegalParameter,
        ),
        ("non-UTF-8", host_name(b"\xff\xfe"), Alert::IllegalParameter),
        (
            "trailing dot",
            host_name(b"localhost."),
            Alert::IllegalParameter,
        ),
        ("empty label", host_name(b"a..b"), Alert::IllegalParameter),
        ("space", host_name(b"a b"), Alert::IllegalParameter),
        (
            "label over 63",
            host_name(format!("{}.test", "a".repeat(64)).as_bytes()),
            Alert::IllegalParameter,
        ),
    ];
    for versions in [Versions::TLS13_ONLY, Versions::TLS12_ONLY] {
        for (what, e, alert) in &cases {
            let (c, s, _pki) = configs(KeyKind::EcP256, versions);
            let e = e.clone();
            let mut t = tamper_client_hello(move |ch| replace_ext(&mut ch.extensions, e.clone()));
            let r = run(c, s, "localhost", &mut untouched(), &mut t);
            let err = expect_server(r, *alert);
            assert!(!err.to_string().contains('\x1b'), "{what}: {err}");
        }
    }
}

/// RFC 6066 3 permits no literal IP address in host_name; a client that
/// sends one anyway is served as a client without server_name: the parse
/// gives no name, and the server answers with its ServerHello (TLS 1.3
/// and TLS 1.2), not an alert. A DNS name still comes through.
#[test]
fn ip_address_as_server_name_reads_as_none() {
    let Some((_, s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    for name in ["127.0.0.1", "::1", "2001:db8::7"] {
        for versions in [&[version::TLS13][..], &[]] {
            let mut ch = client_hello(version::TLS12, versions);
            replace_ext(&mut ch.extensions, host_name(name.as_bytes()));
            assert_eq!(ch.server_name().unwrap(), None, "{name}");
            let (addr, h) = serve_handshake(s.clone());
            let mut raw = Raw::connect(addr);
            raw.send(&frame(HANDSHAKE, 0x0301, &ch.encode().raw));
            let recs = raw.read_until_type(HANDSHAKE);
            let want = if versions.is_empty() {
                version::TLS12
            } else {
                version::TLS13
            };
            assert_eq!(server_hello_version(&recs), Some(want), "{name}: {recs:?}");
            drop(raw);
            let _ = h.join().unwrap();
        }
    }
    let ch = client_hello(version::TLS12, &[version::TLS13]);
    assert_eq!(ch.server_name().unwrap().as_deref(), Some("localhost"));
}

#[test]
fn client_sends_no_ip_address_as_server_name() {
    if !have_openssl() {
        return;
    }
    for name in ["127.0.0.1", "::1", "[::1]"] {
        let (c, _s, _pki) = configs(KeyKind::EcP256, Versions::BOTH);
        let mut cx = sealwire::handshake::Context::default();
        let _st = sealwire::handshake::tls13::client::start(c, Some(name.into()), &mut cx).unwrap();
        let ch = cx
            .actions
            .iter()
            .find_map(|a| match a {
                sealwire::handshake::Action::Send(m) => Some(ClientHello::parse(m.body()).unwrap()),
                _ => None,
            })
            .unwrap();
        assert!(ch.extension(ext::SERVER_NAME).is_none(), "{name}");
    }
}

#[test]
fn trace_lines_escape_what_the_peer_sent() {
    let Some((_, mut s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    s.trace = sealwire::handshake::Trace::to(move |l| sink.lock().unwrap().push(l.to_string()));
    let mut ch = client_hello(version::TLS12, &[version::TLS13]);
    replace_ext(&mut ch.extensions, host_name(b"evil\x1b]0;owned\x07.test"));
    let (_recs, _, r) = exchange(s, &frame(HANDSHAKE, 0x0301, &ch.encode().raw));
    let e = r.unwrap_err();
    assert_eq!(e.alert(), Some(Alert::IllegalParameter));
    let lines = lines.lock().unwrap();
    assert!(!lines.is_empty());
    for l in lines.iter().chain(std::iter::once(&e.to_string())) {
        assert!(
            l.chars().all(|c| !c.is_control()),
            "a control character reached a log line: {l:?}"
        );
    }
}

/// A change to a ClientHello.
type Edit = Box<dyn Fn(&mut ClientHello)>;

/// Configs where the client's only share (x25519) makes a P-256 server
/// send HelloRetryRequest.
fn hrr_configs() -> (ClientConfig, ServerConfig, Pki) {
    let (mut c, mut s, pki) = configs(KeyKind::EcP256, Versions::TLS13_ONLY);
    c.key_share_groups = vec![NamedGroup::X25519];
    c.groups = vec![NamedGroup::X25519, NamedGroup::Secp256r1];
    s.groups = vec![NamedGroup::Secp256r1];
    (c, s, pki)
}

/// Applies `first` to the first ClientHello and `second` to the second.
fn tamper_hellos(
    first: impl Fn(&mut ClientHello),
    second: impl Fn(&mut ClientHello),
) -> impl FnMut(&mut HandshakeMessage) {
    let mut n = 0;
    move |m| {
        if m.typ == hs_type::CLIENT_HELLO {
            let mut ch = ClientHello::parse(m.body()).unwrap();
            n += 1;
            if n == 1 {
                first(&mut ch)
            } else {
                second(&mut ch)
            }
            *m = ch.encode();
        }
    }
}

#[test]
fn second_client_hello_may_change_only_what_rfc8446_allows() {
    if !have_openssl() {
        return;
    }
    let unknown = Extension {
        typ: 0xfafa,
        data: vec![1, 2, 3],
    };
    let refused: Vec<(&str, Edit)> = vec![
        (
            "signature_algorithms",
            Box::new(|ch| {
                replace_ext(
                    &mut ch.extensions,
                    build::u16_list(ext::SIGNATURE_ALGORITHMS, &[0x0403]),
                )
            }),
        ),
        (
            "server_name dropped",
            Box::new(|ch| ch.extensions.retain(|e| e.typ != ext::SERVER_NAME)),
        ),
        (
            "server_name changed",
            Box::new(|ch| replace_ext(&mut ch.extensions, host_name(b"other.test"))),
        ),
        (
            "supported_groups",
            Box::new(|ch| {
                replace_ext(
                    &mut ch.extensions,
                    build::u16_list(ext::SUPPORTED_GROUPS, &[group::SECP256R1]),
                )
            }),
        ),
        (
            "extension added",
            Box::new(move |ch| ch.extensions.insert(0, unknown.clone())),
        ),
        (
            "extensions reordered",
            Box::new(|ch| ch.extensions.swap(0, 1)),
        ),
        (
            "early_data added",
            Box::new(|ch| {
                ch.extensions.insert(
                    0,
                    Extension {
                        typ: ext::EARLY_DATA,
                        data: vec![],
                    },
                )
            }),
        ),
        (
            "cookie we never sent",
            Box::new(|ch| {
                ch.extensions.insert(
                    0,
                    Extension::build(ext::COOKIE, |w| {
                        w.vec16(|w| {
                            w.bytes(b"crumb");
                        });
                    }),
                )
            }),
        ),
        ("legacy_version", Box::new(|ch| ch.legacy_version = 0x0302)),
        ("random", Box::new(|ch| ch.random[0] ^= 1)),
        ("session_id", Box::new(|ch| ch.session_id.clear())),
        ("cipher_suites", Box::new(|ch| ch.cipher_suites.reverse())),
    ];
    for (what, f) in &refused {
        let (c, s, _pki) = hrr_configs();
        let mut t = tamper_hellos(|_| {}, f);
        let e = expect_server(
            run(c, s, "localhost", &mut untouched(), &mut t),
            Alert::IllegalParameter,
        );
        assert!(matches!(e, Error::IllegalParameter(_)), "{what}: {e}");
    }
    // Padding may change, and early_data may go. The server accepts such a
    // second ClientHello; the handshake then fails only because the
    // client's transcript differs from what the server saw
    // (CertificateVerify: decrypt_error on the client).
    let padding = |len: usize| Extension {
        typ: ext::PADDING,
        data: vec![0; len],
    };
    let early = Extension {
        typ: ext::EARLY_DATA,
        data: vec![],
    };
    let allowed: Vec<(&str, Edit, Edit)> = vec![
        (
            "padding added",
            Box::new(|_| {}),
            Box::new(move |ch| ch.extensions.insert(0, padding(17))),
        ),
        (
            "padding changed",
            Box::new(move |ch| ch.extensions.insert(0, padding(5))),
            Box::new(move |ch| ch.extensions.insert(0, padding(300))),
        ),
        (
            "padding dropped",
            Box::new(move |ch| ch.extensions.insert(0, padding(5))),
            Box::new(|_| {}),
        ),
        (
            "early_data dropped",
            Box::new(move |ch| ch.extensions.insert(0, early.clone())),
            Box::new(|_| {}),
        ),
    ];
    for (what, f1, f2) in &allowed {
        let (c, s, _pki) = hrr_configs();
        let mut t = tamper_hellos(f1, f2);
        match run(c, s, "localhost", &mut untouched(), &mut t) {
            Err(common::handshake::Failed::Client(e)) => {
                assert_eq!(e.alert(), Some(Alert::DecryptError), "{what}: {e}")
            }
            Err(common::handshake::Failed::Server(e)) => panic!("{what}: server refused: {e}"),
            Ok(_) => panic!("{what}: a tampered transcript completed"),
        }
    }
    // Untouched, the HelloRetryRequest handshake completes.
    let (c, s, _pki) = hrr_configs();
    let (cl, sv) = run(c, s, "localhost", &mut untouched(), &mut untouched()).unwrap();
    assert!(cl.established.is_some() && sv.established.is_some());
}

#[test]
fn tls12_renegotiation_is_refused_with_a_warning_and_the_session_goes_on() {
    if !have_openssl() {
        return;
    }
    let (c, s, _pki) = configs(KeyKind::EcP256, Versions::TLS12_ONLY);
    let (mut cl, mut sv) = run(c, s, "localhost", &mut untouched(), &mut untouched()).unwrap();
    assert!(cl.is_connected() && sv.is_connected());
    let ch = client_hello(version::TLS12, &[]).encode();
    sv.feed(sealwire::handshake::Input::Handshake(ch), &mut untouched())
        .unwrap();
    let _ = sv.outbox();
    assert_eq!(sv.warnings, [Alert::NoRenegotiation]);
    assert!(sv.is_connected());
    let hr = HandshakeMessage::new(hs_type::HELLO_REQUEST, &[]);
    cl.feed(sealwire::handshake::Input::Handshake(hr), &mut untouched())
        .unwrap();
    let _ = cl.outbox();
    assert_eq!(cl.warnings, [Alert::NoRenegotiation]);
    assert!(cl.is_connected());
}

/// A ClientHello offering 0-RTT as a resuming client would: early_data,
/// psk_key_exchange_modes and (last) a pre_shared_key with a ticket the
/// server never issued.
fn early_data_hello(kx: &KeyExchange) -> ClientHello {
    let mut ch = client_hello_with(kx, version::TLS12, &[version::TLS13]);
    ch.extensions.push(Extension {
        typ: ext::EARLY_DATA,
        data: vec![],
    });
    ch.extensions
        .push(Extension::build(ext::PSK_KEY_EXCHANGE_MODES, |w| {
            w.vec8(|w| {
                w.u8(1);
            });
        }));
    ch.extensions
        .push(Extension::build(ext::PRE_SHARED_KEY, |w| {
            w.vec16(|w| {
                w.vec16(|w| {
                    w.bytes(b"a ticket from another server");
                })
                .u32(0x1234_5678);
            })
            .vec16(|w| {
                w.vec8(|w| {
                    w.bytes(&[0x42; 32]);
                });
            });
        }));
    ch
}

/// `n` early data records of `len` random bytes each: to a server without
/// the early keys, indistinguishable from real 0-RTT records.
fn early_records(n: usize, len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..n {
        let mut body = vec![0u8; len];
        getrandom_fill(&mut body);
        out.extend(frame(APP_DATA, 0x0303, &body));
    }
    out
}

/// The client half of a TLS 1.3 handshake (TLS_AES_128_GCM_SHA256) from
/// sealwire's public pieces: after `first` (the ClientHello, and whatever
/// the test sends after it) went out, reads ServerHello, answers one
/// HelloRetryRequest with `retry` (the second ClientHello for a share of
/// the group asked for), decrypts the server's flight, sends Finished, and
/// returns the application data the server sends next, or the server's
/// error as seen from here.
fn tls13_client(
    raw: &mut Raw,
    kx: KeyExchange,
    ch1: &ClientHello,
    retry: impl Fn(&KeyExchange) -> ClientHello,
) -> Result<Vec<u8>, String> {
    use sealwire::handshake::keyschedule::EarlySecret;
    use sealwire::handshake::messages::{encode_finished, HandshakeJoiner, ServerHello};
    use sealwire::handshake::transcript::{HashAlg, Transcript};
    use sealwire::record::{CipherSuite, ContentType, Opener, Sealer, TrafficKeys};

    let keys = |ki: sealwire::handshake::keyschedule::KeyIv| {
        TrafficKeys::new(CipherSuite::TLS13_AES_128_GCM_SHA256, &ki.key, &ki.iv[..]).unwrap()
    };
    let mut pending = std::collections::VecDeque::new();
    let next = |raw: &mut Raw, pending: &mut std::collections::VecDeque<Rec>| loop {
        if let Some(r) = pending.pop_front() {
            return Ok(r);
        }
        let got = raw.read_some();
        if got.is_empty() {
            return Err(format!(
                "server closed or went quiet (closed={})",
                raw.closed
            ));
        }
        pending.extend(got);
    };
    let server_hello = |r: &Rec| -> Result<(HandshakeMessage, ServerHello), String> {
        if r.typ != HANDSHAKE || r.payload.first() != Some(&hs_type::SERVER_HELLO) {
            return Err(format!("expected ServerHello, got {r:?}"));
        }
        let msg = HandshakeMessage::new(hs_type::SERVER_HELLO, &r.payload[4..]);
        let sh = ServerHello::parse(msg.body()).map_err(|e| e.to_string())?;
        Ok((msg, sh))
    };
    let mut transcript = Transcript::new();
    let ch1_msg = ch1.encode();
    let (mut sh_msg, mut sh) = server_hello(&next(raw, &mut pending)?)?;
    let mut kx = kx;
    if sh.is_hrr() {
        let g = sh.hrr_group().unwrap().unwrap();
        transcript.add(&ch1_msg.raw);
        transcript.start_hash(HashAlg::Sha256).unwrap();
        transcript.replace_with_message_hash().unwrap();
        transcript.add(&sh_msg.raw);
        kx = KeyExchange::generate(g).unwrap();
        let ch2 = retry(&kx).encode();
        raw.send(&frame(HANDSHAKE, 0x0303, &ch2.raw));
        transcript.add(&ch2.raw);
        loop {
            let r = next(raw, &mut pending)?;
            if r.typ != CCS {
                (sh_msg, sh) = server_hello(&r)?;
                break;
            }
        }
    } else {
        transcript.start_hash(HashAlg::Sha256).unwrap();
        transcript.add(&ch1_msg.raw);
    }
    transcript.add(&sh_msg.raw);
    let share = sh.key_share().unwrap().unwrap();
    let shared = kx.agree(&share.key_exchange).unwrap();
    let hs = EarlySecret::new(HashAlg::Sha256).into_handshake(&shared);
    let (c_hs, s_hs) = hs.traffic_secrets(transcript.current().unwrap().as_bytes());
    let mut opener = Opener::new(keys(s_hs.key_iv(16))).unwrap();
    let mut joiner = HandshakeJoiner::new();
    'flight: loop {
        let r = next(raw, &mut pending)?;
        if r.typ == CCS {
            continue;
        }
        if r.typ == ALERT {
            return Err(format!("plaintext alert {:?}", r.payload));
        }
        let (typ, pt) = opener
            .open(bytes::BytesMut::from(&reframe(&r)[..]))
            .map_err(|e| e.to_string())?;
        if typ == ContentType::Alert {
            return Err(format!("alert {}", Alert::from_code(pt[1])));
        }
        joiner.push(&pt);
        while let Some(m) = joiner.next_message().unwrap() {
            transcript.add(&m.raw);
            if m.typ == hs_type::FINISHED {
                break 'flight;
            }
        }
    }
    let through_server_finished = transcript.current().unwrap();
    let fin = encode_finished(c_hs.finished(through_server_finished.as_bytes()).as_bytes());
    let mut sealer = Sealer::new(keys(c_hs.key_iv(16))).unwrap();
    let mut rec = bytes::BytesMut::new();
    sealer
        .seal_payload(ContentType::Handshake, &fin.raw, &mut rec)
        .unwrap();
    raw.send(&rec);
    let app = hs
        .into_master()
        .application_secrets(through_server_finished.as_bytes());
    let mut opener = Opener::new(keys(app.server.key_iv(16))).unwrap();
    loop {
        let r = next(raw, &mut pending)?;
        let (typ, pt) = opener
            .open(bytes::BytesMut::from(&reframe(&r)[..]))
            .map_err(|e| e.to_string())?;
        match typ {
            ContentType::ApplicationData => return Ok(pt.to_vec()),
            ContentType::Alert => return Err(format!("alert {}", Alert::from_code(pt[1]))),
            _ => {}
        }
    }
}

/// A TLS 1.3 server that sends `GREETING` once the handshake is done.
fn greeting_server(s: ServerConfig) -> (SocketAddr, JoinHandle<Result<(), Error>>) {
    serve(s, |c| c.write_all(GREETING))
}

const GREETING: &[u8] = b"handshake done, early data skipped";

#[test]
fn rejected_early_data_is_skipped_up_to_a_bound() {
    let Some((_, s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    // Ten early records, a few KiB: skipped; the handshake completes.
    for (n, len) in [(1usize, 100usize), (10, 1000), (4, 1 << 14)] {
        let (addr, h) = greeting_server(s.clone());
        let mut raw = Raw::connect(addr);
        let kx = KeyExchange::generate(group::X25519).unwrap();
        let ch = early_data_hello(&kx);
        let mut wire = frame(HANDSHAKE, 0x0301, &ch.encode().raw);
        wire.extend(frame(CCS, 0x0303, &[1]));
        wire.extend(early_records(n, len));
        raw.send(&wire);
        let got = tls13_client(&mut raw, kx, &ch, |_| unreachable!("no HelloRetryRequest"));
        assert_eq!(got.as_deref(), Ok(GREETING), "{n} x {len}");
        h.join().unwrap().unwrap();
    }
    // Past the bound, an undecryptable record is bad_record_mac again.
    let (addr, h) = greeting_server(s.clone());
    let mut raw = Raw::connect(addr);
    let kx = KeyExchange::generate(group::X25519).unwrap();
    let ch = early_data_hello(&kx);
    let mut wire = frame(HANDSHAKE, 0x0301, &ch.encode().raw);
    wire.extend(early_records(5, 1 << 14));
    raw.send(&wire);
    let got = tls13_client(&mut raw, kx, &ch, |_| unreachable!());
    assert!(got.is_err(), "{got:?}");
    assert!(matches!(h.join().unwrap(), Err(Error::BadRecordMac)));
    // Without early_data in the ClientHello nothing is skipped.
    let (addr, h) = greeting_server(s);
    let mut raw = Raw::connect(addr);
    let kx = KeyExchange::generate(group::X25519).unwrap();
    let ch = client_hello_with(&kx, version::TLS12, &[version::TLS13]);
    let mut wire = frame(HANDSHAKE, 0x0301, &ch.encode().raw);
    wire.extend(early_records(1, 100));
    raw.send(&wire);
    let got = tls13_client(&mut raw, kx, &ch, |_| unreachable!());
    assert!(got.is_err(), "{got:?}");
    assert!(matches!(h.join().unwrap(), Err(Error::BadRecordMac)));
}

#[test]
fn early_data_before_the_second_client_hello_is_skipped() {
    let Some((_, mut s, _pki)) = pki_and_server(Versions::BOTH) else {
        return;
    };
    s.groups = vec![NamedGroup::Secp256r1];
    let (addr, h) = greeting_server(s);
    let mut raw = Raw::connect(addr);
    let kx = KeyExchange::generate(group::X25519).unwrap();
    let ch1 = early_data_hello(&kx);
    let mut wire = frame(HANDSHAKE, 0x0301, &ch1.encode().raw);
    wire.extend(frame(CCS, 0x0303, &[1]));
    wire.extend(early_records(3, 500));
    raw.send(&wire);
    let retry = |kx2: &KeyExchange| {
        let mut ch2 = ch1.clone();
        ch2.extensions.retain(|e| e.typ != ext::EARLY_DATA);
        replace_ext_in_place(
            &mut ch2.extensions,
            build::key_share_client(&[sealwire::handshake::messages::KeyShareEntry {
                group: kx2.group(),
                key_exchange: kx2.public_key().to_vec(),
            }]),
        );
        ch2
    };
    let got = tls13_client(&mut raw, kx, &ch1, retry);
    assert_eq!(got.as_deref(), Ok(GREETING));
    h.join().unwrap().unwrap();
}

/// Replaces the extension of `e`'s type where it stands.
fn replace_ext_in_place(exts: &mut [Extension], e: Extension) {
    let slot = exts.iter_mut().find(|x| x.typ == e.typ).unwrap();
    *slot = e;
}
