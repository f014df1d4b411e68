//! Certificates and handshake signatures, for TLS 1.3 and TLS 1.2 alike,
//! all by aws-lc-rs:
//!
//! - Chain validation against configured roots plus the server name, by
//!   `rustls-webpki` with its aws-lc-rs signature algorithms.
//! - [`verify_signed`]: a `SignatureScheme` signature by the end-entity key
//!   (TLS 1.3 CertificateVerify, RFC 8446 4.4.3; TLS 1.2 ServerKeyExchange,
//!   RFC 5246 7.4.3).
//! - Client certificates (mutual TLS): [`ClientAuth`], the server's roots
//!   and policy, checked with the client-auth extended key usage; and
//!   [`CertifiedKey`], the client's chain and key.
//! - [`SigningKey`]: a server's or client's key from any PEM form OpenSSL writes
//!   (ECDSA P-256 or P-384, Ed25519, RSA; PKCS#8 or the traditional SEC 1
//!   and PKCS#1 forms), [`SigningKey::sign`], and
//!   [`SigningKey::check_matches`] against the certificate.
//!
//! Private keys live inside aws-lc (`EVP_PKEY`), which wipes them when they
//! are freed; the DER decoded from PEM here is zeroized once aws-lc holds
//! the key. `Debug` names the key type only.

#![forbid(unsafe_code)]

use super::error::{Alert, Error};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, KeyPair};
use pki_types::{
    CertificateDer, ServerName, SignatureVerificationAlgorithm, TrustAnchor, UnixTime,
};
use std::sync::Arc;
use webpki::aws_lc_rs as algs;

/// `SignatureScheme` code points (RFC 8446 4.2.3).
pub mod scheme {
    use crate::wire::SignatureScheme;

    /// rsa_pkcs1_sha256 (TLS 1.2 handshake signatures and certificates only).
    pub const RSA_PKCS1_SHA256: u16 = SignatureScheme::RsaPkcs1Sha256.to_u16();
    /// rsa_pkcs1_sha384.
    pub const RSA_PKCS1_SHA384: u16 = SignatureScheme::RsaPkcs1Sha384.to_u16();
    /// rsa_pkcs1_sha512.
    pub const RSA_PKCS1_SHA512: u16 = SignatureScheme::RsaPkcs1Sha512.to_u16();
    /// ecdsa_secp256r1_sha256.
    pub const ECDSA_SECP256R1_SHA256: u16 = SignatureScheme::EcdsaSecp256r1Sha256.to_u16();
    /// ecdsa_secp384r1_sha384.
    pub const ECDSA_SECP384R1_SHA384: u16 = SignatureScheme::EcdsaSecp384r1Sha384.to_u16();
    /// rsa_pss_rsae_sha256.
    pub const RSA_PSS_RSAE_SHA256: u16 = SignatureScheme::RsaPssRsaeSha256.to_u16();
    /// rsa_pss_rsae_sha384.
    pub const RSA_PSS_RSAE_SHA384: u16 = SignatureScheme::RsaPssRsaeSha384.to_u16();
    /// rsa_pss_rsae_sha512.
    pub const RSA_PSS_RSAE_SHA512: u16 = SignatureScheme::RsaPssRsaeSha512.to_u16();
    /// ed25519.
    pub const ED25519: u16 = SignatureScheme::Ed25519.to_u16();

    /// A readable name for traces.
    pub fn name(s: u16) -> String {
        SignatureScheme::from_u16(s).to_string()
    }

    /// Whether the scheme is RSASSA-PKCS1-v1_5, which RFC 8446 4.2.3 keeps
    /// out of TLS 1.3 handshake signatures.
    pub fn is_pkcs1(s: u16) -> bool {
        matches!(s, RSA_PKCS1_SHA256 | RSA_PKCS1_SHA384 | RSA_PKCS1_SHA512)
    }
}

/// The schemes we verify, in the order we offer them in
/// signature_algorithms. `rsa_pkcs1_*` are for TLS 1.2 and for certificate
/// signatures (RFC 8446 4.2.3 allows them there).
pub const SUPPORTED_SCHEMES: [u16; 9] = [
    scheme::ECDSA_SECP256R1_SHA256,
    scheme::ECDSA_SECP384R1_SHA384,
    scheme::ED25519,
    scheme::RSA_PSS_RSAE_SHA256,
    scheme::RSA_PSS_RSAE_SHA384,
    scheme::RSA_PSS_RSAE_SHA512,
    scheme::RSA_PKCS1_SHA256,
    scheme::RSA_PKCS1_SHA384,
    scheme::RSA_PKCS1_SHA512,
];

/// Certificate signature algorithms accepted in chains: ECDSA on P-256 and
/// P-384 with SHA-256 or SHA-384, Ed25519, RSA (2048 to 8192 bits) with
/// PKCS#1 v1.5 or PSS and SHA-256/384/512. Anything else (P-521, SHA-1,
/// Ed448, ...) is an unsupported_certificate.
static CERT_ALGS: &[&dyn SignatureVerificationAlgorithm] = &[
    algs::ECDSA_P256_SHA256,
    algs::ECDSA_P256_SHA384,
    algs::ECDSA_P384_SHA256,
    algs::ECDSA_P384_SHA384,
    algs::ED25519,
    algs::RSA_PKCS1_2048_8192_SHA256,
    algs::RSA_PKCS1_2048_8192_SHA384,
    algs::RSA_PKCS1_2048_8192_SHA512,
    algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// The verification algorithms a handshake signature under `s` may use.
/// TLS 1.3 binds each ECDSA scheme to its curve (RFC 8446 4.2.3); TLS 1.2's
/// ECDSA code points name the hash only (RFC 5246 7.4.1.4.1), so either
/// curve is tried there. `None`: unknown, or PKCS#1 in TLS 1.3.
fn tls_algorithms(
    s: u16,
    tls13: bool,
) -> Option<&'static [&'static dyn SignatureVerificationAlgorithm]> {
    static P256_SHA256: [&dyn SignatureVerificationAlgorithm; 1] = [algs::ECDSA_P256_SHA256];
    static P384_SHA384: [&dyn SignatureVerificationAlgorithm; 1] = [algs::ECDSA_P384_SHA384];
    static ANY_SHA256: [&dyn SignatureVerificationAlgorithm; 2] =
        [algs::ECDSA_P256_SHA256, algs::ECDSA_P384_SHA256];
    static ANY_SHA384: [&dyn SignatureVerificationAlgorithm; 2] =
        [algs::ECDSA_P384_SHA384, algs::ECDSA_P256_SHA384];
    static ED: [&dyn SignatureVerificationAlgorithm; 1] = [algs::ED25519];
    static PSS256: [&dyn SignatureVerificationAlgorithm; 1] =
        [algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY];
    static PSS384: [&dyn SignatureVerificationAlgorithm; 1] =
        [algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY];
    static PSS512: [&dyn SignatureVerificationAlgorithm; 1] =
        [algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY];
    static PKCS256: [&dyn SignatureVerificationAlgorithm; 1] = [algs::RSA_PKCS1_2048_8192_SHA256];
    static PKCS384: [&dyn SignatureVerificationAlgorithm; 1] = [algs::RSA_PKCS1_2048_8192_SHA384];
    static PKCS512: [&dyn SignatureVerificationAlgorithm; 1] = [algs::RSA_PKCS1_2048_8192_SHA512];
    Some(match s {
        scheme::ECDSA_SECP256R1_SHA256 if tls13 => &P256_SHA256,
        scheme::ECDSA_SECP384R1_SHA384 if tls13 => &P384_SHA384,
        scheme::ECDSA_SECP256R1_SHA256 => &ANY_SHA256,
        scheme::ECDSA_SECP384R1_SHA384 => &ANY_SHA384,
        scheme::ED25519 => &ED,
        scheme::RSA_PSS_RSAE_SHA256 => &PSS256,
        scheme::RSA_PSS_RSAE_SHA384 => &PSS384,
        scheme::RSA_PSS_RSAE_SHA512 => &PSS512,
        // RFC 8446 4.4.3: RSASSA-PKCS1-v1_5 is not for TLS 1.3 handshakes.
        scheme::RSA_PKCS1_SHA256 if !tls13 => &PKCS256,
        scheme::RSA_PKCS1_SHA384 if !tls13 => &PKCS384,
        scheme::RSA_PKCS1_SHA512 if !tls13 => &PKCS512,
        _ => return None,
    })
}

/// The content TLS 1.3 signs in CertificateVerify (RFC 8446 4.4.3):
/// 64 spaces, the context string, a zero byte, the transcript hash.
pub fn tls13_signed_content(server: bool, transcript_hash: &[u8]) -> Vec<u8> {
    let context: &[u8] = if server {
        b"TLS 1.3, server CertificateVerify"
    } else {
        b"TLS 1.3, client CertificateVerify"
    };
    let mut m = vec![0x20u8; 64];
    m.extend_from_slice(context);
    m.push(0);
    m.extend_from_slice(transcript_hash);
    m
}

/// Verifies `signature` over `message` with the end-entity certificate's key
/// under `scheme`. A scheme that is unknown or not allowed in this version
/// is an illegal_parameter; a wrong signature or a key that does not fit
/// the scheme is a decrypt_error (RFC 8446 4.4.3).
pub fn verify_signed(
    end_entity: &[u8],
    scheme: u16,
    message: &[u8],
    signature: &[u8],
    tls13: bool,
) -> Result<(), Error> {
    let candidates = tls_algorithms(scheme, tls13)
        .ok_or(Error::IllegalParameter("signature scheme not offered"))?;
    let der = CertificateDer::from(end_entity);
    let ee = webpki::EndEntityCert::try_from(&der).map_err(cert_error)?;
    for alg in candidates {
        match ee.verify_signature(*alg, message, signature) {
            Ok(()) => return Ok(()),
            // Another curve of the same TLS 1.2 code point may fit.
            Err(webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)) => continue,
            Err(_) => return Err(Error::BadSignature),
        }
    }
    Err(Error::BadSignature)
}

/// Checks a peer's handshake signature (TLS 1.3 CertificateVerify either
/// way, TLS 1.2 CertificateVerify and ServerKeyExchange): `scheme` must be
/// one we `offered` (illegal_parameter otherwise), and then [`verify_signed`].
pub fn verify_peer_signature(
    end_entity: &[u8],
    offered: &[u16],
    scheme: u16,
    message: &[u8],
    signature: &[u8],
    tls13: bool,
) -> Result<(), Error> {
    if !offered.contains(&scheme) {
        return Err(Error::IllegalParameter("signature scheme was not offered"));
    }
    verify_signed(end_entity, scheme, message, signature, tls13)
}

/// The schemes offered for handshake signatures: [`SUPPORTED_SCHEMES`],
/// without RSASSA-PKCS1-v1_5 for TLS 1.3 (RFC 8446 4.2.3).
pub fn handshake_schemes(tls13: bool) -> Vec<u16> {
    SUPPORTED_SCHEMES
        .iter()
        .copied()
        .filter(|s| !tls13 || !scheme::is_pkcs1(*s))
        .collect()
}

/// Maps a validation failure to its alert (RFC 8446 6.2).
fn cert_error(e: webpki::Error) -> Error {
    let alert = match &e {
        webpki::Error::UnknownIssuer => Alert::UnknownCa,
        webpki::Error::CertExpired { .. } => Alert::CertificateExpired,
        webpki::Error::UnsupportedSignatureAlgorithmContext(_)
        | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            Alert::UnsupportedCertificate
        }
        _ => Alert::BadCertificate,
    };
    Error::Certificate {
        alert,
        reason: format!("{e:?}"),
    }
}

/// Trusted roots, parsed into trust anchors once.
#[derive(Debug, Clone, Default)]
pub struct RootStore {
    anchors: Vec<TrustAnchor<'static>>,
}

impl RootStore {
    /// Roots from PEM (every CERTIFICATE block); each must parse as a trust
    /// anchor.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let anchors = certs_from_pem(pem)?
            .iter()
            .map(|r| {
                webpki::anchor_from_trusted_cert(r)
                    .map(|a| a.to_owned())
                    .map_err(|e| Error::Config(format!("CA certificate: {e:?}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(RootStore { anchors })
    }

    /// Number of roots.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// How the client checks the server's certificate.
#[derive(Debug, Clone)]
pub enum ServerVerification {
    /// Chain to one of these roots and be valid for the server name.
    Roots(Arc<RootStore>),
    /// No certificate validation at all. Only CertificateVerify is still
    /// checked (against the unvalidated key). Insecure: anyone can
    /// impersonate the server. Named loudly on purpose.
    DangerousNoVerificationInsecure,
}

/// The client's check of the server's Certificate message, shared by TLS 1.3
/// (RFC 8446 4.4.2.4) and TLS 1.2 (RFC 5246 7.4.2): the list must not be
/// empty, and the chain must verify against the roots for the server name
/// unless verification was explicitly switched off. The outcome is traced.
pub(crate) fn check_server_certificate(
    trace: &super::Trace,
    verification: &ServerVerification,
    server_name: Option<&str>,
    chain: &[Vec<u8>],
) -> Result<(), Error> {
    let Some(ee) = chain.first() else {
        return Err(Error::Decode(super::codec::DecodeError::BadLength(
            "server certificate_list",
        )));
    };
    match verification {
        ServerVerification::Roots(roots) => {
            let name = server_name.ok_or(Error::Internal("no server name to verify"))?;
            let res = verify_server_chain(chain, roots, name, UnixTime::now());
            trace.step(|| match &res {
                Ok(()) => format!(
                    "Certificate: subject {}; chain of {} verified for {name}",
                    subject_summary(ee),
                    chain.len()
                ),
                Err(e) => format!(
                    "Certificate: subject {}; NOT verified: {e}",
                    subject_summary(ee)
                ),
            });
            res
        }
        ServerVerification::DangerousNoVerificationInsecure => {
            trace.step(|| {
                format!(
                    "Certificate: subject {}; NOT VERIFIED (--insecure)",
                    subject_summary(ee)
                )
            });
            Ok(())
        }
    }
}

/// Validates `chain` (end-entity first) against `roots` for `server_name`
/// (a DNS name or an IP address) at `now`.
pub fn verify_server_chain(
    chain: &[Vec<u8>],
    roots: &RootStore,
    server_name: &str,
    now: UnixTime,
) -> Result<(), Error> {
    let name = ServerName::try_from(server_name)
        .map_err(|_| Error::Config(format!("invalid server name {server_name:?}")))?;
    verify_chain(
        chain,
        roots,
        webpki::KeyUsage::server_auth(),
        Some(&name),
        now,
    )
}

/// Validates a client's `chain` (end-entity first) against `roots` at
/// `now` for client authentication: an extended key usage, if present,
/// must include id-kp-clientAuth (RFC 5280 4.2.1.12). No name is checked.
pub fn verify_client_chain(
    chain: &[Vec<u8>],
    roots: &RootStore,
    now: UnixTime,
) -> Result<(), Error> {
    verify_chain(chain, roots, webpki::KeyUsage::client_auth(), None, now)
}

/// The chain validation both sides share: path building to `roots` with
/// [`CERT_ALGS`], `usage` on the end entity, and `name` when given.
fn verify_chain(
    chain: &[Vec<u8>],
    roots: &RootStore,
    usage: webpki::KeyUsage,
    name: Option<&ServerName<'_>>,
    now: UnixTime,
) -> Result<(), Error> {
    let (ee, rest) = chain.split_first().ok_or(Error::Certificate {
        alert: Alert::DecodeError,
        reason: "empty certificate chain".into(),
    })?;
    let ee_der = CertificateDer::from(ee.as_slice());
    let ee = webpki::EndEntityCert::try_from(&ee_der).map_err(cert_error)?;
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    ee.verify_for_usage(
        CERT_ALGS,
        &roots.anchors,
        &intermediates,
        now,
        usage,
        None,
        None,
    )
    .map_err(cert_error)?;
    match name {
        Some(name) => ee
            .verify_is_valid_for_subject_name(name)
            .map_err(cert_error),
        None => Ok(()),
    }
}

/// How a server asks for and checks client certificates (mutual TLS):
/// TLS 1.3 CertificateRequest (RFC 8446 4.3.2), TLS 1.2 CertificateRequest
/// (RFC 5246 7.4.4).
#[derive(Debug, Clone)]
pub struct ClientAuth {
    /// The roots a client chain must lead to.
    pub roots: Arc<RootStore>,
    /// Whether a client that sends no certificate is refused
    /// (certificate_required in TLS 1.3, RFC 8446 4.4.2.4; handshake_failure
    /// in TLS 1.2, RFC 5246 7.4.6). Otherwise it is served unauthenticated.
    pub required: bool,
}

impl ClientAuth {
    /// Client certificates chaining to `roots` are required.
    pub fn required(roots: Arc<RootStore>) -> Self {
        ClientAuth {
            roots,
            required: true,
        }
    }

    /// Client certificates chaining to `roots` are checked when sent.
    pub fn optional(roots: Arc<RootStore>) -> Self {
        ClientAuth {
            roots,
            required: false,
        }
    }
}

/// The server's check of the client's Certificate message, shared by TLS 1.3
/// (RFC 8446 4.4.2.4) and TLS 1.2 (RFC 5246 7.4.6). An empty list is
/// refused when `auth.required` (certificate_required in TLS 1.3,
/// handshake_failure in TLS 1.2) and accepted otherwise; a chain must
/// verify against `auth.roots` for client authentication. Returns whether
/// the client authenticated (a CertificateVerify must follow). The outcome
/// is traced.
pub(crate) fn check_client_certificate(
    trace: &super::Trace,
    auth: &ClientAuth,
    chain: &[Vec<u8>],
    tls13: bool,
) -> Result<bool, Error> {
    let Some(ee) = chain.first() else {
        trace.step(|| {
            format!(
                "client Certificate: empty; client authentication is {}",
                if auth.required {
                    "required: refusing"
                } else {
                    "optional: going on unauthenticated"
                }
            )
        });
        return match (auth.required, tls13) {
            (false, _) => Ok(false),
            (true, true) => Err(Error::Certificate {
                alert: Alert::CertificateRequired,
                reason: "the client sent no certificate".into(),
            }),
            (true, false) => Err(Error::HandshakeFailure(
                "the client sent no certificate, and one is required",
            )),
        };
    };
    let res = verify_client_chain(chain, &auth.roots, UnixTime::now());
    trace.step(|| match &res {
        Ok(()) => format!(
            "client Certificate: subject {}; chain of {} verified for client authentication",
            subject_summary(ee),
            chain.len()
        ),
        Err(e) => format!(
            "client Certificate: subject {}; NOT verified: {e}",
            subject_summary(ee)
        ),
    });
    res.map(|()| true)
}

/// A certificate chain (end-entity first, DER) with its private key: what a
/// client presents when a server asks for a certificate.
#[derive(Debug, Clone)]
pub struct CertifiedKey {
    /// The chain, end-entity first.
    pub chain: Vec<Vec<u8>>,
    /// The end-entity certificate's key.
    pub key: Arc<SigningKey>,
}

impl CertifiedKey {
    /// Loads the chain and key from PEM files' contents; a key that does
    /// not belong to the end-entity certificate is an [`Error::Config`].
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        let (chain, key) = chain_and_key_from_pem(cert_pem, key_pem)?;
        Ok(CertifiedKey {
            chain,
            key: Arc::new(key),
        })
    }
}

/// A chain (end-entity first, DER) and the private key that must belong to
/// its end entity, from PEM files' contents.
pub fn chain_and_key_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<(Vec<Vec<u8>>, SigningKey), Error> {
    let chain: Vec<Vec<u8>> = certs_from_pem(cert_pem)?
        .into_iter()
        .map(|c| c.to_vec())
        .collect();
    let key = SigningKey::from_pem(key_pem)?;
    key.check_matches(&chain[0])?;
    Ok((chain, key))
}

/// Every CERTIFICATE block of a PEM file, in order.
pub fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let mut rd = pem;
    let certs: Vec<_> = rustls_pemfile::certs(&mut rd)
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Config(format!("PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Config("no CERTIFICATE in PEM".into()));
    }
    Ok(certs)
}

/// The type of a [`SigningKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// ECDSA on secp256r1.
    EcdsaP256,
    /// ECDSA on secp384r1.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA with a modulus of this many bits.
    Rsa(usize),
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyType::EcdsaP256 => f.write_str("ECDSA P-256"),
            KeyType::EcdsaP384 => f.write_str("ECDSA P-384"),
            KeyType::Ed25519 => f.write_str("Ed25519"),
            KeyType::Rsa(bits) => write!(f, "RSA-{bits}"),
        }
    }
}

enum Inner {
    Ecdsa(lc::EcdsaKeyPair),
    Ed25519(lc::Ed25519KeyPair),
    Rsa(lc::RsaKeyPair),
}

/// A handshake signing key (the server's, or a client's for mutual TLS).
pub struct SigningKey {
    typ: KeyType,
    inner: Inner,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, <private key redacted>)", self.typ)
    }
}

/// RSA moduli we load (bits): what aws-lc signs with.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

impl SigningKey {
    /// Loads the first private key of a PEM file: PKCS#8 (`PRIVATE KEY`:
    /// EC P-256 or P-384, Ed25519, RSA), SEC 1 (`EC PRIVATE KEY`) or PKCS#1
    /// (`RSA PRIVATE KEY`).
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        use zeroize::Zeroize;
        let mut rd = pem;
        let mut key = rustls_pemfile::private_key(&mut rd)
            .map_err(|e| Error::Config(format!("PEM: {e}")))?
            .ok_or_else(|| {
                Error::Config(
                    "no private key in PEM (need PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY; \
                     encrypted keys are not read)"
                        .into(),
                )
            })?;
        let loaded = Self::from_der(&key);
        key.zeroize();
        loaded
    }

    /// Loads a private key from its DER form.
    pub fn from_der(key: &pki_types::PrivateKeyDer<'_>) -> Result<Self, Error> {
        let bad = |what: &str| Error::Config(format!("unsupported or malformed {what} key"));
        let ecdsa = |typ, alg| (typ, alg);
        let curves = [
            ecdsa(KeyType::EcdsaP256, &lc::ECDSA_P256_SHA256_ASN1_SIGNING),
            ecdsa(KeyType::EcdsaP384, &lc::ECDSA_P384_SHA384_ASN1_SIGNING),
        ];
        let (typ, inner) = match key {
            pki_types::PrivateKeyDer::Pkcs8(k) => {
                let der = k.secret_pkcs8_der();
                if let Some((typ, k)) = curves.iter().find_map(|(t, alg)| {
                    lc::EcdsaKeyPair::from_pkcs8(alg, der).ok().map(|k| (*t, k))
                }) {
                    (typ, Inner::Ecdsa(k))
                } else if let Ok(k) = lc::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
                    (KeyType::Ed25519, Inner::Ed25519(k))
                } else if let Ok(k) = lc::RsaKeyPair::from_pkcs8(der) {
                    (KeyType::Rsa(k.public_modulus_len() * 8), Inner::Rsa(k))
                } else {
                    return Err(bad(
                        "PKCS#8 (need EC P-256 or P-384, Ed25519, or RSA of 2048 to 8192 bits)",
                    ));
                }
            }
            pki_types::PrivateKeyDer::Sec1(k) => {
                let der = k.secret_sec1_der();
                let (typ, k) = curves
                    .iter()
                    .find_map(|(t, alg)| {
                        lc::EcdsaKeyPair::from_private_key_der(alg, der)
                            .ok()
                            .map(|k| (*t, k))
                    })
                    .ok_or_else(|| bad("SEC 1 EC (need P-256 or P-384)"))?;
                (typ, Inner::Ecdsa(k))
            }
            pki_types::PrivateKeyDer::Pkcs1(k) => {
                let k = lc::RsaKeyPair::from_der(k.secret_pkcs1_der())
                    .map_err(|_| bad("PKCS#1 RSA (need 2048 to 8192 bits)"))?;
                (KeyType::Rsa(k.public_modulus_len() * 8), Inner::Rsa(k))
            }
            _ => return Err(bad("private")),
        };
        if let KeyType::Rsa(bits) = typ {
            if !RSA_BITS.contains(&bits) {
                return Err(Error::Config(format!(
                    "RSA key of {bits} bits (need 2048 to 8192)"
                )));
            }
        }
        Ok(SigningKey {
            typ,
            inner,
            rng: SystemRandom::new(),
        })
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.typ
    }

    /// The key type, for traces.
    pub fn kind_name(&self) -> String {
        self.typ.to_string()
    }

    /// The public key as a certificate carries it in
    /// subjectPublicKey: the uncompressed point, the 32 Ed25519 bytes, or the
    /// PKCS#1 `RSAPublicKey`.
    pub fn public_key(&self) -> Vec<u8> {
        match &self.inner {
            Inner::Ecdsa(k) => k.public_key().as_ref().to_vec(),
            Inner::Ed25519(k) => k.public_key().as_ref().to_vec(),
            Inner::Rsa(k) => k.public_key().as_ref().to_vec(),
        }
    }

    /// The schemes this key can make, best first. RSA keys sign with PSS
    /// in TLS 1.3 (RFC 8446 4.2.3) and prefer it in TLS 1.2.
    pub fn schemes(&self, tls13: bool) -> Vec<u16> {
        match self.typ {
            KeyType::EcdsaP256 => vec![scheme::ECDSA_SECP256R1_SHA256],
            KeyType::EcdsaP384 => vec![scheme::ECDSA_SECP384R1_SHA384],
            KeyType::Ed25519 => vec![scheme::ED25519],
            KeyType::Rsa(_) => {
                let mut v = vec![
                    scheme::RSA_PSS_RSAE_SHA256,
                    scheme::RSA_PSS_RSAE_SHA384,
                    scheme::RSA_PSS_RSAE_SHA512,
                ];
                if !tls13 {
                    v.extend([
                        scheme::RSA_PKCS1_SHA256,
                        scheme::RSA_PKCS1_SHA384,
                        scheme::RSA_PKCS1_SHA512,
                    ]);
                }
                v
            }
        }
    }

    /// The first of our schemes the peer offered (handshake_failure if none).
    pub fn choose_scheme(&self, offered: &[u16], tls13: bool) -> Result<u16, Error> {
        self.schemes(tls13)
            .into_iter()
            .find(|s| offered.contains(s))
            .ok_or(Error::HandshakeFailure("no signature scheme in common"))
    }

    /// Signs `message` under `s`, which must be one of [`Self::schemes`]
    /// (anything else is an internal error: our own choice was wrong).
    pub fn sign(&self, s: u16, message: &[u8]) -> Result<Vec<u8>, Error> {
        if !self.schemes(false).contains(&s) {
            return Err(Error::Internal("signature scheme does not fit the key"));
        }
        let failed = |_| Error::Internal("signing failed");
        match &self.inner {
            Inner::Ecdsa(k) => Ok(k
                .sign(&self.rng, message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            Inner::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            Inner::Rsa(k) => {
                let enc: &'static dyn lc::RsaEncoding = match s {
                    scheme::RSA_PSS_RSAE_SHA256 => &lc::RSA_PSS_SHA256,
                    scheme::RSA_PSS_RSAE_SHA384 => &lc::RSA_PSS_SHA384,
                    scheme::RSA_PSS_RSAE_SHA512 => &lc::RSA_PSS_SHA512,
                    scheme::RSA_PKCS1_SHA256 => &lc::RSA_PKCS1_SHA256,
                    scheme::RSA_PKCS1_SHA384 => &lc::RSA_PKCS1_SHA384,
                    _ => &lc::RSA_PKCS1_SHA512,
                };
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(enc, &self.rng, message, &mut sig).map_err(failed)?;
                Ok(sig)
            }
        }
    }

    /// Checks that this key belongs to the certificate `end_entity` (DER):
    /// a signature by the key must verify with the certificate's public
    /// key. A server whose key and certificate differ can never finish a
    /// handshake, so this is refused when the configuration is built.
    pub fn check_matches(&self, end_entity: &[u8]) -> Result<(), Error> {
        let s = self.schemes(true)[0];
        let msg = b"sealwire: does this key belong to the certificate?";
        let sig = self.sign(s, msg)?;
        match verify_signed(end_entity, s, msg, &sig, true) {
            Ok(()) => Ok(()),
            Err(Error::Certificate { reason, .. }) => Err(Error::Config(format!(
                "the certificate does not parse: {reason}"
            ))),
            Err(_) => Err(Error::Config(format!(
                "the private key ({}) does not match the public key of the certificate \
                 (subject {})",
                self.typ,
                subject_summary(end_entity)
            ))),
        }
    }
}

/// A one-line summary of a certificate's subject (e.g. `CN=localhost,
/// O=Test`) for `--trace`, from a minimal DER walk of
/// `Certificate.tbsCertificate.subject` (RFC 5280 4.1). Returns
/// `"<unparsed subject>"` for anything unexpected.
pub fn subject_summary(cert: &[u8]) -> String {
    subject_inner(cert).unwrap_or_else(|| "<unparsed subject>".into())
}

fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 3 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

fn subject_inner(cert: &[u8]) -> Option<String> {
    let (_, cert_body, _) = der_tlv(cert)?;
    let (_, tbs, _) = der_tlv(cert_body)?;
    let mut rest = tbs;
    // [0] version (optional), serialNumber, signature, issuer, validity, subject.
    let (tag, _, r) = der_tlv(rest)?;
    if tag == 0xa0 {
        rest = r;
    }
    for _ in 0..4 {
        rest = der_tlv(rest)?.2;
    }
    let (_, mut rdns, _) = der_tlv(rest)?;
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let (_, set, next) = der_tlv(rdns)?;
        rdns = next;
        let (_, atv, _) = der_tlv(set)?;
        let (_, oid, value) = der_tlv(atv)?;
        let (_, text, _) = der_tlv(value)?;
        let name = match oid {
            [0x55, 0x04, 0x03] => "CN",
            [0x55, 0x04, 0x0a] => "O",
            [0x55, 0x04, 0x0b] => "OU",
            [0x55, 0x04, 0x06] => "C",
            [0x55, 0x04, 0x07] => "L",
            [0x55, 0x04, 0x08] => "ST",
            _ => "?",
        };
        parts.push(format!("{name}={}", String::from_utf8_lossy(text)));
    }
    Some(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_content_layout() {
        let m = tls13_signed_content(true, &[0xab; 32]);
        assert_eq!(&m[..64], &[0x20; 64]);
        assert_eq!(&m[64..97], b"TLS 1.3, server CertificateVerify");
        assert_eq!(m[97], 0);
        assert_eq!(&m[98..], &[0xab; 32]);
    }

    #[test]
    fn rsa_pkcs1_not_allowed_in_tls13() {
        for s in [
            scheme::RSA_PKCS1_SHA256,
            scheme::RSA_PKCS1_SHA384,
            scheme::RSA_PKCS1_SHA512,
        ] {
            assert!(tls_algorithms(s, true).is_none());
            assert!(tls_algorithms(s, false).is_some());
        }
        assert!(tls_algorithms(0x0201, false).is_none(), "rsa_pkcs1_sha1");
    }

    fn key_from_pkcs8(der: &[u8]) -> SigningKey {
        let der = pki_types::PrivatePkcs8KeyDer::from(der.to_vec());
        SigningKey::from_der(&pki_types::PrivateKeyDer::Pkcs8(der)).unwrap()
    }

    #[test]
    fn generated_keys_load_and_sign() {
        let rng = SystemRandom::new();
        let p256 =
            lc::EcdsaKeyPair::generate_pkcs8(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let p384 =
            lc::EcdsaKeyPair::generate_pkcs8(&lc::ECDSA_P384_SHA384_ASN1_SIGNING, &rng).unwrap();
        let ed = lc::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        for (der, typ, s, verify_alg) in [
            (
                p256.as_ref(),
                KeyType::EcdsaP256,
                scheme::ECDSA_SECP256R1_SHA256,
                &lc::ECDSA_P256_SHA256_ASN1 as &dyn lc::VerificationAlgorithm,
            ),
            (
                p384.as_ref(),
                KeyType::EcdsaP384,
                scheme::ECDSA_SECP384R1_SHA384,
                &lc::ECDSA_P384_SHA384_ASN1,
            ),
            (ed.as_ref(), KeyType::Ed25519, scheme::ED25519, &lc::ED25519),
        ] {
            let k = key_from_pkcs8(der);
            assert_eq!(k.key_type(), typ);
            assert_eq!(k.schemes(true), vec![s]);
            let sig = k.sign(s, b"msg").unwrap();
            let pk = lc::UnparsedPublicKey::new(verify_alg, k.public_key());
            pk.verify(b"msg", &sig).unwrap();
            assert!(pk.verify(b"msh", &sig).is_err());
            assert!(k.sign(scheme::RSA_PSS_RSAE_SHA256, b"m").is_err());
            let dbg = format!("{k:?}");
            assert!(
                dbg.contains("redacted") && dbg.contains(&typ.to_string()),
                "{dbg}"
            );
        }
    }

    #[test]
    fn rsa_schemes_by_version() {
        use aws_lc_rs::encoding::AsDer;
        let k = lc::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = k.as_der().unwrap();
        let k = SigningKey::from_der(&pki_types::PrivateKeyDer::Pkcs8(
            pki_types::PrivatePkcs8KeyDer::from(der.as_ref().to_vec()),
        ))
        .unwrap();
        assert_eq!(k.key_type(), KeyType::Rsa(2048));
        assert!(k.schemes(true).iter().all(|s| !scheme::is_pkcs1(*s)));
        assert_eq!(k.schemes(false).len(), 6);
        for (s, alg) in [
            (
                scheme::RSA_PSS_RSAE_SHA256,
                &lc::RSA_PSS_2048_8192_SHA256 as &dyn lc::VerificationAlgorithm,
            ),
            (scheme::RSA_PSS_RSAE_SHA512, &lc::RSA_PSS_2048_8192_SHA512),
            (scheme::RSA_PKCS1_SHA384, &lc::RSA_PKCS1_2048_8192_SHA384),
        ] {
            let sig = k.sign(s, b"msg").unwrap();
            lc::UnparsedPublicKey::new(alg, k.public_key())
                .verify(b"msg", &sig)
                .unwrap();
        }
        assert!(k.sign(scheme::ECDSA_SECP256R1_SHA256, b"m").is_err());
    }
}
