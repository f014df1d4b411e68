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
//! cargo bench --bench record -- ab [ROUNDS] [FILTER ...]   # cases tls13-seal/*, fanout/*, fanin/*
//! ```
//!
//! `fanout/64x64`, `fanout/1000x64`, `fanout/1000x1024`: one 64 B or 1 KiB
//! TLS 1.3 record to each of 64 or 1000 connections, the payload copied in
//! and sealed by `seal_records` against each connection's `Sealer::seal`
//! one by one (fill and seal timed on both sides).
//!
//! `fanout-par/*`, `fanin-par/*` (1000 x 64 B, 1000 x 1 KiB, 256 x 16 KiB):
//! the same batch call against its parallel form (`seal_records_parallel`,
//! `open_records_parallel`) on the same connections; the ratio is serial
//! time / parallel time.
//!
//! `fanin/64x64`, `fanin/1000x64`, `fanin/1000x1024`: one 64 B or 1 KiB
//! TLS 1.3 record from each of 64 or 1000 connections, opened by `open_records` against each connection's
//! `Opener::open_in_place` one by one (a server reading what its clients
//! sent). Records and openers are put back before each timed pass, outside
//! the timing; ns per record and the ratio one-by-one time / batch time.

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput};
use sealwire::aead::AesGcm;
use sealwire::record::batch::{
    open_records, open_records_parallel, seal_records, seal_records_parallel, OpenRecordJob,
    RecordJob,
};
use sealwire::record::{CipherSuite, ContentType, Opener, Sealer, TrafficKeys};
use std::hint::black_box;
use std::time::Instant;

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

/// One sealed record from each of many connections, and their openers.
struct FanIn {
    keys: Vec<TrafficKeys>,
    openers: Vec<Opener>,
    sealed: Vec<Vec<u8>>,
    records: Vec<Vec<u8>>,
}

impl FanIn {
    fn new(conns: usize, size: usize) -> Self {
        let keys: Vec<TrafficKeys> = (0..conns)
            .map(|i| {
                let key: Vec<u8> = (0..16).map(|j| (i * 31 + j * 7) as u8).collect();
                TrafficKeys::new(CipherSuite::TLS13_AES_128_GCM_SHA256, &key, &[i as u8; 12])
                    .unwrap()
            })
            .collect();
        let sealed = keys
            .iter()
            .map(|k| {
                let mut sealer = Sealer::new(k.clone()).unwrap();
                let mut buf = BytesMut::new();
                sealer.start(&mut buf);
                buf.extend_from_slice(&vec![0x5a; size]);
                sealer.seal(ContentType::ApplicationData, &mut buf).unwrap();
                buf.to_vec()
            })
            .collect::<Vec<_>>();
        let openers = keys
            .iter()
            .map(|k| Opener::new(k.clone()).unwrap())
            .collect();
        FanIn {
            records: sealed.clone(),
            keys,
            openers,
            sealed,
        }
    }

    /// The records sealed again and the openers at sequence number 0.
    fn reset(&mut self) {
        for (r, s) in self.records.iter_mut().zip(&self.sealed) {
            r.copy_from_slice(s);
        }
        for (o, k) in self.openers.iter_mut().zip(&self.keys) {
            *o = Opener::new(k.clone()).unwrap();
        }
    }

    /// ns per record of one `open_records` (or, with `par`,
    /// `open_records_parallel`) call over every connection.
    fn batch(&mut self, par: bool) -> f64 {
        self.reset();
        let start = Instant::now();
        let mut jobs: Vec<OpenRecordJob<'_>> = self
            .openers
            .iter_mut()
            .zip(self.records.iter_mut())
            .map(|(opener, record)| OpenRecordJob {
                opener,
                record: record.as_mut_slice(),
            })
            .collect();
        let results = if par {
            open_records_parallel(&mut jobs)
        } else {
            open_records(&mut jobs)
        };
        for r in results {
            black_box(r.unwrap());
        }
        start.elapsed().as_nanos() as f64 / self.records.len() as f64
    }

    /// ns per record of each connection's `open_in_place`.
    fn one_by_one(&mut self) -> f64 {
        self.reset();
        let start = Instant::now();
        for (o, r) in self.openers.iter_mut().zip(self.records.iter_mut()) {
            black_box(o.open_in_place(r).unwrap().0);
        }
        start.elapsed().as_nanos() as f64 / self.records.len() as f64
    }
}

/// Many connections' sealers and one record buffer each.
struct FanOut {
    sealers: Vec<Sealer>,
    bufs: Vec<BytesMut>,
    payload: Vec<u8>,
}

impl FanOut {
    fn new(conns: usize, size: usize) -> Self {
        let sealers = (0..conns)
            .map(|i| {
                let key: Vec<u8> = (0..16).map(|j| (i * 29 + j * 5) as u8).collect();
                let k =
                    TrafficKeys::new(CipherSuite::TLS13_AES_128_GCM_SHA256, &key, &[i as u8; 12])
                        .unwrap();
                Sealer::new(k).unwrap()
            })
            .collect();
        FanOut {
            sealers,
            bufs: vec![BytesMut::new(); conns],
            payload: vec![0x5a; size],
        }
    }

    /// Every buffer started and filled with the payload (timed with the
    /// seal: a sender does both).
    fn fill(&mut self) {
        for (s, b) in self.sealers.iter().zip(self.bufs.iter_mut()) {
            s.start_with_capacity(b, self.payload.len());
            b.extend_from_slice(&self.payload);
        }
    }

    /// ns per record of filling every buffer and one `seal_records` (or,
    /// with `par`, `seal_records_parallel`) call.
    fn batch(&mut self, par: bool) -> f64 {
        let start = Instant::now();
        self.fill();
        let mut jobs: Vec<RecordJob<'_>> = self
            .sealers
            .iter_mut()
            .zip(self.bufs.iter_mut())
            .map(|(s, b)| RecordJob::new(s, ContentType::ApplicationData, b))
            .collect();
        let results = if par {
            seal_records_parallel(&mut jobs)
        } else {
            seal_records(&mut jobs)
        };
        for r in results {
            r.unwrap();
        }
        drop(jobs);
        start.elapsed().as_nanos() as f64 / self.bufs.len() as f64
    }

    /// ns per record of filling every buffer and each sealer's `seal`.
    fn one_by_one(&mut self) -> f64 {
        let start = Instant::now();
        self.fill();
        for (s, b) in self.sealers.iter_mut().zip(self.bufs.iter_mut()) {
            s.seal(ContentType::ApplicationData, b).unwrap();
        }
        start.elapsed().as_nanos() as f64 / self.bufs.len() as f64
    }
}

/// One side of a fan comparison: many connections, timed per pass.
trait Fan {
    fn new(conns: usize, size: usize) -> Self;
    /// ns per record, each connection on its own.
    fn one_by_one(&mut self) -> f64;
    /// ns per record, every connection in one batch call (with `par`, its
    /// parallel form).
    fn batch(&mut self, par: bool) -> f64;
}

impl Fan for FanOut {
    fn new(conns: usize, size: usize) -> Self {
        FanOut::new(conns, size)
    }
    fn one_by_one(&mut self) -> f64 {
        FanOut::one_by_one(self)
    }
    fn batch(&mut self, par: bool) -> f64 {
        FanOut::batch(self, par)
    }
}

impl Fan for FanIn {
    fn new(conns: usize, size: usize) -> Self {
        FanIn::new(conns, size)
    }
    fn one_by_one(&mut self) -> f64 {
        FanIn::one_by_one(self)
    }
    fn batch(&mut self, par: bool) -> f64 {
        FanIn::batch(self, par)
    }
}

/// The `prefix/CONNSxSIZE` cases of one fan direction; `call` names the
/// batch call in the report.
fn fan<F: Fan>(args: &ab::Args, prefix: &str, call: &str) {
    for (conns, size) in [(64usize, 64usize), (1000, 64), (1000, 1024)] {
        let case = format!("{prefix}/{conns}x{size}");
        if !ab::selected(&case, &args.words) {
            continue;
        }
        // One set of connections for both sides: the same memory, so the
        // comparison is of the two paths alone.
        let conns = std::cell::RefCell::new(F::new(conns, size));
        let run = ab::alternate_pair(
            args.rounds.unwrap_or(101),
            &mut || conns.borrow_mut().one_by_one(),
            &mut || conns.borrow_mut().batch(false),
        );
        let (one, batch, ratio) = run.medians();
        println!(
            "{case:<18} one by one: {one:>8.1} ns   {call}: {batch:>8.1} ns per record  one-by-one/batch {ratio:.3}"
        );
    }
}

/// The `prefix-par/CONNSxSIZE` cases: the batch call against its parallel
/// form on the same connections (`threads` rayon threads).
fn fan_par<F: Fan>(args: &ab::Args, prefix: &str, call: &str) {
    for (conns, size) in [(1000usize, 64usize), (1000, 1024), (256, 16384)] {
        let case = format!("{prefix}-par/{conns}x{size}");
        if !ab::selected(&case, &args.words) {
            continue;
        }
        let conns = std::cell::RefCell::new(F::new(conns, size));
        let run = ab::alternate_pair(
            args.rounds.unwrap_or(101),
            &mut || conns.borrow_mut().batch(false),
            &mut || conns.borrow_mut().batch(true),
        );
        let (serial, par, ratio) = run.medians();
        println!(
            "{case:<22} {call}: {serial:>8.1} ns   {call}_parallel ({} threads): {par:>8.1} ns per record  serial/parallel {ratio:.3}",
            rayon::current_num_threads()
        );
    }
}

fn ab_mode(args: ab::Args) {
    fan::<FanOut>(&args, "fanout", "seal_records");
    fan::<FanIn>(&args, "fanin", "open_records");
    fan_par::<FanOut>(&args, "fanout", "seal_records");
    fan_par::<FanIn>(&args, "fanin", "open_records");
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
