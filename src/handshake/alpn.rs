//! Application-Layer Protocol Negotiation (RFC 7301): the extension's
//! encoding, the server's choice and the client's check of the answer.
//!
//! ```text
//! ClientHello  application_layer_protocol_negotiation: our list, preferred first
//!      │
//!      ▼  server: its own preference among the client's offer (3.2)
//! TLS 1.3 EncryptedExtensions / TLS 1.2 ServerHello: exactly one name (3.1)
//! ```
//!
//! ```text
//! opaque ProtocolName<1..2^8-1>;
//! struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
//! ```

#![forbid(unsafe_code)]

use super::codec::{DecodeError, Reader};
use super::error::Error;
use super::messages::{ext, Extension};

/// Checks a configured protocol list: every name 1 to 255 bytes, and the
/// encoded list within its 2-byte length.
pub fn check_config(protocols: &[Vec<u8>]) -> Result<(), Error> {
    if protocols.iter().any(|p| p.is_empty() || p.len() > 255) {
        return Err(Error::Config(
            "ALPN protocol names must be 1 to 255 bytes long".into(),
        ));
    }
    if protocols.iter().map(|p| p.len() + 1).sum::<usize>() > 0xffff {
        return Err(Error::Config("ALPN protocol list too long".into()));
    }
    Ok(())
}

/// The extension carrying `protocols` (the client's offer, or the server's
/// one choice).
pub fn extension(protocols: &[Vec<u8>]) -> Extension {
    Extension::build(ext::ALPN, |w| {
        w.vec16(|w| {
            for p in protocols {
                w.vec8(|w| {
                    w.bytes(p);
                });
            }
        });
    })
}

/// Parses `ProtocolNameList`. An empty list or an empty name does not
/// parse (decode_error).
pub fn parse(data: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut outer = Reader::new(data);
    let mut r = Reader::new(outer.vec16("protocol_name_list")?);
    outer.finish("application_layer_protocol_negotiation")?;
    if r.is_empty() {
        return Err(DecodeError::BadLength("protocol_name_list").into());
    }
    let mut out = Vec::new();
    while !r.is_empty() {
        let name = r.vec8("ProtocolName")?;
        if name.is_empty() {
            return Err(DecodeError::BadLength("ProtocolName").into());
        }
        out.push(name.to_vec());
    }
    Ok(out)
}

/// The server's choice (RFC 7301 3.2): its most preferred protocol that
/// the client offered. `None` when the server has no protocols configured
/// or the client sent no extension; both sides with lists but none in
/// common is no_application_protocol.
pub fn choose(ours: &[Vec<u8>], offer: Option<&[u8]>) -> Result<Option<Vec<u8>>, Error> {
    let Some(data) = offer else {
        return Ok(None);
    };
    if ours.is_empty() {
        return Ok(None);
    }
    let offered = parse(data)?;
    ours.iter()
        .find(|p| offered.contains(p))
        .cloned()
        .map(Some)
        .ok_or(Error::NoApplicationProtocol)
}

/// The client's check of the server's answer (RFC 7301 3.1): exactly one
/// name, and one we offered (illegal_parameter otherwise).
pub fn check_answer(offered: &[Vec<u8>], data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut names = parse(data)?;
    if names.len() != 1 {
        return Err(Error::IllegalParameter(
            "ALPN answer with more than one protocol",
        ));
    }
    let name = names.remove(0);
    if !offered.contains(&name) {
        return Err(Error::IllegalParameter(
            "ALPN protocol that was not offered",
        ));
    }
    Ok(name)
}

/// A protocol name for a trace or an info line: the bytes as text, with
/// anything but printable ASCII escaped.
pub fn display(name: &[u8]) -> String {
    super::escape(&String::from_utf8_lossy(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::Alert;

    fn list(names: &[&str]) -> Vec<Vec<u8>> {
        names.iter().map(|n| n.as_bytes().to_vec()).collect()
    }

    #[test]
    fn alpn_round_trip() {
        let l = list(&["h2", "http/1.1"]);
        let e = extension(&l);
        assert_eq!(e.typ, 16);
        assert_eq!(e.data, b"\x00\x0c\x02h2\x08http/1.1");
        assert_eq!(parse(&e.data).unwrap(), l);
    }

    #[test]
    fn alpn_malformed_is_decode_error() {
        for bad in [
            &b""[..],
            b"\x00\x00",
            b"\x00\x01\x00",
            b"\x00\x03\x02h2\x00",
            b"\x00\x04\x02h2",
            b"\x00\x03\x02h2x",
            b"\x00\x03\x03h2",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.alert(), Some(Alert::DecodeError), "{bad:?}: {e}");
        }
    }

    #[test]
    fn alpn_server_preference_wins() {
        let offer = extension(&list(&["http/1.1", "h2"])).data;
        let ours = list(&["h2", "http/1.1"]);
        assert_eq!(choose(&ours, Some(&offer)).unwrap(), Some(b"h2".to_vec()));
        assert_eq!(choose(&ours, None).unwrap(), None);
        assert_eq!(choose(&[], Some(&offer)).unwrap(), None);
        let e = choose(&list(&["spdy/3"]), Some(&offer)).unwrap_err();
        assert_eq!(e.alert(), Some(Alert::NoApplicationProtocol));
    }

    #[test]
    fn alpn_client_checks_answer() {
        let offered = list(&["h2", "http/1.1"]);
        let one = extension(&list(&["http/1.1"])).data;
        assert_eq!(check_answer(&offered, &one).unwrap(), b"http/1.1");
        let two = extension(&list(&["h2", "http/1.1"])).data;
        let e = check_answer(&offered, &two).unwrap_err();
        assert_eq!(e.alert(), Some(Alert::IllegalParameter));
        let other = extension(&list(&["spdy/3"])).data;
        let e = check_answer(&offered, &other).unwrap_err();
        assert_eq!(e.alert(), Some(Alert::IllegalParameter));
    }

    #[test]
    fn alpn_config_checked() {
        assert!(check_config(&list(&["h2"])).is_ok());
        assert!(check_config(&[Vec::new()]).is_err());
        assert!(check_config(&[vec![b'a'; 256]]).is_err());
    }
}
