//! The TLS 1.3 client (RFC 8446 2, 4): ClientHello, then
//!
//! ```text
//! ExpectServerHello ─HRR─▶ ExpectServerHello (once) ─▶ ExpectEncryptedExtensions
//!   ─▶ ExpectCertificate ─▶ ExpectCertificateVerify ─▶ ExpectFinished ─▶ Connected
//! ```
//!
//! A ServerHello choosing TLS 1.2 (see [`crate::handshake::hello`], which
//! also checks the downgrade sentinel of 4.1.3) is handed to `tls12`.
//!
//! With a session store ([`ClientConfig::session_store`]) the ClientHello
//! offers a ticket ([`super::psk`]); when the server accepts it,
//! ExpectEncryptedExtensions goes straight to ExpectFinished, and the
//! connected state stores the tickets the server sends.

#![forbid(unsafe_code)]

use super::keyschedule::{HandshakeSecret, TrafficSecret};
use super::{announce, psk, record_keys, suite_params, Connected};
use crate::handshake::alpn;
use crate::handshake::error::Error;
use crate::handshake::kx::{group, KeyExchange};
use crate::handshake::messages::{
    self, build, ext, hs_type, suite, version, Certificate13, CertificateRequest13, ClientHello,
    DigitallySigned, EncryptedExtensions, Extension, HandshakeMessage, KeyShareEntry, ServerHello,
};
use crate::handshake::transcript::Transcript;
use crate::handshake::verify::{self, scheme, ServerVerification};
use crate::handshake::{
    expect_handshake, hello, random32, tls12, Action, ClientConfig, Context, Established, Input,
    ProtocolVersion, State,
};
use crate::wire::{CipherSuite, NamedGroup, SignatureScheme};

fn hex_short(b: &[u8]) -> String {
    hex::encode(b)
}

/// The signature schemes we offer (TLS 1.2 also takes PKCS#1).
fn offered_schemes(config: &ClientConfig) -> Vec<u16> {
    verify::SUPPORTED_SCHEMES
        .iter()
        .copied()
        .filter(|s| config.versions.tls12 || !scheme::is_pkcs1(*s))
        .collect()
}

/// Extension types our ClientHello carries: the only ones a server may
/// answer with (RFC 8446 4.2: anything else is unsupported_extension).
fn sent_extension_types(config: &ClientConfig) -> Vec<u16> {
    let mut v = vec![
        ext::SERVER_NAME,
        ext::SUPPORTED_GROUPS,
        ext::SIGNATURE_ALGORITHMS,
    ];
    if !config.alpn_protocols.is_empty() {
        v.push(ext::ALPN);
    }
    if config.versions.tls13 {
        v.extend([ext::SUPPORTED_VERSIONS, ext::KEY_SHARE]);
    }
    if config.versions.tls12 {
        v.extend([
            ext::EC_POINT_FORMATS,
            ext::EXTENDED_MASTER_SECRET,
            ext::RENEGOTIATION_INFO,
        ]);
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn build_client_hello(
    config: &ClientConfig,
    server_name: Option<&str>,
    random: [u8; 32],
    session_id: Vec<u8>,
    shares: &[KeyExchange],
    cookie: Option<&[u8]>,
) -> ClientHello {
    let mut suites = Vec::new();
    if config.versions.tls13 {
        suites.extend(config.suites13.iter().map(|s| s.iana()));
    }
    if config.versions.tls12 {
        suites.extend(config.suites12.iter().map(|s| s.iana()));
        // RFC 5746 3.3: signal secure renegotiation support.
        suites.push(suite::EMPTY_RENEGOTIATION_INFO_SCSV);
    }
    let mut exts = Vec::new();
    // RFC 6066 3: server_name carries a DNS host name without the trailing
    // dot; literal IP addresses (and anything else that is not a host name)
    // are not sent.
    let sni = server_name
        .map(|n| n.strip_suffix('.').unwrap_or(n))
        .filter(|n| n.parse::<std::net::IpAddr>().is_err())
        .filter(|n| messages::dns_host_name(n.as_bytes()).is_ok());
    if let Some(name) = sni {
        exts.push(build::server_name(name));
    }
    let groups: Vec<u16> = config.groups.iter().map(|g| g.to_u16()).collect();
    exts.push(build::u16_list(ext::SUPPORTED_GROUPS, &groups));
    exts.push(build::u16_list(
        ext::SIGNATURE_ALGORITHMS,
        &offered_schemes(config),
    ));
    if !config.alpn_protocols.is_empty() {
        exts.push(alpn::extension(&config.alpn_protocols));
    }
    if config.versions.tls12 {
        // RFC 8422 5.1.2: uncompressed points only.
        exts.push(Extension::build(ext::EC_POINT_FORMATS, |w| {
            w.vec8(|w| {
                w.u8(0);
            });
        }));
        exts.push(Extension {
            typ: ext::EXTENDED_MASTER_SECRET,
            data: vec![],
        });
    }
    if config.versions.tls13 {
        let mut versions = vec![version::TLS13];
        if config.versions.tls12 {
            versions.push(version::TLS12);
        }
        exts.push(build::supported_versions_client(&versions));
        let entries: Vec<KeyShareEntry> = shares
            .iter()
            .map(|k| KeyShareEntry {
                group: k.group(),
                key_exchange: k.public_key().to_vec(),
            })
            .collect();
        exts.push(build::key_share_client(&entries));
        if let Some(c) = cookie {
            exts.push(Extension::build(ext::COOKIE, |w| {
                w.vec16(|w| {
                    w.bytes(c);
                });
            }));
        }
    }
    ClientHello {
        legacy_version: version::TLS12,
        random,
        session_id,
        cipher_suites: suites,
        compression_methods: vec![0],
        extensions: exts,
    }
}

/// Starts a client handshake: queues the ClientHello and returns the state
/// waiting for ServerHello. `server_name` is sent as SNI (unless it is an IP
/// address) and is what the certificate must match.
pub fn start(
    config: ClientConfig,
    server_name: Option<String>,
    cx: &mut Context,
) -> Result<Box<dyn State>, Error> {
    if !config.versions.tls13 && !config.versions.tls12 {
        return Err(Error::Config("no protocol version enabled".into()));
    }
    alpn::check_config(&config.alpn_protocols)?;
    if matches!(config.verification, ServerVerification::Roots(_)) && server_name.is_none() {
        return Err(Error::Config(
            "certificate verification needs a server name".into(),
        ));
    }
    let random = random32()?;
    // RFC 8446 D.4: a non-empty legacy_session_id for middlebox compatibility.
    let session_id = if config.versions.tls13 {
        random32()?.to_vec()
    } else {
        Vec::new()
    };
    let mut shares = Vec::new();
    if config.versions.tls13 {
        for g in &config.key_share_groups {
            shares.push(KeyExchange::generate(g.to_u16())?);
        }
    }
    let mut ch = build_client_hello(
        &config,
        server_name.as_deref(),
        random,
        session_id,
        &shares,
        None,
    );
    let offer = psk::offer(&config, server_name.as_deref(), &mut ch)?;
    cx.trace
        .step(|| format!("ClientHello: client_random={}", hex_short(&random)));
    cx.trace.step(|| {
        let s: Vec<_> = ch.cipher_suites.iter().map(|s| suite::name(*s)).collect();
        format!("ClientHello: offered suites {}", s.join(", "))
    });
    cx.trace.step(|| {
        let g: Vec<_> = config.groups.iter().map(|g| g.to_string()).collect();
        let k: Vec<_> = shares.iter().map(|k| group::name(k.group())).collect();
        format!(
            "ClientHello: groups {}; key shares {}; versions {}; server_name {}",
            g.join(", "),
            if k.is_empty() {
                "none".into()
            } else {
                k.join(", ")
            },
            match (config.versions.tls13, config.versions.tls12) {
                (true, true) => "TLS 1.3, TLS 1.2",
                (true, false) => "TLS 1.3",
                _ => "TLS 1.2",
            },
            server_name.as_deref().unwrap_or("(none)")
        )
    });
    let msg = ch.encode();
    let mut transcript = Transcript::new();
    transcript.add(&msg.raw);
    cx.send(msg);
    Ok(Box::new(ExpectServerHello {
        config,
        server_name,
        ch,
        transcript,
        shares,
        hrr_suite: None,
        offer,
    }))
}

/// Waiting for ServerHello (or, once, HelloRetryRequest).
#[derive(Debug)]
struct ExpectServerHello {
    config: ClientConfig,
    server_name: Option<String>,
    ch: ClientHello,
    transcript: Transcript,
    shares: Vec<KeyExchange>,
    /// The suite a HelloRetryRequest chose, after one.
    hrr_suite: Option<u16>,
    /// The ticket offered in pre_shared_key.
    offer: Option<psk::Offer>,
}

impl State for ExpectServerHello {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "ServerHello", hs_type::SERVER_HELLO)?;
        let sh = ServerHello::parse(msg.body())?;
        let this = *self;

        if hello::client_version(cx, this.config.versions, this.hrr_suite.is_some(), &sh)?
            == ProtocolVersion::Tls12
        {
            return this.downgrade_to_tls12(cx, sh, msg);
        }
        if sh.session_id != this.ch.session_id {
            return Err(Error::IllegalParameter("legacy_session_id_echo differs"));
        }
        if sh.compression_method != 0 {
            return Err(Error::IllegalParameter("compression method is not null"));
        }
        if !this
            .config
            .suites13
            .iter()
            .any(|s| s.iana() == sh.cipher_suite)
        {
            return Err(Error::IllegalParameter(
                "server chose a suite we did not offer",
            ));
        }
        if let Some(s) = this.hrr_suite {
            if s != sh.cipher_suite {
                return Err(Error::IllegalParameter(
                    "suite differs from HelloRetryRequest",
                ));
            }
        }
        if sh.is_hrr() {
            this.hello_retry(cx, sh, msg)
        } else {
            this.server_hello(cx, sh, msg)
        }
    }

    fn tolerates_ccs(&self) -> bool {
        // Only after a HelloRetryRequest could a compat CCS precede
        // ServerHello (RFC 8446 D.4).
        self.hrr_suite.is_some()
    }
}

impl ExpectServerHello {
    fn downgrade_to_tls12(
        self,
        cx: &mut Context,
        sh: ServerHello,
        msg: HandshakeMessage,
    ) -> Result<Box<dyn State>, Error> {
        let start = hello::Tls12ClientStart {
            config: self.config,
            server_name: self.server_name,
            client_hello: self.ch,
            transcript: self.transcript,
            key_shares: self.shares,
        };
        tls12::client::from_server_hello(cx, start, sh, msg)
    }

    fn hello_retry(
        mut self,
        cx: &mut Context,
        hrr: ServerHello,
        msg: HandshakeMessage,
    ) -> Result<Box<dyn State>, Error> {
        if self.hrr_suite.is_some() {
            return Err(Error::unexpected(
                "ServerHello",
                "a second HelloRetryRequest",
            ));
        }
        for e in &hrr.extensions {
            if !matches!(
                e.typ,
                ext::KEY_SHARE | ext::SUPPORTED_VERSIONS | ext::COOKIE
            ) {
                return Err(if sent_extension_types(&self.config).contains(&e.typ) {
                    Error::IllegalParameter("extension not allowed in HelloRetryRequest")
                } else {
                    Error::UnsupportedExtension(e.typ)
                });
            }
        }
        let g = hrr
            .hrr_group()?
            .ok_or(Error::IllegalParameter("HelloRetryRequest changes nothing"))?;
        // RFC 8446 4.1.4: the group must be offered and not already shared.
        if !self.config.groups.contains(&NamedGroup::from_u16(g))
            || self.shares.iter().any(|k| k.group() == g)
        {
            return Err(Error::IllegalParameter(
                "HelloRetryRequest selected a bad group",
            ));
        }
        let cookie = match hrr.extension(ext::COOKIE) {
            Some(d) => {
                let mut r = crate::handshake::codec::Reader::new(d);
                let c = r.vec16("cookie")?.to_vec();
                r.finish("cookie")?;
                if c.is_empty() {
                    return Err(Error::Decode(
                        crate::handshake::codec::DecodeError::BadLength("cookie"),
                    ));
                }
                Some(c)
            }
            None => None,
        };
        let (alg, _) = suite_params(hrr.cipher_suite).ok_or(Error::Internal("suite"))?;
        cx.trace.step(|| {
            format!(
                "HelloRetryRequest: suite {}, group {}",
                suite::name(hrr.cipher_suite),
                group::name(g)
            )
        });
        // RFC 8446 4.4.1: ClientHello1 becomes message_hash.
        self.transcript.start_hash(alg)?;
        self.transcript.replace_with_message_hash()?;
        self.transcript.add(&msg.raw);

        let share = KeyExchange::generate(g)?;
        self.shares = vec![share];
        let mut ch2 = build_client_hello(
            &self.config,
            self.server_name.as_deref(),
            self.ch.random,
            self.ch.session_id.clone(),
            &self.shares,
            cookie.as_deref(),
        );
        self.offer = psk::retry(self.offer.take(), &self.ch, &mut ch2, &self.transcript)?;
        // RFC 8446 D.4: the compat CCS goes before the second ClientHello.
        cx.actions.push(Action::SendCcs);
        let m = ch2.encode();
        self.transcript.add(&m.raw);
        cx.trace
            .step(|| format!("ClientHello (retry): key share {}", group::name(g)));
        cx.send(m);
        self.ch = ch2;
        self.hrr_suite = Some(hrr.cipher_suite);
        Ok(Box::new(self))
    }

    fn server_hello(
        mut self,
        cx: &mut Context,
        sh: ServerHello,
        msg: HandshakeMessage,
    ) -> Result<Box<dyn State>, Error> {
        for e in &sh.extensions {
            let psk_offered = e.typ == ext::PRE_SHARED_KEY && self.offer.is_some();
            if !matches!(e.typ, ext::KEY_SHARE | ext::SUPPORTED_VERSIONS) && !psk_offered {
                return Err(if e.typ == ext::PRE_SHARED_KEY {
                    // We offered no PSK.
                    Error::UnsupportedExtension(e.typ)
                } else if sent_extension_types(&self.config).contains(&e.typ) {
                    Error::IllegalParameter("extension not allowed in ServerHello")
                } else {
                    Error::UnsupportedExtension(e.typ)
                });
            }
        }
        let share = sh
            .key_share()?
            .ok_or(Error::MissingExtension("key_share"))?;
        let idx = self
            .shares
            .iter()
            .position(|k| k.group() == share.group)
            .ok_or(Error::IllegalParameter(
                "server key share in a group we did not share",
            ))?;
        let suite = sh.cipher_suite;
        let (alg, _) = suite_params(suite).ok_or(Error::Internal("suite"))?;
        cx.trace
            .step(|| format!("ServerHello: server_random={}", hex_short(&sh.random)));
        cx.trace.step(|| {
            format!(
                "ServerHello: version TLS 1.3, suite {}, group {}",
                suite::name(suite),
                group::name(share.group)
            )
        });
        self.transcript.start_hash(alg)?;
        self.transcript.add(&msg.raw);
        let kx = self.shares.swap_remove(idx);
        let shared = kx.agree(&share.key_exchange)?;
        cx.trace.step(|| {
            format!(
                "key exchange {}: shared secret computed",
                group::name(share.group)
            )
        });
        let (early, resumed) = psk::accept(cx, self.offer.take(), &sh, alg)?;
        let hs = early.into_handshake(&shared);
        cx.trace
            .step(|| "derived early secret, handshake secret (labels only)".into());
        let (c_hs, s_hs) = hs.traffic_secrets(self.transcript.current()?.as_bytes());
        announce(cx, &c_hs, &self.ch.random);
        announce(cx, &s_hs, &self.ch.random);
        cx.actions
            .push(Action::ReadKeys(record_keys(&s_hs, suite)?));
        Ok(Box::new(ExpectEncryptedExtensions(Handshaking {
            ccs_sent: self.hrr_suite.is_some(),
            config: self.config,
            server_name: self.server_name,
            client_random: self.ch.random,
            transcript: self.transcript,
            suite,
            group: share.group,
            hs,
            c_hs,
            s_hs,
            cert_request: None,
            client_scheme: None,
            chain: Vec::new(),
            sig_scheme: 0,
            alpn: None,
            resumed,
        })))
    }
}

/// What every state after ServerHello carries.
#[derive(Debug)]
struct Handshaking {
    config: ClientConfig,
    server_name: Option<String>,
    client_random: [u8; 32],
    transcript: Transcript,
    suite: u16,
    group: u16,
    hs: HandshakeSecret,
    c_hs: TrafficSecret,
    s_hs: TrafficSecret,
    cert_request: Option<CertificateRequest13>,
    /// The scheme our CertificateVerify uses, when the server asked for a
    /// certificate and accepts one our key makes.
    client_scheme: Option<u16>,
    chain: Vec<Vec<u8>>,
    /// The scheme of the server's CertificateVerify, once verified.
    sig_scheme: u16,
    ccs_sent: bool,
    /// The application protocol the server chose (RFC 7301).
    alpn: Option<Vec<u8>>,
    /// Whether the server accepted our PSK: no certificate follows.
    resumed: bool,
}

#[derive(Debug)]
struct ExpectEncryptedExtensions(Handshaking);

impl State for ExpectEncryptedExtensions {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "EncryptedExtensions", hs_type::ENCRYPTED_EXTENSIONS)?;
        let mut h = self.0;
        let ee = EncryptedExtensions::parse(msg.body())?;
        let sent = sent_extension_types(&h.config);
        for e in &ee.extensions {
            match e.typ {
                ext::SERVER_NAME | ext::SUPPORTED_GROUPS => {}
                ext::ALPN if !h.config.alpn_protocols.is_empty() => {
                    let p = alpn::check_answer(&h.config.alpn_protocols, &e.data)?;
                    cx.trace
                        .step(|| format!("EncryptedExtensions: ALPN {}", alpn::display(&p)));
                    h.alpn = Some(p);
                }
                ext::KEY_SHARE
                | ext::SUPPORTED_VERSIONS
                | ext::SIGNATURE_ALGORITHMS
                | ext::PRE_SHARED_KEY
                | ext::COOKIE
                | ext::PSK_KEY_EXCHANGE_MODES => {
                    return Err(Error::IllegalParameter(
                        "extension not allowed in EncryptedExtensions",
                    ))
                }
                t if !sent.contains(&t) => return Err(Error::UnsupportedExtension(t)),
                _ => {
                    return Err(Error::IllegalParameter(
                        "extension not allowed in EncryptedExtensions",
                    ))
                }
            }
        }
        cx.trace
            .step(|| format!("EncryptedExtensions: {} extension(s)", ee.extensions.len()));
        h.transcript.add(&msg.raw);
        if h.resumed {
            return Ok(Box::new(ExpectFinished(h)));
        }
        Ok(Box::new(ExpectCertificate(h)))
    }

    fn tolerates_ccs(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct ExpectCertificate(Handshaking);

impl State for ExpectCertificate {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let mut h = self.0;
        let msg = match input {
            Input::Handshake(m)
                if m.typ == hs_type::CERTIFICATE_REQUEST && h.cert_request.is_none() =>
            {
                let req = CertificateRequest13::parse(m.body())?;
                let accepted = req.signature_algorithms()?;
                cx.trace.step(|| match &h.config.client_cert {
                    Some(c) => format!(
                        "CertificateRequest: we have a certificate ({} key)",
                        c.key.kind_name()
                    ),
                    None => "CertificateRequest: we will answer with no certificate".into(),
                });
                h.client_scheme = h
                    .config
                    .client_cert
                    .as_ref()
                    .and_then(|c| c.key.choose_scheme(&accepted, true).ok());
                h.transcript.add(&m.raw);
                h.cert_request = Some(req);
                return Ok(Box::new(ExpectCertificate(h)));
            }
            other => expect_handshake(other, "Certificate", hs_type::CERTIFICATE)?,
        };
        let cert = Certificate13::parse(msg.body())?;
        if !cert.context.is_empty() {
            return Err(Error::IllegalParameter(
                "server certificate_request_context is not empty",
            ));
        }
        // RFC 8446 4.4.2.4: an empty server Certificate is a decode_error.
        verify::check_server_certificate(
            &cx.trace,
            &h.config.verification,
            h.server_name.as_deref(),
            &cert.chain,
        )?;
        h.transcript.add(&msg.raw);
        h.chain = cert.chain;
        Ok(Box::new(ExpectCertificateVerify(h)))
    }

    fn tolerates_ccs(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct ExpectCertificateVerify(Handshaking);

impl State for ExpectCertificateVerify {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "CertificateVerify", hs_type::CERTIFICATE_VERIFY)?;
        let mut h = self.0;
        let cv = DigitallySigned::parse_certificate_verify(msg.body())?;
        let content = verify::tls13_signed_content(true, h.transcript.current()?.as_bytes());
        let res = verify::verify_peer_signature(
            &h.chain[0],
            &offered_schemes(&h.config),
            cv.scheme,
            &content,
            &cv.signature,
            true,
        );
        cx.trace.step(|| {
            format!(
                "CertificateVerify: {} signature {}",
                scheme::name(cv.scheme),
                if res.is_ok() { "verified" } else { "INVALID" }
            )
        });
        res?;
        h.sig_scheme = cv.scheme;
        h.transcript.add(&msg.raw);
        Ok(Box::new(ExpectFinished(h)))
    }

    fn tolerates_ccs(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct ExpectFinished(Handshaking);

impl State for ExpectFinished {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "Finished", hs_type::FINISHED)?;
        let mut h = self.0;
        h.s_hs
            .verify_finished(h.transcript.current()?.as_bytes(), msg.body())?;
        cx.trace.step(|| "server Finished verified".into());
        h.transcript.add(&msg.raw);
        let to_server_finished = h.transcript.current()?;

        let master = h.hs.into_master();
        cx.trace
            .step(|| "derived master secret (label only)".into());
        let app = master.application_secrets(to_server_finished.as_bytes());
        announce(cx, &app.client, &h.client_random);
        announce(cx, &app.server, &h.client_random);
        cx.keylog.log(
            "EXPORTER_SECRET",
            &h.client_random,
            app.exporter_for_keylog(),
        );

        if !h.ccs_sent {
            cx.actions.push(Action::SendCcs);
        }
        cx.actions
            .push(Action::WriteKeys(record_keys(&h.c_hs, h.suite)?));
        if let Some(req) = h.cert_request.take() {
            send_client_certificate(cx, &h.config, h.client_scheme, &mut h.transcript, req)?;
        }
        let fin = h.c_hs.finished(h.transcript.current()?.as_bytes());
        let fin_msg = messages::encode_finished(fin.as_bytes());
        h.transcript.add(&fin_msg.raw);
        cx.send(fin_msg);
        cx.actions
            .push(Action::WriteKeys(record_keys(&app.client, h.suite)?));
        cx.actions
            .push(Action::ReadKeys(record_keys(&app.server, h.suite)?));
        cx.trace
            .step(|| "handshake complete: application data keys in use".into());
        cx.actions.push(Action::Established(Established {
            version: ProtocolVersion::Tls13,
            suite: CipherSuite::from_iana(h.suite).ok_or(Error::Internal("suite"))?,
            group: NamedGroup::from_u16(h.group),
            signature_scheme: (!h.resumed).then(|| SignatureScheme::from_u16(h.sig_scheme)),
            peer_chain: h.chain,
            server_name: h.server_name.clone(),
            alpn_protocol: h.alpn.clone(),
            resumed: h.resumed,
        }));
        let tickets = psk::sink(
            &h.config,
            h.server_name.as_deref(),
            h.suite,
            h.alpn,
            master,
            h.transcript.current()?.as_bytes(),
        );
        Ok(Box::new(
            Connected::new(cx, true, h.suite, h.client_random, app.client, app.server)
                .with_tickets(tickets),
        ))
    }

    fn tolerates_ccs(&self) -> bool {
        true
    }
}

/// Answers a CertificateRequest (RFC 8446 4.4.2, 4.4.3): our chain and a
/// CertificateVerify over the transcript so far with the context string of
/// the client, or an empty Certificate when we have no certificate or the
/// server accepts none of our key's schemes (4.4.2.3).
fn send_client_certificate(
    cx: &mut Context,
    config: &ClientConfig,
    client_scheme: Option<u16>,
    transcript: &mut Transcript,
    req: CertificateRequest13,
) -> Result<(), Error> {
    let signer = match (&config.client_cert, client_scheme) {
        (Some(c), Some(s)) => Some((c.clone(), s)),
        (Some(c), None) => {
            cx.trace.step(|| {
                format!(
                    "the server accepts no signature scheme of our {} key: sending no certificate",
                    c.key.kind_name()
                )
            });
            None
        }
        (None, _) => None,
    };
    let chain = signer
        .as_ref()
        .map(|(c, _)| c.chain.clone())
        .unwrap_or_default();
    let cert = Certificate13 {
        context: req.context,
        chain,
    }
    .encode();
    transcript.add(&cert.raw);
    cx.send(cert);
    let Some((certified, s)) = signer else {
        return Ok(());
    };
    let content = verify::tls13_signed_content(false, transcript.current()?.as_bytes());
    let cv = DigitallySigned {
        scheme: s,
        signature: certified.key.sign(s, &content)?,
    }
    .encode_certificate_verify();
    transcript.add(&cv.raw);
    cx.trace.step(|| {
        format!(
            "client Certificate: subject {}; CertificateVerify signed with {}",
            verify::subject_summary(&certified.chain[0]),
            scheme::name(s)
        )
    });
    cx.send(cv);
    Ok(())
}
