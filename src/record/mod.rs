//! The TLS record layer: TLS 1.3 (RFC 8446 section 5) and TLS 1.2 AES-GCM
//! (RFC 5246 6.2, RFC 5288) record protection on top of [`crate::aead`].
//!
//! The handshake hands over one [`TrafficKeys`] per direction; a [`Sealer`]
//! turns payloads into protected records and an [`Opener`] turns protected
//! records back into payloads. Both own their sequence number: a nonce can
//! only be made from (iv, seq), and running out of sequence numbers is an
//! error asking for a key update, never a wrap. A sealer also stops at the
//! AES-GCM usage limit (RFC 8446 5.5: [`AES_GCM_RECORD_LIMIT`] records per
//! key); an opener takes what its peer sends up to the sequence limit. A
//! [`Deframer`] cuts an incoming byte stream into records.
//!
//! ```text
//!  TLS 1.3 (RFC 8446 5.2, 5.3)
//!    record = 17 03 03 | len(2) | AEAD(payload || type || 0*pad) | tag(16)
//!    AAD    = the 5-byte header
//!    nonce  = iv XOR (0^32 || seq)
//!
//!  TLS 1.2 AES-GCM (RFC 5246 6.2.3.3, RFC 5288 3)
//!    record = type | 03 03 | len(2) | seq(8) | AEAD(payload) | tag(16)
//!    AAD    = seq(8) || type || 03 03 || payload len(2)
//!    nonce  = salt(4) || seq(8) (XOR an optional mask, TrafficKeys::with_explicit_nonce_mask)
//! ```
//!
//! Records are sealed in place in a [`BytesMut`] the caller reuses: the
//! payload is written after [`Sealer::header_room`] bytes, and the header,
//! inner content type, padding and tag are filled in around it. Opening works
//! in place too and hands back the plaintext as a slice or a [`Bytes`] that
//! shares the record's memory.
//!
//! # Example
//!
//! The README shows a TLS 1.3 connection with a [`Deframer`] and
//! [`Opener::open`] (plaintext as [`Bytes`]). A TLS 1.2 direction, opened in
//! place as a slice:
//!
//! ```
//! use bytes::BytesMut;
//! use sealwire::record::{CipherSuite, ContentType, Opener, Sealer, TrafficKeys};
//!
//! // RFC 5246 6.3: a 16-byte write key and a 4-byte salt per direction.
//! let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
//! let keys = TrafficKeys::new(suite, &[7; 16], &[1, 2, 3, 4])?;
//! let mut sealer = Sealer::new(keys.clone())?;
//! let mut opener = Opener::new(keys)?;
//!
//! let mut record = BytesMut::new();
//! sealer.seal_payload(ContentType::Handshake, b"\x14\x00\x00\x0c finished...", &mut record)?;
//! // type, version, length, then the explicit nonce: the sequence number.
//! assert_eq!(&record[..3], &[22, 3, 3]);
//! assert_eq!(&record[5..13], &0u64.to_be_bytes());
//!
//! let (typ, plaintext) = opener.open_in_place(&mut record)?;
//! assert_eq!((typ, &plaintext[..4]), (ContentType::Handshake, &b"\x14\x00\x00\x0c"[..]));
//! // A replayed record is out of sequence: it fails to authenticate.
//! sealer.seal_payload(ContentType::ApplicationData, b"ping", &mut record)?;
//! let copy = record.clone();
//! opener.open_in_place(&mut record)?;
//! let mut replay = copy.to_vec();
//! assert!(opener.open_in_place(&mut replay).is_err());
//! # Ok::<(), sealwire::record::Error>(())
//! ```

#![forbid(unsafe_code)]

mod alert;
pub mod batch;
mod deframer;
mod tls12;
mod tls13;

#[cfg(test)]
mod tests;

pub use crate::wire::{CipherSuite, HashAlg as HashAlgorithm, ProtocolVersion as TlsVersion};
pub use alert::{AlertDescription, AlertLevel};
pub use deframer::{Deframer, Record};

use crate::aead::{self, AesGcm, Backend};
use bytes::{Buf, Bytes, BytesMut};
use core::fmt;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// Length of a record header: type(1) || legacy_record_version(2) || length(2).
pub const HEADER_LEN: usize = 5;
/// Largest plaintext fragment, 2^14 bytes (RFC 8446 5.1, RFC 5246 6.2.1).
pub const MAX_PLAINTEXT_LEN: usize = 1 << 14;
/// Largest TLS 1.3 TLSCiphertext body, 2^14 + 256 bytes (RFC 8446 5.2).
pub const MAX_CIPHERTEXT_LEN_TLS13: usize = (1 << 14) + 256;
/// Largest TLS 1.2 TLSCiphertext body, 2^14 + 2048 bytes (RFC 5246 6.2.3).
pub const MAX_CIPHERTEXT_LEN_TLS12: usize = (1 << 14) + 2048;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// The legacy_record_version TLS 1.2 and TLS 1.3 records carry (RFC 8446 5.1).
pub const TLS12_VERSION: u16 = 0x0303;

/// Alignment of the payload in a record buffer prepared by [`Sealer::start`].
const PAYLOAD_ALIGN: usize = 64;

/// Records one AES-GCM key may protect: 2^24.5 rounded down (RFC 8446 5.5,
/// which keeps the confidentiality margin near 2^-57 for full-size records).
pub const AES_GCM_RECORD_LIMIT: u64 = 23_726_566;

/// `ContentType` of RFC 8446 5.1 / RFC 5246 6.2.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// `change_cipher_spec(20)`.
    ChangeCipherSpec,
    /// `alert(21)`.
    Alert,
    /// `handshake(22)`.
    Handshake,
    /// `application_data(23)`.
    ApplicationData,
}

impl ContentType {
    /// The wire byte.
    pub fn to_u8(self) -> u8 {
        match self {
            ContentType::ChangeCipherSpec => 20,
            ContentType::Alert => 21,
            ContentType::Handshake => 22,
            ContentType::ApplicationData => 23,
        }
    }

    /// The content type with this wire byte, if known.
    pub fn from_u8(v: u8) -> Option<ContentType> {
        match v {
            20 => Some(ContentType::ChangeCipherSpec),
            21 => Some(ContentType::Alert),
            22 => Some(ContentType::Handshake),
            23 => Some(ContentType::ApplicationData),
            _ => None,
        }
    }
}

/// The key and IV of one direction, as the handshake derives them
/// (RFC 8446 7.3 `[sender]_write_key/iv`; RFC 5246 6.3 `*_write_key` and
/// `*_write_IV`, the 4-byte GCM salt).
///
/// Zeroized on drop; `Debug` shows the suite only.
///
/// `Clone` is there to hand the same keys to a sealer of one side and the
/// opener of the other (tests, loopback). Two *sealers* made from one
/// `TrafficKeys` would each start at sequence number 0 and so reuse nonces:
/// make exactly one sealer per direction.
#[derive(Clone)]
pub struct TrafficKeys {
    suite: CipherSuite,
    key: [u8; 32],
    iv: [u8; 12],
}

impl TrafficKeys {
    /// Checks the lengths against the suite (`key_len()`, `iv_len()`).
    pub fn new(suite: CipherSuite, key: &[u8], iv: &[u8]) -> Result<TrafficKeys, Error> {
        if key.len() != suite.key_len() || iv.len() != suite.iv_len() {
            return Err(Error::KeyMaterial {
                suite,
                key_len: key.len(),
                iv_len: iv.len(),
            });
        }
        let mut k = TrafficKeys {
            suite,
            key: [0; 32],
            iv: [0; 12],
        };
        k.key[..key.len()].copy_from_slice(key);
        k.iv[..iv.len()].copy_from_slice(iv);
        Ok(k)
    }

    /// A TLS 1.2 direction whose explicit nonces are the sequence number
    /// XOR `mask` instead of the sequence number itself (RFC 5288 3 leaves
    /// the explicit part to the sender; it must only be unique per key).
    /// This is how rustls builds them (its 12-byte IV is salt || mask), so
    /// a sealer that takes over a rustls direction mid-connection keeps
    /// every nonce unique. [`Error::Misuse`] for a TLS 1.3 suite.
    pub fn with_explicit_nonce_mask(mut self, mask: [u8; 8]) -> Result<TrafficKeys, Error> {
        if self.suite.version() != TlsVersion::Tls12 {
            return Err(Error::Misuse("explicit nonces exist only in TLS 1.2"));
        }
        self.iv[4..].copy_from_slice(&mask);
        Ok(self)
    }

    /// The cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The AES key (`suite().key_len()` bytes).
    pub fn key(&self) -> &[u8] {
        &self.key[..self.suite.key_len()]
    }

    /// The IV (TLS 1.3, 12 bytes) or salt (TLS 1.2, 4 bytes).
    pub fn iv(&self) -> &[u8] {
        &self.iv[..self.suite.iv_len()]
    }
}

impl Drop for TrafficKeys {
    fn drop(&mut self) {
        self.key.zeroize();
        self.iv.zeroize();
    }
}

impl fmt::Debug for TrafficKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrafficKeys")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

/// Record-layer errors. Each maps to the alert it calls for ([`Error::alert`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A record type this layer does not know, or one not allowed where it
    /// appeared (RFC 8446 5: unexpected_message).
    UnexpectedContentType(u8),
    /// A TLS 1.3 inner plaintext with no non-zero content type byte
    /// (RFC 8446 5.4: unexpected_message).
    MissingContentType,
    /// A protected Handshake or Alert record with no content (RFC 8446 5.4:
    /// unexpected_message; RFC 5246 6.2.1 forbids sending one too).
    EmptyContent(ContentType),
    /// A record version that is not TLS 1.x, or not the negotiated one.
    BadVersion(u16),
    /// A record or plaintext longer than its limit (record_overflow).
    RecordOverflow {
        /// The offending length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A malformed record: too short, inconsistent length, or an empty
    /// fragment of a type that must not be empty (decode_error).
    Decode(&'static str),
    /// The record did not authenticate (RFC 8446 5.2: bad_record_mac).
    BadRecordMac,
    /// The 64-bit sequence number is used up; it never wraps.
    SeqExhausted,
    /// The key has protected [`AES_GCM_RECORD_LIMIT`] records (RFC 8446 5.5):
    /// update the keys (TLS 1.3 KeyUpdate) or close the connection.
    KeyUsageLimit,
    /// A payload longer than 2^14 bytes (with padding) was given to seal.
    PayloadTooLong {
        /// Payload plus padding.
        len: usize,
        /// 2^14.
        max: usize,
    },
    /// The key or IV length does not match the cipher suite.
    KeyMaterial {
        /// The suite.
        suite: CipherSuite,
        /// The key length given.
        key_len: usize,
        /// The IV length given.
        iv_len: usize,
    },
    /// The API was used wrongly (e.g. re-keying a TLS 1.2 sealer, or a
    /// buffer without header room).
    Misuse(&'static str),
    /// The AES-GCM engine refused (e.g. an unavailable backend).
    Aead(aead::Error),
}

impl Error {
    /// The alert this error calls for (RFC 8446 6.2).
    pub fn alert(&self) -> AlertDescription {
        match self {
            Error::UnexpectedContentType(_)
            | Error::MissingContentType
            | Error::EmptyContent(_) => AlertDescription::UnexpectedMessage,
            Error::BadVersion(_) => AlertDescription::ProtocolVersion,
            Error::RecordOverflow { .. } => AlertDescription::RecordOverflow,
            Error::Decode(_) => AlertDescription::DecodeError,
            Error::BadRecordMac => AlertDescription::BadRecordMac,
            Error::SeqExhausted
            | Error::KeyUsageLimit
            | Error::PayloadTooLong { .. }
            | Error::KeyMaterial { .. }
            | Error::Misuse(_)
            | Error::Aead(_) => AlertDescription::InternalError,
        }
    }

    /// True when this direction's keys are used up: in TLS 1.3 new traffic
    /// keys (a KeyUpdate) let the connection go on, in TLS 1.2 (which has no
    /// key update) only a new connection does.
    pub fn needs_key_update(&self) -> bool {
        matches!(self, Error::SeqExhausted | Error::KeyUsageLimit)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnexpectedContentType(t) => write!(f, "unexpected record content type {t}"),
            Error::MissingContentType => write!(f, "inner plaintext has no content type"),
            Error::EmptyContent(t) => write!(f, "{t:?} record with no content"),
            Error::BadVersion(v) => write!(f, "bad record version {v:#06x}"),
            Error::RecordOverflow { len, max } => {
                write!(f, "record length {len} exceeds the limit of {max}")
            }
            Error::Decode(what) => write!(f, "malformed record: {what}"),
            Error::BadRecordMac => write!(f, "record failed to authenticate"),
            Error::SeqExhausted => write!(f, "sequence numbers exhausted: key update required"),
            Error::KeyUsageLimit => {
                write!(f, "AES-GCM usage limit reached: key update required")
            }
            Error::PayloadTooLong { len, max } => {
                write!(
                    f,
                    "payload of {len} bytes exceeds the record limit of {max}"
                )
            }
            Error::KeyMaterial {
                suite,
                key_len,
                iv_len,
            } => write!(
                f,
                "{suite} needs a {}-byte key and {}-byte IV, got {key_len} and {iv_len}",
                suite.key_len(),
                suite.iv_len()
            ),
            Error::Misuse(what) => write!(f, "record layer misuse: {what}"),
            Error::Aead(e) => write!(f, "AEAD: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<aead::Error> for Error {
    fn from(e: aead::Error) -> Error {
        Error::Aead(e)
    }
}

/// Where a record's AEAD input sits once framing is done: the nonce and AAD
/// are derived from (iv, seq) only, and `buf[start..end]` is the text to
/// encrypt, followed by `TAG_LEN` bytes of tag room.
pub(crate) struct Prepared {
    pub(crate) nonce: [u8; 12],
    aad: [u8; 13],
    aad_len: usize,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Prepared {
    pub(crate) fn aad(&self) -> &[u8] {
        &self.aad[..self.aad_len]
    }
}

/// The per-direction state shared by sealer and opener: AEAD key, IV (or
/// TLS 1.2 salt), suite and the sequence number of the next record.
struct Direction {
    aead: AesGcm,
    suite: CipherSuite,
    iv: [u8; 12],
    seq: u64,
}

impl Direction {
    fn new(keys: &TrafficKeys, backend: Option<Backend>, seq: u64) -> Result<Direction, Error> {
        let aead = match backend {
            Some(b) => AesGcm::with_backend(keys.key(), b)?,
            None => AesGcm::new(keys.key())?,
        };
        Ok(Direction {
            aead,
            suite: keys.suite,
            iv: keys.iv,
            seq,
        })
    }

    /// Installs the next traffic keys (RFC 8446 4.6.3): same suite, TLS 1.3
    /// only, sequence number back to zero (RFC 8446 5.3). The key must
    /// change: the same key with the sequence number restarted would repeat
    /// nonces (with the same IV exactly, with another IV wherever the two
    /// IVs differ by the XOR of two sequence numbers).
    fn update(&mut self, next: &TrafficKeys) -> Result<(), Error> {
        if self.suite.version() != TlsVersion::Tls13 {
            return Err(Error::Misuse("key update exists only in TLS 1.3"));
        }
        if next.suite != self.suite {
            return Err(Error::Misuse("key update must keep the cipher suite"));
        }
        let aead = AesGcm::with_backend(next.key(), self.aead.backend())?;
        let (new, old) = (key_check(&aead)?, key_check(&self.aead)?);
        if bool::from(new.ct_eq(&*old)) {
            return Err(Error::Misuse("key update must change the key"));
        }
        self.aead = aead;
        self.iv = next.iv;
        self.seq = 0;
        Ok(())
    }
}

/// A check value of an AES-GCM key: the tag of the empty message under the
/// zero nonce, E(K, 0^96 || 1) (SP 800-38D 7.1: with no AAD and no text the
/// GHASH is zero). Two keys give the same value only if they are the same
/// key, except with probability 2^-128; the value does not reveal the key,
/// but it is the tag mask of the zero nonce, so it is wiped after use.
fn key_check(aead: &AesGcm) -> Result<Zeroizing<[u8; 16]>, Error> {
    Ok(Zeroizing::new(aead.seal_in_place_detached(
        &[0; 12],
        &[],
        &mut [],
    )?))
}

impl Drop for Direction {
    fn drop(&mut self) {
        self.iv.zeroize();
    }
}

/// Seals outgoing records of one direction.
pub struct Sealer {
    dir: Direction,
}

/// What a [`Sealer`] and an [`Opener`] share: construction from traffic
/// keys, `Debug` (never the keys), and the accessors of their [`Direction`].
macro_rules! direction_api {
    ($ty:ident, $what:literal, $seq_doc:literal) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("suite", &self.dir.suite)
                    .field("backend", &self.dir.aead.backend())
                    .field("seq", &self.dir.seq)
                    .finish_non_exhaustive()
            }
        }

        impl $ty {
            #[doc = concat!("A ", $what, " on the best AES-GCM backend (see [`AesGcm::new`]).")]
            pub fn new(keys: TrafficKeys) -> Result<$ty, Error> {
                Ok($ty {
                    dir: Direction::new(&keys, None, 0)?,
                })
            }

            #[doc = concat!("A ", $what, " on the given backend.")]
            pub fn with_backend(keys: TrafficKeys, backend: Backend) -> Result<$ty, Error> {
                Ok($ty {
                    dir: Direction::new(&keys, Some(backend), 0)?,
                })
            }

            #[doc = concat!("A ", $what, " on the best backend whose next record has sequence")]
            /// number `seq`: a direction another TLS stack started (e.g. keys
            /// taken from a rustls connection after its handshake).
            pub fn with_seq(keys: TrafficKeys, seq: u64) -> Result<$ty, Error> {
                Ok($ty {
                    dir: Direction::new(&keys, None, seq)?,
                })
            }

            #[doc = concat!("A ", $what, " whose next record has sequence number `seq` (tests")]
            /// of the limits, and known-answer records sent after others).
            #[cfg(test)]
            pub(crate) fn at_seq(
                keys: TrafficKeys,
                backend: Backend,
                seq: u64,
            ) -> Result<$ty, Error> {
                Ok($ty {
                    dir: Direction::new(&keys, Some(backend), seq)?,
                })
            }

            /// The cipher suite.
            pub fn suite(&self) -> CipherSuite {
                self.dir.suite
            }

            /// The AES-GCM backend in use.
            pub fn backend(&self) -> Backend {
                self.dir.aead.backend()
            }

            #[doc = $seq_doc]
            pub fn seq(&self) -> u64 {
                self.dir.seq
            }
        }
    };
}

direction_api!(
    Sealer,
    "sealer",
    "The sequence number the next record will get."
);
direction_api!(
    Opener,
    "opener",
    "The sequence number the next record must have been sealed with."
);

impl Sealer {
    /// Records this key may still seal before a key update is required.
    pub fn records_left(&self) -> u64 {
        AES_GCM_RECORD_LIMIT.saturating_sub(self.dir.seq)
    }

    /// Bytes in front of the payload that [`Sealer::seal`] fills: the header,
    /// plus the explicit nonce in TLS 1.2.
    pub fn header_room(&self) -> usize {
        match self.dir.suite.version() {
            TlsVersion::Tls13 => tls13::HEADER_ROOM,
            TlsVersion::Tls12 => tls12::HEADER_ROOM,
        }
    }

    /// Bytes a record adds to a payload of any length with `pad` bytes of
    /// padding (header, explicit nonce or inner type and padding, tag).
    pub fn overhead(&self, pad: usize) -> usize {
        match self.dir.suite.version() {
            TlsVersion::Tls13 => (tls13::HEADER_ROOM + 1 + TAG_LEN).saturating_add(pad),
            TlsVersion::Tls12 => tls12::HEADER_ROOM + TAG_LEN,
        }
    }

    /// Empties `buf`, makes room for a full-size record, and leaves
    /// [`header_room`](Sealer::header_room) bytes in front: append the
    /// payload, then call [`seal`](Sealer::seal).
    ///
    /// The record is placed so that the payload starts on a 64-byte
    /// boundary: the AES-GCM kernels then never split a load or store across
    /// cache lines.
    pub fn start(&self, buf: &mut BytesMut) {
        self.start_with_capacity(buf, MAX_PLAINTEXT_LEN);
    }

    /// As [`start`](Sealer::start), with room for a payload of `payload_len`
    /// bytes (at most 2^14) instead of a full-size one; a longer payload
    /// still fits, `buf` then grows (and the payload may lose its
    /// alignment).
    ///
    /// For many buffers of short records, such as one message sealed for
    /// many connections: buffers sized to the record sit next to each
    /// other in memory, where full-size ones put every record on pages of
    /// its own. Measured on Zen 3 (AMD EPYC, family 25 model 1), 1000
    /// connections, one 1 KiB record each through
    /// [`seal_records`](batch::seal_records): 12% less time than with
    /// [`start`](Sealer::start).
    pub fn start_with_capacity(&self, buf: &mut BytesMut, payload_len: usize) {
        buf.clear();
        let room = self.header_room();
        let need = self.overhead(0) + payload_len.min(MAX_PLAINTEXT_LEN);
        // Bytes to skip so that the payload starts on a PAYLOAD_ALIGN
        // boundary.
        let skip = |b: &BytesMut| (b.as_ptr() as usize + room).wrapping_neg() % PAYLOAD_ALIGN;
        // A buffer used for a record before is already aligned and large
        // enough: it keeps its place. Reserving the alignment slack every
        // time made `reserve` move the start back to the allocation's
        // (its slow path) on every record, only to skip forward again.
        if skip(buf) != 0 || buf.capacity() < need {
            buf.reserve(PAYLOAD_ALIGN + need);
        }
        let skip = skip(buf);
        if skip == 0 {
            // The header room alone, as fixed-size copies: `resize` is a
            // memset call and `advance` a call of its own.
            match self.dir.suite.version() {
                TlsVersion::Tls13 => buf.extend_from_slice(&[0; tls13::HEADER_ROOM]),
                TlsVersion::Tls12 => buf.extend_from_slice(&[0; tls12::HEADER_ROOM]),
            }
        } else {
            buf.resize(skip + room, 0);
            buf.advance(skip);
        }
    }

    /// Seals the payload `buf[header_room()..]` in place into one record
    /// of type `typ`: `buf` then holds the whole record, header to tag.
    pub fn seal(&mut self, typ: ContentType, buf: &mut BytesMut) -> Result<(), Error> {
        self.seal_padded(typ, buf, 0)
    }

    /// As [`seal`](Sealer::seal), with `pad` zero bytes of TLS 1.3 padding
    /// (RFC 8446 5.4); payload plus padding at most 2^14. TLS 1.2 has no
    /// padding: `pad` must be 0 there.
    pub fn seal_padded(
        &mut self,
        typ: ContentType,
        buf: &mut BytesMut,
        pad: usize,
    ) -> Result<(), Error> {
        let p = self.prepare(typ, buf, pad)?;
        let tag =
            self.dir
                .aead
                .seal_in_place_detached(&p.nonce, p.aad(), &mut buf[p.start..p.end])?;
        buf[p.end..p.end + TAG_LEN].copy_from_slice(&tag);
        Ok(())
    }

    /// Copies `payload` into `buf` (after [`start`](Sealer::start)) and seals it.
    pub fn seal_payload(
        &mut self,
        typ: ContentType,
        payload: &[u8],
        buf: &mut BytesMut,
    ) -> Result<(), Error> {
        self.start(buf);
        buf.extend_from_slice(payload);
        self.seal(typ, buf)
    }

    /// Installs the next traffic keys after a KeyUpdate (RFC 8446 4.6.3);
    /// the sequence number restarts at zero. TLS 1.3 only, same suite, and
    /// a key other than the current one ([`Error::Misuse`] otherwise: the
    /// current key with the sequence restarted would repeat nonces). Only
    /// the current key is compared: keys must not come back later either,
    /// which keys derived as RFC 8446 7.2 says never do.
    pub fn update_keys(&mut self, next: TrafficKeys) -> Result<(), Error> {
        self.dir.update(&next)
    }

    /// Asks for the cache lines [`prepare`](Sealer::prepare) reads.
    pub(crate) fn prefetch(&self) {
        crate::cpu::prefetch_val(&self.dir.seq);
        crate::cpu::prefetch_val(&self.dir.iv);
        crate::cpu::prefetch_val(&self.dir.suite);
    }

    /// Frames the record around the payload, takes the sequence number and
    /// returns where the AEAD must run. The tag room is zeros until sealed.
    #[inline(always)]
    pub(crate) fn prepare(
        &mut self,
        typ: ContentType,
        buf: &mut BytesMut,
        pad: usize,
    ) -> Result<Prepared, Error> {
        let seq = self.dir.seq;
        // The usage limit below stops a sealer long before this; kept so
        // that the no-wrap rule does not rest on that constant alone.
        if seq == u64::MAX {
            return Err(Error::SeqExhausted);
        }
        if seq >= AES_GCM_RECORD_LIMIT {
            return Err(Error::KeyUsageLimit);
        }
        if typ != ContentType::ApplicationData && buf.len() == self.header_room() {
            // RFC 8446 5.4, RFC 5246 6.2.1: no empty Handshake or Alert
            // records (nor ChangeCipherSpec, which is never protected).
            return Err(Error::Misuse(
                "handshake and alert records must not be empty",
            ));
        }
        let p = match self.dir.suite.version() {
            TlsVersion::Tls13 => tls13::frame(&self.dir.iv, seq, typ, buf, pad)?,
            TlsVersion::Tls12 => {
                if pad != 0 {
                    return Err(Error::Misuse("TLS 1.2 records have no padding"));
                }
                tls12::frame(&self.dir.iv, seq, typ, buf)?
            }
        };
        self.dir.seq = seq + 1;
        Ok(p)
    }

    /// The AEAD key (for the batch path).
    pub(crate) fn aead(&self) -> &AesGcm {
        &self.dir.aead
    }
}

/// Opens incoming records of one direction.
pub struct Opener {
    dir: Direction,
}

impl Opener {
    /// Opens one whole record (header included) in place and returns its
    /// content type and plaintext, a sub-slice of `record`. On any error the
    /// sequence number does not move and no unauthenticated plaintext is
    /// left: a failed tag check zeroes the decrypted text. (A TLS 1.3 record
    /// that authenticates but has a bad inner content type, e.g. none or an
    /// empty Handshake, leaves its authentic plaintext in `record`.)
    pub fn open_in_place<'a>(
        &mut self,
        record: &'a mut [u8],
    ) -> Result<(ContentType, &'a mut [u8]), Error> {
        let (typ, start, len) = self.open_range(record)?;
        Ok((typ, &mut record[start..start + len]))
    }

    /// Opens one whole record (e.g. [`Record::into_bytes`]) in place; the
    /// plaintext shares `record`'s memory.
    pub fn open(&mut self, mut record: BytesMut) -> Result<(ContentType, Bytes), Error> {
        let (typ, start, len) = self.open_range(&mut record)?;
        record.advance(start);
        record.truncate(len);
        Ok((typ, record.freeze()))
    }

    /// Installs the next traffic keys after a KeyUpdate (RFC 8446 4.6.3);
    /// the sequence number restarts at zero. TLS 1.3 only, same suite, and
    /// a key other than the current one ([`Error::Misuse`] otherwise: the
    /// current key with the sequence restarted would repeat nonces). Only
    /// the current key is compared: keys must not come back later either,
    /// which keys derived as RFC 8446 7.2 says never do.
    pub fn update_keys(&mut self, next: TrafficKeys) -> Result<(), Error> {
        self.dir.update(&next)
    }

    fn open_range(&mut self, record: &mut [u8]) -> Result<(ContentType, usize, usize), Error> {
        let p = self.check(record)?;
        self.open_checked(record, &p)
    }

    /// Opens a record that passed [`check`](Opener::check) as `p`.
    #[inline(always)]
    pub(crate) fn open_checked(
        &mut self,
        record: &mut [u8],
        p: &Prepared,
    ) -> Result<(ContentType, usize, usize), Error> {
        let (text, tag) = record[p.start..].split_at_mut(p.end - p.start);
        self.dir
            .aead
            .open_in_place_detached(&p.nonce, p.aad(), text, tag)
            .map_err(|_| Error::BadRecordMac)?;
        self.finish(record, p)
    }

    /// Checks a whole record before decryption and says where the AEAD
    /// runs (nonce, AAD, the encrypted text at `start..end` with the tag
    /// after it). Changes nothing.
    #[inline(always)]
    pub(crate) fn check(&self, record: &[u8]) -> Result<Prepared, Error> {
        let seq = self.dir.seq;
        if seq == u64::MAX {
            return Err(Error::SeqExhausted);
        }
        match self.dir.suite.version() {
            TlsVersion::Tls13 => tls13::check(&self.dir.iv, seq, record),
            TlsVersion::Tls12 => tls12::check(&self.dir.iv, seq, record),
        }
    }

    /// After the AEAD authenticated `record[p.start..p.end]` (checked by
    /// [`check`](Opener::check)): the content type and the content's
    /// (start, length); takes the sequence number only on success.
    #[inline(always)]
    pub(crate) fn finish(
        &mut self,
        record: &[u8],
        p: &Prepared,
    ) -> Result<(ContentType, usize, usize), Error> {
        let r = match self.dir.suite.version() {
            TlsVersion::Tls13 => {
                let (t, len) = tls13::finish(&record[p.start..p.end])?;
                (t, p.start, len)
            }
            TlsVersion::Tls12 => (tls12::finish(record)?, p.start, p.end - p.start),
        };
        self.dir.seq += 1;
        Ok(r)
    }

    /// The AEAD key (for the batch path).
    pub(crate) fn aead(&self) -> &AesGcm {
        &self.dir.aead
    }
}

/// Appends `payload` to `out` as unprotected TLSPlaintext records (RFC 8446
/// 5.1, RFC 5246 6.2.1) of type `typ` with the given legacy_record_version
/// (0x0303, or 0x0301 for an initial ClientHello), fragmented at 2^14 bytes.
/// An empty payload gives no record (zero-length handshake or alert
/// fragments must not be sent; an empty application_data record has no use
/// unprotected).
pub fn frame_plaintext(typ: ContentType, version: u16, payload: &[u8], out: &mut BytesMut) {
    for fragment in payload.chunks(MAX_PLAINTEXT_LEN) {
        out.reserve(HEADER_LEN + fragment.len());
        out.extend_from_slice(&[typ.to_u8()]);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
        out.extend_from_slice(fragment);
    }
}

/// Reads the header fields of a record: (type byte, version, length).
fn parse_header(record: &[u8]) -> Result<(u8, u16, usize), Error> {
    if record.len() < HEADER_LEN {
        return Err(Error::Decode("record shorter than its header"));
    }
    let version = u16::from_be_bytes([record[1], record[2]]);
    let len = usize::from(u16::from_be_bytes([record[3], record[4]]));
    if len != record.len() - HEADER_LEN {
        return Err(Error::Decode(
            "record length field disagrees with the record",
        ));
    }
    Ok((record[0], version, len))
}
