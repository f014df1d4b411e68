//! `sealwire serve` and `sealwire connect`: the TLS front end on the
//! command line. Diagnostics and `--trace` go to standard error; standard
//! output carries only application data.

use clap::Args;
use sealwire::conn::Connection;
use sealwire::handshake::kx::group;
use sealwire::handshake::messages::suite;
use sealwire::handshake::verify::{RootStore, ServerVerification};
use sealwire::handshake::{
    ClientConfig, Error, KeyLogFile, KeyLogSink, ServerConfig, Trace, Versions,
};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Options shared by both commands.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Only TLS 1.2.
    #[arg(long = "tls1.2", conflicts_with = "tls13")]
    tls12: bool,
    /// Only TLS 1.3.
    #[arg(long = "tls1.3")]
    tls13: bool,
    /// Print each handshake step to standard error (never secret values).
    #[arg(long)]
    trace: bool,
    /// Append the session secrets to FILE in the NSS key log format.
    #[arg(long, value_name = "FILE")]
    keylog: Option<PathBuf>,
    /// Key exchange groups, preferred first: X25519MLKEM768 (TLS 1.3 only),
    /// x25519, P-256, P-384 (comma separated). Default: all four, in that
    /// order.
    #[arg(long, value_delimiter = ',')]
    groups: Vec<String>,
    /// Suites, preferred first: TLS 1.3 TLS_AES_128_GCM_SHA256,
    /// TLS_AES_256_GCM_SHA384; TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256,
    /// ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-RSA-AES128-GCM-SHA256,
    /// ECDHE-RSA-AES256-GCM-SHA384 (OpenSSL or IANA names).
    #[arg(long, value_delimiter = ',')]
    suites: Vec<String>,
    /// Seconds a read may wait before the connection is abandoned.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Application protocols (ALPN, RFC 7301), preferred first, comma
    /// separated (e.g. h2,http/1.1). A client offers them; a server picks
    /// its most preferred one the client offers and refuses a client that
    /// offers none of them (no_application_protocol).
    #[arg(long, value_delimiter = ',')]
    alpn: Vec<String>,
    /// Update our sending keys (TLS 1.3 KeyUpdate) after every N records,
    /// for testing; without it keys are updated before the AES-GCM usage
    /// limit and when the peer asks.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    key_update_every: Option<u64>,
}

/// `sealwire serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Certificate chain (PEM, end-entity first).
    #[arg(long)]
    cert: PathBuf,
    /// Private key (PEM as OpenSSL writes it: PKCS#8, SEC 1 or PKCS#1;
    /// EC P-256 or P-384, Ed25519, RSA 2048-8192). It must belong to the
    /// certificate.
    #[arg(long)]
    key: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one, printed to standard error).
    #[arg(long, default_value_t = 4433)]
    port: u16,
    /// Exit after this many connections (default: serve forever). The exit
    /// status is non-zero if any of them failed.
    #[arg(long)]
    max_connections: Option<usize>,
    #[command(flatten)]
    common: Common,
}

/// `sealwire connect`.
#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// HOST:PORT to connect to.
    addr: String,
    /// CA certificates (PEM) to verify the server with.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// DANGEROUS: do not verify the server certificate at all.
    #[arg(long)]
    insecure: bool,
    /// Name to send (SNI) and verify (default: HOST).
    #[arg(long)]
    servername: Option<String>,
    /// Groups to send key shares for in the first ClientHello (default: the
    /// first of --groups).
    #[arg(long, value_delimiter = ',')]
    key_shares: Vec<String>,
    /// Send a KeyUpdate (asking the server to update too) after the handshake.
    #[arg(long)]
    key_update: bool,
    #[command(flatten)]
    common: Common,
}

fn parse_group(name: &str) -> Result<u16, String> {
    match name.to_ascii_lowercase().as_str() {
        "x25519mlkem768" => Ok(group::X25519MLKEM768),
        "x25519" => Ok(group::X25519),
        "p-256" | "p256" | "secp256r1" | "prime256v1" => Ok(group::SECP256R1),
        "p-384" | "p384" | "secp384r1" => Ok(group::SECP384R1),
        _ => Err(format!(
            "unknown group {name:?} (known: X25519MLKEM768, x25519, P-256, P-384)"
        )),
    }
}

fn parse_suite(name: &str) -> Result<u16, String> {
    match name.to_ascii_uppercase().as_str() {
        "TLS_AES_128_GCM_SHA256" | "AES128" | "AES-128" => Ok(suite::TLS13_AES_128_GCM_SHA256),
        "TLS_AES_256_GCM_SHA384" | "AES256" | "AES-256" => Ok(suite::TLS13_AES_256_GCM_SHA384),
        // TLS 1.2 suites by IANA or OpenSSL name.
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" | "ECDHE-ECDSA-AES128-GCM-SHA256" => {
            Ok(suite::ECDHE_ECDSA_AES_128_GCM_SHA256)
        }
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" | "ECDHE-ECDSA-AES256-GCM-SHA384" => {
            Ok(suite::ECDHE_ECDSA_AES_256_GCM_SHA384)
        }
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" | "ECDHE-RSA-AES128-GCM-SHA256" => {
            Ok(suite::ECDHE_RSA_AES_128_GCM_SHA256)
        }
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" | "ECDHE-RSA-AES256-GCM-SHA384" => {
            Ok(suite::ECDHE_RSA_AES_256_GCM_SHA384)
        }
        _ => Err(format!(
            "unknown suite {name:?} (known: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, \
             ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-ECDSA-AES256-GCM-SHA384, \
             ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384)"
        )),
    }
}

/// Splits `--suites` into the TLS 1.3 and TLS 1.2 lists (`None`: keep the
/// defaults of that version).
fn split_suites(all: Vec<u16>) -> (Option<Vec<u16>>, Option<Vec<u16>>) {
    let (s12, s13): (Vec<u16>, Vec<u16>) = all
        .into_iter()
        .partition(|s| sealwire::handshake::tls12::suite_params(*s).is_some());
    let some = |v: Vec<u16>| (!v.is_empty()).then_some(v);
    (some(s13), some(s12))
}

struct Parsed {
    versions: Versions,
    groups: Option<Vec<u16>>,
    suites: Option<Vec<u16>>,
    suites12: Option<Vec<u16>>,
    trace: Trace,
    keylog: KeyLogSink,
    alpn: Vec<Vec<u8>>,
}

fn parse_common(c: &Common, who: &'static str) -> Result<Parsed, String> {
    let versions = match (c.tls12, c.tls13) {
        (true, _) => Versions::TLS12_ONLY,
        (_, true) => Versions::TLS13_ONLY,
        _ => Versions::BOTH,
    };
    let groups = if c.groups.is_empty() {
        None
    } else {
        Some(
            c.groups
                .iter()
                .map(|g| parse_group(g))
                .collect::<Result<_, _>>()?,
        )
    };
    let (suites, suites12) = split_suites(
        c.suites
            .iter()
            .map(|s| parse_suite(s))
            .collect::<Result<_, _>>()?,
    );
    let trace = if c.trace {
        Trace::to(move |s| eprintln!("[{who}] {s}"))
    } else {
        Trace::off()
    };
    let keylog = match &c.keylog {
        Some(p) => KeyLogSink(Some(Arc::new(
            KeyLogFile::open(p).map_err(|e| format!("--keylog {}: {e}", p.display()))?,
        ))),
        None => KeyLogSink::default(),
    };
    let alpn: Vec<Vec<u8>> = c.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    sealwire::handshake::alpn::check_config(&alpn).map_err(|e| format!("--alpn: {e}"))?;
    Ok(Parsed {
        versions,
        groups,
        suites,
        suites12,
        trace,
        keylog,
        alpn,
    })
}

fn describe(e: &Error) -> String {
    match e.alert() {
        Some(a) => format!("{e} (sent alert {a})"),
        None => e.to_string(),
    }
}

/// Runs the server.
pub fn serve(args: ServeArgs) -> ExitCode {
    match serve_inner(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sealwire serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve_inner(args: ServeArgs) -> Result<bool, String> {
    let p = parse_common(&args.common, "server")?;
    let cert = std::fs::read(&args.cert).map_err(|e| format!("{}: {e}", args.cert.display()))?;
    // The key's PEM text is wiped once the config holds the key.
    let key = zeroize::Zeroizing::new(
        std::fs::read(&args.key).map_err(|e| format!("{}: {e}", args.key.display()))?,
    );
    let mut config = ServerConfig::from_pem(&cert, &key).map_err(|e| {
        format!(
            "--cert {} --key {}: {e}",
            args.cert.display(),
            args.key.display()
        )
    })?;
    config.versions = p.versions;
    if let Some(g) = p.groups {
        config.groups = g;
    }
    if let Some(s) = p.suites {
        config.suites13 = s;
    }
    if let Some(s) = p.suites12 {
        config.suites12 = s;
    }
    config.trace = p.trace;
    config.keylog = p.keylog;
    config.alpn_protocols = p.alpn;
    let listener = TcpListener::bind(("127.0.0.1", args.port)).map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("sealwire serve: listening on {local}");
    let timeout = Duration::from_secs(args.common.timeout.max(1));
    let key_update_every = args.common.key_update_every;
    let mut handles = Vec::new();
    let mut accepted = 0usize;
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("sealwire serve: accept: {e}");
                continue;
            }
        };
        let config = config.clone();
        handles.push(std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into());
            match serve_one(stream, config, timeout, key_update_every) {
                Ok(n) => {
                    eprintln!("sealwire serve: {peer}: echoed {n} bytes, closed cleanly");
                    true
                }
                Err(e) => {
                    eprintln!("sealwire serve: {peer}: {}", describe(&e));
                    false
                }
            }
        }));
        accepted += 1;
        if args.max_connections.is_some_and(|m| accepted >= m) {
            break;
        }
    }
    let mut ok = true;
    for h in handles {
        ok &= h.join().unwrap_or(false);
    }
    Ok(ok)
}

fn serve_one(
    stream: TcpStream,
    config: ServerConfig,
    timeout: Duration,
    key_update_every: Option<u64>,
) -> Result<u64, Error> {
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    let mut conn = Connection::server(stream, config)?;
    if key_update_every.is_some() {
        conn.set_key_update_every(key_update_every)?;
    }
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            conn.close()?;
            return Ok(total);
        }
        conn.write_all(&buf[..n])?;
        total += n as u64;
    }
}

/// Runs the client.
pub fn connect(args: ConnectArgs) -> ExitCode {
    match connect_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealwire connect: {e}");
            ExitCode::FAILURE
        }
    }
}

fn connect_inner(args: ConnectArgs) -> Result<(), String> {
    let p = parse_common(&args.common, "client")?;
    let verification = match (&args.ca, args.insecure) {
        (Some(_), true) => return Err("--ca and --insecure exclude each other".into()),
        (Some(ca), false) => {
            let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
            ServerVerification::Roots(Arc::new(
                RootStore::from_pem(&pem).map_err(|e| e.to_string())?,
            ))
        }
        (None, true) => {
            eprintln!(
                "sealwire connect: WARNING: --insecure: the server certificate is NOT verified; \
                 anyone can impersonate this server"
            );
            ServerVerification::DangerousNoVerificationInsecure
        }
        (None, false) => return Err("give --ca FILE to verify the server (or --insecure)".into()),
    };
    let mut config = ClientConfig::new(verification);
    config.versions = p.versions;
    if let Some(g) = p.groups {
        config.key_share_groups = vec![g[0]];
        config.groups = g;
    }
    if !args.key_shares.is_empty() {
        config.key_share_groups = args
            .key_shares
            .iter()
            .map(|g| parse_group(g))
            .collect::<Result<_, _>>()?;
    }
    if let Some(s) = p.suites {
        config.suites13 = s;
    }
    if let Some(s) = p.suites12 {
        config.suites12 = s;
    }
    config.trace = p.trace;
    config.keylog = p.keylog;
    config.alpn_protocols = p.alpn;

    let host = args
        .addr
        .rsplit_once(':')
        .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']').to_string())
        .ok_or_else(|| format!("{}: expected HOST:PORT", args.addr))?;
    let name = args.servername.clone().unwrap_or(host);
    let timeout = Duration::from_secs(args.common.timeout.max(1));
    let addr = args
        .addr
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", args.addr))?
        .next()
        .ok_or_else(|| format!("{}: no address", args.addr))?;
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let offered_alpn = !config.alpn_protocols.is_empty();
    let mut conn = Connection::client(stream, config, Some(&name)).map_err(|e| describe(&e))?;
    match conn.alpn_protocol() {
        Some(p) => eprintln!(
            "sealwire connect: ALPN protocol: {}",
            sealwire::handshake::alpn::display(p)
        ),
        None if offered_alpn => eprintln!("sealwire connect: no ALPN protocol negotiated"),
        None => {}
    }
    if args.common.key_update_every.is_some() {
        conn.set_key_update_every(args.common.key_update_every)
            .map_err(|e| format!("--key-update-every: {}", describe(&e)))?;
    }
    if args.key_update {
        conn.key_update(true).map_err(|e| describe(&e))?;
    }
    let writer = conn.writer().map_err(|e| describe(&e))?;
    let pump = std::thread::spawn(move || -> Result<(), Error> {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = stdin.read(&mut buf)?;
            if n == 0 {
                return writer.close();
            }
            writer.write_all(&buf[..n])?;
        }
    });
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = conn.read(&mut buf).map_err(|e| describe(&e))?;
        if n == 0 {
            break;
        }
        stdout.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        // Hand data on as it comes: stdout is line buffered, and a reader
        // waiting for the tail of binary data must not wait for a newline.
        stdout.flush().map_err(|e| e.to_string())?;
    }
    stdout.flush().map_err(|e| e.to_string())?;
    // The server closed. Our own close_notify goes out when stdin ends; a
    // server that closed first may be gone, so only wait for stdin while the
    // peer can still receive.
    if pump.is_finished() {
        pump.join()
            .map_err(|_| "stdin thread panicked".to_string())?
            .map_err(|e| describe(&e))?;
    } else {
        conn.close().map_err(|e| describe(&e))?;
    }
    Ok(())
}
