//! `vaes-avx2` against ring 0.17 (its VAES-AVX2 assembly on this kind of
//! CPU), in one process: AES-128-GCM and AES-256-GCM, seal and open, a
//! 12-byte nonce, 13-byte AAD (a TLS 1.3 record header), 64, 1420 and
//! 16384-byte records.
//!
//! Open needs a valid tag every iteration. CTR mode decrypts by XORing the
//! same keystream, so opening in place flips the buffer between two texts
//! X0 and X1 = X0 ^ keystream; the bench holds the tag of each (as
//! ciphertext) and alternates them.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM, AES_256_GCM};
use sealwire::aead::{AesGcm, Backend};

const SIZES: [usize; 3] = [64, 1420, 16384];
const NONCE: [u8; 12] = [0x42; 12];
const AAD: [u8; 13] = [0x17, 0x03, 0x03, 0x40, 0x11, 0, 0, 0, 0, 0, 0, 0, 1];

fn bench(c: &mut Criterion) {
    if !Backend::VaesAvx2.is_available() {
        eprintln!("vaes-avx2 is not available on this CPU; nothing to compare");
        return;
    }
    for (bits, alg) in [(128, &AES_128_GCM), (256, &AES_256_GCM)] {
        let key = vec![0x5au8; bits / 8];
        let ours = AesGcm::with_backend(&key, Backend::VaesAvx2).unwrap();
        let ring_key = LessSafeKey::new(UnboundKey::new(alg, &key).unwrap());

        let mut g = c.benchmark_group(format!("aes{bits}-gcm-seal"));
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let mut buf = vec![0u8; size];
            g.bench_with_input(BenchmarkId::new("vaes-avx2", size), &size, |b, _| {
                b.iter(|| {
                    ours.seal_in_place_detached(black_box(&NONCE), black_box(&AAD), &mut buf)
                        .unwrap()
                })
            });
            let mut buf = vec![0u8; size];
            g.bench_with_input(BenchmarkId::new("ring", size), &size, |b, _| {
                b.iter(|| {
                    ring_key
                        .seal_in_place_separate_tag(
                            Nonce::assume_unique_for_key(black_box(NONCE)),
                            Aad::from(black_box(AAD)),
                            &mut buf,
                        )
                        .unwrap()
                })
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("aes{bits}-gcm-open"));
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            // X1 = seal(X0) gives the tag of X1; sealing X1 gives back X0 and its tag.
            let x0 = vec![0x33u8; size];
            let mut x1 = x0.clone();
            let t1 = ours.seal_in_place_detached(&NONCE, &AAD, &mut x1).unwrap();
            let mut back = x1.clone();
            let t0 = ours
                .seal_in_place_detached(&NONCE, &AAD, &mut back)
                .unwrap();
            assert_eq!(back, x0);
            let tags = [t0, t1];

            let mut buf = x0.clone();
            let mut i = 0usize;
            g.bench_with_input(BenchmarkId::new("vaes-avx2", size), &size, |b, _| {
                b.iter(|| {
                    ours.open_in_place_detached(
                        black_box(&NONCE),
                        black_box(&AAD),
                        &mut buf,
                        &tags[i & 1],
                    )
                    .unwrap();
                    i += 1;
                })
            });
            let mut buf = x0.clone();
            let mut i = 0usize;
            g.bench_with_input(BenchmarkId::new("ring", size), &size, |b, _| {
                b.iter(|| {
                    ring_key
                        .open_in_place_separate_tag(
                            Nonce::assume_unique_for_key(black_box(NONCE)),
                            Aad::from(black_box(AAD)),
                            Tag::from(tags[i & 1]),
                            &mut buf,
                            0..,
                        )
                        .unwrap();
                    i += 1;
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
