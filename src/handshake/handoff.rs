//! The boundary between the TLS 1.3 hello handling (version negotiation)
//! and the TLS 1.2 state machines of `tls12`. These two signatures are all
//! the TLS 1.3 code knows of TLS 1.2; the bodies call into `tls12::client` /
//! `tls12::server`.

#![forbid(unsafe_code)]

use super::kx::KeyExchange;
use super::messages::{ClientHello, HandshakeMessage, ServerHello};
use super::transcript::Transcript;
use super::{ClientConfig, Context, Error, ServerConfig, State};

/// Everything the client knows when the server picks TLS 1.2.
#[derive(Debug)]
pub struct Tls12ClientStart {
    /// The client config.
    pub config: ClientConfig,
    /// The server name we sent (and must verify), if any.
    pub server_name: Option<String>,
    /// The ClientHello we sent (random, offered suites, extensions).
    pub client_hello: ClientHello,
    /// The transcript containing our ClientHello; no hash chosen yet.
    pub transcript: Transcript,
    /// The key pairs whose shares we sent (TLS 1.2 may reuse one whose
    /// group matches ServerKeyExchange; generate afresh otherwise).
    pub key_shares: Vec<KeyExchange>,
}

/// Client: the server chose TLS 1.2. `server_hello` is the parsed message
/// and `raw` its encoding (not yet in the transcript). The downgrade
/// sentinel was checked by the caller.
pub fn tls12_client_from_server_hello(
    cx: &mut Context,
    start: Tls12ClientStart,
    server_hello: ServerHello,
    raw: HandshakeMessage,
) -> Result<Box<dyn State>, Error> {
    super::tls12::client::from_server_hello(cx, start, server_hello, raw)
}

/// Server: continue as TLS 1.2 with this ClientHello (`raw` is its encoding,
/// not yet in any transcript).
pub fn tls12_server_from_client_hello(
    cx: &mut Context,
    config: ServerConfig,
    client_hello: ClientHello,
    raw: HandshakeMessage,
) -> Result<Box<dyn State>, Error> {
    super::tls12::server::from_client_hello(cx, config, client_hello, raw)
}
