//! A connection rustls handshook, continued on sealwire's record layer.
//!
//! rustls hands over each direction as a sequence number and a
//! [`ConnectionTrafficSecrets`] (key and 12-byte IV), either from
//! `dangerous_extract_secrets()` (an [`ExtractedSecrets`]) or from
//! `dangerous_into_kernel_connection()` on its unbuffered connections,
//! whose [`KernelConnection`] goes on deriving the next secrets of a TLS 1.3
//! KeyUpdate (RFC 8446 4.6.3, 7.2). [`sealer`] / [`opener`] build the
//! record layer's [`Sealer`] / [`Opener`] from one direction, [`KernelSession`]
//! keeps both with the kernel connection and moves them on at a KeyUpdate.
//!
//! ```text
//!  rustls secrets                      sealwire
//!  TLS 1.3  key, iv(12), seq      ──▶  TrafficKeys(key, iv)            + seq
//!  TLS 1.2  key, salt(4)||mask(8), seq ▶ TrafficKeys(key, salt)
//!                                        .with_explicit_nonce_mask(mask) + seq
//!  ChaCha20-Poly1305              ──▶  ImportError::UnsupportedSuite
//! ```
//!
//! The secrets must be rustls's connection's own: the record layer then
//! continues its sequence numbers (so the sealer's nonces never repeat one
//! rustls used) and refuses a key update that would not change the key.

use crate::record::{
    self, AlertDescription, CipherSuite, ContentType, Opener, Sealer, TlsVersion, TrafficKeys,
};
use ::rustls::kernel::KernelConnection;
use ::rustls::{ConnectionTrafficSecrets, ExtractedSecrets, SupportedCipherSuite};
use bytes::BytesMut;
use core::fmt;

/// Why a rustls connection's secrets could not move to sealwire.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ImportError {
    /// The negotiated suite is not one sealwire carries (ChaCha20-Poly1305):
    /// the connection has to stay on rustls's own record layer.
    UnsupportedSuite(::rustls::CipherSuite),
    /// The secrets are not of the negotiated suite's AEAD or key length.
    SecretsMismatch(::rustls::CipherSuite),
    /// The record layer refused the keys or a record.
    Record(record::Error),
    /// rustls refused (e.g. a key update on a TLS 1.2 connection).
    Rustls(::rustls::Error),
    /// A KeyUpdate message the peer got wrong (RFC 8446 4.6.3, 5.1), with
    /// the alert it calls for.
    BadKeyUpdate {
        /// What was wrong.
        reason: &'static str,
        /// decode_error (malformed), unexpected_message (not at the end of
        /// its record) or illegal_parameter (a request value other than 0, 1).
        alert: AlertDescription,
    },
}

impl ImportError {
    /// The alert to send the peer, for the errors that come from what it sent.
    pub fn alert(&self) -> Option<AlertDescription> {
        match self {
            ImportError::Record(e) => Some(e.alert()),
            ImportError::BadKeyUpdate { alert, .. } => Some(*alert),
            _ => None,
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::UnsupportedSuite(s) => {
                write!(f, "sealwire does not carry the cipher suite {s:?}")
            }
            ImportError::SecretsMismatch(s) => {
                write!(f, "the secrets do not belong to the cipher suite {s:?}")
            }
            ImportError::Record(e) => write!(f, "record layer: {e}"),
            ImportError::Rustls(e) => write!(f, "rustls: {e}"),
            ImportError::BadKeyUpdate { reason, .. } => write!(f, "bad KeyUpdate: {reason}"),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<record::Error> for ImportError {
    fn from(e: record::Error) -> Self {
        ImportError::Record(e)
    }
}

impl From<::rustls::Error> for ImportError {
    fn from(e: ::rustls::Error) -> Self {
        ImportError::Rustls(e)
    }
}

/// sealwire's suite for a negotiated rustls suite.
pub fn cipher_suite(suite: SupportedCipherSuite) -> Result<CipherSuite, ImportError> {
    CipherSuite::from_iana(u16::from(suite.suite()))
        .ok_or(ImportError::UnsupportedSuite(suite.suite()))
}

/// The [`TrafficKeys`] of one direction of a connection that negotiated
/// `suite`.
pub fn traffic_keys(
    suite: SupportedCipherSuite,
    secrets: &ConnectionTrafficSecrets,
) -> Result<TrafficKeys, ImportError> {
    let ours = cipher_suite(suite)?;
    let (key, iv) = match secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv }
        | ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (key.as_ref(), iv.as_ref()),
        _ => return Err(ImportError::SecretsMismatch(suite.suite())),
    };
    if key.len() != ours.key_len() || iv.len() != 12 {
        return Err(ImportError::SecretsMismatch(suite.suite()));
    }
    Ok(match ours.version() {
        TlsVersion::Tls13 => TrafficKeys::new(ours, key, iv)?,
        TlsVersion::Tls12 => {
            let mut mask = [0u8; 8];
            mask.copy_from_slice(&iv[4..]);
            TrafficKeys::new(ours, key, &iv[..4])?.with_explicit_nonce_mask(mask)?
        }
    })
}

/// A [`Sealer`] that continues rustls's sending direction: `(seq, secrets)`
/// as `ExtractedSecrets::tx` or `KernelConnection::update_tx_secret` give it.
pub fn sealer(
    suite: SupportedCipherSuite,
    (seq, secrets): &(u64, ConnectionTrafficSecrets),
) -> Result<Sealer, ImportError> {
    Ok(Sealer::with_seq(traffic_keys(suite, secrets)?, *seq)?)
}

/// An [`Opener`] that continues rustls's receiving direction: `(seq,
/// secrets)` as `ExtractedSecrets::rx` or `KernelConnection::update_rx_secret`
/// give it.
pub fn opener(
    suite: SupportedCipherSuite,
    (seq, secrets): &(u64, ConnectionTrafficSecrets),
) -> Result<Opener, ImportError> {
    Ok(Opener::with_seq(traffic_keys(suite, secrets)?, *seq)?)
}

/// Both directions from `dangerous_extract_secrets()`.
pub fn from_extracted(
    suite: SupportedCipherSuite,
    secrets: &ExtractedSecrets,
) -> Result<(Sealer, Opener), ImportError> {
    Ok((sealer(suite, &secrets.tx)?, opener(suite, &secrets.rx)?))
}

/// What a protected handshake record held, as far as the record layer is
/// concerned (RFC 8446 4.6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// The peer updated its sending keys; the opener now has the next ones.
    /// `update_requested`: the peer asks for our KeyUpdate in return.
    KeyUpdate {
        /// The peer set `update_requested` (RFC 8446 4.6.3).
        update_requested: bool,
    },
    /// Another post-handshake message (the caller's to handle, e.g. a
    /// NewSessionTicket with `KernelConnection::handle_new_session_ticket`).
    Other(u8),
}

/// `HandshakeType.key_update` (RFC 8446 4).
const KEY_UPDATE: u8 = 24;

/// The KeyUpdate message (RFC 8446 4.6.3): type, 24-bit length 1, request.
fn key_update_message(request_update: bool) -> [u8; 5] {
    [KEY_UPDATE, 0, 0, 1, u8::from(request_update)]
}

/// A TLS connection after a rustls handshake: rustls's
/// [`KernelConnection`] derives the secrets, sealwire seals and opens.
pub struct KernelSession<Data> {
    kernel: KernelConnection<Data>,
    suite: SupportedCipherSuite,
    sealer: Sealer,
    opener: Opener,
}

impl<Data> fmt::Debug for KernelSession<Data> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KernelSession")
            .field("suite", &self.suite.suite())
            .field("sealer", &self.sealer)
            .field("opener", &self.opener)
            .finish_non_exhaustive()
    }
}

impl<Data> KernelSession<Data> {
    /// Both directions from `dangerous_into_kernel_connection()`'s result.
    pub fn new(
        (secrets, kernel): (ExtractedSecrets, KernelConnection<Data>),
    ) -> Result<Self, ImportError> {
        let suite = kernel.negotiated_cipher_suite();
        let (sealer, opener) = from_extracted(suite, &secrets)?;
        Ok(KernelSession {
            kernel,
            suite,
            sealer,
            opener,
        })
    }

    /// The sending direction.
    pub fn sealer(&mut self) -> &mut Sealer {
        &mut self.sealer
    }

    /// The receiving direction.
    pub fn opener(&mut self) -> &mut Opener {
        &mut self.opener
    }

    /// rustls's kernel connection (session tickets, the negotiated suite).
    pub fn kernel(&mut self) -> &mut KernelConnection<Data> {
        &mut self.kernel
    }

    /// Seals a KeyUpdate under the current sending key into `buf` (one
    /// whole record, to be written before any record sealed after this
    /// call), then moves the sealer to the next secret (RFC 8446 4.6.3).
    /// `request_update` asks the peer to update its keys too. TLS 1.3 only.
    pub fn send_key_update(
        &mut self,
        request_update: bool,
        buf: &mut BytesMut,
    ) -> Result<(), ImportError> {
        if self.sealer.suite().version() != TlsVersion::Tls13 {
            return Err(record::Error::Misuse("key update exists only in TLS 1.3").into());
        }
        self.sealer.seal_payload(
            ContentType::Handshake,
            &key_update_message(request_update),
            buf,
        )?;
        let next = self.kernel.update_tx_secret()?;
        self.sealer
            .update_keys(traffic_keys(self.suite, &next.1)?)?;
        Ok(())
    }

    /// Handles the plaintext of a protected Handshake record the opener
    /// returned. A KeyUpdate moves the opener to the peer's next secret
    /// (it must end its record: the next record is under the new key); any
    /// other message type is handed back to the caller.
    pub fn handle_handshake(&mut self, msg: &[u8]) -> Result<Handshake, ImportError> {
        let bad = |reason, alert| Err(ImportError::BadKeyUpdate { reason, alert });
        let Some(&typ) = msg.first() else {
            return bad(
                "empty handshake record",
                AlertDescription::UnexpectedMessage,
            );
        };
        if typ != KEY_UPDATE {
            return Ok(Handshake::Other(typ));
        }
        if msg.len() < 5 || msg[1..4] != [0, 0, 1] {
            return bad("not a 1-byte KeyUpdate", AlertDescription::DecodeError);
        }
        if msg.len() > 5 {
            // RFC 8446 5.1: a key change must be at a record boundary.
            return bad(
                "message not at the end of its record",
                AlertDescription::UnexpectedMessage,
            );
        }
        let update_requested = match msg[4] {
            0 => false,
            1 => true,
            _ => {
                return bad(
                    "request_update is neither 0 nor 1",
                    AlertDescription::IllegalParameter,
                )
            }
        };
        let next = self.kernel.update_rx_secret()?;
        self.opener
            .update_keys(traffic_keys(self.suite, &next.1)?)?;
        Ok(Handshake::KeyUpdate { update_requested })
    }
}
