//! x86_64 AES-NI + PCLMULQDQ AES-GCM on 128-bit registers (SP 800-38D).
//!
//! The bulk loop is "stitched": eight counter blocks are in flight, and while
//! their AES rounds run, the carry-less multiplications that absorb the
//! previous eight ciphertext blocks into GHASH are issued between the rounds,
//! so the AES units and the multiplier work at the same time.
//!
//! ```text
//!   seal, group g:   AES(ctr+8g .. ctr+8g+7)   interleaved with   GHASH(C[8(g-1) .. 8g-1])
//!   open, group g:   AES(ctr+8g .. ctr+8g+7)   interleaved with   GHASH(C[8g .. 8g+7])
//!
//!   GHASH of 8 blocks, one reduction (SP 800-38D 6.4, aggregated):
//!     acc' = (acc ^ X0)*H^8 ^ X1*H^7 ^ ... ^ X7*H^1
//! ```
//!
//! GHASH representation (the byte-reflected technique of Gueron and Kounavis,
//! "Intel Carry-Less Multiplication Instruction and its Usage for Computing
//! the GCM Mode"): each 16-byte block is byte-reversed into a register, so
//! register bit k holds the coefficient of x^(127-k) of SP 800-38D's field
//! element. For such bit-reflected operands the 256-bit carry-less product
//! is the reflection of `a*b*x`; the key is therefore stored as
//! `H' = H * x^-1 mod P`, and then `clmul(a, H')` reflects `a*H` exactly.
//! The 256-bit product is reduced modulo the reflected polynomial
//! `1 + y^121 + y^126 + y^127 + y^128` by two 64-bit Montgomery-style folds,
//! each one PCLMULQDQ with the constant `0xc200_0000_0000_0000`:
//!
//! ```text
//!   T = [T3 T2 T1 T0]  (T0: the highest degrees of the product)
//!   fold T0:  [T2 T1] ^= T0 * 0xc2.., T2 ^= T0     (adds T0 * P*(y))
//!   fold T1:  [T3 T2] ^= T1 * 0xc2.., T3 ^= T1
//!   result = [T3 T2]
//! ```
//!
//! Products of eight blocks use Karatsuba (three multiplications each) with
//! the precomputed `hi ^ lo` halves of H^1..H^8, summed unreduced, and one
//! reduction per group.
//!
//! The 32-bit counter (inc32, SP 800-38D 6.2) is kept byte-reversed in a
//! register, where it is the low 32-bit lane: `paddd` on that lane wraps
//! modulo 2^32 and never carries into the other 96 bits, which is inc32
//! exactly, also when the counter wraps in the middle of a group.

use super::{Error, Kernel};
use crate::cpu::AesClmul;
use core::arch::x86_64::*;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Blocks in flight in the stitched loop.
const LANES: usize = 8;

/// Expanded AES key and the GHASH key powers, for AES-128/192/256.
///
/// Holding one proves the CPU has AES-NI, PCLMULQDQ and SSE4.1 (it can only
/// be built with a [`AesClmul`] token). Zeroized on drop; no `Debug`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Key {
    /// Round keys 0..=rounds in the byte order AESENC takes (FIPS 197 words
    /// w[4r..4r+4] laid out as bytes); unused entries are zero.
    round_keys: [__m128i; 15],
    /// 10, 12 or 14.
    rounds: usize,
    /// `h[k]` = (H^(k+1))' = H^(k+1) * x^-1 mod P, byte-reflected.
    h: [__m128i; LANES],
    /// `hk[k]` = `h[k].hi ^ h[k].lo` in both 64-bit halves (Karatsuba).
    hk: [__m128i; LANES],
}

#[allow(
    dead_code,
    reason = "the accessors are the interface of the multi-lane batch kernel"
)]
impl Key {
    /// Expands `key` (16, 24 or 32 bytes); the token proves the CPU can run it.
    pub(crate) fn new(key: &[u8], _cpu: AesClmul) -> Result<Key, Error> {
        super::check_key(key)?;
        // SAFETY: the `AesClmul` token proves every feature of the
        // `aesni_clmul_features!` list is present.
        Ok(unsafe { expand(key) })
    }

    /// The number of AES rounds: 10, 12 or 14.
    pub(crate) fn rounds(&self) -> usize {
        self.rounds
    }

    /// Round keys `0..=rounds()` as AESENC / AESENCLAST take them (the
    /// standard FIPS 197 byte order); for multi-lane kernels.
    pub(crate) fn round_keys(&self) -> &[__m128i] {
        &self.round_keys[..=self.rounds]
    }

    /// Round key `r` as 16 bytes.
    pub(crate) fn round_key_bytes(&self, r: usize) -> [u8; 16] {
        let mut out = [0u8; 16];
        // SAFETY: `out` is 16 writable bytes; SSE2 is part of x86_64.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), self.round_keys[r]) };
        out
    }

    /// GHASH key powers `(H^k)' = H^k * x^-1` for k = 1..=8 (index k-1),
    /// byte-reflected, the form [`clmul_reduce`]-style products expect;
    /// and their Karatsuba halves `hi ^ lo` (in both 64-bit lanes).
    pub(crate) fn h_powers(&self) -> (&[__m128i; LANES], &[__m128i; LANES]) {
        (&self.h, &self.hk)
    }

    /// Encrypts one block with AES (for E(K, J0), tails, and other kernels).
    pub(crate) fn encrypt_block_raw(&self, block: &mut [u8; 16]) {
        // SAFETY: a `Key` exists only on a CPU with the feature list (token).
        unsafe {
            let e = aes_block(&self.round_keys, self.rounds, load(block));
            store(block, e);
        }
    }

    /// CTR mode over whole blocks with inc32 counters starting at `ctr`;
    /// `ctr` is left at the next unused counter (SP 800-38D 6.5 GCTR).
    pub(crate) fn ctr32_raw(&self, ctr: &mut [u8; 16], buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: a `Key` exists only on a CPU with the feature list (token).
        unsafe {
            let mut c = load_ctr(ctr);
            ctr_blocks(self, &mut c, buf);
            store_ctr(ctr, c);
        }
    }
}

aesni_clmul_features!(enable!(
    /// Key expansion (FIPS 197 section 5.2) with SubWord computed by
    /// AESENCLAST on a broadcast word (ShiftRows permutes equal columns, so it
    /// is the identity there), then H = E(K, 0^128) and its powers.
    fn expand(key: &[u8]) -> Key {
        let nk = key.len() / 4;
        let rounds = nk + 6;
        let total = 4 * (rounds + 1);
        let mut w = [0u32; 60];
        for (i, word) in key.chunks_exact(4).enumerate() {
            w[i] = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        }
        let mut rcon = 1u32;
        for i in nk..total {
            let mut temp = w[i - 1];
            if i % nk == 0 {
                // RotWord on little-endian bytes [a0 a1 a2 a3] -> [a1 a2 a3 a0].
                temp = sub_word(temp.rotate_right(8)) ^ rcon;
                // xtime in GF(2^8): the next Rcon.
                rcon = (rcon << 1) ^ (0x11b & 0u32.wrapping_sub(rcon >> 7));
            } else if nk > 6 && i % nk == 4 {
                temp = sub_word(temp);
            }
            w[i] = w[i - nk] ^ temp;
        }
        let mut round_keys = [_mm_setzero_si128(); 15];
        for (r, rk) in round_keys.iter_mut().enumerate().take(rounds + 1) {
            *rk = _mm_set_epi32(
                w[4 * r + 3] as i32,
                w[4 * r + 2] as i32,
                w[4 * r + 1] as i32,
                w[4 * r] as i32,
            );
        }
        w.zeroize();

        let h_plain = aes_block(&round_keys, rounds, _mm_setzero_si128());
        let h1 = h_times_x_inv(bswap(h_plain));
        let mut h = [h1; LANES];
        for k in 1..LANES {
            h[k] = gf_mul(h[k - 1], h1);
        }
        let mut hk = [_mm_setzero_si128(); LANES];
        for k in 0..LANES {
            hk[k] = _mm_xor_si128(h[k], _mm_shuffle_epi32::<0x4e>(h[k]));
        }
        Key {
            round_keys,
            rounds,
            h,
            hk,
        }
    }
));

aesni_clmul_features!(enable!(
    /// SubWord (FIPS 197 5.2): the S-box on each byte of a word.
    fn sub_word(x: u32) -> u32 {
        let v = _mm_aesenclast_si128(_mm_set1_epi32(x as i32), _mm_setzero_si128());
        _mm_cvtsi128_si32(v) as u32
    }
));

aesni_clmul_features!(enable!(
    /// Reverses the 16 bytes of a register (GCM block <-> reflected element).
    #[inline]
    fn bswap(x: __m128i) -> __m128i {
        let rev = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        _mm_shuffle_epi8(x, rev)
    }
));

aesni_clmul_features!(enable!(
    /// `h * x^-1 mod P` on a byte-reflected element: a one-bit left shift of
    /// the 128-bit register; when the x^0 coefficient (bit 127) falls out,
    /// `P / x = x^127 + x^6 + x + 1` is added, which reflects to
    /// `0xc2000000_00000000_00000000_00000001`.
    #[inline]
    fn h_times_x_inv(h: __m128i) -> __m128i {
        // 128-bit shift left by one: shift each 64-bit lane, carry lane 0's
        // top bit into lane 1.
        let carry = _mm_srli_epi64::<63>(h);
        let shifted = _mm_or_si128(_mm_slli_epi64::<1>(h), _mm_slli_si128::<8>(carry));
        // All ones when bit 127 was set: broadcast the top dword's sign.
        let top = _mm_srai_epi32::<31>(_mm_shuffle_epi32::<0xff>(h));
        let poly = _mm_set_epi32(0xc200_0000_u32 as i32, 0, 0, 1);
        _mm_xor_si128(shifted, _mm_and_si128(top, poly))
    }
));

aesni_clmul_features!(enable!(
    /// Reduces the 256-bit reflected product `[hi : lo]` modulo P (two
    /// 64-bit folds; see the module comment).
    #[inline]
    fn reduce(lo: __m128i, hi: __m128i) -> __m128i {
        let poly = _mm_set_epi32(0, 0, 0xc200_0000_u32 as i32, 0);
        let t = _mm_clmulepi64_si128::<0x00>(lo, poly);
        let lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
        let t = _mm_clmulepi64_si128::<0x00>(lo, poly);
        let lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
        _mm_xor_si128(hi, lo)
    }
));

aesni_clmul_features!(enable!(
    /// `a * b'` with one reduction (Karatsuba, 3 multiplications).
    #[inline]
    fn gf_mul(a: __m128i, b: __m128i) -> __m128i {
        let mut acc = Unreduced::new();
        let bk = _mm_xor_si128(b, _mm_shuffle_epi32::<0x4e>(b));
        acc.mul_add(a, b, bk);
        acc.reduce()
    }
));

/// Sum of unreduced Karatsuba products: low, high and middle 128-bit parts.
#[derive(Clone, Copy)]
struct Unreduced {
    lo: __m128i,
    hi: __m128i,
    mid: __m128i,
}

impl Unreduced {
    aesni_clmul_features!(enable!(
        #[inline]
        fn new() -> Unreduced {
            Unreduced {
                lo: _mm_setzero_si128(),
                hi: _mm_setzero_si128(),
                mid: _mm_setzero_si128(),
            }
        }
    ));

    aesni_clmul_features!(enable!(
        /// Adds `x * h` where `hk` holds `h.hi ^ h.lo` in its low half.
        #[inline]
        fn mul_add(&mut self, x: __m128i, h: __m128i, hk: __m128i) {
            let xk = _mm_xor_si128(x, _mm_shuffle_epi32::<0x4e>(x));
            self.lo = _mm_xor_si128(self.lo, _mm_clmulepi64_si128::<0x00>(x, h));
            self.hi = _mm_xor_si128(self.hi, _mm_clmulepi64_si128::<0x11>(x, h));
            self.mid = _mm_xor_si128(self.mid, _mm_clmulepi64_si128::<0x00>(xk, hk));
        }
    ));

    aesni_clmul_features!(enable!(
        /// Karatsuba recombination and the one reduction.
        #[inline]
        fn reduce(self) -> __m128i {
            let mid = _mm_xor_si128(self.mid, _mm_xor_si128(self.lo, self.hi));
            let lo = _mm_xor_si128(self.lo, _mm_slli_si128::<8>(mid));
            let hi = _mm_xor_si128(self.hi, _mm_srli_si128::<8>(mid));
            reduce(lo, hi)
        }
    ));
}

aesni_clmul_features!(enable!(
    /// AES encryption of one block (FIPS 197 section 5.1).
    #[inline]
    fn aes_block(rk: &[__m128i; 15], rounds: usize, b: __m128i) -> __m128i {
        let mut s = _mm_xor_si128(b, rk[0]);
        for k in &rk[1..rounds] {
            s = _mm_aesenc_si128(s, *k);
        }
        _mm_aesenclast_si128(s, rk[rounds])
    }
));

aesni_clmul_features!(enable!(
    /// Loads the 16-byte block at the start of `b`.
    #[inline]
    fn load(b: &[u8]) -> __m128i {
        let b: &[u8; 16] = b[..16].try_into().expect("a whole block");
        // SAFETY: `b` is 16 readable bytes; unaligned load.
        unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
    }
));

aesni_clmul_features!(enable!(
    /// Stores a register into the 16-byte block at the start of `b`.
    #[inline]
    fn store(b: &mut [u8], x: __m128i) {
        let b: &mut [u8; 16] = (&mut b[..16]).try_into().expect("a whole block");
        // SAFETY: `b` is 16 writable bytes; unaligned store.
        unsafe { _mm_storeu_si128(b.as_mut_ptr().cast(), x) }
    }
));

aesni_clmul_features!(enable!(
    /// The counter block, byte-reversed: its 32-bit counter is lane 0.
    #[inline]
    fn load_ctr(ctr: &[u8; 16]) -> __m128i {
        bswap(load(ctr))
    }
));

aesni_clmul_features!(enable!(
    #[inline]
    fn store_ctr(ctr: &mut [u8; 16], c: __m128i) {
        store(ctr, bswap(c));
    }
));

aesni_clmul_features!(enable!(
    /// Counter block `c + i` under inc32 (lane-0 add wraps mod 2^32), in
    /// block byte order, whitened with round key 0.
    #[inline]
    fn ctr_block(c: __m128i, i: i32, rk0: __m128i) -> __m128i {
        _mm_xor_si128(bswap(_mm_add_epi32(c, _mm_set_epi32(0, 0, 0, i))), rk0)
    }
));

aesni_clmul_features!(enable!(
    /// XORs the keystream of counters `c .. c+W-1` into the (at most `W`)
    /// whole blocks of `blocks`. `W` is fixed so the lanes unroll; when
    /// `blocks` is shorter, the extra keystream blocks are discarded.
    #[inline]
    fn keystream_xor<const W: usize>(key: &Key, c: __m128i, blocks: &mut [u8]) {
        let rk = &key.round_keys;
        let mut s = [_mm_setzero_si128(); W];
        for (i, si) in s.iter_mut().enumerate() {
            *si = ctr_block(c, i as i32, rk[0]);
        }
        for k in &rk[1..key.rounds] {
            for si in s.iter_mut() {
                *si = _mm_aesenc_si128(*si, *k);
            }
        }
        for (si, b) in s.iter().zip(blocks.chunks_exact_mut(16)) {
            let ks = _mm_aesenclast_si128(*si, rk[key.rounds]);
            store(b, _mm_xor_si128(load(b), ks));
        }
    }
));

aesni_clmul_features!(enable!(
    /// CTR over the whole blocks of `buf`: eight at a time, then the rest
    /// (2, 4 or 8 lanes wide). Advances `c` by the block count (mod 2^32 in
    /// lane 0).
    #[inline]
    fn ctr_blocks(key: &Key, c: &mut __m128i, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(16 * LANES) {
            let m = chunk.len() / 16;
            match m {
                1 | 2 => keystream_xor::<2>(key, *c, chunk),
                3 | 4 => keystream_xor::<4>(key, *c, chunk),
                _ => keystream_xor::<LANES>(key, *c, chunk),
            }
            *c = _mm_add_epi32(*c, _mm_set_epi32(0, 0, 0, m as i32));
        }
    }
));

aesni_clmul_features!(enable!(
    /// GHASH of the whole blocks of `data` into the reflected accumulator:
    /// groups of up to eight, `acc' = (acc ^ X0)*H^m ^ ... ^ X(m-1)*H`, one
    /// reduction each.
    #[inline]
    fn ghash_blocks(key: &Key, acc: &mut __m128i, data: &[u8]) {
        for chunk in data.chunks(16 * LANES) {
            let m = chunk.len() / 16;
            let mut u = Unreduced::new();
            for (i, b) in chunk.chunks_exact(16).enumerate() {
                let mut x = bswap(load(b));
                if i == 0 {
                    x = _mm_xor_si128(x, *acc);
                }
                u.mul_add(x, key.h[m - 1 - i], key.hk[m - 1 - i]);
            }
            *acc = u.reduce();
        }
    }
));

aesni_clmul_features!(enable!(
    /// One AES round (AESENC) on the eight blocks in flight, then a
    /// scheduling fence: an empty `asm!` that emits no instruction but takes
    /// the eight states as register operands, so the compiler keeps the
    /// rounds horizontal (all eight blocks at round r before round r+1).
    /// Without it LLVM, short of registers once GHASH is interleaved,
    /// reorders the loop into one block's rounds after another, and the
    /// AESENC latency (4 cycles) chain then bounds the loop instead of
    /// its throughput (see asm-notes/aesni-clmul.md).
    #[inline]
    fn round8(s: &mut [__m128i; LANES], k: __m128i) {
        for si in s.iter_mut() {
            *si = _mm_aesenc_si128(*si, k);
        }
        let [s0, s1, s2, s3, s4, s5, s6, s7] = s;
        // SAFETY: the template is empty: no instruction runs, no memory,
        // stack or flags are touched; the operands come back unchanged.
        unsafe {
            core::arch::asm!(
                "/* {0} {1} {2} {3} {4} {5} {6} {7} */",
                inout(xmm_reg) * s0,
                inout(xmm_reg) * s1,
                inout(xmm_reg) * s2,
                inout(xmm_reg) * s3,
                inout(xmm_reg) * s4,
                inout(xmm_reg) * s5,
                inout(xmm_reg) * s6,
                inout(xmm_reg) * s7,
                options(nomem, nostack, preserves_flags),
            );
        }
    }
));

aesni_clmul_features!(enable!(
    /// The stitched bulk loop over `buf` (a non-zero multiple of eight
    /// blocks) with `NR` rounds. Seal: encrypt group g while absorbing the
    /// ciphertext of group g-1 (already written). Open: absorb group g's
    /// ciphertext (read before it is overwritten) while computing its own
    /// keystream.
    ///
    /// ```text
    ///   round 0       whiten the 8 counter blocks
    ///   round r=1..8  AESENC x8  +  block r-1 times H^(9-r), unreduced (3 PCLMULQDQ)
    ///   after 8       Karatsuba fix-up, one reduction (2 PCLMULQDQ) -> acc
    ///   rounds 9..NR  AESENC x8, AESENCLAST x8, XOR into the buffer
    /// ```
    #[allow(clippy::needless_range_loop, reason = "counted loops unroll fully")]
    fn stitched<const NR: usize, const SEAL: bool>(
        key: &Key,
        c: &mut __m128i,
        acc: &mut __m128i,
        buf: &mut [u8],
    ) {
        const G: usize = 16 * LANES;
        let rk = &key.round_keys;
        let step = _mm_set_epi32(0, 0, 0, LANES as i32);
        let first = if SEAL {
            // The first group has no earlier ciphertext to hash.
            ctr_blocks(key, c, &mut buf[..G]);
            1
        } else {
            0
        };
        for g in first..buf.len() / G {
            let (done, rest) = buf.split_at_mut(G * g);
            let out: &mut [u8; G] = (&mut rest[..G]).try_into().expect("a group");
            let src: &[u8; G] = if SEAL {
                done[G * (g - 1)..].try_into().expect("a group")
            } else {
                out
            };
            let mut s = [_mm_setzero_si128(); LANES];
            for i in 0..LANES {
                s[i] = ctr_block(*c, i as i32, rk[0]);
            }
            let mut u = Unreduced::new();
            for i in 0..LANES {
                round8(&mut s, rk[i + 1]);
                let mut x = bswap(load(&src[16 * i..]));
                if i == 0 {
                    x = _mm_xor_si128(x, *acc);
                }
                u.mul_add(x, key.h[LANES - 1 - i], key.hk[LANES - 1 - i]);
            }
            *acc = u.reduce();
            for r in LANES + 1..NR {
                round8(&mut s, rk[r]);
            }
            for i in 0..LANES {
                let ks = _mm_aesenclast_si128(s[i], rk[NR]);
                let b = &mut out[16 * i..];
                store(b, _mm_xor_si128(load(b), ks));
            }
            *c = _mm_add_epi32(*c, step);
        }
        if SEAL {
            // Absorb the last group's ciphertext.
            ghash_blocks(key, acc, &buf[buf.len() - G..]);
        }
    }
));

aesni_clmul_features!(enable!(
    /// Seal or open of whole blocks: the stitched loop for the groups of
    /// eight, the simple CTR-then-GHASH path for the rest.
    fn bulk<const SEAL: bool>(key: &Key, ctr: &mut [u8; 16], acc: &mut __m128i, buf: &mut [u8]) {
        let mut c = load_ctr(ctr);
        let split = buf.len() - buf.len() % (16 * LANES);
        let (groups, rest) = buf.split_at_mut(split);
        if !groups.is_empty() {
            match key.rounds {
                10 => stitched::<10, SEAL>(key, &mut c, acc, groups),
                12 => stitched::<12, SEAL>(key, &mut c, acc, groups),
                _ => stitched::<14, SEAL>(key, &mut c, acc, groups),
            }
        }
        if SEAL {
            ctr_blocks(key, &mut c, rest);
            ghash_blocks(key, acc, rest);
        } else {
            ghash_blocks(key, acc, rest);
            ctr_blocks(key, &mut c, rest);
        }
        store_ctr(ctr, c);
    }
));

impl Kernel for Key {
    /// The GHASH value, byte-reflected.
    type Acc = __m128i;

    fn acc_zero(&self) -> __m128i {
        // SAFETY: SSE2 is part of x86_64.
        unsafe { _mm_setzero_si128() }
    }

    fn acc_bytes(&self, acc: __m128i) -> [u8; 16] {
        let mut out = [0u8; 16];
        // SAFETY: a `Key` exists only on a CPU with the feature list (token).
        unsafe { store(&mut out, bswap(acc)) };
        out
    }

    fn ghash(&self, acc: &mut __m128i, blocks: &[u8]) {
        debug_assert_eq!(blocks.len() % 16, 0);
        // SAFETY: a `Key` exists only on a CPU with the feature list (token).
        unsafe { ghash_blocks(self, acc, blocks) }
    }

    fn encrypt_block(&self, block: &mut [u8; 16]) {
        self.encrypt_block_raw(block);
    }

    fn ctr32(&self, ctr: &mut [u8; 16], buf: &mut [u8]) {
        self.ctr32_raw(ctr, buf);
    }

    fn seal_blocks(&self, ctr: &mut [u8; 16], acc: &mut __m128i, buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: a `Key` exists only on a CPU with the feature list (token).
        unsafe { bulk::<true>(self, ctr, acc, buf) }
    }

    fn open_blocks(&self, ctr: &mut [u8; 16], acc: &mut __m128i, buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: a `Key` exists only on a CPU with the feature list (token).
        unsafe { bulk::<false>(self, ctr, acc, buf) }
    }
}

#[cfg(test)]
mod tests {
    //! The kernel against the `portable` backend: whole-AEAD results on many
    //! lengths, offsets and key sizes, and the Kernel operations directly
    //! around the 32-bit counter wrap.

    use super::super::{portable, AesGcm, Backend, Kernel};
    use super::*;
    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn token() -> Option<AesClmul> {
        let t = AesClmul::get();
        if t.is_none() {
            eprintln!("aesni-clmul not available on this CPU: test skipped");
        }
        t
    }

    /// Seals with both backends (at `offset` inside a larger buffer), checks
    /// ciphertext and tag agree, opens with aesni-clmul, and checks that a
    /// flipped tag bit is rejected with a zeroed buffer.
    fn check_one(rng: &mut ChaCha8Rng, key: &[u8], nonce_len: usize, len: usize, offset: usize) {
        let ours = AesGcm::with_backend(key, Backend::AesniClmul).unwrap();
        let reference = AesGcm::with_backend(key, Backend::Portable).unwrap();
        let mut nonce = vec![0u8; nonce_len];
        rng.fill_bytes(&mut nonce);
        let mut aad = vec![0u8; rng.gen_range(0..40)];
        rng.fill_bytes(&mut aad);
        let mut pt = vec![0u8; len];
        rng.fill_bytes(&mut pt);

        let mut a = vec![0u8; len + offset + 16];
        a[offset..offset + len].copy_from_slice(&pt);
        let mut b = pt.clone();
        let tag_a = ours
            .seal_in_place_detached(&nonce, &aad, &mut a[offset..offset + len])
            .unwrap();
        let tag_b = reference
            .seal_in_place_detached(&nonce, &aad, &mut b)
            .unwrap();
        assert_eq!(
            &a[offset..offset + len],
            &b[..],
            "ciphertext, len {len} offset {offset}"
        );
        assert_eq!(tag_a, tag_b, "tag, len {len} offset {offset}");
        assert!(
            a[..offset].iter().all(|&x| x == 0),
            "wrote before the buffer"
        );
        assert!(
            a[offset + len..].iter().all(|&x| x == 0),
            "wrote past the buffer"
        );

        ours.open_in_place_detached(&nonce, &aad, &mut a[offset..offset + len], &tag_a)
            .unwrap();
        assert_eq!(
            &a[offset..offset + len],
            &pt[..],
            "open, len {len} offset {offset}"
        );

        let mut bad = tag_a;
        bad[rng.gen_range(0..16)] ^= 1 << rng.gen_range(0..8);
        let mut ct = b.clone();
        assert_eq!(
            ours.open_in_place_detached(&nonce, &aad, &mut ct, &bad),
            Err(super::super::Error::Authentication)
        );
        assert!(ct.iter().all(|&x| x == 0), "buffer not zeroed on a bad tag");
    }

    const KEY_LENS: [usize; 3] = [16, 24, 32];

    fn key(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
        let mut k = vec![0u8; len];
        rng.fill_bytes(&mut k);
        k
    }

    #[test]
    fn every_length_to_300() {
        let Some(_) = token() else { return };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            for len in 0..=300 {
                let offset = rng.gen_range(0..16);
                check_one(&mut rng, &k, 12, len, offset);
            }
        }
    }

    #[test]
    fn random_lengths_to_4100() {
        let Some(_) = token() else { return };
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..60 {
            let key_len = KEY_LENS[rng.gen_range(0..3)];
            let k = key(&mut rng, key_len);
            let len = rng.gen_range(0..=4100);
            let nonce_len = [12, 12, 1, 16, 60][rng.gen_range(0..5)];
            let offset = rng.gen_range(0..16);
            check_one(&mut rng, &k, nonce_len, len, offset);
        }
    }

    #[test]
    fn lengths_around_every_stride() {
        let Some(_) = token() else { return };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            for groups in 1..=5 {
                // Strides of the stitched loop: 8 blocks = 128 bytes.
                let stride = 16 * LANES * groups;
                for len in [
                    stride - 17,
                    stride - 16,
                    stride - 15,
                    stride - 1,
                    stride,
                    stride + 1,
                    stride + 15,
                    stride + 16,
                    stride + 17,
                ] {
                    let offset = rng.gen_range(0..16);
                    check_one(&mut rng, &k, 12, len, offset);
                }
            }
        }
    }

    #[test]
    fn every_alignment_offset() {
        let Some(_) = token() else { return };
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            for offset in 0..16 {
                for len in [15, 16, 127, 128, 129, 300, 1024 + 7] {
                    check_one(&mut rng, &k, 12, len, offset);
                }
            }
        }
    }

    /// The Kernel operations with counter blocks whose low 32 bits are just
    /// below 2^32, so inc32 wraps at every position inside a group.
    #[test]
    fn kernel_counter_wrap() {
        let Some(cpu) = token() else { return };
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            let ours = Key::new(&k, cpu).unwrap();
            let reference = portable::Key::new(&k).unwrap();
            for start in 0..=17u32 {
                for blocks in [1usize, 7, 8, 9, 15, 16, 17, 24, 33] {
                    let mut ctr = [0u8; 16];
                    rng.fill_bytes(&mut ctr[..12]);
                    ctr[12..].copy_from_slice(&(u32::MAX - start).to_be_bytes());
                    let mut data = vec![0u8; 16 * blocks];
                    rng.fill_bytes(&mut data);
                    let mut seed = [0u8; 16];
                    rng.fill_bytes(&mut seed);

                    let run = |seal: bool, which: u8| -> (Vec<u8>, [u8; 16], [u8; 16]) {
                        let mut buf = data.clone();
                        let mut c = ctr;
                        let acc = if which == 0 {
                            let mut acc = ours.acc_zero();
                            ours.ghash(&mut acc, &seed);
                            if seal {
                                ours.seal_blocks(&mut c, &mut acc, &mut buf);
                            } else {
                                ours.open_blocks(&mut c, &mut acc, &mut buf);
                            }
                            ours.acc_bytes(acc)
                        } else {
                            let mut acc = reference.acc_zero();
                            reference.ghash(&mut acc, &seed);
                            if seal {
                                reference.seal_blocks(&mut c, &mut acc, &mut buf);
                            } else {
                                reference.open_blocks(&mut c, &mut acc, &mut buf);
                            }
                            reference.acc_bytes(acc)
                        };
                        (buf, c, acc)
                    };
                    for seal in [true, false] {
                        assert_eq!(
                            run(seal, 0),
                            run(seal, 1),
                            "seal {seal} start {start} blocks {blocks}"
                        );
                    }
                    let mut a = data.clone();
                    let mut b = data.clone();
                    let (mut ca, mut cb) = (ctr, ctr);
                    ours.ctr32(&mut ca, &mut a);
                    reference.ctr32(&mut cb, &mut b);
                    assert_eq!((a, ca), (b, cb), "ctr32 start {start} blocks {blocks}");
                }
            }
        }
    }

    /// GF(2^128) product in SP 800-38D's bit order (Algorithm 1), for the
    /// nonce construction below.
    fn gf_mul_ref(x: u128, y: u128) -> u128 {
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

    fn gf_inv_ref(x: u128) -> u128 {
        // x^(2^128 - 2): square-and-multiply over the exponent's 127 ones and final zero.
        let one = 1u128 << 127;
        let mut r = one;
        for bit in (0..128).rev() {
            r = gf_mul_ref(r, r);
            if bit != 0 {
                r = gf_mul_ref(r, x);
            }
        }
        r
    }

    /// A 16-byte nonce N with GHASH_H(N || [0]_64 || [128]_64) = `j0`:
    /// J0 = N*H^2 ^ L*H, so N = (J0 ^ L*H) * H^-2 (SP 800-38D 7.1 step 2).
    fn nonce_for_j0(h: u128, j0: u128) -> [u8; 16] {
        let l = 128u128;
        let h2 = gf_mul_ref(h, h);
        gf_mul_ref(j0 ^ gf_mul_ref(l, h), gf_inv_ref(h2)).to_be_bytes()
    }

    /// End to end through `AesGcm`: nonces whose J0 ends in 0xffff_ffff -
    /// k, so the counter wraps k+1 blocks into the message.
    #[test]
    fn aead_counter_wrap_with_solved_nonce() {
        let Some(_) = token() else { return };
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            let reference = portable::Key::new(&k).unwrap();
            let mut hb = [0u8; 16];
            reference.encrypt_block(&mut hb);
            let h = u128::from_be_bytes(hb);
            for back in [0u32, 1, 2, 5, 7, 8, 9, 15] {
                let mut j0 = [0u8; 16];
                rng.fill_bytes(&mut j0[..12]);
                j0[12..].copy_from_slice(&(u32::MAX - back).to_be_bytes());
                let nonce = nonce_for_j0(h, u128::from_be_bytes(j0));
                assert_eq!(
                    super::super::driver::j0(&reference, &nonce),
                    j0,
                    "nonce solve"
                );
                let ours = Key::new(&k, AesClmul::get().unwrap()).unwrap();
                assert_eq!(
                    super::super::driver::j0(&ours, &nonce),
                    j0,
                    "J0 on aesni-clmul"
                );
                for len in [100, 255, 256, 300, 1000] {
                    let a = AesGcm::with_backend(&k, Backend::AesniClmul).unwrap();
                    let b = AesGcm::with_backend(&k, Backend::Portable).unwrap();
                    let mut pa = vec![0u8; len];
                    rng.fill_bytes(&mut pa);
                    let pt = pa.clone();
                    let mut pb = pa.clone();
                    let ta = a.seal_in_place_detached(&nonce, b"hdr", &mut pa).unwrap();
                    let tb = b.seal_in_place_detached(&nonce, b"hdr", &mut pb).unwrap();
                    assert_eq!((&pa, ta), (&pb, tb), "back {back} len {len}");
                    a.open_in_place_detached(&nonce, b"hdr", &mut pa, &ta)
                        .unwrap();
                    assert_eq!(pa, pt);
                }
            }
        }
    }

    /// The exposed pieces for multi-lane kernels agree with the key.
    #[test]
    fn exposed_key_material() {
        let Some(cpu) = token() else { return };
        let k = Key::new(&[7u8; 32], cpu).unwrap();
        assert_eq!(k.rounds(), 14);
        assert_eq!(k.round_keys().len(), 15);
        // FIPS 197: round key 0 is the cipher key itself.
        assert_eq!(k.round_key_bytes(0), [7u8; 16]);
        let (h, hk) = k.h_powers();
        // SAFETY: the token proves the features.
        let h2 = unsafe { gf_mul(h[0], h[0]) };
        assert_eq!(k.acc_bytes(h2), k.acc_bytes(h[1]));
        // SAFETY: as above.
        let kar = unsafe { _mm_xor_si128(h[3], _mm_shuffle_epi32::<0x4e>(h[3])) };
        assert_eq!(k.acc_bytes(kar), k.acc_bytes(hk[3]));
    }
}
