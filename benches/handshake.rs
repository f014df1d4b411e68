//! Full handshakes, sealwire against rustls (aws-lc-rs provider) in the
//! same run, alternating, plus the public-key primitives that dominate a
//! handshake, so the cost of each part stays visible.
//!
//! Each case configures both libraries alike: the same group, the same
//! certificate, one cipher suite (AES-128-GCM), no tickets or session
//! resumption. Client and server run in one process over a Unix socket
//! pair: a server thread handshakes each socket it is handed while the
//! measuring thread runs the client, the same harness for both libraries.
//!
//! Reported per case: the median full handshake time of each library, the
//! median of the per-round ratios (sealwire / rustls; below 1 is faster),
//! and server handshakes per second on one core (from the server thread's
//! CPU time, as rustls's own bench counts server-side time).
//!
//! `cargo bench --bench handshake [-- ROUNDS [FILTER]]`: FILTER keeps the
//! cases (and primitives) whose name contains it.

#[path = "common/ab.rs"]
mod ab;
#[path = "../tests/common/key_pki.rs"]
mod key_pki;
#[path = "../tests/common/pki.rs"]
mod pki;

use key_pki::Key;
use rustls::crypto::aws_lc_rs::{cipher_suite, kx_group};
use sealwire::conn::Connection;
use sealwire::handshake::keyschedule::EarlySecret;
use sealwire::handshake::kx::{self, group, KeyExchange};
use sealwire::handshake::transcript::HashAlg;
use sealwire::handshake::verify::{self, scheme, RootStore, ServerVerification, SigningKey};
use sealwire::handshake::{ClientConfig, ServerConfig, Versions};
use sealwire::wire::{CipherSuite, NamedGroup};
use std::hint::black_box;
use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// A server thread that handshakes each stream sent to it and reports the
/// outcome and the thread CPU time the handshake took.
struct ServerThread {
    tx: Option<mpsc::Sender<UnixStream>>,
    done: mpsc::Receiver<(bool, f64)>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    fn new(mut serve: impl FnMut(UnixStream) -> bool + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel::<UnixStream>();
        let (done_tx, done) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            for s in rx {
                let t = cpu_time::ThreadTime::now();
                let ok = serve(s);
                let cpu = t.elapsed().as_nanos() as f64;
                if done_tx.send((ok, cpu)).is_err() {
                    break;
                }
            }
        });
        ServerThread {
            tx: Some(tx),
            done,
            handle: Some(handle),
        }
    }

    /// One handshake; returns the server's CPU nanoseconds.
    fn handshake(&self, client: &mut dyn FnMut(UnixStream) -> bool) -> f64 {
        let (a, b) = UnixStream::pair().unwrap();
        self.tx.as_ref().unwrap().send(b).unwrap();
        assert!(client(a), "client handshake failed");
        let (ok, cpu) = self.done.recv().unwrap();
        assert!(ok, "server handshake failed");
        cpu
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// One library's client and server for a case.
struct Side {
    server: ServerThread,
    client: Box<dyn FnMut(UnixStream) -> bool>,
}

impl Side {
    /// `n` handshakes: (wall ns per handshake, server CPU ns per handshake).
    fn run(&mut self, n: usize) -> (f64, f64) {
        let mut cpu = 0.0;
        let t = Instant::now();
        for _ in 0..n {
            cpu += self.server.handshake(&mut *self.client);
        }
        (t.elapsed().as_nanos() as f64 / n as f64, cpu / n as f64)
    }
}

struct Case {
    name: &'static str,
    tls13: bool,
    group: NamedGroup,
    key: Key,
    /// Handshakes per timed batch.
    batch: usize,
}

const CASES: [Case; 4] = [
    Case {
        name: "tls13_x25519_ecdsa_p256",
        tls13: true,
        group: NamedGroup::X25519,
        key: Key::P256,
        batch: 16,
    },
    Case {
        name: "tls13_x25519mlkem768_ecdsa_p256",
        tls13: true,
        group: NamedGroup::X25519Mlkem768,
        key: Key::P256,
        batch: 16,
    },
    Case {
        name: "tls13_x25519_rsa2048_pss",
        tls13: true,
        group: NamedGroup::X25519,
        key: Key::Rsa(2048),
        batch: 8,
    },
    Case {
        name: "tls12_ecdhe_p256_ecdsa_p256",
        tls13: false,
        group: NamedGroup::Secp256r1,
        key: Key::P256,
        batch: 16,
    },
];

fn rustls_group(g: NamedGroup) -> &'static dyn rustls::crypto::SupportedKxGroup {
    match g {
        NamedGroup::X25519Mlkem768 => kx_group::X25519MLKEM768,
        NamedGroup::X25519 => kx_group::X25519,
        NamedGroup::Secp256r1 => kx_group::SECP256R1,
        _ => kx_group::SECP384R1,
    }
}

fn sealwire_side(case: &Case, pki: &key_pki::KeyPki) -> Side {
    let ca = std::fs::read(&pki.ca).unwrap();
    let roots = Arc::new(RootStore::from_pem(&ca).unwrap());
    let mut c = ClientConfig::new(ServerVerification::Roots(roots));
    let mut s = ServerConfig::from_pem(
        &std::fs::read(&pki.cert).unwrap(),
        &std::fs::read(&pki.key).unwrap(),
    )
    .unwrap();
    let v = if case.tls13 {
        Versions::TLS13_ONLY
    } else {
        Versions::TLS12_ONLY
    };
    c.versions = v;
    s.versions = v;
    c.groups = vec![case.group];
    c.key_share_groups = vec![case.group];
    s.groups = vec![case.group];
    c.suites13 = vec![CipherSuite::TLS13_AES_128_GCM_SHA256];
    s.suites13 = c.suites13.clone();
    let s12 = if matches!(case.key, Key::Rsa(_)) {
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    } else {
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    };
    c.suites12 = vec![s12];
    s.suites12 = vec![s12];
    Side {
        server: ServerThread::new(move |sock| Connection::server(sock, s.clone()).is_ok()),
        client: Box::new(move |sock| {
            Connection::client(sock, c.clone(), Some("localhost")).is_ok()
        }),
    }
}

fn rustls_side(case: &Case, pki: &key_pki::KeyPki) -> Side {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = vec![rustls_group(case.group)];
    provider.cipher_suites = vec![if case.tls13 {
        cipher_suite::TLS13_AES_128_GCM_SHA256
    } else if matches!(case.key, Key::Rsa(_)) {
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    } else {
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    }];
    let provider = Arc::new(provider);
    let version: &'static rustls::SupportedProtocolVersion = if case.tls13 {
        &rustls::version::TLS13
    } else {
        &rustls::version::TLS12
    };
    let mut roots = rustls::RootCertStore::empty();
    for c in verify::certs_from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap() {
        roots.add(c).unwrap();
    }
    let mut ccfg = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    ccfg.resumption = rustls::client::Resumption::disabled();
    let ccfg = Arc::new(ccfg);
    let chain = verify::certs_from_pem(&std::fs::read(&pki.cert).unwrap()).unwrap();
    let key = rustls_pemfile::private_key(&mut &std::fs::read(&pki.key).unwrap()[..])
        .unwrap()
        .unwrap();
    let mut scfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    scfg.send_tls13_tickets = 0;
    scfg.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    let scfg = Arc::new(scfg);
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    Side {
        server: ServerThread::new(move |mut sock| {
            let mut conn = rustls::ServerConnection::new(Arc::clone(&scfg)).unwrap();
            while conn.is_handshaking() {
                if conn.complete_io(&mut sock).is_err() {
                    return false;
                }
            }
            // The server's last flight (TLS 1.2: its Finished) goes out.
            while conn.wants_write() {
                if conn.write_tls(&mut sock).is_err() {
                    return false;
                }
            }
            true
        }),
        client: Box::new(move |mut sock| {
            let mut conn = rustls::ClientConnection::new(Arc::clone(&ccfg), name.clone()).unwrap();
            while conn.is_handshaking() {
                if conn.complete_io(&mut sock).is_err() {
                    return false;
                }
            }
            while conn.wants_write() {
                if conn.write_tls(&mut sock).is_err() {
                    return false;
                }
            }
            true
        }),
    }
}

fn handshakes(rounds: usize, filter: &str) {
    println!(
        "{:<34} {:>12} {:>12} {:>9} {:>13} {:>13}",
        "handshake", "sealwire", "rustls", "ratio", "sw server/s", "rl server/s"
    );
    for case in CASES.iter().filter(|c| c.name.contains(filter)) {
        let pki = key_pki::make(Key::P256, case.key);
        let mut sw = sealwire_side(case, &pki);
        let mut rl = rustls_side(case, &pki);
        // Warm up both (page faults, lazy statics, CPU frequency).
        sw.run(case.batch);
        rl.run(case.batch);
        let (mut sw_cpu, mut rl_cpu) = (Vec::new(), Vec::new());
        let run = ab::alternate_pair(
            rounds,
            &mut || {
                let (wall, cpu) = sw.run(case.batch);
                sw_cpu.push(cpu);
                wall
            },
            &mut || {
                let (wall, cpu) = rl.run(case.batch);
                rl_cpu.push(cpu);
                wall
            },
        );
        let (a, b, ratio) = run.medians();
        let per_s = |v: &mut Vec<f64>| 1e9 / ab::median(v);
        println!(
            "{:<34} {:>9.1} us {:>9.1} us {:>8.3}x {:>13.0} {:>13.0}",
            case.name,
            a / 1e3,
            b / 1e3,
            ratio,
            per_s(&mut sw_cpu),
            per_s(&mut rl_cpu)
        );
    }
}

/// Median microseconds per call of `f` over `rounds` batches of `iters`.
fn part(name: &str, filter: &str, rounds: usize, iters: usize, f: &mut dyn FnMut()) {
    if !name.contains(filter) {
        return;
    }
    f();
    let mut v: Vec<f64> = (0..rounds).map(|_| ab::time_ns(iters, f)).collect();
    println!("{:<44} {:>9.1} us", name, ab::median(&mut v) / 1e3);
}

fn parts(rounds: usize, filter: &str) {
    println!("\nhandshake parts (median per call)");
    for g in [
        group::X25519,
        group::SECP256R1,
        group::SECP384R1,
        group::X25519MLKEM768,
    ] {
        let peer = KeyExchange::generate(g).unwrap();
        let share = peer.public_key().to_vec();
        let response = kx::respond(g, &share).unwrap().public;
        let n = group::name(g);
        part(
            &format!("kx_{n}_client_keygen"),
            filter,
            rounds,
            20,
            &mut || {
                black_box(KeyExchange::generate(g).unwrap());
            },
        );
        part(
            &format!("kx_{n}_server_respond"),
            filter,
            rounds,
            20,
            &mut || {
                black_box(kx::respond(g, &share).unwrap());
            },
        );
        // Client keygen, server respond, client agree: one whole exchange.
        part(
            &format!("kx_{n}_whole_exchange"),
            filter,
            rounds,
            20,
            &mut || {
                let k = KeyExchange::generate(g).unwrap();
                let r = kx::respond(g, k.public_key()).unwrap();
                black_box(k.agree(&r.public).unwrap());
            },
        );
        black_box(response);
    }
    let content = verify::tls13_signed_content(true, &[7u8; 32]);
    for (key, s) in [
        (Key::P256, scheme::ECDSA_SECP256R1_SHA256),
        (Key::P384, scheme::ECDSA_SECP384R1_SHA384),
        (Key::Ed25519, scheme::ED25519),
        (Key::Rsa(2048), scheme::RSA_PSS_RSAE_SHA256),
    ] {
        let pki = key_pki::make(Key::P256, key);
        let signer = SigningKey::from_pem(&std::fs::read(&pki.key).unwrap()).unwrap();
        let ee = verify::certs_from_pem(&std::fs::read(&pki.cert).unwrap()).unwrap()[0].to_vec();
        let sig = signer.sign(s, &content).unwrap();
        let n = scheme::name(s);
        part(&format!("sign_{n}"), filter, rounds, 10, &mut || {
            black_box(signer.sign(s, &content).unwrap());
        });
        part(
            &format!("verify_{n}_certificate_verify"),
            filter,
            rounds,
            10,
            &mut || {
                verify::verify_signed(&ee, s, &content, &sig, true).unwrap();
            },
        );
        let roots = RootStore::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap();
        let chain = vec![ee.clone()];
        part(
            &format!("webpki_chain_and_name_{}_leaf", signer.kind_name()),
            filter,
            rounds,
            10,
            &mut || {
                verify::verify_server_chain(
                    &chain,
                    &roots,
                    "localhost",
                    pki_types::UnixTime::now(),
                )
                .unwrap();
            },
        );
    }
    part("key_schedule_one_side", filter, rounds, 50, &mut || {
        let hs = EarlySecret::new(HashAlg::Sha256).into_handshake(&[3u8; 32]);
        let (c, s) = hs.traffic_secrets(&[1u8; 32]);
        let fin = s.finished(&[2u8; 32]);
        let app = hs.into_master().application_secrets(&[4u8; 32]);
        black_box((c.key_iv(16).key, fin, app.client.key_iv(16).key));
    });
}

fn main() {
    // `cargo bench` passes `--bench`; the first number is ROUNDS, the first
    // other word FILTER.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rounds = args.iter().find_map(|a| a.parse().ok()).unwrap_or(21usize);
    let filter = args
        .iter()
        .find(|a| a.parse::<usize>().is_err())
        .cloned()
        .unwrap_or_default();
    println!(
        "CPU: {}; {rounds} alternating rounds; times are wall clock per full handshake",
        ab::cpu_model()
    );
    handshakes(rounds, &filter);
    parts(rounds, &filter);
}
