//! One instance of the `aesni-clmul` kernel: every function here carries
//! the feature list that `instance_features!` names where the module is
//! declared (src/aead/aesni_clmul.rs), so the same source compiles once with
//! legacy-SSE encoding and once VEX-encoded (AVX: three operands, no register
//! copies). The representation, the reduction and the loop are described in
//! the parent module.

use super::{Key, LANES};
use crate::aead::gcm::{self, Frame};
use core::arch::x86_64::*;
use zeroize::Zeroize;

/// Bytes in one group of the stitched loop.
const G: usize = 16 * LANES;

instance_features!(enable!(
    /// Key expansion (FIPS 197 section 5.2) with SubWord computed by
    /// AESENCLAST on a broadcast word (ShiftRows permutes equal columns, so it
    /// is the identity there), then H = E(K, 0^128) and its powers.
    pub(super) fn expand(key: &[u8], isa: super::Isa) -> Key {
        let (mut w, rounds) = crate::aead::key_words(key, |x| sub_word(x));
        let mut round_keys = [_mm_setzero_si128(); 15];
        for (r, rk) in round_keys.iter_mut().enumerate().take(rounds + 1) {
            *rk = _mm_set_epi32(
                w[4 * r + 3] as i32,
                w[4 * r + 2] as i32,
                w[4 * r + 1] as i32,
                w[4 * r] as i32,
            );
        }
        w.zeroize();

        let h_plain = aes_block(&round_keys, rounds, _mm_setzero_si128());
        let h1 = h_times_x_inv(bswap(h_plain));
        let mut h = [h1; LANES];
        for k in 1..LANES {
            h[k] = gf_mul(h[k - 1], h1);
        }
        let mut hk = [_mm_setzero_si128(); LANES];
        for k in 0..LANES {
            hk[k] = _mm_xor_si128(h[k], _mm_shuffle_epi32::<0x4e>(h[k]));
        }
        Key {
            round_keys,
            rounds,
            h,
            hk,
            isa,
        }
    }
));

instance_features!(enable!(
    /// SubWord (FIPS 197 5.2): the S-box on each byte of a word.
    fn sub_word(x: u32) -> u32 {
        let v = _mm_aesenclast_si128(_mm_set1_epi32(x as i32), _mm_setzero_si128());
        _mm_cvtsi128_si32(v) as u32
    }
));

instance_features!(enable!(
    /// Reverses the 16 bytes of a register (GCM block <-> reflected element).
    #[inline]
    pub(super) fn bswap(x: __m128i) -> __m128i {
        let rev = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        _mm_shuffle_epi8(x, rev)
    }
));

instance_features!(enable!(
    /// `h * x^-1 mod P` on a byte-reflected element: a one-bit left shift of
    /// the 128-bit register; when the x^0 coefficient (bit 127) falls out,
    /// `P / x = x^127 + x^6 + x + 1` is added, which reflects to
    /// `0xc2000000_00000000_00000000_00000001`.
    #[inline]
    fn h_times_x_inv(h: __m128i) -> __m128i {
        // 128-bit shift left by one: shift each 64-bit lane, carry lane 0's
        // top bit into lane 1.
        let carry = _mm_srli_epi64::<63>(h);
        let shifted = _mm_or_si128(_mm_slli_epi64::<1>(h), _mm_slli_si128::<8>(carry));
        // All ones when bit 127 was set: broadcast the top dword's sign.
        let top = _mm_srai_epi32::<31>(_mm_shuffle_epi32::<0xff>(h));
        let poly = _mm_set_epi32(0xc200_0000_u32 as i32, 0, 0, 1);
        _mm_xor_si128(shifted, _mm_and_si128(top, poly))
    }
));

instance_features!(enable!(
    /// Reduces the 256-bit reflected product `[hi : lo]` modulo P (two
    /// 64-bit folds; see the parent module's comment).
    #[inline]
    fn reduce(lo: __m128i, hi: __m128i) -> __m128i {
        let poly = _mm_set_epi32(0, 0, 0xc200_0000_u32 as i32, 0);
        let t = _mm_clmulepi64_si128::<0x00>(lo, poly);
        let lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
        let t = _mm_clmulepi64_si128::<0x00>(lo, poly);
        let lo = _mm_xor_si128(_mm_shuffle_epi32::<0x4e>(lo), t);
        _mm_xor_si128(hi, lo)
    }
));

instance_features!(enable!(
    /// `a * b'` with one reduction (Karatsuba, 3 multiplications).
    #[inline]
    pub(super) fn gf_mul(a: __m128i, b: __m128i) -> __m128i {
        let mut acc = Unreduced::new();
        let bk = _mm_xor_si128(b, _mm_shuffle_epi32::<0x4e>(b));
        acc.mul_add(a, b, bk);
        acc.reduce()
    }
));

/// Sum of unreduced Karatsuba products: low, high and middle 128-bit parts.
#[derive(Clone, Copy)]
struct Unreduced {
    lo: __m128i,
    hi: __m128i,
    mid: __m128i,
}

impl Unreduced {
    instance_features!(enable!(
        #[inline]
        fn new() -> Unreduced {
            Unreduced {
                lo: _mm_setzero_si128(),
                hi: _mm_setzero_si128(),
                mid: _mm_setzero_si128(),
            }
        }
    ));

    instance_features!(enable!(
        /// Adds `x * h` where `hk` holds `h.hi ^ h.lo` in its low half.
        #[inline]
        fn mul_add(&mut self, x: __m128i, h: __m128i, hk: __m128i) {
            let xk = _mm_xor_si128(x, _mm_shuffle_epi32::<0x4e>(x));
            self.lo = _mm_xor_si128(self.lo, _mm_clmulepi64_si128::<0x00>(x, h));
            self.hi = _mm_xor_si128(self.hi, _mm_clmulepi64_si128::<0x11>(x, h));
            self.mid = _mm_xor_si128(self.mid, _mm_clmulepi64_si128::<0x00>(xk, hk));
        }
    ));

    instance_features!(enable!(
        /// Karatsuba recombination and the one reduction.
        #[inline]
        fn reduce(self) -> __m128i {
            let mid = _mm_xor_si128(self.mid, _mm_xor_si128(self.lo, self.hi));
            let lo = _mm_xor_si128(self.lo, _mm_slli_si128::<8>(mid));
            let hi = _mm_xor_si128(self.hi, _mm_srli_si128::<8>(mid));
            reduce(lo, hi)
        }
    ));
}

/// GHASH of a stream of blocks whose total count is known in advance:
/// chunks of up to eight blocks from the front, each `acc' = (acc ^ X0) *
/// H^m ^ X1 * H^(m-1) ^ ... ^ X(m-1) * H` with one reduction (SP 800-38D
/// 6.4, aggregated). Blocks come from memory or registers, one at a time.
struct Stream {
    acc: __m128i,
    sum: Unreduced,
    /// Blocks not yet absorbed, this chunk's included.
    left: usize,
    /// Blocks of the current chunk, and how many of them are absorbed.
    chunk: usize,
    pos: usize,
}

impl Stream {
    instance_features!(enable!(
        #[inline]
        fn new(acc: __m128i, total: usize) -> Stream {
            Stream {
                acc,
                sum: Unreduced::new(),
                left: total,
                chunk: 0,
                pos: 0,
            }
        }
    ));

    instance_features!(enable!(
        /// Absorbs one block in register (byte-reflected) form.
        #[inline]
        fn push(&mut self, key: &Key, x: __m128i) {
            debug_assert!(self.left > 0, "more blocks than announced");
            let mut x = x;
            if self.pos == 0 {
                self.chunk = self.left.min(LANES);
                x = _mm_xor_si128(x, self.acc);
            }
            let p = self.chunk - 1 - self.pos;
            self.sum.mul_add(x, key.h[p], key.hk[p]);
            self.pos += 1;
            self.left -= 1;
            if self.pos == self.chunk {
                self.acc = self.sum.reduce();
                self.sum = Unreduced::new();
                self.pos = 0;
            }
        }
    ));

    instance_features!(enable!(
        /// Absorbs the whole blocks of `data`.
        #[inline]
        fn push_blocks(&mut self, key: &Key, data: &[u8]) {
            for b in data.chunks_exact(16) {
                self.push(key, bswap(load(b)));
            }
        }
    ));

    instance_features!(enable!(
        /// The GHASH value, once every announced block is in.
        #[inline]
        fn finish(self) -> __m128i {
            debug_assert_eq!(self.left, 0, "fewer blocks than announced");
            self.acc
        }
    ));
}

instance_features!(enable!(
    /// AES encryption of one block (FIPS 197 section 5.1).
    #[inline]
    fn aes_block(rk: &[__m128i; 15], rounds: usize, b: __m128i) -> __m128i {
        let mut s = _mm_xor_si128(b, rk[0]);
        for k in &rk[1..rounds] {
            s = _mm_aesenc_si128(s, *k);
        }
        _mm_aesenclast_si128(s, rk[rounds])
    }
));

instance_features!(enable!(
    /// Loads the 16-byte block at the start of `b`.
    #[inline]
    fn load(b: &[u8]) -> __m128i {
        let b: &[u8; 16] = b[..16].try_into().expect("a whole block");
        // SAFETY: `b` is 16 readable bytes; unaligned load.
        unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
    }
));

instance_features!(enable!(
    /// Stores a register into the 16-byte block at the start of `b`.
    #[inline]
    fn store(b: &mut [u8], x: __m128i) {
        let b: &mut [u8; 16] = (&mut b[..16]).try_into().expect("a whole block");
        // SAFETY: `b` is 16 writable bytes; unaligned store.
        unsafe { _mm_storeu_si128(b.as_mut_ptr().cast(), x) }
    }
));

instance_features!(enable!(
    /// The counter block, byte-reversed: its 32-bit counter is lane 0.
    #[inline]
    fn load_ctr(ctr: &[u8; 16]) -> __m128i {
        bswap(load(ctr))
    }
));

instance_features!(enable!(
    #[inline]
    fn store_ctr(ctr: &mut [u8; 16], c: __m128i) {
        store(ctr, bswap(c));
    }
));

instance_features!(enable!(
    /// Counter block `c + i` under inc32 (lane-0 add wraps mod 2^32), in
    /// block byte order, whitened with round key 0.
    #[inline]
    fn ctr_block(c: __m128i, i: i32, rk0: __m128i) -> __m128i {
        _mm_xor_si128(bswap(_mm_add_epi32(c, _mm_set_epi32(0, 0, 0, i))), rk0)
    }
));

instance_features!(enable!(
    /// The eight counter blocks `c .. c+7` (inc32) in block byte order,
    /// whitened with round key 0.
    ///
    /// `public`: the counter is public (a 96-bit IV: J0 = IV || 1), so its
    /// value may pick the path: when the low byte cannot carry within the
    /// group (byte 15 of the block, the top byte of 32-bit lane 3 in block
    /// order) the blocks are added in block order after one byte swap,
    /// otherwise each is swapped on its own. Not `public` (any other IV:
    /// J0 = GHASH_H(IV) depends on the key): always the second way, no branch
    /// on the counter (the memcheck constant-time check, scripts/ct-check.sh,
    /// reports one). A run-time flag, constant at each call site, rather
    /// than a const parameter: that doubled the stitched loop's instances
    /// and LLVM stopped inlining them (16 KiB AES-256 opens 0.955x).
    #[inline]
    fn counters8(c: __m128i, rk0: __m128i, public: bool) -> [__m128i; LANES] {
        let mut s = [_mm_setzero_si128(); LANES];
        if public && (_mm_cvtsi128_si32(c) as u32 & 0xff) <= 0xff - (LANES as u32 - 1) {
            let b = bswap(c);
            for (i, si) in s.iter_mut().enumerate() {
                let add = _mm_set_epi32((i as i32) << 24, 0, 0, 0);
                *si = _mm_xor_si128(_mm_add_epi32(b, add), rk0);
            }
        } else {
            for (i, si) in s.iter_mut().enumerate() {
                *si = ctr_block(c, i as i32, rk0);
            }
        }
        s
    }
));

instance_features!(enable!(
    /// XORs the keystream of counters `c .. c+W-1` into the (at most `W`)
    /// whole blocks of `blocks`. `W` is fixed so the lanes unroll; when
    /// `blocks` is shorter, the extra keystream blocks are discarded.
    #[inline]
    fn keystream_xor<const W: usize>(key: &Key, c: __m128i, blocks: &mut [u8]) {
        let rk = &key.round_keys;
        let mut s = [_mm_setzero_si128(); W];
        for (i, si) in s.iter_mut().enumerate() {
            *si = ctr_block(c, i as i32, rk[0]);
        }
        for k in &rk[1..key.rounds] {
            for si in s.iter_mut() {
                *si = _mm_aesenc_si128(*si, *k);
            }
        }
        for (si, b) in s.iter().zip(blocks.chunks_exact_mut(16)) {
            let ks = _mm_aesenclast_si128(*si, rk[key.rounds]);
            store(b, _mm_xor_si128(load(b), ks));
        }
    }
));

instance_features!(enable!(
    /// CTR over the whole blocks of `buf`: eight at a time, then the rest
    /// (2, 4 or 8 lanes wide). Advances `c` by the block count (mod 2^32 in
    /// lane 0).
    #[inline]
    fn ctr_blocks(key: &Key, c: &mut __m128i, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(G) {
            let m = chunk.len() / 16;
            match m {
                1 | 2 => keystream_xor::<2>(key, *c, chunk),
                3 | 4 => keystream_xor::<4>(key, *c, chunk),
                _ => keystream_xor::<LANES>(key, *c, chunk),
            }
            *c = _mm_add_epi32(*c, _mm_set_epi32(0, 0, 0, m as i32));
        }
    }
));

instance_features!(enable!(
    /// GHASH of the whole blocks of `data` into the reflected accumulator:
    /// groups of up to eight, `acc' = (acc ^ X0)*H^m ^ ... ^ X(m-1)*H`, one
    /// reduction each.
    #[inline]
    fn ghash_blocks(key: &Key, acc: &mut __m128i, data: &[u8]) {
        for chunk in data.chunks(G) {
            let m = chunk.len() / 16;
            let mut u = Unreduced::new();
            for (i, b) in chunk.chunks_exact(16).enumerate() {
                let mut x = bswap(load(b));
                if i == 0 {
                    x = _mm_xor_si128(x, *acc);
                }
                u.mul_add(x, key.h[m - 1 - i], key.hk[m - 1 - i]);
            }
            *acc = u.reduce();
        }
    }
));

instance_features!(enable!(
    /// One AES round (AESENC) on the eight blocks in flight, then a
    /// scheduling fence: an empty `asm!` that emits no instruction but takes
    /// the eight states as register operands, so the compiler keeps the
    /// rounds horizontal (all eight blocks at round r before round r+1).
    /// Without it LLVM, short of registers once GHASH is interleaved,
    /// reorders the loop into one block's rounds after another, and the
    /// AESENC latency (4 cycles) chain then bounds the loop instead of
    /// its throughput (see asm-notes/aesni-clmul.md).
    #[inline]
    fn round8(s: &mut [__m128i; LANES], k: __m128i) {
        for si in s.iter_mut() {
            *si = _mm_aesenc_si128(*si, k);
        }
        let [s0, s1, s2, s3, s4, s5, s6, s7] = s;
        // SAFETY: the template is empty: no instruction runs, no memory,
        // stack or flags are touched; the operands come back unchanged.
        unsafe {
            core::arch::asm!(
                "/* {0} {1} {2} {3} {4} {5} {6} {7} */",
                inout(xmm_reg) * s0,
                inout(xmm_reg) * s1,
                inout(xmm_reg) * s2,
                inout(xmm_reg) * s3,
                inout(xmm_reg) * s4,
                inout(xmm_reg) * s5,
                inout(xmm_reg) * s6,
                inout(xmm_reg) * s7,
                options(nomem, nostack, preserves_flags),
            );
        }
    }
));

instance_features!(enable!(
    /// The stitched bulk loop over `buf` (a non-zero multiple of eight
    /// blocks) with `NR` rounds. Seal: encrypt group g while absorbing the
    /// ciphertext of group g-1 (already written); the last group's
    /// ciphertext is left for the caller to absorb. Open: absorb group g's
    /// ciphertext (read before it is overwritten) while computing its own
    /// keystream.
    /// `public`: whether the counter is public (see [`counters8`]): true
    /// from the 96-bit-IV whole-message path, false from the generic one.
    ///
    /// ```text
    ///   round 0       whiten the 8 counter blocks
    ///   round r=1..8  AESENC x8  +  block r-1 times H^(9-r), unreduced (3 PCLMULQDQ)
    ///   after 8       Karatsuba fix-up, one reduction (2 PCLMULQDQ) -> acc
    ///   rounds 9..NR  AESENC x8, AESENCLAST x8, XOR into the buffer
    /// ```
    #[allow(clippy::needless_range_loop, reason = "counted loops unroll fully")]
    #[inline]
    fn stitched<const NR: usize, const SEAL: bool>(
        key: &Key,
        ctr: &mut __m128i,
        ghash: &mut __m128i,
        buf: &mut [u8],
        public: bool,
    ) {
        // Counter and GHASH value in locals, so they stay in registers
        // rather than going through memory behind the references.
        let (mut cv, mut av) = (*ctr, *ghash);
        let (c, acc) = (&mut cv, &mut av);
        let rk = &key.round_keys;
        let step = _mm_set_epi32(0, 0, 0, LANES as i32);
        let first = if SEAL {
            // The first group has no earlier ciphertext to hash.
            ctr_blocks(key, c, &mut buf[..G]);
            1
        } else {
            0
        };
        for g in first..buf.len() / G {
            let (done, rest) = buf.split_at_mut(G * g);
            let out: &mut [u8; G] = (&mut rest[..G]).try_into().expect("a group");
            let src: &[u8; G] = if SEAL {
                done[G * (g - 1)..].try_into().expect("a group")
            } else {
                out
            };
            let mut s = counters8(*c, rk[0], public);
            let mut u = Unreduced::new();
            for i in 0..LANES {
                round8(&mut s, rk[i + 1]);
                let mut x = bswap(load(&src[16 * i..]));
                if i == 0 {
                    x = _mm_xor_si128(x, *acc);
                }
                u.mul_add(x, key.h[LANES - 1 - i], key.hk[LANES - 1 - i]);
            }
            *acc = u.reduce();
            for r in LANES + 1..NR {
                round8(&mut s, rk[r]);
            }
            // AESENCLAST ends with the XOR of its key: with the data folded
            // into the last round key, it yields the output block directly.
            for i in 0..LANES {
                let b = &mut out[16 * i..];
                let last = _mm_xor_si128(rk[NR], load(b));
                store(b, _mm_aesenclast_si128(s[i], last));
            }
            *c = _mm_add_epi32(*c, step);
        }
        (*ctr, *ghash) = (cv, av);
    }
));

instance_features!(enable!(
    /// [`stitched`] for the kernel's round count, for the generic framing
    /// (any IV length: the counter may depend on the key).
    #[inline]
    fn stitched_any<const SEAL: bool>(
        key: &Key,
        c: &mut __m128i,
        acc: &mut __m128i,
        buf: &mut [u8],
    ) {
        match key.rounds {
            10 => stitched::<10, SEAL>(key, c, acc, buf, false),
            12 => stitched::<12, SEAL>(key, c, acc, buf, false),
            _ => stitched::<14, SEAL>(key, c, acc, buf, false),
        }
    }
));

instance_features!(enable!(
    /// Seal or open of whole blocks: the stitched loop for the groups of
    /// eight, the simple CTR-then-GHASH path for the rest.
    pub(super) fn bulk<const SEAL: bool>(
        key: &Key,
        ctr: &mut [u8; 16],
        acc: &mut __m128i,
        buf: &mut [u8],
    ) {
        let mut c = load_ctr(ctr);
        let split = buf.len() - buf.len() % G;
        let (groups, rest) = buf.split_at_mut(split);
        if !groups.is_empty() {
            stitched_any::<SEAL>(key, &mut c, acc, groups);
            if SEAL {
                // Absorb the last group's ciphertext.
                ghash_blocks(key, acc, &groups[split - G..]);
            }
        }
        if SEAL {
            ctr_blocks(key, &mut c, rest);
            ghash_blocks(key, acc, rest);
        } else {
            ghash_blocks(key, acc, rest);
            ctr_blocks(key, &mut c, rest);
        }
        store_ctr(ctr, c);
    }
));

instance_features!(enable!(
    /// Encrypts one block (E(K, J0), the generic framing's partial blocks).
    pub(super) fn encrypt_block(key: &Key, block: &mut [u8; 16]) {
        let e = aes_block(&key.round_keys, key.rounds, load(block));
        store(block, e);
    }
));

instance_features!(enable!(
    /// CTR over whole blocks from `ctr`, left at the next unused counter.
    pub(super) fn ctr32(key: &Key, ctr: &mut [u8; 16], buf: &mut [u8]) {
        let mut c = load_ctr(ctr);
        ctr_blocks(key, &mut c, buf);
        store_ctr(ctr, c);
    }
));

instance_features!(enable!(
    /// GHASH of whole blocks into the accumulator.
    pub(super) fn ghash(key: &Key, acc: &mut __m128i, blocks: &[u8]) {
        ghash_blocks(key, acc, blocks);
    }
));

instance_features!(enable!(
    /// A block image from the framing module (the little-endian `u128` of
    /// its 16 bytes) into a register, without going through memory.
    #[inline]
    fn from_u128(v: u128) -> __m128i {
        _mm_set_epi64x((v >> 64) as i64, v as i64)
    }
));

instance_features!(enable!(
    /// A register as the little-endian `u128` of its 16 bytes.
    #[inline]
    fn to_u128(v: __m128i) -> u128 {
        let lo = _mm_cvtsi128_si64(v) as u64;
        let hi = _mm_extract_epi64::<1>(v) as u64;
        u128::from(hi) << 64 | u128::from(lo)
    }
));

instance_features!(enable!(
    /// The partial last block (SP 800-38D 7.1 step 4, 7.2 step 6) in
    /// registers, with the framing's byte access (`gcm::read_partial` /
    /// `gcm::write_partial`) and mask (`gcm::keep_mask`): XORs the
    /// keystream `ks` into the `tail.len() < 16` bytes of `tail` and returns
    /// the ciphertext zero-padded to a block, the GHASH input (on seal the
    /// output masked, on open the input). The text's load does not wait for
    /// the keystream, so only an XOR (and an AND) follow the last AES round;
    /// the scalar `gcm::seal_tail` moved the keystream to general registers
    /// and back on that path (1420-byte seals measured 2-5% slower).
    #[inline]
    fn partial<const SEAL: bool>(tail: &mut [u8], ks: __m128i) -> __m128i {
        let i = from_u128(gcm::read_partial(tail));
        let o = _mm_xor_si128(i, ks);
        gcm::write_partial(tail, to_u128(o));
        if SEAL {
            _mm_and_si128(o, load(gcm::keep_mask(tail.len(), 16)))
        } else {
            i
        }
    }
));

instance_features!(enable!(
    /// Seal (`SEAL`) or open of a whole message with a 96-bit IV, from J0
    /// to the tag (SP 800-38D 7.1 / 7.2), in place; returns the full tag
    /// (on open the expected one: the framing compares it in constant time
    /// and wipes `buf` on a mismatch).
    ///
    /// ```text
    ///   J0 = IV || 0^31 || 1                  built in a register
    ///   E(K, J0), E(K, inc32^(n+1)(J0))       one AES pair (tag, partial block)
    ///   AAD                                   hashed first, or, when no group
    ///                                         of 8 blocks follows, in the one
    ///                                         GHASH stream with the rest
    ///   groups of 8 blocks                    the stitched loop
    ///   [last group] || r blocks || partial || [len(A)]_64 || [len(C)]_64
    ///                                         one GHASH stream, 8 per reduction
    /// ```
    #[inline]
    fn whole<const NR: usize, const SEAL: bool>(
        key: &Key,
        iv: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; 16] {
        let f = &Frame::new(iv, aad.len(), buf.len());
        let rk = &key.round_keys;
        let nblocks = f.blocks;
        let (body, tail) = buf.split_at_mut(16 * nblocks);

        // J0 in block byte order (SP 800-38D 7.1 step 2), and in counter
        // form; its counter field is 1.
        let j0 = from_u128(f.j0);
        let c0 = bswap(j0);

        // E(K, J0) and the keystream of the partial block
        // (`Frame::tail_ctr`): two AES chains that depend on nothing else.
        let mut pair = [
            _mm_xor_si128(j0, rk[0]),
            // The counter field is the last 32-bit lane, big-endian.
            _mm_xor_si128(
                _mm_insert_epi32::<3>(j0, i32::from_ne_bytes(f.tail_ctr().to_be_bytes())),
                rk[0],
            ),
        ];
        for k in &rk[1..NR] {
            for p in pair.iter_mut() {
                *p = _mm_aesenc_si128(*p, *k);
            }
        }
        let ek_j0 = _mm_aesenclast_si128(pair[0], rk[NR]);
        let tail_ks = _mm_aesenclast_si128(pair[1], rk[NR]);

        let aad_whole = aad.len() & !15;
        let aad_blocks = aad.len().div_ceil(16);
        let split = 16 * nblocks - (16 * nblocks) % G;
        let (groups, rest) = body.split_at_mut(split);
        let has_tail = usize::from(!tail.is_empty());
        // The last GHASH stream: the seal's last group (the stitched loop
        // leaves it), the blocks after the groups, the partial block and
        // the length block; the AAD too, when there is no group.
        let mut last = rest.len() / 16 + has_tail + 1;
        if SEAL && !groups.is_empty() {
            last += LANES;
        }
        let mut acc = _mm_setzero_si128();
        let mut c = _mm_add_epi32(c0, _mm_set_epi32(0, 0, 0, 1));
        let mut st = if groups.is_empty() {
            Stream::new(acc, aad_blocks + last)
        } else {
            Stream::new(acc, aad_blocks)
        };
        st.push_blocks(key, &aad[..aad_whole]);
        if aad_whole < aad.len() {
            st.push(key, bswap(from_u128(gcm::aad_block(&aad[aad_whole..]))));
        }
        if !groups.is_empty() {
            acc = st.finish();
            stitched::<NR, SEAL>(key, &mut c, &mut acc, groups, true);
            st = Stream::new(acc, last);
            if SEAL {
                st.push_blocks(key, &groups[split - G..]);
            }
        }

        if SEAL {
            ctr_blocks(key, &mut c, rest);
        }
        st.push_blocks(key, rest);
        if !tail.is_empty() {
            st.push(key, bswap(partial::<SEAL>(tail, tail_ks)));
        }
        st.push(key, from_u128(f.len));
        if !SEAL {
            // Decrypt after the stream has read the ciphertext.
            ctr_blocks(key, &mut c, rest);
        }

        // T = E(K, J0) ^ S (SP 800-38D 7.1 step 6), in a register, one
        // 16-byte store (see `gcm::tag`).
        let mut tag = [0u8; 16];
        store(&mut tag, _mm_xor_si128(bswap(st.finish()), ek_j0));
        tag
    }
));

instance_features!(enable!(
    /// [`whole`] for the key's round count.
    pub(super) fn whole_any<const SEAL: bool>(
        key: &Key,
        iv: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; 16] {
        match key.rounds {
            10 => whole::<10, SEAL>(key, iv, aad, buf),
            12 => whole::<12, SEAL>(key, iv, aad, buf),
            _ => whole::<14, SEAL>(key, iv, aad, buf),
        }
    }
));
