//! `scripts/check-backends.sh`: the backends `sealwire backends` lists
//! against the flags in a cpuinfo file. It passes on this machine, and it
//! fails when the cpuinfo shows a backend's flags but the list lacks it
//! (a faked cpuinfo of the other architecture, or a faked `sealwire` whose
//! detection misses a backend).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check(cpuinfo: &Path, bin: &Path) -> Output {
    Command::new("bash")
        .arg(root().join("scripts/check-backends.sh"))
        .arg(cpuinfo)
        .env("SEALWIRE_BIN", bin)
        .output()
        .expect("run bash")
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sealwire() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sealwire"))
}

/// A stand-in for `sealwire` whose `backends` output lists `available` and
/// names `missing` as not available, in sealwire's format.
fn fake_sealwire(dir: &Path, available: &[&str], missing: &[&str]) -> PathBuf {
    let mut out = String::from("backends this CPU can run (fastest first):\n");
    for (i, b) in available.iter().enumerate() {
        out += &format!("  {b}{}\n", if i == 0 { "  (default)" } else { "" });
    }
    if !missing.is_empty() {
        out += &format!("not available here: {}\n", missing.join(", "));
    }
    out += "cpu features (x86_64):\n  aes         yes\n";
    let path = dir.join("sealwire");
    std::fs::write(&path, format!("#!/bin/sh\ncat <<'END'\n{out}END\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn this_machine_lists_every_backend_its_cpu_supports() {
    let cpuinfo = Path::new("/proc/cpuinfo");
    if !cpuinfo.exists() {
        common::skipped(
            "check-backends on this machine",
            "no /proc/cpuinfo (not Linux)",
        );
        return;
    }
    let out = check(cpuinfo, &sealwire());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("check-backends: ok"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_cpu_of_the_other_architecture_fails_the_check() {
    // The real sealwire lists no backend of the other architecture, whose
    // faked cpuinfo has every flag of it.
    let (fake, backend) = if cfg!(target_arch = "x86_64") {
        ("cpuinfo-aarch64.txt", "neon")
    } else if cfg!(target_arch = "aarch64") {
        ("cpuinfo-x86_64.txt", "aesni-clmul")
    } else {
        common::skipped(
            "check-backends against another architecture",
            "this architecture has no SIMD backend",
        );
        return;
    };
    let out = check(&root().join("tests/data").join(fake), &sealwire());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("FAIL {backend}:")), "{}", text(&out));
}

#[test]
fn a_detection_that_misses_a_backend_fails_the_check() {
    let dir = common::pki::temp_dir("check-backends");
    let cpuinfo = root().join("tests/data/cpuinfo-x86_64.txt");

    let all = fake_sealwire(
        &dir,
        &["vaes-avx2", "aesni-clmul", "rustcrypto", "portable"],
        &["neon"],
    );
    let out = check(&cpuinfo, &all);
    assert!(out.status.success(), "{}", text(&out));
    // vaes-avx512 is not a backend yet: named, not checked.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("vaes-avx512: not a backend of this build"),
        "{}",
        text(&out)
    );

    let hidden = fake_sealwire(
        &dir,
        &["aesni-clmul", "rustcrypto", "portable"],
        &["vaes-avx2", "neon"],
    );
    let out = check(&cpuinfo, &hidden);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FAIL vaes-avx2:"), "{}", text(&out));
    assert!(!err.contains("FAIL aesni-clmul"), "{}", text(&out));

    // A cpuinfo without vpclmulqdq: vaes-avx2 is rightly absent.
    let no_vpclmul = dir.join("cpuinfo-no-vpclmulqdq.txt");
    let faked = std::fs::read_to_string(&cpuinfo)
        .unwrap()
        .replace(" vpclmulqdq", "");
    std::fs::write(&no_vpclmul, faked).unwrap();
    let out = check(&no_vpclmul, &hidden);
    assert!(out.status.success(), "{}", text(&out));
    let _ = std::fs::remove_dir_all(dir);
}
