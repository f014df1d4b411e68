//! Record-layer tests: RFC 8448 known answers, boundary lengths, padding,
//! limits, key update, TLS 1.2 against an independently built record, and
//! the deframer under random chunkings and corrupted streams.

#![forbid(unsafe_code)]

use super::*;
use crate::aead::{AesGcm, Backend};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn h(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).expect("test hex")
}

fn keys(suite: CipherSuite, seed: u8) -> TrafficKeys {
    let key: Vec<u8> = (0..suite.key_len() as u8).map(|i| i ^ seed).collect();
    let iv: Vec<u8> = (0..suite.iv_len() as u8)
        .map(|i| i.wrapping_mul(7) ^ seed)
        .collect();
    TrafficKeys::new(suite, &key, &iv).unwrap()
}

fn seal_vec(s: &mut Sealer, typ: ContentType, payload: &[u8], pad: usize) -> BytesMut {
    let mut buf = BytesMut::new();
    s.start(&mut buf);
    buf.extend_from_slice(payload);
    s.seal_padded(typ, &mut buf, pad).unwrap();
    buf
}

// RFC 8448 section 3 (Simple 1-RTT Handshake), TLS_AES_128_GCM_SHA256.

const CLIENT_APP_KEY: &str = "17422dda596ed5d9acd890e3c63f5051";
const CLIENT_APP_IV: &str = "5b78923dee08579033e523d9";
const CLIENT_APP_RECORD: &str = "
    17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea
    42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b
    62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";

const SERVER_APP_KEY: &str = "9f02283b6c9c07efc26bb9f2ac92e356";
const SERVER_APP_IV: &str = "cf782b88dd83549aadf1e984";
/// Sent at sequence 1: the server's first record under these keys is its
/// NewSessionTicket.
const SERVER_APP_RECORD: &str = "
    17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc
    32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8
    fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d";

const CLIENT_HS_KEY: &str = "dbfaa693d1762c5b666af5d950258d01";
const CLIENT_HS_IV: &str = "5bd3c71b836e0b76bb73265f";
const CLIENT_FINISHED_RECORD: &str = "
    17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0
    51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c
    ae ac ab 68 67 d7 26 c4 05 46";
/// The client's Finished message (RFC 8448 section 3, "{client} send
/// handshake record: payload").
const CLIENT_FINISHED: &str = "
    14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03 9e c1 76 94
    fa c6 e9 85 27 b6 42 f2 ed d5 ce 61";

const SERVER_HS_KEY: &str = "3fce516009c21727d0f2e4e86ee403bc";
const SERVER_HS_IV: &str = "5d313eb2671276ee13000b30";
/// The server's Finished message, the end of its flight.
const SERVER_FINISHED: &str = "
    14 00 00 20 9b 9b 14 1d 90 63 37 fb d2 cb dc e7 1d f4 de da 4a b4 2c 30
    95 72 cb 7f ff ee 54 54 b7 8f 07 18";
const SERVER_HS_RECORD: &str = "
    17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f
    45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca
    07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd
    05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b
    d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e
    f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c
    7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8
    bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92
    8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70
    a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8
    94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea
    52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f
    44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89
    f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3
    6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1
    00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e
    1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84
    c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c
    f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f
    c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be
    5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6
    fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb
    56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10
    dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38
    eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f
    60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78
    40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3
    79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e
    75 0e dc 53 37 0d 2b";

/// Opens the RFC record at `seq`, checks type and (where given) plaintext,
/// then seals the plaintext again and requires the exact RFC bytes.
fn check_rfc8448(
    key: &str,
    iv: &str,
    seq: u64,
    record: &str,
    typ: ContentType,
    plaintext: Option<&[u8]>,
) -> Vec<u8> {
    let record = h(record);
    let k = TrafficKeys::new(CipherSuite::TLS13_AES_128_GCM_SHA256, &h(key), &h(iv)).unwrap();
    let mut out = Vec::new();
    for backend in Backend::available() {
        let mut opener = Opener::at_seq(k.clone(), backend, seq).unwrap();
        let mut buf = BytesMut::from(&record[..]);
        let (t, pt) = opener
            .open_in_place(&mut buf)
            .expect("RFC 8448 record opens");
        assert_eq!(t, typ, "{backend}");
        if let Some(p) = plaintext {
            assert_eq!(pt, p, "{backend}");
        }
        let pt = pt.to_vec();
        assert_eq!(opener.seq(), seq + 1);

        let mut sealer = Sealer::at_seq(k.clone(), backend, seq).unwrap();
        let sealed = seal_vec(&mut sealer, typ, &pt, 0);
        assert_eq!(
            &sealed[..],
            &record[..],
            "{backend}: sealed bytes differ from RFC 8448"
        );
        out = pt;
    }
    out
}

#[test]
fn rfc8448_client_application_data() {
    let payload: Vec<u8> = (0u8..=0x31).collect();
    check_rfc8448(
        CLIENT_APP_KEY,
        CLIENT_APP_IV,
        0,
        CLIENT_APP_RECORD,
        ContentType::ApplicationData,
        Some(&payload),
    );
}

#[test]
fn rfc8448_server_application_data_at_seq_1() {
    let payload: Vec<u8> = (0u8..=0x31).collect();
    check_rfc8448(
        SERVER_APP_KEY,
        SERVER_APP_IV,
        1,
        SERVER_APP_RECORD,
        ContentType::ApplicationData,
        Some(&payload),
    );
    // The same record does not open at the wrong sequence number.
    let k = TrafficKeys::new(
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        &h(SERVER_APP_KEY),
        &h(SERVER_APP_IV),
    )
    .unwrap();
    let mut opener = Opener::at_seq(k, Backend::Portable, 0).unwrap();
    let mut buf = h(SERVER_APP_RECORD);
    assert_eq!(opener.open_in_place(&mut buf), Err(Error::BadRecordMac));
    assert_eq!(opener.seq(), 0);
}

#[test]
fn rfc8448_client_finished() {
    check_rfc8448(
        CLIENT_HS_KEY,
        CLIENT_HS_IV,
        0,
        CLIENT_FINISHED_RECORD,
        ContentType::Handshake,
        Some(&h(CLIENT_FINISHED)),
    );
}

#[test]
fn rfc8448_server_handshake_flight() {
    let pt = check_rfc8448(
        SERVER_HS_KEY,
        SERVER_HS_IV,
        0,
        SERVER_HS_RECORD,
        ContentType::Handshake,
        None,
    );
    // EncryptedExtensions (type 8) first, Finished (type 20, 32-byte
    // verify_data) last: 674-byte body minus tag and type byte.
    assert_eq!(pt.len(), 657);
    assert_eq!(&pt[..4], &[0x08, 0x00, 0x00, 0x24]);
    assert_eq!(&pt[pt.len() - 36..], &h(SERVER_FINISHED)[..]);
}

fn round_trip(suite: CipherSuite, backend: Backend, len: usize, pad: usize) {
    let mut sealer = Sealer::with_backend(keys(suite, 1), backend).unwrap();
    let mut opener = Opener::with_backend(keys(suite, 1), backend).unwrap();
    let payload: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
    for typ in [ContentType::ApplicationData, ContentType::Handshake] {
        if len == 0 && typ == ContentType::Handshake {
            // RFC 8446 5.4, RFC 5246 6.2.1: never an empty handshake record.
            let mut buf = BytesMut::new();
            sealer.start(&mut buf);
            let e = sealer.seal_padded(typ, &mut buf, pad).unwrap_err();
            assert!(matches!(e, Error::Misuse(_)), "{e:?}");
            continue;
        }
        let rec = seal_vec(&mut sealer, typ, &payload, pad);
        assert_eq!(rec.len(), len + sealer.overhead(pad), "{suite} {len}");
        let (t, pt) = opener.open(rec).unwrap();
        assert_eq!(t, typ);
        assert_eq!(&pt[..], &payload[..], "{suite} {backend} {len} {pad}");
    }
    let sealed = if len == 0 { 1 } else { 2 };
    assert_eq!(sealer.seq(), sealed);
    assert_eq!(opener.seq(), sealed);
}

#[test]
fn round_trips_at_boundary_lengths() {
    // Block and stride edges of every kernel (16, 256 = one VAES group,
    // 8 KiB), the 2^14 limit, and in TLS 1.3 padding that fills the inner
    // plaintext to exactly 2^14 + 1 bytes.
    const M: usize = MAX_PLAINTEXT_LEN;
    let lens = [
        0,
        1,
        15,
        16,
        17,
        255,
        256,
        257,
        1420,
        8191,
        8192,
        8193,
        M - 1,
        M,
    ];
    for backend in Backend::available() {
        for suite in CipherSuite::ALL {
            for len in lens {
                round_trip(suite, backend, len, 0);
            }
            if suite.version() == TlsVersion::Tls13 {
                for (len, pad) in [(0, M), (1, M - 1), (1000, M - 1000), (M - 17, 17), (5, 250)] {
                    round_trip(suite, backend, len, pad);
                }
            }
        }
    }
}

#[test]
fn overlong_payload_is_refused() {
    for suite in CipherSuite::ALL {
        let mut sealer = Sealer::with_backend(keys(suite, 2), Backend::Portable).unwrap();
        let mut buf = BytesMut::new();
        sealer.start(&mut buf);
        buf.resize(sealer.header_room() + MAX_PLAINTEXT_LEN + 1, 0xaa);
        let e = sealer
            .seal(ContentType::ApplicationData, &mut buf)
            .unwrap_err();
        assert_eq!(
            e,
            Error::PayloadTooLong {
                len: MAX_PLAINTEXT_LEN + 1,
                max: MAX_PLAINTEXT_LEN
            }
        );
        assert_eq!(sealer.seq(), 0, "a refused record takes no sequence number");
        // Any padding a caller asks about gives an answer, not an overflow.
        let most = match suite.version() {
            TlsVersion::Tls13 => usize::MAX,
            TlsVersion::Tls12 => sealer.overhead(0),
        };
        assert_eq!(sealer.overhead(usize::MAX), most);
    }
}

#[test]
fn padding_is_stripped_and_bounded() {
    let suite = CipherSuite::TLS13_AES_256_GCM_SHA384;
    for backend in Backend::available() {
        for (len, pad) in [
            (0, 1),
            (0, 100),
            (5, 3),
            (100, 16284),
            (0, MAX_PLAINTEXT_LEN),
        ] {
            round_trip(suite, backend, len, pad);
        }
    }
    let mut sealer = Sealer::with_backend(keys(suite, 3), Backend::Portable).unwrap();
    let mut buf = BytesMut::new();
    sealer.start(&mut buf);
    buf.extend_from_slice(&[1; 10]);
    assert!(matches!(
        sealer.seal_padded(
            ContentType::ApplicationData,
            &mut buf,
            MAX_PLAINTEXT_LEN - 9
        ),
        Err(Error::PayloadTooLong { .. })
    ));
    // TLS 1.2 has no padding.
    let mut s12 = Sealer::new(keys(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 3)).unwrap();
    s12.start(&mut buf);
    assert!(matches!(
        s12.seal_padded(ContentType::ApplicationData, &mut buf, 1),
        Err(Error::Misuse(_))
    ));
}

/// Builds a TLS 1.3 record around an arbitrary inner plaintext, computing
/// nonce and AAD here from RFC 8446 5.2/5.3 rather than through the sealer.
pub(crate) fn hand_sealed_13(k: &TrafficKeys, seq: u64, inner: &[u8], outer_type: u8) -> Vec<u8> {
    let aead = AesGcm::with_backend(k.key(), Backend::Portable).unwrap();
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(k.iv());
    for (i, b) in seq.to_be_bytes().iter().enumerate() {
        nonce[4 + i] ^= b;
    }
    let len = (inner.len() + 16) as u16;
    let mut rec = vec![outer_type, 3, 3, (len >> 8) as u8, len as u8];
    let aad = rec.clone();
    let mut body = inner.to_vec();
    let tag = aead
        .seal_in_place_detached(&nonce, &aad, &mut body)
        .unwrap();
    rec.extend_from_slice(&body);
    rec.extend_from_slice(&tag);
    rec
}

#[test]
fn bad_inner_plaintexts() {
    let k = keys(CipherSuite::TLS13_AES_128_GCM_SHA256, 4);
    let cases: Vec<(Vec<u8>, Error)> = vec![
        (vec![0; 40], Error::MissingContentType),
        (vec![], Error::MissingContentType),
        (vec![1, 2, 3, 20, 0, 0], Error::UnexpectedContentType(20)),
        (vec![1, 2, 3, 24], Error::UnexpectedContentType(24)),
        (
            {
                let mut v = vec![0x41; MAX_PLAINTEXT_LEN + 1];
                v.push(23);
                v
            },
            Error::RecordOverflow {
                len: MAX_PLAINTEXT_LEN + 2,
                max: MAX_PLAINTEXT_LEN + 1,
            },
        ),
        // RFC 8446 5.4: no empty Handshake or Alert content, padded or not.
        (vec![22], Error::EmptyContent(ContentType::Handshake)),
        (vec![21, 0, 0], Error::EmptyContent(ContentType::Alert)),
    ];
    for backend in Backend::available() {
        for (inner, want) in &cases {
            let mut rec = hand_sealed_13(&k, 0, inner, 23);
            let mut opener = Opener::with_backend(k.clone(), backend).unwrap();
            let err = opener.open_in_place(&mut rec).unwrap_err();
            assert_eq!(&err, want);
            assert_eq!(err.alert().to_u8(), want.alert().to_u8());
        }
    }
    assert_eq!(
        Error::MissingContentType.alert(),
        AlertDescription::UnexpectedMessage
    );
    // RFC 8446 5.4: the whole TLSInnerPlaintext is at most 2^14 + 1 bytes.
    // A full 2^14 content and its type opens; one byte of padding more,
    // or padding out to 2^14 + 256 bytes of ciphertext, does not.
    let mut inner = vec![0x41; MAX_PLAINTEXT_LEN];
    inner.push(22);
    let mut opener = Opener::new(k.clone()).unwrap();
    let mut rec = hand_sealed_13(&k, 0, &inner, 23);
    let (t, pt) = opener.open_in_place(&mut rec).unwrap();
    assert_eq!((t, pt.len()), (ContentType::Handshake, MAX_PLAINTEXT_LEN));
    let mut short = vec![0x41; 10];
    short.push(23);
    for total in [MAX_PLAINTEXT_LEN + 2, MAX_CIPHERTEXT_LEN_TLS13 - TAG_LEN] {
        let mut padded = short.clone();
        padded.resize(total, 0);
        let mut rec = hand_sealed_13(&k, 1, &padded, 23);
        assert_eq!(
            opener.open_in_place(&mut rec),
            Err(Error::RecordOverflow {
                len: total,
                max: MAX_PLAINTEXT_LEN + 1
            })
        );
    }
    assert_eq!(opener.seq(), 1);
}

#[test]
fn bad_outer_records() {
    let k = keys(CipherSuite::TLS13_AES_128_GCM_SHA256, 5);
    let mut opener = Opener::new(k.clone()).unwrap();
    // Outer type must be application_data.
    let mut rec = hand_sealed_13(&k, 0, &[1, 23], 22);
    assert_eq!(
        opener.open_in_place(&mut rec),
        Err(Error::UnexpectedContentType(22))
    );
    // Over 2^14 + 256 bytes of ciphertext.
    let mut inner = vec![0; MAX_CIPHERTEXT_LEN_TLS13 - TAG_LEN + 1];
    inner[0] = 23;
    let mut rec = hand_sealed_13(&k, 0, &inner, 23);
    let e = opener.open_in_place(&mut rec).unwrap_err();
    assert_eq!(e.alert(), AlertDescription::RecordOverflow);
    // Shorter than a tag, and a length field that disagrees.
    let mut short = vec![23, 3, 3, 0, 3, 1, 2, 3];
    assert_eq!(
        opener.open_in_place(&mut short).unwrap_err().alert(),
        AlertDescription::DecodeError
    );
    let mut rec = hand_sealed_13(&k, 0, &[1, 23], 23);
    rec.push(0);
    assert!(matches!(
        opener.open_in_place(&mut rec),
        Err(Error::Decode(_))
    ));
    assert_eq!(opener.seq(), 0);
}

#[test]
fn tampering_is_detected_and_zeroes() {
    for suite in CipherSuite::ALL {
        for backend in Backend::available() {
            let mut sealer = Sealer::with_backend(keys(suite, 6), backend).unwrap();
            let rec = seal_vec(&mut sealer, ContentType::ApplicationData, &[0x5a; 100], 0);
            for pos in [0, 2, 4, 5, 12, 13, 60, rec.len() - 1] {
                let mut bad = rec.to_vec();
                bad[pos] ^= 0x01;
                let mut opener = Opener::with_backend(keys(suite, 6), backend).unwrap();
                let err = opener.open_in_place(&mut bad).unwrap_err();
                assert_ne!(err, Error::MissingContentType, "{suite} pos {pos}");
                if err == Error::BadRecordMac {
                    // Every byte of the would-be plaintext is wiped.
                    let text = &bad[sealer.header_room()..bad.len() - 16];
                    assert!(text.iter().all(|&b| b == 0), "{suite} pos {pos}");
                }
                assert_eq!(opener.seq(), 0);
                // The untouched record still opens.
                let mut good = rec.to_vec();
                opener.open_in_place(&mut good).unwrap();
            }
        }
    }
}

#[test]
fn usage_limit_asks_for_key_update() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let mut sealer =
        Sealer::at_seq(keys(suite, 7), Backend::Portable, AES_GCM_RECORD_LIMIT - 1).unwrap();
    assert_eq!(sealer.records_left(), 1);
    let mut opener =
        Opener::at_seq(keys(suite, 7), Backend::Portable, AES_GCM_RECORD_LIMIT - 1).unwrap();
    let rec = seal_vec(&mut sealer, ContentType::ApplicationData, b"last", 0);
    assert_eq!(&opener.open(rec).unwrap().1[..], b"last");
    let mut buf = BytesMut::new();
    sealer.start(&mut buf);
    let e = sealer
        .seal(ContentType::ApplicationData, &mut buf)
        .unwrap_err();
    assert_eq!(e, Error::KeyUsageLimit);
    assert!(e.needs_key_update());
    assert_eq!(
        sealer.seq(),
        AES_GCM_RECORD_LIMIT,
        "no sequence number is reused"
    );
    // Again: still refused, never wrapped.
    sealer.start(&mut buf);
    assert_eq!(
        sealer.seal(ContentType::ApplicationData, &mut buf),
        Err(Error::KeyUsageLimit)
    );
    // KeyUpdate: new keys, sequence from zero (RFC 8446 4.6.3, 5.3).
    sealer.update_keys(keys(suite, 8)).unwrap();
    opener.update_keys(keys(suite, 8)).unwrap();
    assert_eq!((sealer.seq(), opener.seq()), (0, 0));
    let rec = seal_vec(&mut sealer, ContentType::ApplicationData, b"fresh", 0);
    assert_eq!(&opener.open(rec).unwrap().1[..], b"fresh");

    // TLS 1.2 has the same usage limit and no key update.
    let s12 = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;
    let mut sealer = Sealer::at_seq(keys(s12, 7), Backend::Portable, AES_GCM_RECORD_LIMIT).unwrap();
    sealer.start(&mut buf);
    assert_eq!(
        sealer.seal(ContentType::ApplicationData, &mut buf),
        Err(Error::KeyUsageLimit)
    );
    assert!(matches!(
        sealer.update_keys(keys(s12, 8)),
        Err(Error::Misuse(_))
    ));
}

#[test]
fn sequence_never_wraps() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let k = keys(suite, 9);
    let mut sealer = Sealer::at_seq(k.clone(), Backend::Portable, u64::MAX).unwrap();
    let mut buf = BytesMut::new();
    sealer.start(&mut buf);
    let e = sealer
        .seal(ContentType::ApplicationData, &mut buf)
        .unwrap_err();
    assert_eq!(e, Error::SeqExhausted);
    assert!(e.needs_key_update());

    // The opener takes the records at 2^64 - 2, then stops.
    let mut opener = Opener::at_seq(k.clone(), Backend::Portable, u64::MAX - 1).unwrap();
    let mut rec = hand_sealed_13(&k, u64::MAX - 1, &[7, 23], 23);
    assert_eq!(opener.open_in_place(&mut rec).unwrap().1, &[7]);
    assert_eq!(opener.seq(), u64::MAX);
    let mut rec = hand_sealed_13(&k, u64::MAX, &[7, 23], 23);
    assert_eq!(opener.open_in_place(&mut rec), Err(Error::SeqExhausted));
}

#[test]
fn key_update_rules() {
    let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let mut sealer = Sealer::new(keys(suite, 10)).unwrap();
    let mut opener = Opener::new(keys(suite, 10)).unwrap();
    for _ in 0..3 {
        let rec = seal_vec(&mut sealer, ContentType::ApplicationData, b"x", 0);
        opener.open(rec).unwrap();
    }
    sealer.update_keys(keys(suite, 11)).unwrap();
    // The opener still has the old keys: the record does not open.
    let rec = seal_vec(&mut sealer, ContentType::ApplicationData, b"y", 0);
    assert_eq!(opener.open(rec.clone()), Err(Error::BadRecordMac));
    opener.update_keys(keys(suite, 11)).unwrap();
    assert_eq!(&opener.open(rec).unwrap().1[..], b"y");
    assert!(matches!(
        sealer.update_keys(keys(CipherSuite::TLS13_AES_256_GCM_SHA384, 1)),
        Err(Error::Misuse(_))
    ));
    // The same key again would restart the sequence under that key and
    // repeat nonces: refused on both sides, the direction left as it was.
    let seq = sealer.seq();
    assert!(matches!(
        sealer.update_keys(keys(suite, 11)),
        Err(Error::Misuse(_))
    ));
    assert!(matches!(
        opener.update_keys(keys(suite, 11)),
        Err(Error::Misuse(_))
    ));
    // Also with another IV: nonces would still collide wherever the two
    // IVs differ by the XOR of two sequence numbers.
    let other_iv = TrafficKeys::new(suite, keys(suite, 11).key(), &[0xee; 12]).unwrap();
    assert!(matches!(
        sealer.update_keys(other_iv),
        Err(Error::Misuse(_))
    ));
    assert_eq!(sealer.seq(), seq);
    let rec = seal_vec(&mut sealer, ContentType::ApplicationData, b"z", 0);
    assert_eq!(&opener.open(rec).unwrap().1[..], b"z");
}

#[test]
fn tls12_known_answer_built_independently() {
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
    let key = h("000102030405060708090a0b0c0d0e0f");
    let salt = h("a0a1a2a3");
    let k = TrafficKeys::new(suite, &key, &salt).unwrap();
    let payload = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    let seq = 0x0102_0304u64;

    // Expected record per RFC 5246 6.2.3.3 and RFC 5288 3, with the
    // `aes-gcm` crate as the cipher.
    let mut nonce = salt.clone();
    nonce.extend_from_slice(&seq.to_be_bytes());
    let mut aad = seq.to_be_bytes().to_vec();
    aad.extend_from_slice(&[23, 3, 3, 0, payload.len() as u8]);
    let cipher = aes_gcm::Aes128Gcm::new_from_slice(&key).unwrap();
    let mut ct = payload.to_vec();
    let tag = cipher
        .encrypt_in_place_detached(aes_gcm::Nonce::from_slice(&nonce), &aad, &mut ct)
        .unwrap();
    let body_len = 8 + payload.len() + 16;
    let mut want = vec![23, 3, 3, (body_len >> 8) as u8, body_len as u8];
    want.extend_from_slice(&seq.to_be_bytes());
    want.extend_from_slice(&ct);
    want.extend_from_slice(&tag);

    for backend in Backend::available() {
        let mut sealer = Sealer::at_seq(k.clone(), backend, seq).unwrap();
        let rec = seal_vec(&mut sealer, ContentType::ApplicationData, payload, 0);
        assert_eq!(&rec[..], &want[..], "{backend}");
        let mut opener = Opener::at_seq(k.clone(), backend, seq).unwrap();
        let (t, pt) = opener.open(rec).unwrap();
        assert_eq!((t, &pt[..]), (ContentType::ApplicationData, &payload[..]));
    }
    // The opener uses the peer's explicit nonce, but the sequence number in
    // the AAD must match.
    let mut opener = Opener::at_seq(k.clone(), Backend::Portable, seq + 1).unwrap();
    assert_eq!(
        opener.open(BytesMut::from(&want[..])),
        Err(Error::BadRecordMac)
    );
}

#[test]
fn tls12_bad_records() {
    let suite = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    let mut sealer = Sealer::new(keys(suite, 12)).unwrap();
    let rec = seal_vec(&mut sealer, ContentType::Handshake, &[9; 40], 0);
    let mut opener = Opener::new(keys(suite, 12)).unwrap();
    let mut bad = rec.to_vec();
    bad[2] = 2;
    assert_eq!(
        opener.open_in_place(&mut bad),
        Err(Error::BadVersion(0x0302))
    );
    let mut bad = rec.to_vec();
    bad[0] = 24;
    assert_eq!(
        opener.open_in_place(&mut bad),
        Err(Error::UnexpectedContentType(24))
    );
    let mut short = vec![23, 3, 3, 0, 23];
    short.resize(5 + 23, 0);
    assert_eq!(
        opener.open_in_place(&mut short).unwrap_err().alert(),
        AlertDescription::DecodeError
    );
    let mut over = vec![23, 3, 3, 0x48, 0x01];
    over.resize(5 + MAX_CIPHERTEXT_LEN_TLS12 + 1, 0);
    assert_eq!(
        opener.open_in_place(&mut over).unwrap_err().alert(),
        AlertDescription::RecordOverflow
    );
    let mut over = vec![23, 3, 3, 0x40, 0x19];
    over.resize(5 + 0x4019, 0);
    assert_eq!(
        opener.open_in_place(&mut over),
        Err(Error::RecordOverflow {
            len: MAX_PLAINTEXT_LEN + 1,
            max: MAX_PLAINTEXT_LEN
        })
    );
    // RFC 5246 6.2.1: an empty Handshake or Alert fragment, refused before
    // decryption (its length says so); an empty application_data record
    // is allowed.
    for typ in [22u8, 21] {
        let mut empty = vec![typ, 3, 3, 0, 24];
        empty.resize(5 + 24, 0);
        let e = opener.open_in_place(&mut empty).unwrap_err();
        assert_eq!(e.alert(), AlertDescription::UnexpectedMessage);
        assert!(matches!(e, Error::EmptyContent(_)), "{e:?}");
    }
    let (t, pt) = opener.open(rec).unwrap();
    assert_eq!((t, &pt[..]), (ContentType::Handshake, &[9u8; 40][..]));
    // Sealed records carry the sequence number as explicit nonce.
    let rec = seal_vec(&mut sealer, ContentType::ApplicationData, b"", 0);
    assert_eq!(&rec[5..13], &1u64.to_be_bytes());
}

#[test]
fn traffic_keys_check_lengths_and_hide_secrets() {
    let s = CipherSuite::TLS13_AES_256_GCM_SHA384;
    assert!(matches!(
        TrafficKeys::new(s, &[0; 16], &[0; 12]),
        Err(Error::KeyMaterial { .. })
    ));
    assert!(TrafficKeys::new(s, &[0; 32], &[0; 4]).is_err());
    let s12 = CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;
    let k = TrafficKeys::new(s12, &[0xab; 32], &[0xcd; 4]).unwrap();
    assert_eq!((k.key().len(), k.iv().len()), (32, 4));
    let dbg = format!("{k:?}");
    assert!(!dbg.contains("171") && !dbg.contains("ab"), "{dbg}");
    let sealer = Sealer::new(k).unwrap();
    assert!(!format!("{sealer:?}").contains("205"));
}

#[test]
fn cipher_suite_table() {
    for s in CipherSuite::ALL {
        assert_eq!(CipherSuite::from_iana(s.iana()), Some(s));
        assert_eq!(
            s.hash().output_len(),
            if s.key_len() == 16 { 32 } else { 48 }
        );
    }
    assert_eq!(CipherSuite::from_iana(0x1303), None);
    assert_eq!(CipherSuite::TLS13_AES_128_GCM_SHA256.iana(), 0x1301);
    assert_eq!(
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.iana(),
        0xc030
    );
    assert_eq!(
        CipherSuite::TLS13_AES_256_GCM_SHA384.version(),
        TlsVersion::Tls13
    );
}

// ---- deframer ----

/// A stream of plaintext-looking records of assorted types and lengths.
fn record_stream(rng: &mut ChaCha20Rng, n: usize) -> (Vec<u8>, Vec<(u8, Vec<u8>)>) {
    let mut wire = Vec::new();
    let mut records = Vec::new();
    for i in 0..n {
        let typ = [20u8, 21, 22, 23][rng.gen_range(0..4)];
        let len = match i % 5 {
            0 => MAX_CIPHERTEXT_LEN_TLS12,
            1 => rng.gen_range(1..40),
            _ => rng.gen_range(1..3000),
        };
        let body: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        wire.extend_from_slice(&[typ, 3, 3, (len >> 8) as u8, len as u8]);
        wire.extend_from_slice(&body);
        records.push((typ, body));
    }
    (wire, records)
}

fn deframe_all(d: &mut Deframer, wire: &[u8], chunks: &mut dyn FnMut() -> usize) -> Vec<Record> {
    let mut out = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let want = chunks().clamp(1, rest.len());
        let mut piece = &rest[..want];
        while !piece.is_empty() {
            let took = d.push(piece);
            assert!(d.buffered() <= HEADER_LEN + MAX_CIPHERTEXT_LEN_TLS12);
            piece = &piece[took..];
            rest = &rest[took..];
            while let Some(r) = d.next_record().unwrap() {
                out.push(r);
            }
            if took == 0 {
                panic!("deframer took nothing and had no record");
            }
        }
    }
    assert_eq!(d.buffered(), 0);
    out
}

#[test]
fn deframer_any_chunking() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5ea1);
    let (wire, records) = record_stream(&mut rng, 25);
    let check = |got: Vec<Record>| {
        assert_eq!(got.len(), records.len());
        for (r, (typ, body)) in got.iter().zip(&records) {
            assert_eq!(r.typ().to_u8(), *typ);
            assert_eq!(r.version(), 0x0303);
            assert_eq!(r.payload(), &body[..]);
            assert_eq!(r.as_bytes().len(), body.len() + HEADER_LEN);
        }
    };
    // One byte at a time, everything at once, and random chunkings.
    check(deframe_all(&mut Deframer::new(), &wire, &mut || 1));
    check(deframe_all(&mut Deframer::new(), &wire, &mut || usize::MAX));
    for round in 0..20 {
        let max = [3, 17, 700, 5000, 40000][round % 5];
        let mut r = ChaCha20Rng::seed_from_u64(round as u64);
        check(deframe_all(&mut Deframer::new(), &wire, &mut || {
            r.gen_range(1..=max)
        }));
    }
}

#[test]
fn deframer_bounds_its_buffer() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let (wire, _) = record_stream(&mut rng, 10);
    let mut d = Deframer::new();
    let took = d.push(&wire);
    assert_eq!(took, HEADER_LEN + MAX_CIPHERTEXT_LEN_TLS12);
    assert_eq!(d.push(&wire[took..]), 0);
    assert!(d.next_record().unwrap().is_some());
    let mut reader = &wire[took..];
    let n = d.read_from(&mut reader).unwrap();
    assert!(n > 0 && d.buffered() <= HEADER_LEN + MAX_CIPHERTEXT_LEN_TLS12);
}

#[test]
fn deframer_corrupted_streams() {
    let cases: Vec<(Vec<u8>, AlertDescription)> = vec![
        (vec![24, 3, 3, 0, 1, 0], AlertDescription::UnexpectedMessage),
        (
            vec![0x47, 0x45, 0x54, 0x20, 0x2f],
            AlertDescription::UnexpectedMessage,
        ),
        (vec![22, 2, 0, 0, 1, 0], AlertDescription::ProtocolVersion),
        (
            vec![23, 0x7f, 3, 0, 1, 0],
            AlertDescription::ProtocolVersion,
        ),
        (vec![23, 3, 3, 0x48, 0x01], AlertDescription::RecordOverflow),
        (vec![22, 3, 1, 0xff, 0xff], AlertDescription::RecordOverflow),
        (vec![22, 3, 3, 0, 0], AlertDescription::DecodeError),
        (vec![21, 3, 3, 0, 0], AlertDescription::DecodeError),
    ];
    for (bad, alert) in cases {
        // After a good record, in any chunking: the error appears as soon
        // as the header is in, and stays.
        let mut wire = vec![22, 3, 1, 0, 2, 1, 2];
        wire.extend_from_slice(&bad);
        for chunk in [1, 2, 5, 100] {
            let mut d = Deframer::new();
            let mut seen = Vec::new();
            let mut err = None;
            for piece in wire.chunks(chunk) {
                assert_eq!(d.push(piece), if err.is_some() { 0 } else { piece.len() });
                loop {
                    match d.next_record() {
                        Ok(Some(r)) => seen.push(r),
                        Ok(None) => break,
                        Err(e) => {
                            err = Some(e);
                            break;
                        }
                    }
                }
            }
            assert_eq!(seen.len(), 1);
            let e = err.expect("corruption detected");
            assert_eq!(e.alert(), alert, "{bad:?}");
            assert_eq!(d.next_record().unwrap_err(), e);
        }
    }
    // TLS 1.3 limit and a required version.
    let mut d = Deframer::tls13();
    d.push(&[23, 3, 3, 0x41, 0x01]);
    assert_eq!(
        d.next_record().unwrap_err().alert(),
        AlertDescription::RecordOverflow
    );
    let mut d = Deframer::new();
    d.require_version(0x0303);
    d.push(&[22, 3, 1, 0, 1, 0]);
    assert_eq!(d.next_record().unwrap_err(), Error::BadVersion(0x0301));
}

#[test]
fn deframer_ignores_the_minor_record_version() {
    // RFC 8446 5.1: legacy_record_version is ignored; a first ClientHello
    // from an old or future client may carry any 0x03xx.
    for v in [0x0300u16, 0x0301, 0x0303, 0x0304, 0x03fe] {
        let mut d = Deframer::new();
        let [hi, lo] = v.to_be_bytes();
        d.push(&[22, hi, lo, 0, 2, 1, 2]);
        let r = d.next_record().unwrap().expect("a whole record");
        assert_eq!((r.version(), r.payload()), (v, &[1u8, 2][..]));
    }
}

#[test]
fn sealed_records_through_the_deframer() {
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    for suite in CipherSuite::ALL {
        let mut sealer = Sealer::new(keys(suite, 13)).unwrap();
        let mut opener = Opener::new(keys(suite, 13)).unwrap();
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        let mut buf = BytesMut::new();
        for _ in 0..30 {
            let len = rng.gen_range(0..=MAX_PLAINTEXT_LEN);
            let payload: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let pad = if suite.version() == TlsVersion::Tls13 {
                rng.gen_range(0..=MAX_PLAINTEXT_LEN - len).min(300)
            } else {
                0
            };
            sealer.start(&mut buf);
            buf.extend_from_slice(&payload);
            sealer
                .seal_padded(ContentType::ApplicationData, &mut buf, pad)
                .unwrap();
            wire.extend_from_slice(&buf);
            sent.push(payload);
        }
        let mut d = if suite.version() == TlsVersion::Tls13 {
            Deframer::tls13()
        } else {
            Deframer::new()
        };
        let got = deframe_all(&mut d, &wire, &mut || rng.gen_range(1..9000));
        assert_eq!(got.len(), sent.len());
        for (r, p) in got.into_iter().zip(&sent) {
            let (_, pt) = opener.open(r.into_bytes()).unwrap();
            assert_eq!(&pt[..], &p[..]);
        }
    }
}

#[test]
fn plaintext_framing_fragments_at_2_14() {
    let payload: Vec<u8> = (0..40000u32).map(|i| i as u8).collect();
    let mut out = BytesMut::new();
    frame_plaintext(ContentType::Handshake, 0x0301, &payload, &mut out);
    frame_plaintext(ContentType::Alert, 0x0303, &[], &mut out);
    let mut d = Deframer::new();
    let got = deframe_all(&mut d, &out, &mut || 5000);
    let lens: Vec<usize> = got.iter().map(|r| r.payload().len()).collect();
    assert_eq!(
        lens,
        [
            MAX_PLAINTEXT_LEN,
            MAX_PLAINTEXT_LEN,
            40000 - 2 * MAX_PLAINTEXT_LEN
        ]
    );
    assert!(got
        .iter()
        .all(|r| r.version() == 0x0301 && r.typ() == ContentType::Handshake));
    let joined: Vec<u8> = got
        .into_iter()
        .flat_map(|r| r.into_payload().to_vec())
        .collect();
    assert_eq!(joined, payload);
}

#[test]
fn garbage_never_panics() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x6a7b);
    for suite in CipherSuite::ALL {
        let k = keys(suite, 14);
        let mut opener = Opener::new(k.clone()).unwrap();
        for _ in 0..2000 {
            let len = rng.gen_range(0..80);
            let mut rec: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if len >= 5 && rng.gen_bool(0.7) {
                // Plausible headers with consistent lengths.
                rec[0] = [21u8, 22, 23][rng.gen_range(0..3)];
                rec[1] = 3;
                rec[2] = 3;
                rec[3..5].copy_from_slice(&((len - 5) as u16).to_be_bytes());
            }
            let e = opener.open_in_place(&mut rec).unwrap_err();
            let _ = e.alert();
            assert_eq!(opener.seq(), 0);
        }
    }
    let mut d = Deframer::new();
    let noise: Vec<u8> = (0..5000).map(|_| rng.gen()).collect();
    d.push(&noise);
    assert!(d.next_record().is_err());
}

#[test]
fn start_aligns_the_payload_and_reuses_the_buffer() {
    for suite in CipherSuite::ALL {
        let mut sealer = Sealer::new(keys(suite, 15)).unwrap();
        let mut opener = Opener::new(keys(suite, 15)).unwrap();
        let mut buf = BytesMut::new();
        for i in 0..200 {
            sealer.start(&mut buf);
            assert_eq!((buf.as_ptr() as usize + sealer.header_room()) % 64, 0);
            assert_eq!(buf.len(), sealer.header_room());
            let cap = buf.capacity();
            buf.resize(sealer.header_room() + i * 80, i as u8);
            sealer.seal(ContentType::ApplicationData, &mut buf).unwrap();
            assert_eq!(buf.capacity(), cap, "no reallocation while sealing");
            let (_, pt) = opener.open(buf.clone()).unwrap();
            assert_eq!(&pt[..], &vec![i as u8; i * 80][..]);
        }
        // A buffer sized to its records keeps its place from one record
        // to the next: no reallocation, no move of its start.
        let mut buf = BytesMut::new();
        let mut at = None;
        for i in 0..50 {
            sealer.start_with_capacity(&mut buf, 100);
            assert_eq!((buf.as_ptr() as usize + sealer.header_room()) % 64, 0);
            assert_eq!(buf.len(), sealer.header_room());
            assert_eq!(*at.get_or_insert(buf.as_ptr()), buf.as_ptr(), "record {i}");
            buf.extend_from_slice(&[i as u8; 100]);
            sealer.seal(ContentType::ApplicationData, &mut buf).unwrap();
            let (_, pt) = opener.open(buf.clone()).unwrap();
            assert_eq!(&pt[..], &[i as u8; 100][..]);
        }
    }
}

#[test]
fn with_seq_continues_a_direction() {
    for suite in CipherSuite::ALL {
        let k = keys(suite, 0x5a);
        let mut first = Sealer::new(k.clone()).unwrap();
        let mut opener = Opener::new(k.clone()).unwrap();
        for i in 0..3u8 {
            let mut r = seal_vec(&mut first, ContentType::ApplicationData, &[i; 40], 0);
            opener.open_in_place(&mut r).unwrap();
        }
        // A sealer taking over at seq 3 produces exactly the record the
        // first one would have; an opener resumed at 3 opens it.
        let mut resumed = Sealer::with_seq(k.clone(), 3).unwrap();
        assert_eq!(resumed.seq(), 3);
        let a = seal_vec(&mut first, ContentType::ApplicationData, b"next", 0);
        let b = seal_vec(&mut resumed, ContentType::ApplicationData, b"next", 0);
        assert_eq!(a, b, "{suite}");
        let mut late = Opener::with_seq(k.clone(), 3).unwrap();
        let mut r = b.to_vec();
        assert_eq!(late.open_in_place(&mut r).unwrap().1, b"next");
        // At the wrong sequence number the record does not authenticate.
        let mut early = Opener::with_seq(k, 2).unwrap();
        let mut r = a.to_vec();
        assert_eq!(early.open_in_place(&mut r), Err(Error::BadRecordMac));
        // The usage limit holds for a resumed sealer too.
        let mut spent = Sealer::with_seq(keys(suite, 1), AES_GCM_RECORD_LIMIT).unwrap();
        let mut buf = BytesMut::new();
        assert_eq!(
            spent.seal_payload(ContentType::ApplicationData, b"x", &mut buf),
            Err(Error::KeyUsageLimit)
        );
    }
}

#[test]
fn tls12_explicit_nonce_mask() {
    let suite = CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;
    let mask = [0xa5, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];
    let masked = keys(suite, 9).with_explicit_nonce_mask(mask).unwrap();
    let mut sealer = Sealer::with_seq(masked.clone(), 5).unwrap();
    let r = seal_vec(&mut sealer, ContentType::ApplicationData, b"masked", 0);
    let explicit = (5u64 ^ u64::from_be_bytes(mask)).to_be_bytes();
    assert_eq!(&r[5..13], &explicit);
    // Independently: AES-GCM with nonce salt || explicit, AAD for seq 5.
    let aead = AesGcm::with_backend(masked.key(), Backend::Portable).unwrap();
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(masked.iv());
    nonce[4..].copy_from_slice(&explicit);
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&5u64.to_be_bytes());
    aad[8..].copy_from_slice(&[23, 3, 3, 0, 6]);
    let mut text = *b"masked";
    let tag = aead
        .seal_in_place_detached(&nonce, &aad, &mut text)
        .unwrap();
    assert_eq!(&r[13..19], &text);
    assert_eq!(&r[19..], &tag);
    // Any opener of the direction reads it: the explicit part travels.
    let mut opener = Opener::with_seq(keys(suite, 9), 5).unwrap();
    let mut rec = r.to_vec();
    assert_eq!(opener.open_in_place(&mut rec).unwrap().1, b"masked");
    // TLS 1.3 has no explicit nonce.
    assert!(matches!(
        keys(CipherSuite::TLS13_AES_128_GCM_SHA256, 1).with_explicit_nonce_mask(mask),
        Err(Error::Misuse(_))
    ));
}
