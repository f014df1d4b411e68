//! The jobs of the batch path and how they are scheduled: the job types,
//! the grouping of jobs by (backend, key size), and the split of a batch
//! into chunks over threads.

#![forbid(unsafe_code)]

use crate::aead::{AesGcm, Error};
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
pub(super) fn group_of(key: &AesGcm) -> (usize, usize) {
    (key.backend() as usize, key.key_len())
}

/// Whether all keys fall in one group (the common case: no sort needed).
pub(super) fn one_group<'k>(mut keys: impl Iterator<Item = &'k AesGcm>) -> bool {
    match keys.next() {
        Some(first) => {
            let g = group_of(first);
            keys.all(|k| group_of(k) == g)
        }
        None => true,
    }
}

/// A job to open and the place for its result.
pub(super) type OpenPair<'r, 'a> = (&'r mut OpenJob<'a>, &'r mut Result<(), Error>);

/// Lane scheduling: the indexes of jobs of one shape gathered until a full
/// set of `W` can run in one multi-record kernel call (no sort, no
/// allocation: jobs join their shape's set as they come).
// Used by the multi-record kernels (x86_64 today).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gather<const W: usize> {
    idx: [usize; W],
    n: usize,
}

// Used by the multi-record kernels (x86_64 today).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl<const W: usize> Gather<W> {
    /// No job waiting.
    pub(crate) const EMPTY: Gather<W> = Gather { idx: [0; W], n: 0 };

    /// Adds job `i`; returns the full set (and empties) when `i` completes one.
    #[inline]
    pub(crate) fn push(&mut self, i: usize) -> Option<[usize; W]> {
        self.idx[self.n] = i;
        self.n += 1;
        if self.n < W {
            return None;
        }
        self.n = 0;
        Some(self.idx)
    }

    /// Whether no job is waiting.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The jobs waiting, fewer than a set.
    pub(crate) fn waiting(&self) -> &[usize] {
        &self.idx[..self.n]
    }
}

/// What a job costs, in bytes of GHASH input plus a per-message overhead of
/// about four blocks (J0, length block, tag, setup).
pub(super) fn cost(aad: usize, len: usize) -> usize {
    aad + len + 64
}

/// Below this many bytes a batch stays on one thread: handing work to rayon
/// costs more than it saves.
pub(crate) const PARALLEL_MIN_BYTES: usize = 64 * 1024;
/// The smallest chunk a thread takes (cost bytes): taking one is a lock and
/// a kernel restart, a few tens of nanoseconds next to ~0.5 us of sealing.
const MIN_CHUNK_BYTES: usize = 4 * 1024;

/// How many threads should share a batch of `total` cost bytes; None when
/// it should stay on this thread.
pub(super) fn parallel_threads(total: usize) -> Option<usize> {
    let threads = rayon::current_num_threads();
    (threads >= 2 && total >= PARALLEL_MIN_BYTES).then_some(threads)
}

/// The cost bytes the next chunk should hold when `left` are not yet taken
/// by any of `threads`: a `1/(2 threads)` share of what is left (guided
/// self-scheduling), so chunks start big and shrink towards the end, where
/// the threads must finish together.
pub(super) fn chunk_target(left: usize, threads: usize) -> usize {
    (left / (2 * threads)).max(MIN_CHUNK_BYTES)
}

/// Takes a chunk off the front (or back) of `rest`: the fewest items whose
/// cost reaches `target`, or all that is left. Returns it with its cost.
pub(super) fn take_chunk<'s, T>(
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
/// run, signal back) measured 15-30 us: with fixed halves a batch waits for
/// the wake-up, with a shared list the caller meanwhile seals chunks.
/// Taking from opposite ends keeps a batch's records on the same core from
/// one call to the next when the split point stays put (the buffers a core
/// sealed last time are still in its cache); chunks handed out in turn move
/// them between the cores' caches. Measured on 1024 records of 1420 B,
/// parallel over serial (Zen 4, 2 vCPUs): chunks in turn 1.34-1.47x, from
/// opposite ends 1.65-1.76x, with the caller's spin below 1.80-1.98x.
/// Guided chunk sizes (about 20 chunks per call) give a traced per-call
/// median of 85.2 us against 88.6 us for fixed 16 KiB chunks (about 90 per
/// call; serial 166 us).
pub(super) fn run_split<T: Send>(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_hands_out_full_sets_in_order() {
        let mut g = Gather::<2>::EMPTY;
        assert!(g.is_empty());
        assert_eq!(g.push(4), None);
        assert_eq!(g.waiting(), &[4]);
        assert_eq!(g.push(9), Some([4, 9]));
        assert!(g.is_empty() && g.waiting().is_empty());
        let mut g = Gather::<3>::EMPTY;
        let sets: Vec<_> = (0..7).filter_map(|i| g.push(i)).collect();
        assert_eq!(sets, vec![[0, 1, 2], [3, 4, 5]]);
        assert_eq!(g.waiting(), &[6]);
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
