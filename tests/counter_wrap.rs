//! GCM's counter is 32 bits and wraps modulo 2^32 (inc32, SP 800-38D 6.2).
//!
//! With a 16-byte nonce N, J0 = GHASH_H(N || L) = N*H^2 + L*H where L is
//! the length block 0^64 || [128]_64, so for a chosen J0 the nonce is
//!
//! ```text
//!   N = (J0 + L*H) * (H^2)^-1        in GF(2^128), GCM bit order
//! ```
//!
//! `sealwire::aead::check::counter_wrap` solves such nonces for J0 values
//! whose low 32 bits are close to 2^32, so the counter wraps a few blocks
//! into the message, and compares a backend with a CTR computed block by
//! block with an explicit modulo-2^32 counter and with the reference
//! backend. These tests run it on every backend, with several seeds, and
//! check the GF(2^128) arithmetic it rests on against the `ghash` crate.

mod common;

use common::*;
use ghash::universal_hash::{KeyInit, UniversalHash};
use rand::Rng;
use sealwire::aead::check::{counter_wrap, gf_inv, gf_mul};

/// The field's one in GCM's bit order (x^0 is the most significant bit).
const ONE: u128 = 1 << 127;

#[test]
fn field_product_matches_the_ghash_crate() {
    // GHASH of one block X under key H is X*H (SP 800-38D 6.4).
    let mut r = rng(2);
    for _ in 0..64 {
        let (h, x): (u128, u128) = (r.gen(), r.gen());
        let mut g = ghash::GHash::new(&h.to_be_bytes().into());
        g.update(&[x.to_be_bytes().into()]);
        let want = u128::from_be_bytes(g.finalize().into());
        assert_eq!(gf_mul(x, h), want, "x {x:#034x} h {h:#034x}");
        assert_eq!(gf_mul(h, x), want, "commutes");
    }
}

#[test]
fn field_inverse_is_an_inverse() {
    let mut r = rng(1);
    for _ in 0..8 {
        let x: u128 = r.gen::<u128>() | 1;
        assert_eq!(gf_mul(x, gf_inv(x)), ONE);
    }
    assert_eq!(gf_inv(ONE), ONE);
}

#[test]
fn counter_wraps_modulo_2_pow_32_on_every_backend() {
    for b in backends() {
        for seed in [1, 0xc0ffee] {
            let cases = counter_wrap(b, seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert!(cases >= 3 * 35 * 23, "{b}: only {cases} cases");
        }
    }
}
