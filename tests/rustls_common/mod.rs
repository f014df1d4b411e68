//! rustls test helpers: configurations on a chosen provider and suite, and
//! an in-memory pump between a client and a server connection.
#![allow(dead_code)]

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

/// The leaf key type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    EcP256,
    Rsa,
}

/// A CA (ECDSA P-256) and a leaf for `localhost` / 127.0.0.1, made with the
/// `openssl` command line in a temporary folder removed on drop.
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

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command line is installed (scripts/setup.sh)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_pki(kind: KeyKind) -> Pki {
    let dir = std::env::temp_dir().join(format!(
        "sealwire-rustls-{kind:?}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ec = [
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
    ];
    openssl(&dir, &[&ec[..], &["-out", "ca.key"]].concat());
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
            "2",
            "-subj",
            "/CN=sealwire rustls test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    match kind {
        KeyKind::EcP256 => openssl(&dir, &[&ec[..], &["-out", "leaf.key"]].concat()),
        KeyKind::Rsa => openssl(
            &dir,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "leaf.key",
            ],
        ),
    }
    openssl(
        &dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/CN=localhost",
            "-out",
            "leaf.csr",
        ],
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
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
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("leaf.pem"),
        key: dir.join("leaf.key"),
        dir,
    }
}

/// The six AES-GCM suites, as rustls names them.
pub const SUITES: [rustls::CipherSuite; 6] = [
    rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
    rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
    rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
];

/// Which provider a side runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `sealwire::rustls::provider()`.
    Sealwire,
    /// rustls's aws-lc-rs provider.
    AwsLc,
    /// rustls's ring provider.
    Ring,
}

pub fn base(side: Side) -> CryptoProvider {
    match side {
        Side::Sealwire => sealwire::rustls::provider(),
        Side::AwsLc => rustls::crypto::aws_lc_rs::default_provider(),
        Side::Ring => rustls::crypto::ring::default_provider(),
    }
}

/// `side`'s provider with only `suite` enabled.
pub fn provider(side: Side, suite: rustls::CipherSuite) -> Arc<CryptoProvider> {
    let mut p = base(side);
    p.cipher_suites.retain(|s| s.suite() == suite);
    assert_eq!(p.cipher_suites.len(), 1, "{side:?} has {suite:?}");
    if side == Side::Sealwire {
        assert!(sealwire::rustls::is_sealwire_suite(p.cipher_suites[0]));
    }
    Arc::new(p)
}

pub fn is_tls13(suite: rustls::CipherSuite) -> bool {
    u16::from(suite) >> 8 == 0x13
}

/// The leaf key type a suite needs (RSA for ECDHE_RSA, ECDSA otherwise).
pub fn key_kind(suite: rustls::CipherSuite) -> KeyKind {
    if format!("{suite:?}").contains("_RSA_") {
        KeyKind::Rsa
    } else {
        KeyKind::EcP256
    }
}

/// One test PKI per key type, made once per test binary.
pub fn pki(kind: KeyKind) -> &'static Pki {
    static EC: OnceLock<Pki> = OnceLock::new();
    static RSA: OnceLock<Pki> = OnceLock::new();
    let cell = match kind {
        KeyKind::Rsa => &RSA,
        KeyKind::EcP256 => &EC,
    };
    cell.get_or_init(|| make_pki(kind))
}

pub fn certs(pki: &Pki) -> Vec<CertificateDer<'static>> {
    let pem = std::fs::read(&pki.cert).unwrap();
    rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .unwrap()
}

pub fn key(pki: &Pki) -> PrivateKeyDer<'static> {
    let pem = std::fs::read(&pki.key).unwrap();
    rustls_pemfile::private_key(&mut pem.as_slice())
        .unwrap()
        .unwrap()
}

pub fn roots(pki: &Pki) -> RootCertStore {
    let pem = std::fs::read(&pki.ca).unwrap();
    let mut roots = RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    roots
}

fn versions(suite: rustls::CipherSuite) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    if is_tls13(suite) {
        &TLS13
    } else {
        &TLS12
    }
}

pub fn server_config(side: Side, suite: rustls::CipherSuite) -> ServerConfig {
    let pki = pki(key_kind(suite));
    ServerConfig::builder_with_provider(provider(side, suite))
        .with_protocol_versions(versions(suite))
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs(pki), key(pki))
        .unwrap()
}

pub fn client_config(side: Side, suite: rustls::CipherSuite) -> ClientConfig {
    let pki = pki(key_kind(suite));
    ClientConfig::builder_with_provider(provider(side, suite))
        .with_protocol_versions(versions(suite))
        .unwrap()
        .with_root_certificates(roots(pki))
        .with_no_client_auth()
}

pub fn connect(client: ClientConfig, server: ServerConfig) -> (ClientConnection, ServerConnection) {
    let name = ServerName::try_from("localhost").unwrap();
    let mut c = ClientConnection::new(Arc::new(client), name).unwrap();
    let mut s = ServerConnection::new(Arc::new(server)).unwrap();
    handshake(&mut c, &mut s);
    (c, s)
}

pub fn handshake(c: &mut ClientConnection, s: &mut ServerConnection) {
    let mut cc = Conn::Client(c);
    let mut ss = Conn::Server(s);
    for _ in 0..20 {
        pump_any(&mut cc, &mut ss).unwrap();
        pump_any(&mut ss, &mut cc).unwrap();
        if !cc.handshaking() && !ss.handshaking() {
            return;
        }
    }
    panic!("handshake did not finish");
}

/// A borrowed client or server connection.
pub enum Conn<'a> {
    Client(&'a mut ClientConnection),
    Server(&'a mut ServerConnection),
}

impl Conn<'_> {
    pub fn handshaking(&self) -> bool {
        match self {
            Conn::Client(c) => c.is_handshaking(),
            Conn::Server(s) => s.is_handshaking(),
        }
    }

    pub fn wants_write(&self) -> bool {
        match self {
            Conn::Client(c) => c.wants_write(),
            Conn::Server(s) => s.wants_write(),
        }
    }

    pub fn write_tls(&mut self, out: &mut Vec<u8>) {
        match self {
            Conn::Client(c) => c.write_tls(out).unwrap(),
            Conn::Server(s) => s.write_tls(out).unwrap(),
        };
    }

    pub fn read_tls(&mut self, rd: &mut &[u8]) {
        match self {
            Conn::Client(c) => c.read_tls(rd).unwrap(),
            Conn::Server(s) => s.read_tls(rd).unwrap(),
        };
    }

    pub fn process(&mut self) -> Result<(), rustls::Error> {
        match self {
            Conn::Client(c) => c.process_new_packets().map(|_| ()),
            Conn::Server(s) => s.process_new_packets().map(|_| ()),
        }
    }

    pub fn write_all(&mut self, data: &[u8]) {
        match self {
            Conn::Client(c) => c.writer().write_all(data).unwrap(),
            Conn::Server(s) => s.writer().write_all(data).unwrap(),
        }
    }

    /// Reads whatever plaintext is buffered (none: an empty vector).
    pub fn read_available(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            let r = match self {
                Conn::Client(c) => c.reader().read(&mut chunk),
                Conn::Server(s) => s.reader().read(&mut chunk),
            };
            match r {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("read: {e}"),
            }
        }
        out
    }
}

/// Moves every pending TLS byte from `from` to `to`, processing as it goes
/// (and reading the plaintext as it comes, so rustls's receive buffer
/// limit is never hit); returns the plaintext `to` read.
pub fn pump_any(from: &mut Conn<'_>, to: &mut Conn<'_>) -> Result<Vec<u8>, rustls::Error> {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf);
    }
    let mut rd = buf.as_slice();
    let mut got = Vec::new();
    while !rd.is_empty() {
        to.read_tls(&mut rd);
        to.process()?;
        got.extend_from_slice(&to.read_available());
    }
    Ok(got)
}

/// Sends `data` from `from` to `to` in writes of `chunk` bytes, pumping
/// after each, and checks that `to` read exactly `data`.
pub fn transfer(from: &mut Conn<'_>, to: &mut Conn<'_>, data: &[u8], chunk: usize) {
    let mut got = Vec::with_capacity(data.len());
    for piece in data.chunks(chunk.max(1)) {
        from.write_all(piece);
        got.extend_from_slice(&pump_any(from, to).unwrap());
    }
    assert_eq!(got.len(), data.len());
    assert!(got == data, "data arrived changed");
}

/// Deterministic test bytes.
pub fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
