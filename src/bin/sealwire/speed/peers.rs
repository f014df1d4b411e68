//! Other AES-GCM implementations, measured the same way as sealwire's
//! backends: ring, aws-lc-rs, the RustCrypto `aes-gcm` crate and OpenSSL's
//! libcrypto (through the `openssl` crate). Only built with the `peers`
//! cargo feature, so embedding users never compile them.
//!
//! Every peer gets the same calls as sealwire: a 12-byte nonce, the AAD, the
//! record sealed or opened in place, a detached 16-byte tag (SP 800-38D
//! section 7). Keys are expanded once, outside the measured loop.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::KeyInit;

/// A peer implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// ring's `LessSafeKey`.
    Ring,
    /// aws-lc-rs's `LessSafeKey`.
    AwsLc,
    /// RustCrypto's `aes-gcm` crate.
    AesGcmCrate,
    /// OpenSSL's EVP interface, one cipher context per key.
    OpenSsl,
}

impl Peer {
    /// Every peer.
    pub const ALL: [Peer; 4] = [Peer::Ring, Peer::AwsLc, Peer::AesGcmCrate, Peer::OpenSsl];

    /// The peer's name in tables, plots and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Ring => "ring",
            Peer::AwsLc => "aws-lc-rs",
            Peer::AesGcmCrate => "aes-gcm",
            Peer::OpenSsl => "openssl",
        }
    }

    /// The version measured: the crate's from Cargo.lock, and for OpenSSL
    /// the libcrypto the binary runs with.
    pub fn version(self) -> String {
        let krate = match self {
            Peer::Ring => "ring",
            Peer::AwsLc => "aws-lc-rs",
            Peer::AesGcmCrate => "aes-gcm",
            Peer::OpenSsl => return openssl::version::version().to_string(),
        };
        locked_version(krate).unwrap_or("?").to_string()
    }

    /// Expands a 16- or 32-byte key.
    pub fn key(self, key: &[u8]) -> Result<PeerKey, String> {
        let fail = |what: &dyn std::fmt::Display| format!("{}: {what}", self.name());
        match self {
            Peer::Ring => {
                let alg = match key.len() {
                    16 => &ring::aead::AES_128_GCM,
                    32 => &ring::aead::AES_256_GCM,
                    n => return Err(fail(&format!("no {}-bit AES-GCM", n * 8))),
                };
                let k = ring::aead::UnboundKey::new(alg, key).map_err(|e| fail(&e))?;
                Ok(PeerKey::Ring(Box::new(ring::aead::LessSafeKey::new(k))))
            }
            Peer::AwsLc => {
                let alg = match key.len() {
                    16 => &aws_lc_rs::aead::AES_128_GCM,
                    32 => &aws_lc_rs::aead::AES_256_GCM,
                    n => return Err(fail(&format!("no {}-bit AES-GCM", n * 8))),
                };
                let k = aws_lc_rs::aead::UnboundKey::new(alg, key).map_err(|e| fail(&e))?;
                Ok(PeerKey::AwsLc(Box::new(aws_lc_rs::aead::LessSafeKey::new(
                    k,
                ))))
            }
            Peer::AesGcmCrate => match key.len() {
                16 => Ok(PeerKey::AesGcm128(Box::new(
                    aes_gcm::Aes128Gcm::new_from_slice(key).map_err(|e| fail(&e))?,
                ))),
                32 => Ok(PeerKey::AesGcm256(Box::new(
                    aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|e| fail(&e))?,
                ))),
                n => Err(fail(&format!("no {}-bit AES-GCM", n * 8))),
            },
            Peer::OpenSsl => {
                let cipher = match key.len() {
                    16 => openssl::cipher::Cipher::aes_128_gcm(),
                    32 => openssl::cipher::Cipher::aes_256_gcm(),
                    n => return Err(fail(&format!("no {}-bit AES-GCM", n * 8))),
                };
                let mut enc = openssl::cipher_ctx::CipherCtx::new().map_err(|e| fail(&e))?;
                enc.encrypt_init(Some(cipher), Some(key), None)
                    .map_err(|e| fail(&e))?;
                let mut dec = openssl::cipher_ctx::CipherCtx::new().map_err(|e| fail(&e))?;
                dec.decrypt_init(Some(cipher), Some(key), None)
                    .map_err(|e| fail(&e))?;
                Ok(PeerKey::OpenSsl { enc, dec })
            }
        }
    }
}

/// The version of `krate` in the Cargo.lock this binary was built with.
fn locked_version(krate: &str) -> Option<&'static str> {
    const LOCK: &str = include_str!("../../../../Cargo.lock");
    let needle = format!("name = \"{krate}\"\nversion = \"");
    let at = LOCK.find(&needle)? + needle.len();
    LOCK[at..].split('"').next()
}

/// An expanded key of one peer (each boxed, so every row, sealwire's
/// included, reaches its key through one pointer).
pub enum PeerKey {
    /// ring.
    Ring(Box<ring::aead::LessSafeKey>),
    /// aws-lc-rs.
    AwsLc(Box<aws_lc_rs::aead::LessSafeKey>),
    /// aes-gcm, AES-128.
    AesGcm128(Box<aes_gcm::Aes128Gcm>),
    /// aes-gcm, AES-256.
    AesGcm256(Box<aes_gcm::Aes256Gcm>),
    /// OpenSSL: one context keyed for sealing, one for opening; each record
    /// only sets the IV, as `openssl speed -evp` does.
    OpenSsl {
        /// Keyed for encryption.
        enc: openssl::cipher_ctx::CipherCtx,
        /// Keyed for decryption.
        dec: openssl::cipher_ctx::CipherCtx,
    },
}

impl std::fmt::Debug for PeerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerKey(..)")
    }
}

impl PeerKey {
    /// Encrypts `buf` in place and returns the tag; `None` if the library
    /// reports an error.
    pub fn seal(&mut self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        let mut tag = [0u8; 16];
        match self {
            PeerKey::Ring(k) => {
                let n = ring::aead::Nonce::assume_unique_for_key(*nonce);
                let t = k
                    .seal_in_place_separate_tag(n, ring::aead::Aad::from(aad), buf)
                    .ok()?;
                tag.copy_from_slice(t.as_ref());
            }
            PeerKey::AwsLc(k) => {
                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(*nonce);
                let t = k
                    .seal_in_place_separate_tag(n, aws_lc_rs::aead::Aad::from(aad), buf)
                    .ok()?;
                tag.copy_from_slice(t.as_ref());
            }
            PeerKey::AesGcm128(k) => {
                let t = k.encrypt_in_place_detached(nonce.into(), aad, buf).ok()?;
                tag.copy_from_slice(&t);
            }
            PeerKey::AesGcm256(k) => {
                let t = k.encrypt_in_place_detached(nonce.into(), aad, buf).ok()?;
                tag.copy_from_slice(&t);
            }
            PeerKey::OpenSsl { enc, .. } => {
                enc.encrypt_init(None, None, Some(nonce)).ok()?;
                enc.cipher_update(aad, None).ok()?;
                let len = buf.len();
                enc.cipher_update_inplace(buf, len).ok()?;
                enc.cipher_final(&mut []).ok()?;
                enc.tag(&mut tag).ok()?;
            }
        }
        Some(tag)
    }

    /// Decrypts `buf` in place; `true` when `tag` authenticates it.
    pub fn open(&mut self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool {
        match self {
            PeerKey::Ring(k) => {
                let n = ring::aead::Nonce::assume_unique_for_key(*nonce);
                k.open_in_place_separate_tag(
                    n,
                    ring::aead::Aad::from(aad),
                    ring::aead::Tag::from(*tag),
                    buf,
                    0..,
                )
                .is_ok()
            }
            PeerKey::AwsLc(k) => {
                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(*nonce);
                k.open_in_place_separate_tag(n, aws_lc_rs::aead::Aad::from(aad), tag, buf)
                    .is_ok()
            }
            PeerKey::AesGcm128(k) => k
                .decrypt_in_place_detached(nonce.into(), aad, buf, tag.into())
                .is_ok(),
            PeerKey::AesGcm256(k) => k
                .decrypt_in_place_detached(nonce.into(), aad, buf, tag.into())
                .is_ok(),
            PeerKey::OpenSsl { dec, .. } => {
                let len = buf.len();
                dec.decrypt_init(None, None, Some(nonce)).is_ok()
                    && dec.cipher_update(aad, None).is_ok()
                    && dec.cipher_update_inplace(buf, len).is_ok()
                    && dec.set_tag(tag).is_ok()
                    && dec.cipher_final(&mut []).is_ok()
            }
        }
    }
}
