//! rustls on `sealwire::rustls::provider()`: both sides ours, and each side
//! against plain aws-lc-rs (and ring) rustls peers, on all six AES-GCM
//! suites; every record size 0..=16 KiB and a multi-megabyte transfer;
//! a tampered record; KeyUpdate both ways mid-transfer; secret extraction.

mod rustls_common;

use rustls::{AlertDescription, ConnectionTrafficSecrets};
use rustls_common::*;

/// Every record size 0..=2^14 client to server, one record per write, and
/// every size server to client in steps of 61 plus the edges.
#[test]
fn both_sides_sealwire_every_record_size() {
    for suite in SUITES {
        let (mut c, mut s) = connect(
            client_config(Side::Sealwire, suite),
            server_config(Side::Sealwire, suite),
        );
        assert_eq!(c.negotiated_cipher_suite().unwrap().suite(), suite);
        let (mut cc, mut ss) = (Conn::Client(&mut c), Conn::Server(&mut s));
        let big = data(u16::from(suite).into(), (1 << 14) + 1);
        for n in 0..=(1 << 14) {
            // Each write is one record of exactly n bytes.
            transfer(&mut cc, &mut ss, &big[..n], n);
        }
        let sizes = (0..=(1 << 14))
            .step_by(61)
            .chain([1, 15, 16, 17, 16383, 16384]);
        for n in sizes {
            transfer(&mut ss, &mut cc, &big[1..n + 1], n);
        }
    }
}

#[test]
fn multi_megabyte_transfer_each_pairing() {
    let mb = data(7, 5 << 20);
    let pairs = [
        (Side::Sealwire, Side::Sealwire),
        (Side::Sealwire, Side::AwsLc),
        (Side::AwsLc, Side::Sealwire),
        (Side::Sealwire, Side::Ring),
        (Side::Ring, Side::Sealwire),
    ];
    for suite in SUITES {
        for (client, server) in pairs {
            let (mut c, mut s) =
                connect(client_config(client, suite), server_config(server, suite));
            let (mut cc, mut ss) = (Conn::Client(&mut c), Conn::Server(&mut s));
            // Odd write sizes (under rustls's 64 KiB send buffer): records
            // of 2^14 and a tail each write.
            transfer(&mut cc, &mut ss, &mb, 60_001);
            transfer(&mut ss, &mut cc, &mb[..1 << 20], 50_000);
            eprintln!("{suite:?} {client:?} client, {server:?} server: 5 MiB + 1 MiB ok");
        }
    }
}

/// The record after the handshake, with one ciphertext byte flipped:
/// rustls reports a decrypt error, sends bad_record_mac, and releases no
/// plaintext; the peer sees the alert.
#[test]
fn tampered_record_is_bad_record_mac() {
    for suite in SUITES {
        for (client, server) in [
            (Side::Sealwire, Side::Sealwire),
            (Side::AwsLc, Side::Sealwire),
            (Side::Sealwire, Side::AwsLc),
        ] {
            let (mut c, mut s) =
                connect(client_config(client, suite), server_config(server, suite));
            let (mut cc, mut ss) = (Conn::Client(&mut c), Conn::Server(&mut s));
            cc.write_all(b"secret plaintext that must not come out");
            let mut wire = Vec::new();
            while cc.wants_write() {
                cc.write_tls(&mut wire);
            }
            let at = wire.len() - 20;
            wire[at] ^= 0x40;
            let mut rd = wire.as_slice();
            ss.read_tls(&mut rd);
            let err = ss.process().unwrap_err();
            assert_eq!(err, rustls::Error::DecryptError, "{suite:?}");
            assert!(ss.read_available().is_empty(), "no plaintext released");
            // The server's alert, sent under its keys, reaches the client.
            let back = pump_any(&mut ss, &mut cc);
            match back {
                Err(rustls::Error::AlertReceived(AlertDescription::BadRecordMac)) => {}
                other => panic!("{suite:?} {server:?}: client saw {other:?}"),
            }
        }
    }
}

/// rustls's own KeyUpdate (`refresh_traffic_keys`) from each side in the
/// middle of a transfer, several times, on TLS 1.3 suites; both sides ours
/// and each side against aws-lc-rs.
#[test]
fn key_update_both_ways_mid_transfer() {
    let payload = data(3, 256 << 10);
    for suite in SUITES.into_iter().filter(|s| is_tls13(*s)) {
        for (client, server) in [
            (Side::Sealwire, Side::Sealwire),
            (Side::Sealwire, Side::AwsLc),
            (Side::AwsLc, Side::Sealwire),
        ] {
            let mut cfg = client_config(client, suite);
            cfg.enable_secret_extraction = true;
            let (mut c, mut s) = connect(cfg, server_config(server, suite));
            for round in 0..4 {
                if round % 2 == 0 {
                    c.refresh_traffic_keys().unwrap();
                } else {
                    s.refresh_traffic_keys().unwrap();
                }
                let (mut cc, mut ss) = (Conn::Client(&mut c), Conn::Server(&mut s));
                transfer(&mut cc, &mut ss, &payload, 10_000);
                transfer(&mut ss, &mut cc, &payload, 10_000);
            }
            // Keys really moved: each refresh requests the peer's update
            // too, so both directions restarted at round 3. One round is
            // 27 records each way; four rounds on one key would be 108.
            let secrets = c.dangerous_extract_secrets().unwrap();
            assert!(secrets.tx.0 <= 30, "tx seq {}", secrets.tx.0);
            assert!(secrets.rx.0 <= 30, "rx seq {}", secrets.rx.0);
        }
    }
}

/// With secret extraction on, a connection on our provider gives back
/// AES-GCM secrets of the right length (the kTLS path keeps working), and
/// the same ones a plain aws-lc-rs peer has for the other direction.
#[test]
fn extract_keys_gives_aes_gcm_secrets() {
    for suite in SUITES {
        let mut cfg_c = client_config(Side::Sealwire, suite);
        cfg_c.enable_secret_extraction = true;
        let mut cfg_s = server_config(Side::AwsLc, suite);
        cfg_s.enable_secret_extraction = true;
        let (mut c, mut s) = connect(cfg_c, cfg_s);
        let (mut cc, mut ss) = (Conn::Client(&mut c), Conn::Server(&mut s));
        transfer(&mut cc, &mut ss, b"a few records", 4);
        let cs = c.dangerous_extract_secrets().unwrap();
        let ss = s.dangerous_extract_secrets().unwrap();
        let key_len = if format!("{suite:?}").contains("AES_256") {
            32
        } else {
            16
        };
        for (ours, theirs) in [(&cs.tx, &ss.rx), (&cs.rx, &ss.tx)] {
            assert_eq!(ours.0, theirs.0, "sequence numbers agree");
            let (a, b) = match (&ours.1, &theirs.1) {
                (
                    ConnectionTrafficSecrets::Aes128Gcm { key: k1, iv: i1 },
                    ConnectionTrafficSecrets::Aes128Gcm { key: k2, iv: i2 },
                )
                | (
                    ConnectionTrafficSecrets::Aes256Gcm { key: k1, iv: i1 },
                    ConnectionTrafficSecrets::Aes256Gcm { key: k2, iv: i2 },
                ) => ((k1.as_ref(), i1.as_ref()), (k2.as_ref(), i2.as_ref())),
                other => panic!(
                    "{suite:?}: {other:?}",
                    other = std::mem::discriminant(other.0)
                ),
            };
            assert_eq!(a, b);
            assert_eq!(a.0.len(), key_len);
        }
    }
}
