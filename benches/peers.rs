//! The cases of the `aead` bench for the peer libraries (ring, aws-lc-rs,
//! RustCrypto aes-gcm, OpenSSL) and sealwire's best backend beside them.
//! Needs the `peers` feature:
//!
//! `cargo bench --features peers --bench peers -- --warm-up-time 1 --measurement-time 2`

#[path = "../src/bin/sealwire/speed/peers.rs"]
mod peers;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use peers::Peer;
use sealwire::aead::{AesGcm, Backend};
use std::hint::black_box;

/// The record sizes of `sealwire speed`.
const SIZES: [usize; 7] = [16, 64, 256, 1024, 1420, 8192, 16384];

/// The TLS 1.3 record header as AAD (RFC 8446 section 5.2).
fn aad(size: usize) -> [u8; 5] {
    let [hi, lo] = ((size + 16) as u16).to_be_bytes();
    [0x17, 0x03, 0x03, hi, lo]
}

/// sealwire's default backend or a peer, behind one seal/open interface.
enum Subject {
    Sealwire(Box<AesGcm>),
    Peer(peers::PeerKey),
}

impl Subject {
    fn seal(&mut self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        match self {
            Subject::Sealwire(k) => k.seal_in_place_detached(nonce, aad, buf).unwrap(),
            Subject::Peer(k) => k.seal(nonce, aad, buf).expect("peer seals"),
        }
    }

    fn open(&mut self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool {
        match self {
            Subject::Sealwire(k) => k.open_in_place_detached(nonce, aad, buf, tag).is_ok(),
            Subject::Peer(k) => k.open(nonce, aad, buf, tag),
        }
    }
}

fn peers(c: &mut Criterion) {
    for p in Peer::ALL {
        eprintln!("peer {}: {}", p.name(), p.version());
    }
    let best = Backend::best();
    for key_bits in [128usize, 256] {
        let key_bytes: Vec<u8> = (0..key_bits / 8).map(|i| i as u8).collect();
        for op in ["seal", "open"] {
            let mut group = c.benchmark_group(format!("peers/aes{key_bits}gcm/{op}"));
            for size in SIZES {
                group.throughput(Throughput::Bytes(size as u64));
                let aad = aad(size);
                let mut subjects: Vec<(String, Subject)> = vec![(
                    format!("sealwire-{}", best.name()),
                    Subject::Sealwire(Box::new(AesGcm::with_backend(&key_bytes, best).unwrap())),
                )];
                for p in Peer::ALL {
                    let key = p.key(&key_bytes).expect("peer key");
                    subjects.push((p.name().to_string(), Subject::Peer(key)));
                }
                for (name, mut subject) in subjects {
                    let mut buf = vec![0x5au8; size];
                    let id = BenchmarkId::new(name, size);
                    if op == "seal" {
                        let mut seq = 0u64;
                        group.bench_function(id, |b| {
                            b.iter(|| {
                                // RFC 8446 section 5.3: a fresh nonce per record.
                                let mut nonce = [0x11u8; 12];
                                nonce[4..].copy_from_slice(&seq.to_be_bytes());
                                seq += 1;
                                black_box(subject.seal(&nonce, &aad, &mut buf))
                            })
                        });
                    } else {
                        // P seals to A and A back to P under one nonce; opening
                        // alternates P -> A -> P with the matching tags.
                        let nonce = [0x22u8; 12];
                        let t_a = subject.seal(&nonce, &aad, &mut buf);
                        let t_p = subject.seal(&nonce, &aad, &mut buf);
                        let tags = [t_p, t_a];
                        let mut phase = 0;
                        group.bench_function(id, |b| {
                            b.iter(|| {
                                let ok = subject.open(&nonce, &aad, &mut buf, &tags[phase]);
                                phase ^= 1;
                                assert!(ok, "authentic record");
                            })
                        });
                    }
                }
            }
            group.finish();
        }
    }
}

criterion_group!(benches, peers);
criterion_main!(benches);
