//! The TLS 1.3 record path (framing, nonce, AAD, inner type, tag placement)
//! against the bare AEAD on the same key, at 16 KiB and 1420 B.
//!
//! `cargo bench --bench record -- --warm-up-time 1 --measurement-time 2`

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sealwire::aead::AesGcm;
use sealwire::record::{CipherSuite, ContentType, Sealer, TrafficKeys};
use std::hint::black_box;

fn bench_record(cr: &mut Criterion) {
    let keys = TrafficKeys::new(
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        &[0x11; 16],
        &[0x22; 12],
    )
    .unwrap();
    let mut g = cr.benchmark_group("tls13_seal");
    for size in [1420usize, 16384] {
        g.throughput(Throughput::Bytes(size as u64));

        // Bare AEAD: seal the payload in place, AAD of a record header.
        let aead = AesGcm::new(keys.key()).unwrap();
        // Its buffer starts on a 64-byte boundary, as the record payload
        // does (`Sealer::start`): the comparison is of framing alone.
        let mut big = vec![0x5au8; size + 64];
        let st = (big.as_ptr() as usize).wrapping_neg() % 64;
        let buf = &mut big[st..st + size];
        let aad = [23, 3, 3, 0, 0];
        g.bench_with_input(BenchmarkId::new("bare_aead", size), &size, |b, _| {
            b.iter(|| black_box(aead.seal_in_place_detached(&[0x22; 12], &aad, buf)))
        });

        // Record: the payload sits in the reused buffer after the header
        // room; each iteration frames and seals it in place.
        let mut sealer = Sealer::new(keys.clone()).unwrap();
        let mut rec = BytesMut::new();
        sealer.start(&mut rec);
        rec.resize(sealer.header_room() + size, 0x5a);
        let plain_len = rec.len();
        g.bench_with_input(BenchmarkId::new("record_seal", size), &size, |b, _| {
            b.iter(|| {
                if sealer.records_left() == 0 {
                    sealer.update_keys(keys.clone()).unwrap();
                }
                rec.truncate(plain_len);
                sealer.seal(ContentType::ApplicationData, &mut rec).unwrap();
                black_box(rec.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_record);
criterion_main!(benches);
