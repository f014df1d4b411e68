//! `sealwire serve` and `sealwire connect`: the TLS front end on the
//! command line. Diagnostics and `--trace` go to standard error; standard
//! output carries only application data.

use clap::{Args, ValueEnum};
use sealwire::conn::Connection;
use sealwire::handshake::tls13::psk::SessionStore;
use sealwire::handshake::tls13::tickets::TicketKeys;
use sealwire::handshake::verify::{
    subject_summary, CertifiedKey, ClientAuth, RootStore, ServerVerification,
};
use sealwire::handshake::{
    ClientConfig, Error, KeyLogFile, KeyLogSink, ServerConfig, Trace, Versions,
};
use sealwire::wire::{CipherSuite, NamedGroup, ProtocolVersion};
use std::cell::Cell;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

mod signal;

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
    /// Ask clients for a certificate and verify it against these CA
    /// certificates (PEM); the certificate needs the clientAuth extended
    /// key usage if it has one.
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// With --client-ca: `required` refuses clients without a certificate
    /// (certificate_required in TLS 1.3, handshake_failure in TLS 1.2);
    /// `optional` serves them unauthenticated.
    #[arg(long, value_enum, requires = "client_ca", default_value_t = ClientAuthMode::Required)]
    client_auth: ClientAuthMode,
    /// Port on 127.0.0.1 (0 picks a free one, printed to standard error).
    #[arg(long, default_value_t = 4433)]
    port: u16,
    /// Stop accepting after this many connections, finish them and exit
    /// (default: serve until SIGINT/SIGTERM). The exit status is non-zero
    /// if any of them failed.
    #[arg(long, value_name = "N", alias = "max-connections")]
    exit_after: Option<usize>,
    /// Connections served at once; further ones wait in the listen backlog
    /// until one of these ends.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = parse_count)]
    max_concurrent: usize,
    /// Seconds from accept to the end of the handshake, however the peer
    /// paces its bytes.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    handshake_timeout: Duration,
    /// Seconds a connection may go without a byte read or written before it
    /// is dropped (default: --timeout). On SIGINT/SIGTERM, open connections
    /// get this long to finish.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    idle_timeout: Option<Duration>,
    /// TLS 1.3 session tickets sent after each handshake (0: none).
    #[arg(long, value_name = "N", default_value_t = 2)]
    tickets: usize,
    /// Seconds a ticket may be used (at most 604800, seven days).
    #[arg(long, value_name = "SECS", default_value_t = 7200,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    ticket_lifetime: u64,
    /// Seconds after which the ticket key is replaced by a new one
    /// (default: --ticket-lifetime); tickets under the key before it
    /// still open, older ones do not.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=604_800))]
    ticket_key_rotation: Option<u64>,
    /// Also resume in psk_ke mode (PSK without (EC)DHE: no forward
    /// secrecy) when the client offers only that.
    #[arg(long)]
    allow_psk_ke: bool,
    #[command(flatten)]
    common: Common,
}

/// A positive whole number.
fn parse_count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{s:?}: expected a whole number above 0")),
    }
}

/// Seconds, fractions allowed, at least a millisecond and at most a day.
fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.001..=86_400.0).contains(&x) => Ok(Duration::from_secs_f64(x)),
        _ => Err(format!("{s:?}: expected seconds from 0.001 to 86400")),
    }
}

/// Whether a client certificate is required (`serve --client-auth`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMode {
    /// Clients without a certificate are refused.
    Required,
    /// Clients without a certificate are served unauthenticated.
    Optional,
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
    /// Client certificate chain (PEM, end-entity first), sent when the
    /// server asks for one.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    cert: Option<PathBuf>,
    /// The client certificate's private key (PEM, as for `serve --key`).
    #[arg(long = "key", value_name = "FILE", requires = "cert")]
    client_key: Option<PathBuf>,
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
    /// Write the TLS 1.3 session tickets held at the end to FILE (the
    /// text format of `SessionStore::to_text`, versioned, with the server
    /// name), as `openssl s_client -sess_out`.
    #[arg(long, value_name = "FILE")]
    sess_out: Option<PathBuf>,
    /// Offer a ticket for the server name from FILE (written by
    /// --sess-out), as `openssl s_client -sess_in`.
    #[arg(long, value_name = "FILE")]
    sess_in: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

fn parse_group(name: &str) -> Result<NamedGroup, String> {
    match name.to_ascii_lowercase().as_str() {
        "x25519mlkem768" => Ok(NamedGroup::X25519Mlkem768),
        "x25519" => Ok(NamedGroup::X25519),
        "p-256" | "p256" | "secp256r1" | "prime256v1" => Ok(NamedGroup::Secp256r1),
        "p-384" | "p384" | "secp384r1" => Ok(NamedGroup::Secp384r1),
        _ => Err(format!(
            "unknown group {name:?} (known: X25519MLKEM768, x25519, P-256, P-384)"
        )),
    }
}

fn parse_suite(name: &str) -> Result<CipherSuite, String> {
    match name.to_ascii_uppercase().as_str() {
        "TLS_AES_128_GCM_SHA256" | "AES128" | "AES-128" => {
            Ok(CipherSuite::TLS13_AES_128_GCM_SHA256)
        }
        "TLS_AES_256_GCM_SHA384" | "AES256" | "AES-256" => {
            Ok(CipherSuite::TLS13_AES_256_GCM_SHA384)
        }
        // TLS 1.2 suites by IANA or OpenSSL name.
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" | "ECDHE-ECDSA-AES128-GCM-SHA256" => {
            Ok(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
        }
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" | "ECDHE-ECDSA-AES256-GCM-SHA384" => {
            Ok(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
        }
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" | "ECDHE-RSA-AES128-GCM-SHA256" => {
            Ok(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
        }
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" | "ECDHE-RSA-AES256-GCM-SHA384" => {
            Ok(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)
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
fn split_suites(all: Vec<CipherSuite>) -> (Option<Vec<CipherSuite>>, Option<Vec<CipherSuite>>) {
    let (s12, s13): (Vec<CipherSuite>, Vec<CipherSuite>) = all
        .into_iter()
        .partition(|s| s.version() == ProtocolVersion::Tls12);
    let some = |v: Vec<CipherSuite>| (!v.is_empty()).then_some(v);
    (some(s13), some(s12))
}

struct Parsed {
    versions: Versions,
    groups: Option<Vec<NamedGroup>>,
    suites: Option<Vec<CipherSuite>>,
    suites12: Option<Vec<CipherSuite>>,
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

/// Runs the server until `--exit-after` connections were served or SIGINT
/// or SIGTERM arrives. On a signal it stops accepting, gives the open
/// connections the idle timeout to finish and exits 0 if they all did (1 if
/// some had to be cut off; a second signal cuts them off at once).
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

/// How long a connection may take.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// From accept to the end of the handshake.
    handshake: Duration,
    /// Any one read or write.
    idle: Duration,
}

/// How long the accept loop sleeps when there is nothing to accept, and so
/// how late it sees a signal.
const POLL: Duration = Duration::from_millis(10);

/// The number of connections being served, and waits on it.
#[derive(Default)]
struct Slots {
    open: Mutex<usize>,
    changed: Condvar,
}

/// One connection's place among `--max-concurrent`, given back on drop
/// (also when the connection's thread panics).
struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        *self.0.lock() -= 1;
        self.0.changed.notify_all();
    }
}

impl Slots {
    /// The count; nothing panics while holding the lock, so a poisoned lock
    /// still holds a correct count.
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `limit` for fewer than `max` open connections.
    fn wait_below(&self, max: usize, limit: Duration) -> bool {
        let open = self.lock();
        let (open, _) = self
            .changed
            .wait_timeout_while(open, limit, |n| *n >= max)
            .unwrap_or_else(PoisonError::into_inner);
        *open < max
    }

    /// Waits up to `limit` for no open connection; how many are open.
    fn wait_empty(&self, limit: Duration) -> usize {
        let open = self.lock();
        let (open, _) = self
            .changed
            .wait_timeout_while(open, limit, |n| *n > 0)
            .unwrap_or_else(PoisonError::into_inner);
        *open
    }

    fn take(self: &Arc<Self>) -> Slot {
        *self.lock() += 1;
        Slot(Arc::clone(self))
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
    let limits = Limits {
        handshake: args.handshake_timeout,
        idle: args
            .idle_timeout
            .unwrap_or(Duration::from_secs(args.common.timeout.max(1))),
    };
    if let Some(ca) = &args.client_ca {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let roots = Arc::new(
            RootStore::from_pem(&pem).map_err(|e| format!("--client-ca {}: {e}", ca.display()))?,
        );
        config.client_auth = Some(match args.client_auth {
            ClientAuthMode::Required => ClientAuth::required(roots),
            ClientAuthMode::Optional => ClientAuth::optional(roots),
        });
    }
    config.alpn_protocols = p.alpn;
    config.tickets = args.tickets;
    config.ticket_lifetime = Duration::from_secs(args.ticket_lifetime);
    let rotation = args.ticket_key_rotation.unwrap_or(args.ticket_lifetime);
    config.ticket_keys = Arc::new(TicketKeys::new(Duration::from_secs(rotation)));
    config.allow_psk_ke = args.allow_psk_ke;
    let listener = TcpListener::bind(("127.0.0.1", args.port)).map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // Non-blocking, so that the loop sees a signal while no one connects
    // (see `signal`).
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    signal::install();
    eprintln!("sealwire serve: listening on {local}");
    let slots = Arc::new(Slots::default());
    let failed = Arc::new(AtomicBool::new(false));
    let key_update_every = args.common.key_update_every;
    let mut accepted = 0usize;
    let by_signal = loop {
        if signal::received() > 0 {
            break true;
        }
        if args.exit_after.is_some_and(|m| accepted >= m) {
            break false;
        }
        // At the cap, further connections stay in the kernel's backlog.
        if !slots.wait_below(args.max_concurrent, POLL) {
            continue;
        }
        let (stream, peer) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                // E.g. out of file descriptors: retry later rather than spin.
                eprintln!("sealwire serve: accept: {e}");
                std::thread::sleep(POLL);
                continue;
            }
        };
        accepted += 1;
        spawn_connection(
            stream,
            peer,
            config.clone(),
            limits,
            slots.take(),
            &failed,
            key_update_every,
        );
    };
    // Closed, the listener refuses new connections at once instead of
    // leaving them in the backlog.
    drop(listener);
    let mut cut_off_at = None;
    loop {
        let open = slots.wait_empty(Duration::from_millis(100));
        if open == 0 {
            break;
        }
        if signal::received() > 0 && cut_off_at.is_none() {
            eprintln!(
                "sealwire serve: stopping: no new connections; {open} open get {:.1} s to finish",
                limits.idle.as_secs_f64()
            );
            cut_off_at = Some(Instant::now() + limits.idle);
        }
        if signal::received() > 1 || cut_off_at.is_some_and(|t| Instant::now() >= t) {
            eprintln!("sealwire serve: {open} connections did not finish; closing them");
            return Ok(false);
        }
    }
    if by_signal {
        eprintln!("sealwire serve: stopped on a signal; every connection finished");
        return Ok(true);
    }
    Ok(!failed.load(Ordering::SeqCst))
}

/// Serves one connection on a thread of its own, which holds `slot` until
/// it ends.
fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    config: ServerConfig,
    limits: Limits,
    slot: Slot,
    failed: &Arc<AtomicBool>,
    key_update_every: Option<u64>,
) {
    let failed = Arc::clone(failed);
    let run = {
        let failed = Arc::clone(&failed);
        move || {
            let _slot = slot;
            match serve_one(stream, config, limits, &peer.to_string(), key_update_every) {
                Ok(n) => eprintln!("sealwire serve: {peer}: echoed {n} bytes, closed cleanly"),
                Err(e) => {
                    failed.store(true, Ordering::SeqCst);
                    eprintln!("sealwire serve: {peer}: {}", describe(&e));
                }
            }
        }
    };
    // A failed spawn drops `run`, and with it the stream and the slot.
    if let Err(e) = std::thread::Builder::new()
        .name("connection".into())
        .spawn(run)
    {
        failed.store(true, Ordering::SeqCst);
        eprintln!("sealwire serve: {peer}: no thread to serve it ({e}); closed");
    }
}

fn serve_one(
    stream: TcpStream,
    config: ServerConfig,
    limits: Limits,
    peer: &str,
    key_update_every: Option<u64>,
) -> Result<u64, Error> {
    // Accepted sockets inherit the listener's O_NONBLOCK on some systems.
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)?;
    let asked = config.client_auth.is_some();
    let mut conn = Connection::server(Timed::new(stream, limits), config)?;
    conn.with_transport(Timed::handshake_done)?;
    if conn.established().is_some_and(|e| e.resumed) {
        eprintln!("sealwire serve: {peer}: resumed session");
    }
    if asked {
        // The subject is the client's text: escaped for the terminal.
        match conn.peer_certificates().first() {
            Some(ee) => eprintln!(
                "sealwire serve: {peer}: client certificate verified: subject {}",
                sealwire::handshake::escape(&subject_summary(ee))
            ),
            None => eprintln!("sealwire serve: {peer}: no client certificate"),
        }
    }
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

/// A socket whose every read and write waits at most the idle timeout and,
/// until [`Timed::handshake_done`], no later than the handshake deadline:
/// the socket's read and write timeouts are set to what is left before each
/// call. A peer that trickles bytes to keep single reads alive still meets
/// the deadline.
struct Timed {
    sock: TcpStream,
    idle: Duration,
    handshake_by: Cell<Option<Instant>>,
    /// The timeouts the socket has now, to skip setting them again.
    read_set: Option<Duration>,
    write_set: Option<Duration>,
}

impl Timed {
    fn new(sock: TcpStream, limits: Limits) -> Self {
        Timed {
            sock,
            idle: limits.idle,
            handshake_by: Cell::new(Some(Instant::now() + limits.handshake)),
            read_set: None,
            write_set: None,
        }
    }

    /// Lifts the handshake deadline; the idle timeout stays.
    fn handshake_done(&self) {
        self.handshake_by.set(None);
    }

    fn past_deadline(&self) -> bool {
        self.handshake_by.get().is_some_and(|t| Instant::now() >= t)
    }

    /// The wait allowed for the next call (at least 1 ms: a zero timeout
    /// means none to the socket).
    fn limit(&self) -> std::io::Result<Duration> {
        match self.handshake_by.get() {
            None => Ok(self.idle),
            Some(t) => match t.checked_duration_since(Instant::now()) {
                Some(left) if left >= Duration::from_millis(1) => Ok(left.min(self.idle)),
                _ => Err(self.timed_out()),
            },
        }
    }

    fn timed_out(&self) -> std::io::Error {
        let why = if self.past_deadline() {
            "handshake not finished in time (--handshake-timeout)".to_string()
        } else {
            format!(
                "nothing sent or received for {:.1} s (--idle-timeout)",
                self.idle.as_secs_f64()
            )
        };
        std::io::Error::new(ErrorKind::TimedOut, why)
    }

    /// Runs `io` until it is not interrupted by a signal (a socket with a
    /// timeout is not restarted after one), naming an expired timeout.
    fn retry<T>(&self, mut io: impl FnMut(&TcpStream) -> std::io::Result<T>) -> std::io::Result<T> {
        loop {
            match io(&self.sock) {
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(self.timed_out())
                }
                r => return r,
            }
        }
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let limit = self.limit()?;
        if self.read_set != Some(limit) {
            self.sock.set_read_timeout(Some(limit))?;
            self.read_set = Some(limit);
        }
        self.retry(|mut s| s.read(buf))
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let limit = self.limit()?;
        if self.write_set != Some(limit) {
            self.sock.set_write_timeout(Some(limit))?;
            self.write_set = Some(limit);
        }
        self.retry(|mut s| s.write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.retry(|mut s| s.flush())
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
    if let (Some(cert), Some(key)) = (&args.cert, &args.client_key) {
        let cert_pem = std::fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
        // The key's PEM text is wiped once the config holds the key.
        let key_pem = zeroize::Zeroizing::new(
            std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?,
        );
        config.client_cert = Some(
            CertifiedKey::from_pem(&cert_pem, &key_pem)
                .map_err(|e| format!("--cert {} --key {}: {e}", cert.display(), key.display()))?,
        );
    }
    config.alpn_protocols = p.alpn;
    let sessions = session_store(args.sess_in.as_deref(), args.sess_out.is_some())?;
    config.session_store = sessions.clone();

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
    if sessions.is_some() {
        let resumed = conn.established().is_some_and(|e| e.resumed);
        eprintln!(
            "sealwire connect: {}",
            if resumed {
                "resumed session"
            } else {
                "full handshake"
            }
        );
    }
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
    if let (Some(path), Some(store)) = (&args.sess_out, &sessions) {
        write_secret_file(path, store.to_text().as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Writes a file that holds secrets (the PSKs of a session file): on Unix
/// readable by its owner only.
fn write_secret_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// The session store of `connect`: read from `--sess-in`, or empty when
/// only `--sess-out` is given; none without either.
fn session_store(
    sess_in: Option<&std::path::Path>,
    sess_out: bool,
) -> Result<Option<Arc<SessionStore>>, String> {
    match sess_in {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let store = SessionStore::from_text(&text)
                .map_err(|e| format!("--sess-in {}: {e}", path.display()))?;
            Ok(Some(Arc::new(store)))
        }
        None if sess_out => Ok(Some(Arc::new(SessionStore::new()))),
        None => Ok(None),
    }
}
