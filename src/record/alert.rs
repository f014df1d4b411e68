//! TLS alert codes (RFC 8446 section 6, RFC 5246 section 7.2), shared by the
//! record layer and the handshake.

#![forbid(unsafe_code)]

use core::fmt;

/// Alert level (RFC 5246 7.2; in TLS 1.3 the level is implicit, RFC 8446 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertLevel {
    /// `warning(1)`.
    Warning,
    /// `fatal(2)`.
    Fatal,
}

impl AlertLevel {
    /// The wire byte.
    pub fn to_u8(self) -> u8 {
        match self {
            AlertLevel::Warning => 1,
            AlertLevel::Fatal => 2,
        }
    }

    /// The level with this wire byte.
    pub fn from_u8(v: u8) -> Option<AlertLevel> {
        match v {
            1 => Some(AlertLevel::Warning),
            2 => Some(AlertLevel::Fatal),
            _ => None,
        }
    }
}

macro_rules! alerts {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $text:literal;)+) => {
        /// `enum AlertDescription` of RFC 8446 section 6 (plus
        /// `no_renegotiation` from RFC 5246 7.2.2 for TLS 1.2), and any
        /// other code point a peer may send. One type for the record layer
        /// and the handshake (`handshake::Alert` is this type).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AlertDescription {
            $($(#[$doc])* $name,)+
            /// A code point without a name here.
            Other(u8),
        }

        impl AlertDescription {
            /// The wire byte.
            pub fn to_u8(self) -> u8 {
                match self {
                    $(AlertDescription::$name => $code,)+
                    AlertDescription::Other(c) => c,
                }
            }

            /// The description with this wire byte, if it is a known one.
            pub fn from_u8(v: u8) -> Option<AlertDescription> {
                match v {
                    $($code => Some(AlertDescription::$name),)+
                    _ => None,
                }
            }

            /// The RFC's name, e.g. `"bad_record_mac"`; `None` for
            /// [`Other`](AlertDescription::Other).
            pub fn rfc_name(self) -> Option<&'static str> {
                match self {
                    $(AlertDescription::$name => Some($text),)+
                    AlertDescription::Other(_) => None,
                }
            }
        }
    };
}

impl AlertDescription {
    /// The wire code (the same as [`to_u8`](AlertDescription::to_u8)).
    pub fn code(self) -> u8 {
        self.to_u8()
    }

    /// The description for a wire code: a named one, else
    /// [`Other`](AlertDescription::Other).
    pub fn from_code(c: u8) -> AlertDescription {
        AlertDescription::from_u8(c).unwrap_or(AlertDescription::Other(c))
    }

    /// The RFC's name, e.g. `"bad_record_mac"`, or `"unknown"` for a code
    /// point without one.
    pub fn name(self) -> &'static str {
        self.rfc_name().unwrap_or("unknown")
    }
}

alerts! {
    /// `close_notify(0)`.
    CloseNotify = 0, "close_notify";
    /// `unexpected_message(10)`.
    UnexpectedMessage = 10, "unexpected_message";
    /// `bad_record_mac(20)`.
    BadRecordMac = 20, "bad_record_mac";
    /// `record_overflow(22)`.
    RecordOverflow = 22, "record_overflow";
    /// `handshake_failure(40)`.
    HandshakeFailure = 40, "handshake_failure";
    /// `bad_certificate(42)`.
    BadCertificate = 42, "bad_certificate";
    /// `unsupported_certificate(43)`.
    UnsupportedCertificate = 43, "unsupported_certificate";
    /// `certificate_revoked(44)`.
    CertificateRevoked = 44, "certificate_revoked";
    /// `certificate_expired(45)`.
    CertificateExpired = 45, "certificate_expired";
    /// `certificate_unknown(46)`.
    CertificateUnknown = 46, "certificate_unknown";
    /// `illegal_parameter(47)`.
    IllegalParameter = 47, "illegal_parameter";
    /// `unknown_ca(48)`.
    UnknownCa = 48, "unknown_ca";
    /// `access_denied(49)`.
    AccessDenied = 49, "access_denied";
    /// `decode_error(50)`.
    DecodeError = 50, "decode_error";
    /// `decrypt_error(51)`.
    DecryptError = 51, "decrypt_error";
    /// `protocol_version(70)`.
    ProtocolVersion = 70, "protocol_version";
    /// `insufficient_security(71)`.
    InsufficientSecurity = 71, "insufficient_security";
    /// `internal_error(80)`.
    InternalError = 80, "internal_error";
    /// `inappropriate_fallback(86)`.
    InappropriateFallback = 86, "inappropriate_fallback";
    /// `user_canceled(90)`.
    UserCanceled = 90, "user_canceled";
    /// `no_renegotiation(100)` (TLS 1.2 only, RFC 5246 7.2.2).
    NoRenegotiation = 100, "no_renegotiation";
    /// `missing_extension(109)`.
    MissingExtension = 109, "missing_extension";
    /// `unsupported_extension(110)`.
    UnsupportedExtension = 110, "unsupported_extension";
    /// `unrecognized_name(112)`.
    UnrecognizedName = 112, "unrecognized_name";
    /// `bad_certificate_status_response(113)`.
    BadCertificateStatusResponse = 113, "bad_certificate_status_response";
    /// `unknown_psk_identity(115)`.
    UnknownPskIdentity = 115, "unknown_psk_identity";
    /// `certificate_required(116)`.
    CertificateRequired = 116, "certificate_required";
    /// `no_application_protocol(120)`.
    NoApplicationProtocol = 120, "no_application_protocol";
}

/// The RFC's name (`close_notify`), or `alert(N)` for a code point
/// without one: what traces, logs and error messages print.
impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rfc_name() {
            Some(name) => f.write_str(name),
            None => write!(f, "alert({})", self.to_u8()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let mut known = 0;
        for v in 0..=255u8 {
            if let Some(a) = AlertDescription::from_u8(v) {
                assert_eq!(a.to_u8(), v);
                known += 1;
            }
        }
        assert_eq!(known, 28);
        assert_eq!(AlertDescription::BadRecordMac.to_u8(), 20);
        assert_eq!(AlertDescription::RecordOverflow.to_u8(), 22);
        assert_eq!(AlertDescription::DecodeError.to_u8(), 50);
        assert_eq!(AlertDescription::ProtocolVersion.to_u8(), 70);
        assert_eq!(AlertDescription::from_u8(21), None);
        assert_eq!(AlertDescription::CloseNotify.to_string(), "close_notify");
        assert_eq!(AlertDescription::from_code(21), AlertDescription::Other(21));
        assert_eq!(AlertDescription::Other(21).to_string(), "alert(21)");
        assert_eq!(AlertDescription::Other(21).code(), 21);
        assert_eq!(
            AlertDescription::from_code(120),
            AlertDescription::NoApplicationProtocol
        );
        assert_eq!(AlertLevel::from_u8(2), Some(AlertLevel::Fatal));
        assert_eq!(AlertLevel::from_u8(3), None);
    }
}
