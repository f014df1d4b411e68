//! Alternating head-to-head of `vaes-avx2` and ring 0.17 for a noisy, shared
//! machine: many short rounds, each timing both implementations back to back
//! (order swapped every round), reporting the median per-record time of each
//! and the median of the per-round ratios. Also measures the core clock (a
//! dependent chain of 64-bit squarings plus an add, 3 + 1 cycles on
//! Zen 3/Zen 4; squaring cannot be reassociated by the compiler) to
//! turn times into cycles per byte.
//!
//! `cargo bench --bench vaes_alternating [-- ROUNDS [FILTER]]`: FILTER keeps
//! the cases whose name (e.g. `aes128-gcm-seal/16384`) contains it.

use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM, AES_256_GCM};
use sealwire::aead::{AesGcm, Backend};
use std::hint::black_box;
use std::time::Instant;

const NONCE: [u8; 12] = [0x42; 12];
const AAD: [u8; 13] = [0x17, 0x03, 0x03, 0x40, 0x11, 0, 0, 0, 0, 0, 0, 0, 1];

/// Core clock in Hz from a dependent chain of `x = x * x + k` (imul 3
/// cycles + add 1 cycle): the fastest of many short runs, so runs that lost
/// the core to another process do not count.
fn clock_hz() -> f64 {
    let mut est = Vec::new();
    for _ in 0..301 {
        let n: u64 = black_box(100_000);
        let mut x: u64 = black_box(0x1234_5678_9abc_def1);
        let t = Instant::now();
        for _ in 0..n {
            x = x.wrapping_mul(x).wrapping_add(0x9e37_79b9_7f4a_7c15);
        }
        let dt = t.elapsed().as_secs_f64();
        black_box(x);
        est.push(4.0 * n as f64 / dt);
    }
    est.into_iter().fold(0.0, f64::max)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Nanoseconds per call of `f`, over `iters` calls.
fn time(iters: usize, f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_nanos() as f64 / iters as f64
}

fn main() {
    if !Backend::VaesAvx2.is_available() {
        eprintln!("vaes-avx2 is not available on this CPU; nothing to compare");
        return;
    }
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(201);
    let filter = std::env::args()
        .skip(1)
        .find(|a| a.parse::<usize>().is_err() && !a.starts_with('-'))
        .unwrap_or_default();
    let hz = clock_hz();
    println!("core clock (multiply chain): {:.2} GHz", hz / 1e9);
    println!(
        "{:<16}{:>6}{:>9}{:>9}{:>10}{:>9}{:>9}{:>7}{:>8}",
        "case",
        "size",
        "vaes ns",
        "ring ns",
        "vaes GB/s",
        "vaes c/B",
        "ring c/B",
        "ratio",
        "min-rat"
    );
    for (bits, alg) in [(128, &AES_128_GCM), (256, &AES_256_GCM)] {
        let key = vec![0x5au8; bits / 8];
        let ours = AesGcm::with_backend(&key, Backend::VaesAvx2).unwrap();
        let theirs = LessSafeKey::new(UnboundKey::new(alg, &key).unwrap());
        for op in ["seal", "open"] {
            // 272 and 1424 B: whole blocks left after the bulk loop (one
            // and one), whose CTR runs ahead of it.
            for size in [64usize, 272, 1420, 1424, 16384] {
                if !format!("aes{bits}-gcm-{op}/{size}").contains(&filter) {
                    continue;
                }
                let iters = (200_000 / (size + 64)).max(4);
                // Open alternates between X0 and X1 = X0 ^ keystream, with
                // the tag of each (see benches/vaes_vs_ring.rs).
                let x0 = vec![0x33u8; size];
                let mut x1 = x0.clone();
                let t1 = ours.seal_in_place_detached(&NONCE, &AAD, &mut x1).unwrap();
                let mut back = x1.clone();
                let t0 = ours
                    .seal_in_place_detached(&NONCE, &AAD, &mut back)
                    .unwrap();
                let tags = [t0, t1];
                let mut buf_a = x0.clone();
                let mut buf_b = x0.clone();
                let (mut ia, mut ib) = (0usize, 0usize);
                let mut a = || {
                    if op == "seal" {
                        black_box(
                            ours.seal_in_place_detached(black_box(&NONCE), &AAD, &mut buf_a)
                                .unwrap(),
                        );
                    } else {
                        ours.open_in_place_detached(
                            black_box(&NONCE),
                            &AAD,
                            &mut buf_a,
                            &tags[ia & 1],
                        )
                        .unwrap();
                        ia += 1;
                    }
                };
                let mut b = || {
                    let nonce = Nonce::assume_unique_for_key(black_box(NONCE));
                    if op == "seal" {
                        let _ = black_box(
                            theirs
                                .seal_in_place_separate_tag(nonce, Aad::from(AAD), &mut buf_b)
                                .unwrap(),
                        );
                    } else {
                        theirs
                            .open_in_place_separate_tag(
                                nonce,
                                Aad::from(AAD),
                                Tag::from(tags[ib & 1]),
                                &mut buf_b,
                                0..,
                            )
                            .unwrap();
                        ib += 1;
                    }
                };
                time(iters, &mut a);
                time(iters, &mut b);
                let (mut ta, mut tb, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
                for r in 0..rounds {
                    let (x, y) = if r % 2 == 0 {
                        let x = time(iters, &mut a);
                        (x, time(iters, &mut b))
                    } else {
                        let y = time(iters, &mut b);
                        (time(iters, &mut a), y)
                    };
                    ta.push(x);
                    tb.push(y);
                    ratio.push(y / x);
                }
                let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
                let min_ratio = min(&tb) / min(&ta);
                let (ma, mb) = (median(&mut ta), median(&mut tb));
                println!(
                    "{:<16}{:>6}{:>9.1}{:>9.1}{:>10.2}{:>9.3}{:>9.3}{:>7.2}{:>8.2}",
                    format!("aes{bits}-gcm-{op}"),
                    size,
                    ma,
                    mb,
                    size as f64 / ma,
                    ma * hz / 1e9 / size as f64,
                    mb * hz / 1e9 / size as f64,
                    median(&mut ratio),
                    min_ratio
                );
            }
        }
    }
    println!(
        "ratio = ring time / vaes-avx2 time (median of per-round ratios); > 1: vaes-avx2 faster"
    );
}
