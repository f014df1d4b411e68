#!/usr/bin/env python3
"""Table of the last criterion run of the `aead` bench with peers
(`cargo bench --features peers --bench aead`): median time per record of one
backend and one peer, GB/s, and the ratio peer time / backend time (>1: the
backend is faster). Reads criterion's estimates under target/criterion (or
$CARGO_TARGET_DIR/criterion).

Usage: python3 scripts/criterion_ratio.py [BACKEND [PEER]]   (default vaes-avx2 ring)

Criterion times one implementation after the other, for seconds each, so on
a shared machine these ratios are noisier than those of
`cargo bench --features peers --bench aead -- ab` (alternating rounds)."""
import json, os, sys

ours = sys.argv[1] if len(sys.argv) > 1 else "vaes-avx2"
peer = sys.argv[2] if len(sys.argv) > 2 else "ring"
root = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")
rows = []
for bits in (128, 256):
    for op in ("seal", "open"):
        group = f"aead_aes{bits}gcm_{op}"
        for size in (16, 64, 256, 1024, 1420, 8192, 16384):
            t = {}
            for impl in (ours, peer):
                path = os.path.join(root, group, impl, str(size), "new", "estimates.json")
                if not os.path.exists(path):
                    break
                with open(path) as f:
                    t[impl] = json.load(f)["median"]["point_estimate"]
            if len(t) == 2:
                rows.append((f"aes{bits}gcm/{op}", size, t[ours], t[peer]))
if not rows:
    sys.exit(f"no criterion estimates for {ours} and {peer} under {root}")
print(f"{'group':<16}{'size':>6}{ours + ' ns':>14}{peer + ' ns':>14}{ours + ' GB/s':>16}{peer + ' GB/s':>16}{'ratio':>7}")
for g, size, v, r in rows:
    print(f"{g:<16}{size:>6}{v:>14.1f}{r:>14.1f}{size / v:>16.2f}{size / r:>16.2f}{r / v:>7.2f}")
