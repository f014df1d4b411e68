//! `SEALWIRE_BACKEND` forces the backend of `AesGcm::new`; an unknown or
//! unavailable name is an error, never a silent fallback. One test in its
//! own binary, so no other thread reads the environment meanwhile.

mod common;

use sealwire::aead::{AesGcm, Backend, Error};

#[test]
fn sealwire_backend_variable() {
    std::env::remove_var("SEALWIRE_BACKEND");
    assert_eq!(AesGcm::new(&[1; 16]).unwrap().backend(), Backend::best());
    for b in common::backends() {
        std::env::set_var("SEALWIRE_BACKEND", b.name());
        assert_eq!(AesGcm::new(&[1; 32]).unwrap().backend(), b);
    }
    std::env::set_var("SEALWIRE_BACKEND", "no-such-backend");
    assert_eq!(
        AesGcm::new(&[1; 16]).unwrap_err(),
        Error::UnknownBackend("no-such-backend".into())
    );
    for b in Backend::ALL.into_iter().filter(|b| !b.is_available()) {
        std::env::set_var("SEALWIRE_BACKEND", b.name());
        assert_eq!(AesGcm::new(&[1; 16]).unwrap_err(), Error::Unavailable(b));
    }
    std::env::remove_var("SEALWIRE_BACKEND");
}
