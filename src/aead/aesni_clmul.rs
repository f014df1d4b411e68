//! x86_64 AES-NI + PCLMULQDQ AES-GCM on 128-bit registers (SP 800-38D).
//!
//! The bulk loop is "stitched": eight counter blocks are in flight, and while
//! their AES rounds run, the carry-less multiplications that absorb the
//! previous eight ciphertext blocks into GHASH are issued between the rounds,
//! so the AES units and the multiplier work at the same time.
//!
//! ```text
//!   seal, group g:   AES(ctr+8g .. ctr+8g+7)   interleaved with   GHASH(C[8(g-1) .. 8g-1])
//!   open, group g:   AES(ctr+8g .. ctr+8g+7)   interleaved with   GHASH(C[8g .. 8g+7])
//!
//!   GHASH of 8 blocks, one reduction (SP 800-38D 6.4, aggregated):
//!     acc' = (acc ^ X0)*H^8 ^ X1*H^7 ^ ... ^ X7*H^1
//! ```
//!
//! GHASH representation (the byte-reflected technique of Gueron and Kounavis,
//! "Intel Carry-Less Multiplication Instruction and its Usage for Computing
//! the GCM Mode"): each 16-byte block is byte-reversed into a register, so
//! register bit k holds the coefficient of x^(127-k) of SP 800-38D's field
//! element. For such bit-reflected operands the 256-bit carry-less product
//! is the reflection of `a*b*x`; the key is therefore stored as
//! `H' = H * x^-1 mod P`, and then `clmul(a, H')` reflects `a*H` exactly.
//! The 256-bit product is reduced modulo the reflected polynomial
//! `1 + y^121 + y^126 + y^127 + y^128` by two 64-bit Montgomery-style folds,
//! each one PCLMULQDQ with the constant `0xc200_0000_0000_0000`:
//!
//! ```text
//!   T = [T3 T2 T1 T0]  (T0: the highest degrees of the product)
//!   fold T0:  [T2 T1] ^= T0 * 0xc2.., T2 ^= T0     (adds T0 * P*(y))
//!   fold T1:  [T3 T2] ^= T1 * 0xc2.., T3 ^= T1
//!   result = [T3 T2]
//! ```
//!
//! Products of eight blocks use Karatsuba (three multiplications each) with
//! the precomputed `hi ^ lo` halves of H^1..H^8, summed unreduced, and one
//! reduction per group.
//!
//! The 32-bit counter (inc32, SP 800-38D 6.2) is kept byte-reversed in a
//! register, where it is the low 32-bit lane: `paddd` on that lane wraps
//! modulo 2^32 and never carries into the other 96 bits, which is inc32
//! exactly, also when the counter wraps in the middle of a group.
//!
//! ## Two instances of one kernel
//!
//! The kernel's source is `aesni_clmul/kernel.rs`, compiled twice: module
//! [`sse`] under `aesni_clmul_features!` (legacy-SSE encoding: two operands,
//! so LLVM copies registers before most destructive operations) and module
//! [`avx`] under `aesni_clmul_avx_features!` (the same AES-NI and PCLMULQDQ
//! instructions on 128-bit registers, VEX-encoded with three operands). The
//! key picks the instance once, when it is built: AVX when the CPU and OS
//! support it ([`AesClmulAvx`]), SSE otherwise.
//!
//! Records with a 96-bit IV take one call from J0 to the tag
//! ([`Kernel::seal_whole`] / [`Kernel::open_whole`]); other IV lengths go
//! through the generic GCM framing with the bulk kernel.

// A kernel file: SIMD intrinsics, each unsafe block with its SAFETY bound.
#![allow(unsafe_code)]

use super::{Error, Kernel};
use crate::cpu::{AesClmul, AesClmulAvx};
use core::arch::x86_64::*;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Blocks in flight in the stitched loop.
const LANES: usize = 8;

/// `instance_features!(enable!(item))`: the item under the feature list of
/// the instance being compiled (redefined before each `mod` below; macros
/// are textually scoped, so each module sees its own).
macro_rules! instance_features {
    ($m:ident!($($args:tt)*)) => {
        aesni_clmul_features! { $m!($($args)*) }
    };
}

/// The legacy-SSE instance, for CPUs with AES-NI but without AVX.
#[path = "aesni_clmul/kernel.rs"]
mod sse;

macro_rules! instance_features {
    ($m:ident!($($args:tt)*)) => {
        aesni_clmul_avx_features! { $m!($($args)*) }
    };
}

/// The VEX-encoded (AVX) instance.
#[allow(
    clippy::duplicate_mod,
    reason = "one kernel source, compiled under two feature lists"
)]
#[path = "aesni_clmul/kernel.rs"]
mod avx;

/// Which instance of the kernel a key runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Zeroize)]
enum Isa {
    /// Legacy SSE encoding (`aesni_clmul_features!`).
    Sse,
    /// VEX encoding (`aesni_clmul_avx_features!`).
    Avx,
}

/// Expanded AES key and the GHASH key powers, for AES-128/192/256.
///
/// Holding one proves the CPU has AES-NI, PCLMULQDQ and SSE4.1 (it can only
/// be built with a [`AesClmul`] token), and AVX with the OS's ymm state when
/// `isa` is [`Isa::Avx`] (only built with an [`AesClmulAvx`] token).
/// Zeroized on drop; no `Debug`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Key {
    /// Round keys 0..=rounds in the byte order AESENC takes (FIPS 197 words
    /// w[4r..4r+4] laid out as bytes); unused entries are zero.
    round_keys: [__m128i; 15],
    /// 10, 12 or 14.
    rounds: usize,
    /// `h[k]` = (H^(k+1))' = H^(k+1) * x^-1 mod P, byte-reflected.
    h: [__m128i; LANES],
    /// `hk[k]` = `h[k].hi ^ h[k].lo` in both 64-bit halves (Karatsuba).
    hk: [__m128i; LANES],
    /// The kernel instance, chosen at construction.
    isa: Isa,
}

/// Runs `$f` from the key's kernel instance: `instance!(key, f(args))`.
macro_rules! instance {
    ($key:expr, $f:ident $(::<$g:tt>)? ($($arg:expr),* $(,)?)) => {
        match $key.isa {
            // SAFETY: an `Isa::Avx` key is only built with an `AesClmulAvx`
            // token, which proves every feature of `aesni_clmul_avx_features!`.
            Isa::Avx => unsafe { avx::$f $(::<$g>)? ($($arg),*) },
            // SAFETY: every key is built with an `AesClmul` token, which
            // proves every feature of `aesni_clmul_features!`.
            Isa::Sse => unsafe { sse::$f $(::<$g>)? ($($arg),*) },
        }
    };
}

impl Key {
    /// Expands `key` (16, 24 or 32 bytes) for the fastest instance this CPU
    /// runs; the token proves the CPU can run the SSE one.
    pub(crate) fn new(key: &[u8], cpu: AesClmul) -> Result<Key, Error> {
        match AesClmulAvx::get() {
            Some(avx) => Self::new_avx(key, avx),
            None => Self::new_sse(key, cpu),
        }
    }

    /// A key on the legacy-SSE instance (also what tests use to run it on
    /// CPUs that have AVX).
    pub(crate) fn new_sse(key: &[u8], _cpu: AesClmul) -> Result<Key, Error> {
        super::check_key(key)?;
        // SAFETY: the `AesClmul` token proves every feature of the
        // `aesni_clmul_features!` list is present.
        Ok(unsafe { sse::expand(key, Isa::Sse) })
    }

    /// A key on the VEX-encoded instance.
    pub(crate) fn new_avx(key: &[u8], _cpu: AesClmulAvx) -> Result<Key, Error> {
        super::check_key(key)?;
        // SAFETY: the `AesClmulAvx` token proves every feature of the
        // `aesni_clmul_avx_features!` list is present.
        Ok(unsafe { avx::expand(key, Isa::Avx) })
    }

    /// The number of AES rounds: 10, 12 or 14.
    #[cfg(test)]
    pub(crate) fn rounds(&self) -> usize {
        self.rounds
    }

    /// Round keys `0..=rounds()` as AESENC / AESENCLAST take them (the
    /// standard FIPS 197 byte order); the tests check the expansion here.
    #[cfg(test)]
    pub(crate) fn round_keys(&self) -> &[__m128i] {
        &self.round_keys[..=self.rounds]
    }

    /// Round key `r` as 16 bytes.
    #[cfg(test)]
    pub(crate) fn round_key_bytes(&self, r: usize) -> [u8; 16] {
        let mut out = [0u8; 16];
        // SAFETY: `out` is 16 writable bytes; SSE2 is part of x86_64.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), self.round_keys[r]) };
        out
    }

    /// GHASH key powers `(H^k)' = H^k * x^-1` for k = 1..=8 (index k-1),
    /// byte-reflected, the form the kernel's products expect; and their
    /// Karatsuba halves `hi ^ lo` (in both 64-bit lanes); the tests check
    /// the powers here.
    #[cfg(test)]
    pub(crate) fn h_powers(&self) -> (&[__m128i; LANES], &[__m128i; LANES]) {
        (&self.h, &self.hk)
    }

    /// Encrypts one block with AES (for E(K, J0), tails, and other kernels).
    pub(crate) fn encrypt_block_raw(&self, block: &mut [u8; 16]) {
        instance!(self, encrypt_block(self, block))
    }

    /// CTR mode over whole blocks with inc32 counters starting at `ctr`;
    /// `ctr` is left at the next unused counter (SP 800-38D 6.5 GCTR).
    pub(crate) fn ctr32_raw(&self, ctr: &mut [u8; 16], buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        instance!(self, ctr32(self, ctr, buf))
    }
}

impl Kernel for Key {
    /// The GHASH value, byte-reflected.
    type Acc = __m128i;

    fn acc_zero(&self) -> __m128i {
        // SAFETY: SSE2 is part of x86_64.
        unsafe { _mm_setzero_si128() }
    }

    fn acc_bytes(&self, acc: __m128i) -> [u8; 16] {
        let mut out = [0u8; 16];
        // SAFETY: a `Key` exists only on a CPU with the SSE feature list
        // (token); `out` is 16 writable bytes.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), sse::bswap(acc)) };
        out
    }

    fn ghash(&self, acc: &mut __m128i, blocks: &[u8]) {
        debug_assert_eq!(blocks.len() % 16, 0);
        instance!(self, ghash(self, acc, blocks))
    }

    fn encrypt_block(&self, block: &mut [u8; 16]) {
        self.encrypt_block_raw(block);
    }

    fn ctr32(&self, ctr: &mut [u8; 16], buf: &mut [u8]) {
        self.ctr32_raw(ctr, buf);
    }

    fn seal_blocks(&self, ctr: &mut [u8; 16], acc: &mut __m128i, buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        instance!(self, bulk::<true>(self, ctr, acc, buf))
    }

    fn open_blocks(&self, ctr: &mut [u8; 16], acc: &mut __m128i, buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 16, 0);
        instance!(self, bulk::<false>(self, ctr, acc, buf))
    }

    fn seal_whole(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        Some(instance!(self, whole_any::<true>(self, iv, aad, buf)))
    }

    fn open_whole(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<[u8; 16]> {
        Some(instance!(self, whole_any::<false>(self, iv, aad, buf)))
    }
}

#[cfg(test)]
mod tests {
    //! Both kernel instances (SSE and AVX, when the CPU runs it) against the
    //! `portable` backend and the NIST vectors: every CAVP case, whole-AEAD
    //! results on many lengths, offsets, AAD and key sizes, tampering, the
    //! Kernel operations around the 32-bit counter wrap, and nonces whose
    //! J0 makes the counter wrap inside a message.

    use super::super::{check, gcm, portable, AesGcm, Backend, Error, Kernel};
    use super::*;
    use crate::cavp::{self, Direction, FILES};
    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Says loudly that this CPU cannot run the test (straight to the stderr
    /// handle: libtest hides `eprintln!` of passing tests).
    fn skipped() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED on this CPU: aesni-clmul not available (needs aes, pclmulqdq, sse4.1)"
        );
    }

    /// One key per kernel instance this CPU runs (none without AES-NI).
    fn keys(key: &[u8]) -> Vec<Key> {
        let Some(cpu) = AesClmul::get() else {
            skipped();
            return Vec::new();
        };
        let mut out = vec![Key::new_sse(key, cpu).unwrap()];
        match AesClmulAvx::get() {
            Some(avx) => out.push(Key::new_avx(key, avx).unwrap()),
            None => eprintln!("no AVX: only the SSE instance is tested"),
        }
        out
    }

    /// Seals with `ours` and `portable` (at `offset` inside a larger buffer),
    /// checks ciphertext and tag agree and nothing outside the record was
    /// written, opens with `ours`, and checks that a flipped bit of the tag,
    /// the ciphertext or the AAD is rejected with a zeroed buffer.
    #[allow(clippy::too_many_arguments)]
    fn check_one(
        rng: &mut ChaCha8Rng,
        ours: &Key,
        reference: &portable::Key,
        nonce_len: usize,
        aad_len: usize,
        len: usize,
        offset: usize,
    ) {
        let what = format!(
            "{:?} nonce {nonce_len} aad {aad_len} len {len} offset {offset}",
            ours.isa
        );
        let mut nonce = vec![0u8; nonce_len];
        rng.fill_bytes(&mut nonce);
        let mut aad = vec![0u8; aad_len];
        rng.fill_bytes(&mut aad);
        let mut pt = vec![0u8; len];
        rng.fill_bytes(&mut pt);

        let mut a = vec![0u8; len + offset + 16];
        a[offset..offset + len].copy_from_slice(&pt);
        let mut b = pt.clone();
        let tag_a = gcm::seal(ours, &nonce, &aad, &mut a[offset..offset + len]).unwrap();
        let tag_b = gcm::seal(reference, &nonce, &aad, &mut b).unwrap();
        assert_eq!(&a[offset..offset + len], &b[..], "ciphertext, {what}");
        assert_eq!(tag_a, tag_b, "tag, {what}");
        assert!(a[..offset].iter().all(|&x| x == 0), "wrote before, {what}");
        assert!(
            a[offset + len..].iter().all(|&x| x == 0),
            "wrote past, {what}"
        );

        gcm::open(ours, &nonce, &aad, &mut a[offset..offset + len], &tag_a).unwrap();
        assert_eq!(&a[offset..offset + len], &pt[..], "open, {what}");
        assert!(
            a[offset + len..].iter().all(|&x| x == 0),
            "open wrote past, {what}"
        );

        // Tampering: the tag, a ciphertext bit, an AAD bit.
        let mut bad = tag_a;
        bad[rng.gen_range(0..16)] ^= 1 << rng.gen_range(0..8);
        let mut ct = b.clone();
        assert_eq!(
            gcm::open(ours, &nonce, &aad, &mut ct, &bad),
            Err(Error::Authentication),
            "bad tag accepted, {what}"
        );
        assert!(ct.iter().all(|&x| x == 0), "not zeroed, {what}");
        if len > 0 {
            let mut ct = b.clone();
            ct[rng.gen_range(0..len)] ^= 1 << rng.gen_range(0..8);
            assert_eq!(
                gcm::open(ours, &nonce, &aad, &mut ct, &tag_a),
                Err(Error::Authentication),
                "bad ciphertext accepted, {what}"
            );
            assert!(ct.iter().all(|&x| x == 0), "not zeroed, {what}");
        }
        if aad_len > 0 {
            let mut aad = aad.clone();
            aad[rng.gen_range(0..aad_len)] ^= 1 << rng.gen_range(0..8);
            let mut ct = b.clone();
            assert_eq!(
                gcm::open(ours, &nonce, &aad, &mut ct, &tag_a),
                Err(Error::Authentication),
                "bad AAD accepted, {what}"
            );
            assert!(ct.iter().all(|&x| x == 0), "not zeroed, {what}");
        }
    }

    const KEY_LENS: [usize; 3] = [16, 24, 32];

    fn key(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
        let mut k = vec![0u8; len];
        rng.fill_bytes(&mut k);
        k
    }

    /// On a CPU with AVX the backend runs the AVX instance.
    #[test]
    fn avx_instance_is_chosen_when_available() {
        let Some(cpu) = AesClmul::get() else {
            skipped();
            return;
        };
        let k = Key::new(&[1u8; 16], cpu).unwrap();
        let want = if AesClmulAvx::get().is_some() {
            Isa::Avx
        } else {
            Isa::Sse
        };
        assert_eq!(k.isa, want);
        if Backend::AesniClmul.is_available() {
            let g = AesGcm::with_backend(&[1u8; 16], Backend::AesniClmul).unwrap();
            let k = g.aesni_clmul().expect("an aesni-clmul key");
            assert_eq!(k.isa, want);
        }
    }

    /// Every NIST CAVP case (the six gcm*.rsp files) on each instance.
    #[test]
    fn every_cavp_vector_on_both_instances() {
        if AesClmul::get().is_none() {
            skipped();
            return;
        }
        let dir = cavp::default_dir();
        let mut total = 0;
        for name in FILES {
            let file = cavp::load(&dir.join(name)).unwrap();
            assert_eq!(file.cases.len(), file.count_lines, "{name}");
            for case in &file.cases {
                for k in keys(&case.key) {
                    let what = format!("{name} line {} {:?}", case.line, k.isa);
                    let t = case.tag.len();
                    match file.direction {
                        Direction::Encrypt => {
                            let mut buf = case.pt.clone();
                            let tag = gcm::seal(&k, &case.iv, &case.aad, &mut buf).unwrap();
                            assert_eq!(buf, case.ct, "ciphertext, {what}");
                            assert_eq!(tag[..t], case.tag[..], "tag, {what}");
                            gcm::open(&k, &case.iv, &case.aad, &mut buf, &case.tag).unwrap();
                            assert_eq!(buf, case.pt, "round trip, {what}");
                        }
                        Direction::Decrypt => {
                            let mut buf = case.ct.clone();
                            let res = gcm::open(&k, &case.iv, &case.aad, &mut buf, &case.tag);
                            if case.fail {
                                assert_eq!(res, Err(Error::Authentication), "{what}");
                                assert!(buf.iter().all(|&x| x == 0), "not zeroed, {what}");
                            } else {
                                assert_eq!(res, Ok(()), "{what}");
                                assert_eq!(buf, case.pt, "plaintext, {what}");
                            }
                        }
                    }
                    total += 1;
                }
            }
        }
        assert!(total >= 6 * 7875, "{total} case runs");
    }

    #[test]
    fn every_length_to_300() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            let reference = portable::Key::new(&k).unwrap();
            for ours in keys(&k) {
                for len in 0..=300 {
                    let offset = rng.gen_range(0..16);
                    let aad = [0, 1, 13, 13, 16, 17, 40][rng.gen_range(0..7)];
                    check_one(&mut rng, &ours, &reference, 12, aad, len, offset);
                }
            }
        }
    }

    #[test]
    fn every_aad_length_to_100() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            let reference = portable::Key::new(&k).unwrap();
            for ours in keys(&k) {
                for aad in 0..=100 {
                    for len in [0, 5, 16, 64, 127, 128, 129, 200, 1420] {
                        check_one(&mut rng, &ours, &reference, 12, aad, len, 0);
                    }
                }
            }
        }
    }

    #[test]
    fn random_lengths_to_20000() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..60 {
            let key_len = KEY_LENS[rng.gen_range(0..3)];
            let k = key(&mut rng, key_len);
            let reference = portable::Key::new(&k).unwrap();
            let len = rng.gen_range(0..=20000);
            let nonce_len = [12, 12, 1, 16, 60][rng.gen_range(0..5)];
            let aad = rng.gen_range(0..300);
            for ours in keys(&k) {
                let offset = rng.gen_range(0..16);
                check_one(&mut rng, &ours, &reference, nonce_len, aad, len, offset);
            }
        }
    }

    #[test]
    fn lengths_around_every_stride() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            let reference = portable::Key::new(&k).unwrap();
            for ours in keys(&k) {
                for groups in 1..=5 {
                    // Strides of the stitched loop: 8 blocks = 128 bytes;
                    // k*stride -1/0/+1 blocks and bytes.
                    let stride = 16 * LANES * groups;
                    for len in [
                        stride - 17,
                        stride - 16,
                        stride - 15,
                        stride - 1,
                        stride,
                        stride + 1,
                        stride + 15,
                        stride + 16,
                        stride + 17,
                    ] {
                        for nonce_len in [12, 16] {
                            let offset = rng.gen_range(0..16);
                            check_one(&mut rng, &ours, &reference, nonce_len, 13, len, offset);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_alignment_offset() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            let reference = portable::Key::new(&k).unwrap();
            for ours in keys(&k) {
                for offset in 0..16 {
                    for len in [15, 16, 127, 128, 129, 300, 1024 + 7, 1420] {
                        check_one(&mut rng, &ours, &reference, 12, 13, len, offset);
                    }
                }
            }
        }
    }

    /// The Kernel operations with counter blocks whose low 32 bits are just
    /// below 2^32, so inc32 wraps at every position inside a group.
    #[test]
    fn kernel_counter_wrap() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            let reference = portable::Key::new(&k).unwrap();
            for ours in keys(&k) {
                for start in 0..=17u32 {
                    for blocks in [1usize, 7, 8, 9, 15, 16, 17, 24, 33] {
                        let mut ctr = [0u8; 16];
                        rng.fill_bytes(&mut ctr[..12]);
                        ctr[12..].copy_from_slice(&(u32::MAX - start).to_be_bytes());
                        let mut data = vec![0u8; 16 * blocks];
                        rng.fill_bytes(&mut data);
                        let mut seed = [0u8; 16];
                        rng.fill_bytes(&mut seed);

                        let run = |seal: bool, which: u8| -> (Vec<u8>, [u8; 16], [u8; 16]) {
                            let mut buf = data.clone();
                            let mut c = ctr;
                            let acc = if which == 0 {
                                let mut acc = ours.acc_zero();
                                ours.ghash(&mut acc, &seed);
                                if seal {
                                    ours.seal_blocks(&mut c, &mut acc, &mut buf);
                                } else {
                                    ours.open_blocks(&mut c, &mut acc, &mut buf);
                                }
                                ours.acc_bytes(acc)
                            } else {
                                let mut acc = reference.acc_zero();
                                reference.ghash(&mut acc, &seed);
                                if seal {
                                    reference.seal_blocks(&mut c, &mut acc, &mut buf);
                                } else {
                                    reference.open_blocks(&mut c, &mut acc, &mut buf);
                                }
                                reference.acc_bytes(acc)
                            };
                            (buf, c, acc)
                        };
                        for seal in [true, false] {
                            assert_eq!(
                                run(seal, 0),
                                run(seal, 1),
                                "{:?} seal {seal} start {start} blocks {blocks}",
                                ours.isa
                            );
                        }
                        let mut a = data.clone();
                        let mut b = data.clone();
                        let (mut ca, mut cb) = (ctr, ctr);
                        ours.ctr32(&mut ca, &mut a);
                        reference.ctr32(&mut cb, &mut b);
                        assert_eq!((a, ca), (b, cb), "ctr32 start {start} blocks {blocks}");
                    }
                }
            }
        }
    }

    /// End to end: nonces whose J0 ends in 0xffff_ffff - k, so the counter
    /// wraps k+1 blocks into the message.
    #[test]
    fn aead_counter_wrap_with_solved_nonce() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for key_len in KEY_LENS {
            let k = key(&mut rng, key_len);
            let reference = portable::Key::new(&k).unwrap();
            for ours in keys(&k) {
                for back in [0u32, 1, 2, 5, 7, 8, 9, 15] {
                    let mut j0 = [0u8; 16];
                    rng.fill_bytes(&mut j0[..12]);
                    j0[12..].copy_from_slice(&(u32::MAX - back).to_be_bytes());
                    let nonce = check::nonce_for_j0(&reference, j0).unwrap();
                    assert_eq!(gcm::j0(&ours, &nonce), j0, "J0 on {:?}", ours.isa);
                    for len in [100, 255, 256, 300, 1000] {
                        let mut pa = vec![0u8; len];
                        rng.fill_bytes(&mut pa);
                        let pt = pa.clone();
                        let mut pb = pa.clone();
                        let ta = gcm::seal(&ours, &nonce, b"hdr", &mut pa).unwrap();
                        let tb = gcm::seal(&reference, &nonce, b"hdr", &mut pb).unwrap();
                        assert_eq!((&pa, ta), (&pb, tb), "back {back} len {len}");
                        gcm::open(&ours, &nonce, b"hdr", &mut pa, &ta).unwrap();
                        assert_eq!(pa, pt);
                    }
                }
            }
        }
    }

    /// The key's round keys and powers of H agree with their definitions.
    #[test]
    fn exposed_key_material() {
        for k in keys(&[7u8; 32]) {
            assert_eq!(k.rounds(), 14);
            assert_eq!(k.round_keys().len(), 15);
            // FIPS 197: round key 0 is the cipher key itself.
            assert_eq!(k.round_key_bytes(0), [7u8; 16]);
            let (h, hk) = k.h_powers();
            // SAFETY: a key exists only with the SSE token.
            let h2 = unsafe { sse::gf_mul(h[0], h[0]) };
            assert_eq!(k.acc_bytes(h2), k.acc_bytes(h[1]));
            // SAFETY: SSE2 is part of x86_64.
            let kar = unsafe { _mm_xor_si128(h[3], _mm_shuffle_epi32::<0x4e>(h[3])) };
            assert_eq!(k.acc_bytes(kar), k.acc_bytes(hk[3]));
        }
    }
}
