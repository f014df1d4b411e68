//! Mid-size records (257..=8192 bytes) of many `vaes-avx2` keys: a
//! software pipeline across records, so no record's first AES group or last
//! GHASH group runs alone.
//!
//! Alone, a record of ~1.4 KiB spends about a third of its time outside the
//! stitched bulk loop of `vaes_avx2::whole_impl`: its first group of counter
//! blocks is encrypted with no GHASH to interleave, and its last ciphertext
//! group, partial block and length block are hashed with no AES to
//! interleave. Here every record is cut into groups of 16 positions and all
//! records' groups form one stream; each step runs the AES rounds of one
//! group stitched with the GHASH multiplies of the group before it in the
//! stream (SP 800-38D 7.1; the GHASH of 6.4 unrolled over 16 blocks, one
//! reduction per step), which for a record's first group is the previous
//! record's last one.
//!
//! ```text
//!   one record, 96-bit IV (SP 800-38D 7.1), nb whole blocks, t = 1 if a partial block:
//!   AES positions   0 .. nb-1      counter IV || p + 2   (data blocks)
//!                   nb (if t)      counter IV || nb + 2  (partial block)
//!                   nb + t         J0 = IV || 1          (E(K, J0) for the tag)
//!   GHASH positions 0 .. nb-1      C_p
//!                   nb (if t)      the partial block, zero padded
//!                   nb + t         [len(A)]_64 || [len(C)]_64
//!   the AAD is hashed when the record starts and joins position 0.
//!   group g = positions 16g .. 16g + 15: the same count of AES and GHASH blocks.
//!
//!   stream of groups  ... a3 | b0 b1 .. b5 | c0 ...
//!   step s:  AES(group s)  +  GHASH(group s - 1)       (b0's AES with a3's GHASH)
//!            one reduction; the accumulator joins the pair multiplied last
//! ```
//!
//! Sealing hashes a group of whole blocks straight from the record's
//! buffer; every other group (a record's last, and every group when
//! opening, whose ciphertext is decrypted before the next step) is staged
//! first in a 256-byte copy in GCM block order, right-aligned, with the
//! zero-padded partial block, the length block and the accumulator it
//! continues from already in place: the step then never borrows two
//! records' buffers and a short group is only zero pairs. Opening computes
//! the expected tag of every record in the same pipeline, then compares
//! each in constant time (SP 800-38D 7.2 step 8) and zeroes the buffer of a
//! record that fails before returning (the engine's decrypt-then-zero).

use super::batch::{OpenJob, SealJob};
use super::vaes_avx2::{
    bcast, bswap128, bswap_mask, ghash_aad, j0_block, len_block, load16, load32, load_pair,
    load_partial, make_tag, store16, store32, store_partial, wide_finish, wide_mul_add, wide_zero,
    Key,
};
use super::{wipe, Error, KeyImpl, MAX_AAD_LEN};
use core::arch::x86_64::*;
use core::borrow::BorrowMut;
use subtle::ConstantTimeEq;

/// Shortest record of this kernel; shorter ones take `batch_vaes`.
const MID_MIN: usize = 257;
/// Longest record of this kernel; longer ones take `batch_vaes` (the
/// single-stream kernel, at its bulk rate there).
const MID_MAX: usize = 8192;
/// Positions per group: one register of AES per pair, 8 registers.
const GROUP: usize = 16;

/// Whether a job of these lengths runs here.
fn is_mid(len: usize, aad_len: usize) -> bool {
    (MID_MIN..=MID_MAX).contains(&len) && aad_len as u64 <= MAX_AAD_LEN
}

/// The `vaes-avx2` key of a job, if that is its backend.
fn vaes_key(key: &super::AesGcm) -> Option<&Key> {
    match &key.imp {
        KeyImpl::VaesAvx2(k) => Some(k),
        _ => None,
    }
}

/// One record of the pipeline: `out` receives the tag (on open, the
/// expected one).
struct Mid<'r> {
    key: &'r Key,
    nonce: &'r [u8; 12],
    aad: &'r [u8],
    buf: &'r mut [u8],
    out: &'r mut [u8; 16],
}

/// Masks for a partial block: the 16 bytes at `16 - n` keep the first `n`.
static TAIL_MASK: [u8; 32] = {
    let mut m = [0u8; 32];
    let mut i = 0;
    while i < 16 {
        m[i] = 0xff;
        i += 1;
    }
    m
};

/// 16 GCM blocks, aligned for the 32-byte loads.
#[repr(C, align(32))]
struct Stage([u8; 32 * 8]);

/// The GHASH input of one group, staged: 16 blocks in GCM order, the
/// group's blocks at the end (a shorter last group is preceded by zero
/// blocks, which add nothing); a short group has the accumulator it
/// continues from XORed into its first block, a whole one takes it as the
/// step's carry. So every step hashes 8 register pairs with H^16..H^1.
struct Pend<'k> {
    bytes: Stage,
    /// The key whose powers of H the group takes.
    key: &'k Key,
    /// The record the group belongs to, and whether it is its last group
    /// (then the step's result is the record's GHASH value S).
    rec: usize,
    last: bool,
    /// E(K, J0) of that record (set when `last`).
    ek_j0: __m128i,
}

/// Where a group of a record falls.
#[derive(Clone, Copy)]
struct Layout {
    /// Whole blocks of the record.
    nb: usize,
    /// Positions of the record: nb, the partial block if any (at
    /// position nb), J0 / the length block.
    total: usize,
}

impl Layout {
    fn of(len: usize) -> Layout {
        let nb = len / 16;
        let t = !len.is_multiple_of(16);
        Layout {
            nb,
            total: nb + usize::from(t) + 1,
        }
    }

    fn groups(self) -> usize {
        self.total.div_ceil(GROUP)
    }

    /// Whether group `g` holds whole data blocks only (the fast path).
    fn plain(self, g: usize) -> bool {
        GROUP * (g + 1) <= self.nb
    }
}

vaes_avx2_features!(enable!(
    /// One pipeline step: AES rounds 1..=R of the counters in `x` (round
    /// key 0 applied) under `ka`, with the GHASH of the staged group `p`
    /// under its key riding the first 8 rounds (one register pair per
    /// round); returns the reduced GHASH value.
    #[inline]
    fn step<const R: usize>(
        ka: &Key,
        x: &mut [__m256i; 8],
        kg: &Key,
        text: &[u8; 256],
        carry: __m128i,
    ) -> __m128i {
        let bs = bswap_mask();
        let mut s = wide_zero();
        for j in 0..8 {
            let rk = bcast(&ka.round_keys[j + 1]);
            for v in x.iter_mut() {
                *v = _mm256_aesenc_epi128(*v, rk);
            }
            // Pairs 1..=7, then pair 0 with the accumulator: the chain from
            // one step's reduction to the next runs through one product.
            let i = (j + 1) % 8;
            let mut d = _mm256_shuffle_epi8(load32(text, 32 * i), bs);
            if i == 0 {
                d = _mm256_xor_si256(d, _mm256_zextsi128_si256(carry));
            }
            wide_mul_add(
                &mut s,
                d,
                load_pair(&kg.h_powers, 2 * i),
                load_pair(&kg.h_karatsuba, 2 * i),
            );
        }
        let a = wide_finish(s);
        for r in 9..R {
            let rk = bcast(&ka.round_keys[r]);
            for v in x.iter_mut() {
                *v = _mm256_aesenc_epi128(*v, rk);
            }
        }
        let rk = bcast(&ka.round_keys[R]);
        for v in x.iter_mut() {
            *v = _mm256_aesenclast_epi128(*v, rk);
        }
        a
    }
));

vaes_avx2_features!(enable!(
    /// The counter blocks of group `g` (GCM byte order, round key 0
    /// applied) from `cv`, the byte-swapped counters of positions 16g and
    /// 16g + 1; J0 replaces the counter at position `total - 1` when it
    /// falls in the group (positions past it are never used).
    #[inline]
    fn counters(cv: __m256i, rk0: __m256i, j0: __m128i, lay: Layout, g: usize) -> [__m256i; 8] {
        let bs = bswap_mask();
        let mut x = [_mm256_setzero_si256(); 8];
        for (i, v) in x.iter_mut().enumerate() {
            let two_i = 2 * i as i32;
            let c = _mm256_add_epi32(cv, _mm256_set_epi32(0, 0, 0, two_i, 0, 0, 0, two_i));
            *v = _mm256_xor_si256(_mm256_shuffle_epi8(c, bs), rk0);
        }
        if !lay.plain(g) {
            let at = lay.total - 1 - GROUP * g;
            if at < GROUP {
                let j = _mm256_xor_si256(_mm256_broadcastsi128_si256(j0), rk0);
                for (i, v) in x.iter_mut().enumerate() {
                    if i == at / 2 {
                        *v = if at.is_multiple_of(2) {
                            _mm256_blend_epi32::<0x0f>(*v, j)
                        } else {
                            _mm256_blend_epi32::<0xf0>(*v, j)
                        };
                    }
                }
            }
        }
        x
    }
));

vaes_avx2_features!(enable!(
    /// A group of whole blocks: XORs the keystream `x` into the buffer at
    /// `base` and stages the ciphertext (after the XOR when sealing, before
    /// it when opening); the accumulator it continues from is the next
    /// step's carry.
    #[inline]
    fn plain<const SEAL: bool>(buf: &mut [u8], base: usize, x: &[__m256i; 8], p: &mut Pend<'_>) {
        for (i, v) in x.iter().enumerate() {
            let at = base + 32 * i;
            let text = load32(buf, at);
            let out = _mm256_xor_si256(text, *v);
            store32(buf, at, out);
            if !SEAL {
                store32(&mut p.bytes.0, 32 * i, text);
            }
        }
    }
));

vaes_avx2_features!(enable!(
    /// A group with the record's end (the last whole blocks, the partial
    /// block, J0 and the length block): XORs the keystream into the buffer
    /// and stages the group's GHASH input (SP 800-38D 7.1 step 5: the
    /// ciphertext, the partial block zero padded, [len(A)]_64 ||
    /// [len(C)]_64) with `acc` joining its first block; returns E(K, J0)
    /// when the group holds J0.
    #[inline]
    fn edge<const SEAL: bool>(
        buf: &mut [u8],
        aad_len: usize,
        lay: Layout,
        g: usize,
        x: &[__m256i; 8],
        p: &mut Pend<'_>,
        acc: __m128i,
    ) -> Option<__m128i> {
        let first = GROUP * g;
        let count = (lay.total - first).min(GROUP);
        // SAFETY: `__m256i` is 32 plain bytes, so 8 of them are 256 bytes
        // with no padding and every bit pattern a valid `u8`.
        let ks: [u8; 256] = unsafe { core::mem::transmute(*x) };
        // Slot k of the staging holds position first + k - off.
        let off = GROUP - count;
        let mut carry = bswap128(acc);
        let mut slots = [_mm_setzero_si128(); GROUP];
        for (i, slot) in slots[off..].iter_mut().enumerate() {
            let pos = first + i;
            let ks_i = load16(&ks, 16 * i);
            let block = if pos < lay.nb {
                let text = load16(buf, 16 * pos);
                let out = _mm_xor_si128(text, ks_i);
                store16(buf, 16 * pos, out);
                if SEAL {
                    out
                } else {
                    text
                }
            } else if pos == lay.total - 1 {
                bswap128(len_block(aad_len, buf.len()))
            } else {
                let tail = &mut buf[16 * lay.nb..];
                let text = load_partial(tail);
                let out = _mm_xor_si128(text, ks_i);
                store_partial(tail, out);
                if SEAL {
                    // The ciphertext zero padded.
                    _mm_and_si128(out, load16(&TAIL_MASK, 16 - tail.len()))
                } else {
                    text
                }
            };
            *slot = _mm_xor_si128(block, carry);
            carry = _mm_setzero_si128();
        }
        // Whole 32-byte stores, which the step's loads forward from.
        for (j, pair) in slots.chunks_exact(2).enumerate() {
            store32(&mut p.bytes.0, 32 * j, _mm256_set_m128i(pair[1], pair[0]));
        }
        let q = lay.total - 1;
        (q < first + GROUP).then(|| load16(&ks, 16 * (q - first)))
    }
));

vaes_avx2_features!(enable!(
    /// Seals (`SEAL`) or computes the expected tags of (open) every record
    /// of `recs` in one pipeline; on open the buffers are decrypted.
    fn run<const R: usize, const SEAL: bool>(recs: &mut [Mid<'_>]) {
        let Some(first) = recs.first() else {
            return;
        };
        // Nothing staged yet: zero blocks hash to zero.
        let mut pend = Pend {
            bytes: Stage([0; 256]),
            key: first.key,
            rec: 0,
            last: false,
            ek_j0: _mm_setzero_si128(),
        };
        // The accumulator the staged group continues from, when it is not
        // in the staging already (a group of whole blocks).
        let mut carry = _mm_setzero_si128();
        for r in 0..recs.len() {
            let key = recs[r].key;
            let lay = Layout::of(recs[r].buf.len());
            let j0 = j0_block(recs[r].nonce);
            let rk0 = bcast(&key.round_keys[0]);
            // inc32(J0) and the next (SP 800-38D 7.1 step 3), byte-swapped.
            let mut cv = _mm256_add_epi32(
                _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(j0), bswap_mask()),
                _mm256_set_epi32(0, 0, 0, 2, 0, 0, 0, 1),
            );
            let aad_acc = ghash_aad(key, recs[r].aad);
            let aad_len = recs[r].aad.len();
            let groups = lay.groups();
            for g in 0..groups {
                let mut x = counters(cv, rk0, j0, lay, g);
                cv = _mm256_add_epi32(cv, _mm256_set_epi32(0, 0, 0, 16, 0, 0, 0, 16));
                // AES of this group with the GHASH of the staged one
                // before it (this record's, or the previous record's last);
                // then this group is staged, continuing from that result.
                // Sealing after a group of whole blocks of this record:
                // its ciphertext straight from the buffer.
                let (kg, text): (&Key, &[u8; 256]) = if SEAL && g > 0 && lay.plain(g - 1) {
                    let prev = &recs[r].buf[256 * (g - 1)..256 * g];
                    (key, prev.try_into().unwrap())
                } else {
                    (pend.key, &pend.bytes.0)
                };
                let a = step::<R>(key, &mut x, kg, text, carry);
                if pend.last {
                    *recs[pend.rec].out = make_tag(a, pend.ek_j0);
                }
                let from = if g == 0 { aad_acc } else { a };
                let buf = &mut *recs[r].buf;
                if lay.plain(g) {
                    plain::<SEAL>(buf, 256 * g, &x, &mut pend);
                    carry = from;
                } else {
                    if let Some(e) = edge::<SEAL>(buf, aad_len, lay, g, &x, &mut pend, from) {
                        pend.ek_j0 = e;
                    }
                    carry = _mm_setzero_si128();
                }
                pend.key = key;
                pend.rec = r;
                pend.last = g + 1 == groups;
            }
        }
        if pend.last {
            // The last record's last group: its GHASH alone (the AES of
            // the step is discarded).
            let mut x = [_mm256_setzero_si256(); 8];
            let a = step::<R>(pend.key, &mut x, pend.key, &pend.bytes.0, carry);
            *recs[pend.rec].out = make_tag(a, pend.ek_j0);
        }
    }
));

/// [`run`] for the group's key size.
fn dispatch<const SEAL: bool>(rounds: usize, recs: &mut [Mid<'_>]) {
    // SAFETY: every record's key is a `vaes-avx2` key, which exists only
    // with the `cpu::VaesAvx2` proof.
    unsafe {
        match rounds {
            10 => run::<10, SEAL>(recs),
            12 => run::<12, SEAL>(recs),
            _ => run::<14, SEAL>(recs),
        }
    }
}

/// Seals a group of `vaes-avx2` jobs (one key size): mid-size records
/// through the pipeline, the others through [`super::batch_vaes`].
pub(crate) fn seal_group<'a, J: BorrowMut<SealJob<'a>>>(group: &mut [J]) {
    let mid = |j: &SealJob<'_>| is_mid(j.buf.len(), j.aad.len());
    let n = group.iter().filter(|j| mid((*j).borrow())).count();
    if n == 0 {
        return super::batch_vaes::seal_group(group);
    }
    let rounds = vaes_key(group[0].borrow().key).map_or(10, |k| k.rounds);
    {
        let mut recs: Vec<Mid<'_>> = group
            .iter_mut()
            .map(|j| j.borrow_mut())
            .filter(|j| mid(j))
            .map(|j| Mid {
                key: vaes_key(j.key).expect("a vaes-avx2 group"),
                nonce: &j.nonce,
                aad: j.aad,
                buf: &mut *j.buf,
                out: &mut j.tag,
            })
            .collect();
        dispatch::<true>(rounds, &mut recs);
    }
    if n < group.len() {
        let mut rest: Vec<&mut SealJob<'a>> = group
            .iter_mut()
            .map(|j| j.borrow_mut())
            .filter(|j| !mid(j))
            .collect();
        super::batch_vaes::seal_group(&mut rest);
    }
}

/// Opens a group of `vaes-avx2` jobs (one key size), as [`seal_group`]:
/// each result is set; a job that fails to authenticate has its buffer
/// zeroed.
pub(crate) fn open_group(group: &mut [(&mut OpenJob<'_>, &mut Result<(), Error>)]) {
    let mid = |j: &OpenJob<'_>| is_mid(j.buf.len(), j.aad.len());
    let n = group.iter().filter(|(j, _)| mid(j)).count();
    if n == 0 {
        return super::batch_vaes::open_group(group);
    }
    let rounds = vaes_key(group[0].0.key).map_or(10, |k| k.rounds);
    let mut expected = vec![[0u8; 16]; n];
    {
        let mut recs: Vec<Mid<'_>> = group
            .iter_mut()
            .filter(|(j, _)| mid(j))
            .zip(expected.iter_mut())
            .map(|((j, _), e)| Mid {
                key: vaes_key(j.key).expect("a vaes-avx2 group"),
                nonce: &j.nonce,
                aad: j.aad,
                buf: &mut *j.buf,
                out: e,
            })
            .collect();
        dispatch::<false>(rounds, &mut recs);
    }
    for ((j, r), e) in group.iter_mut().filter(|(j, _)| mid(j)).zip(&expected) {
        // One 128-bit constant-time comparison (SP 800-38D 7.2 step 8).
        let ok = u128::from_ne_bytes(*e).ct_eq(&u128::from_ne_bytes(j.tag));
        **r = if bool::from(ok) {
            Ok(())
        } else {
            wipe(j.buf);
            Err(Error::Authentication)
        };
    }
    if n < group.len() {
        let mut rest: Vec<(&mut OpenJob<'_>, &mut Result<(), Error>)> = group
            .iter_mut()
            .filter(|(j, _)| !mid(j))
            .map(|(j, r)| (&mut **j, &mut **r))
            .collect();
        super::batch_vaes::open_group(&mut rest);
    }
}
