#!/usr/bin/env bash
# Fails when the CPU supports a backend that `sealwire backends` does not
# list as available. The CPU's features are read from /proc/cpuinfo, never
# from sealwire's own detection, so a detection bug that hides a backend (a
# missed CPUID bit, a feature list that asks for too much) fails CI instead
# of silently running a slower backend.
#
# Usage: bash scripts/check-backends.sh [CPUINFO_FILE]
#   CPUINFO_FILE  the cpuinfo text to read (default /proc/cpuinfo); a faked
#                 file shows that the check fails when a backend is missing.
#   SEALWIRE_BIN  the sealwire binary to ask (default: built with
#                 `cargo build --release`).
#
# The architecture is the cpuinfo file's: x86 kernels print a `flags` line,
# aarch64 kernels a `Features` line.
set -euo pipefail
cd "$(dirname "$0")/.."

cpuinfo=${1:-/proc/cpuinfo}

# One line per backend: architecture, backend name, the cpuinfo flags that
# must all be present. The flags match the feature lists in src/cpu.rs
# (cpuinfo spells sse4.1 as sse4_1 and calls NEON asimd; sealwire's neon
# backend needs aes and pmull). Backends that this build of sealwire does
# not know are reported and not checked.
rules=(
  "x86_64  aesni-clmul  sse2 ssse3 sse4_1 aes pclmulqdq"
  "x86_64  vaes-avx2    sse2 ssse3 sse4_1 aes pclmulqdq avx avx2 vaes vpclmulqdq"
  "x86_64  vaes-avx512  sse2 ssse3 sse4_1 aes pclmulqdq avx avx2 avx512f avx512bw avx512vl vaes vpclmulqdq"
  "aarch64 neon         asimd aes pmull"
)

if [ ! -r "$cpuinfo" ]; then
  echo "check-backends: cannot read $cpuinfo" >&2
  exit 2
fi
if line=$(grep -m1 -E '^flags[[:space:]]*:' "$cpuinfo"); then
  arch=x86_64
elif line=$(grep -m1 -E '^Features[[:space:]]*:' "$cpuinfo"); then
  arch=aarch64
else
  echo "check-backends: no 'flags' or 'Features' line in $cpuinfo" >&2
  exit 2
fi
flags=" ${line#*:} "

if [ -n "${SEALWIRE_BIN:-}" ]; then
  bin=$SEALWIRE_BIN
else
  cargo build --release --quiet
  bin=./target/release/sealwire
fi
out=$("$bin" backends)

# The available backends: the indented lines after the heading, up to the
# next unindented line. The known ones: those plus "not available here: a, b".
available=$(awk '/^backends this CPU can run/ { on = 1; next }
                 on && /^  / { print $1; next }
                 on { exit }' <<<"$out")
unavailable=$(sed -n 's/^not available here: //p' <<<"$out" | tr -d ' ' | tr ',' '\n')
if [ -z "$available" ]; then
  echo "check-backends: no backend list in the output of '$bin backends':" >&2
  echo "$out" >&2
  exit 2
fi
known=$(printf '%s\n%s\n' "$available" "$unavailable")

has_flag() { [[ $flags == *" $1 "* ]]; }
listed() { grep -qx -- "$1" <<<"$2"; }

echo "check-backends: $cpuinfo ($arch) against '$bin backends'"
fail=0
for rule in "${rules[@]}"; do
  read -r rule_arch name need <<<"$rule"
  [ "$rule_arch" = "$arch" ] || continue
  if ! listed "$name" "$known"; then
    echo "  $name: not a backend of this build, not checked"
    continue
  fi
  missing=()
  for f in $need; do
    has_flag "$f" || missing+=("$f")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    if listed "$name" "$available"; then
      echo "  $name: cpu has $need; listed"
    else
      echo "  FAIL $name: the cpu has every flag it needs ($need) but sealwire does not list it" >&2
      fail=1
    fi
  elif listed "$name" "$available"; then
    # Kernels older than the flag's name do not print it, so this is a
    # warning: sealwire reads CPUID directly.
    echo "  WARNING $name: listed, but $cpuinfo lacks ${missing[*]}" >&2
  else
    echo "  $name: cpu lacks ${missing[*]}; not listed"
  fi
done
if [ $fail -ne 0 ]; then
  echo "check-backends: FAILED: a backend this CPU supports is missing from 'sealwire backends'" >&2
  echo "$out" >&2
  exit 1
fi
echo "check-backends: ok"
