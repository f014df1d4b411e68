//! TLS 1.3 record protection (RFC 8446 section 5).
//!
//! ```text
//!  TLSCiphertext (5.2)
//!  ┌─────────────┬────────────────┬────────┬──────────────────────────────────────────┐
//!  │ opaque_type │ legacy_version │ length │ encrypted_record                         │
//!  │ 23          │ 0x0303         │ u16    │ AEAD(TLSInnerPlaintext) || tag(16)       │
//!  └─────────────┴────────────────┴────────┴──────────────────────────────────────────┘
//!  TLSInnerPlaintext (5.2) = content || type(1) || zeros(padding, 5.4)
//!  additional_data (5.2)   = opaque_type || legacy_record_version || length
//!  nonce (5.3)             = iv XOR (0^32 || seq as 64-bit big-endian)
//! ```

#![forbid(unsafe_code)]

use super::{
    parse_header, ContentType, Error, Prepared, HEADER_LEN, MAX_CIPHERTEXT_LEN_TLS13,
    MAX_PLAINTEXT_LEN, TAG_LEN, TLS12_VERSION,
};
use bytes::BytesMut;

/// The payload starts right after the 5-byte header.
pub(super) const HEADER_ROOM: usize = HEADER_LEN;

/// The per-record nonce (RFC 8446 5.3): the 64-bit sequence number,
/// big-endian, left-padded with zeros to 12 bytes and XORed into the IV.
#[inline(always)]
fn nonce(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut wide = [0u8; 16];
    wide[..12].copy_from_slice(iv);
    // Bytes 4..12 of the IV are bits 32..96 of the big-endian 128-bit word.
    let n = (u128::from_be_bytes(wide) ^ (u128::from(seq) << 32)).to_be_bytes();
    let mut out = [0u8; 12];
    out.copy_from_slice(&n[..12]);
    out
}

/// Frames `buf = [header room][content]` into a TLSInnerPlaintext with
/// `pad` zero bytes, writes the header, and appends tag room.
#[inline(always)]
pub(super) fn frame(
    iv: &[u8; 12],
    seq: u64,
    typ: ContentType,
    buf: &mut BytesMut,
    pad: usize,
) -> Result<Prepared, Error> {
    if buf.len() < HEADER_ROOM {
        return Err(Error::Misuse(
            "record buffer lacks header room (Sealer::start)",
        ));
    }
    if typ == ContentType::ChangeCipherSpec {
        // RFC 8446 5: change_cipher_spec is never protected.
        return Err(Error::Misuse(
            "change_cipher_spec records are never encrypted",
        ));
    }
    let content = buf.len() - HEADER_ROOM;
    // RFC 8446 5.4: the TLSInnerPlaintext is at most 2^14 + 1 bytes.
    let padded = content.saturating_add(pad);
    if padded > MAX_PLAINTEXT_LEN {
        return Err(Error::PayloadTooLong {
            len: padded,
            max: MAX_PLAINTEXT_LEN,
        });
    }
    let inner = padded + 1;
    let body = inner + TAG_LEN;
    // Append the content type, the zero padding and the tag room (zeros
    // until sealed). Without padding, one fixed 17-byte copy instead of the
    // general resize (a memset call) and a byte store.
    if pad == 0 {
        let mut tail = [0u8; 1 + TAG_LEN];
        tail[0] = typ.to_u8();
        buf.extend_from_slice(&tail);
    } else {
        buf.resize(HEADER_ROOM + body, 0);
        buf[HEADER_ROOM + content] = typ.to_u8();
    }

    let [v0, v1] = TLS12_VERSION.to_be_bytes();
    let [l0, l1] = (body as u16).to_be_bytes();
    let header = [ContentType::ApplicationData.to_u8(), v0, v1, l0, l1];
    buf[..HEADER_LEN].copy_from_slice(&header);
    let mut aad = [0u8; 13];
    aad[..HEADER_LEN].copy_from_slice(&header);
    Ok(Prepared {
        nonce: nonce(iv, seq),
        aad,
        aad_len: HEADER_LEN,
        start: HEADER_ROOM,
        end: HEADER_ROOM + inner,
    })
}

/// Checks a TLSCiphertext before decryption (RFC 8446 5.2 type and
/// length, 5.4 inner plaintext limit) and says where the AEAD runs: the
/// nonce for `seq`, the header as AAD, and the encrypted TLSInnerPlaintext
/// at `start..end`, the tag right after it.
#[inline(always)]
pub(super) fn check(iv: &[u8; 12], seq: u64, record: &[u8]) -> Result<Prepared, Error> {
    let (opaque_type, _legacy_version, len) = parse_header(record)?;
    // RFC 8446 5.2: opaque_type is always application_data; the version is
    // ignored apart from its place in the additional data.
    if opaque_type != ContentType::ApplicationData.to_u8() {
        return Err(Error::UnexpectedContentType(opaque_type));
    }
    if len > MAX_CIPHERTEXT_LEN_TLS13 {
        return Err(Error::RecordOverflow {
            len,
            max: MAX_CIPHERTEXT_LEN_TLS13,
        });
    }
    if len < TAG_LEN {
        return Err(Error::Decode("ciphertext shorter than the tag"));
    }
    // RFC 8446 5.4: the full TLSInnerPlaintext (content, type, padding) is
    // at most 2^14 + 1 bytes; 5.2's 2^14 + 256 allows for AEAD expansion,
    // which is exactly the tag here.
    if len - TAG_LEN > MAX_PLAINTEXT_LEN + 1 {
        return Err(Error::RecordOverflow {
            len: len - TAG_LEN,
            max: MAX_PLAINTEXT_LEN + 1,
        });
    }
    let mut aad = [0u8; 13];
    aad[..HEADER_LEN].copy_from_slice(&record[..HEADER_LEN]);
    Ok(Prepared {
        nonce: nonce(iv, seq),
        aad,
        aad_len: HEADER_LEN,
        start: HEADER_LEN,
        end: HEADER_LEN + len - TAG_LEN,
    })
}

/// After the AEAD authenticated and decrypted the TLSInnerPlaintext
/// `text`: its content type and the content's length.
#[inline(always)]
pub(super) fn finish(text: &[u8]) -> Result<(ContentType, usize), Error> {
    // RFC 8446 5.4: the content type is the last non-zero byte; everything
    // after it is padding.
    let Some(type_at) = text.iter().rposition(|&b| b != 0) else {
        return Err(Error::MissingContentType);
    };
    match ContentType::from_u8(text[type_at]) {
        Some(t @ (ContentType::Handshake | ContentType::Alert)) if type_at == 0 => {
            // RFC 8446 5.4: a Handshake or Alert record with no content
            // calls for unexpected_message.
            Err(Error::EmptyContent(t))
        }
        Some(t @ (ContentType::Handshake | ContentType::Alert | ContentType::ApplicationData)) => {
            Ok((t, type_at))
        }
        _ => Err(Error::UnexpectedContentType(text[type_at])),
    }
}

#[cfg(test)]
mod tests {
    use super::nonce;

    #[test]
    fn nonce_is_iv_xor_padded_seq() {
        let iv = [0xffu8; 12];
        assert_eq!(nonce(&iv, 0), iv);
        let n = nonce(&iv, 0x0102_0304_0506_0708);
        assert_eq!(
            n,
            [0xff, 0xff, 0xff, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7]
        );
    }
}
