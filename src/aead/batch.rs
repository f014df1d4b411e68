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
//!  vaes-avx2 keys (src/aead/batch_vaes.rs, x86_64):
//!      0..=208 B:   two records per kernel call (same register shape),
//!                   AES rounds interleaved, J0 to tag in one pass
//!      209..=240 B: one record per kernel call, J0 to tag in one pass
//!      241..=256 B: pipeline, AES of one record with the GHASH of the previous
//!      longer:      seal: a chain (vaes_avx2::seal_chain), each record's last
//!                   GHASH and tag riding the next record's first AES group;
//!                   open: the key's whole-message kernel, record by record
//!  other backends (aesni-clmul included): single-stream, job by job
//!      (aesni-clmul's 128-bit multi-lane kernel was removed once its
//!      whole-message path made one by one 7-16% faster than the lanes)
//!  *_parallel: jobs ──chunks, big first, shrinking──▶ taken by the caller (front) and the other pool threads (back) ──▶ the above per chunk
//! ```

use super::{AesGcm, Error, MAX_AAD_LEN, MAX_PLAINTEXT_LEN};
use core::borrow::BorrowMut;
use core::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One message to seal: on return `buf` holds the ciphertext and `tag` the
/// 16-byte tag.
pub struct SealJob<'a> {
    /// The key (and through it, the backend).
    pub key: &'a AesGcm,
    /// The 96-bit nonce.
    pub nonce: [u8; 12],
    /// Additional authenticated data.
    pub aad: &'a [u8],
    /// Plaintext in, ciphertext out.
    pub buf: &'a mut [u8],
    /// Output: the tag.
    pub tag: [u8; 16],
}

/// One message to open: `buf` holds the ciphertext and `tag` the received
/// tag; on success `buf` holds the plaintext, on failure zeros.
pub struct OpenJob<'a> {
    /// The key (and through it, the backend).
    pub key: &'a AesGcm,
    /// The 96-bit nonce.
    pub nonce: [u8; 12],
    /// Additional authenticated data.
    pub aad: &'a [u8],
    /// Ciphertext in, plaintext (or zeros) out.
    pub buf: &'a mut [u8],
    /// The received 16-byte tag.
    pub tag: [u8; 16],
}

impl fmt::Debug for SealJob<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealJob")
            .field("key", self.key)
            .field("aad_len", &self.aad.len())
            .field("len", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OpenJob<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenJob")
            .field("key", self.key)
            .field("aad_len", &self.aad.len())
            .field("len", &self.buf.len())
            .finish_non_exhaustive()
    }
}

/// Jobs are grouped by backend and key length: one group, one kernel.
fn group_of(key: &AesGcm) -> (usize, usize) {
    (key.backend() as usize, key.key_len())
}

/// Whether all keys fall in one group (the common case: no sort needed).
fn one_group<'k>(mut keys: impl Iterator<Item = &'k AesGcm>) -> bool {
    match keys.next() {
        Some(first) => {
            let g = group_of(first);
            keys.all(|k| group_of(k) == g)
        }
        None => true,
    }
}

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
    if super::batch_vaes::handles(group.first().map(|j| j.borrow().key)) {
        return super::batch_vaes::seal_group(group);
    }
    for j in group.iter_mut() {
        seal_one(j.borrow_mut());
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

/// A job to open and the place for its result.
type OpenPair<'r, 'a> = (&'r mut OpenJob<'a>, &'r mut Result<(), Error>);

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
    if super::batch_vaes::handles(group.first().map(|(j, _)| j.key)) {
        return super::batch_vaes::open_group(group);
    }
    for (j, r) in group.iter_mut() {
        **r = open_one(j);
    }
}

/// Whether opening a `len`-byte message in a batch runs a multi-record
/// kernel (a `vaes-avx2` key and a short message); other jobs are opened
/// one by one inside the batch anyway, so a caller with its own per-job
/// work may as well open them alone.
pub(crate) fn batch_open_gains(key: &AesGcm, len: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        len <= super::batch_vaes::SHORT_MAX && super::batch_vaes::handles(Some(key))
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

/// What a job costs, in bytes of GHASH input plus a per-message overhead of
/// about four blocks (J0, length block, tag, setup).
fn cost(aad: usize, len: usize) -> usize {
    aad + len + 64
}

/// Below this many bytes a batch stays on one thread: handing work to rayon
/// costs more than it saves.
const PARALLEL_MIN_BYTES: usize = 64 * 1024;
/// The smallest chunk a thread takes (cost bytes): taking one is a lock and
/// a kernel restart, a few tens of nanoseconds next to ~0.5 us of sealing.
const MIN_CHUNK_BYTES: usize = 4 * 1024;

/// How many threads should share a batch of `total` cost bytes; None when
/// it should stay on this thread.
fn parallel_threads(total: usize) -> Option<usize> {
    let threads = rayon::current_num_threads();
    (threads >= 2 && total >= PARALLEL_MIN_BYTES).then_some(threads)
}

/// The cost bytes the next chunk should hold when `left` are not yet taken
/// by any of `threads`: a `1/(2 threads)` share of what is left (guided
/// self-scheduling), so chunks start big and shrink towards the end, where
/// the threads must finish together.
fn chunk_target(left: usize, threads: usize) -> usize {
    (left / (2 * threads)).max(MIN_CHUNK_BYTES)
}

/// Takes a chunk off the front (or back) of `rest`: the fewest items whose
/// cost reaches `target`, or all that is left. Returns it with its cost.
fn take_chunk<'s, T>(
    rest: &mut &'s mut [T],
    target: usize,
    cost: impl Fn(&T) -> usize,
    from_back: bool,
) -> (&'s mut [T], usize) {
    let s = core::mem::take(rest);
    let mut acc = 0;
    let n = if from_back {
        s.iter().rev().position(|t| {
            acc += cost(t);
            acc >= target
        })
    } else {
        s.iter().position(|t| {
            acc += cost(t);
            acc >= target
        })
    }
    .map_or(s.len(), |i| i + 1);
    let chunk = if from_back {
        let (a, b) = s.split_at_mut(s.len() - n);
        *rest = a;
        b
    } else {
        let (a, b) = s.split_at_mut(n);
        *rest = b;
        a
    };
    (chunk, acc)
}

/// Runs `f` on chunks of `items` (whose costs sum to `total`) on the
/// calling thread and on one task per other of the `threads`, until none is
/// left. The caller takes chunks from the front, the pool threads from the
/// back; a chunk is cut when it is taken, sized by [`chunk_target`].
///
/// ```text
///   caller:      [ c0      ][ c2   ][c4 ][c6]...        (starts at once)
///   pool thread:  ~wake-up~ ...[c7][c5 ][ c3   ][ c1      ]  (starts when woken)
/// ```
///
/// On the 2-core VM a round trip to a sleeping pool thread (spawn, wake,
/// run, signal back) measured 15-30 us; with fixed halves the batch waited
/// for the wake-up, with a shared list the caller meanwhile seals chunks.
/// Taking from opposite ends keeps a batch's records on the same core from
/// one call to the next when the split point stays put (the buffers a core
/// sealed last time are still in its cache), where handing out chunks in
/// turn moved them between the cores' caches: 1024 records of 1420 B,
/// parallel over serial, went from 1.34-1.47x to 1.65-1.76x, and with the
/// caller's spin below to 1.80-1.98x. Guided chunk sizes (from fixed 16 KiB
/// chunks, ~90 per call, to ~20) took the per-call median from 88.6 to
/// 85.2 us (traced; serial 166 us).
fn run_split<T: Send>(
    items: &mut [T],
    total: usize,
    threads: usize,
    cost: impl Fn(&T) -> usize + Sync,
    f: impl Fn(&mut [T]) + Sync,
) {
    // What is not yet taken, and its cost.
    let rest = std::sync::Mutex::new((items, total));
    let drain = |from_back: bool| loop {
        // A poisoned lock means `f` panicked on another thread; that panic
        // resurfaces when the scope ends, so this thread just stops.
        let chunk = match rest.lock() {
            Ok(mut r) if !r.0.is_empty() => {
                let (items, left) = &mut *r;
                let (chunk, taken) =
                    take_chunk(items, chunk_target(*left, threads), &cost, from_back);
                *left = left.saturating_sub(taken);
                chunk
            }
            _ => break,
        };
        f(chunk);
    };
    let drain = &drain;
    // Pool tasks that have started, and finished, draining.
    let (started, finished) = (&AtomicUsize::new(0), &AtomicUsize::new(0));
    rayon::in_place_scope(|s| {
        for _ in 1..threads {
            s.spawn(move |_| {
                started.fetch_add(1, Ordering::AcqRel);
                drain(true);
                finished.fetch_add(1, Ordering::Release);
            });
        }
        drain(false);
        // Nothing is left to take; a pool task still sealing its last chunk
        // ends within a few microseconds. Spin for it rather than sleep in
        // the scope's wait: a sleeping caller took 20-80 us to wake on the
        // VM, in about 40% of calls (traced). Bounded, in case that thread
        // is descheduled; a task that has not started yet is waited for by
        // the scope as before.
        let spin_from = Instant::now();
        while finished.load(Ordering::Acquire) < started.load(Ordering::Acquire)
            && spin_from.elapsed() < MAX_SPIN
        {
            core::hint::spin_loop();
        }
    });
}

/// Longest the caller of a parallel batch spins for pool tasks to finish
/// their last chunks before it sleeps.
const MAX_SPIN: Duration = Duration::from_micros(50);

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

    #[test]
    fn chunks_are_balanced_by_bytes() {
        // One big job and many small ones, taken from both ends in turn as
        // `run_split` takes them: every chunk stays within one job of its
        // target, the targets shrink to the floor, the reported costs are
        // the chunks' costs, and together the chunks are the whole list, in
        // order.
        let mut costs = vec![cost(13, 16384 * 4)];
        costs.extend(std::iter::repeat_n(cost(13, 100), 1000));
        let total: usize = costs.iter().sum();
        let threads = 2;
        let mut items: Vec<(usize, usize)> = costs.iter().copied().enumerate().collect();
        let mut rest: &mut [(usize, usize)] = &mut items;
        let (mut front, mut back, mut targets) = (Vec::new(), Vec::new(), Vec::new());
        let (mut from_back, mut left) = (false, total);
        while !rest.is_empty() {
            let target = chunk_target(left, threads);
            targets.push(target);
            let (chunk, taken) = take_chunk(&mut rest, target, |t| t.1, from_back);
            let c: usize = chunk.iter().map(|t| t.1).sum();
            assert_eq!(c, taken);
            left -= taken;
            let largest = chunk.iter().map(|t| t.1).max().unwrap();
            assert!(c < target + largest || rest.is_empty(), "chunk of {c}");
            let ids: Vec<usize> = chunk.iter().map(|t| t.0).collect();
            if from_back {
                back.push(ids);
            } else {
                front.push(ids);
            }
            from_back = !from_back;
        }
        assert_eq!(left, 0);
        assert_eq!(targets[0], total / 4);
        assert!(targets.windows(2).all(|w| w[1] <= w[0]));
        assert_eq!(*targets.last().unwrap(), MIN_CHUNK_BYTES);
        assert!(targets.len() < 40, "{} chunks", targets.len());
        back.reverse();
        let order: Vec<usize> = front.into_iter().chain(back).flatten().collect();
        assert_eq!(order, (0..costs.len()).collect::<Vec<_>>());
        assert!(parallel_threads(cost(0, 100) * 10).is_none());
    }
}
