//! `Connection` over an in-process Unix socket pair: the sealwire client and
//! server, application data both ways, KeyUpdate both ways, close_notify.

mod common;

use common::handshake::{configs, read_exactly};
use common::pki::{have_openssl, KeyKind};
use sealwire::conn::Connection;
use sealwire::handshake::{Error, Versions};
use sealwire::wire::CipherSuite;
use std::os::unix::net::UnixStream;
use std::time::Duration;

#[test]
fn data_key_updates_and_close_over_a_socket_pair() {
    if !have_openssl() {
        return;
    }
    let (mut ccfg, scfg, _pki) = configs(KeyKind::EcP256, Versions::TLS13_ONLY);
    ccfg.suites13 = vec![CipherSuite::TLS13_AES_256_GCM_SHA384];
    let (a, b) = UnixStream::pair().unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    }
    let payload: Vec<u8> = (0..(1usize << 20) + 99)
        .map(|i| (i * 7 + i / 251) as u8)
        .collect();
    let expect = payload.clone();

    // The server echoes, then updates its keys (asking for an update back)
    // and sends a last message, then closes after the client's close_notify.
    let server = std::thread::spawn(move || -> Result<Vec<u8>, Error> {
        let mut c = Connection::server(b, scfg)?;
        let mut buf = vec![0u8; 1 << 16];
        let mut got = Vec::new();
        while got.len() < expect.len() {
            let n = c.read(&mut buf)?;
            assert!(n > 0);
            c.write_all(&buf[..n])?;
            got.extend_from_slice(&buf[..n]);
        }
        c.key_update(true)?;
        c.write_all(b"after server update")?;
        let mut rest = Vec::new();
        loop {
            let n = c.read(&mut buf)?;
            if n == 0 {
                break;
            }
            rest.extend_from_slice(&buf[..n]);
        }
        c.close()?;
        assert_eq!(rest, b"after client update");
        Ok(got)
    });

    let mut c = Connection::client(a, ccfg, Some("localhost")).unwrap();
    assert_eq!(
        c.established().unwrap().suite,
        CipherSuite::TLS13_AES_256_GCM_SHA384
    );
    // Write in pieces while reading the echo, so neither side blocks.
    let mut echoed = Vec::new();
    for chunk in payload.chunks(100_000) {
        c.write_all(chunk).unwrap();
        echoed.extend(read_exactly(&mut c, chunk.len()));
    }
    assert!(echoed == payload);
    // The server's KeyUpdate (requesting ours) arrives before its message.
    assert_eq!(read_exactly(&mut c, 19), b"after server update");
    c.key_update(false).unwrap();
    c.write_all(b"after client update").unwrap();
    c.close().unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(c.read(&mut buf).unwrap(), 0, "server's close_notify");
    assert!(c.peer_closed());
    assert!(server.join().unwrap().unwrap() == payload);
    // Writing after close is API misuse, not a silent success.
    assert!(matches!(c.write_all(b"late"), Err(Error::Misuse(_))));
}
