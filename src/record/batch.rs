//! Sealing (or opening) one record for each of many connections in one
//! call.
//!
//! Each connection's [`Sealer`] frames its record and takes its sequence
//! number as usual; then the AEAD work goes to [`crate::aead::seal_batch`],
//! which groups the records by backend and key size and runs them through
//! the multi-lane kernels, 64 records at a time (the parallel forms hand
//! chunks of the jobs to rayon's threads, each doing all of this for its
//! own). The records are byte-identical to sealing them one by one.
//! [`open_records`] does the same for incoming records with each
//! connection's [`Opener`]: the results, the plaintexts and the openers'
//! sequence numbers are those of opening each record alone.
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

#![forbid(unsafe_code)]

use super::{ContentType, Error, Opener, Prepared, Sealer, TAG_LEN};
use crate::aead::{self, batch_open_gains, open_batch, seal_batch, OpenJob, SealJob};
use bytes::BytesMut;
use core::ops::Range;

/// One record to seal: the connection's sealer, the content type, and the
/// buffer holding `[header room][payload]` as after [`Sealer::start`], or
/// a payload for the call to put there itself.
#[derive(Debug)]
pub struct RecordJob<'a> {
    /// The connection's sealer.
    pub sealer: &'a mut Sealer,
    /// The record's content type.
    pub typ: ContentType,
    /// `[header room][payload]` in (or anything, with `payload` set), the
    /// whole record out.
    pub buf: &'a mut BytesMut,
    /// TLS 1.3 padding bytes (RFC 8446 5.4); 0 for TLS 1.2.
    pub pad: usize,
    /// If set, the record's payload: the call starts `buf` afresh (as
    /// [`Sealer::start_with_capacity`]) and copies this into it, a few
    /// records ahead of sealing them.
    pub payload: Option<&'a [u8]>,
}

impl<'a> RecordJob<'a> {
    /// A job without padding, its payload already in `buf`.
    pub fn new(sealer: &'a mut Sealer, typ: ContentType, buf: &'a mut BytesMut) -> Self {
        RecordJob {
            sealer,
            typ,
            buf,
            pad: 0,
            payload: None,
        }
    }

    /// A job without padding whose payload the call copies into `buf`
    /// (whatever `buf` held is dropped): one message for many connections
    /// needs no pass of its own to fill their buffers.
    ///
    /// Copying every buffer before the call, 1000 connections of 1 KiB
    /// went through memory twice: the copies pushed the first buffers out
    /// of the core's caches before the sealing came back to them. Copied
    /// at most 64 records ahead of the sealing (and each buffer fetched a
    /// few records before its copy), each buffer is still cached when it
    /// is sealed. Measured on Zen 3 (AMD EPYC, family 25 model 1), 1000 x
    /// 1 KiB: with 64 MB written between rounds, 17% less time than
    /// filling first; in the rustls bench's fan-out, a median of 3.1x the
    /// faster rustls provider against 2.9x.
    pub fn with_payload(
        sealer: &'a mut Sealer,
        typ: ContentType,
        buf: &'a mut BytesMut,
        payload: &'a [u8],
    ) -> Self {
        RecordJob {
            sealer,
            typ,
            buf,
            pad: 0,
            payload: Some(payload),
        }
    }
}

/// Seals every job's record on this thread; one result per job, in order.
/// A job that fails (e.g. its sealer reached the usage limit) does not
/// affect the others, takes no sequence number and leaves its buffer
/// unsealed: as it was, or for a [`RecordJob::with_payload`] job, started
/// with the payload copied in.
pub fn seal_records(jobs: &mut [RecordJob<'_>]) -> Vec<Result<(), Error>> {
    let mut results = vec![None; jobs.len()];
    let mut slots: Vec<Slot<'_, '_>> = jobs.iter_mut().zip(results.iter_mut()).collect();
    seal_parts(&mut slots);
    drop(slots);
    every_slot(results)
}

/// As [`seal_records`], with the jobs spread over rayon's threads: each
/// thread copies, frames, seals and finishes the records of the chunks it
/// takes, as [`seal_records`] does on one (so the copies and framing run in
/// parallel too, and each record is finished while its buffer is still in
/// that core's caches). Small batches stay on the calling thread.
pub fn seal_records_parallel(jobs: &mut [RecordJob<'_>]) -> Vec<Result<(), Error>> {
    let mut results = vec![None; jobs.len()];
    let mut slots: Vec<Slot<'_, '_>> = jobs.iter_mut().zip(results.iter_mut()).collect();
    // The cost of a job, as the AEAD batches count it: the record's text
    // (the payload, or what the buffer holds, and the padding) and AAD.
    aead::split_over_threads(
        &mut slots,
        |(j, _)| (13, j.payload.map_or(j.buf.len(), <[u8]>::len) + j.pad),
        seal_parts,
    );
    drop(slots);
    every_slot(results)
}

/// A job and the slot its result goes to (empty until the job has run).
type Slot<'j, 'a> = (&'j mut RecordJob<'a>, &'j mut Option<Result<(), Error>>);

/// The results of the slots, every one of which [`seal_parts`] filled.
fn every_slot(results: Vec<Option<Result<(), Error>>>) -> Vec<Result<(), Error>> {
    results
        .into_iter()
        .map(|r| r.expect("every job's slot is filled"))
        .collect()
}

/// Records the record paths frame (or check), seal (or open) and finish
/// per pass, on each thread. The multi-record kernels need a few records
/// of a shape in a row, not all of them, and the per-pass lists (framing
/// results, AEAD jobs, tags: ~150 bytes a record) stay small: for 1000
/// records at once they came to ~150 KB a call, which the allocator handed
/// back to the kernel and took again every call (measured on Zen 3, 1000 x
/// 1 KiB records: ~20% of the sealing time in page faults and page
/// clearing), and the records and connection state of a part are still in
/// L1/L2 when the pass after the AEAD finishes them.
const SERIAL_PART: usize = 64;

/// How many records ahead [`seal_parts`] fetches a connection's state and
/// buffer.
const PREFETCH_AHEAD: usize = 4;

/// Seals the slots' records on this thread, [`SERIAL_PART`] at a time:
/// copy (for payload jobs), frame, one [`seal_batch`], tags in place.
fn seal_parts(slots: &mut [Slot<'_, '_>]) {
    for part in slots.chunks_mut(SERIAL_PART) {
        for i in 0..part.len() {
            // For a payload to copy, the connection state and the buffer
            // of a record a few ahead on their way: those of 1000
            // connections are cold after other work. Measured on Zen 3,
            // 1000 x 1 KiB, rustls bench fan-out: 6-10% less time
            // (vaes-avx2 and aesni-clmul keys), of which ~3% from fetching
            // 4 records ahead rather than 2. (Buffers the caller filled
            // are not fetched: fetching them measured slower.)
            if let Some((n, _)) = part.get(i + PREFETCH_AHEAD) {
                if let Some(p) = n.payload {
                    n.sealer.prefetch();
                    let len = n.buf.capacity().min(p.len() + 64);
                    crate::cpu::prefetch(n.buf.as_ptr(), len);
                }
            }
            let j = &mut *part[i].0;
            if let Some(p) = j.payload {
                j.sealer.start_with_capacity(j.buf, p.len());
                j.buf.extend_from_slice(p);
            }
        }
        let prepared: Vec<Result<Prepared, Error>> = part
            .iter_mut()
            .map(|(j, _)| j.sealer.prepare(j.typ, j.buf, j.pad))
            .collect();
        let mut aead_jobs: Vec<SealJob<'_>> = part
            .iter_mut()
            .zip(&prepared)
            .filter_map(|((j, _), p)| {
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
        seal_batch(&mut aead_jobs);
        let tags: Vec<[u8; 16]> = aead_jobs.into_iter().map(|j| j.tag).collect();
        let mut tags = tags.into_iter();
        for ((j, slot), p) in part.iter_mut().zip(prepared) {
            **slot = Some(p.map(|p| {
                let tag = tags.next().expect("one tag per prepared record");
                j.buf[p.end..p.end + TAG_LEN].copy_from_slice(&tag);
            }));
        }
    }
}

/// One record to open in place: the connection's opener and the whole
/// record, header included (e.g. a [`Record`](super::Record) from the
/// connection's deframer).
#[derive(Debug)]
pub struct OpenRecordJob<'a> {
    /// The connection's opener.
    pub opener: &'a mut Opener,
    /// The whole record in; the plaintext, at the returned range, out.
    pub record: &'a mut [u8],
}

/// What opening one record gives: the content type and where the content
/// lies in the record (`&record[range]`).
pub type Opened = Result<(ContentType, Range<usize>), Error>;

/// Opens every job's record on this thread; one result per job, in order,
/// each exactly what [`Opener::open_in_place`] would have returned (a
/// record that fails to authenticate has its text zeroed; a failed record
/// takes no sequence number; the others are not affected).
pub fn open_records(jobs: &mut [OpenRecordJob<'_>]) -> Vec<Opened> {
    let mut results = open_results(jobs.len());
    let mut slots: Vec<OpenSlot<'_, '_>> = jobs.iter_mut().zip(results.iter_mut()).collect();
    open_parts(&mut slots);
    drop(slots);
    results
}

/// As [`open_records`], with the jobs spread over rayon's threads: each
/// thread checks, opens and finishes the records of the chunks it takes,
/// as [`open_records`] does on one. Small batches stay on the calling
/// thread.
pub fn open_records_parallel(jobs: &mut [OpenRecordJob<'_>]) -> Vec<Opened> {
    let mut results = open_results(jobs.len());
    let mut slots: Vec<OpenSlot<'_, '_>> = jobs.iter_mut().zip(results.iter_mut()).collect();
    aead::split_over_threads(&mut slots, |(j, _)| (13, j.record.len()), open_parts);
    drop(slots);
    results
}

/// A job and the slot its result goes to.
type OpenSlot<'j, 'a> = (&'j mut OpenRecordJob<'a>, &'j mut Opened);

/// `n` result slots, made before any record is opened and each written in
/// place: a result pushed instead is staged on the stack (the push may
/// grow the list) by narrow stores and read back by wide loads, which
/// cannot be store-forwarded (two such stalls a record held half of the
/// opening's samples on 64-byte records; asm-notes/vaes-avx2.md). A listed
/// record's slot keeps this value until its batch has run.
fn open_results(n: usize) -> Vec<Opened> {
    (0..n).map(|_| Err(Error::BadRecordMac)).collect()
}

/// Opens the slots' records on this thread, [`SERIAL_PART`] at a time.
fn open_parts(slots: &mut [OpenSlot<'_, '_>]) {
    for part in slots.chunks_mut(SERIAL_PART) {
        open_part(part);
    }
}

/// Opens one part of the jobs, each result into its slot.
fn open_part(part: &mut [OpenSlot<'_, '_>]) {
    // Every record checked first, in job order. Those that pass and gain
    // from a multi-record kernel (and only those) are listed for the AEAD
    // batch, their slots filled after it; the others are opened alone at
    // once (measured: long records through the batch were 3-9% slower than
    // alone, for the passes over the jobs and no kernel to gain from), so a
    // part of long records lists nothing.
    let mut listed: Vec<(usize, Prepared)> = Vec::with_capacity(part.len());
    for (i, (j, slot)) in part.iter_mut().enumerate() {
        match j.opener.check(j.record) {
            Err(e) => **slot = Err(e),
            Ok(p) if !batch_open_gains(j.opener.aead(), p.end - p.start) => {
                **slot = match j.opener.open_checked(j.record, &p) {
                    Ok((t, start, len)) => Ok((t, start..start + len)),
                    Err(e) => Err(e),
                };
            }
            Ok(p) => listed.push((i, p)),
        }
    }
    if listed.is_empty() {
        return;
    }
    let mut next = listed.iter().peekable();
    let mut aead_jobs: Vec<OpenJob<'_>> = Vec::with_capacity(listed.len());
    for (i, (j, _)) in part.iter_mut().enumerate() {
        let Some((_, p)) = next.next_if(|(at, _)| *at == i) else {
            continue;
        };
        // `check` puts the tag right after the text, at the record's end
        // (the header's length field equals the record's).
        let (text, tag) = j.record[p.start..].split_at_mut(p.end - p.start);
        aead_jobs.push(OpenJob {
            key: j.opener.aead(),
            nonce: p.nonce,
            aad: p.aad(),
            buf: text,
            tag: tag.try_into().expect("a 16-byte tag after the text"),
        });
    }
    let authentic = open_batch(&mut aead_jobs);
    drop(aead_jobs);
    for ((i, p), ok) in listed.iter().zip(authentic) {
        let (j, slot) = &mut part[*i];
        **slot = match ok {
            Ok(()) => match j.opener.finish(j.record, p) {
                Ok((typ, start, len)) => Ok((typ, start..start + len)),
                Err(e) => Err(e),
            },
            Err(_) => Err(Error::BadRecordMac),
        };
    }
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

    /// `n` connections, each with a random suite, the backends in turn.
    fn random_conns(rng: &mut ChaCha20Rng, n: usize) -> Vec<(CipherSuite, Backend)> {
        let backends = Backend::available();
        (0..n)
            .map(|i| {
                let suite = CipherSuite::ALL[rng.gen_range(0..CipherSuite::ALL.len())];
                (suite, backends[i % backends.len()])
            })
            .collect()
    }

    /// Runs `f` on a pool of four threads, so that the parallel forms split
    /// their jobs over several threads whatever this machine's core count.
    fn on_four_threads<R: Send>(f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .expect("a thread pool")
            .install(f)
    }

    #[test]
    fn batch_records_equal_one_by_one() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x4ec);
        for parallel in [false, true] {
            // Enough records in the parallel rounds to be split into
            // chunks over the threads.
            let n = if parallel { 240 } else { 70 };
            let conns = random_conns(&mut rng, n);
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
                // Every other connection's payload handed to the call to
                // copy, over a buffer holding leftovers of another size.
                let by_call: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.5)).collect();
                let mut bufs: Vec<BytesMut> = vec![BytesMut::new(); n];
                for (((s, b), (p, _)), &call) in batch
                    .iter()
                    .zip(bufs.iter_mut())
                    .zip(&payloads)
                    .zip(&by_call)
                {
                    if call {
                        b.extend_from_slice(&vec![0xee; rng.gen_range(0..3000)]);
                    } else {
                        s.start(b);
                        b.extend_from_slice(p);
                    }
                }
                let mut jobs: Vec<RecordJob<'_>> = batch
                    .iter_mut()
                    .zip(bufs.iter_mut())
                    .zip(&payloads)
                    .zip(&by_call)
                    .map(|(((s, b), (p, pad)), &call)| RecordJob {
                        sealer: s,
                        typ: ContentType::ApplicationData,
                        buf: b,
                        pad: *pad,
                        payload: call.then_some(&p[..]),
                    })
                    .collect();
                if parallel {
                    let bytes: usize = payloads.iter().map(|(p, pad)| p.len() + pad).sum();
                    assert!(
                        bytes > 3 * aead::PARALLEL_MIN_BYTES / 2,
                        "round {round}: {bytes} bytes, too few to split"
                    );
                }
                let results = if parallel {
                    on_four_threads(|| seal_records_parallel(&mut jobs))
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

    /// A record for connection `i` to open at the opener's sequence
    /// number `seq`, made one of several ways: good, tampered, sealed at
    /// another sequence number, with a bad header, or (by hand) with an
    /// empty handshake or a missing content type.
    fn incoming(rng: &mut ChaCha20Rng, suite: CipherSuite, i: usize, seq: u64) -> Vec<u8> {
        let tls13 = suite.version() == crate::record::TlsVersion::Tls13;
        let kind = rng.gen_range(0..10);
        let at = if kind == 1 { seq + 1 } else { seq };
        let mut sealer = Sealer::at_seq(keys(suite, i), Backend::Portable, at).unwrap();
        let len = match rng.gen_range(0..4) {
            0 => rng.gen_range(1..=MAX_PLAINTEXT_LEN),
            1 => rng.gen_range(1..=16),
            _ => rng.gen_range(1..1500),
        };
        let payload: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        let pad = if tls13 { rng.gen_range(0..40) } else { 0 };
        let typ = if rng.gen_bool(0.5) {
            ContentType::ApplicationData
        } else {
            ContentType::Handshake
        };
        let mut rec = BytesMut::new();
        sealer.start(&mut rec);
        rec.extend_from_slice(&payload);
        sealer.seal_padded(typ, &mut rec, pad).unwrap();
        let mut rec = rec.to_vec();
        match kind {
            2 => {
                let p = rng.gen_range(0..rec.len());
                rec[p] ^= 1 << rng.gen_range(0..8);
            }
            3 => rec[4] ^= 1,
            4 => rec[0] = 99,
            5 if tls13 => {
                // Authentic, but an empty Handshake (or all zeros).
                let inner: &[u8] = if rng.gen_bool(0.5) { &[22, 0] } else { &[0; 3] };
                rec = crate::record::tests::hand_sealed_13(&keys(suite, i), seq, inner, 23);
            }
            5 => {
                // TLS 1.2: an empty Handshake fragment (nonce and tag only).
                rec = vec![22, 3, 3, 0, 24];
                rec.resize(5 + 24, 0);
            }
            _ => {}
        }
        rec
    }

    #[test]
    fn open_records_equal_one_by_one() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x09e);
        let mut seen = Vec::new();
        for parallel in [false, true] {
            let n = if parallel { 240 } else { 80 };
            let conns = random_conns(&mut rng, n);
            let make = |i: usize| Opener::with_backend(keys(conns[i].0, i), conns[i].1).unwrap();
            let mut batch: Vec<Opener> = (0..n).map(make).collect();
            let mut alone: Vec<Opener> = (0..n).map(make).collect();
            for round in 0..4 {
                let mut recs: Vec<Vec<u8>> = (0..n)
                    .map(|i| incoming(&mut rng, conns[i].0, i, alone[i].seq()))
                    .collect();
                let mut want = recs.clone();
                let expect: Vec<Opened> = alone
                    .iter_mut()
                    .zip(want.iter_mut())
                    .map(|(o, r)| {
                        let base = r.as_ptr() as usize;
                        let (t, pt) = o.open_in_place(r)?;
                        let start = pt.as_ptr() as usize - base;
                        Ok((t, start..start + pt.len()))
                    })
                    .collect();
                let mut jobs: Vec<OpenRecordJob<'_>> = batch
                    .iter_mut()
                    .zip(recs.iter_mut())
                    .map(|(opener, record)| OpenRecordJob { opener, record })
                    .collect();
                if parallel {
                    let bytes: usize = jobs.iter().map(|j| j.record.len()).sum();
                    assert!(
                        bytes > 3 * aead::PARALLEL_MIN_BYTES / 2,
                        "round {round}: {bytes} bytes, too few to split"
                    );
                }
                let got = if parallel {
                    on_four_threads(|| open_records_parallel(&mut jobs))
                } else {
                    open_records(&mut jobs)
                };
                drop(jobs);
                assert_eq!(got, expect, "round {round}");
                assert_eq!(recs, want, "round {round}: buffers");
                for (i, (b, a)) in batch.iter().zip(&alone).enumerate() {
                    assert_eq!(b.seq(), a.seq(), "round {round} conn {i}");
                }
                seen.extend(got.into_iter().map(|r| r.err()));
            }
        }
        // Every kind of record showed up (a test of the test).
        let errs: Vec<&Error> = seen.iter().flatten().collect();
        assert!(errs.contains(&&Error::BadRecordMac));
        assert!(errs.iter().any(|e| matches!(e, Error::Decode(_))));
        assert!(errs.contains(&&Error::UnexpectedContentType(99)));
        assert!(errs.contains(&&Error::MissingContentType));
        assert!(errs.contains(&&Error::EmptyContent(ContentType::Handshake)));
        assert!(seen.iter().filter(|e| e.is_none()).count() > seen.len() / 3);
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

    /// The same inside a batch the parallel form splits over threads: the
    /// spent sealer's job fails alone, with its buffer unsealed, and every
    /// other record opens.
    #[test]
    fn a_failing_record_does_not_disturb_a_split_batch() {
        let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
        let n = 200;
        let spent_at = 137;
        let mut sealers: Vec<Sealer> = (0..n)
            .map(|i| {
                if i == spent_at {
                    Sealer::at_seq(keys(suite, i), Backend::Portable, AES_GCM_RECORD_LIMIT).unwrap()
                } else {
                    Sealer::new(keys(suite, i)).unwrap()
                }
            })
            .collect();
        let payload = vec![0x42u8; 1000];
        assert!(n * payload.len() > 2 * aead::PARALLEL_MIN_BYTES);
        let mut bufs: Vec<BytesMut> = vec![BytesMut::new(); n];
        let mut jobs: Vec<RecordJob<'_>> = sealers
            .iter_mut()
            .zip(bufs.iter_mut())
            .map(|(s, b)| RecordJob::with_payload(s, ContentType::ApplicationData, b, &payload))
            .collect();
        let results = on_four_threads(|| seal_records_parallel(&mut jobs));
        drop(jobs);
        for (i, (r, b)) in results.iter().zip(&bufs).enumerate() {
            if i == spent_at {
                assert_eq!(r, &Err(Error::KeyUsageLimit));
                assert_eq!(&b[5..], &payload[..], "unsealed, the payload copied in");
            } else {
                assert_eq!(r, &Ok(()), "conn {i}");
                let mut o = Opener::new(keys(suite, i)).unwrap();
                assert_eq!(&o.open(b.clone()).unwrap().1[..], &payload[..], "conn {i}");
            }
        }
    }
}
