//! Multi-record AES-GCM on 512-bit registers (VAES and VPCLMULQDQ with
//! AVX-512): the batch path for `vaes-avx512` keys.
//!
//! A short record alone is a latency chain: ten to fourteen dependent AES
//! rounds, then the GHASH of its ciphertext, one reduction and the tag,
//! with the AES units idle most of the time (a record of 64 bytes is one
//! `zmm`: one instruction per round where the unit could start one every
//! cycle), plus the fixed cost of a call through the single-record API.
//! Here records of up to [`SHORT_MAX`] bytes (one per connection: own key,
//! nonce, AAD and length) run [`WAYS`] at a time through one straight-line
//! kernel, their AES rounds interleaved round by round, each record with
//! its own round keys (broadcast to the four lanes) and its own powers of H.
//!
//! ```text
//!   length     shape W (zmm)   kernel
//!   1..=256    1..=4           short::<W, G>: G = WAYS records of shape W
//!                              (consecutive sealing jobs of a shape: `run`,
//!                              all their sets in one call); 1..WAYS left
//!                              over: short::<W, 1> each
//!   0, longer                  the key's whole-message kernel, record by record
//!
//!   one record, 96-bit IV (SP 800-38D 7.1), nb = its blocks (a partial one counted):
//!     zmm j, lane l:  data block p = 4 j + l, counter block IV || p + 2
//!                     = J0 ^ (p + 2 ^ 1) in byte 15 (p + 2 <= 17: no carry)
//!     E(K, J0):       a 128-bit chain per record beside the zmm rounds
//!   GHASH input, one reduction per record:
//!     [AAD block, 1..=16 bytes]  C_0 .. C_{nb-1} (the last masked)  [len(A)]_64 || [len(C)]_64
//!       x H^(nb+2)                 x H^(nb+1) .. H^2                  x H^1
//!   longer AAD is hashed first (Y_A) and joins C_0.
//!   T = E(K, J0) ^ S
//! ```
//!
//! Opening hashes the received ciphertext in the same pass as it decrypts;
//! the expected tag is compared in constant time (SP 800-38D 7.2 step 8)
//! and the buffer of a record that fails is zeroed before the call returns,
//! so no unauthenticated plaintext is released.

// A kernel file: SIMD intrinsics, each unsafe block with its SAFETY bound.
#![allow(unsafe_code)]

use super::job::{Gather, OpenJob, SealJob};
use super::{open_one, seal_one};
use crate::aead::gcm;
use crate::aead::vaes_avx2::{from_u128, make_tag};
use crate::aead::vaes_avx512::{
    bcast, bswap_mask, byte_mask, finish, ghash_bytes, load128, load64, load_masked, mul_add,
    powers, store64, store_masked, sums_zero, Key, Sums, POWERS,
};
use crate::aead::Error;
use core::arch::x86_64::*;
use core::borrow::BorrowMut;

/// Longest record of this file's kernels: 16 blocks, 4 `zmm`. Beyond it
/// the whole-message kernel's 32-block stitched loop is as fast per byte.
pub(crate) const SHORT_MAX: usize = 256;
/// The largest shape, in `zmm` registers.
const MAX_W: usize = SHORT_MAX / 64;
/// Records per [`short`] call: AES has a latency of several cycles and
/// the unit starts one `zmm` round per cycle, so a record of one register
/// leaves it idle unless several records' rounds interleave.
const WAYS: usize = 4;

/// The `zmm` registers of a record of `1..=SHORT_MAX` bytes.
fn shape(len: usize) -> usize {
    len.div_ceil(64)
}

/// Where a record goes, by its length.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// [`short`], [`WAYS`] records of the same shape at a time.
    Multi(usize),
    /// The key's whole-message kernel (empty and long records).
    Single,
}

fn path(len: usize) -> Path {
    if len == 0 || len > SHORT_MAX {
        Path::Single
    } else {
        Path::Multi(shape(len))
    }
}

/// One record in the kernel: borrowed from a job.
struct Rec<'r> {
    key: &'r Key,
    nonce: &'r [u8; 12],
    aad: &'r [u8],
    buf: &'r mut [u8],
    /// Seal: the tag. Open: the expected tag.
    tag: &'r mut [u8; 16],
}

/// The `vaes-avx512` key of a job of a `vaes-avx512` group.
fn key_of(key: &crate::aead::AesGcm) -> &Key {
    key.vaes_avx512().expect("a vaes-avx512 group")
}

/// A sealing job as a kernel record.
fn seal_rec<'r>(j: &'r mut SealJob<'_>) -> Rec<'r> {
    Rec {
        key: key_of(j.key),
        nonce: &j.nonce,
        aad: j.aad,
        buf: &mut *j.buf,
        tag: &mut j.tag,
    }
}

/// An opening job as a kernel record writing the expected tag to `tag`.
fn open_rec<'r>(j: &'r mut OpenJob<'_>, tag: &'r mut [u8; 16]) -> Rec<'r> {
    Rec {
        key: key_of(j.key),
        nonce: &j.nonce,
        aad: j.aad,
        buf: &mut *j.buf,
        tag,
    }
}

/// Seals a group of `vaes-avx512` jobs (one key size). Short jobs of a
/// shape gather as they come (no sort, no allocation) and run [`WAYS`] at
/// a time; the ones left over run one at a time at the end. `rounds` is
/// the group's AES round count.
pub(crate) fn seal_group<'a, J: BorrowMut<SealJob<'a>>>(rounds: usize, group: &mut [J]) {
    let mut waiting = [Gather::<WAYS>::EMPTY; MAX_W + 1];
    let mut i = 0;
    while i < group.len() {
        match path(group[i].borrow().buf.len()) {
            Path::Single => seal_one(group[i].borrow_mut()),
            Path::Multi(w) => {
                // Consecutive jobs of one shape (the common case: records
                // of one size) go to the kernel as a run, whole sets in one
                // call.
                let run = group[i..]
                    .iter()
                    .take_while(|j| path(j.borrow().buf.len()) == Path::Multi(w))
                    .count();
                let run = run - run % WAYS;
                if waiting[w].is_empty() && run > 0 {
                    let (sets, _) = group[i..i + run].as_chunks_mut::<WAYS>();
                    let mut sets = sets
                        .iter_mut()
                        .map(|set| set.each_mut().map(|j| j.borrow_mut()));
                    seal_sets(&mut sets, rounds, w);
                    i += run;
                    continue;
                }
                if let Some(full) = waiting[w].push(i) {
                    let jobs = group.get_disjoint_mut(full).expect("distinct jobs");
                    let set = jobs.map(|j| j.borrow_mut());
                    seal_sets(&mut core::iter::once(set), rounds, w);
                }
            }
        }
        i += 1;
    }
    for (w, g) in waiting.iter().enumerate() {
        for &i in g.waiting() {
            let mut recs = [seal_rec(group[i].borrow_mut())];
            dispatch::<true, 1>(rounds, w, &mut recs);
        }
    }
}

/// Opens jobs `idx` of the group (distinct, all of shape `w`) in one
/// [`short`] call and sets their results.
fn open_set<const G: usize>(
    group: &mut [(&mut OpenJob<'_>, &mut Result<(), Error>)],
    idx: [usize; G],
    rounds: usize,
    w: usize,
) {
    let mut jobs = group.get_disjoint_mut(idx).expect("distinct jobs");
    let mut expected = [[0u8; 16]; G];
    {
        let mut it = jobs
            .iter_mut()
            .zip(expected.iter_mut())
            .map(|((j, _), e)| open_rec(j, e));
        let mut recs: [Rec<'_>; G] =
            core::array::from_fn(|_| it.next().expect("one record per job"));
        dispatch::<false, G>(rounds, w, &mut recs);
    }
    for ((j, r), e) in jobs.iter_mut().zip(&expected) {
        **r = gcm::verdict(e, &j.tag, j.buf);
    }
}

/// Opens a group of `vaes-avx512` jobs (one key size), in the order of
/// [`seal_group`]: each result is set; a job that fails to authenticate
/// has its buffer zeroed. `rounds` is the group's AES round count.
pub(crate) fn open_group(rounds: usize, group: &mut [(&mut OpenJob<'_>, &mut Result<(), Error>)]) {
    let mut waiting = [Gather::<WAYS>::EMPTY; MAX_W + 1];
    for i in 0..group.len() {
        match path(group[i].0.buf.len()) {
            Path::Single => {
                let (j, r) = &mut group[i];
                **r = open_one(j);
            }
            Path::Multi(w) => {
                if let Some(full) = waiting[w].push(i) {
                    open_set(group, full, rounds, w);
                }
            }
        }
    }
    for (w, g) in waiting.iter().enumerate() {
        for &i in g.waiting() {
            open_set(group, [i], rounds, w);
        }
    }
}

/// The [`short`] instance for (rounds, shape, records at once).
fn dispatch<const SEAL: bool, const G: usize>(rounds: usize, w: usize, recs: &mut [Rec<'_>; G]) {
    macro_rules! by_shape {
        ($R:literal) => {
            // SAFETY: a `Key` exists only with the `cpu::VaesAvx512` proof,
            // and every record holds one.
            unsafe {
                match w {
                    1 => short::<$R, 1, G, SEAL>(recs),
                    2 => short::<$R, 2, G, SEAL>(recs),
                    3 => short::<$R, 3, G, SEAL>(recs),
                    _ => short::<$R, 4, G, SEAL>(recs),
                }
            }
        };
    }
    match rounds {
        10 => by_shape!(10),
        12 => by_shape!(12),
        _ => by_shape!(14),
    }
}

/// A set of sealing jobs: their references, not records built in memory,
/// cross the `dyn` boundary below, so the kernel reads the jobs' fields
/// with plain loads (records moved through memory are read back with
/// wide loads that miss store forwarding).
type JobSet<'r, 'a> = [&'r mut SealJob<'a>; WAYS];

/// The [`run`] instance for (rounds, shape): `sets` of [`WAYS`] jobs of
/// shape `w`, to seal.
fn seal_sets(sets: &mut dyn Iterator<Item = JobSet<'_, '_>>, rounds: usize, w: usize) {
    macro_rules! by_shape {
        ($R:literal) => {
            // SAFETY: a `Key` exists only with the `cpu::VaesAvx512` proof,
            // and every job of a `vaes-avx512` group holds one.
            unsafe {
                match w {
                    1 => run::<$R, 1>(sets),
                    2 => run::<$R, 2>(sets),
                    3 => run::<$R, 3>(sets),
                    _ => run::<$R, 4>(sets),
                }
            }
        };
    }
    match rounds {
        10 => by_shape!(10),
        12 => by_shape!(12),
        _ => by_shape!(14),
    }
}

vaes_avx512_features!(enable!(
    /// Seals sets of [`WAYS`] jobs of shape `W`, one [`short`] after the
    /// other in one call (no dispatch or set-up per set).
    fn run<const R: usize, const W: usize>(sets: &mut dyn Iterator<Item = JobSet<'_, '_>>) {
        for set in sets {
            let mut recs = set.map(seal_rec);
            short::<R, W, WAYS, true>(&mut recs);
        }
    }
));

/// Byte 15 of each lane of the counter offsets: lane l of register j holds
/// data block p = 4 j + l, whose counter block is J0 with byte 15 set to
/// p + 2, that is J0 ^ (p + 2 ^ 1) there (J0 ends in 1).
const fn counter_offsets() -> [[u8; 64]; MAX_W] {
    let mut t = [[0u8; 64]; MAX_W];
    let mut j = 0;
    while j < MAX_W {
        let mut l = 0;
        while l < 4 {
            t[j][16 * l + 15] = ((4 * j + l + 2) ^ 1) as u8;
            l += 1;
        }
        j += 1;
    }
    t
}
static COUNTER_OFFSETS: [[u8; 64]; MAX_W] = counter_offsets();

vaes_avx512_features!(enable!(
    /// `G` records of shape `W` (each `shape(len) == W`), sealed (`SEAL`)
    /// or opened, from J0 to the tag: their AES rounds interleaved round by
    /// round (W zmm and one 128-bit E(K, J0) chain per record), then each
    /// record's CTR, GHASH and tag, independent chains the out-of-order
    /// core overlaps.
    #[inline]
    fn short<const R: usize, const W: usize, const G: usize, const SEAL: bool>(
        recs: &mut [Rec<'_>; G],
    ) {
        let zero = _mm512_setzero_si512();
        let mut x = [[zero; W]; G];
        let mut e = [_mm_setzero_si128(); G];
        for g in 0..G {
            let r = &recs[g];
            // The record's shape, checked: it bounds the accesses below.
            assert!(
                shape(r.buf.len()) == W && !r.buf.is_empty(),
                "a record of shape W"
            );
            let j0 = _mm_xor_si128(
                from_u128(gcm::j0_of(r.nonce)),
                load128(&r.key.round_keys[0]),
            );
            e[g] = j0;
            let base = _mm512_broadcast_i32x4(j0);
            for (j, v) in x[g].iter_mut().enumerate() {
                // SAFETY: the table holds MAX_W >= W registers of 64 bytes.
                let off = unsafe { _mm512_loadu_si512(COUNTER_OFFSETS[j].as_ptr().cast()) };
                *v = _mm512_xor_si512(base, off);
            }
        }

        // AES rounds 1..=R (FIPS 197 5.1), the records' chains interleaved.
        for rnd in 1..R {
            for g in 0..G {
                // The J0 chain takes lane 0 of the broadcast: a second
                // 128-bit load of the round key would be merged with the
                // broadcast into one load and a lane shuffle, and the
                // shuffles compete with the AES rounds for their pipes.
                let rkz = bcast(&recs[g].key.round_keys[rnd]);
                for v in x[g].iter_mut() {
                    *v = _mm512_aesenc_epi128(*v, rkz);
                }
                e[g] = _mm_aesenc_si128(e[g], _mm512_castsi512_si128(rkz));
            }
        }
        for g in 0..G {
            let rkz = bcast(&recs[g].key.round_keys[R]);
            for v in x[g].iter_mut() {
                *v = _mm512_aesenclast_epi128(*v, rkz);
            }
            e[g] = _mm_aesenclast_si128(e[g], _mm512_castsi512_si128(rkz));
        }

        for g in 0..G {
            let r = &mut recs[g];
            let k = r.key;
            let len = r.buf.len();
            let m = len.div_ceil(16);
            let aad = r.aad;
            // CTR (SP 800-38D 6.5), masked at the end; the GHASH input
            // (the ciphertext, byte-reversed, zero past the end).
            let c = ctr_out::<SEAL, W>(r.buf, &x[g]);
            // GHASH (SP 800-38D 7.1 step 5), one reduction.
            let s = tail_ghash::<W>(k, aad, &c, m, len);
            // T = E(K, J0) ^ S (SP 800-38D 7.1 step 6).
            *r.tag = make_tag(finish(s), e[g]);
        }
    }
));

vaes_avx512_features!(enable!(
    /// The GHASH sums of a record of `m` blocks (`1..=4 W`, ciphertext
    /// `c`, byte-reversed, zero past the end) with its AAD and length
    /// block: the sequence `[A] C_0 .. C_{m-1} L`, one multiply per block.
    /// The length block shares the last data register when it has a free
    /// lane; otherwise it pairs with the AAD block in one 256-bit multiply
    /// (the AAD of a TLS record is one block). A longer AAD is hashed
    /// first and carried into C_0.
    #[inline]
    fn tail_ghash<const W: usize>(
        k: &Key,
        aad: &[u8],
        c: &[__m512i; W],
        m: usize,
        len: usize,
    ) -> Sums {
        debug_assert!(m > 4 * (W - 1) && m <= 4 * W);
        let len_blk = from_u128(gcm::len_block(aad.len(), len));
        // Data block p times H^(m + 1 - p): entry POWERS - (m + 1) + p.
        let base = POWERS - (m + 1);
        let mut s = sums_zero();
        let (lr, ll) = (m / 4, m % 4);
        for (j, &cj) in c.iter().enumerate() {
            let mut d = cj;
            if j == 0 && aad.len() > 16 {
                let y = ghash_bytes(k, _mm_setzero_si128(), aad);
                d = _mm512_xor_si512(d, _mm512_zextsi128_si512(y));
            }
            if j == lr {
                // The length block in the free lane ll (its power H^1).
                d = _mm512_mask_broadcast_i32x4(d, 0xf_u16 << (4 * ll), len_blk);
            }
            mul_add(&mut s, d, powers(k, base + 4 * j));
        }
        // The AAD block (times H^(m + 2)) and, when the data fill their
        // registers, the length block (times H^1), as one 256-bit pair.
        let short_aad = !aad.is_empty() && aad.len() <= 16;
        if short_aad || lr == W {
            let a = if short_aad {
                let mask = ((1u32 << aad.len()) - 1) as __mmask16;
                // SAFETY: the mask selects only the aad.len() <= 16 bytes of `aad`.
                let a = unsafe { _mm_maskz_loadu_epi8(mask, aad.as_ptr().cast()) };
                _mm_shuffle_epi8(a, _mm512_castsi512_si128(bswap_mask()))
            } else {
                _mm_setzero_si128()
            };
            let l = if lr == W {
                len_blk
            } else {
                _mm_setzero_si128()
            };
            let d = _mm256_set_m128i(l, a);
            let h = _mm256_set_m128i(
                load128(&k.h_powers[POWERS - 1]),
                load128(&k.h_powers[POWERS - (m + 2)]),
            );
            let lo = _mm256_clmulepi64_epi128(d, h, 0x00);
            let hi = _mm256_clmulepi64_epi128(d, h, 0x11);
            let mi = _mm256_xor_si256(
                _mm256_clmulepi64_epi128(d, h, 0x01),
                _mm256_clmulepi64_epi128(d, h, 0x10),
            );
            s.lo = _mm512_xor_si512(s.lo, _mm512_zextsi256_si512(lo));
            s.hi = _mm512_xor_si512(s.hi, _mm512_zextsi256_si512(hi));
            s.mi = _mm512_xor_si512(s.mi, _mm512_zextsi256_si512(mi));
        }
        s
    }
));

vaes_avx512_features!(enable!(
    /// CTR over a record of shape `W` with its keystream `x`, in place:
    /// returns the ciphertext registers, byte-reversed for GHASH, zero past
    /// the end. Whole registers are plain loads and stores; the last
    /// partial one is masked (no byte outside `buf` is touched).
    #[inline]
    fn ctr_out<const SEAL: bool, const W: usize>(buf: &mut [u8], x: &[__m512i; W]) -> [__m512i; W] {
        let bs = bswap_mask();
        let len = buf.len();
        let mut g = [_mm512_setzero_si512(); W];
        for j in 0..W {
            let at = 64 * j;
            let (i, o) = if at + 64 <= len {
                let i = load64(buf, at);
                let o = _mm512_xor_si512(i, x[j]);
                store64(buf, at, o);
                (i, o)
            } else {
                let i = load_masked(buf, at);
                let o = _mm512_xor_si512(i, x[j]);
                store_masked(buf, at, o);
                // The keystream past the end must not reach GHASH.
                (i, _mm512_maskz_mov_epi8(byte_mask(len - at), o))
            };
            g[j] = _mm512_shuffle_epi8(if SEAL { o } else { i }, bs);
        }
        g
    }
));
