//! Old against new: the AES-GCM engine of two revisions of sealwire linked
//! into one program (as crates `old` and `new`, see scripts/ab-revs.sh), timed
//! in alternating rounds (ABBA) so that both see the same machine.
//!
//! Cells: vaes-avx2 and aesni-clmul, AES-128 and AES-256, seal and open, at
//! 64, 1025, 1420 and 16384 bytes (12-byte nonce, 5-byte AAD); vaes-avx2 AES-128
//! seal and open at 64, 1025 and 1420 bytes, cold (below); `seal_batch` of
//! 64 connections x 64 B and x 1420 B; and `seal_batch` of 1000 connections
//! x 1024 B, a fan-out whose keys and records do not fit in L2, and the
//! same fan-out through the record layer (`seal_records`, the message
//! copied in by the call, on the default backend). Each round
//! times a short batch of calls of each side; printed: the median time of
//! each side, the median of the per-round ratios old / new (above 1: the
//! new code is faster), and the ratio of the fastest rounds. Opens alternate between a ciphertext and its
//! plaintext, each with the tag under which it is a ciphertext, so every
//! open authenticates. The `-cold` cells time each call by itself after
//! 4096 taken jumps have evicted the branch target buffer (as a server's
//! own code does between two records), so they show what a call costs
//! when its branches have to be found again.
//!
//! Usage (through the script): `ab-revs ROUNDS [FILTER]`.

use std::hint::black_box;
use std::time::Instant;

macro_rules! engine {
    ($m:ident, $krate:ident) => {
        mod $m {
            use bytes::BytesMut;
            use $krate::aead::{seal_batch, AesGcm, Backend, SealJob};
            use $krate::record::batch::{seal_records, RecordJob};
            use $krate::record::{CipherSuite, ContentType, Sealer, TrafficKeys};
            pub struct Cell {
                keys: Vec<AesGcm>,
                bufs: Vec<Vec<u8>>,
                tags: Vec<[u8; 16]>,
                flip: bool,
            }
            impl Cell {
                pub fn new(backend: &str, klen: usize, len: usize, conns: usize) -> Option<Cell> {
                    let b = Backend::from_name(backend)?;
                    let keys: Option<Vec<AesGcm>> = (0..conns)
                        .map(|i| AesGcm::with_backend(&vec![i as u8 + 1; klen], b).ok())
                        .collect();
                    let keys = keys?;
                    let bufs = (0..conns).map(|i| vec![i as u8; len]).collect();
                    Some(Cell {
                        keys,
                        bufs,
                        tags: vec![[0; 16]; conns],
                        flip: false,
                    })
                }
                pub fn seal(&mut self) {
                    let k = &self.keys[0];
                    self.tags[0] = k
                        .seal_in_place_detached(&[7; 12], &[1, 2, 3, 4, 5], &mut self.bufs[0])
                        .unwrap();
                }
                /// Seals the buffer (tag of its ciphertext in tags[0]) and
                /// finds the tag under which the plaintext itself is a
                /// ciphertext (tags[1]): opens then alternate between the two
                /// and every one authenticates.
                pub fn prepare_open(&mut self) {
                    let k = &self.keys[0];
                    let plain = self.bufs[0].clone();
                    self.tags[0] = k
                        .seal_in_place_detached(&[7; 12], &[1, 2, 3, 4, 5], &mut self.bufs[0])
                        .unwrap();
                    let mut c = self.bufs[0].clone();
                    self.tags.push(
                        k.seal_in_place_detached(&[7; 12], &[1, 2, 3, 4, 5], &mut c)
                            .unwrap(),
                    );
                    assert_eq!(c, plain);
                    self.flip = false;
                }
                pub fn open(&mut self) {
                    let k = &self.keys[0];
                    let t = if self.flip {
                        self.tags[self.tags.len() - 1]
                    } else {
                        self.tags[0]
                    };
                    let r =
                        k.open_in_place_detached(&[7; 12], &[1, 2, 3, 4, 5], &mut self.bufs[0], &t);
                    assert!(r.is_ok());
                    self.flip = !self.flip;
                }
                pub fn batch(&mut self) {
                    let mut jobs: Vec<SealJob<'_>> = self
                        .keys
                        .iter()
                        .zip(self.bufs.iter_mut())
                        .map(|(key, buf)| SealJob {
                            key,
                            nonce: [9; 12],
                            aad: &[1, 2, 3, 4, 5],
                            buf,
                            tag: [0; 16],
                        })
                        .collect();
                    seal_batch(&mut jobs);
                    self.tags[0] = jobs[0].tag;
                }
            }

            /// `seal_records` of one 1 KiB message to many connections,
            /// copied in by the call (`RecordJob::with_payload`): the record
            /// layer's fan-out, framing and tags included.
            pub struct Records {
                sealers: Vec<Sealer>,
                bufs: Vec<BytesMut>,
                payload: Vec<u8>,
            }
            impl Records {
                pub fn new(klen: usize, len: usize, conns: usize) -> Records {
                    let suite = if klen == 16 {
                        CipherSuite::TLS13_AES_128_GCM_SHA256
                    } else {
                        CipherSuite::TLS13_AES_256_GCM_SHA384
                    };
                    let sealers = (0..conns)
                        .map(|i| {
                            let keys =
                                TrafficKeys::new(suite, &vec![i as u8 + 1; klen], &[i as u8; 12]);
                            Sealer::new(keys.unwrap()).unwrap()
                        })
                        .collect();
                    Records {
                        sealers,
                        bufs: vec![BytesMut::new(); conns],
                        payload: vec![0x42; len],
                    }
                }
                pub fn run(&mut self) {
                    let payload = &self.payload;
                    let mut jobs: Vec<RecordJob<'_>> = self
                        .sealers
                        .iter_mut()
                        .zip(self.bufs.iter_mut())
                        .map(|(s, b)| {
                            RecordJob::with_payload(s, ContentType::ApplicationData, b, payload)
                        })
                        .collect();
                    for r in seal_records(&mut jobs) {
                        r.unwrap();
                    }
                }
            }
        }
    };
}
engine!(o, old);
engine!(n, new);

/// 4096 taken jumps: their targets fill the branch target buffer.
#[inline(never)]
fn evict_branch_targets() {
    // SAFETY: only jumps to the next instruction; no register or memory
    // is touched.
    unsafe {
        core::arch::asm!(
            ".rept 4096",
            "jmp 2f",
            "2:",
            ".endr",
            options(nomem, nostack)
        )
    };
}

/// Nanoseconds per call of `f`, each call timed alone after the branch
/// target buffer was evicted.
fn time_cold(iters: usize, f: &mut dyn FnMut()) -> f64 {
    let mut ns = 0u128;
    for _ in 0..iters {
        evict_branch_targets();
        let t = Instant::now();
        f();
        ns += t.elapsed().as_nanos();
    }
    ns as f64 / iters as f64
}

fn time(iters: usize, f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_nanos() as f64 / iters as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(31);
    let filter = args.get(2).cloned().unwrap_or_default();
    println!("cell                                  old ns    new ns   new speed / old (median of per-round ratios, ABBA)");
    let mut cells: Vec<(String, String, usize, usize, usize)> = Vec::new();
    for backend in ["vaes-avx2", "aesni-clmul"] {
        for klen in [16, 32] {
            for op in ["seal", "open"] {
                for len in [64, 1025, 1420, 16384] {
                    cells.push((backend.into(), op.into(), klen, len, 1));
                }
            }
        }
    }
    for op in ["seal-cold", "open-cold"] {
        for len in [64, 1025, 1420] {
            cells.push(("vaes-avx2".into(), op.into(), 16, len, 1));
        }
    }
    for len in [64, 1420] {
        cells.push(("vaes-avx2".into(), "batch".into(), 16, len, 64));
    }
    // A fan-out: keys and buffers of 1000 connections outgrow L2.
    cells.push(("vaes-avx2".into(), "batch".into(), 16, 1024, 1000));
    // The same fan-out through the record layer, on the default backend.
    cells.push(("default".into(), "records".into(), 16, 1024, 1000));
    for (backend, op, klen, len, conns) in cells {
        let name = format!("{backend} {op} aes{} {len}B x{conns}", klen * 8);
        if !name.contains(&filter) {
            continue;
        }
        if op == "records" {
            let mut a = o::Records::new(klen, len, conns);
            let mut b = n::Records::new(klen, len, conns);
            let iters = 10;
            let mut run = |which: bool| -> f64 {
                if which {
                    time(iters, &mut || b.run())
                } else {
                    time(iters, &mut || a.run())
                }
            };
            report(&name, rounds, &mut run);
            continue;
        }
        let (Some(mut a), Some(mut b)) = (
            o::Cell::new(&backend, klen, len, conns),
            n::Cell::new(&backend, klen, len, conns),
        ) else {
            println!("{name}: backend unavailable");
            continue;
        };
        if op.starts_with("open") {
            a.prepare_open();
            b.prepare_open();
        }
        let per = (200_000.0 / (len * conns) as f64).max(1.0);
        let iters = if op.ends_with("-cold") {
            20
        } else {
            (per as usize).clamp(10, 2000)
        };
        // `-cold` cells: the same call, timed by `time_cold`.
        let (base, timer): (&str, fn(usize, &mut dyn FnMut()) -> f64) =
            match op.strip_suffix("-cold") {
                Some(base) => (base, time_cold),
                None => (op.as_str(), time),
            };
        let mut run = |which: bool| -> f64 {
            match (base, which) {
                ("seal", false) => timer(iters, &mut || {
                    a.seal();
                    black_box(&a);
                }),
                ("seal", true) => timer(iters, &mut || {
                    b.seal();
                    black_box(&b);
                }),
                ("open", false) => timer(iters, &mut || {
                    a.open();
                    black_box(&a);
                }),
                ("open", true) => timer(iters, &mut || {
                    b.open();
                    black_box(&b);
                }),
                (_, false) => timer(iters, &mut || {
                    a.batch();
                    black_box(&a);
                }),
                (_, true) => timer(iters, &mut || {
                    b.batch();
                    black_box(&b);
                }),
            }
        };
        report(&name, rounds, &mut run);
    }
}

/// Times `run(false)` (old) and `run(true)` (new) in ABBA rounds and prints
/// the cell's line.
fn report(name: &str, rounds: usize, run: &mut dyn FnMut(bool) -> f64) {
    run(false);
    run(true);
    let (mut ta, mut tb, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        let (x, y) = if r % 2 == 0 {
            let x = run(false);
            let y = run(true);
            (x, y)
        } else {
            let y = run(true);
            let x = run(false);
            (x, y)
        };
        ta.push(x);
        tb.push(y);
        ratio.push(x / y);
    }
    let mina = ta.iter().cloned().fold(f64::MAX, f64::min);
    let minb = tb.iter().cloned().fold(f64::MAX, f64::min);
    println!(
        "{name:36} {:9.1} {:9.1}   {:.3}   min {:8.1} {:8.1} {:.3}",
        median(&mut ta),
        median(&mut tb),
        median(&mut ratio),
        mina,
        minb,
        mina / minb
    );
}
