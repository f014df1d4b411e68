//! Bad key shares of every group, both directions, between the sealwire
//! state machines in memory: truncated, extended, empty, off the curve,
//! low order, out of ML-KEM's range, and single bit flips, in each half of
//! the X25519MLKEM768 share too. Each must end the handshake with a typed
//! error whose alert is illegal_parameter or decode_error where the value
//! itself is malformed, and decrypt_error (the client's CertificateVerify or Finished check) where it is
//! well formed but not the peer's; never a panic, never a completed
//! handshake.

mod common;

use common::pki::{make_pki, KeyKind, Pki};
use sealwire::handshake::kx::group;
use sealwire::handshake::messages::{
    build, ext, hs_type, ClientHello, Extension, HandshakeMessage, ServerHello,
};
use sealwire::handshake::tls12::messages as m12;
use sealwire::handshake::tls13::{client, server};
use sealwire::handshake::verify::{RootStore, ServerVerification};
use sealwire::handshake::{
    Action, Alert, ClientConfig, Context, Error, Input, ServerConfig, Versions,
};
use sealwire::wire::NamedGroup;
use std::collections::VecDeque;
use std::sync::Arc;

/// Which side ended the handshake, and why.
#[derive(Debug)]
enum Outcome {
    Client(Error),
    Server(Error),
    Completed,
}

impl Outcome {
    fn alert(&self) -> Option<(bool, Alert)> {
        match self {
            Outcome::Client(e) => e.alert().map(|a| (true, a)),
            Outcome::Server(e) => e.alert().map(|a| (false, a)),
            Outcome::Completed => None,
        }
    }
}

fn drain(cx: &mut Context, out: &mut VecDeque<Input>, established: &mut bool) {
    for a in cx.actions.drain(..) {
        match a {
            Action::Send(m) => out.push_back(Input::Handshake(m)),
            Action::SendCcs => out.push_back(Input::ChangeCipherSpec),
            Action::Established(_) => *established = true,
            Action::WriteKeys(_)
            | Action::ReadKeys(_)
            | Action::SendWarning(_)
            | Action::SkipRejectedEarlyData
            | Action::RequireRecordVersion(_)
            | Action::WriteUpdater(_)
            | Action::KeyUpdate { .. } => {}
        }
    }
}

/// Runs a handshake in memory; `tamper(to_server, msg)` may change any
/// message in flight.
fn drive(
    c: ClientConfig,
    s: ServerConfig,
    tamper: &mut dyn FnMut(bool, &mut HandshakeMessage),
) -> Outcome {
    let mut ccx = Context::default();
    let mut scx = Context::default();
    let mut cstate = Some(client::start(c, Some("localhost".into()), &mut ccx).unwrap());
    let mut sstate = Some(server::start(s));
    let (mut to_server, mut to_client) = (VecDeque::new(), VecDeque::new());
    let (mut c_done, mut s_done) = (false, false);
    drain(&mut ccx, &mut to_server, &mut c_done);
    for _ in 0..64 {
        if let Some(input) = to_server.pop_front() {
            let st = sstate.take().unwrap();
            let input = match input {
                Input::ChangeCipherSpec if st.tolerates_ccs() => {
                    sstate = Some(st);
                    continue;
                }
                Input::Handshake(mut m) => {
                    tamper(true, &mut m);
                    Input::Handshake(m)
                }
                other => other,
            };
            match st.handle(&mut scx, input) {
                Ok(n) => sstate = Some(n),
                Err(e) => return Outcome::Server(e),
            }
            drain(&mut scx, &mut to_client, &mut s_done);
        } else if let Some(input) = to_client.pop_front() {
            let st = cstate.take().unwrap();
            let input = match input {
                Input::ChangeCipherSpec if st.tolerates_ccs() => {
                    cstate = Some(st);
                    continue;
                }
                Input::Handshake(mut m) => {
                    tamper(false, &mut m);
                    Input::Handshake(m)
                }
                other => other,
            };
            match st.handle(&mut ccx, input) {
                Ok(n) => cstate = Some(n),
                Err(e) => return Outcome::Client(e),
            }
            drain(&mut ccx, &mut to_server, &mut c_done);
        } else {
            break;
        }
    }
    assert!(c_done && s_done, "handshake stalled");
    Outcome::Completed
}

fn configs(pki: &Pki, g: NamedGroup, versions: Versions) -> (ClientConfig, ServerConfig) {
    let roots = RootStore::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap();
    let mut c = ClientConfig::new(ServerVerification::Roots(Arc::new(roots)));
    c.versions = versions;
    c.groups = vec![g];
    c.key_share_groups = vec![g];
    let mut s = ServerConfig::from_pem(
        &std::fs::read(&pki.cert).unwrap(),
        &std::fs::read(&pki.key).unwrap(),
    )
    .unwrap();
    s.versions = versions;
    (c, s)
}

/// Applies `f` to the key share of the ClientHello (`to_server`) or of the
/// ServerHello (otherwise).
fn share_tamper(
    to_server_side: bool,
    f: impl Fn(&mut Vec<u8>),
) -> impl FnMut(bool, &mut HandshakeMessage) {
    move |to_server, m| {
        if to_server != to_server_side {
            return;
        }
        if to_server && m.typ == hs_type::CLIENT_HELLO {
            let mut ch = ClientHello::parse(m.body()).unwrap();
            let mut shares = ch.key_shares().unwrap().unwrap();
            f(&mut shares[0].key_exchange);
            let e = build::key_share_client(&shares);
            replace_ext(&mut ch.extensions, e);
            *m = ch.encode();
        } else if !to_server && m.typ == hs_type::SERVER_HELLO {
            let mut sh = ServerHello::parse(m.body()).unwrap();
            if sh.is_hrr() {
                return;
            }
            let mut share = sh.key_share().unwrap().unwrap();
            f(&mut share.key_exchange);
            // An empty value cannot be built as an entry: write it raw.
            let e = Extension::build(ext::KEY_SHARE, |w| {
                w.u16(share.group).vec16(|w| {
                    w.bytes(&share.key_exchange);
                });
            });
            replace_ext(&mut sh.extensions, e);
            *m = sh.encode();
        }
    }
}

fn replace_ext(exts: &mut [Extension], e: Extension) {
    let slot = exts.iter_mut().find(|x| x.typ == e.typ).unwrap();
    *slot = e;
}

/// Asserts the handshake ended on `client` (or the server) with `alert`.
fn expect(outcome: Outcome, client: bool, alert: Alert, what: &str) {
    assert_eq!(
        outcome.alert(),
        Some((client, alert)),
        "{what}: {outcome:?}"
    );
}

const GROUPS: [NamedGroup; 4] = [
    NamedGroup::X25519Mlkem768,
    NamedGroup::X25519,
    NamedGroup::Secp256r1,
    NamedGroup::Secp384r1,
];

#[test]
fn malformed_shares_of_every_group_are_illegal_parameter_or_decode_error() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    for g in GROUPS {
        for to_server in [true, false] {
            // The side that receives the share detects it.
            let detector_is_client = !to_server;
            let name = format!("{} to_server={to_server}", g);
            let run = |f: &dyn Fn(&mut Vec<u8>)| {
                let (c, s) = configs(&pki, g, Versions::TLS13_ONLY);
                drive(c, s, &mut share_tamper(to_server, f))
            };
            expect(
                run(&|v| {
                    v.pop();
                }),
                detector_is_client,
                Alert::IllegalParameter,
                &format!("{name} truncated"),
            );
            expect(
                run(&|v| v.push(0)),
                detector_is_client,
                Alert::IllegalParameter,
                &format!("{name} extended"),
            );
            expect(
                run(&|v| v.clear()),
                detector_is_client,
                Alert::DecodeError,
                &format!("{name} empty"),
            );
            match g {
                NamedGroup::X25519 => {
                    // A low-order point: an all-zero shared secret.
                    expect(
                        run(&|v| v.fill(0)),
                        detector_is_client,
                        Alert::IllegalParameter,
                        &format!("{name} zero"),
                    );
                }
                NamedGroup::Secp256r1 | NamedGroup::Secp384r1 => {
                    expect(
                        run(&|v| v[5] ^= 1),
                        detector_is_client,
                        Alert::IllegalParameter,
                        &format!("{name} off the curve"),
                    );
                    expect(
                        run(&|v| v[0] = 2),
                        detector_is_client,
                        Alert::IllegalParameter,
                        &format!("{name} compressed tag"),
                    );
                }
                _ => {
                    // Each half of the hybrid: the ML-KEM part first.
                    let (pq_len, total) = if to_server {
                        (1184, 1216)
                    } else {
                        (1088, 1120)
                    };
                    let r = run(&|v| assert_eq!(v.len(), total));
                    assert!(matches!(r, Outcome::Completed), "{name}: sizes {r:?}");
                    expect(
                        run(&|v| {
                            v.remove(pq_len - 1);
                        }),
                        detector_is_client,
                        Alert::IllegalParameter,
                        &format!("{name} ML-KEM half short"),
                    );
                    expect(
                        run(&|v| {
                            v.remove(pq_len);
                        }),
                        detector_is_client,
                        Alert::IllegalParameter,
                        &format!("{name} X25519 half short"),
                    );
                    expect(
                        run(&|v| v[pq_len..].fill(0)),
                        detector_is_client,
                        Alert::IllegalParameter,
                        &format!("{name} X25519 half zero"),
                    );
                    if to_server {
                        // A coefficient >= q: FIPS 203's modulus check.
                        expect(
                            run(&|v| {
                                v[0] = 0xff;
                                v[1] |= 0x0f;
                            }),
                            false,
                            Alert::IllegalParameter,
                            &format!("{name} ML-KEM key out of range"),
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn bit_flipped_shares_of_every_group_never_complete() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    for g in GROUPS {
        for to_server in [true, false] {
            let len = {
                let (c, s) = configs(&pki, g, Versions::TLS13_ONLY);
                let n = std::cell::Cell::new(0);
                let r = drive(c, s, &mut share_tamper(to_server, |v| n.set(v.len())));
                assert!(matches!(r, Outcome::Completed));
                n.get()
            };
            // Bits across the whole share: both halves of the hybrid.
            for i in (0..len).step_by((len / 9).max(1)).chain([len - 1]) {
                for bit in [0u8, 7] {
                    let (c, s) = configs(&pki, g, Versions::TLS13_ONLY);
                    let r = drive(c, s, &mut share_tamper(to_server, |v| v[i] ^= 1 << bit));
                    let what = format!("{} to_server={to_server} byte {i} bit {bit}", g);
                    // A malformed value is refused where it arrives. A well
                    // formed but changed one (a flipped X25519 top bit is
                    // even the same value, RFC 7748 5) leaves the two sides
                    // with different transcripts, and mostly different
                    // secrets: the client's check of the server's
                    // CertificateVerify or Finished fails (decrypt_error).
                    match r.alert() {
                        Some((side, Alert::IllegalParameter)) => {
                            assert_eq!(side, !to_server, "{what}")
                        }
                        Some((true, Alert::DecryptError)) => {}
                        other => panic!("{what}: {other:?} ({r:?})"),
                    }
                }
            }
        }
    }
}

#[test]
fn tls12_client_key_exchange_points_are_checked() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    for g in [
        NamedGroup::X25519,
        NamedGroup::Secp256r1,
        NamedGroup::Secp384r1,
    ] {
        let run = |f: &dyn Fn(&mut Vec<u8>)| {
            let (c, s) = configs(&pki, g, Versions::TLS12_ONLY);
            drive(c, s, &mut |to_server, m: &mut HandshakeMessage| {
                if to_server && m.typ == hs_type::CLIENT_KEY_EXCHANGE {
                    let mut p = m12::parse_client_key_exchange(m.body()).unwrap();
                    f(&mut p);
                    *m = m12::encode_client_key_exchange(&p);
                }
            })
        };
        let name = g.to_string();
        assert!(matches!(run(&|_| {}), Outcome::Completed), "{name}");
        expect(
            run(&|v| {
                v.pop();
            }),
            false,
            Alert::IllegalParameter,
            &format!("{name} truncated"),
        );
        expect(
            run(&|v| v.push(1)),
            false,
            Alert::IllegalParameter,
            &format!("{name} extended"),
        );
        if g == NamedGroup::X25519 {
            expect(
                run(&|v| v.fill(0)),
                false,
                Alert::IllegalParameter,
                &format!("{name} zero"),
            );
        } else {
            expect(
                run(&|v| v[3] ^= 0x40),
                false,
                Alert::IllegalParameter,
                &format!("{name} off the curve"),
            );
        }
    }
}

#[test]
fn tls12_server_never_picks_the_hybrid_and_the_client_refuses_it() {
    let pki = make_pki(KeyKind::EcP256, &["localhost"]);
    // Client offers only the hybrid for TLS 1.2: no curve in common.
    let (c, s) = configs(&pki, NamedGroup::X25519Mlkem768, Versions::TLS12_ONLY);
    expect(
        drive(c, s, &mut |_, _| {}),
        false,
        Alert::HandshakeFailure,
        "hybrid only",
    );
    // A server whose ServerKeyExchange names the hybrid is refused (the
    // relabelled curve fails before its signature is looked at).
    let (mut c, s) = configs(&pki, NamedGroup::X25519, Versions::TLS12_ONLY);
    c.groups = vec![NamedGroup::X25519Mlkem768, NamedGroup::X25519];
    let r = drive(c, s, &mut |to_server, m: &mut HandshakeMessage| {
        if !to_server && m.typ == hs_type::SERVER_KEY_EXCHANGE {
            let mut ske = m12::ServerKeyExchange::parse(m.body()).unwrap();
            ske.params.group = group::X25519MLKEM768;
            *m = ske.encode();
        }
    });
    expect(
        r,
        true,
        Alert::IllegalParameter,
        "hybrid in ServerKeyExchange",
    );
}
