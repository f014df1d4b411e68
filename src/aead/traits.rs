//! The RustCrypto `aead` 0.6 traits for sealwire's AES-GCM (cargo feature
//! `aead`): [`Aes128Gcm`] and [`Aes256Gcm`] implement `KeyInit`,
//! `AeadCore` and `AeadInOut` (and so `Aead` and the in-place methods),
//! as the `aes-gcm` crate's types of the same names do: 96-bit nonces,
//! 128-bit tags after the ciphertext. Code written against `aes-gcm`
//! switches by changing the import:
//!
//! ```
//! use sealwire::aead::traits::aead::{Aead, AeadInOut, KeyInit};
//! use sealwire::aead::traits::Nonce;
//! use sealwire::aead::Aes256Gcm;
//!
//! let cipher = Aes256Gcm::new(&[0x42; 32].into());
//! let nonce = Nonce::from([7; 12]);
//! let sealed = cipher.encrypt(&nonce, b"plaintext".as_ref())?;
//! assert_eq!(sealed.len(), 9 + 16);
//! assert_eq!(cipher.decrypt(&nonce, sealed.as_ref())?, b"plaintext");
//!
//! let mut buf = b"in place".to_vec();
//! let tag = cipher.encrypt_inout_detached(&nonce, b"aad", buf.as_mut_slice().into())?;
//! cipher.decrypt_inout_detached(&nonce, b"aad", buf.as_mut_slice().into(), &tag)?;
//! assert_eq!(buf, b"in place");
//! # Ok::<(), sealwire::aead::traits::aead::Error>(())
//! ```
//!
//! The backend is [`Backend::best`] for the CPU (`KeyInit` cannot fail, so
//! `SEALWIRE_BACKEND` is not consulted); `with_backend` picks one.

#![forbid(unsafe_code)]

use super::{AesGcm, Backend, Error};
use aead_traits::array::Array;
use aead_traits::consts::{U12, U16, U32};
use aead_traits::inout::InOutBuf;
use aead_traits::{AeadCore, AeadInOut, Key, KeyInit, KeySizeUser, TagPosition};
use core::fmt;

/// The RustCrypto `aead` crate these types implement.
pub use aead_traits as aead;

/// A 96-bit AES-GCM nonce.
pub type Nonce = Array<u8, U12>;
/// A 128-bit AES-GCM tag.
pub type Tag = Array<u8, U16>;

macro_rules! gcm_type {
    ($name:ident, $key_size:ty, $bits:literal) => {
        #[doc = concat!("AES-", $bits, "-GCM with 96-bit nonces and 128-bit tags, over [`AesGcm`].")]
        pub struct $name {
            aead: AesGcm,
        }

        impl $name {
            /// The key on the given backend; an error when this CPU cannot run it.
            pub fn with_backend(key: &Key<Self>, backend: Backend) -> Result<Self, Error> {
                Ok($name {
                    aead: AesGcm::with_backend(key.as_slice(), backend)?,
                })
            }

            /// The backend this key runs on.
            pub fn backend(&self) -> Backend {
                self.aead.backend()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("backend", &self.aead.backend())
                    .finish_non_exhaustive()
            }
        }

        impl KeySizeUser for $name {
            type KeySize = $key_size;
        }

        impl KeyInit for $name {
            fn new(key: &Key<Self>) -> Self {
                // The key length is fixed by the type and `Backend::best`
                // is always one the CPU runs: this cannot fail.
                Self::with_backend(key, Backend::best())
                    .expect("a valid key length on an available backend")
            }
        }

        impl AeadCore for $name {
            type NonceSize = U12;
            type TagSize = U16;
            const TAG_POSITION: TagPosition = TagPosition::Postfix;
        }

        impl AeadInOut for $name {
            fn encrypt_inout_detached(
                &self,
                nonce: &Nonce,
                associated_data: &[u8],
                buffer: InOutBuf<'_, '_, u8>,
            ) -> aead_traits::Result<Tag> {
                let buf = buffer.into_out_with_copied_in();
                self.aead
                    .seal_in_place_detached(nonce, associated_data, buf)
                    .map(Tag::from)
                    .map_err(|_| aead_traits::Error)
            }

            fn decrypt_inout_detached(
                &self,
                nonce: &Nonce,
                associated_data: &[u8],
                buffer: InOutBuf<'_, '_, u8>,
                tag: &Tag,
            ) -> aead_traits::Result<()> {
                // On a bad tag the output is zeroed (the input is not ours).
                let buf = buffer.into_out_with_copied_in();
                self.aead
                    .open_in_place_detached(nonce, associated_data, buf, tag)
                    .map_err(|_| aead_traits::Error)
            }
        }
    };
}

gcm_type!(Aes128Gcm, U16, "128");
gcm_type!(Aes256Gcm, U32, "256");
