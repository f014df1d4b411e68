//! sealwire under rustls (cargo feature `rustls`).
//!
//! - [`provider()`] / [`provider_with`]: a rustls [`CryptoProvider`] whose
//!   AES-GCM suites seal and open records with [`crate::aead::AesGcm`]; key
//!   exchange, signatures, hashes, HMAC/HKDF, the PRF and randomness are the
//!   base provider's (rustls's aws-lc-rs provider for [`provider()`]).
//! - [`import`]: a connection rustls handshook continues on sealwire's record
//!   layer ([`Sealer`](crate::record::Sealer) / [`Opener`](crate::record::Opener)),
//!   from `dangerous_extract_secrets()` or from rustls's kernel-connection API
//!   (KeyUpdate included).
//!
//! ```text
//!  base provider ── cipher_suites ──▶ for each AES-GCM suite: same suite id, hash,
//!   (aws-lc-rs,                       HKDF / PRF, kx, signature schemes, QUIC keys;
//!    ring, ...)                       aead_alg = sealwire's; limit ≤ RFC 8446 5.5
//!        │                            every other suite (ChaCha20-Poly1305) as it was
//!        └── kx_groups, signature algorithms, secure_random, key provider: kept
//! ```
//!
//! rustls's suite types are plain structs behind `&'static` references, so
//! the replacement suites are built field by field from the base's, once per
//! base suite, and kept for the life of the process (a few hundred bytes per
//! distinct base suite, however many providers are built).

#![forbid(unsafe_code)]

mod aead;
pub mod import;

use crate::record::{CipherSuite, TlsVersion, AES_GCM_RECORD_LIMIT};
use ::rustls::crypto::CryptoProvider;
use ::rustls::{CipherSuiteCommon, SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite};
use std::sync::Mutex;

static TLS13_AES_128_GCM: aead::Tls13Gcm = aead::Tls13Gcm { key_len: 16 };
static TLS13_AES_256_GCM: aead::Tls13Gcm = aead::Tls13Gcm { key_len: 32 };
static TLS12_AES_128_GCM: aead::Tls12Gcm = aead::Tls12Gcm { key_len: 16 };
static TLS12_AES_256_GCM: aead::Tls12Gcm = aead::Tls12Gcm { key_len: 32 };

/// rustls's aws-lc-rs provider with its AES-GCM suites (TLS 1.3
/// AES-128/256-GCM, TLS 1.2 ECDHE-ECDSA and ECDHE-RSA AES-128/256-GCM)
/// sealing and opening on sealwire.
pub fn provider() -> CryptoProvider {
    provider_with(::rustls::crypto::aws_lc_rs::default_provider())
}

/// `base` with the AEAD of each of its AES-GCM suites replaced by
/// sealwire's; suite order, the other suites and every other setting are
/// kept.
pub fn provider_with(base: CryptoProvider) -> CryptoProvider {
    let cipher_suites = base.cipher_suites.iter().copied().map(replace).collect();
    CryptoProvider {
        cipher_suites,
        ..base
    }
}

/// Whether `suite` seals with sealwire (one of the suites [`provider_with`]
/// replaced).
pub fn is_sealwire_suite(suite: SupportedCipherSuite) -> bool {
    let ours = |p: *const ()| {
        [
            &TLS13_AES_128_GCM as *const aead::Tls13Gcm as *const (),
            &TLS13_AES_256_GCM as *const aead::Tls13Gcm as *const (),
            &TLS12_AES_128_GCM as *const aead::Tls12Gcm as *const (),
            &TLS12_AES_256_GCM as *const aead::Tls12Gcm as *const (),
        ]
        .contains(&p)
    };
    match suite {
        SupportedCipherSuite::Tls13(s) => ours(s.aead_alg as *const _ as *const ()),
        SupportedCipherSuite::Tls12(s) => ours(s.aead_alg as *const _ as *const ()),
    }
}

/// The sealwire suite of the same IANA code point, if there is one.
fn ours(suite: ::rustls::CipherSuite) -> Option<CipherSuite> {
    CipherSuite::from_iana(u16::from(suite))
}

/// The usage limit of a replaced suite: the base's, but never above
/// RFC 8446 5.5's AES-GCM limit, which sealwire's encrypters enforce.
fn limit(base: &CipherSuiteCommon) -> u64 {
    base.confidentiality_limit.min(AES_GCM_RECORD_LIMIT)
}

/// Replacement suites built so far, keyed by the base suite's address.
type Built<T> = Mutex<Vec<(usize, &'static T)>>;
static BUILT13: Built<Tls13CipherSuite> = Mutex::new(Vec::new());
static BUILT12: Built<Tls12CipherSuite> = Mutex::new(Vec::new());

/// The one replacement of `base` (built on first use, then the same
/// `&'static` every time: suites compare by address in places).
fn once<T>(cache: &Built<T>, base: &'static T, build: impl FnOnce() -> T) -> &'static T {
    let key = base as *const T as usize;
    let mut built = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, s)) = built.iter().find(|(k, _)| *k == key) {
        return s;
    }
    let s: &'static T = Box::leak(Box::new(build()));
    built.push((key, s));
    s
}

fn replace(suite: SupportedCipherSuite) -> SupportedCipherSuite {
    if is_sealwire_suite(suite) {
        return suite;
    }
    match suite {
        SupportedCipherSuite::Tls13(base) => match ours(base.common.suite) {
            Some(s) if s.version() == TlsVersion::Tls13 => {
                let aead_alg: &'static aead::Tls13Gcm = match s.key_len() {
                    16 => &TLS13_AES_128_GCM,
                    _ => &TLS13_AES_256_GCM,
                };
                SupportedCipherSuite::Tls13(once(&BUILT13, base, || Tls13CipherSuite {
                    common: CipherSuiteCommon {
                        suite: base.common.suite,
                        hash_provider: base.common.hash_provider,
                        confidentiality_limit: limit(&base.common),
                    },
                    hkdf_provider: base.hkdf_provider,
                    aead_alg,
                    quic: base.quic,
                }))
            }
            _ => suite,
        },
        SupportedCipherSuite::Tls12(base) => match ours(base.common.suite) {
            Some(s) if s.version() == TlsVersion::Tls12 => {
                let aead_alg: &'static aead::Tls12Gcm = match s.key_len() {
                    16 => &TLS12_AES_128_GCM,
                    _ => &TLS12_AES_256_GCM,
                };
                SupportedCipherSuite::Tls12(once(&BUILT12, base, || Tls12CipherSuite {
                    common: CipherSuiteCommon {
                        suite: base.common.suite,
                        hash_provider: base.common.hash_provider,
                        confidentiality_limit: limit(&base.common),
                    },
                    prf_provider: base.prf_provider,
                    kx: base.kx,
                    sign: base.sign,
                    aead_alg,
                }))
            }
            _ => suite,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcm_suites_are_replaced_others_kept() {
        for base in [
            ::rustls::crypto::aws_lc_rs::default_provider(),
            ::rustls::crypto::ring::default_provider(),
        ] {
            let before: Vec<_> = base.cipher_suites.iter().map(|s| s.suite()).collect();
            let kx = base.kx_groups.len();
            let p = provider_with(base);
            let after: Vec<_> = p.cipher_suites.iter().map(|s| s.suite()).collect();
            assert_eq!(before, after, "order and set of suites kept");
            assert_eq!(p.kx_groups.len(), kx);
            let mut replaced = 0;
            for s in &p.cipher_suites {
                let gcm = ours(s.suite()).is_some();
                assert_eq!(is_sealwire_suite(*s), gcm, "{:?}", s.suite());
                replaced += usize::from(gcm);
                if gcm {
                    let limit = match s {
                        SupportedCipherSuite::Tls13(t) => t.common.confidentiality_limit,
                        SupportedCipherSuite::Tls12(t) => t.common.confidentiality_limit,
                    };
                    assert!(limit <= AES_GCM_RECORD_LIMIT);
                }
            }
            assert_eq!(replaced, 6, "all six AES-GCM suites");
            // Built once: a second provider shares the same suite statics,
            // and replacing an already replaced provider changes nothing.
            let again = provider_with(p.clone());
            assert!(p.cipher_suites == again.cipher_suites);
        }
    }
}
