//! The TLS 1.3 server (RFC 8446 2, 4):
//!
//! ```text
//! ExpectClientHello ─(share in no group of ours)─▶ HelloRetryRequest ─▶ ExpectClientHello (retry)
//!   ─▶ ServerHello, {EncryptedExtensions, [CertificateRequest], Certificate, CertificateVerify, Finished}
//!   ─▶ [ExpectCertificate ─(not empty)─▶ ExpectCertificateVerify] ─▶ ExpectFinished ─▶ Connected
//!                                                         (then NewSessionTickets)
//! ```
//!
//! A ClientHello whose pre_shared_key holds a ticket of ours is resumed
//! ([`super::psk`]): ServerHello names it, and neither CertificateRequest
//! nor Certificate nor CertificateVerify is sent.
//!
//! With [`ServerConfig::client_auth`] set, the server asks for a client
//! certificate (RFC 8446 4.3.2) and checks the client's Certificate
//! (4.4.2.4) and CertificateVerify (4.4.3) before its Finished.
//!
//! Version negotiation happens on the first ClientHello
//! ([`crate::handshake::hello`]): a client without TLS 1.3 in
//! supported_versions (or a `--tls1.2` server) goes to `tls12`.

#![forbid(unsafe_code)]

use super::keyschedule::{ApplicationSecrets, TrafficSecret};
use super::{announce, psk, record_keys, suite_params, Connected};
use crate::handshake::alpn;
use crate::handshake::error::Error;
use crate::handshake::kx::{self, group};
use crate::handshake::messages::{
    self, build, ext, hs_type, suite, version, Certificate13, CertificateRequest13, ClientHello,
    DigitallySigned, EncryptedExtensions, HandshakeMessage, KeyShareEntry, ServerHello, HRR_RANDOM,
};
use crate::handshake::transcript::Transcript;
use crate::handshake::verify::{self, scheme, ClientAuth};
use crate::handshake::{
    expect_handshake, hello, random32, tls12, Action, Context, Established, Input, ProtocolVersion,
    ServerConfig, State,
};
use crate::wire::{CipherSuite, NamedGroup, SignatureScheme};
use zeroize::Zeroizing;

/// Starts a server handshake: the state waiting for ClientHello.
pub fn start(config: ServerConfig) -> Box<dyn State> {
    Box::new(ExpectClientHello {
        config,
        retry: None,
    })
}

/// What a HelloRetryRequest fixed for the second ClientHello.
#[derive(Debug)]
struct Retry {
    transcript: Transcript,
    suite: u16,
    group: u16,
    ch1: ClientHello,
}

#[derive(Debug)]
struct ExpectClientHello {
    config: ServerConfig,
    retry: Option<Retry>,
}

impl State for ExpectClientHello {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "ClientHello", hs_type::CLIENT_HELLO)?;
        let ch = ClientHello::parse(msg.body())?;
        let this = *self;
        if this.retry.is_none() {
            cx.trace
                .step(|| format!("ClientHello: client_random={}", hex::encode(ch.random)));
            cx.trace.step(|| {
                let s: Vec<_> = ch.cipher_suites.iter().map(|s| suite::name(*s)).collect();
                format!("ClientHello: offered suites {}", s.join(", "))
            });
        }
        match hello::server_version(cx, this.config.versions, this.retry.is_some(), &ch)? {
            ProtocolVersion::Tls13 => this.tls13_hello(cx, ch, msg),
            ProtocolVersion::Tls12 => tls12::server::from_client_hello(cx, this.config, ch, msg),
        }
    }

    fn tolerates_ccs(&self) -> bool {
        // RFC 8446 D.4: a client may send CCS before its second ClientHello.
        self.retry.is_some()
    }
}

impl ExpectClientHello {
    fn tls13_hello(
        self,
        cx: &mut Context,
        ch: ClientHello,
        msg: HandshakeMessage,
    ) -> Result<Box<dyn State>, Error> {
        let config = self.config;
        let retried = self.retry.is_some();
        check_client_hello(&ch)?;
        let suite = choose_suite(&config, self.retry.as_ref(), &ch)?;
        let (alg, _) = suite_params(suite).ok_or(Error::Config("not a TLS 1.3 suite".into()))?;
        let sig_algs = ch
            .signature_algorithms()?
            .ok_or(Error::MissingExtension("signature_algorithms"))?;
        let sig_scheme = config.key.choose_scheme(&sig_algs, true)?;
        let groups = ch
            .supported_groups()?
            .ok_or(Error::MissingExtension("supported_groups"))?;
        let shares = ch
            .key_shares()?
            .ok_or(Error::MissingExtension("key_share"))?;
        // RFC 8446 4.2.8: each share must be for an offered group.
        if shares.iter().any(|s| !groups.contains(&s.group)) {
            return Err(Error::IllegalParameter(
                "key share for a group not in supported_groups",
            ));
        }
        let server_name = ch.server_name()?;
        let alpn_protocol = alpn::choose(&config.alpn_protocols, ch.extension(ext::ALPN))?;
        // Our tickets allow no early data (no early_data extension in
        // NewSessionTicket), so none is accepted: the extension is ignored
        // and the early records skipped (RFC 8446 4.2.10), also those
        // before a second ClientHello if we ask for one.
        let early_data = ch.extension(ext::EARLY_DATA).is_some();
        if early_data && !retried {
            cx.trace
                .step(|| "ClientHello offers early data: rejected, skipping it".into());
            cx.actions.push(Action::SkipRejectedEarlyData);
        }

        let share = match choose_share(&config, self.retry.as_ref(), &groups, &shares)? {
            ShareChoice::Use(s) => s,
            ShareChoice::Retry(g) => return hello_retry(cx, config, ch, msg, suite, g),
        };

        let mut transcript = match self.retry {
            Some(r) => r.transcript,
            None => {
                let mut t = Transcript::new();
                t.start_hash(alg)?;
                t
            }
        };
        let accepted = psk::select(cx, &config, &ch, &msg, suite, &transcript)?;
        transcript.add(&msg.raw);

        let shared = send_server_hello(
            cx,
            &ch,
            suite,
            &share,
            server_name.as_deref(),
            retried,
            accepted.as_ref(),
            &mut transcript,
        )?;

        let shared = psk::dhe_secret(alg, accepted.as_ref(), shared);
        let hs = psk::early_secret(alg, accepted.as_ref()).into_handshake(&shared);
        cx.trace
            .step(|| "derived early secret, handshake secret (labels only)".into());
        let (c_hs, s_hs) = hs.traffic_secrets(transcript.current()?.as_bytes());
        announce(cx, &c_hs, &ch.random);
        announce(cx, &s_hs, &ch.random);
        cx.actions
            .push(Action::WriteKeys(record_keys(&s_hs, suite)?));

        send_encrypted_extensions(cx, &alpn_protocol, &mut transcript);
        if accepted.is_none() {
            if config.client_auth.is_some() {
                request_client_certificate(cx, &mut transcript);
            }
            send_certificate(cx, &config, &mut transcript);
            send_certificate_verify(cx, &config, sig_scheme, &mut transcript)?;
        }

        let fin = s_hs.finished(transcript.current()?.as_bytes());
        let fin_msg = messages::encode_finished(fin.as_bytes());
        transcript.add(&fin_msg.raw);
        cx.send(fin_msg);

        let master = hs.into_master();
        cx.trace
            .step(|| "derived master secret (label only)".into());
        let app = master.application_secrets(transcript.current()?.as_bytes());
        announce(cx, &app.client, &ch.random);
        announce(cx, &app.server, &ch.random);
        cx.keylog
            .log("EXPORTER_SECRET", &ch.random, app.exporter_for_keylog());
        cx.actions
            .push(Action::WriteKeys(record_keys(&app.server, suite)?));
        cx.actions
            .push(Action::ReadKeys(record_keys(&c_hs, suite)?));
        let issuer = psk::issuer(
            &config,
            &ch,
            master,
            suite,
            server_name.clone(),
            alpn_protocol.clone(),
        );
        let finished = ExpectFinished {
            suite,
            group: share.group,
            sig_scheme: if accepted.is_some() { 0 } else { sig_scheme },
            client_random: ch.random,
            server_name,
            transcript,
            c_hs,
            app,
            peer_chain: Vec::new(),
            alpn_protocol,
            resumed: accepted.is_some(),
            issuer,
        };
        Ok(match config.client_auth {
            Some(auth) => Box::new(ExpectCertificate { auth, finished }),
            None => Box::new(finished),
        })
    }
}

/// The TLS 1.3 ClientHello checks that come before any negotiation:
/// null compression only, and pre_shared_key last (RFC 8446 4.1.2, 4.2.11).
fn check_client_hello(ch: &ClientHello) -> Result<(), Error> {
    if ch.compression_methods != [0] {
        return Err(Error::IllegalParameter(
            "compression methods other than null",
        ));
    }
    if ch.extension(ext::PRE_SHARED_KEY).is_some() {
        // RFC 8446 4.2.11: pre_shared_key must be the last extension,
        // whether or not we use the PSK.
        if ch.extensions.last().map(|e| e.typ) != Some(ext::PRE_SHARED_KEY) {
            return Err(Error::IllegalParameter(
                "pre_shared_key is not the last extension",
            ));
        }
    }
    Ok(())
}

/// The cipher suite: our most preferred one the client offers, or after a
/// HelloRetryRequest the one it fixed.
fn choose_suite(
    config: &ServerConfig,
    retry: Option<&Retry>,
    ch: &ClientHello,
) -> Result<u16, Error> {
    Ok(match retry {
        Some(r) => {
            check_second_hello(&r.ch1, ch)?;
            r.suite
        }
        None => config
            .suites13
            .iter()
            .map(|s| s.iana())
            .find(|s| ch.cipher_suites.contains(s))
            .ok_or(Error::HandshakeFailure("no TLS 1.3 cipher suite in common"))?,
    })
}

/// What to do with the client's key shares.
enum ShareChoice {
    /// Answer with this share.
    Use(KeyShareEntry),
    /// Ask for a share in this group with a HelloRetryRequest.
    Retry(u16),
}

/// A share in one of our groups (ours preferred) is used at once;
/// otherwise ask for our most preferred group the client supports.
fn choose_share(
    config: &ServerConfig,
    retry: Option<&Retry>,
    groups: &[u16],
    shares: &[KeyShareEntry],
) -> Result<ShareChoice, Error> {
    let chosen = config
        .groups
        .iter()
        .find_map(|g| shares.iter().find(|s| s.group == g.to_u16()));
    Ok(match (chosen, retry) {
        (Some(s), None) => ShareChoice::Use(s.clone()),
        (Some(s), Some(r)) if s.group == r.group && shares.len() == 1 => {
            ShareChoice::Use(s.clone())
        }
        (_, Some(_)) => {
            return Err(Error::IllegalParameter(
                "second ClientHello lacks the requested share",
            ))
        }
        (None, None) => {
            let g = config
                .groups
                .iter()
                .map(|g| g.to_u16())
                .find(|g| groups.contains(g))
                .ok_or(Error::HandshakeFailure("no key exchange group in common"))?;
            ShareChoice::Retry(g)
        }
    })
}

/// Answers the client's share and sends ServerHello (RFC 8446 4.1.3), with
/// pre_shared_key when resuming, then the compat CCS after a first
/// ClientHello; the shared secret.
#[allow(clippy::too_many_arguments)]
fn send_server_hello(
    cx: &mut Context,
    ch: &ClientHello,
    suite: u16,
    share: &KeyShareEntry,
    server_name: Option<&str>,
    retried: bool,
    psk: Option<&psk::Accepted>,
    transcript: &mut Transcript,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    // Checks the client's share and computes ours and the secret in one
    // step (for X25519MLKEM768 an encapsulation, not a key pair).
    let kx::Response {
        public: server_public,
        shared,
    } = kx::respond(share.group, &share.key_exchange)?;
    cx.trace.step(|| {
        format!(
            "key exchange {}: client share {} bytes, ours {} bytes; shared secret computed",
            group::name(share.group),
            share.key_exchange.len(),
            server_public.len()
        )
    });
    let server_share = KeyShareEntry {
        group: share.group,
        key_exchange: server_public,
    };
    let random = random32()?;
    let mut sh = ServerHello {
        legacy_version: version::TLS12,
        random,
        session_id: ch.session_id.clone(),
        cipher_suite: suite,
        compression_method: 0,
        extensions: vec![
            build::supported_versions_server(version::TLS13),
            build::key_share_server(&server_share),
        ],
    };
    psk::shape_server_hello(&mut sh, psk);
    cx.trace
        .step(|| format!("ServerHello: server_random={}", hex::encode(random)));
    cx.trace.step(|| {
        format!(
            "ServerHello: version TLS 1.3, suite {}, group {}, server_name {}",
            suite::name(suite),
            group::name(share.group),
            server_name.unwrap_or("(none)")
        )
    });
    let sh_msg = sh.encode();
    transcript.add(&sh_msg.raw);
    cx.send(sh_msg);
    if !retried {
        // RFC 8446 D.4: our compat CCS follows our first handshake message.
        cx.actions.push(Action::SendCcs);
    }
    Ok(shared)
}

/// Sends EncryptedExtensions (RFC 8446 4.3.1), with the ALPN protocol if
/// one was chosen.
fn send_encrypted_extensions(
    cx: &mut Context,
    alpn_protocol: &Option<Vec<u8>>,
    transcript: &mut Transcript,
) {
    let mut ee_exts = Vec::new();
    if let Some(p) = alpn_protocol {
        cx.trace
            .step(|| format!("EncryptedExtensions: ALPN {}", alpn::display(p)));
        ee_exts.push(alpn::extension(std::slice::from_ref(p)));
    }
    let ee = EncryptedExtensions {
        extensions: ee_exts,
    }
    .encode();
    transcript.add(&ee.raw);
    cx.send(ee);
}

/// Sends our Certificate (RFC 8446 4.4.2).
fn send_certificate(cx: &mut Context, config: &ServerConfig, transcript: &mut Transcript) {
    let cert = Certificate13 {
        context: Vec::new(),
        chain: config.chain.clone(),
    }
    .encode();
    transcript.add(&cert.raw);
    cx.trace.step(|| {
        format!(
            "Certificate: subject {} ({} key)",
            verify::subject_summary(&config.chain[0]),
            config.key.kind_name()
        )
    });
    cx.send(cert);
}

/// Signs the transcript and sends CertificateVerify (RFC 8446 4.4.3).
fn send_certificate_verify(
    cx: &mut Context,
    config: &ServerConfig,
    sig_scheme: u16,
    transcript: &mut Transcript,
) -> Result<(), Error> {
    let content = verify::tls13_signed_content(true, transcript.current()?.as_bytes());
    let signature = config.key.sign(sig_scheme, &content)?;
    let cv = DigitallySigned {
        scheme: sig_scheme,
        signature,
    }
    .encode_certificate_verify();
    transcript.add(&cv.raw);
    cx.trace.step(|| {
        format!(
            "CertificateVerify: signed with {}",
            scheme::name(sig_scheme)
        )
    });
    cx.send(cv);
    Ok(())
}

/// Sends CertificateRequest (RFC 8446 4.3.2): an empty
/// certificate_request_context, as during the handshake, and the schemes
/// we verify in signature_algorithms.
fn request_client_certificate(cx: &mut Context, transcript: &mut Transcript) {
    let schemes = verify::handshake_schemes(true);
    let req = CertificateRequest13::for_handshake(&schemes).encode();
    transcript.add(&req.raw);
    cx.trace.step(|| {
        let names: Vec<_> = schemes.iter().map(|s| scheme::name(*s)).collect();
        format!(
            "CertificateRequest: client certificate asked for; schemes {}",
            names.join(", ")
        )
    });
    cx.send(req);
}

/// RFC 8446 4.1.2: after a HelloRetryRequest the client sends the same
/// ClientHello except that it may replace key_share, add the cookie it was
/// given, remove early_data, and change padding and pre_shared_key. We send
/// no cookie, so a cookie must be as it was; anything else that differs is
/// illegal_parameter.
fn check_second_hello(ch1: &ClientHello, ch2: &ClientHello) -> Result<(), Error> {
    const MAY_CHANGE: [u16; 3] = [ext::KEY_SHARE, ext::PADDING, ext::PRE_SHARED_KEY];
    if ch2.extension(ext::EARLY_DATA).is_some() {
        return Err(Error::IllegalParameter(
            "early_data in the ClientHello after HelloRetryRequest",
        ));
    }
    let fixed = |ch: &ClientHello| -> Vec<(u16, Vec<u8>)> {
        ch.extensions
            .iter()
            .filter(|e| !MAY_CHANGE.contains(&e.typ) && e.typ != ext::EARLY_DATA)
            .map(|e| (e.typ, e.data.clone()))
            .collect()
    };
    if ch2.legacy_version != ch1.legacy_version
        || ch2.random != ch1.random
        || ch2.session_id != ch1.session_id
        || ch2.cipher_suites != ch1.cipher_suites
        || ch2.compression_methods != ch1.compression_methods
        || fixed(ch2) != fixed(ch1)
    {
        return Err(Error::IllegalParameter(
            "second ClientHello changed more than RFC 8446 4.1.2 allows",
        ));
    }
    Ok(())
}

fn hello_retry(
    cx: &mut Context,
    config: ServerConfig,
    ch: ClientHello,
    msg: HandshakeMessage,
    suite: u16,
    g: u16,
) -> Result<Box<dyn State>, Error> {
    let (alg, _) = suite_params(suite).ok_or(Error::Internal("suite"))?;
    let mut transcript = Transcript::new();
    transcript.add(&msg.raw);
    transcript.start_hash(alg)?;
    transcript.replace_with_message_hash()?;
    let hrr = ServerHello {
        legacy_version: version::TLS12,
        random: HRR_RANDOM,
        session_id: ch.session_id.clone(),
        cipher_suite: suite,
        compression_method: 0,
        extensions: vec![
            build::supported_versions_server(version::TLS13),
            build::key_share_hrr(g),
        ],
    }
    .encode();
    transcript.add(&hrr.raw);
    cx.trace.step(|| {
        format!(
            "HelloRetryRequest: no usable key share; asking for {} (suite {})",
            group::name(g),
            suite::name(suite)
        )
    });
    cx.send(hrr);
    cx.actions.push(Action::SendCcs);
    Ok(Box::new(ExpectClientHello {
        config,
        retry: Some(Retry {
            transcript,
            suite,
            group: g,
            ch1: ch,
        }),
    }))
}

/// Waiting for the client's Certificate, which we asked for.
#[derive(Debug)]
struct ExpectCertificate {
    auth: ClientAuth,
    finished: ExpectFinished,
}

impl State for ExpectCertificate {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "Certificate", hs_type::CERTIFICATE)?;
        let ExpectCertificate { auth, mut finished } = *self;
        let cert = Certificate13::parse(msg.body())?;
        // RFC 8446 4.4.2: the context of our request, which was empty.
        if !cert.context.is_empty() {
            return Err(Error::IllegalParameter(
                "client certificate_request_context differs from the request",
            ));
        }
        let authenticated = verify::check_client_certificate(&cx.trace, &auth, &cert.chain, true)?;
        finished.transcript.add(&msg.raw);
        if !authenticated {
            return Ok(Box::new(finished));
        }
        finished.peer_chain = cert.chain;
        Ok(Box::new(ExpectCertificateVerify(finished)))
    }

    fn tolerates_ccs(&self) -> bool {
        true
    }
}

/// Waiting for the client's CertificateVerify over the transcript up to
/// its Certificate.
#[derive(Debug)]
struct ExpectCertificateVerify(ExpectFinished);

impl State for ExpectCertificateVerify {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "CertificateVerify", hs_type::CERTIFICATE_VERIFY)?;
        let mut f = self.0;
        let cv = DigitallySigned::parse_certificate_verify(msg.body())?;
        let content = verify::tls13_signed_content(false, f.transcript.current()?.as_bytes());
        let res = verify::verify_peer_signature(
            &f.peer_chain[0],
            &verify::handshake_schemes(true),
            cv.scheme,
            &content,
            &cv.signature,
            true,
        );
        cx.trace.step(|| {
            format!(
                "client CertificateVerify: {} signature {}",
                scheme::name(cv.scheme),
                if res.is_ok() { "verified" } else { "INVALID" }
            )
        });
        res?;
        f.transcript.add(&msg.raw);
        Ok(Box::new(f))
    }

    fn tolerates_ccs(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct ExpectFinished {
    suite: u16,
    group: u16,
    sig_scheme: u16,
    client_random: [u8; 32],
    server_name: Option<String>,
    transcript: Transcript,
    c_hs: TrafficSecret,
    app: ApplicationSecrets,
    /// The client's verified chain; empty without client authentication.
    peer_chain: Vec<Vec<u8>>,
    alpn_protocol: Option<Vec<u8>>,
    resumed: bool,
    /// Sends the tickets once the client's Finished is in.
    issuer: Option<psk::Issuer>,
}

impl State for ExpectFinished {
    fn handle(self: Box<Self>, cx: &mut Context, input: Input) -> Result<Box<dyn State>, Error> {
        let msg = expect_handshake(input, "Finished", hs_type::FINISHED)?;
        let this = *self;
        this.c_hs
            .verify_finished(this.transcript.current()?.as_bytes(), msg.body())?;
        cx.trace.step(|| "client Finished verified".into());
        cx.actions
            .push(Action::ReadKeys(record_keys(&this.app.client, this.suite)?));
        cx.trace
            .step(|| "handshake complete: application data keys in use".into());
        cx.actions.push(Action::Established(Established {
            version: ProtocolVersion::Tls13,
            suite: CipherSuite::from_iana(this.suite).ok_or(Error::Internal("suite"))?,
            group: NamedGroup::from_u16(this.group),
            signature_scheme: (!this.resumed).then(|| SignatureScheme::from_u16(this.sig_scheme)),
            peer_chain: this.peer_chain,
            server_name: this.server_name,
            alpn_protocol: this.alpn_protocol,
            resumed: this.resumed,
        }));
        let ApplicationSecrets { client, server, .. } = this.app;
        let connected = Connected::new(cx, false, this.suite, this.client_random, server, client);
        if let Some(issuer) = this.issuer {
            issuer.send(cx, &this.transcript, &msg)?;
        }
        Ok(Box::new(connected))
    }

    fn tolerates_ccs(&self) -> bool {
        true
    }
}
