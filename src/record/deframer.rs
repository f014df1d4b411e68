//! Cuts a byte stream into TLS records (RFC 8446 5.1, RFC 5246 6.2).
//!
//! Bytes may arrive in any chunking. The deframer buffers at most one
//! maximum-size record (header plus `max_len` body): [`Deframer::push`] takes
//! only what fits and says how much it took, and a full buffer always holds
//! a complete record (or an error), so the caller can always make progress by
//! taking records out. Headers are checked as soon as their five bytes are
//! in, before waiting for the body. After an error the deframer stays failed.

#![forbid(unsafe_code)]

use super::{ContentType, Error, HEADER_LEN, MAX_CIPHERTEXT_LEN_TLS12, MAX_CIPHERTEXT_LEN_TLS13};
use bytes::{Bytes, BytesMut};
use std::io;

/// One whole record as it came off the wire, header included.
#[derive(Debug)]
pub struct Record {
    typ: ContentType,
    version: u16,
    bytes: BytesMut,
}

impl Record {
    /// The header's content type (for protected TLS 1.3 records always
    /// application_data; the real type is inside).
    pub fn typ(&self) -> ContentType {
        self.typ
    }

    /// The header's legacy_record_version.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The fragment after the header.
    pub fn payload(&self) -> &[u8] {
        &self.bytes[HEADER_LEN..]
    }

    /// The whole record, header included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The whole record, header included, for [`super::Opener::open`].
    pub fn into_bytes(self) -> BytesMut {
        self.bytes
    }

    /// The fragment after the header, without copying (unprotected records).
    pub fn into_payload(self) -> Bytes {
        let mut b = self.bytes;
        b.split_off(HEADER_LEN).freeze()
    }
}

/// Byte stream in, records out.
#[derive(Debug)]
pub struct Deframer {
    buf: BytesMut,
    max_len: usize,
    version: Option<u16>,
    failed: Option<Error>,
}

impl Default for Deframer {
    fn default() -> Self {
        Self::new()
    }
}

impl Deframer {
    /// Accepts records up to the TLS 1.2 ciphertext limit (2^14 + 2048,
    /// RFC 5246 6.2.3) with any 0x03xx record version: what a peer may send
    /// before the version is known.
    pub fn new() -> Deframer {
        Self::with_max_len(MAX_CIPHERTEXT_LEN_TLS12)
    }

    /// Accepts records up to the TLS 1.3 limit, 2^14 + 256 (RFC 8446 5.2).
    pub fn tls13() -> Deframer {
        Self::with_max_len(MAX_CIPHERTEXT_LEN_TLS13)
    }

    /// Accepts record bodies up to `max_len` bytes (at most 2^14 + 2048).
    pub fn with_max_len(max_len: usize) -> Deframer {
        let max_len = max_len.min(MAX_CIPHERTEXT_LEN_TLS12);
        Deframer {
            buf: BytesMut::with_capacity(HEADER_LEN + max_len),
            max_len,
            version: None,
            failed: None,
        }
    }

    /// Lowers (or raises, up to 2^14 + 2048) the record length limit, e.g.
    /// to the TLS 1.3 one once TLS 1.3 is negotiated.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len.min(MAX_CIPHERTEXT_LEN_TLS12);
    }

    /// From now on, require exactly this record version (TLS 1.2 after the
    /// ServerHello, RFC 5246 6.2.1). TLS 1.3 ignores the field (RFC 8446
    /// 5.1), so a TLS 1.3 endpoint does not call this.
    pub fn require_version(&mut self, version: u16) {
        self.version = Some(version);
    }

    /// Bytes buffered and not yet handed out as records.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// How many more bytes [`push`](Deframer::push) would take now.
    pub fn room(&self) -> usize {
        if self.failed.is_some() {
            return 0;
        }
        (HEADER_LEN + self.max_len).saturating_sub(self.buf.len())
    }

    /// Takes as much of `data` as fits and returns how much it took. It takes
    /// nothing only when a complete record (or an error) is waiting in
    /// [`next_record`](Deframer::next_record).
    pub fn push(&mut self, data: &[u8]) -> usize {
        let n = self.room().min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        n
    }

    /// One `read` from `r` into the buffer, up to [`room`](Deframer::room)
    /// bytes; returns what `read` returned (0 at end of stream, or when full).
    pub fn read_from<R: io::Read>(&mut self, r: &mut R) -> io::Result<usize> {
        let room = self.room();
        if room == 0 {
            return Ok(0);
        }
        let old = self.buf.len();
        self.buf.resize(old + room, 0);
        let res = r.read(&mut self.buf[old..]);
        let n = *res.as_ref().unwrap_or(&0);
        self.buf.truncate(old + n);
        res
    }

    /// The next complete record, `None` if more bytes are needed, or the
    /// error the stream ran into (again on every later call).
    pub fn next_record(&mut self) -> Result<Option<Record>, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let (typ, version, len) = match self.check_header() {
            Ok(h) => h,
            Err(e) => {
                self.buf.clear();
                self.failed = Some(e.clone());
                return Err(e);
            }
        };
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let bytes = self.buf.split_to(HEADER_LEN + len);
        Ok(Some(Record {
            typ,
            version,
            bytes,
        }))
    }

    /// RFC 8446 5.1 / 5.2, RFC 5246 6.2.1: known type (unexpected_message),
    /// major version 3 (protocol_version), length within the limit
    /// (record_overflow), and no empty handshake, alert or
    /// change_cipher_spec fragment (decode_error).
    fn check_header(&self) -> Result<(ContentType, u16, usize), Error> {
        let h = &self.buf[..HEADER_LEN];
        let typ = ContentType::from_u8(h[0]).ok_or(Error::UnexpectedContentType(h[0]))?;
        let version = u16::from_be_bytes([h[1], h[2]]);
        match self.version {
            Some(v) if v != version => return Err(Error::BadVersion(version)),
            // RFC 8446 5.1: legacy_record_version is ignored for all
            // purposes (a first ClientHello may carry 0x0300 .. 0x03ff);
            // only a major version other than 3 is not a TLS record at all.
            _ if version >> 8 != 3 => return Err(Error::BadVersion(version)),
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        if len > self.max_len {
            return Err(Error::RecordOverflow {
                len,
                max: self.max_len,
            });
        }
        if len == 0 && typ != ContentType::ApplicationData {
            return Err(Error::Decode(
                "empty handshake, alert or change_cipher_spec record",
            ));
        }
        Ok((typ, version, len))
    }
}
