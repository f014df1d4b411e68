//! Test PKI made at test time with the `openssl` command line, in a
//! temporary folder removed on drop, and the check that the command exists.
//! Self-contained, so that `benches/handshake.rs` includes it by path.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Whether the `openssl` command line runs. When it does not, says so
/// loudly for the calling test and returns false, so the test returns early
/// but never silently (`if !have_openssl() { return; }`); with
/// `SEALWIRE_REQUIRE_OPENSSL` set (CI sets it) a missing command fails the
/// test instead.
pub fn have_openssl() -> bool {
    static FOUND: OnceLock<Result<String, String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| match Command::new("openssl").arg("version").output() {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(out) => Err(format!("`openssl version` failed: {}", out.status)),
        Err(e) => Err(format!("no openssl command line ({e})")),
    });
    match found {
        Ok(_) => true,
        Err(why) => {
            let test = std::thread::current()
                .name()
                .unwrap_or("this test")
                .to_string();
            assert!(
                std::env::var_os("SEALWIRE_REQUIRE_OPENSSL").is_none(),
                "{test}: {why}, and SEALWIRE_REQUIRE_OPENSSL is set"
            );
            // Straight to the stderr handle, past libtest's capture of
            // `eprintln!` (see `common::loud`).
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED: {test}: {why}; `bash scripts/setup.sh` installs it"
            );
            false
        }
    }
}

/// The leaf key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    EcP256,
    Ed25519,
    Rsa,
}

/// A CA and a leaf certificate for `localhost` and 127.0.0.1.
pub struct Pki {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty temporary folder.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir =
        std::env::temp_dir().join(format!("sealwire-{tag}-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command line is installed");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn genkey(dir: &Path, kind: KeyKind, out: &str) {
    match kind {
        KeyKind::EcP256 => openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                out,
            ],
        ),
        KeyKind::Ed25519 => openssl(dir, &["genpkey", "-algorithm", "ED25519", "-out", out]),
        KeyKind::Rsa => openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                out,
            ],
        ),
    }
}

/// A CA (ECDSA P-256) and a `kind` leaf for `names` (DNS names; IP
/// 127.0.0.1 is always added), signed by it.
pub fn make_pki(kind: KeyKind, names: &[&str]) -> Pki {
    let dir = temp_dir("pki");
    // A CA name of its own, so another test PKI's CA is a different issuer.
    let ca_subject = format!(
        "/CN=sealwire test CA {}",
        dir.file_name().unwrap().to_string_lossy()
    );
    genkey(&dir, KeyKind::EcP256, "ca.key");
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            &ca_subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    genkey(&dir, kind, "leaf.key");
    openssl(
        &dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/CN=sealwire test server/O=sealwire",
            "-out",
            "leaf.csr",
        ],
    );
    let mut san: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
    san.push("IP:127.0.0.1".into());
    std::fs::write(
        dir.join("leaf.ext"),
        format!(
            "subjectAltName={}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
            san.join(",")
        ),
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "leaf.pem",
            "-extfile",
            "leaf.ext",
        ],
    );
    Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("leaf.pem"),
        key: dir.join("leaf.key"),
        dir,
    }
}

/// A client certificate of `kind` for the subject `/CN={name}` with
/// extendedKeyUsage clientAuth, signed by `pki`'s CA, written into
/// `pki.dir`: `(certificate, key)`. `name` is also the files' stem.
pub fn make_client_cert(pki: &Pki, kind: KeyKind, name: &str) -> (PathBuf, PathBuf) {
    let dir = &pki.dir;
    let (key, csr, ext, cert) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.ext"),
        format!("{name}.pem"),
    );
    genkey(dir, kind, &key);
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            &key,
            "-subj",
            &format!("/CN={name}/O=sealwire"),
            "-out",
            &csr,
        ],
    );
    std::fs::write(
        dir.join(&ext),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            &cert,
            "-extfile",
            &ext,
        ],
    );
    (dir.join(cert), dir.join(key))
}
