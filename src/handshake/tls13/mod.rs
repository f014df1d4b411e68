//! TLS 1.3 (RFC 8446): the client and server state machines, and the
//! connected state that handles post-handshake messages.

#![forbid(unsafe_code)]

pub mod client;
pub mod keyschedule;
pub mod psk;
pub mod server;
pub mod tickets;

use super::error::Error;
use super::messages::{self, hs_type, suite, HandshakeMessage};
use super::transcript::HashAlg;
// `keyschedule` names these modules through `super::`.
use super::{codec, error, transcript};
use super::{Action, Context, Input, KeyLogSink, ProtocolVersion, RecordKeys, State, Trace};
use crate::wire::CipherSuite;
use keyschedule::TrafficSecret;
use zeroize::Zeroizing;

/// The hash and AEAD key length of a TLS 1.3 suite (RFC 8446 B.4).
pub fn suite_params(s: u16) -> Option<(HashAlg, usize)> {
    match s {
        suite::TLS13_AES_128_GCM_SHA256 => Some((HashAlg::Sha256, 16)),
        suite::TLS13_AES_256_GCM_SHA384 => Some((HashAlg::Sha384, 32)),
        _ => None,
    }
}

/// Record keys from a traffic secret (RFC 8446 7.3).
pub(crate) fn record_keys(secret: &TrafficSecret, s: u16) -> Result<RecordKeys, Error> {
    let (_, key_len) = suite_params(s).ok_or(Error::Internal("not a TLS 1.3 suite"))?;
    let k = secret.key_iv(key_len);
    Ok(RecordKeys {
        version: ProtocolVersion::Tls13,
        suite: CipherSuite::from_iana(s).ok_or(Error::Internal("not a TLS 1.3 suite"))?,
        key: k.key,
        iv: Zeroizing::new(k.iv.to_vec()),
    })
}

/// Logs a traffic secret to the key log and its label to the trace.
pub(crate) fn announce(cx: &Context, secret: &TrafficSecret, client_random: &[u8; 32]) {
    cx.trace
        .step(|| format!("derived {} (label only)", secret.kind().rfc_name()));
    cx.keylog.log(
        &secret.kind().keylog_label(),
        client_random,
        secret.expose_for_keylog(),
    );
}

/// The secret of the keys we send with once the handshake is done, handed
/// to the driver ([`Action::WriteUpdater`]) so that whichever thread writes
/// can update them (RFC 8446 4.6.3): on request, when the peer asks, and
/// before the AES-GCM usage limit.
///
/// ```text
/// KeyUpdate (sealed under the current keys) ─▶ secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length)
///                                           ─▶ keys and IV of secret_N+1 (RFC 8446 7.2, 7.3)
/// ```
#[derive(Debug)]
pub struct WriteUpdater {
    suite: u16,
    client_random: [u8; 32],
    secret: TrafficSecret,
    trace: Trace,
    keylog: KeyLogSink,
}

impl WriteUpdater {
    /// The KeyUpdate message to send under the current keys, and the keys
    /// every record after it is sealed with.
    pub fn update(&mut self, request_peer: bool) -> Result<(HandshakeMessage, RecordKeys), Error> {
        let msg = messages::encode_key_update(request_peer);
        self.trace.step(|| format!("send {}", msg.name()));
        let next = self.secret.next()?;
        self.trace
            .step(|| format!("derived {} (label only)", next.kind().rfc_name()));
        self.keylog.log(
            &next.kind().keylog_label(),
            &self.client_random,
            next.expose_for_keylog(),
        );
        let keys = record_keys(&next, self.suite)?;
        self.secret = next;
        Ok((msg, keys))
    }
}

/// The established TLS 1.3 session: handles NewSessionTicket and KeyUpdate
/// (RFC 8446 4.6). Our own KeyUpdates are made by the driver's
/// [`WriteUpdater`]; this state asks for them.
#[derive(Debug)]
pub struct Connected {
    is_client: bool,
    suite: u16,
    client_random: [u8; 32],
    /// Secret of the keys the peer sends with.
    read: TrafficSecret,
    /// Where a client keeps the tickets it receives.
    tickets: Option<psk::TicketSink>,
}

impl Connected {
    /// The connected state; the secret of our sending keys goes to the
    /// driver as a [`WriteUpdater`].
    pub(crate) fn new(
        cx: &mut Context,
        is_client: bool,
        suite: u16,
        client_random: [u8; 32],
        write: TrafficSecret,
        read: TrafficSecret,
    ) -> Self {
        cx.actions.push(Action::WriteUpdater(WriteUpdater {
            suite,
            client_random,
            secret: write,
            trace: cx.trace.clone(),
            keylog: cx.keylog.clone(),
        }));
        Connected {
            is_client,
            suite,
            client_random,
            read,
            tickets: None,
        }
    }

    /// A client's connected state that stores the tickets it receives.
    pub(crate) fn with_tickets(mut self, sink: Option<psk::TicketSink>) -> Self {
        self.tickets = sink;
        self
    }
}

impl State for Connected {
    fn handle(
        mut self: Box<Self>,
        cx: &mut Context,
        input: Input,
    ) -> Result<Box<dyn State>, Error> {
        let msg = match input {
            Input::Handshake(m) => m,
            Input::ChangeCipherSpec => {
                return Err(Error::unexpected("application data", "ChangeCipherSpec"))
            }
        };
        match msg.typ {
            hs_type::NEW_SESSION_TICKET if self.is_client => match &self.tickets {
                Some(sink) => sink.receive(cx, msg.body())?,
                None => {
                    // No session store: check the syntax and drop the ticket.
                    messages::check_new_session_ticket(msg.body())?;
                    cx.trace
                        .step(|| "received NewSessionTicket (ignored)".into());
                }
            },
            hs_type::KEY_UPDATE => {
                let requested = messages::parse_key_update(msg.body())?;
                cx.trace
                    .step(|| format!("received KeyUpdate (update_requested={requested})"));
                let next = self.read.next()?;
                announce(cx, &next, &self.client_random);
                cx.actions
                    .push(Action::ReadKeys(record_keys(&next, self.suite)?));
                self.read = next;
                if requested {
                    // RFC 8446 4.6.3: answered with update_not_requested.
                    cx.actions.push(Action::KeyUpdate {
                        request_peer: false,
                    });
                }
            }
            _ => return Err(Error::unexpected("post-handshake message", msg.name())),
        }
        Ok(self)
    }

    fn is_connected(&self) -> bool {
        true
    }

    fn send_key_update(&mut self, cx: &mut Context, request_peer: bool) -> Result<(), Error> {
        cx.actions.push(Action::KeyUpdate { request_peer });
        Ok(())
    }
}
