//! `aead::AesGcm` on every backend this CPU runs (`Backend::available()`).
//!
//! Opening arbitrary key/nonce/AAD/ciphertext/tag must fail the same way on
//! every backend: a typed parameter error (buffer untouched) or the one
//! opaque authentication error with the buffer zeroed (SP 800-38D 7.2). Only
//! a message that re-seals to the same ciphertext and tag may open. Sealing
//! arbitrary input gives byte-identical ciphertext and tag on every backend,
//! opens back on every backend (also with the tag truncated to each allowed
//! length), and fails to open once any bit of ciphertext, tag, AAD or nonce
//! is flipped. Buffers sit at a fuzzer-chosen alignment offset.

use super::input::Input;
use sealwire::aead::{AesGcm, Backend, Error};

/// Tag lengths SP 800-38D 5.2.1.2 allows.
const TAG_LENS: [usize; 7] = [16, 15, 14, 13, 12, 8, 4];

/// `data` copied `offset` bytes into a fresh buffer (every alignment).
fn placed(data: &[u8], offset: usize) -> Vec<u8> {
    let mut v = vec![0xa5; offset + data.len()];
    v[offset..].copy_from_slice(data);
    v
}

struct Message {
    nonce: Vec<u8>,
    aad: Vec<u8>,
    text: Vec<u8>,
}

/// Opens `m` with `tag` on every backend; all must agree. Returns the
/// plaintext if it opened.
fn open_all(keys: &[AesGcm], m: &Message, tag: &[u8], offset: usize) -> Result<Vec<u8>, Error> {
    let mut first: Option<Result<Vec<u8>, Error>> = None;
    for k in keys {
        let mut buf = placed(&m.text, offset);
        let res = k.open_in_place_detached(&m.nonce, &m.aad, &mut buf[offset..], tag);
        assert!(
            buf[..offset].iter().all(|&b| b == 0xa5),
            "{}: wrote before the buffer",
            k.backend()
        );
        let res = match res {
            Ok(()) => Ok(buf[offset..].to_vec()),
            Err(Error::Authentication) => {
                assert!(
                    buf[offset..].iter().all(|&b| b == 0),
                    "{}: buffer not zeroed after a failed open",
                    k.backend()
                );
                Err(Error::Authentication)
            }
            Err(e) => {
                assert_eq!(
                    buf[offset..],
                    m.text[..],
                    "{}: refused input was changed",
                    k.backend()
                );
                Err(e)
            }
        };
        match &first {
            None => first = Some(res),
            Some(f) => assert_eq!(
                &res,
                f,
                "{} disagrees with {}",
                k.backend(),
                keys[0].backend()
            ),
        }
    }
    first.expect("at least the portable backend")
}

/// What a parameter check must say, if anything (tag length first).
fn parameter_error(m: &Message, tag_len: usize) -> Option<Error> {
    if !TAG_LENS.contains(&tag_len) {
        Some(Error::TagLength(tag_len))
    } else if m.nonce.is_empty() {
        Some(Error::NonceLength(0))
    } else {
        None
    }
}

/// Runs one input and returns 1 if it got to the round trip (0 for an
/// empty nonce). Layout: key_len(1) key nonce_len(1) nonce aad_len(2) aad
/// tag_sel(1) offset(1) flip(2) text_len(2) tag text.
pub fn run(data: &[u8]) -> usize {
    let mut inp = Input::new(data);
    let key_len = [16, 24, 32][usize::from(inp.u8()) % 3];
    let key = inp.bytes(key_len);
    let nonce_len = match inp.u8() {
        0 => 0,
        n if n < 160 => 12,
        n => usize::from(n - 159),
    };
    let nonce = inp.bytes(nonce_len);
    let aad_len = usize::from(inp.u16() % 600);
    let aad = inp.bytes(aad_len);
    let tag_sel = inp.u8();
    let tag_len = if tag_sel < 200 {
        TAG_LENS[usize::from(tag_sel) % TAG_LENS.len()]
    } else {
        usize::from(tag_sel - 200) % 18
    };
    let offset = usize::from(inp.u8() % 64);
    let flip = inp.u16();
    let text_sel = inp.u16();
    let text_len = if text_sel & 0x8000 != 0 {
        usize::from(text_sel & 0x7fff) % 20_000
    } else {
        usize::from(text_sel % 600)
    };
    let tag = inp.bytes(tag_len);
    let text = inp.bytes(text_len);

    let keys: Vec<AesGcm> = Backend::available()
        .into_iter()
        .map(|b| AesGcm::with_backend(&key, b).expect("available backend"))
        .collect();
    let m = Message { nonce, aad, text };

    // 1. Arbitrary ciphertext and tag.
    let want = parameter_error(&m, tag_len);
    match (open_all(&keys, &m, &tag, offset), want) {
        (Err(e), Some(w)) => assert_eq!(e, w),
        (Err(e), None) => assert_eq!(e, Error::Authentication),
        (Ok(pt), None) => {
            // Only an authentic message opens: re-sealing gives it back.
            let mut again = pt.clone();
            let full = keys[0]
                .seal_in_place_detached(&m.nonce, &m.aad, &mut again)
                .expect("seal");
            assert_eq!(again, m.text, "opened, but re-seals to another ciphertext");
            assert_eq!(
                &full[..tag_len],
                &tag[..],
                "opened with a tag it does not have"
            );
        }
        (Ok(_), Some(w)) => panic!("opened despite {w:?}"),
    }

    // 2. Round trip of the same bytes as plaintext: every backend seals
    //    them to the same ciphertext and tag.
    let mut sealed: Option<(Vec<u8>, [u8; 16])> = None;
    for k in &keys {
        let mut buf = placed(&m.text, offset);
        let res = k.seal_in_place_detached(&m.nonce, &m.aad, &mut buf[offset..]);
        assert!(buf[..offset].iter().all(|&b| b == 0xa5));
        match res {
            Ok(t) => {
                let out = (buf[offset..].to_vec(), t);
                match &sealed {
                    None => sealed = Some(out),
                    Some(s) => assert!(
                        *s == out,
                        "{} seals differently from {}",
                        k.backend(),
                        keys[0].backend()
                    ),
                }
            }
            Err(e) => {
                assert!(m.nonce.is_empty(), "{}: seal refused: {e:?}", k.backend());
                assert_eq!(e, Error::NonceLength(0));
                assert_eq!(buf[offset..], m.text[..], "refused seal changed the buffer");
            }
        }
    }
    let Some((ct, full_tag)) = sealed else {
        return 0;
    };
    let c = Message {
        nonce: m.nonce.clone(),
        aad: m.aad.clone(),
        text: ct,
    };
    assert_eq!(open_all(&keys, &c, &full_tag, offset), Ok(m.text.clone()));
    if TAG_LENS.contains(&tag_len) {
        assert_eq!(
            open_all(&keys, &c, &full_tag[..tag_len], offset),
            Ok(m.text.clone()),
            "truncated tag"
        );
    }

    // 3. One flipped bit in ciphertext, tag, AAD or nonce is refused.
    let mut bad = Message {
        nonce: c.nonce.clone(),
        aad: c.aad.clone(),
        text: c.text.clone(),
    };
    let mut bad_tag = full_tag;
    let bit = usize::from(flip >> 2);
    let field: &mut [u8] = match flip & 3 {
        0 if !bad.text.is_empty() => &mut bad.text,
        1 if !bad.aad.is_empty() => &mut bad.aad,
        2 => &mut bad.nonce,
        _ => &mut bad_tag,
    };
    let bit = bit % (field.len() * 8);
    field[bit / 8] ^= 1 << (bit % 8);
    assert_eq!(
        open_all(&keys, &bad, &bad_tag, offset),
        Err(Error::Authentication),
        "a flipped bit went unnoticed"
    );
    1
}
