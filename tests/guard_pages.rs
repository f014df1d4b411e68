//! Buffer-boundary tests: every backend reads and writes only inside the
//! caller's buffers.
//!
//! Each plaintext/ciphertext buffer and each AAD lives in its own mapping
//! with an inaccessible (`PROT_NONE`) page on both sides, placed either so
//! that it ends on the last byte before the upper guard page or so that it
//! starts on the first byte after the lower one:
//!
//! ```text
//!   | PROT_NONE |  read/write pages                           | PROT_NONE |
//!               ^ Head: buffer starts here    Tail: buffer ends here ^
//! ```
//!
//! A byte read or written beyond either end faults (the test process dies
//! with SIGSEGV). Every backend in `Backend::available()` seals and opens
//! every length 0 to 528, and every length within 16 bytes of a multiple
//! of the kernels' strides (1, 2, 8, 16 and 32 blocks) up to 4 KiB, with
//! AAD of 0 to 300 bytes placed the same way (and, for some cases, IVs
//! other than 96 bits, which take the generic block path); the results are compared with
//! the `portable` backend's, and a tampered message must fail to open with
//! its buffer zeroed (`portable` itself, slow, runs a subset: see
//! `PORTABLE_MAX`). The batch API runs the same lengths, several jobs per
//! batch, short and long records mixed, each job's buffer and AAD at a
//! guard page.
//!
//! A fault kills the process before libtest shows which case ran; then
//! `SEALWIRE_GUARD_TRACE=1 cargo test --test guard_pages -- --nocapture`
//! prints each case before it runs, so the last line names the backend,
//! lengths and placements.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sealwire::aead::{open_batch, seal_batch, AesGcm, Backend, OpenJob, SealJob};
use std::time::Instant;

/// Where a buffer sits in its guarded mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Starts on the first byte after the lower guard page.
    Head,
    /// Ends on the last byte before the upper guard page.
    Tail,
}

impl Place {
    fn other(self) -> Place {
        match self {
            Place::Head => Place::Tail,
            Place::Tail => Place::Head,
        }
    }
}

/// Canary byte written around a buffer: a backend that writes just outside
/// its buffer (but inside the mapping) changes it.
const CANARY: u8 = 0xa5;
/// How many bytes next to the buffer, on its open side, are checked.
const CANARY_SPAN: usize = 64;

/// An anonymous mapping laid out as `[guard page][rw pages][guard page]`.
struct Guarded {
    base: *mut u8,
    page: usize,
    rw: usize,
}

impl Guarded {
    /// A mapping with at least `capacity` read/write bytes.
    fn new(capacity: usize) -> Guarded {
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let rw = capacity.div_ceil(page).max(1) * page;
        let total = rw + 2 * page;
        // SAFETY: a fresh private anonymous mapping; no existing memory is
        // touched, and the result is checked against MAP_FAILED.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED, "mmap of {total} bytes failed");
        let base = base as *mut u8;
        // SAFETY: both ranges are whole pages inside the mapping just made,
        // and nothing refers to them.
        unsafe {
            assert_eq!(libc::mprotect(base.cast(), page, libc::PROT_NONE), 0);
            assert_eq!(
                libc::mprotect(base.add(page + rw).cast(), page, libc::PROT_NONE),
                0
            );
        }
        Guarded { base, page, rw }
    }

    /// The whole read/write span.
    fn rw_span(&mut self) -> &mut [u8] {
        // SAFETY: `page..page + rw` of the mapping is readable and writable
        // for as long as `self` lives, and the `&mut self` borrow makes this
        // the only reference to it.
        unsafe { core::slice::from_raw_parts_mut(self.base.add(self.page), self.rw) }
    }

    /// Copies `data` to `place`, fills the canary around it, and returns
    /// the buffer.
    fn place(&mut self, place: Place, data: &[u8]) -> &mut [u8] {
        assert!(data.len() <= self.rw, "buffer larger than its mapping");
        let start = match place {
            Place::Head => 0,
            Place::Tail => self.rw - data.len(),
        };
        let span = self.rw_span();
        let (lo, hi) = canary_range(span.len(), start, data.len(), place);
        span[lo..hi].fill(CANARY);
        span[start..start + data.len()].copy_from_slice(data);
        &mut span[start..start + data.len()]
    }

    /// The buffer last placed with `place` and length `len`.
    fn at(&mut self, place: Place, len: usize) -> &mut [u8] {
        let start = match place {
            Place::Head => 0,
            Place::Tail => self.rw - len,
        };
        &mut self.rw_span()[start..start + len]
    }

    /// Whether the canary next to the buffer at (`place`, `len`) is intact.
    fn canary_intact(&mut self, place: Place, len: usize) -> bool {
        let rw = self.rw;
        let start = match place {
            Place::Head => 0,
            Place::Tail => rw - len,
        };
        let (lo, hi) = canary_range(rw, start, len, place);
        self.rw_span()[lo..hi].iter().all(|&b| b == CANARY)
    }
}

/// The bytes on the buffer's open side (the side away from its guard page).
fn canary_range(rw: usize, start: usize, len: usize, place: Place) -> (usize, usize) {
    match place {
        Place::Head => (len, (len + CANARY_SPAN).min(rw)),
        Place::Tail => (start.saturating_sub(CANARY_SPAN), start),
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; no reference
        // into it outlives `self`.
        unsafe {
            libc::munmap(self.base.cast(), self.rw + 2 * self.page);
        }
    }
}

/// Plaintext lengths: every length 0..=300, and every length within 16
/// bytes of a multiple of each stride (blocks per bulk iteration of the
/// kernels: 1, 2, 8, 16, 32) up to a limit per stride, 4 KiB at most; the
/// 1- and 2-block strides up to 512 make every length 0..=528 present.
fn lengths() -> Vec<usize> {
    let mut v: Vec<usize> = (0..=300).collect();
    for (stride_blocks, limit) in [(1, 512), (2, 512), (8, 2048), (16, 4096), (32, 4096)] {
        let stride = 16 * stride_blocks;
        let mut m = stride;
        while m <= limit {
            v.extend(m - 16..=m + 16);
            m += stride;
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// AAD lengths crossed with every plaintext length up to [`SHORT_FULL`];
/// longer plaintexts take two of them in turn.
const AADS: [usize; 12] = [0, 1, 5, 13, 16, 17, 31, 32, 48, 64, 255, 300];
const SHORT_FULL: usize = 300;
const LONGEST: usize = 4096 + 16;

fn trace() -> bool {
    std::env::var_os("SEALWIRE_GUARD_TRACE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// One message with its `portable` result.
struct Case {
    key: usize,
    nonce: Vec<u8>,
    aad: Vec<u8>,
    pt: Vec<u8>,
    ct: Vec<u8>,
    tag: [u8; 16],
}

/// Keys of 128, 192 and 256 bits.
fn key_bytes(rng: &mut ChaCha8Rng) -> Vec<Vec<u8>> {
    [16usize, 24, 32]
        .iter()
        .map(|&n| (0..n).map(|_| rng.gen()).collect())
        .collect()
}

fn keys_on(keys: &[Vec<u8>], backend: Backend) -> Vec<AesGcm> {
    keys.iter()
        .map(|k| AesGcm::with_backend(k, backend).unwrap())
        .collect()
}

/// IV lengths other than 96 bits, taken in turn by some single-message
/// cases: J0 then comes from GHASH and the backends run their generic
/// block functions rather than their whole-message kernels.
const OTHER_IVS: [usize; 4] = [1, 8, 16, 60];

/// A case sealed by `portable` on ordinary heap buffers.
fn case(
    rng: &mut ChaCha8Rng,
    refs: &[AesGcm],
    key: usize,
    len: usize,
    aad_len: usize,
    nonce_len: usize,
) -> Case {
    let nonce: Vec<u8> = (0..nonce_len).map(|_| rng.gen()).collect();
    let aad: Vec<u8> = (0..aad_len).map(|_| rng.gen()).collect();
    let pt: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
    let mut ct = pt.clone();
    let tag = refs[key]
        .seal_in_place_detached(&nonce, &aad, &mut ct)
        .unwrap();
    Case {
        key,
        nonce,
        aad,
        pt,
        ct,
        tag,
    }
}

/// The single-message cases: every length crossed with the AAD lengths as
/// [`AADS`] describes, key sizes in turn; a quarter of the short cases and
/// the second case of each longer length have an IV of [`OTHER_IVS`].
fn single_cases(refs: &[AesGcm], rng: &mut ChaCha8Rng) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut other = OTHER_IVS.iter().cycle();
    for (i, &len) in lengths().iter().enumerate() {
        if len <= SHORT_FULL {
            for (j, &a) in AADS.iter().enumerate() {
                let iv = if (i + j) % 4 == 3 {
                    *other.next().unwrap()
                } else {
                    12
                };
                cases.push(case(rng, refs, (i + j) % refs.len(), len, a, iv));
            }
        } else {
            cases.push(case(
                rng,
                refs,
                i % refs.len(),
                len,
                AADS[i % AADS.len()],
                12,
            ));
            let iv = *other.next().unwrap();
            let a = AADS[(i + 5) % AADS.len()];
            cases.push(case(rng, refs, i % refs.len(), len, a, iv));
        }
    }
    cases
}

/// How a tampered copy of a message differs from the sealed one.
#[derive(Clone, Copy, Debug)]
enum Tamper {
    Tag,
    Ciphertext,
    Aad,
}

fn tamper_for(i: usize, c: &Case) -> Tamper {
    match i % 3 {
        1 if !c.ct.is_empty() => Tamper::Ciphertext,
        2 if !c.aad.is_empty() => Tamper::Aad,
        _ => Tamper::Tag,
    }
}

/// The `portable` backend is safe Rust (an out-of-bounds index panics
/// rather than reads) and about a thousand times slower than the SIMD
/// kernels, so it runs the lengths up to [`PORTABLE_MAX`] (every tail of
/// its 4-block chunk, many times over) with buffer and AAD at the same
/// guard side ([`PORTABLE_PLACEMENTS`]), and every
/// [`PORTABLE_BATCH_EVERY`]th batch; every other backend runs every case
/// at every placement.
const PORTABLE_MAX: usize = 528;
const PORTABLE_BATCH_EVERY: usize = 4;
const PORTABLE_PLACEMENTS: usize = 2;

fn single_covers(backend: Backend, c: &Case) -> bool {
    backend != Backend::Portable || c.pt.len() <= PORTABLE_MAX
}

fn batch_covers(backend: Backend, b: usize) -> bool {
    backend != Backend::Portable || b.is_multiple_of(PORTABLE_BATCH_EVERY)
}

#[test]
fn single_messages_at_guard_pages() {
    let t0 = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(0x9a2d_0001);
    let keys = key_bytes(&mut rng);
    let refs = keys_on(&keys, Backend::Portable);
    let cases = single_cases(&refs, &mut rng);
    // The first PORTABLE_PLACEMENTS are the ones portable runs.
    let placements = [
        (Place::Tail, Place::Tail),
        (Place::Head, Place::Head),
        (Place::Tail, Place::Head),
        (Place::Head, Place::Tail),
    ];
    let mut buf_map = Guarded::new(LONGEST);
    let mut aad_map = Guarded::new(LONGEST);
    let mut nonce_map = Guarded::new(64);
    let trace = trace();
    let backends = Backend::available();
    let mut total = 0usize;
    for &backend in &backends {
        let tb = Instant::now();
        let keys = keys_on(&keys, backend);
        let mut ran = 0usize;
        let mut lens = std::collections::BTreeSet::new();
        let mut other_ivs = 0usize;
        let placements = match backend {
            Backend::Portable => &placements[..PORTABLE_PLACEMENTS],
            _ => &placements[..],
        };
        for (i, c) in cases.iter().enumerate() {
            if !single_covers(backend, c) {
                continue;
            }
            lens.insert(c.pt.len());
            other_ivs += usize::from(c.nonce.len() != 12);
            for &(bp, ap) in placements {
                let what = format!(
                    "{backend}: len {} aad {} iv {} key {} bits, buffer {bp:?}, aad {ap:?}",
                    c.pt.len(),
                    c.aad.len(),
                    c.nonce.len(),
                    keys[c.key].key_len() * 8,
                );
                if trace {
                    eprintln!("guard single: {what}");
                }
                run_single(
                    &keys[c.key],
                    c,
                    i,
                    &mut buf_map,
                    bp,
                    &mut aad_map,
                    ap,
                    &mut nonce_map,
                    &what,
                );
                ran += 1;
            }
        }
        println!(
            "guard pages, single: {backend}: {} plaintext lengths (0..={}) x AAD lengths \
             (all {} of 0..=300 up to {SHORT_FULL} B, 2 in turn beyond) = {} cases \
             ({} with IVs of {OTHER_IVS:?} bytes, the rest 12) x {} placements (buffer/AAD: {}) = {ran} seal + open + tampered \
             open runs, equal to portable, in {:.2?}",
            lens.len(),
            lens.last().unwrap(),
            AADS.len(),
            ran / placements.len(),
            other_ivs,
            placements.len(),
            placements
                .iter()
                .map(|(b, a)| format!("{b:?}/{a:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            tb.elapsed()
        );
        total += ran;
    }
    println!(
        "guard pages, single: {} backends ({}): {total} runs in {:.2?}",
        backends.len(),
        names(&backends),
        t0.elapsed()
    );
}

fn names(backends: &[Backend]) -> String {
    backends
        .iter()
        .map(|b| b.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Seal, open and a tampered open of one case at the given placements.
#[allow(clippy::too_many_arguments)]
fn run_single(
    key: &AesGcm,
    c: &Case,
    i: usize,
    buf_map: &mut Guarded,
    bp: Place,
    aad_map: &mut Guarded,
    ap: Place,
    nonce_map: &mut Guarded,
    what: &str,
) {
    let len = c.pt.len();
    let aad_len = c.aad.len();
    aad_map.place(ap, &c.aad);
    // The nonce at the AAD's side of its own guarded mapping.
    let nonce = &*nonce_map.place(ap, &c.nonce);

    // Seal.
    buf_map.place(bp, &c.pt);
    let tag = key
        .seal_in_place_detached(nonce, aad_map.at(ap, aad_len), buf_map.at(bp, len))
        .unwrap();
    assert!(
        buf_map.at(bp, len) == c.ct,
        "{what}: ciphertext differs from portable"
    );
    assert_eq!(tag, c.tag, "{what}: tag differs from portable");
    assert!(
        buf_map.canary_intact(bp, len),
        "{what}: seal wrote outside the buffer"
    );

    // Open.
    buf_map.place(bp, &c.ct);
    key.open_in_place_detached(nonce, aad_map.at(ap, aad_len), buf_map.at(bp, len), &c.tag)
        .unwrap_or_else(|e| panic!("{what}: open failed: {e}"));
    assert!(
        buf_map.at(bp, len) == c.pt,
        "{what}: opened plaintext differs"
    );
    assert!(
        buf_map.canary_intact(bp, len),
        "{what}: open wrote outside the buffer"
    );
    assert!(aad_map.at(ap, aad_len) == c.aad, "{what}: AAD was written");

    // Tampered open.
    let how = tamper_for(i, c);
    let mut tag = c.tag;
    buf_map.place(bp, &c.ct);
    match how {
        Tamper::Tag => tag[i % 16] ^= 1 << (i % 8),
        Tamper::Ciphertext => buf_map.at(bp, len)[i % len] ^= 1 << (i % 8),
        Tamper::Aad => aad_map.at(ap, aad_len)[i % aad_len] ^= 1 << (i % 8),
    }
    let res = key.open_in_place_detached(nonce, aad_map.at(ap, aad_len), buf_map.at(bp, len), &tag);
    assert!(res.is_err(), "{what}: tampered {how:?} opened");
    assert!(
        buf_map.at(bp, len).iter().all(|&b| b == 0),
        "{what}: tampered {how:?}: buffer not zeroed"
    );
    assert!(
        buf_map.canary_intact(bp, len),
        "{what}: tampered open wrote outside the buffer"
    );
}

/// Jobs per batch: [`SHORT_PER_BATCH`] records of 0..=256 bytes (the
/// multi-record kernels' range) and the rest longer.
const JOBS: usize = 6;
const SHORT_PER_BATCH: usize = 4;

/// The batches: every length appears in some batch, short ones (0..=256)
/// spread over the batches four at a time, longer ones two at a time, so
/// each batch mixes lengths across the range. Key sizes go in turn per
/// batch; every third batch gives its last job another key size, so the
/// batch splits into groups.
fn batch_plan(refs: &[AesGcm], rng: &mut ChaCha8Rng) -> Vec<Vec<Case>> {
    let all = lengths();
    let short: Vec<usize> = all.iter().copied().filter(|&l| l <= 256).collect();
    let long: Vec<usize> = all.iter().copied().filter(|&l| l > 256).collect();
    let long_per = JOBS - SHORT_PER_BATCH;
    let n = short
        .len()
        .div_ceil(SHORT_PER_BATCH)
        .max(long.len().div_ceil(long_per));
    (0..n)
        .map(|b| {
            let key = b % refs.len();
            (0..JOBS)
                .map(|j| {
                    let len = if j < SHORT_PER_BATCH {
                        short[(b + j * n) % short.len()]
                    } else {
                        long[(b + (j - SHORT_PER_BATCH) * n) % long.len()]
                    };
                    let aad_len = AADS[(b + j) % AADS.len()];
                    let k = if j == JOBS - 1 && b % 3 == 0 {
                        (key + 1) % refs.len()
                    } else {
                        key
                    };
                    case(rng, refs, k, len, aad_len, 12)
                })
                .collect()
        })
        .collect()
}

#[test]
fn batches_at_guard_pages() {
    let t0 = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(0x9a2d_0002);
    let keys = key_bytes(&mut rng);
    let refs = keys_on(&keys, Backend::Portable);
    let plan = batch_plan(&refs, &mut rng);
    let mut buf_maps: Vec<Guarded> = (0..JOBS).map(|_| Guarded::new(LONGEST)).collect();
    let mut aad_maps: Vec<Guarded> = (0..JOBS).map(|_| Guarded::new(LONGEST)).collect();
    let trace = trace();
    let backends = Backend::available();
    let mut total = 0usize;
    for &backend in &backends {
        let tb = Instant::now();
        let keys = keys_on(&keys, backend);
        let mut batches = 0usize;
        let mut lens = std::collections::BTreeSet::new();
        for (b, batch) in plan.iter().enumerate() {
            if !batch_covers(backend, b) {
                continue;
            }
            batches += 1;
            lens.extend(batch.iter().map(|c| c.pt.len()));
            // Each batch twice, every job's buffer and AAD at the other
            // guard page the second time.
            for flip in [false, true] {
                let places: Vec<(Place, Place)> = (0..JOBS)
                    .map(|j| {
                        let bp = if (b + j) % 2 == 0 {
                            Place::Tail
                        } else {
                            Place::Head
                        };
                        let bp = if flip { bp.other() } else { bp };
                        let ap = if j % 3 == 0 { bp.other() } else { bp };
                        (bp, ap)
                    })
                    .collect();
                let what = format!(
                    "{backend}: batch {b}: {:?}",
                    batch
                        .iter()
                        .zip(&places)
                        .map(|(c, (bp, ap))| format!(
                            "len {} {bp:?} aad {} {ap:?} key {} bits",
                            c.pt.len(),
                            c.aad.len(),
                            keys[c.key].key_len() * 8
                        ))
                        .collect::<Vec<_>>()
                );
                if trace {
                    eprintln!("guard batch: {what}");
                }
                run_batch(
                    &keys,
                    batch,
                    b,
                    &places,
                    &mut buf_maps,
                    &mut aad_maps,
                    &what,
                );
            }
        }
        let jobs = 2 * batches * JOBS;
        println!(
            "guard pages, batch: {backend}: {batches} batches of {JOBS} jobs \
             ({SHORT_PER_BATCH} of 0..=256 B, {} longer; {} plaintext lengths 0..={}, \
             {} AAD lengths) x 2 placements (every job's buffer and AAD at Head, then Tail) \
             = {jobs} jobs sealed, opened and tamper-opened, equal to portable, in {:.2?}",
            JOBS - SHORT_PER_BATCH,
            lens.len(),
            lens.last().unwrap(),
            AADS.len(),
            tb.elapsed()
        );
        total += jobs;
    }
    println!(
        "guard pages, batch: {} backends ({}): {total} jobs in {:.2?}",
        backends.len(),
        names(&backends),
        t0.elapsed()
    );
}

/// Seals, opens and tamper-opens one batch, every job at its guard page.
fn run_batch(
    keys: &[AesGcm],
    batch: &[Case],
    b: usize,
    places: &[(Place, Place)],
    buf_maps: &mut [Guarded],
    aad_maps: &mut [Guarded],
    what: &str,
) {
    // Seal.
    {
        let mut aads: Vec<&[u8]> = Vec::new();
        for ((m, c), &(_, ap)) in aad_maps.iter_mut().zip(batch).zip(places) {
            aads.push(m.place(ap, &c.aad));
        }
        let mut jobs: Vec<SealJob<'_>> = buf_maps
            .iter_mut()
            .zip(batch)
            .zip(places)
            .zip(aads)
            .map(|(((m, c), &(bp, _)), aad)| SealJob {
                key: &keys[c.key],
                nonce: c.nonce[..].try_into().expect("96-bit batch nonce"),
                aad,
                buf: m.place(bp, &c.pt),
                tag: [0; 16],
            })
            .collect();
        seal_batch(&mut jobs);
        for (j, (job, c)) in jobs.iter().zip(batch).enumerate() {
            assert!(
                *job.buf == c.ct,
                "{what}: job {j}: ciphertext differs from portable"
            );
            assert_eq!(job.tag, c.tag, "{what}: job {j}: tag differs from portable");
        }
    }
    check_canaries(batch, places, buf_maps, aad_maps, what, "seal");

    // Open, with one job (in turn) tampered.
    let bad = b % batch.len();
    let how = tamper_for(b, &batch[bad]);
    {
        let mut aads: Vec<&[u8]> = Vec::new();
        for (j, ((m, c), &(_, ap))) in aad_maps.iter_mut().zip(batch).zip(places).enumerate() {
            let aad = m.place(ap, &c.aad);
            if j == bad {
                if let Tamper::Aad = how {
                    aad[b % aad.len()] ^= 1 << (b % 8);
                }
            }
            aads.push(aad);
        }
        let mut jobs: Vec<OpenJob<'_>> = buf_maps
            .iter_mut()
            .zip(batch)
            .zip(places)
            .zip(aads)
            .enumerate()
            .map(|(j, (((m, c), &(bp, _)), aad))| {
                let buf = m.place(bp, &c.ct);
                let mut tag = c.tag;
                if j == bad {
                    match how {
                        Tamper::Tag => tag[b % 16] ^= 1 << (b % 8),
                        Tamper::Ciphertext => buf[b % buf.len()] ^= 1 << (b % 8),
                        Tamper::Aad => {}
                    }
                }
                OpenJob {
                    key: &keys[c.key],
                    nonce: c.nonce[..].try_into().expect("96-bit batch nonce"),
                    aad,
                    buf,
                    tag,
                }
            })
            .collect();
        let results = open_batch(&mut jobs);
        assert_eq!(results.len(), batch.len());
        for (j, ((job, c), r)) in jobs.iter().zip(batch).zip(&results).enumerate() {
            if j == bad {
                assert!(r.is_err(), "{what}: job {j}: tampered {how:?} opened");
                assert!(
                    job.buf.iter().all(|&x| x == 0),
                    "{what}: job {j}: tampered {how:?}: buffer not zeroed"
                );
            } else {
                assert!(r.is_ok(), "{what}: job {j}: open failed");
                assert!(
                    *job.buf == c.pt,
                    "{what}: job {j}: opened plaintext differs"
                );
            }
        }
    }
    check_canaries(batch, places, buf_maps, aad_maps, what, "open");
}

fn check_canaries(
    batch: &[Case],
    places: &[(Place, Place)],
    buf_maps: &mut [Guarded],
    aad_maps: &mut [Guarded],
    what: &str,
    op: &str,
) {
    for (j, c) in batch.iter().enumerate() {
        let (bp, ap) = places[j];
        assert!(
            buf_maps[j].canary_intact(bp, c.pt.len()),
            "{what}: job {j}: {op} wrote outside the buffer"
        );
        assert!(
            aad_maps[j].canary_intact(ap, c.aad.len()),
            "{what}: job {j}: {op} wrote outside the AAD"
        );
    }
}

#[test]
fn guard_pages_fault_on_access() {
    // The layout the other tests rely on: the byte before a Head buffer and
    // the byte after a Tail buffer lie in PROT_NONE pages. Touching them
    // would kill the test, so the protection is read back from
    // /proc/self/maps.
    let mut g = Guarded::new(100);
    let lo = g.base as usize;
    let rw_lo = lo + g.page;
    let rw_hi = rw_lo + g.rw;
    let head = g.place(Place::Head, &[1, 2, 3]).as_ptr() as usize;
    assert_eq!(head, rw_lo);
    let tail_end = {
        let t = g.place(Place::Tail, &[4, 5, 6]);
        t.as_ptr() as usize + t.len()
    };
    assert_eq!(tail_end, rw_hi);
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let perms = |addr: usize| -> String {
        maps.lines()
            .find_map(|l| {
                let (range, rest) = l.split_once(' ')?;
                let (a, b) = range.split_once('-')?;
                let (a, b) = (
                    usize::from_str_radix(a, 16).ok()?,
                    usize::from_str_radix(b, 16).ok()?,
                );
                (a <= addr && addr < b).then(|| rest[..4].to_string())
            })
            .unwrap_or_default()
    };
    assert_eq!(perms(rw_lo - 1), "---p", "lower guard page");
    assert_eq!(perms(rw_hi), "---p", "upper guard page");
    assert_eq!(perms(rw_lo), "rw-p");
    assert_eq!(perms(rw_hi - 1), "rw-p");
}
