#!/usr/bin/env bash
# Builds sealwire for aarch64-unknown-linux-gnu with Debian's Rust toolchain
# and runs the aarch64 check under qemu-user (../shared/DESIGN.md, "Checking
# the aarch64 backend on an x86_64 machine"):
#
#   1. `sealwire backends` must show neon as the default (Backend::best()).
#   2. `sealwire selftest --backend neon --differential N --threads 1`: every
#      NIST vector in vectors/ on neon, N random cases on neon against the
#      aes-gcm crate and aws-lc-rs (README, "Differential check": key sizes
#      128/192/256, IVs of 1..128 bytes, AAD 0..600, text 0..70000 bytes at
#      every alignment, truncated tags, a tampered open each), N/8 batch
#      cases, and the counter-wrap cases (J0 chosen just below 2^32 via
#      solved 16-byte nonces), all on the main thread.
#   3. `sealwire selftest`: the NIST vectors on every backend there.
#
# Everything under qemu runs on one thread: a second thread hangs under
# qemu-user here, so neither libtest nor rayon can run.
#
# Usage: scripts/test-aarch64.sh [CASES]   (default 3000 random cases)
# Needs root (or sudo) the first time, to install the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-3000}"
start=$SECONDS

# --- Debian packages (installed only when missing) -------------------------
need_pkgs=(rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu
    libc6-dev-arm64-cross qemu-user)
missing=()
for p in "${need_pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "== test-aarch64: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        $SUDO dpkg --add-architecture arm64
    fi
    apt_opts=(-y -q -o DPkg::Lock::Timeout=600)
    $SUDO apt-get "${apt_opts[@]}" update
    $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
fi

# --- Build with Debian's cargo/rustc, apart from the rustup toolchain ------
# Its own target dir, so the rustup toolchain's target/debug and
# target/release are never touched. Only the `sealwire` binary is built, so
# the dev-dependencies (ring, criterion, ...) need not build for aarch64.
# --locked: the checked-in Cargo.lock is used as is.
target=aarch64-unknown-linux-gnu
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_DIR="$PWD/target/aarch64"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export RUSTFLAGS="-D warnings"
unset RUSTC_WRAPPER CARGO_BUILD_TARGET CARGO_ENCODED_RUSTFLAGS
echo "== test-aarch64: $(/usr/bin/cargo --version), $(/usr/bin/rustc --version)"
/usr/bin/cargo build --locked --release --target "$target" --bin sealwire
bin="$CARGO_TARGET_DIR/$target/release/sealwire"
build_done=$SECONDS

# --- Run under qemu-user -----------------------------------------------------
qemu=(timeout 900 qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu)
failed=0
passed=0
step() {
    local name=$1
    shift
    echo "== test-aarch64: $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "test-aarch64: FAILED: $name"
        failed=$((failed + 1))
    fi
}

best_is_neon() {
    local out
    out=$("${qemu[@]}" "$bin" backends) || return 1
    echo "$out"
    grep -Eq '^  neon  \(default\)$' <<<"$out"
}

step "Backend::best() is neon" best_is_neon
step "neon: NIST vectors, $cases random cases vs aes-gcm and aws-lc-rs, counter wrap" \
    "${qemu[@]}" "$bin" selftest --backend neon --differential "$cases" --threads 1 \
    --vectors vectors
step "NIST vectors on every backend" "${qemu[@]}" "$bin" selftest --vectors vectors

echo "test-aarch64: build $((build_done - start)) s, checks $((SECONDS - build_done)) s" \
    "(qemu timings are emulation, not performance figures)"
echo "test-aarch64: $passed passed, $failed failed"
[ "$failed" = 0 ]
