//! rustls on sealwire's provider against rustls on its aws-lc-rs and ring
//! providers, alternating in one run (rounds in rotating order; medians).
//!
//! - bulk: an in-memory client-to-server transfer, as rustls's own bench
//!   (`rustls-bench bulk`) measures it: the client writes, encrypts and
//!   emits records, the server reads, decrypts and hands the plaintext out.
//!   16 KiB and 1 KiB writes; TLS 1.3 AES-128-GCM and AES-256-GCM, TLS 1.2
//!   ECDHE-ECDSA AES-128-GCM. Lines in rustls-bench's shape, MB/s.
//! - handshakes: full TLS 1.3 handshakes (client and server in one thread),
//!   handshakes/s; sealwire's provider takes aws-lc-rs's key exchange and
//!   signatures, so those two should match.
//! - fan-out: one 1 KiB message to 1000 connections: `seal_records` on
//!   keys imported from rustls connections, against rustls writing the
//!   message to each connection on its aws-lc-rs and ring providers; the
//!   ratio is against the faster of the two in each round.
//!
//! `cargo bench --features rustls --bench rustls [-- --quick] [--fanout
//! [--fill-first]] [--handshakes] [--write N] [--rounds N] [--aead-time]`
//! (`--fanout`, `--handshakes`: that comparison only; `--fill-first`: the
//! fan-out's sealwire side fills the buffers before `seal_records`;
//! `--write N`: the bulk rows of that write size only; `--rounds N`: 5
//! with `--quick`, else 21; `--aead-time`: each provider's encrypt and
//! decrypt calls timed inside the transfer, a line per provider after
//! each bulk ratio: what the AEAD costs where rustls calls it, apart from
//! rustls's own work). For a profiler, `--profile sealwire|aws-lc-rs|ring`
//! runs one provider's transfer (`--write N`, `--mib N`) or, with
//! `--hs N`, N handshakes.

use bytes::BytesMut;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use sealwire::record::batch::{seal_records, RecordJob};
use sealwire::record::{ContentType, Sealer};
use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/timed_aead.rs"]
mod timed_aead;

/// Per-provider AEAD time sums of `--aead-time`, in `Prov::ALL` order.
static AEAD_TIME: [timed_aead::Slot; 3] = [
    timed_aead::Slot::new(),
    timed_aead::Slot::new(),
    timed_aead::Slot::new(),
];

/// True with `--aead-time`: every provider's AEAD calls are timed.
fn aead_time() -> bool {
    std::env::args().any(|a| a == "--aead-time")
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Prov {
    Sealwire,
    AwsLc,
    Ring,
}

impl Prov {
    const ALL: [Prov; 3] = [Prov::Sealwire, Prov::AwsLc, Prov::Ring];

    fn name(self) -> &'static str {
        match self {
            Prov::Sealwire => "sealwire",
            Prov::AwsLc => "aws-lc-rs",
            Prov::Ring => "ring",
        }
    }

    fn provider(self, suite: rustls::CipherSuite) -> Arc<CryptoProvider> {
        let mut p = match self {
            Prov::Sealwire => sealwire::rustls::provider(),
            Prov::AwsLc => rustls::crypto::aws_lc_rs::default_provider(),
            Prov::Ring => rustls::crypto::ring::default_provider(),
        };
        p.cipher_suites.retain(|s| s.suite() == suite);
        if aead_time() {
            p = timed_aead::wrap(p, &AEAD_TIME[self as usize]);
        }
        Arc::new(p)
    }
}

/// A CA and an ECDSA P-256 leaf for localhost, made with the openssl CLI.
struct Pki {
    dir: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "openssl {args:?} (scripts/setup.sh installs it)");
}

fn pki() -> Pki {
    let dir = std::env::temp_dir().join(format!("sealwire-bench-rustls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ec = [
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
    ];
    openssl(&dir, &[&ec[..], &["ca.key"]].concat());
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
            "/CN=bench CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ],
    );
    openssl(&dir, &[&ec[..], &["leaf.key"]].concat());
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
        dir.join("ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
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
            "ext",
            "-out",
            "leaf.pem",
        ],
    );
    Pki { dir }
}

struct Configs {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

fn configs(pki: &Pki, prov: Prov, suite: rustls::CipherSuite, extract: bool) -> Configs {
    let pem = std::fs::read(pki.dir.join("leaf.pem")).unwrap();
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .unwrap();
    let pem = std::fs::read(pki.dir.join("leaf.key")).unwrap();
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut pem.as_slice())
        .unwrap()
        .unwrap();
    let pem = std::fs::read(pki.dir.join("ca.pem")).unwrap();
    let mut roots = RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let versions: &[&rustls::SupportedProtocolVersion] = if u16::from(suite) >> 8 == 0x13 {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS12]
    };
    let mut server = ServerConfig::builder_with_provider(prov.provider(suite))
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    server.enable_secret_extraction = extract;
    let client = ClientConfig::builder_with_provider(prov.provider(suite))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Configs {
        server: Arc::new(server),
        client: Arc::new(client),
    }
}

fn move_tls(from: &mut rustls::Connection, to: &mut rustls::Connection, buf: &mut Vec<u8>) {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).unwrap();
    }
    let mut rd = buf.as_slice();
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
        to.process_new_packets().unwrap();
    }
}

fn pair(c: &Configs) -> (rustls::Connection, rustls::Connection) {
    let name = ServerName::try_from("localhost").unwrap();
    let mut client: rustls::Connection = ClientConnection::new(c.client.clone(), name)
        .unwrap()
        .into();
    let mut server: rustls::Connection = ServerConnection::new(c.server.clone()).unwrap().into();
    let mut buf = Vec::new();
    while client.is_handshaking() || server.is_handshaking() {
        move_tls(&mut client, &mut server, &mut buf);
        move_tls(&mut server, &mut client, &mut buf);
    }
    move_tls(&mut server, &mut client, &mut buf);
    (client, server)
}

/// A connected pair and the buffers of a bulk transfer.
struct Bulk {
    client: rustls::Connection,
    server: rustls::Connection,
    wire: Vec<u8>,
    sink: Vec<u8>,
    chunk: Vec<u8>,
}

impl Bulk {
    /// Sends `total` bytes in writes of `chunk.len()`; returns the time.
    fn run(&mut self, total: usize) -> Duration {
        let start = Instant::now();
        let mut sent = 0;
        while sent < total {
            self.client.writer().write_all(&self.chunk).unwrap();
            sent += self.chunk.len();
            move_tls(&mut self.client, &mut self.server, &mut self.wire);
            loop {
                match self.server.reader().read(&mut self.sink) {
                    Ok(0) => break,
                    Ok(n) => {
                        black_box(&self.sink[..n]);
                    }
                    Err(_) => break,
                }
            }
        }
        start.elapsed()
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The number after `name` on the command line, if any.
fn arg(name: &str) -> Option<usize> {
    std::env::args()
        .position(|a| a == name)
        .and_then(|i| std::env::args().nth(i + 1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = arg("--rounds").unwrap_or(if quick { 5 } else { 21 });
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    println!(
        "# CPU: {cpu}; sealwire backend: {}",
        sealwire::aead::Backend::best()
    );
    println!("# {rounds} rounds, providers in rotating order; medians; ratio = median of per-round sealwire / best peer");
    let pki = pki();
    if let Some(i) = std::env::args().position(|a| a == "--profile") {
        // One transfer on one provider, for a profiler (callgrind, perf):
        // `--profile sealwire|aws-lc-rs|ring`, TLS 1.3 AES-128-GCM.
        let name = std::env::args().nth(i + 1).unwrap_or_default();
        let Some(p) = Prov::ALL.into_iter().find(|p| p.name() == name) else {
            eprintln!("--profile takes sealwire, aws-lc-rs or ring");
            std::process::exit(2);
        };
        if let Some(n) = arg("--hs") {
            // `--hs N`: N full handshakes (and drops) instead of a transfer.
            let cfg = configs(
                &pki,
                p,
                rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
                false,
            );
            let start = Instant::now();
            for _ in 0..n {
                black_box(pair(&cfg));
            }
            println!(
                "profile\t{}\t{n} handshakes in {:.1} ms",
                p.name(),
                start.elapsed().as_secs_f64() * 1e3
            );
            return;
        }
        // `--write N` (bytes per write, default 16384) and `--mib N`
        // (default 64) change the transfer.
        let (write, mib) = (arg("--write").unwrap_or(16384), arg("--mib").unwrap_or(64));
        let suite = rustls::CipherSuite::TLS13_AES_128_GCM_SHA256;
        let (client, server) = pair(&configs(&pki, p, suite, false));
        let mut b = Bulk {
            client,
            server,
            wire: Vec::new(),
            sink: vec![0; 1 << 16],
            chunk: vec![0x5a; write.max(1)],
        };
        let t = b.run(mib << 20);
        println!(
            "profile	{}	{mib} MiB in {write} B writes in {:.1} ms",
            p.name(),
            t.as_secs_f64() * 1e3
        );
        return;
    }
    if std::env::args().any(|a| a == "--handshakes") {
        // The handshake comparison alone.
        handshakes(&pki, rounds);
        return;
    }
    if std::env::args().any(|a| a == "--fanout") {
        // The fan-out comparison alone (for a profiler, or to repeat it).
        fan_out(&pki, rounds);
        return;
    }
    // `--aead-time`: the clock reads the timing layer adds to each call.
    let clock = aead_time().then(|| {
        let c = timed_aead::clock_pair_ns();
        println!("# --aead-time: each provider's encrypt and decrypt timed in the transfer, less {c:.1} ns of clock reads per call");
        c
    });
    let suites = [
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ];
    for suite in suites {
        let version = if u16::from(suite) >> 8 == 0x13 {
            "TLSv1_3"
        } else {
            "TLSv1_2"
        };
        // `--write N`: that write size only (any size from 1 byte).
        let writes = match arg("--write") {
            Some(w) => vec![w.max(1)],
            None => vec![16384usize, 1024],
        };
        for write in writes {
            let mut bulks: Vec<Bulk> = Prov::ALL
                .iter()
                .map(|&p| {
                    let (client, server) = pair(&configs(&pki, p, suite, false));
                    Bulk {
                        client,
                        server,
                        wire: Vec::new(),
                        sink: vec![0; 1 << 16],
                        chunk: vec![0x5a; write],
                    }
                })
                .collect();
            // ~16 MiB per provider per round at 16 KiB writes, 4 MiB below.
            let total = if write >= 16384 { 16 << 20 } else { 4 << 20 };
            for b in bulks.iter_mut() {
                b.run(total / 4);
            }
            // The warm-up's calls do not count.
            for slot in &AEAD_TIME {
                slot.enc.take(0.0);
                slot.dec.take(0.0);
            }
            let mut mbs: Vec<Vec<f64>> = vec![Vec::new(); 3];
            let mut ratios = Vec::new();
            for r in 0..rounds {
                let mut this = [0f64; 3];
                for k in 0..3 {
                    let i = (r + k) % 3;
                    let t = bulks[i].run(total);
                    this[i] = total as f64 / 1e6 / t.as_secs_f64();
                    mbs[i].push(this[i]);
                }
                ratios.push(this[0] / this[1].max(this[2]));
            }
            for (i, p) in Prov::ALL.iter().enumerate() {
                println!(
                    "bulk\t{version}\t{suite:?}\twrite:{write}\t{}\tsend+recv\t{:.2}\tMB/s",
                    p.name(),
                    median(&mut mbs[i])
                );
            }
            let (lo, hi) = {
                let mut r = ratios.clone();
                r.sort_by(|a, b| a.partial_cmp(b).unwrap());
                (r[0], r[r.len() - 1])
            };
            println!(
                "ratio\t{version}\t{suite:?}\twrite:{write}\tsealwire/best-peer\t{:.3}x\t(min {lo:.3}, max {hi:.3})",
                median(&mut ratios)
            );
            if let Some(clock) = clock {
                for (i, p) in Prov::ALL.iter().enumerate() {
                    println!(
                        "aead\t{version}\t{suite:?}\twrite:{write}\t{}\tencrypt\t{:.1}\tns\tdecrypt\t{:.1}\tns\t(per call, in the transfer)",
                        p.name(),
                        AEAD_TIME[i].enc.take(clock),
                        AEAD_TIME[i].dec.take(clock)
                    );
                }
            }
        }
    }

    if arg("--write").is_some() {
        return;
    }
    handshakes(&pki, rounds.min(9));
    fan_out(&pki, rounds);
}

/// Full TLS 1.3 handshakes, both sides in this thread, each provider in
/// turn for ~150 ms a round (rotating order); the connections are dropped
/// in the timed loop, as a server drops them.
fn handshakes(pki: &Pki, rounds: usize) {
    let suite = rustls::CipherSuite::TLS13_AES_128_GCM_SHA256;
    let cfgs: Vec<Configs> = Prov::ALL
        .iter()
        .map(|&p| configs(pki, p, suite, false))
        .collect();
    let mut hs: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for r in 0..rounds {
        for k in 0..3 {
            let i = (r + k) % 3;
            let start = Instant::now();
            let mut n = 0;
            while start.elapsed() < Duration::from_millis(150) {
                black_box(pair(&cfgs[i]));
                n += 1;
            }
            hs[i].push(f64::from(n) / start.elapsed().as_secs_f64());
        }
    }
    for (i, p) in Prov::ALL.iter().enumerate() {
        println!(
            "handshakes\tTLSv1_3\t{suite:?}\t{}\tclient+server\tfull\t{:.2}\thandshakes/s",
            p.name(),
            median(&mut hs[i])
        );
    }
}

/// One 1 KiB message to 1000 connections: `seal_records` on imported keys
/// against rustls writing the message to each connection, on its aws-lc-rs
/// and on its ring provider; the three sides run in rotating order and the
/// ratio is taken per round against the faster rustls side. sealwire hands
/// the message to `seal_records` ([`RecordJob::with_payload`]: the call
/// copies it into each buffer a few records ahead of sealing), or with
/// `--fill-first` fills every buffer itself before the call
/// ([`RecordJob::new`]).
fn fan_out(pki: &Pki, rounds: usize) {
    const N: usize = 1000;
    let suite = rustls::CipherSuite::TLS13_AES_128_GCM_SHA256;
    let msg = vec![0x42u8; 1024];
    let peers = [Prov::AwsLc, Prov::Ring];
    // rustls sides: N server connections per peer provider, writing the
    // message each.
    let mut conns: Vec<Vec<rustls::Connection>> = peers
        .iter()
        .map(|&p| {
            let cfg = configs(pki, p, suite, false);
            (0..N).map(|_| pair(&cfg).1).collect()
        })
        .collect();
    // sealwire side: N more connections, keys imported after the handshake.
    let rustls_cfg = configs(pki, Prov::AwsLc, suite, true);
    let mut sealers: Vec<Sealer> = (0..N)
        .map(|_| {
            let (_, server) = pair(&rustls_cfg);
            let rustls::Connection::Server(server) = server else {
                unreachable!()
            };
            let s = server.negotiated_cipher_suite().unwrap();
            let secrets = server.dangerous_extract_secrets().unwrap();
            sealwire::rustls::import::sealer(s, &secrets.tx).unwrap()
        })
        .collect();
    let with_payload = !std::env::args().any(|a| a == "--fill-first");
    let mut wires: Vec<Vec<u8>> = (0..N).map(|_| Vec::with_capacity(2048)).collect();
    let mut bufs: Vec<BytesMut> = vec![BytesMut::new(); N];
    // Microseconds per round: [rustls aws-lc-rs, rustls ring, sealwire].
    let mut times: [Vec<f64>; 3] = Default::default();
    let mut ratios = Vec::new();
    for r in 0..rounds * 3 {
        let mut t = [0.0f64; 3];
        for k in 0..3 {
            let side = (r + k) % 3;
            let start = Instant::now();
            if side < 2 {
                for (c, w) in conns[side].iter_mut().zip(wires.iter_mut()) {
                    w.clear();
                    c.writer().write_all(&msg).unwrap();
                    c.write_tls(w).unwrap();
                }
                t[side] = start.elapsed().as_secs_f64();
                black_box(&wires);
                continue;
            }
            if !with_payload {
                for (s, buf) in sealers.iter().zip(bufs.iter_mut()) {
                    s.start_with_capacity(buf, msg.len());
                    buf.extend_from_slice(&msg);
                }
            }
            let mut jobs: Vec<RecordJob<'_>> = sealers
                .iter_mut()
                .zip(bufs.iter_mut())
                .map(|(s, b)| {
                    let typ = ContentType::ApplicationData;
                    if with_payload {
                        RecordJob::with_payload(s, typ, b, &msg)
                    } else {
                        RecordJob::new(s, typ, b)
                    }
                })
                .collect();
            for res in seal_records(&mut jobs) {
                res.unwrap();
            }
            drop(jobs);
            t[side] = start.elapsed().as_secs_f64();
            black_box(&bufs);
        }
        for (v, x) in times.iter_mut().zip(t) {
            v.push(x * 1e6);
        }
        ratios.push(t[0].min(t[1]) / t[2]);
    }
    let ours = if with_payload {
        "sealwire seal_records (with_payload)"
    } else {
        "sealwire seal_records (buffers filled first)"
    };
    let names = [
        "rustls (aws-lc-rs) write each",
        "rustls (ring) write each",
        ours,
    ];
    for (name, v) in names.iter().zip(times.iter_mut()) {
        let m = median(v);
        println!(
            "fanout\tTLSv1_3\t{suite:?}\t{N} conns x 1024 B\t{name}\t{m:.1}\tus\t{:.2}\tMB/s",
            (N * 1024) as f64 / m
        );
    }
    println!(
        "ratio\tfanout\t{ours}/faster rustls\t{:.2}x",
        median(&mut ratios)
    );
}
