//! Batched sealing: one AES-128-GCM record for each of 64 connections,
//! `seal_batch` against ring sealing the same records one by one (same run),
//! and `seal_batch_parallel` against `seal_batch` for 1024 records of 1420 B.
//!
//! `cargo bench --bench batch -- --warm-up-time 1 --measurement-time 2`

use conns::{batch, conns, ring_one_by_one, sealwire_one_by_one};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

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

criterion_group!(benches, bench_64_connections, bench_parallel);
criterion_main!(benches);
