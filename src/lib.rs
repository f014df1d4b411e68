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

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations)]

#[macro_use]
pub mod cpu;
pub mod aead;
pub mod cavp;
pub mod record;
pub mod handshake;
pub mod conn;
