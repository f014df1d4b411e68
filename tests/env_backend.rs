//! `SEALWIRE_BACKEND` forces the backend of `AesGcm::new`; an unknown or
//! unavailable name is an error, never a silent fallback. The variable is
//! read once per process, so each value is tried in a child process: this
//! test binary run again with the variable set and only [`child`] selected.

mod common;

use sealwire::aead::{AesGcm, Backend, Error};
use std::process::Command;

/// What the child is told to expect: a backend name, or `error:` and the
/// `Debug` form of the error.
const EXPECT: &str = "SEALWIRE_TEST_EXPECT";

/// Runs [`child`] in a new process with `SEALWIRE_BACKEND` set to `value`
/// (removed when `None`), expecting `want`.
fn run_child(value: Option<&str>, want: &str) {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args(["--exact", "child", "--nocapture", "--test-threads=1"]);
    cmd.env(EXPECT, want);
    match value {
        Some(v) => cmd.env("SEALWIRE_BACKEND", v),
        None => cmd.env_remove("SEALWIRE_BACKEND"),
    };
    let out = cmd.output().expect("run the child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "SEALWIRE_BACKEND={value:?}, expecting {want}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sealwire_backend_variable() {
    run_child(None, Backend::best().name());
    run_child(Some(""), Backend::best().name());
    for b in common::backends() {
        run_child(Some(b.name()), b.name());
    }
    run_child(
        Some("no-such-backend"),
        &format!(
            "error:{:?}",
            Error::UnknownBackend("no-such-backend".into())
        ),
    );
    for b in Backend::ALL.into_iter().filter(|b| !b.is_available()) {
        run_child(
            Some(b.name()),
            &format!("error:{:?}", Error::Unavailable(b)),
        );
    }
}

/// The child's side: checks `AesGcm::new` (twice, two key sizes: the choice
/// stays) against
/// what the parent expects. Run alone (outside [`sealwire_backend_variable`])
/// it only says so.
#[test]
fn child() {
    let Ok(want) = std::env::var(EXPECT) else {
        eprintln!(
            "child: run by sealwire_backend_variable with {EXPECT} set; nothing to check alone"
        );
        return;
    };
    for key in [&[1u8; 16][..], &[2u8; 32][..]] {
        let got = match AesGcm::new(key) {
            Ok(k) => k.backend().name().to_string(),
            Err(e) => format!("error:{e:?}"),
        };
        assert_eq!(got, want);
    }
}
