//! x86_64 AES-GCM on 256-bit registers: VAES and VPCLMULQDQ with AVX2
//! (no AVX-512), two 16-byte blocks per `ymm` register.
//!
//! The bulk loop handles [`STRIDE`] blocks per iteration. Sealing runs the AES
//! rounds of the next group of counter blocks interleaved ("stitched") with
//! the GHASH multiplications of the ciphertext written by the previous
//! iteration; opening hashes the very ciphertext it is about to decrypt. Each
//! iteration multiplies its blocks by H^STRIDE..H^1 (precomputed in the key),
//! sums the unreduced 256-bit products and reduces once (SP 800-38D 6.4:
//! `Y_i = (Y_{i-1} ^ X_i) * H` unrolled over a group of blocks).
//!
//! Records with a 96-bit IV take one call from J0 to the tag
//! ([`Kernel::seal_whole`] / [`Kernel::open_whole`], `whole_impl` below):
//! E(K, J0) and the partial block's keystream in one AES pair, the bulk loop
//! for the groups, and the AAD (when short), the blocks left, the partial
//! block and the length block under a single GHASH reduction.
//!
//! ## Bit order and the reduction
//!
//! GHASH (SP 800-38D 6.3) reads bit 0 of a block, the most significant bit of
//! byte 0, as the coefficient of x^0. After a byte reversal (`vpshufb`) the
//! 128-bit register holds the coefficient of x^k at bit 127 - k: the
//! polynomial reflected. For reflected operands a carry-less multiply yields
//! the reflected 255-bit product one bit short of a 256-bit reflection, i.e.
//! the product times x. The 256-bit value is reduced by folding away its
//! 128 low register bits (they hold x^255..x^128) with multiples of the
//! reflected modulus, 64 bits at a time: an ordinary reduction modulo
//! G = x^128 + x^7 + x^2 + x + 1, so a multiply of register values computes
//! `a * b * x mod G`. Storing every key power as `H^i * x^-1` cancels that
//! factor:
//!
//! ```text
//!   register(a) = bitrev128(a)              (a byte swap of the GCM block)
//!   a' * b'     = a * b * x                 (one clmul product, reduced)
//!   H'^i        = H^i * x^-1                (key powers as stored)
//!   acc * H'^i  = acc * H^i                 (what GHASH needs)
//!
//!   256-bit product, four 64-bit words   q0 | q1 | q2 | q3  (register order)
//!   fold q0:  (q1,q2) ^= clmul(q0, 0xc2000000_00000000);  q2 ^= q0
//!   fold q1:  (q2,q3) ^= clmul(q1, 0xc2000000_00000000);  q3 ^= q1
//!   result:   (q2,q3)
//! ```
//!
//! 0xc2000000_00000000 (bits 57, 62, 63) with the implied 1 and x^128 is the
//! reflected modulus x^128 + x^127 + x^126 + x^121 + 1.
//!
//! ## Counters
//!
//! Counter blocks are kept byte-swapped, so the 32-bit big-endian counter
//! field (SP 800-38D 6.2, inc32) is the lowest 32-bit lane of each 128-bit
//! half; `vpaddd` adds in that lane only and wraps modulo 2^32 without a
//! carry into the nonce bits, exactly as inc32 does, wherever the wrap falls.

// A kernel file: SIMD intrinsics, each unsafe block with its SAFETY bound.
#![allow(unsafe_code)]

use super::gcm::{self, Frame};
use super::{Error, Kernel};
use crate::cpu;
use core::arch::x86_64::*;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Blocks per iteration of the bulk loop: 8 independent AES chains, what a
/// 4-cycle `vaesenc` latency at 2 per cycle needs (measured against 8 and 12
/// blocks: see asm-notes/vaes-avx2.md).
pub(crate) const STRIDE: usize = 16;
/// `ymm` registers (block pairs) per iteration.
const VECS: usize = STRIDE / 2;
/// Number of powers of H the key holds: enough for one reduction per 16 blocks.
pub(crate) const POWERS: usize = 16;
/// The reflected GHASH modulus constant: bits 57, 62 and 63 of the high word.
const GF_POLY_HI: i64 = 0xc200_0000_0000_0000_u64 as i64;

/// An expanded AES key with the GHASH key powers, for the `vaes-avx2` backend.
///
/// Building one takes the [`cpu::VaesAvx2`] proof, so a `Key` exists only on
/// a CPU that runs the kernels. Everything is zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
#[repr(C, align(32))]
pub struct Key {
    /// The AES round keys (FIPS 197 5.2), `rounds + 1` of them, each in the
    /// byte order `AESENC`/`VAESENC` take from memory (the FIPS 197 byte
    /// order: round key r is words w[4r..4r+4], bytes in sequence). Unused
    /// trailing entries are zero.
    pub(crate) round_keys: [[u8; 16]; 15],
    /// Number of AES rounds: 10, 12 or 14.
    pub(crate) rounds: usize,
    /// Powers of the hash key in descending order:
    /// `h_powers[i] = H^(POWERS - i) * x^-1 mod G`, each the little-endian
    /// image of the byte-reflected 128-bit register (bit 127 - k holds the
    /// coefficient of x^k; see the module notes). Any `2 * n` consecutive
    /// entries ending at the last are H^(2n)..H^1, so a 32-byte load at
    /// `h_powers[i]` gives the pair (H^(16-i), H^(15-i)) for one `ymm`.
    pub(crate) h_powers: [[u8; 16]; POWERS],
    /// For Karatsuba: the two 64-bit halves of `h_powers[i]` XORed, stored
    /// in both halves of entry i.
    pub(crate) h_karatsuba: [[u8; 16]; POWERS],
    /// H^18 and H^17 (times x^-1, as `h_powers`), and their Karatsuba
    /// halves: a 16-block record with a one-block AAD and the length block
    /// (18 GHASH blocks) under a single reduction in the batch kernel.
    pub(crate) h_high: [[u8; 16]; 2],
    pub(crate) hk_high: [[u8; 16]; 2],
    #[zeroize(skip)]
    _cpu: cpu::VaesAvx2,
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("vaes_avx2::Key")
            .field("rounds", &self.rounds)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// Expands `key` (16, 24 or 32 bytes) and precomputes H^1..H^18.
    pub(crate) fn new(key: &[u8], cpu: cpu::VaesAvx2) -> Result<Key, Error> {
        super::check_key(key)?;
        let mut k = Key {
            round_keys: [[0; 16]; 15],
            rounds: key.len() / 4 + 6,
            h_powers: [[0; 16]; POWERS],
            h_karatsuba: [[0; 16]; POWERS],
            h_high: [[0; 16]; 2],
            hk_high: [[0; 16]; 2],
            _cpu: cpu,
        };
        // SAFETY: the `cpu` token proves every feature of the list.
        unsafe { setup(&mut k, key) };
        Ok(k)
    }
}

// ---------------------------------------------------------------------------
// Small building blocks (all inlined into the kernels).

vaes_avx2_features!(enable!(
    /// `vpshufb` mask reversing the bytes of each 128-bit half.
    #[inline]
    pub(crate) fn bswap_mask() -> __m256i {
        _mm256_set_epi64x(
            0x0001_0203_0405_0607,
            0x0809_0a0b_0c0d_0e0f,
            0x0001_0203_0405_0607,
            0x0809_0a0b_0c0d_0e0f,
        )
    }
));

vaes_avx2_features!(enable!(
    /// One 16-byte round key (or key power) broadcast to both halves.
    #[inline]
    pub(crate) fn bcast(bytes: &[u8; 16]) -> __m256i {
        // SAFETY: `bytes` is 16 readable bytes; the load is unaligned.
        _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) })
    }
));

vaes_avx2_features!(enable!(
    #[inline]
    pub(crate) fn load128(bytes: &[u8; 16]) -> __m128i {
        // SAFETY: `bytes` is 16 readable bytes; the load is unaligned.
        unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
    }
));

vaes_avx2_features!(enable!(
    /// Two consecutive 16-byte entries as one `ymm` (low half = `t[i]`).
    #[inline]
    pub(crate) fn load_pair(t: &[[u8; 16]; POWERS], i: usize) -> __m256i {
        assert!(i + 2 <= POWERS);
        // SAFETY: entries i and i + 1 exist (checked above) and are contiguous.
        unsafe { _mm256_loadu_si256(t[i..].as_ptr().cast()) }
    }
));

vaes_avx2_features!(enable!(
    /// 32 bytes at `buf[at..at + 32]`.
    #[inline]
    pub(crate) fn load32(buf: &[u8], at: usize) -> __m256i {
        assert!(at + 32 <= buf.len());
        // SAFETY: the 32 bytes are in bounds (checked above).
        unsafe { _mm256_loadu_si256(buf.as_ptr().add(at).cast()) }
    }
));

vaes_avx2_features!(enable!(
    #[inline]
    pub(crate) fn store32(buf: &mut [u8], at: usize, v: __m256i) {
        assert!(at + 32 <= buf.len());
        // SAFETY: the 32 bytes are in bounds (checked above).
        unsafe { _mm256_storeu_si256(buf.as_mut_ptr().add(at).cast(), v) }
    }
));

vaes_avx2_features!(enable!(
    #[inline]
    pub(crate) fn load16(buf: &[u8], at: usize) -> __m128i {
        assert!(at + 16 <= buf.len());
        // SAFETY: the 16 bytes are in bounds (checked above).
        unsafe { _mm_loadu_si128(buf.as_ptr().add(at).cast()) }
    }
));

vaes_avx2_features!(enable!(
    #[inline]
    pub(crate) fn store16(buf: &mut [u8], at: usize, v: __m128i) {
        assert!(at + 16 <= buf.len());
        // SAFETY: the 16 bytes are in bounds (checked above).
        unsafe { _mm_storeu_si128(buf.as_mut_ptr().add(at).cast(), v) }
    }
));

vaes_avx2_features!(enable!(
    /// Reduces the 256-bit product `lo ^ mi*x^64 ^ hi*x^128` (register word
    /// order, see the module notes) modulo G: two folds of 64 bits each.
    #[inline]
    fn reduce(lo: __m128i, mi: __m128i, hi: __m128i) -> __m128i {
        let poly = _mm_set_epi64x(GF_POLY_HI, 1);
        let t = _mm_clmulepi64_si128(lo, poly, 0x10);
        let mi = _mm_xor_si128(_mm_xor_si128(mi, t), _mm_shuffle_epi32(lo, 0x4e));
        let t = _mm_clmulepi64_si128(mi, poly, 0x10);
        _mm_xor_si128(_mm_xor_si128(hi, t), _mm_shuffle_epi32(mi, 0x4e))
    }
));

vaes_avx2_features!(enable!(
    /// `a * b * x mod G` on byte-reflected registers (schoolbook).
    #[inline]
    pub(crate) fn gf_mul(a: __m128i, b: __m128i) -> __m128i {
        let lo = _mm_clmulepi64_si128(a, b, 0x00);
        let hi = _mm_clmulepi64_si128(a, b, 0x11);
        let mi = _mm_xor_si128(
            _mm_clmulepi64_si128(a, b, 0x01),
            _mm_clmulepi64_si128(a, b, 0x10),
        );
        reduce(lo, mi, hi)
    }
));

/// Unreduced GHASH sums, one 128-bit product per half of each register.
#[derive(Clone, Copy)]
pub(crate) struct Wide {
    lo: __m256i,
    mi: __m256i,
    hi: __m256i,
}

vaes_avx2_features!(enable!(
    #[inline]
    pub(crate) fn wide_zero() -> Wide {
        let z = _mm256_setzero_si256();
        Wide {
            lo: z,
            mi: z,
            hi: z,
        }
    }
));

vaes_avx2_features!(enable!(
    /// Adds `d * h` (two blocks times two key powers) to the sums, Karatsuba
    /// style: 3 multiplies per 128x128 product instead of schoolbook's 4
    /// (measured faster here: asm-notes/vaes-avx2.md), the key side's
    /// `h.lo ^ h.hi` precomputed in `hk`. The middle sum holds
    /// `(d.lo ^ d.hi)(h.lo ^ h.hi)` until [`wide_finish`] removes `lo` and
    /// `hi` from it.
    #[inline]
    pub(crate) fn wide_mul_add(s: &mut Wide, d: __m256i, h: __m256i, hk: __m256i) {
        s.lo = _mm256_xor_si256(s.lo, _mm256_clmulepi64_epi128(d, h, 0x00));
        s.hi = _mm256_xor_si256(s.hi, _mm256_clmulepi64_epi128(d, h, 0x11));
        let dk = _mm256_xor_si256(d, _mm256_shuffle_epi32(d, 0x4e));
        s.mi = _mm256_xor_si256(s.mi, _mm256_clmulepi64_epi128(dk, hk, 0x00));
    }
));

vaes_avx2_features!(enable!(
    /// Sums the two halves and reduces: the new GHASH accumulator.
    #[inline]
    pub(crate) fn wide_finish(s: Wide) -> __m128i {
        let mi = _mm256_xor_si256(s.mi, _mm256_xor_si256(s.lo, s.hi));
        let fold =
            |v: __m256i| _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        reduce(fold(s.lo), fold(mi), fold(s.hi))
    }
));

vaes_avx2_features!(enable!(
    /// GHASH of 1..=16 whole blocks with one reduction:
    /// `(acc ^ X_1) * H^m ^ X_2 * H^(m-1) ^ ... ^ X_m * H`.
    #[inline]
    fn ghash_upto16(k: &Key, acc: __m128i, data: &[u8]) -> __m128i {
        let m = data.len() / 16;
        debug_assert!(m <= POWERS && data.len().is_multiple_of(16));
        if m == 0 {
            return acc;
        }
        let bs = bswap_mask();
        let first = POWERS - m;
        let mut s = wide_zero();
        let mut x = _mm256_zextsi128_si256(acc);
        for j in 0..m / 2 {
            let d = _mm256_xor_si256(_mm256_shuffle_epi8(load32(data, 32 * j), bs), x);
            x = _mm256_setzero_si256();
            wide_mul_add(
                &mut s,
                d,
                load_pair(&k.h_powers, first + 2 * j),
                load_pair(&k.h_karatsuba, first + 2 * j),
            );
        }
        if m % 2 == 1 {
            // The last block, times H^1, in the low half only.
            let d = _mm256_shuffle_epi8(_mm256_zextsi128_si256(load16(data, 16 * (m - 1))), bs);
            let d = _mm256_xor_si256(d, x);
            let h = _mm256_zextsi128_si256(load128(&k.h_powers[POWERS - 1]));
            let hk = _mm256_zextsi128_si256(load128(&k.h_karatsuba[POWERS - 1]));
            wide_mul_add(&mut s, d, h, hk);
        }
        wide_finish(s)
    }
));

vaes_avx2_features!(enable!(
    /// Counter blocks `[c, c+1]` (byte-swapped form) from the counter block
    /// `ctr` as stored.
    #[inline]
    fn counter_pair(ctr: &[u8; 16]) -> __m256i {
        let c = _mm256_shuffle_epi8(bcast(ctr), bswap_mask());
        _mm256_add_epi32(c, _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0))
    }
));

vaes_avx2_features!(enable!(
    /// The next `W` register pairs of counter blocks, byte order restored and
    /// XORed with round key 0; advances `cv` by `2 * W` (inc32 per lane).
    #[inline]
    fn next_counters<const W: usize>(cv: &mut __m256i, rk0: __m256i) -> [__m256i; W] {
        let bs = bswap_mask();
        let two = _mm256_set_epi32(0, 0, 0, 2, 0, 0, 0, 2);
        let mut x = [_mm256_setzero_si256(); W];
        for v in x.iter_mut() {
            *v = _mm256_xor_si256(_mm256_shuffle_epi8(*cv, bs), rk0);
            *cv = _mm256_add_epi32(*cv, two);
        }
        x
    }
));

vaes_avx2_features!(enable!(
    /// AES rounds 1..=R on `W` registers (round key 0 already applied).
    #[inline]
    fn aes_rounds<const R: usize, const W: usize>(k: &Key, x: &mut [__m256i; W]) {
        for r in 1..R {
            let rk = bcast(&k.round_keys[r]);
            for v in x.iter_mut() {
                *v = _mm256_aesenc_epi128(*v, rk);
            }
        }
        let rk = bcast(&k.round_keys[R]);
        for v in x.iter_mut() {
            *v = _mm256_aesenclast_epi128(*v, rk);
        }
    }
));

vaes_avx2_features!(enable!(
    /// XORs the keystream of `W` counter pairs into `buf` (`32 * W` bytes).
    #[inline]
    fn ctr_group<const R: usize, const W: usize>(k: &Key, cv: &mut __m256i, buf: &mut [u8]) {
        assert_eq!(buf.len(), 32 * W);
        let mut x = next_counters::<W>(cv, bcast(&k.round_keys[0]));
        aes_rounds::<R, W>(k, &mut x);
        for (i, v) in x.iter().enumerate() {
            let p = load32(buf, 32 * i);
            store32(buf, 32 * i, _mm256_xor_si256(*v, p));
        }
    }
));

vaes_avx2_features!(enable!(
    /// CTR over whole blocks starting at the counters in `cv`.
    #[inline]
    fn ctr_blocks<const R: usize>(k: &Key, cv: &mut __m256i, buf: &mut [u8]) {
        let mut at = 0;
        while buf.len() - at >= 16 * STRIDE {
            // As in `seal_impl`: key loads stay in the loop.
            let k = core::hint::black_box(k);
            ctr_group::<R, VECS>(k, cv, &mut buf[at..at + 16 * STRIDE]);
            at += 16 * STRIDE;
        }
        while buf.len() - at >= 32 {
            ctr_group::<R, 1>(k, cv, &mut buf[at..at + 32]);
            at += 32;
        }
        if buf.len() - at == 16 {
            // One last block: the low half of the next pair.
            let bs = bswap_mask();
            let mut x = _mm256_xor_si256(_mm256_shuffle_epi8(*cv, bs), bcast(&k.round_keys[0]));
            let mut one = [x];
            aes_rounds::<R, 1>(k, &mut one);
            x = one[0];
            let ks = _mm256_castsi256_si128(x);
            store16(buf, at, _mm_xor_si128(ks, load16(buf, at)));
        }
    }
));

// ---------------------------------------------------------------------------
// The kernels.

vaes_avx2_features!(enable!(
    /// Key expansion (FIPS 197 5.2) and the hash key powers H^1..H^18.
    fn setup(k: &mut Key, key: &[u8]) {
        // SubWord through AESENCLAST with a zero round key: with the word in
        // all four columns, ShiftRows only moves equal bytes, leaving SubBytes.
        let (mut w, _) = super::key_words(key, |x| {
            let v = _mm_aesenclast_si128(_mm_set1_epi32(x as i32), _mm_setzero_si128());
            _mm_cvtsi128_si32(v) as u32
        });
        for (r, rk) in k.round_keys.iter_mut().enumerate().take(k.rounds + 1) {
            for c in 0..4 {
                rk[4 * c..4 * c + 4].copy_from_slice(&w[4 * r + c].to_le_bytes());
            }
        }
        w.zeroize();

        // H = E(K, 0^128) (SP 800-38D 6.4), reflected, times x^-1:
        // a left shift of the register with the reflected modulus folded in
        // when the x^0 coefficient (bit 127) shifts out; no branch on H.
        let mut hb = [0u8; 16];
        encrypt_block_impl(k, &mut hb);
        let h = u128::from_be_bytes(hb);
        hb.zeroize();
        let mask = 0u128.wrapping_sub(h >> 127);
        let poly = (0xc2u128 << 120) | 1;
        let h1 = (h << 1) ^ (poly & mask);
        let h1 = _mm_set_epi64x((h1 >> 64) as i64, h1 as i64);
        let mut p = h1;
        for i in (0..POWERS).rev() {
            // SAFETY: each entry is 16 writable bytes.
            unsafe { _mm_storeu_si128(k.h_powers[i].as_mut_ptr().cast(), p) };
            let halves = _mm_xor_si128(p, _mm_shuffle_epi32(p, 0x4e));
            // SAFETY: as above.
            unsafe { _mm_storeu_si128(k.h_karatsuba[i].as_mut_ptr().cast(), halves) };
            p = gf_mul(p, h1);
        }
        // p is H^17 now.
        for i in (0..2).rev() {
            let halves = _mm_xor_si128(p, _mm_shuffle_epi32(p, 0x4e));
            // SAFETY: each entry is 16 writable bytes.
            unsafe {
                _mm_storeu_si128(k.h_high[i].as_mut_ptr().cast(), p);
                _mm_storeu_si128(k.hk_high[i].as_mut_ptr().cast(), halves);
            }
            p = gf_mul(p, h1);
        }
    }
));

vaes_avx2_features!(enable!(
    #[inline]
    fn aes_block<const R: usize>(k: &Key, b: __m128i) -> __m128i {
        let mut x = _mm_xor_si128(b, load128(&k.round_keys[0]));
        for r in 1..R {
            x = _mm_aesenc_si128(x, load128(&k.round_keys[r]));
        }
        _mm_aesenclast_si128(x, load128(&k.round_keys[R]))
    }
));

vaes_avx2_features!(enable!(
    fn encrypt_block_impl(k: &Key, block: &mut [u8; 16]) {
        let b = load128(block);
        let x = match k.rounds {
            10 => aes_block::<10>(k, b),
            12 => aes_block::<12>(k, b),
            _ => aes_block::<14>(k, b),
        };
        // SAFETY: `block` is 16 writable bytes.
        unsafe { _mm_storeu_si128(block.as_mut_ptr().cast(), x) };
    }
));

vaes_avx2_features!(enable!(
    fn ghash_impl(k: &Key, acc: &mut u128, blocks: &[u8]) {
        *acc = acc_store(ghash_chunks(k, acc_load(*acc), blocks));
    }
));

vaes_avx2_features!(enable!(
    fn ctr32_impl<const R: usize>(k: &Key, ctr: &mut [u8; 16], buf: &mut [u8]) {
        let mut cv = counter_pair(ctr);
        ctr_blocks::<R>(k, &mut cv, buf);
        gcm::add32(ctr, buf.len() / 16);
    }
));

/// One bulk iteration: AES rounds 1..R of the counter blocks in `$x` (an
/// array of `ymm`, round key 0 applied) interleaved with the GHASH of the
/// whole blocks `$text` (a byte array of up to [`STRIDE`] blocks, an even
/// number, hashed from `$acc` with H^n..H^1), then the last round; evaluates
/// to the new accumulator. The GHASH multiplies ride along the first rounds,
/// one register pair per round, and the single reduction follows. The bulk
/// loop uses [`STRIDE`] blocks of each; the remainder step uses 8 blocks of
/// AES with 8 or 16 blocks of GHASH.
///
/// A macro rather than a function: LLVM declines to inline a function this
/// large into its callers, and `#[inline(always)]` cannot be combined with
/// `#[target_feature]`.
macro_rules! stitched {
    ($k:expr, $R:expr, $x:expr, $text:expr, $acc:expr) => {{
        let (k, x, text): (&Key, _, _) = ($k, $x, $text);
        let pairs = text.len() / 32;
        let bs = bswap_mask();
        let first = POWERS - 2 * pairs;
        let mut s = wide_zero();
        let mut carry = _mm256_zextsi128_si256($acc);
        for j in 0..pairs {
            let rk = bcast(&k.round_keys[j + 1]);
            for v in x.iter_mut() {
                *v = _mm256_aesenc_epi128(*v, rk);
            }
            let d = _mm256_xor_si256(_mm256_shuffle_epi8(load32(text, 32 * j), bs), carry);
            carry = _mm256_setzero_si256();
            wide_mul_add(
                &mut s,
                d,
                load_pair(&k.h_powers, first + 2 * j),
                load_pair(&k.h_karatsuba, first + 2 * j),
            );
        }
        let acc = wide_finish(s);
        for r in pairs + 1..$R {
            let rk = bcast(&k.round_keys[r]);
            for v in x.iter_mut() {
                *v = _mm256_aesenc_epi128(*v, rk);
            }
        }
        let rk = bcast(&k.round_keys[$R]);
        for v in x.iter_mut() {
            *v = _mm256_aesenclast_epi128(*v, rk);
        }
        acc
    }};
}

const _: () = assert!(VECS < 10, "GHASH steps must fit in the AES-128 rounds");

vaes_avx2_features!(enable!(
    /// `out ^= ks` for `W` register pairs of keystream (`out` is `32 * W` bytes).
    #[inline]
    fn xor_into<const W: usize>(out: &mut [u8], ks: &[__m256i; W]) {
        assert_eq!(out.len(), 32 * W);
        for (i, v) in ks.iter().enumerate() {
            let p = load32(out, 32 * i);
            store32(out, 32 * i, _mm256_xor_si256(*v, p));
        }
    }
));

/// The rest of [`seal_impl`] after the first group, for `$buf` (whole
/// blocks; its first [`STRIDE`] blocks, when it has that many, already
/// encrypted) with counters from `$cv` and the GHASH so far `$a`: CTR over
/// all later blocks, with the GHASH of all but the last at most [`POWERS`]
/// blocks. Evaluates to the GHASH and where those last, unhashed blocks
/// start. (A macro, as [`stitched`]: out of line, the same loop measured
/// 5-9% slower at 1420 B.)
macro_rules! seal_rest {
    ($k:expr, $R:expr, $cv:expr, $a:expr, $buf:expr) => {{
        const G: usize = 16 * STRIDE;
        let (k, buf): (&Key, &mut [u8]) = ($k, $buf);
        let (mut cv, mut a): (__m256i, __m128i) = ($cv, $a);
        let full = buf.len() / G * G;
        for g in 1..full / G {
            // The previous group (ciphertext, hashed now) and this one:
            // fixed-size views, so no bounds checks split the schedule.
            let (done, todo) = buf.split_at_mut(g * G);
            let prev: &[u8; G] = done[(g - 1) * G..].try_into().unwrap();
            let cur: &mut [u8; G] = (&mut todo[..G]).try_into().unwrap();
            // Key loads stay in the loop (from L1) instead of being
            // hoisted into registers: that pressure made LLVM serialize
            // the AES chains (see asm-notes/vaes-avx2.md).
            let k = core::hint::black_box(k);
            let mut x = next_counters::<VECS>(&mut cv, bcast(&k.round_keys[0]));
            a = stitched!(k, $R, &mut x, prev, a);
            xor_into(cur, &x);
        }
        // The last group's ciphertext, not hashed yet, and the blocks after.
        let mut pending = full.saturating_sub(G);
        let mut at = full;
        if full >= G && buf.len() - full >= 128 {
            // 8 more blocks: their AES stitched with the pending GHASH.
            let (done, todo) = buf.split_at_mut(full);
            let prev: &[u8; G] = done[pending..].try_into().unwrap();
            let k = core::hint::black_box(k);
            let mut x = next_counters::<4>(&mut cv, bcast(&k.round_keys[0]));
            a = stitched!(k, $R, &mut x, prev, a);
            xor_into(&mut todo[..128], &x);
            pending = full;
            at = full + 128;
        }
        // AES of the last blocks first, so it overlaps the pending GHASH.
        // (Not called for nothing: a call with its branches costs more
        // than the test, most of all when the branches are cold.)
        if at < buf.len() {
            ctr_blocks::<$R>(k, &mut cv, &mut buf[at..]);
        }
        if buf.len() - pending > 16 * POWERS {
            a = ghash_upto16(k, a, &buf[pending..at]);
            pending = at;
        }
        (a, pending)
    }};
}

vaes_avx2_features!(enable!(
    /// Seal: CTR over whole blocks with the GHASH of each group of
    /// ciphertext stitched into the AES rounds of the next group.
    fn seal_impl<const R: usize>(k: &Key, ctr: &mut [u8; 16], acc: &mut u128, buf: &mut [u8]) {
        let a = acc_load(*acc);
        let mut cv = counter_pair(ctr);
        let nblocks = buf.len() / 16;
        if buf.len() >= 16 * STRIDE {
            ctr_group::<R, VECS>(k, &mut cv, &mut buf[..16 * STRIDE]);
        }
        let (a, from) = seal_rest!(k, R, cv, a, buf);
        // The last group of a body of whole groups (TLS 1.3 records of 1
        // and 16 KiB of data) through a copy of `ghash_upto16` inlined for
        // exactly STRIDE blocks: unrolled, with no bounds checks and no
        // back-edge for the branch predictor to learn.
        let a = match <&[u8; 16 * STRIDE]>::try_from(&buf[from..]) {
            Ok(group) => ghash_upto16(k, a, group),
            Err(_) => ghash_upto16(k, a, &buf[from..]),
        };
        *acc = acc_store(a);
        gcm::add32(ctr, nblocks);
    }
));

/// One record for [`seal_chain`]: a 96-bit IV and at least [`STRIDE`] whole
/// blocks.
pub(crate) struct ChainRec<'b> {
    pub(crate) key: &'b Key,
    pub(crate) iv: &'b [u8; 12],
    pub(crate) aad: &'b [u8],
    pub(crate) buf: &'b mut [u8],
    pub(crate) tag: &'b mut [u8; 16],
}

/// The end of a record in [`seal_chain`]: the last GHASH input (SP 800-38D
/// 7.1 step 5) and the tag, left to ride the next record's first AES group.
///
/// ```text
///   T = n + t + 1 <= 18 blocks, one reduction (the key holds up to H^18):
///     B_0 .. B_{n-1}  (whole ciphertext blocks, n <= 16; the GHASH so far joins B_0)
///     [partial block, masked]   (t = 0 or 1)
///     [len(A)]_64 || [len(C)]_64
///       x H^T .. H^1, as register pairs: pair p = blocks 2p, 2p+1
/// ```
struct End<'b> {
    k: &'b Key,
    blocks: &'b [u8],
    acc: __m128i,
    tail: Option<__m128i>,
    len: __m128i,
    ek_j0: __m128i,
    tag: &'b mut [u8; 16],
}

impl End<'_> {
    /// T, the blocks of the end's GHASH.
    fn count(&self) -> usize {
        self.blocks.len() / 16 + usize::from(self.tail.is_some()) + 1
    }
}

vaes_avx2_features!(enable!(
    /// Block `i` of an end's GHASH input, register form, the accumulator
    /// joining block 0.
    #[inline]
    fn end_block(e: &End<'_>, i: usize) -> __m128i {
        let n = e.blocks.len() / 16;
        let b = if i < n {
            bswap128(load16(e.blocks, 16 * i))
        } else {
            match (i == n, e.tail) {
                (true, Some(t)) => t,
                _ => e.len,
            }
        };
        if i == 0 {
            _mm_xor_si128(b, e.acc)
        } else {
            b
        }
    }
));

vaes_avx2_features!(enable!(
    /// The key powers (H^p, H^(p-1)) for a register pair, 2 <= p <= 18, and
    /// their Karatsuba halves.
    #[inline]
    fn power_pair(k: &Key, p: usize) -> (__m256i, __m256i) {
        match p {
            18 => (load_pair2(&k.h_high), load_pair2(&k.hk_high)),
            17 => (
                _mm256_set_m128i(load128(&k.h_powers[0]), load128(&k.h_high[1])),
                _mm256_set_m128i(load128(&k.h_karatsuba[0]), load128(&k.hk_high[1])),
            ),
            _ => (
                load_pair(&k.h_powers, POWERS - p),
                load_pair(&k.h_karatsuba, POWERS - p),
            ),
        }
    }
));

vaes_avx2_features!(enable!(
    /// The entries H^18, H^17 as one register pair.
    #[inline]
    fn load_pair2(t: &[[u8; 16]; 2]) -> __m256i {
        _mm256_set_m128i(load128(&t[1]), load128(&t[0]))
    }
));

vaes_avx2_features!(enable!(
    /// GHASH step `p` of an end: its register pair `p` (if the end has one)
    /// times the matching powers, into the unreduced sums.
    #[inline]
    fn end_step(e: &End<'_>, s: &mut Wide, p: usize) {
        let t = e.count();
        if 2 * p >= t {
            return;
        }
        let k = e.k;
        let pw = t - 2 * p;
        if pw == 1 {
            // The length block alone, times H^1.
            let d = _mm256_zextsi128_si256(end_block(e, 2 * p));
            let h = _mm256_zextsi128_si256(load128(&k.h_powers[POWERS - 1]));
            let hk = _mm256_zextsi128_si256(load128(&k.h_karatsuba[POWERS - 1]));
            wide_mul_add(s, d, h, hk);
            return;
        }
        let d = if 2 * p + 2 <= e.blocks.len() / 16 {
            let d = _mm256_shuffle_epi8(load32(e.blocks, 32 * p), bswap_mask());
            if p == 0 {
                _mm256_xor_si256(d, _mm256_zextsi128_si256(e.acc))
            } else {
                d
            }
        } else {
            _mm256_set_m128i(end_block(e, 2 * p + 1), end_block(e, 2 * p))
        };
        let (h, hk) = power_pair(k, pw);
        wide_mul_add(s, d, h, hk);
    }
));

vaes_avx2_features!(enable!(
    /// An end's GHASH, alone, and its tag.
    #[inline]
    fn end_alone(e: End<'_>) {
        let mut s = wide_zero();
        for p in 0..9 {
            end_step(&e, &mut s, p);
        }
        *e.tag = make_tag(wide_finish(s), e.ek_j0);
    }
));

vaes_avx2_features!(enable!(
    /// Seals records of at least [`STRIDE`] whole blocks with 96-bit IVs
    /// (SP 800-38D 7.1), one after the other, each as [`whole_impl`] would,
    /// except at the seams: the AES rounds of a record's first group (which
    /// alone has no ciphertext to hash) carry the GHASH of the previous
    /// record's last blocks, its partial block and length block (at most 18
    /// blocks, 9 register pairs, one per round) and that record's tag.
    ///
    /// ```text
    ///   record i:  J0 | AES(group 0) ‖ end GHASH of record i-1, tag i-1
    ///              | stitched groups (seal_rest) | partial block | end i
    /// ```
    ///
    /// Every seal costs a first AES group that nothing overlaps; measured
    /// by leaving it out, about 75 cycles of a 1420-byte record.
    pub(crate) fn seal_chain<'b, const R: usize>(recs: &mut dyn Iterator<Item = ChainRec<'b>>) {
        const { assert!(R > 9, "9 GHASH steps ride the AES rounds") };
        const G: usize = 16 * STRIDE;
        let mut prev: Option<End<'b>> = None;
        for r in recs {
            let k = r.key;
            let f = Frame::new(r.iv, r.aad.len(), r.buf.len());
            let nblocks = f.blocks;
            assert!(nblocks >= STRIDE, "a record of at least one group");
            let (j0, ek_j0, tail_ks) = j0_keystream::<R>(k, &f);
            // A TLS AAD (5 or 13 bytes) is one block: one multiply by H
            // here, in line (out of line, the call was ~5% of a batch of
            // 1 KiB records on Zen 3).
            let a = match r.aad.len() {
                0 => _mm_setzero_si128(),
                1..=16 => aad_block_times_h(r.aad, load128(&k.h_powers[POWERS - 1])),
                _ => ghash_aad(k, r.aad),
            };
            let (body, tail) = r.buf.split_at_mut(16 * nblocks);

            // The first group, with the previous record's end riding along.
            let mut cv = first_counters(j0);
            let mut x = next_counters::<VECS>(&mut cv, bcast(&k.round_keys[0]));
            match prev.take() {
                Some(e) => {
                    let mut s = wide_zero();
                    for rnd in 1..R {
                        let rk = bcast(&k.round_keys[rnd]);
                        for v in x.iter_mut() {
                            *v = _mm256_aesenc_epi128(*v, rk);
                        }
                        if rnd <= 9 {
                            end_step(&e, &mut s, rnd - 1);
                        }
                    }
                    let rk = bcast(&k.round_keys[R]);
                    for v in x.iter_mut() {
                        *v = _mm256_aesenclast_epi128(*v, rk);
                    }
                    *e.tag = make_tag(wide_finish(s), e.ek_j0);
                }
                None => aes_rounds::<R, VECS>(k, &mut x),
            }
            xor_into(&mut body[..G], &x);
            let (a, from) = seal_rest!(k, R, cv, a, body);

            // The partial block (SP 800-38D 7.1 step 4: MSB of the keystream).
            let tail_block = if tail.is_empty() {
                None
            } else {
                Some(bswap128(partial::<true>(tail, tail_ks)))
            };
            let body: &'b [u8] = body;
            prev = Some(End {
                k,
                blocks: &body[from..],
                acc: a,
                tail: tail_block,
                len: from_u128(f.len),
                ek_j0,
                tag: r.tag,
            });
        }
        if let Some(e) = prev {
            end_alone(e);
        }
    }
));

vaes_avx2_features!(enable!(
    /// Open: GHASH of each group of ciphertext stitched into the AES rounds
    /// of its own keystream, then the XOR.
    fn open_impl<const R: usize>(k: &Key, ctr: &mut [u8; 16], acc: &mut u128, buf: &mut [u8]) {
        const G: usize = 16 * STRIDE;
        let mut a = acc_load(*acc);
        let mut cv = counter_pair(ctr);
        let nblocks = buf.len() / 16;
        let (main, rest) = buf.split_at_mut(buf.len() / G * G);
        for chunk in main.chunks_exact_mut(G) {
            // A fixed-size view, so no bounds checks split the schedule.
            let cur: &mut [u8; G] = chunk.try_into().unwrap();
            // As in `seal_impl`: key loads stay in the loop.
            let k = core::hint::black_box(k);
            let mut x = next_counters::<VECS>(&mut cv, bcast(&k.round_keys[0]));
            a = stitched!(k, R, &mut x, &*cur, a);
            xor_into(cur, &x);
        }
        let mut rest = rest;
        if rest.len() >= 128 {
            // 8 more blocks, stitched the same way.
            let (eight, tail) = rest.split_at_mut(128);
            let text: &mut [u8; 128] = eight.try_into().unwrap();
            let k = core::hint::black_box(k);
            let mut x = next_counters::<4>(&mut cv, bcast(&k.round_keys[0]));
            a = stitched!(k, R, &mut x, &*text, a);
            xor_into(text, &x);
            rest = tail;
        }
        if !rest.is_empty() {
            a = ghash_upto16(k, a, rest);
            ctr_blocks::<R>(k, &mut cv, rest);
        }
        *acc = acc_store(a);
        gcm::add32(ctr, nblocks);
    }
));

// ---------------------------------------------------------------------------
// Whole messages with a 96-bit IV: J0, AAD, blocks, partial block, length
// block and tag in one call (SP 800-38D 7.1 and 7.2), so a short record
// costs one AES batch and one reduction instead of a kernel call per step.
//
// ```text
//   J0 = IV || 0^31 || 1        counters inc32(J0) = IV || 2, 3, ...
//   one register pair:  [ J0 | IV || (2 + n) ]  ->  E(K, J0) for the tag,
//                                                   keystream of the partial block
//   GHASH: groups of 16 stitched as above, then one sum over
//          [AAD block, when short] || blocks not hashed yet || partial block || length block
//          times H^k..H^1 with a single reduction
//   T  = E(K, J0) ^ S
// ```

vaes_avx2_features!(enable!(
    /// The GHASH of an AAD of 1..=16 bytes (one zero-padded block) from a
    /// zero state: the block times H, given as `h1` (the key's power
    /// entry for H^1, in the register form both AVX keys store).
    #[inline]
    pub(crate) fn aad_block_times_h(aad: &[u8], h1: __m128i) -> __m128i {
        debug_assert!((1..=16).contains(&aad.len()));
        gf_mul(bswap128(from_u128(gcm::aad_block(aad))), h1)
    }
));

vaes_avx2_features!(enable!(
    /// Byte reversal of one block: GCM block order <-> register form.
    #[inline]
    pub(crate) fn bswap128(v: __m128i) -> __m128i {
        _mm_shuffle_epi8(v, _mm256_castsi256_si128(bswap_mask()))
    }
));

vaes_avx2_features!(enable!(
    /// A block image from the framing module (the little-endian `u128` of
    /// its 16 bytes) into a register, without going through memory.
    #[inline]
    pub(crate) fn from_u128(v: u128) -> __m128i {
        _mm_set_epi64x((v >> 64) as i64, v as i64)
    }
));

vaes_avx2_features!(enable!(
    /// A register as the little-endian `u128` of its 16 bytes.
    #[inline]
    pub(crate) fn to_u128(v: __m128i) -> u128 {
        let lo = _mm_cvtsi128_si64(v) as u64;
        let hi = _mm_extract_epi64::<1>(v) as u64;
        u128::from(hi) << 64 | u128::from(lo)
    }
));

vaes_avx2_features!(enable!(
    /// [`gcm::read_partial`] into a register.
    #[inline]
    pub(crate) fn load_partial(part: &[u8]) -> __m128i {
        from_u128(gcm::read_partial(part))
    }
));

vaes_avx2_features!(enable!(
    /// [`gcm::write_partial`] from a register.
    #[inline]
    pub(crate) fn store_partial(part: &mut [u8], v: __m128i) {
        gcm::write_partial(part, to_u128(v));
    }
));

vaes_avx2_features!(enable!(
    /// The partial last block (SP 800-38D 7.1 step 4, 7.2 step 6) in
    /// registers, with the framing's byte access ([`gcm::read_partial`] /
    /// [`gcm::write_partial`]) and mask ([`gcm::keep_mask`]): XORs the
    /// keystream `ks` into the `tail.len() < 16` bytes of `tail` and returns
    /// the ciphertext zero-padded to a block, the GHASH input (on seal the
    /// output masked, on open the input). The text's load does not wait for
    /// the keystream, so only an XOR (and an AND) follow the last AES round;
    /// the scalar `gcm::seal_tail` moved the keystream to general registers
    /// and back on that path (1420-byte seals measured 2-5% slower).
    #[inline]
    fn partial<const SEAL: bool>(tail: &mut [u8], ks: __m128i) -> __m128i {
        let i = load_partial(tail);
        let o = _mm_xor_si128(i, ks);
        store_partial(tail, o);
        if SEAL {
            _mm_and_si128(o, load16(gcm::keep_mask(tail.len(), 16), 0))
        } else {
            i
        }
    }
));

vaes_avx2_features!(enable!(
    /// GHASH of whole blocks from `acc`, up to [`POWERS`] per reduction.
    /// (Kept out of line, so the short-record path it branches around stays
    /// small enough for LLVM to inline.)
    #[inline(never)]
    fn ghash_chunks(k: &Key, acc: __m128i, data: &[u8]) -> __m128i {
        let mut a = acc;
        for chunk in data.chunks(16 * POWERS) {
            a = ghash_upto16(k, a, chunk);
        }
        a
    }
));

vaes_avx2_features!(enable!(
    /// GHASH of the AAD zero-padded to whole blocks (SP 800-38D 7.1 step 5).
    /// The last (or only) partial block is read into a register and
    /// multiplied there: staged through a 16-byte array it was written by
    /// narrow stores and read back by one wide load, which cannot be
    /// store-forwarded. (Kept out of line, so the short-record path it
    /// branches around stays small enough for LLVM to inline.)
    #[inline(never)]
    pub(crate) fn ghash_aad(k: &Key, aad: &[u8]) -> __m128i {
        let whole = aad.len() & !15;
        let mut a = _mm_setzero_si128();
        if whole > 0 {
            a = ghash_chunks(k, a, &aad[..whole]);
        }
        if whole < aad.len() {
            let d = _mm_xor_si128(bswap128(from_u128(gcm::aad_block(&aad[whole..]))), a);
            let mut s = wide_zero();
            wide_mul_add(
                &mut s,
                _mm256_zextsi128_si256(d),
                _mm256_zextsi128_si256(load128(&k.h_powers[POWERS - 1])),
                _mm256_zextsi128_si256(load128(&k.h_karatsuba[POWERS - 1])),
            );
            a = wide_finish(s);
        }
        a
    }
));

vaes_avx2_features!(enable!(
    /// Absorbs one register pair into the unreduced sums, times the key
    /// powers at `h_powers[*p]`, `h_powers[*p + 1]`; the accumulator in
    /// `carry` joins the first pair (low half) and is cleared.
    #[inline]
    fn absorb_pair(k: &Key, s: &mut Wide, carry: &mut __m256i, p: &mut usize, d: __m256i) {
        let d = _mm256_xor_si256(d, *carry);
        *carry = _mm256_setzero_si256();
        wide_mul_add(
            s,
            d,
            load_pair(&k.h_powers, *p),
            load_pair(&k.h_karatsuba, *p),
        );
        *p += 2;
    }
));

vaes_avx2_features!(enable!(
    /// T = E(K, J0) ^ S (SP 800-38D 7.1 step 6, full 16 bytes) from the
    /// GHASH `s` in register form, stored with one 16-byte store (see
    /// [`gcm::tag`]).
    #[inline]
    pub(crate) fn make_tag(s: __m128i, ek_j0: __m128i) -> [u8; 16] {
        let mut tag = [0u8; 16];
        // SAFETY: `tag` is 16 writable bytes.
        unsafe { _mm_storeu_si128(tag.as_mut_ptr().cast(), _mm_xor_si128(bswap128(s), ek_j0)) };
        tag
    }
));

vaes_avx2_features!(enable!(
    /// The first counter pair [inc32(J0), inc32(inc32(J0))] in byte-swapped form.
    #[inline]
    fn first_counters(j0: __m128i) -> __m256i {
        let c = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(j0), bswap_mask());
        _mm256_add_epi32(c, _mm256_set_epi32(0, 0, 0, 2, 0, 0, 0, 1))
    }
));

vaes_avx2_features!(enable!(
    /// J0 of the frame (SP 800-38D 7.1 step 2) in a register, E(K, J0) and
    /// the keystream of the partial block ([`Frame::tail_ctr`]): one AES
    /// chain on one register pair, independent of the data, so it overlaps
    /// everything else.
    #[inline]
    fn j0_keystream<const R: usize>(k: &Key, f: &Frame) -> (__m128i, __m128i, __m128i) {
        let j0 = from_u128(f.j0);
        // The counter field is the last 32-bit lane, big-endian.
        let last = _mm_insert_epi32::<3>(j0, i32::from_ne_bytes(f.tail_ctr().to_be_bytes()));
        let mut x = [_mm256_xor_si256(
            _mm256_set_m128i(last, j0),
            bcast(&k.round_keys[0]),
        )];
        aes_rounds::<R, 1>(k, &mut x);
        (
            j0,
            _mm256_castsi256_si128(x[0]),
            _mm256_extracti128_si256::<1>(x[0]),
        )
    }
));

vaes_avx2_features!(enable!(
    /// Seal (`SEAL`) or open with a 96-bit IV, start to tag, in place;
    /// returns the full tag (on open the expected one: the framing compares
    /// it and wipes `buf` on a mismatch). One function, so LLVM sees the
    /// short-record path whole: the last GHASH is written out here rather
    /// than in helpers it would not inline.
    fn whole_impl<const R: usize, const SEAL: bool>(
        k: &Key,
        iv: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; 16] {
        let f = &Frame::new(iv, aad.len(), buf.len());
        let nblocks = f.blocks;
        let (j0, ek_j0, tail_ks) = j0_keystream::<R>(k, f);

        let (body, tail) = buf.split_at_mut(16 * nblocks);
        // Blocks of the last GHASH after the ones of `body`: the partial
        // block and the length block.
        let singles = usize::from(!tail.is_empty()) + 1;
        // AAD of one block, with a record short enough that everything fits
        // one reduction, joins the last GHASH as its first block ("lead");
        // other AAD is hashed now.
        let mut acc = _mm_setzero_si128();
        let mut lead = None;
        if !aad.is_empty() && aad.len() <= 16 && nblocks + singles < POWERS {
            lead = Some(bswap128(from_u128(gcm::aad_block(aad))));
        } else if !aad.is_empty() && aad.len() <= 16 {
            // One block (a TLS record header): one product here, no call.
            acc = aad_block_times_h(aad, load128(&k.h_powers[POWERS - 1]));
        } else {
            acc = ghash_aad(k, aad);
        }

        // Whole groups of STRIDE blocks and the 8-block step after them
        // through the bulk kernels (their loops compile best as they are;
        // see asm-notes/vaes-avx2.md); `done` is where the blocks left for
        // the last step start.
        let mut cv = first_counters(j0);
        let mut done = 0;
        // Whether the blocks after the bulk are already encrypted.
        let mut early = false;
        if body.len() >= 16 * STRIDE {
            let full = body.len() / (16 * STRIDE) * (16 * STRIDE);
            done = if body.len() - full >= 128 {
                full + 128
            } else {
                full
            };
            if SEAL && done < body.len() {
                // CTR over the 1..=7 whole blocks after the bulk first:
                // their AES depends on nothing, so it overlaps the bulk
                // kernel instead of delaying the last GHASH (measured: 1424
                // and 1440 B 7-9% faster, 272 and 288 B 15-19%). Their
                // counters follow the bulk's `done / 16` blocks.
                let n = (done / 16) as i32;
                let mut lcv = _mm256_add_epi32(cv, _mm256_set_epi32(0, 0, 0, n, 0, 0, 0, n));
                ctr_blocks::<R>(k, &mut lcv, &mut body[done..]);
                early = true;
            }
            let mut ctr = f.first_counter_bytes();
            let mut a = acc_store(acc);
            if SEAL {
                seal_impl::<R>(k, &mut ctr, &mut a, &mut body[..done]);
            } else {
                open_impl::<R>(k, &mut ctr, &mut a, &mut body[..done]);
            }
            acc = acc_load(a);
            cv = counter_pair(&ctr);
        }
        let mut tail_block = None;
        if SEAL {
            if !early && done < body.len() {
                ctr_blocks::<R>(k, &mut cv, &mut body[done..]);
            }
            if !tail.is_empty() {
                tail_block = Some(bswap128(partial::<true>(tail, tail_ks)));
            }
        } else if !tail.is_empty() {
            tail_block = Some(bswap128(partial::<false>(tail, tail_ks)));
        }

        // The last GHASH (SP 800-38D 7.1 step 5): [lead] || body[done..] ||
        // [partial block] || length block, times H^n..H^1, one reduction;
        // leading blocks beyond POWERS are hashed ahead.
        let mut data: &[u8] = &body[done..];
        let leads = usize::from(lead.is_some());
        if data.len() / 16 + leads + singles > POWERS {
            debug_assert!(lead.is_none());
            let (ahead, rest) = data.split_at(16 * (data.len() / 16 + singles - POWERS));
            acc = ghash_chunks(k, acc, ahead);
            data = rest;
        }
        let mut p = POWERS - (data.len() / 16 + leads + singles);
        let mut carry = _mm256_zextsi128_si256(acc);
        let mut s = wide_zero();
        let mut at = 0;
        let mut odd = None;
        if let Some(l) = lead {
            if data.is_empty() {
                odd = Some(l);
            } else {
                let d = _mm256_set_m128i(bswap128(load16(data, 0)), l);
                absorb_pair(k, &mut s, &mut carry, &mut p, d);
                at = 16;
            }
        }
        let bs = bswap_mask();
        while data.len() - at >= 32 {
            let d = _mm256_shuffle_epi8(load32(data, at), bs);
            absorb_pair(k, &mut s, &mut carry, &mut p, d);
            at += 32;
        }
        if at < data.len() {
            odd = Some(bswap128(load16(data, at)));
        }
        let len = from_u128(f.len);
        let mut len_alone = true;
        match (odd, tail_block) {
            (Some(o), Some(t)) => {
                absorb_pair(k, &mut s, &mut carry, &mut p, _mm256_set_m128i(t, o));
            }
            (Some(b), None) | (None, Some(b)) => {
                absorb_pair(k, &mut s, &mut carry, &mut p, _mm256_set_m128i(len, b));
                len_alone = false;
            }
            (None, None) => {}
        }
        if len_alone {
            // The length block times H^1, in the low half.
            debug_assert_eq!(p, POWERS - 1);
            let d = _mm256_xor_si256(_mm256_zextsi128_si256(len), carry);
            let h = _mm256_zextsi128_si256(load128(&k.h_powers[POWERS - 1]));
            let hk = _mm256_zextsi128_si256(load128(&k.h_karatsuba[POWERS - 1]));
            wide_mul_add(&mut s, d, h, hk);
        }
        let tag = make_tag(wide_finish(s), ek_j0);
        if !SEAL && done < body.len() {
            // Decrypt after the GHASH has read the ciphertext.
            ctr_blocks::<R>(k, &mut cv, &mut body[done..]);
        }
        tag
    }
));

/// The accumulator (a byte-reflected register value) into a register.
#[inline(always)]
fn acc_load(acc: u128) -> __m128i {
    // SAFETY: SSE2 is part of the x86_64 baseline; u128 and __m128i have the
    // same size, and the little-endian image of `acc` is the register.
    unsafe { _mm_loadu_si128((&acc as *const u128).cast()) }
}

#[inline(always)]
fn acc_store(a: __m128i) -> u128 {
    let mut out = 0u128;
    // SAFETY: as in `acc_load`; `out` is 16 writable bytes.
    unsafe { _mm_storeu_si128((&mut out as *mut u128).cast(), a) };
    out
}

impl Kernel for Key {
    /// The GHASH value as its byte-reflected register (`u128::from_be_bytes`
    /// of the SP 800-38D block).
    type Acc = u128;

    fn acc_zero(&self) -> u128 {
        0
    }

    fn acc_bytes(&self, acc: u128) -> [u8; 16] {
        acc.to_be_bytes()
    }

    fn ghash(&self, acc: &mut u128, blocks: &[u8]) {
        debug_assert_eq!(blocks.len() % 16, 0);
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof.
        unsafe { ghash_impl(self, acc, blocks) }
    }

    fn encrypt_block(&self, block: &mut [u8; 16]) {
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof.
        unsafe { encrypt_block_impl(self, block) }
    }

    fn ctr32(&self, ctr: &mut [u8; 16], buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof.
        unsafe {
            match self.rounds {
                10 => ctr32_impl::<10>(self, ctr, buf),
                12 => ctr32_impl::<12>(self, ctr, buf),
                _ => ctr32_impl::<14>(self, ctr, buf),
            }
        }
    }

    fn seal_blocks(&self, ctr: &mut [u8; 16], acc: &mut u128, buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof.
        unsafe {
            match self.rounds {
                10 => seal_impl::<10>(self, ctr, acc, buf),
                12 => seal_impl::<12>(self, ctr, acc, buf),
                _ => seal_impl::<14>(self, ctr, acc, buf),
            }
        }
    }

    fn open_blocks(&self, ctr: &mut [u8; 16], acc: &mut u128, buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof.
        unsafe {
            match self.rounds {
                10 => open_impl::<10>(self, ctr, acc, buf),
                12 => open_impl::<12>(self, ctr, acc, buf),
                _ => open_impl::<14>(self, ctr, acc, buf),
            }
        }
    }

    fn seal_whole(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof.
        Some(unsafe {
            match self.rounds {
                10 => whole_impl::<10, true>(self, iv, aad, buf),
                12 => whole_impl::<12, true>(self, iv, aad, buf),
                _ => whole_impl::<14, true>(self, iv, aad, buf),
            }
        })
    }

    fn open_whole(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof.
        Some(unsafe {
            match self.rounds {
                10 => whole_impl::<10, false>(self, iv, aad, buf),
                12 => whole_impl::<12, false>(self, iv, aad, buf),
                _ => whole_impl::<14, false>(self, iv, aad, buf),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{portable, AesGcm, Backend, Kernel};
    use super::{POWERS, STRIDE};
    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// The proof token, or a loud note that this CPU cannot run the tests.
    fn token() -> Option<crate::cpu::VaesAvx2> {
        let t = crate::cpu::VaesAvx2::get();
        if t.is_none() {
            // Straight to the stderr handle: libtest hides `eprintln!` of
            // passing tests.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED on this CPU: vaes-avx2 not available (needs avx2, vaes, vpclmulqdq)"
            );
        }
        t
    }

    fn compare(
        rng: &mut ChaCha20Rng,
        key: &[u8],
        nonce: &[u8],
        len: usize,
        aad_len: usize,
        offset: usize,
    ) {
        super::super::kernel_tests::compare(
            Backend::VaesAvx2,
            rng,
            key,
            nonce,
            len,
            aad_len,
            offset,
        );
    }

    #[test]
    fn every_length_to_300_and_random_to_4100() {
        if token().is_none() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for key_len in [16, 24, 32] {
            let mut key = vec![0u8; key_len];
            rng.fill_bytes(&mut key);
            let mut nonce = [0u8; 12];
            rng.fill_bytes(&mut nonce);
            for len in 0..=300 {
                let offset = len % 16;
                compare(&mut rng, &key, &nonce, len, 13, offset);
            }
            for _ in 0..20 {
                let len = rng.gen_range(0..=4100);
                let aad_len = rng.gen_range(0..=600);
                let offset = rng.gen_range(0..16);
                compare(&mut rng, &key, &nonce, len, aad_len, offset);
            }
        }
    }

    /// The whole-message path (96-bit IV): every length 0..=600 (no tail
    /// and every tail length, short records whose AAD joins the last GHASH,
    /// and the first groups) at every alignment offset, AAD lengths around
    /// the one-block cut, against `portable`, both directions; plus a
    /// tampered ciphertext byte (the partial block included) and a
    /// truncated tag.
    #[test]
    fn whole_message_path_every_length_to_600_at_every_offset() {
        if token().is_none() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let aad_lens = [13, 0, 16, 17, 1, 32, 45, 15];
        for key_len in [16, 24, 32] {
            let mut key = vec![0u8; key_len];
            rng.fill_bytes(&mut key);
            let fast = AesGcm::with_backend(&key, Backend::VaesAvx2).unwrap();
            for len in 0..=600 {
                for offset in 0..16 {
                    let aad_len = aad_lens[(len + offset) % aad_lens.len()];
                    let nonce: [u8; 12] = rng.gen();
                    compare(&mut rng, &key, &nonce, len, aad_len, offset);
                    if len == 0 {
                        continue;
                    }
                    // A flipped ciphertext bit (the last byte: the partial
                    // block when there is one) must fail and wipe.
                    let mut aad = vec![0u8; aad_len];
                    rng.fill_bytes(&mut aad);
                    let mut storage = vec![0u8; len + offset];
                    rng.fill_bytes(&mut storage);
                    let buf = &mut storage[offset..];
                    let tag = fast.seal_in_place_detached(&nonce, &aad, buf).unwrap();
                    let mut short = buf.to_vec();
                    fast.open_in_place_detached(&nonce, &aad, &mut short, &tag[..12])
                        .unwrap();
                    let at = if rng.gen() {
                        len - 1
                    } else {
                        rng.gen_range(0..len)
                    };
                    buf[at] ^= 1 << rng.gen_range(0..8);
                    assert!(fast
                        .open_in_place_detached(&nonce, &aad, buf, &tag)
                        .is_err());
                    assert!(buf.iter().all(|&b| b == 0), "wiped, len {len}");
                }
            }
        }
    }

    #[test]
    fn lengths_straddling_the_strides_at_every_offset() {
        if token().is_none() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut lens = Vec::new();
        // The bulk stride, the GHASH chunk (POWERS blocks), the 8-block
        // remainder step and the register pair, in blocks and in bytes.
        for stride in [STRIDE, POWERS, 8, 2] {
            for k in 1..=3 {
                let n = k * stride;
                for blocks in [n - 1, n, n + 1] {
                    lens.extend([16 * blocks - 1, 16 * blocks, 16 * blocks + 1]);
                }
                lens.extend([n - 1, n, n + 1]);
            }
        }
        for key_len in [16, 24, 32] {
            let mut key = vec![0u8; key_len];
            rng.fill_bytes(&mut key);
            let nonce: [u8; 12] = rng.gen();
            for &len in &lens {
                for offset in 0..16 {
                    compare(&mut rng, &key, &nonce, len, offset, offset);
                }
            }
        }
    }

    #[test]
    fn aad_lengths_and_nonce_lengths() {
        if token().is_none() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let key: [u8; 16] = rng.gen();
        for aad_len in (0..=300).chain([511, 512, 513, 1024]) {
            compare(&mut rng, &key, &[7u8; 12], 33, aad_len, 0);
        }
        for nonce_len in [1, 8, 15, 16, 17, 31, 32, 33, 64, 255, 256, 300] {
            let mut nonce = vec![0u8; nonce_len];
            rng.fill_bytes(&mut nonce);
            compare(&mut rng, &key, &nonce, 200, 13, 0);
        }
    }

    /// The kernel itself against `portable`'s from a counter block just
    /// below the 32-bit wrap: inc32 wraps to 0 a few blocks in (at every
    /// position inside a bulk iteration and in the tail) and must not carry
    /// into the upper 96 bits (SP 800-38D 6.2).
    #[test]
    fn counter_wraps_like_inc32_in_the_kernel() {
        let Some(cpu) = token() else { return };
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        for key_len in [16, 24, 32] {
            let mut key = vec![0u8; key_len];
            rng.fill_bytes(&mut key);
            let fast = super::Key::new(&key, cpu).unwrap();
            let slow = portable::Key::new(&key).unwrap();
            for before_wrap in 1..=(STRIDE as u32 + 2) {
                for blocks in [1, 2, 3, STRIDE - 1, STRIDE, STRIDE + 1, 3 * STRIDE + 5] {
                    let mut ctr: [u8; 16] = rng.gen();
                    ctr[12..].copy_from_slice(&0u32.wrapping_sub(before_wrap).to_be_bytes());
                    let mut data = vec![0u8; 16 * blocks];
                    rng.fill_bytes(&mut data);
                    let seed: [u8; 16] = rng.gen();
                    type Op<K> = fn(&K, &mut [u8; 16], &mut <K as Kernel>::Acc, &mut [u8]);
                    let ops: [(Op<super::Key>, Op<portable::Key>); 2] = [
                        (
                            <super::Key as Kernel>::seal_blocks,
                            <portable::Key as Kernel>::seal_blocks,
                        ),
                        (
                            <super::Key as Kernel>::open_blocks,
                            <portable::Key as Kernel>::open_blocks,
                        ),
                    ];
                    for (f, s) in ops {
                        let (mut c1, mut c2) = (ctr, ctr);
                        let (mut d1, mut d2) = (data.clone(), data.clone());
                        let mut a1 = fast.acc_zero();
                        let mut a2 = slow.acc_zero();
                        fast.ghash(&mut a1, &seed);
                        slow.ghash(&mut a2, &seed);
                        f(&fast, &mut c1, &mut a1, &mut d1);
                        s(&slow, &mut c2, &mut a2, &mut d2);
                        assert_eq!(d1, d2, "data, {before_wrap} before wrap, {blocks} blocks");
                        assert_eq!(c1, c2, "counter, {before_wrap} before wrap");
                        assert_eq!(fast.acc_bytes(a1), slow.acc_bytes(a2), "ghash");
                    }
                    let (mut c1, mut c2) = (ctr, ctr);
                    let (mut d1, mut d2) = (data.clone(), data.clone());
                    fast.ctr32(&mut c1, &mut d1);
                    slow.ctr32(&mut c2, &mut d2);
                    assert_eq!(d1, d2, "ctr32 data");
                    assert_eq!(c1, c2, "ctr32 counter");
                }
            }
        }
    }

    #[test]
    fn best_backend_is_vaes_avx2_where_the_cpu_has_it_without_fast_zmm() {
        let has = std::arch::is_x86_feature_detected!("vaes")
            && std::arch::is_x86_feature_detected!("vpclmulqdq")
            && std::arch::is_x86_feature_detected!("avx2");
        assert_eq!(Backend::VaesAvx2.is_available(), has);
        // Where vaes-avx512 runs and the clock does not drop with zmm, it
        // is the default instead (its own test checks that).
        let zmm = Backend::VaesAvx512.is_available() && !crate::cpu::zmm_downclocks();
        if has && !zmm {
            assert_eq!(Backend::best(), Backend::VaesAvx2);
            let k = AesGcm::new(&[0u8; 16]);
            if Backend::chosen() == Ok(Backend::best()) {
                assert_eq!(k.unwrap().backend(), Backend::VaesAvx2);
            }
        }
    }
}
