//! The `--svg` plot, written by hand: throughput (GB/s, linear) against
//! record size (bytes, log scale), one line per backend or peer (dashed for
//! `open`), interquartile bars at each point, labelled axes and a legend.

use super::measure::Op;
use super::Report;
use std::fmt::Write;

const W: f64 = 860.0;
const H: f64 = 500.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 210.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 72.0;
const COLORS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];

/// Escapes text for XML character data and attributes.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round tick step giving about five ticks up to `max`: 1, 2 or 5 x 10^k.
fn tick_step(max: f64) -> f64 {
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag)
}

/// The whole SVG document.
pub fn render(r: &Report) -> String {
    let sizes = &r.config.sizes;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let (mut lo, mut hi) = (
        (*sizes.first().unwrap_or(&1) as f64).ln(),
        (*sizes.last().unwrap_or(&1) as f64).ln(),
    );
    if hi - lo < 1e-9 {
        lo -= 1.0;
        hi += 1.0;
    }
    let x = |s: usize| LEFT + ((s as f64).ln() - lo) / (hi - lo) * pw;
    let top = r
        .results
        .iter()
        .flat_map(|res| res.rows.iter())
        .flat_map(|(_, cells)| cells.iter().map(|s| s.q3.max(s.median) / 1e9))
        .fold(0.0, f64::max)
        .max(1e-6);
    let step = tick_step(top * 1.05);
    let ymax = (top * 1.05 / step).ceil() * step;
    let y = |v: f64| TOP + ph - v / ymax * ph;

    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(o, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let ops: Vec<_> = r.results.iter().map(|res| res.op.name()).collect();
    let batch = match (r.config.connections, r.config.threads) {
        (1, None) => String::new(),
        (n, None) => format!(", {n} connections per round"),
        (n, Some(t)) => format!(", {n} connections per round on {t} threads"),
    };
    let _ = writeln!(
        o,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="16" font-weight="bold">sealwire speed: AES-{}-GCM {} throughput by record size{}</text>"#,
        LEFT + pw / 2.0,
        r.config.key_bits,
        ops.join(" / "),
        esc(&batch)
    );
    let _ = writeln!(
        o,
        r##"<text x="{}" y="42" text-anchor="middle" fill="#444">{} at {:.2} GHz (measured), {}; median of {} runs, bars: interquartile range</text>"##,
        LEFT + pw / 2.0,
        esc(&r.cpu_model),
        r.clock.ghz,
        esc(&r.date),
        super::measure::REPS
    );

    // Grid, ticks and tick labels, with as many decimals as the step needs.
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let mut v = 0.0;
    while v <= ymax + step / 2.0 {
        let yy = y(v);
        let _ = writeln!(
            o,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#e0e0e0"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.decimals$}</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            yy + 4.0,
        );
        v += step;
    }
    // A label too close to the previous one drops to a second line.
    let mut last: Option<(f64, bool)> = None;
    for &s in sizes {
        let xx = x(s);
        let low = matches!(last, Some((lx, false)) if xx - lx < 40.0);
        last = Some((xx, low));
        let _ = writeln!(
            o,
            r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}" stroke="#e0e0e0"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{s}</text>"##,
            TOP + ph,
            TOP + ph + if low { 32.0 } else { 18.0 }
        );
    }
    let _ = writeln!(
        o,
        r#"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        o,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">record size (bytes, log scale)</text>"#,
        LEFT + pw / 2.0,
        H - 16.0
    );
    let _ = writeln!(
        o,
        r#"<text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle">throughput (GB/s = 10^9 bytes/s)</text>"#,
        TOP + ph / 2.0
    );

    // One line per row and operation, with the legend beside the plot.
    let mut entry = 0;
    for res in &r.results {
        let dash = if res.op == Op::Open {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        for (i, (engine, cells)) in res.rows.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<String> = cells
                .iter()
                .zip(sizes)
                .map(|(s, &size)| format!("{:.1},{:.1}", x(size), y(s.median / 1e9)))
                .collect();
            let _ = writeln!(
                o,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
                pts.join(" ")
            );
            for (s, &size) in cells.iter().zip(sizes) {
                let xx = x(size);
                let _ = writeln!(
                    o,
                    r#"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="{color}"/><circle cx="{xx:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                    y(s.q1 / 1e9),
                    y(s.q3 / 1e9),
                    y(s.median / 1e9)
                );
            }
            let ly = TOP + 10.0 + entry as f64 * 20.0;
            let lx = LEFT + pw + 14.0;
            let label = if r.results.len() > 1 {
                format!("{} ({})", engine.label(), res.op.name())
            } else if engine.is_sealwire() {
                engine.label()
            } else {
                format!("{} (peer)", engine.label())
            };
            let _ = writeln!(
                o,
                r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"#,
                lx + 26.0,
                lx + 32.0,
                ly + 4.0,
                esc(&label)
            );
            entry += 1;
        }
    }
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticks_are_round() {
        assert_eq!(super::tick_step(10.0), 2.0);
        assert_eq!(super::tick_step(0.9), 0.2);
        assert_eq!(super::tick_step(26.0), 10.0);
        assert_eq!(super::esc("a<b&\""), "a&lt;b&amp;&quot;");
    }
}
