//! TLS 1.2 AES-GCM record protection (RFC 5246 6.2.3.3, RFC 5288 3).
//!
//! ```text
//!  TLSCiphertext
//!  ┌──────┬────────┬────────┬───────────────────┬──────────────────┬─────────┐
//!  │ type │ 0x0303 │ length │ nonce_explicit(8) │ AES-GCM(content) │ tag(16) │
//!  └──────┴────────┴────────┴───────────────────┴──────────────────┴─────────┘
//!  nonce (RFC 5288 3)        = salt(4, client/server_write_IV) || nonce_explicit(8)
//!  additional_data (6.2.3.3) = seq_num(8) || type(1) || version(2) || length(2)
//! ```
//!
//! The explicit nonce is the record's sequence number, XORed with a mask
//! that is zero unless the keys carry one (rustls derives it from the key
//! block): unique per key by construction. The opener takes whatever explicit nonce
//! the peer sent.

#![forbid(unsafe_code)]

use super::{
    parse_header, ContentType, Error, Prepared, HEADER_LEN, MAX_CIPHERTEXT_LEN_TLS12,
    MAX_PLAINTEXT_LEN, TAG_LEN, TLS12_VERSION,
};
use bytes::BytesMut;

/// Length of `GenericAEADCipher.nonce_explicit` (RFC 5288 3).
const EXPLICIT_NONCE_LEN: usize = 8;
/// The payload starts after the header and the explicit nonce.
pub(super) const HEADER_ROOM: usize = HEADER_LEN + EXPLICIT_NONCE_LEN;

/// The AEAD nonce: implicit salt || explicit part.
fn nonce(salt: &[u8; 12], explicit: &[u8]) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(&salt[..4]);
    n[4..].copy_from_slice(explicit);
    n
}

/// `additional_data = seq_num + TLSCompressed.type + TLSCompressed.version +
/// TLSCompressed.length` (RFC 5246 6.2.3.3).
fn aad(seq: u64, typ: u8, version: u16, len: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    a[..8].copy_from_slice(&seq.to_be_bytes());
    a[8] = typ;
    a[9..11].copy_from_slice(&version.to_be_bytes());
    a[11..13].copy_from_slice(&(len as u16).to_be_bytes());
    a
}

/// Frames `buf = [header room][content]`: header, explicit nonce = seq, and
/// tag room behind.
pub(super) fn frame(
    salt: &[u8; 12],
    seq: u64,
    typ: ContentType,
    buf: &mut BytesMut,
) -> Result<Prepared, Error> {
    if buf.len() < HEADER_ROOM {
        return Err(Error::Misuse(
            "record buffer lacks header room (Sealer::start)",
        ));
    }
    if typ == ContentType::ChangeCipherSpec {
        return Err(Error::Misuse(
            "change_cipher_spec is sent before the keys take effect",
        ));
    }
    let content = buf.len() - HEADER_ROOM;
    if content > MAX_PLAINTEXT_LEN {
        return Err(Error::PayloadTooLong {
            len: content,
            max: MAX_PLAINTEXT_LEN,
        });
    }
    let body = EXPLICIT_NONCE_LEN + content + TAG_LEN;
    buf.resize(HEADER_LEN + body, 0);
    // Bytes 4..12 of the IV are the explicit-nonce mask (zero unless set by
    // `TrafficKeys::with_explicit_nonce_mask`); XOR keeps it unique per seq.
    let mut mask = [0u8; EXPLICIT_NONCE_LEN];
    mask.copy_from_slice(&salt[4..]);
    let explicit = (seq ^ u64::from_be_bytes(mask)).to_be_bytes();
    buf[0] = typ.to_u8();
    buf[1..3].copy_from_slice(&TLS12_VERSION.to_be_bytes());
    buf[3..5].copy_from_slice(&(body as u16).to_be_bytes());
    buf[HEADER_LEN..HEADER_ROOM].copy_from_slice(&explicit);
    Ok(Prepared {
        nonce: nonce(salt, &explicit),
        aad: aad(seq, typ.to_u8(), TLS12_VERSION, content),
        aad_len: 13,
        start: HEADER_ROOM,
        end: HEADER_ROOM + content,
    })
}

/// The record types a protected record may carry (RFC 5246 6.2.1; the
/// ChangeCipherSpec is sent before the keys take effect).
fn protected_type(type_byte: u8) -> Result<ContentType, Error> {
    match ContentType::from_u8(type_byte) {
        Some(t @ (ContentType::Handshake | ContentType::Alert | ContentType::ApplicationData)) => {
            Ok(t)
        }
        _ => Err(Error::UnexpectedContentType(type_byte)),
    }
}

/// Checks a record before decryption (type, version, RFC 5246 6.2.3
/// limits) and says where the AEAD runs: the nonce from the record's
/// explicit part, the AAD for `seq`, and the content at `start..end`, the
/// tag right after it.
#[inline(always)]
pub(super) fn check(salt: &[u8; 12], seq: u64, record: &[u8]) -> Result<Prepared, Error> {
    let (type_byte, version, len) = parse_header(record)?;
    let typ = protected_type(type_byte)?;
    if version != TLS12_VERSION {
        return Err(Error::BadVersion(version));
    }
    if len > MAX_CIPHERTEXT_LEN_TLS12 {
        return Err(Error::RecordOverflow {
            len,
            max: MAX_CIPHERTEXT_LEN_TLS12,
        });
    }
    if len < EXPLICIT_NONCE_LEN + TAG_LEN {
        return Err(Error::Decode("GCM record shorter than nonce and tag"));
    }
    let content = len - EXPLICIT_NONCE_LEN - TAG_LEN;
    // RFC 5246 6.2.3: the decrypted fragment must not exceed 2^14 bytes.
    if content > MAX_PLAINTEXT_LEN {
        return Err(Error::RecordOverflow {
            len: content,
            max: MAX_PLAINTEXT_LEN,
        });
    }
    // RFC 5246 6.2.1: no zero-length Handshake or Alert fragments (the
    // content length is known before decryption here).
    if content == 0 && typ != ContentType::ApplicationData {
        return Err(Error::EmptyContent(typ));
    }
    Ok(Prepared {
        nonce: nonce(salt, &record[HEADER_LEN..HEADER_ROOM]),
        aad: aad(seq, type_byte, version, content),
        aad_len: 13,
        start: HEADER_ROOM,
        end: HEADER_ROOM + content,
    })
}

/// After the AEAD authenticated the content of a record that passed
/// [`check`]: its content type.
#[inline(always)]
pub(super) fn finish(record: &[u8]) -> Result<ContentType, Error> {
    protected_type(record[0])
}

#[cfg(test)]
mod tests {
    use super::{aad, nonce};

    #[test]
    fn nonce_and_aad_layout() {
        let salt = [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            nonce(&salt, &7u64.to_be_bytes()),
            [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 7]
        );
        assert_eq!(
            aad(0x0102, 23, 0x0303, 0x1234),
            [0, 0, 0, 0, 0, 0, 1, 2, 23, 3, 3, 0x12, 0x34]
        );
    }
}
