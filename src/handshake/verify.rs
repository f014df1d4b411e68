//! Certificates and handshake signatures, for TLS 1.3 and TLS 1.2 alike.
//!
//! - Chain validation against configured roots plus the server name, by
//!   `rustls-webpki`, with the signature algorithms below (our adapters over
//!   the RustCrypto `p256`, `rsa` and `ed25519-dalek` crates).
//! - [`verify_signed`]: a `SignatureScheme` signature by the end-entity key
//!   (TLS 1.3 CertificateVerify, RFC 8446 4.4.3; TLS 1.2 ServerKeyExchange,
//!   RFC 5246 7.4.3).
//! - [`SigningKey`]: the server's key from PEM (ECDSA P-256, Ed25519, RSA)
//!   and [`SigningKey::sign`].

#![forbid(unsafe_code)]

use super::error::{Alert, Error};
use pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, ServerName,
    SignatureVerificationAlgorithm, UnixTime,
};
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::sync::Arc;

/// `SignatureScheme` code points (RFC 8446 4.2.3).
pub mod scheme {
    /// rsa_pkcs1_sha256 (TLS 1.2 handshake signatures and certificates only).
    pub const RSA_PKCS1_SHA256: u16 = 0x0401;
    /// rsa_pkcs1_sha384.
    pub const RSA_PKCS1_SHA384: u16 = 0x0501;
    /// ecdsa_secp256r1_sha256.
    pub const ECDSA_SECP256R1_SHA256: u16 = 0x0403;
    /// rsa_pss_rsae_sha256.
    pub const RSA_PSS_RSAE_SHA256: u16 = 0x0804;
    /// rsa_pss_rsae_sha384.
    pub const RSA_PSS_RSAE_SHA384: u16 = 0x0805;
    /// rsa_pss_rsae_sha512.
    pub const RSA_PSS_RSAE_SHA512: u16 = 0x0806;
    /// ed25519.
    pub const ED25519: u16 = 0x0807;

    /// A readable name for traces.
    pub fn name(s: u16) -> String {
        match s {
            RSA_PKCS1_SHA256 => "rsa_pkcs1_sha256".into(),
            RSA_PKCS1_SHA384 => "rsa_pkcs1_sha384".into(),
            ECDSA_SECP256R1_SHA256 => "ecdsa_secp256r1_sha256".into(),
            RSA_PSS_RSAE_SHA256 => "rsa_pss_rsae_sha256".into(),
            RSA_PSS_RSAE_SHA384 => "rsa_pss_rsae_sha384".into(),
            RSA_PSS_RSAE_SHA512 => "rsa_pss_rsae_sha512".into(),
            ED25519 => "ed25519".into(),
            other => format!("scheme 0x{other:04x}"),
        }
    }
}

/// The schemes we verify, in the order we offer them in
/// signature_algorithms. `rsa_pkcs1_*` are for TLS 1.2 and for certificate
/// signatures (RFC 8446 4.2.3 allows them there).
pub const SUPPORTED_SCHEMES: [u16; 7] = [
    scheme::ECDSA_SECP256R1_SHA256,
    scheme::ED25519,
    scheme::RSA_PSS_RSAE_SHA256,
    scheme::RSA_PSS_RSAE_SHA384,
    scheme::RSA_PSS_RSAE_SHA512,
    scheme::RSA_PKCS1_SHA256,
    scheme::RSA_PKCS1_SHA384,
];

#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    EcdsaP256(Hash),
    RsaPkcs1(Hash),
    RsaPss(Hash),
    Ed25519,
}

/// A `rustls-webpki` signature algorithm implemented with RustCrypto.
#[derive(Debug)]
struct Algorithm {
    public_key: AlgorithmIdentifier,
    signature: AlgorithmIdentifier,
    kind: Kind,
}

fn digest(h: Hash, msg: &[u8]) -> Vec<u8> {
    match h {
        Hash::Sha256 => Sha256::digest(msg).to_vec(),
        Hash::Sha384 => Sha384::digest(msg).to_vec(),
        Hash::Sha512 => Sha512::digest(msg).to_vec(),
    }
}

fn verify_kind(
    kind: Kind,
    public_key: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<(), InvalidSignature> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    match kind {
        Kind::EcdsaP256(h) => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                .map_err(|_| InvalidSignature)?;
            let sig = p256::ecdsa::Signature::from_der(sig).map_err(|_| InvalidSignature)?;
            key.verify_prehash(&digest(h, msg), &sig)
                .map_err(|_| InvalidSignature)
        }
        Kind::RsaPkcs1(h) => {
            let key =
                rsa::RsaPublicKey::from_pkcs1_der(public_key).map_err(|_| InvalidSignature)?;
            let padding = match h {
                Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
            };
            key.verify(padding, &digest(h, msg), sig)
                .map_err(|_| InvalidSignature)
        }
        Kind::RsaPss(h) => {
            let key =
                rsa::RsaPublicKey::from_pkcs1_der(public_key).map_err(|_| InvalidSignature)?;
            // RFC 8446 4.2.3: the salt is as long as the digest.
            let padding = match h {
                Hash::Sha256 => rsa::Pss::new_with_salt::<Sha256>(32),
                Hash::Sha384 => rsa::Pss::new_with_salt::<Sha384>(48),
                Hash::Sha512 => rsa::Pss::new_with_salt::<Sha512>(64),
            };
            key.verify(padding, &digest(h, msg), sig)
                .map_err(|_| InvalidSignature)
        }
        Kind::Ed25519 => {
            use ed25519_dalek::Verifier;
            let pk: [u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&pk).map_err(|_| InvalidSignature)?;
            let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| InvalidSignature)?;
            key.verify(msg, &sig).map_err(|_| InvalidSignature)
        }
    }
}

impl SignatureVerificationAlgorithm for Algorithm {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        verify_kind(self.kind, public_key, message, signature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.public_key
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature
    }
}

static ECDSA_P256_SHA256: Algorithm = Algorithm {
    public_key: alg_id::ECDSA_P256,
    signature: alg_id::ECDSA_SHA256,
    kind: Kind::EcdsaP256(Hash::Sha256),
};
static ECDSA_P256_SHA384: Algorithm = Algorithm {
    public_key: alg_id::ECDSA_P256,
    signature: alg_id::ECDSA_SHA384,
    kind: Kind::EcdsaP256(Hash::Sha384),
};
static RSA_PKCS1_SHA256: Algorithm = Algorithm {
    public_key: alg_id::RSA_ENCRYPTION,
    signature: alg_id::RSA_PKCS1_SHA256,
    kind: Kind::RsaPkcs1(Hash::Sha256),
};
static RSA_PKCS1_SHA384: Algorithm = Algorithm {
    public_key: alg_id::RSA_ENCRYPTION,
    signature: alg_id::RSA_PKCS1_SHA384,
    kind: Kind::RsaPkcs1(Hash::Sha384),
};
static RSA_PKCS1_SHA512: Algorithm = Algorithm {
    public_key: alg_id::RSA_ENCRYPTION,
    signature: alg_id::RSA_PKCS1_SHA512,
    kind: Kind::RsaPkcs1(Hash::Sha512),
};
static RSA_PSS_SHA256: Algorithm = Algorithm {
    public_key: alg_id::RSA_ENCRYPTION,
    signature: alg_id::RSA_PSS_SHA256,
    kind: Kind::RsaPss(Hash::Sha256),
};
static RSA_PSS_SHA384: Algorithm = Algorithm {
    public_key: alg_id::RSA_ENCRYPTION,
    signature: alg_id::RSA_PSS_SHA384,
    kind: Kind::RsaPss(Hash::Sha384),
};
static RSA_PSS_SHA512: Algorithm = Algorithm {
    public_key: alg_id::RSA_ENCRYPTION,
    signature: alg_id::RSA_PSS_SHA512,
    kind: Kind::RsaPss(Hash::Sha512),
};
static ED25519: Algorithm = Algorithm {
    public_key: alg_id::ED25519,
    signature: alg_id::ED25519,
    kind: Kind::Ed25519,
};

/// Certificate signature algorithms accepted in chains.
static CERT_ALGS: &[&dyn SignatureVerificationAlgorithm] = &[
    &ECDSA_P256_SHA256,
    &ECDSA_P256_SHA384,
    &ED25519,
    &RSA_PKCS1_SHA256,
    &RSA_PKCS1_SHA384,
    &RSA_PKCS1_SHA512,
    &RSA_PSS_SHA256,
    &RSA_PSS_SHA384,
    &RSA_PSS_SHA512,
];

fn tls_algorithm(s: u16, tls13: bool) -> Option<&'static Algorithm> {
    Some(match s {
        scheme::ECDSA_SECP256R1_SHA256 => &ECDSA_P256_SHA256,
        scheme::ED25519 => &ED25519,
        scheme::RSA_PSS_RSAE_SHA256 => &RSA_PSS_SHA256,
        scheme::RSA_PSS_RSAE_SHA384 => &RSA_PSS_SHA384,
        scheme::RSA_PSS_RSAE_SHA512 => &RSA_PSS_SHA512,
        // RFC 8446 4.4.3: RSASSA-PKCS1-v1_5 is not for TLS 1.3 handshakes.
        scheme::RSA_PKCS1_SHA256 if !tls13 => &RSA_PKCS1_SHA256,
        scheme::RSA_PKCS1_SHA384 if !tls13 => &RSA_PKCS1_SHA384,
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
/// under `scheme`. A scheme that is unknown, not allowed in this version, or
/// not offered by us is an illegal_parameter; a wrong signature or a key that
/// does not match the scheme is a decrypt_error (RFC 8446 4.4.3).
pub fn verify_signed(
    end_entity: &[u8],
    scheme: u16,
    message: &[u8],
    signature: &[u8],
    tls13: bool,
) -> Result<(), Error> {
    let alg = tls_algorithm(scheme, tls13)
        .ok_or(Error::IllegalParameter("signature scheme not offered"))?;
    let der = CertificateDer::from(end_entity);
    let ee = webpki::EndEntityCert::try_from(&der).map_err(cert_error)?;
    ee.verify_signature(alg, message, signature)
        .map_err(|_| Error::BadSignature)
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

/// Trusted roots.
#[derive(Debug, Clone, Default)]
pub struct RootStore {
    roots: Vec<CertificateDer<'static>>,
}

impl RootStore {
    /// Roots from PEM (every CERTIFICATE block).
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let roots = certs_from_pem(pem)?;
        // Each must parse as a trust anchor now, not at first use.
        for r in &roots {
            webpki::anchor_from_trusted_cert(r)
                .map_err(|e| Error::Config(format!("CA certificate: {e:?}")))?;
        }
        Ok(RootStore { roots })
    }

    /// Number of roots.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
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
    let subject = subject_summary(ee);
    match verification {
        ServerVerification::Roots(roots) => {
            let name = server_name.ok_or(Error::Internal("no server name to verify"))?;
            let res = verify_server_chain(chain, roots, name, UnixTime::now());
            trace.step(|| match &res {
                Ok(()) => format!(
                    "Certificate: subject {subject}; chain of {} verified for {name}",
                    chain.len()
                ),
                Err(e) => format!("Certificate: subject {subject}; NOT verified: {e}"),
            });
            res
        }
        ServerVerification::DangerousNoVerificationInsecure => {
            trace.step(|| format!("Certificate: subject {subject}; NOT VERIFIED (--insecure)"));
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
    let (ee, rest) = chain.split_first().ok_or(Error::Certificate {
        alert: Alert::DecodeError,
        reason: "empty certificate chain".into(),
    })?;
    let ee_der = CertificateDer::from(ee.as_slice());
    let ee = webpki::EndEntityCert::try_from(&ee_der).map_err(cert_error)?;
    let anchors: Vec<_> = roots
        .roots
        .iter()
        .map(webpki::anchor_from_trusted_cert)
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Config(format!("CA certificate: {e:?}")))?;
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    ee.verify_for_usage(
        CERT_ALGS,
        &anchors,
        &intermediates,
        now,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map_err(cert_error)?;
    let name = ServerName::try_from(server_name)
        .map_err(|_| Error::Config(format!("invalid server name {server_name:?}")))?;
    ee.verify_is_valid_for_subject_name(&name)
        .map_err(cert_error)
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

/// The server's private key.
pub enum SigningKey {
    /// ECDSA over P-256 (ecdsa_secp256r1_sha256).
    EcdsaP256(p256::ecdsa::SigningKey),
    /// Ed25519 (ed25519).
    Ed25519(ed25519_dalek::SigningKey),
    /// RSA (rsa_pss_rsae_* in TLS 1.3; also rsa_pkcs1_* in TLS 1.2).
    Rsa(Box<rsa::RsaPrivateKey>),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind_name())
    }
}

impl SigningKey {
    /// Loads the first private key of a PEM file: PKCS#8 (`PRIVATE KEY`),
    /// SEC 1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        use pkcs8::DecodePrivateKey;
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let mut rd = pem;
        let key = rustls_pemfile::private_key(&mut rd)
            .map_err(|e| Error::Config(format!("PEM: {e}")))?
            .ok_or_else(|| Error::Config("no private key in PEM".into()))?;
        let bad = |what: &str| Error::Config(format!("unsupported or malformed {what} key"));
        match key {
            pki_types::PrivateKeyDer::Pkcs8(k) => {
                let der = k.secret_pkcs8_der();
                if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
                    Ok(SigningKey::EcdsaP256(k))
                } else if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
                    Ok(SigningKey::Ed25519(k))
                } else if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(der) {
                    Ok(SigningKey::Rsa(Box::new(k)))
                } else {
                    Err(bad("PKCS#8 (need P-256, Ed25519 or RSA)"))
                }
            }
            pki_types::PrivateKeyDer::Sec1(k) => {
                p256::SecretKey::from_sec1_der(k.secret_sec1_der())
                    .map(|k| SigningKey::EcdsaP256(k.into()))
                    .map_err(|_| bad("SEC 1 EC (need P-256)"))
            }
            pki_types::PrivateKeyDer::Pkcs1(k) => {
                rsa::RsaPrivateKey::from_pkcs1_der(k.secret_pkcs1_der())
                    .map(|k| SigningKey::Rsa(Box::new(k)))
                    .map_err(|_| bad("PKCS#1 RSA"))
            }
            _ => Err(bad("private")),
        }
    }

    /// The key type, for traces.
    pub fn kind_name(&self) -> &'static str {
        match self {
            SigningKey::EcdsaP256(_) => "ECDSA P-256",
            SigningKey::Ed25519(_) => "Ed25519",
            SigningKey::Rsa(_) => "RSA",
        }
    }

    /// The schemes this key can make, best first.
    pub fn schemes(&self, tls13: bool) -> Vec<u16> {
        match self {
            SigningKey::EcdsaP256(_) => vec![scheme::ECDSA_SECP256R1_SHA256],
            SigningKey::Ed25519(_) => vec![scheme::ED25519],
            SigningKey::Rsa(_) if tls13 => vec![
                scheme::RSA_PSS_RSAE_SHA256,
                scheme::RSA_PSS_RSAE_SHA384,
                scheme::RSA_PSS_RSAE_SHA512,
            ],
            SigningKey::Rsa(_) => vec![
                scheme::RSA_PSS_RSAE_SHA256,
                scheme::RSA_PSS_RSAE_SHA384,
                scheme::RSA_PSS_RSAE_SHA512,
                scheme::RSA_PKCS1_SHA256,
                scheme::RSA_PKCS1_SHA384,
            ],
        }
    }

    /// The first of our schemes the peer offered (handshake_failure if none).
    pub fn choose_scheme(&self, offered: &[u16], tls13: bool) -> Result<u16, Error> {
        self.schemes(tls13)
            .into_iter()
            .find(|s| offered.contains(s))
            .ok_or(Error::HandshakeFailure("no signature scheme in common"))
    }

    /// Signs `message` under `scheme`.
    pub fn sign(&self, s: u16, message: &[u8]) -> Result<Vec<u8>, Error> {
        use rand_core::OsRng;
        let wrong = Error::Internal("signature scheme does not fit the key");
        match (self, s) {
            (SigningKey::EcdsaP256(k), scheme::ECDSA_SECP256R1_SHA256) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = k.sign(message);
                Ok(sig.to_der().as_bytes().to_vec())
            }
            (SigningKey::Ed25519(k), scheme::ED25519) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(message).to_bytes().to_vec())
            }
            (SigningKey::Rsa(k), _) => {
                let (pss, hash) = match s {
                    scheme::RSA_PSS_RSAE_SHA256 => (true, Hash::Sha256),
                    scheme::RSA_PSS_RSAE_SHA384 => (true, Hash::Sha384),
                    scheme::RSA_PSS_RSAE_SHA512 => (true, Hash::Sha512),
                    scheme::RSA_PKCS1_SHA256 => (false, Hash::Sha256),
                    scheme::RSA_PKCS1_SHA384 => (false, Hash::Sha384),
                    _ => return Err(wrong),
                };
                let d = digest(hash, message);
                let res = if pss {
                    let padding = match hash {
                        Hash::Sha256 => rsa::Pss::new_with_salt::<Sha256>(32),
                        Hash::Sha384 => rsa::Pss::new_with_salt::<Sha384>(48),
                        Hash::Sha512 => rsa::Pss::new_with_salt::<Sha512>(64),
                    };
                    k.sign_with_rng(&mut OsRng, padding, &d)
                } else {
                    let padding = match hash {
                        Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                        _ => rsa::Pkcs1v15Sign::new::<Sha256>(),
                    };
                    k.sign_with_rng(&mut OsRng, padding, &d)
                };
                res.map_err(|_| Error::Internal("RSA signing failed"))
            }
            _ => Err(wrong),
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
        assert!(tls_algorithm(scheme::RSA_PKCS1_SHA256, true).is_none());
        assert!(tls_algorithm(scheme::RSA_PKCS1_SHA256, false).is_some());
    }

    #[test]
    fn ecdsa_and_ed25519_sign_then_verify_raw() {
        let k = SigningKey::EcdsaP256(p256::ecdsa::SigningKey::random(&mut rand_core::OsRng));
        let sig = k.sign(scheme::ECDSA_SECP256R1_SHA256, b"msg").unwrap();
        let SigningKey::EcdsaP256(sk) = &k else {
            unreachable!()
        };
        let pk = sk.verifying_key().to_encoded_point(false);
        verify_kind(Kind::EcdsaP256(Hash::Sha256), pk.as_bytes(), b"msg", &sig).unwrap();
        assert!(verify_kind(Kind::EcdsaP256(Hash::Sha256), pk.as_bytes(), b"msh", &sig).is_err());

        let e = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let pk = e.verifying_key().to_bytes();
        let k = SigningKey::Ed25519(e);
        let sig = k.sign(scheme::ED25519, b"msg").unwrap();
        verify_kind(Kind::Ed25519, &pk, b"msg", &sig).unwrap();
        assert!(verify_kind(Kind::Ed25519, &pk, b"msg!", &sig).is_err());
        assert!(k.sign(scheme::ECDSA_SECP256R1_SHA256, b"m").is_err());
    }
}
