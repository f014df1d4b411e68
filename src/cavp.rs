//! NIST CAVP GCM vector files (`gcmEncryptExtIV*.rsp`, `gcmDecrypt*.rsp`):
//! a parser for the `.rsp` format and a runner that checks one backend
//! against every case, FAIL cases included.
//!
//! The parser checks each case against its section header (`[Keylen]`,
//! `[IVlen]`, `[PTlen]`, `[AADlen]`, `[Taglen]`, in bits), so a file that
//! does not say what it holds is an error rather than a silent skip.

#![forbid(unsafe_code)]

use crate::aead::{AesGcm, Backend, Error as AeadError};
use std::fmt;
use std::path::{Path, PathBuf};

/// The six CAVP GCM files every backend runs.
pub const FILES: [&str; 6] = [
    "gcmEncryptExtIV128.rsp",
    "gcmEncryptExtIV192.rsp",
    "gcmEncryptExtIV256.rsp",
    "gcmDecrypt128.rsp",
    "gcmDecrypt192.rsp",
    "gcmDecrypt256.rsp",
];

/// Whether a file's cases are encryption or decryption tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `gcmEncryptExtIV*`: seal PT, expect CT and Tag.
    Encrypt,
    /// `gcmDecrypt*`: open CT with Tag, expect PT or FAIL.
    Decrypt,
}

/// One test case.
#[derive(Clone, Debug, Default)]
pub struct Case {
    /// Line number of the case's `Count =` line.
    pub line: usize,
    /// AES key.
    pub key: Vec<u8>,
    /// Nonce (IV), any length.
    pub iv: Vec<u8>,
    /// Plaintext (empty for FAIL cases).
    pub pt: Vec<u8>,
    /// Additional authenticated data.
    pub aad: Vec<u8>,
    /// Ciphertext.
    pub ct: Vec<u8>,
    /// Tag, possibly truncated.
    pub tag: Vec<u8>,
    /// Decrypt cases that must not authenticate.
    pub fail: bool,
}

/// A parsed `.rsp` file.
#[derive(Clone, Debug)]
pub struct VectorFile {
    /// Encrypt or decrypt cases.
    pub direction: Direction,
    /// Every case, in file order.
    pub cases: Vec<Case>,
    /// How many `Count =` lines the raw text has (an independent count).
    pub count_lines: usize,
}

/// A malformed vector file.
#[derive(Debug)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for ParseError {}

#[derive(Default, Clone, Copy)]
struct Section {
    key_bits: Option<usize>,
    iv_bits: Option<usize>,
    pt_bits: Option<usize>,
    aad_bits: Option<usize>,
    tag_bits: Option<usize>,
}

fn perr(line: usize, what: impl Into<String>) -> ParseError {
    ParseError {
        line,
        what: what.into(),
    }
}

/// Parses the text of one `.rsp` file.
pub fn parse(text: &str, direction: Direction) -> Result<VectorFile, ParseError> {
    let mut section = Section::default();
    let mut cases: Vec<Case> = Vec::new();
    let mut current: Option<Case> = None;
    let mut count_lines = 0;
    let mut seen_pt = false;

    let close = |current: &mut Option<Case>,
                 seen_pt: &mut bool,
                 section: &Section,
                 cases: &mut Vec<Case>|
     -> Result<(), ParseError> {
        if let Some(case) = current.take() {
            check_case(&case, section, *seen_pt, direction)?;
            cases.push(case);
        }
        *seen_pt = false;
        Ok(())
    };

    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim();
        if line.is_empty() {
            close(&mut current, &mut seen_pt, &section, &mut cases)?;
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            close(&mut current, &mut seen_pt, &section, &mut cases)?;
            let (name, value) = inner
                .split_once('=')
                .ok_or_else(|| perr(line_no, "section header without '='"))?;
            let value: usize = value
                .trim()
                .parse()
                .map_err(|_| perr(line_no, "section value is not a number"))?;
            match name.trim() {
                "Keylen" => section.key_bits = Some(value),
                "IVlen" => section.iv_bits = Some(value),
                "PTlen" => section.pt_bits = Some(value),
                "AADlen" => section.aad_bits = Some(value),
                "Taglen" => section.tag_bits = Some(value),
                other => return Err(perr(line_no, format!("unknown section field {other}"))),
            }
            continue;
        }
        if line == "FAIL" {
            let case = current
                .as_mut()
                .ok_or_else(|| perr(line_no, "FAIL outside a case"))?;
            if direction != Direction::Decrypt {
                return Err(perr(line_no, "FAIL in an encryption file"));
            }
            case.fail = true;
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| perr(line_no, format!("unexpected line {line:?}")))?;
        let name = name.trim();
        let value = value.trim();
        if name == "Count" {
            close(&mut current, &mut seen_pt, &section, &mut cases)?;
            count_lines += 1;
            current = Some(Case {
                line: line_no,
                ..Case::default()
            });
            continue;
        }
        let case = current
            .as_mut()
            .ok_or_else(|| perr(line_no, format!("{name} outside a case")))?;
        let bytes = hex::decode(value).map_err(|e| perr(line_no, format!("bad hex: {e}")))?;
        match name {
            "Key" => case.key = bytes,
            "IV" => case.iv = bytes,
            "PT" => {
                case.pt = bytes;
                seen_pt = true;
            }
            "AAD" => case.aad = bytes,
            "CT" => case.ct = bytes,
            "Tag" => case.tag = bytes,
            other => return Err(perr(line_no, format!("unknown field {other}"))),
        }
    }
    close(&mut current, &mut seen_pt, &section, &mut cases)?;
    Ok(VectorFile {
        direction,
        cases,
        count_lines,
    })
}

fn check_case(case: &Case, s: &Section, seen_pt: bool, dir: Direction) -> Result<(), ParseError> {
    let bad = |what: &str| perr(case.line, what.to_string());
    let want = |bits: Option<usize>, field: &str| -> Result<usize, ParseError> {
        bits.ok_or_else(|| bad(&format!("case outside a section with {field}")))
    };
    if case.key.len() * 8 != want(s.key_bits, "Keylen")? {
        return Err(bad("key length differs from [Keylen]"));
    }
    if case.iv.len() * 8 != want(s.iv_bits, "IVlen")? {
        return Err(bad("IV length differs from [IVlen]"));
    }
    if case.aad.len() * 8 != want(s.aad_bits, "AADlen")? {
        return Err(bad("AAD length differs from [AADlen]"));
    }
    if case.tag.len() * 8 != want(s.tag_bits, "Taglen")? {
        return Err(bad("tag length differs from [Taglen]"));
    }
    let pt_bits = want(s.pt_bits, "PTlen")?;
    if case.ct.len() * 8 != pt_bits {
        return Err(bad("CT length differs from [PTlen]"));
    }
    match (dir, case.fail, seen_pt) {
        (_, false, true) if case.pt.len() * 8 == pt_bits => Ok(()),
        (Direction::Decrypt, true, false) => Ok(()),
        _ => Err(bad("case needs exactly one of PT (right length) or FAIL")),
    }
}

/// Reads and parses one file; the direction comes from its name.
pub fn load(path: &Path) -> Result<VectorFile, Box<dyn std::error::Error + Send + Sync>> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let direction = if name.contains("Decrypt") {
        Direction::Decrypt
    } else if name.contains("Encrypt") {
        Direction::Encrypt
    } else {
        return Err(format!("{}: name says neither Encrypt nor Decrypt", path.display()).into());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(parse(&text, direction).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// Runs one case on one backend; `Err` says what went wrong.
pub fn run_case(case: &Case, dir: Direction, backend: Backend) -> Result<(), String> {
    let key = AesGcm::with_backend(&case.key, backend).map_err(|e| e.to_string())?;
    let t = case.tag.len();
    match dir {
        Direction::Encrypt => {
            let mut buf = case.pt.clone();
            let tag = key
                .seal_in_place_detached(&case.iv, &case.aad, &mut buf)
                .map_err(|e| e.to_string())?;
            if buf != case.ct {
                return Err("ciphertext differs".into());
            }
            if tag[..t] != case.tag[..] {
                return Err("tag differs".into());
            }
            key.open_in_place_detached(&case.iv, &case.aad, &mut buf, &case.tag)
                .map_err(|e| format!("open of sealed output: {e}"))?;
            if buf != case.pt {
                return Err("round trip differs".into());
            }
            Ok(())
        }
        Direction::Decrypt => {
            let mut buf = case.ct.clone();
            let res = key.open_in_place_detached(&case.iv, &case.aad, &mut buf, &case.tag);
            match (case.fail, res) {
                (false, Ok(())) if buf == case.pt => Ok(()),
                (false, Ok(())) => Err("plaintext differs".into()),
                (false, Err(e)) => Err(format!("open failed: {e}")),
                (true, Err(AeadError::Authentication)) if buf.iter().all(|&b| b == 0) => Ok(()),
                (true, Err(AeadError::Authentication)) => Err("buffer not zeroed".into()),
                (true, Err(e)) => Err(format!("wrong error: {e}")),
                (true, Ok(())) => Err("forgery accepted".into()),
            }
        }
    }
}

/// Per-file result of [`run_dir`].
#[derive(Clone, Debug)]
pub struct FileReport {
    /// File name.
    pub file: String,
    /// Cases that passed.
    pub passed: usize,
    /// Failures: (line, reason), at most a few kept.
    pub failures: Vec<(usize, String)>,
    /// Failed cases in all.
    pub failed: usize,
    /// `Count =` lines in the raw text.
    pub count_lines: usize,
}

/// Runs every case of the six [`FILES`] in `dir` on `backend`.
pub fn run_dir(
    dir: &Path,
    backend: Backend,
) -> Result<Vec<FileReport>, Box<dyn std::error::Error + Send + Sync>> {
    let mut reports = Vec::new();
    for name in FILES {
        let path: PathBuf = dir.join(name);
        let file = load(&path)?;
        let mut report = FileReport {
            file: name.to_string(),
            passed: 0,
            failures: Vec::new(),
            failed: 0,
            count_lines: file.count_lines,
        };
        for case in &file.cases {
            match run_case(case, file.direction, backend) {
                Ok(()) => report.passed += 1,
                Err(why) => {
                    report.failed += 1;
                    if report.failures.len() < 5 {
                        report.failures.push((case.line, why));
                    }
                }
            }
        }
        // A case the parser dropped counts as a failure.
        report.failed += file.count_lines.saturating_sub(file.cases.len());
        reports.push(report);
    }
    Ok(reports)
}

/// Where the vectors are: `$SEALWIRE_VECTORS`, `./vectors`, or the source tree's.
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SEALWIRE_VECTORS") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("vectors");
    if local.join(FILES[0]).exists() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}
