//! Every NIST CAVP GCM case on every backend this CPU can run.

mod common;

use sealwire::aead::Backend;
use sealwire::cavp::{self, Direction, FILES};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// 7,875 cases in each of the six files.
const EXPECTED_CASES: usize = 6 * 7875;

#[test]
fn vector_files_are_the_published_ones() {
    let want = [
        (
            "gcmDecrypt128.rsp",
            "0d1f98d0c9e176ede1f3e85484dd13de92c3436ca97df378ec3481e04c19a732",
        ),
        (
            "gcmDecrypt192.rsp",
            "ca65640844441d58828e29bff87b7ec4571ef6778f4c331fc06697264edb2ffd",
        ),
        (
            "gcmDecrypt256.rsp",
            "ed318735a517d5a85c82d2846c23dcf56e57a352fb0f0a163d9e7617a7bd12ad",
        ),
        (
            "gcmEncryptExtIV128.rsp",
            "30156236f768b0d81e58a3e5bd3bd79ce294cf9ef0ba0a84cf7b869c89ebd9fd",
        ),
        (
            "gcmEncryptExtIV192.rsp",
            "86827942bf67d1c67f34532bd057adf0a41cd911396a36023d9033f89fc6f571",
        ),
        (
            "gcmEncryptExtIV256.rsp",
            "4448b4998c3f58cd9f5542ddf7c573189a721ff3d3ac24cd5177bb4910a787f8",
        ),
    ];
    for (name, hash) in want {
        let bytes = std::fs::read(dir().join(name)).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), hash, "{name}");
    }
}

#[test]
fn parser_reads_every_case() {
    let mut total = 0;
    let mut fails = 0;
    for name in FILES {
        let file = cavp::load(&dir().join(name)).unwrap();
        assert_eq!(file.cases.len(), file.count_lines, "{name}");
        assert_eq!(file.cases.len(), 7875, "{name}");
        fails += file.cases.iter().filter(|c| c.fail).count();
        total += file.cases.len();
        let dir_expected = if name.contains("Decrypt") {
            Direction::Decrypt
        } else {
            Direction::Encrypt
        };
        assert_eq!(file.direction, dir_expected);
    }
    assert_eq!(total, EXPECTED_CASES);
    assert!(
        fails > 1000,
        "decrypt files hold many FAIL cases, found {fails}"
    );
}

#[test]
fn every_backend_passes_every_case() {
    let backends = common::backends();
    assert!(backends.contains(&Backend::Portable));
    assert!(backends.contains(&Backend::RustCrypto));
    for b in backends {
        let reports = cavp::run_dir(&dir(), b).unwrap();
        let passed: usize = reports.iter().map(|r| r.passed).sum();
        let failed: usize = reports.iter().map(|r| r.failed).sum();
        let first: Vec<_> = reports
            .iter()
            .flat_map(|r| r.failures.clone())
            .take(5)
            .collect();
        assert_eq!(failed, 0, "{b}: {first:?}");
        assert_eq!(passed, EXPECTED_CASES, "{b}");
    }
}

#[test]
fn parser_rejects_a_case_that_contradicts_its_section() {
    let text = "[Keylen = 128]\n[IVlen = 96]\n[PTlen = 0]\n[AADlen = 0]\n[Taglen = 128]\n\n\
                Count = 0\nKey = 00\nIV = 000000000000000000000000\nPT = \nAAD = \nCT = \n\
                Tag = 58e2fccefa7e3061367f1d57a4e7455a\n";
    assert!(cavp::parse(text, Direction::Encrypt).is_err());
}

#[test]
fn parser_rejects_a_case_without_pt_or_fail() {
    let text = "[Keylen = 128]\n[IVlen = 96]\n[PTlen = 0]\n[AADlen = 0]\n[Taglen = 128]\n\n\
                Count = 0\nKey = 00000000000000000000000000000000\nIV = 000000000000000000000000\n\
                CT = \nAAD = \nTag = 58e2fccefa7e3061367f1d57a4e7455a\n";
    assert!(cavp::parse(text, Direction::Decrypt).is_err());
}

#[test]
fn runner_counts_a_wrong_expectation_as_failure() {
    // McGrew-Viega test case 1 with the tag's last byte changed: every backend must fail it.
    let text = "[Keylen = 128]\n[IVlen = 96]\n[PTlen = 0]\n[AADlen = 0]\n[Taglen = 128]\n\n\
                Count = 0\nKey = 00000000000000000000000000000000\nIV = 000000000000000000000000\n\
                PT = \nAAD = \nCT = \nTag = 58e2fccefa7e3061367f1d57a4e7455b\n";
    let file = cavp::parse(text, Direction::Encrypt).unwrap();
    for b in common::backends() {
        assert!(
            cavp::run_case(&file.cases[0], file.direction, b).is_err(),
            "{b}"
        );
    }
    let good = text.replace("455b", "455a");
    let file = cavp::parse(&good, Direction::Encrypt).unwrap();
    for b in common::backends() {
        assert_eq!(
            cavp::run_case(&file.cases[0], file.direction, b),
            Ok(()),
            "{b}"
        );
    }
}
