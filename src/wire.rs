//! The shared vocabulary of the record layer and the handshake: protocol
//! versions, cipher suites, named groups, signature schemes, hashes and
//! alerts, each with its wire value (IANA TLS registries) and its name as
//! traces print it.
//!
//! Wire structs keep the raw `u16` where the peer may send a value we do
//! not know; [`NamedGroup`] and [`SignatureScheme`] keep such values
//! representable (`Unknown`).

#![forbid(unsafe_code)]

use core::fmt;

pub use crate::record::{AlertDescription, AlertLevel};

/// A protocol version this crate speaks (RFC 8446 4.1.2, 4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// TLS 1.2 (RFC 5246), wire value 0x0303.
    Tls12,
    /// TLS 1.3 (RFC 8446), wire value 0x0304.
    Tls13,
}

impl ProtocolVersion {
    /// The version's wire value (as in `supported_versions`, not the record
    /// header, which says 0x0303 for both).
    pub const fn to_u16(self) -> u16 {
        match self {
            ProtocolVersion::Tls12 => 0x0303,
            ProtocolVersion::Tls13 => 0x0304,
        }
    }

    /// The version with this wire value, if we speak it.
    pub fn from_u16(v: u16) -> Option<ProtocolVersion> {
        match v {
            0x0303 => Some(ProtocolVersion::Tls12),
            0x0304 => Some(ProtocolVersion::Tls13),
            _ => None,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolVersion::Tls12 => "TLS 1.2",
            ProtocolVersion::Tls13 => "TLS 1.3",
        })
    }
}

/// The hash of a cipher suite (the HKDF hash in TLS 1.3, the PRF hash in
/// TLS 1.2). The hash functions themselves are in
/// [`crate::handshake::transcript`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-256 (TLS_AES_128_GCM_SHA256 and the TLS 1.2 *_SHA256 suites).
    Sha256,
    /// SHA-384 (TLS_AES_256_GCM_SHA384 and the TLS 1.2 *_SHA384 suites).
    Sha384,
}

impl HashAlg {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }

    /// The name for traces.
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
        }
    }
}

impl fmt::Display for HashAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The AES-GCM cipher suites sealwire speaks, with their IANA code points.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// `{0x13,0x01}` (RFC 8446 B.4).
    TLS13_AES_128_GCM_SHA256,
    /// `{0x13,0x02}` (RFC 8446 B.4).
    TLS13_AES_256_GCM_SHA384,
    /// `{0xC0,0x2B}` (RFC 5289).
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    /// `{0xC0,0x2C}` (RFC 5289).
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    /// `{0xC0,0x2F}` (RFC 5289).
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    /// `{0xC0,0x30}` (RFC 5289).
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
}

impl CipherSuite {
    /// Every suite, TLS 1.3 first.
    pub const ALL: [CipherSuite; 6] = [
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        CipherSuite::TLS13_AES_256_GCM_SHA384,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ];

    /// The IANA code point.
    pub const fn iana(self) -> u16 {
        match self {
            CipherSuite::TLS13_AES_128_GCM_SHA256 => 0x1301,
            CipherSuite::TLS13_AES_256_GCM_SHA384 => 0x1302,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => 0xC02B,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => 0xC02C,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => 0xC02F,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => 0xC030,
        }
    }

    /// The suite with this IANA code point, if sealwire supports it.
    pub fn from_iana(code: u16) -> Option<CipherSuite> {
        Self::ALL.into_iter().find(|s| s.iana() == code)
    }

    /// The IANA name, e.g. `"TLS_AES_128_GCM_SHA256"`.
    pub fn name(self) -> &'static str {
        match self {
            CipherSuite::TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
            CipherSuite::TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => {
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
            }
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => {
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
            }
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => {
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            }
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => {
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
            }
        }
    }

    /// The TLS version the suite belongs to.
    pub fn version(self) -> ProtocolVersion {
        match self {
            CipherSuite::TLS13_AES_128_GCM_SHA256 | CipherSuite::TLS13_AES_256_GCM_SHA384 => {
                ProtocolVersion::Tls13
            }
            _ => ProtocolVersion::Tls12,
        }
    }

    /// AES key length in bytes (16 or 32).
    pub fn key_len(self) -> usize {
        match self {
            CipherSuite::TLS13_AES_128_GCM_SHA256
            | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => 16,
            _ => 32,
        }
    }

    /// Length of the IV the key schedule derives: 12 bytes in TLS 1.3
    /// (RFC 8446 7.3), the 4-byte implicit salt in TLS 1.2 (RFC 5288 3,
    /// `fixed_iv_length`).
    pub fn iv_len(self) -> usize {
        match self.version() {
            ProtocolVersion::Tls13 => 12,
            ProtocolVersion::Tls12 => 4,
        }
    }

    /// The suite's hash (HKDF in TLS 1.3, PRF in TLS 1.2).
    pub fn hash(self) -> HashAlg {
        match self.key_len() {
            16 => HashAlg::Sha256,
            _ => HashAlg::Sha384,
        }
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<CipherSuite> for u16 {
    fn from(s: CipherSuite) -> u16 {
        s.iana()
    }
}

impl TryFrom<u16> for CipherSuite {
    type Error = u16;

    /// The suite with this code point, or the code point back if sealwire
    /// does not speak it.
    fn try_from(code: u16) -> Result<CipherSuite, u16> {
        CipherSuite::from_iana(code).ok_or(code)
    }
}

macro_rules! code_points {
    (
        $(#[$meta:meta])* $ty:ident, $unknown:literal;
        $($(#[$doc:meta])* $name:ident = $code:literal, $text:literal;)+
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $ty {
            $($(#[$doc])* $name,)+
            /// Any other code point.
            Unknown(u16),
        }

        impl $ty {
            /// The wire value.
            pub const fn to_u16(self) -> u16 {
                match self {
                    $($ty::$name => $code,)+
                    $ty::Unknown(v) => v,
                }
            }

            /// The value with this wire code (`Unknown` if not named here).
            pub const fn from_u16(v: u16) -> $ty {
                match v {
                    $($code => $ty::$name,)+
                    other => $ty::Unknown(other),
                }
            }

            /// The registry's name, if the code point is named here.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $($ty::$name => Some($text),)+
                    $ty::Unknown(_) => None,
                }
            }
        }

        impl From<u16> for $ty {
            fn from(v: u16) -> $ty {
                $ty::from_u16(v)
            }
        }

        impl From<$ty> for u16 {
            fn from(v: $ty) -> u16 {
                v.to_u16()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, concat!($unknown, "0x{:04x}"), self.to_u16()),
                }
            }
        }
    };
}

code_points! {
    /// `NamedGroup` (RFC 8446 4.2.7; RFC 8422 for TLS 1.2 ECDHE;
    /// draft-ietf-tls-ecdhe-mlkem for the hybrid).
    NamedGroup, "group ";
    /// secp256r1(0x0017)
    Secp256r1 = 0x0017, "secp256r1";
    /// secp384r1(0x0018)
    Secp384r1 = 0x0018, "secp384r1";
    /// secp521r1(0x0019), named in traces, not implemented.
    Secp521r1 = 0x0019, "secp521r1";
    /// x25519(0x001d)
    X25519 = 0x001d, "x25519";
    /// x448(0x001e), named in traces, not implemented.
    X448 = 0x001e, "x448";
    /// X25519MLKEM768(0x11ec): ML-KEM-768 with X25519, TLS 1.3 only.
    X25519Mlkem768 = 0x11ec, "X25519MLKEM768";
}

code_points! {
    /// `SignatureScheme` (RFC 8446 4.2.3; in TLS 1.2 the same code points
    /// as `SignatureAndHashAlgorithm`, RFC 5246 7.4.1.4.1).
    SignatureScheme, "scheme ";
    /// rsa_pkcs1_sha256 (TLS 1.2 handshake signatures and certificates only).
    RsaPkcs1Sha256 = 0x0401, "rsa_pkcs1_sha256";
    /// rsa_pkcs1_sha384.
    RsaPkcs1Sha384 = 0x0501, "rsa_pkcs1_sha384";
    /// rsa_pkcs1_sha512.
    RsaPkcs1Sha512 = 0x0601, "rsa_pkcs1_sha512";
    /// ecdsa_secp256r1_sha256.
    EcdsaSecp256r1Sha256 = 0x0403, "ecdsa_secp256r1_sha256";
    /// ecdsa_secp384r1_sha384.
    EcdsaSecp384r1Sha384 = 0x0503, "ecdsa_secp384r1_sha384";
    /// rsa_pss_rsae_sha256.
    RsaPssRsaeSha256 = 0x0804, "rsa_pss_rsae_sha256";
    /// rsa_pss_rsae_sha384.
    RsaPssRsaeSha384 = 0x0805, "rsa_pss_rsae_sha384";
    /// rsa_pss_rsae_sha512.
    RsaPssRsaeSha512 = 0x0806, "rsa_pss_rsae_sha512";
    /// ed25519.
    Ed25519 = 0x0807, "ed25519";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_points_round_trip_and_keep_unknown_values() {
        for g in [0x0017, 0x0018, 0x0019, 0x001d, 0x001e, 0x11ec, 0x0100] {
            assert_eq!(NamedGroup::from_u16(g).to_u16(), g);
        }
        assert_eq!(NamedGroup::from_u16(0x0100), NamedGroup::Unknown(0x0100));
        assert_eq!(NamedGroup::X25519Mlkem768.to_string(), "X25519MLKEM768");
        assert_eq!(NamedGroup::from(0x0100).to_string(), "group 0x0100");
        assert_eq!(u16::from(SignatureScheme::Ed25519), 0x0807);
        assert_eq!(
            SignatureScheme::from_u16(0x0804).to_string(),
            "rsa_pss_rsae_sha256"
        );
        assert_eq!(
            SignatureScheme::from_u16(0x0201).to_string(),
            "scheme 0x0201"
        );
        for s in CipherSuite::ALL {
            assert_eq!(CipherSuite::try_from(u16::from(s)), Ok(s));
        }
        assert_eq!(CipherSuite::try_from(0x00ff), Err(0x00ff));
        for v in [ProtocolVersion::Tls12, ProtocolVersion::Tls13] {
            assert_eq!(ProtocolVersion::from_u16(v.to_u16()), Some(v));
        }
        assert_eq!(ProtocolVersion::Tls13.to_string(), "TLS 1.3");
        assert_eq!(HashAlg::Sha384.to_string(), "SHA-384");
    }
}
