//! Ephemeral key exchange: X25519 (RFC 7748) and secp256r1 ECDH (SEC 1),
//! with the encodings of RFC 8446 4.2.8.2 (TLS 1.2 uses the same ones in
//! ServerKeyExchange/ClientKeyExchange, RFC 8422 5.4).

#![forbid(unsafe_code)]

use super::error::Error;
use rand_core::OsRng;
use zeroize::Zeroizing;

/// `NamedGroup` code points (RFC 8446 4.2.7).
pub mod group {
    /// secp256r1(0x0017)
    pub const SECP256R1: u16 = 0x0017;
    /// x25519(0x001d)
    pub const X25519: u16 = 0x001d;

    /// A readable name for traces.
    pub fn name(g: u16) -> String {
        match g {
            SECP256R1 => "secp256r1".into(),
            X25519 => "x25519".into(),
            0x0018 => "secp384r1".into(),
            0x0019 => "secp521r1".into(),
            0x001e => "x448".into(),
            other => format!("group 0x{other:04x}"),
        }
    }
}

/// Groups this crate implements, in default preference order.
pub const SUPPORTED_GROUPS: [u16; 2] = [group::X25519, group::SECP256R1];

enum Secret {
    X25519(x25519_dalek::EphemeralSecret),
    P256(p256::ecdh::EphemeralSecret),
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

impl KeyExchange {
    /// A fresh key pair from the OS RNG; unsupported groups are a
    /// handshake_failure (a peer only makes us use groups we offered).
    pub fn generate(g: u16) -> Result<Self, Error> {
        match g {
            group::X25519 => {
                let s = x25519_dalek::EphemeralSecret::random_from_rng(OsRng);
                let public = x25519_dalek::PublicKey::from(&s).as_bytes().to_vec();
                Ok(KeyExchange {
                    group: g,
                    secret: Secret::X25519(s),
                    public,
                })
            }
            group::SECP256R1 => {
                let s = p256::ecdh::EphemeralSecret::random(&mut OsRng);
                let public = p256::EncodedPoint::from(s.public_key()).as_bytes().to_vec();
                Ok(KeyExchange {
                    group: g,
                    secret: Secret::P256(s),
                    public,
                })
            }
            _ => Err(Error::HandshakeFailure("unsupported key exchange group")),
        }
    }

    /// The group.
    pub fn group(&self) -> u16 {
        self.group
    }

    /// The public value as sent in key_share: 32 bytes for X25519, the
    /// uncompressed SEC 1 point (0x04 || X || Y) for secp256r1.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The shared secret with the peer's public value. A malformed peer value,
    /// a point not on the curve, or an all-zero X25519 result is an
    /// illegal_parameter (RFC 8446 4.2.8.2, 7.4.2).
    pub fn agree(self, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        match self.secret {
            Secret::X25519(s) => {
                let p: [u8; 32] = peer
                    .try_into()
                    .map_err(|_| Error::IllegalParameter("X25519 key share is not 32 bytes"))?;
                let shared = s.diffie_hellman(&x25519_dalek::PublicKey::from(p));
                if !shared.was_contributory() {
                    return Err(Error::IllegalParameter("X25519 shared secret is all zero"));
                }
                Ok(Zeroizing::new(shared.as_bytes().to_vec()))
            }
            Secret::P256(s) => {
                // RFC 8446 4.2.8.2: only the uncompressed form.
                if peer.len() != 65 || peer[0] != 4 {
                    return Err(Error::IllegalParameter(
                        "secp256r1 key share is not an uncompressed point",
                    ));
                }
                let pk = p256::PublicKey::from_sec1_bytes(peer)
                    .map_err(|_| Error::IllegalParameter("secp256r1 point is not on the curve"))?;
                let shared = s.diffie_hellman(&pk);
                Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_groups_agree() {
        for g in SUPPORTED_GROUPS {
            let a = KeyExchange::generate(g).unwrap();
            let b = KeyExchange::generate(g).unwrap();
            let (pa, pb) = (a.public_key().to_vec(), b.public_key().to_vec());
            let s1 = a.agree(&pb).unwrap();
            let s2 = b.agree(&pa).unwrap();
            assert_eq!(*s1, *s2);
            assert_eq!(s1.len(), 32);
        }
    }

    #[test]
    fn bad_peer_values_rejected() {
        let a = KeyExchange::generate(group::X25519).unwrap();
        assert!(matches!(
            a.agree(&[0u8; 32]),
            Err(Error::IllegalParameter(_))
        ));
        let a = KeyExchange::generate(group::X25519).unwrap();
        assert!(matches!(
            a.agree(&[1u8; 31]),
            Err(Error::IllegalParameter(_))
        ));
        let p = KeyExchange::generate(group::SECP256R1).unwrap();
        let mut bad = vec![4u8];
        bad.extend_from_slice(&[0x11; 64]);
        assert!(matches!(p.agree(&bad), Err(Error::IllegalParameter(_))));
        assert!(KeyExchange::generate(0x0018).is_err());
    }
}
