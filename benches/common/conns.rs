//! The connections the batch benches seal for: one AES-128-GCM key (sealwire,
//! ring and aws-lc-rs), nonce, TLS 1.2-style 5-byte AAD and record buffer
//! each, and the four ways to seal them (ring one by one, aws-lc-rs one by
//! one, sealwire one by one, a batch).
#![allow(dead_code)]

use aws_lc_rs::aead as awslc;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use sealwire::aead::{open_batch, seal_batch, seal_batch_parallel, AesGcm, OpenJob, SealJob};
use std::hint::black_box;

pub struct Conns {
    pub keys: Vec<AesGcm>,
    pub ring: Vec<LessSafeKey>,
    pub awslc: Vec<awslc::LessSafeKey>,
    pub nonces: Vec<[u8; 12]>,
    pub aads: Vec<[u8; 5]>,
    pub bufs: Vec<Vec<u8>>,
    /// For the opens: per record the tags under which its buffer is a
    /// ciphertext in either phase (see `prepare_open`), and the phase.
    pub open_tags: Vec<[[u8; 16]; 2]>,
    pub phase: usize,
}

/// `n` connections with distinct keys and nonces, one `size`-byte record each.
pub fn conns(n: usize, size: usize) -> Conns {
    let mut c = Conns {
        keys: Vec::new(),
        ring: Vec::new(),
        awslc: Vec::new(),
        nonces: Vec::new(),
        aads: Vec::new(),
        bufs: Vec::new(),
        open_tags: Vec::new(),
        phase: 0,
    };
    for i in 0..n {
        let key: Vec<u8> = (0..16).map(|j| (i * 31 + j * 7) as u8).collect();
        c.keys.push(AesGcm::new(&key).unwrap());
        c.ring.push(LessSafeKey::new(
            UnboundKey::new(&AES_128_GCM, &key).unwrap(),
        ));
        c.awslc.push(awslc::LessSafeKey::new(
            awslc::UnboundKey::new(&awslc::AES_128_GCM, &key).unwrap(),
        ));
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        c.nonces.push(nonce);
        let len = size + 17;
        c.aads.push([23, 3, 3, (len >> 8) as u8, len as u8]);
        c.bufs.push(vec![i as u8; size]);
    }
    c
}

/// Every record in one `seal_batch` (or `seal_batch_parallel`) call.
pub fn batch(c: &mut Conns, parallel: bool) {
    let mut jobs: Vec<SealJob<'_>> = c
        .keys
        .iter()
        .zip(&c.nonces)
        .zip(&c.aads)
        .zip(c.bufs.iter_mut())
        .map(|(((key, nonce), aad), buf)| SealJob {
            key,
            nonce: *nonce,
            aad,
            buf,
            tag: [0; 16],
        })
        .collect();
    if parallel {
        seal_batch_parallel(&mut jobs);
    } else {
        seal_batch(&mut jobs);
    }
    black_box(jobs[0].tag);
}

/// ring, one `seal_in_place_separate_tag` per record.
pub fn ring_one_by_one(c: &mut Conns) {
    for (((key, nonce), aad), buf) in c
        .ring
        .iter()
        .zip(&c.nonces)
        .zip(&c.aads)
        .zip(c.bufs.iter_mut())
    {
        let tag = key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), buf)
            .unwrap();
        black_box(tag.as_ref());
    }
}

/// aws-lc-rs, one `seal_in_place_separate_tag` per record.
pub fn awslc_one_by_one(c: &mut Conns) {
    for (((key, nonce), aad), buf) in c
        .awslc
        .iter()
        .zip(&c.nonces)
        .zip(&c.aads)
        .zip(c.bufs.iter_mut())
    {
        let tag = key
            .seal_in_place_separate_tag(
                awslc::Nonce::assume_unique_for_key(*nonce),
                awslc::Aad::from(aad),
                buf,
            )
            .unwrap();
        black_box(tag.as_ref());
    }
}

/// sealwire's single-stream path, one `seal_in_place_detached` per record.
pub fn sealwire_one_by_one(c: &mut Conns) {
    for (((key, nonce), aad), buf) in c
        .keys
        .iter()
        .zip(&c.nonces)
        .zip(&c.aads)
        .zip(c.bufs.iter_mut())
    {
        black_box(key.seal_in_place_detached(nonce, aad, buf).unwrap());
    }
}

/// Makes every buffer openable, pass after pass. Under one nonce, sealing
/// X0 gives X1 (its tag t1) and sealing X1 gives X0 back (its tag t0): X0
/// is the ciphertext of X1 under t0 and X1 that of X0 under t1, so opens
/// alternate X0 -> X1 -> X0 with the tags of the phase, each one authentic
/// (CTR decrypts with the keystream it encrypts with; SP 800-38D 7.2).
pub fn prepare_open(c: &mut Conns) {
    c.open_tags.clear();
    for ((key, nonce), (aad, buf)) in c
        .keys
        .iter()
        .zip(&c.nonces)
        .zip(c.aads.iter().zip(c.bufs.iter_mut()))
    {
        let t1 = key.seal_in_place_detached(nonce, aad, buf).unwrap();
        let t0 = key.seal_in_place_detached(nonce, aad, buf).unwrap();
        c.open_tags.push([t0, t1]);
    }
    c.phase = 0;
}

/// Every record in one `open_batch` call (after `prepare_open`).
pub fn open_batch_all(c: &mut Conns) {
    let phase = c.phase;
    let mut jobs: Vec<OpenJob<'_>> = c
        .keys
        .iter()
        .zip(&c.nonces)
        .zip(&c.aads)
        .zip(c.bufs.iter_mut().zip(&c.open_tags))
        .map(|(((key, nonce), aad), (buf, tags))| OpenJob {
            key,
            nonce: *nonce,
            aad,
            buf,
            tag: tags[phase],
        })
        .collect();
    for r in open_batch(&mut jobs) {
        r.expect("authentic record");
    }
    c.phase ^= 1;
}

/// sealwire's single-stream path, one `open_in_place_detached` per record
/// (after `prepare_open`).
pub fn open_one_by_one(c: &mut Conns) {
    let phase = c.phase;
    for (((key, nonce), aad), (buf, tags)) in c
        .keys
        .iter()
        .zip(&c.nonces)
        .zip(&c.aads)
        .zip(c.bufs.iter_mut().zip(&c.open_tags))
    {
        key.open_in_place_detached(nonce, aad, buf, &tags[phase])
            .expect("authentic record");
    }
    c.phase ^= 1;
}
