//! Handshake errors: a rich, typed enum where each variant names the alert
//! (RFC 8446 section 6.2, RFC 5246 section 7.2.2) that is sent to the peer.

#![forbid(unsafe_code)]

use super::codec::DecodeError;
use std::fmt;

/// An alert description (RFC 8446 6, RFC 5246 7.2): the one type the record
/// layer and the handshake share, with its wire code (`code`, `from_code`)
/// and RFC name (`Display`).
pub use crate::wire::AlertDescription as Alert;

/// A failed handshake or connection. Each variant knows which alert it sends
/// ([`Error::alert`]); errors caused by the peer's alert or a dead transport
/// send none.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A message did not parse (decode_error).
    Decode(DecodeError),
    /// A message arrived that the current state does not accept
    /// (unexpected_message). `expected` names what the state waits for.
    UnexpectedMessage {
        /// What the state machine was waiting for.
        expected: &'static str,
        /// What came (handshake type name, or record content type).
        got: String,
    },
    /// A field holds a value the protocol forbids here (illegal_parameter).
    IllegalParameter(&'static str),
    /// No parameters both sides support (handshake_failure).
    HandshakeFailure(&'static str),
    /// A required extension is absent (missing_extension).
    MissingExtension(&'static str),
    /// An extension the peer must not send here (unsupported_extension).
    UnsupportedExtension(u16),
    /// No protocol version in common (protocol_version).
    ProtocolVersion,
    /// The RFC 8446 section 4.1.3 downgrade sentinel was in ServerHello.random
    /// (illegal_parameter).
    Downgrade,
    /// A client signalled TLS_FALLBACK_SCSV while we support a higher
    /// version than it offers (RFC 7507 section 3: inappropriate_fallback).
    InappropriateFallback,
    /// The certificate chain failed validation. The alert depends on why
    /// (unknown_ca, bad_certificate, certificate_expired, ...).
    Certificate {
        /// The alert this validation failure sends.
        alert: Alert,
        /// The validator's reason.
        reason: String,
    },
    /// The handshake signature did not verify (decrypt_error).
    BadSignature,
    /// The peer's Finished did not match (decrypt_error).
    BadFinished,
    /// A PSK binder of the ClientHello did not match (decrypt_error, RFC
    /// 8446 4.2.11).
    BadBinder,
    /// A record failed authentication (bad_record_mac).
    BadRecordMac,
    /// A record violated framing rules (record_overflow, decode_error, ...).
    Record {
        /// The alert sent.
        alert: Alert,
        /// What was wrong.
        reason: String,
    },
    /// The peer sent this fatal alert.
    PeerAlert(Alert),
    /// The transport closed before the handshake or before close_notify.
    UnexpectedEof,
    /// A read timed out.
    Timeout,
    /// The transport failed.
    Io(std::io::Error),
    /// Local configuration is unusable (bad PEM, unsupported key type).
    Config(String),
    /// The API was used out of order (e.g. writing after close).
    Misuse(&'static str),
    /// Something that cannot happen with a well-behaved peer and correct code
    /// (internal_error), e.g. a signature that our own key cannot make.
    Internal(&'static str),
    /// The client offers no application protocol the server supports
    /// (RFC 7301 3.2: no_application_protocol).
    NoApplicationProtocol,
}

impl Error {
    /// The alert this error sends to the peer, if any.
    pub fn alert(&self) -> Option<Alert> {
        Some(match self {
            Error::Decode(_) => Alert::DecodeError,
            Error::UnexpectedMessage { .. } => Alert::UnexpectedMessage,
            Error::IllegalParameter(_) | Error::Downgrade => Alert::IllegalParameter,
            Error::HandshakeFailure(_) => Alert::HandshakeFailure,
            Error::MissingExtension(_) => Alert::MissingExtension,
            Error::UnsupportedExtension(_) => Alert::UnsupportedExtension,
            Error::ProtocolVersion => Alert::ProtocolVersion,
            Error::InappropriateFallback => Alert::InappropriateFallback,
            Error::Certificate { alert, .. } => *alert,
            Error::BadSignature | Error::BadFinished | Error::BadBinder => Alert::DecryptError,
            Error::BadRecordMac => Alert::BadRecordMac,
            Error::Record { alert, .. } => *alert,
            Error::Internal(_) => Alert::InternalError,
            Error::NoApplicationProtocol => Alert::NoApplicationProtocol,
            Error::PeerAlert(_)
            | Error::UnexpectedEof
            | Error::Timeout
            | Error::Io(_)
            | Error::Config(_)
            | Error::Misuse(_) => return None,
        })
    }

    pub(crate) fn unexpected(expected: &'static str, got: impl fmt::Display) -> Error {
        Error::UnexpectedMessage {
            expected,
            got: got.to_string(),
        }
    }
}

impl fmt::Display for Error {
    /// The message, with everything but printable ASCII escaped
    /// ([`super::escape`]): reasons can quote what the peer sent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::escape(&Unescaped(self).to_string()))
    }
}

/// The message of an [`Error`] as built, before escaping.
struct Unescaped<'a>(&'a Error);

impl fmt::Display for Unescaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::Decode(e) => write!(f, "malformed message: {e}"),
            Error::UnexpectedMessage { expected, got } => {
                write!(f, "unexpected message: expected {expected}, got {got}")
            }
            Error::IllegalParameter(why) => write!(f, "illegal parameter: {why}"),
            Error::HandshakeFailure(why) => write!(f, "handshake failure: {why}"),
            Error::MissingExtension(which) => write!(f, "missing extension: {which}"),
            Error::UnsupportedExtension(t) => write!(f, "unsupported extension {t}"),
            Error::ProtocolVersion => write!(f, "no protocol version in common"),
            Error::Downgrade => write!(f, "downgrade detected (RFC 8446 4.1.3 sentinel)"),
            Error::InappropriateFallback => {
                write!(
                    f,
                    "client fell back to a lower version than we support (RFC 7507)"
                )
            }
            Error::Certificate { alert, reason } => {
                write!(f, "certificate rejected ({alert}): {reason}")
            }
            Error::BadSignature => write!(f, "handshake signature did not verify"),
            Error::BadFinished => write!(f, "peer Finished did not verify"),
            Error::BadBinder => write!(f, "PSK binder did not verify"),
            Error::BadRecordMac => write!(f, "record authentication failed"),
            Error::Record { alert, reason } => write!(f, "bad record ({alert}): {reason}"),
            Error::PeerAlert(a) => write!(f, "peer sent alert {a}"),
            Error::UnexpectedEof => write!(f, "connection closed unexpectedly"),
            Error::Timeout => write!(f, "read timed out"),
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::Config(why) => write!(f, "configuration: {why}"),
            Error::Misuse(why) => write!(f, "API misuse: {why}"),
            Error::Internal(why) => write!(f, "internal error: {why}"),
            Error::NoApplicationProtocol => {
                write!(f, "no application protocol (ALPN) in common")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<crate::record::Error> for Error {
    fn from(e: crate::record::Error) -> Self {
        match e {
            crate::record::Error::BadRecordMac => Error::BadRecordMac,
            other => Error::Record {
                alert: other.alert(),
                reason: other.to_string(),
            },
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Error::Timeout,
            std::io::ErrorKind::UnexpectedEof => Error::UnexpectedEof,
            _ => Error::Io(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_codes_round_trip() {
        for c in 0..=255u8 {
            assert_eq!(Alert::from_code(c).code(), c);
        }
        assert_eq!(Alert::from_code(50), Alert::DecodeError);
    }

    #[test]
    fn errors_map_to_rfc_alerts() {
        let e: Error = DecodeError::Truncated("x").into();
        assert_eq!(e.alert(), Some(Alert::DecodeError));
        assert_eq!(Error::BadFinished.alert(), Some(Alert::DecryptError));
        assert_eq!(Error::Downgrade.alert(), Some(Alert::IllegalParameter));
        assert_eq!(Error::PeerAlert(Alert::UnknownCa).alert(), None);
    }
}
