//! `record::Deframer`: arbitrary bytes pushed in arbitrary chunks.
//!
//! Checked against a reference reading of the same stream (RFC 8446 5.1,
//! 5.2; RFC 5246 6.2.1): the records that come out are exactly the stream's
//! records, byte for byte, whatever the chunking; a bad header is reported
//! as soon as its five bytes are in and the deframer then stays failed; the
//! buffer never holds more than one maximum-size record, and a full buffer
//! always has a record (or an error) waiting, so the caller never stalls.

use super::input::{Input, Rng};
use sealwire::record::{
    Deframer, Error, HEADER_LEN, MAX_CIPHERTEXT_LEN_TLS12, MAX_CIPHERTEXT_LEN_TLS13,
};
use std::io;

/// What the reference reading expects at one point of the stream.
#[derive(Debug)]
enum Expect {
    /// A record of this body length (header excluded).
    Record(usize),
    /// Not enough bytes yet.
    More,
    /// The header is bad.
    Fail(Error),
}

/// The deframer's documented rules, applied to the bytes at the start of
/// `rest` under the record length `limit` and required `version`.
fn reference(rest: &[u8], limit: usize, version: Option<u16>) -> Expect {
    if rest.len() < HEADER_LEN {
        return Expect::More;
    }
    let typ = rest[0];
    let ver = u16::from_be_bytes([rest[1], rest[2]]);
    let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
    // change_cipher_spec(20), alert(21), handshake(22), application_data(23).
    if !(20..=23).contains(&typ) {
        return Expect::Fail(Error::UnexpectedContentType(typ));
    }
    // Any 0x03xx unless a version is required (RFC 8446 5.1).
    if version.is_some_and(|v| v != ver) || ver >> 8 != 3 {
        return Expect::Fail(Error::BadVersion(ver));
    }
    if len > limit {
        return Expect::Fail(Error::RecordOverflow { len, max: limit });
    }
    if len == 0 && typ != 23 {
        return Expect::Fail(Error::Decode("empty fragment"));
    }
    if rest.len() < HEADER_LEN + len {
        return Expect::More;
    }
    Expect::Record(len)
}

fn same_error(got: &Error, want: &Error) -> bool {
    match (got, want) {
        (Error::Decode(_), Error::Decode(_)) => true,
        _ => got == want,
    }
}

/// A reader that hands out one chunk, or fails once if told to.
struct ChunkReader<'a> {
    chunk: &'a [u8],
    fail: bool,
}

impl io::Read for ChunkReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "fuzz"));
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        Ok(n)
    }
}

/// The limit a configuration byte and a length select, as the deframer
/// documents it (at most 2^14 + 2048).
fn limit_of(len: u16) -> usize {
    usize::from(len).min(MAX_CIPHERTEXT_LEN_TLS12)
}

/// The record version a configuration byte requires, if any.
fn version_of(sel: u8, other: u16) -> Option<u16> {
    match sel % 5 {
        0 | 1 => None,
        2 => Some(0x0303),
        3 => Some(0x0301),
        _ => Some(other),
    }
}

/// Runs one input and returns how many records came out. Layout: mode(1)
/// len_a(2) len_b(2) switch(1) rng(8) stream.
pub fn run(data: &[u8]) -> usize {
    let mut inp = Input::new(data);
    let mode = inp.u8();
    let len_a = inp.u16();
    let len_b = inp.u16();
    let switch = inp.u8();
    let mut rng: Rng = inp.rng();
    let stream = inp.rest();

    let (mut d, mut limit) = match mode % 4 {
        0 => (Deframer::new(), MAX_CIPHERTEXT_LEN_TLS12),
        1 => (Deframer::tls13(), MAX_CIPHERTEXT_LEN_TLS13),
        2 => (Deframer::with_max_len(usize::from(len_a)), limit_of(len_a)),
        _ => {
            let mut d = Deframer::default();
            d.set_max_len(usize::from(len_a));
            (d, limit_of(len_a))
        }
    };
    let mut version = version_of(mode >> 2, len_b);
    if let Some(v) = version {
        d.require_version(v);
    }
    // After this many records the limit (and maybe the version) changes, as
    // when a handshake settles the protocol version.
    let switch_after = usize::from(switch % 8) + 1;
    let use_reader = mode & 0x80 != 0;
    // The buffer may hold one record of the largest limit ever in force.
    let mut bound = HEADER_LEN + limit;

    let mut pushed = 0;
    let mut consumed = 0;
    let mut records = 0;
    loop {
        // Drain what the deframer has.
        loop {
            assert!(
                d.buffered() <= bound,
                "deframer buffers {} > {bound}",
                d.buffered()
            );
            assert_eq!(d.buffered(), pushed - consumed, "buffered() disagrees");
            let want = reference(&stream[consumed..pushed], limit, version);
            match (d.next_record(), want) {
                (Ok(Some(r)), Expect::Record(len)) => {
                    let at = &stream[consumed..consumed + HEADER_LEN + len];
                    assert_eq!(r.as_bytes(), at, "record bytes differ from the stream");
                    assert_eq!(r.payload(), &at[HEADER_LEN..]);
                    assert_eq!(r.typ().to_u8(), at[0]);
                    assert_eq!(r.version(), u16::from_be_bytes([at[1], at[2]]));
                    if records % 2 == 0 {
                        assert_eq!(&r.into_bytes()[..], at);
                    } else {
                        assert_eq!(&r.into_payload()[..], &at[HEADER_LEN..]);
                    }
                    consumed += HEADER_LEN + len;
                    records += 1;
                    if records == switch_after {
                        limit = limit_of(len_b);
                        d.set_max_len(usize::from(len_b));
                        bound = bound.max(HEADER_LEN + limit);
                        if mode & 0x40 != 0 {
                            version = Some(0x0303);
                            d.require_version(0x0303);
                        }
                    }
                }
                (Ok(None), Expect::More) => {
                    // A full buffer always holds a record or an error.
                    assert!(d.room() > 0, "deframer is full but yields nothing");
                    break;
                }
                (Err(e), Expect::Fail(want)) => {
                    assert!(same_error(&e, &want), "error {e:?}, expected {want:?}");
                    let _ = (e.alert(), e.to_string(), e.needs_key_update());
                    // Failed for good: same error again, takes nothing more.
                    assert_eq!(d.next_record().err(), Some(e));
                    assert_eq!(d.room(), 0);
                    assert_eq!(d.push(b"\x17\x03\x03\x00\x01x"), 0);
                    let mut r = ChunkReader {
                        chunk: b"\x17\x03\x03",
                        fail: false,
                    };
                    assert_eq!(d.read_from(&mut r).unwrap(), 0);
                    return records;
                }
                (got, want) => {
                    panic!("deframer gave {got:?}, reference expects {want:?} at offset {consumed}")
                }
            }
        }
        if pushed == stream.len() {
            return records;
        }
        let n = rng.chunk_len().min(stream.len() - pushed);
        let chunk = &stream[pushed..pushed + n];
        let room = d.room();
        let (took, failed) = if use_reader {
            let fail = rng.below(8) == 0;
            let before = d.buffered();
            let mut r = ChunkReader { chunk, fail };
            match d.read_from(&mut r) {
                Ok(t) => (t, false),
                Err(e) => {
                    assert!(fail, "read_from invented an error: {e}");
                    assert_eq!(d.buffered(), before, "a failed read left bytes behind");
                    (0, true)
                }
            }
        } else {
            (d.push(chunk), false)
        };
        if !failed {
            // Both take exactly what fits.
            assert_eq!(took, n.min(room), "took {took} of {n} bytes, room {room}");
        }
        pushed += took;
    }
}
