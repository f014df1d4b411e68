//! The two independent references of the differential check: the RustCrypto
//! `aes-gcm` crate and aws-lc-rs. Neither shares code with sealwire's GCM
//! framing (`gcm.rs`) or its kernels.
//!
//! ```text
//!   aes-gcm   AES-128/192/256, IV lengths 1..=128 (a type per length)
//!   aws-lc-rs AES-128/192/256, 12-byte IVs only
//! ```
//!
//! The `aes-gcm` crate takes the IV length as a type (`AesGcm<Aes, N>`), so
//! it is instantiated here once per length, 1 to 128 bytes: every IV length
//! the differential check draws.
//!
//! Both references produce and check full 16-byte tags; a truncated tag
//! (SP 800-38D 5.2.1.2) is the prefix of the full one, so its value is
//! covered by the full-tag comparison and its check by the backends' opens.

#![forbid(unsafe_code)]

use aes_gcm::aead::consts::*;
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
    1 => U1, 2 => U2, 3 => U3, 4 => U4, 5 => U5, 6 => U6, 7 => U7, 8 => U8, 9 => U9, 10 => U10,
    11 => U11, 12 => U12, 13 => U13, 14 => U14, 15 => U15, 16 => U16, 17 => U17, 18 => U18,
    19 => U19, 20 => U20, 21 => U21, 22 => U22, 23 => U23, 24 => U24, 25 => U25, 26 => U26,
    27 => U27, 28 => U28, 29 => U29, 30 => U30, 31 => U31, 32 => U32, 33 => U33, 34 => U34,
    35 => U35, 36 => U36, 37 => U37, 38 => U38, 39 => U39, 40 => U40, 41 => U41, 42 => U42,
    43 => U43, 44 => U44, 45 => U45, 46 => U46, 47 => U47, 48 => U48, 49 => U49, 50 => U50,
    51 => U51, 52 => U52, 53 => U53, 54 => U54, 55 => U55, 56 => U56, 57 => U57, 58 => U58,
    59 => U59, 60 => U60, 61 => U61, 62 => U62, 63 => U63, 64 => U64, 65 => U65, 66 => U66,
    67 => U67, 68 => U68, 69 => U69, 70 => U70, 71 => U71, 72 => U72, 73 => U73, 74 => U74,
    75 => U75, 76 => U76, 77 => U77, 78 => U78, 79 => U79, 80 => U80, 81 => U81, 82 => U82,
    83 => U83, 84 => U84, 85 => U85, 86 => U86, 87 => U87, 88 => U88, 89 => U89, 90 => U90,
    91 => U91, 92 => U92, 93 => U93, 94 => U94, 95 => U95, 96 => U96, 97 => U97, 98 => U98,
    99 => U99, 100 => U100, 101 => U101, 102 => U102, 103 => U103, 104 => U104, 105 => U105,
    106 => U106, 107 => U107, 108 => U108, 109 => U109, 110 => U110, 111 => U111, 112 => U112,
    113 => U113, 114 => U114, 115 => U115, 116 => U116, 117 => U117, 118 => U118, 119 => U119,
    120 => U120, 121 => U121, 122 => U122, 123 => U123, 124 => U124, 125 => U125, 126 => U126,
    127 => U127, 128 => U128,
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
        assert!(aes_gcm_seal(&[0; 16], &[0; 129], b"", &mut buf).is_none());
        assert!(aes_gcm_seal(&[0; 16], &[], b"", &mut buf).is_none());
        assert!(aes_gcm_seal(&[0; 24], &[0; 128], b"", &mut buf).is_some());
        assert_eq!(CRATE_NONCES, (1..=128).collect::<Vec<_>>());
    }
}
