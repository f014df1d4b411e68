//! Batched AES-GCM: one call seals (or opens) the messages of many keys,
//! e.g. one TLS record for each of many connections.
//!
//! Every job is an ordinary AES-GCM operation (SP 800-38D 7.1 / 7.2) with its
//! own key, 96-bit nonce, AAD and buffer; the results are byte-identical to
//! running each job alone. What batching buys is throughput on short
//! messages: jobs are grouped by backend and key size, and groups whose
//! backend has a multi-lane kernel run several jobs interleaved in one
//! kernel, so the AES and carry-less-multiply units stay busy where a single
//! short message would leave them waiting on latency.
//!
//! ```text
//!  jobs ──group by (backend, key size)──▶ one group: no sort, straight to its path
//!
//!  vaes-avx2 keys (batch/vaes_avx2.rs, x86_64):
//!      0..=208 B:   two records per kernel call (same register shape),
//!                   AES rounds interleaved, J0 to tag in one pass
//!      209..=240 B: one record per kernel call, J0 to tag in one pass
//!      241..=256 B: pipeline, AES of one record with the GHASH of the previous
//!      longer:      seal: a chain (vaes_avx2::seal_chain), each record's last
//!                   GHASH and tag riding the next record's first AES group;
//!                   open: the key's whole-message kernel, record by record
//!  vaes-avx512 keys (batch/vaes_avx512.rs, x86_64):
//!      1..=256 B:   four records per kernel call (same number of zmm),
//!                   AES rounds interleaved, J0 to tag in one pass
//!      0, longer:   the key's whole-message kernel, record by record
//!  other backends (aesni-clmul included): single-stream, job by job
//!      (aesni-clmul's whole-message path one by one measured 7-16% faster
//!      than a 128-bit multi-lane kernel: asm-notes/aesni-clmul.md)
//!  *_parallel: jobs ──chunks, big first, shrinking──▶ taken by the caller (front) and the other pool threads (back) ──▶ the above per chunk
//! ```

// No unsafe code here; the multi-record kernel files below allow it.
#![deny(unsafe_code)]

mod job;
#[cfg(target_arch = "x86_64")]
mod vaes_avx2;
#[cfg(target_arch = "x86_64")]
mod vaes_avx512;

use super::{AesGcm, Error, MAX_AAD_LEN, MAX_PLAINTEXT_LEN};
use core::borrow::BorrowMut;
#[cfg(test)]
pub(crate) use job::PARALLEL_MIN_BYTES;
use job::{cost, group_of, one_group, parallel_threads, run_split, OpenPair};
pub use job::{OpenJob, SealJob};

/// Seals every job, on this thread.
///
/// # Panics
///
/// If a buffer or AAD exceeds the SP 800-38D limits (2^36 - 32 bytes of
/// plaintext, 2^61 - 1 bytes of AAD): such a job cannot be sealed at all.
pub fn seal_batch(jobs: &mut [SealJob<'_>]) {
    for j in jobs.iter() {
        assert!(
            j.buf.len() as u64 <= MAX_PLAINTEXT_LEN && j.aad.len() as u64 <= MAX_AAD_LEN,
            "SealJob beyond the SP 800-38D length limits"
        );
    }
    if one_group(jobs.iter().map(|j| j.key)) {
        return seal_group(jobs);
    }
    let mut order: Vec<&mut SealJob<'_>> = jobs.iter_mut().collect();
    order.sort_by_key(|j| group_of(j.key));
    for group in order.chunk_by_mut(|a, b| group_of(a.key) == group_of(b.key)) {
        seal_group(group);
    }
}

/// Seals one group (same backend, same key size), given as the jobs or as
/// references to them: through the multi-lane kernel when the backend has
/// one, else job by job.
fn seal_group<'a, J: BorrowMut<SealJob<'a>>>(group: &mut [J]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(k) = group.first().and_then(|j| j.borrow().key.vaes_avx2()) {
        return vaes_avx2::seal_group(k.rounds, group);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(k) = group.first().and_then(|j| j.borrow().key.vaes_avx512()) {
        return vaes_avx512::seal_group(k.rounds, group);
    }
    for i in 0..group.len() {
        // The key two jobs ahead on its way: a batch over many connections
        // finds their keys cold (measured on Zen 3, aesni-clmul, rustls
        // bench fan-out of 1000 x 1 KiB: ~5% less time).
        if let Some(n) = group.get(i + 2) {
            n.borrow().key.prefetch();
        }
        seal_one(group[i].borrow_mut());
    }
}

/// The single-stream path: the key's own backend kernel.
pub(crate) fn seal_one(j: &mut SealJob<'_>) {
    j.tag = j
        .key
        .seal_in_place_detached(&j.nonce, j.aad, j.buf)
        .expect("lengths checked by seal_batch");
}

/// Opens every job, on this thread; one result per job, in order. A job
/// that fails to authenticate has its buffer zeroed and does not affect the
/// others.
pub fn open_batch(jobs: &mut [OpenJob<'_>]) -> Vec<Result<(), Error>> {
    let mut results = vec![Ok(()); jobs.len()];
    open_into(jobs, &mut results);
    results
}

fn open_into(jobs: &mut [OpenJob<'_>], results: &mut [Result<(), Error>]) {
    let mut order: Vec<OpenPair<'_, '_>> = jobs.iter_mut().zip(results.iter_mut()).collect();
    open_pairs(&mut order);
}

/// Opens the jobs of `order`, group by group, setting each result.
fn open_pairs(order: &mut [OpenPair<'_, '_>]) {
    if one_group(order.iter().map(|(j, _)| j.key)) {
        return open_group(order);
    }
    order.sort_by_key(|(j, _)| group_of(j.key));
    for group in order.chunk_by_mut(|a, b| group_of(a.0.key) == group_of(b.0.key)) {
        open_group(group);
    }
}

/// Opens one group (same backend, same key size): through the multi-lane
/// kernel when the backend has one, else job by job.
fn open_group(group: &mut [(&mut OpenJob<'_>, &mut Result<(), Error>)]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(k) = group.first().and_then(|(j, _)| j.key.vaes_avx2()) {
        return vaes_avx2::open_group(k.rounds, group);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(k) = group.first().and_then(|(j, _)| j.key.vaes_avx512()) {
        return vaes_avx512::open_group(k.rounds, group);
    }
    for (j, r) in group.iter_mut() {
        **r = open_one(j);
    }
}

/// Whether opening a `len`-byte message in a batch runs a multi-record
/// kernel (a `vaes-avx2` or `vaes-avx512` key and a short message); other jobs are opened
/// one by one inside the batch anyway, so a caller with its own per-job
/// work may as well open them alone.
pub(crate) fn batch_open_gains(key: &AesGcm, len: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        (len <= vaes_avx2::SHORT_MAX && key.vaes_avx2().is_some())
            || (len > 0 && len <= vaes_avx512::SHORT_MAX && key.vaes_avx512().is_some())
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (key, len);
        false
    }
}

/// The single-stream path: the key's own backend kernel (which zeroes the
/// buffer on a bad tag).
pub(crate) fn open_one(j: &mut OpenJob<'_>) -> Result<(), Error> {
    j.key.open_in_place_detached(&j.nonce, j.aad, j.buf, &j.tag)
}

/// Seals every job, spreading contiguous chunks over rayon's threads; each
/// chunk is a [`seal_batch`]. Small batches stay on the calling thread.
///
/// # Panics
///
/// As [`seal_batch`].
pub fn seal_batch_parallel(jobs: &mut [SealJob<'_>]) {
    let job_cost = |j: &SealJob<'_>| cost(j.aad.len(), j.buf.len());
    let total = jobs.iter().map(job_cost).sum();
    match parallel_threads(total) {
        Some(threads) => run_split(jobs, total, threads, job_cost, |c| seal_batch(c)),
        None => seal_batch(jobs),
    }
}

/// Runs `f` over contiguous chunks of `items` on rayon's threads, each
/// chunk taken as [`seal_batch_parallel`] takes its chunks (guided
/// self-scheduling by cost: AAD + text bytes, from `lens`); or over all of
/// them on this thread when the total is too small to share. For callers
/// whose per-item work around the AEAD (copies, framing) should be spread
/// too, not only the AEAD.
pub(crate) fn split_over_threads<T: Send>(
    items: &mut [T],
    lens: impl Fn(&T) -> (usize, usize) + Sync,
    f: impl Fn(&mut [T]) + Sync,
) {
    let item_cost = |t: &T| {
        let (aad, text) = lens(t);
        cost(aad, text)
    };
    let total = items.iter().map(item_cost).sum();
    match parallel_threads(total) {
        Some(threads) => run_split(items, total, threads, item_cost, f),
        None => f(items),
    }
}

/// Opens every job, spreading the work over rayon's threads as
/// [`seal_batch_parallel`] does; one result per job, in order.
pub fn open_batch_parallel(jobs: &mut [OpenJob<'_>]) -> Vec<Result<(), Error>> {
    let mut results = vec![Ok(()); jobs.len()];
    let total = jobs.iter().map(|j| cost(j.aad.len(), j.buf.len())).sum();
    match parallel_threads(total) {
        Some(threads) => {
            let mut pairs: Vec<OpenPair<'_, '_>> =
                jobs.iter_mut().zip(results.iter_mut()).collect();
            let pair_cost = |(j, _): &OpenPair<'_, '_>| cost(j.aad.len(), j.buf.len());
            run_split(&mut pairs, total, threads, pair_cost, open_pairs);
        }
        None => open_into(jobs, &mut results),
    }
    results
}

#[cfg(test)]
mod tests {
    use super::super::Backend;
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// A random mix of jobs: keys 128/256 (and 192) on the given backends, lengths
    /// 0..=16384 (weighted to short), AAD 0..=40 bytes.
    struct Mix {
        keys: Vec<AesGcm>,
        specs: Vec<Spec>,
    }

    /// (key index, nonce, AAD, plaintext).
    type Spec = (usize, [u8; 12], Vec<u8>, Vec<u8>);

    fn mix(rng: &mut ChaCha20Rng, backends: &[Backend], n: usize) -> Mix {
        let mut keys = Vec::new();
        for i in 0..8 {
            let len = [16, 32, 24][i % 3];
            let k: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            keys.push(AesGcm::with_backend(&k, backends[i % backends.len()]).unwrap());
        }
        let specs = (0..n)
            .map(|i| {
                let len = match i % 6 {
                    0 => rng.gen_range(0..=16384),
                    1 => [0, 1, 15, 16, 17, 16384][rng.gen_range(0..6)],
                    _ => rng.gen_range(0..=300),
                };
                let aad_len = rng.gen_range(0..=40);
                (
                    rng.gen_range(0..keys.len()),
                    rng.gen(),
                    (0..aad_len).map(|_| rng.gen()).collect(),
                    (0..len).map(|_| rng.gen()).collect(),
                )
            })
            .collect();
        Mix { keys, specs }
    }

    fn check_mix(m: &Mix, parallel: bool) {
        let mut bufs: Vec<Vec<u8>> = m.specs.iter().map(|s| s.3.clone()).collect();
        let mut jobs: Vec<SealJob<'_>> = m
            .specs
            .iter()
            .zip(bufs.iter_mut())
            .map(|(s, b)| SealJob {
                key: &m.keys[s.0],
                nonce: s.1,
                aad: &s.2,
                buf: b,
                tag: [0; 16],
            })
            .collect();
        if parallel {
            seal_batch_parallel(&mut jobs);
        } else {
            seal_batch(&mut jobs);
        }
        let tags: Vec<[u8; 16]> = jobs.iter().map(|j| j.tag).collect();
        drop(jobs);
        for (i, s) in m.specs.iter().enumerate() {
            let mut alone = s.3.clone();
            let tag = m.keys[s.0]
                .seal_in_place_detached(&s.1, &s.2, &mut alone)
                .unwrap();
            assert_eq!(bufs[i], alone, "job {i} ciphertext");
            assert_eq!(tags[i], tag, "job {i} tag");
        }

        // Open them back, with every third job tampered.
        let mut tampered = Vec::new();
        let mut jobs: Vec<OpenJob<'_>> = m
            .specs
            .iter()
            .zip(bufs.iter_mut())
            .zip(&tags)
            .enumerate()
            .map(|(i, ((s, b), t))| {
                let mut tag = *t;
                if i % 3 == 1 {
                    tag[i % 16] ^= 0x80;
                    tampered.push(i);
                }
                OpenJob {
                    key: &m.keys[s.0],
                    nonce: s.1,
                    aad: &s.2,
                    buf: b,
                    tag,
                }
            })
            .collect();
        let results = if parallel {
            open_batch_parallel(&mut jobs)
        } else {
            open_batch(&mut jobs)
        };
        drop(jobs);
        for (i, s) in m.specs.iter().enumerate() {
            if tampered.contains(&i) {
                assert_eq!(results[i], Err(Error::Authentication), "job {i}");
                assert!(bufs[i].iter().all(|&b| b == 0), "job {i} zeroed");
            } else {
                assert_eq!(results[i], Ok(()), "job {i}");
                assert_eq!(bufs[i], s.3, "job {i} plaintext");
            }
        }
    }

    #[test]
    fn batch_equals_one_by_one_on_every_backend() {
        let mut rng = ChaCha20Rng::seed_from_u64(0xba7c);
        for backend in Backend::available() {
            for n in [0, 1, 3, 8, 9, 40] {
                check_mix(&mix(&mut rng, &[backend], n), false);
            }
        }
        // Mixed backends in one batch.
        let all = Backend::available();
        check_mix(&mix(&mut rng, &all, 60), false);
    }

    /// Lengths around every boundary of the batch kernels: the block (16),
    /// the register pair (32), each `vaes-avx2` shape (a multiple of 32 plus
    /// 16), the last length whose AAD block joins the data's GHASH (224),
    /// the 16-block pipeline shape (241..=256), the single-stream cut
    /// (256/257) and the former AES-NI lane kernel's cuts (128, 8 KiB), each
    /// +- 1; and
    /// mid sizes in groups of 16 blocks (multiples of 128 and 256 +- 1, 2
    /// and 4 KiB +- 1, and 485, 496, 497, 767, where J0 and the length
    /// block fall at the start or end of a group: the cuts of the
    /// cross-record pipeline tried in asm-notes/vaes-avx2.md, "Mid-size
    /// batch kernel").
    fn boundary_lengths() -> Vec<usize> {
        let mut lens = vec![0, 1, 2, 3, 4, 7, 8, 9, 485, 496, 497, 767];
        let mid = (384..=1024).step_by(128).chain([2048, 4096]);
        for edge in (16..=288).step_by(16).chain(mid).chain([1420, 8192, 16384]) {
            lens.extend([edge - 1, edge, edge + 1]);
        }
        lens.sort_unstable();
        lens.dedup();
        lens
    }

    /// Which input of a job an open test tampers with.
    #[derive(Clone, Copy, Debug)]
    enum Tamper {
        Tag,
        Ciphertext,
        Aad,
    }

    /// Seals `specs` as one batch (all on `key`'s backend and size, so one
    /// group) and checks each job against sealing it alone; then opens the
    /// batch once untouched and once with each job in turn tampered (the
    /// tag, a ciphertext byte or an AAD byte, rotating), checking that only
    /// that job fails and is zeroed.
    fn check_group(keys: &[AesGcm], specs: &[Spec]) {
        let mut bufs: Vec<Vec<u8>> = specs.iter().map(|s| s.3.clone()).collect();
        let mut jobs: Vec<SealJob<'_>> = specs
            .iter()
            .zip(bufs.iter_mut())
            .map(|(s, b)| SealJob {
                key: &keys[s.0],
                nonce: s.1,
                aad: &s.2,
                buf: b,
                tag: [0; 16],
            })
            .collect();
        seal_batch(&mut jobs);
        let tags: Vec<[u8; 16]> = jobs.iter().map(|j| j.tag).collect();
        drop(jobs);
        for (i, s) in specs.iter().enumerate() {
            let mut alone = s.3.clone();
            let tag = keys[s.0]
                .seal_in_place_detached(&s.1, &s.2, &mut alone)
                .unwrap();
            let ctx = (
                keys[s.0].backend(),
                keys[s.0].key_len(),
                s.2.len(),
                s.3.len(),
            );
            assert_eq!(
                bufs[i],
                alone,
                "job {i} of {} ciphertext {ctx:?}",
                specs.len()
            );
            assert_eq!(tags[i], tag, "job {i} of {} tag {ctx:?}", specs.len());
        }
        let kinds = [Tamper::Tag, Tamper::Ciphertext, Tamper::Aad];
        for bad in (0..=specs.len()).map(|b| b.checked_sub(1)) {
            let kind = kinds[bad.unwrap_or(0) % 3];
            let mut cts = bufs.clone();
            let mut aads: Vec<Vec<u8>> = specs.iter().map(|s| s.2.clone()).collect();
            let mut tags = tags.clone();
            let mut tampered = None;
            if let Some(b) = bad {
                let n = specs[b].3.len();
                match kind {
                    Tamper::Ciphertext if n > 0 => cts[b][(b * 7) % n] ^= 0x04,
                    Tamper::Aad if !aads[b].is_empty() => {
                        let m = aads[b].len();
                        aads[b][(b * 5) % m] ^= 0x20;
                    }
                    _ => tags[b][b % 16] ^= 0x01,
                }
                tampered = Some(b);
            }
            let mut jobs: Vec<OpenJob<'_>> = specs
                .iter()
                .zip(cts.iter_mut())
                .zip(&aads)
                .zip(&tags)
                .map(|(((s, b), a), t)| OpenJob {
                    key: &keys[s.0],
                    nonce: s.1,
                    aad: a,
                    buf: b,
                    tag: *t,
                })
                .collect();
            let results = open_batch(&mut jobs);
            drop(jobs);
            for (i, s) in specs.iter().enumerate() {
                if tampered == Some(i) {
                    assert_eq!(results[i], Err(Error::Authentication), "job {i} {kind:?}");
                    assert!(cts[i].iter().all(|&b| b == 0), "job {i} zeroed");
                } else {
                    assert_eq!(results[i], Ok(()), "job {i} (tampered {tampered:?})");
                    assert_eq!(cts[i], s.3, "job {i} plaintext");
                }
            }
        }
    }

    /// Every boundary length, 1..=9 jobs of that length in one group (the
    /// kernels' sets of two and the odd one left over), for each key size
    /// on every backend; AAD lengths 0..=40 and long AAD across the jobs;
    /// and each job position tampered in turn.
    #[test]
    fn boundary_lengths_counts_and_tampering_on_every_backend() {
        let mut rng = ChaCha20Rng::seed_from_u64(0xb0de);
        for backend in Backend::available() {
            for key_len in [16, 24, 32] {
                let keys: Vec<AesGcm> = (0..9)
                    .map(|_| {
                        let k: Vec<u8> = (0..key_len).map(|_| rng.gen()).collect();
                        AesGcm::with_backend(&k, backend).unwrap()
                    })
                    .collect();
                for (li, &len) in boundary_lengths().iter().enumerate() {
                    let counts: &[usize] = if len > 2048 {
                        &[1, 3]
                    } else {
                        &[1, 2, 3, 4, 5, 9]
                    };
                    for &n in counts {
                        let specs: Vec<Spec> = (0..n)
                            .map(|i| {
                                let aad_len = match (li + i) % 9 {
                                    7 => 600,
                                    8 => 100,
                                    v => (v * 7 + li + n) % 41,
                                };
                                (
                                    i,
                                    rng.gen(),
                                    (0..aad_len).map(|_| rng.gen()).collect(),
                                    (0..len).map(|_| rng.gen()).collect(),
                                )
                            })
                            .collect();
                        check_group(&keys, &specs);
                    }
                }
            }
        }
    }

    /// Every AAD length 0..=17 (the kernels read a 1..=16-byte AAD as one
    /// block, the TLS lengths 5 and 13 by their own loads; each AAD is its
    /// own allocation, so it ends where its memory ends) with the short
    /// path's shape edges, in pairs, odd counts, and runs of one shape
    /// broken by another (a run, then the waiting sets); each job position
    /// tampered in turn.
    #[test]
    fn short_aad_lengths_and_runs_on_every_backend() {
        let mut rng = ChaCha20Rng::seed_from_u64(0xaad5);
        let lens = [
            0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 80, 81, 208, 209, 240, 241, 256,
        ];
        for backend in Backend::available() {
            let keys: Vec<AesGcm> = (0..8)
                .map(|i| {
                    let k: Vec<u8> = (0..[16, 32][i % 2]).map(|_| rng.gen()).collect();
                    AesGcm::with_backend(&k, backend).unwrap()
                })
                .collect();
            for aad_len in 0..=17 {
                let spec = |rng: &mut ChaCha20Rng, key: usize, len: usize| -> Spec {
                    (
                        key,
                        rng.gen(),
                        (0..aad_len).map(|_| rng.gen()).collect(),
                        (0..len).map(|_| rng.gen()).collect(),
                    )
                };
                for &len in &lens {
                    for n in [2, 3] {
                        // Keys 0, 2, 4: one key size, one group.
                        let specs: Vec<Spec> = (0..n).map(|i| spec(&mut rng, 2 * i, len)).collect();
                        check_group(&keys, &specs);
                    }
                }
                // Runs of 64 B broken by 200 B and 17 B records.
                let pattern = [64, 64, 64, 200, 64, 64, 17, 64, 200, 64, 64, 64];
                let specs: Vec<Spec> = pattern
                    .iter()
                    .enumerate()
                    .map(|(i, &len)| spec(&mut rng, 2 * (i % 4) + 1, len))
                    .collect();
                check_group(&keys, &specs);
            }
        }
    }

    /// Jobs of many lengths in random order in one group, so sets of
    /// several shapes are open at once and complete out of order.
    #[test]
    fn interleaved_shapes_in_one_group() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x5a9e);
        let lens = boundary_lengths();
        for backend in Backend::available() {
            for key_len in [16, 32, 24] {
                let keys: Vec<AesGcm> = (0..4)
                    .map(|_| {
                        let k: Vec<u8> = (0..key_len).map(|_| rng.gen()).collect();
                        AesGcm::with_backend(&k, backend).unwrap()
                    })
                    .collect();
                for n in [2, 7, 17, 40] {
                    let specs: Vec<Spec> = (0..n)
                        .map(|_| {
                            let len = if rng.gen_bool(0.8) {
                                lens[rng.gen_range(0..lens.len())].min(600)
                            } else {
                                rng.gen_range(0..=300)
                            };
                            let aad_len = rng.gen_range(0..=40);
                            (
                                rng.gen_range(0..keys.len()),
                                rng.gen(),
                                (0..aad_len).map(|_| rng.gen()).collect(),
                                (0..len).map(|_| rng.gen()).collect(),
                            )
                        })
                        .collect();
                    check_group(&keys, &specs);
                }
            }
        }
    }

    /// One batch whose lanes all differ in length: every length of 0 to 17
    /// blocks plus every tail (0..=287 bytes, each once, in random order),
    /// first on each backend alone with keys of all three sizes, then with
    /// the keys spread over every backend; each job tampered in turn.
    #[test]
    fn every_lane_a_different_length() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x1a9e);
        let all = Backend::available();
        let mut sets: Vec<Vec<Backend>> = all.iter().map(|&b| vec![b]).collect();
        sets.push(all.clone());
        for backends in sets {
            let keys: Vec<AesGcm> = (0..12)
                .map(|i| {
                    let k: Vec<u8> = (0..[16, 24, 32][i % 3]).map(|_| rng.gen()).collect();
                    AesGcm::with_backend(&k, backends[(i / 3) % backends.len()]).unwrap()
                })
                .collect();
            let mut lens: Vec<usize> = (0..18 * 16).collect();
            for i in (1..lens.len()).rev() {
                lens.swap(i, rng.gen_range(0..=i));
            }
            let specs: Vec<Spec> = lens
                .iter()
                .map(|&len| {
                    let aad_len = [0, 5, 13, 16, 17, 40][rng.gen_range(0..6)];
                    (
                        rng.gen_range(0..keys.len()),
                        rng.gen(),
                        (0..aad_len).map(|_| rng.gen()).collect(),
                        (0..len).map(|_| rng.gen()).collect(),
                    )
                })
                .collect();
            check_group(&keys, &specs);
        }
    }

    #[test]
    fn parallel_equals_one_by_one() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x9a7);
        let all = Backend::available();
        for n in [0, 2, 50, 120] {
            check_mix(&mix(&mut rng, &all, n), true);
        }
    }

    #[test]
    fn parallel_batches_nest_inside_rayon() {
        // Called from pool threads (a server sealing per-core groups with
        // par_iter): the nested scope must neither deadlock nor mix jobs.
        use rayon::prelude::*;
        let all = Backend::available();
        let mixes: Vec<Mix> = (0..4)
            .map(|i| mix(&mut ChaCha20Rng::seed_from_u64(0x5e5 + i), &all, 120))
            .collect();
        mixes.par_iter().for_each(|m| check_mix(m, true));
    }
}
