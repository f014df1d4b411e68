//! The fuzz targets' bodies (`fuzz/src/`) on stable, in the normal test
//! suite: each body runs on every file of `fuzz/corpus/<target>/`, on
//! seeded pseudo-random inputs, on structured inputs built to get past the
//! first checks (valid record streams, encoded handshake messages, AEAD
//! inputs at block-boundary lengths), and on mutations of all of these.
//!
//! A failing input is written to `target/fuzz_replay/<target>.bin`, so
//! `cargo +nightly fuzz run <target> <file>` (in `fuzz/`) reproduces it.

#[path = "../fuzz/src/lib.rs"]
mod bodies;

use bytes::BytesMut;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sealwire::handshake::codec::Writer;
use sealwire::handshake::kx::KeyExchange;
use sealwire::handshake::messages::{
    build, encode_finished, encode_key_update, ext, hs_type, version, Certificate13, ClientHello,
    DigitallySigned, EncryptedExtensions, Extension, HandshakeMessage, KeyShareEntry, ServerHello,
};
use sealwire::handshake::tls12::messages as m12;
use sealwire::record::{frame_plaintext, CipherSuite, ContentType};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// Debug builds (`cargo test`) run half the release iterations.
fn scaled(n: usize) -> usize {
    if cfg!(debug_assertions) {
        n / 2
    } else {
        n
    }
}

fn random_bytes(r: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    r.fill(&mut v[..]);
    v
}

/// Random bytes, as many as a random pick from `lens`.
fn some_bytes(r: &mut ChaCha8Rng, lens: std::ops::Range<usize>) -> Vec<u8> {
    let len = r.gen_range(lens);
    random_bytes(r, len)
}

/// A length biased towards small values and block boundaries.
fn length(r: &mut ChaCha8Rng, max: usize) -> usize {
    let n = match r.gen_range(0..8) {
        0..=3 => r.gen_range(0..64),
        4 => r.gen_range(0..=256),
        5 => (r.gen_range(0..=64usize) * 16 + r.gen_range(0..3)).saturating_sub(1),
        6 => r.gen_range(0..2048),
        _ => r.gen_range(0..=max),
    };
    n.min(max)
}

/// One to four libFuzzer-style edits: bit flips, byte values at the
/// boundaries, insertions, deletions, duplicated ranges, truncation.
fn mutate(r: &mut ChaCha8Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..r.gen_range(1..=4) {
        let len = v.len();
        match r.gen_range(0..7) {
            0 if len > 0 => {
                let i = r.gen_range(0..len);
                v[i] ^= 1 << r.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = r.gen_range(0..len);
                v[i] = [0, 1, 0x7f, 0x80, 0xff, 23, 22, 3][r.gen_range(0..8)];
            }
            2 => {
                let i = r.gen_range(0..=len);
                let ins = some_bytes(r, 1..16);
                v.splice(i..i, ins);
            }
            3 if len > 0 => {
                let i = r.gen_range(0..len);
                let j = r.gen_range(i..=len.min(i + 32));
                v.drain(i..j);
            }
            4 if len > 0 => {
                let i = r.gen_range(0..len);
                let j = r.gen_range(i..=len.min(i + 64));
                let dup = v[i..j].to_vec();
                let at = r.gen_range(0..=len);
                v.splice(at..at, dup);
            }
            5 if len > 0 => v.truncate(r.gen_range(0..len)),
            _ if len >= 2 => {
                // A big-endian length field set to a nearby or extreme value.
                let i = r.gen_range(0..len - 1);
                let x =
                    [0u16, 1, 0x3fff, 0x4000, 0x4001, 0x4100, 0x4800, 0xffff][r.gen_range(0..8)];
                v[i..i + 2].copy_from_slice(&x.to_be_bytes());
            }
            _ => v.push(r.gen()),
        }
    }
    v
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    // The corpus is part of the repository: a missing folder is a failure,
    // not a replay of nothing.
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("fuzz corpus {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries.map(|e| e.expect("corpus entry").path()).collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read(f).expect("corpus file"))
        .collect()
}

/// Runs `body` on one input; on a panic, saves the input and fails.
fn run_one(target: &str, body: fn(&[u8]) -> usize, input: &[u8], what: &str) -> usize {
    let Ok(depth) = catch_unwind(AssertUnwindSafe(|| body(input))) else {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz_replay");
        std::fs::create_dir_all(&dir).expect("create target/fuzz_replay");
        let file = dir.join(format!("{target}.bin"));
        std::fs::write(&file, input).expect("save failing input");
        panic!(
            "{target}: {what} input of {} bytes failed; saved to {}",
            input.len(),
            file.display()
        );
    };
    depth
}

/// Corpus files, `n` random inputs, `n` structured ones, and mutations of
/// corpus and structured inputs. Returns what the structured inputs reached
/// (each body counts records, round trips or accepted messages), so a test
/// notices when its inputs stop getting past the first checks.
fn replay(
    target: &str,
    seed: u64,
    n: usize,
    body: fn(&[u8]) -> usize,
    structured: fn(&mut ChaCha8Rng) -> Vec<u8>,
) -> usize {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let files = corpus(target);
    let mut depth = 0;
    for (i, f) in files.iter().enumerate() {
        run_one(target, body, f, &format!("corpus file #{i}"));
        for _ in 0..4 {
            let m = mutate(&mut r, f);
            run_one(target, body, &m, "mutated corpus");
        }
    }
    for i in 0..n {
        let len = length(&mut r, 4096);
        let input = random_bytes(&mut r, len);
        run_one(target, body, &input, &format!("random #{i}"));
        let s = structured(&mut r);
        depth += run_one(target, body, &s, &format!("structured #{i}"));
        let m = mutate(&mut r, &s);
        run_one(target, body, &m, &format!("mutated structured #{i}"));
    }
    eprintln!(
        "{target}: {} corpus files, {n} structured inputs reached {depth}",
        files.len()
    );
    depth
}

/// Deframer input: configuration, then a stream of mostly valid records,
/// many of them one byte either side of a length limit.
fn deframer_input(r: &mut ChaCha8Rng) -> Vec<u8> {
    let mode: u8 = r.gen();
    let mut v = vec![mode];
    let choices = [0u16, 1, 255, 0x4000, 0x4100, 0x4800, 0x4801, 0xffff];
    let mut lens = [0u16; 2];
    for l in &mut lens {
        *l = if r.gen() {
            choices[r.gen_range(0..8)]
        } else {
            r.gen_range(0..2000)
        };
        v.extend_from_slice(&l.to_be_bytes());
    }
    // The limits in force before and after the switch (see the body).
    let first = match mode % 4 {
        0 => 0x4800,
        1 => 0x4100,
        _ => lens[0].min(0x4800),
    };
    let limits = [usize::from(first), usize::from(lens[1].min(0x4800))];
    v.push(r.gen());
    v.extend_from_slice(&random_bytes(r, 8));
    for _ in 0..r.gen_range(0..10) {
        let typ = if r.gen_range(0..16) == 0 {
            r.gen()
        } else {
            r.gen_range(20..=23)
        };
        let ver: u16 = match r.gen_range(0..8) {
            0 => r.gen(),
            1 => 0x0301,
            2 => 0x0302,
            _ => 0x0303,
        };
        let len = if r.gen_range(0..3) == 0 {
            (limits[r.gen_range(0..2)] + r.gen_range(0..3)).saturating_sub(1)
        } else {
            length(r, 0x4810)
        };
        v.push(typ);
        v.extend_from_slice(&ver.to_be_bytes());
        v.extend_from_slice(&(len as u16).to_be_bytes());
        v.extend_from_slice(&random_bytes(r, len));
    }
    v
}

/// Record input: suite, backends, key and IV, then operations (seal round
/// trips, forged records with plausible headers, key updates).
fn record_input(r: &mut ChaCha8Rng) -> Vec<u8> {
    let s = r.gen_range(0..CipherSuite::ALL.len());
    let suite = CipherSuite::ALL[s];
    let mut v = vec![s as u8, r.gen(), r.gen()];
    v.extend_from_slice(&random_bytes(r, suite.key_len() + suite.iv_len()));
    for _ in 0..r.gen_range(1..8) {
        match r.gen_range(0..5) {
            0..=2 => {
                v.push(0);
                v.push(r.gen());
                let len = length(r, 0x4040);
                let sel = if len < 300 && r.gen() {
                    len as u16
                } else {
                    0x8000 | len as u16
                };
                v.extend_from_slice(&sel.to_be_bytes());
                v.push(if r.gen_range(0..3) == 0 { r.gen() } else { 0 });
                v.push(if r.gen_range(0..8) == 0 {
                    3
                } else {
                    r.gen_range(0..3)
                });
                v.extend_from_slice(&random_bytes(r, 2));
                if len > 1024 {
                    // The body fills a long payload past the end of the
                    // input with its own pattern: the last operation.
                    break;
                }
                v.extend_from_slice(&random_bytes(r, len));
            }
            3 => {
                v.push(2);
                v.push(r.gen());
                let len = length(r, 0x4860);
                v.extend_from_slice(&(0x8000 | len as u16).to_be_bytes());
                v.extend_from_slice(&random_bytes(r, len));
            }
            _ => {
                v.push(3);
                v.push(r.gen());
                v.extend_from_slice(&random_bytes(r, 44));
            }
        }
    }
    v
}

fn extension(r: &mut ChaCha8Rng) -> Extension {
    match r.gen_range(0..7) {
        0 => build::server_name(["a.test", "localhost", "x"][r.gen_range(0..3)]),
        1 => build::supported_versions_client(&[version::TLS13, version::TLS12]),
        2 => build::u16_list(ext::SUPPORTED_GROUPS, &[0x1d, 0x17]),
        3 => build::key_share_client(&[KeyShareEntry {
            group: 0x1d,
            key_exchange: random_bytes(r, 32),
        }]),
        4 => build::u16_list(ext::SIGNATURE_ALGORITHMS, &[0x0403, 0x0804, 0x0807]),
        5 => m12::ec_point_formats_ext(),
        _ => Extension {
            typ: r.gen(),
            data: some_bytes(r, 0..8),
        },
    }
}

fn extensions(r: &mut ChaCha8Rng) -> Vec<Extension> {
    let mut out: Vec<Extension> = Vec::new();
    for _ in 0..r.gen_range(0..6) {
        let e = extension(r);
        if !out.iter().any(|o| o.typ == e.typ) {
            out.push(e);
        }
    }
    out
}

/// One encoded handshake message of any kind the decoders know.
fn handshake_message(r: &mut ChaCha8Rng) -> HandshakeMessage {
    match r.gen_range(0..11) {
        0 => ClientHello {
            legacy_version: version::TLS12,
            random: r.gen(),
            session_id: some_bytes(r, 0..33),
            cipher_suites: vec![0x1301, 0x1302, 0xc02b],
            compression_methods: vec![0],
            extensions: extensions(r),
        }
        .encode(),
        1 => ServerHello {
            legacy_version: version::TLS12,
            random: r.gen(),
            session_id: some_bytes(r, 0..33),
            cipher_suite: 0x1301,
            compression_method: 0,
            extensions: extensions(r),
        }
        .encode(),
        2 => EncryptedExtensions {
            extensions: extensions(r),
        }
        .encode(),
        3 => Certificate13 {
            context: vec![],
            chain: (0..r.gen_range(0..3))
                .map(|_| some_bytes(r, 1..40))
                .collect(),
        }
        .encode(),
        4 => m12::Certificate12 {
            chain: (0..r.gen_range(0..3))
                .map(|_| some_bytes(r, 1..40))
                .collect(),
        }
        .encode(),
        5 => DigitallySigned {
            scheme: 0x0804,
            signature: some_bytes(r, 0..72),
        }
        .encode_certificate_verify(),
        6 => m12::ServerKeyExchange {
            params: m12::EcdhParams {
                group: 0x1d,
                public: random_bytes(r, 32),
            },
            signed: DigitallySigned {
                scheme: 0x0403,
                signature: some_bytes(r, 1..72),
            },
        }
        .encode(),
        7 => m12::encode_client_key_exchange(&some_bytes(r, 1..66)),
        8 => encode_key_update(r.gen()),
        9 => {
            let mut w = Writer::new();
            w.u32(r.gen()).u32(r.gen());
            w.vec8(|w| {
                w.bytes(&[1, 2]);
            });
            w.vec16(|w| {
                w.bytes(b"ticket");
            });
            w.vec16(|_| {});
            HandshakeMessage::new(hs_type::NEW_SESSION_TICKET, w.as_bytes())
        }
        _ => encode_finished(&random_bytes(r, 32)),
    }
}

/// Handshake input: one body (mode even) or a stream of framed messages
/// (mode odd).
fn handshake_input(r: &mut ChaCha8Rng) -> Vec<u8> {
    let stream = r.gen_bool(0.5);
    let mode: u8 = (r.gen::<u8>() & !1) | u8::from(stream);
    let mut v = vec![mode];
    v.extend_from_slice(&random_bytes(r, 8));
    if stream {
        for _ in 0..r.gen_range(1..5) {
            v.extend_from_slice(&handshake_message(r).raw);
        }
    } else {
        v.extend_from_slice(handshake_message(r).body());
    }
    v
}

/// Handshake peer input: for our server (mode even) a ClientHello for
/// TLS 1.3 or 1.2, maybe a ClientKeyExchange; for our client (mode odd) a
/// ServerHello for TLS 1.3 or 1.2, maybe with the rest of a TLS 1.2 server
/// flight. Then sometimes a ChangeCipherSpec and a random record.
fn peer_input(r: &mut ChaCha8Rng) -> Vec<u8> {
    let server = r.gen_bool(0.5);
    let tls13 = r.gen_bool(0.5);
    let mode: u8 = (r.gen::<u8>() & !1) | u8::from(!server);
    let mut v = vec![mode];
    v.extend_from_slice(&random_bytes(r, 8));
    let mut msgs: Vec<HandshakeMessage> = Vec::new();
    let mut exts = vec![
        m12::renegotiation_info_ext(),
        m12::extended_master_secret_ext(),
        m12::ec_point_formats_ext(),
    ];
    let group: u16 = if r.gen() { 0x1d } else { 0x17 };
    let share = KeyShareEntry {
        group,
        key_exchange: KeyExchange::generate(group)
            .expect("supported group")
            .public_key()
            .to_vec(),
    };
    if server {
        exts.push(build::u16_list(ext::SUPPORTED_GROUPS, &[0x1d, 0x17]));
        exts.push(build::u16_list(
            ext::SIGNATURE_ALGORITHMS,
            &[0x0807, 0x0403, 0x0804],
        ));
        if tls13 {
            exts.push(build::supported_versions_client(&[
                version::TLS13,
                version::TLS12,
            ]));
            exts.push(build::key_share_client(&[share]));
        }
        if r.gen() {
            exts.push(build::server_name("fuzz.test"));
        }
        msgs.push(
            ClientHello {
                legacy_version: version::TLS12,
                random: r.gen(),
                session_id: some_bytes(r, 0..33),
                cipher_suites: vec![0x1301, 0x1302, 0xc02b, 0xc02c, 0xc02f, 0xc030],
                compression_methods: vec![0],
                extensions: exts,
            }
            .encode(),
        );
        if !tls13 && r.gen() {
            msgs.push(m12::encode_client_key_exchange(&random_bytes(r, 32)));
        }
    } else {
        if tls13 {
            exts = vec![
                build::supported_versions_server(version::TLS13),
                build::key_share_server(&share),
            ];
        }
        msgs.push(
            ServerHello {
                legacy_version: version::TLS12,
                random: r.gen(),
                session_id: some_bytes(r, 0..33),
                cipher_suite: if tls13 { 0x1301 } else { 0xc02b },
                compression_method: 0,
                extensions: exts,
            }
            .encode(),
        );
        if !tls13 && r.gen() {
            msgs.push(
                m12::Certificate12 {
                    chain: vec![some_bytes(r, 1..64)],
                }
                .encode(),
            );
            msgs.push(
                m12::ServerKeyExchange {
                    params: m12::EcdhParams {
                        group,
                        public: share.key_exchange.clone(),
                    },
                    signed: DigitallySigned {
                        scheme: 0x0403,
                        signature: some_bytes(r, 1..72),
                    },
                }
                .encode(),
            );
            msgs.push(m12::encode_server_hello_done());
        }
    }
    let flight: Vec<u8> = msgs.iter().flat_map(|m| m.raw.iter().copied()).collect();
    let mut out = BytesMut::new();
    frame_plaintext(ContentType::Handshake, 0x0303, &flight, &mut out);
    if r.gen() {
        frame_plaintext(ContentType::ChangeCipherSpec, 0x0303, &[1], &mut out);
        let body = some_bytes(r, 1..64);
        frame_plaintext(ContentType::Handshake, 0x0303, &body, &mut out);
    }
    v.extend_from_slice(&out);
    v
}

/// AEAD input in the body's layout, at lengths around block and kernel
/// stride boundaries.
fn aead_input(r: &mut ChaCha8Rng) -> Vec<u8> {
    let ksel: u8 = r.gen_range(0..3);
    let mut v = vec![ksel];
    v.extend_from_slice(&random_bytes(r, [16, 24, 32][usize::from(ksel)]));
    let nsel: u8 = if r.gen_range(0..4) == 0 { r.gen() } else { 1 };
    v.push(nsel);
    let nonce_len = match nsel {
        0 => 0,
        n if n < 160 => 12,
        n => usize::from(n - 159),
    };
    v.extend_from_slice(&random_bytes(r, nonce_len));
    let aad_len = length(r, 599);
    v.extend_from_slice(&(aad_len as u16).to_be_bytes());
    v.extend_from_slice(&random_bytes(r, aad_len));
    let tsel: u8 = r.gen();
    v.push(tsel);
    v.push(r.gen());
    v.extend_from_slice(&random_bytes(r, 2));
    let text_len = length(r, 5000);
    v.extend_from_slice(&(0x8000 | text_len as u16).to_be_bytes());
    let tag_len = if tsel < 200 {
        [16, 15, 14, 13, 12, 8, 4][usize::from(tsel) % 7]
    } else {
        usize::from(tsel - 200) % 18
    };
    v.extend_from_slice(&random_bytes(r, tag_len + text_len));
    v
}

#[test]
fn deframer() {
    let n = scaled(4000);
    let records = replay("deframer", 0xdef0, n, bodies::deframer::run, deframer_input);
    assert!(records >= n / 2, "only {records} records came out");
}

#[test]
fn record_open() {
    let n = scaled(1200);
    let round_trips = replay(
        "record_open",
        0x4ec0,
        n,
        bodies::record_open::run,
        record_input,
    );
    assert!(
        round_trips >= n / 2,
        "only {round_trips} records round-tripped"
    );
}

#[test]
fn handshake_messages() {
    let n = scaled(4000);
    let accepted = replay(
        "handshake_messages",
        0x4a5d,
        n,
        bodies::handshake_messages::run,
        handshake_input,
    );
    assert!(accepted >= 2 * n, "only {accepted} messages decoded");
}

#[test]
fn handshake_peer() {
    let n = scaled(300);
    let answered = replay(
        "handshake_peer",
        0x9ee4,
        n,
        bodies::handshake_peer::run,
        peer_input,
    );
    assert!(answered >= n / 4, "only {answered} flights were answered");
}

#[test]
fn aead_open() {
    let n = scaled(600);
    let round_trips = replay("aead_open", 0xae4d, n, bodies::aead_open::run, aead_input);
    assert!(round_trips >= n * 3 / 4, "only {round_trips} round trips");
}

/// Resumption input: a decoder's mode byte, then a valid encoding for it
/// (pre_shared_key, NewSessionTicket, ke_modes, session state, session
/// file), from which mutations reach the checks past the lengths.
fn resumption_input(r: &mut ChaCha8Rng) -> Vec<u8> {
    use sealwire::handshake::tls13::psk::{OfferedPsks, PskIdentity, SessionStore, StoredTicket};
    use sealwire::handshake::tls13::tickets::{NewSessionTicket, SessionState};
    let sized = |r: &mut ChaCha8Rng, len: std::ops::Range<usize>| {
        let n = r.gen_range(len);
        random_bytes(r, n)
    };
    let mode: u8 = r.gen_range(0..5);
    let mut v = vec![mode];
    let psk = zeroize::Zeroizing::new(random_bytes(r, 32));
    match mode {
        0 => {
            let n = r.gen_range(1..4);
            let p = OfferedPsks {
                identities: (0..n)
                    .map(|_| PskIdentity {
                        identity: sized(r, 1..90),
                        obfuscated_age: r.gen(),
                    })
                    .collect(),
                binders: (0..n).map(|_| sized(r, 32..49)).collect(),
            };
            v.extend_from_slice(&p.extension().data);
        }
        1 => {
            let t = NewSessionTicket {
                lifetime: r.gen_range(0..700_000),
                age_add: r.gen(),
                nonce: sized(r, 0..9),
                ticket: sized(r, 1..120),
                extensions: Vec::new(),
            };
            v.extend_from_slice(t.encode().body());
        }
        2 => {
            let n = r.gen_range(1..3);
            v.push(n);
            v.extend((0..n).map(|_| r.gen_range(0..3u8)));
        }
        3 => {
            let s = SessionState {
                suite: 0x1301 + r.gen_range(0..2),
                created_ms: r.gen(),
                lifetime_ms: r.gen(),
                age_add: r.gen(),
                psk,
                server_name: r.gen::<bool>().then(|| "example.com".to_string()),
                alpn: r.gen::<bool>().then(|| b"h2".to_vec()),
            };
            v.extend_from_slice(&s.encode());
        }
        _ => {
            let store = SessionStore::new();
            store.insert(
                "localhost",
                StoredTicket {
                    ticket: sized(r, 1..60),
                    lifetime_secs: r.gen(),
                    age_add: r.gen(),
                    psk,
                    suite: 0x1301,
                    received_ms: r.gen_range(0..1 << 50),
                    alpn: None,
                },
            );
            v.extend_from_slice(store.to_text().as_bytes());
        }
    }
    v
}

#[test]
fn resumption() {
    let n = scaled(1500);
    let accepted = replay(
        "resumption",
        0x7e57,
        n,
        bodies::resumption::run,
        resumption_input,
    );
    assert!(accepted >= n * 3 / 4, "only {accepted} inputs decoded");
}
