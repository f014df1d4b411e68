//! Timing: the clock estimate, the workloads (one per table row) and the
//! round-robin sampler that measures one column of the table.
//!
//! ```text
//!   per column (record size):
//!     build every row's keys and buffers; check all rows agree on C || T
//!     calibrate  each row: double the iteration count until a run takes long enough
//!     warm up    each row, round-robin
//!     REPS times: run each row once for ~seconds/REPS, in an order rotated
//!                 every repetition, so a drifting machine hits all rows alike
//!     report     median and quartiles of the REPS throughputs per row
//! ```

use sealwire::aead::{
    open_batch, open_batch_parallel, seal_batch, seal_batch_parallel, AesGcm, Backend, OpenJob,
    SealJob,
};
use std::hint::black_box;
use std::time::Instant;

#[cfg(feature = "peers")]
use super::peers::{Peer, PeerKey};

/// Repetitions per cell; odd, so the median is one of the samples.
pub const REPS: usize = 9;

/// What is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Encrypt and tag.
    Seal,
    /// Verify and decrypt.
    Open,
}

impl Op {
    /// The name used in options, tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Op::Seal => "seal",
            Op::Open => "open",
        }
    }
}

/// One row of the table: a sealwire backend or a peer library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// A sealwire backend.
    Sealwire(Backend),
    /// Another library.
    #[cfg(feature = "peers")]
    Peer(Peer),
}

impl Engine {
    /// The row label.
    pub fn label(self) -> String {
        match self {
            Engine::Sealwire(b) => b.name().to_string(),
            #[cfg(feature = "peers")]
            Engine::Peer(p) => p.name().to_string(),
        }
    }

    /// Whether this row is one of sealwire's own backends.
    pub fn is_sealwire(self) -> bool {
        matches!(self, Engine::Sealwire(_))
    }

    fn key(self, key: &[u8]) -> Result<Key, String> {
        match self {
            Engine::Sealwire(b) => AesGcm::with_backend(key, b)
                .map(|k| Key::Sealwire(Box::new(k)))
                .map_err(|e| format!("{}: {e}", b.name())),
            #[cfg(feature = "peers")]
            Engine::Peer(p) => p.key(key).map(Key::Peer),
        }
    }
}

/// An expanded key of any row.
///
/// Boxed like every peer's key, so all rows reach their key the same way.
enum Key {
    Sealwire(Box<AesGcm>),
    #[cfg(feature = "peers")]
    Peer(PeerKey),
}

impl Key {
    /// The sealwire key, for the batch API.
    fn sealwire(&self) -> Option<&AesGcm> {
        match self {
            Key::Sealwire(k) => Some(k),
            #[cfg(feature = "peers")]
            Key::Peer(_) => None,
        }
    }

    fn seal(&mut self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        match self {
            Key::Sealwire(k) => k.seal_in_place_detached(nonce, aad, buf).ok(),
            #[cfg(feature = "peers")]
            Key::Peer(k) => k.seal(nonce, aad, buf),
        }
    }

    fn open(&mut self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool {
        match self {
            Key::Sealwire(k) => k.open_in_place_detached(nonce, aad, buf, tag).is_ok(),
            #[cfg(feature = "peers")]
            Key::Peer(k) => k.open(nonce, aad, buf, tag),
        }
    }
}

/// One connection's state: its key, its record buffer and its nonces.
///
/// Sealing uses a fresh nonce per record (RFC 8446 section 5.3: the IV XOR
/// the sequence number). Opening alternates between two authentic
/// ciphertexts of the same buffer: under one nonce, `X` opens to `Y` with
/// tag `t[0]` and `Y` opens back to `X` with tag `t[1]`, so every measured
/// open is a real, successful one with no copy in the loop.
struct Conn {
    key: Key,
    buf: Vec<u8>,
    iv: [u8; 12],
    seq: u64,
    tags: [[u8; 16]; 2],
    phase: usize,
}

/// The TLS 1.3 record header used as AAD (RFC 8446 section 5.2): opaque
/// type 23, legacy version 0x0303, length of the ciphertext with its tag.
pub fn tls13_aad(size: usize) -> [u8; 5] {
    let len = (size + 16) as u16;
    let [hi, lo] = len.to_be_bytes();
    [0x17, 0x03, 0x03, hi, lo]
}

/// Deterministic filler so runs are repeatable (xorshift64*).
fn fill(buf: &mut [u8], mut seed: u64) {
    for chunk in buf.chunks_mut(8) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let v = seed.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

impl Conn {
    /// The next record's nonce (RFC 8446 section 5.3: the IV XOR the
    /// 64-bit sequence number, left-padded).
    fn next_nonce(&mut self) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq = self.seq.wrapping_add(1);
        nonce
    }

    /// The tag for the next open, flipping to the other record.
    fn next_tag(&mut self) -> [u8; 16] {
        let tag = self.tags[self.phase];
        self.phase ^= 1;
        tag
    }

    fn new(
        engine: Engine,
        key_bytes: &[u8],
        size: usize,
        op: Op,
        index: u64,
    ) -> Result<Conn, String> {
        let mut key = engine.key(key_bytes)?;
        let mut buf = vec![0u8; size];
        fill(&mut buf, 0x9e37_79b9_7f4a_7c15 ^ index);
        let mut iv = [0u8; 12];
        iv[..8].copy_from_slice(&index.to_be_bytes());
        let mut tags = [[0u8; 16]; 2];
        if op == Op::Open {
            let aad = tls13_aad(size);
            let broken = || format!("{}: sealing failed", engine.label());
            // Under one nonce, sealing P gives A = P ^ KS with tag t_A over A;
            // sealing A gives back P with tag t_P over P. The buffer then
            // holds P: opening it with t_P yields A, opening A with t_A
            // yields P again (SP 800-38D section 7.2).
            let t_a = key.seal(&iv, &aad, &mut buf).ok_or_else(broken)?;
            let t_p = key.seal(&iv, &aad, &mut buf).ok_or_else(broken)?;
            tags = [t_p, t_a];
        }
        Ok(Conn {
            key,
            buf,
            iv,
            seq: 0,
            tags,
            phase: 0,
        })
    }
}

/// Everything one table row needs to run: its connections (one, unless
/// `--connections`), the operation, and the thread pool of `--threads`.
pub struct Row {
    /// What this row measures.
    pub engine: Engine,
    op: Op,
    aad: [u8; 5],
    conns: Vec<Conn>,
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
    /// Bytes of record payload processed per iteration (one round).
    pub bytes_per_iter: u64,
}

/// How a row is set up.
#[derive(Clone, Debug)]
pub struct RowSpec {
    /// The implementation.
    pub engine: Engine,
    /// AES key (16 or 32 bytes).
    pub key: Vec<u8>,
    /// Record payload size in bytes.
    pub size: usize,
    /// Seal or open.
    pub op: Op,
    /// Connections per round: each has its own key and seals one record.
    pub connections: usize,
    /// Thread pool spreading the connections of a round, if any.
    pub pool: Option<std::sync::Arc<rayon::ThreadPool>>,
}

impl Row {
    /// Builds the keys and buffers of a row.
    pub fn new(spec: &RowSpec) -> Result<Row, String> {
        let mut conns = Vec::with_capacity(spec.connections);
        for i in 0..spec.connections {
            let mut key = spec.key.clone();
            // Connection i gets its own key: the first 8 key bytes XOR i.
            for (k, b) in key.iter_mut().zip((i as u64).to_le_bytes()) {
                *k ^= b;
            }
            conns.push(Conn::new(spec.engine, &key, spec.size, spec.op, i as u64)?);
        }
        Ok(Row {
            engine: spec.engine,
            op: spec.op,
            aad: tls13_aad(spec.size),
            conns,
            pool: spec.pool.clone(),
            bytes_per_iter: (spec.size * spec.connections) as u64,
        })
    }

    /// Seals (or opens) one record per connection `iters` times.
    pub fn run(&mut self, iters: u64) -> Result<(), String> {
        let (op, aad) = (self.op, self.aad);
        let batch = self.uses_batch_api();
        for _ in 0..iters {
            let ok = match &self.pool {
                _ if batch => self.batch_round(),
                None => self.conns.iter_mut().all(|c| step(c, op, &aad)),
                Some(pool) => {
                    use rayon::prelude::*;
                    let conns = &mut self.conns;
                    pool.install(|| conns.par_iter_mut().all(|c| step(c, op, &aad)))
                }
            };
            if !ok {
                return Err(format!(
                    "{} failed to {} a record it made itself",
                    self.engine.label(),
                    op.name()
                ));
            }
        }
        Ok(())
    }

    /// Whether rounds go through sealwire's batch API: sealwire rows with
    /// several connections or a thread pool.
    pub fn uses_batch_api(&self) -> bool {
        self.engine.is_sealwire() && (self.conns.len() > 1 || self.pool.is_some())
    }

    /// One round through `aead::seal_batch` / `open_batch` (or their
    /// `_parallel` forms on the row's thread pool): one record for each
    /// connection, in one call.
    fn batch_round(&mut self) -> bool {
        let aad = &self.aad;
        let n = self.conns.len();
        match self.op {
            Op::Seal => {
                let mut jobs: Vec<SealJob<'_>> = self
                    .conns
                    .iter_mut()
                    .filter_map(|c| {
                        let nonce = c.next_nonce();
                        Some(SealJob {
                            key: c.key.sealwire()?,
                            nonce,
                            aad,
                            buf: &mut c.buf,
                            tag: [0; 16],
                        })
                    })
                    .collect();
                if jobs.len() != n {
                    return false;
                }
                match &self.pool {
                    Some(pool) => pool.install(|| seal_batch_parallel(&mut jobs)),
                    None => seal_batch(&mut jobs),
                }
                black_box(&jobs);
                true
            }
            Op::Open => {
                let mut jobs: Vec<OpenJob<'_>> = self
                    .conns
                    .iter_mut()
                    .filter_map(|c| {
                        let tag = c.next_tag();
                        Some(OpenJob {
                            key: c.key.sealwire()?,
                            nonce: c.iv,
                            aad,
                            buf: &mut c.buf,
                            tag,
                        })
                    })
                    .collect();
                if jobs.len() != n {
                    return false;
                }
                let results = match &self.pool {
                    Some(pool) => pool.install(|| open_batch_parallel(&mut jobs)),
                    None => open_batch(&mut jobs),
                };
                results.iter().all(Result::is_ok)
            }
        }
    }

    /// Ciphertext and tag of a fixed message under connection 0's key, to
    /// check that all rows compute the same AES-GCM.
    pub fn fingerprint(&mut self) -> Result<Vec<u8>, String> {
        let c = &mut self.conns[0];
        let mut buf = vec![0u8; c.buf.len()];
        fill(&mut buf, 7);
        let nonce = [0x5a; 12];
        let tag = c
            .key
            .seal(&nonce, &self.aad, &mut buf)
            .ok_or_else(|| format!("{}: sealing failed", self.engine.label()))?;
        buf.extend_from_slice(&tag);
        Ok(buf)
    }
}

/// One record of one connection.
fn step(c: &mut Conn, op: Op, aad: &[u8; 5]) -> bool {
    match op {
        Op::Seal => {
            let nonce = c.next_nonce();
            match c.key.seal(&nonce, aad, &mut c.buf) {
                Some(tag) => {
                    black_box(tag);
                    true
                }
                None => false,
            }
        }
        Op::Open => {
            let tag = c.next_tag();
            c.key.open(&c.iv, aad, &mut c.buf, &tag)
        }
    }
}

/// Summary of the samples of one cell, in bytes per second.
#[derive(Clone, Debug)]
pub struct Stats {
    /// Every repetition's throughput, in the order measured.
    pub samples: Vec<f64>,
    /// The median.
    pub median: f64,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
    /// Iterations per sample.
    pub iters: u64,
}

impl Stats {
    fn new(samples: Vec<f64>, iters: u64) -> Stats {
        let mut s = samples.clone();
        s.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let pos = q * (s.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
        };
        Stats {
            median: at(0.5),
            q1: at(0.25),
            q3: at(0.75),
            samples,
            iters,
        }
    }

    /// Half the interquartile range relative to the median, in percent.
    pub fn spread_pct(&self) -> f64 {
        if self.median > 0.0 {
            50.0 * (self.q3 - self.q1) / self.median
        } else {
            0.0
        }
    }
}

/// What a sample's duration is measured in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeBase {
    /// CPU time of the measuring thread (`CLOCK_THREAD_CPUTIME_ID`): time
    /// the scheduler hands to other processes does not count, so a busy
    /// machine slows the run down but does not bias the figures.
    ThreadCpu,
    /// Elapsed real time (`std::time::Instant`): needed when the work runs
    /// on other threads (`--threads`).
    Wall,
}

impl TimeBase {
    /// Thread CPU time when the measuring thread does all the work and the
    /// OS provides it; wall time otherwise.
    pub fn choose(multithreaded: bool) -> TimeBase {
        if !multithreaded && cpu_time::ThreadTime::try_now().is_ok() {
            TimeBase::ThreadCpu
        } else {
            TimeBase::Wall
        }
    }

    /// A short description for the header and the JSON.
    pub fn describe(self) -> &'static str {
        match self {
            TimeBase::ThreadCpu => "thread CPU time (time given to other processes excluded)",
            TimeBase::Wall => "wall-clock time",
        }
    }

    /// Runs `f` and returns its result and duration in seconds.
    pub fn time<R>(self, f: impl FnOnce() -> R) -> (R, f64) {
        match self {
            TimeBase::ThreadCpu => {
                let start = cpu_time::ThreadTime::now();
                let r = f();
                (r, start.elapsed().as_secs_f64())
            }
            TimeBase::Wall => {
                let start = Instant::now();
                let r = f();
                (r, start.elapsed().as_secs_f64())
            }
        }
    }
}

fn timed(base: TimeBase, row: &mut Row, iters: u64) -> Result<f64, String> {
    let (r, t) = base.time(|| row.run(iters));
    r?;
    Ok(t.max(1e-9))
}

/// Measures one column: every row for about `seconds` each, interleaved.
/// `tick` is called after each repetition (for the progress bar).
pub fn measure_column(
    base: TimeBase,
    rows: &mut [Row],
    seconds: f64,
    tick: &mut dyn FnMut(usize),
) -> Result<Vec<Stats>, String> {
    let sample = seconds / REPS as f64;
    // Calibrate: double until one run takes a quarter of a sample (capped
    // at 20 ms); this is also the first warm-up.
    let target = (sample / 4.0).min(0.02);
    let mut iters = Vec::with_capacity(rows.len());
    for row in rows.iter_mut() {
        let mut n = 1u64;
        let per_iter = loop {
            let t = timed(base, row, n)?;
            if t >= target || n >= 1 << 40 {
                break t / n as f64;
            }
            n *= 2;
        };
        iters.push(((sample / per_iter.max(1e-12)) as u64).max(1));
    }
    // Warm up round-robin with one sample's worth each, and recalibrate.
    for (row, n) in rows.iter_mut().zip(iters.iter_mut()) {
        let t = timed(base, row, *n)?;
        *n = ((sample * *n as f64 / t) as u64).max(1);
    }
    let mut samples = vec![Vec::with_capacity(REPS); rows.len()];
    for rep in 0..REPS {
        for k in 0..rows.len() {
            let i = (rep + k) % rows.len();
            let t = timed(base, &mut rows[i], iters[i])?;
            samples[i].push((rows[i].bytes_per_iter * iters[i]) as f64 / t);
        }
        tick(rep + 1);
    }
    Ok(samples
        .into_iter()
        .zip(iters)
        .map(|(s, n)| Stats::new(s, n))
        .collect())
}

/// The measured clock frequency and how it was obtained.
#[derive(Clone, Debug)]
pub struct Clock {
    /// Cycles per second divided by 10^9.
    pub ghz: f64,
    /// One line saying how.
    pub method: String,
    /// Every run's estimate in GHz.
    pub samples: Vec<f64>,
    /// The estimate of a second chain (multiply-xor, 4 cycles a step on
    /// x86_64): agreement with `ghz` supports the cycle counts assumed.
    pub check_ghz: f64,
}

/// Iterations of the dependent chain per timing run: about a million
/// cycles, short enough that most runs are not interrupted.
const CHAIN_ITERS: u64 = 500_000;
/// Timing runs of the chain.
const CHAIN_RUNS: usize = 41;
/// Cycles one iteration of [`chain`] takes: a shift and an add, each of
/// one-cycle latency on every x86_64 and aarch64 core, and each needing
/// the previous result, so nothing overlaps.
const CHAIN_CYCLES_PER_ITER: f64 = 2.0;

/// `x <- x + (x >> 1)`, `n` times: a serial chain of shifts and adds that
/// the compiler cannot shorten, vectorise or fold into a closed form.
#[inline(never)]
fn chain(mut x: u64, n: u64) -> u64 {
    for _ in 0..n {
        x = x.wrapping_add(x >> 1);
    }
    x
}

/// `x <- x * x ^ k`, `n` times: a second serial chain (a 64-bit multiply,
/// 3 cycles on current x86_64 cores, then an xor) to cross-check the first.
#[inline(never)]
fn square_chain(mut x: u64, k: u64, n: u64) -> u64 {
    for _ in 0..n {
        x = x.wrapping_mul(x) ^ k;
    }
    x
}

/// Cycles one iteration of [`square_chain`] takes on x86_64.
const SQUARE_CYCLES_PER_ITER: f64 = 4.0;

/// Measures the clock: a dependent chain of known length in cycles, timed
/// with `base`. With thread CPU time the median run is the estimate; with
/// wall time the fastest, the one least disturbed by other processes.
pub fn measure_clock(base: TimeBase) -> Clock {
    for _ in 0..20 {
        black_box(chain(black_box(3), black_box(CHAIN_ITERS)));
    }
    let mut samples: Vec<f64> = (0..CHAIN_RUNS)
        .map(|_| {
            let (_, t) = base.time(|| black_box(chain(black_box(3), black_box(CHAIN_ITERS))));
            CHAIN_ITERS as f64 * CHAIN_CYCLES_PER_ITER / t.max(1e-9) / 1e9
        })
        .collect();
    let check: Vec<f64> = (0..CHAIN_RUNS)
        .map(|_| {
            let (_, t) = base.time(|| {
                black_box(square_chain(
                    black_box(3),
                    black_box(0x9e37_79b9_7f4a_7c15),
                    black_box(CHAIN_ITERS),
                ))
            });
            CHAIN_ITERS as f64 * SQUARE_CYCLES_PER_ITER / t.max(1e-9) / 1e9
        })
        .collect();
    let pick_of = |v: &[f64]| {
        let mut sorted = v.to_vec();
        sorted.sort_by(f64::total_cmp);
        match base {
            TimeBase::ThreadCpu => sorted[sorted.len() / 2],
            TimeBase::Wall => sorted[sorted.len() - 1],
        }
    };
    let (ghz, check_ghz) = (pick_of(&samples), pick_of(&check));
    let pick = match base {
        TimeBase::ThreadCpu => "median",
        TimeBase::Wall => "fastest",
    };
    samples.shrink_to_fit();
    Clock {
        ghz,
        method: format!(
            "{CHAIN_RUNS} runs of a dependent chain of {CHAIN_ITERS} shift+add steps \
             ({CHAIN_CYCLES_PER_ITER} cycles each), timed by {}; {pick} run",
            match base {
                TimeBase::ThreadCpu => "thread CPU time",
                TimeBase::Wall => "the monotonic clock",
            }
        ),
        samples,
        check_ghz,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate() {
        let s = Stats::new(vec![5.0, 1.0, 3.0, 2.0, 4.0], 1);
        assert_eq!((s.q1, s.median, s.q3), (2.0, 3.0, 4.0));
        assert!((s.spread_pct() - 100.0 / 3.0).abs() < 1e-9);
        let s = Stats::new(vec![1.0, 2.0], 1);
        assert_eq!((s.q1, s.median, s.q3), (1.25, 1.5, 1.75));
    }

    #[test]
    fn aad_is_the_tls13_header() {
        assert_eq!(tls13_aad(1024), [0x17, 0x03, 0x03, 0x04, 0x10]);
    }

    #[test]
    fn open_rows_alternate_between_authentic_records() {
        for op in [Op::Seal, Op::Open] {
            let mut row = Row::new(&RowSpec {
                engine: Engine::Sealwire(Backend::Portable),
                key: vec![1; 16],
                size: 33,
                op,
                connections: 3,
                pool: None,
            })
            .unwrap();
            assert_eq!(row.bytes_per_iter, 99);
            row.run(5).unwrap();
        }
    }

    #[test]
    fn a_wrong_tag_is_reported() {
        let mut row = Row::new(&RowSpec {
            engine: Engine::Sealwire(Backend::Portable),
            key: vec![1; 16],
            size: 16,
            op: Op::Open,
            connections: 1,
            pool: None,
        })
        .unwrap();
        row.conns[0].tags[1][0] ^= 1;
        assert!(row.run(1).is_ok());
        assert!(row.run(1).unwrap_err().contains("failed to open"));
    }

    #[test]
    fn clock_is_plausible() {
        let c = measure_clock(TimeBase::choose(false));
        assert!(c.ghz > 0.1 && c.ghz < 10.0, "{c:?}");
    }
}
