//! A/B timing for a noisy, shared machine: many short rounds, each timing
//! both contenders back to back with the order swapped every round (ABBA),
//! so a slow stretch of the machine costs both alike. Reports medians of
//! the per-operation times and of the per-round ratios.
#![allow(dead_code)]

/// The median (the slice is sorted in place).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
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

/// `rounds` rounds of `a` and `b`, each call timing one batch and returning
/// nanoseconds per operation; the order alternates A B, B A, ...
pub fn alternate(rounds: usize, a: &mut dyn FnMut() -> f64, b: &mut dyn FnMut() -> f64) -> AbRun {
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
