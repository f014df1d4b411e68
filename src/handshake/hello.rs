//! Version negotiation: which protocol version the ServerHello (client side)
//! or the ClientHello (server side) chose, and so which state machine runs
//! next. The `tls13` and `tls12` state machines depend on this module; it
//! depends on neither.
//!
//! ```text
//!  client: tls13::client ─ServerHello─▶ client_version ─▶ Tls13: tls13::client states
//!                                                     └─▶ Tls12: tls12::client::from_server_hello(Tls12ClientStart)
//!  server: tls13::server ─ClientHello─▶ server_version ─▶ Tls13: tls13::server states
//!                                                     └─▶ Tls12: tls12::server::from_client_hello
//! ```

#![forbid(unsafe_code)]

use super::kx::KeyExchange;
use super::messages::{version, ClientHello, ServerHello, DOWNGRADE_TLS11, DOWNGRADE_TLS12};
use super::transcript::Transcript;
use super::{ClientConfig, Context, Error, ProtocolVersion, Versions};

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

/// Client: the version the ServerHello (or HelloRetryRequest) chose.
/// `after_hrr` is true for the ServerHello that follows a
/// HelloRetryRequest. For TLS 1.2 the RFC 8446 4.1.3 downgrade sentinel is
/// checked here.
pub fn client_version(
    cx: &Context,
    versions: Versions,
    after_hrr: bool,
    sh: &ServerHello,
) -> Result<ProtocolVersion, Error> {
    let Some(selected) = sh.selected_version()? else {
        if sh.is_hrr() {
            return Err(Error::MissingExtension(
                "supported_versions in HelloRetryRequest",
            ));
        }
        if after_hrr {
            // RFC 8446 4.1.4: the ServerHello must keep the version of the
            // HelloRetryRequest.
            return Err(Error::IllegalParameter(
                "TLS 1.2 ServerHello after a HelloRetryRequest",
            ));
        }
        if sh.legacy_version != version::TLS12 || !versions.tls12 {
            return Err(Error::ProtocolVersion);
        }
        // RFC 8446 4.1.3: a TLS 1.3 client must refuse a TLS 1.3 server's
        // downgrade signal.
        if versions.tls13 {
            let tail: [u8; 8] = sh.random[24..].try_into().expect("8 bytes");
            if tail == DOWNGRADE_TLS12 || tail == DOWNGRADE_TLS11 {
                return Err(Error::Downgrade);
            }
        }
        cx.trace
            .step(|| "ServerHello chose TLS 1.2: handing over to the TLS 1.2 client".into());
        return Ok(ProtocolVersion::Tls12);
    };
    if selected != version::TLS13 || !versions.tls13 {
        // RFC 8446 4.2.1: a version we did not offer.
        return Err(Error::IllegalParameter(
            "server selected a version we did not offer",
        ));
    }
    if sh.legacy_version != version::TLS12 {
        return Err(Error::IllegalParameter(
            "ServerHello legacy_version is not 0x0303",
        ));
    }
    Ok(ProtocolVersion::Tls13)
}

/// Server: the version to answer this ClientHello with. `after_retry` is
/// true for the second ClientHello, after a HelloRetryRequest.
pub fn server_version(
    cx: &Context,
    versions: Versions,
    after_retry: bool,
    ch: &ClientHello,
) -> Result<ProtocolVersion, Error> {
    // RFC 8446 D.5: a legacy_version of SSL 3.0 or below is refused,
    // whatever supported_versions says.
    if ch.legacy_version <= 0x0300 {
        cx.trace.step(|| {
            format!(
                "ClientHello legacy_version {:#06x} is SSL 3.0 or older",
                ch.legacy_version
            )
        });
        return Err(Error::ProtocolVersion);
    }
    let offered = ch.supported_versions()?;
    let offers13 = offered
        .as_ref()
        .is_some_and(|v| v.contains(&version::TLS13));
    if versions.tls13 && offers13 {
        return Ok(ProtocolVersion::Tls13);
    }
    if after_retry {
        return Err(Error::IllegalParameter(
            "second ClientHello dropped TLS 1.3",
        ));
    }
    let offers12 = match &offered {
        Some(v) => v.contains(&version::TLS12),
        None => ch.legacy_version >= version::TLS12,
    };
    if versions.tls12 && offers12 {
        cx.trace
            .step(|| "negotiated TLS 1.2: handing over to the TLS 1.2 server".into());
        return Ok(ProtocolVersion::Tls12);
    }
    cx.trace.step(|| "no protocol version in common".into());
    Err(Error::ProtocolVersion)
}
