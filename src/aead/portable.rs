//! Constant-time software AES (FIPS 197) and GHASH (SP 800-38D 6.3).
//!
//! No table lookups and no branches depend on key or data:
//!
//! - The S-box is computed, not looked up: 64 bytes at a time are
//!   transposed into eight 64-bit bit planes, the GF(2^8) inverse x^254 is
//!   formed with bitsliced multiplications (AND/XOR on the planes), then the
//!   affine map is applied plane-wise, and the planes are transposed back.
//! - ShiftRows is a fixed permutation, MixColumns uses a masked `xtime`.
//! - GHASH multiplies bit by bit with all-ones/all-zeros masks in place of
//!   branches (SP 800-38D Algorithm 1).
//!
//! It is slow by design and serves as the reference the kernels are compared
//! with; it runs on every CPU.

#![forbid(unsafe_code)]

use super::gcm::inc32;
use super::{Error, Kernel};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Expanded AES key and the GHASH key H.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Key {
    round_keys: [[u8; 16]; 15],
    rounds: usize,
    h: u128,
}

/// Transposes an 8x8 bit matrix held in a u64 (byte r = row r, bit c =
/// column c): afterwards byte c bit r is what byte r bit c was.
#[inline(always)]
fn transpose8(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00aa_00aa_00aa_00aa;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_cccc_0000_cccc;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_f0f0_f0f0;
    x ^= t ^ (t << 28);
    x
}

/// 64 bytes to 8 bit planes: bit j of plane i is bit i of byte j.
#[inline(always)]
fn to_planes(bytes: &[u8; 64]) -> [u64; 8] {
    let mut planes = [0u64; 8];
    for k in 0..8 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[8 * k..8 * k + 8]);
        let w = transpose8(u64::from_le_bytes(word));
        for (i, plane) in planes.iter_mut().enumerate() {
            *plane |= ((w >> (8 * i)) & 0xff) << (8 * k);
        }
    }
    planes
}

/// The inverse of [`to_planes`].
#[inline(always)]
fn from_planes(planes: &[u64; 8], bytes: &mut [u8; 64]) {
    for k in 0..8 {
        let mut w = 0u64;
        for (i, plane) in planes.iter().enumerate() {
            w |= ((plane >> (8 * k)) & 0xff) << (8 * i);
        }
        bytes[8 * k..8 * k + 8].copy_from_slice(&transpose8(w).to_le_bytes());
    }
}

/// Bitsliced product in GF(2^8) = GF(2)[x] / (x^8 + x^4 + x^3 + x + 1).
#[inline(always)]
fn gf_mul(a: &[u64; 8], b: &[u64; 8]) -> [u64; 8] {
    let mut p = [0u64; 15];
    for i in 0..8 {
        for j in 0..8 {
            p[i + j] ^= a[i] & b[j];
        }
    }
    // x^8 = x^4 + x^3 + x + 1, so x^i folds onto x^(i-4), x^(i-5), x^(i-7), x^(i-8).
    for i in (8..15).rev() {
        let t = p[i];
        p[i - 4] ^= t;
        p[i - 5] ^= t;
        p[i - 7] ^= t;
        p[i - 8] ^= t;
    }
    let mut out = [0u64; 8];
    out.copy_from_slice(&p[..8]);
    out
}

/// The AES S-box on 64 bytes at once (FIPS 197 5.1.1): inverse in GF(2^8)
/// (with 0 -> 0) followed by the affine map.
///
/// ```text
///   x^254 = x^-1:  x2 = x^2, x3 = x2*x, x6, x12 (squares), x15 = x12*x3,
///                  x30, x60, x120, x240 (squares), x252 = x240*x12, x254 = x252*x2
///   b'_i = b_i ^ b_(i+4) ^ b_(i+5) ^ b_(i+6) ^ b_(i+7) ^ c_i,  c = 0x63
/// ```
fn sub_bytes64(bytes: &mut [u8; 64]) {
    let x = to_planes(bytes);
    let x2 = gf_mul(&x, &x);
    let x3 = gf_mul(&x2, &x);
    let x6 = gf_mul(&x3, &x3);
    let x12 = gf_mul(&x6, &x6);
    let x15 = gf_mul(&x12, &x3);
    let x30 = gf_mul(&x15, &x15);
    let x60 = gf_mul(&x30, &x30);
    let x120 = gf_mul(&x60, &x60);
    let x240 = gf_mul(&x120, &x120);
    let x252 = gf_mul(&x240, &x12);
    let inv = gf_mul(&x252, &x2);
    let mut s = [0u64; 8];
    for (i, out) in s.iter_mut().enumerate() {
        *out = inv[i] ^ inv[(i + 4) % 8] ^ inv[(i + 5) % 8] ^ inv[(i + 6) % 8] ^ inv[(i + 7) % 8];
        if (0x63 >> i) & 1 == 1 {
            *out = !*out;
        }
    }
    from_planes(&s, bytes);
}

/// Multiplication by x in GF(2^8), without a data-dependent branch.
#[inline(always)]
fn xtime(b: u8) -> u8 {
    (b << 1) ^ (0x1b & 0u8.wrapping_sub(b >> 7))
}

/// ShiftRows (FIPS 197 5.1.2) on one column-major block.
#[inline(always)]
fn shift_rows(block: &mut [u8]) {
    let old: [u8; 16] = block[..16].try_into().expect("16-byte block");
    for c in 0..4 {
        for r in 0..4 {
            block[r + 4 * c] = old[r + 4 * ((c + r) % 4)];
        }
    }
}

/// MixColumns (FIPS 197 5.1.3) on one column-major block.
#[inline(always)]
fn mix_columns(block: &mut [u8]) {
    for col in block.chunks_exact_mut(4) {
        let (a0, a1, a2, a3) = (col[0], col[1], col[2], col[3]);
        let all = a0 ^ a1 ^ a2 ^ a3;
        col[0] = a0 ^ all ^ xtime(a0 ^ a1);
        col[1] = a1 ^ all ^ xtime(a1 ^ a2);
        col[2] = a2 ^ all ^ xtime(a2 ^ a3);
        col[3] = a3 ^ all ^ xtime(a3 ^ a0);
    }
}

/// One GF(2^128) product in GCM's bit order (SP 800-38D 6.3, Algorithm 1),
/// with masks instead of branches. Bit 0 of the GCM string is the most
/// significant bit of the big-endian u128.
fn gf128_mul(x: u128, y: u128) -> u128 {
    const R: u128 = 0xe1 << 120;
    let mut z = 0u128;
    let mut v = y;
    for i in 0..128 {
        let bit = (x >> (127 - i)) & 1;
        z ^= v & 0u128.wrapping_sub(bit);
        let lsb = v & 1;
        v = (v >> 1) ^ (R & 0u128.wrapping_sub(lsb));
    }
    z
}

impl Key {
    pub(crate) fn new(key: &[u8]) -> Result<Key, Error> {
        super::check_key(key)?;
        let nk = key.len() / 4;
        let rounds = nk + 6;
        let total = 4 * (rounds + 1);
        // Key expansion, FIPS 197 5.2.
        let mut w = [[0u8; 4]; 60];
        for (i, word) in key.chunks_exact(4).enumerate() {
            w[i].copy_from_slice(word);
        }
        let mut rcon = 1u8;
        for i in nk..total {
            let mut temp = w[i - 1];
            if i % nk == 0 {
                temp.rotate_left(1);
                temp = sub_word(temp);
                temp[0] ^= rcon;
                rcon = xtime(rcon);
            } else if nk > 6 && i % nk == 4 {
                temp = sub_word(temp);
            }
            for j in 0..4 {
                w[i][j] = w[i - nk][j] ^ temp[j];
            }
        }
        let mut round_keys = [[0u8; 16]; 15];
        for (r, rk) in round_keys.iter_mut().enumerate().take(rounds + 1) {
            for c in 0..4 {
                rk[4 * c..4 * c + 4].copy_from_slice(&w[4 * r + c]);
            }
        }
        w.zeroize();
        let mut k = Key {
            round_keys,
            rounds,
            h: 0,
        };
        let mut h = [0u8; 16];
        k.encrypt_block(&mut h);
        k.h = u128::from_be_bytes(h);
        Ok(k)
    }

    /// Encrypts the first `n` (1..=4) blocks of `state` in parallel.
    fn encrypt4(&self, state: &mut [u8; 64], n: usize) {
        let add_round_key = |state: &mut [u8; 64], rk: &[u8; 16]| {
            for block in state.chunks_exact_mut(16).take(n) {
                for (s, k) in block.iter_mut().zip(rk) {
                    *s ^= k;
                }
            }
        };
        add_round_key(state, &self.round_keys[0]);
        for round in 1..=self.rounds {
            sub_bytes64(state);
            for block in state.chunks_exact_mut(16).take(n) {
                shift_rows(block);
                if round != self.rounds {
                    mix_columns(block);
                }
            }
            add_round_key(state, &self.round_keys[round]);
        }
    }
}

fn sub_word(word: [u8; 4]) -> [u8; 4] {
    let mut buf = [0u8; 64];
    buf[..4].copy_from_slice(&word);
    sub_bytes64(&mut buf);
    let out = [buf[0], buf[1], buf[2], buf[3]];
    buf.zeroize();
    out
}

impl Kernel for Key {
    type Acc = u128;

    fn acc_zero(&self) -> u128 {
        0
    }

    fn acc_bytes(&self, acc: u128) -> [u8; 16] {
        acc.to_be_bytes()
    }

    fn ghash(&self, acc: &mut u128, blocks: &[u8]) {
        debug_assert_eq!(blocks.len() % 16, 0);
        for block in blocks.chunks_exact(16) {
            let x = u128::from_be_bytes(block.try_into().expect("16-byte block"));
            *acc = gf128_mul(*acc ^ x, self.h);
        }
    }

    fn encrypt_block(&self, block: &mut [u8; 16]) {
        let mut state = [0u8; 64];
        state[..16].copy_from_slice(block);
        self.encrypt4(&mut state, 1);
        block.copy_from_slice(&state[..16]);
    }

    fn ctr32(&self, ctr: &mut [u8; 16], buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        let mut state = [0u8; 64];
        for chunk in buf.chunks_mut(64) {
            let n = chunk.len() / 16;
            for block in state.chunks_exact_mut(16).take(n) {
                block.copy_from_slice(ctr);
                inc32(ctr);
            }
            self.encrypt4(&mut state, n);
            for (c, k) in chunk.iter_mut().zip(state.iter()) {
                *c ^= k;
            }
        }
        state.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbox_matches_fips197_examples() {
        let mut bytes = [0u8; 64];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        sub_bytes64(&mut bytes);
        // FIPS 197 Figure 7: S(0x00) = 0x63, S(0x01) = 0x7c, S(0x10) = 0xca, S(0x3f) = 0x75.
        assert_eq!(bytes[0x00], 0x63);
        assert_eq!(bytes[0x01], 0x7c);
        assert_eq!(bytes[0x10], 0xca);
        assert_eq!(bytes[0x3f], 0x75);
    }

    #[test]
    fn aes128_fips197_appendix_b() {
        let key = hex_literal::hex!("2b7e151628aed2a6abf7158809cf4f3c");
        let k = Key::new(&key).unwrap();
        let mut block = hex_literal::hex!("3243f6a8885a308d313198a2e0370734");
        k.encrypt_block(&mut block);
        assert_eq!(block, hex_literal::hex!("3925841d02dc09fbdc118597196a0b32"));
    }
}
