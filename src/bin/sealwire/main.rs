//! The `sealwire` command line: `backends`, `selftest`, `speed`, `serve`
//! and `connect`, built on the library's public API only.

#![deny(unsafe_code)]

mod speed;
mod tls;

use clap::{Parser, Subcommand};
use sealwire::aead::Backend;
use std::path::PathBuf;
use std::process::ExitCode;

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
        /// Also run this many random cases against the reference backend
        /// (with tampering), plus the counter-wrap cases; single-threaded.
        #[arg(long, default_value_t = 0)]
        differential: usize,
        /// Seed of the random cases.
        #[arg(long, default_value_t = 1)]
        seed: u64,
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
        } => selftest(backend.as_deref(), vectors, differential, seed),
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

fn selftest(
    only: Option<&str>,
    vectors: Option<PathBuf>,
    differential: usize,
    seed: u64,
) -> ExitCode {
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
    for b in backends {
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
        if differential > 0 {
            ok &= differential_check(b, differential, seed);
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Random cases and counter-wrap cases of one backend against the reference.
fn differential_check(b: Backend, cases: usize, seed: u64) -> bool {
    use sealwire::aead::check;
    let random = check::differential(b, cases, seed);
    let wrap = check::counter_wrap(b, seed);
    match (random, wrap) {
        (Ok(n), Ok(w)) => {
            println!(
                "{:<12} {n} random cases and {w} counter-wrap cases match the reference  ok",
                b.name()
            );
            true
        }
        (random, wrap) => {
            for e in [random.err(), wrap.err()].into_iter().flatten() {
                println!("{:<12} FAILED: {e}", b.name());
            }
            false
        }
    }
}
