//! AES-GCM (NIST SP 800-38D) with run-time dispatched backends.
//!
//! [`AesGcm`] holds an expanded key for one backend, chosen when the key is
//! built ([`Backend::best`], the `SEALWIRE_BACKEND` environment variable, read
//! once, or [`AesGcm::with_backend`]). Every seal and open is one `match` on
//! that choice, followed by the GCM framing in `gcm`, generic over the
//! backend's `Kernel`.
//!
//! What is shared (SP 800-38D section 7.1/7.2), and what a backend supplies:
//!
//! ```text
//!   J0      = IV || 0^31 || 1                  (12-byte IV)      gcm
//!           = GHASH(IV || 0^s || [len(IV)]_64)  (any other)      gcm
//!   S       = GHASH(A || 0^v || C || 0^u || [len(A)]_64 || [len(C)]_64)
//!               whole blocks: Kernel::ghash                      backend
//!               padding, length block                            gcm
//!   C       = GCTR(inc32(J0), P)
//!               whole blocks: Kernel::seal_blocks / open_blocks  backend
//!               partial last block                               gcm
//!   T       = MSB_t(GCTR(J0, S))                                 gcm
//! ```
//!
//! A backend may also take a whole message with a 96-bit IV
//! (`Kernel::seal_whole` / `open_whole`), built on the `gcm::Frame` (J0,
//! counters, length block) and the `gcm` partial-block helpers: one kernel
//! file and one `KeyImpl` arm per backend.

// No unsafe code here; the kernel files (and only they) allow it.
#![deny(unsafe_code)]

#[cfg(target_arch = "x86_64")]
mod aesni_clmul;
mod batch;
#[cfg(test)]
pub(crate) use batch::PARALLEL_MIN_BYTES;
pub(crate) use batch::{batch_open_gains, split_over_threads};
pub mod check;
mod gcm;
#[cfg(test)]
mod kernel_tests;
#[cfg(target_arch = "aarch64")]
mod neon;
mod portable;
mod rustcrypto;
#[cfg(feature = "aead")]
pub mod traits;
#[cfg(target_arch = "x86_64")]
mod vaes_avx2;
#[cfg(target_arch = "x86_64")]
mod vaes_avx512;

pub use batch::{
    open_batch, open_batch_parallel, seal_batch, seal_batch_parallel, OpenJob, SealJob,
};

#[cfg(feature = "aead")]
pub use traits::{Aes128Gcm, Aes256Gcm};

use core::fmt;
use std::sync::OnceLock;
use zeroize::Zeroize;

/// Largest plaintext SP 800-38D allows: 2^39 - 256 bits = 2^36 - 32 bytes.
pub const MAX_PLAINTEXT_LEN: u64 = (1 << 36) - 32;
/// AAD must be shorter than 2^64 bits, i.e. below 2^61 bytes.
pub const MAX_AAD_LEN: u64 = (1 << 61) - 1;
/// The IV length in bits must fit the 64-bit length field: below 2^61 bytes.
pub const MAX_NONCE_LEN: u64 = (1 << 61) - 1;

/// Errors of the AEAD layer. Authentication failure is deliberately opaque.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The key is not 16, 24 or 32 bytes.
    KeyLength(usize),
    /// The nonce is empty (or beyond the SP 800-38D limit).
    NonceLength(usize),
    /// The tag is not 16, 15, 14, 13, 12, 8 or 4 bytes.
    TagLength(usize),
    /// Plaintext or AAD beyond the SP 800-38D limits.
    TooLong,
    /// This CPU cannot run the named backend.
    Unavailable(Backend),
    /// `SEALWIRE_BACKEND` names no backend.
    UnknownBackend(String),
    /// The message did not authenticate; the buffer was zeroed.
    Authentication,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::KeyLength(n) => write!(f, "AES key must be 16, 24 or 32 bytes, not {n}"),
            Error::NonceLength(n) => write!(f, "GCM nonce of {n} bytes is not allowed"),
            Error::TagLength(n) => write!(
                f,
                "GCM tag must be 16, 15, 14, 13, 12, 8 or 4 bytes, not {n}"
            ),
            Error::TooLong => write!(f, "input exceeds the SP 800-38D length limits"),
            Error::Unavailable(b) => write!(f, "this CPU cannot run the {} backend", b.name()),
            Error::UnknownBackend(s) => write!(f, "unknown AES-GCM backend {s:?}"),
            Error::Authentication => write!(f, "authentication failed"),
        }
    }
}

impl std::error::Error for Error {}

/// An AES-GCM implementation strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// x86_64 VAES + VPCLMULQDQ on 512-bit registers (AVX-512), masked tails.
    VaesAvx512,
    /// x86_64 VAES + VPCLMULQDQ on 256-bit registers (AVX2).
    VaesAvx2,
    /// x86_64 AES-NI + PCLMULQDQ on 128-bit registers.
    AesniClmul,
    /// aarch64 AES + PMULL.
    Neon,
    /// The RustCrypto `aes` and `ghash` crates composed as CTR + GHASH.
    RustCrypto,
    /// Constant-time software: bitsliced S-box, masked GHASH.
    Portable,
}

impl Backend {
    /// Every backend, fastest first.
    pub const ALL: [Backend; 6] = [
        Backend::VaesAvx512,
        Backend::VaesAvx2,
        Backend::AesniClmul,
        Backend::Neon,
        Backend::RustCrypto,
        Backend::Portable,
    ];

    /// Every backend this CPU can run, fastest first.
    pub fn available() -> Vec<Backend> {
        Self::ALL.into_iter().filter(|b| b.is_available()).collect()
    }

    /// The backend [`AesGcm::new`] picks (without `SEALWIRE_BACKEND`): the
    /// first available one, except `vaes-avx512` on the Intel CPUs whose
    /// clock drops with 512-bit registers ([`crate::cpu::zmm_downclocks`]);
    /// there it can still be named.
    pub fn best() -> Backend {
        let zmm_slow = crate::cpu::zmm_downclocks();
        Self::ALL
            .into_iter()
            .filter(|&b| !(b == Backend::VaesAvx512 && zmm_slow))
            .find(|b| b.is_available())
            .unwrap_or(Backend::Portable)
    }

    /// Whether this CPU can run the backend.
    pub fn is_available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Backend::VaesAvx512 => crate::cpu::VaesAvx512::get().is_some(),
            #[cfg(target_arch = "x86_64")]
            Backend::VaesAvx2 => crate::cpu::VaesAvx2::get().is_some(),
            #[cfg(not(target_arch = "x86_64"))]
            Backend::VaesAvx2 | Backend::VaesAvx512 => false,
            Backend::AesniClmul => crate::cpu::AesClmul::get().is_some(),
            Backend::Neon => crate::cpu::Neon::get().is_some(),
            Backend::RustCrypto | Backend::Portable => true,
        }
    }

    /// The backend's name, as `from_name`, the CLI and `SEALWIRE_BACKEND` take it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::VaesAvx512 => "vaes-avx512",
            Backend::VaesAvx2 => "vaes-avx2",
            Backend::AesniClmul => "aesni-clmul",
            Backend::Neon => "neon",
            Backend::RustCrypto => "rustcrypto",
            Backend::Portable => "portable",
        }
    }

    /// The backend with this name.
    pub fn from_name(name: &str) -> Option<Backend> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The backend [`AesGcm::new`] uses: the one `SEALWIRE_BACKEND` names
    /// (an unknown name is [`Error::UnknownBackend`]), else [`Backend::best`].
    /// The environment is read once, on the first call.
    pub fn chosen() -> Result<Backend, Error> {
        static CHOSEN: OnceLock<Result<Backend, Error>> = OnceLock::new();
        CHOSEN
            .get_or_init(|| match std::env::var("SEALWIRE_BACKEND") {
                Ok(name) if !name.is_empty() => {
                    Backend::from_name(&name).ok_or(Error::UnknownBackend(name))
                }
                _ => Ok(Backend::best()),
            })
            .clone()
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a backend supplies to the GCM framing (`gcm`): the block cipher, GHASH
/// of whole blocks, and the bulk CTR(+GHASH) loop over whole blocks.
pub(crate) trait Kernel {
    /// The running GHASH value in whatever form the backend prefers.
    type Acc;

    /// A zero GHASH accumulator.
    fn acc_zero(&self) -> Self::Acc;
    /// The accumulator as the 16 bytes of SP 800-38D's GHASH output.
    fn acc_bytes(&self, acc: Self::Acc) -> [u8; 16];
    /// `acc = (acc ^ X_i) * H` for each 16-byte block of `blocks`
    /// (`blocks.len()` is a multiple of 16).
    fn ghash(&self, acc: &mut Self::Acc, blocks: &[u8]);
    /// Encrypts one block (used for E(K, J0) and the partial last block).
    fn encrypt_block(&self, block: &mut [u8; 16]);
    /// XORs the keystream of counter blocks `ctr, inc32(ctr), ...` into `buf`
    /// (whole blocks) and leaves `ctr` at the next unused counter.
    fn ctr32(&self, ctr: &mut [u8; 16], buf: &mut [u8]);

    /// Encrypts whole blocks and absorbs the ciphertext into GHASH.
    fn seal_blocks(&self, ctr: &mut [u8; 16], acc: &mut Self::Acc, buf: &mut [u8]) {
        self.ctr32(ctr, buf);
        self.ghash(acc, buf);
    }

    /// Absorbs whole ciphertext blocks into GHASH and decrypts them.
    fn open_blocks(&self, ctr: &mut [u8; 16], acc: &mut Self::Acc, buf: &mut [u8]) {
        self.ghash(acc, buf);
        self.ctr32(ctr, buf);
    }

    /// Optional whole-message path for a 96-bit IV (J0 = IV || 0^31 || 1,
    /// SP 800-38D 7.1 step 2): encrypts `buf` (lengths already checked by
    /// the framing) and returns the full 16-byte tag, or `None`, without
    /// touching `buf`, when the backend leaves the work to the generic
    /// framing. The kernel builds the message's [`gcm::Frame`] itself, inline
    /// (`Frame::new` is `#[inline(always)]`), so J0 and the length block
    /// reach its vector registers from general ones rather than through a
    /// frame in memory, whose halves a 16-byte load would not forward from.
    fn seal_whole(&self, _iv: &[u8; 12], _aad: &[u8], _buf: &mut [u8]) -> Option<[u8; 16]> {
        None
    }

    /// Optional whole-message path for a 96-bit IV, the counterpart of
    /// [`Kernel::seal_whole`] (SP 800-38D 7.2): decrypts `buf` and returns the
    /// full expected tag, or `None`, without touching `buf`. The framing
    /// compares the tag and zeroes `buf` on a mismatch.
    fn open_whole(&self, _iv: &[u8; 12], _aad: &[u8], _buf: &mut [u8]) -> Option<[u8; 16]> {
        None
    }
}

/// The expanded key of the chosen backend. Variants differ in size; boxing
/// would put a pointer chase on every seal and open, so they stay inline.
#[allow(clippy::large_enum_variant)]
enum KeyImpl {
    #[cfg(target_arch = "x86_64")]
    AesniClmul(aesni_clmul::Key),
    #[cfg(target_arch = "x86_64")]
    VaesAvx2(vaes_avx2::Key),
    #[cfg(target_arch = "x86_64")]
    VaesAvx512(vaes_avx512::Key),
    #[cfg(target_arch = "aarch64")]
    Neon(neon::Key),
    RustCrypto(rustcrypto::Key),
    Portable(portable::Key),
}

/// An AES-GCM key (AES-128, -192 or -256) bound to one backend.
///
/// Key material is zeroized on drop and never printed by `Debug`.
// `repr(C)` with the length first: it then shares a cache line with the
// backend's tag, so the batch path's grouping (backend, length) reads one
// line per key, the one dispatch reads anyway; left to the compiler, the
// length sat after the expanded key, a line no kernel touches.
#[repr(C)]
pub struct AesGcm {
    key_len: usize,
    imp: KeyImpl,
}

impl fmt::Debug for AesGcm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesGcm")
            .field("backend", &self.backend().name())
            .field("key_bits", &(self.key_len * 8))
            .finish_non_exhaustive()
    }
}

/// Checks an AES key length (16, 24 or 32 bytes).
pub(crate) fn check_key(key: &[u8]) -> Result<(), Error> {
    match key.len() {
        16 | 24 | 32 => Ok(()),
        n => Err(Error::KeyLength(n)),
    }
}

/// The AES key schedule (FIPS 197 5.2) of a 16-, 24- or 32-byte `key` as
/// `4 * (rounds + 1)` words, each the little-endian image of its four bytes
/// (so RotWord is a rotation right by 8 and Rcon goes into the low byte),
/// with the backend's SubWord (its AES instruction on a broadcast word).
/// Returns the words (the caller wipes them) and the number of rounds.
pub(crate) fn key_words(key: &[u8], sub_word: impl Fn(u32) -> u32) -> ([u32; 60], usize) {
    let nk = key.len() / 4;
    let rounds = nk + 6;
    let mut w = [0u32; 60];
    for (word, bytes) in w.iter_mut().zip(key.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let mut rcon = 1u32;
    for i in nk..4 * (rounds + 1) {
        let mut temp = w[i - 1];
        if i % nk == 0 {
            temp = sub_word(temp.rotate_right(8)) ^ rcon;
            // xtime in GF(2^8): the next Rcon.
            rcon = (rcon << 1) ^ (0x11b & 0u32.wrapping_sub(rcon >> 7));
        } else if nk > 6 && i % nk == 4 {
            temp = sub_word(temp);
        }
        w[i] = w[i - nk] ^ temp;
    }
    (w, rounds)
}

impl AesGcm {
    /// A key on the best backend for this CPU, or on the one named by the
    /// `SEALWIRE_BACKEND` environment variable (read once per process; an
    /// unknown or unavailable name is an error, never a silent fallback).
    pub fn new(key: &[u8]) -> Result<AesGcm, Error> {
        Self::with_backend(key, Backend::chosen()?)
    }

    /// A key on the given backend; an error when this CPU cannot run it.
    pub fn with_backend(key: &[u8], backend: Backend) -> Result<AesGcm, Error> {
        check_key(key)?;
        let imp = match backend {
            #[cfg(target_arch = "x86_64")]
            Backend::AesniClmul => {
                let cpu = crate::cpu::AesClmul::get().ok_or(Error::Unavailable(backend))?;
                KeyImpl::AesniClmul(aesni_clmul::Key::new(key, cpu)?)
            }
            #[cfg(target_arch = "x86_64")]
            Backend::VaesAvx2 => match crate::cpu::VaesAvx2::get() {
                Some(cpu) => KeyImpl::VaesAvx2(vaes_avx2::Key::new(key, cpu)?),
                None => return Err(Error::Unavailable(backend)),
            },
            #[cfg(target_arch = "x86_64")]
            Backend::VaesAvx512 => match crate::cpu::VaesAvx512::get() {
                Some(cpu) => KeyImpl::VaesAvx512(vaes_avx512::Key::new(key, cpu)?),
                None => return Err(Error::Unavailable(backend)),
            },
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => match crate::cpu::Neon::get() {
                Some(cpu) => KeyImpl::Neon(neon::Key::new(cpu, key)?),
                None => return Err(Error::Unavailable(backend)),
            },
            Backend::RustCrypto => KeyImpl::RustCrypto(rustcrypto::Key::new(key)?),
            Backend::Portable => KeyImpl::Portable(portable::Key::new(key)?),
            other => return Err(Error::Unavailable(other)),
        };
        Ok(AesGcm {
            imp,
            key_len: key.len(),
        })
    }

    /// Asks for the cache lines of the key's tables (round keys, powers
    /// of H), for a batch over many connections, whose keys are cold, to
    /// fetch a few jobs ahead.
    pub(crate) fn prefetch(&self) {
        match &self.imp {
            #[cfg(target_arch = "x86_64")]
            KeyImpl::AesniClmul(k) => crate::cpu::prefetch_val(k),
            #[cfg(target_arch = "x86_64")]
            KeyImpl::VaesAvx2(k) => crate::cpu::prefetch_val(k),
            #[cfg(target_arch = "x86_64")]
            KeyImpl::VaesAvx512(k) => crate::cpu::prefetch_val(k),
            #[cfg(target_arch = "aarch64")]
            KeyImpl::Neon(k) => crate::cpu::prefetch_val(k),
            KeyImpl::RustCrypto(k) => crate::cpu::prefetch_val(k),
            KeyImpl::Portable(k) => crate::cpu::prefetch_val(k),
        }
    }

    /// The backend this key runs on.
    pub fn backend(&self) -> Backend {
        match &self.imp {
            #[cfg(target_arch = "x86_64")]
            KeyImpl::AesniClmul(_) => Backend::AesniClmul,
            #[cfg(target_arch = "x86_64")]
            KeyImpl::VaesAvx2(_) => Backend::VaesAvx2,
            #[cfg(target_arch = "x86_64")]
            KeyImpl::VaesAvx512(_) => Backend::VaesAvx512,
            #[cfg(target_arch = "aarch64")]
            KeyImpl::Neon(_) => Backend::Neon,
            KeyImpl::RustCrypto(_) => Backend::RustCrypto,
            KeyImpl::Portable(_) => Backend::Portable,
        }
    }

    /// Key length in bytes (16, 24 or 32).
    pub fn key_len(&self) -> usize {
        self.key_len
    }

    /// The `vaes-avx2` expanded key, when this key runs on that backend (for
    /// the multi-record kernels of the batch path).
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn vaes_avx2(&self) -> Option<&vaes_avx2::Key> {
        match &self.imp {
            KeyImpl::VaesAvx2(k) => Some(k),
            _ => None,
        }
    }

    /// The `vaes-avx512` expanded key, when this key runs on that backend
    /// (for the multi-record kernels of the batch path).
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn vaes_avx512(&self) -> Option<&vaes_avx512::Key> {
        match &self.imp {
            KeyImpl::VaesAvx512(k) => Some(k),
            _ => None,
        }
    }

    /// The `aesni-clmul` expanded key, when this key runs on that backend.
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(crate) fn aesni_clmul(&self) -> Option<&aesni_clmul::Key> {
        match &self.imp {
            KeyImpl::AesniClmul(k) => Some(k),
            _ => None,
        }
    }

    /// Encrypts `buf` in place and returns the 16-byte tag.
    pub fn seal_in_place_detached(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], Error> {
        match &self.imp {
            #[cfg(target_arch = "x86_64")]
            KeyImpl::AesniClmul(k) => gcm::seal(k, nonce, aad, buf),
            #[cfg(target_arch = "x86_64")]
            KeyImpl::VaesAvx2(k) => gcm::seal(k, nonce, aad, buf),
            #[cfg(target_arch = "x86_64")]
            KeyImpl::VaesAvx512(k) => gcm::seal(k, nonce, aad, buf),
            #[cfg(target_arch = "aarch64")]
            KeyImpl::Neon(k) => gcm::seal(k, nonce, aad, buf),
            KeyImpl::RustCrypto(k) => gcm::seal(k, nonce, aad, buf),
            KeyImpl::Portable(k) => gcm::seal(k, nonce, aad, buf),
        }
    }

    /// Decrypts `buf` in place if `tag` (16, 15..=12, 8 or 4 bytes)
    /// authenticates it; otherwise zeroes `buf` and returns
    /// [`Error::Authentication`].
    pub fn open_in_place_detached(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), Error> {
        match &self.imp {
            #[cfg(target_arch = "x86_64")]
            KeyImpl::AesniClmul(k) => gcm::open(k, nonce, aad, buf, tag),
            #[cfg(target_arch = "x86_64")]
            KeyImpl::VaesAvx2(k) => gcm::open(k, nonce, aad, buf, tag),
            #[cfg(target_arch = "x86_64")]
            KeyImpl::VaesAvx512(k) => gcm::open(k, nonce, aad, buf, tag),
            #[cfg(target_arch = "aarch64")]
            KeyImpl::Neon(k) => gcm::open(k, nonce, aad, buf, tag),
            KeyImpl::RustCrypto(k) => gcm::open(k, nonce, aad, buf, tag),
            KeyImpl::Portable(k) => gcm::open(k, nonce, aad, buf, tag),
        }
    }
}

/// Zeroes a buffer in a way the optimizer keeps.
pub(crate) fn wipe(buf: &mut [u8]) {
    buf.zeroize();
}
