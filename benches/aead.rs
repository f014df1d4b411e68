//! AES-GCM throughput of every backend this CPU can run: record sizes x
//! seal/open x AES-128/256, in bytes per second (`Throughput::Bytes`).
//!
//! `cargo bench --bench aead -- --warm-up-time 1 --measurement-time 2`
//! (add a filter such as `aes128gcm/seal` to narrow it; `portable` is slow
//! at large sizes).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sealwire::aead::{AesGcm, Backend};
use std::hint::black_box;

/// The record sizes of `sealwire speed`.
const SIZES: [usize; 7] = [16, 64, 256, 1024, 1420, 8192, 16384];

/// The TLS 1.3 record header as AAD (RFC 8446 section 5.2).
fn aad(size: usize) -> [u8; 5] {
    let [hi, lo] = ((size + 16) as u16).to_be_bytes();
    [0x17, 0x03, 0x03, hi, lo]
}

fn aead(c: &mut Criterion) {
    for key_bits in [128usize, 256] {
        let key_bytes: Vec<u8> = (0..key_bits / 8).map(|i| i as u8).collect();
        for op in ["seal", "open"] {
            let mut group = c.benchmark_group(format!("aead/aes{key_bits}gcm/{op}"));
            for size in SIZES {
                group.throughput(Throughput::Bytes(size as u64));
                let aad = aad(size);
                for backend in Backend::available() {
                    let key = AesGcm::with_backend(&key_bytes, backend).expect("available");
                    let mut buf = vec![0x5au8; size];
                    let id = BenchmarkId::new(backend.name(), size);
                    if op == "seal" {
                        let mut seq = 0u64;
                        group.bench_function(id, |b| {
                            b.iter(|| {
                                // RFC 8446 section 5.3: a fresh nonce per record.
                                let mut nonce = [0x11u8; 12];
                                nonce[4..].copy_from_slice(&seq.to_be_bytes());
                                seq += 1;
                                black_box(key.seal_in_place_detached(&nonce, &aad, &mut buf))
                            })
                        });
                    } else {
                        // Under one nonce, P seals to A (tag over A) and A seals back
                        // to P (tag over P): opening then alternates P -> A -> P,
                        // every open a successful one (SP 800-38D section 7.2).
                        let nonce = [0x22u8; 12];
                        let t_a = key.seal_in_place_detached(&nonce, &aad, &mut buf).unwrap();
                        let t_p = key.seal_in_place_detached(&nonce, &aad, &mut buf).unwrap();
                        let tags = [t_p, t_a];
                        let mut phase = 0;
                        group.bench_function(id, |b| {
                            b.iter(|| {
                                let ok = key.open_in_place_detached(
                                    &nonce,
                                    &aad,
                                    &mut buf,
                                    &tags[phase],
                                );
                                phase ^= 1;
                                ok.expect("authentic record")
                            })
                        });
                    }
                }
            }
            group.finish();
        }
    }
}

criterion_group!(benches, aead);
criterion_main!(benches);
