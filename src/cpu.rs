//! CPU feature detection, done once, and the zero-sized proof tokens that only
//! this module can build.
//!
//! Holding an [`AesClmul`], [`VaesAvx2`], [`VaesAvx512`] or [`Neon`] value proves that the CPU
//! (and the OS, for the AVX register state) can run the matching backend. A
//! backend's safe constructor takes its token, so a key built for a backend
//! can only exist on a machine that runs it.
//!
//! Each backend has exactly one list of features. The list lives in a macro
//! (`aesni_clmul_features!` and friends) that feeds both the run-time check
//! here (`detect!`) and the `#[target_feature]` attributes of the kernel
//! functions (`enable!`), so the two can never drift apart.

use std::sync::OnceLock;

/// Applies `$m!` to the feature list of the `aesni-clmul` backend.
#[cfg(target_arch = "x86_64")]
macro_rules! aesni_clmul_features {
    ($m:ident!($($args:tt)*)) => {
        $m! { [$($args)*] "sse2", "ssse3", "sse4.1", "aes", "pclmulqdq" }
    };
}

/// Applies `$m!` to the feature list of the VEX-encoded (AVX) instance of the
/// `aesni-clmul` kernel: the same instructions on 128-bit registers, encoded
/// with three operands (needs the OS to save the AVX state).
#[cfg(target_arch = "x86_64")]
macro_rules! aesni_clmul_avx_features {
    ($m:ident!($($args:tt)*)) => {
        $m! { [$($args)*] "sse2", "ssse3", "sse4.1", "aes", "pclmulqdq", "avx" }
    };
}

/// Applies `$m!` to the feature list of the `vaes-avx2` backend.
#[cfg(target_arch = "x86_64")]
macro_rules! vaes_avx2_features {
    ($m:ident!($($args:tt)*)) => {
        $m! { [$($args)*] "sse2", "ssse3", "sse4.1", "aes", "pclmulqdq", "avx", "avx2", "vaes", "vpclmulqdq" }
    };
}

/// Applies `$m!` to the feature list of the `vaes-avx512` backend: VAES and
/// VPCLMULQDQ on 512-bit registers, with AVX-512 masks (AVX512BW for byte
/// masks) and the EVEX forms of the 128/256-bit instructions (AVX512VL).
#[cfg(target_arch = "x86_64")]
macro_rules! vaes_avx512_features {
    ($m:ident!($($args:tt)*)) => {
        $m! { [$($args)*] "sse2", "ssse3", "sse4.1", "aes", "pclmulqdq", "avx", "avx2", "vaes", "vpclmulqdq", "avx512f", "avx512bw", "avx512vl" }
    };
}

/// Applies `$m!` to the feature list of the `neon` backend.
#[cfg(target_arch = "aarch64")]
macro_rules! neon_features {
    ($m:ident!($($args:tt)*)) => {
        $m! { [$($args)*] "neon", "aes" }
    };
}

/// `enable!([item] "f1", "f2")`: the item with one `#[target_feature]` per
/// feature in the list.
#[allow(unused_macros)]
macro_rules! enable {
    ([$item:item] $($f:literal),+) => {
        $(#[target_feature(enable = $f)])+
        $item
    };
}

/// `detect!([] "f1", "f2")`: true when the CPU and OS support every feature.
#[allow(unused_macros)]
macro_rules! detect {
    ([] $($f:literal),+) => {
        true $(&& $crate::cpu::has($f))+
    };
}

/// Run-time check of one feature by name.
///
/// `vaes` and `vpclmulqdq` are read straight from CPUID leaf 7 (ECX bits 9 and
/// 10): some detection crates report them only when the OS has enabled the
/// AVX-512 (zmm) state, but on 256-bit registers they need only the ymm state,
/// which the `avx` check below already proves (XGETBV, OSXSAVE).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has(feature: &str) -> bool {
    use std::arch::is_x86_feature_detected as det;
    match feature {
        "sse2" => det!("sse2"),
        "ssse3" => det!("ssse3"),
        "sse4.1" => det!("sse4.1"),
        "aes" => det!("aes"),
        "pclmulqdq" => det!("pclmulqdq"),
        "avx" => det!("avx"),
        "avx2" => det!("avx2"),
        "vaes" => det!("avx") && cpuid_leaf7_ecx_bit(9),
        "vpclmulqdq" => det!("avx") && cpuid_leaf7_ecx_bit(10),
        // These also check that the OS saves the opmask and zmm state.
        "avx512f" => det!("avx512f"),
        "avx512bw" => det!("avx512bw"),
        "avx512vl" => det!("avx512vl"),
        _ => false,
    }
}

#[cfg(target_arch = "aarch64")]
pub(crate) fn has(feature: &str) -> bool {
    use std::arch::is_aarch64_feature_detected as det;
    match feature {
        "neon" => det!("neon"),
        "aes" => det!("aes") && det!("pmull"),
        _ => false,
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[allow(dead_code)]
pub(crate) fn has(_feature: &str) -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
fn cpuid_leaf7_ecx_bit(bit: u32) -> bool {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    // CPUID exists on every x86_64 CPU; leaf 0 gives the highest leaf, and
    // leaf 7 is only read when the CPU reports it.
    let max_leaf = __cpuid(0).eax;
    if max_leaf < 7 {
        return false;
    }
    let ecx = __cpuid_count(7, 0).ecx;
    ecx & (1 << bit) != 0
}

#[derive(Clone, Copy, Debug)]
struct Detected {
    aes_clmul: bool,
    aes_clmul_avx: bool,
    vaes_avx2: bool,
    vaes_avx512: bool,
    neon: bool,
}

fn detected() -> Detected {
    static ONCE: OnceLock<Detected> = OnceLock::new();
    *ONCE.get_or_init(|| Detected {
        #[cfg(target_arch = "x86_64")]
        aes_clmul: aesni_clmul_features!(detect!()),
        #[cfg(not(target_arch = "x86_64"))]
        aes_clmul: false,
        #[cfg(target_arch = "x86_64")]
        aes_clmul_avx: aesni_clmul_avx_features!(detect!()),
        #[cfg(not(target_arch = "x86_64"))]
        aes_clmul_avx: false,
        #[cfg(target_arch = "x86_64")]
        vaes_avx2: vaes_avx2_features!(detect!()),
        #[cfg(not(target_arch = "x86_64"))]
        vaes_avx2: false,
        #[cfg(target_arch = "x86_64")]
        vaes_avx512: vaes_avx512_features!(detect!()),
        #[cfg(not(target_arch = "x86_64"))]
        vaes_avx512: false,
        #[cfg(target_arch = "aarch64")]
        neon: neon_features!(detect!()),
        #[cfg(not(target_arch = "aarch64"))]
        neon: false,
    })
}

/// Proof that the CPU has AES-NI and PCLMULQDQ (and SSE4.1).
#[derive(Clone, Copy, Debug)]
pub struct AesClmul(());

impl AesClmul {
    /// The token, when this CPU can run the `aesni-clmul` backend.
    pub fn get() -> Option<Self> {
        detected().aes_clmul.then_some(AesClmul(()))
    }
}

/// Proof that the CPU has AES-NI, PCLMULQDQ and AVX, and the OS saves the
/// ymm state: the VEX-encoded instance of the `aesni-clmul` kernel runs.
#[derive(Clone, Copy, Debug)]
pub struct AesClmulAvx(());

impl AesClmulAvx {
    /// The token, when this CPU can run the AVX instance of `aesni-clmul`.
    pub fn get() -> Option<Self> {
        detected().aes_clmul_avx.then_some(AesClmulAvx(()))
    }
}

/// Proof that the CPU has VAES, VPCLMULQDQ and AVX2, and the OS saves ymm state.
#[derive(Clone, Copy, Debug)]
pub struct VaesAvx2(());

impl VaesAvx2 {
    /// The token, when this CPU can run the `vaes-avx2` backend.
    pub fn get() -> Option<Self> {
        detected().vaes_avx2.then_some(VaesAvx2(()))
    }

    /// Every `vaes-avx2` CPU can also run `aesni-clmul` (its list is a subset).
    pub fn aes_clmul(self) -> AesClmul {
        AesClmul(())
    }
}

/// Proof that the CPU has VAES and VPCLMULQDQ on 512-bit registers
/// (AVX512F, AVX512BW, AVX512VL), and the OS saves the opmask and zmm state.
#[derive(Clone, Copy, Debug)]
pub struct VaesAvx512(());

impl VaesAvx512 {
    /// The token, when this CPU can run the `vaes-avx512` backend.
    pub fn get() -> Option<Self> {
        detected().vaes_avx512.then_some(VaesAvx512(()))
    }

    /// Every `vaes-avx512` CPU can also run `vaes-avx2` (its list is a subset).
    pub fn vaes_avx2(self) -> VaesAvx2 {
        VaesAvx2(())
    }
}

/// Whether 512-bit registers cost this CPU more clock than they gain: Intel
/// family 6 models 85 (Skylake server, Cascade Lake, Cooper Lake), 106 and
/// 108 (Ice Lake server), 125 and 126 (Ice Lake client), 140 and 141 (Tiger
/// Lake) and 157 (Ice Lake NNPI), the list Linux and BoringSSL keep. There
/// `vaes-avx2` stays the default.
pub fn zmm_downclocks() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::__cpuid;
        let v = __cpuid(0);
        let intel = (v.ebx, v.edx, v.ecx) == (0x756e_6547, 0x4965_6e69, 0x6c65_746e);
        if !intel || v.eax < 1 {
            return false;
        }
        let (family, model) = family_model(__cpuid(1).eax);
        family == 6 && [85, 106, 108, 125, 126, 140, 141, 157].contains(&model)
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Family and model from CPUID leaf 1 EAX (the extended fields added as
/// the Intel and AMD manuals define them).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn family_model(eax: u32) -> (u32, u32) {
    let base_family = (eax >> 8) & 0xf;
    let base_model = (eax >> 4) & 0xf;
    let family = if base_family == 0xf {
        base_family + ((eax >> 20) & 0xff)
    } else {
        base_family
    };
    let model = if base_family == 0x6 || base_family == 0xf {
        base_model | ((eax >> 16) & 0xf) << 4
    } else {
        base_model
    };
    (family, model)
}

/// Proof that the CPU has the ARMv8 AES and PMULL instructions.
#[derive(Clone, Copy, Debug)]
pub struct Neon(());

impl Neon {
    /// The token, when this CPU can run the `neon` backend.
    pub fn get() -> Option<Self> {
        detected().neon.then_some(Neon(()))
    }
}

/// Names of the CPU features this crate looks at, with whether each was found.
pub fn feature_report() -> Vec<(&'static str, bool)> {
    #[cfg(target_arch = "x86_64")]
    let names: &[&'static str] = &[
        "sse2",
        "ssse3",
        "sse4.1",
        "aes",
        "pclmulqdq",
        "avx",
        "avx2",
        "vaes",
        "vpclmulqdq",
        "avx512f",
        "avx512bw",
        "avx512vl",
    ];
    #[cfg(target_arch = "aarch64")]
    let names: &[&'static str] = &["neon", "aes"];
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let names: &[&'static str] = &[];
    names.iter().map(|&n| (n, has(n))).collect()
}

/// Asks the CPU to bring the cache lines of `len` bytes at `p` toward its
/// caches: a hint, with no effect a program can observe, so any address
/// will do (one not mapped is ignored). A no-op off x86_64.
///
/// For batches over many connections, whose keys and buffers are cold:
/// the next connection's lines are on their way while this one is worked.
#[inline]
pub(crate) fn prefetch(p: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        if len == 0 {
            return;
        }
        let first = p as usize & !63;
        let last = (p as usize).wrapping_add(len - 1) & !63;
        let mut line = first;
        while line <= last {
            // SAFETY: PREFETCHT0 (SSE, in the x86_64 baseline) is a hint:
            // it never faults and never changes memory, whatever the
            // address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line as *const i8) };
            line += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, len);
}

/// [`prefetch`] of the bytes of `v`.
#[inline]
pub(crate) fn prefetch_val<T: ?Sized>(v: &T) {
    prefetch((v as *const T).cast(), core::mem::size_of_val(v));
}

#[cfg(test)]
mod tests {
    use super::family_model;

    #[test]
    fn family_and_model_from_cpuid_leaf_1() {
        // Ice Lake server (family 6, model 106: 0x606a6), Sapphire Rapids
        // (model 143: 0x806f8), AMD Zen 4 (family 25, model 17: 0xa10f11).
        assert_eq!(family_model(0x0006_06a6), (6, 106));
        assert_eq!(family_model(0x0008_06f8), (6, 143));
        assert_eq!(family_model(0x00a1_0f11), (25, 17));
    }
}
