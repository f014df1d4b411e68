//! The TLS 1.2 server, from a ClientHello that negotiated TLS 1.2 (version
//! negotiation is in `tls13::server`):
//!
//! ```text
//! (ClientHello) ─▶ send ServerHello, Certificate, ServerKeyExchange, [CertificateRequest], ServerHelloDone
//!   ─▶ [ExpectCertificate] ─▶ ExpectClientKeyExchange ─▶ [ExpectCertificateVerify]
//!   ─▶ ExpectChangeCipherSpec ─▶ ExpectFinished ─▶ send ChangeCipherSpec, Finished ─▶ Connected
//! ```
//!
//! With [`ServerConfig::client_auth`] set, the server asks for a client
//! certificate (RFC 5246 7.4.4); a client that sends one must prove its key
//! with CertificateVerify (7.4.8) after ClientKeyExchange.

#![forbid(unsafe_code)]

use super::messages::{
    self as m12, Certificate12, CertificateRequest12, EcdhParams, ServerKeyExchange,
};
use super::prf::{FinishedLabel, MasterSecret, PreMasterSecret};
use super::{
    announce_secrets, check_finished, expect_ccs, record_keys, suite_params, Auth, Connected,
    SuiteParams,
};
use crate::handshake::alpn;
use crate::handshake::error::Error;
use crate::handshake::kx::{group, KeyExchange};
use crate::handshake::messages::{
    self, ext, hs_type, suite, version, ClientHello, DigitallySigned, HandshakeMessage,
    ServerHello, DOWNGRADE_TLS12,
};
use crate::handshake::transcript::Transcript;
use crate::handshake::verify::{self, scheme, ClientAuth, KeyType, SigningKey};
use crate::handshake::{
    expect_handshake, random32, Action, Context, Established, Input, ProtocolVersion, RecordKeys,
    ServerConfig, State,
};
use crate::wire::{NamedGroup, SignatureScheme};

fn key_auth(key: &SigningKey) -> Auth {
    match key.key_type() {
        KeyType::Rsa(_) => Auth::Rsa,
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::Ed25519 => Auth::Ecdsa,
    }
}

/// The server's choices for one ClientHello (RFC 5246 7.4.1.2, 7.4.1.4;
/// RFC 8422 5.1; RFC 7627 5.2; RFC 5746 3.6). Server preference wins.
#[derive(Debug)]
struct Choice {
    suite: SuiteParams,
    group: u16,
    sig_scheme: u16,
    secure_renegotiation: bool,
    point_formats: bool,
    server_name: Option<String>,
    alpn_protocol: Option<Vec<u8>>,
}

fn choose(config: &ServerConfig, ch: &ClientHello) -> Result<Choice, Error> {
    if !ch.compression_methods.contains(&0) {
        return Err(Error::IllegalParameter(
            "client does not offer null compression",
        ));
    }
    let auth = key_auth(&config.key);
    let suite = config
        .suites12
        .iter()
        .filter_map(|s| suite_params(s.iana()))
        .find(|s| s.auth == auth && ch.cipher_suites.contains(&s.suite.iana()))
        .ok_or(Error::HandshakeFailure(
            "no TLS 1.2 cipher suite in common for our key type",
        ))?;
    let ems = ch
        .extension(ext::EXTENDED_MASTER_SECRET)
        .ok_or(Error::HandshakeFailure(
            "client does not offer the extended master secret (RFC 7627), which sealwire requires",
        ))?;
    m12::check_extended_master_secret(ems)?;
    let reneg_ext = ch.extension(ext::RENEGOTIATION_INFO);
    if let Some(d) = reneg_ext {
        m12::check_renegotiation_info(d)?;
    }
    let secure_renegotiation = reneg_ext.is_some()
        || ch
            .cipher_suites
            .contains(&suite::EMPTY_RENEGOTIATION_INFO_SCSV);
    let point_formats = match ch.extension(ext::EC_POINT_FORMATS) {
        Some(d) => {
            m12::check_ec_point_formats(d)?;
            true
        }
        None => false,
    };
    // RFC 8422 4: without supported_groups any curve may be used; we then
    // take our first.
    // The hybrid X25519MLKEM768 is TLS 1.3 only: ECDHE curves here.
    let mut ours = config
        .groups
        .iter()
        .map(|g| g.to_u16())
        .filter(|g| group::is_ecdhe(*g));
    let group = match ch.supported_groups()? {
        Some(offered) => ours
            .find(|g| offered.contains(g))
            .ok_or(Error::HandshakeFailure("no curve in common"))?,
        None => ours
            .next()
            .ok_or(Error::Config("no TLS 1.2 curve configured".into()))?,
    };
    // RFC 5246 7.4.1.4.1: without signature_algorithms the client would
    // accept only SHA-1 signatures, which we do not make.
    let offered_schemes = ch.signature_algorithms()?.ok_or(Error::HandshakeFailure(
        "client sent no signature_algorithms (SHA-1 signatures are not supported)",
    ))?;
    let usable: Vec<u16> = offered_schemes
        .into_iter()
        .filter(|s| suite.auth.allows_scheme(*s))
        .collect();
    let sig_scheme = config.key.choose_scheme(&usable, false)?;
    Ok(Choice {
        suite,
        group,
        sig_scheme,
        secure_renegotiation,
        point_formats,
        server_name: ch.server_name()?,
        alpn_protocol: alpn::choose(&config.alpn_protocols, ch.extension(ext::ALPN))?,
    })
}

fn server_random(tls13_enabled: bool) -> Result<[u8; 32], Error> {
    let mut r = random32()?;
    // RFC 8446 4.1.3: a TLS 1.3 server negotiating TLS 1.2 says so in the
    // last 8 bytes of its random.
    if tls13_enabled {
        r[24..].copy_from_slice(&DOWNGRADE_TLS12);
    }
    Ok(r)
}

/// Answers a ClientHello that negotiated TLS 1.2 with ServerHello,
/// Certificate, ServerKeyExchange and ServerHelloDone.
pub fn from_client_hello(
    cx: &mut Context,
    config: ServerConfig,
    ch: ClientHello,
    raw: HandshakeMessage,
) -> Result<Box<dyn State>, Error> {
    // RFC 7507 3: a client that retried with a lower version than its best
    // says so; we support TLS 1.3, so this TLS 1.2 handshake is a downgrade.
    if config.versions.tls13 && ch.cipher_suites.contains(&suite::FALLBACK_SCSV) {
        return Err(Error::InappropriateFallback);
    }
    let c = choose(&config, &ch)?;
    let random = server_random(config.versions.tls13)?;
    cx.actions
        .push(Action::RequireRecordVersion(version::TLS12));
    cx.trace.step(|| {
        format!(
            "ServerHello (TLS 1.2): server_random={}{}",
            hex::encode(random),
            if config.versions.tls13 {
                " (ends with the RFC 8446 downgrade sentinel)"
            } else {
                ""
            }
        )
    });
    cx.trace.step(|| {
        format!(
            "ServerHello (TLS 1.2): chosen suite {}; group {}; extended_master_secret on; server_name {}",
            c.suite.suite,
            group::name(c.group),
            c.server_name.as_deref().unwrap_or("(none)")
        )
    });
    let mut exts = vec![m12::extended_master_secret_ext()];
    if c.secure_renegotiation {
        exts.push(m12::renegotiation_info_ext());
    }
    if c.point_formats {
        exts.push(m12::ec_point_formats_ext());
    }
    if let Some(p) = &c.alpn_protocol {
        cx.trace
            .step(|| format!("ServerHello (TLS 1.2): ALPN {}", alpn::display(p)));
        exts.push(alpn::extension(std::slice::from_ref(p)));
    }
    let sh = ServerHello {
        legacy_version: version::TLS12,
        random,
        // No session resumption: an empty session_id (RFC 5246 7.4.1.3).
        session_id: Vec::new(),
        cipher_suite: c.suite.suite.iana(),
        compression_method: 0,
        extensions: exts,
    }
    .encode();
    let mut transcript = Transcript::new();
    if config.client_auth.is_some() {
        // A client CertificateVerify signs the messages themselves.
        transcript.keep_messages()?;
    }
    transcript.start_hash(c.suite.hash)?;
    transcript.add(&raw.raw);
    transcript.add(&sh.raw);
    cx.send(sh);

    let cert = Certificate12 {
        chain: config.chain.clone(),
    }
    .encode();
    transcript.add(&cert.raw);
    cx.send(cert);

    let kx = KeyExchange::generate(c.group)?;
    let params = EcdhParams {
        group: c.group,
        public: kx.public_key().to_vec(),
    };
    let signature = config
        .key
        .sign(c.sig_scheme, &params.signed_content(&ch.random, &random))?;
    cx.trace.step(|| {
        format!(
            "ServerKeyExchange: group {}; signed with {} ({} key)",
            group::name(c.group),
            scheme::name(c.sig_scheme),
            config.key.kind_name()
        )
    });
    let ske = ServerKeyExchange {
        params,
        signed: DigitallySigned {
            scheme: c.sig_scheme,
            signature,
        },
    }
    .encode();
    transcript.add(&ske.raw);
    cx.send(ske);
    if config.client_auth.is_some() {
        request_client_certificate(cx, &mut transcript);
    }

    let done = m12::encode_server_hello_done();
    transcript.add(&done.raw);
    cx.send(done);

    let h = Handshaking {
        client_random: ch.random,
        server_random: random,
        suite: c.suite,
        group: c.group,
        server_name: c.server_name,
        sig_scheme: c.sig_scheme,
        transcript,
        kx,
        peer_chain: Vec::new(),
        alpn_protocol: c.alpn_protocol,
    };
    Ok(match config.client_auth {
        Some(auth) => Box::new(ExpectCertificate { auth, h }),
        None => Box::new(ExpectClientKeyExchange(h)),
    })
}

/// Sends CertificateRequest (RFC 5246 7.4.4): RSA and ECDSA (with Ed25519,
/// RFC 8422 5.5) keys, the schemes we verify, and no certificate
/// authorities (the list may be empty).
fn request_client_certificate(cx: &mut Context, transcript: &mut Transcript) {
    let req = CertificateRequest12 {
        certificate_types: vec![m12::CERT_TYPE_RSA_SIGN, m12::CERT_TYPE_ECDSA_SIGN],
        schemes: verify::handshake_schemes(false),
        authorities: Vec::new(),
    };
    cx.trace.step(|| {
        let names: Vec<_> = req.schemes.iter().map(|s| scheme::name(*s)).collect();
        format!(
            "CertificateRequest: client certificate asked for; rsa_sign, ecdsa_sign; schemes {}",
            names.join(", ")
        )
    });
    let req = req.encode();
    transcript.add(&req.raw);
    cx.send(req);
}

#[derive(Debug)]
struct Handshaking {
    client_random: [u8; 32],
    server_random: [u8; 32],
    suite: SuiteParams,
    group: u16,
    server_name: Option<String>,
    sig_scheme: u16,
    transcript: Transcript,
    kx: KeyExchange,
    /// The client's verified chain; empty without client authentication.
    peer_chain: Vec<Vec<u8>>,
    alpn_protocol: Option<Vec<u8>>,
}

/// Waiting for the client's Certificate, which we asked for (RFC 5246
/// 7.4.6).
#[derive(Debug)]
struct ExpectCertificate {
    auth: ClientAuth,
    h: Handshaking,
}

impl State for ExpectCertificate {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "Certificate", hs_type::CERTIFICATE)?;
        let ExpectCertificate { auth, mut h } = *self;
        let cert = Certificate12::parse(msg.body())?;
        if verify::check_client_certificate(&cx.trace, &auth, &cert.chain, false)? {
            h.peer_chain = cert.chain;
        }
        h.transcript.add(&msg.raw);
        Ok(Box::new(ExpectClientKeyExchange(h)))
    }
}

#[derive(Debug)]
struct ExpectClientKeyExchange(Handshaking);

impl State for ExpectClientKeyExchange {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "ClientKeyExchange", hs_type::CLIENT_KEY_EXCHANGE)?;
        let Handshaking {
            client_random,
            server_random,
            suite,
            group: grp,
            server_name,
            sig_scheme,
            mut transcript,
            kx,
            peer_chain,
            alpn_protocol,
        } = self.0;
        let client_public = m12::parse_client_key_exchange(msg.body())?;
        let pms = PreMasterSecret::new(kx.agree(&client_public)?.to_vec());
        cx.trace
            .step(|| format!("ClientKeyExchange: client {} public key", group::name(grp)));
        transcript.add(&msg.raw);
        // RFC 7627 3: session_hash covers ClientHello .. ClientKeyExchange.
        let session_hash = transcript.current()?;
        let ms = MasterSecret::extended(suite.hash, pms, session_hash.as_bytes());
        announce_secrets(cx, &ms, &client_random);
        let kb = ms.key_block(suite.key_len, &client_random, &server_random);
        let (client_keys, server_keys) = record_keys(&kb, suite.suite);
        let keyed = Keyed {
            suite,
            group: grp,
            server_name,
            sig_scheme,
            transcript,
            ms,
            client_keys,
            server_keys,
            peer_chain,
            alpn_protocol,
        };
        Ok(if keyed.peer_chain.is_empty() {
            Box::new(ExpectChangeCipherSpec(keyed))
        } else {
            Box::new(ExpectCertificateVerify(keyed))
        })
    }
}

/// Waiting for the CertificateVerify of a client that sent a certificate:
/// a signature over every handshake message so far (RFC 5246 7.4.8).
#[derive(Debug)]
struct ExpectCertificateVerify(Keyed);

impl State for ExpectCertificateVerify {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "CertificateVerify", hs_type::CERTIFICATE_VERIFY)?;
        let mut k = self.0;
        let cv = DigitallySigned::parse_certificate_verify(msg.body())?;
        let messages = k
            .transcript
            .messages()
            .ok_or(Error::Internal("handshake messages were not kept"))?;
        let res = verify::verify_peer_signature(
            &k.peer_chain[0],
            &verify::handshake_schemes(false),
            cv.scheme,
            messages,
            &cv.signature,
            false,
        );
        cx.trace.step(|| {
            format!(
                "client CertificateVerify: {} signature {}",
                scheme::name(cv.scheme),
                if res.is_ok() { "verified" } else { "INVALID" }
            )
        });
        res?;
        k.transcript.add(&msg.raw);
        Ok(Box::new(ExpectChangeCipherSpec(k)))
    }
}

#[derive(Debug)]
struct Keyed {
    suite: SuiteParams,
    group: u16,
    server_name: Option<String>,
    sig_scheme: u16,
    transcript: Transcript,
    ms: MasterSecret,
    client_keys: RecordKeys,
    server_keys: RecordKeys,
    peer_chain: Vec<Vec<u8>>,
    alpn_protocol: Option<Vec<u8>>,
}

#[derive(Debug)]
struct ExpectChangeCipherSpec(Keyed);

impl State for ExpectChangeCipherSpec {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        expect_ccs(input)?;
        let Keyed {
            suite,
            group,
            server_name,
            sig_scheme,
            transcript,
            ms,
            client_keys,
            server_keys,
            peer_chain,
            alpn_protocol,
        } = self.0;
        cx.trace
            .step(|| "received ChangeCipherSpec: client records now protected".into());
        cx.actions.push(Action::ReadKeys(client_keys));
        Ok(Box::new(ExpectFinished {
            suite,
            group,
            server_name,
            sig_scheme,
            transcript,
            ms,
            server_keys,
            peer_chain,
            alpn_protocol,
        }))
    }
}

#[derive(Debug)]
struct ExpectFinished {
    suite: SuiteParams,
    group: u16,
    server_name: Option<String>,
    sig_scheme: u16,
    transcript: Transcript,
    ms: MasterSecret,
    server_keys: RecordKeys,
    peer_chain: Vec<Vec<u8>>,
    alpn_protocol: Option<Vec<u8>>,
}

impl State for ExpectFinished {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "Finished", hs_type::FINISHED)?;
        let mut f = *self;
        let want =
            f.ms.verify_data(FinishedLabel::Client, f.transcript.current()?.as_bytes());
        check_finished(msg.body(), &want)?;
        cx.trace.step(|| "client Finished verified".into());
        f.transcript.add(&msg.raw);
        let ours =
            f.ms.verify_data(FinishedLabel::Server, f.transcript.current()?.as_bytes());
        cx.actions.push(Action::SendCcs);
        cx.actions.push(Action::WriteKeys(f.server_keys));
        cx.send(messages::encode_finished(&ours));
        cx.trace
            .step(|| "server Finished sent: handshake complete (TLS 1.2)".into());
        cx.actions.push(Action::Established(Established {
            version: ProtocolVersion::Tls12,
            suite: f.suite.suite,
            group: NamedGroup::from_u16(f.group),
            signature_scheme: Some(SignatureScheme::from_u16(f.sig_scheme)),
            peer_chain: f.peer_chain,
            server_name: f.server_name,
            alpn_protocol: f.alpn_protocol,
            resumed: false,
        }));
        Ok(Box::new(Connected { is_client: false }))
    }
}
