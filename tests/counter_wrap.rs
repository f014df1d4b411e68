//! GCM's counter is 32 bits and wraps modulo 2^32 (inc32, SP 800-38D 6.2).
//!
//! With a 16-byte nonce N, J0 = GHASH_H(N || L) = N*H^2 + L*H where L is
//! the length block 0^64 || [128]_64, so for a chosen J0 the nonce is
//!
//! ```text
//!   N = (J0 + L*H) * (H^2)^-1        in GF(2^128), GCM bit order
//! ```
//!
//! These tests pick J0 whose low 32 bits are close to 2^32, so the counter
//! wraps a few blocks into the message, and check every backend against an
//! independent CTR computation with the `aes` crate and against `portable`.

mod common;

use aes_gcm::aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes_gcm::aes::{Aes128, Aes192, Aes256};
use common::*;
use rand::Rng;
use sealwire::aead::Backend;

fn aes_block(key: &[u8], block: [u8; 16]) -> [u8; 16] {
    let mut b = GenericArray::from(block);
    match key.len() {
        16 => Aes128::new_from_slice(key).unwrap().encrypt_block(&mut b),
        24 => Aes192::new_from_slice(key).unwrap().encrypt_block(&mut b),
        _ => Aes256::new_from_slice(key).unwrap().encrypt_block(&mut b),
    }
    b.into()
}

/// Product in GF(2^128) with GCM's bit order (bit 0 = MSB of the u128).
fn mul(x: u128, y: u128) -> u128 {
    let mut z = 0;
    let mut v = y;
    for i in 0..128 {
        if (x >> (127 - i)) & 1 == 1 {
            z ^= v;
        }
        v = if v & 1 == 1 {
            (v >> 1) ^ (0xe1 << 120)
        } else {
            v >> 1
        };
    }
    z
}

/// x^-1 = x^(2^128 - 2).
fn inv(x: u128) -> u128 {
    let mut result = 1u128 << 127; // the field's one
    let mut base = x;
    let mut e: u128 = u128::MAX - 1;
    while e != 0 {
        if e & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    result
}

/// A 16-byte nonce whose J0 is `j0`.
fn nonce_for_j0(key: &[u8], j0: [u8; 16]) -> [u8; 16] {
    let h = u128::from_be_bytes(aes_block(key, [0; 16]));
    let l: u128 = 128; // 0^64 || [128]_64
    let n = mul(u128::from_be_bytes(j0) ^ mul(l, h), inv(mul(h, h)));
    n.to_be_bytes()
}

/// Keystream by definition: block i uses inc32^(i+1)(J0).
fn expected_ct(key: &[u8], j0: [u8; 16], pt: &[u8]) -> Vec<u8> {
    let low = u32::from_be_bytes([j0[12], j0[13], j0[14], j0[15]]);
    pt.chunks(16)
        .enumerate()
        .flat_map(|(i, chunk)| {
            let mut ctr = j0;
            ctr[12..].copy_from_slice(&low.wrapping_add(1 + i as u32).to_be_bytes());
            let ks = aes_block(key, ctr);
            chunk.iter().zip(ks).map(|(p, k)| p ^ k).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn field_inverse_is_an_inverse() {
    let mut r = rng(1);
    for _ in 0..4 {
        let x: u128 = r.gen::<u128>() | 1;
        assert_eq!(mul(x, inv(x)), 1u128 << 127);
    }
}

#[test]
fn counter_wraps_modulo_2_pow_32_on_every_backend() {
    let mut r = rng(0xc0ffee);
    for key_len in [16, 24, 32] {
        for low in [
            0xffff_fffeu32,
            0xffff_ffff,
            0xffff_fff0,
            0xffff_ff80,
            0xffff_fffa,
        ] {
            let key = bytes(&mut r, key_len);
            let mut j0: [u8; 16] = r.gen();
            j0[12..].copy_from_slice(&low.to_be_bytes());
            let nonce = nonce_for_j0(&key, j0);
            for len in [
                1usize, 16, 17, 31, 32, 33, 100, 127, 128, 129, 255, 256, 257, 300, 1000, 4100,
            ] {
                let pt = bytes(&mut r, len);
                let aad = bytes(&mut r, len % 40);
                let want_ct = expected_ct(&key, j0, &pt);
                let reference = seal_at(Backend::Portable, &key, &nonce, &aad, &pt, 0);
                assert_eq!(reference.0, want_ct, "portable, low {low:#x}, len {len}");
                for b in Backend::available() {
                    let got = seal_at(b, &key, &nonce, &aad, &pt, len % 16);
                    assert!(
                        got == reference,
                        "{b}: key {key_len} low {low:#x} len {len}"
                    );
                    let opened = open_at(b, &key, &nonce, &aad, &got.0, &got.1, 5).unwrap();
                    assert_eq!(opened, pt, "{b}: open, low {low:#x} len {len}");
                }
            }
        }
    }
}
