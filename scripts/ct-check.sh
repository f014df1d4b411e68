#!/usr/bin/env bash
# Constant-time check: runs tests/ct_check.rs (release build) under valgrind
# memcheck with the key, plaintext and AAD marked undefined, so memcheck
# reports every branch and memory address computed from them. Exits non-zero
# on any report.
#
# First it shows that the check can fail: the program is run with a
# deliberate key-dependent branch, then a key-dependent table index (both in
# the check program, never in the library), and each must be reported.
#
#   bash scripts/ct-check.sh          # self-test, then the check
#   bash scripts/ct-check.sh --quick  # the check only
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
  echo "ct-check: valgrind is not installed (Debian: apt-get install valgrind)" >&2
  exit 2
fi

echo "== ct-check: building tests/ct_check.rs (release)"
build=$(cargo test --release --test ct_check --no-run 2>&1) || {
  echo "$build" >&2
  exit 2
}
exe=$(echo "$build" | sed -n 's/^ *Executable .*(\(.*\))$/\1/p' | tail -n 1)
if [ -z "$exe" ] || [ ! -x "$exe" ]; then
  echo "$build" >&2
  echo "ct-check: could not find the ct_check executable" >&2
  exit 2
fi

vg=(valgrind --error-exitcode=1 --track-origins=yes
  --suppressions=scripts/ct-check.supp)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ "${1:-}" != "--quick" ]; then
  # mode, and the memcheck report it must produce inside ct_check::inject
  for probe in "branch:Conditional jump or move depends on uninitialised value" \
    "index:Use of uninitialised value of size 8"; do
    mode=${probe%%:*}
    want=${probe#*:}
    echo "== ct-check self-test: a deliberate key-dependent $mode must be reported"
    if SEALWIRE_CT_INJECT=$mode "${vg[@]}" "$exe" >"$log" 2>&1; then
      cat "$log"
      echo "ct-check: FAIL: the injected $mode was not reported" >&2
      exit 1
    fi
    # The frame is `ct_check::inject`, or `inject` when inlined into main.
    if ! grep -A1 "$want" "$log" | grep -qE ': (ct_check::)?inject \('; then
      cat "$log"
      echo "ct-check: FAIL: the run failed, but not with '$want' in ct_check::inject" >&2
      exit 1
    fi
    echo "   reported: $want (in ct_check::inject)"
  done
fi

echo "== ct-check: memcheck with secret key, plaintext and AAD"
start=$SECONDS
status=0
"${vg[@]}" "$exe" || status=$?
echo "== ct-check: $((SECONDS - start)) s under valgrind"
if [ "$status" -ne 0 ]; then
  echo "ct-check: FAIL: memcheck reported a secret-dependent branch or address (above)" >&2
  exit 1
fi
echo "ct-check: clean"
