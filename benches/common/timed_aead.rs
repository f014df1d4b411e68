//! A timing layer around a rustls provider's AEAD: every `encrypt` and
//! `decrypt` call of a wrapped suite is timed and added to its slot, so
//! the bulk bench can say what the record protection itself costs inside
//! rustls (caches and branch predictors as rustls leaves them), apart from
//! rustls's own buffering and copies.
//!
//! ```text
//!   rustls ──encrypt(msg, seq)──▶ Timed ──t0──▶ provider's encrypter ──t1──▶ slot[enc] += t1 - t0
//! ```
//!
//! Each timed call carries two clock reads (`clock_pair_ns` measures
//! them); the report subtracts that figure. A slot's sums are atomics so
//! the layer stays `Send + Sync` as rustls requires; the bench is single
//! threaded.

use rustls::crypto::cipher::{
    AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv, KeyBlockShape, MessageDecrypter,
    MessageEncrypter, OutboundOpaqueMessage, OutboundPlainMessage, Tls12AeadAlgorithm,
    Tls13AeadAlgorithm, UnsupportedOperationError,
};
use rustls::crypto::CryptoProvider;
use rustls::{
    CipherSuiteCommon, ConnectionTrafficSecrets, SupportedCipherSuite, Tls12CipherSuite,
    Tls13CipherSuite,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Summed nanoseconds and calls of one direction.
#[derive(Debug)]
pub struct Sums {
    ns: AtomicU64,
    calls: AtomicU64,
}

impl Sums {
    const fn new() -> Self {
        Sums {
            ns: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        }
    }

    fn add(&self, since: Instant) {
        self.ns
            .fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Mean nanoseconds per call since the last take, less `overhead`;
    /// the sums restart at zero.
    pub fn take(&self, overhead: f64) -> f64 {
        let ns = self.ns.swap(0, Ordering::Relaxed) as f64;
        let calls = self.calls.swap(0, Ordering::Relaxed).max(1) as f64;
        (ns / calls - overhead).max(0.0)
    }
}

/// The sums of one provider: encrypt and decrypt.
#[derive(Debug)]
pub struct Slot {
    pub enc: Sums,
    pub dec: Sums,
}

impl Slot {
    pub const fn new() -> Self {
        Slot {
            enc: Sums::new(),
            dec: Sums::new(),
        }
    }
}

/// Mean nanoseconds of `Instant::now()` followed by `elapsed()`: what the
/// layer adds to each timed call.
pub fn clock_pair_ns() -> f64 {
    let n = 200_000;
    let start = Instant::now();
    let mut sink = 0u128;
    for _ in 0..n {
        let t = Instant::now();
        sink = sink.wrapping_add(t.elapsed().as_nanos());
    }
    std::hint::black_box(sink);
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// `provider` with every suite's AEAD timed into `slot`.
pub fn wrap(mut provider: CryptoProvider, slot: &'static Slot) -> CryptoProvider {
    provider.cipher_suites = provider
        .cipher_suites
        .iter()
        .map(|s| match *s {
            SupportedCipherSuite::Tls13(base) => {
                let aead_alg: &'static Timed13 = Box::leak(Box::new(Timed13 {
                    inner: base.aead_alg,
                    slot,
                }));
                SupportedCipherSuite::Tls13(Box::leak(Box::new(Tls13CipherSuite {
                    common: common(&base.common),
                    hkdf_provider: base.hkdf_provider,
                    aead_alg,
                    quic: base.quic,
                })))
            }
            SupportedCipherSuite::Tls12(base) => {
                let aead_alg: &'static Timed12 = Box::leak(Box::new(Timed12 {
                    inner: base.aead_alg,
                    slot,
                }));
                SupportedCipherSuite::Tls12(Box::leak(Box::new(Tls12CipherSuite {
                    common: common(&base.common),
                    prf_provider: base.prf_provider,
                    kx: base.kx,
                    sign: base.sign,
                    aead_alg,
                })))
            }
        })
        .collect();
    provider
}

fn common(c: &CipherSuiteCommon) -> CipherSuiteCommon {
    CipherSuiteCommon {
        suite: c.suite,
        hash_provider: c.hash_provider,
        confidentiality_limit: c.confidentiality_limit,
    }
}

struct Timed13 {
    inner: &'static dyn Tls13AeadAlgorithm,
    slot: &'static Slot,
}

struct Timed12 {
    inner: &'static dyn Tls12AeadAlgorithm,
    slot: &'static Slot,
}

struct Enc(Box<dyn MessageEncrypter>, &'static Slot);
struct Dec(Box<dyn MessageDecrypter>, &'static Slot);

impl MessageEncrypter for Enc {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, rustls::Error> {
        let t = Instant::now();
        let r = self.0.encrypt(msg, seq);
        self.1.enc.add(t);
        r
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        self.0.encrypted_payload_len(payload_len)
    }
}

impl MessageDecrypter for Dec {
    fn decrypt<'a>(
        &mut self,
        msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, rustls::Error> {
        let t = Instant::now();
        let r = self.0.decrypt(msg, seq);
        self.1.dec.add(t);
        r
    }
}

impl Tls13AeadAlgorithm for Timed13 {
    fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        Box::new(Enc(self.inner.encrypter(key, iv), self.slot))
    }

    fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        Box::new(Dec(self.inner.decrypter(key, iv), self.slot))
    }

    fn key_len(&self) -> usize {
        self.inner.key_len()
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        self.inner.extract_keys(key, iv)
    }
}

impl Tls12AeadAlgorithm for Timed12 {
    fn encrypter(&self, key: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        Box::new(Enc(self.inner.encrypter(key, iv, extra), self.slot))
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        Box::new(Dec(self.inner.decrypter(key, iv), self.slot))
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        self.inner.key_block_shape()
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: &[u8],
        explicit: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        self.inner.extract_keys(key, iv, explicit)
    }
}
