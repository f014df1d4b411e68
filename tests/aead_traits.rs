//! The RustCrypto `aead` 0.6 traits on `sealwire::aead::Aes128Gcm` /
//! `Aes256Gcm`: the trait crate's own test helpers (`aead::dev::pass_test`
//! and `fail_test`) on every 96-bit-IV, 128-bit-tag NIST CAVP case of
//! AES-128 and AES-256, on every backend; and the trait methods against
//! `AesGcm` and the `aes-gcm` crate on random inputs.

use aead_traits::dev::{fail_test, pass_test, TestVector};
use aead_traits::{Aead, AeadInOut, KeyInit, Payload};
use rand::{Rng, SeedableRng};
use sealwire::aead::traits::Nonce;
use sealwire::aead::{Aes128Gcm, Aes256Gcm, AesGcm, Backend};
use sealwire::cavp::{self, Direction};

/// Runs the trait crate's helpers on every usable case of `files`, with
/// `C` built by `KeyInit` (best backend); returns the cases run.
fn run_cavp<C: AeadInOut + KeyInit>(files: &[&str]) -> usize {
    let mut run = 0;
    for name in files {
        let file = cavp::load(&cavp::default_dir().join(name)).unwrap();
        for case in &file.cases {
            if case.iv.len() != 12 || case.tag.len() != 16 {
                continue;
            }
            let mut ciphertext = case.ct.clone();
            ciphertext.extend_from_slice(&case.tag);
            // TestVector holds 'static slices: leaked, a few MB per run.
            let tv = TestVector {
                key: Vec::leak(case.key.clone()),
                nonce: Vec::leak(case.iv.clone()),
                aad: Vec::leak(case.aad.clone()),
                plaintext: Vec::leak(case.pt.clone()),
                ciphertext: Vec::leak(ciphertext),
            };
            let res = match (file.direction, case.fail) {
                (Direction::Decrypt, true) => fail_test::<C>(&tv),
                _ => pass_test::<C>(&tv),
            };
            if let Err(e) = res {
                panic!("{name} line {}: {e}", case.line);
            }
            run += 1;
        }
    }
    run
}

#[test]
fn cavp_through_the_trait_helpers() {
    let n128 = run_cavp::<Aes128Gcm>(&["gcmEncryptExtIV128.rsp", "gcmDecrypt128.rsp"]);
    let n256 = run_cavp::<Aes256Gcm>(&["gcmEncryptExtIV256.rsp", "gcmDecrypt256.rsp"]);
    eprintln!("aead::dev helpers: {n128} AES-128 and {n256} AES-256 CAVP cases");
    assert!(n128 >= 700 && n256 >= 700, "the vector files were read");
}

/// Every backend through the traits, against `AesGcm` on the same backend
/// and the `aes-gcm` crate, random keys, nonces, AAD and lengths 0..=300.
#[test]
fn every_backend_matches_aes_gcm_crate() {
    use aes_gcm::aead::{Aead as _, KeyInit as _};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(15);
    for backend in Backend::available() {
        for len in (0..=300).chain([1023, 1024, 1025, 4096 + 15]) {
            let key: [u8; 32] = rng.gen();
            let nonce: [u8; 12] = rng.gen();
            let aad: Vec<u8> = (0..rng.gen_range(0..40)).map(|_| rng.gen()).collect();
            let msg: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let n = Nonce::from(nonce);

            let ours = Aes256Gcm::with_backend(&key.into(), backend).unwrap();
            assert_eq!(ours.backend(), backend);
            let sealed = ours
                .encrypt(
                    &n,
                    Payload {
                        msg: &msg,
                        aad: &aad,
                    },
                )
                .unwrap();
            let peer = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
            let theirs = peer
                .encrypt(
                    aes_gcm::Nonce::from_slice(&nonce),
                    aes_gcm::aead::Payload {
                        msg: &msg,
                        aad: &aad,
                    },
                )
                .unwrap();
            assert_eq!(sealed, theirs, "{backend} len {len}");
            let mut buf = msg.clone();
            let tag = AesGcm::with_backend(&key, backend)
                .unwrap()
                .seal_in_place_detached(&nonce, &aad, &mut buf)
                .unwrap();
            assert_eq!(&sealed[..len], &buf[..]);
            assert_eq!(&sealed[len..], &tag);
            let opened = ours
                .decrypt(
                    &n,
                    Payload {
                        msg: &sealed,
                        aad: &aad,
                    },
                )
                .unwrap();
            assert_eq!(opened, msg);

            // A flipped bit anywhere fails, and the in-place output is zeroed.
            let mut bad = sealed.clone();
            let at = rng.gen_range(0..bad.len());
            bad[at] ^= 1 << rng.gen_range(0..8);
            assert!(ours
                .decrypt(
                    &n,
                    Payload {
                        msg: &bad,
                        aad: &aad
                    }
                )
                .is_err());
            let mut text = bad[..len].to_vec();
            let mut t = [0u8; 16];
            t.copy_from_slice(&bad[len..]);
            assert!(ours
                .decrypt_inout_detached(&n, &aad, text.as_mut_slice().into(), &t.into())
                .is_err());
            assert!(text.iter().all(|&b| b == 0), "no unauthenticated plaintext");

            let k128: [u8; 16] = rng.gen();
            let ours = Aes128Gcm::with_backend(&k128.into(), backend).unwrap();
            let peer = aes_gcm::Aes128Gcm::new_from_slice(&k128).unwrap();
            let a = ours
                .encrypt(
                    &n,
                    Payload {
                        msg: &msg,
                        aad: &aad,
                    },
                )
                .unwrap();
            let b = peer
                .encrypt(
                    aes_gcm::Nonce::from_slice(&nonce),
                    aes_gcm::aead::Payload {
                        msg: &msg,
                        aad: &aad,
                    },
                )
                .unwrap();
            assert_eq!(a, b, "AES-128 {backend} len {len}");
        }
    }
}

/// `KeyInit::new_from_slice` refuses other key lengths.
#[test]
fn wrong_key_length_is_an_error() {
    assert!(Aes128Gcm::new_from_slice(&[0; 32]).is_err());
    assert!(Aes256Gcm::new_from_slice(&[0; 16]).is_err());
    assert!(Aes256Gcm::new_from_slice(&[0; 24]).is_err());
    assert!(Aes128Gcm::new_from_slice(&[0; 16]).is_ok());
}
