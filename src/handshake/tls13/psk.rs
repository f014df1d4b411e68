//! TLS 1.3 resumption with PSKs from tickets (RFC 8446 2.2, 4.2.9, 4.2.11,
//! 4.6.1): the pre_shared_key and psk_key_exchange_modes extensions, the
//! server's choice of a ticket and check of its binder, the tickets the
//! server issues, and the client's session store, offer and binders.
//!
//! ```text
//! full handshake ─▶ server: NewSessionTicket{lifetime, age_add, nonce, ticket = seal(state)}
//!                ─▶ client: store {ticket, PSK = HKDF-Expand-Label(res_master, "resumption", nonce)}
//! next ClientHello + psk_key_exchange_modes(psk_dhe_ke) + pre_shared_key{identity, age, binder} (last)
//!                ─▶ server: open ticket, check suite hash, age, SNI; verify binder (bad: decrypt_error)
//!                ─▶ ServerHello + pre_shared_key(selected_identity); no Certificate, CertificateVerify
//! ```
//!
//! Anything wrong with a ticket other than its binder (unknown key, bad
//! tag, expired, another hash, another server name) only makes the server
//! ignore the PSK: the handshake is then a full one.

#![forbid(unsafe_code)]

use super::keyschedule::{EarlySecret, MasterSecret, ResumptionMasterSecret};
use super::suite_params;
use super::tickets::{unix_millis, NewSessionTicket, SessionState, TicketKeys, MAX_LIFETIME_SECS};
use crate::handshake::codec::{Reader, Writer};
use crate::handshake::error::Error;
use crate::handshake::messages::{ext, ClientHello, Extension, HandshakeMessage, ServerHello};
use crate::handshake::transcript::{HashAlg, Transcript};
use crate::handshake::{ClientConfig, Context, ServerConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// PskKeyExchangeMode psk_ke(0): PSK only, no (EC)DHE.
pub const PSK_KE: u8 = 0;
/// PskKeyExchangeMode psk_dhe_ke(1): PSK with (EC)DHE.
pub const PSK_DHE_KE: u8 = 1;

/// How far the client's idea of a ticket's age may be from ours (RFC 8446
/// 8.3 leaves the window to the server).
pub const AGE_TOLERANCE_MS: u64 = 10_000;

/// How many tickets the client keeps per server.
const TICKETS_PER_SERVER: usize = 8;

/// One `PskIdentity` (RFC 8446 4.2.11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PskIdentity {
    /// `identity<1..2^16-1>`: our tickets.
    pub identity: Vec<u8>,
    /// `obfuscated_ticket_age`.
    pub obfuscated_age: u32,
}

/// The ClientHello's pre_shared_key (`OfferedPsks`, RFC 8446 4.2.11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedPsks {
    /// `identities<7..2^16-1>`.
    pub identities: Vec<PskIdentity>,
    /// `binders<33..2^16-1>`, one per identity.
    pub binders: Vec<Vec<u8>>,
}

impl OfferedPsks {
    /// Parses the extension data. Each identity needs its binder, each
    /// binder is 32..=255 bytes (decode_error otherwise).
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(data);
        let mut ids = Reader::new(r.vec16("psk identities")?);
        let mut identities = Vec::new();
        while !ids.is_empty() {
            let identity = ids.vec16("psk identity")?.to_vec();
            let obfuscated_age = ids.u32("obfuscated_ticket_age")?;
            if identity.is_empty() {
                return Err(crate::handshake::codec::DecodeError::BadLength("psk identity").into());
            }
            identities.push(PskIdentity {
                identity,
                obfuscated_age,
            });
        }
        let mut bs = Reader::new(r.vec16("psk binders")?);
        let mut binders = Vec::new();
        while !bs.is_empty() {
            let b = bs.vec8("psk binder")?;
            if b.len() < 32 {
                return Err(crate::handshake::codec::DecodeError::BadLength("psk binder").into());
            }
            binders.push(b.to_vec());
        }
        r.finish("pre_shared_key")?;
        if identities.is_empty() || identities.len() != binders.len() {
            return Err(crate::handshake::codec::DecodeError::BadLength("psk binders").into());
        }
        Ok(OfferedPsks {
            identities,
            binders,
        })
    }

    /// The extension.
    pub fn extension(&self) -> Extension {
        Extension::build(ext::PRE_SHARED_KEY, |w| {
            w.vec16(|w| {
                for id in &self.identities {
                    w.vec16(|w| {
                        w.bytes(&id.identity);
                    })
                    .u32(id.obfuscated_age);
                }
            });
            w.vec16(|w| {
                for b in &self.binders {
                    w.vec8(|w| {
                        w.bytes(b);
                    });
                }
            });
        })
    }

    /// The length of the encoded binders list (its 2-byte length
    /// included): what RFC 8446 4.2.11.2 truncates off the ClientHello.
    pub fn binders_len(&self) -> usize {
        2 + self.binders.iter().map(|b| 1 + b.len()).sum::<usize>()
    }
}

/// psk_key_exchange_modes (RFC 8446 4.2.9): `ke_modes<1..255>`.
pub fn parse_modes(data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut r = Reader::new(data);
    let modes = r.vec8("ke_modes")?.to_vec();
    r.finish("psk_key_exchange_modes")?;
    if modes.is_empty() {
        return Err(crate::handshake::codec::DecodeError::BadLength("ke_modes").into());
    }
    Ok(modes)
}

/// The ServerHello's pre_shared_key: `selected_identity`.
pub fn parse_selected_identity(data: &[u8]) -> Result<u16, Error> {
    let mut r = Reader::new(data);
    let v = r.u16("selected_identity")?;
    r.finish("pre_shared_key")?;
    Ok(v)
}

/// The hash of the transcript so far plus the ClientHello truncated
/// before its binders (RFC 8446 4.2.11.2). `prefix` holds the messages
/// before this ClientHello (after a HelloRetryRequest); with no hash
/// chosen yet, `alg` is used.
fn truncated_hash(
    prefix: &Transcript,
    alg: HashAlg,
    ch_raw: &[u8],
    binders_len: usize,
) -> Result<crate::handshake::transcript::Output, Error> {
    let cut = ch_raw
        .len()
        .checked_sub(binders_len)
        .ok_or(Error::Internal("binders longer than the ClientHello"))?;
    let mut t = prefix.clone();
    t.start_hash(alg)?;
    t.add(&ch_raw[..cut]);
    t.current()
}

/// The early secret: from the accepted PSK, or without one.
pub(crate) fn early_secret(alg: HashAlg, psk: Option<&Accepted>) -> EarlySecret {
    match psk {
        Some(a) => EarlySecret::with_psk(alg, &a.state.psk),
        None => EarlySecret::new(alg),
    }
}

/// A PSK the server accepted.
#[derive(Debug)]
pub(crate) struct Accepted {
    index: u16,
    state: SessionState,
    /// [`PSK_KE`] or [`PSK_DHE_KE`].
    pub mode: u8,
}

/// The ServerHello of a resumption carries pre_shared_key with the
/// selected identity; in psk_ke mode it has no key_share (RFC 8446 4.2.8,
/// 4.2.11).
pub(crate) fn shape_server_hello(sh: &mut ServerHello, psk: Option<&Accepted>) {
    let Some(a) = psk else { return };
    if a.mode == PSK_KE {
        sh.extensions.retain(|e| e.typ != ext::KEY_SHARE);
    }
    sh.extensions.push(selected_identity_extension(a.index));
}

/// The (EC)DHE input of the handshake secret: the shared secret, or in
/// psk_ke mode Hash.length zeros (RFC 8446 7.1).
pub(crate) fn dhe_secret<S: AsRef<[u8]>>(
    alg: HashAlg,
    psk: Option<&Accepted>,
    shared: S,
) -> Zeroizing<Vec<u8>> {
    match psk {
        Some(a) if a.mode == PSK_KE => Zeroizing::new(vec![0; alg.output_len()]),
        _ => Zeroizing::new(shared.as_ref().to_vec()),
    }
}

/// Chooses a PSK of the ClientHello (RFC 8446 4.2.11): the first identity
/// that is a ticket of ours, still valid, of the suite's hash and for the
/// same server name; its binder must verify (decrypt_error otherwise).
/// `transcript` holds what precedes this ClientHello (the HelloRetryRequest
/// and the hash of the first ClientHello, or nothing).
pub(crate) fn select(
    cx: &Context,
    config: &ServerConfig,
    ch: &ClientHello,
    msg: &HandshakeMessage,
    suite: u16,
    transcript: &Transcript,
) -> Result<Option<Accepted>, Error> {
    let Some(data) = ch.extension(ext::PRE_SHARED_KEY) else {
        return Ok(None);
    };
    let offered = OfferedPsks::parse(data)?;
    let modes = parse_modes(
        ch.extension(ext::PSK_KEY_EXCHANGE_MODES)
            .ok_or(Error::MissingExtension("psk_key_exchange_modes"))?,
    )?;
    let mode = if modes.contains(&PSK_DHE_KE) {
        PSK_DHE_KE
    } else if modes.contains(&PSK_KE) && config.allow_psk_ke {
        PSK_KE
    } else {
        cx.trace
            .step(|| "pre_shared_key: no PSK mode we allow; full handshake".into());
        return Ok(None);
    };
    if config.client_auth.is_some() {
        cx.trace
            .step(|| "pre_shared_key: ignored, client certificates are asked for".into());
        return Ok(None);
    }
    let (alg, _) = suite_params(suite).ok_or(Error::Internal("suite"))?;
    let server_name = ch.server_name()?;
    let now = unix_millis();
    for (i, id) in offered.identities.iter().enumerate() {
        let Some(state) = usable(config, id, alg, server_name.as_deref(), now) else {
            continue;
        };
        cx.trace
            .step(|| format!("pre_shared_key: ticket {i} is valid; checking its binder"));
        let hash = truncated_hash(transcript, alg, &msg.raw, offered.binders_len())?;
        EarlySecret::with_psk(alg, &state.psk)
            .verify_binder(hash.as_bytes(), &offered.binders[i])?;
        cx.trace.step(|| {
            format!(
                "pre_shared_key: binder verified; resuming with identity {i} ({})",
                if mode == PSK_DHE_KE {
                    "psk_dhe_ke"
                } else {
                    "psk_ke"
                }
            )
        });
        return Ok(Some(Accepted {
            index: i as u16,
            state,
            mode,
        }));
    }
    cx.trace
        .step(|| "pre_shared_key: no usable ticket; full handshake".into());
    Ok(None)
}

/// The state of a ticket we can resume, if it is one.
fn usable(
    config: &ServerConfig,
    id: &PskIdentity,
    alg: HashAlg,
    server_name: Option<&str>,
    now: u64,
) -> Option<SessionState> {
    let state = config.ticket_keys.open(&id.identity)?;
    let (ticket_alg, _) = suite_params(state.suite)?;
    let age = now.checked_sub(state.created_ms)?;
    let client_age = u64::from(id.obfuscated_age.wrapping_sub(state.age_add));
    let fits = ticket_alg == alg
        && age <= u64::from(state.lifetime_ms)
        && age.abs_diff(client_age) <= AGE_TOLERANCE_MS
        && state.server_name.as_deref() == server_name;
    fits.then_some(state)
}

/// What the server needs to issue tickets once the client's Finished is in.
#[derive(Debug)]
pub(crate) struct Issuer {
    keys: Arc<TicketKeys>,
    count: usize,
    lifetime_ms: u32,
    master: MasterSecret,
    suite: u16,
    server_name: Option<String>,
    alpn: Option<Vec<u8>>,
}

/// An issuer of `config.tickets` tickets; `None` when that is 0 or when
/// the client's psk_key_exchange_modes has no mode we would resume with
/// (RFC 8446 4.2.9: the modes restrict the tickets a server sends too).
pub(crate) fn issuer(
    config: &ServerConfig,
    ch: &ClientHello,
    master: MasterSecret,
    suite: u16,
    server_name: Option<String>,
    alpn: Option<Vec<u8>>,
) -> Option<Issuer> {
    let max_ms = u64::from(MAX_LIFETIME_SECS) * 1000;
    let modes = ch
        .extension(ext::PSK_KEY_EXCHANGE_MODES)
        .and_then(|d| parse_modes(d).ok())
        .unwrap_or_default();
    let wanted = modes.contains(&PSK_DHE_KE) || (config.allow_psk_ke && modes.contains(&PSK_KE));
    (config.tickets > 0 && wanted).then(|| Issuer {
        keys: Arc::clone(&config.ticket_keys),
        count: config.tickets,
        lifetime_ms: config.ticket_lifetime.as_millis().min(u128::from(max_ms)) as u32,
        master,
        suite,
        server_name,
        alpn,
    })
}

impl Issuer {
    /// Sends the NewSessionTickets, each with its own nonce (its index),
    /// random ticket_age_add and PSK (RFC 8446 4.6.1), after the client's
    /// Finished (`transcript` up to it, `client_finished` itself).
    pub fn send(
        self,
        cx: &mut Context,
        transcript: &Transcript,
        client_finished: &HandshakeMessage,
    ) -> Result<(), Error> {
        let mut t = transcript.clone();
        t.add(&client_finished.raw);
        let res = self.master.into_resumption(t.current()?.as_bytes());
        for i in 0..self.count.min(256) {
            let nonce = vec![i as u8];
            let mut add = [0u8; 4];
            getrandom::getrandom(&mut add).map_err(|_| Error::Internal("OS RNG failed"))?;
            let state = SessionState {
                suite: self.suite,
                created_ms: unix_millis(),
                lifetime_ms: self.lifetime_ms,
                age_add: u32::from_be_bytes(add),
                psk: res.ticket_psk(&nonce),
                server_name: self.server_name.clone(),
                alpn: self.alpn.clone(),
            };
            let nst = NewSessionTicket {
                lifetime: self.lifetime_ms.div_ceil(1000),
                age_add: state.age_add,
                nonce,
                ticket: self.keys.seal(&state)?,
                extensions: Vec::new(),
            };
            cx.send(nst.encode());
        }
        Ok(())
    }
}

/// A ticket the client received.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredTicket {
    /// The ticket: our PSK identity.
    pub ticket: Vec<u8>,
    /// `ticket_lifetime` in seconds.
    pub lifetime_secs: u32,
    /// `ticket_age_add`.
    pub age_add: u32,
    /// The resumption PSK of the ticket's nonce.
    pub psk: Zeroizing<Vec<u8>>,
    /// The suite of the connection that received it.
    pub suite: u16,
    /// When it arrived (ms since the UNIX epoch).
    pub received_ms: u64,
    /// The application protocol of that connection.
    pub alpn: Option<Vec<u8>>,
}

impl std::fmt::Debug for StoredTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTicket")
            .field("suite", &self.suite)
            .field("lifetime_secs", &self.lifetime_secs)
            .field("received_ms", &self.received_ms)
            .finish_non_exhaustive()
    }
}

impl StoredTicket {
    /// Whether its lifetime is over at `now` (ms since the UNIX epoch).
    pub fn expired(&self, now: u64) -> bool {
        now.saturating_sub(self.received_ms) >= u64::from(self.lifetime_secs) * 1000
    }
}

/// The client's tickets, by server name (the name given to the
/// connection). Shared by the connections of a [`ClientConfig`] (in an
/// `Arc`); a ticket is taken out when offered, so each is used once.
#[derive(Default)]
pub struct SessionStore {
    map: Mutex<HashMap<String, Vec<StoredTicket>>>,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionStore")
    }
}

/// The first line of [`SessionStore::to_text`].
const STORE_HEADER: &str = "sealwire-sessions v1";

impl SessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<StoredTicket>>> {
        // A panic while holding the lock leaves a usable map.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a ticket for `server` (the oldest is dropped beyond a few).
    pub fn insert(&self, server: &str, ticket: StoredTicket) {
        let mut map = self.lock();
        let list = map.entry(server.to_string()).or_default();
        list.push(ticket);
        if list.len() > TICKETS_PER_SERVER {
            list.remove(0);
        }
    }

    /// Takes the most recent unexpired ticket for `server`, dropping the
    /// expired ones.
    pub fn take(&self, server: &str) -> Option<StoredTicket> {
        let now = unix_millis();
        let mut map = self.lock();
        let list = map.get_mut(server)?;
        list.retain(|t| !t.expired(now));
        list.pop()
    }

    /// The tickets held for `server`, oldest first.
    pub fn tickets(&self, server: &str) -> Vec<StoredTicket> {
        self.lock().get(server).cloned().unwrap_or_default()
    }

    /// The store as text (for `sealwire connect --sess-out`):
    ///
    /// ```text
    /// sealwire-sessions v1
    /// ticket <server name hex> <suite hex4> <lifetime s> <age_add> <received ms> <psk hex> <alpn hex or -> <ticket hex>
    /// ```
    ///
    /// one `ticket` line per ticket, fields separated by one space.
    pub fn to_text(&self) -> String {
        let mut out = format!("{STORE_HEADER}\n");
        let map = self.lock();
        let mut names: Vec<_> = map.keys().collect();
        names.sort();
        for name in names {
            for t in &map[name] {
                out.push_str(&format!(
                    "ticket {} {:04x} {} {} {} {} {} {}\n",
                    hex::encode(name.as_bytes()),
                    t.suite,
                    t.lifetime_secs,
                    t.age_add,
                    t.received_ms,
                    hex::encode(&t.psk[..]),
                    t.alpn.as_deref().map_or("-".into(), hex::encode),
                    hex::encode(&t.ticket)
                ));
            }
        }
        out
    }

    /// Reads [`SessionStore::to_text`]'s format.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(STORE_HEADER) {
            return Err(format!("not a session file (expected \"{STORE_HEADER}\")"));
        }
        let store = SessionStore::new();
        for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let (name, t) = parse_ticket_line(line).ok_or(format!("line {}: bad ticket", n + 2))?;
            store.insert(&name, t);
        }
        Ok(store)
    }
}

fn parse_ticket_line(line: &str) -> Option<(String, StoredTicket)> {
    let f: Vec<&str> = line.split(' ').collect();
    if f.len() != 9 || f[0] != "ticket" {
        return None;
    }
    let name = String::from_utf8(hex::decode(f[1]).ok()?).ok()?;
    let ticket = StoredTicket {
        suite: u16::from_str_radix(f[2], 16).ok()?,
        lifetime_secs: f[3].parse().ok()?,
        age_add: f[4].parse().ok()?,
        received_ms: f[5].parse().ok()?,
        psk: Zeroizing::new(hex::decode(f[6]).ok()?),
        alpn: match f[7] {
            "-" => None,
            a => Some(hex::decode(a).ok()?),
        },
        ticket: hex::decode(f[8]).ok()?,
    };
    let valid =
        !ticket.psk.is_empty() && !ticket.ticket.is_empty() && ticket.ticket.len() < 1 << 16;
    valid.then_some((name, ticket))
}

/// The PSK the client offers.
#[derive(Debug)]
pub(crate) struct Offer {
    ticket: StoredTicket,
    alg: HashAlg,
    early: EarlySecret,
}

/// Offers the most recent ticket for `server_name` from the config's
/// store, if any fits the suites we offer: psk_key_exchange_modes and the
/// pre_shared_key, last, whose binder covers `ch` up to its binders.
pub(crate) fn offer(
    config: &ClientConfig,
    server_name: Option<&str>,
    ch: &mut ClientHello,
) -> Result<Option<Offer>, Error> {
    let (Some(store), Some(name)) = (&config.session_store, server_name) else {
        return Ok(None);
    };
    if !config.versions.tls13 {
        return Ok(None);
    }
    // RFC 8446 4.2.9: the modes also say which tickets we take, so they go
    // out even with no ticket to offer.
    let Some(ticket) = store.take(name) else {
        ch.extensions.push(modes_extension());
        return Ok(None);
    };
    let Some((alg, _)) = suite_params(ticket.suite) else {
        return Ok(None);
    };
    let hash_offered = config
        .suites13
        .iter()
        .any(|s| suite_params(s.iana()).is_some_and(|(a, _)| a == alg));
    if !hash_offered {
        return Ok(None);
    }
    let early = EarlySecret::with_psk(alg, &ticket.psk);
    let offer = Offer { ticket, alg, early };
    offer.attach(ch, &Transcript::new())?;
    Ok(Some(offer))
}

impl Offer {
    /// Appends psk_key_exchange_modes and pre_shared_key to `ch` with the
    /// binder over `prefix` plus `ch` truncated.
    fn attach(&self, ch: &mut ClientHello, prefix: &Transcript) -> Result<(), Error> {
        let age = unix_millis().saturating_sub(self.ticket.received_ms) as u32;
        let mut psks = OfferedPsks {
            identities: vec![PskIdentity {
                identity: self.ticket.ticket.clone(),
                obfuscated_age: age.wrapping_add(self.ticket.age_add),
            }],
            binders: vec![vec![0; self.alg.output_len()]],
        };
        ch.extensions.push(modes_extension());
        ch.extensions.push(psks.extension());
        let hash = truncated_hash(prefix, self.alg, &ch.encode().raw, psks.binders_len())?;
        psks.binders[0] = self.early.binder(hash.as_bytes()).as_bytes().to_vec();
        if let Some(last) = ch.extensions.last_mut() {
            *last = psks.extension();
        }
        Ok(())
    }
}

/// Our psk_key_exchange_modes: psk_dhe_ke only.
fn modes_extension() -> Extension {
    Extension::build(ext::PSK_KEY_EXCHANGE_MODES, |w| {
        w.vec8(|w| {
            w.u8(PSK_DHE_KE);
        });
    })
}

/// After a HelloRetryRequest: the second ClientHello keeps the first one's
/// psk_key_exchange_modes and offers the PSK again, the binder now over
/// the transcript with the HelloRetryRequest (RFC 8446 4.1.4), when the
/// retry's suite has the ticket's hash; otherwise the PSK is dropped.
pub(crate) fn retry(
    offer: Option<Offer>,
    ch1: &ClientHello,
    ch2: &mut ClientHello,
    transcript: &Transcript,
) -> Result<Option<Offer>, Error> {
    match offer {
        Some(o) if transcript.alg() == Some(o.alg) => {
            o.attach(ch2, transcript)?;
            Ok(Some(o))
        }
        _ => {
            if ch1.extension(ext::PSK_KEY_EXCHANGE_MODES).is_some() {
                ch2.extensions.push(modes_extension());
            }
            Ok(None)
        }
    }
}

/// The ServerHello's answer to our offer: the early secret to use and
/// whether the server resumed. A selected identity other than the one we
/// sent, or a PSK we did not offer, or a suite of another hash, is
/// illegal_parameter (RFC 8446 4.2.11).
pub(crate) fn accept(
    cx: &Context,
    offer: Option<Offer>,
    sh: &ServerHello,
    alg: HashAlg,
) -> Result<(EarlySecret, bool), Error> {
    let Some(data) = sh.extension(ext::PRE_SHARED_KEY) else {
        if offer.is_some() {
            cx.trace
                .step(|| "ServerHello: our PSK was not chosen; full handshake".into());
        }
        return Ok((EarlySecret::new(alg), false));
    };
    let selected = parse_selected_identity(data)?;
    let offer = offer.ok_or(Error::UnsupportedExtension(ext::PRE_SHARED_KEY))?;
    if selected != 0 {
        return Err(Error::IllegalParameter(
            "selected_identity is not an identity we offered",
        ));
    }
    if offer.alg != alg {
        return Err(Error::IllegalParameter(
            "server resumed with a suite of another hash",
        ));
    }
    cx.trace
        .step(|| "ServerHello: pre_shared_key accepted; resuming".into());
    Ok((offer.early, true))
}

/// Where the client puts the tickets of a connection.
#[derive(Debug)]
pub(crate) struct TicketSink {
    store: Arc<SessionStore>,
    server: String,
    suite: u16,
    alpn: Option<Vec<u8>>,
    res: ResumptionMasterSecret,
}

/// A sink for the connection's tickets when the config has a store and
/// the connection a server name; `hash_to_client_finished` is the
/// transcript hash through our Finished.
pub(crate) fn sink(
    config: &ClientConfig,
    server_name: Option<&str>,
    suite: u16,
    alpn: Option<Vec<u8>>,
    master: MasterSecret,
    hash_to_client_finished: &[u8],
) -> Option<TicketSink> {
    let store = config.session_store.as_ref()?;
    Some(TicketSink {
        store: Arc::clone(store),
        server: server_name?.to_string(),
        suite,
        alpn,
        res: master.into_resumption(hash_to_client_finished),
    })
}

impl TicketSink {
    /// Stores a NewSessionTicket (RFC 8446 4.6.1); a lifetime of 0 means
    /// the ticket is not to be used.
    pub fn receive(&self, cx: &Context, body: &[u8]) -> Result<(), Error> {
        let nst = NewSessionTicket::parse(body)?;
        cx.trace.step(|| {
            format!(
                "received NewSessionTicket: lifetime {} s, {}-byte ticket",
                nst.lifetime,
                nst.ticket.len()
            )
        });
        if nst.lifetime == 0 {
            return Ok(());
        }
        self.store.insert(
            &self.server,
            StoredTicket {
                psk: self.res.ticket_psk(&nst.nonce),
                ticket: nst.ticket,
                lifetime_secs: nst.lifetime,
                age_add: nst.age_add,
                suite: self.suite,
                received_ms: unix_millis(),
                alpn: self.alpn.clone(),
            },
        );
        Ok(())
    }
}

/// The ServerHello's pre_shared_key with this selected_identity.
pub fn selected_identity_extension(index: u16) -> Extension {
    let mut w = Writer::new();
    w.u16(index);
    Extension {
        typ: ext::PRE_SHARED_KEY,
        data: w.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(received_ms: u64, lifetime_secs: u32) -> StoredTicket {
        StoredTicket {
            ticket: vec![1, 2, 3],
            lifetime_secs,
            age_add: 9,
            psk: Zeroizing::new(vec![5; 32]),
            suite: 0x1301,
            received_ms,
            alpn: Some(b"h2".to_vec()),
        }
    }

    #[test]
    fn offered_psks_round_trip_and_reject_mismatch() {
        let p = OfferedPsks {
            identities: vec![PskIdentity {
                identity: vec![1; 10],
                obfuscated_age: 77,
            }],
            binders: vec![vec![2; 32]],
        };
        let e = p.extension();
        assert_eq!(OfferedPsks::parse(&e.data).unwrap(), p);
        assert_eq!(p.binders_len(), 2 + 33);
        let mut no_binder = p.clone();
        no_binder.binders.clear();
        assert!(OfferedPsks::parse(&no_binder.extension().data).is_err());
        let mut short = p;
        short.binders[0].truncate(31);
        let err = OfferedPsks::parse(&short.extension().data).unwrap_err();
        assert_eq!(err.alert(), Some(crate::handshake::Alert::DecodeError));
    }

    #[test]
    fn store_takes_newest_unexpired_once_and_round_trips_as_text() {
        let s = SessionStore::new();
        let now = unix_millis();
        s.insert("a.example", ticket(now - 10_000, 5));
        s.insert("a.example", ticket(now, 60));
        s.insert("b.example", ticket(now, 60));
        let back = SessionStore::from_text(&s.to_text()).unwrap();
        assert_eq!(back.tickets("a.example"), s.tickets("a.example"));
        assert_eq!(back.tickets("b.example").len(), 1);
        assert_eq!(s.take("a.example"), Some(ticket(now, 60)));
        assert_eq!(s.take("a.example"), None, "the other one has expired");
        assert!(SessionStore::from_text("other v1\n").is_err());
        assert!(SessionStore::from_text("sealwire-sessions v1\nticket x\n").is_err());
    }
}
