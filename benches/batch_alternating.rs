//! Alternating timing of the batch path against ring on a noisy machine:
//! rounds of (ring one by one, seal_batch, sealwire one by one), each timed
//! over many repetitions, in turn; the report is the median per-round ratio.
//! Complements the criterion bench `batch`, whose groups run one after the
//! other and so see different machine load.
//!
//! `cargo bench --bench batch_alternating` (add `-- record` for the TLS 1.3
//! record path against the bare AEAD, `-- parallel` for only the parallel
//! batch against the serial one)

use conns::{batch, conns, ring_one_by_one, sealwire_one_by_one as one_by_one, Conns};
use sealwire::aead::AesGcm;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "common/conns.rs"]
mod conns;

/// Time per call of `f`, over `reps` calls.
fn time(c: &mut Conns, reps: usize, f: &dyn Fn(&mut Conns)) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        f(c);
    }
    t.elapsed().as_secs_f64() / reps as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Rounds of about 2 ms, 101 of them: a slow spell of the host (tens of ms,
/// often on one vCPU only) spoils a few rounds, which the median drops,
/// instead of tilting a few long ones.
const SHORT_ROUNDS: (Duration, usize) = (Duration::from_millis(2), 101);
/// For the parallel batch, rounds of about 20 ms: the pool's threads sleep
/// during the serial rounds, and waking them (20-80 us here) belongs to the
/// first call of a round, which a steady stream of calls (what the issue's
/// target is about, and what criterion measures) never pays; 2 ms rounds of
/// ~20 calls would charge each call 1-4 us of it.
const POOL_ROUNDS: (Duration, usize) = (Duration::from_millis(20), 31);

/// Compares `fs[0]` with `fs[1]` over `rounds` rounds of about `round`
/// each, in ABBA order; prints the medians and the median ratio.
fn compare(
    label: &str,
    c: &mut Conns,
    names: [&str; 2],
    fs: [&dyn Fn(&mut Conns); 2],
    (round, rounds): (Duration, usize),
) {
    let probe = time(c, 3, fs[0]).max(1e-7);
    let reps = ((round.as_secs_f64() / probe) as usize).max(1);
    let mut ratios = Vec::new();
    let mut t0 = Vec::new();
    let mut t1 = Vec::new();
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = time(c, reps, fs[0]);
            (a, time(c, reps, fs[1]))
        } else {
            let b = time(c, reps, fs[1]);
            (time(c, reps, fs[0]), b)
        };
        ratios.push(a / b);
        t0.push(a);
        t1.push(b);
    }
    println!(
        "{label:<22} {:>20}: {:>9.2} us  {:>20}: {:>9.2} us  ratio {:.2}x",
        names[0],
        median(t0) * 1e6,
        names[1],
        median(t1) * 1e6,
        median(ratios)
    );
}

/// TLS 1.3 record sealing against the bare AEAD on the same key (the
/// record path's framing overhead), alternating.
fn record_vs_bare(size: usize) {
    use bytes::BytesMut;
    use sealwire::record::{CipherSuite, ContentType, Sealer, TrafficKeys};
    let keys = TrafficKeys::new(
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        &[0x11; 16],
        &[0x22; 12],
    )
    .unwrap();
    let aead = AesGcm::new(keys.key()).unwrap();
    let mut sealer = Sealer::new(keys.clone()).unwrap();
    // The bare AEAD's buffer starts on a 64-byte boundary, as the record
    // payload does (`Sealer::start`): the comparison is of framing alone.
    let mut big = vec![0x5au8; size + 64];
    let st = (big.as_ptr() as usize).wrapping_neg() % 64;
    let buf = &mut big[st..st + size];
    let mut rec = BytesMut::new();
    sealer.start(&mut rec);
    rec.resize(sealer.header_room() + size, 0x5a);
    let plain_len = rec.len();
    // Short rounds, many of them, in ABBA order: the host's slow spells
    // (tens of ms) then spoil a few rounds instead of tilting a few long
    // ones, and neither side always runs first.
    let reps = 400;
    let mut seq = 0u64;
    let mut bare_round = || {
        let t = Instant::now();
        for _ in 0..reps {
            // The bare AEAD as a TLS stack would drive it: a fresh nonce per
            // record (the IV XOR a counter, RFC 8446 5.3) and the record
            // header as AAD; a constant nonce would be a misuse of AES-GCM.
            let mut nonce = [0x22u8; 12];
            for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
                *n ^= s;
            }
            seq += 1;
            let len = size + 17;
            let aad = [23, 3, 3, (len >> 8) as u8, len as u8];
            black_box(aead.seal_in_place_detached(&nonce, &aad, buf)).unwrap();
        }
        t.elapsed().as_secs_f64() / reps as f64
    };
    let mut record_round = || {
        let t = Instant::now();
        for _ in 0..reps {
            if sealer.records_left() == 0 {
                sealer.update_keys(keys.clone()).unwrap();
            }
            rec.truncate(plain_len);
            sealer.seal(ContentType::ApplicationData, &mut rec).unwrap();
            black_box(rec.len());
        }
        t.elapsed().as_secs_f64() / reps as f64
    };
    let (mut ratios, mut tb, mut tr) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..101 {
        let (bare, record) = if round % 2 == 0 {
            let b = bare_round();
            (b, record_round())
        } else {
            let r = record_round();
            (bare_round(), r)
        };
        ratios.push(record / bare);
        tb.push(bare);
        tr.push(record);
    }
    println!(
        "TLS 1.3 record {size:>5} B     bare AEAD: {:>9.1} ns   record seal: {:>9.1} ns  record/bare {:.3}",
        median(tb) * 1e9,
        median(tr) * 1e9,
        median(ratios)
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if std::env::args().any(|a| a == "record") {
        record_vs_bare(1420);
        record_vs_bare(16384);
        return;
    }
    let backend = AesGcm::new(&[0; 16]).unwrap().backend();
    println!("sealwire backend: {backend}");
    let only_parallel = std::env::args().any(|a| a == "parallel");
    for size in [64usize, 256, 1420, 16384] {
        if only_parallel {
            break;
        }
        let mut c = conns(64, size);
        compare(
            &format!("64 conns x {size} B"),
            &mut c,
            ["ring one by one", "seal_batch"],
            [&ring_one_by_one, &|c| batch(c, false)],
            SHORT_ROUNDS,
        );
        compare(
            &format!("64 conns x {size} B"),
            &mut c,
            ["sealwire one by one", "seal_batch"],
            [&one_by_one, &|c| batch(c, false)],
            SHORT_ROUNDS,
        );
    }
    let mut c = conns(1024, 1420);
    compare(
        "1024 x 1420 B",
        &mut c,
        ["seal_batch", "seal_batch_parallel"],
        [&|c| batch(c, false), &|c| batch(c, true)],
        POOL_ROUNDS,
    );
}
