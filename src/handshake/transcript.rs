//! The transcript hash (RFC 8446 section 4.4.1) and the two hash functions
//! the negotiated suites use.
//!
//! The client sends ClientHello before it knows the suite, so the transcript
//! buffers raw messages until [`Transcript::start_hash`] names the hash. A
//! HelloRetryRequest replaces ClientHello1 with the synthetic `message_hash`
//! message ([`Transcript::replace_with_message_hash`]). TLS 1.2 uses the same
//! object for its Finished and extended master secret hashes
//! (RFC 5246 7.4.9, RFC 7627 section 3).

#![forbid(unsafe_code)]

use super::error::Error;
use super::messages::hs_type;
use sha2::{Digest as _, Sha256, Sha384};
use zeroize::Zeroize;

pub use crate::wire::HashAlg;

/// The hash functions (the vocabulary type is in [`crate::wire`]).
impl HashAlg {
    /// Hash of `data`.
    pub fn hash(self, data: &[u8]) -> Output {
        match self {
            HashAlg::Sha256 => Output::new(&Sha256::digest(data)),
            HashAlg::Sha384 => Output::new(&Sha384::digest(data)),
        }
    }

    /// HMAC(`key`, `data`) (RFC 2104).
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Output {
        use hmac::{Hmac, Mac};
        match self {
            HashAlg::Sha256 => {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key)
                    .expect("HMAC accepts keys of any length");
                m.update(data);
                Output::new(&m.finalize().into_bytes())
            }
            HashAlg::Sha384 => {
                let mut m = <Hmac<Sha384> as Mac>::new_from_slice(key)
                    .expect("HMAC accepts keys of any length");
                m.update(data);
                Output::new(&m.finalize().into_bytes())
            }
        }
    }
}

/// A hash or HMAC output (up to 48 bytes), zeroized on drop because Finished
/// keys and secrets pass through it.
#[derive(Clone, PartialEq, Eq)]
pub struct Output {
    bytes: [u8; 48],
    len: usize,
}

impl Output {
    pub(crate) fn new(b: &[u8]) -> Self {
        let mut bytes = [0u8; 48];
        bytes[..b.len()].copy_from_slice(b);
        Output {
            bytes,
            len: b.len(),
        }
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl AsRef<[u8]> for Output {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Output({} bytes)", self.len)
    }
}

#[derive(Clone)]
enum State {
    Buffering(Vec<u8>),
    Sha256(Sha256),
    Sha384(Sha384),
}

/// The running hash of the handshake messages.
#[derive(Clone)]
pub struct Transcript {
    state: State,
    /// Every message since [`Transcript::keep_messages`], when asked for.
    kept: Option<Vec<u8>>,
}

impl std::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self.state {
            State::Buffering(_) => "buffering",
            State::Sha256(_) => "SHA-256",
            State::Sha384(_) => "SHA-384",
        };
        write!(f, "Transcript({s})")
    }
}

impl Default for Transcript {
    fn default() -> Self {
        Self::new()
    }
}

impl Transcript {
    /// An empty transcript that buffers until the hash is known.
    pub fn new() -> Self {
        Transcript {
            state: State::Buffering(Vec::new()),
            kept: None,
        }
    }

    /// From now on also keeps the messages themselves, starting with those
    /// buffered, for a signature over them rather than over their hash
    /// (TLS 1.2 CertificateVerify, RFC 5246 7.4.8). Only possible before
    /// the hash is chosen (otherwise an internal error): earlier messages
    /// are gone then.
    pub fn keep_messages(&mut self) -> Result<(), Error> {
        match &self.state {
            State::Buffering(b) => {
                self.kept = Some(b.clone());
                Ok(())
            }
            _ => Err(Error::Internal(
                "transcript messages asked for after hashing began",
            )),
        }
    }

    /// Every message added, when [`Transcript::keep_messages`] was called
    /// before the first.
    pub fn messages(&self) -> Option<&[u8]> {
        self.kept.as_deref()
    }

    /// Adds a whole handshake message (header included).
    pub fn add(&mut self, msg: &[u8]) {
        if let Some(k) = &mut self.kept {
            k.extend_from_slice(msg);
        }
        match &mut self.state {
            State::Buffering(b) => b.extend_from_slice(msg),
            State::Sha256(h) => h.update(msg),
            State::Sha384(h) => h.update(msg),
        }
    }

    /// Chooses the hash and hashes what was buffered. Calling it again with
    /// the same hash is a no-op; with another hash, an internal error.
    pub fn start_hash(&mut self, alg: HashAlg) -> Result<(), Error> {
        match (&self.state, alg) {
            (State::Buffering(b), HashAlg::Sha256) => {
                self.state = State::Sha256(Sha256::new_with_prefix(b))
            }
            (State::Buffering(b), HashAlg::Sha384) => {
                self.state = State::Sha384(Sha384::new_with_prefix(b))
            }
            (State::Sha256(_), HashAlg::Sha256) | (State::Sha384(_), HashAlg::Sha384) => {}
            _ => return Err(Error::Internal("transcript hash changed mid-handshake")),
        }
        Ok(())
    }

    /// The chosen hash, once chosen.
    pub fn alg(&self) -> Option<HashAlg> {
        match self.state {
            State::Buffering(_) => None,
            State::Sha256(_) => Some(HashAlg::Sha256),
            State::Sha384(_) => Some(HashAlg::Sha384),
        }
    }

    /// Hash of everything added so far.
    pub fn current(&self) -> Result<Output, Error> {
        match &self.state {
            State::Buffering(_) => Err(Error::Internal("transcript hash not chosen yet")),
            State::Sha256(h) => Ok(Output::new(&h.clone().finalize())),
            State::Sha384(h) => Ok(Output::new(&h.clone().finalize())),
        }
    }

    /// The buffered raw messages while no hash is chosen (TLS 1.2 servers
    /// that hash later may need them); empty once hashing.
    pub fn buffered(&self) -> &[u8] {
        match &self.state {
            State::Buffering(b) => b,
            _ => &[],
        }
    }

    /// RFC 8446 4.4.1: after a HelloRetryRequest the transcript restarts
    /// with `message_hash(254) 00 00 Hash.length Hash(ClientHello1)`.
    /// Call it after adding ClientHello1 and choosing the hash, before adding
    /// the HelloRetryRequest.
    pub fn replace_with_message_hash(&mut self) -> Result<(), Error> {
        let alg = self
            .alg()
            .ok_or(Error::Internal("transcript hash not chosen yet"))?;
        let h = self.current()?;
        let mut fresh = Transcript::new();
        fresh.add(&[hs_type::MESSAGE_HASH, 0, 0, alg.output_len() as u8]);
        fresh.add(h.as_bytes());
        fresh.start_hash(alg)?;
        *self = fresh;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffering_then_hashing_equals_hash_of_all() {
        let mut t = Transcript::new();
        assert!(t.current().is_err());
        t.add(b"hello ");
        t.start_hash(HashAlg::Sha384).unwrap();
        t.add(b"world");
        assert_eq!(
            t.current().unwrap().as_bytes(),
            HashAlg::Sha384.hash(b"hello world").as_bytes()
        );
        assert!(t.start_hash(HashAlg::Sha256).is_err());
    }

    #[test]
    fn kept_messages_are_everything_added() {
        let mut t = Transcript::new();
        assert!(t.messages().is_none());
        t.add(b"client ");
        t.keep_messages().unwrap();
        t.start_hash(HashAlg::Sha256).unwrap();
        t.add(b"server");
        assert_eq!(t.messages(), Some(&b"client server"[..]));
        assert!(t.keep_messages().is_err());
    }

    #[test]
    fn message_hash_construction() {
        let mut t = Transcript::new();
        t.add(b"ch1");
        t.start_hash(HashAlg::Sha256).unwrap();
        t.replace_with_message_hash().unwrap();
        t.add(b"hrr");
        let mut expect = vec![254, 0, 0, 32];
        expect.extend_from_slice(HashAlg::Sha256.hash(b"ch1").as_bytes());
        expect.extend_from_slice(b"hrr");
        assert_eq!(
            t.current().unwrap().as_bytes(),
            HashAlg::Sha256.hash(&expect).as_bytes()
        );
    }

    #[test]
    fn hmac_rfc4231_case_2() {
        // RFC 4231 section 4.3.
        let out = HashAlg::Sha256.hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(out.as_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
