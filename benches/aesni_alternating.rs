//! Alternating head-to-head of `aesni-clmul` against aws-lc-rs and ring 0.17
//! for a noisy, shared machine: AES-128/256-GCM seal and open, 12-byte
//! nonce, 13-byte AAD (a TLS 1.3 header), 64 / 1420 / 16384-byte records.
//! Each round times the three implementations back to back (order rotated
//! every round); the table shows the median per-record time of each as
//! GB/s and cycles per byte, and the median of the per-round ratios (peer
//! time / ours: above 1, we are faster).
//!
//! `cargo bench --bench aesni_alternating [-- ROUNDS [FILTER]]`; FILTER keeps
//! the cases whose name (e.g. `aes128-gcm-open/1420`) contains it. To compare
//! with aws-lc-rs's 128-bit AES-NI kernel on a CPU with AVX-512 VAES (its
//! path on e.g. Zen 3), mask those bits of its CPUID copy:
//! `OPENSSL_ia32cap="~0x0:~0x60000010000" cargo bench --bench aesni_alternating`.

use sealwire::aead::{AesGcm, Backend};
use std::hint::black_box;
use std::time::Instant;

const NONCE: [u8; 12] = [7; 12];
const AAD: [u8; 13] = [0x17, 0x03, 0x03, 0x05, 0x8c, 1, 2, 3, 4, 5, 6, 7, 8];

/// Core clock in Hz: a dependent chain of `x = x * x + k` (64-bit multiply,
/// 3 cycles, plus an add, 1 cycle, on Zen 3 / Zen 4), the fastest of many
/// short runs so that runs which lost the core do not count.
fn clock_hz() -> f64 {
    let mut best = 0.0f64;
    for _ in 0..301 {
        let n: u64 = black_box(100_000);
        let mut x: u64 = black_box(0x0123_4567_89ab_cdef);
        let t = Instant::now();
        for _ in 0..n {
            x = x.wrapping_mul(x).wrapping_add(0x9e37_79b9_7f4a_7c15);
        }
        let dt = t.elapsed().as_secs_f64();
        black_box(x);
        best = best.max(4.0 * n as f64 / dt);
    }
    best
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Seconds per call of `f`, the fastest of a few short batches.
fn time<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    best
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(15);
    let filter = args.get(1).cloned().unwrap_or_default();
    if !Backend::AesniClmul.is_available() {
        eprintln!("aesni-clmul is not available on this CPU; nothing to compare");
        return;
    }
    let hz = clock_hz();
    println!(
        "clock {:.2} GHz; {rounds} rounds; median time -> GB/s (c/B); ratio = peer time / ours (median of rounds)",
        hz / 1e9
    );
    println!(
        "{:<24} {:>16} {:>16} {:>16} {:>9} {:>9}",
        "case", "aesni-clmul", "aws-lc-rs", "ring", "/aws-lc", "/ring"
    );
    for key_len in [16usize, 32] {
        let key = vec![0x42u8; key_len];
        let ours = AesGcm::with_backend(&key, Backend::AesniClmul).expect("aesni-clmul key");
        let (aws_alg, ring_alg) = if key_len == 16 {
            (&aws_lc_rs::aead::AES_128_GCM, &ring::aead::AES_128_GCM)
        } else {
            (&aws_lc_rs::aead::AES_256_GCM, &ring::aead::AES_256_GCM)
        };
        let aws = aws_lc_rs::aead::LessSafeKey::new(
            aws_lc_rs::aead::UnboundKey::new(aws_alg, &key).expect("aws-lc-rs key"),
        );
        let ring = ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(ring_alg, &key).expect("ring key"),
        );
        for op in ["seal", "open"] {
            for size in [64usize, 1420, 16384] {
                let name = format!("aes{}-gcm-{op}/{size}", key_len * 8);
                if !name.contains(&filter) {
                    continue;
                }
                let reps = (100_000 / size).max(8);
                let mut buf = vec![0u8; size];
                let tag = ours.seal_in_place_detached(&NONCE, &AAD, &mut buf).unwrap();
                // The peers' open takes ciphertext || tag; every open
                // decrypts a fresh copy of the same valid record.
                let mut record = buf.clone();
                record.extend_from_slice(&tag);
                let mut work = record.clone();
                let mut t = [Vec::new(), Vec::new(), Vec::new()];
                let mut r_aws = Vec::new();
                let mut r_ring = Vec::new();
                for round in 0..rounds {
                    let mut this = [0.0; 3];
                    for k in 0..3 {
                        let which = (k + round) % 3;
                        let seal = op == "seal";
                        this[which] = match (which, seal) {
                            (0, true) => time(reps, || {
                                black_box(
                                    ours.seal_in_place_detached(&NONCE, &AAD, &mut buf).unwrap(),
                                );
                            }),
                            (0, false) => time(reps, || {
                                work.copy_from_slice(&record);
                                ours.open_in_place_detached(&NONCE, &AAD, &mut work[..size], &tag)
                                    .unwrap();
                            }),
                            (1, true) => time(reps, || {
                                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(NONCE);
                                let a = aws_lc_rs::aead::Aad::from(AAD);
                                black_box(
                                    aws.seal_in_place_separate_tag(n, a, &mut buf)
                                        .unwrap()
                                        .as_ref()[0],
                                );
                            }),
                            (1, false) => time(reps, || {
                                work.copy_from_slice(&record);
                                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(NONCE);
                                let a = aws_lc_rs::aead::Aad::from(AAD);
                                black_box(aws.open_in_place(n, a, &mut work).unwrap().len());
                            }),
                            (_, true) => time(reps, || {
                                let n = ring::aead::Nonce::assume_unique_for_key(NONCE);
                                let a = ring::aead::Aad::from(AAD);
                                black_box(
                                    ring.seal_in_place_separate_tag(n, a, &mut buf)
                                        .unwrap()
                                        .as_ref()[0],
                                );
                            }),
                            (_, false) => time(reps, || {
                                work.copy_from_slice(&record);
                                let n = ring::aead::Nonce::assume_unique_for_key(NONCE);
                                let a = ring::aead::Aad::from(AAD);
                                black_box(ring.open_in_place(n, a, &mut work).unwrap().len());
                            }),
                        };
                    }
                    for k in 0..3 {
                        t[k].push(this[k]);
                    }
                    r_aws.push(this[1] / this[0]);
                    r_ring.push(this[2] / this[0]);
                }
                let cell = |v: &mut Vec<f64>| {
                    let s = median(v);
                    format!("{:.2} ({:.2})", size as f64 / s / 1e9, s * hz / size as f64)
                };
                let [t0, t1, t2] = &mut t;
                println!(
                    "{name:<24} {:>16} {:>16} {:>16} {:>9.2} {:>9.2}",
                    cell(t0),
                    cell(t1),
                    cell(t2),
                    median(&mut r_aws),
                    median(&mut r_ring)
                );
            }
        }
    }
}
