//! AES-GCM, one record per call: every backend this CPU can run and, with
//! the `peers` feature, the peer libraries (ring, aws-lc-rs, RustCrypto
//! `aes-gcm`, OpenSSL), in two modes.
//!
//! Criterion (the default): record sizes x seal/open x AES-128/256, bytes
//! per second, every backend and peer in one group per key size and op.
//!
//! ```sh
//! cargo bench --bench aead -- --warm-up-time 1 --measurement-time 2
//! cargo bench --features peers --bench aead -- aes128gcm/seal   # a filter narrows it
//! ```
//!
//! Alternating A/B (`ab`, needs `peers`): one backend against peers in the
//! same run, rounds in rotated order (`benches/common/ab.rs`), 12-byte
//! nonce, 13-byte AAD (a TLS 1.3 header), 64 / 272 / 1025 / 1420 / 1424 /
//! 16384 B (272 and 1424 B leave one whole block after the bulk loop; 1025 B
//! is a 1 KiB write under TLS 1.3). The table
//! gives median ns per record and cycles per byte of each, and per peer
//! the median of the per-round ratios peer time / backend time (above 1:
//! the backend is faster) and the ratio of the fastest rounds.
//!
//! ```sh
//! cargo bench --features peers --bench aead -- ab [BACKEND] [PEER ...] [ROUNDS] [FILTER ...]
//! cargo bench --features peers --bench aead -- ab vaes-avx2 ring 201 /16384
//! cargo bench --features peers --bench aead -- ab aesni-clmul aws-lc-rs ring 15 aes128
//! ```
//!
//! BACKEND defaults to the best one here, PEERs to ring and aws-lc-rs,
//! ROUNDS to 201; a FILTER keeps the cases (`aes128-gcm-open/1420`) that
//! contain it. `@N` places every record N bytes past a 64-byte boundary
//! (default 0): rustls's record buffers put the payload 5 (TLS 1.3) or 13
//! (TLS 1.2) bytes past the start of a heap allocation. `copy` copies the
//! plaintext into the record before each seal, as a rustls encrypter does
//! (the seal then reads what the copy's stores just wrote).
//! `OPENSSL_ia32cap="~0x0:~0x60000010000"` in the environment clears
//! AVX512F, VAES and VPCLMULQDQ in aws-lc's copy of CPUID leaf 7, so
//! aws-lc-rs runs its 128-bit AES-NI kernel (its path on e.g. Zen 3).
//!
//! ```sh
//! cargo bench --features peers --bench aead -- ab vaes-avx2 ring 151 aes128-gcm-seal @5 copy
//! ```
//!
//! `alone` times every call by itself (one call per timed batch, 1000
//! batches per round, the subjects' calls interleaved), less the median time
//! of an empty call: the cost of a record sealed between other work, as an
//! encrypter inside rustls seals it, rather than of records sealed back to
//! back, where one call's end overlaps the next one's start and every branch
//! and code line stays hot. Its ratios are of the medians.
//!
//! ```sh
//! cargo bench --features peers --bench aead -- ab vaes-avx2 ring 31 aes128-gcm-seal/1025 alone
//! ```
//!
//! `cold` (x86_64; implies `alone`) runs 8192 conditional branches, each
//! taken or not at random, before every timed call: the branch predictors'
//! history and target tables are then as full of other code's branches as
//! they are in a server between two records, and 48 KB of that code has
//! passed through the instruction cache. What a call costs then, with its
//! data still in L1, is the part of the `alone` cost the predictors hid.
//!
//! ```sh
//! cargo bench --features peers --bench aead -- ab vaes-avx2 ring 31 aes128-gcm-seal/1025 cold
//! ```

use criterion::{BenchmarkId, Criterion, Throughput};
use sealwire::aead::{AesGcm, Backend};
use std::hint::black_box;
use std::process::ExitCode;

#[path = "common/ab.rs"]
mod ab;
#[cfg(feature = "peers")]
#[path = "../src/bin/sealwire/speed/peers.rs"]
mod peers;

/// The record sizes of `sealwire speed`.
const SIZES: [usize; 7] = [16, 64, 256, 1024, 1420, 8192, 16384];

/// The TLS 1.3 record header as AAD (RFC 8446 section 5.2).
fn aad(size: usize) -> [u8; 5] {
    let [hi, lo] = ((size + 16) as u16).to_be_bytes();
    [0x17, 0x03, 0x03, hi, lo]
}

/// A sealwire backend or a peer, behind one seal/open interface.
enum Subject {
    Ours(Box<AesGcm>),
    #[cfg(feature = "peers")]
    Peer(peers::PeerKey),
}

impl Subject {
    fn seal(&mut self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        match self {
            Subject::Ours(k) => k.seal_in_place_detached(nonce, aad, buf).expect("seals"),
            #[cfg(feature = "peers")]
            Subject::Peer(k) => k.seal(nonce, aad, buf).expect("peer seals"),
        }
    }

    fn open(&mut self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool {
        match self {
            Subject::Ours(k) => k.open_in_place_detached(nonce, aad, buf, tag).is_ok(),
            #[cfg(feature = "peers")]
            Subject::Peer(k) => k.open(nonce, aad, buf, tag),
        }
    }
}

/// Every backend this CPU can run, then (with `peers`) every peer.
fn all_subjects(key: &[u8]) -> Vec<(String, Subject)> {
    #[cfg_attr(not(feature = "peers"), allow(unused_mut))]
    let mut v: Vec<(String, Subject)> = Backend::available()
        .into_iter()
        .map(|b| {
            let k = AesGcm::with_backend(key, b).expect("available backend");
            (b.name().to_string(), Subject::Ours(Box::new(k)))
        })
        .collect();
    #[cfg(feature = "peers")]
    for p in peers::Peer::ALL {
        v.push((
            p.name().to_string(),
            Subject::Peer(p.key(key).expect("peer key")),
        ));
    }
    v
}

fn criterion_benches(c: &mut Criterion) {
    #[cfg(feature = "peers")]
    for p in peers::Peer::ALL {
        eprintln!("peer {}: {}", p.name(), p.version());
    }
    for key_bits in [128usize, 256] {
        let key_bytes: Vec<u8> = (0..key_bits / 8).map(|i| i as u8).collect();
        for op in ["seal", "open"] {
            let mut group = c.benchmark_group(format!("aead/aes{key_bits}gcm/{op}"));
            for size in SIZES {
                group.throughput(Throughput::Bytes(size as u64));
                let aad = aad(size);
                for (name, mut subject) in all_subjects(&key_bytes) {
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
                        // Under one nonce, P seals to A (tag over A) and A seals back
                        // to P (tag over P): opening then alternates P -> A -> P,
                        // every open a successful one (SP 800-38D section 7.2).
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

/// The A/B record sizes: the speed tool's 64, 1420 and 16384 B, 272 and
/// 1424 B, which leave one whole block after the bulk loop, and 1025 B, a
/// 1 KiB write under TLS 1.3 (the content-type byte follows the payload).
#[cfg(feature = "peers")]
const AB_SIZES: [usize; 6] = [64, 272, 1025, 1420, 1424, 16384];
#[cfg(feature = "peers")]
const AB_NONCE: [u8; 12] = [0x42; 12];
#[cfg(feature = "peers")]
const AB_AAD: [u8; 13] = [0x17, 0x03, 0x03, 0x40, 0x11, 0, 0, 0, 0, 0, 0, 0, 1];

/// One subject's timed call in the A/B rounds (no shared context).
#[cfg(feature = "peers")]
type Call = Box<dyn FnMut(&mut ())>;

/// 8192 conditional branches at distinct addresses, each taken or not by
/// one bit of `bits` (rotated through the carry flag): they fill the
/// predictors' tables with entries of their own and push the caller's code
/// out of the instruction cache (`cold` in the file's docs).
#[cfg(all(feature = "peers", target_arch = "x86_64"))]
#[inline(never)]
fn random_branches(bits: u64) {
    // SAFETY: rotates one register and jumps only forward to the next
    // label; no memory or stack is touched.
    unsafe {
        core::arch::asm!(
            ".rept 8192",
            "ror {x}, 1",
            "jc 2f",
            "nop",
            "2:",
            ".endr",
            x = inout(reg) bits => _,
            options(nomem, nostack)
        )
    };
}

/// Without x86_64 there is no `cold` variant: the calls run as `alone`
/// (said once, when the arguments are read).
#[cfg(all(feature = "peers", not(target_arch = "x86_64")))]
fn random_branches(_bits: u64) {}

/// `ab`: one backend against peers, alternating (see the file's docs).
#[cfg(feature = "peers")]
fn ab_mode(args: ab::Args) -> ExitCode {
    use peers::Peer;
    let mut backend = None;
    let mut chosen: Vec<Peer> = Vec::new();
    let mut filters = Vec::new();
    let mut offset = 0usize;
    let mut copy = false;
    let mut alone = false;
    let mut cold = false;
    for w in args.words {
        if w == "copy" {
            copy = true;
        } else if w == "alone" {
            alone = true;
        } else if w == "cold" {
            alone = true;
            cold = true;
        } else if let Some(n) = w.strip_prefix('@').and_then(|n| n.parse().ok()) {
            offset = n;
        } else if let Some(b) = Backend::from_name(&w) {
            backend = Some(b);
        } else if let Some(p) = Peer::ALL.into_iter().find(|p| p.name() == w) {
            chosen.push(p);
        } else {
            filters.push(w);
        }
    }
    if cold && !cfg!(target_arch = "x86_64") {
        eprintln!("aead ab: `cold` needs x86_64; the calls run as `alone`");
        cold = false;
    }
    let backend = backend.unwrap_or_else(Backend::best);
    if !backend.is_available() {
        eprintln!(
            "aead ab: the {} backend is not available on this CPU; nothing compared",
            backend.name()
        );
        return ExitCode::FAILURE;
    }
    if chosen.is_empty() {
        chosen = vec![Peer::Ring, Peer::AwsLc];
    }
    let rounds = args.rounds.unwrap_or(201);
    for p in &chosen {
        eprintln!("peer {}: {}", p.name(), p.version());
    }
    let hz = ab::clock_hz();
    println!(
        "core clock (multiply chain): {:.2} GHz; {rounds} rounds; records {offset} B past a \
         64-byte boundary; {}ratio = peer time / {} time (median of rounds; min: fastest \
         rounds); > 1: {} faster",
        hz / 1e9,
        match (alone, cold) {
            (_, true) => {
                "every call timed alone after 8192 random branches, interleaved, less an \
                 empty call's time; "
            }
            (true, false) => "every call timed alone, interleaved, less an empty call's time; ",
            _ => "",
        },
        backend.name(),
        backend.name()
    );
    let mut names = vec![backend.name().to_string()];
    names.extend(chosen.iter().map(|p| p.name().to_string()));
    let mut header = format!("{:<18}{:>6}", "case", "size");
    for n in &names {
        header += &format!("{:>16}{:>8}", format!("{n} ns"), "c/B");
    }
    header += &format!("{:>7}", "GB/s");
    for n in &names[1..] {
        header += &format!("{:>16}{:>6}", format!("/{n}"), "min");
    }
    println!("{header}");
    for bits in [128usize, 256] {
        let key = vec![0x5au8; bits / 8];
        let ours = AesGcm::with_backend(&key, backend).expect("available backend");
        for op in ["seal", "open"] {
            for size in AB_SIZES {
                let case = format!("aes{bits}-gcm-{op}/{size}");
                if !ab::selected(&case, &filters) {
                    continue;
                }
                // Open alternates between X0 and X1 = X0 ^ keystream, each
                // with its own tag: every open authenticates, nothing is
                // copied (CTR decrypts with the keystream it encrypts with).
                let x0 = vec![0x33u8; size];
                let mut x1 = x0.clone();
                let t1 = ours
                    .seal_in_place_detached(&AB_NONCE, &AB_AAD, &mut x1)
                    .expect("seals");
                let mut back = x1.clone();
                let t0 = ours
                    .seal_in_place_detached(&AB_NONCE, &AB_AAD, &mut back)
                    .expect("seals");
                assert_eq!(back, x0);
                let tags = [t0, t1];
                let mut subjects = vec![Subject::Ours(Box::new(
                    AesGcm::with_backend(&key, backend).expect("available backend"),
                ))];
                for p in &chosen {
                    subjects.push(Subject::Peer(p.key(&key).expect("peer key")));
                }
                let mut calls: Vec<Call> = subjects
                    .into_iter()
                    .map(|mut s| {
                        let mut store = vec![0u8; size + offset + 64];
                        let start = store.as_ptr().align_offset(64) + offset;
                        store[start..start + size].copy_from_slice(&x0);
                        let mut i = 0usize;
                        let seal = op == "seal";
                        let src = x0.clone();
                        Box::new(move |_: &mut ()| {
                            let buf = &mut store[start..start + size];
                            let nonce = black_box(&AB_NONCE);
                            if seal {
                                if copy {
                                    buf.copy_from_slice(black_box(&src));
                                }
                                black_box(s.seal(nonce, &AB_AAD, buf));
                            } else {
                                let ok = s.open(nonce, &AB_AAD, buf, &tags[i & 1]);
                                assert!(ok, "authentic record");
                                i += 1;
                            }
                        }) as Call
                    })
                    .collect();
                if alone {
                    // The timer's own cost, subtracted below.
                    calls.push(Box::new(|_: &mut ()| {
                        black_box(());
                    }));
                }
                let mut refs: Vec<&mut dyn FnMut(&mut ())> =
                    calls.iter_mut().map(|f| &mut **f as _).collect();
                let t = if alone {
                    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
                    let mut before = || {
                        if cold {
                            seed ^= seed << 13;
                            seed ^= seed >> 7;
                            seed ^= seed << 17;
                            random_branches(seed);
                        }
                    };
                    let mut t = ab::alternate_alone(&mut refs, rounds, 1000, &mut before);
                    let empty = t.pop().expect("the empty call's timing");
                    for s in t.iter_mut() {
                        s.median -= empty.median;
                        s.min -= empty.min;
                    }
                    let (m0, n0) = (t[0].median, t[0].min);
                    for s in t.iter_mut() {
                        s.ratio = s.median / m0;
                        s.min_ratio = s.min / n0;
                    }
                    t
                } else {
                    let plan = ab::Plan {
                        reps: (200_000 / (size + 64)).max(4),
                        rounds,
                        best_of: 1,
                    };
                    ab::alternate(&mut (), &mut refs, plan)
                };
                let mut row = format!("{:<18}{size:>6}", format!("aes{bits}-gcm-{op}"));
                for s in &t {
                    let ns = s.median * 1e9;
                    row += &format!("{ns:>16.1}{:>8.3}", s.median * hz / size as f64);
                }
                row += &format!("{:>7.2}", size as f64 / (t[0].median * 1e9));
                for s in &t[1..] {
                    row += &format!("{:>16.2}{:>6.2}", s.ratio, s.min_ratio);
                }
                println!("{row}");
            }
        }
    }
    ExitCode::SUCCESS
}

#[cfg(not(feature = "peers"))]
fn ab_mode(_: ab::Args) -> ExitCode {
    eprintln!(
        "aead ab: the comparison with the peer libraries needs them built: \
         cargo bench --features peers --bench aead -- ab ..."
    );
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    if let Some(args) = ab::args() {
        return ab_mode(args);
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
    ExitCode::SUCCESS
}
