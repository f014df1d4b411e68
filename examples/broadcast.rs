//! One server, many rustls connections, one message fanned out to all of
//! them on sealwire's batch path.
//!
//! The server accepts `--connections` TLS connections on 127.0.0.1 and
//! handshakes each with rustls (aws-lc-rs provider, secret extraction on).
//! Then each connection's sending keys move to a sealwire `Sealer`
//! (`sealwire::rustls::import`), and one `--message-bytes` message is
//! sealed for every connection in one `seal_records` call, followed by a
//! close_notify alert the same way. The clients are plain rustls clients
//! (aws-lc-rs provider, several connections per thread): each reads to the
//! close_notify and checks the message byte for byte. Exits non-zero if any
//! connection fails.
//!
//! ```text
//! cargo run --release --features rustls --example broadcast -- \
//!     --connections 500 --message-bytes 1024 [--tls12] --cert C --key K --ca CA
//! ```

use bytes::BytesMut;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use sealwire::record::batch::{seal_records, RecordJob};
use sealwire::record::{ContentType, Sealer};
use sealwire::rustls::import;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    connections: usize,
    message_bytes: usize,
    tls12: bool,
    cert: String,
    key: String,
    ca: String,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        connections: 100,
        message_bytes: 1024,
        tls12: false,
        cert: String::new(),
        key: String::new(),
        ca: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--connections" => a.connections = value()?.parse().map_err(|e| format!("{e}"))?,
            "--message-bytes" => a.message_bytes = value()?.parse().map_err(|e| format!("{e}"))?,
            "--tls12" => a.tls12 = true,
            "--cert" => a.cert = value()?,
            "--key" => a.key = value()?,
            "--ca" => a.ca = value()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.cert.is_empty() || a.key.is_empty() || a.ca.is_empty() {
        return Err("--cert, --key and --ca are required".into());
    }
    if a.message_bytes > sealwire::record::MAX_PLAINTEXT_LEN {
        return Err("--message-bytes must fit one record (16384)".into());
    }
    Ok(a)
}

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn load_certs(path: &str) -> Res<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path)?;
    Ok(rustls_pemfile::certs(&mut pem.as_slice()).collect::<Result<_, _>>()?)
}

fn load_key(path: &str) -> Res<PrivateKeyDer<'static>> {
    let pem = std::fs::read(path)?;
    rustls_pemfile::private_key(&mut pem.as_slice())?.ok_or_else(|| "no private key".into())
}

/// The message: printable, deterministic, so clients can check it.
fn message(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Reads everything up to the peer's close_notify and compares.
fn client_side(
    config: Arc<ClientConfig>,
    port: u16,
    count: usize,
    expect: Arc<Vec<u8>>,
) -> Res<()> {
    let mut conns = Vec::new();
    for _ in 0..count {
        let mut tcp = TcpStream::connect(("127.0.0.1", port))?;
        tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut conn = ClientConnection::new(config.clone(), ServerName::try_from("localhost")?)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        conns.push(rustls::StreamOwned::new(conn, tcp));
    }
    for mut tls in conns {
        let mut got = Vec::new();
        tls.read_to_end(&mut got)?;
        if got != *expect {
            return Err(format!(
                "message changed: {} bytes instead of {}",
                got.len(),
                expect.len()
            )
            .into());
        }
    }
    Ok(())
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("broadcast: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&a) {
        eprintln!("broadcast: FAILED: {e}");
        std::process::exit(1);
    }
}

fn run(a: &Args) -> Res<()> {
    let versions: &[&rustls::SupportedProtocolVersion] = if a.tls12 {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13]
    };
    let base = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut server_cfg = ServerConfig::builder_with_provider(base.clone())
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_single_cert(load_certs(&a.cert)?, load_key(&a.key)?)?;
    server_cfg.enable_secret_extraction = true;
    let server_cfg = Arc::new(server_cfg);
    let mut roots = RootCertStore::empty();
    for c in load_certs(&a.ca)? {
        roots.add(c)?;
    }
    let client_cfg = Arc::new(
        ClientConfig::builder_with_provider(base)
            .with_protocol_versions(versions)?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let msg = Arc::new(message(a.message_bytes));
    let threads = 8.min(a.connections.max(1));
    let clients: Vec<_> = (0..threads)
        .map(|t| {
            let share = a.connections / threads + usize::from(t < a.connections % threads);
            let (cfg, m) = (client_cfg.clone(), msg.clone());
            std::thread::spawn(move || client_side(cfg, port, share, m))
        })
        .collect();

    // rustls handshakes every connection, then hands its sending keys over.
    let start = Instant::now();
    let mut streams = Vec::with_capacity(a.connections);
    let mut sealers: Vec<Sealer> = Vec::with_capacity(a.connections);
    for _ in 0..a.connections {
        let (mut tcp, _) = listener.accept()?;
        tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut conn = ServerConnection::new(server_cfg.clone())?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        // Session tickets and anything else rustls still has to send.
        while conn.wants_write() {
            conn.write_tls(&mut tcp)?;
        }
        let suite = conn.negotiated_cipher_suite().ok_or("no suite")?;
        let secrets = conn.dangerous_extract_secrets()?;
        sealers.push(import::sealer(suite, &secrets.tx)?);
        streams.push(tcp);
    }
    let handshakes = start.elapsed();

    // One batch for the message, one for close_notify (RFC 8446 6.1).
    let fan_start = Instant::now();
    for (typ, payload) in [
        (ContentType::ApplicationData, msg.as_slice()),
        (ContentType::Alert, &[1u8, 0][..]),
    ] {
        // `with_payload`: the call copies the payload into each buffer,
        // a few records ahead of sealing it.
        let mut bufs: Vec<BytesMut> = vec![BytesMut::new(); sealers.len()];
        let mut jobs: Vec<RecordJob<'_>> = sealers
            .iter_mut()
            .zip(bufs.iter_mut())
            .map(|(s, b)| RecordJob::with_payload(s, typ, b, payload))
            .collect();
        for r in seal_records(&mut jobs) {
            r?;
        }
        drop(jobs);
        for (tcp, b) in streams.iter_mut().zip(&bufs) {
            tcp.write_all(b)?;
        }
    }
    let fan_out = fan_start.elapsed();
    for s in &streams {
        s.shutdown(std::net::Shutdown::Write)?;
    }
    let mut failed = 0;
    for c in clients {
        match c.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("broadcast: client: {e}");
                failed += 1;
            }
            Err(_) => failed += 1,
        }
    }
    if failed > 0 {
        return Err(format!("{failed} client threads failed").into());
    }
    println!(
        "broadcast: {} connections ({}), {} B message: every client read it intact; \
         handshakes {:.1} ms, seal + write {:.2} ms",
        a.connections,
        if a.tls12 { "TLS 1.2" } else { "TLS 1.3" },
        a.message_bytes,
        handshakes.as_secs_f64() * 1e3,
        fan_out.as_secs_f64() * 1e3
    );
    Ok(())
}
