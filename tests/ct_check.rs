//! Constant-time check: no branch and no memory address depends on the key
//! or the data.
//!
//! Run under valgrind memcheck by `scripts/ct-check.sh`. The secrets (key
//! bytes, plaintext, AAD) are marked *undefined* through memcheck's client
//! requests; memcheck then tracks everything computed from them and reports
//! any conditional jump or move that depends on such a value ("Conditional
//! jump or move depends on uninitialised value(s)") and any load or store
//! whose address does ("Use of uninitialised value of size 8"). What is
//! public by design is marked defined again before it is used: the
//! ciphertext and tag after a seal (they go on the wire), the plaintext
//! after an open (the caller's), and the verdict of the tag comparison (the
//! caller learns whether a message authenticated), which
//! `scripts/ct-check.supp` names. Lengths and nonces are public.
//!
//! What runs, for AES-128, -192 and -256:
//!
//! - `portable`: key setup, seal and open (and a tampered open) at lengths
//!   around every block and chunk boundary, with 96-bit and other nonces
//!   (J0 through GHASH);
//! - every other backend this CPU shows under valgrind (`aesni-clmul`,
//!   `rustcrypto` on x86_64): key setup, and the same seal and open. Their
//!   data paths use the AES and carry-less multiply instructions, whose
//!   timing does not depend on their operands, and memcheck confirms that
//!   no branch or address around them does;
//! - `vaes-avx2` cannot run under valgrind (its CPUID hides VAES and
//!   VPCLMULQDQ, and VEX does not decode them), so under valgrind its key
//!   setup is reported as not checked.
//!
//! Outside valgrind the client requests do nothing: the program then runs
//! the same cases as a functional check and says that memcheck was not
//! watching. `SEALWIRE_CT_INJECT=branch` or `=index` adds a deliberate
//! key-dependent branch or table index in this program (never in the
//! library), which memcheck must report: the script checks that it does.

use sealwire::aead::{AesGcm, Backend};
use std::hint::black_box;
use std::process::ExitCode;

/// Valgrind client requests (valgrind.h, memcheck.h), written out for
/// x86_64: the "special instruction" sequence valgrind recognises, with
/// the request and its arguments in memory at `rax` and the result in
/// `rdx`. On a CPU (no valgrind) the sequence changes nothing and `rdx`
/// keeps the default.
mod vg {
    const RUNNING_ON_VALGRIND: usize = 0x1001;
    const COUNT_ERRORS: usize = 0x1201;
    /// `VG_USERREQ_TOOL_BASE('M', 'C')` + 1 and + 2.
    const MAKE_MEM_UNDEFINED: usize = 0x4d43_0001;
    const MAKE_MEM_DEFINED: usize = 0x4d43_0002;

    #[cfg(target_arch = "x86_64")]
    fn request(default: usize, req: usize, a1: usize, a2: usize) -> usize {
        let args: [usize; 6] = [req, a1, a2, 0, 0, 0];
        let mut result = default;
        // SAFETY: the four rotations of rdi add up to 128 bits, so rdi is
        // unchanged (it is declared clobbered anyway), and `xchg rbx, rbx`
        // swaps a register with itself: on a CPU the sequence has no
        // effect. Under valgrind the core reads the six words at rax, which
        // `args` provides for the duration of the asm, and writes the result
        // to rdx; the memcheck requests used here only change memcheck's
        // shadow state of memory the caller owns.
        unsafe {
            core::arch::asm!(
                "rol rdi, 3",
                "rol rdi, 13",
                "rol rdi, 61",
                "rol rdi, 51",
                "xchg rbx, rbx",
                inout("rdx") result,
                in("rax") args.as_ptr(),
                inout("rdi") 0usize => _,
            );
        }
        result
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn request(default: usize, _req: usize, _a1: usize, _a2: usize) -> usize {
        default
    }

    /// Whether the program runs under valgrind.
    pub fn running() -> bool {
        request(0, RUNNING_ON_VALGRIND, 0, 0) != 0
    }

    /// Errors valgrind has reported so far (suppressed ones not counted).
    pub fn errors() -> usize {
        request(0, COUNT_ERRORS, 0, 0)
    }

    /// Marks `bytes` as secret: memcheck reports any branch or address
    /// computed from them.
    pub fn secret(bytes: &[u8]) {
        request(0, MAKE_MEM_UNDEFINED, bytes.as_ptr() as usize, bytes.len());
    }

    /// Marks `bytes` as public again (declassified).
    pub fn public(bytes: &[u8]) {
        request(0, MAKE_MEM_DEFINED, bytes.as_ptr() as usize, bytes.len());
    }
}

/// Plaintext lengths: around the block, the 4-block chunk of `portable`,
/// and the strides of the SIMD kernels.
const LENGTHS: [usize; 18] = [
    0, 1, 15, 16, 17, 31, 32, 63, 64, 65, 127, 128, 129, 255, 256, 257, 300, 1037,
];
/// AAD lengths, one per case in turn.
const AADS: [usize; 5] = [0, 13, 16, 17, 40];

/// Deterministic bytes (no RNG crate needed; the values do not matter,
/// only that memcheck sees them as secret).
fn bytes(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A deliberate secret-dependent branch or table index, to show that the
/// check catches one.
fn inject(mode: &str, key: &[u8]) {
    static TABLE: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = (i as u8).wrapping_mul(7);
            i += 1;
        }
        t
    };
    match mode {
        "branch" => {
            if key[0] & 1 == 1 {
                taken();
            }
        }
        "index" => {
            black_box(black_box(&TABLE)[key[0] as usize]);
        }
        other => panic!("SEALWIRE_CT_INJECT={other:?}: expected branch or index"),
    }
}

#[inline(never)]
fn taken() {
    black_box(());
}

/// Which nonces a pass uses: 96-bit ones (J0 = IV || 1, public) or other
/// lengths (J0 = GHASH_H(IV), derived from the key).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ivs {
    Bits96,
    Other,
}

impl Ivs {
    fn name(self) -> &'static str {
        match self {
            Ivs::Bits96 => "96-bit IVs",
            Ivs::Other => "8- and 60-byte IVs",
        }
    }

    fn nonce_len(self, i: usize) -> usize {
        match self {
            Ivs::Bits96 => 12,
            Ivs::Other if i.is_multiple_of(2) => 8,
            Ivs::Other => 60,
        }
    }
}

/// One pass's results, declassified, for the comparison between backends.
type Outputs = Vec<(Vec<u8>, [u8; 16])>;

/// Key setup, then seal, open and a tampered open of every length on one
/// backend; returns the (declassified) ciphertexts and tags.
fn check_backend(backend: Backend, key_len: usize, ivs: Ivs) -> Outputs {
    let secret_key = bytes(key_len as u32, key_len);
    vg::secret(&secret_key);
    let k = AesGcm::with_backend(&secret_key, backend).expect("available backend");
    let mut out = Vec::new();
    for (i, &len) in LENGTHS.iter().enumerate() {
        let aad_len = AADS[i % AADS.len()];
        let nonce = bytes(i as u32 + 100, ivs.nonce_len(i));
        let pt = bytes(i as u32 + 200, len);
        let aad = bytes(i as u32 + 300, aad_len);

        let secret_aad = aad.clone();
        vg::secret(&secret_aad);
        let mut buf = pt.clone();
        vg::secret(&buf);
        let mut tag = k
            .seal_in_place_detached(&nonce, &secret_aad, &mut buf)
            .expect("lengths in range");
        // Ciphertext and tag go on the wire.
        vg::public(&buf);
        vg::public(&tag);
        let ct = buf.clone();

        k.open_in_place_detached(&nonce, &secret_aad, &mut buf, &tag)
            .unwrap_or_else(|e| panic!("{backend}: len {len}: open failed: {e}"));
        vg::public(&buf);
        assert!(buf == pt, "{backend}: len {len}: open gave other plaintext");

        buf.copy_from_slice(&ct);
        tag[i % 16] ^= 1;
        let bad = k.open_in_place_detached(&nonce, &secret_aad, &mut buf, &tag);
        tag[i % 16] ^= 1;
        vg::public(&buf);
        assert!(bad.is_err(), "{backend}: len {len}: tampered tag opened");
        assert!(buf.iter().all(|&b| b == 0), "{backend}: buffer not zeroed");
        out.push((ct, tag));
    }
    out
}

fn main() -> ExitCode {
    let under_vg = vg::running();
    if !under_vg {
        println!(
            "ct_check: not under valgrind: memcheck is not watching, so this run only checks \
             that the cases work; scripts/ct-check.sh runs the constant-time check"
        );
    }
    if let Some(mode) = std::env::var("SEALWIRE_CT_INJECT")
        .ok()
        .filter(|m| !m.is_empty())
    {
        let key = bytes(1, 16);
        vg::secret(&key);
        inject(&mode, &key);
        println!("ct_check: injected a secret-dependent {mode}: memcheck must report it");
    }

    // Portable first: its outputs are the reference for the others.
    let mut backends = Backend::available();
    backends.sort_by_key(|&b| b != Backend::Portable);
    let mut failed = Vec::new();
    for ivs in [Ivs::Bits96, Ivs::Other] {
        let mut reference = Vec::new();
        for &b in &backends {
            let before = vg::errors();
            for (n, key_len) in [16, 24, 32].into_iter().enumerate() {
                let got = check_backend(b, key_len, ivs);
                if b == Backend::Portable {
                    reference.push(got);
                } else {
                    assert!(
                        got == reference[n],
                        "{b}: AES-{}: output differs from portable",
                        key_len * 8
                    );
                }
            }
            let reports = vg::errors() - before;
            let verdict = if !under_vg {
                "not watched (no valgrind)".to_string()
            } else if reports == 0 {
                "clean".to_string()
            } else {
                failed.push(format!("{b} ({})", ivs.name()));
                format!("{reports} memcheck reports (above): secret-dependent branch or address")
            };
            println!(
                "ct_check: {b}, {}: key setup, seal, open, tampered open; AES-128/192/256; \
                 {} lengths 0..={}: {verdict}",
                ivs.name(),
                LENGTHS.len(),
                LENGTHS[LENGTHS.len() - 1]
            );
        }
    }
    for b in Backend::ALL {
        if !b.is_available() && (b != Backend::Neon || cfg!(target_arch = "aarch64")) {
            let why = if under_vg {
                "valgrind's CPUID does not show its features (and VEX cannot run them)"
            } else {
                "this CPU cannot run it"
            };
            eprintln!("ct_check: SKIPPED {b}: not checked: {why}");
        }
    }
    if under_vg {
        let errors = vg::errors();
        println!("ct_check: memcheck errors in total: {errors}");
        if !failed.is_empty() {
            println!("ct_check: NOT constant time: {}", failed.join(", "));
        }
        if errors > 0 {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
