//! The bodies of the sealwire fuzz targets, shared by the cargo-fuzz targets
//! in `fuzz_targets/` and by the stable replay test `tests/fuzz_replay.rs`
//! (which includes this file with `#[path]`).
//!
//! Each body takes arbitrary bytes, drives one part of sealwire's public API
//! and panics only when sealwire breaks a promise its documentation makes:
//! a panic inside sealwire, a result that disagrees with an independent
//! reference, unauthenticated plaintext, or a buffer beyond its bound.

#![forbid(unsafe_code)]

pub mod aead_open;
pub mod deframer;
pub mod handshake_messages;
pub mod handshake_peer;
pub mod input;
pub mod record_open;
pub mod resumption;
