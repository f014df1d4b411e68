//! Handshake messages (RFC 8446 section 4, shared with RFC 5246 section 7.4
//! where the encoding is the same): typed structures, their encoders, and
//! parsers that reject anything malformed with a typed [`Error`].
//!
//! Extensions are kept as `(type, bytes)` pairs in the order received;
//! the typed accessors decode the ones the handshake uses. That keeps one
//! `ClientHello`/`ServerHello` for both TLS 1.3 and TLS 1.2 (whose extensions
//! — `extended_master_secret`, `renegotiation_info`, `ec_point_formats` — are
//! read with [`find_extension`]).

#![forbid(unsafe_code)]

use super::codec::{DecodeError, Reader, Writer};
use super::error::Error;

/// `ProtocolVersion` values (RFC 8446 section 4.1.2, 4.2.1).
pub mod version {
    use crate::wire::ProtocolVersion;

    /// TLS 1.2, also `legacy_version` in TLS 1.3 hellos.
    pub const TLS12: u16 = ProtocolVersion::Tls12.to_u16();
    /// TLS 1.3.
    pub const TLS13: u16 = ProtocolVersion::Tls13.to_u16();
    /// TLS 1.0: the legacy record version of a first ClientHello.
    pub const TLS10: u16 = 0x0301;
}

/// Cipher suite code points this crate negotiates (RFC 8446 B.4, RFC 5289).
pub mod suite {
    use crate::wire::CipherSuite;

    /// TLS_AES_128_GCM_SHA256.
    pub const TLS13_AES_128_GCM_SHA256: u16 = CipherSuite::TLS13_AES_128_GCM_SHA256.iana();
    /// TLS_AES_256_GCM_SHA384.
    pub const TLS13_AES_256_GCM_SHA384: u16 = CipherSuite::TLS13_AES_256_GCM_SHA384.iana();
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.
    pub const ECDHE_ECDSA_AES_128_GCM_SHA256: u16 =
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.iana();
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.
    pub const ECDHE_ECDSA_AES_256_GCM_SHA384: u16 =
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.iana();
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
    pub const ECDHE_RSA_AES_128_GCM_SHA256: u16 =
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.iana();
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.
    pub const ECDHE_RSA_AES_256_GCM_SHA384: u16 =
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.iana();
    /// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 section 3.3).
    pub const EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00ff;
    /// TLS_FALLBACK_SCSV (RFC 7507 section 2).
    pub const FALLBACK_SCSV: u16 = 0x5600;

    /// The IANA name of a suite, for traces.
    pub fn name(s: u16) -> String {
        if let Some(c) = CipherSuite::from_iana(s) {
            return c.name().into();
        }
        match s {
            EMPTY_RENEGOTIATION_INFO_SCSV => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV".into(),
            FALLBACK_SCSV => "TLS_FALLBACK_SCSV".into(),
            other => format!("0x{other:04x}"),
        }
    }
}

/// Extension type code points (RFC 8446 section 4.2, RFC 7627, RFC 5746).
pub mod ext {
    /// server_name (RFC 6066).
    pub const SERVER_NAME: u16 = 0;
    /// supported_groups (RFC 8446 4.2.7).
    pub const SUPPORTED_GROUPS: u16 = 10;
    /// ec_point_formats (RFC 8422; TLS 1.2).
    pub const EC_POINT_FORMATS: u16 = 11;
    /// signature_algorithms (RFC 8446 4.2.3).
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    /// application_layer_protocol_negotiation (RFC 7301).
    pub const ALPN: u16 = 16;
    /// padding (RFC 7685).
    pub const PADDING: u16 = 21;
    /// extended_master_secret (RFC 7627; TLS 1.2).
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    /// session_ticket (RFC 5077).
    pub const SESSION_TICKET: u16 = 35;
    /// pre_shared_key (RFC 8446 4.2.11).
    pub const PRE_SHARED_KEY: u16 = 41;
    /// early_data (RFC 8446 4.2.10).
    pub const EARLY_DATA: u16 = 42;
    /// supported_versions (RFC 8446 4.2.1).
    pub const SUPPORTED_VERSIONS: u16 = 43;
    /// cookie (RFC 8446 4.2.2).
    pub const COOKIE: u16 = 44;
    /// psk_key_exchange_modes (RFC 8446 4.2.9).
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    /// key_share (RFC 8446 4.2.8).
    pub const KEY_SHARE: u16 = 51;
    /// renegotiation_info (RFC 5746; TLS 1.2).
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// `HandshakeType` (RFC 8446 section 4, RFC 5246 section 7.4).
pub mod hs_type {
    /// hello_request(0), TLS 1.2 (RFC 5246 7.4.1.1)
    pub const HELLO_REQUEST: u8 = 0;
    /// client_hello(1)
    pub const CLIENT_HELLO: u8 = 1;
    /// server_hello(2), also HelloRetryRequest
    pub const SERVER_HELLO: u8 = 2;
    /// new_session_ticket(4)
    pub const NEW_SESSION_TICKET: u8 = 4;
    /// end_of_early_data(5)
    pub const END_OF_EARLY_DATA: u8 = 5;
    /// encrypted_extensions(8)
    pub const ENCRYPTED_EXTENSIONS: u8 = 8;
    /// certificate(11)
    pub const CERTIFICATE: u8 = 11;
    /// server_key_exchange(12), TLS 1.2
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    /// certificate_request(13)
    pub const CERTIFICATE_REQUEST: u8 = 13;
    /// server_hello_done(14), TLS 1.2
    pub const SERVER_HELLO_DONE: u8 = 14;
    /// certificate_verify(15)
    pub const CERTIFICATE_VERIFY: u8 = 15;
    /// client_key_exchange(16), TLS 1.2
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
    /// finished(20)
    pub const FINISHED: u8 = 20;
    /// key_update(24)
    pub const KEY_UPDATE: u8 = 24;
    /// message_hash(254): the synthetic message of RFC 8446 4.4.1.
    pub const MESSAGE_HASH: u8 = 254;

    /// A readable name for traces and errors.
    pub fn name(t: u8) -> String {
        match t {
            HELLO_REQUEST => "HelloRequest".into(),
            CLIENT_HELLO => "ClientHello".into(),
            SERVER_HELLO => "ServerHello".into(),
            NEW_SESSION_TICKET => "NewSessionTicket".into(),
            END_OF_EARLY_DATA => "EndOfEarlyData".into(),
            ENCRYPTED_EXTENSIONS => "EncryptedExtensions".into(),
            CERTIFICATE => "Certificate".into(),
            SERVER_KEY_EXCHANGE => "ServerKeyExchange".into(),
            CERTIFICATE_REQUEST => "CertificateRequest".into(),
            SERVER_HELLO_DONE => "ServerHelloDone".into(),
            CERTIFICATE_VERIFY => "CertificateVerify".into(),
            CLIENT_KEY_EXCHANGE => "ClientKeyExchange".into(),
            FINISHED => "Finished".into(),
            KEY_UPDATE => "KeyUpdate".into(),
            other => format!("handshake type {other}"),
        }
    }
}

/// The special ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3):
/// SHA-256("HelloRetryRequest").
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Last 8 bytes of ServerHello.random when a TLS 1.3 server negotiates TLS 1.2
/// (RFC 8446 4.1.3).
pub const DOWNGRADE_TLS12: [u8; 8] = *b"DOWNGRD\x01";
/// Last 8 bytes of ServerHello.random when a TLS 1.3 server negotiates TLS 1.1
/// or below (RFC 8446 4.1.3).
pub const DOWNGRADE_TLS11: [u8; 8] = *b"DOWNGRD\x00";

/// The largest handshake message accepted (certificate chains included).
pub const MAX_HANDSHAKE_MESSAGE: usize = 1 << 17;

/// A complete handshake message as framed on the wire (RFC 8446 4):
/// `msg_type(1) length(3) body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    /// `HandshakeType`.
    pub typ: u8,
    /// The whole encoding including the 4-byte header: what the transcript
    /// hashes.
    pub raw: Vec<u8>,
}

impl HandshakeMessage {
    /// Frames `body` as a handshake message of type `typ`.
    pub fn new(typ: u8, body: &[u8]) -> Self {
        let mut w = Writer::new();
        w.u8(typ).vec24(|w| {
            w.bytes(body);
        });
        HandshakeMessage {
            typ,
            raw: w.into_bytes(),
        }
    }

    /// The body after the 4-byte header.
    pub fn body(&self) -> &[u8] {
        &self.raw[4..]
    }

    /// The readable type name.
    pub fn name(&self) -> String {
        hs_type::name(self.typ)
    }
}

/// Reassembles handshake messages from the payloads of handshake records:
/// a message may span records and a record may carry several messages
/// (RFC 8446 5.1).
#[derive(Debug, Default)]
pub struct HandshakeJoiner {
    buf: Vec<u8>,
}

impl HandshakeJoiner {
    /// An empty joiner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a handshake record's payload.
    pub fn push(&mut self, fragment: &[u8]) {
        self.buf.extend_from_slice(fragment);
    }

    /// Whether bytes of an incomplete message are buffered. RFC 8446 5.1:
    /// handshake messages must not span a key change, so this must be false
    /// whenever keys change.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The next complete message, if one is buffered.
    pub fn next_message(&mut self) -> Result<Option<HandshakeMessage>, Error> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([0, self.buf[1], self.buf[2], self.buf[3]]) as usize;
        if len > MAX_HANDSHAKE_MESSAGE {
            return Err(Error::Decode(DecodeError::BadLength("handshake message")));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let raw: Vec<u8> = self.buf.drain(..4 + len).collect();
        Ok(Some(HandshakeMessage { typ: raw[0], raw }))
    }
}

/// One extension: `ExtensionType extension_type; opaque extension_data<0..2^16-1>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// `ExtensionType`.
    pub typ: u16,
    /// `extension_data`.
    pub data: Vec<u8>,
}

impl Extension {
    /// An extension whose data `f` writes.
    pub fn build(typ: u16, f: impl FnOnce(&mut Writer)) -> Self {
        let mut w = Writer::new();
        f(&mut w);
        Extension {
            typ,
            data: w.into_bytes(),
        }
    }
}

fn read_extensions(r: &mut Reader<'_>) -> Result<Vec<Extension>, Error> {
    let mut list = Reader::new(r.vec16("extensions")?);
    let mut out: Vec<Extension> = Vec::new();
    while !list.is_empty() {
        let typ = list.u16("extension type")?;
        let data = list.vec16("extension data")?.to_vec();
        // RFC 8446 4.2: no more than one extension of a type per block.
        if out.iter().any(|e| e.typ == typ) {
            return Err(Error::IllegalParameter("duplicate extension"));
        }
        out.push(Extension { typ, data });
    }
    Ok(out)
}

fn write_extensions(w: &mut Writer, exts: &[Extension]) {
    w.vec16(|w| {
        for e in exts {
            w.u16(e.typ).vec16(|w| {
                w.bytes(&e.data);
            });
        }
    });
}

/// The data of the extension of type `typ`, if present.
pub fn find_extension(exts: &[Extension], typ: u16) -> Option<&[u8]> {
    exts.iter()
        .find(|e| e.typ == typ)
        .map(|e| e.data.as_slice())
}

/// `KeyShareEntry` (RFC 8446 4.2.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyShareEntry {
    /// `NamedGroup`.
    pub group: u16,
    /// `key_exchange`: the public value.
    pub key_exchange: Vec<u8>,
}

fn read_key_share_entry(r: &mut Reader<'_>) -> Result<KeyShareEntry, DecodeError> {
    let group = r.u16("key share group")?;
    let key = r.vec16("key exchange")?;
    if key.is_empty() {
        return Err(DecodeError::BadLength("key exchange"));
    }
    Ok(KeyShareEntry {
        group,
        key_exchange: key.to_vec(),
    })
}

/// ClientHello (RFC 8446 4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version`: 0x0303.
    pub legacy_version: u16,
    /// 32 random bytes.
    pub random: [u8; 32],
    /// `legacy_session_id` (0..32 bytes).
    pub session_id: Vec<u8>,
    /// Offered suites in preference order.
    pub cipher_suites: Vec<u16>,
    /// `legacy_compression_methods`: must be `[0]` for TLS 1.3.
    pub compression_methods: Vec<u8>,
    /// Extensions in order.
    pub extensions: Vec<Extension>,
}

impl ClientHello {
    /// Encodes as a framed handshake message.
    pub fn encode(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        w.u16(self.legacy_version).bytes(&self.random);
        w.vec8(|w| {
            w.bytes(&self.session_id);
        });
        w.vec16(|w| {
            for s in &self.cipher_suites {
                w.u16(*s);
            }
        });
        w.vec8(|w| {
            w.bytes(&self.compression_methods);
        });
        write_extensions(&mut w, &self.extensions);
        HandshakeMessage::new(hs_type::CLIENT_HELLO, w.as_bytes())
    }

    /// Parses a ClientHello body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let legacy_version = r.u16("legacy_version")?;
        let random = r.array::<32>("random")?;
        let session_id = r.vec8("legacy_session_id")?;
        if session_id.len() > 32 {
            return Err(DecodeError::BadLength("legacy_session_id").into());
        }
        let cipher_suites = r.u16_list16(1, "cipher_suites")?;
        let compression_methods = r.vec8("legacy_compression_methods")?.to_vec();
        if compression_methods.is_empty() {
            return Err(DecodeError::BadLength("legacy_compression_methods").into());
        }
        // Extensions are optional in a TLS 1.2 ClientHello (RFC 5246 7.4.1.2).
        let extensions = if r.is_empty() {
            Vec::new()
        } else {
            read_extensions(&mut r)?
        };
        r.finish("ClientHello")?;
        Ok(ClientHello {
            legacy_version,
            random,
            session_id: session_id.to_vec(),
            cipher_suites,
            compression_methods,
            extensions,
        })
    }

    /// The extension data of type `typ`.
    pub fn extension(&self, typ: u16) -> Option<&[u8]> {
        find_extension(&self.extensions, typ)
    }

    /// `supported_versions` (RFC 8446 4.2.1), if sent.
    pub fn supported_versions(&self) -> Result<Option<Vec<u16>>, Error> {
        self.extension(ext::SUPPORTED_VERSIONS)
            .map(|d| {
                let mut r = Reader::new(d);
                let v = r.u16_list8(1, "supported_versions")?;
                r.finish("supported_versions")?;
                Ok(v)
            })
            .transpose()
    }

    /// `supported_groups` (RFC 8446 4.2.7), if sent.
    pub fn supported_groups(&self) -> Result<Option<Vec<u16>>, Error> {
        self.extension(ext::SUPPORTED_GROUPS)
            .map(|d| parse_u16_list16_ext(d, "supported_groups"))
            .transpose()
    }

    /// `signature_algorithms` (RFC 8446 4.2.3), if sent.
    pub fn signature_algorithms(&self) -> Result<Option<Vec<u16>>, Error> {
        self.extension(ext::SIGNATURE_ALGORITHMS)
            .map(|d| parse_u16_list16_ext(d, "signature_algorithms"))
            .transpose()
    }

    /// `key_share` client shares (RFC 8446 4.2.8), if sent. Each group may
    /// appear once.
    pub fn key_shares(&self) -> Result<Option<Vec<KeyShareEntry>>, Error> {
        let Some(d) = self.extension(ext::KEY_SHARE) else {
            return Ok(None);
        };
        let mut outer = Reader::new(d);
        let mut r = Reader::new(outer.vec16("client_shares")?);
        outer.finish("key_share")?;
        let mut out: Vec<KeyShareEntry> = Vec::new();
        while !r.is_empty() {
            let e = read_key_share_entry(&mut r)?;
            if out.iter().any(|o| o.group == e.group) {
                return Err(Error::IllegalParameter("duplicate key share group"));
            }
            out.push(e);
        }
        Ok(Some(out))
    }

    /// The `host_name` of `server_name` (RFC 6066 section 3), if sent.
    /// An empty `server_name_list` or `host_name` does not parse
    /// (decode_error); a host name that is not a DNS name is
    /// illegal_parameter. A literal IPv4 or IPv6 address, which RFC 6066 3
    /// does not permit there but some clients send, names no host: it
    /// reads as no server_name (the server's default certificate), rather
    /// than failing the handshake of such a client.
    pub fn server_name(&self) -> Result<Option<String>, Error> {
        let Some(d) = self.extension(ext::SERVER_NAME) else {
            return Ok(None);
        };
        let mut outer = Reader::new(d);
        // ServerName server_name_list<1..2^16-1>; HostName <1..2^16-1>.
        let mut r = Reader::new(outer.vec16("server_name_list")?);
        outer.finish("server_name")?;
        if r.is_empty() {
            return Err(DecodeError::BadLength("server_name_list").into());
        }
        let mut host = None;
        let mut seen = false;
        while !r.is_empty() {
            let name_type = r.u8("name_type")?;
            let name = r.vec16("host_name")?;
            if name.is_empty() {
                return Err(DecodeError::BadLength("host_name").into());
            }
            if name_type == 0 {
                if seen {
                    return Err(Error::IllegalParameter("two host names in server_name"));
                }
                seen = true;
                let ip =
                    std::str::from_utf8(name).is_ok_and(|n| n.parse::<std::net::IpAddr>().is_ok());
                if !ip {
                    host = Some(dns_host_name(name)?);
                }
            }
        }
        Ok(host)
    }
}

/// A `host_name` as RFC 6066 3 defines it: a DNS host name in ASCII,
/// without a trailing dot; dot-separated labels of 1 to 63 letters, digits,
/// hyphens (and underscores, which real names carry), at most 253 bytes.
/// NUL, control bytes, spaces and anything non-ASCII are illegal_parameter.
pub fn dns_host_name(name: &[u8]) -> Result<String, Error> {
    if name.len() > 253 {
        return Err(Error::IllegalParameter("server_name longer than 253 bytes"));
    }
    if name.last() == Some(&b'.') {
        return Err(Error::IllegalParameter("server_name ends with a dot"));
    }
    for label in name.split(|b| *b == b'.') {
        if label.is_empty() || label.len() > 63 {
            return Err(Error::IllegalParameter(
                "server_name label empty or longer than 63 bytes",
            ));
        }
        if !label
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return Err(Error::IllegalParameter(
                "server_name is not a DNS host name",
            ));
        }
    }
    // Only ASCII letters, digits, '-', '_' and '.' are left.
    Ok(name.iter().map(|b| char::from(*b)).collect())
}

fn parse_u16_list16_ext(d: &[u8], what: &'static str) -> Result<Vec<u16>, Error> {
    let mut r = Reader::new(d);
    let v = r.u16_list16(1, what)?;
    r.finish(what)?;
    Ok(v)
}

/// Builders of the client's extensions.
pub mod build {
    use super::{ext, Extension, KeyShareEntry};

    /// server_name with one host_name (RFC 6066 section 3).
    pub fn server_name(host: &str) -> Extension {
        Extension::build(ext::SERVER_NAME, |w| {
            w.vec16(|w| {
                w.u8(0).vec16(|w| {
                    w.bytes(host.as_bytes());
                });
            });
        })
    }

    /// ClientHello supported_versions (RFC 8446 4.2.1).
    pub fn supported_versions_client(versions: &[u16]) -> Extension {
        Extension::build(ext::SUPPORTED_VERSIONS, |w| {
            w.vec8(|w| {
                for v in versions {
                    w.u16(*v);
                }
            });
        })
    }

    /// ServerHello/HRR supported_versions: the selected version.
    pub fn supported_versions_server(version: u16) -> Extension {
        Extension::build(ext::SUPPORTED_VERSIONS, |w| {
            w.u16(version);
        })
    }

    /// A list of `uint16` code points with a 2-byte length (supported_groups,
    /// signature_algorithms).
    pub fn u16_list(typ: u16, items: &[u16]) -> Extension {
        Extension::build(typ, |w| {
            w.vec16(|w| {
                for i in items {
                    w.u16(*i);
                }
            });
        })
    }

    /// ClientHello key_share (RFC 8446 4.2.8).
    pub fn key_share_client(shares: &[KeyShareEntry]) -> Extension {
        Extension::build(ext::KEY_SHARE, |w| {
            w.vec16(|w| {
                for s in shares {
                    w.u16(s.group).vec16(|w| {
                        w.bytes(&s.key_exchange);
                    });
                }
            });
        })
    }

    /// ServerHello key_share: one entry.
    pub fn key_share_server(share: &KeyShareEntry) -> Extension {
        Extension::build(ext::KEY_SHARE, |w| {
            w.u16(share.group).vec16(|w| {
                w.bytes(&share.key_exchange);
            });
        })
    }

    /// HelloRetryRequest key_share: the selected group.
    pub fn key_share_hrr(group: u16) -> Extension {
        Extension::build(ext::KEY_SHARE, |w| {
            w.u16(group);
        })
    }
}

/// ServerHello or HelloRetryRequest (RFC 8446 4.1.3, 4.1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version` (0x0303 for TLS 1.3; the version itself in TLS 1.2).
    pub legacy_version: u16,
    /// Server random, or [`HRR_RANDOM`].
    pub random: [u8; 32],
    /// `legacy_session_id_echo`.
    pub session_id: Vec<u8>,
    /// The chosen suite.
    pub cipher_suite: u16,
    /// `legacy_compression_method`: 0.
    pub compression_method: u8,
    /// Extensions in order.
    pub extensions: Vec<Extension>,
}

impl ServerHello {
    /// Encodes as a framed handshake message.
    pub fn encode(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        w.u16(self.legacy_version).bytes(&self.random);
        w.vec8(|w| {
            w.bytes(&self.session_id);
        });
        w.u16(self.cipher_suite).u8(self.compression_method);
        write_extensions(&mut w, &self.extensions);
        HandshakeMessage::new(hs_type::SERVER_HELLO, w.as_bytes())
    }

    /// Parses a ServerHello body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let legacy_version = r.u16("legacy_version")?;
        let random = r.array::<32>("random")?;
        let session_id = r.vec8("legacy_session_id_echo")?;
        if session_id.len() > 32 {
            return Err(DecodeError::BadLength("legacy_session_id_echo").into());
        }
        let cipher_suite = r.u16("cipher_suite")?;
        let compression_method = r.u8("legacy_compression_method")?;
        let extensions = if r.is_empty() {
            Vec::new()
        } else {
            read_extensions(&mut r)?
        };
        r.finish("ServerHello")?;
        Ok(ServerHello {
            legacy_version,
            random,
            session_id: session_id.to_vec(),
            cipher_suite,
            compression_method,
            extensions,
        })
    }

    /// Whether this is a HelloRetryRequest (RFC 8446 4.1.3).
    pub fn is_hrr(&self) -> bool {
        self.random == HRR_RANDOM
    }

    /// The extension data of type `typ`.
    pub fn extension(&self, typ: u16) -> Option<&[u8]> {
        find_extension(&self.extensions, typ)
    }

    /// The selected version from supported_versions, if present.
    pub fn selected_version(&self) -> Result<Option<u16>, Error> {
        self.extension(ext::SUPPORTED_VERSIONS)
            .map(|d| {
                let mut r = Reader::new(d);
                let v = r.u16("selected_version")?;
                r.finish("supported_versions")?;
                Ok(v)
            })
            .transpose()
    }

    /// ServerHello key_share: the server's share.
    pub fn key_share(&self) -> Result<Option<KeyShareEntry>, Error> {
        self.extension(ext::KEY_SHARE)
            .map(|d| {
                let mut r = Reader::new(d);
                let e = read_key_share_entry(&mut r)?;
                r.finish("key_share")?;
                Ok(e)
            })
            .transpose()
    }

    /// HelloRetryRequest key_share: the selected group.
    pub fn hrr_group(&self) -> Result<Option<u16>, Error> {
        self.extension(ext::KEY_SHARE)
            .map(|d| {
                let mut r = Reader::new(d);
                let g = r.u16("selected_group")?;
                r.finish("key_share")?;
                Ok(g)
            })
            .transpose()
    }
}

/// EncryptedExtensions (RFC 8446 4.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptedExtensions {
    /// Extensions in order.
    pub extensions: Vec<Extension>,
}

impl EncryptedExtensions {
    /// Encodes as a framed handshake message.
    pub fn encode(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        write_extensions(&mut w, &self.extensions);
        HandshakeMessage::new(hs_type::ENCRYPTED_EXTENSIONS, w.as_bytes())
    }

    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let extensions = read_extensions(&mut r)?;
        r.finish("EncryptedExtensions")?;
        Ok(EncryptedExtensions { extensions })
    }
}

/// TLS 1.3 Certificate (RFC 8446 4.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Certificate13 {
    /// `certificate_request_context` (empty for server certificates).
    pub context: Vec<u8>,
    /// DER certificates, end-entity first (per-entry extensions are read
    /// and dropped: we request none).
    pub chain: Vec<Vec<u8>>,
}

impl Certificate13 {
    /// Encodes as a framed handshake message.
    pub fn encode(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        w.vec8(|w| {
            w.bytes(&self.context);
        });
        w.vec24(|w| {
            for c in &self.chain {
                w.vec24(|w| {
                    w.bytes(c);
                });
                w.u16(0);
            }
        });
        HandshakeMessage::new(hs_type::CERTIFICATE, w.as_bytes())
    }

    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let context = r.vec8("certificate_request_context")?.to_vec();
        let mut list = Reader::new(r.vec24("certificate_list")?);
        r.finish("Certificate")?;
        let mut chain = Vec::new();
        while !list.is_empty() {
            let cert = list.vec24("cert_data")?;
            if cert.is_empty() {
                return Err(DecodeError::BadLength("cert_data").into());
            }
            let mut exts = Reader::new(list.vec16("certificate extensions")?);
            while !exts.is_empty() {
                exts.u16("extension type")?;
                exts.vec16("extension data")?;
            }
            chain.push(cert.to_vec());
        }
        Ok(Certificate13 { context, chain })
    }
}

/// A signature with its scheme: the body of TLS 1.3 CertificateVerify
/// (RFC 8446 4.4.3) and the TLS 1.2 `digitally-signed` struct (RFC 5246
/// 4.7 with 7.4.1.4.1's SignatureAndHashAlgorithm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitallySigned {
    /// `SignatureScheme`.
    pub scheme: u16,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

impl DigitallySigned {
    /// Writes `scheme` and `signature<0..2^16-1>`.
    pub fn write(&self, w: &mut Writer) {
        w.u16(self.scheme).vec16(|w| {
            w.bytes(&self.signature);
        });
    }

    /// Reads `scheme` and `signature<0..2^16-1>`.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let scheme = r.u16("signature scheme")?;
        let signature = r.vec16("signature")?.to_vec();
        Ok(DigitallySigned { scheme, signature })
    }

    /// Encodes as a CertificateVerify message.
    pub fn encode_certificate_verify(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        self.write(&mut w);
        HandshakeMessage::new(hs_type::CERTIFICATE_VERIFY, w.as_bytes())
    }

    /// Parses a CertificateVerify body.
    pub fn parse_certificate_verify(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let s = Self::read(&mut r)?;
        r.finish("CertificateVerify")?;
        Ok(s)
    }
}

/// Finished (RFC 8446 4.4.4): `verify_data` of the hash length.
pub fn encode_finished(verify_data: &[u8]) -> HandshakeMessage {
    HandshakeMessage::new(hs_type::FINISHED, verify_data)
}

/// TLS 1.3 CertificateRequest (RFC 8446 4.3.2): the context (echoed in our
/// empty Certificate) and extensions; `signature_algorithms` must be there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest13 {
    /// `certificate_request_context`.
    pub context: Vec<u8>,
    /// Extensions.
    pub extensions: Vec<Extension>,
}

impl CertificateRequest13 {
    /// A request during the handshake: an empty context (RFC 8446 4.3.2)
    /// and the signature schemes accepted in the client's
    /// CertificateVerify.
    pub fn for_handshake(schemes: &[u16]) -> Self {
        CertificateRequest13 {
            context: Vec::new(),
            extensions: vec![build::u16_list(ext::SIGNATURE_ALGORITHMS, schemes)],
        }
    }

    /// Encodes as a framed handshake message.
    pub fn encode(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        w.vec8(|w| {
            w.bytes(&self.context);
        });
        write_extensions(&mut w, &self.extensions);
        HandshakeMessage::new(hs_type::CERTIFICATE_REQUEST, w.as_bytes())
    }

    /// The `signature_algorithms` the server accepts (present: [`Self::parse`]
    /// checks it).
    pub fn signature_algorithms(&self) -> Result<Vec<u16>, Error> {
        let d = find_extension(&self.extensions, ext::SIGNATURE_ALGORITHMS)
            .ok_or(Error::MissingExtension("signature_algorithms"))?;
        parse_u16_list16_ext(d, "signature_algorithms")
    }

    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let context = r.vec8("certificate_request_context")?.to_vec();
        let extensions = read_extensions(&mut r)?;
        r.finish("CertificateRequest")?;
        if find_extension(&extensions, ext::SIGNATURE_ALGORITHMS).is_none() {
            return Err(Error::MissingExtension("signature_algorithms"));
        }
        Ok(CertificateRequest13 {
            context,
            extensions,
        })
    }
}

/// Checks the syntax of a TLS 1.3 NewSessionTicket (RFC 8446 4.6.1): for a
/// client without a session store, which drops the ticket, and before
/// `tls13::tickets::NewSessionTicket::parse` reads one.
pub fn check_new_session_ticket(body: &[u8]) -> Result<(), Error> {
    let mut r = Reader::new(body);
    r.u32("ticket_lifetime")?;
    r.u32("ticket_age_add")?;
    r.vec8("ticket_nonce")?;
    if r.vec16("ticket")?.is_empty() {
        return Err(DecodeError::BadLength("ticket").into());
    }
    read_extensions(&mut r)?;
    r.finish("NewSessionTicket")?;
    Ok(())
}

/// KeyUpdate (RFC 8446 4.6.3): whether the sender asks for an update back.
pub fn encode_key_update(update_requested: bool) -> HandshakeMessage {
    HandshakeMessage::new(hs_type::KEY_UPDATE, &[u8::from(update_requested)])
}

/// Parses KeyUpdate; values other than 0 and 1 are illegal_parameter.
pub fn parse_key_update(body: &[u8]) -> Result<bool, Error> {
    let mut r = Reader::new(body);
    let v = r.u8("request_update")?;
    r.finish("KeyUpdate")?;
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::IllegalParameter("KeyUpdate request_update")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_hello() -> ClientHello {
        ClientHello {
            legacy_version: version::TLS12,
            random: [7; 32],
            session_id: vec![1; 32],
            cipher_suites: vec![
                suite::TLS13_AES_128_GCM_SHA256,
                suite::TLS13_AES_256_GCM_SHA384,
            ],
            compression_methods: vec![0],
            extensions: vec![
                build::server_name("example.test"),
                build::supported_versions_client(&[version::TLS13, version::TLS12]),
                build::u16_list(ext::SUPPORTED_GROUPS, &[0x1d, 0x17]),
                build::key_share_client(&[KeyShareEntry {
                    group: 0x1d,
                    key_exchange: vec![9; 32],
                }]),
                build::u16_list(ext::SIGNATURE_ALGORITHMS, &[0x0403, 0x0804]),
            ],
        }
    }

    #[test]
    fn client_hello_round_trip_and_accessors() {
        let ch = sample_hello();
        let msg = ch.encode();
        assert_eq!(msg.typ, hs_type::CLIENT_HELLO);
        let back = ClientHello::parse(msg.body()).unwrap();
        assert_eq!(back, ch);
        assert_eq!(back.server_name().unwrap().as_deref(), Some("example.test"));
        assert_eq!(
            back.supported_versions().unwrap(),
            Some(vec![version::TLS13, version::TLS12])
        );
        assert_eq!(back.supported_groups().unwrap(), Some(vec![0x1d, 0x17]));
        assert_eq!(back.key_shares().unwrap().unwrap()[0].group, 0x1d);
        assert_eq!(
            back.signature_algorithms().unwrap(),
            Some(vec![0x0403, 0x0804])
        );
    }

    #[test]
    fn every_truncated_client_hello_is_a_decode_error() {
        let raw = sample_hello().encode();
        let body = raw.body();
        for cut in 0..body.len() {
            match ClientHello::parse(&body[..cut]) {
                Err(Error::Decode(_)) => {}
                // Cutting exactly at the end of the compression methods
                // leaves a valid extension-less TLS 1.2 ClientHello.
                Ok(ch) => assert!(ch.extensions.is_empty(), "cut {cut}"),
                Err(e) => panic!("cut {cut}: {e}"),
            }
        }
    }

    #[test]
    fn duplicate_extensions_are_illegal() {
        let mut ch = sample_hello();
        ch.extensions.push(build::server_name("again.test"));
        let msg = ch.encode();
        assert!(matches!(
            ClientHello::parse(msg.body()),
            Err(Error::IllegalParameter(_))
        ));
    }

    #[test]
    fn joiner_splits_and_joins() {
        let a = encode_finished(&[1; 32]);
        let b = encode_key_update(true);
        let mut all = a.raw.clone();
        all.extend_from_slice(&b.raw);
        let mut j = HandshakeJoiner::new();
        for byte in &all {
            j.push(std::slice::from_ref(byte));
        }
        assert_eq!(j.next_message().unwrap().unwrap(), a);
        assert_eq!(j.next_message().unwrap().unwrap(), b);
        assert!(j.next_message().unwrap().is_none());
        assert!(!j.has_partial());
        j.push(&[20, 0xff, 0xff, 0xff]);
        assert!(j.next_message().is_err());
    }

    #[test]
    fn certificate_and_verify_round_trip() {
        let c = Certificate13 {
            context: vec![],
            chain: vec![vec![0x30, 1, 2], vec![0x30, 3]],
        };
        assert_eq!(Certificate13::parse(c.encode().body()).unwrap(), c);
        let s = DigitallySigned {
            scheme: 0x0807,
            signature: vec![5; 64],
        };
        let m = s.encode_certificate_verify();
        assert_eq!(
            DigitallySigned::parse_certificate_verify(m.body()).unwrap(),
            s
        );
        let req = CertificateRequest13::for_handshake(&[0x0403, 0x0804]);
        let m = req.encode();
        assert_eq!(
            m.raw,
            [13, 0, 0, 13, 0, 0, 10, 0, 13, 0, 6, 0, 4, 4, 3, 8, 4]
        );
        let back = CertificateRequest13::parse(m.body()).unwrap();
        assert_eq!(back, req);
        assert_eq!(back.signature_algorithms().unwrap(), [0x0403, 0x0804]);
        assert!(matches!(
            CertificateRequest13::parse(&[0, 0, 0]),
            Err(Error::MissingExtension(_))
        ));
        assert!(parse_key_update(&[2]).is_err());
        assert!(parse_key_update(&[1]).unwrap());
    }
}
