//! A TLS connection over any `Read + Write`: the handshake state machine
//! drives the record layer until Finished is verified both ways, then
//! application data, KeyUpdate (TLS 1.3) and close_notify flow through
//! [`crate::record`].
//!
//! ```text
//!  socket ─▶ Deframer ─▶ Opener (once keys) ─▶ handshake ─▶ HandshakeJoiner ─▶ State::handle
//!                                        ├──▶ alert ─▶ close_notify / PeerAlert
//!                                        └──▶ application data (only once connected)
//!  State actions ─▶ Send / SendCcs / WriteKeys / ReadKeys / Established ─▶ Sealer ─▶ socket
//! ```
//!
//! The write side sits behind a mutex so that [`Connection::writer`] can
//! hand a [`ConnWriter`] to another thread (e.g. stdin → peer while this
//! thread copies peer → stdout); replies the read side must send (KeyUpdate
//! answers, alerts) take the same lock.

#![forbid(unsafe_code)]

use crate::handshake::error::{Alert, Error};
use crate::handshake::messages::{version, HandshakeJoiner};
use crate::handshake::{
    tls13, Action, ClientConfig, Context, Established, Input, ProtocolVersion, RecordKeys,
    ServerConfig, State, Trace,
};
use crate::record::{
    ContentType, Deframer, Error as RecordError, Opener, Record, Sealer, TrafficKeys,
    MAX_CIPHERTEXT_LEN_TLS13, MAX_PLAINTEXT_LEN,
};
use bytes::BytesMut;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

/// A transport whose second handle can read while the first writes (for
/// [`Connection::writer`]).
pub trait Duplex: Read + Write + Send + Sized {
    /// Another handle on the same transport.
    fn try_clone_duplex(&self) -> std::io::Result<Self>;
}

impl Duplex for std::net::TcpStream {
    fn try_clone_duplex(&self) -> std::io::Result<Self> {
        self.try_clone()
    }
}

/// How much rejected early data a server skips (RFC 8446 4.2.10 bounds it
/// by the max_early_data_size of a ticket; our tickets allow no early
/// data, so this is ours):
/// record bodies, headers not counted.
const MAX_SKIPPED_EARLY_DATA: usize = 1 << 16;

/// The fragment of an unprotected record, at most 2^14 bytes (RFC 8446 5.1,
/// RFC 5246 6.2.1: record_overflow otherwise).
fn plaintext_payload(rec: Record) -> Result<bytes::Bytes, Error> {
    let len = rec.payload().len();
    if len > MAX_PLAINTEXT_LEN {
        return Err(RecordError::RecordOverflow {
            len,
            max: MAX_PLAINTEXT_LEN,
        }
        .into());
    }
    Ok(rec.into_payload())
}

fn traffic_keys(k: &RecordKeys) -> Result<TrafficKeys, Error> {
    Ok(TrafficKeys::new(k.suite, &k.key, &k.iv)?)
}

/// The sending half: the transport (also read through while not split),
/// the sealer, and a scratch buffer.
struct WriteSide<S> {
    sock: S,
    sealer: Option<Sealer>,
    version: Option<ProtocolVersion>,
    /// The record version of the next plaintext record: 0x0301 for a
    /// client's first record (its ClientHello), 0x0303 for every other
    /// plaintext record, the server's included (RFC 8446 5.1).
    plaintext_version: u16,
    /// Handshake bytes waiting to be framed (coalesced into records).
    pending_hs: Vec<u8>,
    out: Vec<u8>,
    scratch: BytesMut,
    closed: bool,
    /// The secret of our sending keys once a TLS 1.3 handshake is done.
    updater: Option<tls13::WriteUpdater>,
    /// Update our sending keys after this many records (TLS 1.3).
    key_update_every: Option<u64>,
    /// Records sealed with the current sending keys.
    records_with_key: u64,
}

/// Records left under a sending key when it is updated (RFC 8446 5.5):
/// the KeyUpdate itself is the last record sealed with it.
const KEY_UPDATE_MARGIN: u64 = 1;

impl<S: Write> WriteSide<S> {
    /// The record version for a plaintext record about to be framed.
    fn take_plaintext_version(&mut self) -> u16 {
        std::mem::replace(&mut self.plaintext_version, version::TLS12)
    }

    fn record(&mut self, typ: ContentType, payload: &[u8]) -> Result<(), Error> {
        match &mut self.sealer {
            Some(sealer) => {
                let chunks: Box<dyn Iterator<Item = &[u8]>> = if payload.is_empty() {
                    Box::new(std::iter::once(payload))
                } else {
                    Box::new(payload.chunks(MAX_PLAINTEXT_LEN))
                };
                for chunk in chunks {
                    sealer.seal_payload(typ, chunk, &mut self.scratch)?;
                    self.out.extend_from_slice(&self.scratch);
                    self.records_with_key += 1;
                }
            }
            None => {
                let version = self.take_plaintext_version();
                for chunk in payload.chunks(MAX_PLAINTEXT_LEN) {
                    self.out.push(typ.to_u8());
                    self.out.extend_from_slice(&version.to_be_bytes());
                    self.out
                        .extend_from_slice(&(chunk.len() as u16).to_be_bytes());
                    self.out.extend_from_slice(chunk);
                }
            }
        }
        Ok(())
    }

    fn flush_handshake(&mut self) -> Result<(), Error> {
        if !self.pending_hs.is_empty() {
            let hs = std::mem::take(&mut self.pending_hs);
            self.record(ContentType::Handshake, &hs)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        self.flush_handshake()?;
        if !self.out.is_empty() {
            let out = std::mem::take(&mut self.out);
            self.sock.write_all(&out)?;
            self.sock.flush()?;
        }
        Ok(())
    }

    /// A plaintext CCS record: always unprotected (RFC 8446 5, RFC 5246 7.1).
    fn ccs(&mut self) -> Result<(), Error> {
        self.flush_handshake()?;
        let version = self.take_plaintext_version();
        self.out.extend_from_slice(&[20]);
        self.out.extend_from_slice(&version.to_be_bytes());
        self.out.extend_from_slice(&[0, 1, 1]);
        Ok(())
    }

    fn alert(&mut self, alert: Alert) -> Result<(), Error> {
        self.flush_handshake()?;
        let level = if alert == Alert::CloseNotify { 1 } else { 2 };
        self.record(ContentType::Alert, &[level, alert.code()])?;
        self.flush()
    }

    fn app_data(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Misuse("write after close_notify"));
        }
        if self.sealer.is_none() {
            return Err(Error::Misuse("write before the handshake completed"));
        }
        for chunk in data.chunks(MAX_PLAINTEXT_LEN) {
            self.update_if_due()?;
            self.record(ContentType::ApplicationData, chunk)?;
        }
        self.flush()
    }

    /// Sends a KeyUpdate under the current keys, then seals with the next
    /// ones (TLS 1.3, RFC 8446 4.6.3).
    fn key_update(&mut self, request_peer: bool) -> Result<(), Error> {
        self.flush_handshake()?;
        let updater = self.updater.as_mut().ok_or(Error::Misuse(
            "KeyUpdate is only possible on a connected TLS 1.3 session",
        ))?;
        let (msg, keys) = updater.update(request_peer)?;
        let keys = traffic_keys(&keys)?;
        self.record(ContentType::Handshake, &msg.raw)?;
        self.sealer
            .as_mut()
            .ok_or(Error::Internal("KeyUpdate without a sealer"))?
            .update_keys(keys)?;
        self.records_with_key = 0;
        Ok(())
    }

    /// Updates the sending keys before the next record when they are close
    /// to the AES-GCM usage limit, or after `key_update_every` records.
    /// Without TLS 1.3 keys nothing happens (TLS 1.2 has no KeyUpdate: its
    /// sealer refuses records past the limit).
    fn update_if_due(&mut self) -> Result<(), Error> {
        let (Some(sealer), Some(_)) = (&self.sealer, &self.updater) else {
            return Ok(());
        };
        let due = sealer.records_left() <= KEY_UPDATE_MARGIN
            || self
                .key_update_every
                .is_some_and(|n| self.records_with_key >= n);
        if due {
            self.key_update(false)?;
        }
        Ok(())
    }
}

/// A TLS connection (client or server) over the transport `S`.
pub struct Connection<S: Read + Write> {
    wr: Arc<Mutex<WriteSide<S>>>,
    /// Our own read handle once [`Connection::writer`] split the transport.
    rd_sock: Option<S>,
    state: Option<Box<dyn State>>,
    cx: Context,
    deframer: Deframer,
    joiner: HandshakeJoiner,
    opener: Option<Opener>,
    read_version: Option<ProtocolVersion>,
    established: Option<Established>,
    plaintext: BytesMut,
    peer_closed: bool,
    failed: bool,
    /// Whether the peer's TLS 1.3 compatibility ChangeCipherSpec came.
    compat_ccs_seen: bool,
    /// While rejected early data may still come: how many more bytes of
    /// it are skipped.
    early_skip_budget: Option<usize>,
}

impl<S: Read + Write> std::fmt::Debug for Connection<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("state", &self.state)
            .field("established", &self.established)
            .finish_non_exhaustive()
    }
}

fn lock<S>(m: &Mutex<WriteSide<S>>) -> Result<MutexGuard<'_, WriteSide<S>>, Error> {
    m.lock()
        .map_err(|_| Error::Internal("write side lock poisoned"))
}

impl<S: Read + Write> Connection<S> {
    fn new(sock: S, state: Box<dyn State>, cx: Context, is_client: bool) -> Self {
        Connection {
            wr: Arc::new(Mutex::new(WriteSide {
                sock,
                sealer: None,
                version: None,
                plaintext_version: if is_client {
                    version::TLS10
                } else {
                    version::TLS12
                },
                pending_hs: Vec::new(),
                out: Vec::new(),
                scratch: BytesMut::new(),
                closed: false,
                updater: None,
                key_update_every: None,
                records_with_key: 0,
            })),
            rd_sock: None,
            state: Some(state),
            cx,
            deframer: Deframer::new(),
            joiner: HandshakeJoiner::new(),
            opener: None,
            read_version: None,
            established: None,
            plaintext: BytesMut::new(),
            peer_closed: false,
            failed: false,
            compat_ccs_seen: false,
            early_skip_budget: None,
        }
    }

    /// Runs a client handshake to completion over `sock`. `server_name` is
    /// sent as SNI and checked against the certificate.
    pub fn client(sock: S, config: ClientConfig, server_name: Option<&str>) -> Result<Self, Error> {
        let mut cx = Context::new(config.trace.clone(), config.keylog.clone());
        let state = tls13::client::start(config, server_name.map(str::to_string), &mut cx)?;
        let mut c = Connection::new(sock, state, cx, true);
        c.handshake()?;
        Ok(c)
    }

    /// Runs a server handshake to completion over `sock`.
    pub fn server(sock: S, config: ServerConfig) -> Result<Self, Error> {
        crate::handshake::alpn::check_config(&config.alpn_protocols)?;
        let cx = Context::new(config.trace.clone(), config.keylog.clone());
        let state = tls13::server::start(config);
        let mut c = Connection::new(sock, state, cx, false);
        c.handshake()?;
        Ok(c)
    }

    /// What the handshake agreed.
    pub fn established(&self) -> Option<&Established> {
        self.established.as_ref()
    }

    /// The peer's certificate chain (DER, end-entity first) as verified in
    /// the handshake: on a client the server's; on a server the client's
    /// (mutual TLS), empty when the client sent none.
    pub fn peer_certificates(&self) -> &[Vec<u8>] {
        self.established
            .as_ref()
            .map_or(&[], |e| e.peer_chain.as_slice())
    }

    /// The application protocol the server chose (RFC 7301), if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.established.as_ref()?.alpn_protocol.as_deref()
    }

    fn trace(&self) -> &Trace {
        &self.cx.trace
    }

    fn handshake(&mut self) -> Result<(), Error> {
        let r = self.apply_actions().and_then(|()| {
            while !self.state.as_ref().is_some_and(|s| s.is_connected()) {
                self.process_record()?;
                if self.peer_closed {
                    return Err(Error::UnexpectedEof);
                }
            }
            Ok(())
        });
        self.fail_on_error(r)
    }

    /// Sends the alert an error calls for and remembers the failure.
    fn fail_on_error<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &r {
            if matches!(e, Error::Timeout) && !self.state_is_handshaking() {
                // A timeout between records leaves the connection usable.
                return r;
            }
            self.failed = true;
            if let Some(alert) = e.alert() {
                self.trace()
                    .step(|| format!("sending fatal alert {alert}: {e}"));
                if let Ok(mut w) = lock(&self.wr) {
                    // Best effort: the peer may be gone already.
                    let _ = w.alert(alert);
                }
            }
        }
        r
    }

    fn state_is_handshaking(&self) -> bool {
        !self.state.as_ref().is_some_and(|s| s.is_connected())
    }

    fn apply_actions(&mut self) -> Result<(), Error> {
        let actions: Vec<Action> = self.cx.actions.drain(..).collect();
        let mut w = lock(&self.wr)?;
        for a in actions {
            match a {
                Action::Send(m) => w.pending_hs.extend_from_slice(&m.raw),
                Action::SendCcs => w.ccs()?,
                Action::WriteKeys(k) => {
                    w.flush_handshake()?;
                    let keys = traffic_keys(&k)?;
                    let version = w.version;
                    match (&mut w.sealer, version) {
                        (Some(s), Some(ProtocolVersion::Tls13))
                            if k.version == ProtocolVersion::Tls13
                                && self.established.is_some() =>
                        {
                            s.update_keys(keys)?
                        }
                        _ => w.sealer = Some(Sealer::new(keys)?),
                    }
                    w.version = Some(k.version);
                }
                Action::ReadKeys(k) => {
                    // RFC 8446 5.1: handshake messages must not span a key
                    // change.
                    if self.joiner.has_partial() {
                        return Err(Error::unexpected(
                            "a record boundary at a key change",
                            "a split handshake message",
                        ));
                    }
                    let keys = traffic_keys(&k)?;
                    let version = self.read_version;
                    match (&mut self.opener, version) {
                        (Some(o), Some(ProtocolVersion::Tls13))
                            if k.version == ProtocolVersion::Tls13
                                && self.established.is_some() =>
                        {
                            o.update_keys(keys)?
                        }
                        _ => self.opener = Some(Opener::new(keys)?),
                    }
                    if k.version == ProtocolVersion::Tls13 {
                        self.deframer.set_max_len(MAX_CIPHERTEXT_LEN_TLS13);
                    }
                    self.read_version = Some(k.version);
                }
                Action::RequireRecordVersion(v) => self.deframer.require_version(v),
                Action::SkipRejectedEarlyData => {
                    self.early_skip_budget = Some(MAX_SKIPPED_EARLY_DATA);
                }
                Action::SendWarning(alert) => {
                    w.flush_handshake()?;
                    self.cx
                        .trace
                        .step(|| format!("sending warning alert {alert}"));
                    w.record(ContentType::Alert, &[1, alert.code()])?;
                }
                Action::WriteUpdater(u) => w.updater = Some(u),
                Action::KeyUpdate { request_peer } => w.key_update(request_peer)?,
                Action::Established(e) => {
                    self.cx
                        .trace
                        .step(|| format!("negotiated: {}", e.summary()));
                    self.established = Some(e)
                }
            }
        }
        w.flush()
    }

    fn read_more(&mut self) -> Result<(), Error> {
        let n = match &mut self.rd_sock {
            Some(s) => self.deframer.read_from(s)?,
            None => {
                let mut w = lock(&self.wr)?;
                self.deframer.read_from(&mut w.sock)?
            }
        };
        if n == 0 {
            return Err(Error::UnexpectedEof);
        }
        Ok(())
    }

    /// Reads and handles one record.
    fn process_record(&mut self) -> Result<(), Error> {
        let rec = self.next_record()?;
        let tls13_protected = self.read_version == Some(ProtocolVersion::Tls13);
        let Some((typ, payload, protected)) = self.unprotect(rec, tls13_protected)? else {
            return Ok(());
        };
        match typ {
            ContentType::Handshake => self.on_handshake(&payload),
            ContentType::ChangeCipherSpec => {
                self.on_change_cipher_spec(&payload, protected, tls13_protected)
            }
            ContentType::Alert => self.on_alert(&payload),
            ContentType::ApplicationData => self.on_application_data(&payload),
        }
    }

    /// The next whole record, reading from the socket as needed.
    fn next_record(&mut self) -> Result<Record, Error> {
        loop {
            if let Some(r) = self.deframer.next_record()? {
                return Ok(r);
            }
            self.read_more()?;
        }
    }

    /// The content type, payload and whether it was protected of `rec`, or
    /// `None` for a record of rejected early data that is skipped.
    fn unprotect(
        &mut self,
        rec: Record,
        tls13_protected: bool,
    ) -> Result<Option<(ContentType, bytes::Bytes, bool)>, Error> {
        let header_type = rec.typ();
        let unprotected = match (self.opener.is_some(), header_type) {
            // RFC 8446 5: an unprotected CCS may appear during the handshake,
            // and alerts may come in the clear from a peer that failed early.
            (true, ContentType::ChangeCipherSpec | ContentType::Alert) if tls13_protected => {
                (header_type, plaintext_payload(rec)?, false)
            }
            (true, t) if tls13_protected && t != ContentType::ApplicationData => {
                return Err(Error::unexpected(
                    "an encrypted record",
                    format!("{t:?} record"),
                ));
            }
            (true, _) => {
                let len = rec.payload().len();
                let opener = self.opener.as_mut().ok_or(Error::Internal("opener"))?;
                match opener.open(rec.into_bytes()) {
                    Ok((t, p)) => {
                        // RFC 8446 4.2.10: the first record that decrypts
                        // starts the client's second flight.
                        self.early_skip_budget = None;
                        (t, p, true)
                    }
                    // Rejected early data does not decrypt under the
                    // handshake key: skipped, up to the bound.
                    Err(crate::record::Error::BadRecordMac)
                        if self.early_skip_budget.is_some() && self.skip_early_data(len) =>
                    {
                        return Ok(None);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            // Before the second ClientHello (after HelloRetryRequest) early
            // data comes as application_data records we have no keys for.
            (false, ContentType::ApplicationData)
                if self.early_skip_budget.is_some()
                    && self.skip_early_data(rec.payload().len()) =>
            {
                return Ok(None);
            }
            (false, t) => {
                if t == ContentType::Handshake {
                    // The second ClientHello: no early data follows it.
                    self.early_skip_budget = None;
                }
                (header_type, plaintext_payload(rec)?, false)
            }
        };
        Ok(Some(unprotected))
    }

    /// A handshake record: its messages go to the state machine.
    fn on_handshake(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.joiner.push(payload);
        while let Some(m) = self.joiner.next_message()? {
            self.dispatch(Input::Handshake(m))?;
        }
        Ok(())
    }

    /// A ChangeCipherSpec record: the TLS 1.3 compatibility CCS is dropped,
    /// any other goes to the state machine.
    fn on_change_cipher_spec(
        &mut self,
        payload: &[u8],
        protected: bool,
        tls13_protected: bool,
    ) -> Result<(), Error> {
        if payload[..] != [1] {
            return Err(Error::unexpected(
                "ChangeCipherSpec byte 1",
                "another value",
            ));
        }
        let tolerated = self.state.as_ref().is_some_and(|s| s.tolerates_ccs());
        if tolerated && (tls13_protected || self.read_version.is_none()) {
            // RFC 8446 5: the compatibility CCS is one unprotected
            // record; a protected one or a second one is
            // unexpected_message, so a peer cannot keep the
            // handshake waiting on records that are dropped.
            if protected {
                return Err(Error::unexpected(
                    "an unprotected ChangeCipherSpec",
                    "a protected ChangeCipherSpec",
                ));
            }
            if self.compat_ccs_seen {
                return Err(Error::unexpected(
                    "one compatibility ChangeCipherSpec",
                    "a second ChangeCipherSpec",
                ));
            }
            self.compat_ccs_seen = true;
            self.trace()
                .step(|| "received ChangeCipherSpec (compat, ignored)".into());
        } else {
            self.dispatch(Input::ChangeCipherSpec)?;
        }
        Ok(())
    }

    /// An alert record: close_notify ends the peer's data, user_canceled is
    /// ignored, any other alert fails the connection.
    fn on_alert(&mut self, payload: &[u8]) -> Result<(), Error> {
        if payload.len() != 2 {
            return Err(Error::Record {
                alert: Alert::DecodeError,
                reason: "alert record is not 2 bytes".into(),
            });
        }
        let alert = Alert::from_code(payload[1]);
        self.trace().step(|| format!("received alert {alert}"));
        match alert {
            Alert::CloseNotify => self.peer_closed = true,
            // RFC 8446 6.1: user_canceled is followed by close_notify.
            Alert::UserCanceled => {}
            a => {
                self.failed = true;
                return Err(Error::PeerAlert(a));
            }
        }
        Ok(())
    }

    /// An application data record, accepted once the handshake is done.
    fn on_application_data(&mut self, payload: &[u8]) -> Result<(), Error> {
        if self.state_is_handshaking() {
            // No application data before Finished is verified.
            return Err(Error::unexpected("handshake", "application data"));
        }
        if self.joiner.has_partial() {
            return Err(Error::unexpected(
                "rest of a handshake message",
                "application data",
            ));
        }
        self.plaintext.extend_from_slice(payload);
        Ok(())
    }

    /// Counts a record of `len` bytes that is rejected early data against
    /// [`MAX_SKIPPED_EARLY_DATA`] (RFC 8446 4.2.10); whether it is dropped.
    /// Past the bound nothing more is skipped.
    fn skip_early_data(&mut self, len: usize) -> bool {
        match self.early_skip_budget {
            Some(budget) if len <= budget => {
                self.early_skip_budget = Some(budget - len);
                self.trace()
                    .step(|| format!("skipped {len} bytes of rejected early data"));
                true
            }
            _ => {
                self.early_skip_budget = None;
                false
            }
        }
    }

    fn dispatch(&mut self, input: Input) -> Result<(), Error> {
        let state = self
            .state
            .take()
            .ok_or(Error::Misuse("connection failed earlier"))?;
        self.state = Some(state.handle(&mut self.cx, input)?);
        self.apply_actions()
    }

    /// Reads application data: `Ok(0)` once the peer sent close_notify.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.failed {
            return Err(Error::Misuse("connection failed earlier"));
        }
        while self.plaintext.is_empty() && !self.peer_closed {
            let r = self.process_record();
            self.fail_on_error(r)?;
        }
        let n = buf.len().min(self.plaintext.len());
        buf[..n].copy_from_slice(&self.plaintext.split_to(n));
        Ok(n)
    }

    /// Whether the peer sent close_notify.
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Sends application data.
    pub fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.failed {
            return Err(Error::Misuse("connection failed earlier"));
        }
        lock(&self.wr)?.app_data(data)
    }

    /// Updates our sending keys (TLS 1.3 KeyUpdate), asking the peer to
    /// update theirs too when `request_peer`.
    pub fn key_update(&mut self, request_peer: bool) -> Result<(), Error> {
        let state = self
            .state
            .as_mut()
            .ok_or(Error::Misuse("connection failed earlier"))?;
        state.send_key_update(&mut self.cx, request_peer)?;
        self.apply_actions()
    }

    /// Updates our sending keys after every `records` records (TLS 1.3),
    /// for testing KeyUpdate; `None` (the default) updates them only
    /// before the AES-GCM usage limit, on request, and when the peer asks.
    /// A TLS 1.2 connection has no KeyUpdate: [`Error::Misuse`].
    pub fn set_key_update_every(&mut self, records: Option<u64>) -> Result<(), Error> {
        let mut w = lock(&self.wr)?;
        if records.is_some() && w.updater.is_none() {
            return Err(Error::Misuse(
                "KeyUpdate is only possible on a connected TLS 1.3 session",
            ));
        }
        w.key_update_every = records.filter(|n| *n > 0);
        Ok(())
    }

    /// Sends close_notify; no more data may be written.
    pub fn close(&mut self) -> Result<(), Error> {
        let mut w = lock(&self.wr)?;
        if !w.closed {
            w.closed = true;
            w.alert(Alert::CloseNotify)?;
        }
        Ok(())
    }

    /// Runs `f` on the transport (e.g. to set timeouts).
    pub fn with_transport<T>(&self, f: impl FnOnce(&S) -> T) -> Result<T, Error> {
        Ok(f(&lock(&self.wr)?.sock))
    }
}

impl<S: Duplex> Connection<S> {
    /// A handle that writes application data from another thread while this
    /// one reads. Needs a transport with a second handle (e.g. `TcpStream`).
    pub fn writer(&mut self) -> Result<ConnWriter<S>, Error> {
        if self.rd_sock.is_none() {
            self.rd_sock = Some(lock(&self.wr)?.sock.try_clone_duplex()?);
        }
        Ok(ConnWriter {
            wr: Arc::clone(&self.wr),
        })
    }
}

/// Writes application data and close_notify for a [`Connection`] read
/// elsewhere.
pub struct ConnWriter<S> {
    wr: Arc<Mutex<WriteSide<S>>>,
}

impl<S> std::fmt::Debug for ConnWriter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnWriter")
    }
}

impl<S: Write> ConnWriter<S> {
    /// Sends application data.
    pub fn write_all(&self, data: &[u8]) -> Result<(), Error> {
        lock(&self.wr)?.app_data(data)
    }

    /// Sends close_notify.
    pub fn close(&self) -> Result<(), Error> {
        let mut w = lock(&self.wr)?;
        if !w.closed {
            w.closed = true;
            w.alert(Alert::CloseNotify)?;
        }
        Ok(())
    }
}
