//! The GCM framing (SP 800-38D section 7), written once for every backend:
//! the input limits, J0 for any IV length, the counter blocks, the partial
//! last block and its mask, the length block, the tag, and the tag check
//! with the wipe on failure.
//!
//! ```text
//!   J0      = IV || 0^31 || 1                  (12-byte IV)        Frame::new / j0
//!           = GHASH(IV || 0^s || [len(IV)]_64)  (any other)         j0
//!   CB_i    = inc32^i(J0): IV || [i + 1]_32     (12-byte IV)        Frame::counter
//!   S       = GHASH(A || 0^v || C || 0^u || [len(A)]_64 || [len(C)]_64)
//!               A || 0^v, C || 0^u: partial blocks zero-padded      aad_block, seal_tail, open_tail
//!               [len(A)]_64 || [len(C)]_64                          len_block
//!   C       = GCTR(inc32(J0), P)
//!               whole blocks                                        the backend's bulk kernel
//!               partial last block: MSB of the keystream            seal_tail, open_tail
//!   T       = MSB_t(E(K, J0) ^ S)                                   tag (or in a register)
//!   open    = constant-time compare of T, wipe on a mismatch        verdict
//! ```
//!
//! A backend supplies the [`Kernel`] operations on whole blocks (CTR, GHASH,
//! the stitched bulk loop) and may take a whole message with a 96-bit IV
//! ([`Kernel::seal_whole`] / [`Kernel::open_whole`]) on the [`Frame`] this
//! module computes; the blocks it builds for GHASH come from the helpers
//! here. The 128-bit values cross as `u128`, the little-endian
//! image of the 16 block bytes (what an unaligned 16-byte load of the block
//! puts in a register), so a kernel moves them into vector registers without
//! staging them in memory: a block assembled by narrow stores and read back
//! by one wide load cannot be store-forwarded.

#![forbid(unsafe_code)]

use super::{wipe, Error, Kernel, MAX_AAD_LEN, MAX_NONCE_LEN, MAX_PLAINTEXT_LEN};
use subtle::ConstantTimeEq;

/// Tag lengths SP 800-38D section 5.2.1.2 allows (bytes).
pub(crate) fn check_tag_len(len: usize) -> Result<(), Error> {
    match len {
        4 | 8 | 12..=16 => Ok(()),
        n => Err(Error::TagLength(n)),
    }
}

/// SP 800-38D 5.2.1.1 input limits, on lengths in bytes.
pub(crate) fn check_lengths(nonce: usize, aad: usize, text: usize) -> Result<(), Error> {
    if nonce == 0 || nonce as u64 > MAX_NONCE_LEN {
        return Err(Error::NonceLength(nonce));
    }
    if text as u64 > MAX_PLAINTEXT_LEN || aad as u64 > MAX_AAD_LEN {
        return Err(Error::TooLong);
    }
    Ok(())
}

/// inc32 (SP 800-38D 6.2): the low 32 bits of the counter block, big-endian,
/// plus one modulo 2^32; the upper 96 bits stay.
#[inline(always)]
pub(crate) fn inc32(ctr: &mut [u8; 16]) {
    add32(ctr, 1);
}

/// inc32 applied `n` times (mod 2^32, SP 800-38D 6.2).
#[inline(always)]
pub(crate) fn add32(ctr: &mut [u8; 16], n: usize) {
    let c = u32::from_be_bytes([ctr[12], ctr[13], ctr[14], ctr[15]]).wrapping_add(n as u32);
    ctr[12..].copy_from_slice(&c.to_be_bytes());
}

/// The length block `[len(A)]_64 || [len(C)]_64` (bit lengths, SP 800-38D
/// 7.1 step 5), byte-reversed: the form the kernels hold GHASH blocks in
/// (the ciphertext length is the low 64 bits). [`u128::swap_bytes`] gives
/// the block's own image.
#[inline(always)]
pub(crate) fn len_block(aad_len: usize, text_len: usize) -> u128 {
    u128::from(aad_len as u64 * 8) << 64 | u128::from(text_len as u64 * 8)
}

/// J0 = IV || 0^31 || 1 (SP 800-38D 7.1 step 2) of a 96-bit IV, as the
/// little-endian image of its bytes.
#[inline(always)]
pub(crate) fn j0_of(iv: &[u8; 12]) -> u128 {
    let lo = u64::from_le_bytes([iv[0], iv[1], iv[2], iv[3], iv[4], iv[5], iv[6], iv[7]]);
    let hi = u64::from_le_bytes([iv[8], iv[9], iv[10], iv[11], 0, 0, 0, 1]);
    u128::from(lo) | u128::from(hi) << 64
}

/// The framing of one message with a 96-bit IV (SP 800-38D 7.1 step 2:
/// J0 = IV || 0^31 || 1), computed once and handed to a backend's
/// whole-message kernel.
///
/// ```text
///   counter blocks:  J0 = IV || 1 (tag)   IV || 2 .. IV || blocks + 1 (whole blocks)
///                    IV || blocks + 2 (the partial block, if any)
///   all mod 2^32 in the last 32 bits (inc32), wherever the wrap falls
/// ```
// Used by the whole-message and multi-record kernels (x86_64 today).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    /// J0, little-endian image of its bytes.
    pub(crate) j0: u128,
    /// Whole 16-byte blocks of the text (a partial block follows when the
    /// length is not a multiple of 16).
    pub(crate) blocks: usize,
    /// [`len_block`] of the message (byte-reversed form).
    pub(crate) len: u128,
}

// Used by the whole-message and multi-record kernels (x86_64 today).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl Frame {
    /// The frame of a message of `text_len` bytes with `aad_len` bytes of AAD.
    #[inline(always)]
    pub(crate) fn new(iv: &[u8; 12], aad_len: usize, text_len: usize) -> Frame {
        Frame {
            j0: j0_of(iv),
            blocks: text_len / 16,
            len: len_block(aad_len, text_len),
        }
    }

    /// The counter block with the IV of J0 and the 32-bit counter field `c`
    /// (big-endian, SP 800-38D 6.2): `IV || [c]_32`.
    #[inline(always)]
    pub(crate) fn counter(&self, c: u32) -> u128 {
        const IV_BITS: u128 = (1 << 96) - 1;
        self.j0 & IV_BITS | u128::from(c.swap_bytes()) << 96
    }

    /// The 32-bit counter field of the partial last block's counter block:
    /// inc32 of J0 applied `1 + blocks` times, i.e. `2 + blocks` mod 2^32
    /// (a kernel inserts it into its J0 register).
    #[inline(always)]
    pub(crate) fn tail_ctr(&self) -> u32 {
        2u32.wrapping_add(self.blocks as u32)
    }

    /// inc32(J0), the first counter block of the text, as bytes.
    #[inline(always)]
    pub(crate) fn first_counter_bytes(&self) -> [u8; 16] {
        self.counter(2).to_le_bytes()
    }
}

/// The `n = part.len() <= 16` bytes of `part` zero-padded to a block (the
/// 0^v and 0^u of SP 800-38D 7.1 step 5), as its little-endian image,
/// without reading past the slice: two overlapping loads of 8, 4 or 1
/// bytes (no byte copy through memory, whose narrow stores a 16-byte load
/// could not forward from).
#[inline(always)]
pub(crate) fn read_partial(part: &[u8]) -> u128 {
    let n = part.len();
    debug_assert!(n <= 16);
    if n >= 8 {
        let lo = u64::from_le_bytes(part[..8].try_into().expect("8 bytes"));
        let hi = u64::from_le_bytes(part[n - 8..].try_into().expect("8 bytes"));
        u128::from(lo) | u128::from(hi) << (8 * (n - 8))
    } else if n >= 4 {
        let lo = u32::from_le_bytes(part[..4].try_into().expect("4 bytes"));
        let hi = u32::from_le_bytes(part[n - 4..].try_into().expect("4 bytes"));
        u128::from(lo) | u128::from(hi) << (8 * (n - 4))
    } else if n > 0 {
        u128::from(part[0])
            | u128::from(part[n / 2]) << (8 * (n / 2))
            | u128::from(part[n - 1]) << (8 * (n - 1))
    } else {
        0
    }
}

/// Writes the first `part.len() <= 16` bytes of the block whose
/// little-endian image is `v` into `part`, without writing past the slice
/// (overlapping stores, as in [`read_partial`]).
#[inline(always)]
pub(crate) fn write_partial(part: &mut [u8], v: u128) {
    let n = part.len();
    debug_assert!(n <= 16);
    if n >= 8 {
        part[n - 8..].copy_from_slice(&((v >> (8 * (n - 8))) as u64).to_le_bytes());
        part[..8].copy_from_slice(&(v as u64).to_le_bytes());
    } else if n >= 4 {
        part[n - 4..].copy_from_slice(&((v >> (8 * (n - 4))) as u32).to_le_bytes());
        part[..4].copy_from_slice(&(v as u32).to_le_bytes());
    } else if n > 0 {
        part[n - 1] = (v >> (8 * (n - 1))) as u8;
        part[n / 2] = (v >> (8 * (n / 2))) as u8;
        part[0] = v as u8;
    }
}

/// The mask keeping the first `n <= 16` bytes of a block image.
#[inline(always)]
pub(crate) fn keep(n: usize) -> u128 {
    debug_assert!(n <= 16);
    u128::MAX.checked_shr(8 * (16 - n) as u32).unwrap_or(0)
}

/// 32 bytes of ones, then 32 of zeros: the `w <= 32` bytes at `32 - n`
/// keep the first `n <= w` bytes of a `w`-byte register (see [`keep_mask`]).
// Used by the whole-message and multi-record kernels (x86_64 today).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
static KEEP: [u8; 64] = {
    let mut m = [0u8; 64];
    let mut i = 0;
    while i < 32 {
        m[i] = 0xff;
        i += 1;
    }
    m
};

/// The byte mask of width `w` (16 or 32) keeping the first `n <= w` bytes,
/// for a kernel to load into a register.
// Used by the whole-message and multi-record kernels (x86_64 today).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
pub(crate) fn keep_mask(n: usize, w: usize) -> &'static [u8] {
    debug_assert!(n <= w && w <= 32);
    &KEEP[32 - n..32 - n + w]
}

/// The partial last block on seal (SP 800-38D 7.1 step 4): XORs the first
/// `tail.len() < 16` bytes of the keystream block `ks` into `tail` and
/// returns the ciphertext zero-padded to a block, the GHASH input.
#[inline(always)]
pub(crate) fn seal_tail(tail: &mut [u8], ks: u128) -> u128 {
    let c = read_partial(tail) ^ ks;
    write_partial(tail, c);
    c & keep(tail.len())
}

/// The partial last block on open: returns the ciphertext zero-padded to a
/// block (the GHASH input) and decrypts `tail` in place with `ks`.
#[inline(always)]
pub(crate) fn open_tail(tail: &mut [u8], ks: u128) -> u128 {
    let c = read_partial(tail);
    write_partial(tail, c ^ ks);
    c
}

/// The 1..=16 bytes of `aad` zero-padded to a block (SP 800-38D 7.1 step
/// 5), read without passing the slice's end: the TLS AAD lengths (5: a TLS
/// 1.3 record header, RFC 8446 5.2; 13: the TLS 1.2 AAD, RFC 5246 6.2.3.3)
/// with two plain loads each, others through [`read_partial`].
// Used by the whole-message and multi-record kernels (x86_64 today).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
pub(crate) fn aad_block(aad: &[u8]) -> u128 {
    let word = |at: usize| u32::from_le_bytes([aad[at], aad[at + 1], aad[at + 2], aad[at + 3]]);
    match aad.len() {
        5 => u128::from(u64::from(word(0)) | u64::from(aad[4]) << 32),
        13 => {
            let lo = u64::from(word(0)) | u64::from(word(4)) << 32;
            let hi = u64::from(word(8)) | u64::from(aad[12]) << 32;
            u128::from(lo) | u128::from(hi) << 64
        }
        _ => read_partial(aad),
    }
}

/// T = E(K, J0) ^ S (SP 800-38D 7.1 step 6, all 16 bytes), from block
/// images. (A kernel whose E(K, J0) and S are in a vector register XORs them
/// there and stores the tag with one 16-byte store: a tag written as two
/// 8-byte halves and read back whole by the caller fails store forwarding,
/// measured 0.82x on 64-byte seals.)
#[inline(always)]
pub(crate) fn tag(ek_j0: u128, s: u128) -> [u8; 16] {
    (ek_j0 ^ s).to_le_bytes()
}

/// Compares the expected tag with the received one (its first
/// `received.len()` bytes) in constant time (SP 800-38D 7.2 step 8); on a
/// mismatch zeroes the (already decrypted) buffer, so no unauthenticated
/// plaintext is released, and returns the one opaque error.
#[inline(always)]
pub(crate) fn verdict(expected: &[u8; 16], received: &[u8], buf: &mut [u8]) -> Result<(), Error> {
    let same = match <&[u8; 16]>::try_from(received) {
        // One 128-bit comparison rather than sixteen byte ones.
        Ok(r) => u128::from_ne_bytes(*expected).ct_eq(&u128::from_ne_bytes(*r)),
        Err(_) => expected[..received.len().min(16)].ct_eq(received),
    };
    if bool::from(same) {
        Ok(())
    } else {
        wipe(buf);
        Err(Error::Authentication)
    }
}

/// GHASH over `data` zero-padded to whole blocks.
fn ghash_padded<K: Kernel>(k: &K, acc: &mut K::Acc, data: &[u8]) {
    let whole = data.len() & !15;
    k.ghash(acc, &data[..whole]);
    if whole < data.len() {
        k.ghash(acc, &read_partial(&data[whole..]).to_le_bytes());
    }
}

/// The pre-counter block J0 (SP 800-38D 7.1 step 2), any IV length.
///
/// ```text
///   len(IV) = 96:  J0 = IV || 0x00000001
///   otherwise:     J0 = GHASH_H(IV || 0-pad to a block || 0^64 || [len(IV) in bits]_64)
/// ```
pub(crate) fn j0<K: Kernel>(k: &K, nonce: &[u8]) -> [u8; 16] {
    if let Ok(iv) = <&[u8; 12]>::try_from(nonce) {
        return j0_of(iv).to_le_bytes();
    }
    let mut acc = k.acc_zero();
    ghash_padded(k, &mut acc, nonce);
    k.ghash(
        &mut acc,
        &len_block(0, nonce.len()).swap_bytes().to_le_bytes(),
    );
    k.acc_bytes(acc)
}

/// Authenticated encryption (SP 800-38D 7.1), in place; returns the tag.
pub(crate) fn seal<K: Kernel>(
    k: &K,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; 16], Error> {
    check_lengths(nonce.len(), aad.len(), buf.len())?;
    if let Ok(iv) = <&[u8; 12]>::try_from(nonce) {
        if let Some(tag) = k.seal_whole(iv, aad, buf) {
            return Ok(tag);
        }
    }
    Ok(generic::<K, true>(k, nonce, aad, buf))
}

/// Authenticated decryption (SP 800-38D 7.2), in place. On a bad tag the
/// buffer is zeroed and the one opaque [`Error::Authentication`] returned.
pub(crate) fn open<K: Kernel>(
    k: &K,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<(), Error> {
    check_tag_len(tag.len())?;
    check_lengths(nonce.len(), aad.len(), buf.len())?;
    let whole = <&[u8; 12]>::try_from(nonce)
        .ok()
        .and_then(|iv| k.open_whole(iv, aad, buf));
    let expected = match whole {
        Some(expected) => expected,
        None => generic::<K, false>(k, nonce, aad, buf),
    };
    verdict(&expected, tag, buf)
}

/// Seals (`SEAL`) or opens `buf` in place through the [`Kernel`] block
/// operations, any IV length; returns the full (on open: expected) tag.
fn generic<K: Kernel, const SEAL: bool>(
    k: &K,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; 16] {
    let j0 = j0(k, nonce);
    let mut ctr = j0;
    inc32(&mut ctr);
    let mut acc = k.acc_zero();
    ghash_padded(k, &mut acc, aad);
    let whole = buf.len() & !15;
    let (body, tail) = buf.split_at_mut(whole);
    if SEAL {
        k.seal_blocks(&mut ctr, &mut acc, body);
    } else {
        k.open_blocks(&mut ctr, &mut acc, body);
    }
    if !tail.is_empty() {
        let mut ks = ctr;
        k.encrypt_block(&mut ks);
        let ks = u128::from_le_bytes(ks);
        let block = if SEAL {
            seal_tail(tail, ks)
        } else {
            open_tail(tail, ks)
        };
        k.ghash(&mut acc, &block.to_le_bytes());
    }
    k.ghash(
        &mut acc,
        &len_block(aad.len(), buf.len()).swap_bytes().to_le_bytes(),
    );
    let mut ek_j0 = j0;
    k.encrypt_block(&mut ek_j0);
    tag(
        u128::from_le_bytes(ek_j0),
        u128::from_le_bytes(k.acc_bytes(acc)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits_of_sp800_38d() {
        assert_eq!(check_lengths(0, 0, 0), Err(Error::NonceLength(0)));
        assert!(check_lengths(1, 0, 0).is_ok());
        assert!(check_lengths(12, 0, (MAX_PLAINTEXT_LEN) as usize).is_ok());
        assert_eq!(
            check_lengths(12, 0, (MAX_PLAINTEXT_LEN + 1) as usize),
            Err(Error::TooLong)
        );
        assert!(check_lengths(12, MAX_AAD_LEN as usize, 0).is_ok());
        assert_eq!(
            check_lengths(12, (MAX_AAD_LEN + 1) as usize, 0),
            Err(Error::TooLong)
        );
        assert_eq!(
            check_lengths((MAX_NONCE_LEN + 1) as usize, 0, 0),
            Err(Error::NonceLength((MAX_NONCE_LEN + 1) as usize))
        );
    }

    #[test]
    fn tag_lengths_of_sp800_38d() {
        let ok: Vec<usize> = (0..=32).filter(|&n| check_tag_len(n).is_ok()).collect();
        assert_eq!(ok, vec![4, 8, 12, 13, 14, 15, 16]);
    }

    #[test]
    fn inc32_wraps_low_word_only() {
        let mut c = [0xab; 16];
        c[12..].copy_from_slice(&[0xff; 4]);
        inc32(&mut c);
        assert_eq!(&c[..12], &[0xab; 12]);
        assert_eq!(&c[12..], &[0, 0, 0, 0]);
        add32(&mut c, 0x1_0000_0003);
        assert_eq!(&c[12..], &[0, 0, 0, 3]);
    }

    #[test]
    fn frame_counters_follow_inc32() {
        let iv: [u8; 12] = core::array::from_fn(|i| 0xa0 + i as u8);
        for (len, c0) in [
            (0usize, 0u32),
            (15, 7),
            (16, 0xffff_fffe),
            (37, 0xffff_ffff),
        ] {
            let f = Frame::new(&iv, 5, len);
            assert_eq!(f.blocks, len / 16);
            let mut want = f.j0.to_le_bytes();
            assert_eq!(&want[..12], &iv);
            assert_eq!(&want[12..], &[0, 0, 0, 1]);
            want[12..].copy_from_slice(&c0.to_be_bytes());
            assert_eq!(f.counter(c0).to_le_bytes(), want);
            let mut tail = f.j0.to_le_bytes();
            add32(&mut tail, 1 + len / 16);
            assert_eq!(f.counter(f.tail_ctr()).to_le_bytes(), tail);
            let mut first = f.j0.to_le_bytes();
            inc32(&mut first);
            assert_eq!(f.first_counter_bytes(), first);
        }
    }

    #[test]
    fn length_block_is_the_bit_lengths_big_endian() {
        let b = len_block(13, 0x1234).swap_bytes().to_le_bytes();
        assert_eq!(&b[..8], &(13u64 * 8).to_be_bytes());
        assert_eq!(&b[8..], &(0x1234u64 * 8).to_be_bytes());
    }

    #[test]
    fn partial_blocks_read_and_write_exactly_their_bytes() {
        for n in 0..=16 {
            let src: Vec<u8> = (1..=n as u8).collect();
            let mut padded = [0u8; 16];
            padded[..n].copy_from_slice(&src);
            assert_eq!(read_partial(&src), u128::from_le_bytes(padded), "read {n}");
            if (1..=16).contains(&n) {
                assert_eq!(aad_block(&src), u128::from_le_bytes(padded), "aad {n}");
            }
            let mut out = vec![0xeeu8; n + 1];
            write_partial(&mut out[..n], u128::from_le_bytes([0x5a; 16]));
            assert!(out[..n].iter().all(|&b| b == 0x5a), "write {n}");
            assert_eq!(out[n], 0xee, "no byte past the slice, {n}");
            assert_eq!(
                keep(n),
                u128::from_le_bytes(keep_mask(n, 16).try_into().unwrap())
            );
        }
        for n in 0..=32 {
            let m = keep_mask(n, 32);
            assert!(m[..n].iter().all(|&b| b == 0xff) && m[n..].iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn tails_xor_the_keystream_and_pad_the_ghash_block() {
        let ks = u128::from_le_bytes(core::array::from_fn(|i| 0x30 + i as u8));
        for n in 1..16 {
            let plain: Vec<u8> = (0..n as u8).collect();
            let mut buf = plain.clone();
            let block = seal_tail(&mut buf, ks);
            let want: Vec<u8> = plain
                .iter()
                .zip(ks.to_le_bytes())
                .map(|(p, k)| p ^ k)
                .collect();
            assert_eq!(buf, want);
            let mut padded = [0u8; 16];
            padded[..n].copy_from_slice(&want);
            assert_eq!(block, u128::from_le_bytes(padded));
            assert_eq!(open_tail(&mut buf, ks), block);
            assert_eq!(buf, plain);
        }
    }

    #[test]
    fn verdict_wipes_on_a_mismatch_only() {
        let expected = [7u8; 16];
        let mut buf = vec![1u8; 40];
        assert!(verdict(&expected, &[7u8; 16], &mut buf).is_ok());
        assert!(verdict(&expected, &[7u8; 12], &mut buf).is_ok());
        assert!(buf.iter().all(|&b| b == 1));
        let mut bad = [7u8; 16];
        bad[15] ^= 0x80;
        assert_eq!(
            verdict(&expected, &bad, &mut buf),
            Err(Error::Authentication)
        );
        assert!(buf.iter().all(|&b| b == 0));
        let mut buf = vec![1u8; 40];
        assert_eq!(
            verdict(&expected, &bad[4..], &mut buf),
            Err(Error::Authentication)
        );
        assert!(buf.iter().all(|&b| b == 0));
    }
}
