//! Self-checks behind `sealwire selftest`, built into the library so the
//! command runs them anywhere, including under qemu-user, where a second
//! thread hangs (see `scripts/test-aarch64.sh`): everything here runs on the
//! calling thread unless asked for more.
//!
//! - [`differential`]: random cases, each sealed and opened by every backend
//!   asked for and by two independent references ([`reference`]: the
//!   `aes-gcm` crate and aws-lc-rs), single messages and batches, spread
//!   over a thread pool of its own or run on the calling thread.
//! - [`counter_wrap`]: messages whose 32-bit counter wraps (inc32,
//!   SP 800-38D 6.2), compared with a CTR computed block by block here.
//! - [`seal_at`] and [`open_at`]: one seal or open at an alignment offset
//!   inside a larger buffer, checking that nothing outside the message is
//!   written. The integration tests use these too, so the buffer checks
//!   exist once.
//! - [`gf_mul`] and [`gf_inv`]: bit-by-bit GF(2^128) arithmetic in GCM's bit
//!   order, the reference the counter-wrap nonces are solved with.

#![forbid(unsafe_code)]

pub mod differential;
pub mod reference;

use super::{gcm, portable, AesGcm, Backend, Error, Kernel};

/// SplitMix64: a small deterministic generator, so every run checks the same
/// cases and a failure reproduces from its seed.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    /// The generator of item `index` of stream `stream` under `seed`: each
    /// case has its own, so any one case is rebuilt without the others.
    fn for_item(seed: u64, stream: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ stream.rotate_left(32));
        let mut r = Rng(r.next() ^ index);
        Rng(r.next())
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` for test-case selection (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        for chunk in v.chunks_mut(8) {
            let r = self.next().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        v
    }
}

/// The backend a checked backend is compared with.
fn reference_for(backend: Backend) -> Backend {
    if backend == Backend::Portable {
        Backend::RustCrypto
    } else {
        Backend::Portable
    }
}

/// Seals `pt` at `offset` bytes into a larger buffer (filled with 0xa5) and
/// checks that nothing outside the message was written; the ciphertext and
/// the tag.
pub fn seal_at(
    key: &AesGcm,
    nonce: &[u8],
    aad: &[u8],
    pt: &[u8],
    offset: usize,
) -> Result<(Vec<u8>, [u8; 16]), String> {
    let mut storage = vec![0xa5u8; offset + pt.len() + 16];
    let buf = &mut storage[offset..offset + pt.len()];
    buf.copy_from_slice(pt);
    let tag = key
        .seal_in_place_detached(nonce, aad, buf)
        .map_err(|e| format!("seal failed: {e}"))?;
    let outside_ok = storage[..offset].iter().all(|&b| b == 0xa5)
        && storage[offset + pt.len()..].iter().all(|&b| b == 0xa5);
    if !outside_ok {
        return Err("seal wrote outside the buffer".into());
    }
    Ok((storage[offset..offset + pt.len()].to_vec(), tag))
}

/// Opens `ct` at `offset` bytes into a larger buffer (filled with 0x5a) and
/// checks that nothing outside the message was written; the message bytes
/// after the call (the plaintext, or zeros after a failed open) and the
/// result of the open.
pub fn open_at(
    key: &AesGcm,
    nonce: &[u8],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
    offset: usize,
) -> Result<(Vec<u8>, Result<(), Error>), String> {
    let mut storage = vec![0x5au8; offset + ct.len() + 16];
    let buf = &mut storage[offset..offset + ct.len()];
    buf.copy_from_slice(ct);
    let res = key.open_in_place_detached(nonce, aad, buf, tag);
    let outside_ok = storage[..offset].iter().all(|&b| b == 0x5a)
        && storage[offset + ct.len()..].iter().all(|&b| b == 0x5a);
    if !outside_ok {
        return Err("open wrote outside the buffer".into());
    }
    Ok((storage[offset..offset + ct.len()].to_vec(), res))
}

/// Product in GF(2^128) in GCM's bit order (SP 800-38D 6.3, Algorithm 1):
/// bit 0 of the block is the most significant bit of the u128.
pub fn gf_mul(x: u128, y: u128) -> u128 {
    const R: u128 = 0xe1 << 120;
    let mut z = 0u128;
    let mut v = y;
    for i in 0..128 {
        z ^= v & 0u128.wrapping_sub((x >> (127 - i)) & 1);
        v = (v >> 1) ^ (R & 0u128.wrapping_sub(v & 1));
    }
    z
}

/// x^-1 = x^(2^128 - 2) for x != 0 (the multiplicative group has order
/// 2^128 - 1).
pub fn gf_inv(x: u128) -> u128 {
    let mut result = 1u128 << 127;
    let mut base = x;
    let mut e = u128::MAX - 1;
    while e != 0 {
        if e & 1 == 1 {
            result = gf_mul(result, base);
        }
        base = gf_mul(base, base);
        e >>= 1;
    }
    result
}

/// A 16-byte nonce whose pre-counter block is `j0` (SP 800-38D 7.1 step 2):
///
/// ```text
///   J0 = GHASH_H(N || 0^64 || [128]_64) = N*H^2 + L*H,   L = [128]_128
///   N  = (J0 + L*H) * (H^2)^-1
/// ```
///
/// The result is checked with the framing's own J0 computation. (The
/// backends' unit tests build their counter-wrap nonces here too.)
pub(crate) fn nonce_for_j0(k: &portable::Key, j0: [u8; 16]) -> Result<[u8; 16], String> {
    let mut h = [0u8; 16];
    k.encrypt_block(&mut h);
    let h = u128::from_be_bytes(h);
    let n = gf_mul(
        u128::from_be_bytes(j0) ^ gf_mul(128, h),
        gf_inv(gf_mul(h, h)),
    );
    let nonce = n.to_be_bytes();
    if gcm::j0(k, &nonce) != j0 {
        return Err("solved nonce does not give the chosen J0".into());
    }
    Ok(nonce)
}

/// Counter-wrap cases: for each key size, J0 values whose low 32 bits are
/// just below 2^32 (so the counter wraps at every block of the first two
/// 16-block groups), and lengths around one and two 8- and 16-block groups
/// with and without a partial last block. The backend's ciphertext must equal a CTR computed here block by
/// block with an explicit modulo-2^32 counter, and its tag the reference
/// backend's. Returns the cases checked.
pub fn counter_wrap(backend: Backend, seed: u64) -> Result<usize, String> {
    let reference = reference_for(backend);
    let mut rng = Rng(seed ^ 0x5752_4150);
    let mut count = 0;
    for key_len in [16, 24, 32] {
        let key_bytes = rng.bytes(key_len);
        let block_cipher = portable::Key::new(&key_bytes).map_err(|e| e.to_string())?;
        let key = AesGcm::with_backend(&key_bytes, backend).map_err(|e| e.to_string())?;
        let ref_key = AesGcm::with_backend(&key_bytes, reference).map_err(|e| e.to_string())?;
        // The wrap 1 to 34 blocks in: at every position of the first two
        // 16-block groups (and of the first four 8-block groups), and once
        // 128 blocks in.
        for low in (0xffff_ffdeu32..=0xffff_ffff).chain([0xffff_ff80]) {
            let mut j0 = [0u8; 16];
            j0[..12].copy_from_slice(&rng.bytes(12));
            j0[12..].copy_from_slice(&low.to_be_bytes());
            let nonce = nonce_for_j0(&block_cipher, j0)?;
            for len in [
                1usize, 16, 17, 31, 32, 33, 100, 112, 127, 128, 129, 144, 255, 256, 257, 263, 300,
                511, 512, 513, 784, 1000, 4100,
            ] {
                let pt = rng.bytes(len);
                let aad = rng.bytes(len % 40);
                // GCTR (SP 800-38D 6.5) from inc32(J0), by definition.
                let mut want = pt.clone();
                for (i, chunk) in want.chunks_mut(16).enumerate() {
                    let mut ks = j0;
                    ks[12..].copy_from_slice(&low.wrapping_add(1 + i as u32).to_be_bytes());
                    block_cipher.encrypt_block(&mut ks);
                    for (b, s) in chunk.iter_mut().zip(ks) {
                        *b ^= s;
                    }
                }
                let ctx = |why: &str| {
                    format!(
                        "{backend}: counter wrap, key {} bits, J0 low {low:#010x}, length {len}: {why}",
                        key_len * 8
                    )
                };
                let (ct, tag) = seal_at(&key, &nonce, &aad, &pt, len % 16).map_err(|e| ctx(&e))?;
                if ct != want {
                    return Err(ctx("ciphertext differs from CTR with a 32-bit counter"));
                }
                let (_, want_tag) = seal_at(&ref_key, &nonce, &aad, &pt, 0).map_err(|e| ctx(&e))?;
                if tag != want_tag {
                    return Err(ctx("tag differs from the reference"));
                }
                let (opened, res) =
                    open_at(&key, &nonce, &aad, &ct, &tag, 3).map_err(|e| ctx(&e))?;
                if res.is_err() || opened != pt {
                    return Err(ctx("open round trip failed"));
                }
                count += 1;
            }
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    // gf_mul, gf_inv and counter_wrap on every backend are tested from
    // outside, in tests/counter_wrap.rs (gf_mul against the ghash crate).

    #[test]
    fn solved_nonce_gives_chosen_j0() {
        let k = portable::Key::new(&[7u8; 16]).unwrap();
        let mut j0 = [0x42u8; 16];
        j0[12..].copy_from_slice(&0xffff_fffeu32.to_be_bytes());
        let nonce = nonce_for_j0(&k, j0).unwrap();
        assert_eq!(gcm::j0(&k, &nonce), j0);
    }
}
