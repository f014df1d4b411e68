//! TLS 1.3 resumption (RFC 8446 2.2, 4.2.11, 4.6.1) between the sealwire
//! client and server, in memory: a full handshake that gives tickets, then
//! a resumed one, in both suites and after a HelloRetryRequest; tickets
//! under rotated, expired or altered keys fall back to a full handshake; a
//! wrong binder and a selected identity out of range are fatal; psk_ke
//! only when allowed. The OpenSSL and rustls interop is in
//! `interop_resumption.rs`.

mod common;

use common::handshake::{
    configs, expect_client, expect_server, run, untouched, Failed, Peer, Tamper,
};
use common::pki::{KeyKind, Pki};
use sealwire::handshake::keyschedule::EarlySecret;
use sealwire::handshake::kx::group;
use sealwire::handshake::messages::{
    ext, hs_type, suite, ClientHello, HandshakeMessage, ServerHello,
};
use sealwire::handshake::tls13::psk::{self, OfferedPsks, SessionStore};
use sealwire::handshake::transcript::HashAlg;
use sealwire::handshake::{Alert, ClientConfig, ServerConfig, Versions};
use std::sync::Arc;
use std::time::Duration;

const NAME: &str = "localhost";

struct Setup {
    client: ClientConfig,
    server: ServerConfig,
    store: Arc<SessionStore>,
    _pki: Pki,
}

fn setup(suite: u16) -> Setup {
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
        suite::TLS13_AES_128_GCM_SHA256,
        suite::TLS13_AES_256_GCM_SHA384,
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
    let mut s = setup(suite::TLS13_AES_128_GCM_SHA256);
    s.server.tickets = 0;
    full(&s);
    assert!(s.store.tickets(NAME).is_empty());
    let (c, sv) = second(&s);
    assert_full(&c, &sv);
}

#[test]
fn resumed_after_hello_retry_request() {
    let mut s = setup(suite::TLS13_AES_256_GCM_SHA384);
    full(&s);
    s.client.key_share_groups = vec![group::X25519];
    s.client.groups = vec![group::X25519, group::SECP256R1];
    s.server.groups = vec![group::SECP256R1];
    let (c, sv) = second(&s);
    assert_eq!(count(&c, hs_type::CLIENT_HELLO), 2, "no HelloRetryRequest");
    assert_resumed(&c, &sv);
}

#[test]
fn previous_ticket_key_accepted_older_refused() {
    let s = setup(suite::TLS13_AES_128_GCM_SHA256);
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
    let mut s = setup(suite::TLS13_AES_128_GCM_SHA256);
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
    let s = setup(suite::TLS13_AES_128_GCM_SHA256);
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
    let s = setup(suite::TLS13_AES_128_GCM_SHA256);
    full(&s);
    let mut bad = |m: &mut HandshakeMessage| edit_psk(m, &mut |_, p| p.binders[0][5] ^= 1, None);
    let r = handshake(&s, &mut untouched(), &mut bad);
    expect_server(r, Alert::DecryptError);
}

#[test]
fn selected_identity_out_of_range_is_illegal_parameter() {
    let s = setup(suite::TLS13_AES_128_GCM_SHA256);
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
    let mut s = setup(suite::TLS13_AES_128_GCM_SHA256);
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
