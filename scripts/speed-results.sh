#!/usr/bin/env bash
# Regenerates the README's "Results" section on this machine: runs
# `sealwire speed` with the peers, writes docs/speed.json and docs/speed.svg,
# and replaces the text between the speed-results markers in README.md.
# Usage: bash scripts/speed-results.sh [extra sealwire speed options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
args=(speed --peers --op both --json docs/speed.json --svg docs/speed.svg "$@")
cargo build --release --features peers
out=$(./target/release/sealwire "${args[@]}" | grep -v '^wrote ')
cmd="cargo run --release --features peers -- ${args[*]}"
batch_args=(speed --peers --connections 64 --sizes 16,64,256,1420)
batch_out=$(./target/release/sealwire "${batch_args[@]}" | sed -n '/^seal: GB\/s/,/^$/p')
batch_cmd="cargo run --release --features peers -- ${batch_args[*]}"
block=$(mktemp)
{
  echo '<!-- speed-results:start -->'
  cpu=$(grep -m1 '^  cpu:' <<<"$out" | sed 's/^  cpu: //; s/, features:.*//')
  clock=$(grep -m1 '^  clock:' <<<"$out" | sed 's/^  clock: //; s/,.*//')
  echo "Measured on the project's development machine, $cpu at $clock"
  echo "(the clock as the tool measured it), with:"
  echo
  echo '```sh'
  echo "$cmd"
  echo '```'
  echo
  echo '```text'
  echo "$out"
  echo '```'
  echo
  echo '![AES-GCM throughput against record size, one line per backend and peer](docs/speed.svg)'
  echo
  echo 'The batch path: one record for each of 64 connections (own keys) per round,'
  echo 'sealwire through `aead::seal_batch`, the peers in a loop over the connections:'
  echo
  echo '```sh'
  echo "$batch_cmd"
  echo '```'
  echo
  echo '```text'
  echo "$batch_out"
  echo '```'
  echo '<!-- speed-results:end -->'
} >"$block"
awk -v block="$block" '
  /<!-- speed-results:start -->/ { while ((getline line < block) > 0) print line; skip = 1; next }
  /<!-- speed-results:end -->/   { skip = 0; next }
  !skip { print }
' README.md >README.md.new
mv README.md.new README.md
rm -f "$block"
echo "README.md, docs/speed.json and docs/speed.svg updated"
