//! A whole handshake against a peer whose bytes are the fuzzer's:
//! `conn::Connection::server` reading an arbitrary "client", or
//! `conn::Connection::client` reading an arbitrary "server", over an
//! in-memory transport that hands the bytes out in fuzzer-chosen pieces.
//!
//! The peer cannot know our ephemeral keys, so the handshake must fail, and
//! fail with a protocol error (or end of stream), never a panic, a hang, an
//! internal error or API misuse. Everything we wrote must be well-formed
//! records (RFC 8446 5.1), ending at a record boundary.

use super::input::{Input, Rng};
use sealwire::conn::Connection;
use sealwire::handshake::verify::{certs_from_pem, ServerVerification, SigningKey};
use sealwire::handshake::{ClientConfig, Error, ServerConfig};
use sealwire::record::Deframer;
use std::cell::RefCell;
use std::io;
use std::rc::Rc;

/// The server's "certificate": a DER SEQUENCE { INTEGER 1 }. The server
/// only sends it; the fuzzer's client never checks it.
const SERVER_CERT_PEM: &[u8] = b"-----BEGIN CERTIFICATE-----
MAMCAQE=
-----END CERTIFICATE-----
";

/// A fixed Ed25519 key (PKCS#8, RFC 8410): the server's signing key.
const SERVER_KEY_PEM: &[u8] = b"-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g
-----END PRIVATE KEY-----
";

/// The far end: reads give the fuzzer's bytes, writes are kept.
struct Peer<'a> {
    input: &'a [u8],
    rng: Rng,
    sent: Rc<RefCell<Vec<u8>>>,
}

impl io::Read for Peer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self
            .rng
            .chunk_len()
            .max(1)
            .min(buf.len())
            .min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl io::Write for Peer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sent.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs one input and returns how many records we wrote in answer to the
/// peer (a client's ClientHello not counted). Layout: mode(1) rng(8) peer
/// bytes.
pub fn run(data: &[u8]) -> usize {
    let mut inp = Input::new(data);
    let mode = inp.u8();
    let rng = inp.rng();
    let sent = Rc::new(RefCell::new(Vec::new()));
    let peer = Peer {
        input: inp.rest(),
        rng,
        sent: sent.clone(),
    };
    let server = mode & 1 == 0;
    let res = if server {
        // The certificate is a placeholder the fuzzed client never
        // verifies, so not the key's: `new` takes the pair as given.
        let chain = certs_from_pem(SERVER_CERT_PEM).expect("fixed PEM");
        let key = SigningKey::from_pem(SERVER_KEY_PEM).expect("fixed PEM");
        let config = ServerConfig::new(chain.iter().map(|c| c.to_vec()).collect(), key);
        Connection::server(peer, config)
    } else {
        let config = ClientConfig::new(ServerVerification::DangerousNoVerificationInsecure);
        Connection::client(peer, config, Some("fuzz.test"))
    };
    let e = match res {
        Ok(_) => panic!("a handshake completed with a peer that cannot know the keys"),
        Err(e) => e,
    };
    assert!(
        !matches!(
            e,
            Error::Internal(_) | Error::Misuse(_) | Error::Config(_) | Error::Io(_)
        ),
        "handshake failed with {e:?}"
    );
    let _ = (e.alert(), e.to_string());

    // Everything we wrote is whole, well-formed records.
    let sent = sent.borrow();
    let mut d = Deframer::new();
    let mut at = 0;
    let mut records = 0;
    loop {
        at += d.push(&sent[at..]);
        match d.next_record() {
            Ok(Some(_)) => records += 1,
            Ok(None) => break,
            Err(e) => panic!("we wrote a malformed record: {e:?}"),
        }
    }
    assert_eq!(at, sent.len(), "unread output");
    assert_eq!(d.buffered(), 0, "we wrote a partial record");
    if server {
        records
    } else {
        // Beyond the ClientHello.
        records.saturating_sub(1)
    }
}
