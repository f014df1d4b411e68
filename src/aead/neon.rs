//! aarch64 AES-GCM kernel: the ARMv8 Cryptography Extensions' AESE/AESMC for
//! AES (FIPS 197) and PMULL/PMULL2 for GHASH (SP 800-38D 6.3, 6.4), written
//! with `core::arch::aarch64` intrinsics.
//!
//! Structure (the same as the x86_64 kernels):
//!
//! ```text
//!   bulk loop, 8 blocks (128 bytes) in flight per group g:
//!     AES rounds of counters ctr+8g .. ctr+8g+7      (AESE+AESMC x rounds-1, AESE, EOR)
//!     interleaved with, between the rounds,
//!     GHASH of 8 ciphertext blocks:                   seal: group g-1, open: group g
//!       (Y ^ X0)*H^8 + X1*H^7 + ... + X7*H^1           8 products, Karatsuba, 24 PMULL
//!       one reduction per group                        2 PMULL
//! ```
//!
//! GHASH bit order. SP 800-38D numbers the bits of a block from the most
//! significant bit of byte 0, and bit i is the coefficient of x^i. Reversing
//! the bits of every byte (RBIT) turns a block into a little-endian 128-bit
//! integer whose bit i is that coefficient, so the products below are plain
//! carry-less multiplications reduced modulo the GCM polynomial
//! x^128 + x^7 + x^2 + x + 1; one RBIT per block in, one per tag out. The
//! accumulator and the powers of H are kept in that form.
//!
//! ```text
//!   a = a1*x^64 + a0, b = b1*x^64 + b0 (64-bit halves)
//!   a*b = a1b1*x^128 + ((a0^a1)(b0^b1) ^ a0b0 ^ a1b1)*x^64 + a0b0   (Karatsuba)
//!       = p3*x^192 + p2*x^128 + p1*x^64 + p0
//!   x^128 = x^7 + x^2 + x + 1 = 0x87 (mod P):
//!     p3*x^192 = (p3*0x87)*x^64             fold into p2:p1
//!     p2*x^128 = p2*0x87                     fold into p1:p0
//! ```

// A kernel file: SIMD intrinsics, each unsafe block with its SAFETY bound.
#![allow(unsafe_code)]

use super::{Error, Kernel};
use crate::cpu;
use core::arch::aarch64::*;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Blocks in flight in the bulk loops.
const LANES: usize = 8;
/// Bytes per bulk group.
const GROUP: usize = 16 * LANES;

/// Expanded AES key and the GHASH key table, zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Key {
    /// Round keys 0..=rounds (FIPS 197 5.2), unused ones zero.
    round_keys: [[u8; 16]; 15],
    /// 10, 12 or 14.
    rounds: usize,
    /// `h_pow[i]` = H^(i+1), bit-reflected (see the module docs).
    h_pow: [[u8; 16]; LANES],
    /// Karatsuba middle operands of the powers, two to a vector:
    /// `h_kar[q]` = [lo^hi of H^(8-2q), lo^hi of H^(7-2q)], matching the
    /// block pair (2q, 2q+1) of a group.
    h_kar: [[u8; 16]; LANES / 2],
    /// Proof that this CPU has AES and PMULL.
    #[zeroize(skip)]
    _cpu: cpu::Neon,
}

impl Key {
    /// Expands `key` (16, 24 or 32 bytes); the token proves the CPU can run
    /// the kernel.
    pub(crate) fn new(cpu: cpu::Neon, key: &[u8]) -> Result<Key, Error> {
        super::check_key(key)?;
        let mut k = Key {
            round_keys: [[0u8; 16]; 15],
            rounds: key.len() / 4 + 6,
            h_pow: [[0u8; 16]; LANES],
            h_kar: [[0u8; 16]; LANES / 2],
            _cpu: cpu,
        };
        // SAFETY: the `cpu::Neon` token proves the CPU has NEON, AES and PMULL.
        unsafe { setup(&mut k, key) };
        Ok(k)
    }
}

// ---------------------------------------------------------------------------
// Loads and stores: the only operations here that touch raw pointers.

neon_features!(enable!(
    #[inline]
    fn load(block: &[u8]) -> uint8x16_t {
        assert!(block.len() >= 16);
        // SAFETY: `block` holds at least 16 readable bytes; LD1 has no
        // alignment requirement.
        unsafe { vld1q_u8(block.as_ptr()) }
    }
));

neon_features!(enable!(
    #[inline]
    fn store(block: &mut [u8], v: uint8x16_t) {
        assert!(block.len() >= 16);
        // SAFETY: `block` holds at least 16 writable bytes; ST1 has no
        // alignment requirement.
        unsafe { vst1q_u8(block.as_mut_ptr(), v) }
    }
));

// ---------------------------------------------------------------------------
// AES (FIPS 197 5.1). AESE = AddRoundKey, SubBytes, ShiftRows; AESMC = MixColumns.

/// Round keys in registers.
type RoundKeys = [uint8x16_t; 15];

neon_features!(enable!(
    #[inline]
    fn load_round_keys(key: &Key) -> RoundKeys {
        let mut rk = [vdupq_n_u8(0); 15];
        for (r, bytes) in rk.iter_mut().zip(&key.round_keys) {
            *r = load(bytes);
        }
        rk
    }
));

neon_features!(enable!(
    /// The full cipher on one block, `NR` rounds.
    #[inline]
    fn aes_block<const NR: usize>(rk: &RoundKeys, mut s: uint8x16_t) -> uint8x16_t {
        for k in &rk[..NR - 1] {
            s = vaesmcq_u8(vaeseq_u8(s, *k));
        }
        veorq_u8(vaeseq_u8(s, rk[NR - 1]), rk[NR])
    }
));

neon_features!(enable!(
    /// One AES round (AddRoundKey, SubBytes, ShiftRows, MixColumns) on every
    /// block of a group.
    #[inline]
    fn round8(s: &mut [uint8x16_t; LANES], k: uint8x16_t) {
        for b in s.iter_mut() {
            *b = vaesmcq_u8(vaeseq_u8(*b, k));
        }
    }
));

neon_features!(enable!(
    /// The last round (no MixColumns) and the final AddRoundKey.
    #[inline]
    fn last8(s: &mut [uint8x16_t; LANES], k: uint8x16_t, k_final: uint8x16_t) {
        for b in s.iter_mut() {
            *b = veorq_u8(vaeseq_u8(*b, k), k_final);
        }
    }
));

neon_features!(enable!(
    /// SubWord (FIPS 197 5.2): AESE with a zero round key on a state whose
    /// four columns all hold `w`. ShiftRows only moves bytes between
    /// columns, which are equal, so every column comes out as SubWord(w).
    #[inline]
    fn sub_word(w: u32) -> u32 {
        let s = vaeseq_u8(vreinterpretq_u8_u32(vdupq_n_u32(w)), vdupq_n_u8(0));
        vgetq_lane_u32::<0>(vreinterpretq_u32_u8(s))
    }
));

// ---------------------------------------------------------------------------
// Counter blocks (SP 800-38D 6.2, 6.5): the upper 96 bits stay, the low 32
// bits count big-endian modulo 2^32. The counter is kept byte-swapped within
// each 32-bit word (REV32), so lane 3 holds the count as a native u32 and a
// vector ADD of [0, 0, 0, 1] is inc32 exactly: lane 3 wraps modulo 2^32 and
// carries into no other lane. One REV32 turns it back into a counter block.

neon_features!(enable!(
    /// The counter block `ctr` in the word-swapped form.
    #[inline]
    fn counter_load(ctr: &[u8; 16]) -> uint32x4_t {
        vreinterpretq_u32_u8(vrev32q_u8(load(ctr)))
    }
));

neon_features!(enable!(
    /// Stores the word-swapped counter `c` back as a counter block.
    #[inline]
    fn counter_store(ctr: &mut [u8; 16], c: uint32x4_t) {
        store(ctr, vrev32q_u8(vreinterpretq_u8_u32(c)));
    }
));

neon_features!(enable!(
    /// The current counter block; advances `c` by inc32.
    #[inline]
    fn counter_next(c: &mut uint32x4_t) -> uint8x16_t {
        let block = vrev32q_u8(vreinterpretq_u8_u32(*c));
        *c = vaddq_u32(*c, vsetq_lane_u32::<3>(1, vdupq_n_u32(0)));
        block
    }
));

neon_features!(enable!(
    /// The next 8 counter blocks.
    #[inline]
    fn counters8(c: &mut uint32x4_t) -> [uint8x16_t; LANES] {
        let mut s = [vdupq_n_u8(0); LANES];
        for b in s.iter_mut() {
            *b = counter_next(c);
        }
        s
    }
));

// ---------------------------------------------------------------------------
// GHASH (SP 800-38D 6.4) on bit-reflected values.

/// An unreduced sum of 256-bit products, Karatsuba style.
#[derive(Clone, Copy)]
struct Wide {
    lo: uint64x2_t,
    mid: uint64x2_t,
    hi: uint64x2_t,
}

/// The powers of H in registers.
struct HTable {
    /// `pow[i]` = H^(i+1).
    pow: [uint64x2_t; LANES],
    /// See [`Key::h_kar`].
    kar: [uint64x2_t; LANES / 2],
}

neon_features!(enable!(
    #[inline]
    fn load_htable(key: &Key) -> HTable {
        let mut t = HTable {
            pow: [vdupq_n_u64(0); LANES],
            kar: [vdupq_n_u64(0); LANES / 2],
        };
        for (p, bytes) in t.pow.iter_mut().zip(&key.h_pow) {
            *p = vreinterpretq_u64_u8(load(bytes));
        }
        for (p, bytes) in t.kar.iter_mut().zip(&key.h_kar) {
            *p = vreinterpretq_u64_u8(load(bytes));
        }
        t
    }
));

neon_features!(enable!(
    /// A block in the bit-reflected form.
    #[inline]
    fn reflect(block: uint8x16_t) -> uint64x2_t {
        vreinterpretq_u64_u8(vrbitq_u8(block))
    }
));

neon_features!(enable!(
    /// Carry-less product of the low halves (PMULL).
    #[inline]
    fn clmul_lo(a: uint64x2_t, b: uint64x2_t) -> uint64x2_t {
        vreinterpretq_u64_p128(vmull_p64(vgetq_lane_u64::<0>(a), vgetq_lane_u64::<0>(b)))
    }
));

neon_features!(enable!(
    /// Carry-less product of the high halves (PMULL2).
    #[inline]
    fn clmul_hi(a: uint64x2_t, b: uint64x2_t) -> uint64x2_t {
        vreinterpretq_u64_p128(vmull_high_p64(
            vreinterpretq_p64_u64(a),
            vreinterpretq_p64_u64(b),
        ))
    }
));

neon_features!(enable!(
    #[inline]
    fn wide_zero() -> Wide {
        Wide {
            lo: vdupq_n_u64(0),
            mid: vdupq_n_u64(0),
            hi: vdupq_n_u64(0),
        }
    }
));

neon_features!(enable!(
    /// `w += x * h`, with the Karatsuba middle operand of `h` computed here.
    #[inline]
    fn mul_acc(w: &mut Wide, x: uint64x2_t, h: uint64x2_t) {
        w.lo = veorq_u64(w.lo, clmul_lo(x, h));
        w.hi = veorq_u64(w.hi, clmul_hi(x, h));
        let xk = veorq_u64(x, vextq_u64::<1>(x, x));
        let hk = veorq_u64(h, vextq_u64::<1>(h, h));
        w.mid = veorq_u64(w.mid, clmul_lo(xk, hk));
    }
));

neon_features!(enable!(
    /// `w += xa * ha + xb * hb`, where `hk` = [lo^hi of ha, lo^hi of hb].
    /// TRN1/TRN2 gather the halves of both blocks so one EOR forms both
    /// Karatsuba middle operands.
    #[inline]
    fn mul_acc_pair(
        w: &mut Wide,
        xa: uint64x2_t,
        xb: uint64x2_t,
        ha: uint64x2_t,
        hb: uint64x2_t,
        hk: uint64x2_t,
    ) {
        w.lo = veorq_u64(w.lo, veorq_u64(clmul_lo(xa, ha), clmul_lo(xb, hb)));
        w.hi = veorq_u64(w.hi, veorq_u64(clmul_hi(xa, ha), clmul_hi(xb, hb)));
        let xk = veorq_u64(vtrn1q_u64(xa, xb), vtrn2q_u64(xa, xb));
        w.mid = veorq_u64(w.mid, veorq_u64(clmul_lo(xk, hk), clmul_hi(xk, hk)));
    }
));

neon_features!(enable!(
    /// Reduces a 256-bit sum modulo x^128 + x^7 + x^2 + x + 1 (module docs).
    #[inline]
    fn reduce(w: Wide) -> uint64x2_t {
        let k = vdupq_n_u64(0x87);
        // Karatsuba: the middle product is mid ^ lo ^ hi (sums commute).
        let mid = veorq_u64(w.mid, veorq_u64(w.lo, w.hi));
        // [p1, p2] = [lo.1 ^ mid.0, hi.0 ^ mid.1]
        let mut m = veorq_u64(vextq_u64::<1>(w.lo, w.hi), mid);
        // p3*x^192 = (p3*0x87)*x^64: at most 71 bits, onto p1 and p2.
        m = veorq_u64(m, clmul_hi(w.hi, k));
        // p2*x^128 = p2*0x87: onto p0 and p1.
        veorq_u64(vzip1q_u64(w.lo, m), clmul_hi(m, k))
    }
));

neon_features!(enable!(
    /// One GF(2^128) product, reduced.
    #[inline]
    fn gf_mul(a: uint64x2_t, b: uint64x2_t) -> uint64x2_t {
        let mut w = wide_zero();
        mul_acc(&mut w, a, b);
        reduce(w)
    }
));

neon_features!(enable!(
    /// Adds the products of a group of 8 reflected blocks, the first of
    /// which already holds the accumulator: block j times H^(8-j).
    #[inline]
    fn absorb8_pair(w: &mut Wide, x: &[uint64x2_t; LANES], t: &HTable, q: usize) {
        mul_acc_pair(
            w,
            x[2 * q],
            x[2 * q + 1],
            t.pow[LANES - 1 - 2 * q],
            t.pow[LANES - 2 - 2 * q],
            t.kar[q],
        );
    }
));

neon_features!(enable!(
    /// `y = GHASH of one 128-byte group` continuing from `y`.
    #[inline]
    fn ghash8(y: uint64x2_t, group: &[u8], t: &HTable) -> uint64x2_t {
        let x = reflect8(y, group);
        let mut w = wide_zero();
        for q in 0..LANES / 2 {
            absorb8_pair(&mut w, &x, t, q);
        }
        reduce(w)
    }
));

neon_features!(enable!(
    /// The 8 blocks of `group`, reflected, with `y` folded into the first.
    #[inline]
    fn reflect8(y: uint64x2_t, group: &[u8]) -> [uint64x2_t; LANES] {
        let mut x = [vdupq_n_u64(0); LANES];
        for (v, block) in x.iter_mut().zip(group.chunks_exact(16)) {
            *v = reflect(load(block));
        }
        x[0] = veorq_u64(x[0], y);
        x
    }
));

neon_features!(enable!(
    /// GHASH of 1..=8 whole blocks with one reduction: block j of n times H^(n-j).
    #[inline]
    fn ghash_short(y: uint64x2_t, blocks: &[u8], t: &HTable) -> uint64x2_t {
        let n = blocks.len() / 16;
        debug_assert!((1..=LANES).contains(&n));
        let mut w = wide_zero();
        for (j, block) in blocks.chunks_exact(16).enumerate() {
            let mut x = reflect(load(block));
            if j == 0 {
                x = veorq_u64(x, y);
            }
            mul_acc(&mut w, x, t.pow[n - 1 - j]);
        }
        reduce(w)
    }
));

neon_features!(enable!(
    /// GHASH of any number of whole blocks.
    fn ghash_blocks(key: &Key, acc: &mut [u8; 16], blocks: &[u8]) {
        let t = load_htable(key);
        let mut y = vreinterpretq_u64_u8(load(acc));
        let mut groups = blocks.chunks_exact(GROUP);
        for group in &mut groups {
            y = ghash8(y, group, &t);
        }
        let rest = groups.remainder();
        if !rest.is_empty() {
            y = ghash_short(y, rest, &t);
        }
        store(acc, vreinterpretq_u8_u64(y));
    }
));

// ---------------------------------------------------------------------------
// Key setup.

neon_features!(enable!(
    /// Key expansion (FIPS 197 5.2), H = E(K, 0^128) and its powers.
    fn setup(k: &mut Key, key: &[u8]) {
        let (mut w, _) = crate::aead::key_words(key, |x| sub_word(x));
        for (r, rk) in k.round_keys.iter_mut().enumerate().take(k.rounds + 1) {
            for (c, bytes) in rk.chunks_exact_mut(4).enumerate() {
                bytes.copy_from_slice(&w[4 * r + c].to_le_bytes());
            }
        }
        w.zeroize();

        let mut zero = [0u8; 16];
        encrypt_one(k, &mut zero);
        let h = reflect(load(&zero));
        zero.zeroize();
        let mut p = h;
        let mut pow = [h; LANES];
        for v in pow.iter_mut().skip(1) {
            p = gf_mul(p, h);
            *v = p;
        }
        for (bytes, v) in k.h_pow.iter_mut().zip(pow) {
            store(bytes, vreinterpretq_u8_u64(v));
        }
        // lo^hi of H^(i+1) in lane 0 of kar1[i].
        let mut kar1 = pow;
        for v in kar1.iter_mut() {
            *v = veorq_u64(*v, vextq_u64::<1>(*v, *v));
        }
        for (q, bytes) in k.h_kar.iter_mut().enumerate() {
            let a = kar1[LANES - 1 - 2 * q];
            let b = kar1[LANES - 2 - 2 * q];
            store(bytes, vreinterpretq_u8_u64(vzip1q_u64(a, b)));
        }
    }
));

// ---------------------------------------------------------------------------
// The block cipher and CTR entry points.

neon_features!(enable!(
    fn encrypt_one(key: &Key, block: &mut [u8; 16]) {
        let rk = load_round_keys(key);
        let s = load(block);
        let out = match key.rounds {
            10 => aes_block::<10>(&rk, s),
            12 => aes_block::<12>(&rk, s),
            _ => aes_block::<14>(&rk, s),
        };
        store(block, out);
    }
));

neon_features!(enable!(
    /// CTR over whole blocks, 8 at a time, then one at a time.
    fn ctr32_nr<const NR: usize>(key: &Key, ctr: &mut [u8; 16], buf: &mut [u8]) {
        let rk = load_round_keys(key);
        let mut c = counter_load(ctr);
        let mut groups = buf.chunks_exact_mut(GROUP);
        for group in &mut groups {
            let mut s = counters8(&mut c);
            for k in &rk[..NR - 1] {
                round8(&mut s, *k);
            }
            last8(&mut s, rk[NR - 1], rk[NR]);
            for (ks, block) in s.iter().zip(group.chunks_exact_mut(16)) {
                let out = veorq_u8(load(block), *ks);
                store(block, out);
            }
        }
        for block in groups.into_remainder().chunks_exact_mut(16) {
            let ks = aes_block::<NR>(&rk, counter_next(&mut c));
            let out = veorq_u8(load(block), ks);
            store(block, out);
        }
        counter_store(ctr, c);
    }
));

neon_features!(enable!(
    /// Encrypts one group (8 blocks) and returns the ciphertext, reflected
    /// for GHASH; no hashing. Starts the seal pipeline.
    #[inline]
    fn encrypt_group<const NR: usize>(
        rk: &RoundKeys,
        c: &mut uint32x4_t,
        group: &mut [u8],
    ) -> [uint64x2_t; LANES] {
        let mut s = counters8(c);
        for k in &rk[..NR - 1] {
            round8(&mut s, *k);
        }
        last8(&mut s, rk[NR - 1], rk[NR]);
        let mut ct = [vdupq_n_u64(0); LANES];
        for ((ks, block), x) in s.iter().zip(group.chunks_exact_mut(16)).zip(&mut ct) {
            let out = veorq_u8(load(block), *ks);
            store(block, out);
            *x = reflect(out);
        }
        ct
    }
));

/// The stitched step shared by seal and open: the AES rounds of the group
/// of the next 8 counters (advancing `$c`), with the GHASH products of the 8 reflected blocks
/// `x` (accumulator already folded into `x[0]`) slotted between the first
/// rounds and the single reduction after round 5. Evaluates to the keystream
/// and the new accumulator.
///
/// A macro rather than a function: `#[inline(always)]` is not allowed on
/// `#[target_feature]` functions, and LLVM does not inline a function this
/// size into both the seal and the open loop, which would turn the group's
/// state into stack traffic. It expands inside those target-feature
/// functions.
macro_rules! stitched {
    ($nr:ident, $rk:expr, $t:expr, $c:expr, $x:expr) => {{
        let rk: &RoundKeys = $rk;
        let x: &[uint64x2_t; LANES] = $x;
        let mut s = counters8($c);
        let mut w = wide_zero();
        // Rounds 1-4 each carry the products of one block pair.
        for q in 0..LANES / 2 {
            round8(&mut s, rk[q]);
            absorb8_pair(&mut w, x, $t, q);
        }
        // Round 5 carries the reduction.
        round8(&mut s, rk[LANES / 2]);
        let y = reduce(w);
        for k in &rk[LANES / 2 + 1..$nr - 1] {
            round8(&mut s, *k);
        }
        last8(&mut s, rk[$nr - 1], rk[$nr]);
        (s, y)
    }};
}

neon_features!(enable!(
    /// Seal of whole blocks: CTR encryption of group g runs together with
    /// GHASH of the ciphertext of group g-1; the last group is hashed after
    /// the loop, then the 0..=7 remaining blocks.
    fn seal_nr<const NR: usize>(key: &Key, ctr: &mut [u8; 16], acc: &mut [u8; 16], buf: &mut [u8]) {
        let rk = load_round_keys(key);
        let t = load_htable(key);
        let mut c = counter_load(ctr);
        let mut y = vreinterpretq_u64_u8(load(acc));

        let mut groups = buf.chunks_exact_mut(GROUP);
        if let Some(first) = groups.next() {
            let mut prev = encrypt_group::<NR>(&rk, &mut c, first);
            for group in &mut groups {
                prev[0] = veorq_u64(prev[0], y);
                let (ks, y_next) = stitched!(NR, &rk, &t, &mut c, &prev);
                y = y_next;
                for ((ks, block), x) in ks.iter().zip(group.chunks_exact_mut(16)).zip(&mut prev) {
                    let out = veorq_u8(load(block), *ks);
                    store(block, out);
                    *x = reflect(out);
                }
            }
            prev[0] = veorq_u64(prev[0], y);
            let mut w = wide_zero();
            for q in 0..LANES / 2 {
                absorb8_pair(&mut w, &prev, &t, q);
            }
            y = reduce(w);
        }
        let rest = groups.into_remainder();
        if !rest.is_empty() {
            for block in rest.chunks_exact_mut(16) {
                let ks = aes_block::<NR>(&rk, counter_next(&mut c));
                let out = veorq_u8(load(block), ks);
                store(block, out);
            }
            y = ghash_short(y, rest, &t);
        }
        counter_store(ctr, c);
        store(acc, vreinterpretq_u8_u64(y));
    }
));

neon_features!(enable!(
    /// Open of whole blocks: each group's ciphertext is known up front, so
    /// its GHASH runs between the AES rounds of its own keystream.
    fn open_nr<const NR: usize>(key: &Key, ctr: &mut [u8; 16], acc: &mut [u8; 16], buf: &mut [u8]) {
        let rk = load_round_keys(key);
        let t = load_htable(key);
        let mut c = counter_load(ctr);
        let mut y = vreinterpretq_u64_u8(load(acc));

        let mut groups = buf.chunks_exact_mut(GROUP);
        for group in &mut groups {
            let x = reflect8(y, group);
            let (ks, y_next) = stitched!(NR, &rk, &t, &mut c, &x);
            y = y_next;
            for (ks, block) in ks.iter().zip(group.chunks_exact_mut(16)) {
                let out = veorq_u8(load(block), *ks);
                store(block, out);
            }
        }
        let rest = groups.into_remainder();
        if !rest.is_empty() {
            y = ghash_short(y, rest, &t);
            for block in rest.chunks_exact_mut(16) {
                let ks = aes_block::<NR>(&rk, counter_next(&mut c));
                let out = veorq_u8(load(block), ks);
                store(block, out);
            }
        }
        counter_store(ctr, c);
        store(acc, vreinterpretq_u8_u64(y));
    }
));

impl Kernel for Key {
    /// The GHASH value in the bit-reflected form of the module docs.
    type Acc = [u8; 16];

    fn acc_zero(&self) -> [u8; 16] {
        [0u8; 16]
    }

    fn acc_bytes(&self, acc: [u8; 16]) -> [u8; 16] {
        acc.map(u8::reverse_bits)
    }

    fn ghash(&self, acc: &mut [u8; 16], blocks: &[u8]) {
        debug_assert_eq!(blocks.len() % 16, 0);
        // SAFETY: `self` holds a `cpu::Neon` token: the CPU has NEON, AES and PMULL.
        unsafe { ghash_blocks(self, acc, blocks) }
    }

    fn encrypt_block(&self, block: &mut [u8; 16]) {
        // SAFETY: as in `ghash`.
        unsafe { encrypt_one(self, block) }
    }

    fn ctr32(&self, ctr: &mut [u8; 16], buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: as in `ghash`.
        unsafe {
            match self.rounds {
                10 => ctr32_nr::<10>(self, ctr, buf),
                12 => ctr32_nr::<12>(self, ctr, buf),
                _ => ctr32_nr::<14>(self, ctr, buf),
            }
        }
    }

    fn seal_blocks(&self, ctr: &mut [u8; 16], acc: &mut [u8; 16], buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: as in `ghash`.
        unsafe {
            match self.rounds {
                10 => seal_nr::<10>(self, ctr, acc, buf),
                12 => seal_nr::<12>(self, ctr, acc, buf),
                _ => seal_nr::<14>(self, ctr, acc, buf),
            }
        }
    }

    fn open_blocks(&self, ctr: &mut [u8; 16], acc: &mut [u8; 16], buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: as in `ghash`.
        unsafe {
            match self.rounds {
                10 => open_nr::<10>(self, ctr, acc, buf),
                12 => open_nr::<12>(self, ctr, acc, buf),
                _ => open_nr::<14>(self, ctr, acc, buf),
            }
        }
    }
}
