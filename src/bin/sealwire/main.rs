//! The `sealwire` command line: `backends`, `selftest`, `speed`, `serve`
//! and `connect`, built on the library's public API only.

#![deny(unsafe_code)]

mod speed;
mod tls;

use clap::{Parser, Subcommand};
use sealwire::aead::check::differential::{self, CaseId, Config};
use sealwire::aead::Backend;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "sealwire",
    version,
    about = "TLS record-layer crypto engine: AES-GCM backends, records, handshake"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the AES-GCM backends this CPU can run and the CPU features detected.
    Backends,
    /// Run every NIST CAVP vector on every available backend (or the one named).
    Selftest {
        /// Only this backend.
        #[arg(long)]
        backend: Option<String>,
        /// Folder with the .rsp files (default: ./vectors or the source tree's).
        #[arg(long)]
        vectors: Option<PathBuf>,
        /// Also run N random cases per backend, each sealed and opened by
        /// every backend and by the aes-gcm crate and aws-lc-rs (with a
        /// truncated tag and a flipped bit), N/8 per backend through the
        /// batch path, and the counter-wrap cases.
        #[arg(long, default_value_t = 0, value_name = "N")]
        differential: u64,
        /// Seed of the random cases (default: a fresh one, printed).
        #[arg(long)]
        seed: Option<u64>,
        /// Threads of the differential check (default: every core; 1 runs
        /// on the main thread only).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Rerun only this single-message case of --seed (as a mismatch
        /// report names it).
        #[arg(long, value_name = "INDEX", conflicts_with = "batch_case")]
        case: Option<u64>,
        /// Rerun only this batch case of --seed.
        #[arg(long, value_name = "INDEX")]
        batch_case: Option<u64>,
    },
    /// Measure AES-GCM throughput of every backend (and, with --peers, other libraries).
    Speed(speed::SpeedArgs),
    /// TLS server: handshake, then echo each connection's data until close_notify.
    Serve(tls::ServeArgs),
    /// TLS client: stdin to the peer, the peer's data to stdout, close_notify at EOF.
    Connect(tls::ConnectArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Backends => backends(),
        Command::Selftest {
            backend,
            vectors,
            differential,
            seed,
            threads,
            case,
            batch_case,
        } => {
            let replay = match (case, batch_case) {
                (Some(i), _) => Some(CaseId::Single(i)),
                (_, Some(i)) => Some(CaseId::Batch(i)),
                _ => None,
            };
            let diff = Differential {
                per_backend: differential,
                seed,
                threads,
                replay,
            };
            selftest(backend.as_deref(), vectors, &diff)
        }
        Command::Speed(args) => speed::run(args),
        Command::Serve(args) => tls::serve(args),
        Command::Connect(args) => tls::connect(args),
    }
}

fn parse_backend(name: &str) -> Result<Backend, String> {
    let b = Backend::from_name(name).ok_or_else(|| {
        let names: Vec<_> = Backend::ALL.iter().map(|b| b.name()).collect();
        format!("unknown backend {name:?} (known: {})", names.join(", "))
    })?;
    if !b.is_available() {
        return Err(format!("this CPU cannot run the {name} backend"));
    }
    Ok(b)
}

fn backends() -> ExitCode {
    let best = Backend::best();
    println!("backends this CPU can run (fastest first):");
    for b in Backend::available() {
        let mark = if b == best { "  (default)" } else { "" };
        println!("  {}{mark}", b.name());
    }
    let missing: Vec<_> = Backend::ALL
        .iter()
        .filter(|b| !b.is_available())
        .map(|b| b.name())
        .collect();
    if !missing.is_empty() {
        println!("not available here: {}", missing.join(", "));
    }
    println!("cpu features ({}):", std::env::consts::ARCH);
    for (name, ok) in sealwire::cpu::feature_report() {
        println!("  {name:<11} {}", if ok { "yes" } else { "no" });
    }
    ExitCode::SUCCESS
}

/// What `selftest` runs beyond the NIST vectors.
struct Differential {
    /// Random cases per backend (0: none).
    per_backend: u64,
    seed: Option<u64>,
    threads: Option<usize>,
    /// Rerun only this case.
    replay: Option<CaseId>,
}

fn selftest(only: Option<&str>, vectors: Option<PathBuf>, diff: &Differential) -> ExitCode {
    let backends = match only {
        Some(name) => match parse_backend(name) {
            Ok(b) => vec![b],
            Err(e) => {
                eprintln!("sealwire: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => Backend::available(),
    };
    let dir = vectors.unwrap_or_else(sealwire::cavp::default_dir);
    let mut ok = true;
    for &b in &backends {
        match sealwire::cavp::run_dir(&dir, b) {
            Ok(reports) => {
                let passed: usize = reports.iter().map(|r| r.passed).sum();
                let failed: usize = reports.iter().map(|r| r.failed).sum();
                let status = if failed == 0 { "ok" } else { "FAILED" };
                println!(
                    "{:<12} {passed} NIST cases passed, {failed} failed ({} files)  {status}",
                    b.name(),
                    reports.len()
                );
                for r in &reports {
                    for (line, why) in &r.failures {
                        println!("  {}:{line}: {why}", r.file);
                    }
                }
                ok &= failed == 0 && passed > 0;
            }
            Err(e) => {
                eprintln!("sealwire: {}: {e}", b.name());
                ok = false;
            }
        }
    }
    if diff.per_backend > 0 || diff.replay.is_some() {
        ok &= differential_check(&backends, only, diff);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The counter-wrap cases of each backend, then the random cases on all of
/// them at once (or the one case to replay).
fn differential_check(backends: &[Backend], only: Option<&str>, diff: &Differential) -> bool {
    use sealwire::aead::check;
    let seed = diff.seed.unwrap_or_else(fresh_seed);
    let threads = diff
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let n = backends.len() as u64;
    let cfg = Config {
        backends: backends.to_vec(),
        cases: diff.per_backend * n,
        batch_cases: diff.per_backend.div_ceil(8) * n,
        seed,
        threads,
    };
    let names: Vec<&str> = backends.iter().map(|b| b.name()).collect();
    let again = match only {
        Some(name) => format!("--backend {name} --seed {seed}"),
        None => format!("--seed {seed}"),
    };
    if let Some(case) = diff.replay {
        println!(
            "differential: replaying {case:?} of seed {seed} on {}",
            names.join(", ")
        );
        return match differential::replay(&cfg, case) {
            Ok(()) => {
                println!("differential: {case:?} matches  ok");
                true
            }
            Err(m) => {
                println!("differential: MISMATCH in {case:?}: {}", m.report);
                false
            }
        };
    }

    let mut ok = true;
    for &b in backends {
        match check::counter_wrap(b, seed) {
            Ok(w) => println!(
                "{:<12} {w} counter-wrap cases match CTR with a 32-bit counter  ok",
                b.name()
            ),
            Err(e) => {
                println!("{:<12} FAILED: {e}", b.name());
                ok = false;
            }
        }
    }

    println!(
        "differential: seed {seed}, {} cases ({} per backend) and {} batch cases on {} ({threads} threads); \
         each sealed and opened by the backends (portable on 1 case in {}) and by the aes-gcm crate and aws-lc-rs where they take the IV",
        cfg.cases,
        diff.per_backend,
        cfg.batch_cases,
        names.join(", "),
        differential::SLOW_EVERY,
    );
    let start = Instant::now();
    let cpu_start = cpu_time::ProcessTime::try_now().ok();
    let progress = Progress::new(std::io::stderr().is_terminal(), start);
    let summary = match differential::run(&cfg, &|done, total| progress.show(done, total)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sealwire: differential: {e}");
            return false;
        }
    };
    progress.clear();
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_start
        .map(|t| format!(", {:.1} s CPU", t.elapsed().as_secs_f64()))
        .unwrap_or_default();
    let pct = |part: u64| 100.0 * part as f64 / summary.cases.max(1) as f64;
    println!(
        "differential: {} cases ({:.0}% also by the aes-gcm crate, {:.0}% by aws-lc-rs, {} counter wraps, \
         {:.1} MB of text), {} batch cases ({} jobs): {} mismatches in {secs:.1} s{cpu}, {:.0} cases/s",
        summary.cases,
        pct(summary.by_aes_gcm),
        pct(summary.by_aws_lc),
        summary.wraps,
        summary.text_bytes as f64 / 1e6,
        summary.batch_cases,
        summary.batch_jobs,
        summary.mismatches.len(),
        (summary.cases + summary.batch_cases) as f64 / secs.max(1e-9),
    );
    for &(b, cases, jobs) in &summary.per_backend {
        println!(
            "{:<12} {cases} cases and {jobs} batch jobs matched the references and each other",
            b.name()
        );
    }
    for m in &summary.mismatches {
        let flag = match m.case {
            CaseId::Single(i) => format!("--case {i}"),
            CaseId::Batch(i) => format!("--batch-case {i}"),
        };
        println!(
            "differential: MISMATCH (replay: sealwire selftest {again} {flag}): {}",
            m.report
        );
    }
    let complete = summary.cases == cfg.cases && summary.batch_cases == cfg.batch_cases;
    ok &= summary.mismatches.is_empty() && complete;
    println!("differential: {}", if ok { "ok" } else { "FAILED" });
    ok
}

/// A seed nobody chose: the clock and the process id.
fn fresh_seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_ok() {
        return u64::from_le_bytes(b);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ u64::from(std::process::id()).rotate_left(32)
}

/// A progress line on stderr, redrawn at most every 200 ms, only when
/// stderr is a terminal.
struct Progress {
    on: bool,
    start: Instant,
    last: Mutex<Option<Instant>>,
}

impl Progress {
    fn new(on: bool, start: Instant) -> Progress {
        Progress {
            on,
            start,
            last: Mutex::new(None),
        }
    }

    fn show(&self, done: u64, total: u64) {
        if !self.on {
            return;
        }
        // Another thread drawing: skip this update.
        let Ok(mut last) = self.last.try_lock() else {
            return;
        };
        let now = Instant::now();
        if last.is_some_and(|t| now - t < Duration::from_millis(200)) && done < total {
            return;
        }
        *last = Some(now);
        let secs = (now - self.start).as_secs_f64().max(1e-9);
        let rate = done as f64 / secs;
        let eta = (total - done) as f64 / rate.max(1e-9);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[Kdifferential: {done}/{total} ({:.1}%), {rate:.0} cases/s, {secs:.0} s, about {eta:.0} s left",
            100.0 * done as f64 / total.max(1) as f64
        );
        let _ = err.flush();
    }

    fn clear(&self) {
        if self.on {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
