//! `sealwire speed`: AES-GCM throughput of every backend this CPU can run
//! (and, with `--peers`, of other libraries), side by side.
//!
//! ```text
//!   options ──▶ Config (validated; output files opened first)
//!           ──▶ clock estimate (measure::measure_clock)
//!           ──▶ per op, per record size: one Row per backend/peer,
//!               measured together, round-robin (measure::measure_column)
//!           ──▶ tables on stdout (table), --json (json), --svg (svg)
//! ```

mod json;
mod measure;
#[cfg(feature = "peers")]
mod peers;
mod svg;
mod table;

use measure::{Clock, Engine, Op, Row, RowSpec, Stats};
use sealwire::aead::Backend;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

const DEFAULT_SIZES: &str = "16,64,256,1024,1420,8192,16384";
/// Largest record size accepted: 2^24 bytes.
const MAX_SIZE: usize = 1 << 24;
/// Largest total buffer of one row (connections x size).
const MAX_ROW_BYTES: usize = 1 << 30;

/// Options of `sealwire speed`.
#[derive(clap::Args, Debug)]
pub struct SpeedArgs {
    /// Measure this backend (repeatable; default: every backend this CPU can run).
    #[arg(long = "backend", value_name = "NAME")]
    backend: Vec<String>,
    /// Record sizes in bytes, comma separated (1 to 16777216).
    #[arg(long, value_name = "LIST", default_value = DEFAULT_SIZES, allow_hyphen_values = true)]
    sizes: String,
    /// AES key size in bits: 128 or 256.
    #[arg(
        long,
        value_name = "BITS",
        default_value = "128",
        allow_hyphen_values = true
    )]
    key: String,
    /// What to measure: seal, open or both.
    #[arg(long, value_name = "OP", default_value = "seal")]
    op: String,
    /// Connections per round, each with its own key, one record each (the batch path).
    #[arg(
        long,
        value_name = "N",
        default_value = "1",
        allow_hyphen_values = true
    )]
    connections: String,
    /// Spread each round's connections over N threads (the parallel batch path).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    threads: Option<String>,
    /// Measuring time per table cell, in seconds.
    #[arg(
        long,
        value_name = "S",
        default_value = "0.3",
        allow_hyphen_values = true
    )]
    seconds: String,
    /// Also measure ring, aws-lc-rs, RustCrypto aes-gcm and OpenSSL (needs the `peers` feature).
    #[arg(long)]
    peers: bool,
    /// Write every figure, the CPU, its features and the clock to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a plot of throughput against record size to FILE as SVG.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// The validated options.
#[derive(Debug)]
pub struct Config {
    engines: Vec<Engine>,
    sizes: Vec<usize>,
    key_bits: usize,
    ops: Vec<Op>,
    connections: usize,
    threads: Option<usize>,
    seconds: f64,
}

/// The measurements of one operation: `cells[row][size]`.
#[derive(Debug)]
pub struct Results {
    op: Op,
    rows: Vec<(Engine, Vec<Stats>)>,
}

/// Everything a run found, for the tables, JSON and SVG.
#[derive(Debug)]
pub struct Report {
    config: Config,
    command: String,
    cpu_model: String,
    clock: Clock,
    time_base: measure::TimeBase,
    date: String,
    results: Vec<Results>,
}

/// Runs `sealwire speed`; errors are one line on stderr and a failing exit.
pub fn run(args: SpeedArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("sealwire speed: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

/// An error writing to stdout; a closed pipe (`| head`) ends quietly.
fn io_err(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        String::new()
    } else {
        format!("cannot write to standard output: {e}")
    }
}

fn run_inner(args: SpeedArgs) -> Result<(), String> {
    let config = parse(&args)?;
    // Open the outputs before measuring, so a bad path fails at once.
    let json_out = args.json.as_deref().map(create).transpose()?;
    let svg_out = args.svg.as_deref().map(create).transpose()?;

    let cpu_model = cpu_model();
    let base = measure::TimeBase::choose(config.threads.is_some());
    let clock = measure::measure_clock(base);
    let mut out = std::io::stdout().lock();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    print_header(&mut out, &config, &cpu_model, &clock, base).map_err(io_err)?;

    let pool = match config.threads {
        Some(n) => Some(Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| format!("cannot start {n} threads: {e}"))?,
        )),
        None => None,
    };
    let show_progress = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
    let total = config.ops.len() * config.sizes.len() * measure::REPS;
    let mut done = 0;
    let mut results = Vec::new();
    for &op in &config.ops {
        let mut cells: Vec<Vec<Stats>> = vec![Vec::new(); config.engines.len()];
        for &size in &config.sizes {
            let mut rows = build_rows(&config, op, size, pool.as_ref())?;
            let mut tick = |rep: usize| {
                if show_progress {
                    progress(done + rep, total, op, size);
                }
            };
            let stats = measure::measure_column(base, &mut rows, config.seconds, &mut tick)?;
            done += measure::REPS;
            for (cell, s) in cells.iter_mut().zip(stats) {
                cell.push(s);
            }
        }
        results.push(Results {
            op,
            rows: config.engines.iter().copied().zip(cells).collect(),
        });
    }
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    let report = Report {
        config,
        command,
        cpu_model,
        clock,
        time_base: base,
        date: utc_date(),
        results,
    };
    write!(out, "{}", table::render(&report)).map_err(io_err)?;
    if let Some((path, mut f)) = json_out {
        f.write_all(json::render(&report).as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        writeln!(out, "wrote {}", path.display()).map_err(io_err)?;
    }
    if let Some((path, mut f)) = svg_out {
        f.write_all(svg::render(&report).as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        writeln!(out, "wrote {}", path.display()).map_err(io_err)?;
    }
    Ok(())
}

fn create(path: &Path) -> Result<(PathBuf, File), String> {
    File::create(path)
        .map(|f| (path.to_path_buf(), f))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Builds one row per engine for a column, and checks they all compute the
/// same ciphertext and tag.
fn build_rows(
    config: &Config,
    op: Op,
    size: usize,
    pool: Option<&Arc<rayon::ThreadPool>>,
) -> Result<Vec<Row>, String> {
    let key: Vec<u8> = (0..config.key_bits / 8)
        .map(|i| (i * 17 + 1) as u8)
        .collect();
    let mut rows = config
        .engines
        .iter()
        .map(|&engine| {
            Row::new(&RowSpec {
                engine,
                key: key.clone(),
                size,
                op,
                connections: config.connections,
                pool: pool.cloned(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut reference: Option<(String, Vec<u8>)> = None;
    for row in &mut rows {
        let fp = row.fingerprint()?;
        match &reference {
            None => reference = Some((row.engine.label(), fp)),
            Some((name, r)) if *r != fp => {
                return Err(format!(
                "{} and {name} disagree on a {size}-byte record: refusing to time a wrong result",
                row.engine.label()
            ))
            }
            Some(_) => {}
        }
    }
    Ok(rows)
}

fn parse(args: &SpeedArgs) -> Result<Config, String> {
    let mut engines = Vec::new();
    if args.backend.is_empty() {
        engines.extend(Backend::available().into_iter().map(Engine::Sealwire));
    }
    for name in &args.backend {
        let b = Backend::from_name(name).ok_or_else(|| {
            let names: Vec<_> = Backend::ALL.iter().map(|b| b.name()).collect();
            format!("unknown backend {name:?} (known: {})", names.join(", "))
        })?;
        if !b.is_available() {
            return Err(format!("this CPU cannot run the {name} backend"));
        }
        if !engines.contains(&Engine::Sealwire(b)) {
            engines.push(Engine::Sealwire(b));
        }
    }
    if args.peers {
        add_peers(&mut engines)?;
    }

    let mut sizes = Vec::new();
    for s in args.sizes.split(',').map(str::trim) {
        let n: usize = s
            .parse()
            .map_err(|_| format!("--sizes: {s:?} is not a number of bytes"))?;
        if n == 0 || n > MAX_SIZE {
            return Err(format!(
                "--sizes: {n} is out of range (1 to {MAX_SIZE} bytes)"
            ));
        }
        if !sizes.contains(&n) {
            sizes.push(n);
        }
    }
    sizes.sort_unstable();

    let key_bits = match args.key.as_str() {
        "128" => 128,
        "256" => 256,
        other => return Err(format!("--key: {other:?} is not 128 or 256")),
    };
    let ops = match args.op.as_str() {
        "seal" => vec![Op::Seal],
        "open" => vec![Op::Open],
        "both" => vec![Op::Seal, Op::Open],
        other => return Err(format!("--op: {other:?} is not seal, open or both")),
    };
    let count = |flag: &str, s: &str, max: usize| -> Result<usize, String> {
        match s.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "--{flag}: {s:?} is not a whole number from 1 to {max}"
            )),
        }
    };
    let connections = count("connections", &args.connections, 1 << 20)?;
    let threads = args
        .threads
        .as_deref()
        .map(|s| count("threads", s, 1024))
        .transpose()?;
    let max_size = sizes.last().copied().unwrap_or(0);
    if connections.saturating_mul(max_size) > MAX_ROW_BYTES {
        return Err(format!(
            "--connections {connections} x {max_size}-byte records needs more than {} MiB per row",
            MAX_ROW_BYTES >> 20
        ));
    }
    let seconds: f64 = match args.seconds.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => s,
        _ => {
            return Err(format!(
                "--seconds: {:?} is not a time from above 0 to 3600",
                args.seconds
            ))
        }
    };
    Ok(Config {
        engines,
        sizes,
        key_bits,
        ops,
        connections,
        threads,
        seconds,
    })
}

#[cfg(feature = "peers")]
fn add_peers(engines: &mut Vec<Engine>) -> Result<(), String> {
    engines.extend(peers::Peer::ALL.into_iter().map(Engine::Peer));
    Ok(())
}

#[cfg(not(feature = "peers"))]
fn add_peers(_: &mut Vec<Engine>) -> Result<(), String> {
    Err("--peers needs a build with the peers feature: cargo run --release --features peers -- speed --peers".to_string())
}

/// Versions of what was measured, for the header and the JSON.
fn versions() -> Vec<(String, String)> {
    #[allow(unused_mut)]
    let mut v = vec![(
        "sealwire".to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
    )];
    #[cfg(feature = "peers")]
    v.extend(
        peers::Peer::ALL
            .into_iter()
            .map(|p| (p.name().to_string(), p.version())),
    );
    v
}

fn print_header(
    out: &mut dyn Write,
    config: &Config,
    cpu_model: &str,
    clock: &Clock,
    base: measure::TimeBase,
) -> std::io::Result<()> {
    let ops: Vec<_> = config.ops.iter().map(|o| o.name()).collect();
    writeln!(
        out,
        "sealwire speed: how fast each AES-GCM backend{} on this CPU can {} TLS records (AES-{}, GB/s by record size)",
        if config.engines.iter().any(|e| !e.is_sealwire()) {
            " and peer library"
        } else {
            ""
        },
        ops.join(" and "),
        config.key_bits,
    )?;
    let (batch, path) = match (config.connections, config.threads) {
        (1, None) => ("one record per call".to_string(), None),
        (n, None) => (
            format!("one record per connection per round, {n} connections (own keys)"),
            Some("sealwire rows: one aead::seal_batch/open_batch call per round; peers: a loop over the connections"),
        ),
        (n, Some(t)) => (
            format!("one record per connection per round, {n} connections (own keys) on {t} threads"),
            Some("sealwire rows: aead::seal_batch_parallel/open_batch_parallel; peers: rayon over the connections"),
        ),
    };
    writeln!(
        out,
        "  {batch}, 12-byte nonce, 5-byte TLS 1.3 header as AAD, 16-byte tag"
    )?;
    if let Some(path) = path {
        writeln!(out, "  {path}")?;
    }
    writeln!(
        out,
        "  {} s per cell: warm-up, then {} runs alternating between rows; median shown; timed by {}",
        config.seconds,
        measure::REPS,
        base.describe()
    )?;
    let feats: Vec<_> = sealwire::cpu::feature_report()
        .into_iter()
        .filter(|&(_, ok)| ok)
        .map(|(n, _)| n)
        .collect();
    writeln!(
        out,
        "  cpu: {cpu_model} ({}), features: {}",
        std::env::consts::ARCH,
        feats.join(" ")
    )?;
    writeln!(out, "  clock: {:.2} GHz, {}", clock.ghz, clock.method)?;
    let agree = (clock.check_ghz / clock.ghz - 1.0).abs() < 0.03;
    writeln!(
        out,
        "         cross-check: a multiply-xor chain (4 cycles a step on x86_64) gives {:.2} GHz{}",
        clock.check_ghz,
        if agree {
            ""
        } else {
            " (disagrees: treat cycles per byte with care)"
        }
    )?;
    let v: Vec<_> = versions()
        .into_iter()
        .map(|(n, v)| format!("{n} {v}"))
        .collect();
    writeln!(out, "  versions: {}", v.join(", "))?;
    writeln!(out)?;
    out.flush()
}

fn progress(done: usize, total: usize, op: Op, size: usize) {
    const WIDTH: usize = 30;
    let filled = done * WIDTH / total.max(1);
    eprint!(
        "\r\x1b[2K[{}{}] {:>3}%  {} {size} B",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        done * 100 / total.max(1),
        op.name()
    );
}

/// The CPU model from /proc/cpuinfo, or "unknown".
fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    ["model name", "Model", "Hardware", "CPU part"]
        .iter()
        .find_map(|key| {
            info.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Today's UTC date and time as `YYYY-MM-DD HH:MM UTC` (civil-from-days of
/// the proleptic Gregorian calendar).
fn utc_date() -> String {
    date_of(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

/// `secs` after the Unix epoch as `YYYY-MM-DD HH:MM UTC`.
fn date_of(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date_of(0), "1970-01-01 00:00 UTC");
        assert_eq!(date_of(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(date_of(1_795_757_400), "2026-11-27 05:30 UTC");
    }

    fn args(extra: &[&str]) -> SpeedArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            a: SpeedArgs,
        }
        Wrap::parse_from(std::iter::once("speed").chain(extra.iter().copied())).a
    }

    #[test]
    fn defaults_measure_every_available_backend() {
        let c = parse(&args(&[])).unwrap();
        let want: Vec<_> = Backend::available()
            .into_iter()
            .map(Engine::Sealwire)
            .collect();
        assert_eq!(c.engines, want);
        assert_eq!(c.sizes, [16, 64, 256, 1024, 1420, 8192, 16384]);
        assert_eq!(
            (c.key_bits, c.ops.clone(), c.connections),
            (128, vec![Op::Seal], 1)
        );
    }

    #[test]
    fn sizes_sorted_deduplicated_and_bounded() {
        let c = parse(&args(&["--sizes", "64, 16,64,16777216"])).unwrap();
        assert_eq!(c.sizes, [16, 64, 1 << 24]);
        assert!(parse(&args(&["--sizes", "16777217"])).is_err());
        assert!(parse(&args(&["--sizes", "0"])).is_err());
    }

    #[test]
    fn repeated_backend_counts_once() {
        let c = parse(&args(&["--backend", "portable", "--backend", "portable"])).unwrap();
        assert_eq!(c.engines, [Engine::Sealwire(Backend::Portable)]);
    }
}
