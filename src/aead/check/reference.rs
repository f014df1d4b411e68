//! The two independent references of the differential check: the RustCrypto
//! `aes-gcm` crate and aws-lc-rs. Neither shares code with sealwire's GCM
//! framing (`gcm.rs`) or its kernels.
//!
//! ```text
//!   aes-gcm   AES-128/192/256, IV lengths of CRATE_NONCES (a type per length)
//!   aws-lc-rs AES-128/192/256, 12-byte IVs only
//! ```
//!
//! The `aes-gcm` crate takes the IV length as a type (`AesGcm<Aes, N>`), so
//! it is instantiated here for a fixed set of lengths: every length 1..=17
//! (each position of a partial IV block, one block, one block plus one) and
//! the block edges up to 128 bytes. Other IV lengths are compared among the
//! backends only.
//!
//! Both references produce and check full 16-byte tags; a truncated tag
//! (SP 800-38D 5.2.1.2) is the prefix of the full one, so its value is
//! covered by the full-tag comparison and its check by the backends' opens.

#![forbid(unsafe_code)]

use aes_gcm::aead::consts::{
    U1, U10, U100, U11, U12, U127, U128, U13, U14, U15, U16, U17, U2, U24, U3, U31, U32, U33, U4,
    U47, U48, U5, U6, U63, U64, U65, U7, U8, U9, U96,
};
use aes_gcm::aead::generic_array::{ArrayLength, GenericArray};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::{Aes128, Aes192, Aes256};

/// Seals `buf` in place with `AesGcm<Aes, N>` for the key's size.
fn crate_seal<N: ArrayLength<u8>>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; 16] {
    let n = GenericArray::from_slice(nonce);
    let tag = match key.len() {
        16 => aes_gcm::AesGcm::<Aes128, N>::new_from_slice(key)
            .expect("key length")
            .encrypt_in_place_detached(n, aad, buf),
        24 => aes_gcm::AesGcm::<Aes192, N>::new_from_slice(key)
            .expect("key length")
            .encrypt_in_place_detached(n, aad, buf),
        _ => aes_gcm::AesGcm::<Aes256, N>::new_from_slice(key)
            .expect("key length")
            .encrypt_in_place_detached(n, aad, buf),
    };
    tag.expect("lengths within the crate's limits").into()
}

/// Opens `buf` in place with `AesGcm<Aes, N>`; whether the tag authenticated.
fn crate_open<N: ArrayLength<u8>>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; 16],
) -> bool {
    let n = GenericArray::from_slice(nonce);
    let t = GenericArray::from_slice(tag);
    match key.len() {
        16 => aes_gcm::AesGcm::<Aes128, N>::new_from_slice(key)
            .expect("key length")
            .decrypt_in_place_detached(n, aad, buf, t),
        24 => aes_gcm::AesGcm::<Aes192, N>::new_from_slice(key)
            .expect("key length")
            .decrypt_in_place_detached(n, aad, buf, t),
        _ => aes_gcm::AesGcm::<Aes256, N>::new_from_slice(key)
            .expect("key length")
            .decrypt_in_place_detached(n, aad, buf, t),
    }
    .is_ok()
}

/// The list of IV lengths the crate is instantiated for, and the dispatch
/// from a length to its type.
macro_rules! crate_nonces {
    ($($n:literal => $t:ty),* $(,)?) => {
        /// IV lengths (bytes) the `aes-gcm` crate reference takes.
        pub const CRATE_NONCES: &[usize] = &[$($n),*];

        /// The `aes-gcm` crate's seal of `buf` in place, or `None` when it
        /// has no instance for this IV length.
        pub fn aes_gcm_seal(key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
            match nonce.len() {
                $($n => Some(crate_seal::<$t>(key, nonce, aad, buf)),)*
                _ => None,
            }
        }

        /// The `aes-gcm` crate's open of `buf` in place (whether the tag
        /// authenticated), or `None` when it has no instance for this IV
        /// length.
        pub fn aes_gcm_open(
            key: &[u8],
            nonce: &[u8],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8; 16],
        ) -> Option<bool> {
            match nonce.len() {
                $($n => Some(crate_open::<$t>(key, nonce, aad, buf, tag)),)*
                _ => None,
            }
        }
    };
}

crate_nonces! {
    1 => U1, 2 => U2, 3 => U3, 4 => U4, 5 => U5, 6 => U6, 7 => U7, 8 => U8, 9 => U9,
    10 => U10, 11 => U11, 12 => U12, 13 => U13, 14 => U14, 15 => U15, 16 => U16, 17 => U17,
    24 => U24, 31 => U31, 32 => U32, 33 => U33, 47 => U47, 48 => U48, 63 => U63, 64 => U64,
    65 => U65, 96 => U96, 100 => U100, 127 => U127, 128 => U128,
}

/// The aws-lc-rs algorithm for a key size.
fn aws_lc_key(key: &[u8]) -> aws_lc_rs::aead::LessSafeKey {
    use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM};
    let alg = match key.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        _ => &AES_256_GCM,
    };
    LessSafeKey::new(UnboundKey::new(alg, key).expect("key length"))
}

/// aws-lc-rs's seal of `buf` in place, or `None` unless the IV is 12 bytes.
pub fn aws_lc_seal(key: &[u8], nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
    use aws_lc_rs::aead::{Aad, Nonce};
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let tag = aws_lc_key(key)
        .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
        .expect("lengths within aws-lc-rs's limits");
    tag.as_ref().try_into().ok()
}

/// aws-lc-rs's open of `buf` in place (whether the tag authenticated), or
/// `None` unless the IV is 12 bytes.
pub fn aws_lc_open(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; 16],
) -> Option<bool> {
    use aws_lc_rs::aead::{Aad, Nonce};
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    Some(
        aws_lc_key(key)
            .open_in_place_separate_tag(nonce, Aad::from(aad), tag, buf)
            .is_ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SP 800-38D test case 2 (McGrew and Viega, "The Galois/Counter Mode
    /// of Operation", test case 2): AES-128, zero key and IV, one zero block.
    #[test]
    fn references_give_the_published_vector() {
        let key = [0u8; 16];
        let nonce = [0u8; 12];
        let want_ct = hex::decode("0388dace60b6a392f328c2b971b2fe78").unwrap();
        let want_tag = hex::decode("ab6e47d42cec13bdf53a67b21257bddf").unwrap();
        for seal in [aes_gcm_seal, aws_lc_seal] {
            let mut buf = [0u8; 16];
            let tag = seal(&key, &nonce, b"", &mut buf).unwrap();
            assert_eq!(buf[..], want_ct[..]);
            assert_eq!(tag[..], want_tag[..]);
        }
        for open in [aes_gcm_open, aws_lc_open] {
            let mut buf: [u8; 16] = want_ct[..].try_into().unwrap();
            let mut tag: [u8; 16] = want_tag[..].try_into().unwrap();
            assert_eq!(open(&key, &nonce, b"", &mut buf, &tag), Some(true));
            assert_eq!(buf, [0u8; 16]);
            tag[15] ^= 1;
            assert_eq!(open(&key, &nonce, b"", &mut buf, &tag), Some(false));
        }
    }

    #[test]
    fn references_decline_what_they_cannot_take() {
        let mut buf = [0u8; 4];
        assert!(aws_lc_seal(&[0; 16], &[0; 16], b"", &mut buf).is_none());
        assert!(aes_gcm_seal(&[0; 16], &[0; 18], b"", &mut buf).is_none());
        assert!(aes_gcm_seal(&[0; 24], &[0; 128], b"", &mut buf).is_some());
        assert!(CRATE_NONCES.windows(2).all(|w| w[0] < w[1]));
    }
}
