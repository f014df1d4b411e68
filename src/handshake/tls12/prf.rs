//! The TLS 1.2 key schedule: the PRF (RFC 5246 section 5), the extended
//! master secret (RFC 7627 section 4), the key block (RFC 5246 section 6.3,
//! with the AEAD layout of RFC 5288 section 3) and Finished verify_data
//! (RFC 5246 section 7.4.9).
//!
//! ```text
//!  pre_master_secret (ECDHE shared x-coordinate / X25519 output)
//!        │  PRF(pms, "extended master secret", session_hash)[0..48]
//!        │  session_hash = Hash(ClientHello .. ClientKeyExchange)   RFC 7627 3
//!        ▼
//!  MasterSecret (48 bytes) ──PRF(ms, "client finished" | "server finished",
//!        │                        Hash(handshake_messages))[0..12] ──▶ verify_data
//!        │  PRF(ms, "key expansion", server_random + client_random)
//!        ▼
//!  key_block = client_write_key | server_write_key | client_write_IV(4) | server_write_IV(4)
//! ```
//!
//! The PRF hash is the suite's hash ([`HashAlg`]): P_SHA256 for the
//! `*_SHA256` suites of RFC 5289, P_SHA384 for the `*_SHA384` ones.
//!
//! The typestate is one-way: a [`MasterSecret`] can only be made from a
//! [`PreMasterSecret`] and a session hash (classic, non-EMS master secrets
//! are not supported at all), and the record keys only from a
//! [`MasterSecret`]. Every secret is zeroized on drop and never printed.

#![forbid(unsafe_code)]

use super::transcript::HashAlg;
use super::KeyLogSink;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// `PRF(secret, label, seed)` into `out` (RFC 5246 section 5):
///
/// ```text
/// PRF(secret, label, seed) = P_<hash>(secret, label + seed)
/// P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
///                        HMAC_hash(secret, A(2) + seed) + ...
/// A(0) = seed,  A(i) = HMAC_hash(secret, A(i-1))
/// ```
///
/// `seed` is given in parts that are concatenated (the key block's seed is
/// server_random + client_random), so no caller has to allocate for it.
pub fn prf(hash: HashAlg, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    match hash {
        HashAlg::Sha256 => p_hash::<Hmac<Sha256>>(secret, label, seed, out),
        HashAlg::Sha384 => p_hash::<Hmac<Sha384>>(secret, label, seed, out),
    }
}

fn p_hash<M: Mac + hmac::digest::KeyInit + Clone>(
    secret: &[u8],
    label: &[u8],
    seed: &[&[u8]],
    out: &mut [u8],
) {
    // HMAC takes keys of any length (RFC 2104 section 2), so this cannot fail.
    let keyed = <M as hmac::digest::KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    // A(1) = HMAC(secret, A(0)) with A(0) = label + seed.
    let mut a = {
        let mut m = keyed.clone();
        m.update(label);
        for part in seed {
            m.update(part);
        }
        Zeroizing::new(m.finalize().into_bytes().to_vec())
    };
    for chunk in out.chunks_mut(a.len()) {
        let mut m = keyed.clone();
        m.update(&a);
        m.update(label);
        for part in seed {
            m.update(part);
        }
        let block = Zeroizing::new(m.finalize().into_bytes().to_vec());
        chunk.copy_from_slice(&block[..chunk.len()]);
        let mut m = keyed.clone();
        m.update(&a);
        a = Zeroizing::new(m.finalize().into_bytes().to_vec());
    }
}

/// The ECDHE shared secret used as the pre-master secret (RFC 8422 section
/// 5.10: the x-coordinate for secp256r1, the X25519 output as is).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PreMasterSecret(Vec<u8>);

impl PreMasterSecret {
    /// Wraps the shared secret of the key exchange.
    pub fn new(shared: Vec<u8>) -> Self {
        PreMasterSecret(shared)
    }
}

impl fmt::Debug for PreMasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreMasterSecret(..)")
    }
}

/// Length of the master secret (RFC 5246 section 8.1).
pub const MASTER_SECRET_LEN: usize = 48;
/// Length of Finished.verify_data for every TLS 1.2 suite sealwire has
/// (RFC 5246 section 7.4.9: verify_data_length defaults to 12).
pub const VERIFY_DATA_LEN: usize = 12;
/// Length of the implicit part of the AES-GCM nonce, the "salt" that the key
/// block gives as client/server_write_IV (RFC 5288 section 3).
pub const FIXED_IV_LEN: usize = 4;

/// Which side's Finished: the label of RFC 5246 section 7.4.9.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishedLabel {
    /// "client finished"
    Client,
    /// "server finished"
    Server,
}

impl FinishedLabel {
    fn label(self) -> &'static [u8] {
        match self {
            FinishedLabel::Client => b"client finished",
            FinishedLabel::Server => b"server finished",
        }
    }
}

/// The 48-byte master secret, derived only the RFC 7627 way.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MasterSecret {
    #[zeroize(skip)]
    hash: HashAlg,
    secret: [u8; MASTER_SECRET_LEN],
}

impl fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterSecret({}, ..)", self.hash.name())
    }
}

impl MasterSecret {
    /// RFC 7627 section 4:
    /// `master_secret = PRF(pre_master_secret, "extended master secret",
    /// session_hash)[0..47]`, where `session_hash` is the transcript hash
    /// from ClientHello up to and including ClientKeyExchange.
    pub fn extended(hash: HashAlg, pms: PreMasterSecret, session_hash: &[u8]) -> Self {
        let mut secret = [0u8; MASTER_SECRET_LEN];
        prf(
            hash,
            &pms.0,
            b"extended master secret",
            &[session_hash],
            &mut secret,
        );
        MasterSecret { hash, secret }
    }

    /// The PRF hash this secret was made with.
    pub fn hash(&self) -> HashAlg {
        self.hash
    }

    /// Finished.verify_data (RFC 5246 section 7.4.9):
    /// `PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]`.
    pub fn verify_data(&self, side: FinishedLabel, handshake_hash: &[u8]) -> [u8; VERIFY_DATA_LEN] {
        let mut out = [0u8; VERIFY_DATA_LEN];
        prf(
            self.hash,
            &self.secret,
            side.label(),
            &[handshake_hash],
            &mut out,
        );
        out
    }

    /// The key block for an AEAD suite with `key_len`-byte keys (RFC 5246
    /// section 6.3; mac_key_length is 0 for AEAD suites, and
    /// fixed_iv_length is 4 for AES-GCM, RFC 5288 section 3):
    ///
    /// ```text
    /// key_block = PRF(master_secret, "key expansion", server_random + client_random)
    ///           = client_write_key[key_len] server_write_key[key_len]
    ///             client_write_IV[4]        server_write_IV[4]
    /// ```
    pub fn key_block(
        &self,
        key_len: usize,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> KeyBlock {
        let mut block = Zeroizing::new(vec![0u8; 2 * key_len + 2 * FIXED_IV_LEN]);
        prf(
            self.hash,
            &self.secret,
            b"key expansion",
            &[server_random, client_random],
            &mut block,
        );
        let (client_key, rest) = block.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let (client_iv, server_iv) = rest.split_at(FIXED_IV_LEN);
        let mut kb = KeyBlock {
            client_write_key: client_key.to_vec(),
            server_write_key: server_key.to_vec(),
            client_write_iv: [0; FIXED_IV_LEN],
            server_write_iv: [0; FIXED_IV_LEN],
        };
        kb.client_write_iv.copy_from_slice(client_iv);
        kb.server_write_iv.copy_from_slice(server_iv);
        kb
    }

    /// Writes the NSS key log line for this session (`CLIENT_RANDOM
    /// <client random> <master secret>`) if the user asked for a key log
    /// (`--keylog`); nothing otherwise.
    pub fn log(&self, keylog: &KeyLogSink, client_random: &[u8; 32]) {
        keylog.log("CLIENT_RANDOM", client_random, &self.secret);
    }
}

/// The session keys of an AES-GCM suite, split from the key block.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct KeyBlock {
    /// client_write_key: seals client → server records.
    pub client_write_key: Vec<u8>,
    /// server_write_key: seals server → client records.
    pub server_write_key: Vec<u8>,
    /// client_write_IV: the 4-byte salt of the client's nonces.
    pub client_write_iv: [u8; FIXED_IV_LEN],
    /// server_write_IV: the 4-byte salt of the server's nonces.
    pub server_write_iv: [u8; FIXED_IV_LEN],
}

impl fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyBlock({}-byte keys, ..)", self.client_write_key.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cases() -> Vec<HashMap<String, String>> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/tls12_prf.txt");
        let text = std::fs::read_to_string(path).expect("vectors/tls12_prf.txt");
        let mut out = Vec::new();
        let mut cur = HashMap::new();
        for line in text.lines().chain(std::iter::once("")) {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            if line.is_empty() {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                continue;
            }
            let (k, v) = line.split_once(" = ").expect("`Key = value` line");
            cur.insert(k.to_string(), v.to_string());
        }
        out
    }

    fn hx(case: &HashMap<String, String>, key: &str) -> Vec<u8> {
        hex::decode(&case[key]).expect("hex field")
    }

    #[test]
    fn vectors_file_byte_for_byte() {
        let cases = cases();
        let mut per_use = HashMap::new();
        for case in &cases {
            let hash = match case["Hash"].as_str() {
                "SHA256" => HashAlg::Sha256,
                "SHA384" => HashAlg::Sha384,
                other => panic!("unknown hash {other}"),
            };
            let secret = hx(case, "Secret");
            let seed = hx(case, "Seed");
            let want = hx(case, "Output");
            let got: Vec<u8> = match case["Use"].as_str() {
                "prf" => {
                    let mut out = vec![0u8; want.len()];
                    prf(hash, &secret, case["Label"].as_bytes(), &[&seed], &mut out);
                    out
                }
                "ems" => {
                    let ms = MasterSecret::extended(hash, PreMasterSecret::new(secret), &seed);
                    ms.secret.to_vec()
                }
                "keyblock" => {
                    let ms = MasterSecret {
                        hash,
                        secret: secret.try_into().expect("48-byte master secret"),
                    };
                    let key_len = (want.len() - 2 * FIXED_IV_LEN) / 2;
                    let sr: [u8; 32] = seed[..32].try_into().unwrap();
                    let cr: [u8; 32] = seed[32..].try_into().unwrap();
                    let kb = ms.key_block(key_len, &cr, &sr);
                    [
                        &kb.client_write_key[..],
                        &kb.server_write_key[..],
                        &kb.client_write_iv[..],
                        &kb.server_write_iv[..],
                    ]
                    .concat()
                }
                u @ ("client_finished" | "server_finished") => {
                    let ms = MasterSecret {
                        hash,
                        secret: secret.try_into().expect("48-byte master secret"),
                    };
                    let side = if u == "client_finished" {
                        FinishedLabel::Client
                    } else {
                        FinishedLabel::Server
                    };
                    ms.verify_data(side, &seed).to_vec()
                }
                other => panic!("unknown Use {other}"),
            };
            assert_eq!(hex::encode(&got), hex::encode(&want), "{case:?}");
            *per_use.entry(case["Use"].clone()).or_insert(0) += 1;
        }
        // Every kind of case is present for both hashes: a truncated file fails.
        for u in [
            "prf",
            "ems",
            "keyblock",
            "client_finished",
            "server_finished",
        ] {
            assert_eq!(per_use.get(u), Some(&2), "cases of Use = {u}");
        }
    }

    #[test]
    fn prf_prefix_consistent_and_label_sensitive() {
        // Any output length is a prefix of a longer one (P_hash is a stream).
        let mut long = [0u8; 200];
        prf(HashAlg::Sha384, b"k", b"label", &[b"se", b"ed"], &mut long);
        for n in [0usize, 1, 31, 32, 47, 48, 49, 96, 199] {
            let mut short = vec![0u8; n];
            prf(HashAlg::Sha384, b"k", b"label", &[b"seed"], &mut short);
            assert_eq!(&short[..], &long[..n]);
        }
        let mut other = [0u8; 200];
        prf(HashAlg::Sha384, b"k", b"labek", &[b"seed"], &mut other);
        assert_ne!(long, other);
    }

    #[derive(Default)]
    struct Capture(std::sync::Mutex<Vec<String>>);

    impl crate::handshake::KeyLog for Capture {
        fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
            let line = format!(
                "{label} {} {}",
                hex::encode(client_random),
                hex::encode(secret)
            );
            self.0.lock().unwrap().push(line);
        }
    }

    #[test]
    fn debug_hides_secrets_and_keylog_is_nss_format() {
        let ms = MasterSecret::extended(
            HashAlg::Sha256,
            PreMasterSecret::new(vec![0xAB; 32]),
            &[0u8; 32],
        );
        let shown = format!("{ms:?} {:?}", ms.key_block(16, &[1; 32], &[2; 32]));
        assert!(!shown.contains(&hex::encode(&ms.secret[..4])));
        assert!(shown.starts_with("MasterSecret(SHA-256"));
        // No sink configured: nothing happens.
        ms.log(&KeyLogSink::default(), &[0x11; 32]);
        let cap = std::sync::Arc::new(Capture::default());
        ms.log(&KeyLogSink(Some(cap.clone())), &[0x11; 32]);
        let lines = cap.0.lock().unwrap().clone();
        assert_eq!(
            lines,
            vec![format!(
                "CLIENT_RANDOM {} {}",
                "11".repeat(32),
                hex::encode(ms.secret)
            )]
        );
    }
}
