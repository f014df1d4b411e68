//! Multi-record AES-GCM on VAES + VPCLMULQDQ (AVX2, `ymm` only): the batch
//! path of [`super::batch`] for `vaes-avx2` keys.
//!
//! A short record alone is a latency chain: ten to fourteen dependent AES
//! rounds (4 cycles each), then the GHASH of its ciphertext, a reduction and
//! the tag, with the AES and carry-less-multiply units idle most of the
//! time. Here records of up to [`SHORT_MAX`] bytes (one per connection: own
//! key, nonce, AAD and length) go through one straight-line kernel two at a
//! time, so the two chains fill each other's gaps; each record carries its
//! own round keys (`vbroadcasti128` from its key) and its own powers of H.
//!
//! Records are grouped by their number of `ymm` AES registers `NV` (a
//! compile-time shape, so the kernel's loops unroll and its state stays in
//! registers); within a shape the lengths may differ. One record, 96-bit IV
//! (SP 800-38D 7.1), `nb` = its blocks, the partial block counted:
//!
//! ```text
//!   flat AES positions 0 .. 2*NV:   data block p  ─▶ counter inc32^(p+1)(J0) = IV || p + 2
//!                                   position nb   ─▶ J0 = IV || 1   (E(K, J0) for the tag)
//!   ymm j = positions (2j, 2j + 1) = bytes 32j .. 32j + 32 of the record,
//!           so keystream, data and GHASH pairs line up without shuffles
//!
//!   GHASH input (SP 800-38D 7.1 step 5), T blocks, one reduction when T <= 16:
//!     [AAD block, when 1..=16 bytes]  C_0 .. C_{nb-1} (last one masked)  [len(A)]_64 || [len(C)]_64
//!       x H^T                          x H^(T-1-a) .. x H^2 / H^1         x H^1
//!   the AAD block and the length block share one ymm: (H^T, H^1);
//!   longer AAD is hashed first and joins C_0 (or the length block);
//!   16 data blocks (T = 17, AAD hashed first): C_0..C_15 with H^16..H^1,
//!   reduce, then the length block times H.
//!   T = E(K, J0) ^ S
//! ```
//!
//! Opening hashes the received ciphertext and decrypts in the same pass;
//! [`super::batch`] compares the tag in constant time and zeroes the buffer
//! of a record that fails. Longer records run the single-stream whole-message
//! kernel of [`super::vaes_avx2`], which is already at its bulk rate there.

use super::batch::{OpenJob, SealJob};
use super::vaes_avx2::{
    bcast, bswap128, bswap_mask, ghash_aad, j0_block, len_block, load128, load16, load32,
    load_pair, load_partial, make_tag, store16, store32, store_partial, wide_finish, wide_mul_add,
    wide_zero, Key, Wide, POWERS,
};
use super::{wipe, Error, Kernel, KeyImpl};
use core::arch::x86_64::*;
use subtle::ConstantTimeEq;

/// Longest record of the short kernel: 16 blocks, 9 `ymm` of AES.
pub(crate) const SHORT_MAX: usize = 256;
/// Most `ymm` AES registers of one record in the short kernel.
const MAX_NV: usize = SHORT_MAX / 32 + 1;

/// `ymm` AES registers of a record of `len <= SHORT_MAX` bytes: its blocks
/// plus J0.
fn shape(len: usize) -> usize {
    (len.div_ceil(16) + 2) / 2
}

/// 32 bytes of ones then 32 of zeros: the 32 bytes at `32 - r` keep the
/// first `r` bytes of a register pair.
static MASK: [u8; 64] = {
    let mut m = [0u8; 64];
    let mut i = 0;
    while i < 32 {
        m[i] = 0xff;
        i += 1;
    }
    m
};

/// One record in the kernel: borrowed from a job.
pub(crate) struct Rec<'r> {
    key: &'r Key,
    nonce: &'r [u8; 12],
    aad: &'r [u8],
    buf: &'r mut [u8],
    /// Seal: the tag. Open: the expected tag.
    tag: &'r mut [u8; 16],
}

/// The `vaes-avx2` key of a job (the group's backend).
fn vaes_key(key: &super::AesGcm) -> Option<&Key> {
    match &key.imp {
        KeyImpl::VaesAvx2(k) => Some(k),
        _ => None,
    }
}

/// Whether a group with this first key runs here.
pub(crate) fn handles(key: Option<&super::AesGcm>) -> bool {
    key.and_then(vaes_key).is_some()
}

/// Seals a group of `vaes-avx2` jobs (one key size).
pub(crate) fn seal_group(group: &mut [&mut SealJob<'_>]) {
    let mut recs = Vec::with_capacity(group.len());
    for j in group.iter_mut() {
        let key = vaes_key(j.key).expect("a vaes-avx2 group");
        if j.buf.len() > SHORT_MAX {
            // The key's whole-message kernel; the driver if it declines.
            match key.seal_whole(&j.nonce, j.aad, j.buf) {
                Some(tag) => j.tag = tag,
                None => super::batch::seal_one(j),
            }
        } else {
            recs.push(Rec {
                key,
                nonce: &j.nonce,
                aad: j.aad,
                buf: &mut *j.buf,
                tag: &mut j.tag,
            });
        }
    }
    run::<true>(recs);
}

/// Opens a group of `vaes-avx2` jobs (one key size): each result is set;
/// a job that fails to authenticate has its buffer zeroed.
pub(crate) fn open_group(group: &mut [(&mut OpenJob<'_>, &mut Result<(), Error>)]) {
    let mut expected = vec![[0u8; 16]; group.len()];
    let mut recs = Vec::with_capacity(group.len());
    for ((j, r), e) in group.iter_mut().zip(expected.iter_mut()) {
        let key = vaes_key(j.key).expect("a vaes-avx2 group");
        if j.buf.len() > SHORT_MAX {
            **r = match key.open_whole(&j.nonce, j.aad, j.buf) {
                Some(tag) => verdict(&tag, &j.tag, j.buf),
                None => super::batch::open_one(j),
            };
            continue;
        }
        recs.push(Rec {
            key,
            nonce: &j.nonce,
            aad: j.aad,
            buf: &mut *j.buf,
            tag: e,
        });
    }
    run::<false>(recs);
    for ((j, r), e) in group.iter_mut().zip(&expected) {
        if j.buf.len() <= SHORT_MAX {
            **r = verdict(e, &j.tag, j.buf);
        }
    }
}

/// Compares the expected and received tags in constant time (SP 800-38D
/// 7.2 step 8); on a mismatch zeroes the (already decrypted) buffer.
fn verdict(expected: &[u8; 16], received: &[u8; 16], buf: &mut [u8]) -> Result<(), Error> {
    if bool::from(expected.ct_eq(received)) {
        Ok(())
    } else {
        wipe(buf);
        Err(Error::Authentication)
    }
}

/// Runs the short kernel over records of one key size: grouped by shape,
/// two at a time, the odd one alone.
fn run<const SEAL: bool>(mut recs: Vec<Rec<'_>>) {
    let Some(first) = recs.first() else { return };
    let rounds = first.key.rounds;
    // A stable counting sort by shape (most batches have one shape).
    let mut count = [0usize; MAX_NV + 1];
    for r in &recs {
        count[shape(r.buf.len())] += 1;
    }
    if count.iter().filter(|&&c| c > 0).count() > 1 {
        recs.sort_by_key(|r| shape(r.buf.len()));
    }
    let mut rest = &mut recs[..];
    while let Some(r) = rest.first() {
        let nv = shape(r.buf.len());
        let (same, tail) = core::mem::take(&mut rest).split_at_mut(count[nv]);
        rest = tail;
        let mut pairs = same.chunks_exact_mut(2);
        for p in &mut pairs {
            dispatch::<SEAL, 2>(rounds, nv, p);
        }
        for one in pairs.into_remainder().chunks_exact_mut(1) {
            dispatch::<SEAL, 1>(rounds, nv, one);
        }
    }
}

/// The kernel instance for (rounds, shape, records at once).
fn dispatch<const SEAL: bool, const G: usize>(rounds: usize, nv: usize, recs: &mut [Rec<'_>]) {
    let recs: &mut [Rec<'_>; G] = recs.try_into().expect("G records");
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
                    8 => short::<$R, 8, G, SEAL>(recs),
                    _ => short::<$R, MAX_NV, G, SEAL>(recs),
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
    /// `G` records of shape `NV` (each `shape(len) == NV`), sealed (`SEAL`)
    /// or opened, from J0 to the tag, their steps interleaved.
    fn short<const R: usize, const NV: usize, const G: usize, const SEAL: bool>(
        recs: &mut [Rec<'_>; G],
    ) {
        let bs = bswap_mask();
        let zero = _mm256_setzero_si256();

        // Counter blocks (byte-swapped: the counter field is the low dword
        // of each half). Position p gets J0's counter 1 plus p + 1 while
        // p < nb, plus 0 (J0 itself) from nb on.
        let mut x = [[zero; NV]; G];
        let mut nb = [0usize; G];
        for g in 0..G {
            let r = &recs[g];
            nb[g] = r.buf.len().div_ceil(16);
            debug_assert_eq!(shape(r.buf.len()), NV);
            let j0 = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(j0_block(r.nonce)), bs);
            let n = _mm256_set_epi32(0, 0, 0, nb[g] as i32, 0, 0, 0, nb[g] as i32);
            let rk0 = bcast(&r.key.round_keys[0]);
            for (j, v) in x[g].iter_mut().enumerate() {
                let p = 2 * j as i32;
                let pos = _mm256_set_epi32(0, 0, 0, p + 1, 0, 0, 0, p);
                let inc = _mm256_set_epi32(0, 0, 0, p + 2, 0, 0, 0, p + 1);
                let add = _mm256_and_si256(_mm256_cmpgt_epi32(n, pos), inc);
                *v = _mm256_xor_si256(_mm256_shuffle_epi8(_mm256_add_epi32(j0, add), bs), rk0);
            }
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
            let (lead, mut carry) = if lead_in {
                (bswap128(load_partial(aad)), _mm_setzero_si128())
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
            for j in 0..NV {
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
                        _mm256_and_si256(o, load32(&MASK, 32 - n))
                    } else {
                        i
                    };
                }
            }

            // GHASH. With 16 data blocks the stream has 17: the data first
            // (H^16..H^1, one reduction), then the length block alone.
            let nv = len.div_ceil(32);
            let mut from = 0;
            if NV == MAX_NV && a + nb + 1 > POWERS {
                let mut s = wide_zero();
                for j in 0..MAX_NV - 1 {
                    let mut d = _mm256_shuffle_epi8(h[j], bs);
                    if j == 0 {
                        d = _mm256_xor_si256(d, _mm256_zextsi128_si256(carry));
                    }
                    absorb(k, &mut s, d, 2 * j);
                }
                carry = wide_finish(s);
                from = MAX_NV - 1;
            }
            // The rest: [lead] || data from `from` || length block.
            let t = a + (nb - 2 * from) + 1;
            let first = POWERS - t;
            let mut s = wide_zero();
            let mut len_blk = len_block(aad.len(), len);
            if from < nv {
                for j in from..NV {
                    if j < nv {
                        let mut d = _mm256_shuffle_epi8(h[j], bs);
                        if j == from {
                            d = _mm256_xor_si256(d, _mm256_zextsi128_si256(carry));
                        }
                        absorb(k, &mut s, d, first + a + 2 * (j - from));
                    }
                }
            } else {
                len_blk = _mm_xor_si128(len_blk, carry);
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

            // T = E(K, J0) ^ S (SP 800-38D 7.1 step 6); E(K, J0) sits at
            // position nb.
            let v = ks[nb / 2];
            let ek_j0 = if nb % 2 == 0 {
                _mm256_castsi256_si128(v)
            } else {
                _mm256_extracti128_si256::<1>(v)
            };
            *r.tag = make_tag(wide_finish(s), ek_j0);
        }
    }
));

vaes_avx2_features!(enable!(
    /// Adds the register pair `d` times the key powers at `h_powers[p]`,
    /// `h_powers[p + 1]` to the unreduced sums.
    #[inline]
    fn absorb(k: &Key, s: &mut Wide, d: __m256i, p: usize) {
        wide_mul_add(
            s,
            d,
            load_pair(&k.h_powers, p),
            load_pair(&k.h_karatsuba, p),
        );
    }
));
