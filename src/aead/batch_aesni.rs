//! Multi-lane AES-GCM on AES-NI + PCLMULQDQ: the messages of many keys
//! interleaved in one kernel (the batch path of [`super::batch`]).
//!
//! One short message leaves the AES unit idle most of the time: its few
//! counter blocks, E(K, J0), and a GHASH chain of a handful of dependent
//! multiplications are all latency, and the single-stream driver computes
//! E(K, J0) and the AAD, tail and length blocks one after the other. Here a
//! chunk of short messages (each with its own key) is processed in two
//! passes, each a run of independent work:
//!
//! ```text
//!  CTR pass:    message after message, E(K, J0) and the counter blocks in
//!               one 8-wide AES call per 8 blocks (a 64-byte record: one call):
//!                 [J0, ctr+1, .., ctr+7] ─▶ AES ×8 ─▶ E(K,J0), XOR into the payload
//!               (calls of consecutive messages are independent chains)
//!  GHASH pass:  8 messages side by side (independent chains, round robin),
//!               each absorbing up to 8 blocks per reduction with its own
//!               H^8..H^1 (SP 800-38D 6.4, aggregated):
//!                 acc' = (acc ^ X0)·H^8 ^ X1·H^7 ^ ... ^ X7·H
//!               over  A || 0-pad || C || 0-pad || [len(A)]_64 || [len(C)]_64
//!  tag       =  E(K, J0) ^ S                                   (SP 800-38D 7.1)
//! ```
//!
//! Sealing runs CTR then GHASH; opening runs E(K, J0) and GHASH first,
//! compares the tags in constant time, and decrypts only the messages that
//! authenticate (the others are zeroed): no unauthenticated plaintext ever
//! exists.
//!
//! GHASH uses the byte-reflected representation of the `aesni-clmul` and
//! `vaes-avx2` keys: a block is byte-reversed into a register, the key powers
//! are stored as `H^k · x^-1 mod P`, so a carry-less product followed by the
//! two-fold reduction modulo the reflected polynomial (constant
//! `0xc2000000_00000000`) gives the reflected field product exactly.
//! Nonces are 96-bit (the batch API's), so J0 = nonce || 0x00000001 and the
//! counter of payload block p is p + 2 (inc32, SP 800-38D 6.2).

use crate::cpu::AesClmul;
use core::arch::x86_64::*;
use subtle::ConstantTimeEq;

/// AES blocks in flight in the CTR pass.
const WAYS: usize = 8;
/// Messages absorbed side by side in the GHASH pass.
const GLANES: usize = 8;
/// Blocks a message absorbs per GHASH reduction (needs H^1..H^AGG).
pub(crate) const AGG: usize = 8;

/// The per-key material a lane needs, borrowed from the key: round keys
/// and the powers H^1..H^AGG.
#[derive(Clone, Copy)]
pub(crate) struct LaneKey<'k> {
    /// Round keys 0..=rounds, as AESENC takes them from memory.
    rk: &'k [[u8; 16]],
    /// The key's table of powers `H^k · x^-1 mod P` (byte-reflected
    /// registers as 16 bytes), and where H^1 is in it.
    powers: &'k [[u8; 16]],
    h1: usize,
    /// +1 when H^(k+1) follows H^k in `powers`, -1 when it precedes it.
    ascending: bool,
}

impl<'k> LaneKey<'k> {
    /// `rk`: round keys 0..=rounds (11, 13 or 15 entries); `powers`: a
    /// table holding H^1..H^AGG (as `H^k · x^-1 mod P` in the byte-reflected
    /// register form) consecutively, H^1 at index `h1`, ascending or
    /// descending.
    pub(crate) fn new(
        rk: &'k [[u8; 16]],
        powers: &'k [[u8; 16]],
        h1: usize,
        ascending: bool,
    ) -> LaneKey<'k> {
        assert!(matches!(rk.len(), 11 | 13 | 15), "AES round keys");
        let last = if ascending {
            h1 + AGG - 1
        } else {
            h1 + 1 - AGG
        };
        assert!(h1 < powers.len() && last < powers.len(), "H^1..H^AGG");
        LaneKey {
            rk,
            powers,
            h1,
            ascending,
        }
    }

    fn rounds(&self) -> usize {
        self.rk.len() - 1
    }

    /// H^(p + 1), p < AGG.
    #[inline]
    fn power(&self, p: usize) -> &[u8; 16] {
        let at = if self.ascending {
            self.h1 + p
        } else {
            self.h1 - p
        };
        &self.powers[at]
    }
}

/// One message of a chunk: key, 96-bit nonce, AAD, buffer, and the tag
/// (written when sealing; the received one when opening).
pub(crate) struct Lane<'k, 'b> {
    key: LaneKey<'k>,
    nonce: &'b [u8; 12],
    aad: &'b [u8],
    buf: &'b mut [u8],
    tag: &'b mut [u8; 16],
    /// E(K, J0), then the computed tag E(K, J0) ^ S.
    ek0: [u8; 16],
    /// Mid-size path: GHASH so far (byte-reflected) and the keystream of
    /// the partial last block.
    acc: __m128i,
    tail_ks: [u8; 16],
    /// Whether the CTR pass touches this lane's payload.
    crypt: bool,
}

impl<'k, 'b> Lane<'k, 'b> {
    pub(crate) fn new(
        key: LaneKey<'k>,
        nonce: &'b [u8; 12],
        aad: &'b [u8],
        buf: &'b mut [u8],
        tag: &'b mut [u8; 16],
    ) -> Self {
        Lane {
            key,
            nonce,
            aad,
            buf,
            tag,
            ek0: [0; 16],
            // SAFETY: SSE2 is part of the x86_64 baseline.
            acc: unsafe { _mm_setzero_si128() },
            tail_ks: [0; 16],
            crypt: true,
        }
    }

    /// Mid-size path: the first counter block after J0 (nonce || 2), the
    /// GHASH value after the AAD, and the whole blocks of the payload, for
    /// the backend's stitched kernel.
    pub(crate) fn bulk_parts(&mut self) -> ([u8; 16], &mut __m128i, &mut [u8]) {
        let mut ctr = [0u8; 16];
        ctr[..12].copy_from_slice(self.nonce);
        ctr[15] = 2;
        let whole = self.buf.len() & !15;
        (ctr, &mut self.acc, &mut self.buf[..whole])
    }
}

/// Mid-size sealing, first half, across lanes: E(K, J0) and the keystream
/// of the partial last block (counter `2 + whole blocks`, inc32 from J0) in
/// one AES call per lane, and the GHASH of the AAD. Then the caller runs the
/// backend's stitched kernel over each lane's whole blocks
/// ([`Lane::bulk_parts`]), and [`mid_finish`] does the tail, the length
/// block and the tag. The per-message steps the single-stream driver does
/// one after the other thus overlap across messages.
pub(crate) fn mid_start(cpu: AesClmul, lanes: &mut [Lane<'_, '_>]) {
    let _ = cpu;
    let Some(rounds) = same_rounds(lanes) else {
        return;
    };
    // SAFETY: the token proves the feature list; rounds checked.
    unsafe {
        match rounds {
            10 => mid_start_impl::<10>(lanes),
            12 => mid_start_impl::<12>(lanes),
            _ => mid_start_impl::<14>(lanes),
        }
    }
}

/// Mid-size sealing, second half: the partial last block, GHASH of it and
/// of the length block, and the tag.
pub(crate) fn mid_finish(cpu: AesClmul, lanes: &mut [Lane<'_, '_>]) {
    let _ = cpu;
    // SAFETY: the token proves the feature list.
    unsafe { mid_finish_impl(lanes) }
}

/// Seals every lane in place and sets its tag. All lanes must have the same
/// number of rounds.
pub(crate) fn seal(cpu: AesClmul, lanes: &mut [Lane<'_, '_>]) {
    let _ = cpu;
    let Some(rounds) = same_rounds(lanes) else {
        return;
    };
    // SAFETY: the `AesClmul` token proves the CPU has every feature of
    // `aesni_clmul_features!`; `same_rounds` checked the round count.
    unsafe {
        match rounds {
            10 => ctr_pass::<10>(lanes, true),
            12 => ctr_pass::<12>(lanes, true),
            _ => ctr_pass::<14>(lanes, true),
        }
        ghash_pass(lanes);
    }
    for l in lanes.iter_mut() {
        *l.tag = l.ek0;
    }
}

/// Opens every lane in place: `ok[i]` says whether lane i authenticated;
/// lanes that did not are zeroed. All lanes must have the same number of
/// rounds.
pub(crate) fn open(cpu: AesClmul, lanes: &mut [Lane<'_, '_>], ok: &mut [bool]) {
    let _ = cpu;
    let Some(rounds) = same_rounds(lanes) else {
        return;
    };
    // SAFETY: as in `seal`.
    unsafe {
        for l in lanes.iter_mut() {
            l.crypt = false;
        }
        match rounds {
            10 => ctr_pass::<10>(lanes, true),
            12 => ctr_pass::<12>(lanes, true),
            _ => ctr_pass::<14>(lanes, true),
        }
        ghash_pass(lanes);
        for (l, good) in lanes.iter_mut().zip(ok.iter_mut()) {
            *good = bool::from(l.ek0.ct_eq(&l.tag[..]));
            l.crypt = *good;
            if !*good {
                super::wipe(l.buf);
            }
        }
        match rounds {
            10 => ctr_pass::<10>(lanes, false),
            12 => ctr_pass::<12>(lanes, false),
            _ => ctr_pass::<14>(lanes, false),
        }
    }
}

/// The common round count of the lanes (None if there are no lanes).
fn same_rounds(lanes: &[Lane<'_, '_>]) -> Option<usize> {
    let r = lanes.first()?.key.rounds();
    assert!(
        lanes.iter().all(|l| l.key.rounds() == r),
        "one chunk, one key size"
    );
    Some(r)
}

aesni_clmul_features!(enable!(
    /// Reverses the bytes of a register (GCM block <-> reflected element).
    #[inline]
    fn bswap(x: __m128i) -> __m128i {
        _mm_shuffle_epi8(
            x,
            _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        )
    }
));

aesni_clmul_features!(enable!(
    /// The 16 bytes at `b[at..at + 16]`, or the bytes from `at` to the end
    /// followed by zeros (the 0-padding of SP 800-38D 7.1 step 5). A short
    /// tail is assembled in general registers from overlapping loads, not
    /// stored and reloaded (which would stall store forwarding).
    #[inline]
    fn load_padded(b: &[u8], at: usize) -> __m128i {
        if let Some(s) = b.get(at..at + 16) {
            // SAFETY: the slice is 16 readable bytes; unaligned load.
            return unsafe { _mm_loadu_si128(s.as_ptr().cast()) };
        }
        let r = &b[at.min(b.len())..];
        let n = r.len();
        let word = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("8 bytes"));
        let half = |s: &[u8]| u64::from(u32::from_le_bytes(s.try_into().expect("4 bytes")));
        let (lo, hi) = match n {
            // Bytes 8..n come from the last eight, shifted past the overlap.
            9..=15 => (word(&r[..8]), word(&r[n - 8..]) >> (8 * (16 - n))),
            8 => (word(r), 0),
            4..=7 => (half(&r[..4]) | (half(&r[n - 4..]) << (8 * (n - 4))), 0),
            _ => (
                r.iter()
                    .enumerate()
                    .fold(0u64, |v, (i, &x)| v | (u64::from(x) << (8 * i))),
                0,
            ),
        };
        _mm_set_epi64x(hi as i64, lo as i64)
    }
));

aesni_clmul_features!(enable!(
    /// AES-encrypts `WAYS` blocks under one key: one load per round key.
    ///
    /// # Safety
    ///
    /// `rk` points to `NR + 1` readable round keys.
    #[inline]
    unsafe fn aes_one_key<const NR: usize>(rk: *const [u8; 16], s: &mut [__m128i; WAYS]) {
        // SAFETY: round key 0 is within the caller's `NR + 1` keys.
        let k = unsafe { _mm_loadu_si128(rk.cast()) };
        for v in s.iter_mut() {
            *v = _mm_xor_si128(*v, k);
        }
        for r in 1..NR {
            // SAFETY: r < NR + 1.
            let k = unsafe { _mm_loadu_si128(rk.add(r).cast()) };
            for v in s.iter_mut() {
                *v = _mm_aesenc_si128(*v, k);
            }
        }
        // SAFETY: round key NR is the last of the caller's `NR + 1` keys.
        let k = unsafe { _mm_loadu_si128(rk.add(NR).cast()) };
        for v in s.iter_mut() {
            *v = _mm_aesenclast_si128(*v, k);
        }
    }
));

aesni_clmul_features!(enable!(
    /// The CTR pass: E(K, J0) of every lane into `ek0` (with `j0`), and (with
    /// `crypt` set on a lane) its payload XORed with the keystream of
    /// counters 2, 3, ... Eight blocks of a lane per AES call; consecutive
    /// lanes are independent chains the CPU overlaps.
    ///
    /// # Safety
    ///
    /// Every lane has exactly `NR + 1` round keys.
    unsafe fn ctr_pass<const NR: usize>(lanes: &mut [Lane<'_, '_>], j0: bool) {
        for lane in lanes.iter_mut() {
            assert_eq!(lane.key.rk.len(), NR + 1);
            // nonce || 0^32, built from an 8-byte load and a 4-byte insert
            // (no 16-byte reload of a freshly stored partial block).
            let n = lane.nonce;
            // SAFETY: `n[..8]` is 8 readable bytes.
            let lo = unsafe { _mm_loadl_epi64(n.as_ptr().cast()) };
            let base = _mm_insert_epi32::<2>(lo, i32::from_le_bytes([n[8], n[9], n[10], n[11]]));
            let keys = lane.key.rk.as_ptr();
            let last = if lane.crypt {
                lane.buf.len().div_ceil(16)
            } else {
                0
            };
            // Block b uses counter b + 1: J0 for b = 0, payload block b - 1
            // for b >= 1 (inc32 from J0; 96-bit nonces never wrap here).
            let mut b = if j0 { 0 } else { 1 };
            while b <= last {
                let mut s = [base; WAYS];
                for (i, v) in s.iter_mut().enumerate() {
                    let ctr = ((b + i) as u32).wrapping_add(1);
                    *v = _mm_insert_epi32::<3>(base, ctr.swap_bytes() as i32);
                }
                // SAFETY: `keys` is this lane's `NR + 1` round keys.
                unsafe { aes_one_key::<NR>(keys, &mut s) };
                let n = WAYS.min(last + 1 - b);
                scatter(lane, &s[..n], b);
                b += n;
            }
        }
    }
));

aesni_clmul_features!(enable!(
    /// Puts keystream blocks `first..` of a lane where they belong (block 0
    /// is J0): E(K, J0) into `ek0`,
    /// payload keystream XORed into the buffer (a partial last block only
    /// over its bytes).
    #[inline]
    fn scatter(lane: &mut Lane<'_, '_>, s: &[__m128i], first: usize) {
        for (ks, b) in s.iter().zip(first..) {
            if b == 0 {
                // SAFETY: `ek0` is 16 writable bytes.
                unsafe { _mm_storeu_si128(lane.ek0.as_mut_ptr().cast(), *ks) };
                continue;
            }
            let at = (b - 1) * 16;
            match lane.buf.get_mut(at..at + 16) {
                Some(d) => {
                    // SAFETY: `d` is 16 readable and writable bytes.
                    unsafe {
                        let x = _mm_xor_si128(_mm_loadu_si128(d.as_ptr().cast()), *ks);
                        _mm_storeu_si128(d.as_mut_ptr().cast(), x);
                    }
                }
                None => {
                    let mut k = [0u8; 16];
                    // SAFETY: `k` is 16 writable bytes.
                    unsafe { _mm_storeu_si128(k.as_mut_ptr().cast(), *ks) };
                    for (d, k) in lane.buf[at..].iter_mut().zip(k) {
                        *d ^= k;
                    }
                }
            }
        }
    }
));

/// Unreduced sum of Karatsuba products: low, high and middle parts.
#[derive(Clone, Copy)]
struct Sum {
    lo: __m128i,
    hi: __m128i,
    mid: __m128i,
}

aesni_clmul_features!(enable!(
    #[inline]
    fn sum_zero() -> Sum {
        Sum {
            lo: _mm_setzero_si128(),
            hi: _mm_setzero_si128(),
            mid: _mm_setzero_si128(),
        }
    }
));

aesni_clmul_features!(enable!(
    /// `sum += v · h` (unreduced; `hk` = `h.hi ^ h.lo`).
    #[inline]
    fn mul_add(sum: &mut Sum, v: __m128i, h: __m128i, hk: __m128i) {
        let vk = _mm_xor_si128(v, _mm_shuffle_epi32::<0x4e>(v));
        sum.lo = _mm_xor_si128(sum.lo, _mm_clmulepi64_si128::<0x00>(v, h));
        sum.hi = _mm_xor_si128(sum.hi, _mm_clmulepi64_si128::<0x11>(v, h));
        sum.mid = _mm_xor_si128(sum.mid, _mm_clmulepi64_si128::<0x00>(vk, hk));
    }
));

aesni_clmul_features!(enable!(
    /// Karatsuba recombination, then reduction modulo the reflected
    /// polynomial: two 64-bit folds of the low half, each adding a multiple
    /// of P, and the high half added last.
    #[inline]
    fn reduce(sum: Sum) -> __m128i {
        let mid = _mm_xor_si128(sum.mid, _mm_xor_si128(sum.lo, sum.hi));
        let mut lo = _mm_xor_si128(sum.lo, _mm_slli_si128::<8>(mid));
        let hi = _mm_xor_si128(sum.hi, _mm_srli_si128::<8>(mid));
        let poly = _mm_set_epi64x(0, 0xc200_0000_0000_0000_u64 as i64);
        let t = _mm_clmulepi64_si128::<0x00>(lo, poly);
        lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
        let t = _mm_clmulepi64_si128::<0x00>(lo, poly);
        lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
        _mm_xor_si128(hi, lo)
    }
));

/// Where a lane's GHASH input stands: AAD, then ciphertext, then the
/// length block.
struct Cursor {
    lane: usize,
    acc: __m128i,
    aad_at: usize,
    ct_at: usize,
    len_done: bool,
}

aesni_clmul_features!(enable!(
    /// Up to `AGG` next GHASH input blocks of the lane, byte-reflected;
    /// returns how many.
    #[inline]
    fn gather(lane: &Lane<'_, '_>, c: &mut Cursor, x: &mut [__m128i; AGG]) -> usize {
        if c.aad_at >= lane.aad.len() {
            if let Some(run) = lane.buf.get(c.ct_at..c.ct_at + 16 * AGG) {
                // The bulk of the ciphertext: AGG whole blocks at once.
                for (v, b) in x.iter_mut().zip(run.chunks_exact(16)) {
                    // SAFETY: `b` is 16 readable bytes.
                    *v = bswap(unsafe { _mm_loadu_si128(b.as_ptr().cast()) });
                }
                c.ct_at += 16 * AGG;
                return AGG;
            }
        }
        let mut k = 0;
        while k < AGG {
            if c.aad_at < lane.aad.len() {
                x[k] = bswap(load_padded(lane.aad, c.aad_at));
                c.aad_at += 16;
            } else if c.ct_at < lane.buf.len() {
                x[k] = bswap(load_padded(lane.buf, c.ct_at));
                c.ct_at += 16;
            } else if !c.len_done {
                // [len(A)]_64 || [len(C)]_64 in bits, byte-reversed: the
                // ciphertext length is the low half of the register.
                x[k] = _mm_set_epi64x(
                    (lane.aad.len() as u64 * 8) as i64,
                    (lane.buf.len() as u64 * 8) as i64,
                );
                c.len_done = true;
            } else {
                break;
            }
            k += 1;
        }
        k
    }
));

aesni_clmul_features!(enable!(
    /// `acc' = (acc ^ x0)·H^k ^ x1·H^(k-1) ^ ... ^ x(k-1)·H` with one
    /// reduction.
    #[inline]
    fn absorb(acc: __m128i, x: &[__m128i; AGG], k: usize, key: &LaneKey<'_>) -> __m128i {
        let mut sum = sum_zero();
        for i in 0..k {
            let v = if i == 0 {
                _mm_xor_si128(acc, x[0])
            } else {
                x[i]
            };
            // SAFETY: a power is 16 readable bytes.
            let h = unsafe { _mm_loadu_si128(key.power(k - 1 - i).as_ptr().cast()) };
            let hk = _mm_xor_si128(h, _mm_shuffle_epi32::<0x4e>(h));
            mul_add(&mut sum, v, h, hk);
        }
        reduce(sum)
    }
));

aesni_clmul_features!(enable!(
    /// The GHASH pass: `GLANES` lanes side by side (independent chains the
    /// CPU overlaps), each refilled with the next message when it finishes;
    /// sets every lane's `tag = E(K, J0) ^ S`.
    fn ghash_pass(lanes: &mut [Lane<'_, '_>]) {
        let fresh = |lane| Cursor {
            lane,
            acc: _mm_setzero_si128(),
            aad_at: 0,
            ct_at: 0,
            len_done: false,
        };
        let mut cur: [Option<Cursor>; GLANES] = Default::default();
        let mut next = 0;
        for c in cur.iter_mut() {
            if next < lanes.len() {
                *c = Some(fresh(next));
                next += 1;
            }
        }
        let mut x = [_mm_setzero_si128(); AGG];
        loop {
            let mut busy = false;
            for slot in cur.iter_mut() {
                let Some(c) = slot else { continue };
                busy = true;
                let lane = &lanes[c.lane];
                let k = gather(lane, c, &mut x);
                if k == AGG {
                    c.acc = absorb(c.acc, &x, AGG, &lane.key);
                    continue;
                }
                if k > 0 {
                    c.acc = absorb(c.acc, &x, k, &lane.key);
                    continue;
                }
                let lane = &mut lanes[c.lane];
                // SAFETY: `ek0` is 16 readable and writable bytes.
                unsafe {
                    let e = _mm_loadu_si128(lane.ek0.as_ptr().cast());
                    let t = _mm_xor_si128(bswap(c.acc), e);
                    _mm_storeu_si128(lane.ek0.as_mut_ptr().cast(), t);
                }
                *slot = if next < lanes.len() {
                    next += 1;
                    Some(fresh(next - 1))
                } else {
                    None
                };
            }
            if !busy {
                break;
            }
        }
    }
));

aesni_clmul_features!(enable!(
    /// AES-encrypts two blocks under one key.
    ///
    /// # Safety
    ///
    /// `rk` points to `NR + 1` readable round keys.
    #[inline]
    unsafe fn aes_two<const NR: usize>(rk: *const [u8; 16], s: &mut [__m128i; 2]) {
        // SAFETY: round key 0 is within the caller's `NR + 1` keys.
        let k = unsafe { _mm_loadu_si128(rk.cast()) };
        s[0] = _mm_xor_si128(s[0], k);
        s[1] = _mm_xor_si128(s[1], k);
        for r in 1..NR {
            // SAFETY: r < NR + 1.
            let k = unsafe { _mm_loadu_si128(rk.add(r).cast()) };
            s[0] = _mm_aesenc_si128(s[0], k);
            s[1] = _mm_aesenc_si128(s[1], k);
        }
        // SAFETY: round key NR is the last of the caller's keys.
        let k = unsafe { _mm_loadu_si128(rk.add(NR).cast()) };
        s[0] = _mm_aesenclast_si128(s[0], k);
        s[1] = _mm_aesenclast_si128(s[1], k);
    }
));

aesni_clmul_features!(enable!(
    /// GHASH of `data` zero-padded to whole blocks, continuing from `acc`.
    #[inline]
    fn absorb_bytes(mut acc: __m128i, data: &[u8], key: &LaneKey<'_>) -> __m128i {
        let mut x = [_mm_setzero_si128(); AGG];
        for run in data.chunks(16 * AGG) {
            let k = run.len().div_ceil(16);
            for (i, v) in x.iter_mut().enumerate().take(k) {
                *v = bswap(load_padded(run, 16 * i));
            }
            acc = absorb(acc, &x, k, key);
        }
        acc
    }
));

aesni_clmul_features!(enable!(
    /// See [`mid_start`].
    ///
    /// # Safety
    ///
    /// Every lane has exactly `NR + 1` round keys.
    unsafe fn mid_start_impl<const NR: usize>(lanes: &mut [Lane<'_, '_>]) {
        for lane in lanes.iter_mut() {
            assert_eq!(lane.key.rk.len(), NR + 1);
            let n = lane.nonce;
            // SAFETY: `n[..8]` is 8 readable bytes.
            let lo = unsafe { _mm_loadl_epi64(n.as_ptr().cast()) };
            let base = _mm_insert_epi32::<2>(lo, i32::from_le_bytes([n[8], n[9], n[10], n[11]]));
            let tail_ctr = ((lane.buf.len() / 16) as u32).wrapping_add(2);
            let mut s = [
                _mm_insert_epi32::<3>(base, 1u32.swap_bytes() as i32),
                _mm_insert_epi32::<3>(base, tail_ctr.swap_bytes() as i32),
            ];
            // SAFETY: the lane's `NR + 1` round keys.
            unsafe { aes_two::<NR>(lane.key.rk.as_ptr(), &mut s) };
            // SAFETY: `ek0` and `tail_ks` are 16 writable bytes each.
            unsafe {
                _mm_storeu_si128(lane.ek0.as_mut_ptr().cast(), s[0]);
                _mm_storeu_si128(lane.tail_ks.as_mut_ptr().cast(), s[1]);
            }
            lane.acc = absorb_bytes(_mm_setzero_si128(), lane.aad, &lane.key);
        }
    }
));

aesni_clmul_features!(enable!(
    /// See [`mid_finish`].
    fn mid_finish_impl(lanes: &mut [Lane<'_, '_>]) {
        for lane in lanes.iter_mut() {
            let whole = lane.buf.len() & !15;
            let mut x = [_mm_setzero_si128(); AGG];
            let mut k = 0;
            if whole < lane.buf.len() {
                for (d, ks) in lane.buf[whole..].iter_mut().zip(lane.tail_ks) {
                    *d ^= ks;
                }
                x[0] = bswap(load_padded(lane.buf, whole));
                k = 1;
            }
            x[k] = _mm_set_epi64x(
                (lane.aad.len() as u64 * 8) as i64,
                (lane.buf.len() as u64 * 8) as i64,
            );
            let acc = absorb(lane.acc, &x, k + 1, &lane.key);
            // SAFETY: `ek0` is 16 readable bytes.
            let e = unsafe { _mm_loadu_si128(lane.ek0.as_ptr().cast()) };
            // SAFETY: `tag` is 16 writable bytes.
            unsafe { _mm_storeu_si128(lane.tag.as_mut_ptr().cast(), _mm_xor_si128(bswap(acc), e)) };
        }
    }
));
