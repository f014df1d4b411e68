//! `sealwire speed` from the outside: bad options give one line on stderr
//! and a failing exit (never a panic); tiny runs produce the tables, JSON
//! and SVG with every available backend.

mod common;

use sealwire::aead::Backend;
use std::path::PathBuf;
use std::process::{Command, Output};

fn speed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sealwire"))
        .arg("speed")
        .args(args)
        .output()
        .expect("run sealwire")
}

/// Asserts a failing exit with exactly one line on stderr containing `what`.
fn fails_with(args: &[&str], what: &str) {
    let out = speed(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err:?}");
    assert!(err.starts_with("sealwire speed: "), "{args:?}: {err}");
    assert!(err.contains(what), "{args:?}: {err:?} lacks {what:?}");
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sealwire-cli-speed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn unknown_backend() {
    fails_with(
        &["--backend", "turbo", "--seconds", "0.01"],
        "unknown backend \"turbo\"",
    );
}

#[test]
fn unavailable_backend() {
    let missing = Backend::ALL.into_iter().find(|b| !b.is_available());
    // neon and the x86 backends exclude each other, so one is always missing.
    let b = missing.expect("some backend is unavailable on every CPU");
    fails_with(
        &["--backend", b.name(), "--seconds", "0.01"],
        &format!("cannot run the {} backend", b.name()),
    );
}

#[test]
fn bad_sizes() {
    fails_with(&["--sizes", "0", "--seconds", "0.01"], "out of range");
    fails_with(
        &["--sizes", "16,16777217", "--seconds", "0.01"],
        "out of range",
    );
    fails_with(&["--sizes", "16,abc", "--seconds", "0.01"], "not a number");
    fails_with(&["--sizes", "", "--seconds", "0.01"], "not a number");
}

#[test]
fn bad_numbers() {
    fails_with(&["--key", "192"], "--key");
    fails_with(&["--op", "encrypt"], "--op");
    fails_with(&["--seconds", "0"], "--seconds");
    fails_with(&["--seconds", "nan"], "--seconds");
    fails_with(&["--connections", "0"], "--connections");
    fails_with(&["--threads", "-2"], "--threads");
    fails_with(
        &["--connections", "100000", "--sizes", "16384"],
        "MiB per row",
    );
}

#[test]
fn unwritable_outputs() {
    let bad = tmp("no-such-dir").join("x").join("out.json");
    let bad = bad.to_str().unwrap();
    fails_with(&["--seconds", "0.01", "--json", bad], "cannot write");
    fails_with(&["--seconds", "0.01", "--svg", bad], "cannot write");
}

#[test]
fn peers_flag() {
    if cfg!(feature = "peers") {
        let out = speed(&["--peers", "--sizes", "64", "--seconds", "0.01"]);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        for name in ["ring", "aws-lc-rs", "aes-gcm", "openssl", "sealwire/peer"] {
            assert!(text.contains(name), "{name} missing:\n{text}");
        }
    } else {
        fails_with(&["--peers", "--seconds", "0.01"], "--features peers");
    }
}

#[test]
fn tiny_run_writes_tables_json_and_svg() {
    let (json, svg) = (tmp("run.json"), tmp("run.svg"));
    let out = speed(&[
        "--sizes",
        "16,100",
        "--op",
        "both",
        "--seconds",
        "0.01",
        "--json",
        json.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "progress bar without a terminal");
    assert!(text.starts_with("sealwire speed: how fast each AES-GCM backend"));
    assert!(text
        .lines()
        .next()
        .unwrap()
        .contains("seal and open TLS records (AES-128"));
    assert!(text.contains("seal: GB/s") && text.contains("open: cycles per byte"));
    assert!(text.contains("clock: "));
    let json = std::fs::read_to_string(&json).unwrap();
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(json.starts_with('{') && json.trim_end().ends_with('}'));
    assert_eq!(json.matches('{').count(), json.matches('}').count());
    assert_eq!(json.matches('[').count(), json.matches(']').count());
    assert!(json.contains("\"ghz\": ") && json.contains("\"model\": "));
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("record size (bytes, log scale)"));
    for b in common::backends() {
        assert!(
            text.contains(b.name()),
            "{} missing from the table",
            b.name()
        );
        assert!(json.contains(&format!("\"name\": \"{}\"", b.name())));
        assert!(svg.contains(b.name()), "{} missing from the plot", b.name());
        // Two ops, one row each, two sizes, nine samples per cell.
        assert_eq!(
            json.matches(&format!("\"name\": \"{}\"", b.name())).count(),
            2
        );
    }
    assert_eq!(
        json.matches("\"gbps_median\"").count(),
        common::backends().len() * 2 * 2
    );
}

#[test]
fn batch_path_with_threads() {
    let out = speed(&[
        "--backend",
        "portable",
        "--sizes",
        "64",
        "--connections",
        "4",
        "--threads",
        "2",
        "--key",
        "256",
        "--op",
        "both",
        "--seconds",
        "0.01",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.lines().next().unwrap().contains("(AES-256,"));
    assert!(text.contains("4 connections (own keys) on 2 threads"));
    assert!(text.contains("portable"));
}

#[test]
fn batch_path_every_backend() {
    let out = speed(&[
        "--sizes",
        "16,200",
        "--connections",
        "5",
        "--op",
        "both",
        "--seconds",
        "0.01",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("5 connections (own keys)"));
    assert!(text.contains("aead::seal_batch/open_batch"));
    for b in common::backends() {
        assert_eq!(
            text.matches(b.name()).count(),
            4,
            "{} rows:\n{text}",
            b.name()
        );
    }
}
