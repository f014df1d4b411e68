//! The differential check of `sealwire selftest --differential N`: random
//! cases, each sealed and opened by every backend asked for and by the two
//! independent references of [`super::reference`], on a thread pool of its
//! own (or on the calling thread alone).
//!
//! One case (a single message):
//!
//! ```text
//!   key     128/192/256 bits
//!   IV      12 bytes (half the cases), a length the aes-gcm crate takes,
//!           any length 1..=128, or a 16-byte IV solved so that J0's counter
//!           is 1..=34 blocks below 2^32 (the counter wraps inside the text)
//!   AAD     0..=600 bytes (0, up to 16, up to 64, up to 600)
//!   text    cases 0..=600: that length; then mostly 0..=600, multiples of
//!           16/64/128/256 plus and minus one, longer lengths to 70 000 rarely
//!   seal    every implementation; equal ciphertext and tag, nothing written
//!           outside the message (a random alignment offset in a larger buffer)
//!   open    every backend with the tag truncated to 16..=12, 8 or 4 bytes
//!           (SP 800-38D 5.2.1.2), the references with the full tag
//!   tamper  one bit flipped in the ciphertext, AAD, tag or IV: every open
//!           fails, and every backend leaves zeros in the buffer
//! ```
//!
//! One batch case: 1..=8 keys of random sizes on random backends, 0..=200
//! jobs of random keys, lengths and AADs, sealed by `seal_batch` (or
//! `seal_batch_parallel` on a pool) and compared with both references job by
//! job; then opened as one batch with about one job in four tampered, which
//! alone must fail, zeroed.
//!
//! Every case draws from its own generator, seeded by (seed, case index), so
//! the split over threads does not change what is checked, and a mismatch
//! names the seed and the index that rebuild it ([`replay`]).

#![forbid(unsafe_code)]

use super::reference::{aes_gcm_open, aes_gcm_seal, aws_lc_open, aws_lc_seal, CRATE_NONCES};
use super::{nonce_for_j0, open_at, seal_at, Rng};
use crate::aead::{
    open_batch, open_batch_parallel, portable, seal_batch, seal_batch_parallel, AesGcm, Backend,
    Error, OpenJob, SealJob,
};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Longest text of a case (bytes).
pub const MAX_TEXT: usize = 70_000;
/// Longest AAD of a case (bytes).
pub const MAX_AAD: usize = 600;
/// Longest IV of a case (bytes).
pub const MAX_IV: usize = 128;

/// Generator streams: single cases and batch cases draw from different ones.
const SINGLE: u64 = 0x5349_4e47;
const BATCH: u64 = 0x4241_5443;

/// Cases per unit of work handed to a thread.
const CHUNK: u64 = 256;
/// Batch cases per unit of work.
const BATCH_CHUNK: u64 = 8;
/// Mismatches kept for the report; the run stops soon after the first.
const MAX_REPORTED: usize = 8;

/// What one run checks.
#[derive(Clone, Debug)]
pub struct Config {
    /// The backends every case runs on.
    pub backends: Vec<Backend>,
    /// Single-message cases.
    pub cases: u64,
    /// Batch cases.
    pub batch_cases: u64,
    /// Seed of all cases.
    pub seed: u64,
    /// Threads: 1 runs everything on the calling thread (no pool is built).
    pub threads: usize,
}

/// Which case a mismatch is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseId {
    /// Single-message case `n`.
    Single(u64),
    /// Batch case `n`.
    Batch(u64),
}

/// A case that did not check out: where, and the case as a vector.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// The case.
    pub case: CaseId,
    /// What differed, then the case's inputs in hex.
    pub report: String,
}

/// What a run checked.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Single-message cases checked.
    pub cases: u64,
    /// Of those, the cases the `aes-gcm` crate sealed and opened too.
    pub by_aes_gcm: u64,
    /// Of those, the cases aws-lc-rs sealed and opened too (12-byte IVs).
    pub by_aws_lc: u64,
    /// Of those, the cases whose 32-bit counter wraps inside the text.
    pub wraps: u64,
    /// Text bytes of the single cases.
    pub text_bytes: u64,
    /// Batch cases checked.
    pub batch_cases: u64,
    /// Jobs in those batches.
    pub batch_jobs: u64,
    /// Per backend: the single cases it ran and the batch jobs on its keys.
    pub per_backend: Vec<(Backend, u64, u64)>,
    /// Mismatches found (the run stops early after the first).
    pub mismatches: Vec<Mismatch>,
}

/// One implementation a case is run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Impl {
    AesGcmCrate,
    AwsLc,
    Backend(Backend),
    /// A deliberately wrong implementation, to show the check catches it.
    #[cfg(test)]
    Faulty(tests::Fault),
}

impl Impl {
    fn name(self) -> String {
        match self {
            Impl::AesGcmCrate => "aes-gcm crate".into(),
            Impl::AwsLc => "aws-lc-rs".into(),
            Impl::Backend(b) => b.name().into(),
            #[cfg(test)]
            Impl::Faulty(f) => format!("faulty {f:?}"),
        }
    }

    fn is_reference(self) -> bool {
        matches!(self, Impl::AesGcmCrate | Impl::AwsLc)
    }
}

/// Which input a tampered open has one bit flipped in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Ciphertext,
    Aad,
    Tag,
    Nonce,
}

/// One flipped bit: `input[at] ^= bit`.
#[derive(Clone, Copy, Debug)]
struct Flip {
    target: Target,
    at: usize,
    bit: u8,
}

/// A single-message case.
#[derive(Clone, Debug)]
struct Case {
    index: u64,
    key: Vec<u8>,
    nonce: Vec<u8>,
    aad: Vec<u8>,
    pt: Vec<u8>,
    /// J0's low 32 bits when the IV was solved so that the counter wraps.
    wrap_low: Option<u32>,
    tag_len: usize,
    flip: Flip,
    /// Draws the alignment offsets.
    rng: Rng,
}

/// Text length of case `index`: every length 0..=600 first, then most
/// lengths short and long ones rare (mean about 1 KiB):
///
/// ```text
///   70.0%  0..=600, uniform
///   20.0%  k * stride - 1, + 0 or + 1, stride 16/64/128/256, up to 1 KiB
///          (78% of these), 4 KiB (20%) or 70 000 bytes (2%)
///    9.5%  601..=8192, log-uniform
///    0.5%  8193..=70 000, uniform, or an edge: 65 535..=65 537, 69 999, 70 000
/// ```
fn text_len(rng: &mut Rng, index: u64) -> usize {
    if index <= 600 {
        return index as usize;
    }
    let r = rng.below(1000);
    if r < 700 {
        rng.below(601)
    } else if r < 900 {
        let stride = [16, 64, 128, 256][rng.below(4)];
        let top = match rng.below(100) {
            0..=77 => 1024,
            78..=97 => 4096,
            _ => MAX_TEXT,
        };
        let k = 1 + rng.below(top / stride);
        (k * stride + rng.below(3)).saturating_sub(1).min(MAX_TEXT)
    } else if r < 995 {
        log_uniform(rng, 601, 8192)
    } else if rng.below(4) == 0 {
        [65_535, 65_536, 65_537, MAX_TEXT - 1, MAX_TEXT][rng.below(5)]
    } else {
        8193 + rng.below(MAX_TEXT - 8192)
    }
}

/// Roughly log-uniform in `lo..=hi`: a uniform power-of-two band, then
/// uniform inside it.
fn log_uniform(rng: &mut Rng, lo: usize, hi: usize) -> usize {
    let (lo_bits, hi_bits) = (
        usize::BITS - lo.leading_zeros(),
        usize::BITS - hi.leading_zeros(),
    );
    let bits = lo_bits + rng.below((hi_bits - lo_bits + 1) as usize) as u32;
    let band_lo = (1usize << (bits - 1)).max(lo);
    let band_hi = ((1usize << bits) - 1).min(hi);
    band_lo + rng.below(band_hi - band_lo + 1)
}

/// AAD length: 0, up to 16 (the TLS lengths 5 and 13 among them), up to 64,
/// or up to 600, a quarter each.
fn aad_len(rng: &mut Rng) -> usize {
    match rng.below(4) {
        0 => 0,
        1 => rng.below(17),
        2 => rng.below(65),
        _ => rng.below(MAX_AAD + 1),
    }
}

/// One bit of one of the inputs that is not empty.
fn flip_for(rng: &mut Rng, text: usize, aad: usize, tag: usize, nonce: usize) -> Flip {
    let mut targets = vec![(Target::Tag, tag), (Target::Nonce, nonce)];
    if text > 0 {
        targets.push((Target::Ciphertext, text));
    }
    if aad > 0 {
        targets.push((Target::Aad, aad));
    }
    let (target, len) = targets[rng.below(targets.len())];
    Flip {
        target,
        at: rng.below(len),
        bit: 1 << rng.below(8),
    }
}

impl Case {
    /// Case `index` of `seed`.
    fn new(seed: u64, index: u64) -> Result<Case, String> {
        let mut rng = Rng::for_item(seed, SINGLE, index);
        let key_len = [16, 24, 32][rng.below(3)];
        let key = rng.bytes(key_len);
        let (nonce, wrap_low) = match rng.below(100) {
            0..=49 => (rng.bytes(12), None),
            50..=71 => {
                let len = CRATE_NONCES[rng.below(CRATE_NONCES.len())];
                (rng.bytes(len), None)
            }
            72..=93 => {
                let len = 1 + rng.below(MAX_IV);
                (rng.bytes(len), None)
            }
            _ => {
                // The first counter block is inc32(J0) = low + 1: the wrap
                // falls 1 to 34 blocks into the text.
                let low = u32::MAX - rng.below(34) as u32;
                let mut j0 = [0u8; 16];
                j0[..12].copy_from_slice(&rng.bytes(12));
                j0[12..].copy_from_slice(&low.to_be_bytes());
                let block_cipher = portable::Key::new(&key).map_err(|e| e.to_string())?;
                (nonce_for_j0(&block_cipher, j0)?.to_vec(), Some(low))
            }
        };
        let aad_len = aad_len(&mut rng);
        let aad = rng.bytes(aad_len);
        let text_len = text_len(&mut rng, index);
        let pt = rng.bytes(text_len);
        let tag_len = [16, 16, 16, 16, 15, 14, 13, 12, 8, 4][rng.below(10)];
        let flip = flip_for(&mut rng, pt.len(), aad.len(), tag_len, nonce.len());
        Ok(Case {
            index,
            key,
            nonce,
            aad,
            pt,
            wrap_low,
            tag_len,
            flip,
            rng,
        })
    }

    /// Whether the counter wraps inside the text (inc32 from `low + 1`).
    fn wraps(&self) -> bool {
        self.wrap_low
            .is_some_and(|low| (self.pt.len().div_ceil(16) as u64) > u64::from(u32::MAX - low))
    }

    /// The case's inputs in hex, for the mismatch report.
    fn vector(&self, seed: u64) -> String {
        let wrap = match self.wrap_low {
            Some(low) => format!(" (J0 low 32 bits {low:#010x})"),
            None => String::new(),
        };
        format!(
            "  seed {seed}, case {}\n  key   ({} bits) {}\n  iv    ({} bytes) {}{wrap}\n  \
             aad   ({} bytes) {}\n  text  {}\n  open with a {}-byte tag; tampered: {:?} byte {} ^ {:#04x}",
            self.index,
            self.key.len() * 8,
            hex::encode(&self.key),
            self.nonce.len(),
            hex::encode(&self.nonce),
            self.aad.len(),
            hex::encode(&self.aad),
            hex_text(&self.pt),
            self.tag_len,
            self.flip.target,
            self.flip.at,
            self.flip.bit,
        )
    }
}

/// Longest text printed in full in a mismatch report.
const SHOWN: usize = 1024;

/// A text as hex, or its length and its first [`SHOWN`] bytes when long.
fn hex_text(t: &[u8]) -> String {
    if t.len() <= SHOWN {
        format!("({} bytes) {}", t.len(), hex::encode(t))
    } else {
        format!(
            "({} bytes, the first {SHOWN} shown; replay the case for all) {}",
            t.len(),
            hex::encode(&t[..SHOWN])
        )
    }
}

/// Where two byte strings first differ.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// Ciphertext and tag.
type Sealed = (Vec<u8>, [u8; 16]);

/// A case's key on each implementation (the references key per call).
struct Keyed {
    imp: Impl,
    key: Option<AesGcm>,
}

impl Keyed {
    fn new(imp: Impl, key: &[u8]) -> Result<Keyed, String> {
        let key = match imp {
            Impl::Backend(b) => Some(AesGcm::with_backend(key, b).map_err(|e| e.to_string())?),
            #[cfg(test)]
            Impl::Faulty(_) => Some(AesGcm::with_backend(key, Backend::Portable).unwrap()),
            Impl::AesGcmCrate | Impl::AwsLc => None,
        };
        Ok(Keyed { imp, key })
    }

    /// Ciphertext and tag, or `None` when the implementation does not take
    /// this IV length.
    fn seal(&self, c: &mut Case) -> Result<Option<Sealed>, String> {
        let seal = match (self.imp, &self.key) {
            (Impl::AesGcmCrate, _) => aes_gcm_seal,
            (Impl::AwsLc, _) => aws_lc_seal,
            (_, Some(k)) => {
                let (ct, tag) = seal_at(k, &c.nonce, &c.aad, &c.pt, c.rng.below(16))?;
                #[cfg(test)]
                if let Impl::Faulty(f) = self.imp {
                    return Ok(Some(f.seal(c, ct, tag)));
                }
                return Ok(Some((ct, tag)));
            }
            (_, None) => unreachable!("backends hold a key"),
        };
        let mut buf = c.pt.clone();
        Ok(seal(&c.key, &c.nonce, &c.aad, &mut buf).map(|t| (buf, t)))
    }

    /// The buffer after the open and whether it authenticated, or `None`
    /// when the implementation does not take this IV length. Backends open
    /// with `tag` truncated to the case's tag length, the references with
    /// all of it.
    fn open(
        &self,
        c: &mut Case,
        nonce: &[u8],
        aad: &[u8],
        ct: &[u8],
        tag: &[u8; 16],
    ) -> Result<Option<(Vec<u8>, bool)>, String> {
        let mut buf = ct.to_vec();
        let ok = match (self.imp, &self.key) {
            (Impl::AesGcmCrate, _) => aes_gcm_open(&c.key, nonce, aad, &mut buf, tag),
            (Impl::AwsLc, _) => aws_lc_open(&c.key, nonce, aad, &mut buf, tag),
            (_, Some(k)) => {
                let (after, res) = open_at(k, nonce, aad, ct, &tag[..c.tag_len], c.rng.below(16))?;
                let ok = match res {
                    Ok(()) => true,
                    Err(Error::Authentication) => false,
                    Err(e) => return Err(format!("open gave the wrong error: {e}")),
                };
                #[cfg(test)]
                if let Impl::Faulty(f) = self.imp {
                    return Ok(Some(f.open(ct, after, ok)));
                }
                return Ok(Some((after, ok)));
            }
            (_, None) => unreachable!("backends hold a key"),
        };
        Ok(ok.map(|ok| (buf, ok)))
    }
}

/// Which references took a case.
#[derive(Clone, Copy, Debug, Default)]
struct Took {
    aes_gcm: bool,
    aws_lc: bool,
}

/// Runs one case on every implementation of `impls` (references first, so
/// the first sealer, the one the others are compared with, is a reference
/// whenever one takes the case).
fn check_case(c: &mut Case, impls: &[Impl]) -> Result<Took, String> {
    let keyed: Vec<Keyed> = impls
        .iter()
        .map(|&imp| Keyed::new(imp, &c.key))
        .collect::<Result<_, _>>()?;
    let mut took = Took::default();

    // Seal on each: all equal to the first.
    let mut base: Option<(Impl, Vec<u8>, [u8; 16])> = None;
    let mut diffs = Vec::new();
    for k in &keyed {
        let Some((ct, tag)) = k.seal(c).map_err(|e| format!("{}: {e}", k.imp.name()))? else {
            continue;
        };
        match k.imp {
            Impl::AesGcmCrate => took.aes_gcm = true,
            Impl::AwsLc => took.aws_lc = true,
            _ => {}
        }
        match &base {
            None => base = Some((k.imp, ct, tag)),
            Some((b, want_ct, want_tag)) => {
                if ct != *want_ct {
                    diffs.push(format!(
                        "{} ciphertext differs from the {}'s at byte {} of {}",
                        k.imp.name(),
                        b.name(),
                        first_difference(&ct, want_ct),
                        ct.len()
                    ));
                }
                if tag != *want_tag {
                    diffs.push(format!(
                        "{} tag {} differs from the {}'s {}",
                        k.imp.name(),
                        hex::encode(tag),
                        b.name(),
                        hex::encode(want_tag)
                    ));
                }
            }
        }
    }
    if !diffs.is_empty() {
        return Err(diffs.join("\n  "));
    }
    let Some((_, ct, tag)) = base else {
        return Err("no implementation took the case".into());
    };

    // Open on each.
    let (nonce, aad) = (c.nonce.clone(), c.aad.clone());
    for k in &keyed {
        let name = k.imp.name();
        let Some((after, ok)) = k
            .open(c, &nonce, &aad, &ct, &tag)
            .map_err(|e| format!("{name}: {e}"))?
        else {
            continue;
        };
        let t = if k.imp.is_reference() { 16 } else { c.tag_len };
        if !ok {
            return Err(format!(
                "{name} failed to open the sealed message ({t}-byte tag)"
            ));
        }
        if after != c.pt {
            return Err(format!(
                "{name} opened to a different text, first at byte {}",
                first_difference(&after, &c.pt)
            ));
        }
    }

    // One bit flipped: every open fails; every backend leaves zeros.
    let (mut ct2, mut aad2, mut nonce2, mut tag2) = (ct, aad, nonce, tag);
    let f = c.flip;
    let input: &mut [u8] = match f.target {
        Target::Ciphertext => &mut ct2,
        Target::Aad => &mut aad2,
        Target::Nonce => &mut nonce2,
        Target::Tag => &mut tag2,
    };
    input[f.at] ^= f.bit;
    for k in &keyed {
        let name = k.imp.name();
        let Some((after, ok)) = k
            .open(c, &nonce2, &aad2, &ct2, &tag2)
            .map_err(|e| format!("{name}: {e}"))?
        else {
            continue;
        };
        if ok {
            return Err(format!("{name} authenticated the tampered message"));
        }
        if !k.imp.is_reference() && after.iter().any(|&b| b != 0) {
            return Err(format!(
                "{name} left the tampered message's buffer unzeroed"
            ));
        }
    }
    Ok(took)
}

/// One job of a batch case.
#[derive(Clone, Debug)]
struct BatchJob {
    key: usize,
    nonce: [u8; 12],
    aad: Vec<u8>,
    pt: Vec<u8>,
    flip: Option<Flip>,
}

/// A batch case: keys (bytes and backend) and jobs.
#[derive(Clone, Debug)]
struct BatchCase {
    index: u64,
    keys: Vec<(Vec<u8>, Backend)>,
    jobs: Vec<BatchJob>,
    parallel: bool,
}

/// Text length of a batch job: the short kernels' range most of the time,
/// the stride edges, and longer ones rarely (mean about 700 bytes).
fn batch_text_len(rng: &mut Rng) -> usize {
    match rng.below(100) {
        0..=54 => rng.below(301),
        55..=74 => rng.below(601),
        75..=94 => {
            let stride = [16, 64, 128, 256][rng.below(4)];
            let k = 1 + rng.below(4096 / stride);
            (k * stride + rng.below(3)).saturating_sub(1)
        }
        95..=98 => log_uniform(rng, 601, 16_384),
        _ => 16_385 + rng.below(MAX_TEXT - 16_384),
    }
}

impl BatchCase {
    /// Batch case `index` of `seed`, keys on `backends`; `parallel`: whether
    /// the parallel entry points may be drawn.
    fn new(seed: u64, index: u64, backends: &[Backend], parallel: bool) -> BatchCase {
        let mut rng = Rng::for_item(seed, BATCH, index);
        let keys: Vec<(Vec<u8>, Backend)> = (0..1 + rng.below(8))
            .map(|_| {
                let len = [16, 24, 32][rng.below(3)];
                let k = rng.bytes(len);
                (k, backends[rng.below(backends.len())])
            })
            .collect();
        let count = match rng.below(100) {
            0..=4 => 0,
            5..=34 => 1 + rng.below(4),
            35..=84 => 5 + rng.below(36),
            _ => 41 + rng.below(160),
        };
        let jobs = (0..count)
            .map(|_| {
                let key = rng.below(keys.len());
                let nonce: [u8; 12] = rng.bytes(12).try_into().expect("12 bytes");
                let aad_len = if rng.below(5) == 0 {
                    aad_len(&mut rng)
                } else {
                    rng.below(41)
                };
                let aad = rng.bytes(aad_len);
                let len = batch_text_len(&mut rng);
                let pt = rng.bytes(len);
                let flip =
                    (rng.below(4) == 0).then(|| flip_for(&mut rng, pt.len(), aad.len(), 16, 12));
                BatchJob {
                    key,
                    nonce,
                    aad,
                    pt,
                    flip,
                }
            })
            .collect();
        let parallel = rng.below(2) == 0 && parallel;
        BatchCase {
            index,
            keys,
            jobs,
            parallel,
        }
    }

    /// The batch's shape and job `j`'s inputs in hex, for the report.
    fn vector(&self, seed: u64, j: usize) -> String {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|(k, b)| format!("{} bits on {b}", k.len() * 8))
            .collect();
        let job = &self.jobs[j];
        let (key, backend) = &self.keys[job.key];
        format!(
            "  seed {seed}, batch case {}: {} jobs ({}), keys: {}\n  job {j}: key {} ({} bits, {backend}) {}\n  \
             iv    (12 bytes) {}\n  aad   ({} bytes) {}\n  text  {}\n  tampered: {:?}",
            self.index,
            self.jobs.len(),
            if self.parallel { "seal_batch_parallel / open_batch_parallel" } else { "seal_batch / open_batch" },
            keys.join(", "),
            job.key,
            key.len() * 8,
            hex::encode(key),
            hex::encode(job.nonce),
            job.aad.len(),
            hex::encode(&job.aad),
            hex_text(&job.pt),
            job.flip,
        )
    }
}

/// Seals a batch, in parallel or not.
type SealAll = fn(&mut [SealJob<'_>], bool);
/// Opens a batch, in parallel or not; one result per job.
type OpenAll = fn(&mut [OpenJob<'_>], bool) -> Vec<Result<(), Error>>;
/// A job's ciphertext, AAD, IV and tag as handed to the open.
type Received = (Vec<u8>, Vec<u8>, [u8; 12], [u8; 16]);

/// The batch entry points a batch case runs through (the tests hand in
/// faulty ones).
#[derive(Clone, Copy)]
struct BatchPaths {
    seal: SealAll,
    open: OpenAll,
}

const BATCH_PATHS: BatchPaths = BatchPaths {
    seal: |jobs, parallel| {
        if parallel {
            seal_batch_parallel(jobs)
        } else {
            seal_batch(jobs)
        }
    },
    open: |jobs, parallel| {
        if parallel {
            open_batch_parallel(jobs)
        } else {
            open_batch(jobs)
        }
    },
};

/// Checks a batch case; on a mismatch, the job and what differed.
fn check_batch(case: &BatchCase, paths: BatchPaths) -> Result<(), (usize, String)> {
    let keys: Vec<AesGcm> = case
        .keys
        .iter()
        .map(|(k, b)| AesGcm::with_backend(k, *b).map_err(|e| (0, e.to_string())))
        .collect::<Result<_, _>>()?;
    // Both references, job by job.
    let mut want = Vec::with_capacity(case.jobs.len());
    for (j, job) in case.jobs.iter().enumerate() {
        let key = &case.keys[job.key].0;
        let (mut a, mut b) = (job.pt.clone(), job.pt.clone());
        let ta = aes_gcm_seal(key, &job.nonce, &job.aad, &mut a).expect("12-byte IV");
        let tb = aws_lc_seal(key, &job.nonce, &job.aad, &mut b).expect("12-byte IV");
        if (&a, ta) != (&b, tb) {
            return Err((j, "the aes-gcm crate and aws-lc-rs disagree".into()));
        }
        want.push((a, ta));
    }

    let mut bufs: Vec<Vec<u8>> = case.jobs.iter().map(|j| j.pt.clone()).collect();
    let mut seal_jobs: Vec<SealJob<'_>> = case
        .jobs
        .iter()
        .zip(bufs.iter_mut())
        .map(|(j, buf)| SealJob {
            key: &keys[j.key],
            nonce: j.nonce,
            aad: &j.aad,
            buf,
            tag: [0; 16],
        })
        .collect();
    (paths.seal)(&mut seal_jobs, case.parallel);
    let tags: Vec<[u8; 16]> = seal_jobs.iter().map(|j| j.tag).collect();
    drop(seal_jobs);
    for (j, ((buf, tag), (want_ct, want_tag))) in bufs.iter().zip(&tags).zip(&want).enumerate() {
        if buf != want_ct {
            let at = first_difference(buf, want_ct);
            return Err((
                j,
                format!(
                    "batch ciphertext differs from the references' at byte {at} of {}",
                    buf.len()
                ),
            ));
        }
        if tag != want_tag {
            return Err((
                j,
                format!(
                    "batch tag {} differs from the references' {}",
                    hex::encode(tag),
                    hex::encode(want_tag)
                ),
            ));
        }
    }

    // Open the references' output as one batch, some jobs tampered.
    let mut inputs: Vec<Received> = case
        .jobs
        .iter()
        .zip(want)
        .map(|(j, (ct, tag))| {
            let (mut ct, mut aad, mut nonce, mut tag) = (ct, j.aad.clone(), j.nonce, tag);
            if let Some(f) = j.flip {
                let input: &mut [u8] = match f.target {
                    Target::Ciphertext => &mut ct,
                    Target::Aad => &mut aad,
                    Target::Nonce => &mut nonce,
                    Target::Tag => &mut tag,
                };
                input[f.at] ^= f.bit;
            }
            (ct, aad, nonce, tag)
        })
        .collect();
    let mut open_jobs: Vec<OpenJob<'_>> = case
        .jobs
        .iter()
        .zip(inputs.iter_mut())
        .map(|(j, (ct, aad, nonce, tag))| OpenJob {
            key: &keys[j.key],
            nonce: *nonce,
            aad,
            buf: ct,
            tag: *tag,
        })
        .collect();
    let results = (paths.open)(&mut open_jobs, case.parallel);
    drop(open_jobs);
    if results.len() != case.jobs.len() {
        return Err((
            0,
            format!("{} results for {} jobs", results.len(), case.jobs.len()),
        ));
    }
    for (j, ((job, (after, ..)), res)) in case.jobs.iter().zip(&inputs).zip(&results).enumerate() {
        match (job.flip, res) {
            (None, Ok(())) if *after == job.pt => {}
            (None, Ok(())) => return Err((j, "batch open gave a different text".into())),
            (None, Err(e)) => return Err((j, format!("batch open of a good job failed: {e}"))),
            (Some(_), Err(Error::Authentication)) if after.iter().all(|&b| b == 0) => {}
            (Some(_), Err(Error::Authentication)) => {
                return Err((j, "tampered job's buffer left unzeroed".into()))
            }
            (Some(_), Err(e)) => {
                return Err((j, format!("tampered job gave the wrong error: {e}")))
            }
            (Some(_), Ok(())) => return Err((j, "tampered job authenticated".into())),
        }
    }
    Ok(())
}

/// One case in this many runs on a slow backend (`portable`: about 500
/// cycles per byte, some 400 times the others' cost) when faster backends
/// are checked too; each of the first 601 cases (every length 0..=600)
/// does.
pub const SLOW_EVERY: u64 = 64;
/// One batch case in this many may have keys on a slow backend.
pub const SLOW_BATCH_EVERY: u64 = 8;

/// Whether a backend is sampled rather than run on every case.
fn is_slow(b: Backend) -> bool {
    b == Backend::Portable
}

/// The implementations each case runs on: both references first (so the
/// implementation the others are compared with is a reference whenever
/// one takes the case), then the backends; a slow backend on a sample of
/// the cases when there are others.
#[derive(Clone, Debug)]
struct Lineup {
    backends: Vec<Backend>,
    fast: Vec<Impl>,
    all: Vec<Impl>,
    fast_backends: Vec<Backend>,
}

impl Lineup {
    fn new(backends: &[Backend]) -> Lineup {
        let sample = backends.iter().any(|&b| !is_slow(b));
        let fast_backends: Vec<Backend> = backends
            .iter()
            .copied()
            .filter(|&b| !(sample && is_slow(b)))
            .collect();
        let mut fast = vec![Impl::AesGcmCrate, Impl::AwsLc];
        fast.extend(fast_backends.iter().map(|&b| Impl::Backend(b)));
        let mut all = fast.clone();
        all.extend(
            backends
                .iter()
                .filter(|b| !fast_backends.contains(b))
                .map(|&b| Impl::Backend(b)),
        );
        Lineup {
            backends: backends.to_vec(),
            fast,
            all,
            fast_backends,
        }
    }

    /// The implementations of single case `index`.
    fn single(&self, index: u64) -> &[Impl] {
        if index <= 600 || index.is_multiple_of(SLOW_EVERY) {
            &self.all
        } else {
            &self.fast
        }
    }

    /// The backends the keys of batch case `index` are drawn from.
    fn batch(&self, index: u64) -> &[Backend] {
        if index.is_multiple_of(SLOW_BATCH_EVERY) || self.fast_backends.is_empty() {
            &self.backends
        } else {
            &self.fast_backends
        }
    }
}

/// Runs and checks single case `index`; its stats, or the mismatch.
fn run_single(seed: u64, index: u64, impls: &[Impl]) -> Result<(Took, bool, usize), Mismatch> {
    let mismatch = |report: String| Mismatch {
        case: CaseId::Single(index),
        report,
    };
    let mut c = Case::new(seed, index).map_err(|e| mismatch(format!("case {index}: {e}")))?;
    match check_case(&mut c, impls) {
        Ok(took) => Ok((took, c.wraps(), c.pt.len())),
        Err(why) => Err(mismatch(format!("{why}\n{}", c.vector(seed)))),
    }
}

/// Runs and checks batch case `index`; the backend of each job, or the
/// mismatch.
fn run_batch(
    cfg: &Config,
    lineup: &Lineup,
    index: u64,
    paths: BatchPaths,
) -> Result<Vec<Backend>, Mismatch> {
    let case = BatchCase::new(cfg.seed, index, lineup.batch(index), cfg.threads > 1);
    let backends = case.jobs.iter().map(|j| case.keys[j.key].1).collect();
    check_batch(&case, paths)
        .map(|()| backends)
        .map_err(|(j, why)| Mismatch {
            case: CaseId::Batch(index),
            report: format!("{why}\n{}", case.vector(cfg.seed, j)),
        })
}

/// Reruns one case of `cfg` (a mismatch report names it) on the calling
/// thread; a batch case drawn for the parallel entry points runs them, as
/// in the run, when `cfg.threads` is above 1.
pub fn replay(cfg: &Config, case: CaseId) -> Result<(), Mismatch> {
    match case {
        CaseId::Single(i) => {
            run_single(cfg.seed, i, Lineup::new(&cfg.backends).single(i)).map(|_| ())
        }
        CaseId::Batch(i) => run_batch(cfg, &Lineup::new(&cfg.backends), i, BATCH_PATHS).map(|_| ()),
    }
}

/// A unit of work: a range of single cases or of batch cases.
#[derive(Clone, Copy, Debug)]
enum Work {
    Single(u64, u64),
    Batch(u64, u64),
}

/// Runs `cfg.cases` single cases and `cfg.batch_cases` batch cases, on
/// `cfg.threads` threads; `progress(done, total)` is called after each unit
/// of work, from whichever thread finished it. Stops soon after the first
/// mismatch. Errors only when the thread pool cannot be built.
pub fn run(cfg: &Config, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<Summary, String> {
    run_with(cfg, &Lineup::new(&cfg.backends), BATCH_PATHS, progress)
}

fn run_with(
    cfg: &Config,
    lineup: &Lineup,
    paths: BatchPaths,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Summary, String> {
    // Units of work, batch units spread among the single ones.
    let singles: Vec<Work> = (0..cfg.cases)
        .step_by(CHUNK as usize)
        .map(|s| Work::Single(s, (s + CHUNK).min(cfg.cases)))
        .collect();
    let batches: Vec<Work> = (0..cfg.batch_cases)
        .step_by(BATCH_CHUNK as usize)
        .map(|s| Work::Batch(s, (s + BATCH_CHUNK).min(cfg.batch_cases)))
        .collect();
    let mut work = Vec::with_capacity(singles.len() + batches.len());
    let every = (singles.len() / batches.len().max(1)).max(1);
    let mut batch_iter = batches.into_iter();
    for (i, w) in singles.into_iter().enumerate() {
        work.push(w);
        if i % every == every - 1 {
            work.extend(batch_iter.next());
        }
    }
    work.extend(batch_iter);

    let total = cfg.cases + cfg.batch_cases;
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let counts: [AtomicU64; 7] = Default::default();
    let mismatches = Mutex::new(Vec::new());
    let per_backend: Vec<(AtomicU64, AtomicU64)> =
        cfg.backends.iter().map(|_| Default::default()).collect();
    let position = |imp: &Impl| match imp {
        Impl::Backend(b) => cfg.backends.iter().position(|x| x == b),
        _ => None,
    };
    let do_work = |w: &Work| {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let mut local = [0u64; 7];
        let mut by_backend = vec![(0u64, 0u64); cfg.backends.len()];
        let (n, found) = match *w {
            Work::Single(from, to) => {
                let mut found = None;
                for i in from..to {
                    let impls = lineup.single(i);
                    match run_single(cfg.seed, i, impls) {
                        Ok((took, wraps, len)) => {
                            for imp in impls {
                                if let Some(p) = position(imp) {
                                    by_backend[p].0 += 1;
                                }
                            }
                            local[0] += 1;
                            local[1] += u64::from(took.aes_gcm);
                            local[2] += u64::from(took.aws_lc);
                            local[3] += u64::from(wraps);
                            local[4] += len as u64;
                        }
                        Err(m) => {
                            found = Some(m);
                            break;
                        }
                    }
                }
                (to - from, found)
            }
            Work::Batch(from, to) => {
                let mut found = None;
                for i in from..to {
                    match run_batch(cfg, lineup, i, paths) {
                        Ok(jobs) => {
                            local[5] += 1;
                            local[6] += jobs.len() as u64;
                            for b in jobs {
                                if let Some(p) = position(&Impl::Backend(b)) {
                                    by_backend[p].1 += 1;
                                }
                            }
                        }
                        Err(m) => {
                            found = Some(m);
                            break;
                        }
                    }
                }
                (to - from, found)
            }
        };
        for (c, l) in counts.iter().zip(local) {
            c.fetch_add(l, Ordering::Relaxed);
        }
        for ((s, b), (ls, lb)) in per_backend.iter().zip(by_backend) {
            s.fetch_add(ls, Ordering::Relaxed);
            b.fetch_add(lb, Ordering::Relaxed);
        }
        if let Some(m) = found {
            stop.store(true, Ordering::Relaxed);
            let mut v = mismatches.lock().unwrap_or_else(|e| e.into_inner());
            if v.len() < MAX_REPORTED {
                v.push(m);
            }
        }
        let d = done.fetch_add(n, Ordering::Relaxed) + n;
        progress(d, total);
    };

    if cfg.threads <= 1 {
        work.iter().for_each(do_work);
    } else {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cfg.threads)
            .thread_name(|i| format!("differential-{i}"))
            .build()
            .map_err(|e| format!("thread pool: {e}"))?;
        pool.install(|| work.par_iter().with_max_len(1).for_each(do_work));
    }

    let c = counts.map(|c| c.into_inner());
    let mut mismatches = mismatches.into_inner().unwrap_or_else(|e| e.into_inner());
    mismatches.sort_by_key(|m| m.case);
    Ok(Summary {
        cases: c[0],
        by_aes_gcm: c[1],
        by_aws_lc: c[2],
        wraps: c[3],
        text_bytes: c[4],
        batch_cases: c[5],
        batch_jobs: c[6],
        per_backend: cfg
            .backends
            .iter()
            .zip(per_backend)
            .map(|(&b, (s, j))| (b, s.into_inner(), j.into_inner()))
            .collect(),
        mismatches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Faults a deliberately wrong implementation (portable underneath)
    /// shows.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) enum Fault {
        /// One ciphertext byte wrong at this text length.
        CiphertextAtLength(usize),
        /// The tag wrong for IVs longer than 64 bytes.
        TagForLongIvs,
        /// The tag wrong when the counter wraps inside the text.
        TagWhenCounterWraps,
        /// A failed open leaves the decrypted text.
        NoWipe,
        /// Every open authenticates.
        AcceptsAll,
    }

    impl Fault {
        pub(super) fn seal(
            self,
            c: &Case,
            mut ct: Vec<u8>,
            mut tag: [u8; 16],
        ) -> (Vec<u8>, [u8; 16]) {
            match self {
                Fault::CiphertextAtLength(n) if c.pt.len() == n && n > 0 => ct[n / 2] ^= 1,
                Fault::TagForLongIvs if c.nonce.len() > 64 => tag[0] ^= 1,
                Fault::TagWhenCounterWraps if c.wraps() => tag[3] ^= 0x40,
                _ => {}
            }
            (ct, tag)
        }

        pub(super) fn open(self, ct: &[u8], after: Vec<u8>, ok: bool) -> (Vec<u8>, bool) {
            match self {
                Fault::NoWipe if !ok => (ct.to_vec(), ok),
                Fault::AcceptsAll => (after, true),
                _ => (after, ok),
            }
        }
    }

    fn cfg(cases: u64, batch_cases: u64, threads: usize) -> Config {
        Config {
            backends: Backend::available(),
            cases,
            batch_cases,
            seed: 7,
            threads,
        }
    }

    #[test]
    fn every_backend_passes_on_one_thread_and_on_two() {
        for threads in [1, 2] {
            let s = run(&cfg(700, 40, threads), &|_, _| {}).unwrap();
            assert!(s.mismatches.is_empty(), "{:#?}", s.mismatches);
            assert_eq!((s.cases, s.batch_cases), (700, 40));
            assert!(s.by_aes_gcm > 0 && s.by_aws_lc > 0 && s.wraps > 0, "{s:?}");
            for &(b, cases, jobs) in &s.per_backend {
                assert!(cases >= 601 && jobs > 0, "{b}: {cases} cases, {jobs} jobs");
            }
        }
    }

    #[test]
    fn progress_reaches_the_total() {
        let last = AtomicU64::new(0);
        run(&cfg(300, 9, 2), &|done, total| {
            assert_eq!(total, 309);
            last.fetch_max(done, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(last.into_inner(), 309);
    }

    /// Runs `cases` single cases with a faulty implementation among the
    /// real ones; the first mismatch.
    fn first_mismatch(fault: Fault, cases: u64) -> Option<Mismatch> {
        let mut lineup = Lineup::new(&[Backend::RustCrypto]);
        lineup.all.push(Impl::Faulty(fault));
        lineup.fast.push(Impl::Faulty(fault));
        let s = run_with(&cfg(cases, 0, 2), &lineup, BATCH_PATHS, &|_, _| {}).unwrap();
        s.mismatches.into_iter().next()
    }

    #[test]
    fn each_fault_is_caught_and_reported_as_a_vector() {
        // Every length to 600 comes first: a fault at length 599 is case 599.
        let m = first_mismatch(Fault::CiphertextAtLength(599), 700).expect("caught");
        assert_eq!(m.case, CaseId::Single(599));
        assert!(
            m.report.contains("ciphertext differs") && m.report.contains("(599 bytes)"),
            "{}",
            m.report
        );
        assert!(m.report.contains("seed 7, case 599"), "{}", m.report);
        for fault in [
            Fault::TagForLongIvs,
            Fault::TagWhenCounterWraps,
            Fault::NoWipe,
            Fault::AcceptsAll,
        ] {
            let m = first_mismatch(fault, 2000).unwrap_or_else(|| panic!("{fault:?} not caught"));
            let want = match fault {
                Fault::NoWipe => "unzeroed",
                Fault::AcceptsAll => "authenticated the tampered",
                _ => "tag",
            };
            assert!(m.report.contains(want), "{fault:?}: {}", m.report);
            // The report's case replays to the same failure.
            let CaseId::Single(i) = m.case else { panic!() };
            let faulty = [Impl::AesGcmCrate, Impl::AwsLc, Impl::Faulty(fault)];
            assert!(run_single(7, i, &faulty).is_err());
            let portable = Lineup::new(&[Backend::Portable]);
            assert!(run_single(7, i, portable.single(i)).is_ok());
        }
    }

    #[test]
    fn a_wrong_batch_path_is_caught() {
        let wrong_tag = BatchPaths {
            seal: |jobs, p| {
                (BATCH_PATHS.seal)(jobs, p);
                if let Some(j) = jobs.last_mut() {
                    j.tag[15] ^= 1;
                }
            },
            ..BATCH_PATHS
        };
        let no_wipe = BatchPaths {
            open: |jobs, p| {
                let r = (BATCH_PATHS.open)(jobs, p);
                for j in jobs.iter_mut() {
                    j.buf.fill(1);
                }
                r
            },
            ..BATCH_PATHS
        };
        for (paths, want) in [(wrong_tag, "batch tag"), (no_wipe, "")] {
            let lineup = Lineup::new(&Backend::available());
            let s = run_with(&cfg(0, 40, 2), &lineup, paths, &|_, _| {}).unwrap();
            let m = s.mismatches.first().expect("caught");
            assert!(matches!(m.case, CaseId::Batch(_)));
            assert!(
                m.report.contains(want) && m.report.contains("batch case"),
                "{}",
                m.report
            );
        }
    }

    #[test]
    fn cases_do_not_depend_on_the_split() {
        let a = Case::new(3, 12345).unwrap();
        let b = Case::new(3, 12345).unwrap();
        assert_eq!((a.key, a.nonce, a.aad, a.pt), (b.key, b.nonce, b.aad, b.pt));
        assert_ne!(
            Case::new(4, 12345).unwrap().key,
            Case::new(3, 12345).unwrap().key
        );
    }

    #[test]
    fn lengths_reach_the_edges() {
        use std::collections::BTreeSet;
        let (mut lens, mut aads) = (BTreeSet::new(), BTreeSet::new());
        for i in 0..200_000 {
            let mut rng = Rng::for_item(1, SINGLE, i);
            lens.insert(text_len(&mut rng, i));
            aads.insert(aad_len(&mut rng));
        }
        let (mut ivs, mut tags, mut wraps) = (BTreeSet::new(), BTreeSet::new(), 0);
        for i in 0..20_000 {
            let c = Case::new(1, i).unwrap();
            ivs.insert(c.nonce.len());
            tags.insert(c.tag_len);
            wraps += usize::from(c.wraps());
        }
        assert!(wraps > 100, "{wraps} counter wraps");
        assert_eq!(
            tags.into_iter().collect::<Vec<_>>(),
            [4, 8, 12, 13, 14, 15, 16]
        );
        assert!((0..=600).all(|n| lens.contains(&n)));
        assert!(lens.contains(&MAX_TEXT) && lens.contains(&65_536));
        for stride in [16, 64, 128, 256] {
            assert!(lens.contains(&(stride * 4 - 1)) && lens.contains(&(stride * 4 + 1)));
        }
        assert!(*lens.last().unwrap() <= MAX_TEXT);
        assert!((0..=MAX_AAD).all(|n| aads.contains(&n)));
        assert!((1..=MAX_IV).all(|n| ivs.contains(&n)));
    }
}
