//! `record::Opener` and `record::Sealer` for TLS 1.3 and TLS 1.2 suites.
//!
//! Arbitrary records must be refused with the error an independent reading
//! of RFC 8446 5.2-5.4 / RFC 5246 6.2.3.3 and RFC 5288 3 gives (nonce and
//! AAD built here, AES-GCM on the portable backend); only a record that
//! authenticates under that reference may open. A refused record leaves the
//! sequence number where it was and releases no plaintext (a bad tag zeroes
//! the ciphertext). Fuzzer-chosen payloads, content types and padding sealed
//! by a `Sealer` open to themselves, under the reference too, come through a
//! `Deframer` whole, and fail to open once any bit is flipped.

use super::input::Input;
use bytes::BytesMut;
use sealwire::aead::{AesGcm, Backend};
use sealwire::record::{
    CipherSuite, ContentType, Deframer, Error, Opener, Sealer, TlsVersion, TrafficKeys, HEADER_LEN,
    MAX_CIPHERTEXT_LEN_TLS12, MAX_CIPHERTEXT_LEN_TLS13, MAX_PLAINTEXT_LEN, TAG_LEN, TLS12_VERSION,
};

/// TLS 1.2 `nonce_explicit` length (RFC 5288 3).
const EXPLICIT: usize = 8;

/// One direction as the RFCs describe it, independent of sealwire's record
/// code: key, IV (TLS 1.2: salt), next sequence number.
struct Reference {
    suite: CipherSuite,
    aead: AesGcm,
    iv: Vec<u8>,
    seq: u64,
}

type Opened = Result<(ContentType, Vec<u8>), Error>;

fn inner_type(b: u8) -> Result<ContentType, Error> {
    match b {
        21 => Ok(ContentType::Alert),
        22 => Ok(ContentType::Handshake),
        23 => Ok(ContentType::ApplicationData),
        _ => Err(Error::UnexpectedContentType(b)),
    }
}

impl Reference {
    fn new(keys: &TrafficKeys) -> Reference {
        Reference {
            suite: keys.suite(),
            aead: AesGcm::with_backend(keys.key(), Backend::Portable).expect("portable key"),
            iv: keys.iv().to_vec(),
            seq: 0,
        }
    }

    /// What opening `record` must give, in the order the checks apply.
    fn open(&self, record: &[u8]) -> Opened {
        self.check(record)?;
        match self.suite.version() {
            TlsVersion::Tls13 => self.decrypt13(record),
            TlsVersion::Tls12 => self.decrypt12(record),
        }
    }

    /// The checks made before any decryption: RFC 8446 5.2 (opaque_type 23,
    /// length limit) or RFC 5246 6.2.1-6.2.3 (known type, version, limits).
    fn check(&self, record: &[u8]) -> Result<(), Error> {
        if record.len() < HEADER_LEN {
            return Err(Error::Decode("short"));
        }
        let typ = record[0];
        let version = u16::from_be_bytes([record[1], record[2]]);
        let len = usize::from(u16::from_be_bytes([record[3], record[4]]));
        if len != record.len() - HEADER_LEN {
            return Err(Error::Decode("length"));
        }
        let (max, min) = match self.suite.version() {
            TlsVersion::Tls13 => {
                if typ != 23 {
                    return Err(Error::UnexpectedContentType(typ));
                }
                (MAX_CIPHERTEXT_LEN_TLS13, TAG_LEN)
            }
            TlsVersion::Tls12 => {
                inner_type(typ)?;
                if version != TLS12_VERSION {
                    return Err(Error::BadVersion(version));
                }
                (MAX_CIPHERTEXT_LEN_TLS12, EXPLICIT + TAG_LEN)
            }
        };
        if len > max {
            return Err(Error::RecordOverflow { len, max });
        }
        if len < min {
            return Err(Error::Decode("short"));
        }
        // RFC 5246 6.2.3: at most 2^14 bytes of plaintext; RFC 8446 5.4:
        // at most 2^14 + 1 bytes of TLSInnerPlaintext.
        let most = match self.suite.version() {
            TlsVersion::Tls12 => MAX_PLAINTEXT_LEN,
            TlsVersion::Tls13 => MAX_PLAINTEXT_LEN + 1,
        };
        if len - min > most {
            return Err(Error::RecordOverflow {
                len: len - min,
                max: most,
            });
        }
        // RFC 5246 6.2.1: no empty Handshake or Alert fragments.
        if self.suite.version() == TlsVersion::Tls12 && len == min && typ != 23 {
            return Err(Error::EmptyContent(inner_type(typ)?));
        }
        Ok(())
    }

    /// RFC 8446 5.2 (AAD = header), 5.3 (nonce = iv XOR seq), 5.4 (the last
    /// non-zero byte is the type).
    fn decrypt13(&self, record: &[u8]) -> Opened {
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&self.iv);
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        let tag_at = record.len() - TAG_LEN;
        let mut text = record[HEADER_LEN..tag_at].to_vec();
        self.aead
            .open_in_place_detached(&nonce, &record[..HEADER_LEN], &mut text, &record[tag_at..])
            .map_err(|_| Error::BadRecordMac)?;
        let Some(at) = text.iter().rposition(|&b| b != 0) else {
            return Err(Error::MissingContentType);
        };
        let t = inner_type(text[at])?;
        if at == 0 && t != ContentType::ApplicationData {
            // RFC 8446 5.4: unexpected_message.
            return Err(Error::EmptyContent(t));
        }
        text.truncate(at);
        Ok((t, text))
    }

    /// RFC 5246 6.2.3.3 (AAD = seq || type || version || length) and
    /// RFC 5288 3 (nonce = salt || nonce_explicit).
    fn decrypt12(&self, record: &[u8]) -> Opened {
        let start = HEADER_LEN + EXPLICIT;
        let content = record.len() - start - TAG_LEN;
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.iv);
        nonce[4..].copy_from_slice(&record[HEADER_LEN..start]);
        let mut aad = self.seq.to_be_bytes().to_vec();
        aad.extend_from_slice(&record[..3]);
        aad.extend_from_slice(&(content as u16).to_be_bytes());
        let mut text = record[start..start + content].to_vec();
        self.aead
            .open_in_place_detached(&nonce, &aad, &mut text, &record[start + content..])
            .map_err(|_| Error::BadRecordMac)?;
        Ok((inner_type(record[0])?, text))
    }

    /// Where the ciphertext sits in a record that reached the AEAD.
    fn text_range(&self, record: &[u8]) -> std::ops::Range<usize> {
        match self.suite.version() {
            TlsVersion::Tls13 => HEADER_LEN..record.len() - TAG_LEN,
            TlsVersion::Tls12 => HEADER_LEN + EXPLICIT..record.len() - TAG_LEN,
        }
    }
}

fn same_error(got: &Error, want: &Error) -> bool {
    match (got, want) {
        (Error::Decode(_), Error::Decode(_)) | (Error::Misuse(_), Error::Misuse(_)) => true,
        _ => got == want,
    }
}

/// The receiving side: two openers in lockstep (one per opening API) and
/// the reference.
struct Receiver {
    in_place: Opener,
    owned: Opener,
    reference: Reference,
}

impl Receiver {
    /// Opens `record` with both APIs and checks both against the reference.
    fn open(&mut self, record: &[u8]) -> Opened {
        let want = self.reference.open(record);
        let seq = self.in_place.seq();
        assert_eq!(self.owned.seq(), seq);

        let mut copy = record.to_vec();
        let got_in_place = self
            .in_place
            .open_in_place(&mut copy)
            .map(|(t, p)| (t, p.to_vec()));
        let got_owned = self
            .owned
            .open(BytesMut::from(record))
            .map(|(t, p)| (t, p.to_vec()));

        match &want {
            Ok(ok) => {
                assert_eq!(got_in_place.as_ref(), Ok(ok), "open_in_place");
                assert_eq!(got_owned.as_ref(), Ok(ok), "open");
                assert_eq!(self.in_place.seq(), seq + 1);
                assert_eq!(self.owned.seq(), seq + 1);
                self.reference.seq += 1;
            }
            Err(w) => {
                for got in [&got_in_place, &got_owned] {
                    match got {
                        Ok(_) => panic!("opened a record the reference refuses ({w:?})"),
                        Err(e) => assert!(same_error(e, w), "error {e:?}, reference {w:?}"),
                    }
                }
                assert_eq!(self.in_place.seq(), seq, "a refused record moved seq");
                assert_eq!(self.owned.seq(), seq, "a refused record moved seq");
                if *w == Error::BadRecordMac {
                    // RFC 8446 5.2 / SP 800-38D 7.2: nothing decrypted is
                    // released; the ciphertext was zeroed.
                    let r = self.reference.text_range(record);
                    assert!(copy[r.clone()].iter().all(|&b| b == 0), "not zeroed");
                    assert_eq!(copy[..r.start], record[..r.start]);
                    assert_eq!(copy[r.end..], record[r.end..]);
                } else if self.reference.check(record).is_err() {
                    // Refused before decryption: untouched.
                    assert_eq!(copy, record, "a refused record was changed");
                }
            }
        }
        want
    }

    fn update(&mut self, keys: &TrafficKeys) -> Result<(), Error> {
        let a = self.in_place.update_keys(keys.clone());
        let b = self.owned.update_keys(keys.clone());
        assert_eq!(a, b);
        if a.is_ok() {
            self.reference = Reference::new(keys);
            assert_eq!(self.in_place.seq(), 0);
        }
        a
    }
}

fn content_type(b: u8) -> ContentType {
    match b % 5 {
        0 => ContentType::Handshake,
        1 => ContentType::Alert,
        2 => ContentType::ChangeCipherSpec,
        _ => ContentType::ApplicationData,
    }
}

/// Seals one fuzzer-chosen record and checks it both ways; true if it was
/// sealed (and so opened).
fn seal_round_trip(
    inp: &mut Input<'_>,
    suite: CipherSuite,
    sealer: &mut Sealer,
    rx: &mut Receiver,
) -> bool {
    let typ = content_type(inp.u8());
    let sel = inp.u16();
    let len = if sel & 0x8000 != 0 {
        usize::from(sel & 0x7fff) % (MAX_PLAINTEXT_LEN + 64)
    } else {
        usize::from(sel % 300)
    };
    let psel = inp.u8();
    let pad = match psel >> 6 {
        0 | 1 => 0,
        2 => usize::from(psel & 0x3f),
        // Up to the limit exactly, or a few bytes past it.
        _ => MAX_PLAINTEXT_LEN.saturating_sub(len) + usize::from(psel & 3),
    };
    let how = inp.u8() % 4;
    let flip = inp.u16();
    let payload = inp.bytes(len);
    let tls13 = suite.version() == TlsVersion::Tls13;

    let expect_err = if how == 3
        || typ == ContentType::ChangeCipherSpec
        || (!tls13 && pad != 0)
        || (len == 0 && typ != ContentType::ApplicationData)
    {
        Some(Error::Misuse("refused"))
    } else if len + pad > MAX_PLAINTEXT_LEN {
        Some(Error::PayloadTooLong {
            len: len + pad,
            max: MAX_PLAINTEXT_LEN,
        })
    } else {
        None
    };

    let seq = sealer.seq();
    let mut buf = BytesMut::new();
    let res = match how {
        0 => {
            sealer.start(&mut buf);
            assert_eq!(buf.len(), sealer.header_room());
            buf.extend_from_slice(&payload);
            sealer.seal_padded(typ, &mut buf, pad)
        }
        1 if pad == 0 => sealer.seal_payload(typ, &payload, &mut buf),
        1 | 2 => {
            // Any buffer with header room will do, not only start()'s.
            buf.extend_from_slice(&vec![0xee; sealer.header_room()]);
            buf.extend_from_slice(&payload);
            sealer.seal_padded(typ, &mut buf, pad)
        }
        _ => {
            // Too short for the header: API misuse.
            buf.extend_from_slice(&payload[..len.min(sealer.header_room() - 1)]);
            sealer.seal_padded(typ, &mut buf, pad)
        }
    };
    match (res, expect_err) {
        (Ok(()), None) => {}
        (Err(e), Some(w)) => {
            assert!(same_error(&e, &w), "seal: {e:?}, expected {w:?}");
            assert_eq!(sealer.seq(), seq, "a refused seal moved seq");
            return false;
        }
        (got, want) => panic!("seal gave {got:?}, expected {want:?}"),
    }
    assert_eq!(sealer.seq(), seq + 1);
    assert_eq!(buf.len(), len + sealer.overhead(pad), "record length");
    let record = buf.to_vec();

    // The record comes through a deframer whole.
    let mut d = if tls13 {
        Deframer::tls13()
    } else {
        let mut d = Deframer::new();
        d.require_version(TLS12_VERSION);
        d
    };
    assert_eq!(d.push(&record), record.len());
    let framed = d.next_record().expect("deframe").expect("one record");
    assert_eq!(framed.as_bytes(), &record[..]);
    assert!(d.next_record().expect("deframe").is_none());

    // A flipped bit anywhere is refused (and does not move seq).
    if flip & 1 != 0 {
        let bit = usize::from(flip >> 1) % (record.len() * 8);
        let mut bad = record.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(rx.open(&bad).is_err(), "a tampered record opened");
    }
    let opened = rx.open(&record);
    assert_eq!(opened, Ok((typ, payload)), "open(seal(x)) != x");
    true
}

/// Runs one input and returns how many sealed records round-tripped.
/// Layout: suite(1) backends(2) key iv, then operations.
pub fn run(data: &[u8]) -> usize {
    let mut inp = Input::new(data);
    let suite = CipherSuite::ALL[usize::from(inp.u8()) % CipherSuite::ALL.len()];
    let backends = Backend::available();
    let pick = |b: u8| backends[usize::from(b) % backends.len()];
    let (seal_backend, open_backend) = (pick(inp.u8()), pick(inp.u8()));
    let key = inp.bytes(suite.key_len());
    let iv = inp.bytes(suite.iv_len());

    assert!(matches!(
        TrafficKeys::new(suite, &key[1..], &iv),
        Err(Error::KeyMaterial { .. })
    ));
    let keys = TrafficKeys::new(suite, &key, &iv).expect("keys of the suite's lengths");
    let mut sealer = Sealer::with_backend(keys.clone(), seal_backend).expect("sealer");
    // The key in use: a key update to it again is refused (it would restart
    // the sequence under the same key and repeat nonces).
    let mut current_key = key.clone();
    let mut rx = Receiver {
        in_place: Opener::with_backend(keys.clone(), open_backend).expect("opener"),
        owned: Opener::with_backend(keys.clone(), open_backend).expect("opener"),
        reference: Reference::new(&keys),
    };

    let mut ops = 0;
    let mut sealed = 0;
    while !inp.is_empty() && ops < 64 {
        ops += 1;
        match inp.u8() % 4 {
            0 | 1 => {
                if seal_round_trip(&mut inp, suite, &mut sealer, &mut rx) {
                    sealed += 1;
                }
            }
            2 => {
                // An arbitrary record, its header optionally made plausible
                // so that it reaches the AEAD.
                let fix = inp.u8();
                let sel = inp.u16();
                let len = if sel & 0x8000 != 0 {
                    usize::from(sel & 0x7fff) % (MAX_CIPHERTEXT_LEN_TLS12 + 64)
                } else {
                    usize::from(sel % 400)
                };
                let mut record = inp.bytes(len);
                if fix & 1 != 0 && record.len() >= HEADER_LEN {
                    let body = (record.len() - HEADER_LEN) as u16;
                    record[3..5].copy_from_slice(&body.to_be_bytes());
                }
                if fix & 2 != 0 && record.len() >= HEADER_LEN {
                    record[0] = [23, 22, 21][usize::from(fix >> 4) % 3];
                    record[1..3].copy_from_slice(&TLS12_VERSION.to_be_bytes());
                }
                let res = rx.open(&record);
                if let Err(e) = &res {
                    let _ = (e.alert(), e.to_string(), e.needs_key_update());
                }
            }
            _ => {
                // KeyUpdate (RFC 8446 4.6.3): TLS 1.3 only, same suite.
                let other = inp.u8() & 1 != 0;
                let next_suite = if other {
                    match suite {
                        CipherSuite::TLS13_AES_128_GCM_SHA256 => {
                            CipherSuite::TLS13_AES_256_GCM_SHA384
                        }
                        _ => CipherSuite::TLS13_AES_128_GCM_SHA256,
                    }
                } else {
                    suite
                };
                let next = TrafficKeys::new(
                    next_suite,
                    &inp.bytes(next_suite.key_len()),
                    &inp.bytes(next_suite.iv_len()),
                )
                .expect("keys of the suite's lengths");
                let ok = suite.version() == TlsVersion::Tls13
                    && next_suite == suite
                    && next.key() != &current_key[..];
                let s = sealer.update_keys(next.clone());
                let r = rx.update(&next);
                if ok {
                    assert_eq!(s, Ok(()));
                    assert_eq!(r, Ok(()));
                    assert_eq!(sealer.seq(), 0);
                    current_key = next.key().to_vec();
                } else {
                    assert!(matches!(s, Err(Error::Misuse(_))), "update: {s:?}");
                    assert!(matches!(r, Err(Error::Misuse(_))), "update: {r:?}");
                }
            }
        }
        assert_eq!(
            sealer.seq(),
            rx.in_place.seq(),
            "sealer and opener out of step"
        );
    }
    sealed
}
