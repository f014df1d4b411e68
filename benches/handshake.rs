//! Full TLS 1.3 handshakes (X25519, ECDSA P-256 certificate, AES-128-GCM)
//! with client and server in one process over a Unix socket pair, sealwire
//! against rustls (its default provider, aws-lc-rs) in the same run, plus
//! the parts that dominate a handshake, to show where the time goes.
//!
//! Both libraries run the same harness: a server thread handshakes each
//! socket it is handed while the measured thread runs the client, so thread
//! hand-offs cost both the same. rustls is configured to match sealwire:
//! X25519 only (no post-quantum hybrid), TLS 1.3 only, no session tickets.
//!
//! Run: `cargo bench --bench handshake -- --warm-up-time 1 --measurement-time 3`

#[path = "../tests/common/pki.rs"]
mod pki;

use criterion::{criterion_group, criterion_main, Criterion};
use pki::{make_pki, KeyKind};
use sealwire::conn::Connection;
use sealwire::handshake::keyschedule::EarlySecret;
use sealwire::handshake::kx::{group, KeyExchange};
use sealwire::handshake::transcript::HashAlg;
use sealwire::handshake::verify::{self, RootStore, ServerVerification, SigningKey};
use sealwire::handshake::{ClientConfig, ServerConfig, Versions};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::sync::Arc;

/// A server thread that handshakes each stream sent to it and reports back.
struct ServerThread {
    tx: Option<mpsc::Sender<UnixStream>>,
    done: mpsc::Receiver<bool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    fn new(mut serve: impl FnMut(UnixStream) -> bool + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel::<UnixStream>();
        let (done_tx, done) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            for s in rx {
                let ok = serve(s);
                if done_tx.send(ok).is_err() {
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

    fn handshake(&self, client: impl FnOnce(UnixStream) -> bool) {
        let (a, b) = UnixStream::pair().unwrap();
        self.tx.as_ref().unwrap().send(b).unwrap();
        assert!(client(a), "client handshake failed");
        assert!(self.done.recv().unwrap(), "server handshake failed");
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

fn bench_handshakes(c: &mut Criterion) {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    let ca_pem = std::fs::read(&pki.ca).unwrap();
    let cert_pem = std::fs::read(&pki.cert).unwrap();
    let key_pem = std::fs::read(&pki.key).unwrap();

    // sealwire.
    let roots = Arc::new(RootStore::from_pem(&ca_pem).unwrap());
    let mut ccfg = ClientConfig::new(ServerVerification::Roots(roots));
    ccfg.versions = Versions::TLS13_ONLY;
    ccfg.groups = vec![group::X25519];
    ccfg.key_share_groups = vec![group::X25519];
    ccfg.suites13 = vec![sealwire::handshake::messages::suite::TLS13_AES_128_GCM_SHA256];
    let mut scfg = ServerConfig::from_pem(&cert_pem, &key_pem).unwrap();
    scfg.versions = Versions::TLS13_ONLY;
    let sw_server = ServerThread::new(move |s| Connection::server(s, scfg.clone()).is_ok());

    // rustls, default provider restricted to the same parameters.
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519];
    provider.cipher_suites =
        vec![rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256];
    let provider = Arc::new(provider);
    let mut rroots = rustls::RootCertStore::empty();
    for c in verify::certs_from_pem(&ca_pem).unwrap() {
        rroots.add(c).unwrap();
    }
    let rclient = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(rroots)
            .with_no_client_auth(),
    );
    let chain = verify::certs_from_pem(&cert_pem).unwrap();
    let key = rustls_pemfile::private_key(&mut &key_pem[..])
        .unwrap()
        .unwrap();
    let mut rserver_cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    rserver_cfg.send_tls13_tickets = 0;
    let rserver_cfg = Arc::new(rserver_cfg);
    let rl_server = ServerThread::new(move |mut s| {
        let mut conn = rustls::ServerConnection::new(Arc::clone(&rserver_cfg)).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut s).is_err() {
                return false;
            }
        }
        true
    });
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();

    let mut g = c.benchmark_group("tls13_handshake_x25519_ecdsa_p256");
    g.bench_function("sealwire", |b| {
        b.iter(|| {
            sw_server.handshake(|s| Connection::client(s, ccfg.clone(), Some("localhost")).is_ok())
        })
    });
    g.bench_function("rustls", |b| {
        b.iter(|| {
            rl_server.handshake(|mut s| {
                let mut conn =
                    rustls::ClientConnection::new(Arc::clone(&rclient), name.clone()).unwrap();
                while conn.is_handshaking() {
                    if conn.complete_io(&mut s).is_err() {
                        return false;
                    }
                }
                true
            })
        })
    });
    g.finish();

    // Where the time goes: the expensive steps of one handshake (both sides).
    let mut g = c.benchmark_group("handshake_parts");
    g.bench_function("x25519_keygen_and_agree", |b| {
        let peer = KeyExchange::generate(group::X25519).unwrap();
        let peer_pub = peer.public_key().to_vec();
        b.iter(|| {
            let k = KeyExchange::generate(group::X25519).unwrap();
            k.agree(&peer_pub).unwrap()
        })
    });
    let signer = SigningKey::from_pem(&key_pem).unwrap();
    let ee = verify::certs_from_pem(&cert_pem).unwrap()[0].to_vec();
    let content = verify::tls13_signed_content(true, &[7u8; 32]);
    let sig = signer
        .sign(verify::scheme::ECDSA_SECP256R1_SHA256, &content)
        .unwrap();
    g.bench_function("ecdsa_p256_sign", |b| {
        b.iter(|| {
            signer
                .sign(verify::scheme::ECDSA_SECP256R1_SHA256, &content)
                .unwrap()
        })
    });
    g.bench_function("ecdsa_p256_verify_certificate_verify", |b| {
        b.iter(|| {
            verify::verify_signed(
                &ee,
                verify::scheme::ECDSA_SECP256R1_SHA256,
                &content,
                &sig,
                true,
            )
            .unwrap()
        })
    });
    let roots = RootStore::from_pem(&ca_pem).unwrap();
    let chain = vec![ee.clone()];
    g.bench_function("webpki_chain_and_name", |b| {
        b.iter(|| {
            verify::verify_server_chain(&chain, &roots, "localhost", pki_types::UnixTime::now())
                .unwrap()
        })
    });
    g.bench_function("key_schedule_one_side", |b| {
        b.iter(|| {
            let hs = EarlySecret::new(HashAlg::Sha256).into_handshake(&[3u8; 32]);
            let (c, s) = hs.traffic_secrets(&[1u8; 32]);
            let fin = s.finished(&[2u8; 32]);
            let app = hs.into_master().application_secrets(&[4u8; 32]);
            (c.key_iv(16).key, fin, app.client.key_iv(16).key)
        })
    });
    g.finish();
}

criterion_group!(benches, bench_handshakes);
criterion_main!(benches);
