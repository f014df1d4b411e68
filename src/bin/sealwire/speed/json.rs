//! The `--json` report, written by hand (no serde in the dependency tree).

use super::table::best_ratio;
use super::{versions, Report};
use std::fmt::Write;

/// A JSON string literal (RFC 8259 section 7).
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number; non-finite values (never expected) become null.
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".to_string()
    }
}

fn list<T>(items: impl IntoIterator<Item = T>, f: impl Fn(T) -> String) -> String {
    let v: Vec<String> = items.into_iter().map(f).collect();
    format!("[{}]", v.join(", "))
}

/// Every figure of the run.
pub fn render(r: &Report) -> String {
    let c = &r.config;
    let ghz = r.clock.ghz;
    let mut o = String::new();
    o.push_str("{\n");
    let _ = writeln!(o, "  \"tool\": \"sealwire speed\",");
    let _ = writeln!(o, "  \"command\": {},", string(&r.command));
    let _ = writeln!(o, "  \"date\": {},", string(&r.date));
    let _ = writeln!(
        o,
        "  \"versions\": {{{}}},",
        versions()
            .iter()
            .map(|(n, v)| format!("{}: {}", string(n), string(v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(o, "  \"cpu\": {{");
    let _ = writeln!(o, "    \"model\": {},", string(&r.cpu_model));
    let _ = writeln!(o, "    \"arch\": {},", string(std::env::consts::ARCH));
    let _ = writeln!(
        o,
        "    \"logical_cpus\": {},",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        o,
        "    \"features\": {{{}}}",
        sealwire::cpu::feature_report()
            .iter()
            .map(|(n, ok)| format!("{}: {ok}", string(n)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(o, "  }},");
    let _ = writeln!(o, "  \"clock\": {{");
    let _ = writeln!(o, "    \"ghz\": {},", num(ghz));
    let _ = writeln!(o, "    \"method\": {},", string(&r.clock.method));
    let _ = writeln!(o, "    \"cross_check_ghz\": {},", num(r.clock.check_ghz));
    let _ = writeln!(
        o,
        "    \"samples_ghz\": {}",
        list(&r.clock.samples, |v| num(*v))
    );
    let _ = writeln!(o, "  }},");
    let _ = writeln!(o, "  \"settings\": {{");
    let _ = writeln!(o, "    \"key_bits\": {},", c.key_bits);
    let _ = writeln!(o, "    \"sizes\": {},", list(&c.sizes, |s| s.to_string()));
    let _ = writeln!(o, "    \"connections\": {},", c.connections);
    let _ = writeln!(
        o,
        "    \"threads\": {},",
        c.threads.map_or("null".to_string(), |t| t.to_string())
    );
    let _ = writeln!(o, "    \"seconds_per_cell\": {},", num(c.seconds));
    let _ = writeln!(o, "    \"repetitions\": {},", super::measure::REPS);
    let _ = writeln!(o, "    \"time_base\": {},", string(r.time_base.describe()));
    let _ = writeln!(o, "    \"nonce_bytes\": 12,");
    let _ = writeln!(o, "    \"aad_bytes\": 5,");
    let _ = writeln!(o, "    \"tag_bytes\": 16");
    let _ = writeln!(o, "  }},");
    let _ = writeln!(o, "  \"units\": \"throughput in GB/s = 10^9 payload bytes per second; cycles_per_byte = clock / throughput\",");
    o.push_str("  \"results\": [\n");
    for (i, res) in r.results.iter().enumerate() {
        let _ = writeln!(o, "    {{");
        let _ = writeln!(o, "      \"op\": {},", string(res.op.name()));
        let ratios = best_ratio(res, c.sizes.len());
        let _ = writeln!(
            o,
            "      \"best_sealwire_over_best_peer\": {},",
            list(&ratios, |r| r.map_or("null".to_string(), num))
        );
        o.push_str("      \"rows\": [\n");
        for (j, (engine, cells)) in res.rows.iter().enumerate() {
            let _ = writeln!(o, "        {{");
            let _ = writeln!(o, "          \"name\": {},", string(&engine.label()));
            let _ = writeln!(
                o,
                "          \"kind\": {},",
                string(if engine.is_sealwire() {
                    "sealwire"
                } else {
                    "peer"
                })
            );
            o.push_str("          \"cells\": [\n");
            for (k, (s, size)) in cells.iter().zip(&c.sizes).enumerate() {
                let _ = write!(
                    o,
                    "            {{\"size\": {size}, \"gbps_median\": {}, \"gbps_q1\": {}, \"gbps_q3\": {}, \"cycles_per_byte\": {}, \"iterations_per_sample\": {}, \"samples_gbps\": {}}}",
                    num(s.median / 1e9),
                    num(s.q1 / 1e9),
                    num(s.q3 / 1e9),
                    num(ghz * 1e9 / s.median),
                    s.iters,
                    list(&s.samples, |v| num(v / 1e9))
                );
                o.push_str(if k + 1 < cells.len() { ",\n" } else { "\n" });
            }
            o.push_str("          ]\n");
            o.push_str(if j + 1 < res.rows.len() {
                "        },\n"
            } else {
                "        }\n"
            });
        }
        o.push_str("      ]\n");
        o.push_str(if i + 1 < r.results.len() {
            "    },\n"
        } else {
            "    }\n"
        });
    }
    o.push_str("  ]\n}\n");
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_are_escaped() {
        assert_eq!(super::string("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
        assert_eq!(super::num(f64::NAN), "null");
    }
}
