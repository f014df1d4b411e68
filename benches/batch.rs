//! Batched sealing: one AES-128-GCM record for each of 64 connections
//! (own keys, nonces and 5-byte TLS AAD), `seal_batch` against ring, against
//! aws-lc-rs and against sealwire sealing the same records one by one, and
//! `seal_batch_parallel` against `seal_batch` for 1024 records of 1420 B.
//!
//! Criterion (the default), each implementation in its own stretch:
//!
//! ```sh
//! cargo bench --bench batch -- --warm-up-time 1 --measurement-time 2
//! ```
//!
//! Alternating A/B (`ab`; `benches/common/ab.rs`): each comparison in
//! rounds of the two sides in ABBA order, median per-call times and the
//! median of the per-round ratios:
//!
//! ```sh
//! cargo bench --bench batch -- ab [ROUNDS] [FILTER ...]
//! cargo bench --bench batch -- ab 64conns/64    # only 64 x 64 B
//! cargo bench --bench batch -- ab parallel      # only the parallel batch
//! ```
//!
//! Cases: `64conns/SIZE/ring`, `64conns/SIZE/aws-lc-rs`,
//! `64conns/SIZE/one-by-one` (SIZE 64, 256, 1420, 16384),
//! `64conns/SIZE/open` and `1000conns/64/open` (`open_batch` against
//! sealwire opening the records one by one) and `1024x1420/parallel`; a
//! FILTER keeps those containing it. The 64-connection rounds last ~2 ms (101 of them); the parallel
//! ones ~20 ms (31): the pool's threads sleep during serial stretches and
//! the first call after one pays their wake-up (measured: 116-134 us
//! against 86-93 us for later calls), which a steady stream of calls never
//! pays, so 2 ms rounds of ~20 calls would charge every call ~2% for it.

use conns::{
    awslc_one_by_one, batch, conns, open_batch_all, open_one_by_one, prepare_open, ring_one_by_one,
    sealwire_one_by_one, Conns,
};
use criterion::{BenchmarkId, Criterion, Throughput};
use std::time::Duration;

#[path = "common/ab.rs"]
mod ab;
#[path = "common/conns.rs"]
mod conns;

fn bench_64_connections(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("64conns");
    for size in [64usize, 256, 1420, 16384] {
        let mut c = conns(64, size);
        g.throughput(Throughput::Bytes((64 * size) as u64));
        g.bench_with_input(BenchmarkId::new("ring_one_by_one", size), &size, |b, _| {
            b.iter(|| ring_one_by_one(&mut c))
        });
        g.bench_with_input(
            BenchmarkId::new("aws_lc_rs_one_by_one", size),
            &size,
            |b, _| b.iter(|| awslc_one_by_one(&mut c)),
        );
        g.bench_with_input(BenchmarkId::new("seal_batch", size), &size, |b, _| {
            b.iter(|| batch(&mut c, false))
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
    g.bench_function("seal_batch", |b| b.iter(|| batch(&mut c, false)));
    g.bench_function("seal_batch_parallel", |b| b.iter(|| batch(&mut c, true)));
    g.finish();
}

/// Rounds of about 2 ms, 101 of them.
const SHORT_ROUNDS: (Duration, usize) = (Duration::from_millis(2), 101);
/// Rounds of about 20 ms for the parallel batch, 31 of them.
const POOL_ROUNDS: (Duration, usize) = (Duration::from_millis(20), 31);

/// One A/B comparison: `b` against the reference `a`; the ratio printed
/// is a's time over b's (above 1: b is faster).
fn compare(
    case: &str,
    c: &mut Conns,
    (a_name, a): (&str, &mut dyn FnMut(&mut Conns)),
    (b_name, b): (&str, &mut dyn FnMut(&mut Conns)),
    (round, default_rounds): (Duration, usize),
    rounds: Option<usize>,
) {
    let mut fs: [&mut dyn FnMut(&mut Conns); 2] = [b, a];
    let reps = ab::reps_for(c, &mut fs, round);
    let plan = ab::Plan {
        reps,
        rounds: rounds.unwrap_or(default_rounds),
        best_of: 1,
    };
    let t = ab::alternate(c, &mut fs, plan);
    println!(
        "{case:<24} {a_name:>20}: {:>9.2} us  {b_name:>20}: {:>9.2} us  ratio {:.2}x",
        t[1].median * 1e6,
        t[0].median * 1e6,
        t[1].ratio
    );
}

/// `open_batch` against sealwire opening the same records one by one.
fn open_compare(case: &str, c: &mut Conns, rounds: Option<usize>) {
    prepare_open(c);
    compare(
        case,
        c,
        ("sealwire one by one", &mut open_one_by_one),
        ("open_batch", &mut open_batch_all),
        SHORT_ROUNDS,
        rounds,
    );
}

fn ab_mode(args: ab::Args) {
    let backend = sealwire::aead::AesGcm::new(&[0; 16]).unwrap().backend();
    println!("sealwire backend: {backend}; ratio = first time / second time (median of rounds)");
    for size in [64usize, 256, 1420, 16384] {
        let ring_case = format!("64conns/{size}/ring");
        let awslc_case = format!("64conns/{size}/aws-lc-rs");
        let own_case = format!("64conns/{size}/one-by-one");
        let open_case = format!("64conns/{size}/open");
        let (ring_on, awslc_on, own_on, open_on) = (
            ab::selected(&ring_case, &args.words),
            ab::selected(&awslc_case, &args.words),
            ab::selected(&own_case, &args.words),
            ab::selected(&open_case, &args.words),
        );
        if !ring_on && !awslc_on && !own_on && !open_on {
            continue;
        }
        let mut c = conns(64, size);
        if ring_on {
            compare(
                &ring_case,
                &mut c,
                ("ring one by one", &mut ring_one_by_one),
                ("seal_batch", &mut |c| batch(c, false)),
                SHORT_ROUNDS,
                args.rounds,
            );
        }
        if awslc_on {
            compare(
                &awslc_case,
                &mut c,
                ("aws-lc-rs one by one", &mut awslc_one_by_one),
                ("seal_batch", &mut |c| batch(c, false)),
                SHORT_ROUNDS,
                args.rounds,
            );
        }
        if own_on {
            compare(
                &own_case,
                &mut c,
                ("sealwire one by one", &mut sealwire_one_by_one),
                ("seal_batch", &mut |c| batch(c, false)),
                SHORT_ROUNDS,
                args.rounds,
            );
        }
        if open_on {
            open_compare(&open_case, &mut c, args.rounds);
        }
    }
    if ab::selected("1000conns/64/open", &args.words) {
        let mut c = conns(1000, 64);
        open_compare("1000conns/64/open", &mut c, args.rounds);
    }
    if ab::selected("1024x1420/parallel", &args.words) {
        let mut c = conns(1024, 1420);
        compare(
            "1024x1420/parallel",
            &mut c,
            ("seal_batch", &mut |c| batch(c, false)),
            ("seal_batch_parallel", &mut |c| batch(c, true)),
            POOL_ROUNDS,
            args.rounds,
        );
    }
}

fn main() {
    if let Some(args) = ab::args() {
        ab_mode(args);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench_64_connections(&mut c);
    bench_parallel(&mut c);
    c.final_summary();
}
