//! An HTTPS server (HTTP/1.1 and HTTP/2, by ALPN) on tokio with hyper over
//! tokio-rustls, its records sealed and opened by sealwire through
//! `sealwire::rustls::provider()`.
//!
//! - `GET /`         a small HTML page
//! - `GET /download` the bytes of `--file`, as `application/octet-stream`
//!
//! Every response carries `x-sealwire-suite`: the negotiated suite, and
//! whether sealwire carries it. The server listens on `--addr` (default
//! 127.0.0.1:0) and writes the port it got to `--port-file` if given.
//!
//! ```text
//! cargo run --release --features rustls --example https_server -- \
//!     --cert leaf.pem --key leaf.key --file big.bin --port-file port.txt
//! curl --cacert ca.pem https://localhost:$(cat port.txt)/download -o got.bin
//! ```

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Args {
    addr: String,
    cert: String,
    key: String,
    file: Option<String>,
    port_file: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:0".into(),
        cert: String::new(),
        key: String::new(),
        file: None,
        port_file: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => a.addr = value()?,
            "--cert" => a.cert = value()?,
            "--key" => a.key = value()?,
            "--file" => a.file = Some(value()?),
            "--port-file" => a.port_file = Some(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.cert.is_empty() || a.key.is_empty() {
        return Err("--cert and --key are required".into());
    }
    Ok(a)
}

fn load_certs(path: &str) -> Res<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path)?;
    Ok(rustls_pemfile::certs(&mut pem.as_slice()).collect::<Result<_, _>>()?)
}

fn load_key(path: &str) -> Res<PrivateKeyDer<'static>> {
    let pem = std::fs::read(path)?;
    rustls_pemfile::private_key(&mut pem.as_slice())?.ok_or_else(|| "no private key".into())
}

const PAGE: &str = "<!doctype html>\n<title>sealwire</title>\n\
<p>This page was sealed by sealwire's AES-GCM inside rustls.</p>\n";

/// What a response needs to know about its connection and the server.
struct Ctx {
    download: Bytes,
    suite: String,
}

async fn handle(
    req: Request<Incoming>,
    ctx: Arc<Ctx>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (status, kind, body) = match req.uri().path() {
        "/" => (
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from_static(PAGE.as_bytes()),
        ),
        "/download" => (
            StatusCode::OK,
            "application/octet-stream",
            ctx.download.clone(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found\n"),
        ),
    };
    let resp = Response::builder()
        .status(status)
        .header("content-type", kind)
        .header("x-sealwire-suite", ctx.suite.as_str())
        .body(Full::new(body));
    // The builder only fails on invalid header values; these are constant
    // or a suite name.
    Ok(resp.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

#[tokio::main]
async fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("https_server: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(a).await {
        eprintln!("https_server: {e}");
        std::process::exit(1);
    }
}

async fn run(a: Args) -> Res<()> {
    let provider = Arc::new(sealwire::rustls::provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .with_no_client_auth()
        .with_single_cert(load_certs(&a.cert)?, load_key(&a.key)?)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let download = match &a.file {
        Some(f) => Bytes::from(std::fs::read(f)?),
        None => Bytes::new(),
    };

    let listener = TcpListener::bind(&a.addr).await?;
    let port = listener.local_addr()?.port();
    if let Some(p) = &a.port_file {
        // Written whole, then renamed: a reader never sees half a number.
        let tmp = format!("{p}.tmp");
        std::fs::write(&tmp, format!("{port}\n"))?;
        std::fs::rename(&tmp, p)?;
    }
    eprintln!("https_server: listening on {}", listener.local_addr()?);

    loop {
        let (tcp, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let download = download.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("https_server: {peer}: handshake: {e}");
                    return;
                }
            };
            let (_, conn) = tls.get_ref();
            let suite = conn
                .negotiated_cipher_suite()
                .map(|s| {
                    let ours = sealwire::rustls::is_sealwire_suite(s);
                    format!("{:?}; sealwire={ours}", s.suite())
                })
                .unwrap_or_default();
            let alpn = conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            eprintln!("https_server: {peer}: {suite} alpn={alpn:?}");
            let ctx = Arc::new(Ctx { download, suite });
            let service = hyper::service::service_fn(move |req| handle(req, ctx.clone()));
            if let Err(e) = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await
            {
                eprintln!("https_server: {peer}: {e}");
            }
        });
    }
}
