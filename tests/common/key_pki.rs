//! Test certificates for every key type the server loads, made at test
//! time with the `openssl` command line: a CA of a chosen key type and a
//! leaf for `localhost` and 127.0.0.1, signed by it.
#![allow(dead_code)]

use super::pki::{openssl, temp_dir};
use std::path::PathBuf;

/// A key type, as `openssl genpkey` makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    P256,
    P384,
    P521,
    Ed25519,
    Rsa(u32),
}

impl Key {
    fn genpkey_args(self) -> Vec<String> {
        let v: Vec<&str> = match self {
            Key::P256 => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            Key::P384 => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            Key::P521 => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
            Key::Ed25519 => vec!["-algorithm", "ED25519"],
            Key::Rsa(_) => vec!["-algorithm", "RSA"],
        };
        let mut v: Vec<String> = v.into_iter().map(String::from).collect();
        if let Key::Rsa(bits) = self {
            v.push("-pkeyopt".into());
            v.push(format!("rsa_keygen_bits:{bits}"));
        }
        v
    }
}

/// A CA and a leaf in a temporary folder, removed on drop.
pub struct KeyPki {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    /// The leaf key as `openssl genpkey` writes it (PKCS#8).
    pub key: PathBuf,
}

impl Drop for KeyPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes a fresh `key` type private key (PKCS#8 PEM) to `dir/out`.
pub fn genkey(dir: &std::path::Path, key: Key, out: &str) {
    let mut args: Vec<String> = vec!["genpkey".into()];
    args.extend(key.genpkey_args());
    args.push("-out".into());
    args.push(out.into());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    openssl(dir, &a);
}

/// A `ca` CA and a `leaf` leaf for localhost and 127.0.0.1.
pub fn make(ca: Key, leaf: Key) -> KeyPki {
    let dir = temp_dir("keypki");
    let ca_subject = format!(
        "/CN=sealwire key test CA {}",
        dir.file_name().unwrap().to_string_lossy()
    );
    genkey(&dir, ca, "ca.key");
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
    genkey(&dir, leaf, "leaf.key");
    openssl(
        &dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/CN=sealwire key test/O=sealwire",
            "-out",
            "leaf.csr",
        ],
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
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
    KeyPki {
        ca: dir.join("ca.pem"),
        cert: dir.join("leaf.pem"),
        key: dir.join("leaf.key"),
        dir,
    }
}
