//! `aesni-clmul` against ring 0.17 and aws-lc-rs in the same process:
//! AES-128/256-GCM seal and open, 12-byte nonce, 13-byte AAD (a TLS 1.3
//! record header), record sizes 64, 1420 and 16384 bytes.
//!
//! Run short: `cargo bench --bench aesni_vs_peers -- --warm-up-time 1 --measurement-time 2`.
//! Criterion runs the three implementations one after another inside each
//! group, so the ratios come from the same process and the same minute.
//!
//! On CPUs with AVX-512 VAES (Zen 4, recent Intel) aws-lc-rs runs its VAES
//! kernel; to compare with its 128-bit AES-NI kernel (its path on e.g. Zen 3),
//! mask those bits of its CPUID copy (leaf 7: AVX512F, VAES, VPCLMULQDQ):
//! `OPENSSL_ia32cap="~0x0:~0x60000010000" cargo bench --bench aesni_vs_peers`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sealwire::aead::{AesGcm, Backend};
use std::hint::black_box;

const SIZES: [usize; 3] = [64, 1420, 16384];
const NONCE: [u8; 12] = [7; 12];
const AAD: [u8; 13] = [0x17, 0x03, 0x03, 0x05, 0x8c, 1, 2, 3, 4, 5, 6, 7, 8];

fn ring_key(key: &[u8]) -> ring::aead::LessSafeKey {
    let alg = if key.len() == 16 {
        &ring::aead::AES_128_GCM
    } else {
        &ring::aead::AES_256_GCM
    };
    ring::aead::LessSafeKey::new(ring::aead::UnboundKey::new(alg, key).expect("ring key"))
}

fn awslc_key(key: &[u8]) -> aws_lc_rs::aead::LessSafeKey {
    let alg = if key.len() == 16 {
        &aws_lc_rs::aead::AES_128_GCM
    } else {
        &aws_lc_rs::aead::AES_256_GCM
    };
    aws_lc_rs::aead::LessSafeKey::new(
        aws_lc_rs::aead::UnboundKey::new(alg, key).expect("aws-lc-rs key"),
    )
}

fn bench(c: &mut Criterion) {
    if !Backend::AesniClmul.is_available() {
        eprintln!("aesni-clmul is not available on this CPU; nothing to compare");
        return;
    }
    for key_len in [16usize, 32] {
        let key = vec![0x42u8; key_len];
        let ours = AesGcm::with_backend(&key, Backend::AesniClmul).expect("aesni-clmul key");
        let ring = ring_key(&key);
        let awslc = awslc_key(&key);
        for op in ["seal", "open"] {
            let mut group = c.benchmark_group(format!("aes{}-gcm-{op}", key_len * 8));
            for size in SIZES {
                group.throughput(Throughput::Bytes(size as u64));
                let mut buf = vec![0u8; size];
                let tag = ours.seal_in_place_detached(&NONCE, &AAD, &mut buf).unwrap();
                let ct = buf.clone();
                match op {
                    "seal" => {
                        group.bench_with_input(
                            BenchmarkId::new("aesni-clmul", size),
                            &size,
                            |b, _| {
                                b.iter(|| {
                                    black_box(
                                        ours.seal_in_place_detached(&NONCE, &AAD, &mut buf)
                                            .unwrap(),
                                    )
                                })
                            },
                        );
                        group.bench_with_input(BenchmarkId::new("ring", size), &size, |b, _| {
                            b.iter(|| {
                                let n = ring::aead::Nonce::assume_unique_for_key(NONCE);
                                black_box(
                                    ring.seal_in_place_separate_tag(
                                        n,
                                        ring::aead::Aad::from(AAD),
                                        &mut buf,
                                    )
                                    .unwrap(),
                                )
                            })
                        });
                        group.bench_with_input(
                            BenchmarkId::new("aws-lc-rs", size),
                            &size,
                            |b, _| {
                                b.iter(|| {
                                    let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(NONCE);
                                    black_box(
                                        awslc
                                            .seal_in_place_separate_tag(
                                                n,
                                                aws_lc_rs::aead::Aad::from(AAD),
                                                &mut buf,
                                            )
                                            .unwrap(),
                                    )
                                })
                            },
                        );
                    }
                    _ => {
                        // Each open decrypts a fresh copy of the same valid record,
                        // so every iteration authenticates (and the copy is the
                        // same for all three).
                        let mut work = ct.clone();
                        group.bench_with_input(
                            BenchmarkId::new("aesni-clmul", size),
                            &size,
                            |b, _| {
                                b.iter(|| {
                                    work.copy_from_slice(&ct);
                                    ours.open_in_place_detached(&NONCE, &AAD, &mut work, &tag)
                                        .unwrap();
                                })
                            },
                        );
                        let mut ring_in = ct.clone();
                        ring_in.extend_from_slice(&tag);
                        let mut work = ring_in.clone();
                        group.bench_with_input(BenchmarkId::new("ring", size), &size, |b, _| {
                            b.iter(|| {
                                work.copy_from_slice(&ring_in);
                                let n = ring::aead::Nonce::assume_unique_for_key(NONCE);
                                black_box(
                                    ring.open_in_place(n, ring::aead::Aad::from(AAD), &mut work)
                                        .unwrap()
                                        .len(),
                                );
                            })
                        });
                        group.bench_with_input(
                            BenchmarkId::new("aws-lc-rs", size),
                            &size,
                            |b, _| {
                                b.iter(|| {
                                    work.copy_from_slice(&ring_in);
                                    let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(NONCE);
                                    black_box(
                                        awslc
                                            .open_in_place(
                                                n,
                                                aws_lc_rs::aead::Aad::from(AAD),
                                                &mut work,
                                            )
                                            .unwrap()
                                            .len(),
                                    );
                                })
                            },
                        );
                    }
                }
            }
            group.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
