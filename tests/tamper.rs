//! Tampering with any byte of ciphertext, tag, AAD or nonce fails with the
//! one authentication error and leaves the buffer zeroed; API misuse gives
//! typed errors; known answers from the GCM specification.

mod common;

use common::*;
use hex_literal::hex;
use sealwire::aead::{AesGcm, Backend, Error};

fn expect_forgery_rejected(
    b: Backend,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
    what: &str,
) {
    let k = AesGcm::with_backend(key, b).unwrap();
    let mut buf = ct.to_vec();
    let res = k.open_in_place_detached(nonce, aad, &mut buf, tag);
    assert_eq!(res, Err(Error::Authentication), "{b}: {what}");
    assert!(
        buf.iter().all(|&x| x == 0),
        "{b}: {what}: buffer not zeroed"
    );
}

#[test]
fn flipping_any_byte_fails_authentication() {
    let mut r = rng(0x7a3e);
    for b in backends() {
        for nonce_len in [12usize, 16, 5] {
            let key = bytes(&mut r, 16);
            let nonce = bytes(&mut r, nonce_len);
            let aad = bytes(&mut r, 21);
            let pt = bytes(&mut r, 37);
            let (ct, tag) = seal_at(b, &key, &nonce, &aad, &pt, 0);
            for i in 0..ct.len() {
                let mut c = ct.clone();
                c[i] ^= 1 << (i % 8);
                expect_forgery_rejected(b, &key, &nonce, &aad, &c, &tag, &format!("ct[{i}]"));
            }
            for i in 0..16 {
                let mut t = tag;
                t[i] ^= 0x80 >> (i % 8);
                expect_forgery_rejected(b, &key, &nonce, &aad, &ct, &t, &format!("tag[{i}]"));
            }
            for i in 0..aad.len() {
                let mut a = aad.clone();
                a[i] ^= 0x10;
                expect_forgery_rejected(b, &key, &nonce, &a, &ct, &tag, &format!("aad[{i}]"));
            }
            for i in 0..nonce.len() {
                let mut n = nonce.clone();
                n[i] ^= 0x01;
                expect_forgery_rejected(b, &key, &n, &aad, &ct, &tag, &format!("nonce[{i}]"));
            }
            // Truncation or extension of ciphertext or AAD.
            expect_forgery_rejected(b, &key, &nonce, &aad, &ct[..ct.len() - 1], &tag, "short ct");
            expect_forgery_rejected(b, &key, &nonce, &aad[..20], &ct, &tag, "short aad");
            // The untouched message still opens, with every allowed truncated tag.
            for t in [16usize, 15, 14, 13, 12, 8, 4] {
                assert_eq!(
                    open_at(b, &key, &nonce, &aad, &ct, &tag[..t], 3).unwrap(),
                    pt,
                    "{b} tag {t}"
                );
            }
        }
    }
}

#[test]
fn misuse_gives_typed_errors() {
    for b in backends() {
        for n in [0usize, 1, 15, 17, 31, 33, 64] {
            assert_eq!(
                AesGcm::with_backend(&vec![0; n], b).unwrap_err(),
                Error::KeyLength(n)
            );
        }
        let k = AesGcm::with_backend(&[0; 16], b).unwrap();
        let mut buf = [1u8; 20];
        assert_eq!(
            k.seal_in_place_detached(&[], b"", &mut buf),
            Err(Error::NonceLength(0))
        );
        assert_eq!(buf, [1u8; 20], "nothing written on a rejected call");
        let tag = k.seal_in_place_detached(&[7; 12], b"", &mut buf).unwrap();
        for t in [0usize, 1, 2, 3, 5, 6, 7, 9, 10, 11, 17] {
            let mut tag_t = [0u8; 17];
            tag_t[..16.min(t)].copy_from_slice(&tag[..16.min(t)]);
            let mut b2 = buf;
            assert_eq!(
                k.open_in_place_detached(&[7; 12], b"", &mut b2, &tag_t[..t]),
                Err(Error::TagLength(t))
            );
        }
        assert_eq!(
            k.open_in_place_detached(&[], b"", &mut buf, &tag),
            Err(Error::NonceLength(0))
        );
    }
}

#[test]
fn unavailable_backend_is_an_error() {
    for b in Backend::ALL {
        let res = AesGcm::with_backend(&[0; 16], b);
        if b.is_available() {
            assert_eq!(res.unwrap().backend(), b);
        } else {
            assert_eq!(res.unwrap_err(), Error::Unavailable(b));
        }
    }
}

#[test]
fn names_round_trip() {
    for b in Backend::ALL {
        assert_eq!(Backend::from_name(b.name()), Some(b));
    }
    assert_eq!(Backend::from_name("aes"), None);
    assert_eq!(Backend::available()[0], Backend::best());
}

#[test]
fn debug_never_prints_key_material() {
    let key = hex!("00112233445566778899aabbccddeeff");
    for b in backends() {
        let k = AesGcm::with_backend(&key, b).unwrap();
        let s = format!("{k:?}");
        assert!(!s.contains("0011") && !s.contains("[0, 17"), "{s}");
        assert!(s.contains(b.name()));
    }
}

/// (key, iv, plaintext, ciphertext, tag)
type Kat<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], [u8; 16]);

/// Test cases 1, 2, 7, 8, 13 and 14 of McGrew and Viega's GCM specification
/// (all-zero keys and IVs), plus case 3 (AES-128, no AAD, 64-byte plaintext).
#[test]
fn gcm_specification_known_answers() {
    let cases: [Kat; 7] = [
        (&[0; 16], &[0; 12], &[], &[], hex!("58e2fccefa7e3061367f1d57a4e7455a")),
        (&[0; 16], &[0; 12], &[0; 16], &hex!("0388dace60b6a392f328c2b971b2fe78"), hex!("ab6e47d42cec13bdf53a67b21257bddf")),
        (&[0; 24], &[0; 12], &[], &[], hex!("cd33b28ac773f74ba00ed1f312572435")),
        (&[0; 24], &[0; 12], &[0; 16], &hex!("98e7247c07f0fe411c267e4384b0f600"), hex!("2ff58d80033927ab8ef4d4587514f0fb")),
        (&[0; 32], &[0; 12], &[], &[], hex!("530f8afbc74536b9a963b4f1c4cb738b")),
        (&[0; 32], &[0; 12], &[0; 16], &hex!("cea7403d4d606b6e074ec5d3baf39d18"), hex!("d0d1c8a799996bf0265b98b5d48ab919")),
        (
            &hex!("feffe9928665731c6d6a8f9467308308"),
            &hex!("cafebabefacedbaddecaf888"),
            &hex!("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"),
            &hex!("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"),
            hex!("4d5c2af327cd64a62cf35abd2ba6fab4"),
        ),
    ];
    for b in backends() {
        for (i, (key, iv, pt, ct, tag)) in cases.iter().enumerate() {
            let (c, t) = seal_at(b, key, iv, &[], pt, i);
            assert_eq!((&c[..], t), (*ct, *tag), "{b}: case {i}");
            assert_eq!(open_at(b, key, iv, &[], ct, tag, 0).unwrap(), *pt);
        }
    }
}
