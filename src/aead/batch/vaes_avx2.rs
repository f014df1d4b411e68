//! Multi-record AES-GCM on VAES + VPCLMULQDQ (AVX2, `ymm` only): the batch
//! path for `vaes-avx2` keys.
//!
//! A short record alone is a latency chain: ten to fourteen dependent AES
//! rounds (4 cycles each), then the GHASH of its ciphertext, a reduction and
//! the tag, with the AES and carry-less-multiply units idle most of the
//! time, plus the fixed cost of a call through the single-record API. Here
//! records of up to [`SHORT_MAX`] bytes (one per connection: own key,
//! nonce, AAD and length) run through straight-line kernels that carry
//! several records at once; each record uses its own round keys
//! (`vbroadcasti128` from its key, one record per register) and its own
//! powers of H.
//!
//! A record's shape is its number of `ymm` AES registers `NV` (blocks plus
//! J0, rounded up to pairs); it is a compile-time parameter, so the loops
//! unroll and the state stays in registers, and records of one shape may
//! still differ in length (by up to 16 bytes) and AAD.
//!
//! ```text
//!   length      shape NV   kernel
//!   0..=208     1..=7      short::<NV, 2>: two records, AES rounds interleaved
//!                          (consecutive sealing jobs of a shape: `run`, all their
//!                          pairs in one call; an odd one left over: short::<NV, 1>)
//!   209..=240   8          short::<8, 1>: one record (16 AES registers for two spill)
//!   241..=256   9          pipe: AES of record i with the GHASH of record i-1
//!                          (open: of record i), the ciphertext read back from memory
//!   longer                 seal: vaes_avx2::seal_chain, the whole-message kernel one record
//!                          after another, each record's first AES group carrying the
//!                          previous record's last GHASH blocks and tag; open: whole_impl
//!
//!   one record, 96-bit IV (SP 800-38D 7.1), nb = its blocks (a partial one counted):
//!   AES positions 2j, 2j+1 of ymm j:  data block p at position p, counter IV || p + 2
//!                                     J0 = IV || 1 at position nb (last register)
//!   so ymm j is bytes 32j .. 32j + 32 of the record: keystream, data and
//!   GHASH pairs line up without shuffles.
//!
//!   GHASH input (SP 800-38D 7.1 step 5), T blocks, one reduction when T <= 16:
//!     [AAD block, 1..=16 bytes]  C_0 .. C_{nb-1} (the partial one masked)  [len(A)]_64 || [len(C)]_64
//!       x H^T                     x H^(T-1-a) .. H^1 (register pairs)        x H^1
//!   the AAD block and the length block share one ymm with powers (H^T, H^1);
//!   longer AAD (or AAD beside 15..=16 data blocks) is hashed first and joins C_0;
//!   16 data blocks: C_0..C_15 with H^16..H^1, reduce, then x the length block x H.
//!   T = E(K, J0) ^ S
//! ```
//!
//! Opening hashes the received ciphertext and decrypts in the same pass;
//! the expected tag is compared in constant time (SP 800-38D 7.2 step 8)
//! and the buffer of a record that fails is zeroed before the call returns,
//! so no unauthenticated plaintext is released. Longer records run the
//! whole-message kernel, at its bulk rate there, sealed as a chain whose
//! seams overlap (measurements: asm-notes/vaes-avx2.md, "Batch kernels").

// A kernel file: SIMD intrinsics, each unsafe block with its SAFETY bound.
#![allow(unsafe_code)]

use super::job::{Gather, OpenJob, SealJob};
use crate::aead::gcm;
use crate::aead::vaes_avx2::{
    bcast, bswap128, bswap_mask, from_u128, ghash_aad, load128, load16, load32, load_partial,
    make_tag, seal_chain, store16, store32, store_partial, wide_finish, wide_mul_add, wide_zero,
    ChainRec, Key, Wide, POWERS,
};
use crate::aead::{Error, Kernel, MAX_AAD_LEN, MAX_PLAINTEXT_LEN};
use crate::cpu;
use core::arch::x86_64::*;
use core::borrow::BorrowMut;

/// Longest record of this file's kernels: 16 blocks. Beyond it the
/// whole-message kernel's stitched 16-block loop takes over (on seal as
/// [`seal_chain`]: 1420 B batches 1.15x sealing one by one, 16 KiB 1.00x).
pub(crate) const SHORT_MAX: usize = 256;
/// The shape of a 16-block record: 9 `ymm` AES registers.
const MAX_NV: usize = SHORT_MAX / 32 + 1;
/// Largest shape that runs [`WAYS`] records to a [`short`] call: measured
/// on Zen 4, two records of shape 5..=7 (113..=208 B) beat one at a time
/// by 5-10%, while two of shape 8 (16 AES registers, spilled) lose 12%.
const MULTI_MAX_NV: usize = 7;
/// Records of a small shape per [`short`] call: two (measured against four:
/// four gained nothing at 128 B and lost ~8% at 64 B).
const WAYS: usize = 2;

/// `ymm` AES registers of a record of `len <= SHORT_MAX` bytes: its blocks
/// plus J0.
fn shape(len: usize) -> usize {
    (len.div_ceil(16) + 2) / 2
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

/// The `vaes-avx2` key of a job of a `vaes-avx2` group.
fn vaes_key(key: &crate::aead::AesGcm) -> &Key {
    key.vaes_avx2().expect("a vaes-avx2 group")
}

/// A sealing job as a kernel record.
fn seal_rec<'r>(j: &'r mut SealJob<'_>, key: &'r Key) -> Rec<'r> {
    Rec {
        key,
        nonce: &j.nonce,
        aad: j.aad,
        buf: &mut *j.buf,
        tag: &mut j.tag,
    }
}

/// An opening job as a kernel record writing the expected tag to `tag`.
fn open_rec<'r>(j: &'r mut OpenJob<'_>, key: &'r Key, tag: &'r mut [u8; 16]) -> Rec<'r> {
    Rec {
        key,
        nonce: &j.nonce,
        aad: j.aad,
        buf: &mut *j.buf,
        tag,
    }
}

/// Where a record goes, by its length.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// [`short`], [`WAYS`] records of the same shape at a time.
    Multi(usize),
    /// [`short`], one record.
    Single(usize),
    /// [`pipe`], all records of the largest shape in a row.
    Pipe,
    /// Seal: [`seal_chain`], all records of this path in a row. Open: the
    /// key's single-stream whole-message kernel.
    Long,
}

/// The path of a record of `len` bytes.
fn path(len: usize) -> Path {
    if len > SHORT_MAX {
        return Path::Long;
    }
    match shape(len) {
        nv @ 1..=MULTI_MAX_NV => Path::Multi(nv),
        MAX_NV => Path::Pipe,
        nv => Path::Single(nv),
    }
}

/// A sealing job of a `vaes-avx2` group as a kernel record.
fn seal_job<'r>(j: &'r mut SealJob<'_>) -> Rec<'r> {
    let key = vaes_key(j.key);
    seal_rec(j, key)
}

/// Seals job `i` of the group alone in one [`short`] call.
fn seal_alone<'a, J: BorrowMut<SealJob<'a>>>(group: &mut [J], i: usize, rounds: usize, nv: usize) {
    let mut recs = [seal_job(group[i].borrow_mut())];
    dispatch::<true, 1>(rounds, nv, &mut recs);
}

/// Seals a group of `vaes-avx2` jobs (one key size). Short jobs of a shape
/// gather as they come (no sort, no allocation) and run [`WAYS`] at a
/// time; the ones left over run one at a time at the end, the largest
/// shape through the pipeline. (Jobs or references to jobs: the
/// batch API hands a single group over as it came.)
/// `rounds` is the group's AES round count.
pub(crate) fn seal_group<'a, J: BorrowMut<SealJob<'a>>>(rounds: usize, group: &mut [J]) {
    let mut waiting = [Gather::<WAYS>::EMPTY; MULTI_MAX_NV + 1];
    let (mut piped, mut long) = (false, false);
    let mut i = 0;
    while i < group.len() {
        match path(group[i].borrow().buf.len()) {
            Path::Long => long = true,
            Path::Single(nv) => seal_alone(group, i, rounds, nv),
            Path::Pipe => piped = true,
            Path::Multi(nv) => {
                // Consecutive jobs of one shape (the common case: records
                // of one size) go to the kernel as a run, whole sets of
                // [`WAYS`] in one call.
                let run = group[i..]
                    .iter()
                    .take_while(|j| path(j.borrow().buf.len()) == Path::Multi(nv))
                    .count();
                let run = run - run % WAYS;
                if waiting[nv].is_empty() && run > 0 {
                    seal_run(&mut group[i..i + run], rounds, nv);
                    i += run;
                    continue;
                }
                if let Some(full) = waiting[nv].push(i) {
                    let jobs = group.get_disjoint_mut(full).expect("distinct jobs");
                    let set = jobs.map(|j| j.borrow_mut());
                    seal_sets(&mut core::iter::once(set), rounds, nv);
                }
            }
        }
        i += 1;
    }
    for (nv, w) in waiting.iter().enumerate() {
        for &i in w.waiting() {
            seal_alone(group, i, rounds, nv);
        }
    }
    if piped {
        let recs = group
            .iter_mut()
            .map(|j| j.borrow_mut())
            .filter(|j| path(j.buf.len()) == Path::Pipe)
            .map(seal_job);
        run_pipe::<true>(rounds, recs);
    }
    if long {
        // The keys (round keys and powers of H) of the records two ahead
        // on their way as each record goes into the chain: in a batch over
        // many connections they are cold. Measured on Zen 3 (AMD EPYC,
        // family 25 model 1): rustls bench fan-out (1000 x 1 KiB after
        // other connections' work) ~20% less time fetching one record
        // ahead, ~4% less again two ahead; `seal_batch` back to back,
        // 1000 x 1 KiB 2-9% less, but 64 x 1420 B with every key already
        // in L2 ~5% more (with the lines fetched to L2 only, the same).
        let keys: Vec<&Key> = group
            .iter()
            .map(|j| j.borrow())
            .filter(|j| path(j.buf.len()) == Path::Long)
            .map(|j| vaes_key(j.key))
            .collect();
        for k in keys.iter().take(2) {
            cpu::prefetch_val(*k);
        }
        let mut ahead = keys.iter().skip(2);
        let mut recs = group
            .iter_mut()
            .map(|j| j.borrow_mut())
            .filter(|j| path(j.buf.len()) == Path::Long)
            .map(|j| {
                if let Some(k) = ahead.next() {
                    cpu::prefetch_val(*k);
                }
                ChainRec {
                    key: vaes_key(j.key),
                    iv: &j.nonce,
                    aad: j.aad,
                    buf: &mut *j.buf,
                    tag: &mut j.tag,
                }
            });
        // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof, and
        // every record holds one; every record here is longer than
        // SHORT_MAX = 16 blocks, as `seal_chain` requires.
        unsafe {
            match rounds {
                10 => seal_chain::<10>(&mut recs),
                12 => seal_chain::<12>(&mut recs),
                _ => seal_chain::<14>(&mut recs),
            }
        }
    }
}

/// Opens jobs `idx` of the group (distinct) in one [`short`] call and sets
/// their results.
fn open_set<const G: usize>(
    group: &mut [(&mut OpenJob<'_>, &mut Result<(), Error>)],
    idx: [usize; G],
    rounds: usize,
    nv: usize,
) {
    let mut jobs = group.get_disjoint_mut(idx).expect("distinct jobs");
    let mut expected = [[0u8; 16]; G];
    {
        let mut it = jobs.iter_mut().zip(expected.iter_mut()).map(|((j, _), e)| {
            let key = vaes_key(j.key);
            open_rec(j, key, e)
        });
        let mut recs: [Rec<'_>; G] =
            core::array::from_fn(|_| it.next().expect("one record per job"));
        dispatch::<false, G>(rounds, nv, &mut recs);
    }
    for ((j, r), e) in jobs.iter_mut().zip(&expected) {
        **r = gcm::verdict(e, &j.tag, j.buf);
    }
}

/// Opens a group of `vaes-avx2` jobs (one key size), in the order of
/// [`seal_group`]: each result is set; a job that fails to authenticate
/// has its buffer zeroed. `rounds` is the group's AES round count.
pub(crate) fn open_group(rounds: usize, group: &mut [(&mut OpenJob<'_>, &mut Result<(), Error>)]) {
    let mut waiting = [Gather::<WAYS>::EMPTY; MULTI_MAX_NV + 1];
    let mut piped = false;
    for i in 0..group.len() {
        match path(group[i].0.buf.len()) {
            Path::Long => {
                let (j, r) = &mut group[i];
                let key = vaes_key(j.key);
                // Within the SP 800-38D limits, the key's whole-message
                // kernel; otherwise the single-record path (which returns
                // the error).
                let within =
                    j.buf.len() as u64 <= MAX_PLAINTEXT_LEN && j.aad.len() as u64 <= MAX_AAD_LEN;
                **r = match within.then(|| key.open_whole(&j.nonce, j.aad, j.buf)) {
                    Some(Some(tag)) => gcm::verdict(&tag, &j.tag, j.buf),
                    _ => j.key.open_in_place_detached(&j.nonce, j.aad, j.buf, &j.tag),
                };
            }
            Path::Single(nv) => open_set(group, [i], rounds, nv),
            Path::Pipe => piped = true,
            Path::Multi(nv) => {
                if let Some(full) = waiting[nv].push(i) {
                    open_set(group, full, rounds, nv);
                }
            }
        }
    }
    for (nv, w) in waiting.iter().enumerate() {
        for &i in w.waiting() {
            open_set(group, [i], rounds, nv);
        }
    }
    if piped {
        let mut piped: Vec<_> = group
            .iter_mut()
            .filter(|(j, _)| path(j.buf.len()) == Path::Pipe)
            .collect();
        let mut expected = vec![[0u8; 16]; piped.len()];
        let recs = piped
            .iter_mut()
            .zip(expected.iter_mut())
            .map(|((j, _), e)| {
                let key = vaes_key(j.key);
                open_rec(j, key, e)
            });
        run_pipe::<false>(rounds, recs);
        for ((j, r), e) in piped.iter_mut().zip(&expected) {
            **r = gcm::verdict(e, &j.tag, j.buf);
        }
    }
}

/// The [`short`] instance for (rounds, shape, records at once).
fn dispatch<const SEAL: bool, const G: usize>(rounds: usize, nv: usize, recs: &mut [Rec<'_>; G]) {
    macro_rules! by_shape {
        ($R:literal) => {
            // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof,
            // and every record holds one.
            unsafe {
                match nv {
                    1 => short::<$R, 1, G, SEAL>(recs),
                    2 => short::<$R, 2, G, SEAL>(recs),
                    3 => short::<$R, 3, G, SEAL>(recs),
                    4 => short::<$R, 4, G, SEAL>(recs),
                    5 => short::<$R, 5, G, SEAL>(recs),
                    6 => short::<$R, 6, G, SEAL>(recs),
                    7 => short::<$R, 7, G, SEAL>(recs),
                    _ => short::<$R, 8, G, SEAL>(recs),
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

/// Seals `jobs`, whole sets of [`WAYS`] records of shape `nv <=
/// MULTI_MAX_NV`.
fn seal_run<'a, J: BorrowMut<SealJob<'a>>>(jobs: &mut [J], rounds: usize, nv: usize) {
    let (sets, rest) = jobs.as_chunks_mut::<WAYS>();
    debug_assert!(rest.is_empty());
    let mut sets = sets
        .iter_mut()
        .map(|set| set.each_mut().map(|j| j.borrow_mut()));
    seal_sets(&mut sets, rounds, nv);
}

/// A set of sealing jobs: their references (two registers), not records
/// built in memory, cross the `dyn` boundary below, so the kernel reads the
/// jobs' fields with plain loads (a record array moved through memory was
/// read back with 32-byte loads that missed store forwarding: 30% slower).
type JobSet<'r, 'a> = [&'r mut SealJob<'a>; WAYS];

/// The [`run`] instance for (rounds, shape): `sets` of [`WAYS`] jobs of
/// shape `nv <= MULTI_MAX_NV`, to seal. (The only caller of the sealing
/// [`short`] for sets, so that it is inlined into the loop of [`run`].)
fn seal_sets(sets: &mut dyn Iterator<Item = JobSet<'_, '_>>, rounds: usize, nv: usize) {
    macro_rules! by_shape {
        ($R:literal) => {
            // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof,
            // and every job of a `vaes-avx2` group holds one.
            unsafe {
                match nv {
                    1 => run::<$R, 1>(sets),
                    2 => run::<$R, 2>(sets),
                    3 => run::<$R, 3>(sets),
                    4 => run::<$R, 4>(sets),
                    5 => run::<$R, 5>(sets),
                    6 => run::<$R, 6>(sets),
                    _ => run::<$R, 7>(sets),
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

vaes_avx2_features!(enable!(
    /// Seals sets of [`WAYS`] jobs of shape `NV`, one [`short`] after the
    /// other in one call (no dispatch or set-up per set).
    fn run<const R: usize, const NV: usize>(sets: &mut dyn Iterator<Item = JobSet<'_, '_>>) {
        for set in sets {
            let mut recs = set.map(seal_job);
            short::<R, NV, WAYS, true>(&mut recs);
        }
    }
));

/// The [`pipe`] instance for the rounds: the records of the largest shape,
/// handed over as they are found (no list of records is built: records
/// moved through memory cost failed store forwards, see asm-notes).
fn run_pipe<'r, const SEAL: bool>(rounds: usize, recs: impl Iterator<Item = Rec<'r>>) {
    // SAFETY: a `Key` exists only with the `cpu::VaesAvx2` proof, and
    // every record holds one.
    unsafe {
        match rounds {
            10 => pipe::<10, SEAL>(recs),
            12 => pipe::<12, SEAL>(recs),
            _ => pipe::<14, SEAL>(recs),
        }
    }
}

vaes_avx2_features!(enable!(
    /// `G` records of shape `NV` (each `shape(len) == NV`), sealed (`SEAL`)
    /// or opened, from J0 to the tag, their AES chains interleaved round by
    /// round; then each record's CTR, GHASH and tag (independent chains the
    /// out-of-order core overlaps). Shapes up to 8 (GHASH in one reduction).
    fn short<const R: usize, const NV: usize, const G: usize, const SEAL: bool>(
        recs: &mut [Rec<'_>; G],
    ) {
        const { assert!(NV < MAX_NV) };
        let bs = bswap_mask();
        let zero = _mm256_setzero_si256();

        let mut x = [[zero; NV]; G];
        let mut nb = [0usize; G];
        for g in 0..G {
            let r = &recs[g];
            nb[g] = r.buf.len().div_ceil(16);
            // The record's shape (`shape`: nb is 2 NV - 2 or 2 NV - 1),
            // checked: it bounds every unchecked access below.
            assert!(
                nb[g] + 2 >= 2 * NV && nb[g] < 2 * NV,
                "a record of shape NV"
            );
            x[g] = counters::<NV>(r);
        }

        // AES rounds 1..=R (FIPS 197 5.1), the records' chains interleaved.
        for rnd in 1..R {
            for g in 0..G {
                let rk = bcast(&recs[g].key.round_keys[rnd]);
                for v in x[g].iter_mut() {
                    *v = _mm256_aesenc_epi128(*v, rk);
                }
            }
        }
        for g in 0..G {
            let rk = bcast(&recs[g].key.round_keys[R]);
            for v in x[g].iter_mut() {
                *v = _mm256_aesenclast_epi128(*v, rk);
            }
        }

        for g in 0..G {
            let r = &mut recs[g];
            let k = r.key;
            let len = r.buf.len();
            let nb = nb[g];
            let ks = &x[g];

            // The AAD (SP 800-38D 7.1 step 5): one block joins the stream
            // ("lead"); other AAD is hashed now and carried into the first
            // block of the stream.
            let aad = r.aad;
            let lead_in = !aad.is_empty() && aad.len() <= 16 && nb + 2 <= POWERS;
            let (lead, carry) = if lead_in {
                (
                    bswap128(from_u128(gcm::aad_block(aad))),
                    _mm_setzero_si128(),
                )
            } else if aad.is_empty() {
                (_mm_setzero_si128(), _mm_setzero_si128())
            } else {
                (_mm_setzero_si128(), ghash_aad(k, aad))
            };
            let a = usize::from(lead_in);

            // CTR (SP 800-38D 6.5) over the data, 32 bytes per register;
            // `h` keeps the ciphertext (zero past the end) for GHASH.
            let mut h = [zero; NV];
            let buf = &mut *r.buf;
            // Registers before the last two are always whole: nb >= 2 NV - 2
            // (checked above), so len > 16 (2 NV - 3) > 32 (NV - 2) >=
            // 32 (j + 1) for j < NV - 2.
            for j in 0..NV.saturating_sub(2) {
                let i = load32(buf, 32 * j);
                let o = _mm256_xor_si256(i, ks[j]);
                store32(buf, 32 * j, o);
                h[j] = if SEAL { o } else { i };
            }
            for j in NV.saturating_sub(2)..NV {
                let at = 32 * j;
                if at + 32 <= len {
                    let i = load32(buf, at);
                    let o = _mm256_xor_si256(i, ks[j]);
                    store32(buf, at, o);
                    h[j] = if SEAL { o } else { i };
                } else if at < len {
                    let n = len - at;
                    let i = if n >= 16 {
                        _mm256_set_m128i(load_partial(&buf[at + 16..]), load16(buf, at))
                    } else {
                        _mm256_zextsi128_si256(load_partial(&buf[at..]))
                    };
                    let o = _mm256_xor_si256(i, ks[j]);
                    if n >= 16 {
                        store16(buf, at, _mm256_castsi256_si128(o));
                        store_partial(&mut buf[at + 16..], _mm256_extracti128_si256::<1>(o));
                    } else {
                        store_partial(&mut buf[at..], _mm256_castsi256_si128(o));
                    }
                    h[j] = if SEAL {
                        _mm256_and_si256(o, load32(gcm::keep_mask(n, 32), 0))
                    } else {
                        i
                    };
                }
            }

            // GHASH (SP 800-38D 7.1 step 5) with one reduction: up to
            // shape 8 the stream [lead] || data || length block has at most
            // 16 blocks.
            let nv = len.div_ceil(32);
            let t = a + nb + 1;
            let first = POWERS - t;
            let mut s = wide_zero();
            let mut len_blk = from_u128(gcm::len_block(aad.len(), len));
            if nv == 0 {
                len_blk = _mm_xor_si128(len_blk, carry);
            }
            for (j, hj) in h.iter().enumerate().take(nv) {
                let mut d = _mm256_shuffle_epi8(*hj, bs);
                if j == 0 {
                    d = _mm256_xor_si256(d, _mm256_zextsi128_si256(carry));
                }
                // SAFETY: first + a + 2 j = POWERS - 1 - nb + 2 j with
                // nb <= 2 NV - 1 <= 15 (checked above) and, as j < nv =
                // ceil(nb / 2), 2 j <= nb - 1: the pair ends at or before
                // POWERS.
                unsafe { absorb(k, &mut s, d, first + a + 2 * j) };
            }
            // The lead (or zero) times H^t and the length block times H^1.
            let d = _mm256_set_m128i(len_blk, lead);
            let hp = _mm256_set_m128i(
                load128(&k.h_powers[POWERS - 1]),
                load128(&k.h_powers[first]),
            );
            let hk = _mm256_set_m128i(
                load128(&k.h_karatsuba[POWERS - 1]),
                load128(&k.h_karatsuba[first]),
            );
            wide_mul_add(&mut s, d, hp, hk);

            // T = E(K, J0) ^ S (SP 800-38D 7.1 step 6).
            *r.tag = make_tag(wide_finish(s), ek_j0::<NV>(ks, nb));
        }
    }
));

vaes_avx2_features!(enable!(
    /// The counter blocks of a record, round key 0 applied, in block byte
    /// order. Data block p takes position p with counter p + 2 (inc32 of J0
    /// p + 1 times, SP 800-38D 7.1 step 3); J0 itself takes position nb, in
    /// the last register (see `shape`): its low half when nb is even (the
    /// high half then repeats J0), else its high half after the last data
    /// block.
    ///
    /// ```text
    ///   J0 = IV || 00 00 00 01, and a record has at most 16 blocks, so every
    ///   counter c <= 18 differs from J0 in byte 15 alone (no carry):
    ///   counter block c = J0 ^ (c ^ 1) in byte 15 = one vpxor of a constant
    ///   x[j] = bcast(J0 ^ K_0) ^ constant_j
    /// ```
    #[inline]
    fn counters<const NV: usize>(r: &Rec<'_>) -> [__m256i; NV] {
        const { assert!(2 * NV + 1 < 256, "counters stay within byte 15") };
        let nb = r.buf.len().div_ceil(16);
        let base = _mm256_broadcastsi128_si256(_mm_xor_si128(
            from_u128(gcm::j0_of(r.nonce)),
            load128(&r.key.round_keys[0]),
        ));
        // Byte 15 of a half is the top byte of its high 64-bit word.
        let byte15 = |c: usize| (((c ^ 1) as u64) << 56) as i64;
        let mut x = [base; NV];
        for (j, v) in x.iter_mut().enumerate() {
            let p = 2 * j;
            let d = if j + 1 < NV {
                _mm256_set_epi64x(byte15(p + 3), 0, byte15(p + 2), 0)
            } else {
                // Odd nb: data block p (counter p + 2) then J0; even: J0 twice.
                let odd = (nb & 1) as i64;
                _mm256_set_epi64x(0, 0, byte15(p + 2) * odd, 0)
            };
            *v = _mm256_xor_si256(*v, d);
        }
        x
    }
));

vaes_avx2_features!(enable!(
    /// E(K, J0) from the keystream of a record of `nb` blocks (position nb,
    /// see [`counters`]).
    #[inline]
    fn ek_j0<const NV: usize>(ks: &[__m256i; NV], nb: usize) -> __m128i {
        let v = ks[NV - 1];
        if nb % 2 == 1 {
            _mm256_extracti128_si256::<1>(v)
        } else {
            _mm256_castsi256_si128(v)
        }
    }
));

/// What the GHASH (SP 800-38D 7.1 step 5) and tag of a 16-block record
/// need beside its first 224 bytes of ciphertext, which stay in the
/// record's buffer and are read back from there (holding them in eight
/// registers across the next AES rounds spilled half the kernel's state).
///
/// ```text
///   GHASH input, 18 blocks at most, one reduction (the key holds H^17, H^18):
///     AAD block (1..=16 bytes)  C_0 .. C_15 (the last masked)  [len(A)]_64 || [len(C)]_64
///       x H^18                    x H^17 .. H^2                  x H^1
///   longer AAD is hashed first (Y_A) and joins C_0: Y_A x H^17 as GHASH goes on
/// ```
#[derive(Clone, Copy)]
struct Pending {
    /// The last 17..=32 bytes of ciphertext, zero past the end.
    h7: __m256i,
    /// A one-block AAD in the low half, the length block in the high half.
    lead_len: __m256i,
    /// GHASH of a longer AAD, joining the first data block (else zero).
    carry: __m128i,
    ek_j0: __m128i,
}

/// A record of 241..=256 bytes (`$r`): the part of its GHASH input kept in
/// registers, as the ciphertext `$last` (its bytes 224..) makes it, and
/// E(K, J0) `$ek`. (A macro for the reason given at [`ctr16`].)
macro_rules! pending16 {
    ($r:expr, $last:expr, $ek:expr) => {{
        let r: &Rec<'_> = $r;
        let n = r.buf.len() - 224;
        let aad = r.aad;
        let (lead, carry) = if aad.is_empty() {
            (_mm_setzero_si128(), _mm_setzero_si128())
        } else if aad.len() <= 16 {
            (
                bswap128(from_u128(gcm::aad_block(aad))),
                _mm_setzero_si128(),
            )
        } else {
            (_mm_setzero_si128(), ghash_aad(r.key, aad))
        };
        Pending {
            h7: _mm256_and_si256($last, load32(gcm::keep_mask(n, 32), 0)),
            lead_len: _mm256_set_m128i(from_u128(gcm::len_block(aad.len(), r.buf.len())), lead),
            carry,
            ek_j0: $ek,
        }
    }};
}

/// CTR over a record of 241..=256 bytes (`$buf`) with its keystream `$ks`
/// (registers 0..7 the data, 8 E(K, J0)); evaluates to the last register
/// of output. (A macro: as a function LLVM left it out of line, and the
/// keystream went through memory.)
macro_rules! ctr16 {
    ($buf:expr, $ks:expr) => {{
        let buf: &mut [u8] = $buf;
        let ks: &[__m256i; MAX_NV] = $ks;
        let len = buf.len();
        // Shape 9, checked once: the compiler then drops the bounds checks
        // of the loads, stores and slices below.
        assert!(len > 240 && len <= SHORT_MAX, "a 16-block record");
        for j in 0..7 {
            let i = load32(buf, 32 * j);
            store32(buf, 32 * j, _mm256_xor_si256(i, ks[j]));
        }
        // The last 17..=32 bytes: one register when they are 32.
        if len == SHORT_MAX {
            let o = _mm256_xor_si256(load32(buf, 224), ks[7]);
            store32(buf, 224, o);
            o
        } else {
            let i = _mm256_set_m128i(load_partial(&buf[240..]), load16(buf, 224));
            let o = _mm256_xor_si256(i, ks[7]);
            store16(buf, 224, _mm256_castsi256_si128(o));
            store_partial(&mut buf[240..], _mm256_extracti128_si256::<1>(o));
            o
        }
    }};
}

vaes_avx2_features!(enable!(
    /// The last 17..=32 bytes of a record of 241..=256 bytes, zero past the
    /// end.
    #[inline]
    fn last16(buf: &[u8]) -> __m256i {
        assert!(
            buf.len() > 240 && buf.len() <= SHORT_MAX,
            "a 16-block record"
        );
        _mm256_set_m128i(load_partial(&buf[240..]), load16(buf, 224))
    }
));

vaes_avx2_features!(enable!(
    /// GHASH step `j` (0..9) of a 16-block record: for j < 8 its ciphertext
    /// register `j` (read from `ct`, the last from `p`; a long AAD's hash
    /// joining the first block) times H^(17-2j), H^(16-2j); step 8 the AAD
    /// block and the length block times H^18, H^1.
    #[inline]
    fn step16(k: &Key, ct: &[u8], p: &Pending, s: &mut Wide, j: usize) {
        let bs = bswap_mask();
        match j {
            0 => {
                let d = _mm256_shuffle_epi8(load32(ct, 0), bs);
                let d = _mm256_xor_si256(d, _mm256_zextsi128_si256(p.carry));
                let h = _mm256_set_m128i(load128(&k.h_powers[0]), load128(&k.h_high[1]));
                let hk = _mm256_set_m128i(load128(&k.h_karatsuba[0]), load128(&k.hk_high[1]));
                wide_mul_add(s, d, h, hk);
            }
            1..=7 => {
                let raw = if j < 7 { load32(ct, 32 * j) } else { p.h7 };
                // SAFETY: 1 <= j <= 7, so 2 j - 1 + 2 <= 15 < POWERS.
                unsafe { absorb(k, s, _mm256_shuffle_epi8(raw, bs), 2 * j - 1) };
            }
            _ => {
                let h = _mm256_set_m128i(load128(&k.h_powers[POWERS - 1]), load128(&k.h_high[0]));
                let hk =
                    _mm256_set_m128i(load128(&k.h_karatsuba[POWERS - 1]), load128(&k.hk_high[0]));
                wide_mul_add(s, p.lead_len, h, hk);
            }
        }
    }
));

vaes_avx2_features!(enable!(
    /// The AES rounds 1..=R of a 16-block record's counter blocks `x`, with
    /// the 9 GHASH steps of some record riding one per round.
    #[inline]
    fn rounds16<const R: usize>(k: &Key, x: &mut [__m256i; MAX_NV], mut steps: impl FnMut(usize)) {
        const { assert!(R > 9, "9 GHASH steps ride the AES rounds") };
        for rnd in 1..R {
            let rk = bcast(&k.round_keys[rnd]);
            for v in x.iter_mut() {
                *v = _mm256_aesenc_epi128(*v, rk);
            }
            if rnd <= 9 {
                steps(rnd - 1);
            }
        }
        let rk = bcast(&k.round_keys[R]);
        for v in x.iter_mut() {
            *v = _mm256_aesenclast_epi128(*v, rk);
        }
    }
));

vaes_avx2_features!(enable!(
    /// Records of 241..=256 bytes (16 blocks: shape 9, whose AES registers
    /// leave no room to interleave two records' rounds), sealed (`SEAL`) or
    /// opened, with GHASH multiplies riding the AES rounds (one data
    /// register per round, read from a record's buffer).
    ///
    /// ```text
    ///   seal, step i:  AES(record i)  ‖  GHASH of record i-1 (9 multiplies)
    ///                  tag of record i-1 (one reduction)
    ///                  CTR of record i (its ciphertext hashed in step i+1)
    ///   open, step i:  AES(record i)  ‖  GHASH of record i's ciphertext
    ///                  CTR of record i, its expected tag
    /// ```
    fn pipe<'r, const R: usize, const SEAL: bool>(mut recs: impl Iterator<Item = Rec<'r>>) {
        if !SEAL {
            for r in recs {
                let mut x = counters::<MAX_NV>(&r);
                let p = pending16!(&r, last16(r.buf), _mm_setzero_si128());
                let mut s = wide_zero();
                rounds16::<R>(r.key, &mut x, |j| step16(r.key, r.buf, &p, &mut s, j));
                ctr16!(r.buf, &x);
                let p = Pending {
                    ek_j0: _mm256_castsi256_si128(x[8]),
                    ..p
                };
                *r.tag = make_tag(wide_finish(s), p.ek_j0);
            }
            return;
        }
        let Some(mut prev) = recs.next() else {
            return;
        };
        let mut x = counters::<MAX_NV>(&prev);
        rounds16::<R>(prev.key, &mut x, |_| {});
        let last = ctr16!(prev.buf, &x);
        let mut pending = pending16!(&prev, last, _mm256_castsi256_si128(x[8]));
        for cur in recs {
            let (pk, ct) = (prev.key, &*prev.buf);
            let mut x = counters::<MAX_NV>(&cur);
            let mut s = wide_zero();
            rounds16::<R>(cur.key, &mut x, |j| step16(pk, ct, &pending, &mut s, j));
            *prev.tag = make_tag(wide_finish(s), pending.ek_j0);
            let last = ctr16!(cur.buf, &x);
            pending = pending16!(&cur, last, _mm256_castsi256_si128(x[8]));
            prev = cur;
        }
        // The last record's GHASH alone.
        let mut s = wide_zero();
        for j in 0..9 {
            step16(prev.key, prev.buf, &pending, &mut s, j);
        }
        *prev.tag = make_tag(wide_finish(s), pending.ek_j0);
    }
));

vaes_avx2_features!(enable!(
    /// Adds the register pair `d` times the key powers at `h_powers[p]`,
    /// `h_powers[p + 1]` to the unreduced sums.
    ///
    /// # Safety
    ///
    /// `p + 2 <= POWERS` (the callers' index arithmetic proves it; no
    /// check is left in the inner loops).
    #[inline]
    unsafe fn absorb(k: &Key, s: &mut Wide, d: __m256i, p: usize) {
        debug_assert!(p + 2 <= POWERS);
        // SAFETY: entries p and p + 1 of both tables exist (the caller's
        // contract) and are contiguous; the loads are unaligned.
        let (h, hk) = unsafe {
            (
                _mm256_loadu_si256(k.h_powers.as_ptr().add(p).cast()),
                _mm256_loadu_si256(k.h_karatsuba.as_ptr().add(p).cast()),
            )
        };
        wide_mul_add(s, d, h, hk);
    }
));
