//! Ephemeral key exchange, all by aws-lc-rs: X25519 (RFC 7748), secp256r1
//! and secp384r1 ECDH (SEC 1), and the hybrid X25519MLKEM768
//! (draft-ietf-tls-ecdhe-mlkem: ML-KEM-768 of FIPS 203 with X25519), with
//! the encodings of RFC 8446 4.2.8.2. TLS 1.2 uses the elliptic-curve
//! groups only, with the same encodings in ServerKeyExchange and
//! ClientKeyExchange (RFC 8422 5.4).
//!
//! The hybrid is a KEM, not a Diffie-Hellman: the client sends an
//! encapsulation key, the server answers with a ciphertext made for it.
//! So the client side is [`KeyExchange::generate`] then
//! [`KeyExchange::agree`], and the TLS 1.3 server side is one call,
//! [`respond`], which also serves the Diffie-Hellman groups.
//!
//! ```text
//!  X25519MLKEM768 (ML-KEM first everywhere)
//!  client share  = ek_mlkem (1184) || x25519_public (32)        = 1216 bytes
//!  server share  = ct_mlkem (1088) || x25519_public (32)        = 1120 bytes
//!  shared secret = ss_mlkem (32)   || x25519_shared (32)        =   64 bytes
//! ```
//!
//! Private keys live inside aws-lc (`EVP_PKEY`), which wipes them when they
//! are freed; the shared secrets handed out here are [`Zeroizing`].

#![forbid(unsafe_code)]

use super::error::Error;
use crate::wire::NamedGroup;
use aws_lc_rs::{agreement, kem};
use zeroize::Zeroizing;

/// `NamedGroup` code points (RFC 8446 4.2.7; the hybrid's from
/// draft-ietf-tls-ecdhe-mlkem).
pub mod group {
    use crate::wire::NamedGroup;

    /// secp256r1(0x0017)
    pub const SECP256R1: u16 = NamedGroup::Secp256r1.to_u16();
    /// secp384r1(0x0018)
    pub const SECP384R1: u16 = NamedGroup::Secp384r1.to_u16();
    /// x25519(0x001d)
    pub const X25519: u16 = NamedGroup::X25519.to_u16();
    /// X25519MLKEM768(0x11ec): ML-KEM-768 with X25519, TLS 1.3 only.
    pub const X25519MLKEM768: u16 = NamedGroup::X25519Mlkem768.to_u16();

    /// A readable name for traces.
    pub fn name(g: u16) -> String {
        NamedGroup::from_u16(g).to_string()
    }

    /// Whether TLS 1.2's ECDHE (RFC 8422) can use the group: the
    /// elliptic curves, not the hybrid KEM.
    pub fn is_ecdhe(g: u16) -> bool {
        matches!(g, SECP256R1 | SECP384R1 | X25519)
    }
}

/// Groups this crate implements, in default preference order: the
/// post-quantum hybrid first, as rustls, Chrome and Firefox prefer it.
pub const SUPPORTED_GROUPS: [NamedGroup; 4] = [
    NamedGroup::X25519Mlkem768,
    NamedGroup::X25519,
    NamedGroup::Secp256r1,
    NamedGroup::Secp384r1,
];

/// ML-KEM-768 sizes (FIPS 203 table 3).
const MLKEM768_EK_LEN: usize = 1184;
const MLKEM768_CT_LEN: usize = 1088;
const X25519_LEN: usize = 32;

/// The client's X25519MLKEM768 share length.
pub const X25519MLKEM768_CLIENT_SHARE_LEN: usize = MLKEM768_EK_LEN + X25519_LEN;
/// The server's X25519MLKEM768 share length.
pub const X25519MLKEM768_SERVER_SHARE_LEN: usize = MLKEM768_CT_LEN + X25519_LEN;

enum Secret {
    /// X25519, secp256r1 or secp384r1.
    Ecdh(agreement::PrivateKey),
    /// X25519MLKEM768: the ML-KEM decapsulation key and the X25519 key.
    Hybrid {
        mlkem: kem::DecapsulationKey<kem::AlgorithmId>,
        x25519: agreement::PrivateKey,
    },
}

/// One side's ephemeral key pair, used once.
pub struct KeyExchange {
    group: u16,
    secret: Secret,
    public: Vec<u8>,
}

impl std::fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyExchange({})", group::name(self.group))
    }
}

fn ecdh_algorithm(g: u16) -> Option<&'static agreement::Algorithm> {
    Some(match g {
        group::X25519 => &agreement::X25519,
        group::SECP256R1 => &agreement::ECDH_P256,
        group::SECP384R1 => &agreement::ECDH_P384,
        _ => return None,
    })
}

fn rng_failed<E>(_: E) -> Error {
    Error::Internal("key generation failed")
}

fn ecdh_generate(
    alg: &'static agreement::Algorithm,
) -> Result<(agreement::PrivateKey, Vec<u8>), Error> {
    let key = agreement::PrivateKey::generate(alg).map_err(rng_failed)?;
    let public = key
        .compute_public_key()
        .map_err(rng_failed)?
        .as_ref()
        .to_vec();
    Ok((key, public))
}

/// Checks the encoding of a Diffie-Hellman share (RFC 8446 4.2.8.2): 32
/// bytes for X25519, the uncompressed point `0x04 || X || Y` for the NIST
/// curves (aws-lc would also take a compressed point, which TLS forbids).
fn check_ecdh_share(g: u16, peer: &[u8]) -> Result<(), Error> {
    let ok = match g {
        group::X25519 => peer.len() == X25519_LEN,
        group::SECP256R1 => peer.len() == 65 && peer[0] == 4,
        group::SECP384R1 => peer.len() == 97 && peer[0] == 4,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::IllegalParameter(match g {
            group::X25519 => "x25519 key share is not 32 bytes",
            group::SECP256R1 => "secp256r1 key share is not an uncompressed point",
            _ => "secp384r1 key share is not an uncompressed point",
        }))
    }
}

/// Diffie-Hellman with a checked share. aws-lc refuses a point off the
/// curve and an all-zero X25519 result (RFC 8446 7.4.2, RFC 7748 6.1):
/// both are illegal_parameter.
fn ecdh_agree(
    g: u16,
    key: &agreement::PrivateKey,
    peer: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    check_ecdh_share(g, peer)?;
    let alg = key.algorithm();
    let refused = Error::IllegalParameter(if g == group::X25519 {
        "x25519 shared secret is all zero"
    } else {
        "key share point is not on the curve"
    });
    agreement::agree(
        key,
        agreement::UnparsedPublicKey::new(alg, peer),
        refused,
        |s| Ok(Zeroizing::new(s.to_vec())),
    )
}

/// FIPS 203 7.2's modulus check of an ML-KEM encapsulation key: every
/// 12-bit coefficient of the encoded vector (the first 384·k bytes) is
/// below q = 3329. A key that fails it is malformed.
fn mlkem_ek_modulus_ok(ek: &[u8]) -> bool {
    const Q: u16 = 3329;
    let t = &ek[..MLKEM768_EK_LEN - 32];
    t.chunks_exact(3).all(|b| {
        let c0 = u16::from(b[0]) | (u16::from(b[1] & 0x0f) << 8);
        let c1 = u16::from(b[1] >> 4) | (u16::from(b[2]) << 4);
        c0 < Q && c1 < Q
    })
}

impl KeyExchange {
    /// A fresh key pair; unsupported groups are a handshake_failure.
    pub fn generate(g: u16) -> Result<Self, Error> {
        if let Some(alg) = ecdh_algorithm(g) {
            let (key, public) = ecdh_generate(alg)?;
            return Ok(KeyExchange {
                group: g,
                secret: Secret::Ecdh(key),
                public,
            });
        }
        if g != group::X25519MLKEM768 {
            return Err(Error::HandshakeFailure("unsupported key exchange group"));
        }
        let mlkem = kem::DecapsulationKey::generate(&kem::ML_KEM_768).map_err(rng_failed)?;
        let ek = mlkem.encapsulation_key().map_err(rng_failed)?;
        let ek = ek.key_bytes().map_err(rng_failed)?;
        let (x25519, x_pub) = ecdh_generate(&agreement::X25519)?;
        let mut public = Vec::with_capacity(X25519MLKEM768_CLIENT_SHARE_LEN);
        public.extend_from_slice(ek.as_ref());
        public.extend_from_slice(&x_pub);
        debug_assert_eq!(public.len(), X25519MLKEM768_CLIENT_SHARE_LEN);
        Ok(KeyExchange {
            group: g,
            secret: Secret::Hybrid { mlkem, x25519 },
            public,
        })
    }

    /// The group.
    pub fn group(&self) -> u16 {
        self.group
    }

    /// The public value as sent in key_share: 32 bytes for X25519, the
    /// uncompressed SEC 1 point for the NIST curves, the encapsulation key
    /// followed by the X25519 value for X25519MLKEM768.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The shared secret with the peer's public value (for the hybrid: the
    /// server's ciphertext and X25519 value). A share of the wrong length
    /// or form, a point not on the curve, or an all-zero X25519 result is
    /// an illegal_parameter (RFC 8446 4.2.8.2, 7.4.2).
    pub fn agree(self, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        match &self.secret {
            Secret::Ecdh(key) => ecdh_agree(self.group, key, peer),
            Secret::Hybrid { mlkem, x25519 } => {
                if peer.len() != X25519MLKEM768_SERVER_SHARE_LEN {
                    return Err(Error::IllegalParameter(
                        "X25519MLKEM768 server share is not 1120 bytes",
                    ));
                }
                let (ct, x_peer) = peer.split_at(MLKEM768_CT_LEN);
                // FIPS 203 6.3: decapsulation of a well-sized ciphertext
                // cannot fail (a bad one yields the implicit-rejection
                // secret, and the handshake then fails at Finished).
                let ss = mlkem
                    .decapsulate(kem::Ciphertext::from(ct))
                    .map_err(|_| Error::IllegalParameter("ML-KEM-768 ciphertext refused"))?;
                let x = ecdh_agree(group::X25519, x25519, x_peer)?;
                let mut shared = Zeroizing::new(Vec::with_capacity(64));
                shared.extend_from_slice(ss.as_ref());
                shared.extend_from_slice(&x);
                Ok(shared)
            }
        }
    }
}

/// The TLS 1.3 server's half of a key exchange, computed from the client's
/// share in one step.
pub struct Response {
    /// The server's key_share value.
    pub public: Vec<u8>,
    /// The shared secret (the `(EC)DHE` input of RFC 8446 7.1).
    pub shared: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Response({} byte share, <secret redacted>)",
            self.public.len()
        )
    }
}

/// The server's answer to a client share of group `g`: for the
/// Diffie-Hellman groups a fresh key pair and the agreement; for
/// X25519MLKEM768 an encapsulation to the client's key plus X25519. A
/// share of the wrong length, an encapsulation key failing FIPS 203's
/// modulus check, a point off the curve or an all-zero X25519 result is an
/// illegal_parameter.
pub fn respond(g: u16, client_share: &[u8]) -> Result<Response, Error> {
    if let Some(alg) = ecdh_algorithm(g) {
        // Check the share before spending a key generation on it.
        check_ecdh_share(g, client_share)?;
        let (key, public) = ecdh_generate(alg)?;
        let shared = ecdh_agree(g, &key, client_share)?;
        return Ok(Response { public, shared });
    }
    if g != group::X25519MLKEM768 {
        return Err(Error::HandshakeFailure("unsupported key exchange group"));
    }
    if client_share.len() != X25519MLKEM768_CLIENT_SHARE_LEN {
        return Err(Error::IllegalParameter(
            "X25519MLKEM768 client share is not 1216 bytes",
        ));
    }
    let (ek, x_peer) = client_share.split_at(MLKEM768_EK_LEN);
    if !mlkem_ek_modulus_ok(ek) {
        return Err(Error::IllegalParameter(
            "ML-KEM-768 encapsulation key fails the modulus check",
        ));
    }
    check_ecdh_share(group::X25519, x_peer)?;
    let ek = kem::EncapsulationKey::new(&kem::ML_KEM_768, ek)
        .map_err(|_| Error::IllegalParameter("ML-KEM-768 encapsulation key refused"))?;
    let (ct, ss) = ek
        .encapsulate()
        .map_err(|_| Error::IllegalParameter("ML-KEM-768 encapsulation key refused"))?;
    let (x25519, x_pub) = ecdh_generate(&agreement::X25519)?;
    let x = ecdh_agree(group::X25519, &x25519, x_peer)?;
    let mut public = Vec::with_capacity(X25519MLKEM768_SERVER_SHARE_LEN);
    public.extend_from_slice(ct.as_ref());
    public.extend_from_slice(&x_pub);
    let mut shared = Zeroizing::new(Vec::with_capacity(64));
    shared.extend_from_slice(ss.as_ref());
    shared.extend_from_slice(&x);
    Ok(Response { public, shared })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_agrees_both_ways() {
        for g in SUPPORTED_GROUPS.map(NamedGroup::to_u16) {
            let client = KeyExchange::generate(g).unwrap();
            let r = respond(g, client.public_key()).unwrap();
            let s = client.agree(&r.public).unwrap();
            assert_eq!(*s, *r.shared, "{}", group::name(g));
            let want = if g == group::X25519MLKEM768 { 64 } else { 32 };
            let want = if g == group::SECP384R1 { 48 } else { want };
            assert_eq!(s.len(), want, "{}", group::name(g));
        }
        // Two generated pairs agree with each other (the TLS 1.2 path).
        for g in [group::X25519, group::SECP256R1, group::SECP384R1] {
            let a = KeyExchange::generate(g).unwrap();
            let b = KeyExchange::generate(g).unwrap();
            let (pa, pb) = (a.public_key().to_vec(), b.public_key().to_vec());
            assert_eq!(*a.agree(&pb).unwrap(), *b.agree(&pa).unwrap());
        }
    }

    #[test]
    fn hybrid_sizes_and_secret_order() {
        let client = KeyExchange::generate(group::X25519MLKEM768).unwrap();
        assert_eq!(client.public_key().len(), 1216);
        let share = client.public_key().to_vec();
        let r = respond(group::X25519MLKEM768, &share).unwrap();
        assert_eq!(r.public.len(), 1120);
        // The X25519 half is the tail of both shares; the X25519 secret is
        // the tail of the shared secret.
        let x_client = &share[1184..];
        let x_server = &r.public[1088..];
        let Secret::Hybrid { x25519, .. } = &client.secret else {
            panic!("hybrid key");
        };
        let x = ecdh_agree(group::X25519, x25519, x_server).unwrap();
        assert_eq!(&r.shared[32..], &x[..]);
        assert_ne!(&r.shared[..32], &x[..]);
        assert_eq!(x_client, &client.public_key()[1184..]);
        let s = client.agree(&r.public).unwrap();
        assert_eq!(*s, *r.shared);
    }

    #[test]
    fn bad_peer_values_rejected() {
        let illegal = |r: Result<Zeroizing<Vec<u8>>, Error>| {
            assert!(
                matches!(r, Err(Error::IllegalParameter(_))),
                "{:?}",
                r.err()
            );
        };
        let a = KeyExchange::generate(group::X25519).unwrap();
        illegal(a.agree(&[0u8; 32]));
        let a = KeyExchange::generate(group::X25519).unwrap();
        illegal(a.agree(&[1u8; 31]));
        for (g, len) in [(group::SECP256R1, 65), (group::SECP384R1, 97)] {
            let p = KeyExchange::generate(g).unwrap();
            let mut bad = vec![4u8];
            bad.extend(std::iter::repeat_n(0x11, len - 1));
            illegal(p.agree(&bad));
            let p = KeyExchange::generate(g).unwrap();
            let good = KeyExchange::generate(g).unwrap().public_key().to_vec();
            illegal(p.agree(&good[..len - 1]));
            let p = KeyExchange::generate(g).unwrap();
            let mut compressed = good[..len.div_ceil(2)].to_vec();
            compressed[0] = 2 | (good[len - 1] & 1);
            illegal(p.agree(&compressed));
            assert!(matches!(respond(g, &bad), Err(Error::IllegalParameter(_))));
        }
        assert!(KeyExchange::generate(0x0019).is_err());
        assert!(respond(0x0019, &[4; 133]).is_err());
    }

    #[test]
    fn bad_hybrid_shares_rejected() {
        let client = KeyExchange::generate(group::X25519MLKEM768).unwrap();
        let share = client.public_key().to_vec();
        let illegal = |r: Result<Response, Error>| {
            assert!(matches!(r, Err(Error::IllegalParameter(_))), "{r:?}");
        };
        illegal(respond(group::X25519MLKEM768, &share[..1215]));
        illegal(respond(group::X25519MLKEM768, &[&share[..], &[0]].concat()));
        // A coefficient of q or more in the ML-KEM half.
        let mut bad = share.clone();
        bad[0] = 0xff;
        bad[1] |= 0x0f;
        illegal(respond(group::X25519MLKEM768, &bad));
        // A low-order X25519 half (all zero): an all-zero X25519 secret.
        let mut bad = share.clone();
        bad[1184..].fill(0);
        illegal(respond(group::X25519MLKEM768, &bad));

        let r = respond(group::X25519MLKEM768, &share).unwrap();
        let c = || KeyExchange::generate(group::X25519MLKEM768).unwrap();
        assert!(matches!(
            c().agree(&r.public[..1119]),
            Err(Error::IllegalParameter(_))
        ));
        let mut bad = r.public.clone();
        bad[1088..].fill(0);
        assert!(matches!(c().agree(&bad), Err(Error::IllegalParameter(_))));
        // A flipped ciphertext bit decapsulates to the implicit-rejection
        // secret: a different secret, no error (the handshake then fails).
        let mut flipped = r.public.clone();
        flipped[5] ^= 0x10;
        let s = client.agree(&flipped).unwrap();
        assert_ne!(*s, *r.shared);
    }

    #[test]
    fn debug_shows_no_secret() {
        let k = KeyExchange::generate(group::X25519MLKEM768).unwrap();
        assert_eq!(format!("{k:?}"), "KeyExchange(X25519MLKEM768)");
        let r = respond(
            group::X25519,
            KeyExchange::generate(group::X25519).unwrap().public_key(),
        )
        .unwrap();
        assert!(!format!("{r:?}").contains(&format!("{:?}", &r.shared[..4])));
    }
}
