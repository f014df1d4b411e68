//! The TLS 1.3 key schedule (RFC 8446 section 7.1) as typestates.
//!
//! ```text
//!              0
//!              |
//!    PSK ->  HKDF-Extract = Early Secret            (EarlySecret)
//!              |---> Derive-Secret(., "res binder", "") = binder_key (4.2.11.2)
//!              |
//!        Derive-Secret(., "derived", "")
//!              |
//!  (EC)DHE -> HKDF-Extract = Handshake Secret       (HandshakeSecret)
//!              |---> Derive-Secret(., "c hs traffic", CH..SH) = client_handshake_traffic_secret
//!              |---> Derive-Secret(., "s hs traffic", CH..SH) = server_handshake_traffic_secret
//!        Derive-Secret(., "derived", "")
//!              |
//!     0 -> HKDF-Extract = Master Secret             (MasterSecret)
//!              |---> Derive-Secret(., "c ap traffic", CH..server Finished) = client_application_traffic_secret_0
//!              |---> Derive-Secret(., "s ap traffic", CH..server Finished) = server_application_traffic_secret_0
//!              |---> Derive-Secret(., "exp master",   CH..server Finished) = exporter_master_secret
//!              |---> Derive-Secret(., "res master",   CH..client Finished) = resumption_master_secret
//!                                                                           (ResumptionMasterSecret)
//!    PSK of a ticket = HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)
//! ```
//!
//! Each stage is a type that can only be built by consuming the previous
//! one, so application traffic secrets cannot exist before the handshake
//! secret. Traffic secrets give record keys (7.3), Finished MACs (4.4.4) and
//! their KeyUpdate successors (7.2). Every secret is zeroized on drop and
//! `Debug` never prints it.

#![forbid(unsafe_code)]

use super::error::Error;
use super::transcript::{HashAlg, Output};
use hkdf::Hkdf;
use sha2::{Sha256, Sha384};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// A secret of the hash's length.
#[derive(Clone)]
struct Secret {
    bytes: [u8; 48],
    len: usize,
}

impl Secret {
    fn new(b: &[u8]) -> Self {
        let mut bytes = [0u8; 48];
        bytes[..b.len()].copy_from_slice(b);
        Secret {
            bytes,
            len: b.len(),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.len)
    }
}

/// HKDF-Extract(salt, IKM) (RFC 5869 2.2).
fn extract(alg: HashAlg, salt: &[u8], ikm: &[u8]) -> Secret {
    match alg {
        HashAlg::Sha256 => Secret::new(&Hkdf::<Sha256>::extract(Some(salt), ikm).0),
        HashAlg::Sha384 => Secret::new(&Hkdf::<Sha384>::extract(Some(salt), ikm).0),
    }
}

/// HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 7.1):
///
/// ```text
/// struct {
///     uint16 length = Length;
///     opaque label<7..255> = "tls13 " + Label;
///     opaque context<0..255> = Context;
/// } HkdfLabel;
/// ```
pub fn hkdf_expand_label(
    alg: HashAlg,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) {
    let mut info = Vec::with_capacity(4 + 6 + label.len() + context.len());
    info.extend_from_slice(&(out.len() as u16).to_be_bytes());
    info.push((6 + label.len()) as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(context.len() as u8);
    info.extend_from_slice(context);
    // The PRK is a hash-length secret and `out` is at most 255 * HashLen, so
    // neither HKDF error can happen.
    let ok = match alg {
        HashAlg::Sha256 => Hkdf::<Sha256>::from_prk(secret)
            .map(|h| h.expand(&info, out).is_ok())
            .unwrap_or(false),
        HashAlg::Sha384 => Hkdf::<Sha384>::from_prk(secret)
            .map(|h| h.expand(&info, out).is_ok())
            .unwrap_or(false),
    };
    debug_assert!(ok, "HKDF-Expand-Label misuse");
}

fn expand_secret(alg: HashAlg, secret: &Secret, label: &[u8], context: &[u8]) -> Secret {
    let mut out = [0u8; 48];
    hkdf_expand_label(
        alg,
        secret.as_bytes(),
        label,
        context,
        &mut out[..alg.output_len()],
    );
    let s = Secret::new(&out[..alg.output_len()]);
    out.zeroize();
    s
}

/// Derive-Secret(Secret, Label, Messages) with the transcript hash given.
fn derive_secret(alg: HashAlg, secret: &Secret, label: &[u8], transcript_hash: &[u8]) -> Secret {
    expand_secret(alg, secret, label, transcript_hash)
}

/// Derive-Secret(., "derived", "") — the salt of the next Extract.
fn derived(alg: HashAlg, secret: &Secret) -> Secret {
    derive_secret(alg, secret, b"derived", alg.hash(b"").as_bytes())
}

/// Which traffic secret this is: its NSS key log label and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficKind {
    /// client_handshake_traffic_secret
    ClientHandshake,
    /// server_handshake_traffic_secret
    ServerHandshake,
    /// client_application_traffic_secret_N
    ClientApplication(u64),
    /// server_application_traffic_secret_N
    ServerApplication(u64),
}

impl TrafficKind {
    /// The RFC 8446 name, for `--trace` (never the value).
    pub fn rfc_name(self) -> String {
        match self {
            TrafficKind::ClientHandshake => "client_handshake_traffic_secret".into(),
            TrafficKind::ServerHandshake => "server_handshake_traffic_secret".into(),
            TrafficKind::ClientApplication(n) => format!("client_application_traffic_secret_{n}"),
            TrafficKind::ServerApplication(n) => format!("server_application_traffic_secret_{n}"),
        }
    }

    /// The NSS key log label (CLIENT_HANDSHAKE_TRAFFIC_SECRET, ...).
    pub fn keylog_label(self) -> String {
        match self {
            TrafficKind::ClientHandshake => "CLIENT_HANDSHAKE_TRAFFIC_SECRET".into(),
            TrafficKind::ServerHandshake => "SERVER_HANDSHAKE_TRAFFIC_SECRET".into(),
            TrafficKind::ClientApplication(n) => format!("CLIENT_TRAFFIC_SECRET_{n}"),
            TrafficKind::ServerApplication(n) => format!("SERVER_TRAFFIC_SECRET_{n}"),
        }
    }
}

/// A traffic secret: the source of one direction's record keys.
#[derive(Debug)]
pub struct TrafficSecret {
    alg: HashAlg,
    kind: TrafficKind,
    secret: Secret,
}

/// A record key and IV derived from a traffic secret (RFC 8446 7.3).
pub struct KeyIv {
    /// `[sender]_write_key`.
    pub key: Zeroizing<Vec<u8>>,
    /// `[sender]_write_iv`.
    pub iv: Zeroizing<[u8; 12]>,
}

impl std::fmt::Debug for KeyIv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyIv(<{}-byte key redacted>)", self.key.len())
    }
}

impl TrafficSecret {
    /// Which secret this is.
    pub fn kind(&self) -> TrafficKind {
        self.kind
    }

    /// The hash of the suite.
    pub fn alg(&self) -> HashAlg {
        self.alg
    }

    /// RFC 8446 7.3: `key = HKDF-Expand-Label(Secret, "key", "", key_length)`,
    /// `iv = HKDF-Expand-Label(Secret, "iv", "", 12)`.
    pub fn key_iv(&self, key_len: usize) -> KeyIv {
        let mut key = Zeroizing::new(vec![0u8; key_len]);
        let mut iv = Zeroizing::new([0u8; 12]);
        hkdf_expand_label(self.alg, self.secret.as_bytes(), b"key", b"", &mut key);
        hkdf_expand_label(self.alg, self.secret.as_bytes(), b"iv", b"", &mut iv[..]);
        KeyIv { key, iv }
    }

    /// RFC 8446 4.4.4: `finished_key = HKDF-Expand-Label(BaseKey,
    /// "finished", "", Hash.length)`, `verify_data = HMAC(finished_key,
    /// Transcript-Hash(...))`.
    pub fn finished(&self, transcript_hash: &[u8]) -> Output {
        let fk = expand_secret(self.alg, &self.secret, b"finished", b"");
        self.alg.hmac(fk.as_bytes(), transcript_hash)
    }

    /// Checks a peer's Finished in constant time (bad → decrypt_error).
    pub fn verify_finished(&self, transcript_hash: &[u8], received: &[u8]) -> Result<(), Error> {
        let expect = self.finished(transcript_hash);
        // RFC 8446 4.4.4, 6.2: verify_data has the hash's length; any other
        // length does not parse (decode_error), a wrong value of the right
        // length fails the check (decrypt_error).
        if received.len() != expect.as_bytes().len() {
            return Err(super::codec::DecodeError::BadLength("Finished verify_data").into());
        }
        if bool::from(expect.as_bytes().ct_eq(received)) {
            Ok(())
        } else {
            Err(Error::BadFinished)
        }
    }

    /// RFC 8446 7.2: `application_traffic_secret_N+1 =
    /// HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "",
    /// Hash.length)`. Only application secrets can be updated.
    pub fn next(&self) -> Result<TrafficSecret, Error> {
        let kind = match self.kind {
            TrafficKind::ClientApplication(n) => TrafficKind::ClientApplication(n + 1),
            TrafficKind::ServerApplication(n) => TrafficKind::ServerApplication(n + 1),
            _ => return Err(Error::Misuse("KeyUpdate of a handshake traffic secret")),
        };
        Ok(TrafficSecret {
            alg: self.alg,
            kind,
            secret: expand_secret(self.alg, &self.secret, b"traffic upd", b""),
        })
    }

    /// The secret's bytes, for the NSS key log only (`--keylog`).
    pub fn expose_for_keylog(&self) -> &[u8] {
        self.secret.as_bytes()
    }
}

/// Stage 1: the Early Secret. Without a PSK its IKM is Hash.length zeros.
#[derive(Debug)]
pub struct EarlySecret {
    alg: HashAlg,
    secret: Secret,
}

impl EarlySecret {
    /// `HKDF-Extract(0, 0^HashLen)`: a handshake without a PSK.
    pub fn new(alg: HashAlg) -> Self {
        let zeros = [0u8; 48];
        EarlySecret {
            alg,
            secret: extract(alg, &zeros[..alg.output_len()], &zeros[..alg.output_len()]),
        }
    }

    /// `HKDF-Extract(0, PSK)`: the early secret of a resumption PSK
    /// (RFC 8446 7.1). A PSK has the hash's length.
    pub fn with_psk(alg: HashAlg, psk: &[u8]) -> Self {
        let zeros = [0u8; 48];
        EarlySecret {
            alg,
            secret: extract(alg, &zeros[..alg.output_len()], psk),
        }
    }

    /// The PSK binder over `truncated_hash`, the transcript hash up to and
    /// including the ClientHello without its binders (RFC 8446 4.2.11.2):
    ///
    /// ```text
    /// binder_key   = Derive-Secret(early_secret, "res binder", "")
    /// finished_key = HKDF-Expand-Label(binder_key, "finished", "", Hash.length)
    /// binder       = HMAC(finished_key, Transcript-Hash(Truncate(ClientHello)))
    /// ```
    pub fn binder(&self, truncated_hash: &[u8]) -> Output {
        let binder_key = self.binder_key();
        let fk = expand_secret(self.alg, &binder_key, b"finished", b"");
        self.alg.hmac(fk.as_bytes(), truncated_hash)
    }

    /// Checks a client's binder in constant time; a wrong one is
    /// decrypt_error (RFC 8446 4.2.11).
    pub fn verify_binder(&self, truncated_hash: &[u8], received: &[u8]) -> Result<(), Error> {
        let expect = self.binder(truncated_hash);
        if bool::from(expect.as_bytes().ct_eq(received)) {
            Ok(())
        } else {
            Err(Error::BadBinder)
        }
    }

    fn binder_key(&self) -> Secret {
        derive_secret(
            self.alg,
            &self.secret,
            b"res binder",
            self.alg.hash(b"").as_bytes(),
        )
    }

    /// The hash of the suite.
    pub fn alg(&self) -> HashAlg {
        self.alg
    }

    /// Stage 2: `HKDF-Extract(Derive-Secret(., "derived", ""), (EC)DHE)`.
    pub fn into_handshake(self, shared_secret: &[u8]) -> HandshakeSecret {
        let salt = derived(self.alg, &self.secret);
        HandshakeSecret {
            alg: self.alg,
            secret: extract(self.alg, salt.as_bytes(), shared_secret),
        }
    }
}

/// Stage 2: the Handshake Secret.
#[derive(Debug)]
pub struct HandshakeSecret {
    alg: HashAlg,
    secret: Secret,
}

impl HandshakeSecret {
    /// The client and server handshake traffic secrets from
    /// Transcript-Hash(ClientHello..ServerHello).
    pub fn traffic_secrets(&self, hello_hash: &[u8]) -> (TrafficSecret, TrafficSecret) {
        let c = derive_secret(self.alg, &self.secret, b"c hs traffic", hello_hash);
        let s = derive_secret(self.alg, &self.secret, b"s hs traffic", hello_hash);
        (
            TrafficSecret {
                alg: self.alg,
                kind: TrafficKind::ClientHandshake,
                secret: c,
            },
            TrafficSecret {
                alg: self.alg,
                kind: TrafficKind::ServerHandshake,
                secret: s,
            },
        )
    }

    /// Stage 3: `HKDF-Extract(Derive-Secret(., "derived", ""), 0)`.
    pub fn into_master(self) -> MasterSecret {
        let salt = derived(self.alg, &self.secret);
        let zeros = [0u8; 48];
        MasterSecret {
            alg: self.alg,
            secret: extract(self.alg, salt.as_bytes(), &zeros[..self.alg.output_len()]),
        }
    }
}

/// The application traffic secrets and the exporter secret.
#[derive(Debug)]
pub struct ApplicationSecrets {
    /// client_application_traffic_secret_0
    pub client: TrafficSecret,
    /// server_application_traffic_secret_0
    pub server: TrafficSecret,
    exporter: Secret,
}

impl ApplicationSecrets {
    /// exporter_master_secret, for the key log only (EXPORTER_SECRET).
    pub fn exporter_for_keylog(&self) -> &[u8] {
        self.exporter.as_bytes()
    }
}

/// Stage 3: the Master Secret.
#[derive(Debug)]
pub struct MasterSecret {
    alg: HashAlg,
    secret: Secret,
}

impl MasterSecret {
    /// The application secrets from Transcript-Hash(ClientHello..server
    /// Finished).
    pub fn application_secrets(&self, hash_to_server_finished: &[u8]) -> ApplicationSecrets {
        let h = hash_to_server_finished;
        ApplicationSecrets {
            client: TrafficSecret {
                alg: self.alg,
                kind: TrafficKind::ClientApplication(0),
                secret: derive_secret(self.alg, &self.secret, b"c ap traffic", h),
            },
            server: TrafficSecret {
                alg: self.alg,
                kind: TrafficKind::ServerApplication(0),
                secret: derive_secret(self.alg, &self.secret, b"s ap traffic", h),
            },
            exporter: derive_secret(self.alg, &self.secret, b"exp master", h),
        }
    }

    /// The last stage: resumption_master_secret from
    /// Transcript-Hash(ClientHello..client Finished) (RFC 8446 7.1).
    pub fn into_resumption(self, hash_to_client_finished: &[u8]) -> ResumptionMasterSecret {
        ResumptionMasterSecret {
            alg: self.alg,
            secret: derive_secret(
                self.alg,
                &self.secret,
                b"res master",
                hash_to_client_finished,
            ),
        }
    }
}

/// resumption_master_secret: the source of the PSK of every ticket of a
/// connection.
#[derive(Debug)]
pub struct ResumptionMasterSecret {
    alg: HashAlg,
    secret: Secret,
}

impl ResumptionMasterSecret {
    /// RFC 8446 4.6.1: the PSK of the ticket with this nonce,
    /// `HKDF-Expand-Label(resumption_master_secret, "resumption",
    /// ticket_nonce, Hash.length)`.
    pub fn ticket_psk(&self, nonce: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![0u8; self.alg.output_len()]);
        hkdf_expand_label(
            self.alg,
            self.secret.as_bytes(),
            b"resumption",
            nonce,
            &mut out,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::transcript::Transcript;
    use std::collections::HashMap;

    /// vectors/rfc8448_simple_1rtt.txt: `name = hex` lines from RFC 8448
    /// section 3.
    fn rfc8448() -> HashMap<String, Vec<u8>> {
        vector_file("rfc8448_simple_1rtt.txt")
    }

    /// A `name = hex` file of vectors/.
    fn vector_file(name: &str) -> HashMap<String, Vec<u8>> {
        let path = format!("{}/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).expect("RFC 8448 vector file");
        let mut map = HashMap::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let hexpart = if let Some((name, rest)) = line.split_once('=') {
                current = Some(name.trim().to_string());
                map.insert(name.trim().to_string(), Vec::new());
                rest
            } else {
                line
            };
            let clean: String = hexpart.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = hex::decode(clean).expect("hex");
            map.get_mut(current.as_ref().expect("name first"))
                .unwrap()
                .extend_from_slice(&bytes);
        }
        map
    }

    #[test]
    fn rfc8448_simple_1rtt_key_schedule() {
        let v = rfc8448();
        let get = |k: &str| v.get(k).unwrap_or_else(|| panic!("missing {k}")).clone();
        let alg = HashAlg::Sha256;

        // The shared secret itself, from the two X25519 private keys.
        let client_priv: [u8; 32] = get("client_x25519_private").try_into().unwrap();
        let server_pub: [u8; 32] = get("server_x25519_public").try_into().unwrap();
        let client_key = aws_lc_rs::agreement::PrivateKey::from_private_key(
            &aws_lc_rs::agreement::X25519,
            &client_priv,
        )
        .unwrap();
        let shared = aws_lc_rs::agreement::agree(
            &client_key,
            aws_lc_rs::agreement::UnparsedPublicKey::new(&aws_lc_rs::agreement::X25519, server_pub),
            (),
            |s| Ok(s.to_vec()),
        )
        .unwrap();
        assert_eq!(shared, get("ecdhe_shared"));

        let early = EarlySecret::new(alg);
        assert_eq!(early.secret.as_bytes(), get("early_secret"));
        assert_eq!(
            derived(alg, &early.secret).as_bytes(),
            get("derived_for_handshake")
        );

        let mut t = Transcript::new();
        t.add(&get("client_hello"));
        t.start_hash(alg).unwrap();
        t.add(&get("server_hello"));
        let hello_hash = t.current().unwrap();

        let hs = early.into_handshake(&shared);
        assert_eq!(hs.secret.as_bytes(), get("handshake_secret"));
        let (c_hs, s_hs) = hs.traffic_secrets(hello_hash.as_bytes());
        assert_eq!(
            c_hs.secret.as_bytes(),
            get("client_handshake_traffic_secret")
        );
        assert_eq!(
            s_hs.secret.as_bytes(),
            get("server_handshake_traffic_secret")
        );

        let s_keys = s_hs.key_iv(16);
        assert_eq!(&s_keys.key[..], get("server_handshake_key"));
        assert_eq!(&s_keys.iv[..], get("server_handshake_iv"));
        let c_keys = c_hs.key_iv(16);
        assert_eq!(&c_keys.key[..], get("client_handshake_key"));
        assert_eq!(&c_keys.iv[..], get("client_handshake_iv"));

        t.add(&get("encrypted_extensions"));
        t.add(&get("certificate"));
        t.add(&get("certificate_verify"));
        let sfin = s_hs.finished(t.current().unwrap().as_bytes());
        let server_finished = get("server_finished");
        assert_eq!(sfin.as_bytes(), &server_finished[4..]);
        s_hs.verify_finished(t.current().unwrap().as_bytes(), &server_finished[4..])
            .unwrap();
        let mut bad = server_finished[4..].to_vec();
        bad[31] ^= 1;
        assert!(matches!(
            s_hs.verify_finished(t.current().unwrap().as_bytes(), &bad),
            Err(Error::BadFinished)
        ));
        // RFC 8446 6.2: a verify_data of another length is decode_error.
        for len in [0, 31, 33, 48] {
            let e = s_hs
                .verify_finished(t.current().unwrap().as_bytes(), &vec![0; len])
                .unwrap_err();
            assert_eq!(
                e.alert(),
                Some(crate::handshake::Alert::DecodeError),
                "{len}"
            );
        }
        t.add(&server_finished);
        let to_sfin = t.current().unwrap();

        assert_eq!(
            derived(alg, &hs.secret).as_bytes(),
            get("derived_for_master")
        );
        let master = hs.into_master();
        assert_eq!(master.secret.as_bytes(), get("master_secret"));
        let app = master.application_secrets(to_sfin.as_bytes());
        assert_eq!(
            app.client.secret.as_bytes(),
            get("client_application_traffic_secret_0")
        );
        assert_eq!(
            app.server.secret.as_bytes(),
            get("server_application_traffic_secret_0")
        );
        assert_eq!(app.exporter_for_keylog(), get("exporter_master_secret"));
        let sk = app.server.key_iv(16);
        assert_eq!(&sk.key[..], get("server_application_key"));
        assert_eq!(&sk.iv[..], get("server_application_iv"));
        let ck = app.client.key_iv(16);
        assert_eq!(&ck.key[..], get("client_application_key"));
        assert_eq!(&ck.iv[..], get("client_application_iv"));

        let cfin = c_hs.finished(to_sfin.as_bytes());
        assert_eq!(cfin.as_bytes(), &get("client_finished")[4..]);
    }

    #[test]
    fn key_update_changes_secret_and_counts() {
        let hs = EarlySecret::new(HashAlg::Sha384).into_handshake(&[1; 48]);
        let (c, _) = hs.traffic_secrets(&[0; 48]);
        assert!(c.next().is_err());
        let app = hs.into_master().application_secrets(&[2; 48]);
        let next = app.client.next().unwrap();
        assert_eq!(next.kind(), TrafficKind::ClientApplication(1));
        assert_ne!(next.expose_for_keylog(), app.client.expose_for_keylog());
        assert_eq!(next.expose_for_keylog().len(), 48);
        let mut manual = [0u8; 48];
        hkdf_expand_label(
            HashAlg::Sha384,
            app.client.expose_for_keylog(),
            b"traffic upd",
            b"",
            &mut manual,
        );
        assert_eq!(next.expose_for_keylog(), &manual[..]);
    }

    /// RFC 8448 section 3: resumption_master_secret over the transcript
    /// through the client Finished, and the PSK of the ticket with nonce
    /// 00 00.
    #[test]
    fn rfc8448_simple_1rtt_resumption_secrets() {
        let v = rfc8448();
        let get = |k: &str| v.get(k).unwrap_or_else(|| panic!("missing {k}")).clone();
        let alg = HashAlg::Sha256;
        let mut t = Transcript::new();
        t.start_hash(alg).unwrap();
        for m in [
            "client_hello",
            "server_hello",
            "encrypted_extensions",
            "certificate",
            "certificate_verify",
            "server_finished",
            "client_finished",
        ] {
            t.add(&get(m));
        }
        let hs = EarlySecret::new(alg).into_handshake(&get("ecdhe_shared"));
        let master = hs.into_master();
        let res = master.into_resumption(t.current().unwrap().as_bytes());
        assert_eq!(res.secret.as_bytes(), get("resumption_master_secret"));
        assert_eq!(
            &res.ticket_psk(&get("ticket_nonce"))[..],
            get("resumption_psk")
        );
        assert_ne!(&res.ticket_psk(&[0, 1])[..], get("resumption_psk"));
    }

    /// RFC 8448 section 4: the early secret of the PSK, the binder key,
    /// and the binder over the ClientHello prefix.
    #[test]
    fn rfc8448_resumed_binder() {
        let v = vector_file("rfc8448_resumed_0rtt.txt");
        let get = |k: &str| v.get(k).unwrap_or_else(|| panic!("missing {k}")).clone();
        let alg = HashAlg::Sha256;
        let early = EarlySecret::with_psk(alg, &get("psk"));
        assert_eq!(early.secret.as_bytes(), get("early_secret"));
        assert_eq!(early.binder_key().as_bytes(), get("binder_key"));
        let ch = get("client_hello");
        let prefix = &ch[..ch.len() - 35];
        assert_eq!(alg.hash(prefix).as_bytes(), get("binder_hash"));
        let binder = early.binder(alg.hash(prefix).as_bytes());
        assert_eq!(binder.as_bytes(), get("binder"));
        assert_eq!(&ch[ch.len() - 32..], get("binder"));
        early
            .verify_binder(alg.hash(prefix).as_bytes(), &get("binder"))
            .unwrap();
        let mut bad = get("binder");
        bad[0] ^= 0x80;
        let e = early
            .verify_binder(alg.hash(prefix).as_bytes(), &bad)
            .unwrap_err();
        assert_eq!(e.alert(), Some(crate::handshake::Alert::DecryptError));
    }
}
