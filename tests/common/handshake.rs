//! Two handshake state machines driven against each other in memory, with
//! no record layer: each side's queued actions become the other side's
//! inputs, messages can be altered in flight, and what each side derived
//! is kept for the test to compare.
//!
//! ```text
//!   client ──outbox: Send / SendCcs──▶ feed(to_server tamper) ──▶ server
//!     ▲                                                             │
//!     └──── feed(to_client tamper) ◀──outbox: Send / SendCcs ───────┘
//!   WriteKeys / ReadKeys / Established are recorded on the side that queued them
//! ```
//!
//! Delivery is strict ping-pong: a whole flight reaches the peer before it
//! answers. A ChangeCipherSpec reaches a state only if that state does not
//! merely tolerate it (RFC 8446 5: TLS 1.3 ignores the compatibility CCS,
//! as `sealwire::conn` does); in TLS 1.2 it is a protocol step.

use super::pki::{make_pki, KeyKind, Pki};
use sealwire::handshake::messages::HandshakeMessage;
use sealwire::handshake::tls13::{client, server, WriteUpdater};
use sealwire::handshake::verify::{RootStore, ServerVerification};
use sealwire::handshake::{
    Action, Alert, ClientConfig, Context, Error, Established, Input, ProtocolVersion, ServerConfig,
    State, Versions,
};
use std::sync::Arc;

/// A hook that may rewrite each handshake message on its way to one side.
pub type Tamper<'a> = &'a mut dyn FnMut(&mut HandshakeMessage);

/// A hook that leaves every message alone.
pub fn untouched() -> impl FnMut(&mut HandshakeMessage) {
    |_| {}
}

/// One endpoint: its state, its context, and what it queued.
pub struct Peer {
    pub state: Option<Box<dyn State>>,
    pub cx: Context,
    /// key || iv of every WriteKeys, in order.
    pub write_keys: Vec<Vec<u8>>,
    /// key || iv of every ReadKeys, in order.
    pub read_keys: Vec<Vec<u8>>,
    /// The record version of every WriteKeys, in order.
    pub write_versions: Vec<ProtocolVersion>,
    pub established: Option<Established>,
    /// The handshake type of every message sent, in order.
    pub sent_types: Vec<u8>,
    /// Every warning alert queued, in order.
    pub warnings: Vec<Alert>,
    /// The secret of the sending keys once connected (TLS 1.3).
    pub updater: Option<WriteUpdater>,
    /// Every RequireRecordVersion, in order.
    pub required_versions: Vec<u16>,
}

impl Peer {
    pub fn new(state: Box<dyn State>, cx: Context) -> Self {
        Peer {
            state: Some(state),
            cx,
            write_keys: Vec::new(),
            read_keys: Vec::new(),
            write_versions: Vec::new(),
            established: None,
            sent_types: Vec::new(),
            warnings: Vec::new(),
            updater: None,
            required_versions: Vec::new(),
        }
    }

    /// Applies the queued actions; returns what goes on the wire to the
    /// peer. Every key's IV has its version's length: the 12-byte IV of
    /// TLS 1.3 (RFC 8446 5.3), the 4-byte salt of TLS 1.2 GCM (RFC 5288 3).
    pub fn outbox(&mut self) -> Vec<Input> {
        let mut wire = Vec::new();
        for a in self.cx.actions.drain(..) {
            match a {
                Action::Send(m) => {
                    self.sent_types.push(m.typ);
                    wire.push(Input::Handshake(m));
                }
                Action::SendCcs => wire.push(Input::ChangeCipherSpec),
                Action::WriteKeys(k) => {
                    assert_eq!(k.iv.len(), iv_len(k.version), "{:?} write IV", k.version);
                    self.write_versions.push(k.version);
                    self.write_keys.push([&k.key[..], &k.iv[..]].concat());
                }
                Action::ReadKeys(k) => {
                    assert_eq!(k.iv.len(), iv_len(k.version), "{:?} read IV", k.version);
                    self.read_keys.push([&k.key[..], &k.iv[..]].concat());
                }
                Action::Established(e) => self.established = Some(e),
                Action::SendWarning(a) => self.warnings.push(a),
                Action::RequireRecordVersion(v) => self.required_versions.push(v),
                Action::SkipRejectedEarlyData => {}
                Action::WriteUpdater(u) => self.updater = Some(u),
                Action::KeyUpdate { request_peer } => {
                    let u = self
                        .updater
                        .as_mut()
                        .expect("KeyUpdate before WriteUpdater");
                    let (m, k) = u.update(request_peer).expect("KeyUpdate");
                    self.sent_types.push(m.typ);
                    wire.push(Input::Handshake(m));
                    self.write_versions.push(k.version);
                    self.write_keys.push([&k.key[..], &k.iv[..]].concat());
                }
            }
        }
        wire
    }

    /// Hands one input to the state, after `tamper` for a handshake
    /// message; a ChangeCipherSpec the state only tolerates is dropped.
    pub fn feed(&mut self, input: Input, tamper: Tamper<'_>) -> Result<(), Error> {
        let state = self.state.take().expect("a state after an error");
        let input = match input {
            Input::ChangeCipherSpec if state.tolerates_ccs() => {
                self.state = Some(state);
                return Ok(());
            }
            Input::Handshake(mut m) => {
                tamper(&mut m);
                Input::Handshake(m)
            }
            other => other,
        };
        self.state = Some(state.handle(&mut self.cx, input)?);
        Ok(())
    }

    /// Whether the state machine reached its connected state.
    pub fn is_connected(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.is_connected())
    }
}

fn iv_len(version: ProtocolVersion) -> usize {
    if version == ProtocolVersion::Tls12 {
        4
    } else {
        12
    }
}

/// Which side's state machine returned the error.
#[derive(Debug)]
pub enum Failed {
    Client(Error),
    Server(Error),
}

/// Runs a handshake to completion or to the first error: the client
/// (verifying `name`) against the server, `to_client` and `to_server`
/// applied to every handshake message in flight.
pub fn run(
    ccfg: ClientConfig,
    scfg: ServerConfig,
    name: &str,
    to_client: Tamper<'_>,
    to_server: Tamper<'_>,
) -> Result<(Peer, Peer), Failed> {
    let mut ccx = Context::new(ccfg.trace.clone(), ccfg.keylog.clone());
    let scx = Context::new(scfg.trace.clone(), scfg.keylog.clone());
    let c = client::start(ccfg, Some(name.into()), &mut ccx).map_err(Failed::Client)?;
    let mut cl = Peer::new(c, ccx);
    let mut sv = Peer::new(server::start(scfg), scx);
    // Two round trips for TLS 1.3 with a HelloRetryRequest; the bound only
    // stops a pair of machines that keep talking.
    for _ in 0..10 {
        let to_s = cl.outbox();
        let client_idle = to_s.is_empty();
        for i in to_s {
            sv.feed(i, to_server).map_err(Failed::Server)?;
        }
        let to_c = sv.outbox();
        if client_idle && to_c.is_empty() {
            return Ok((cl, sv));
        }
        for i in to_c {
            cl.feed(i, to_client).map_err(Failed::Client)?;
        }
    }
    panic!("handshake did not settle");
}

/// A client and a server config for `versions`, with a fresh PKI of `kind`
/// for `localhost` (kept alive by the returned [`Pki`]).
pub fn configs(kind: KeyKind, versions: Versions) -> (ClientConfig, ServerConfig, Pki) {
    let pki = make_pki(kind, &["localhost"]);
    let roots = RootStore::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap();
    let mut c = ClientConfig::new(ServerVerification::Roots(Arc::new(roots)));
    c.versions = versions;
    let mut s = ServerConfig::from_pem(
        &std::fs::read(&pki.cert).unwrap(),
        &std::fs::read(&pki.key).unwrap(),
    )
    .unwrap();
    s.versions = versions;
    (c, s, pki)
}

/// The client's error, which must map to `alert`.
pub fn expect_client(r: Result<(Peer, Peer), Failed>, alert: Alert) -> Error {
    match r {
        Err(Failed::Client(e)) => {
            assert_eq!(e.alert(), Some(alert), "{e}");
            e
        }
        Err(Failed::Server(e)) => panic!("server failed instead: {e}"),
        Ok(_) => panic!("handshake succeeded"),
    }
}

/// The server's error, which must map to `alert`.
pub fn expect_server(r: Result<(Peer, Peer), Failed>, alert: Alert) -> Error {
    match r {
        Err(Failed::Server(e)) => {
            assert_eq!(e.alert(), Some(alert), "{e}");
            e
        }
        Err(Failed::Client(e)) => panic!("client failed instead: {e}"),
        Ok(_) => panic!("handshake succeeded"),
    }
}

/// Reads from `c` until `n` bytes have come (panics if the peer closes
/// first or a read fails).
pub fn read_exactly(
    c: &mut sealwire::conn::Connection<std::os::unix::net::UnixStream>,
    n: usize,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while out.len() < n {
        let k = c.read(&mut buf).unwrap();
        assert!(k > 0, "peer closed early");
        out.extend_from_slice(&buf[..k]);
    }
    out
}
