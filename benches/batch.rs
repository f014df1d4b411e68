//! Batched sealing: one AES-128-GCM record for each of 64 connections,
//! `seal_batch` against ring sealing the same records one by one (same run),
//! and `seal_batch_parallel` against `seal_batch` for 1024 records of 1420 B.
//!
//! `cargo bench --bench batch -- --warm-up-time 1 --measurement-time 2`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use sealwire::aead::{seal_batch, seal_batch_parallel, AesGcm, SealJob};
use std::hint::black_box;

struct Conns {
    keys: Vec<AesGcm>,
    ring: Vec<LessSafeKey>,
    nonces: Vec<[u8; 12]>,
    aads: Vec<[u8; 5]>,
    bufs: Vec<Vec<u8>>,
}

fn conns(n: usize, size: usize) -> Conns {
    let mut c = Conns {
        keys: Vec::new(),
        ring: Vec::new(),
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
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        c.nonces.push(nonce);
        let len = size + 17;
        c.aads.push([23, 3, 3, (len >> 8) as u8, len as u8]);
        c.bufs.push(vec![i as u8; size]);
    }
    c
}

fn batch_seal(c: &mut Conns, parallel: bool) {
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

fn ring_one_by_one(c: &mut Conns) {
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

fn sealwire_one_by_one(c: &mut Conns) {
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

fn bench_64_connections(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("64conns");
    for size in [64usize, 256, 1420, 16384] {
        let mut c = conns(64, size);
        g.throughput(Throughput::Bytes((64 * size) as u64));
        g.bench_with_input(BenchmarkId::new("ring_one_by_one", size), &size, |b, _| {
            b.iter(|| ring_one_by_one(&mut c))
        });
        g.bench_with_input(BenchmarkId::new("seal_batch", size), &size, |b, _| {
            b.iter(|| batch_seal(&mut c, false))
        });
        g.bench_with_input(
            BenchmarkId::new("sealwire_one_by_one", size),
            &size,
            |b, _| b.iter(|| sealwire_one_by_one(&mut c)),
        );
    }
    g.finish();
}

fn bench_parallel(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("1024x1420");
    let mut c = conns(1024, 1420);
    g.throughput(Throughput::Bytes(1024 * 1420));
    g.bench_function("seal_batch", |b| b.iter(|| batch_seal(&mut c, false)));
    g.bench_function("seal_batch_parallel", |b| {
        b.iter(|| batch_seal(&mut c, true))
    });
    g.finish();
}

criterion_group!(benches, bench_64_connections, bench_parallel);
criterion_main!(benches);
