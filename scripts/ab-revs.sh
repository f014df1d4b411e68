#!/usr/bin/env bash
# Old against new in one process: links the AES-GCM engine of revision OLD
# (a git revision of this repository) and of the working tree into one
# program (scripts/ab_revs/main.rs) and times them in alternating rounds.
#
# Usage: scripts/ab-revs.sh OLD [ROUNDS [FILTER]]
#   e.g. scripts/ab-revs.sh main 101            every cell, 101 rounds
#        scripts/ab-revs.sh HEAD~3 301 "seal aes"
# The program runs on one core (taskset -c 1) at the highest priority it may
# take (nice -20 as root), so other work on the machine disturbs it less.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
old="${1:?usage: ab-revs.sh OLD [ROUNDS [FILTER]]}"
rounds="${2:-101}"
filter="${3:-}"
rev="$(git -C "$root" rev-parse "$old")"
dir="${TMPDIR:-/tmp}/sealwire-ab-revs"
mkdir -p "$dir"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "ab-revs"
version = "0.0.0"
edition = "2021"

[[bin]]
name = "ab-revs"
path = "$root/scripts/ab_revs/main.rs"

[dependencies]
old = { package = "sealwire", git = "file://$root", rev = "$rev" }
new = { package = "sealwire", path = "$root" }
bytes = "1"

[profile.release]
codegen-units = 1
debug = 1
TOML
echo "ab-revs: old = $rev, new = the working tree at $root"
grep -m1 "model name" /proc/cpuinfo || true
cargo build --release --manifest-path "$dir/Cargo.toml" --target-dir "$dir/target"
nice_cmd=()
[ "$(id -u)" = 0 ] && nice_cmd=(nice -n -20)
"${nice_cmd[@]}" taskset -c 1 "$dir/target/release/ab-revs" "$rounds" "$filter"
