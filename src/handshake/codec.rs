//! The TLS presentation language on the wire (RFC 8446 section 3, RFC 5246
//! section 4): big-endian integers and vectors with a 1-, 2- or 3-byte length
//! prefix.
//!
//! [`Reader`] never panics on short or malformed input: every read returns a
//! [`DecodeError`], which the handshake turns into a `decode_error` alert
//! (RFC 8446 section 6.2). [`Writer`] back-patches length prefixes so a
//! message is written in one pass.

#![forbid(unsafe_code)]

use std::fmt;

/// Why bytes could not be decoded. Every variant maps to the `decode_error`
/// alert, except where a caller decides a syntactically valid but forbidden
/// value is an `illegal_parameter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the field named here.
    Truncated(&'static str),
    /// Bytes were left over after the structure named here.
    TrailingData(&'static str),
    /// A vector's length is not allowed (e.g. not a multiple of its element
    /// size, or outside the `<min..max>` bounds of the definition).
    BadLength(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated(what) => write!(f, "truncated {what}"),
            DecodeError::TrailingData(what) => write!(f, "trailing bytes after {what}"),
            DecodeError::BadLength(what) => write!(f, "bad length of {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over received bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads from the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Number of bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Fails unless everything was read: structures never carry trailing bytes.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingData(what))
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated(what));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// A fixed-size array, e.g. `Random` (`opaque[32]`).
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// `uint8`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    /// `uint16`, big-endian.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// `uint24`, big-endian.
    pub fn u24(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(3, what)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// `uint32`, big-endian.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// `opaque x<0..2^8-1>`: the contents of a vector with a 1-byte length.
    pub fn vec8(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u8(what)? as usize;
        self.take(n, what)
    }

    /// `opaque x<0..2^16-1>`: the contents of a vector with a 2-byte length.
    pub fn vec16(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u16(what)? as usize;
        self.take(n, what)
    }

    /// `opaque x<0..2^24-1>`: the contents of a vector with a 3-byte length.
    pub fn vec24(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u24(what)? as usize;
        self.take(n, what)
    }

    /// A vector of `uint16` values with a 2-byte length prefix (e.g.
    /// `CipherSuite cipher_suites<2..2^16-2>`), at least `min` items long.
    pub fn u16_list16(&mut self, min: usize, what: &'static str) -> Result<Vec<u16>, DecodeError> {
        let body = self.vec16(what)?;
        u16_items(body, min, what)
    }

    /// A vector of `uint16` values with a 1-byte length prefix (e.g.
    /// `ProtocolVersion versions<2..254>` in ClientHello.supported_versions).
    pub fn u16_list8(&mut self, min: usize, what: &'static str) -> Result<Vec<u16>, DecodeError> {
        let body = self.vec8(what)?;
        u16_items(body, min, what)
    }
}

fn u16_items(body: &[u8], min: usize, what: &'static str) -> Result<Vec<u16>, DecodeError> {
    if !body.len().is_multiple_of(2) || body.len() / 2 < min {
        return Err(DecodeError::BadLength(what));
    }
    Ok(body
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

/// Builds bytes to send. Vectors are written with [`Writer::vec8`] and
/// friends, which fill in the length prefix once the body is written.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer { buf: Vec::new() }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Borrow the bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// `uint8`.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// `uint16`.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// `uint24`; only the low 24 bits of `v` are written (callers bound the
    /// value through [`Writer::vec24`], which checks).
    pub fn u24(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes()[1..]);
        self
    }

    /// `uint32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Raw bytes (fixed-size fields).
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// A vector with a 1-byte length prefix whose body `f` writes.
    ///
    /// # Panics
    /// Never for bodies the handshake builds; a body longer than the prefix
    /// can express is a programming error and is caught by a debug assertion,
    /// while release builds saturate the length (the peer then rejects it).
    pub fn vec8(&mut self, f: impl FnOnce(&mut Writer)) -> &mut Self {
        self.vec_n(1, f)
    }

    /// A vector with a 2-byte length prefix whose body `f` writes.
    pub fn vec16(&mut self, f: impl FnOnce(&mut Writer)) -> &mut Self {
        self.vec_n(2, f)
    }

    /// A vector with a 3-byte length prefix whose body `f` writes.
    pub fn vec24(&mut self, f: impl FnOnce(&mut Writer)) -> &mut Self {
        self.vec_n(3, f)
    }

    fn vec_n(&mut self, n: usize, f: impl FnOnce(&mut Writer)) -> &mut Self {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0u8; 3][..n]);
        let mut body = Writer {
            buf: std::mem::take(&mut self.buf),
        };
        f(&mut body);
        self.buf = body.buf;
        let len = self.buf.len() - at - n;
        let max = (1usize << (8 * n)) - 1;
        debug_assert!(len <= max, "vector body of {len} bytes exceeds its prefix");
        let len = len.min(max) as u32;
        self.buf[at..at + n].copy_from_slice(&len.to_be_bytes()[4 - n..]);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_vectors() {
        let mut w = Writer::new();
        w.u8(7).u16(0x0304).u24(0x010203).u32(0xdeadbeef);
        w.vec8(|w| {
            w.bytes(b"abc");
        });
        w.vec16(|w| {
            w.u16(1).u16(2);
        });
        w.vec24(|w| {
            w.vec8(|w| {
                w.bytes(b"x");
            });
        });
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert_eq!(r.u16("b").unwrap(), 0x0304);
        assert_eq!(r.u24("c").unwrap(), 0x010203);
        assert_eq!(r.u32("d").unwrap(), 0xdeadbeef);
        assert_eq!(r.vec8("e").unwrap(), b"abc");
        assert_eq!(r.u16_list16(1, "f").unwrap(), vec![1, 2]);
        let inner = r.vec24("g").unwrap();
        assert_eq!(inner, &[1, b'x']);
        r.finish("all").unwrap();
    }

    #[test]
    fn every_truncation_is_an_error() {
        let mut w = Writer::new();
        w.u16(5).vec16(|w| {
            w.bytes(&[1, 2, 3, 4]);
        });
        let bytes = w.into_bytes();
        for cut in 0..bytes.len() {
            let mut r = Reader::new(&bytes[..cut]);
            let res = r.u16("x").and_then(|_| r.vec16("y").map(|_| ()));
            assert!(matches!(res, Err(DecodeError::Truncated(_))), "cut {cut}");
        }
    }

    #[test]
    fn odd_u16_list_and_trailing_data_rejected() {
        let mut r = Reader::new(&[0, 3, 1, 2, 3]);
        assert_eq!(r.u16_list16(1, "l"), Err(DecodeError::BadLength("l")));
        let mut r = Reader::new(&[0, 0]);
        assert_eq!(r.u16_list16(1, "l"), Err(DecodeError::BadLength("l")));
        let r = Reader::new(&[1]);
        assert_eq!(r.finish("s"), Err(DecodeError::TrailingData("s")));
    }
}
