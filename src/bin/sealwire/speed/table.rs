//! The text tables: GB/s with spread, cycles per byte, and (with peers) the
//! ratio of the best sealwire backend to the best peer per record size.

use super::{Report, Results};
use std::fmt::Write;

const LABEL: usize = 14;
const CELL: usize = 12;

/// GB/s with three significant digits.
pub fn gbps(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn cpb(v: f64) -> String {
    if !v.is_finite() {
        "-".to_string()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// For each column, the best sealwire median over the best peer median
/// (`None` where either side has no row).
pub fn best_ratio(res: &Results, columns: usize) -> Vec<Option<f64>> {
    (0..columns)
        .map(|c| {
            let best = |sealwire: bool| {
                res.rows
                    .iter()
                    .filter(|(e, _)| e.is_sealwire() == sealwire)
                    .map(|(_, s)| s[c].median)
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
            };
            Some(best(true)? / best(false)?)
        })
        .collect()
}

fn size_header(out: &mut String, sizes: &[usize]) {
    let _ = write!(out, "{:<LABEL$}", "record bytes");
    for s in sizes {
        let _ = write!(out, "{s:>CELL$}");
    }
    out.push('\n');
}

/// Both tables of every operation, as printed on stdout.
pub fn render(report: &Report) -> String {
    let sizes = &report.config.sizes;
    let ghz = report.clock.ghz;
    let mut out = String::new();
    for res in &report.results {
        let op = res.op.name();
        let _ = writeln!(
            out,
            "{op}: GB/s (10^9 bytes of payload per second; higher is better; ±: half the interquartile range)"
        );
        size_header(&mut out, sizes);
        for (engine, cells) in &res.rows {
            let _ = write!(out, "{:<LABEL$}", engine.label());
            for s in cells {
                let cell = format!("{} ±{:.0}%", gbps(s.median / 1e9), s.spread_pct());
                let _ = write!(out, "{cell:>CELL$}");
            }
            out.push('\n');
        }
        let ratios = best_ratio(res, sizes.len());
        if ratios.iter().any(Option::is_some) {
            let _ = write!(out, "{:<LABEL$}", "sealwire/peer");
            for r in &ratios {
                let cell = r.map_or("-".to_string(), |r| format!("{r:.2}x"));
                let _ = write!(out, "{cell:>CELL$}");
            }
            out.push_str("\n  (sealwire/peer: best sealwire backend over best peer library)\n");
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "{op}: cycles per byte (measured {ghz:.2} GHz clock / throughput; lower is better)"
        );
        size_header(&mut out, sizes);
        for (engine, cells) in &res.rows {
            let _ = write!(out, "{:<LABEL$}", engine.label());
            for s in cells {
                let _ = write!(out, "{:>CELL$}", cpb(ghz * 1e9 / s.median));
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}
