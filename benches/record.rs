//! The TLS 1.3 record path (framing, nonce, AAD, inner type, tag placement)
//! against the bare AEAD on the same key, at 1420 B and 16 KiB.
//!
//! Criterion (the default), each side in its own stretch:
//!
//! ```sh
//! cargo bench --bench record -- --warm-up-time 1 --measurement-time 2
//! ```
//!
//! Alternating A/B (`ab`; `benches/common/ab.rs`): 101 rounds of 400
//! records per side in ABBA order, median ns per record and the median of
//! the per-round ratios record time / bare time (the framing overhead):
//!
//! ```sh
//! cargo bench --bench record -- ab [ROUNDS] [FILTER ...]   # cases tls13-seal/1420, tls13-seal/16384
//! ```

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput};
use sealwire::aead::AesGcm;
use sealwire::record::{CipherSuite, ContentType, Sealer, TrafficKeys};
use std::hint::black_box;

#[path = "common/ab.rs"]
mod ab;

fn keys() -> TrafficKeys {
    TrafficKeys::new(
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        &[0x11; 16],
        &[0x22; 12],
    )
    .unwrap()
}

/// A `size`-byte buffer starting on a 64-byte boundary, as the record
/// payload does (`Sealer::start`), so a comparison is of framing alone.
struct Aligned {
    big: Vec<u8>,
    start: usize,
    size: usize,
}

impl Aligned {
    fn new(size: usize) -> Self {
        let big = vec![0x5au8; size + 64];
        let start = (big.as_ptr() as usize).wrapping_neg() % 64;
        Aligned { big, start, size }
    }

    fn buf(&mut self) -> &mut [u8] {
        &mut self.big[self.start..self.start + self.size]
    }
}

/// A sealer and a reused record buffer holding `size` payload bytes after
/// the header room; each `seal_one` frames and seals it in place.
struct RecordSide {
    keys: TrafficKeys,
    sealer: Sealer,
    rec: BytesMut,
    plain_len: usize,
}

impl RecordSide {
    fn new(size: usize) -> Self {
        let keys = keys();
        let sealer = Sealer::new(keys.clone()).unwrap();
        let mut rec = BytesMut::new();
        sealer.start(&mut rec);
        rec.resize(sealer.header_room() + size, 0x5a);
        let plain_len = rec.len();
        RecordSide {
            keys,
            sealer,
            rec,
            plain_len,
        }
    }

    fn seal_one(&mut self) -> usize {
        if self.sealer.records_left() == 0 {
            self.sealer.update_keys(self.keys.clone()).unwrap();
        }
        self.rec.truncate(self.plain_len);
        self.sealer
            .seal(ContentType::ApplicationData, &mut self.rec)
            .unwrap();
        self.rec.len()
    }
}

fn bench_record(cr: &mut Criterion) {
    let keys = keys();
    let mut g = cr.benchmark_group("tls13_seal");
    for size in [1420usize, 16384] {
        g.throughput(Throughput::Bytes(size as u64));

        // Bare AEAD: seal the payload in place, AAD of a record header.
        let aead = AesGcm::new(keys.key()).unwrap();
        let mut buf = Aligned::new(size);
        let aad = [23, 3, 3, 0, 0];
        g.bench_with_input(BenchmarkId::new("bare_aead", size), &size, |b, _| {
            b.iter(|| black_box(aead.seal_in_place_detached(&[0x22; 12], &aad, buf.buf())))
        });

        let mut side = RecordSide::new(size);
        g.bench_with_input(BenchmarkId::new("record_seal", size), &size, |b, _| {
            b.iter(|| black_box(side.seal_one()))
        });
    }
    g.finish();
}

/// Both sides of one A/B comparison.
struct Sides {
    aead: AesGcm,
    buf: Aligned,
    seq: u64,
    record: RecordSide,
}

/// The bare AEAD as a TLS stack would drive it: a fresh nonce per record
/// (the IV XOR a counter, RFC 8446 5.3) and the record header as AAD; a
/// constant nonce would be a misuse of AES-GCM.
fn bare_one(s: &mut Sides) {
    let mut nonce = [0x22u8; 12];
    for (n, q) in nonce[4..].iter_mut().zip(s.seq.to_be_bytes()) {
        *n ^= q;
    }
    s.seq += 1;
    let len = s.buf.size + 17;
    let aad = [23, 3, 3, (len >> 8) as u8, len as u8];
    black_box(s.aead.seal_in_place_detached(&nonce, &aad, s.buf.buf())).unwrap();
}

fn ab_mode(args: ab::Args) {
    for size in [1420usize, 16384] {
        let case = format!("tls13-seal/{size}");
        if !ab::selected(&case, &args.words) {
            continue;
        }
        let mut sides = Sides {
            aead: AesGcm::new(keys().key()).unwrap(),
            buf: Aligned::new(size),
            seq: 0,
            record: RecordSide::new(size),
        };
        let plan = ab::Plan {
            reps: 400,
            rounds: args.rounds.unwrap_or(101),
            best_of: 1,
        };
        let t = ab::alternate(
            &mut sides,
            &mut [&mut bare_one, &mut |s: &mut Sides| {
                black_box(s.record.seal_one());
            }],
            plan,
        );
        println!(
            "{case:<18} bare AEAD: {:>9.1} ns   record seal: {:>9.1} ns  record/bare {:.3}",
            t[0].median * 1e9,
            t[1].median * 1e9,
            t[1].ratio
        );
    }
}

fn main() {
    if let Some(args) = ab::args() {
        ab_mode(args);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench_record(&mut c);
    c.final_summary();
}
