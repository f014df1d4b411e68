//! The decoders of TLS 1.3 resumption (RFC 8446 4.2.9, 4.2.11, 4.6.1) and
//! the ticket opener: the first byte picks one, the rest is its input.
//!
//! Arbitrary bytes must give a typed decode-time error, never a panic;
//! whatever parses re-encodes to the same bytes (these encodings are
//! unique). The opener refuses anything it did not seal (no key can
//! authenticate random bytes), and what it sealed opens to the same state.

use sealwire::handshake::tls13::psk::{
    parse_modes, parse_selected_identity, OfferedPsks, SessionStore,
};
use sealwire::handshake::tls13::tickets::{NewSessionTicket, SessionState, TicketKeys};
use sealwire::handshake::Error;
use std::time::Duration;

fn refused(what: &str, e: &Error) {
    assert!(
        matches!(e, Error::Decode(_) | Error::IllegalParameter(_)),
        "{what}: not a decode-time error: {e:?}"
    );
    assert!(e.alert().is_some(), "{what}: {e:?} sends no alert");
}

fn accepted<T>(what: &str, r: Result<T, Error>) -> Option<T> {
    r.map_err(|e| refused(what, &e)).ok()
}

/// Runs one input; returns how many decoders accepted it.
pub fn run(data: &[u8]) -> usize {
    let Some((&mode, rest)) = data.split_first() else {
        return 0;
    };
    match mode % 5 {
        0 => match accepted("pre_shared_key", OfferedPsks::parse(rest)) {
            Some(p) => {
                assert_eq!(p.extension().data, rest, "pre_shared_key re-encoding");
                usize::from(p.binders_len() <= rest.len()) + 1
            }
            None => 0,
        },
        1 => match accepted("NewSessionTicket", NewSessionTicket::parse(rest)) {
            Some(t) => {
                assert_eq!(t.encode().body(), rest, "NewSessionTicket re-encoding");
                1
            }
            None => 0,
        },
        2 => {
            let modes = accepted("psk_key_exchange_modes", parse_modes(rest)).is_some();
            let selected = accepted("selected_identity", parse_selected_identity(rest)).is_some();
            usize::from(modes) + usize::from(selected)
        }
        3 => open_tickets(rest),
        _ => {
            let text = String::from_utf8_lossy(rest);
            match SessionStore::from_text(&text) {
                Ok(store) => {
                    let again = SessionStore::from_text(&store.to_text()).expect("re-read");
                    assert_eq!(again.to_text(), store.to_text(), "session file round trip");
                    1
                }
                Err(e) => {
                    assert!(!e.is_empty());
                    0
                }
            }
        }
    }
}

/// The opener on the bytes as a ticket, and on a ticket sealed from the
/// bytes as session state.
fn open_tickets(rest: &[u8]) -> usize {
    let keys = TicketKeys::new(Duration::from_secs(3600));
    assert_eq!(keys.open(rest), None, "a ticket we never sealed opened");
    let Some(state) = SessionState::decode(rest) else {
        return 0;
    };
    assert_eq!(&state.encode()[..], rest, "session state re-encoding");
    let ticket = keys.seal(&state).expect("seal");
    assert_eq!(keys.open(&ticket), Some(state), "sealed ticket round trip");
    for i in [0, ticket.len() / 2, ticket.len() - 1] {
        let mut bad = ticket.clone();
        bad[i] ^= 0x40;
        assert_eq!(keys.open(&bad), None, "altered ticket opened (byte {i})");
    }
    2
}
