//! CPU feature detection, done once, and the zero-sized proof tokens that only
//! this module can build.
//!
//! Holding an [`AesClmul`], [`VaesAvx2`] or [`Neon`] value proves that the CPU
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
    ];
    #[cfg(target_arch = "aarch64")]
    let names: &[&'static str] = &["neon", "aes"];
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let names: &[&'static str] = &[];
    names.iter().map(|&n| (n, has(n))).collect()
}
