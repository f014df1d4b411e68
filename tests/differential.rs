//! Every backend against the `aes-gcm` crate, against `ring`, and against
//! `portable`, on random keys, nonces, AAD and lengths at every alignment.

mod common;

use aes_gcm::aead::consts::{
    U1, U11, U12, U13, U15, U16, U17, U2, U31, U32, U33, U48, U60, U64, U7, U8,
};
use aes_gcm::aead::generic_array::{ArrayLength, GenericArray};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::{Aes128, Aes192, Aes256};
use common::*;
use rand::seq::SliceRandom;
use rand::Rng;
use sealwire::aead::Backend;

fn typed<N: ArrayLength<u8>>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    pt: &[u8],
) -> (Vec<u8>, [u8; 16]) {
    let mut buf = pt.to_vec();
    let n = GenericArray::from_slice(nonce);
    let tag = match key.len() {
        16 => aes_gcm::AesGcm::<Aes128, N>::new_from_slice(key)
            .unwrap()
            .encrypt_in_place_detached(n, aad, &mut buf),
        24 => aes_gcm::AesGcm::<Aes192, N>::new_from_slice(key)
            .unwrap()
            .encrypt_in_place_detached(n, aad, &mut buf),
        32 => aes_gcm::AesGcm::<Aes256, N>::new_from_slice(key)
            .unwrap()
            .encrypt_in_place_detached(n, aad, &mut buf),
        _ => unreachable!(),
    }
    .unwrap();
    (buf, tag.into())
}

/// Nonce lengths the `aes-gcm` crate is instantiated for here.
const CRATE_NONCES: [usize; 16] = [1, 2, 7, 8, 11, 12, 13, 15, 16, 17, 31, 32, 33, 48, 60, 64];

fn aes_gcm_crate(key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
    match nonce.len() {
        1 => typed::<U1>(key, nonce, aad, pt),
        2 => typed::<U2>(key, nonce, aad, pt),
        7 => typed::<U7>(key, nonce, aad, pt),
        8 => typed::<U8>(key, nonce, aad, pt),
        11 => typed::<U11>(key, nonce, aad, pt),
        12 => typed::<U12>(key, nonce, aad, pt),
        13 => typed::<U13>(key, nonce, aad, pt),
        15 => typed::<U15>(key, nonce, aad, pt),
        16 => typed::<U16>(key, nonce, aad, pt),
        17 => typed::<U17>(key, nonce, aad, pt),
        31 => typed::<U31>(key, nonce, aad, pt),
        32 => typed::<U32>(key, nonce, aad, pt),
        33 => typed::<U33>(key, nonce, aad, pt),
        48 => typed::<U48>(key, nonce, aad, pt),
        60 => typed::<U60>(key, nonce, aad, pt),
        64 => typed::<U64>(key, nonce, aad, pt),
        n => panic!("no aes-gcm instance for nonce length {n}"),
    }
}

fn ring_seal(key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
    let alg = if key.len() == 16 {
        &AES_128_GCM
    } else {
        &AES_256_GCM
    };
    let k = LessSafeKey::new(UnboundKey::new(alg, key).unwrap());
    let mut buf = pt.to_vec();
    let tag = k
        .seal_in_place_separate_tag(
            Nonce::try_assume_unique_for_key(nonce).unwrap(),
            Aad::from(aad),
            &mut buf,
        )
        .unwrap();
    (buf, tag.as_ref().try_into().unwrap())
}

/// (key, nonce, aad, plaintext)
type Msg<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8]);

/// Seals with the backend at an alignment offset, compares with `want`, and
/// opens the expected ciphertext back.
fn check(
    b: Backend,
    (key, nonce, aad, pt): Msg,
    offset: usize,
    want: &(Vec<u8>, [u8; 16]),
    peer: &str,
) {
    let got = seal_at(b, key, nonce, aad, pt, offset);
    assert!(
        got == *want,
        "{b} vs {peer}: key {} nonce {} aad {} len {} offset {offset}",
        key.len(),
        nonce.len(),
        aad.len(),
        pt.len()
    );
    let opened = open_at(b, key, nonce, aad, &want.0, &want.1, (offset + 7) % 16).unwrap();
    assert_eq!(opened, pt, "{b}: open after {peer}");
}

#[test]
fn every_backend_matches_the_aes_gcm_crate() {
    for b in backends() {
        let mut r = rng(0x5ea1_0001);
        for (i, len) in lengths(&mut r, 120).into_iter().enumerate() {
            let key_len = *[16, 24, 32].choose(&mut r).unwrap();
            let key = bytes(&mut r, key_len);
            let nonce_len = if i % 3 == 0 {
                12
            } else {
                *CRATE_NONCES.choose(&mut r).unwrap()
            };
            let nonce = bytes(&mut r, nonce_len);
            let aad_len = r.gen_range(0..=300);
            let aad = bytes(&mut r, aad_len);
            let pt = bytes(&mut r, len);
            let want = aes_gcm_crate(&key, &nonce, &aad, &pt);
            check(b, (&key, &nonce, &aad, &pt), i % 16, &want, "aes-gcm");
        }
    }
}

#[test]
fn every_backend_matches_ring() {
    for b in backends() {
        let mut r = rng(0x5ea1_0002);
        for (i, len) in lengths(&mut r, 120).into_iter().enumerate() {
            let key = bytes(&mut r, if i % 2 == 0 { 16 } else { 32 });
            let nonce = bytes(&mut r, 12);
            let aad_len = r.gen_range(0..=300);
            let aad = bytes(&mut r, aad_len);
            let pt = bytes(&mut r, len);
            let want = ring_seal(&key, &nonce, &aad, &pt);
            check(b, (&key, &nonce, &aad, &pt), (i * 5) % 16, &want, "ring");
        }
    }
}

#[test]
fn every_backend_matches_portable_on_every_nonce_length() {
    let mut r = rng(0x5ea1_0003);
    for nonce_len in 1..=64usize {
        for key_len in [16, 24, 32] {
            let key = bytes(&mut r, key_len);
            let nonce = bytes(&mut r, nonce_len);
            let aad_len = r.gen_range(0..=300);
            let aad = bytes(&mut r, aad_len);
            let pt_len = r.gen_range(0..=600);
            let pt = bytes(&mut r, pt_len);
            let want = seal_at(Backend::Portable, &key, &nonce, &aad, &pt, 0);
            for b in backends() {
                check(
                    b,
                    (&key, &nonce, &aad, &pt),
                    nonce_len % 16,
                    &want,
                    "portable",
                );
            }
        }
    }
}

#[test]
fn every_alignment_offset_for_each_length_class() {
    let mut r = rng(0x5ea1_0004);
    for len in [0usize, 1, 15, 16, 17, 127, 128, 129, 255, 256, 257, 1420] {
        let key = bytes(&mut r, 16);
        let nonce = bytes(&mut r, 12);
        let aad = bytes(&mut r, 13);
        let pt = bytes(&mut r, len);
        let want = ring_seal(&key, &nonce, &aad, &pt);
        for b in backends() {
            for offset in 0..16 {
                check(b, (&key, &nonce, &aad, &pt), offset, &want, "ring");
            }
        }
    }
}
