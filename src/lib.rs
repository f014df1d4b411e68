//! sealwire: a TLS record-layer crypto engine built for speed.
//!
//! - [`aead`]: AES-GCM with run-time dispatched backends (portable
//!   constant-time software, the RustCrypto crates, x86_64 AES-NI/VAES
//!   kernels, aarch64 NEON).
//! - [`cavp`]: the NIST CAVP `.rsp` vector parser and runner.
//! - [`record`]: the TLS 1.3 / 1.2 record layer (sealer, opener, deframer).
//! - [`handshake`]: the TLS 1.3 / 1.2 handshake front end.
//! - [`conn`]: a TLS connection (handshake, then records) over any Read + Write.
//! - [`cpu`]: feature detection and the proof tokens of the SIMD backends.
//! - `rustls` (cargo feature `rustls`): a rustls `CryptoProvider` on
//!   sealwire's AES-GCM, and secret import from rustls connections.
//! - `aead::Aes128Gcm` / `Aes256Gcm` (cargo feature `aead`): the RustCrypto
//!   `aead` 0.6 traits.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_debug_implementations)]

#[macro_use]
pub mod cpu;
pub mod aead;
pub mod cavp;
pub mod conn;
pub mod handshake;
pub mod record;
#[cfg(feature = "rustls")]
pub mod rustls;
pub mod wire;

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
