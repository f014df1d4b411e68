//! Test helpers shared by the kernel files' unit tests.

use super::{AesGcm, Backend};
use rand::{Rng, RngCore};
use rand_chacha::ChaCha20Rng;

/// Seals and opens `len` bytes at alignment offset `offset` on both
/// backends and checks that ciphertext and tag agree.
pub(crate) fn compare(
    backend: Backend,
    rng: &mut ChaCha20Rng,
    key: &[u8],
    nonce: &[u8],
    len: usize,
    aad_len: usize,
    offset: usize,
) {
    let fast = AesGcm::with_backend(key, backend).unwrap();
    let slow = AesGcm::with_backend(key, Backend::Portable).unwrap();
    let mut aad = vec![0u8; aad_len];
    rng.fill_bytes(&mut aad);
    let mut storage = vec![0u8; len + offset];
    rng.fill_bytes(&mut storage);
    let plain = storage[offset..].to_vec();
    let buf = &mut storage[offset..];
    let tag = fast.seal_in_place_detached(nonce, &aad, buf).unwrap();
    let mut expect = plain.clone();
    let expect_tag = slow
        .seal_in_place_detached(nonce, &aad, &mut expect)
        .unwrap();
    assert_eq!(buf, &expect[..], "ciphertext, len {len} offset {offset}");
    assert_eq!(tag, expect_tag, "tag, len {len} offset {offset}");
    fast.open_in_place_detached(nonce, &aad, buf, &tag).unwrap();
    assert_eq!(buf, &plain[..], "open, len {len} offset {offset}");
    // A flipped tag bit must fail and wipe the buffer.
    let mut ct = expect.clone();
    let mut bad = tag;
    bad[rng.gen_range(0..16)] ^= 1 << rng.gen_range(0..8);
    assert!(fast
        .open_in_place_detached(nonce, &aad, &mut ct, &bad)
        .is_err());
    assert!(ct.iter().all(|&b| b == 0));
}
