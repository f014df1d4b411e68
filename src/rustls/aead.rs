//! The AES-GCM record protection rustls asks of a provider, on [`AesGcm`].
//!
//! rustls frames records and owns their sequence numbers; an encrypter gets
//! one plaintext fragment and its sequence number and returns the protected
//! payload, a decrypter gets one protected payload and returns the plaintext
//! range of it. The payload is copied once, from rustls's plaintext chunks
//! into the record buffer rustls sends (the [`PrefixedPayload`], header room
//! in front), and sealed there in place; records are opened in place in
//! rustls's receive buffer.
//!
//! ```text
//!  TLS 1.3 (RFC 8446 5.2, 5.3)
//!    out    = [5 header bytes, rustls's] payload || type | tag(16)
//!    AAD    = 17 03 03 || len(out body)
//!    nonce  = iv XOR (0^32 || seq)
//!
//!  TLS 1.2 AES-GCM (RFC 5246 6.2.3.3, RFC 5288 3; rustls's construction)
//!    iv     = salt(4) || mask(8)           (both from the key block)
//!    nonce  = iv XOR (0^32 || seq)  =  salt || explicit
//!    out    = [5 header bytes] explicit(8) || payload | tag(16)
//!    AAD    = seq(8) || type || version(2) || len(payload)(2)
//! ```

use crate::aead::AesGcm;
use crate::record::{AES_GCM_RECORD_LIMIT, MAX_PLAINTEXT_LEN, TAG_LEN};
use ::rustls::crypto::cipher::{
    make_tls12_aad, make_tls13_aad, AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv,
    KeyBlockShape, MessageDecrypter, MessageEncrypter, Nonce, OutboundOpaqueMessage,
    OutboundPlainMessage, PrefixedPayload, Tls12AeadAlgorithm, Tls13AeadAlgorithm,
    UnsupportedOperationError, NONCE_LEN,
};
use ::rustls::{ConnectionTrafficSecrets, ContentType, Error, ProtocolVersion};

/// Length of the TLS 1.2 GCM explicit nonce (RFC 5288 3).
const EXPLICIT_NONCE_LEN: usize = 8;
/// Length of the TLS 1.2 GCM salt, the implicit part of the nonce.
const SALT_LEN: usize = 4;

/// The AES-GCM key of one direction. `None` when the key could not be
/// built (only an unknown `SEALWIRE_BACKEND` or a key of the wrong length
/// can cause that): every record then fails with a typed error, as rustls's
/// `MessageEncrypter` constructors cannot fail.
fn key(key: &AeadKey) -> Option<AesGcm> {
    AesGcm::new(key.as_ref()).ok()
}

/// The AES-GCM AEAD of a TLS 1.3 suite (key length 16 or 32).
#[derive(Debug)]
pub(crate) struct Tls13Gcm {
    pub(crate) key_len: usize,
}

impl Tls13AeadAlgorithm for Tls13Gcm {
    fn encrypter(&self, key_bytes: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        Box::new(Tls13Encrypter {
            aead: key(&key_bytes),
            iv,
        })
    }

    fn decrypter(&self, key_bytes: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        Box::new(Tls13Decrypter {
            aead: key(&key_bytes),
            iv,
        })
    }

    fn key_len(&self) -> usize {
        self.key_len
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok(match self.key_len {
            16 => ConnectionTrafficSecrets::Aes128Gcm { key, iv },
            32 => ConnectionTrafficSecrets::Aes256Gcm { key, iv },
            _ => return Err(UnsupportedOperationError),
        })
    }
}

struct Tls13Encrypter {
    aead: Option<AesGcm>,
    iv: Iv,
}

impl MessageEncrypter for Tls13Encrypter {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let aead = self.aead.as_ref().ok_or(Error::EncryptError)?;
        // RFC 8446 5.5: never past the AES-GCM usage limit (rustls updates
        // the keys before its confidentiality limit, which is lower).
        if seq >= AES_GCM_RECORD_LIMIT {
            return Err(Error::EncryptError);
        }
        let total = self.encrypted_payload_len(msg.payload.len());
        let mut out = PrefixedPayload::with_capacity(total);
        out.extend_from_chunks(&msg.payload);
        out.extend_from_slice(&msg.typ.to_array());
        let nonce = Nonce::new(&self.iv, seq);
        let tag = aead
            .seal_in_place_detached(&nonce.0, &make_tls13_aad(total), out.as_mut())
            .map_err(|_| Error::EncryptError)?;
        out.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(
            ContentType::ApplicationData,
            ProtocolVersion::TLSv1_2,
            out,
        ))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + 1 + TAG_LEN
    }
}

struct Tls13Decrypter {
    aead: Option<AesGcm>,
    iv: Iv,
}

impl MessageDecrypter for Tls13Decrypter {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let aead = self.aead.as_ref().ok_or(Error::DecryptError)?;
        let len = msg.payload.len();
        let Some(text_len) = len.checked_sub(TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let nonce = Nonce::new(&self.iv, seq);
        let (text, tag) = msg.payload.split_at_mut(text_len);
        // On a bad tag the text is zeroed: nothing unauthenticated stays.
        aead.open_in_place_detached(&nonce.0, &make_tls13_aad(len), text, tag)
            .map_err(|_| Error::DecryptError)?;
        msg.payload.truncate(text_len);
        msg.into_tls13_unpadded_message()
    }
}

/// The AES-GCM AEAD of a TLS 1.2 suite (key length 16 or 32).
#[derive(Debug)]
pub(crate) struct Tls12Gcm {
    pub(crate) key_len: usize,
}

/// rustls's TLS 1.2 GCM IV: the 4-byte salt and the 8 explicit-nonce bytes
/// of the key block (RFC 5288 3 lets the sender choose the explicit part).
fn tls12_iv(salt: &[u8], explicit: &[u8]) -> Option<Iv> {
    if salt.len() != SALT_LEN || explicit.len() != EXPLICIT_NONCE_LEN {
        return None;
    }
    let mut iv = [0u8; NONCE_LEN];
    iv[..SALT_LEN].copy_from_slice(salt);
    iv[SALT_LEN..].copy_from_slice(explicit);
    Some(Iv::from(iv))
}

impl Tls12AeadAlgorithm for Tls12Gcm {
    fn encrypter(&self, key_bytes: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        let iv = tls12_iv(iv, extra);
        Box::new(Tls12Encrypter {
            aead: key(&key_bytes).filter(|_| iv.is_some()),
            iv: iv.unwrap_or_default(),
        })
    }

    fn decrypter(&self, key_bytes: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        let mut salt = [0u8; SALT_LEN];
        let ok = iv.len() == SALT_LEN;
        if ok {
            salt.copy_from_slice(iv);
        }
        Box::new(Tls12Decrypter {
            aead: key(&key_bytes).filter(|_| ok),
            salt,
        })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape {
            enc_key_len: self.key_len,
            fixed_iv_len: SALT_LEN,
            explicit_nonce_len: EXPLICIT_NONCE_LEN,
        }
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: &[u8],
        explicit: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        let iv = tls12_iv(iv, explicit).ok_or(UnsupportedOperationError)?;
        Ok(match self.key_len {
            16 => ConnectionTrafficSecrets::Aes128Gcm { key, iv },
            32 => ConnectionTrafficSecrets::Aes256Gcm { key, iv },
            _ => return Err(UnsupportedOperationError),
        })
    }
}

struct Tls12Encrypter {
    aead: Option<AesGcm>,
    iv: Iv,
}

impl MessageEncrypter for Tls12Encrypter {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let aead = self.aead.as_ref().ok_or(Error::EncryptError)?;
        if seq >= AES_GCM_RECORD_LIMIT {
            return Err(Error::EncryptError);
        }
        let len = msg.payload.len();
        let mut out = PrefixedPayload::with_capacity(self.encrypted_payload_len(len));
        let nonce = Nonce::new(&self.iv, seq);
        out.extend_from_slice(&nonce.0[SALT_LEN..]);
        out.extend_from_chunks(&msg.payload);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, len);
        let tag = aead
            .seal_in_place_detached(&nonce.0, &aad, &mut out.as_mut()[EXPLICIT_NONCE_LEN..])
            .map_err(|_| Error::EncryptError)?;
        out.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, out))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + EXPLICIT_NONCE_LEN + TAG_LEN
    }
}

struct Tls12Decrypter {
    aead: Option<AesGcm>,
    salt: [u8; SALT_LEN],
}

impl MessageDecrypter for Tls12Decrypter {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let aead = self.aead.as_ref().ok_or(Error::DecryptError)?;
        let len = msg.payload.len();
        let Some(text_len) = len.checked_sub(EXPLICIT_NONCE_LEN + TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..SALT_LEN].copy_from_slice(&self.salt);
        nonce[SALT_LEN..].copy_from_slice(&msg.payload[..EXPLICIT_NONCE_LEN]);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, text_len);
        let body = &mut msg.payload[EXPLICIT_NONCE_LEN..];
        let (text, tag) = body.split_at_mut(text_len);
        aead.open_in_place_detached(&nonce, &aad, text, tag)
            .map_err(|_| Error::DecryptError)?;
        // RFC 5246 6.2.3: at most 2^14 bytes of plaintext.
        if text_len > MAX_PLAINTEXT_LEN {
            return Err(Error::PeerSentOversizedRecord);
        }
        Ok(msg.into_plain_message_range(EXPLICIT_NONCE_LEN..EXPLICIT_NONCE_LEN + text_len))
    }
}
