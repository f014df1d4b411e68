#!/usr/bin/env bash
# Builds sealwire for aarch64-unknown-linux-gnu with Debian's Rust toolchain
# and runs the single-threaded aarch64 check under qemu-user (see
# ../shared/DESIGN.md, "Checking the aarch64 backend on an x86_64 machine").
set -euo pipefail
cd "$(dirname "$0")/.."

apt_opts=(-y -q -o DPkg::Lock::Timeout=600)
need_pkgs=(rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu
    libc6-dev-arm64-cross qemu-user)

missing=()
for p in "${need_pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "test-aarch64: installing ${missing[*]}"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get "${apt_opts[@]}" update
    apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
fi
