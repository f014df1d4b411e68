//! Helpers shared by the integration tests, one of each:
//!
//! - this file: deterministic random data, the backends to test (with a loud
//!   line for each one this CPU cannot run), seal and open at an alignment
//!   offset (the buffer checks of `sealwire::aead::check`), test lengths;
//! - [`pki`]: a CA and a leaf certificate made with the `openssl` command
//!   line, and the loud skip when that command is missing;
//! - [`key_pki`]: certificate chains for every key type (EC P-256/P-384/P-521,
//!   Ed25519, RSA) in every PEM form OpenSSL writes;
//! - [`handshake`]: two handshake state machines driven against each other
//!   in memory;
//! - [`interop`]: child processes (`openssl s_client`/`s_server`, `sealwire
//!   serve`/`connect`) with captured output and deadlines, free ports,
//!   readiness from /proc/net/tcp, and test data.
//!
//! Each test binary compiles the whole tree and uses part of it.
#![allow(dead_code)]

pub mod handshake;
pub mod interop;
pub mod key_pki;
pub mod pki;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sealwire::aead::{check, AesGcm, Backend};
use std::io::Write;

/// A deterministic generator, so a failure reproduces.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn bytes(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill(&mut v[..]);
    v
}

/// Writes one line to the test process's standard error directly.
///
/// libtest captures `eprintln!` of a passing test and shows it only with
/// `--nocapture`; a skipped check must be visible in every run, so this
/// writes to the stderr handle, which the capture does not intercept.
pub fn loud(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// Says loudly that `what` does not run here, and why.
pub fn skipped(what: &str, why: &str) {
    loud(&format!("SKIPPED: {what}: {why}"));
}

/// Whether `backend` is one of this architecture's (neon on aarch64, the
/// x86 backends on x86_64, the software ones everywhere).
fn native(backend: Backend) -> bool {
    match backend {
        Backend::Portable | Backend::RustCrypto => true,
        Backend::Neon => cfg!(target_arch = "aarch64"),
        _ => cfg!(target_arch = "x86_64"),
    }
}

/// The backends this CPU runs, in `Backend::ALL` order, for tests that
/// iterate over every backend. Each backend left out is named on stderr
/// with the features the CPU lacks, so a test never passes silently on a
/// subset.
pub fn backends() -> Vec<Backend> {
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    let lacking: Vec<&str> = sealwire::cpu::feature_report()
        .into_iter()
        .filter(|&(_, found)| !found)
        .map(|(name, _)| name)
        .collect();
    let mut out = Vec::new();
    for b in Backend::ALL {
        if b.is_available() {
            out.push(b);
        } else if native(b) {
            loud(&format!(
                "SKIPPED on this CPU: {test} on {b}: {b} not available (features not found: {})",
                lacking.join(", ")
            ));
        } else {
            loud(&format!(
                "SKIPPED on this CPU: {test} on {b}: {b} is not a backend of {}",
                std::env::consts::ARCH
            ));
        }
    }
    assert!(
        out.contains(&Backend::Portable),
        "the portable backend runs everywhere"
    );
    out
}

/// Seals `pt` with `backend`, working on a buffer that starts `offset` bytes
/// into its allocation, so every alignment is exercised; panics if anything
/// outside the message is written.
pub fn seal_at(
    backend: Backend,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    pt: &[u8],
    offset: usize,
) -> (Vec<u8>, [u8; 16]) {
    let k = AesGcm::with_backend(key, backend).unwrap();
    check::seal_at(&k, nonce, aad, pt, offset).unwrap_or_else(|e| panic!("{backend}: {e}"))
}

/// Opens at an alignment offset; the plaintext or the error. Panics if
/// anything outside the message is written.
pub fn open_at(
    backend: Backend,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
    offset: usize,
) -> Result<Vec<u8>, sealwire::aead::Error> {
    let k = AesGcm::with_backend(key, backend).unwrap();
    let (buf, res) = check::open_at(&k, nonce, aad, ct, tag, offset)
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
    res.map(|()| buf)
}

/// Plaintext lengths: every length 0..=300, then random ones up to 4100,
/// including multiples of common kernel strides and their neighbours.
pub fn lengths(rng: &mut ChaCha8Rng, random: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..=300).collect();
    for stride in [128usize, 192, 256] {
        for k in 1..=4 {
            v.extend([k * stride - 1, k * stride, k * stride + 1]);
        }
    }
    v.extend([4095, 4096, 4097, 4100]);
    for _ in 0..random {
        v.push(rng.gen_range(0..=4100));
    }
    v
}

/// A connected pair of Unix sockets whose reads and writes give up after
/// 30 seconds, so that a stuck peer fails the test instead of hanging it.
pub fn socket_pair() -> (
    std::os::unix::net::UnixStream,
    std::os::unix::net::UnixStream,
) {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        s.set_write_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
    }
    (a, b)
}
