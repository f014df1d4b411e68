//! The alternating A/B harness of the ratio comparisons (`cargo bench
//! --bench NAME -- ab ...`), made for a noisy, shared machine.
//!
//! ```text
//!   warm-up   every subject once
//!   round r   every subject timed over `reps` calls (fastest of `best_of`
//!             such batches), in an order rotated by r: for two subjects
//!             A B, B A, A B, ... (ABBA), so neither side always runs first
//!   report    per subject: median and fastest round time; per subject i:
//!             median over rounds of t_i / t_0, and fastest_i / fastest_0
//! ```
//!
//! Many short rounds: a slow spell of the host (tens of ms, often on one
//! vCPU only) spoils a few rounds, which the median drops, instead of
//! tilting a few long ones. Only ratios from one run are comparable; the
//! absolute times move with the machine's load.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How one comparison is timed.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Calls per timed batch.
    pub reps: usize,
    /// Rounds (each times every subject once).
    pub rounds: usize,
    /// Batches per subject and round; the fastest counts.
    pub best_of: usize,
}

/// One subject's result.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Median over rounds of the time per call, seconds.
    pub median: f64,
    /// Fastest round's time per call, seconds.
    pub min: f64,
    /// Median over rounds of this subject's time / subject 0's time.
    pub ratio: f64,
    /// This subject's fastest time / subject 0's fastest time.
    pub min_ratio: f64,
}

/// The median of `v` (the upper one for an even count).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds per call of `f` on `ctx`, over `reps` calls.
fn time<C>(ctx: &mut C, reps: usize, f: &mut dyn FnMut(&mut C)) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        f(ctx);
    }
    t.elapsed().as_secs_f64() / reps as f64
}

/// Calls per batch so that the slowest subject's batch takes about `round`.
pub fn reps_for<C>(ctx: &mut C, subjects: &mut [&mut dyn FnMut(&mut C)], round: Duration) -> usize {
    let slowest = subjects
        .iter_mut()
        .map(|f| time(ctx, 3, *f))
        .fold(1e-7, f64::max);
    ((round.as_secs_f64() / slowest) as usize).max(1)
}

/// Times `subjects` (all working on `ctx`) in alternating rounds.
pub fn alternate<C>(
    ctx: &mut C,
    subjects: &mut [&mut dyn FnMut(&mut C)],
    plan: Plan,
) -> Vec<Timing> {
    let n = subjects.len();
    assert!(n >= 1 && plan.rounds >= 1 && plan.reps >= 1 && plan.best_of >= 1);
    for f in subjects.iter_mut() {
        time(ctx, plan.reps, *f);
    }
    let mut t: Vec<Vec<f64>> = vec![Vec::with_capacity(plan.rounds); n];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::with_capacity(plan.rounds); n];
    let mut this = vec![0.0; n];
    for round in 0..plan.rounds {
        for k in 0..n {
            let which = (k + round) % n;
            this[which] = (0..plan.best_of)
                .map(|_| time(ctx, plan.reps, subjects[which]))
                .fold(f64::INFINITY, f64::min);
        }
        for i in 0..n {
            t[i].push(this[i]);
            ratios[i].push(this[i] / this[0]);
        }
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let min0 = min(&t[0]);
    (0..n)
        .map(|i| Timing {
            min: min(&t[i]),
            min_ratio: min(&t[i]) / min0,
            median: median(&mut t[i]),
            ratio: median(&mut ratios[i]),
        })
        .collect()
}

/// Times every call of `subjects` by itself: `rounds` rounds of `calls`
/// steps, each step one call of every subject in an order rotated by the
/// step, so each call follows the others' calls rather than its own. Per
/// subject: the median call (`median`), the fastest tenth's bound (`min`);
/// the ratios are left for the caller (the timer's cost is in every call).
/// `before` runs ahead of every call, outside its timing.
pub fn alternate_alone(
    subjects: &mut [&mut dyn FnMut(&mut ())],
    rounds: usize,
    calls: usize,
    before: &mut dyn FnMut(),
) -> Vec<Timing> {
    let n = subjects.len();
    assert!(n >= 1 && rounds >= 1 && calls >= 1);
    for f in subjects.iter_mut() {
        f(&mut ());
    }
    let mut t: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds * calls); n];
    for step in 0..rounds * calls {
        for k in 0..n {
            let which = (k + step) % n;
            before();
            let start = Instant::now();
            subjects[which](&mut ());
            t[which].push(start.elapsed().as_secs_f64());
        }
    }
    t.into_iter()
        .map(|mut v| {
            let m = median(&mut v);
            Timing {
                median: m,
                min: v[v.len() / 10],
                ratio: 1.0,
                min_ratio: 1.0,
            }
        })
        .collect()
}

/// Core clock in Hz from a dependent chain of `x = x * x + k` on u64
/// (64-bit multiply, 3 cycles, plus an add, 1 cycle, on Zen 3 / Zen 4;
/// squaring cannot be reassociated by the compiler): the fastest of 301
/// short runs, so runs that lost the core to another process do not count.
pub fn clock_hz() -> f64 {
    let mut best = 0.0f64;
    for _ in 0..301 {
        let n: u64 = black_box(100_000);
        let mut x: u64 = black_box(0x1234_5678_9abc_def1);
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

/// The arguments after `ab`: the first number is the round count, every
/// other word is kept for the bench to interpret (names, case filters).
#[derive(Debug, Default)]
pub struct Args {
    /// Rounds, if given.
    pub rounds: Option<usize>,
    /// The other words, in order.
    pub words: Vec<String>,
}

/// `Some(args)` when the command line selects the A/B mode (`-- ab ...`);
/// `None` for the criterion benches. Cargo's own `--bench` flag is skipped.
pub fn args() -> Option<Args> {
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    if it.next().as_deref() != Some("ab") {
        return None;
    }
    let mut out = Args::default();
    for a in it {
        match a.parse::<usize>() {
            Ok(n) if out.rounds.is_none() && n > 0 => out.rounds = Some(n),
            _ => out.words.push(a),
        }
    }
    Some(out)
}

/// True when every filter (the words a bench did not take as a name) is a
/// substring of `case`.
pub fn selected(case: &str, filters: &[String]) -> bool {
    filters.iter().all(|f| case.contains(f.as_str()))
}

/// Per-round results of an A/B run, in nanoseconds per operation.
#[derive(Debug, Default)]
pub struct AbRun {
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    /// `a / b` of each round.
    pub ratio: Vec<f64>,
}

impl AbRun {
    /// (median a, median b, median of a/b).
    pub fn medians(&self) -> (f64, f64, f64) {
        (
            median(&mut self.a.clone()),
            median(&mut self.b.clone()),
            median(&mut self.ratio.clone()),
        )
    }
}

/// For contenders that time themselves (a handshake over a socket pair,
/// with its own CPU-time bookkeeping): `rounds` rounds of `a` and `b`, each
/// call timing one batch and returning nanoseconds per operation; the order
/// alternates A B, B A, ... (ABBA), as [`alternate`].
pub fn alternate_pair(
    rounds: usize,
    a: &mut dyn FnMut() -> f64,
    b: &mut dyn FnMut() -> f64,
) -> AbRun {
    let mut r = AbRun::default();
    for i in 0..rounds {
        let (ta, tb) = if i % 2 == 0 {
            let ta = a();
            (ta, b())
        } else {
            let tb = b();
            (a(), tb)
        };
        r.a.push(ta);
        r.b.push(tb);
        r.ratio.push(ta / tb);
    }
    r
}

/// Nanoseconds per call of `f` over `iters` calls.
pub fn time_ns(iters: usize, f: &mut dyn FnMut()) -> f64 {
    let t = std::time::Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_nanos() as f64 / iters as f64
}

/// The CPU model line of /proc/cpuinfo, for the report.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
