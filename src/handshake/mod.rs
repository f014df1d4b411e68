//! The handshake front end (issue 6).

pub mod prf;
