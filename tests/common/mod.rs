//! Helpers shared by the integration tests.
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sealwire::aead::{AesGcm, Backend};

/// A deterministic generator, so a failure reproduces.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn bytes(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill(&mut v[..]);
    v
}

/// Seals `pt` with `backend`, working on a buffer that starts `offset` bytes
/// into its allocation, so every alignment is exercised.
pub fn seal_at(
    backend: Backend,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    pt: &[u8],
    offset: usize,
) -> (Vec<u8>, [u8; 16]) {
    let k = AesGcm::with_backend(key, backend).unwrap();
    let mut storage = vec![0xa5u8; offset + pt.len() + 16];
    let buf = &mut storage[offset..offset + pt.len()];
    buf.copy_from_slice(pt);
    let tag = k.seal_in_place_detached(nonce, aad, buf).unwrap();
    assert!(
        storage[..offset].iter().all(|&b| b == 0xa5),
        "{backend}: wrote before the buffer"
    );
    assert!(
        storage[offset + pt.len()..].iter().all(|&b| b == 0xa5),
        "{backend}: wrote past the buffer"
    );
    (storage[offset..offset + pt.len()].to_vec(), tag)
}

/// Opens at an alignment offset; returns the plaintext or the error.
pub fn open_at(
    backend: Backend,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
    offset: usize,
) -> Result<Vec<u8>, sealwire::aead::Error> {
    let k = AesGcm::with_backend(key, backend).unwrap();
    let mut storage = vec![0x5au8; offset + ct.len() + 16];
    let buf = &mut storage[offset..offset + ct.len()];
    buf.copy_from_slice(ct);
    let res = k.open_in_place_detached(nonce, aad, buf, tag);
    assert!(storage[..offset].iter().all(|&b| b == 0x5a));
    assert!(storage[offset + ct.len()..].iter().all(|&b| b == 0x5a));
    res.map(|()| storage[offset..offset + ct.len()].to_vec())
}

/// Plaintext lengths: every length 0..=300, then random ones up to 4100,
/// including multiples of common kernel strides and their neighbours.
pub fn lengths(rng: &mut ChaCha8Rng, random: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..=300).collect();
    for stride in [128usize, 192, 256] {
        for k in 1..=4 {
            v.extend([k * stride - 1, k * stride, k * stride + 1]);
        }
    }
    v.extend([4095, 4096, 4097, 4100]);
    for _ in 0..random {
        v.push(rng.gen_range(0..=4100));
    }
    v
}
