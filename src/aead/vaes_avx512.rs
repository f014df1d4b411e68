//! x86_64 AES-GCM on 512-bit registers: VAES and VPCLMULQDQ with AVX-512,
//! four 16-byte blocks per `zmm` register, AVX-512 byte masks for every
//! partial register.
//!
//! ```text
//!   bulk (records over SHORT_MAX bytes), STRIDE = 32 blocks = 8 zmm per iteration:
//!     seal:  AES rounds of group g   | GHASH of group g-1 (ciphertext written last time)
//!     open:  AES rounds of group g   | GHASH of group g   (the ciphertext read now)
//!            each iteration: 32 blocks x H^32..H^1, sums unreduced, one reduction
//!   end:     the last 1..=32 blocks, masked: AES | GHASH of the pending group,
//!            then the last blocks and the length block in the same sums:
//!            at most 32 + 32 + 1 = 65 blocks x H^65..H^1, one reduction
//!   short (1..=SHORT_MAX bytes): 1..=8 zmm of counters in one AES batch,
//!            masked loads and stores, all blocks and the length block
//!            x H^(n+1)..H^1, one reduction
//!   E(K, J0): a 128-bit AES chain of its own, overlapping everything
//! ```
//!
//! GHASH uses the bit order, the reduction and the key powers of the
//! `vaes-avx2` module (see its notes): registers hold byte-reversed blocks,
//! a carry-less product of register values is `a * b * x`, and the key
//! powers are stored as `H^i * x^-1`. Here each 128-bit lane of a product
//! is reduced on its own (the reduction is linear) and the four lanes are
//! then summed. Products are schoolbook (four `vpclmulqdq` per register,
//! no shuffle): on Zen 4 a zmm `vpclmulqdq` costs the AES pipes about a
//! cycle, but Karatsuba's `vpshufd` per register costs more, as do the
//! byte swaps of the counters, which the bulk loop mostly avoids (see
//! asm-notes/vaes-avx512.md).
//!
//! Block `p` of a sequence of `T` GHASH blocks is multiplied by `H^(T-p)`:
//! with the powers stored in descending order, `h_powers[POWERS - T + p]`,
//! so one unaligned 64-byte load at `POWERS - T + 4j` gives the powers of
//! register `j`. Three zero entries after H^1 let that load run past the
//! end of a sequence whose last register is partly empty.
//!
//! Counters are kept byte-swapped (the 32-bit counter field in the lowest
//! 32-bit element of each lane), so `vpaddd` is inc32 (SP 800-38D 6.2),
//! wrapping modulo 2^32 without a carry into the IV bits.

// A kernel file: SIMD intrinsics, each unsafe block with its SAFETY bound.
#![allow(unsafe_code)]

use super::gcm::{self, Frame};
use super::vaes_avx2::{aad_block_times_h, from_u128, gf_mul, make_tag};
use super::{Error, Kernel};
use crate::cpu;
use core::arch::x86_64::*;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Blocks per iteration of the bulk loop (8 zmm): eight independent AES
/// chains, so the multiplies that share the AES pipes do not stall them
/// (four chains measured 15-20% slower at 16 KiB on Zen 4).
pub(crate) const STRIDE: usize = 32;
/// `zmm` registers per bulk iteration.
const VECS: usize = STRIDE / 4;
/// Key powers held: the end of a sealed record hashes at most
/// 32 + 32 + 1 = 65 blocks under one reduction, a short record at most
/// 32 + 1; 68 keeps H^32..H^1 on a 64-byte boundary.
pub(crate) const POWERS: usize = 68;
/// Records up to this many bytes take the short path (8 zmm of blocks).
pub(crate) const SHORT_MAX: usize = 512;
/// The reflected GHASH modulus constant (see the `vaes-avx2` notes).
const GF_POLY_HI: i64 = 0xc200_0000_0000_0000_u64 as i64;

/// Round keys repeated in the four lanes of a register, 64-aligned.
#[derive(Zeroize)]
#[repr(C, align(64))]
pub(crate) struct WideKeys(pub(crate) [[u8; 64]; 15]);

/// An expanded AES key with the GHASH key powers, for the `vaes-avx512`
/// backend.
///
/// Building one takes the [`cpu::VaesAvx512`] proof, so a `Key` exists only
/// on a CPU that runs the kernels. Everything is zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
#[repr(C, align(64))]
pub struct Key {
    /// `h_powers[i] = H^(POWERS - i) * x^-1 mod G` for `i < POWERS`, in the
    /// register form of the `vaes-avx2` key; then three zero entries.
    pub(crate) h_powers: [[u8; 16]; POWERS + 3],
    /// The AES round keys (FIPS 197 5.2) in the byte order `VAESENC` takes
    /// from memory, `rounds + 1` of them; unused entries are zero.
    pub(crate) round_keys: [[u8; 16]; 15],
    /// Number of AES rounds: 10, 12 or 14.
    pub(crate) rounds: usize,
    /// The round keys again, each repeated in the four lanes of a
    /// register, for the whole-message kernels' AES rounds: a full-width
    /// aligned load, where a broadcast from 16 bytes is a load and a lane
    /// shuffle. Last in the key, so the lines the batch kernels read (the
    /// last powers of H and the 16-byte round keys) keep their places.
    pub(crate) round_keys_wide: WideKeys,
    #[zeroize(skip)]
    _cpu: cpu::VaesAvx512,
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("vaes_avx512::Key")
            .field("rounds", &self.rounds)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// Expands `key` (16, 24 or 32 bytes) and precomputes H^1..H^POWERS.
    pub(crate) fn new(key: &[u8], cpu: cpu::VaesAvx512) -> Result<Key, Error> {
        super::check_key(key)?;
        let mut k = Key {
            h_powers: [[0; 16]; POWERS + 3],
            round_keys: [[0; 16]; 15],
            round_keys_wide: WideKeys([[0; 64]; 15]),
            rounds: key.len() / 4 + 6,
            _cpu: cpu,
        };
        // SAFETY: the `cpu` token proves every feature of the list.
        unsafe { setup(&mut k, key) };
        Ok(k)
    }
}

// ---------------------------------------------------------------------------
// Building blocks (all inlined into the kernels).

vaes_avx512_features!(enable!(
    /// `vpshufb` mask reversing the bytes of each 128-bit lane.
    #[inline]
    pub(crate) fn bswap_mask() -> __m512i {
        _mm512_broadcast_i32x4(_mm_set_epi64x(0x0001_0203_0405_0607, 0x0809_0a0b_0c0d_0e0f))
    }
));

vaes_avx512_features!(enable!(
    /// One 16-byte round key broadcast to the four lanes.
    #[inline]
    pub(crate) fn bcast(bytes: &[u8; 16]) -> __m512i {
        // SAFETY: `bytes` is 16 readable bytes; the load is unaligned.
        _mm512_broadcast_i32x4(unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) })
    }
));

vaes_avx512_features!(enable!(
    /// Round key `r` repeated in the four lanes.
    #[inline]
    pub(crate) fn wide(keys: &WideKeys, r: usize) -> __m512i {
        // SAFETY: entry r is 64 readable bytes at a multiple of 64 from the
        // start of the 64-aligned `WideKeys`: the aligned load is in bounds
        // (the index is checked) and aligned.
        unsafe { _mm512_load_si512(keys.0[r].as_ptr().cast()) }
    }
));

vaes_avx512_features!(enable!(
    #[inline]
    pub(crate) fn load128(bytes: &[u8; 16]) -> __m128i {
        // SAFETY: `bytes` is 16 readable bytes; the load is unaligned.
        unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
    }
));

vaes_avx512_features!(enable!(
    /// The four key powers `h_powers[i..i + 4]` (lane l = entry i + l).
    #[inline]
    pub(crate) fn powers(k: &Key, i: usize) -> __m512i {
        assert!(i + 4 <= POWERS + 3);
        // SAFETY: entries i..i + 4 exist (checked above) and are contiguous.
        unsafe { _mm512_loadu_si512(k.h_powers[i..].as_ptr().cast()) }
    }
));

vaes_avx512_features!(enable!(
    /// 64 bytes at `buf[at..at + 64]`.
    #[inline]
    pub(crate) fn load64(buf: &[u8], at: usize) -> __m512i {
        assert!(at + 64 <= buf.len());
        // SAFETY: the 64 bytes are in bounds (checked above).
        unsafe { _mm512_loadu_si512(buf.as_ptr().add(at).cast()) }
    }
));

vaes_avx512_features!(enable!(
    #[inline]
    pub(crate) fn store64(buf: &mut [u8], at: usize, v: __m512i) {
        assert!(at + 64 <= buf.len());
        // SAFETY: the 64 bytes are in bounds (checked above).
        unsafe { _mm512_storeu_si512(buf.as_mut_ptr().add(at).cast(), v) }
    }
));

/// The byte mask of the first `min(n, 64)` bytes of a register.
#[inline(always)]
pub(crate) fn byte_mask(n: usize) -> __mmask64 {
    ((1u128 << n.min(64)) - 1) as u64
}

vaes_avx512_features!(enable!(
    /// The bytes `buf[at..]`, at most 64, zero-extended to a register: a
    /// masked load, so no byte past the end of `buf` is read (the masked-off
    /// bytes of an AVX-512 load are not accessed and cannot fault).
    #[inline]
    pub(crate) fn load_masked(buf: &[u8], at: usize) -> __m512i {
        let m = byte_mask(buf.len().saturating_sub(at));
        // SAFETY: the mask selects only bytes at..buf.len(); when it is
        // empty nothing is accessed (`wrapping_add` keeps the pointer
        // arithmetic defined when `at` is the end).
        unsafe { _mm512_maskz_loadu_epi8(m, buf.as_ptr().wrapping_add(at).cast()) }
    }
));

vaes_avx512_features!(enable!(
    /// Stores the first `buf.len() - at` bytes (at most 64) of `v` at
    /// `buf[at..]`: a masked store, writing nothing past the end.
    #[inline]
    pub(crate) fn store_masked(buf: &mut [u8], at: usize, v: __m512i) {
        let m = byte_mask(buf.len().saturating_sub(at));
        // SAFETY: as in `load_masked`: only bytes at..buf.len() are written.
        unsafe { _mm512_mask_storeu_epi8(buf.as_mut_ptr().wrapping_add(at).cast(), m, v) }
    }
));

vaes_avx512_features!(enable!(
    #[inline]
    fn xor3(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        _mm512_ternarylogic_epi32(a, b, c, 0x96)
    }
));

/// Unreduced GHASH sums, one 256-bit product per lane, as three 128-bit
/// parts per lane: `lo ^ mi * x^64 ^ hi * x^128`.
#[derive(Clone, Copy)]
pub(crate) struct Sums {
    pub(crate) lo: __m512i,
    pub(crate) mi: __m512i,
    pub(crate) hi: __m512i,
}

vaes_avx512_features!(enable!(
    #[inline]
    pub(crate) fn sums_zero() -> Sums {
        let z = _mm512_setzero_si512();
        Sums {
            lo: z,
            mi: z,
            hi: z,
        }
    }
));

vaes_avx512_features!(enable!(
    /// Adds the four lane products `d * h` to the sums: four multiplies
    /// per lane, the two middle ones summed with one three-way XOR.
    #[inline]
    pub(crate) fn mul_add(s: &mut Sums, d: __m512i, h: __m512i) {
        s.lo = _mm512_xor_si512(s.lo, _mm512_clmulepi64_epi128(d, h, 0x00));
        s.hi = _mm512_xor_si512(s.hi, _mm512_clmulepi64_epi128(d, h, 0x11));
        s.mi = xor3(
            s.mi,
            _mm512_clmulepi64_epi128(d, h, 0x01),
            _mm512_clmulepi64_epi128(d, h, 0x10),
        );
    }
));

vaes_avx512_features!(enable!(
    /// Adds the single product `d * h_powers[i]` (128-bit registers) to
    /// lane 0 of the sums, as [`mul_add`].
    #[inline]
    fn mul_add_block(k: &Key, s: &mut Sums, d: __m128i, i: usize) {
        let h = load128(&k.h_powers[i]);
        let lo = _mm_clmulepi64_si128(d, h, 0x00);
        let hi = _mm_clmulepi64_si128(d, h, 0x11);
        let mi = _mm_xor_si128(
            _mm_clmulepi64_si128(d, h, 0x01),
            _mm_clmulepi64_si128(d, h, 0x10),
        );
        s.lo = _mm512_xor_si512(s.lo, _mm512_zextsi128_si512(lo));
        s.hi = _mm512_xor_si512(s.hi, _mm512_zextsi128_si512(hi));
        s.mi = _mm512_xor_si512(s.mi, _mm512_zextsi128_si512(mi));
    }
));

vaes_avx512_features!(enable!(
    /// Reduces each lane of the sums modulo G (two 64-bit folds, as the
    /// `vaes-avx2` `reduce`) and adds the four lanes: the GHASH value.
    #[inline]
    pub(crate) fn finish(s: Sums) -> __m128i {
        let poly = _mm512_broadcast_i32x4(_mm_set_epi64x(GF_POLY_HI, 1));
        let t = _mm512_clmulepi64_epi128(s.lo, poly, 0x10);
        let mi = xor3(s.mi, t, _mm512_shuffle_epi32(s.lo, _MM_PERM_BADC));
        let t = _mm512_clmulepi64_epi128(mi, poly, 0x10);
        let r = xor3(s.hi, t, _mm512_shuffle_epi32(mi, _MM_PERM_BADC));
        let y = _mm256_xor_si256(_mm512_castsi512_si256(r), _mm512_extracti64x4_epi64(r, 1));
        _mm_xor_si128(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1))
    }
));

vaes_avx512_features!(enable!(
    /// Counter blocks `ctr + 0..4` in byte-swapped form, from a counter
    /// block in its own byte order (a register image).
    #[inline]
    fn counters_from(ctr: __m128i) -> __m512i {
        let c = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(ctr), bswap_mask());
        _mm512_add_epi32(
            c,
            _mm512_set_epi32(0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0),
        )
    }
));

vaes_avx512_features!(enable!(
    /// The next `W` registers of counter blocks, byte order restored and
    /// XORed with round key 0; advances `cv` by `4 * W` (inc32 per lane).
    #[inline]
    fn next_counters<const W: usize>(cv: &mut __m512i, rk0: __m512i) -> [__m512i; W] {
        let bs = bswap_mask();
        let four = _mm512_set_epi32(0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4);
        let mut x = [_mm512_setzero_si512(); W];
        for v in x.iter_mut() {
            *v = _mm512_xor_si512(_mm512_shuffle_epi8(*cv, bs), rk0);
            *cv = _mm512_add_epi32(*cv, four);
        }
        x
    }
));

vaes_avx512_features!(enable!(
    /// The next [`STRIDE`] counter blocks as [`next_counters`] gives them,
    /// for a group whose 32-bit counters `ctr..ctr + STRIDE` all share
    /// their upper 24 bits (the caller checks `ctr % 256 <= 256 - STRIDE`
    /// on the public counter value): one byte swap, then each register is
    /// the first plus `4j` added to the last byte in the block's own byte
    /// order, where no carry can occur. Saves seven of the eight
    /// `vpshufb`, which compete with the AES rounds for a pipe.
    #[inline]
    fn next_counters_no_carry(cv: &mut __m512i, rk0: __m512i) -> [__m512i; VECS] {
        let be = _mm512_shuffle_epi8(*cv, bswap_mask());
        let mut x = [_mm512_setzero_si512(); VECS];
        for (j, v) in x.iter_mut().enumerate() {
            let n = ((4 * j) as i32) << 24;
            let inc = _mm512_set_epi32(n, 0, 0, 0, n, 0, 0, 0, n, 0, 0, 0, n, 0, 0, 0);
            *v = _mm512_xor_si512(_mm512_add_epi32(be, inc), rk0);
        }
        let step = STRIDE as i32;
        *cv = _mm512_add_epi32(
            *cv,
            _mm512_set_epi32(0, 0, 0, step, 0, 0, 0, step, 0, 0, 0, step, 0, 0, 0, step),
        );
        x
    }
));

vaes_avx512_features!(enable!(
    /// The next group's counters: [`next_counters_no_carry`] when the
    /// group's low counter byte cannot carry, else [`next_counters`].
    /// The branch is on the counter, which is public (nonce and position).
    #[inline]
    fn group_counters(cv: &mut __m512i, rk0: __m512i) -> [__m512i; VECS] {
        if (_mm512_cvtsi512_si32(*cv) as u32 & 0xff) <= (256 - STRIDE) as u32 {
            next_counters_no_carry(cv, rk0)
        } else {
            next_counters::<VECS>(cv, rk0)
        }
    }
));

/// Passes the AES registers `$x` (an array of 1..=8) and the places `$p`
/// through an empty `asm!` at this point of the program: it emits nothing,
/// but every value after it depends on every value before it, so LLVM
/// cannot move the next round's instructions above this round's. Without
/// it LLVM's scheduler rebuilt the interleaved rounds into one register's
/// ten rounds after another, with the GHASH multiplies after all of them,
/// and the core's window could not overlap the two.
macro_rules! pin {
    ($x:expr; []) => {{
        let x: &mut [__m512i] = &mut $x[..];
        // Each arm's template is a comment: no instruction runs, no memory
        // or flag is touched (`nomem`, `preserves_flags`).
        match x.len() {
            // SAFETY: the template is a comment; nothing runs or is touched.
            1 => unsafe {
                core::arch::asm!("/* pin {} */", inout(zmm_reg) x[0],
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            2 => unsafe {
                core::arch::asm!("/* pin {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1],
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            3 => unsafe {
                core::arch::asm!("/* pin {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2],
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            4 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3],
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            5 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3], inout(zmm_reg) x[4],
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            6 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3], inout(zmm_reg) x[4], inout(zmm_reg) x[5],
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            7 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3], inout(zmm_reg) x[4], inout(zmm_reg) x[5], inout(zmm_reg) x[6],
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            8 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3], inout(zmm_reg) x[4], inout(zmm_reg) x[5], inout(zmm_reg) x[6], inout(zmm_reg) x[7],
                    options(pure, nomem, nostack, preserves_flags))
            },
            _ => {}
        }
    }};
    ($x:expr; [$a:expr, $b:expr, $c:expr]) => {{
        let x: &mut [__m512i] = &mut $x[..];
        match x.len() {
            // SAFETY: the template is a comment; nothing runs or is touched.
            1 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) $a, inout(zmm_reg) $b, inout(zmm_reg) $c,
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            2 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) $a, inout(zmm_reg) $b, inout(zmm_reg) $c,
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            3 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) $a, inout(zmm_reg) $b, inout(zmm_reg) $c,
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            4 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3], inout(zmm_reg) $a, inout(zmm_reg) $b, inout(zmm_reg) $c,
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            5 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3], inout(zmm_reg) x[4], inout(zmm_reg) $a, inout(zmm_reg) $b, inout(zmm_reg) $c,
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            6 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3], inout(zmm_reg) x[4], inout(zmm_reg) x[5], inout(zmm_reg) $a, inout(zmm_reg) $b, inout(zmm_reg) $c,
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            7 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3], inout(zmm_reg) x[4], inout(zmm_reg) x[5], inout(zmm_reg) x[6], inout(zmm_reg) $a, inout(zmm_reg) $b, inout(zmm_reg) $c,
                    options(pure, nomem, nostack, preserves_flags))
            },
            // SAFETY: the template is a comment; nothing runs or is touched.
            8 => unsafe {
                core::arch::asm!("/* pin {} {} {} {} {} {} {} {} {} {} {} */", inout(zmm_reg) x[0], inout(zmm_reg) x[1], inout(zmm_reg) x[2], inout(zmm_reg) x[3], inout(zmm_reg) x[4], inout(zmm_reg) x[5], inout(zmm_reg) x[6], inout(zmm_reg) x[7], inout(zmm_reg) $a, inout(zmm_reg) $b, inout(zmm_reg) $c,
                    options(pure, nomem, nostack, preserves_flags))
            },
            _ => {}
        }
    }};
}

/// AES rounds 1..=`$R` on the registers of `$x` (round key 0 applied),
/// with GHASH step `i` (`$body`, for `i` in `0..$steps`) issued after the
/// instructions of round `i + 1`, so the multiplies fill the gaps of the
/// AES latency chains; the registers and the places `$p` the steps
/// accumulate into are pinned ([`pin!`]) after every round, so the
/// compiled code keeps that order. A macro: LLVM declines to inline
/// functions this large, and `#[inline(always)]` cannot be combined with
/// `#[target_feature]`. The rounds are spelled out (each guarded by a
/// condition on the constants `$R` and `$steps`, so it folds away): as a
/// `for` loop over the rounds LLVM kept a real loop, the GHASH inputs went
/// to the stack to be indexed by the round number, and a loop branch and
/// a counter ran with every round.
macro_rules! rounds_with {
    ($k:expr, $R:expr, $x:expr, $steps:expr, $pins:tt, |$i:ident| $body:block) => {{
        let k: &Key = $k;
        let steps: usize = $steps;
        rounds_with!(@rounds k, $R, $x, steps, $pins, $i, $body;
            1 2 3 4 5 6 7 8 9 10 11 12 13);
        if $R - 1 < steps {
            rounds_with!(@steps $R, steps, $i, $body; 9 10 11 12 13 14 15 16);
        }
        let rk = wide(&k.round_keys_wide, $R);
        for v in $x.iter_mut() {
            *v = _mm512_aesenclast_epi128(*v, rk);
        }
    }};
    (@rounds $k:ident, $R:expr, $x:expr, $steps:ident, $pins:tt, $i:ident, $body:block;
        $($r:literal)*) => {
        $(
            if $r < $R {
                let rk = wide(&$k.round_keys_wide, $r);
                for v in $x.iter_mut() {
                    *v = _mm512_aesenc_epi128(*v, rk);
                }
                if $r - 1 < $steps {
                    let $i: usize = $r - 1;
                    $body
                }
                pin!($x; $pins);
            }
        )*
    };
    // Steps left over after the last full round (more steps than rounds).
    (@steps $R:expr, $steps:ident, $i:ident, $body:block; $($n:literal)*) => {
        $(
            if $n >= $R - 1 && $n < $steps {
                let $i: usize = $n;
                $body
            }
        )*
    };
}

vaes_avx512_features!(enable!(
    #[inline]
    fn aes_block<const R: usize>(k: &Key, b: __m128i) -> __m128i {
        let mut x = _mm_xor_si128(b, load128(&k.round_keys[0]));
        for r in 1..R {
            x = _mm_aesenc_si128(x, load128(&k.round_keys[r]));
        }
        _mm_aesenclast_si128(x, load128(&k.round_keys[R]))
    }
));

// ---------------------------------------------------------------------------
// Key setup, GHASH, CTR.

vaes_avx512_features!(enable!(
    /// Key expansion (FIPS 197 5.2) and the hash key powers H^1..H^POWERS.
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
        for (wide, rk) in k.round_keys_wide.0.iter_mut().zip(&k.round_keys) {
            for lane in wide.chunks_exact_mut(16) {
                lane.copy_from_slice(rk);
            }
        }

        // H = E(K, 0^128) (SP 800-38D 6.4), reflected, times x^-1: a left
        // shift of the register with the reflected modulus folded in when
        // the x^0 coefficient shifts out; no branch on H.
        let hb = aes_block_rounds(k, _mm_setzero_si128());
        let mut bytes = [0u8; 16];
        // SAFETY: `bytes` is 16 writable bytes.
        unsafe { _mm_storeu_si128(bytes.as_mut_ptr().cast(), hb) };
        let h = u128::from_be_bytes(bytes);
        bytes.zeroize();
        let mask = 0u128.wrapping_sub(h >> 127);
        let poly = (0xc2u128 << 120) | 1;
        let h1 = (h << 1) ^ (poly & mask);
        let h1 = _mm_set_epi64x((h1 >> 64) as i64, h1 as i64);
        let mut p = h1;
        for i in (0..POWERS).rev() {
            // SAFETY: each entry is 16 writable bytes.
            unsafe { _mm_storeu_si128(k.h_powers[i].as_mut_ptr().cast(), p) };
            p = gf_mul(p, h1);
        }
    }
));

vaes_avx512_features!(enable!(
    fn aes_block_rounds(k: &Key, b: __m128i) -> __m128i {
        match k.rounds {
            10 => aes_block::<10>(k, b),
            12 => aes_block::<12>(k, b),
            _ => aes_block::<14>(k, b),
        }
    }
));

vaes_avx512_features!(enable!(
    /// GHASH of `data` zero-padded to whole blocks, from `acc`: up to 32
    /// blocks (8 registers) per reduction.
    #[inline(never)]
    pub(crate) fn ghash_bytes(k: &Key, acc: __m128i, data: &[u8]) -> __m128i {
        let bs = bswap_mask();
        let mut a = acc;
        for chunk in data.chunks(512) {
            let t = chunk.len().div_ceil(16);
            let base = POWERS - t;
            let mut s = sums_zero();
            let mut carry = _mm512_zextsi128_si512(a);
            for j in 0..chunk.len().div_ceil(64) {
                let d = _mm512_shuffle_epi8(load_masked(chunk, 64 * j), bs);
                mul_add(&mut s, _mm512_xor_si512(d, carry), powers(k, base + 4 * j));
                carry = _mm512_setzero_si512();
            }
            a = finish(s);
        }
        a
    }
));

vaes_avx512_features!(enable!(
    /// CTR over whole blocks from the counter block `ctr` (generic IVs).
    fn ctr32_impl<const R: usize>(k: &Key, ctr: &mut [u8; 16], buf: &mut [u8]) {
        let mut cv = counters_from(load128(ctr));
        let rk0 = wide(&k.round_keys_wide, 0);
        let mut at = 0;
        while buf.len() - at >= 16 * STRIDE {
            let mut x = next_counters::<VECS>(&mut cv, rk0);
            rounds_with!(k, R, &mut x, 0, [], |_i| {});
            for (j, v) in x.iter().enumerate() {
                store64(
                    buf,
                    at + 64 * j,
                    _mm512_xor_si512(*v, load64(buf, at + 64 * j)),
                );
            }
            at += 16 * STRIDE;
        }
        while at < buf.len() {
            let mut x = next_counters::<1>(&mut cv, rk0);
            rounds_with!(k, R, &mut x, 0, [], |_i| {});
            store_masked(buf, at, _mm512_xor_si512(x[0], load_masked(buf, at)));
            at += 64;
        }
        gcm::add32(ctr, buf.len() / 16);
    }
));

// ---------------------------------------------------------------------------
// Whole messages with a 96-bit IV (SP 800-38D 7.1 and 7.2).

vaes_avx512_features!(enable!(
    /// The ciphertext register of `W` AES outputs `x` at `buf[at..]`
    /// (masked to the buffer's end), written back: returns the ciphertext
    /// blocks, byte-reversed for GHASH, zero past the end of `buf`.
    #[inline]
    pub(crate) fn xor_out<const SEAL: bool, const W: usize>(
        buf: &mut [u8],
        at: usize,
        x: &[__m512i; W],
    ) -> [__m512i; W] {
        let bs = bswap_mask();
        let mut g = [_mm512_setzero_si512(); W];
        for j in 0..W {
            let i = load_masked(buf, at + 64 * j);
            let o = _mm512_xor_si512(i, x[j]);
            store_masked(buf, at + 64 * j, o);
            let c = if SEAL {
                _mm512_maskz_mov_epi8(byte_mask(buf.len().saturating_sub(at + 64 * j)), o)
            } else {
                i
            };
            g[j] = _mm512_shuffle_epi8(c, bs);
        }
        g
    }
));

vaes_avx512_features!(enable!(
    /// Adds `m` ciphertext blocks (`g`, byte-reversed, zero past the last)
    /// and then the length block `len` to the sums, as positions
    /// `first..first + m + 1` of a sequence of `first + m + 1` blocks (the
    /// earlier positions already summed); `acc` joins position `first`.
    #[inline]
    pub(crate) fn sum_tail<const W: usize>(
        k: &Key,
        s: &mut Sums,
        g: &[__m512i; W],
        m: usize,
        first: usize,
        acc: __m128i,
        len: __m128i,
    ) {
        debug_assert!(m <= 4 * W && first.is_multiple_of(4));
        let base = POWERS - (first + m + 1);
        // The length block's register and lane.
        let (lr, ll) = (m / 4, m % 4);
        let lane = 0xf_u16 << (4 * ll);
        for (j, &gj) in g.iter().enumerate() {
            let mut d = gj;
            if j == lr {
                d = _mm512_mask_broadcast_i32x4(d, lane, len);
            }
            if j == 0 {
                d = _mm512_xor_si512(d, _mm512_zextsi128_si512(acc));
            }
            if 4 * j < m + 1 {
                mul_add(s, d, powers(k, base + first + 4 * j));
            }
        }
        if lr == W {
            // m = 4W: the length block alone in a register of its own.
            let mut d = _mm512_zextsi128_si512(len);
            if W == 0 {
                d = _mm512_xor_si512(d, _mm512_zextsi128_si512(acc));
            }
            mul_add(s, d, powers(k, POWERS - 1));
        }
    }
));

vaes_avx512_features!(enable!(
    /// An AAD of 1..=16 bytes (every TLS record's) as block 0 of a short
    /// record's sequence of `m + 2` blocks: its product with `H^(m + 2)`
    /// joins the record's sums, so it needs no reduction of its own and its
    /// multiply runs beside the AES. Longer (or no) AAD: nothing here (the
    /// caller hashed it into `acc`).
    #[inline]
    pub(crate) fn short_aad(k: &Key, s: &mut Sums, aad: &[u8], m: usize) {
        if !aad.is_empty() && aad.len() <= 16 {
            let mask = ((1u32 << aad.len()) - 1) as __mmask16;
            // SAFETY: the mask selects only the aad.len() <= 16 bytes of `aad`.
            let a = unsafe { _mm_maskz_loadu_epi8(mask, aad.as_ptr().cast()) };
            let a = _mm_shuffle_epi8(a, _mm512_castsi512_si128(bswap_mask()));
            mul_add_block(k, s, a, POWERS - (m + 2));
        }
    }
));

vaes_avx512_features!(enable!(
    /// A record of `1..=64 * W` bytes (`W` registers, the last partly
    /// used): one AES batch, then GHASH of its blocks and the length block
    /// from `acc` under one reduction. On open the GHASH reads the
    /// ciphertext before it is decrypted, so it overlaps the AES.
    #[inline]
    fn short<const R: usize, const SEAL: bool, const W: usize>(
        k: &Key,
        buf: &mut [u8],
        mut cv: __m512i,
        (acc, aad): (__m128i, &[u8]),
        len: __m128i,
    ) -> __m128i {
        let m = buf.len().div_ceil(16);
        let mut s = sums_zero();
        short_aad(k, &mut s, aad, m);
        if SEAL {
            let mut x = next_counters::<W>(&mut cv, wide(&k.round_keys_wide, 0));
            rounds_with!(k, R, &mut x, 0, [], |_i| {});
            let g = xor_out::<true, W>(buf, 0, &x);
            sum_tail::<W>(k, &mut s, &g, m, 0, acc, len);
        } else {
            let bs = bswap_mask();
            let mut g = [_mm512_setzero_si512(); W];
            for (j, gj) in g.iter_mut().enumerate() {
                *gj = _mm512_shuffle_epi8(load_masked(buf, 64 * j), bs);
            }
            sum_tail::<W>(k, &mut s, &g, m, 0, acc, len);
            let mut x = next_counters::<W>(&mut cv, wide(&k.round_keys_wide, 0));
            rounds_with!(k, R, &mut x, 0, [], |_i| {});
            xor_out::<false, W>(buf, 0, &x);
        }
        finish(s)
    }
));

vaes_avx512_features!(enable!(
    /// The byte-reversed GHASH input of the [`STRIDE`] blocks at `buf[at..]`.
    #[inline]
    fn group_in(buf: &[u8], at: usize) -> [__m512i; VECS] {
        let bs = bswap_mask();
        let mut g = [_mm512_setzero_si512(); VECS];
        for (j, gj) in g.iter_mut().enumerate() {
            *gj = _mm512_shuffle_epi8(load64(buf, at + 64 * j), bs);
        }
        g
    }
));

vaes_avx512_features!(enable!(
    /// The last `1..=64 * W` bytes of a bulk record, from `at`: their AES
    /// with the GHASH of the pending group at `pend` (seal) riding along,
    /// or with the GHASH of these very blocks (open), then every block
    /// left and the length block under one reduction.
    #[inline]
    fn bulk_end<const R: usize, const SEAL: bool, const W: usize>(
        k: &Key,
        buf: &mut [u8],
        at: usize,
        pend: usize,
        mut cv: __m512i,
        acc: __m128i,
        len: __m128i,
    ) -> __m128i {
        let m = (buf.len() - at).div_ceil(16);
        let mut s = sums_zero();
        let mut x = next_counters::<W>(&mut cv, wide(&k.round_keys_wide, 0));
        if SEAL {
            // Positions 0..STRIDE of STRIDE + m + 1: the pending group.
            let g = group_in(buf, pend);
            let base = POWERS - (STRIDE + m + 1);
            let carry = _mm512_zextsi128_si512(acc);
            rounds_with!(k, R, &mut x, VECS, [s.lo, s.mi, s.hi], |i| {
                let d = if i == 0 {
                    _mm512_xor_si512(g[0], carry)
                } else {
                    g[i]
                };
                mul_add(&mut s, d, powers(k, base + 4 * i));
            });
            let t = xor_out::<true, W>(&mut buf[at..], 0, &x);
            sum_tail::<W>(k, &mut s, &t, m, STRIDE, _mm_setzero_si128(), len);
        } else {
            let bs = bswap_mask();
            let mut g = [_mm512_setzero_si512(); W];
            for (j, gj) in g.iter_mut().enumerate() {
                *gj = _mm512_shuffle_epi8(load_masked(buf, at + 64 * j), bs);
            }
            sum_tail::<W>(k, &mut s, &g, m, 0, acc, len);
            rounds_with!(k, R, &mut x, 0, [], |_i| {});
            xor_out::<false, W>(&mut buf[at..], 0, &x);
        }
        finish(s)
    }
));

vaes_avx512_features!(enable!(
    /// A record of more than [`SHORT_MAX`] bytes: groups of [`STRIDE`]
    /// blocks, each iteration's AES stitched with a group of GHASH, then
    /// [`bulk_end`] for the last 1..=32 blocks (seal) or 0..=31 (open).
    #[inline]
    fn bulk<const R: usize, const SEAL: bool>(
        k: &Key,
        buf: &mut [u8],
        mut cv: __m512i,
        acc: __m128i,
        len: __m128i,
    ) -> __m128i {
        const G: usize = 16 * STRIDE;
        let mut a = acc;
        let mut at = 0;
        let base = POWERS - STRIDE;
        if SEAL {
            // The first group: nothing to hash yet.
            let mut x = group_counters(&mut cv, wide(&k.round_keys_wide, 0));
            rounds_with!(k, R, &mut x, 0, [], |_i| {});
            for (j, v) in x.iter().enumerate() {
                store64(buf, 64 * j, _mm512_xor_si512(*v, load64(buf, 64 * j)));
            }
            at = G;
            while buf.len() - at > G {
                // Key loads stay in the loop (from L1), as in `vaes-avx2`.
                let k = core::hint::black_box(k);
                let g = group_in(buf, at - G);
                let mut x = group_counters(&mut cv, wide(&k.round_keys_wide, 0));
                let mut s = sums_zero();
                let carry = _mm512_zextsi128_si512(a);
                rounds_with!(k, R, &mut x, VECS, [s.lo, s.mi, s.hi], |i| {
                    let d = if i == 0 {
                        _mm512_xor_si512(g[0], carry)
                    } else {
                        g[i]
                    };
                    mul_add(&mut s, d, powers(k, base + 4 * i));
                });
                a = finish(s);
                for (j, v) in x.iter().enumerate() {
                    store64(
                        buf,
                        at + 64 * j,
                        _mm512_xor_si512(*v, load64(buf, at + 64 * j)),
                    );
                }
                at += G;
            }
            let pend = at - G;
            match (buf.len() - at).div_ceil(64) {
                1 => bulk_end::<R, true, 1>(k, buf, at, pend, cv, a, len),
                2 => bulk_end::<R, true, 2>(k, buf, at, pend, cv, a, len),
                3 => bulk_end::<R, true, 3>(k, buf, at, pend, cv, a, len),
                4 => bulk_end::<R, true, 4>(k, buf, at, pend, cv, a, len),
                5 => bulk_end::<R, true, 5>(k, buf, at, pend, cv, a, len),
                6 => bulk_end::<R, true, 6>(k, buf, at, pend, cv, a, len),
                7 => bulk_end::<R, true, 7>(k, buf, at, pend, cv, a, len),
                _ => bulk_end::<R, true, 8>(k, buf, at, pend, cv, a, len),
            }
        } else {
            while buf.len() - at >= G {
                let k = core::hint::black_box(k);
                let g = group_in(buf, at);
                let mut x = group_counters(&mut cv, wide(&k.round_keys_wide, 0));
                let mut s = sums_zero();
                let carry = _mm512_zextsi128_si512(a);
                rounds_with!(k, R, &mut x, VECS, [s.lo, s.mi, s.hi], |i| {
                    let d = if i == 0 {
                        _mm512_xor_si512(g[0], carry)
                    } else {
                        g[i]
                    };
                    mul_add(&mut s, d, powers(k, base + 4 * i));
                });
                a = finish(s);
                for (j, v) in x.iter().enumerate() {
                    store64(
                        buf,
                        at + 64 * j,
                        _mm512_xor_si512(*v, load64(buf, at + 64 * j)),
                    );
                }
                at += G;
            }
            match (buf.len() - at).div_ceil(64) {
                0 => {
                    let mut s = sums_zero();
                    sum_tail::<0>(k, &mut s, &[], 0, 0, a, len);
                    finish(s)
                }
                1 => bulk_end::<R, false, 1>(k, buf, at, 0, cv, a, len),
                2 => bulk_end::<R, false, 2>(k, buf, at, 0, cv, a, len),
                3 => bulk_end::<R, false, 3>(k, buf, at, 0, cv, a, len),
                4 => bulk_end::<R, false, 4>(k, buf, at, 0, cv, a, len),
                5 => bulk_end::<R, false, 5>(k, buf, at, 0, cv, a, len),
                6 => bulk_end::<R, false, 6>(k, buf, at, 0, cv, a, len),
                7 => bulk_end::<R, false, 7>(k, buf, at, 0, cv, a, len),
                _ => bulk_end::<R, false, 8>(k, buf, at, 0, cv, a, len),
            }
        }
    }
));

vaes_avx512_features!(enable!(
    /// Seal (`SEAL`) or open with a 96-bit IV, start to tag, in place;
    /// returns the full tag (on open the expected one: the framing compares
    /// it and wipes `buf` on a mismatch).
    fn whole_impl<const R: usize, const SEAL: bool>(
        k: &Key,
        iv: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; 16] {
        let f = Frame::new(iv, aad.len(), buf.len());
        let j0 = from_u128(f.j0);
        let len = from_u128(f.len);
        // A short record's AAD of up to 16 bytes joins its sums (`short_aad`).
        let aad_in_sums = aad.len() <= 16 && buf.len() <= SHORT_MAX;
        let acc = if aad.is_empty() || aad_in_sums {
            _mm_setzero_si128()
        } else if aad.len() <= 16 {
            // A TLS AAD (5 or 13 bytes) before a long record: one block,
            // one 128-bit multiply by H in line, off the critical path (the
            // bulk loop first needs it after a group of AES rounds). As a
            // call to `ghash_bytes` it was about a fifth of the kernel's
            // time for 1 KiB records (profiled, Zen 4).
            aad_block_times_h(aad, load128(&k.h_powers[POWERS - 1]))
        } else {
            ghash_bytes(k, _mm_setzero_si128(), aad)
        };
        let a = (acc, if aad_in_sums { aad } else { &[] });
        // Counters inc32(J0) = IV || 2, ... (SP 800-38D 7.1 step 3).
        let cv = _mm512_add_epi32(
            counters_from(j0),
            _mm512_set_epi32(0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1),
        );
        let s = match buf.len().div_ceil(64) {
            0 => {
                let mut s = sums_zero();
                short_aad(k, &mut s, a.1, 0);
                sum_tail::<0>(k, &mut s, &[], 0, 0, acc, len);
                finish(s)
            }
            1 => short::<R, SEAL, 1>(k, buf, cv, a, len),
            2 => short::<R, SEAL, 2>(k, buf, cv, a, len),
            3 => short::<R, SEAL, 3>(k, buf, cv, a, len),
            4 => short::<R, SEAL, 4>(k, buf, cv, a, len),
            5 => short::<R, SEAL, 5>(k, buf, cv, a, len),
            6 => short::<R, SEAL, 6>(k, buf, cv, a, len),
            7 => short::<R, SEAL, 7>(k, buf, cv, a, len),
            8 => short::<R, SEAL, 8>(k, buf, cv, a, len),
            _ => bulk::<R, SEAL>(k, buf, cv, acc, len),
        };
        // E(K, J0) for the tag: a chain of its own, independent of the
        // data, so the core runs it beside the kernel's rounds. Written
        // after the kernel: before it, LLVM loaded the round keys into
        // registers once for this chain and rebuilt the kernel's broadcasts
        // from them with a `vshufi64x2` per round, a shuffle that competes
        // with the AES rounds for their pipes.
        let ek_j0 = aes_block::<R>(k, j0);
        make_tag(s, ek_j0)
    }
));

const _: () = assert!(
    SHORT_MAX == 8 * 64
        && 16 * STRIDE == SHORT_MAX
        && POWERS > 2 * STRIDE
        && POWERS.is_multiple_of(4)
);

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
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx512` proof.
        *acc = acc_store(unsafe { ghash_bytes(self, acc_load(*acc), blocks) });
    }

    fn encrypt_block(&self, block: &mut [u8; 16]) {
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx512` proof;
        // `block` is 16 writable bytes.
        unsafe {
            let x = aes_block_rounds(self, load128(block));
            _mm_storeu_si128(block.as_mut_ptr().cast(), x);
        }
    }

    fn ctr32(&self, ctr: &mut [u8; 16], buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx512` proof.
        unsafe {
            match self.rounds {
                10 => ctr32_impl::<10>(self, ctr, buf),
                12 => ctr32_impl::<12>(self, ctr, buf),
                _ => ctr32_impl::<14>(self, ctr, buf),
            }
        }
    }

    fn seal_whole(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx512` proof.
        Some(unsafe {
            match self.rounds {
                10 => whole_impl::<10, true>(self, iv, aad, buf),
                12 => whole_impl::<12, true>(self, iv, aad, buf),
                _ => whole_impl::<14, true>(self, iv, aad, buf),
            }
        })
    }

    fn open_whole(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx512` proof.
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
    use super::super::kernel_tests::compare;
    use super::super::{portable, AesGcm, Backend, Kernel};
    use super::{POWERS, SHORT_MAX, STRIDE};
    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// The proof token, or a loud note that this CPU cannot run the tests.
    fn token() -> Option<crate::cpu::VaesAvx512> {
        let t = crate::cpu::VaesAvx512::get();
        if t.is_none() {
            // Straight to the stderr handle: libtest hides `eprintln!` of
            // passing tests.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED on this CPU: vaes-avx512 not available (needs avx512f, avx512bw, \
                 avx512vl, vaes, vpclmulqdq)"
            );
        }
        t
    }

    const B: Backend = Backend::VaesAvx512;

    /// The whole-message path (96-bit IV): every length 0..=1200 (the
    /// short path on 1..=8 registers, the bulk path's first group, one
    /// stitched group and every end length), at every alignment offset in
    /// turn, AAD lengths around the one-block and one-register cuts,
    /// against `portable`, both directions, with a flipped tag bit; plus a
    /// flipped ciphertext bit (the last byte: a masked partial block) and a
    /// truncated tag.
    #[test]
    fn whole_message_path_every_length_to_1200() {
        if token().is_none() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let aad_lens = [5, 13, 0, 16, 17, 1, 64, 65, 600];
        for key_len in [16, 24, 32] {
            let mut key = vec![0u8; key_len];
            rng.fill_bytes(&mut key);
            let fast = AesGcm::with_backend(&key, B).unwrap();
            for len in 0..=1200 {
                let offset = len % 64;
                let aad_len = aad_lens[len % aad_lens.len()];
                let nonce: [u8; 12] = rng.gen();
                compare(B, &mut rng, &key, &nonce, len, aad_len, offset);
                if len == 0 {
                    continue;
                }
                let mut aad = vec![0u8; aad_len];
                rng.fill_bytes(&mut aad);
                let mut buf = vec![0u8; len];
                rng.fill_bytes(&mut buf);
                let tag = fast.seal_in_place_detached(&nonce, &aad, &mut buf).unwrap();
                let mut short = buf.clone();
                fast.open_in_place_detached(&nonce, &aad, &mut short, &tag[..12])
                    .unwrap();
                buf[len - 1] ^= 1 << rng.gen_range(0..8);
                assert!(fast
                    .open_in_place_detached(&nonce, &aad, &mut buf, &tag)
                    .is_err());
                assert!(buf.iter().all(|&b| b == 0), "wiped, len {len}");
            }
        }
    }

    /// Lengths around every multiple of the bulk stride, the register and
    /// the block up to four groups past the short path, every offset.
    #[test]
    fn lengths_straddling_the_strides_at_every_offset() {
        if token().is_none() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(17);
        let mut lens = Vec::new();
        for groups in 0..=5 {
            let base = SHORT_MAX + groups * 16 * STRIDE;
            for d in [
                -65isize, -64, -63, -17, -16, -15, -1, 0, 1, 15, 16, 17, 63, 64, 65,
            ] {
                lens.push((base as isize + d) as usize);
            }
        }
        for key_len in [16, 24, 32] {
            let mut key = vec![0u8; key_len];
            rng.fill_bytes(&mut key);
            for &len in &lens {
                for offset in [0, 1, 15, 16, 33, 63] {
                    let nonce: [u8; 12] = rng.gen();
                    compare(B, &mut rng, &key, &nonce, len, offset % 20, offset);
                }
            }
            for _ in 0..30 {
                let len = rng.gen_range(0..=70_000);
                let nonce: [u8; 12] = rng.gen();
                let aad_len = rng.gen_range(0..=700);
                let offset = rng.gen_range(0..64);
                compare(B, &mut rng, &key, &nonce, len, aad_len, offset);
            }
        }
    }

    /// The generic path (IVs other than 96 bits: CTR and GHASH apart) and
    /// AAD of every length to 600, and some far longer.
    #[test]
    fn aad_lengths_and_nonce_lengths() {
        if token().is_none() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(18);
        let key: [u8; 16] = rng.gen();
        for aad_len in (0..=600).chain([1023, 1024, 1025, 5000]) {
            compare(B, &mut rng, &key, &[7u8; 12], 33, aad_len, 0);
        }
        for nonce_len in [1, 8, 15, 16, 17, 31, 32, 33, 64, 255, 256, 300] {
            let mut nonce = vec![0u8; nonce_len];
            rng.fill_bytes(&mut nonce);
            for len in [0, 1, 16, 200, 511, 512, 513, 4100] {
                compare(B, &mut rng, &key, &nonce, len, 13, len % 7);
            }
        }
    }

    /// The kernel's CTR and GHASH against `portable`'s from a counter block
    /// just below the 32-bit wrap: inc32 wraps to 0 at every position of a
    /// bulk iteration and of the masked tail, without a carry into the
    /// upper 96 bits (SP 800-38D 6.2).
    #[test]
    fn counter_wraps_like_inc32_in_the_kernel() {
        let Some(cpu) = token() else { return };
        let mut rng = ChaCha20Rng::seed_from_u64(19);
        for key_len in [16, 24, 32] {
            let mut key = vec![0u8; key_len];
            rng.fill_bytes(&mut key);
            let fast = super::Key::new(&key, cpu).unwrap();
            let slow = portable::Key::new(&key).unwrap();
            for before_wrap in 1..=(STRIDE as u32 + 2) {
                for blocks in [1, 3, 4, 5, STRIDE - 1, STRIDE, STRIDE + 1, 2 * STRIDE + 7] {
                    let mut ctr: [u8; 16] = rng.gen();
                    ctr[12..].copy_from_slice(&0u32.wrapping_sub(before_wrap).to_be_bytes());
                    let mut data = vec![0u8; 16 * blocks];
                    rng.fill_bytes(&mut data);
                    let (mut c1, mut c2) = (ctr, ctr);
                    let (mut d1, mut d2) = (data.clone(), data.clone());
                    fast.ctr32(&mut c1, &mut d1);
                    slow.ctr32(&mut c2, &mut d2);
                    assert_eq!(d1, d2, "ctr32, {before_wrap} before wrap, {blocks} blocks");
                    assert_eq!(c1, c2, "ctr32 counter");
                    let (mut a1, mut a2) = (fast.acc_zero(), slow.acc_zero());
                    fast.ghash(&mut a1, &data);
                    slow.ghash(&mut a2, &data);
                    assert_eq!(fast.acc_bytes(a1), slow.acc_bytes(a2), "ghash");
                }
            }
        }
    }

    /// The key holds H^POWERS..H^1 and three zero entries: checked against
    /// `portable`'s GHASH of one block times each power.
    #[test]
    fn key_powers_are_h_to_the_i() {
        let Some(cpu) = token() else { return };
        let key = [9u8; 32];
        let fast = super::Key::new(&key, cpu).unwrap();
        assert!(fast.h_powers[POWERS..].iter().all(|e| e == &[0; 16]));
        // GHASH of (1, 0, ..., 0) over n blocks is H^n.
        let slow = portable::Key::new(&key).unwrap();
        for n in [1usize, 2, 31, 32, 33, 65] {
            let mut data = vec![0u8; 16 * n];
            data[0] = 0x80;
            let (mut a1, mut a2) = (fast.acc_zero(), slow.acc_zero());
            fast.ghash(&mut a1, &data);
            slow.ghash(&mut a2, &data);
            assert_eq!(fast.acc_bytes(a1), slow.acc_bytes(a2), "H^{n}");
        }
    }

    #[test]
    fn best_backend_is_vaes_avx512_where_the_cpu_has_it() {
        let has = [
            "avx512f",
            "avx512bw",
            "avx512vl",
            "vaes",
            "vpclmulqdq",
            "avx2",
        ]
        .iter()
        .all(|f| crate::cpu::has(f));
        assert_eq!(B.is_available(), has);
        if has {
            let want = if crate::cpu::zmm_downclocks() {
                Backend::VaesAvx2
            } else {
                B
            };
            assert_eq!(Backend::best(), want);
        }
    }
}
