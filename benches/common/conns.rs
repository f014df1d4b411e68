//! The connections the batch benches seal for: one AES-128-GCM key (sealwire,
//! ring and aws-lc-rs), nonce, TLS 1.2-style 5-byte AAD and record buffer
//! each, and the four ways to seal them (ring one by one, aws-lc-rs one by
//! one, sealwire one by one, a batch).
#![allow(dead_code)]

use aws_lc_rs::aead as awslc;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use sealwire::aead::{seal_batch, seal_batch_parallel, AesGcm, SealJob};
use std::hint::black_box;

pub struct Conns {
    pub keys: Vec<AesGcm>,
    pub ring: Vec<LessSafeKey>,
    pub awslc: Vec<awslc::LessSafeKey>,
    pub nonces: Vec<[u8; 12]>,
    pub aads: Vec<[u8; 5]>,
    pub bufs: Vec<Vec<u8>>,
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
