//! TLS 1.2 (RFC 5246) with ECDHE (RFC 8422), AES-GCM (RFC 5288, 5289) and
//! the extended master secret (RFC 7627): the client and server state
//! machines and the connected state.
//!
//! ```text
//!  Client                                               Server
//!  ClientHello (tls13::client)     ────────▶
//!                                  ◀──────── ServerHello
//!                                            Certificate
//!                                            ServerKeyExchange (signed ECDHE params)
//!                                            [CertificateRequest]
//!                                            ServerHelloDone
//!  [Certificate]
//!  ClientKeyExchange
//!  [CertificateVerify]
//!  ChangeCipherSpec
//!  Finished                        ────────▶
//!                                  ◀──────── ChangeCipherSpec
//!                                            Finished
//!  application data                ◀───────▶ application data
//! ```
//!
//! Policy, stated once:
//! - Only the four ECDHE + AES-GCM suites; only named curves x25519,
//!   secp256r1 and secp384r1, with uncompressed points (the hybrid
//!   X25519MLKEM768 is TLS 1.3 only and never chosen here).
//! - The extended master secret is **required** both ways: a peer that does
//!   not negotiate it gets handshake_failure (RFC 7627 5.2/5.3 allow this),
//!   so the classic master secret of RFC 5246 8.1 never exists here.
//! - No renegotiation (RFC 5746 is signalled with an empty
//!   renegotiation_info; a later ClientHello or a HelloRequest is answered
//!   with a warning no_renegotiation, RFC 5246 7.2.2), no session resumption.
//! - Client certificates when configured: the server asks with
//!   CertificateRequest and verifies the chain and CertificateVerify; the
//!   client answers with its certificate if its key fits the request, and
//!   with an empty Certificate otherwise (RFC 5246 7.4.6).
//! - A TLS 1.3-enabled server puts the RFC 8446 4.1.3 downgrade sentinel in
//!   ServerHello.random; the client side check is done before the hand-off
//!   in `tls13::client`.

#![forbid(unsafe_code)]

pub mod client;
pub mod messages;
pub mod prf;
pub mod server;

use super::error::{Alert, Error};
use super::messages::{hs_type, suite};
use super::transcript::HashAlg;
use super::verify::scheme;
// `prf` names these through `super::`.
use super::{transcript, KeyLogSink};
use super::{Action, Context, Input, ProtocolVersion, RecordKeys, State};
use crate::wire::CipherSuite;
use prf::{KeyBlock, MasterSecret};
use zeroize::Zeroizing;

/// How a TLS 1.2 suite authenticates the server's ECDHE parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// ECDHE_ECDSA: an ECDSA (or Ed25519, RFC 8422 5.4) certificate key.
    Ecdsa,
    /// ECDHE_RSA: an RSA certificate key.
    Rsa,
}

impl Auth {
    /// Whether a signature scheme belongs to this kind of key (RFC 8422
    /// 5.4, RFC 5246 7.4.3: the signature algorithm must match the suite).
    pub fn allows_scheme(self, s: u16) -> bool {
        match self {
            Auth::Ecdsa => matches!(
                s,
                scheme::ECDSA_SECP256R1_SHA256 | scheme::ECDSA_SECP384R1_SHA384 | scheme::ED25519
            ),
            Auth::Rsa => matches!(
                s,
                scheme::RSA_PSS_RSAE_SHA256
                    | scheme::RSA_PSS_RSAE_SHA384
                    | scheme::RSA_PSS_RSAE_SHA512
                    | scheme::RSA_PKCS1_SHA256
                    | scheme::RSA_PKCS1_SHA384
                    | scheme::RSA_PKCS1_SHA512
            ),
        }
    }
}

/// What a TLS 1.2 suite fixes (RFC 5289 section 3.2, RFC 5288 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteParams {
    /// The suite.
    pub suite: CipherSuite,
    /// The PRF and transcript hash.
    pub hash: HashAlg,
    /// AES key length in bytes.
    pub key_len: usize,
    /// The server key type.
    pub auth: Auth,
}

/// The parameters of a TLS 1.2 suite sealwire implements.
pub fn suite_params(code: u16) -> Option<SuiteParams> {
    let (hash, key_len, auth) = match code {
        suite::ECDHE_ECDSA_AES_128_GCM_SHA256 => (HashAlg::Sha256, 16, Auth::Ecdsa),
        suite::ECDHE_ECDSA_AES_256_GCM_SHA384 => (HashAlg::Sha384, 32, Auth::Ecdsa),
        suite::ECDHE_RSA_AES_128_GCM_SHA256 => (HashAlg::Sha256, 16, Auth::Rsa),
        suite::ECDHE_RSA_AES_256_GCM_SHA384 => (HashAlg::Sha384, 32, Auth::Rsa),
        _ => return None,
    };
    Some(SuiteParams {
        suite: CipherSuite::from_iana(code)?,
        hash,
        key_len,
        auth,
    })
}

/// The two directions' record keys from the key block: `(client → server,
/// server → client)`.
fn record_keys(kb: &KeyBlock, suite: CipherSuite) -> (RecordKeys, RecordKeys) {
    let keys = |key: &[u8], iv: &[u8]| RecordKeys {
        version: ProtocolVersion::Tls12,
        suite,
        key: Zeroizing::new(key.to_vec()),
        iv: Zeroizing::new(iv.to_vec()),
    };
    (
        keys(&kb.client_write_key, &kb.client_write_iv),
        keys(&kb.server_write_key, &kb.server_write_iv),
    )
}

/// Traces the TLS 1.2 secrets' labels (never values) and key-logs the master
/// secret when asked to.
fn announce_secrets(cx: &Context, ms: &MasterSecret, client_random: &[u8; 32]) {
    cx.trace
        .step(|| "derived pre_master_secret (ECDHE shared secret) (label only)".into());
    cx.trace.step(|| {
        format!(
            "derived master_secret = PRF_{}(pre_master_secret, \"extended master secret\", session_hash) (label only)",
            ms.hash().name()
        )
    });
    cx.trace.step(|| {
        "derived key_block = PRF(master_secret, \"key expansion\", server_random + client_random): \
         client_write_key, server_write_key, client_write_IV, server_write_IV (labels only)"
            .into()
    });
    ms.log(&cx.keylog, client_random);
}

/// A ChangeCipherSpec record, or unexpected_message (RFC 5246 7.1: it comes
/// right before Finished, and a handshake message there is out of order).
fn expect_ccs(input: Input) -> Result<(), Error> {
    match input {
        Input::ChangeCipherSpec => Ok(()),
        Input::Handshake(m) => Err(Error::unexpected("ChangeCipherSpec", m.name())),
    }
}

/// Compares the peer's Finished.verify_data with ours in constant time
/// (RFC 5246 7.4.9: a mismatch is decrypt_error; a verify_data of another
/// length does not parse, decode_error).
fn check_finished(got: &[u8], want: &[u8]) -> Result<(), Error> {
    use subtle::ConstantTimeEq;
    if got.len() != want.len() {
        return Err(super::codec::DecodeError::BadLength("Finished verify_data").into());
    }
    if bool::from(got.ct_eq(want)) {
        Ok(())
    } else {
        Err(Error::BadFinished)
    }
}

/// The established TLS 1.2 session. Application data flows through the
/// record layer; this state only sees handshake records after the
/// handshake, and TLS 1.2 has no post-handshake messages sealwire accepts.
#[derive(Debug)]
pub struct Connected {
    is_client: bool,
}

impl State for Connected {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        match input {
            // RFC 5246 7.4.1.1, 7.2.2: sealwire does not renegotiate; a
            // HelloRequest (client) or a new ClientHello (server) is
            // answered with a warning no_renegotiation and the connection
            // goes on.
            Input::Handshake(m) if self.is_client && m.typ == hs_type::HELLO_REQUEST => {
                if !m.body().is_empty() {
                    return Err(Error::Decode(super::codec::DecodeError::TrailingData(
                        "HelloRequest",
                    )));
                }
                cx.trace
                    .step(|| "received HelloRequest: sending warning no_renegotiation".into());
                cx.actions.push(Action::SendWarning(Alert::NoRenegotiation));
                Ok(self)
            }
            Input::Handshake(m) if !self.is_client && m.typ == hs_type::CLIENT_HELLO => {
                cx.trace.step(|| {
                    "received a renegotiating ClientHello: sending warning no_renegotiation".into()
                });
                cx.actions.push(Action::SendWarning(Alert::NoRenegotiation));
                Ok(self)
            }
            Input::Handshake(m) => Err(Error::unexpected("application data", m.name())),
            Input::ChangeCipherSpec => {
                Err(Error::unexpected("application data", "ChangeCipherSpec"))
            }
        }
    }

    fn is_connected(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::messages::HandshakeMessage;

    #[test]
    fn suites_hashes_keys_and_auth() {
        let p = suite_params(suite::ECDHE_RSA_AES_256_GCM_SHA384).unwrap();
        assert_eq!(
            (p.hash, p.key_len, p.auth),
            (HashAlg::Sha384, 32, Auth::Rsa)
        );
        let p = suite_params(suite::ECDHE_ECDSA_AES_128_GCM_SHA256).unwrap();
        assert_eq!(
            (p.hash, p.key_len, p.auth),
            (HashAlg::Sha256, 16, Auth::Ecdsa)
        );
        assert!(suite_params(suite::TLS13_AES_128_GCM_SHA256).is_none());
        assert!(suite_params(suite::EMPTY_RENEGOTIATION_INFO_SCSV).is_none());
        // AES-CBC / ChaCha20 suites are not ours.
        assert!(suite_params(0xc027).is_none());
        assert!(suite_params(0xcca8).is_none());
    }

    #[test]
    fn schemes_must_match_the_key_type() {
        assert!(Auth::Ecdsa.allows_scheme(scheme::ECDSA_SECP256R1_SHA256));
        assert!(Auth::Ecdsa.allows_scheme(scheme::ECDSA_SECP384R1_SHA384));
        assert!(!Auth::Ecdsa.allows_scheme(scheme::RSA_PKCS1_SHA512));
        assert!(Auth::Rsa.allows_scheme(scheme::RSA_PKCS1_SHA512));
        assert!(!Auth::Ecdsa.allows_scheme(scheme::RSA_PSS_RSAE_SHA256));
        assert!(Auth::Rsa.allows_scheme(scheme::RSA_PKCS1_SHA256));
        assert!(Auth::Rsa.allows_scheme(scheme::RSA_PSS_RSAE_SHA256));
        assert!(!Auth::Rsa.allows_scheme(scheme::ECDSA_SECP256R1_SHA256));
        assert!(!Auth::Rsa.allows_scheme(0x0201), "rsa_pkcs1_sha1");
    }

    #[test]
    fn finished_compare() {
        assert!(check_finished(&[1; 12], &[1; 12]).is_ok());
        assert!(matches!(
            check_finished(&[1; 12], &[2; 12]),
            Err(Error::BadFinished)
        ));
        assert!(matches!(
            check_finished(&[1; 11], &[1; 12]),
            Err(Error::Decode(_))
        ));
        assert!(matches!(
            check_finished(&[1; 13], &[1; 12]),
            Err(Error::Decode(_))
        ));
    }

    #[test]
    fn connected_refuses_renegotiation_with_a_warning() {
        let warned = |cx: &mut Context| {
            matches!(
                cx.actions.drain(..).collect::<Vec<_>>()[..],
                [Action::SendWarning(Alert::NoRenegotiation)]
            )
        };
        let mut cx = Context::default();
        let hr = HandshakeMessage::new(hs_type::HELLO_REQUEST, &[]);
        let st: Box<dyn State> = Box::new(Connected { is_client: true });
        let st = st.handle(&mut cx, Input::Handshake(hr.clone())).unwrap();
        assert!(st.is_connected());
        assert!(warned(&mut cx));
        let server: Box<dyn State> = Box::new(Connected { is_client: false });
        let ch = HandshakeMessage::new(hs_type::CLIENT_HELLO, &[]);
        let server = server.handle(&mut cx, Input::Handshake(ch)).unwrap();
        assert!(server.is_connected());
        assert!(warned(&mut cx));
        assert!(matches!(
            server.handle(&mut cx, Input::Handshake(hr)),
            Err(Error::UnexpectedMessage { .. })
        ));
    }
}
