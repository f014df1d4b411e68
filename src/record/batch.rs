//! Sealing one record for each of many connections in one call.
//!
//! Each connection's [`Sealer`] frames its record and takes its sequence
//! number as usual; then all the AEAD work goes to
//! [`crate::aead::seal_batch`] (or its parallel form), which groups the
//! records by backend and key size and runs them through the multi-lane
//! kernels. The records are byte-identical to sealing them one by one.
//!
//! ```
//! use bytes::BytesMut;
//! use sealwire::record::batch::{seal_records, RecordJob};
//! use sealwire::record::{CipherSuite, ContentType, Sealer, TrafficKeys};
//!
//! let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
//! let mut sealers: Vec<Sealer> = (0..4u8)
//!     .map(|i| Sealer::new(TrafficKeys::new(suite, &[i; 16], &[i; 12]).unwrap()).unwrap())
//!     .collect();
//! let mut bufs: Vec<BytesMut> = vec![BytesMut::new(); 4];
//! for (s, b) in sealers.iter().zip(bufs.iter_mut()) {
//!     s.start(b);
//!     b.extend_from_slice(b"hello");
//! }
//! let mut jobs: Vec<RecordJob<'_>> = sealers
//!     .iter_mut()
//!     .zip(bufs.iter_mut())
//!     .map(|(s, b)| RecordJob::new(s, ContentType::ApplicationData, b))
//!     .collect();
//! for result in seal_records(&mut jobs) {
//!     result?;
//! }
//! assert!(bufs.iter().all(|b| b.len() == 5 + 5 + 1 + 16));
//! # Ok::<(), sealwire::record::Error>(())
//! ```

use super::{ContentType, Error, Prepared, Sealer, TAG_LEN};
use crate::aead::{seal_batch, seal_batch_parallel, SealJob};
use bytes::BytesMut;

/// One record to seal: the connection's sealer, the content type, and the
/// buffer holding `[header room][payload]` as after [`Sealer::start`].
#[derive(Debug)]
pub struct RecordJob<'a> {
    /// The connection's sealer.
    pub sealer: &'a mut Sealer,
    /// The record's content type.
    pub typ: ContentType,
    /// `[header room][payload]` in, the whole record out.
    pub buf: &'a mut BytesMut,
    /// TLS 1.3 padding bytes (RFC 8446 5.4); 0 for TLS 1.2.
    pub pad: usize,
}

impl<'a> RecordJob<'a> {
    /// A job without padding.
    pub fn new(sealer: &'a mut Sealer, typ: ContentType, buf: &'a mut BytesMut) -> Self {
        RecordJob {
            sealer,
            typ,
            buf,
            pad: 0,
        }
    }
}

/// Seals every job's record on this thread; one result per job, in order.
/// A job that fails (e.g. its sealer reached the usage limit) leaves its
/// buffer as it was and does not affect the others.
pub fn seal_records(jobs: &mut [RecordJob<'_>]) -> Vec<Result<(), Error>> {
    seal_with(jobs, seal_batch)
}

/// As [`seal_records`], with the AEAD work spread over rayon's threads.
pub fn seal_records_parallel(jobs: &mut [RecordJob<'_>]) -> Vec<Result<(), Error>> {
    seal_with(jobs, seal_batch_parallel)
}

fn seal_with(jobs: &mut [RecordJob<'_>], run: fn(&mut [SealJob<'_>])) -> Vec<Result<(), Error>> {
    let prepared: Vec<Result<Prepared, Error>> = jobs
        .iter_mut()
        .map(|j| j.sealer.prepare(j.typ, j.buf, j.pad))
        .collect();
    let mut aead_jobs: Vec<SealJob<'_>> = jobs
        .iter_mut()
        .zip(&prepared)
        .filter_map(|(j, p)| {
            let p = p.as_ref().ok()?;
            Some(SealJob {
                key: j.sealer.aead(),
                nonce: p.nonce,
                aad: p.aad(),
                buf: &mut j.buf[p.start..p.end],
                tag: [0; 16],
            })
        })
        .collect();
    run(&mut aead_jobs);
    let tags: Vec<[u8; 16]> = aead_jobs.into_iter().map(|j| j.tag).collect();
    let mut tags = tags.into_iter();
    jobs.iter_mut()
        .zip(prepared)
        .map(|(j, p)| {
            let p = p?;
            let tag = tags.next().expect("one tag per prepared record");
            j.buf[p.end..p.end + TAG_LEN].copy_from_slice(&tag);
            Ok(())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aead::Backend;
    use crate::record::{
        CipherSuite, Opener, TrafficKeys, AES_GCM_RECORD_LIMIT, MAX_PLAINTEXT_LEN,
    };
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn keys(suite: CipherSuite, i: usize) -> TrafficKeys {
        let key = vec![i as u8 ^ 0x5c; suite.key_len()];
        let iv = vec![(i as u8).wrapping_mul(3); suite.iv_len()];
        TrafficKeys::new(suite, &key, &iv).unwrap()
    }

    #[test]
    fn batch_records_equal_one_by_one() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x4ec);
        let backends = Backend::available();
        for parallel in [false, true] {
            let n = 70;
            let conns: Vec<(CipherSuite, Backend)> = (0..n)
                .map(|i| {
                    (
                        CipherSuite::ALL[rng.gen_range(0..CipherSuite::ALL.len())],
                        backends[i % backends.len()],
                    )
                })
                .collect();
            let mut batch: Vec<Sealer> = conns
                .iter()
                .enumerate()
                .map(|(i, &(s, b))| Sealer::with_backend(keys(s, i), b).unwrap())
                .collect();
            let mut alone: Vec<Sealer> = conns
                .iter()
                .enumerate()
                .map(|(i, &(s, b))| Sealer::with_backend(keys(s, i), b).unwrap())
                .collect();
            for round in 0..3 {
                let payloads: Vec<(Vec<u8>, usize)> = conns
                    .iter()
                    .map(|&(s, _)| {
                        let len = if rng.gen_bool(0.2) {
                            rng.gen_range(0..=MAX_PLAINTEXT_LEN)
                        } else {
                            rng.gen_range(0..1500)
                        };
                        let pad = if s.version() == crate::record::TlsVersion::Tls13 {
                            rng.gen_range(0..=(MAX_PLAINTEXT_LEN - len).min(64))
                        } else {
                            0
                        };
                        ((0..len).map(|_| rng.gen()).collect(), pad)
                    })
                    .collect();
                let mut bufs: Vec<BytesMut> = vec![BytesMut::new(); n];
                for ((s, b), (p, _)) in batch.iter().zip(bufs.iter_mut()).zip(&payloads) {
                    s.start(b);
                    b.extend_from_slice(p);
                }
                let mut jobs: Vec<RecordJob<'_>> = batch
                    .iter_mut()
                    .zip(bufs.iter_mut())
                    .zip(&payloads)
                    .map(|((s, b), (_, pad))| RecordJob {
                        sealer: s,
                        typ: ContentType::ApplicationData,
                        buf: b,
                        pad: *pad,
                    })
                    .collect();
                let results = if parallel {
                    seal_records_parallel(&mut jobs)
                } else {
                    seal_records(&mut jobs)
                };
                assert!(results.iter().all(|r| r.is_ok()));
                for (i, s) in alone.iter_mut().enumerate() {
                    let mut want = BytesMut::new();
                    s.start(&mut want);
                    want.extend_from_slice(&payloads[i].0);
                    s.seal_padded(ContentType::ApplicationData, &mut want, payloads[i].1)
                        .unwrap();
                    assert_eq!(bufs[i], want, "round {round} conn {i}");
                    let mut o = Opener::at_seq(keys(conns[i].0, i), conns[i].1, round).unwrap();
                    assert_eq!(&o.open(want).unwrap().1[..], &payloads[i].0[..]);
                }
            }
        }
    }

    #[test]
    fn a_failing_record_does_not_disturb_the_others() {
        let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
        let mut ok = Sealer::new(keys(suite, 1)).unwrap();
        let mut spent =
            Sealer::at_seq(keys(suite, 2), Backend::Portable, AES_GCM_RECORD_LIMIT).unwrap();
        let mut bufs = [BytesMut::new(), BytesMut::new()];
        ok.start(&mut bufs[0]);
        spent.start(&mut bufs[1]);
        bufs[0].extend_from_slice(b"fine");
        bufs[1].extend_from_slice(b"stuck");
        let (b0, b1) = bufs.split_at_mut(1);
        let mut jobs = vec![
            RecordJob::new(&mut ok, ContentType::ApplicationData, &mut b0[0]),
            RecordJob::new(&mut spent, ContentType::ApplicationData, &mut b1[0]),
        ];
        let results = seal_records(&mut jobs);
        assert_eq!(results[0], Ok(()));
        assert_eq!(results[1], Err(Error::KeyUsageLimit));
        let mut o = Opener::new(keys(suite, 1)).unwrap();
        assert_eq!(&o.open(bufs[0].clone()).unwrap().1[..], b"fine");
        assert_eq!(&bufs[1][5..], b"stuck");
    }
}
