//! The shared GCM driver (SP 800-38D section 7): J0 for any IV length, AAD
//! and length blocks, the partial last block, and the tag. Backends supply
//! only the [`Kernel`] operations on whole blocks.

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
    let c = u32::from_be_bytes([ctr[12], ctr[13], ctr[14], ctr[15]]).wrapping_add(1);
    ctr[12..].copy_from_slice(&c.to_be_bytes());
}

/// GHASH over `data` zero-padded to whole blocks.
fn ghash_padded<K: Kernel>(k: &K, acc: &mut K::Acc, data: &[u8]) {
    let whole = data.len() & !15;
    k.ghash(acc, &data[..whole]);
    if whole < data.len() {
        let mut block = [0u8; 16];
        block[..data.len() - whole].copy_from_slice(&data[whole..]);
        k.ghash(acc, &block);
    }
}

/// The pre-counter block J0 (SP 800-38D 7.1 step 2).
///
/// ```text
///   len(IV) = 96:  J0 = IV || 0x00000001
///   otherwise:     J0 = GHASH_H(IV || 0-pad to a block || 0^64 || [len(IV) in bits]_64)
/// ```
pub(crate) fn j0<K: Kernel>(k: &K, nonce: &[u8]) -> [u8; 16] {
    let mut j0 = [0u8; 16];
    if nonce.len() == 12 {
        j0[..12].copy_from_slice(nonce);
        j0[15] = 1;
    } else {
        let mut acc = k.acc_zero();
        ghash_padded(k, &mut acc, nonce);
        let mut len_block = [0u8; 16];
        len_block[8..].copy_from_slice(&((nonce.len() as u64) * 8).to_be_bytes());
        k.ghash(&mut acc, &len_block);
        j0 = k.acc_bytes(acc);
    }
    j0
}

/// Absorbs the length block and returns the full 16-byte tag
/// `E(K, J0) ^ GHASH(...)`.
fn finish<K: Kernel>(
    k: &K,
    mut acc: K::Acc,
    j0: &[u8; 16],
    aad_len: usize,
    ct_len: usize,
) -> [u8; 16] {
    let mut len_block = [0u8; 16];
    len_block[..8].copy_from_slice(&((aad_len as u64) * 8).to_be_bytes());
    len_block[8..].copy_from_slice(&((ct_len as u64) * 8).to_be_bytes());
    k.ghash(&mut acc, &len_block);
    let s = k.acc_bytes(acc);
    let mut tag = *j0;
    k.encrypt_block(&mut tag);
    for (t, s) in tag.iter_mut().zip(s) {
        *t ^= s;
    }
    tag
}

/// Keystream for the partial last block: `E(K, ctr)`.
fn tail_keystream<K: Kernel>(k: &K, ctr: &[u8; 16]) -> [u8; 16] {
    let mut ks = *ctr;
    k.encrypt_block(&mut ks);
    ks
}

/// Authenticated encryption (SP 800-38D 7.1), in place; returns the tag.
pub(crate) fn seal<K: Kernel>(
    k: &K,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; 16], Error> {
    check_lengths(nonce.len(), aad.len(), buf.len())?;
    let j0 = j0(k, nonce);
    let mut ctr = j0;
    inc32(&mut ctr);
    let mut acc = k.acc_zero();
    ghash_padded(k, &mut acc, aad);
    let whole = buf.len() & !15;
    let (body, tail) = buf.split_at_mut(whole);
    k.seal_blocks(&mut ctr, &mut acc, body);
    if !tail.is_empty() {
        let ks = tail_keystream(k, &ctr);
        let mut block = [0u8; 16];
        for (i, b) in tail.iter_mut().enumerate() {
            *b ^= ks[i];
            block[i] = *b;
        }
        k.ghash(&mut acc, &block);
    }
    Ok(finish(k, acc, &j0, aad.len(), buf.len()))
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
    let j0 = j0(k, nonce);
    let mut ctr = j0;
    inc32(&mut ctr);
    let mut acc = k.acc_zero();
    ghash_padded(k, &mut acc, aad);
    let whole = buf.len() & !15;
    let (body, tail) = buf.split_at_mut(whole);
    k.open_blocks(&mut ctr, &mut acc, body);
    if !tail.is_empty() {
        let mut block = [0u8; 16];
        block[..tail.len()].copy_from_slice(tail);
        k.ghash(&mut acc, &block);
        let ks = tail_keystream(k, &ctr);
        for (b, s) in tail.iter_mut().zip(ks) {
            *b ^= s;
        }
    }
    let expected = finish(k, acc, &j0, aad.len(), buf.len());
    if bool::from(expected[..tag.len()].ct_eq(tag)) {
        Ok(())
    } else {
        wipe(buf);
        Err(Error::Authentication)
    }
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
    }
}
