//! The TLS 1.2 client, from the ServerHello that chose TLS 1.2 (our
//! ClientHello is sent by `tls13::client`, which offers both versions):
//!
//! ```text
//! (ServerHello) ─▶ ExpectCertificate ─▶ ExpectServerKeyExchange ─▶ ExpectServerHelloDone
//!   ─▶ send [Certificate], ClientKeyExchange, [CertificateVerify], ChangeCipherSpec, Finished
//!   ─▶ ExpectChangeCipherSpec ─▶ ExpectFinished ─▶ Connected
//! ```
//!
//! A CertificateRequest (RFC 5246 7.4.4) is answered with
//! [`ClientConfig::client_cert`] and a CertificateVerify over the handshake
//! messages (7.4.8) when its key fits the request, and with an empty
//! Certificate otherwise (7.4.6).

#![forbid(unsafe_code)]

use super::messages::{self as m12, Certificate12, CertificateRequest12, ServerKeyExchange};
use super::prf::{FinishedLabel, MasterSecret, PreMasterSecret};
use super::{
    announce_secrets, check_finished, expect_ccs, record_keys, suite_params, Connected, SuiteParams,
};
use crate::handshake::alpn;
use crate::handshake::error::Error;
use crate::handshake::hello::Tls12ClientStart;
use crate::handshake::kx::{group, KeyExchange};
use crate::handshake::messages::{
    self, ext, hs_type, suite, version, DigitallySigned, HandshakeMessage, ServerHello,
};
use crate::handshake::transcript::Transcript;
use crate::handshake::verify::{self, scheme, KeyType};
use crate::handshake::{
    expect_handshake, Action, ClientConfig, Context, Established, Input, ProtocolVersion,
    RecordKeys, State,
};
use crate::wire::{NamedGroup, SignatureScheme};

/// What the client carries through the handshake.
#[derive(Debug)]
struct Handshaking {
    config: ClientConfig,
    server_name: Option<String>,
    client_random: [u8; 32],
    server_random: [u8; 32],
    suite: SuiteParams,
    /// signature_algorithms and supported_groups as our ClientHello sent them.
    offered_schemes: Vec<u16>,
    offered_groups: Vec<u16>,
    transcript: Transcript,
    /// TLS 1.3 key shares of the ClientHello; one may be reused for the
    /// ServerKeyExchange curve.
    key_shares: Vec<KeyExchange>,
    /// The server's chain, end-entity first.
    chain: Vec<Vec<u8>>,
    /// The scheme of the ServerKeyExchange signature, once verified.
    sig_scheme: u16,
    /// The application protocol the server chose (RFC 7301).
    alpn_protocol: Option<Vec<u8>>,
}

/// Continues after a ServerHello that chose TLS 1.2 (RFC 5246 7.4.1.3). The
/// caller checked the version and the downgrade sentinel (RFC 8446 4.1.3).
pub fn from_server_hello(
    cx: &mut Context,
    start: Tls12ClientStart,
    sh: ServerHello,
    raw: HandshakeMessage,
) -> Result<Box<dyn State>, Error> {
    let ch = &start.client_hello;
    if sh.legacy_version != version::TLS12 {
        return Err(Error::ProtocolVersion);
    }
    if sh.cipher_suite == suite::EMPTY_RENEGOTIATION_INFO_SCSV
        || !ch.cipher_suites.contains(&sh.cipher_suite)
        || !start
            .config
            .suites12
            .iter()
            .any(|s| s.iana() == sh.cipher_suite)
    {
        return Err(Error::IllegalParameter(
            "server chose a suite we did not offer",
        ));
    }
    let suite = suite_params(sh.cipher_suite).ok_or(Error::IllegalParameter(
        "server chose a suite we did not offer",
    ))?;
    if sh.compression_method != 0 {
        return Err(Error::IllegalParameter("compression method is not null"));
    }
    // RFC 5246 7.4.1.4: only extensions we offered may come back.
    let mut alpn_protocol = None;
    for e in &sh.extensions {
        // RFC 5746 3.4: the SCSV asks for renegotiation_info as much as the
        // extension does.
        let offered = ch.extension(e.typ).is_some()
            || (e.typ == ext::RENEGOTIATION_INFO
                && ch
                    .cipher_suites
                    .contains(&suite::EMPTY_RENEGOTIATION_INFO_SCSV));
        if !offered || e.typ == ext::SUPPORTED_VERSIONS {
            return Err(Error::UnsupportedExtension(e.typ));
        }
        match e.typ {
            ext::EXTENDED_MASTER_SECRET => m12::check_extended_master_secret(&e.data)?,
            ext::RENEGOTIATION_INFO => m12::check_renegotiation_info(&e.data)?,
            ext::EC_POINT_FORMATS => m12::check_ec_point_formats(&e.data)?,
            // RFC 6066 3: the server's server_name is empty.
            ext::SERVER_NAME if !e.data.is_empty() => {
                return Err(Error::Decode(
                    crate::handshake::codec::DecodeError::TrailingData("ServerHello server_name"),
                ))
            }
            ext::SERVER_NAME => {}
            ext::ALPN => {
                let p = alpn::check_answer(&start.config.alpn_protocols, &e.data)?;
                cx.trace
                    .step(|| format!("ServerHello (TLS 1.2): ALPN {}", alpn::display(&p)));
                alpn_protocol = Some(p);
            }
            other => return Err(Error::UnsupportedExtension(other)),
        }
    }
    // RFC 7627 5.3: we require the extended master secret.
    if sh.extension(ext::EXTENDED_MASTER_SECRET).is_none() {
        return Err(Error::HandshakeFailure(
            "server does not use the extended master secret (RFC 7627), which sealwire requires",
        ));
    }
    let offered_schemes = ch.signature_algorithms()?.ok_or(Error::Internal(
        "our ClientHello lacks signature_algorithms",
    ))?;
    let offered_groups = ch
        .supported_groups()?
        .ok_or(Error::Internal("our ClientHello lacks supported_groups"))?;
    let client_random = ch.random;
    let mut transcript = start.transcript;
    if start.config.client_cert.is_some() {
        // Our CertificateVerify would sign the messages themselves.
        transcript.keep_messages()?;
    }
    transcript.start_hash(suite.hash)?;
    transcript.add(&raw.raw);
    cx.trace.step(|| {
        format!(
            "ServerHello (TLS 1.2): server_random={}",
            hex::encode(sh.random)
        )
    });
    cx.trace.step(|| {
        format!(
            "ServerHello (TLS 1.2): chosen suite {}; extended_master_secret on; secure renegotiation {}",
            suite.suite,
            if sh.extension(ext::RENEGOTIATION_INFO).is_some() {
                "signalled"
            } else {
                "not signalled"
            }
        )
    });
    cx.actions
        .push(Action::RequireRecordVersion(version::TLS12));
    Ok(Box::new(ExpectCertificate(Handshaking {
        config: start.config,
        server_name: start.server_name,
        client_random,
        server_random: sh.random,
        suite,
        offered_schemes,
        offered_groups,
        transcript,
        key_shares: start.key_shares,
        chain: Vec::new(),
        sig_scheme: 0,
        alpn_protocol,
    })))
}

#[derive(Debug)]
struct ExpectCertificate(Handshaking);

impl State for ExpectCertificate {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "Certificate", hs_type::CERTIFICATE)?;
        let mut h = self.0;
        let cert = Certificate12::parse(msg.body())?;
        // RFC 5246 7.4.2: the server's list is never empty with our suites.
        verify::check_server_certificate(
            &cx.trace,
            &h.config.verification,
            h.server_name.as_deref(),
            &cert.chain,
        )?;
        h.transcript.add(&msg.raw);
        h.chain = cert.chain;
        Ok(Box::new(ExpectServerKeyExchange(h)))
    }
}

#[derive(Debug)]
struct ExpectServerKeyExchange(Handshaking);

impl State for ExpectServerKeyExchange {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "ServerKeyExchange", hs_type::SERVER_KEY_EXCHANGE)?;
        let mut h = self.0;
        let ske = ServerKeyExchange::parse(msg.body())?;
        // RFC 8422 5.4: a curve we offered; a scheme we offered that fits the
        // suite's key type.
        if !h.offered_groups.contains(&ske.params.group) || !group::is_ecdhe(ske.params.group) {
            return Err(Error::IllegalParameter(
                "ServerKeyExchange curve was not offered",
            ));
        }
        let sig_scheme = ske.signed.scheme;
        if !h.offered_schemes.contains(&sig_scheme) || !h.suite.auth.allows_scheme(sig_scheme) {
            return Err(Error::IllegalParameter(
                "ServerKeyExchange signature scheme was not offered for this suite",
            ));
        }
        let content = ske
            .params
            .signed_content(&h.client_random, &h.server_random);
        let res = verify::verify_signed(
            &h.chain[0],
            sig_scheme,
            &content,
            &ske.signed.signature,
            false,
        );
        cx.trace.step(|| {
            format!(
                "ServerKeyExchange: group {}; {} signature over the ECDHE params {}",
                group::name(ske.params.group),
                scheme::name(sig_scheme),
                if res.is_ok() { "verified" } else { "INVALID" }
            )
        });
        res?;
        h.sig_scheme = sig_scheme;
        h.transcript.add(&msg.raw);
        // Reuse the ClientHello's key share of this group, if any.
        let kx = match h
            .key_shares
            .iter()
            .position(|k| k.group() == ske.params.group)
        {
            Some(i) => h.key_shares.swap_remove(i),
            None => KeyExchange::generate(ske.params.group)?,
        };
        h.key_shares.clear();
        Ok(Box::new(ExpectServerHelloDone {
            h,
            kx,
            server_public: ske.params.public,
            cert_requested: false,
            client_scheme: None,
        }))
    }
}

#[derive(Debug)]
struct ExpectServerHelloDone {
    h: Handshaking,
    kx: KeyExchange,
    server_public: Vec<u8>,
    cert_requested: bool,
    /// The scheme of our CertificateVerify, when the server asked for a
    /// certificate that our key fits.
    client_scheme: Option<u16>,
}

/// The scheme our key signs CertificateVerify with for this request: the
/// key type must be one of `certificate_types` (RFC 5246 7.4.4; RFC 8422 5.5
/// for ecdsa_sign) and a scheme of the key in
/// `supported_signature_algorithms`. `None`: no suitable certificate.
fn client_scheme(config: &ClientConfig, req: &CertificateRequest12) -> Option<u16> {
    let key = &config.client_cert.as_ref()?.key;
    let typ = match key.key_type() {
        KeyType::Rsa(_) => m12::CERT_TYPE_RSA_SIGN,
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::Ed25519 => m12::CERT_TYPE_ECDSA_SIGN,
    };
    if !req.certificate_types.contains(&typ) {
        return None;
    }
    key.choose_scheme(&req.schemes, false).ok()
}

impl State for ExpectServerHelloDone {
    fn handle(
        mut self: Box<Self>,
        cx: &mut Context,
        input: Input,
    ) -> Result<Box<dyn State>, Error> {
        let msg = match input {
            Input::Handshake(m)
                if m.typ == hs_type::CERTIFICATE_REQUEST && !self.cert_requested =>
            {
                let req = CertificateRequest12::parse(m.body())?;
                self.client_scheme = client_scheme(&self.h.config, &req);
                cx.trace
                    .step(|| {
                        match (&self.h.config.client_cert, self.client_scheme) {
                    (Some(c), Some(s)) => format!(
                        "CertificateRequest: sending our certificate ({} key, {})",
                        c.key.kind_name(),
                        scheme::name(s)
                    ),
                    (Some(c), None) => format!(
                        "CertificateRequest: the server accepts no certificate type or \
                         signature scheme of our {} key; sending an empty Certificate",
                        c.key.kind_name()
                    ),
                    (None, _) => {
                        "CertificateRequest: we have no client certificate; sending an empty one"
                            .into()
                    }
                }
                    });
                self.h.transcript.add(&m.raw);
                self.cert_requested = true;
                return Ok(self);
            }
            other => expect_handshake(other, "ServerHelloDone", hs_type::SERVER_HELLO_DONE)?,
        };
        m12::parse_server_hello_done(msg.body())?;
        let ExpectServerHelloDone {
            mut h,
            kx,
            server_public,
            cert_requested,
            client_scheme,
        } = *self;
        h.transcript.add(&msg.raw);

        let signer = client_scheme.and_then(|s| h.config.client_cert.clone().map(|c| (c, s)));
        if cert_requested {
            // RFC 5246 7.4.6: without a suitable certificate, an empty list.
            let chain = signer
                .as_ref()
                .map(|(c, _)| c.chain.clone())
                .unwrap_or_default();
            let cert = Certificate12 { chain }.encode();
            h.transcript.add(&cert.raw);
            cx.send(cert);
        }
        let grp = kx.group();
        let cke = m12::encode_client_key_exchange(kx.public_key());
        let pms = PreMasterSecret::new(kx.agree(&server_public)?.to_vec());
        cx.trace
            .step(|| format!("ClientKeyExchange: our {} public key", group::name(grp)));
        h.transcript.add(&cke.raw);
        cx.send(cke);
        // RFC 7627 3: session_hash covers ClientHello .. ClientKeyExchange,
        // so it is taken before CertificateVerify.
        let session_hash = h.transcript.current()?;
        if let Some((certified, s)) = signer {
            let messages = h
                .transcript
                .messages()
                .ok_or(Error::Internal("handshake messages were not kept"))?;
            let cv = DigitallySigned {
                scheme: s,
                signature: certified.key.sign(s, messages)?,
            }
            .encode_certificate_verify();
            h.transcript.add(&cv.raw);
            cx.trace.step(|| {
                format!(
                    "CertificateVerify: subject {}; signed with {}",
                    verify::subject_summary(&certified.chain[0]),
                    scheme::name(s)
                )
            });
            cx.send(cv);
        }

        let ms = MasterSecret::extended(h.suite.hash, pms, session_hash.as_bytes());
        announce_secrets(cx, &ms, &h.client_random);
        let kb = ms.key_block(h.suite.key_len, &h.client_random, &h.server_random);
        let (client_keys, server_keys) = record_keys(&kb, h.suite.suite);

        cx.actions.push(Action::SendCcs);
        cx.actions.push(Action::WriteKeys(client_keys));
        let fin = ms.verify_data(FinishedLabel::Client, h.transcript.current()?.as_bytes());
        let fin = messages::encode_finished(&fin);
        h.transcript.add(&fin.raw);
        cx.send(fin);
        Ok(Box::new(ExpectChangeCipherSpec(Keyed {
            h,
            ms,
            group: grp,
            server_keys,
        })))
    }
}

/// After our Finished: the master secret and the server's keys.
#[derive(Debug)]
struct Keyed {
    h: Handshaking,
    ms: MasterSecret,
    group: u16,
    server_keys: RecordKeys,
}

#[derive(Debug)]
struct ExpectChangeCipherSpec(Keyed);

impl State for ExpectChangeCipherSpec {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        expect_ccs(input)?;
        let Keyed {
            h,
            ms,
            group,
            server_keys,
        } = self.0;
        cx.trace
            .step(|| "received ChangeCipherSpec: server records now protected".into());
        cx.actions.push(Action::ReadKeys(server_keys));
        Ok(Box::new(ExpectFinished { h, ms, group }))
    }
}

#[derive(Debug)]
struct ExpectFinished {
    h: Handshaking,
    ms: MasterSecret,
    group: u16,
}

impl State for ExpectFinished {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "Finished", hs_type::FINISHED)?;
        let ExpectFinished { h, ms, group } = *self;
        let want = ms.verify_data(FinishedLabel::Server, h.transcript.current()?.as_bytes());
        check_finished(msg.body(), &want)?;
        cx.trace
            .step(|| "server Finished verified: handshake complete (TLS 1.2)".into());
        cx.actions.push(Action::Established(Established {
            version: ProtocolVersion::Tls12,
            suite: h.suite.suite,
            group: NamedGroup::from_u16(group),
            signature_scheme: Some(SignatureScheme::from_u16(h.sig_scheme)),
            peer_chain: h.chain,
            server_name: h.server_name,
            alpn_protocol: h.alpn_protocol,
            resumed: false,
        }));
        Ok(Box::new(Connected { is_client: true }))
    }
}
