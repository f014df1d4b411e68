//! The TLS handshake front end: TLS 1.3 in `tls13`, TLS 1.2 in `tls12`,
//! both handing session keys to [`crate::record`] through
//! [`crate::conn::Connection`].
//!
//! Shared by both versions: the wire [`codec`], the [`messages`], the
//! [`transcript`] hash, certificates and signatures in [`verify`], key
//! exchange (ECDHE and the X25519MLKEM768 hybrid) in [`kx`], the typed
//! [`error`]s, the configs, traces and key log below.
//! TLS 1.3 alone: the [`keyschedule`] typestates (in `tls13`) and `tls13`'s
//! states. TLS 1.2 alone: the [`prf`] (in `tls12`) and `tls12`'s states.
//!
//! # The state machine contract
//!
//! ```text
//!   record layer ──Input::{Handshake(msg), ChangeCipherSpec}──▶ Box<dyn State>::handle
//!        ▲                                                         │ consumes itself,
//!        └──────── cx.actions: Send(msg) / SendCcs / WriteKeys /   │ returns the next
//!                  ReadKeys / Established, applied in order  ◀─────┘ state (or Error)
//! ```
//!
//! Each `Expect*` state consumes itself plus one message and returns the
//! next state. A state never touches I/O: it queues [`Action`]s that the
//! driver ([`crate::conn`]) applies in order. An `Err` ends the handshake;
//! the driver sends [`Error::alert`].
//!
//! # Version negotiation and the TLS 1.2 hand-off
//!
//! Version negotiation lives in [`hello`], which both versions' state
//! machines depend on and which depends on neither. The TLS 1.3 hello
//! states ask it which version was chosen, then continue themselves or
//! call one of the two TLS 1.2 entry points; their signatures are the whole
//! boundary between the two versions' state machines:
//!
//! - client: [`tls12::client::from_server_hello`] — our ClientHello
//!   offered TLS 1.2 and the server chose it (no `supported_versions` in
//!   ServerHello, `legacy_version` 0x0303, and the RFC 8446 4.1.3 downgrade
//!   sentinel already checked by [`hello::client_version`]). It gets a
//!   [`hello::Tls12ClientStart`]: the config, the ClientHello we sent,
//!   the transcript holding it (hash not yet chosen), the ECDHE key pairs we
//!   generated for key_share (reusable for ServerKeyExchange's curve if it
//!   matches), and the ServerHello message; it returns the next state.
//! - server: [`tls12::server::from_client_hello`] — the client does
//!   not offer TLS 1.3 (or this server is `--tls1.2`), as
//!   [`hello::server_version`] decides. It gets the config,
//!   the parsed ClientHello and its raw message; it must put the downgrade
//!   sentinel into ServerHello.random when `config.versions.tls13` is on.

#![forbid(unsafe_code)]

pub mod alpn;
pub mod codec;
pub mod error;
pub mod hello;
pub mod kx;
pub mod messages;
pub mod tls12;
pub mod tls13;
pub mod transcript;
pub mod verify;

pub use error::{Alert, Error};
pub use tls12::prf;
pub use tls13::keyschedule;

use messages::HandshakeMessage;
use std::io::Write;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// Which protocol versions are enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// TLS 1.3 (RFC 8446).
    pub tls13: bool,
    /// TLS 1.2 (RFC 5246).
    pub tls12: bool,
}

impl Versions {
    /// Both versions, TLS 1.3 preferred.
    pub const BOTH: Versions = Versions {
        tls13: true,
        tls12: true,
    };
    /// TLS 1.3 only.
    pub const TLS13_ONLY: Versions = Versions {
        tls13: true,
        tls12: false,
    };
    /// TLS 1.2 only.
    pub const TLS12_ONLY: Versions = Versions {
        tls13: false,
        tls12: true,
    };
}

/// The negotiated protocol version.
pub use crate::wire::ProtocolVersion;
use crate::wire::{CipherSuite, NamedGroup, SignatureScheme};

/// Prints handshake steps (`--trace`). Messages name steps, parameters and
/// secret labels, never secret values.
#[derive(Clone, Default)]
pub struct Trace(Option<TraceSink>);

/// Where trace lines go.
type TraceSink = Arc<dyn Fn(&str) + Send + Sync>;

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Trace(on)"
        } else {
            "Trace(off)"
        })
    }
}

impl Trace {
    /// No tracing.
    pub fn off() -> Self {
        Trace(None)
    }

    /// Every step goes to `sink`.
    pub fn to(sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Trace(Some(Arc::new(sink)))
    }

    /// Whether tracing is on.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Emits a step; the text is only built when tracing is on. Steps quote
    /// what the peer sent (names, subjects), so the line is [`escape`]d.
    pub fn step(&self, text: impl FnOnce() -> String) {
        if let Some(sink) = &self.0 {
            sink(&escape(&text()));
        }
    }
}

/// `text` with every character other than printable ASCII (and the
/// backslash itself) written as an escape (`\x1b`, `\u{202e}`), so that
/// nothing a peer sent can reach a terminal as a control sequence.
pub fn escape(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out
}

/// A sink for secrets in the NSS key log format
/// (`LABEL <client_random hex> <secret hex>`), which Wireshark reads.
pub trait KeyLog: Send + Sync {
    /// Records one secret.
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]);
}

/// A [`KeyLog`] appending to a file.
#[derive(Debug)]
pub struct KeyLogFile(Mutex<std::fs::File>);

impl KeyLogFile {
    /// Opens (creating or appending) `path`.
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(KeyLogFile(Mutex::new(f)))
    }
}

impl KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!(
            "{label} {} {}\n",
            hex::encode(client_random),
            hex::encode(secret)
        );
        if let Ok(mut f) = self.0.lock() {
            // A key log is a debugging aid: a failed write must not fail the
            // connection.
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Where to log secrets, if anywhere.
#[derive(Clone, Default)]
pub struct KeyLogSink(pub Option<Arc<dyn KeyLog>>);

impl std::fmt::Debug for KeyLogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "KeyLog(on)"
        } else {
            "KeyLog(off)"
        })
    }
}

impl KeyLogSink {
    /// Logs a secret if a key log is configured.
    pub fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        if let Some(k) = &self.0 {
            k.log(label, client_random, secret);
        }
    }
}

/// The TLS 1.3 suites of a default config, preferred first.
pub const DEFAULT_SUITES13: [CipherSuite; 2] = [
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_AES_256_GCM_SHA384,
];

/// The TLS 1.2 suites of a default config, preferred first.
pub const DEFAULT_SUITES12: [CipherSuite; 4] = [
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
];

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Enabled versions.
    pub versions: Versions,
    /// TLS 1.3 suites offered, preferred first.
    pub suites13: Vec<CipherSuite>,
    /// TLS 1.2 suites offered, preferred first.
    pub suites12: Vec<CipherSuite>,
    /// Groups in supported_groups, preferred first.
    pub groups: Vec<NamedGroup>,
    /// Groups we send a key share for in the first ClientHello (a subset of
    /// `groups`). Default: X25519MLKEM768 and x25519, as rustls and the
    /// browsers send them, so a server without the hybrid needs no
    /// HelloRetryRequest; a server that wants another group of `groups`
    /// asks for it with one.
    pub key_share_groups: Vec<NamedGroup>,
    /// How the server certificate is checked.
    pub verification: verify::ServerVerification,
    /// `--trace`.
    pub trace: Trace,
    /// `--keylog`.
    pub keylog: KeyLogSink,
    /// The certificate and key sent when the server asks for one (`--cert`,
    /// `--key`); without it, or when the server accepts none of its
    /// signature schemes, the answer is an empty Certificate.
    pub client_cert: Option<verify::CertifiedKey>,
    /// ALPN protocols offered (RFC 7301), preferred first; empty: no
    /// extension.
    pub alpn_protocols: Vec<Vec<u8>>,
    /// Where TLS 1.3 tickets are kept and taken from, by server name
    /// (RFC 8446 4.6.1); `None`: tickets are dropped and never offered.
    pub session_store: Option<Arc<tls13::psk::SessionStore>>,
}

impl ClientConfig {
    /// Defaults: both versions, all our suites and groups (X25519MLKEM768
    /// first), key shares for X25519MLKEM768 and x25519.
    pub fn new(verification: verify::ServerVerification) -> Self {
        ClientConfig {
            versions: Versions::BOTH,
            suites13: DEFAULT_SUITES13.to_vec(),
            suites12: DEFAULT_SUITES12.to_vec(),
            groups: kx::SUPPORTED_GROUPS.to_vec(),
            key_share_groups: vec![NamedGroup::X25519Mlkem768, NamedGroup::X25519],
            verification,
            trace: Trace::off(),
            keylog: KeyLogSink::default(),
            client_cert: None,
            alpn_protocols: Vec::new(),
            session_store: None,
        }
    }
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Enabled versions.
    pub versions: Versions,
    /// TLS 1.3 suites accepted, preferred first (server preference wins).
    pub suites13: Vec<CipherSuite>,
    /// TLS 1.2 suites accepted, preferred first.
    pub suites12: Vec<CipherSuite>,
    /// Groups accepted, preferred first; a client share in another group
    /// leads to HelloRetryRequest for the first group the client supports.
    pub groups: Vec<NamedGroup>,
    /// Certificate chain, end-entity first (DER).
    pub chain: Vec<Vec<u8>>,
    /// The end-entity certificate's private key.
    pub key: Arc<verify::SigningKey>,
    /// `--trace`.
    pub trace: Trace,
    /// `--keylog`.
    pub keylog: KeyLogSink,
    /// Client certificates (`--client-ca`, `--client-auth`): asked for and
    /// verified when set.
    pub client_auth: Option<verify::ClientAuth>,
    /// ALPN protocols accepted (RFC 7301), preferred first: the first of
    /// them the client offers is chosen. Empty: the extension is ignored.
    pub alpn_protocols: Vec<Vec<u8>>,
    /// How many TLS 1.3 NewSessionTickets are sent after the handshake
    /// (RFC 8446 4.6.1); 0: none.
    pub tickets: usize,
    /// How long a ticket may be used (at most seven days).
    pub ticket_lifetime: std::time::Duration,
    /// The keys tickets are sealed with, shared by every connection of the
    /// server (clones of the config share them).
    pub ticket_keys: Arc<tls13::tickets::TicketKeys>,
    /// Accept psk_ke resumption (PSK without (EC)DHE, no forward secrecy);
    /// off: only psk_dhe_ke.
    pub allow_psk_ke: bool,
}

impl ServerConfig {
    /// Loads the chain and key from PEM files' contents. A key that does
    /// not belong to the end-entity certificate is refused here, with a
    /// [`Error::Config`] saying so.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        let (chain, key) = verify::chain_and_key_from_pem(cert_pem, key_pem)?;
        Ok(Self::new(chain, key))
    }

    /// Defaults around a chain (end-entity first, DER) and its key, as
    /// given: unlike [`ServerConfig::from_pem`] this does not check that the
    /// key belongs to the certificate.
    pub fn new(chain: Vec<Vec<u8>>, key: verify::SigningKey) -> Self {
        ServerConfig {
            versions: Versions::BOTH,
            suites13: DEFAULT_SUITES13.to_vec(),
            suites12: DEFAULT_SUITES12.to_vec(),
            groups: kx::SUPPORTED_GROUPS.to_vec(),
            chain,
            key: Arc::new(key),
            trace: Trace::off(),
            keylog: KeyLogSink::default(),
            client_auth: None,
            alpn_protocols: Vec::new(),
            tickets: 2,
            ticket_lifetime: DEFAULT_TICKET_LIFETIME,
            ticket_keys: Arc::new(tls13::tickets::TicketKeys::new(DEFAULT_TICKET_LIFETIME)),
            allow_psk_ke: false,
        }
    }
}

/// The lifetime of tickets and the rotation period of ticket keys by
/// default: two hours.
pub const DEFAULT_TICKET_LIFETIME: std::time::Duration = std::time::Duration::from_secs(7200);

/// Record protection keys for one direction, as the handshake hands them to
/// the record layer (converted to `record::TrafficKeys` by the driver).
pub struct RecordKeys {
    /// The negotiated version (selects TLS 1.3 or TLS 1.2 record protection).
    pub version: ProtocolVersion,
    /// The cipher suite.
    pub suite: CipherSuite,
    /// The AEAD key.
    pub key: Zeroizing<Vec<u8>>,
    /// TLS 1.3: the 12-byte write IV; TLS 1.2: the 4-byte implicit salt.
    pub iv: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RecordKeys({:?}, {}, <key redacted>)",
            self.version, self.suite
        )
    }
}

/// What the handshake agreed, reported once it completes.
#[derive(Debug, Clone)]
pub struct Established {
    /// The version.
    pub version: ProtocolVersion,
    /// The cipher suite.
    pub suite: CipherSuite,
    /// The key exchange group.
    pub group: NamedGroup,
    /// The signature scheme of the server's handshake signature
    /// (CertificateVerify in TLS 1.3, ServerKeyExchange in TLS 1.2);
    /// `None` when the session was resumed and nothing was signed.
    pub signature_scheme: Option<SignatureScheme>,
    /// The peer's certificate chain, end-entity first: the server's on the
    /// client; on the server the client's verified chain, empty when the
    /// client did not authenticate.
    pub peer_chain: Vec<Vec<u8>>,
    /// The server name the client asked for, if any.
    pub server_name: Option<String>,
    /// The application protocol the server chose (RFC 7301), if any.
    pub alpn_protocol: Option<Vec<u8>>,
    /// Whether the session was resumed with a ticket's PSK (TLS 1.3, RFC
    /// 8446 2.2): no certificate was sent then, `peer_chain` is empty and
    /// `signature_scheme` `None`.
    pub resumed: bool,
}

impl Established {
    /// One line naming the version, suite, group and signature scheme
    /// (for `--trace`).
    pub fn summary(&self) -> String {
        let alpn = match &self.alpn_protocol {
            Some(p) => format!(", ALPN {}", alpn::display(p)),
            None => String::new(),
        };
        let resumed = if self.resumed { ", resumed" } else { "" };
        format!(
            "{}, suite {}, group {}, signature {}{alpn}{resumed}",
            match self.version {
                ProtocolVersion::Tls13 => "TLS 1.3",
                ProtocolVersion::Tls12 => "TLS 1.2",
            },
            self.suite,
            self.group,
            match self.signature_scheme {
                _ if self.resumed => "none (PSK)".into(),
                Some(s) => s.to_string(),
                // Only a resumed session has no signature.
                None => SignatureScheme::Unknown(0).to_string(),
            }
        )
    }
}

/// Work a state asks the driver to do, in order.
#[derive(Debug)]
pub enum Action {
    /// Send this handshake message under the current write protection.
    Send(HandshakeMessage),
    /// Send a ChangeCipherSpec record (TLS 1.2; TLS 1.3 middlebox
    /// compatibility, RFC 8446 D.4).
    SendCcs,
    /// Protect records sent from now on with these keys.
    WriteKeys(RecordKeys),
    /// Records received from now on are protected with these keys.
    ReadKeys(RecordKeys),
    /// TLS 1.2 was negotiated (ServerHello received or sent): every record
    /// received from now on carries this legacy_record_version (RFC 5246
    /// 6.2.1 and appendix E.1: the negotiated version once the ServerHello
    /// is out; only records before it may carry another 0x03xx).
    RequireRecordVersion(u16),
    /// The handshake is complete: application data may flow both ways.
    Established(Established),
    /// Send this alert at the warning level under the current write
    /// protection; the connection goes on (TLS 1.2 no_renegotiation).
    SendWarning(Alert),
    /// The client offered early data (0-RTT) that we do not accept: skip
    /// its early records, a bounded amount, until its next flight (RFC 8446
    /// 4.2.10): protected records that fail to decrypt under the handshake
    /// key, and application_data records before a second ClientHello.
    SkipRejectedEarlyData,
    /// The handshake is done (TLS 1.3): the driver keeps the secret of our
    /// sending keys and updates them from now on.
    WriteUpdater(tls13::WriteUpdater),
    /// Send a KeyUpdate (TLS 1.3, RFC 8446 4.6.3) and switch our sending
    /// keys, asking the peer to update too when `request_peer`.
    KeyUpdate {
        /// Set `update_requested`.
        request_peer: bool,
    },
}

/// What the driver hands a state.
#[derive(Debug)]
pub enum Input {
    /// A complete handshake message.
    Handshake(HandshakeMessage),
    /// A ChangeCipherSpec record with the single byte 1.
    ChangeCipherSpec,
}

/// The state's view of the world: the queue of actions plus the trace and
/// key log.
#[derive(Debug, Default)]
pub struct Context {
    /// Actions queued for the driver.
    pub actions: Vec<Action>,
    /// Trace sink.
    pub trace: Trace,
    /// Key log.
    pub keylog: KeyLogSink,
}

impl Context {
    /// A context with this trace and key log.
    pub fn new(trace: Trace, keylog: KeyLogSink) -> Self {
        Context {
            actions: Vec::new(),
            trace,
            keylog,
        }
    }

    /// Queues a handshake message.
    pub fn send(&mut self, msg: HandshakeMessage) {
        self.trace.step(|| format!("send {}", msg.name()));
        self.actions.push(Action::Send(msg));
    }
}

/// The handshake message of type `typ`, or unexpected_message.
pub(crate) fn expect_handshake(
    input: Input,
    expected: &'static str,
    typ: u8,
) -> Result<HandshakeMessage, Error> {
    match input {
        Input::Handshake(m) if m.typ == typ => Ok(m),
        Input::Handshake(m) => Err(Error::unexpected(expected, m.name())),
        Input::ChangeCipherSpec => Err(Error::unexpected(expected, "ChangeCipherSpec")),
    }
}

/// 32 bytes from the OS random source: hello randoms and the TLS 1.3
/// compatibility session id.
pub(crate) fn random32() -> Result<[u8; 32], Error> {
    let mut r = [0u8; 32];
    getrandom::getrandom(&mut r).map_err(|_| Error::Internal("OS RNG failed"))?;
    Ok(r)
}

/// One state of a handshake state machine (TLS 1.3 or TLS 1.2, client or
/// server). After the handshake, the connected state keeps handling
/// post-handshake messages (TLS 1.3 NewSessionTicket and KeyUpdate).
pub trait State: Send + std::fmt::Debug {
    /// Consumes the state and one input, returning the next state.
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error>;

    /// Whether application data may be exchanged (handshake complete).
    fn is_connected(&self) -> bool {
        false
    }

    /// Whether a TLS 1.3 middlebox-compatibility ChangeCipherSpec is
    /// tolerated now (RFC 8446 5: only during the handshake).
    fn tolerates_ccs(&self) -> bool {
        false
    }

    /// Starts a KeyUpdate of our sending keys (TLS 1.3, RFC 8446 4.6.3),
    /// asking the peer to update too when `request_peer`.
    fn send_key_update(&mut self, _cx: &mut Context, _request_peer: bool) -> Result<(), Error> {
        Err(Error::Misuse(
            "KeyUpdate is only possible on a connected TLS 1.3 session",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_only_printable_ascii() {
        assert_eq!(escape("plain text: a-b_c.d"), "plain text: a-b_c.d");
        assert_eq!(
            escape("\x1b]0;t\x07\0\r\n\x7f\\"),
            "\\x1b]0;t\\x07\\x00\\x0d\\x0a\\x7f\\\\"
        );
        assert_eq!(escape("b\u{fc}\u{202e}"), "b\\u{fc}\\u{202e}");
    }

    #[test]
    fn trace_lines_and_errors_are_escaped() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let t = Trace::to(move |l| sink.lock().unwrap().push(l.to_string()));
        t.step(|| "name \x1b[2Jgone".into());
        assert_eq!(*lines.lock().unwrap(), ["name \\x1b[2Jgone"]);
        let e = Error::Certificate {
            alert: Alert::BadCertificate,
            reason: "presented \x1b[31m".into(),
        };
        assert!(!e.to_string().contains('\x1b'), "{e}");
        let e = Error::unexpected("Finished", "\u{9b}31m");
        assert!(e.to_string().chars().all(|c| !c.is_control()), "{e}");
    }
}
