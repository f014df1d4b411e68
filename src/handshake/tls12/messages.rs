//! The TLS 1.2 messages that TLS 1.3 does not have: ServerKeyExchange and
//! ClientKeyExchange for ECDHE (RFC 8422 section 5.4 and 5.7), the empty
//! ServerHelloDone (RFC 5246 section 7.4.5), CertificateRequest (RFC 5246
//! section 7.4.4), Certificate (RFC 5246 section 7.4.2), the content the server signs
//! (RFC 8422 section 5.4), and the TLS 1.2 hello extensions
//! ec_point_formats (RFC 8422 5.1.2), extended_master_secret (RFC 7627 5.1)
//! and renegotiation_info (RFC 5746 3.2).
//!
//! The shared codec, DigitallySigned and hello messages are in
//! [`crate::handshake::messages`].

#![forbid(unsafe_code)]

use crate::handshake::codec::{DecodeError, Reader, Writer};
use crate::handshake::error::Error;
use crate::handshake::messages::{ext, hs_type, DigitallySigned, Extension, HandshakeMessage};

/// `ECCurveType.named_curve` (RFC 8422 section 5.4); explicit curves are
/// deprecated there and never accepted.
pub const CURVE_TYPE_NAMED_CURVE: u8 = 3;

/// `ECPointFormat.uncompressed` (RFC 8422 section 5.1.2), the only format.
pub const POINT_FORMAT_UNCOMPRESSED: u8 = 0;

/// `ServerECDHParams` (RFC 8422 section 5.4):
///
/// ```text
/// struct {
///     ECParameters curve_params;   // curve_type(1) = named_curve(3), NamedCurve(2)
///     ECPoint      public;         // opaque point <1..2^8-1>
/// } ServerECDHParams;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcdhParams {
    /// `NamedCurve` (a `NamedGroup` code point).
    pub group: u16,
    /// The server's ephemeral public point (X25519: 32 bytes; secp256r1:
    /// the uncompressed SEC 1 point).
    pub public: Vec<u8>,
}

impl EcdhParams {
    /// The encoding, which is also what the signature covers.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(CURVE_TYPE_NAMED_CURVE).u16(self.group).vec8(|w| {
            w.bytes(&self.public);
        });
        w.into_bytes()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let curve_type = r.u8("ECCurveType")?;
        if curve_type != CURVE_TYPE_NAMED_CURVE {
            // RFC 8422 5.4: explicit_prime/explicit_char2 are deprecated.
            return Err(Error::IllegalParameter(
                "ServerKeyExchange curve is not a named curve",
            ));
        }
        let group = r.u16("NamedCurve")?;
        let public = r.vec8("ECPoint")?;
        if public.is_empty() {
            return Err(DecodeError::BadLength("ECPoint").into());
        }
        Ok(EcdhParams {
            group,
            public: public.to_vec(),
        })
    }

    /// The content the server's signature covers (RFC 8422 section 5.4;
    /// RFC 5246 section 7.4.3):
    /// `ClientHello.random + ServerHello.random + ServerECDHParams`.
    pub fn signed_content(&self, client_random: &[u8; 32], server_random: &[u8; 32]) -> Vec<u8> {
        let params = self.encode();
        let mut m = Vec::with_capacity(64 + params.len());
        m.extend_from_slice(client_random);
        m.extend_from_slice(server_random);
        m.extend_from_slice(&params);
        m
    }
}

/// ServerKeyExchange for ECDHE_ECDSA / ECDHE_RSA (RFC 8422 section 5.4):
/// the params and a `digitally-signed` signature over them (RFC 5246 4.7
/// with SignatureAndHashAlgorithm, i.e. a TLS 1.3 SignatureScheme code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// The curve and the server's public point.
    pub params: EcdhParams,
    /// The signature.
    pub signed: DigitallySigned,
}

impl ServerKeyExchange {
    /// Encodes as a framed handshake message.
    pub fn encode(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        w.bytes(&self.params.encode());
        self.signed.write(&mut w);
        HandshakeMessage::new(hs_type::SERVER_KEY_EXCHANGE, w.as_bytes())
    }

    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let params = EcdhParams::read(&mut r)?;
        let signed = DigitallySigned::read(&mut r)?;
        r.finish("ServerKeyExchange")?;
        if signed.signature.is_empty() {
            return Err(DecodeError::BadLength("ServerKeyExchange signature").into());
        }
        Ok(ServerKeyExchange { params, signed })
    }
}

/// ClientKeyExchange for ECDHE (RFC 8422 section 5.7):
/// `ClientECDiffieHellmanPublic { ECPoint ecdh_Yc; }` with
/// `opaque point <1..2^8-1>`.
pub fn encode_client_key_exchange(public: &[u8]) -> HandshakeMessage {
    let mut w = Writer::new();
    w.vec8(|w| {
        w.bytes(public);
    });
    HandshakeMessage::new(hs_type::CLIENT_KEY_EXCHANGE, w.as_bytes())
}

/// Parses a ClientKeyExchange body: the client's public point.
pub fn parse_client_key_exchange(body: &[u8]) -> Result<Vec<u8>, Error> {
    let mut r = Reader::new(body);
    let point = r.vec8("ecdh_Yc")?;
    r.finish("ClientKeyExchange")?;
    if point.is_empty() {
        return Err(DecodeError::BadLength("ecdh_Yc").into());
    }
    Ok(point.to_vec())
}

/// ServerHelloDone: an empty body (RFC 5246 section 7.4.5).
pub fn encode_server_hello_done() -> HandshakeMessage {
    HandshakeMessage::new(hs_type::SERVER_HELLO_DONE, &[])
}

/// Checks a ServerHelloDone body is empty.
pub fn parse_server_hello_done(body: &[u8]) -> Result<(), Error> {
    Reader::new(body).finish("ServerHelloDone")?;
    Ok(())
}

/// TLS 1.2 Certificate (RFC 5246 7.4.2): a u24 list of u24 DER certificates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Certificate12 {
    /// DER certificates, end-entity first.
    pub chain: Vec<Vec<u8>>,
}

impl Certificate12 {
    /// Encodes as a framed handshake message.
    pub fn encode(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        w.vec24(|w| {
            for c in &self.chain {
                w.vec24(|w| {
                    w.bytes(c);
                });
            }
        });
        HandshakeMessage::new(hs_type::CERTIFICATE, w.as_bytes())
    }

    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let mut list = Reader::new(r.vec24("certificate_list")?);
        r.finish("Certificate")?;
        let mut chain = Vec::new();
        while !list.is_empty() {
            let cert = list.vec24("ASN.1Cert")?;
            if cert.is_empty() {
                return Err(DecodeError::BadLength("ASN.1Cert").into());
            }
            chain.push(cert.to_vec());
        }
        Ok(Certificate12 { chain })
    }
}

/// `ClientCertificateType` (RFC 5246 7.4.4): rsa_sign.
pub const CERT_TYPE_RSA_SIGN: u8 = 1;

/// `ClientCertificateType` (RFC 8422 5.5): ecdsa_sign, which also covers
/// Ed25519 keys.
pub const CERT_TYPE_ECDSA_SIGN: u8 = 64;

/// TLS 1.2 CertificateRequest (RFC 5246 7.4.4):
///
/// ```text
/// struct {
///     ClientCertificateType certificate_types<1..2^8-1>;
///     SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
///     DistinguishedName certificate_authorities<0..2^16-1>;
/// } CertificateRequest;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest12 {
    /// `certificate_types`.
    pub certificate_types: Vec<u8>,
    /// `supported_signature_algorithms` (SignatureScheme code points).
    pub schemes: Vec<u16>,
    /// `certificate_authorities`, undecoded (we send an empty list and do
    /// not choose certificates by issuer).
    pub authorities: Vec<u8>,
}

impl CertificateRequest12 {
    /// Encodes as a framed handshake message.
    pub fn encode(&self) -> HandshakeMessage {
        let mut w = Writer::new();
        w.vec8(|w| {
            w.bytes(&self.certificate_types);
        });
        w.vec16(|w| {
            for s in &self.schemes {
                w.u16(*s);
            }
        });
        w.vec16(|w| {
            w.bytes(&self.authorities);
        });
        HandshakeMessage::new(hs_type::CERTIFICATE_REQUEST, w.as_bytes())
    }

    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let certificate_types = r.vec8("certificate_types")?.to_vec();
        if certificate_types.is_empty() {
            return Err(DecodeError::BadLength("certificate_types").into());
        }
        let schemes = r.u16_list16(1, "supported_signature_algorithms")?;
        let authorities = r.vec16("certificate_authorities")?.to_vec();
        r.finish("CertificateRequest")?;
        Ok(CertificateRequest12 {
            certificate_types,
            schemes,
            authorities,
        })
    }
}

/// ec_point_formats with the uncompressed format only (RFC 8422 5.1.2).
pub fn ec_point_formats_ext() -> Extension {
    Extension::build(ext::EC_POINT_FORMATS, |w| {
        w.vec8(|w| {
            w.u8(POINT_FORMAT_UNCOMPRESSED);
        });
    })
}

/// Checks a peer's ec_point_formats (`ECPointFormat ec_point_format_list
/// <1..2^8-1>`): it must list uncompressed (RFC 8422 5.1.2: otherwise
/// illegal_parameter).
pub fn check_ec_point_formats(data: &[u8]) -> Result<(), Error> {
    let mut r = Reader::new(data);
    let list = r.vec8("ec_point_format_list")?;
    r.finish("ec_point_formats")?;
    if list.is_empty() {
        return Err(DecodeError::BadLength("ec_point_format_list").into());
    }
    if !list.contains(&POINT_FORMAT_UNCOMPRESSED) {
        return Err(Error::IllegalParameter(
            "peer does not accept uncompressed points",
        ));
    }
    Ok(())
}

/// extended_master_secret: empty extension_data (RFC 7627 section 5.1).
pub fn extended_master_secret_ext() -> Extension {
    Extension {
        typ: ext::EXTENDED_MASTER_SECRET,
        data: Vec::new(),
    }
}

/// Checks an extended_master_secret extension's data is empty.
pub fn check_extended_master_secret(data: &[u8]) -> Result<(), Error> {
    Reader::new(data).finish("extended_master_secret")?;
    Ok(())
}

/// renegotiation_info with an empty `renegotiated_connection` (RFC 5746
/// 3.2): the initial handshake's form, the only one we send or accept.
pub fn renegotiation_info_ext() -> Extension {
    Extension::build(ext::RENEGOTIATION_INFO, |w| {
        w.vec8(|_| {});
    })
}

/// Checks a peer's renegotiation_info on the initial handshake:
/// `renegotiated_connection` must be empty (RFC 5746 3.4 client side, 3.6
/// server side: otherwise handshake_failure).
pub fn check_renegotiation_info(data: &[u8]) -> Result<(), Error> {
    let mut r = Reader::new(data);
    let conn = r.vec8("renegotiated_connection")?;
    r.finish("renegotiation_info")?;
    if !conn.is_empty() {
        return Err(Error::HandshakeFailure(
            "renegotiation_info is not empty on the initial handshake",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::verify::scheme;

    #[test]
    fn certificate_round_trip() {
        let c12 = Certificate12 {
            chain: vec![vec![0x30, 1, 2], vec![0x30, 3]],
        };
        assert_eq!(Certificate12::parse(c12.encode().body()).unwrap(), c12);
    }

    fn ske() -> ServerKeyExchange {
        ServerKeyExchange {
            params: EcdhParams {
                group: 0x001d,
                public: (0..32).collect(),
            },
            signed: DigitallySigned {
                scheme: scheme::ECDSA_SECP256R1_SHA256,
                signature: vec![0x30, 0x06, 1, 2, 3, 4, 5, 6],
            },
        }
    }

    #[test]
    fn server_key_exchange_wire_format_and_round_trip() {
        let m = ske().encode();
        let mut want = vec![12, 0, 0, 4 + 32 + 4 + 8, 3, 0x00, 0x1d, 32];
        want.extend(0..32u8);
        want.extend([0x04, 0x03, 0, 8, 0x30, 0x06, 1, 2, 3, 4, 5, 6]);
        assert_eq!(m.raw, want);
        assert_eq!(ServerKeyExchange::parse(m.body()).unwrap(), ske());
    }

    #[test]
    fn every_truncation_and_extension_of_ske_is_rejected() {
        let m = ske().encode();
        let body = m.body();
        for n in 0..body.len() {
            assert!(ServerKeyExchange::parse(&body[..n]).is_err(), "prefix {n}");
        }
        let mut long = body.to_vec();
        long.push(0);
        assert!(matches!(
            ServerKeyExchange::parse(&long),
            Err(Error::Decode(DecodeError::TrailingData(_)))
        ));
        let mut explicit = body.to_vec();
        explicit[0] = 1;
        assert!(matches!(
            ServerKeyExchange::parse(&explicit),
            Err(Error::IllegalParameter(_))
        ));
    }

    #[test]
    fn signed_content_is_randoms_then_params() {
        let p = ske().params;
        let c = p.signed_content(&[0xC1; 32], &[0x5E; 32]);
        assert_eq!(&c[..32], &[0xC1; 32]);
        assert_eq!(&c[32..64], &[0x5E; 32]);
        assert_eq!(&c[64..68], &[3, 0x00, 0x1d, 32]);
        assert_eq!(&c[68..], &p.public[..]);
    }

    #[test]
    fn client_key_exchange_round_trip_and_errors() {
        let pt = vec![4u8; 65];
        let m = encode_client_key_exchange(&pt);
        assert_eq!(&m.raw[..5], &[16, 0, 0, 66, 65]);
        assert_eq!(parse_client_key_exchange(m.body()).unwrap(), pt);
        assert!(parse_client_key_exchange(&[0]).is_err());
        assert!(parse_client_key_exchange(&[2, 1]).is_err());
        assert!(parse_client_key_exchange(&[1, 1, 1]).is_err());
        assert!(parse_client_key_exchange(&[]).is_err());
    }

    #[test]
    fn hello_done_and_extensions() {
        assert_eq!(encode_server_hello_done().raw, vec![14, 0, 0, 0]);
        assert!(parse_server_hello_done(&[]).is_ok());
        assert!(parse_server_hello_done(&[0]).is_err());
        assert_eq!(ec_point_formats_ext().data, vec![1, 0]);
        assert!(check_ec_point_formats(&[2, 1, 0]).is_ok());
        assert!(matches!(
            check_ec_point_formats(&[1, 1]),
            Err(Error::IllegalParameter(_))
        ));
        assert!(check_ec_point_formats(&[0]).is_err());
        assert!(check_extended_master_secret(&[]).is_ok());
        assert!(check_extended_master_secret(&[0]).is_err());
        assert_eq!(renegotiation_info_ext().data, vec![0]);
        assert!(check_renegotiation_info(&[0]).is_ok());
        assert!(matches!(
            check_renegotiation_info(&[1, 7]),
            Err(Error::HandshakeFailure(_))
        ));
        assert!(check_renegotiation_info(&[]).is_err());
    }

    #[test]
    fn certificate_request_syntax() {
        let req = CertificateRequest12 {
            certificate_types: vec![CERT_TYPE_RSA_SIGN, CERT_TYPE_ECDSA_SIGN],
            schemes: vec![scheme::ECDSA_SECP256R1_SHA256, scheme::RSA_PKCS1_SHA256],
            authorities: Vec::new(),
        };
        let m = req.encode();
        assert_eq!(m.raw, [13, 0, 0, 11, 2, 1, 64, 0, 4, 4, 3, 4, 1, 0, 0]);
        assert_eq!(CertificateRequest12::parse(m.body()).unwrap(), req);
        let parse = CertificateRequest12::parse;
        assert!(parse(&[1, 64, 0, 2, 4, 3, 0, 0]).is_ok());
        assert!(parse(&[0, 0, 2, 4, 3, 0, 0]).is_err());
        assert!(parse(&[1, 64, 0, 0, 0, 0]).is_err());
        assert!(parse(&[1, 64, 0, 2, 4, 3, 0, 0, 9]).is_err());
    }
}
