//! The stock-crates baseline: RustCrypto's `aes` block cipher run in CTR mode
//! and its `ghash` universal hash, composed by the GCM framing. This is
//! what the ordinary crates give; the hand-written kernels are measured
//! against it.

#![forbid(unsafe_code)]

use super::gcm::inc32;
use super::{Error, Kernel};
use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use ghash::universal_hash::UniversalHash;
use ghash::GHash;

enum Cipher {
    Aes128(aes::Aes128),
    Aes192(aes::Aes192),
    Aes256(aes::Aes256),
}

/// Expanded key: the AES key schedule and the GHASH key H = E(K, 0^128).
/// Both crates zeroize their state on drop (their `zeroize` feature).
pub struct Key {
    cipher: Cipher,
    ghash: GHash,
}

/// Counter blocks encrypted per call to the block cipher: enough for the
/// `aes` crate's 8-way pipelined AES-NI path.
const PAR: usize = 8;

impl Key {
    pub(crate) fn new(key: &[u8]) -> Result<Key, Error> {
        let cipher = match key.len() {
            16 => Cipher::Aes128(aes::Aes128::new(GenericArray::from_slice(key))),
            24 => Cipher::Aes192(aes::Aes192::new(GenericArray::from_slice(key))),
            32 => Cipher::Aes256(aes::Aes256::new(GenericArray::from_slice(key))),
            n => return Err(Error::KeyLength(n)),
        };
        let mut h = GenericArray::default();
        match &cipher {
            Cipher::Aes128(c) => c.encrypt_block(&mut h),
            Cipher::Aes192(c) => c.encrypt_block(&mut h),
            Cipher::Aes256(c) => c.encrypt_block(&mut h),
        }
        let ghash = GHash::new(&h);
        Ok(Key { cipher, ghash })
    }

    fn encrypt_blocks(&self, blocks: &mut [GenericArray<u8, aes::cipher::consts::U16>]) {
        match &self.cipher {
            Cipher::Aes128(c) => c.encrypt_blocks(blocks),
            Cipher::Aes192(c) => c.encrypt_blocks(blocks),
            Cipher::Aes256(c) => c.encrypt_blocks(blocks),
        }
    }
}

/// The accumulator is the `ghash` crate's own state, seeded with the key.
pub struct GHashAcc(GHash);

impl Kernel for Key {
    type Acc = GHashAcc;

    fn acc_zero(&self) -> GHashAcc {
        GHashAcc(self.ghash.clone())
    }

    fn acc_bytes(&self, acc: GHashAcc) -> [u8; 16] {
        acc.0.finalize().into()
    }

    fn ghash(&self, acc: &mut GHashAcc, blocks: &[u8]) {
        debug_assert_eq!(blocks.len() % 16, 0);
        acc.0.update_padded(blocks);
    }

    fn encrypt_block(&self, block: &mut [u8; 16]) {
        let b = GenericArray::from_mut_slice(block);
        match &self.cipher {
            Cipher::Aes128(c) => c.encrypt_block(b),
            Cipher::Aes192(c) => c.encrypt_block(b),
            Cipher::Aes256(c) => c.encrypt_block(b),
        }
    }

    fn ctr32(&self, ctr: &mut [u8; 16], buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        let mut ks = [GenericArray::default(); PAR];
        for chunk in buf.chunks_mut(16 * PAR) {
            let n = chunk.len() / 16;
            for block in ks.iter_mut().take(n) {
                block.copy_from_slice(ctr);
                inc32(ctr);
            }
            self.encrypt_blocks(&mut ks[..n]);
            for (c, k) in chunk.chunks_exact_mut(16).zip(ks.iter()) {
                for (x, y) in c.iter_mut().zip(k.iter()) {
                    *x ^= *y;
                }
            }
        }
    }
}
