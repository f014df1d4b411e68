//! Session tickets of the TLS 1.3 server (RFC 8446 4.6.1): the session
//! state a ticket carries, its sealing under a rotating ticket key, and the
//! NewSessionTicket message.
//!
//! A ticket is the session state sealed with our own AES-256-GCM
//! ([`crate::aead::AesGcm`]) under the current ticket key; nothing is kept
//! on the server per session:
//!
//! ```text
//! ticket = key_id(8) || nonce(12) || AES-256-GCM(key[key_id], nonce,
//!                                       aad = "sealwire ticket v1" || key_id,
//!                                       SessionState) || tag(16)
//!
//! SessionState (version 1):
//!   u8  version = 1          u16 cipher_suite      u64 created (ms since the UNIX epoch)
//!   u32 lifetime (ms)        u32 ticket_age_add    opaque psk<1..255>
//!   opaque server_name<0..255>   (empty: none)
//!   u8  has_alpn, opaque alpn<0..255>
//! ```
//!
//! [`TicketKeys`] holds the current key and the one before it. After each
//! rotation period the current key becomes the previous one and a fresh
//! random key (OS RNG) the current one; a ticket sealed under a key older
//! than the previous one no longer opens, so the PSK is ignored and the
//! handshake is a full one (RFC 8446 4.2.11).

#![forbid(unsafe_code)]

use crate::aead::AesGcm;
use crate::handshake::codec::{Reader, Writer};
use crate::handshake::error::Error;
use crate::handshake::messages::{hs_type, Extension, HandshakeMessage};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// The additional data of every ticket, before the key id.
const TICKET_AAD: &[u8] = b"sealwire ticket v1";
/// The version byte of [`SessionState`]'s encoding.
const STATE_VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Milliseconds since the UNIX epoch, the clock of ticket creation and age.
pub fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut r = [0u8; N];
    getrandom::getrandom(&mut r).map_err(|_| Error::Internal("OS RNG failed"))?;
    Ok(r)
}

/// What a ticket remembers of the session it resumes.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionState {
    /// The suite of the original connection.
    pub suite: u16,
    /// When the ticket was issued (ms since the UNIX epoch, server clock).
    pub created_ms: u64,
    /// How long the ticket may be used (ms).
    pub lifetime_ms: u32,
    /// The ticket_age_add of the NewSessionTicket.
    pub age_add: u32,
    /// The resumption PSK (RFC 8446 4.6.1).
    pub psk: Zeroizing<Vec<u8>>,
    /// The server name (SNI) of the original connection.
    pub server_name: Option<String>,
    /// The application protocol of the original connection.
    pub alpn: Option<Vec<u8>>,
}

impl std::fmt::Debug for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionState")
            .field("suite", &self.suite)
            .field("created_ms", &self.created_ms)
            .field("lifetime_ms", &self.lifetime_ms)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl SessionState {
    /// The version 1 encoding (module docs).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::new();
        w.u8(STATE_VERSION).u16(self.suite);
        w.bytes(&self.created_ms.to_be_bytes());
        w.u32(self.lifetime_ms).u32(self.age_add);
        w.vec8(|w| {
            w.bytes(&self.psk);
        });
        w.vec8(|w| {
            w.bytes(self.server_name.as_deref().unwrap_or("").as_bytes());
        });
        w.u8(u8::from(self.alpn.is_some()));
        w.vec8(|w| {
            w.bytes(self.alpn.as_deref().unwrap_or(&[]));
        });
        Zeroizing::new(w.into_bytes())
    }

    /// Parses the encoding; `None` for anything else (another version
    /// included).
    pub fn decode(b: &[u8]) -> Option<SessionState> {
        let mut r = Reader::new(b);
        if r.u8("version").ok()? != STATE_VERSION {
            return None;
        }
        let suite = r.u16("suite").ok()?;
        let created_ms = u64::from_be_bytes(r.array::<8>("created").ok()?);
        let lifetime_ms = r.u32("lifetime").ok()?;
        let age_add = r.u32("age_add").ok()?;
        let psk = Zeroizing::new(r.vec8("psk").ok()?.to_vec());
        let name = r.vec8("server_name").ok()?;
        let has_alpn = r.u8("has_alpn").ok()?;
        let alpn = r.vec8("alpn").ok()?;
        r.finish("session state").ok()?;
        if psk.is_empty() || has_alpn > 1 {
            return None;
        }
        let server_name = match name {
            [] => None,
            n => Some(String::from_utf8(n.to_vec()).ok()?),
        };
        Some(SessionState {
            suite,
            created_ms,
            lifetime_ms,
            age_add,
            psk,
            server_name,
            alpn: (has_alpn == 1).then(|| alpn.to_vec()),
        })
    }
}

/// One ticket key: its id and its AES-256-GCM key.
struct TicketKey {
    id: [u8; KEY_ID_LEN],
    aead: AesGcm,
}

impl TicketKey {
    fn generate() -> Result<Self, Error> {
        let key = Zeroizing::new(random::<32>()?);
        Ok(TicketKey {
            id: random()?,
            aead: AesGcm::new(&key[..]).map_err(|_| Error::Internal("ticket key"))?,
        })
    }

    fn aad(&self) -> Vec<u8> {
        [TICKET_AAD, &self.id].concat()
    }
}

struct Ring {
    current: Option<TicketKey>,
    previous: Option<TicketKey>,
    /// When `current` became current.
    since: Instant,
}

/// The ticket keys of a server, shared by all its connections (in an
/// `Arc`): the current key seals, the current and the previous key open.
pub struct TicketKeys {
    ring: Mutex<Ring>,
    period: Duration,
}

impl std::fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketKeys")
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

impl TicketKeys {
    /// Ticket keys rotated every `period`. The first key is made when the
    /// first ticket is sealed.
    pub fn new(period: Duration) -> Self {
        TicketKeys {
            ring: Mutex::new(Ring {
                current: None,
                previous: None,
                since: Instant::now(),
            }),
            period,
        }
    }

    /// The rotation period.
    pub fn period(&self) -> Duration {
        self.period
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Ring>, Error> {
        self.ring
            .lock()
            .map_err(|_| Error::Internal("ticket keys poisoned"))
    }

    /// Makes a fresh current key now; the current one becomes the previous
    /// one and the previous one is dropped.
    pub fn rotate(&self) -> Result<(), Error> {
        let fresh = TicketKey::generate()?;
        let mut ring = self.lock()?;
        ring.previous = ring.current.replace(fresh);
        ring.since = Instant::now();
        Ok(())
    }

    /// Rotates when the period is over: once per period passed, so after
    /// two periods with no use the previous key is gone too.
    fn rotate_if_due(&self, ring: &mut Ring) -> Result<(), Error> {
        let elapsed = ring.since.elapsed();
        if ring.current.is_none() || self.period.is_zero() || elapsed < self.period {
            return Ok(());
        }
        ring.previous = if elapsed >= self.period * 2 {
            None
        } else {
            ring.current.take()
        };
        ring.current = Some(TicketKey::generate()?);
        ring.since = Instant::now();
        Ok(())
    }

    /// Seals `state` under the current key (module docs).
    pub fn seal(&self, state: &SessionState) -> Result<Vec<u8>, Error> {
        let mut ring = self.lock()?;
        self.rotate_if_due(&mut ring)?;
        if ring.current.is_none() {
            ring.current = Some(TicketKey::generate()?);
            ring.since = Instant::now();
        }
        let key = ring
            .current
            .as_ref()
            .ok_or(Error::Internal("no ticket key"))?;
        let nonce: [u8; NONCE_LEN] = random()?;
        let mut body = state.encode();
        let tag = key
            .aead
            .seal_in_place_detached(&nonce, &key.aad(), &mut body)
            .map_err(|_| Error::Internal("ticket sealing"))?;
        let mut out = Vec::with_capacity(KEY_ID_LEN + NONCE_LEN + body.len() + TAG_LEN);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens a ticket sealed under the current or the previous key; `None`
    /// for anything else (unknown key, bad tag, malformed state).
    pub fn open(&self, ticket: &[u8]) -> Option<SessionState> {
        if ticket.len() < KEY_ID_LEN + NONCE_LEN + TAG_LEN {
            return None;
        }
        let (id, rest) = ticket.split_at(KEY_ID_LEN);
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut ring = self.lock().ok()?;
        self.rotate_if_due(&mut ring).ok()?;
        let key = [ring.current.as_ref(), ring.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| k.id[..] == *id)?;
        let mut buf = Zeroizing::new(body.to_vec());
        key.aead
            .open_in_place_detached(nonce, &key.aad(), &mut buf, tag)
            .ok()?;
        SessionState::decode(&buf)
    }
}

/// NewSessionTicket (RFC 8446 4.6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSessionTicket {
    /// `ticket_lifetime` in seconds (at most 7 days).
    pub lifetime: u32,
    /// `ticket_age_add`.
    pub age_add: u32,
    /// `ticket_nonce<0..255>`.
    pub nonce: Vec<u8>,
    /// `ticket<1..2^16-1>`.
    pub ticket: Vec<u8>,
    /// `extensions` (early_data is the only one defined; we ignore it).
    pub extensions: Vec<Extension>,
}

/// RFC 8446 4.6.1: no ticket lives longer than seven days.
pub const MAX_LIFETIME_SECS: u32 = 604_800;

impl NewSessionTicket {
    /// The framed message.
    pub fn encode(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        w.u32(self.lifetime).u32(self.age_add);
        w.vec8(|w| {
            w.bytes(&self.nonce);
        });
        w.vec16(|w| {
            w.bytes(&self.ticket);
        });
        w.vec16(|w| {
            for e in &self.extensions {
                w.u16(e.typ).vec16(|w| {
                    w.bytes(&e.data);
                });
            }
        });
        HandshakeMessage::new(hs_type::NEW_SESSION_TICKET, w.as_bytes())
    }

    /// Parses the body; syntax errors are decode_error, a lifetime over
    /// seven days illegal_parameter (RFC 8446 4.6.1).
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        crate::handshake::messages::check_new_session_ticket(body)?;
        let mut r = Reader::new(body);
        let lifetime = r.u32("ticket_lifetime")?;
        let age_add = r.u32("ticket_age_add")?;
        let nonce = r.vec8("ticket_nonce")?.to_vec();
        let ticket = r.vec16("ticket")?.to_vec();
        let mut list = Reader::new(r.vec16("extensions")?);
        let mut extensions = Vec::new();
        while !list.is_empty() {
            let typ = list.u16("extension type")?;
            let data = list.vec16("extension data")?.to_vec();
            extensions.push(Extension { typ, data });
        }
        if lifetime > MAX_LIFETIME_SECS {
            return Err(Error::IllegalParameter("ticket_lifetime over seven days"));
        }
        Ok(NewSessionTicket {
            lifetime,
            age_add,
            nonce,
            ticket,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> SessionState {
        SessionState {
            suite: 0x1301,
            created_ms: 1_700_000_000_000,
            lifetime_ms: 7_200_000,
            age_add: 0xdead_beef,
            psk: Zeroizing::new(vec![7; 32]),
            server_name: Some("example.com".into()),
            alpn: Some(b"h2".to_vec()),
        }
    }

    #[test]
    fn state_round_trips_and_rejects_other_versions() {
        let s = state();
        let enc = s.encode();
        assert_eq!(SessionState::decode(&enc), Some(s.clone()));
        let mut other = enc.to_vec();
        other[0] = 2;
        assert_eq!(SessionState::decode(&other), None);
        assert_eq!(SessionState::decode(&enc[..enc.len() - 1]), None);
        let none = SessionState {
            server_name: None,
            alpn: None,
            ..s
        };
        assert_eq!(SessionState::decode(&none.encode()), Some(none));
    }

    #[test]
    fn tickets_open_under_current_and_previous_key_only() {
        let keys = TicketKeys::new(Duration::from_secs(3600));
        let t1 = keys.seal(&state()).unwrap();
        assert_eq!(keys.open(&t1), Some(state()));
        keys.rotate().unwrap();
        let t2 = keys.seal(&state()).unwrap();
        assert_ne!(t1[..KEY_ID_LEN], t2[..KEY_ID_LEN]);
        assert_eq!(keys.open(&t1), Some(state()), "previous key");
        keys.rotate().unwrap();
        assert_eq!(keys.open(&t1), None, "two rotations old");
        assert_eq!(keys.open(&t2), Some(state()));
        for i in 0..t2.len() {
            let mut bad = t2.clone();
            bad[i] ^= 1;
            assert_eq!(keys.open(&bad), None, "flipped byte {i}");
        }
        assert_eq!(keys.open(&t2[..30]), None);
    }

    #[test]
    fn keys_rotate_after_the_period() {
        let keys = TicketKeys::new(Duration::from_millis(50));
        let t1 = keys.seal(&state()).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let t2 = keys.seal(&state()).unwrap();
        assert_ne!(t1[..KEY_ID_LEN], t2[..KEY_ID_LEN]);
        assert!(keys.open(&t1).is_some());
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(keys.open(&t1), None);
        assert_eq!(keys.open(&t2), None);
    }

    #[test]
    fn new_session_ticket_round_trips() {
        let m = NewSessionTicket {
            lifetime: 7200,
            age_add: 5,
            nonce: vec![0, 1],
            ticket: vec![9; 40],
            extensions: vec![],
        };
        let msg = m.encode();
        assert_eq!(NewSessionTicket::parse(msg.body()).unwrap(), m);
        let long = NewSessionTicket {
            lifetime: MAX_LIFETIME_SECS + 1,
            ..m
        };
        let e = NewSessionTicket::parse(long.encode().body()).unwrap_err();
        assert_eq!(e.alert(), Some(crate::handshake::Alert::IllegalParameter));
    }
}
