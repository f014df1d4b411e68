//! TLS 1.3 resumption (RFC 8446 2.2, 4.2.11, 4.6.1) between the sealwire
//! client and server, in memory: a full handshake that gives tickets, then
//! a resumed one, in both suites and after a HelloRetryRequest; tickets
//! under rotated, expired or altered keys fall back to a full handshake; a
//! wrong binder and a selected identity out of range are fatal; psk_ke
//! only when allowed. Over a socket pair, rustls resumes against our
//! server and our client against rustls. The OpenSSL interop is in
//! `interop_resumption.rs`.

mod common;

use common::handshake::{
    configs, expect_client, expect_server, run, untouched, Failed, Peer, Tamper,
};
use common::pki::{KeyKind, Pki};
use sealwire::conn::Connection;
use sealwire::handshake::keyschedule::EarlySecret;
use sealwire::handshake::messages::{ext, hs_type, ClientHello, HandshakeMessage, ServerHello};
use sealwire::handshake::tls13::psk::{self, OfferedPsks, SessionStore};
use sealwire::handshake::transcript::HashAlg;
use sealwire::handshake::{Alert, ClientConfig, ServerConfig, Versions};
use sealwire::wire::{CipherSuite, NamedGroup};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

const NAME: &str = "localhost";

struct Setup {
    client: ClientConfig,
    server: ServerConfig,
    store: Arc<SessionStore>,
    _pki: Pki,
}

fn setup(suite: CipherSuite) -> Setup {
    let (mut client, mut server, pki) = configs(KeyKind::EcP256, Versions::TLS13_ONLY);
    let store = Arc::new(SessionStore::new());
    client.session_store = Some(Arc::clone(&store));
    client.suites13 = vec![suite];
    server.suites13 = vec![suite];
    Setup {
        client,
        server,
        store,
        _pki: pki,
    }
}

fn resumed(p: &Peer) -> bool {
    p.established.as_ref().expect("established").resumed
}

fn count(p: &Peer, typ: u8) -> usize {
    p.sent_types.iter().filter(|t| **t == typ).count()
}

/// A full handshake that leaves `tickets` tickets in the store.
fn full(s: &Setup) -> (Peer, Peer) {
    let (c, sv) = second(s);
    assert!(!resumed(&c) && !resumed(&sv));
    assert_eq!(count(&sv, hs_type::CERTIFICATE), 1);
    assert_eq!(count(&sv, hs_type::NEW_SESSION_TICKET), s.server.tickets);
    (c, sv)
}

/// A handshake of the setup's configs with messages altered in flight.
fn handshake(
    s: &Setup,
    to_client: Tamper<'_>,
    to_server: Tamper<'_>,
) -> Result<(Peer, Peer), Failed> {
    run(
        s.client.clone(),
        s.server.clone(),
        NAME,
        to_client,
        to_server,
    )
}

fn second(s: &Setup) -> (Peer, Peer) {
    handshake(s, &mut untouched(), &mut untouched()).unwrap()
}

fn assert_resumed(c: &Peer, sv: &Peer) {
    assert!(resumed(c), "client did not resume");
    assert!(resumed(sv), "server did not resume");
    assert_eq!(count(sv, hs_type::CERTIFICATE), 0);
    assert_eq!(count(sv, hs_type::CERTIFICATE_VERIFY), 0);
    assert!(c.established.as_ref().unwrap().peer_chain.is_empty());
    assert_eq!(c.write_keys.last(), sv.read_keys.last());
    assert_eq!(sv.write_keys.last(), c.read_keys.last());
}

fn assert_full(c: &Peer, sv: &Peer) {
    assert!(!resumed(c) && !resumed(sv), "resumed");
    assert_eq!(count(sv, hs_type::CERTIFICATE), 1);
    assert_eq!(c.write_keys.last(), sv.read_keys.last());
}

#[test]
fn full_then_resumed_in_both_suites() {
    for s13 in [
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        CipherSuite::TLS13_AES_256_GCM_SHA384,
    ] {
        let s = setup(s13);
        full(&s);
        assert_eq!(s.store.tickets(NAME).len(), 2);
        let (c, sv) = second(&s);
        assert_resumed(&c, &sv);
        assert_eq!(c.established.as_ref().unwrap().suite, s13);
        // The offered ticket is gone; the resumed connection gave two more.
        assert_eq!(s.store.tickets(NAME).len(), 3);
        let (c, sv) = second(&s);
        assert_resumed(&c, &sv);
    }
}

#[test]
fn no_tickets_when_the_server_sends_none() {
    let mut s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    s.server.tickets = 0;
    full(&s);
    assert!(s.store.tickets(NAME).is_empty());
    let (c, sv) = second(&s);
    assert_full(&c, &sv);
}

#[test]
fn resumed_after_hello_retry_request() {
    // Both handshakes see a HelloRetryRequest: the first one's second
    // ClientHello keeps psk_key_exchange_modes with no ticket to offer.
    let mut s = setup(CipherSuite::TLS13_AES_256_GCM_SHA384);
    s.client.key_share_groups = vec![NamedGroup::X25519];
    s.client.groups = vec![NamedGroup::X25519, NamedGroup::Secp256r1];
    s.server.groups = vec![NamedGroup::Secp256r1];
    let (c, _) = full(&s);
    assert_eq!(count(&c, hs_type::CLIENT_HELLO), 2, "no HelloRetryRequest");
    let (c, sv) = second(&s);
    assert_eq!(count(&c, hs_type::CLIENT_HELLO), 2, "no HelloRetryRequest");
    assert_resumed(&c, &sv);
}

#[test]
fn previous_ticket_key_accepted_older_refused() {
    let s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    full(&s);
    s.server.ticket_keys.rotate().unwrap();
    let (c, sv) = second(&s);
    assert_resumed(&c, &sv);
    // The newest ticket (offered next) is under the second key; two more
    // rotations leave it two keys old.
    s.server.ticket_keys.rotate().unwrap();
    s.server.ticket_keys.rotate().unwrap();
    let (c, sv) = second(&s);
    assert_full(&c, &sv);
}

#[test]
fn expired_ticket_gives_a_full_handshake() {
    let mut s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    // The client is told 1 s (rounded up) and still offers the ticket;
    // the server's own record says 200 ms.
    s.server.ticket_lifetime = Duration::from_millis(200);
    full(&s);
    std::thread::sleep(Duration::from_millis(400));
    let (c, sv) = second(&s);
    assert_full(&c, &sv);
}

/// Rewrites the ClientHello's pre_shared_key (and, when `rebind` holds the
/// PSK, recomputes the binder as a client would).
fn edit_psk(
    m: &mut HandshakeMessage,
    edit: &mut dyn FnMut(&mut ClientHello, &mut OfferedPsks),
    rebind: Option<&[u8]>,
) {
    if m.typ != hs_type::CLIENT_HELLO {
        return;
    }
    let mut ch = ClientHello::parse(m.body()).unwrap();
    let Some(data) = ch.extension(ext::PRE_SHARED_KEY) else {
        return;
    };
    let mut psks = OfferedPsks::parse(data).unwrap();
    edit(&mut ch, &mut psks);
    *ch.extensions.last_mut().unwrap() = psks.extension();
    if let Some(key) = rebind {
        let raw = ch.encode().raw;
        let hash = HashAlg::Sha256.hash(&raw[..raw.len() - psks.binders_len()]);
        psks.binders[0] = EarlySecret::with_psk(HashAlg::Sha256, key)
            .binder(hash.as_bytes())
            .as_bytes()
            .to_vec();
        *ch.extensions.last_mut().unwrap() = psks.extension();
    }
    *m = ch.encode();
}

#[test]
fn altered_ticket_gives_a_full_handshake() {
    let s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    full(&s);
    for i in [0, 10, 30] {
        let mut t = s.store.take(NAME).unwrap();
        t.ticket[i] ^= 1;
        s.store.insert(NAME, t);
        let (c, sv) = second(&s);
        assert_full(&c, &sv);
    }
}

#[test]
fn wrong_binder_is_decrypt_error() {
    let s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    full(&s);
    let mut bad = |m: &mut HandshakeMessage| edit_psk(m, &mut |_, p| p.binders[0][5] ^= 1, None);
    let r = handshake(&s, &mut untouched(), &mut bad);
    expect_server(r, Alert::DecryptError);
}

#[test]
fn selected_identity_out_of_range_is_illegal_parameter() {
    let s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    full(&s);
    let mut out_of_range = |m: &mut HandshakeMessage| {
        if m.typ == hs_type::SERVER_HELLO {
            let mut sh = ServerHello::parse(m.body()).unwrap();
            for e in &mut sh.extensions {
                if e.typ == ext::PRE_SHARED_KEY {
                    *e = psk::selected_identity_extension(1);
                }
            }
            *m = sh.encode();
        }
    };
    let r = handshake(&s, &mut out_of_range, &mut untouched());
    expect_client(r, Alert::IllegalParameter);
}

/// The second ClientHello offers psk_ke only, with a binder made for it.
fn psk_ke_only(s: &Setup) -> impl FnMut(&mut HandshakeMessage) {
    let key = s.store.tickets(NAME).last().unwrap().psk.to_vec();
    move |m: &mut HandshakeMessage| {
        edit_psk(
            m,
            &mut |ch, _| {
                for e in &mut ch.extensions {
                    if e.typ == ext::PSK_KEY_EXCHANGE_MODES {
                        e.data = vec![1, psk::PSK_KE];
                    }
                }
            },
            Some(&key),
        )
    }
}

/// The server's ServerHello: whether it has pre_shared_key and key_share.
fn server_hello_shape(seen: &mut Option<(bool, bool)>, m: &HandshakeMessage) {
    if m.typ == hs_type::SERVER_HELLO {
        let sh = ServerHello::parse(m.body()).unwrap();
        *seen = Some((
            sh.extension(ext::PRE_SHARED_KEY).is_some(),
            sh.extension(ext::KEY_SHARE).is_some(),
        ));
    }
}

#[test]
fn psk_ke_refused_unless_allowed() {
    // The altered ClientHello reaches the server only, so the server's
    // signature (full handshake) or Finished (resumed) is over another
    // transcript than the client's: the ServerHello shows the choice.
    let mut s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    full(&s);
    for (allowed, expect) in [(false, (false, true)), (true, (true, false))] {
        s.server.allow_psk_ke = allowed;
        let mut to_server = psk_ke_only(&s);
        let mut seen = None;
        let mut look = |m: &mut HandshakeMessage| server_hello_shape(&mut seen, m);
        let r = handshake(&s, &mut look, &mut to_server);
        assert!(r.is_err());
        assert_eq!(seen, Some(expect), "allow_psk_ke {allowed}");
    }
}

// ---------------------------------------------------------------------
// rustls peers (ring provider), over a socket pair
// ---------------------------------------------------------------------

/// `ping` → `pong` over an established connection.
fn ping_pong(tls: &mut (impl Read + Write), client: bool) {
    let mut buf = [0u8; 4];
    if client {
        tls.write_all(b"ping").unwrap();
        tls.flush().unwrap();
        tls.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
    } else {
        tls.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        tls.write_all(b"pong").unwrap();
        tls.flush().unwrap();
    }
}

/// [`ping_pong`] for our connection.
fn sealwire_ping_pong(conn: &mut Connection<UnixStream>, client: bool) {
    let (send, expect) = if client {
        (b"ping", b"pong")
    } else {
        (b"pong", b"ping")
    };
    if client {
        conn.write_all(send).unwrap();
    }
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = conn.read(&mut buf[got..]).unwrap();
        assert!(n > 0, "the peer closed early");
        got += n;
    }
    assert_eq!(&buf, expect);
    if !client {
        conn.write_all(send).unwrap();
    }
}

fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn rustls_roots(pki: &Pki) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&pki.ca).unwrap();
    for c in sealwire::handshake::verify::certs_from_pem(&pem).unwrap() {
        roots.add(c).unwrap();
    }
    roots
}

/// The rustls client (with its default in-memory session cache) against
/// our server, twice: the second connection resumes on both sides.
#[test]
fn rustls_client_resumes_against_sealwire_server() {
    let s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    let cfg = Arc::new(
        rustls::ClientConfig::builder_with_provider(ring_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(rustls_roots(&s._pki))
            .with_no_client_auth(),
    );
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let (a, b) = common::socket_pair();
        let server_cfg = s.server.clone();
        let server = std::thread::spawn(move || {
            let mut conn = Connection::server(b, server_cfg).expect("sealwire server");
            sealwire_ping_pong(&mut conn, false);
            conn.established().unwrap().resumed
        });
        let name = rustls::pki_types::ServerName::try_from(NAME).unwrap();
        let conn = rustls::ClientConnection::new(Arc::clone(&cfg), name).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, a);
        ping_pong(&mut tls, true);
        let server_resumed = server.join().unwrap();
        // rustls takes in the tickets that came with the pong.
        kinds.push((tls.conn.handshake_kind(), server_resumed));
    }
    assert_eq!(
        kinds,
        [
            (Some(rustls::HandshakeKind::Full), false),
            (Some(rustls::HandshakeKind::Resumed), true)
        ]
    );
}

/// Our client against a rustls server that sends tickets: the second
/// connection resumes on both sides.
#[test]
fn sealwire_client_resumes_against_rustls_server() {
    let s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    let chain =
        sealwire::handshake::verify::certs_from_pem(&std::fs::read(&s._pki.cert).unwrap()).unwrap();
    let key = rustls_pemfile::private_key(&mut &std::fs::read(&s._pki.key).unwrap()[..])
        .unwrap()
        .unwrap();
    let mut server_cfg = rustls::ServerConfig::builder_with_provider(ring_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    server_cfg.send_tls13_tickets = 2;
    let server_cfg = Arc::new(server_cfg);
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let (a, b) = common::socket_pair();
        let cfg = Arc::clone(&server_cfg);
        let server = std::thread::spawn(move || {
            let conn = rustls::ServerConnection::new(cfg).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, b);
            ping_pong(&mut tls, false);
            tls.conn.handshake_kind()
        });
        let mut conn =
            Connection::client(a, s.client.clone(), Some(NAME)).expect("sealwire client");
        sealwire_ping_pong(&mut conn, true);
        kinds.push((conn.established().unwrap().resumed, server.join().unwrap()));
    }
    assert_eq!(
        kinds,
        [
            (false, Some(rustls::HandshakeKind::Full)),
            (true, Some(rustls::HandshakeKind::Resumed))
        ]
    );
}

/// A client without psk_key_exchange_modes (no session store) gets no
/// tickets (RFC 8446 4.2.9).
#[test]
fn no_tickets_for_a_client_without_psk_modes() {
    let mut s = setup(CipherSuite::TLS13_AES_128_GCM_SHA256);
    s.client.session_store = None;
    let (c, sv) = second(&s);
    assert_eq!(count(&sv, hs_type::NEW_SESSION_TICKET), 0);
    assert!(!resumed(&c));
}
