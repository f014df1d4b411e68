#!/usr/bin/env python3
"""Table of the last `cargo bench --bench vaes_vs_ring` run: median time per
record, GB/s, and the ratio ring time / vaes-avx2 time (>1: vaes-avx2 faster).
Reads criterion's estimates under target/criterion (or $CARGO_TARGET_DIR)."""
import json, os, sys

root = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")
rows = []
for bits in (128, 256):
    for op in ("seal", "open"):
        group = f"aes{bits}-gcm-{op}"
        for size in (64, 1420, 16384):
            t = {}
            for impl in ("vaes-avx2", "ring"):
                path = os.path.join(root, group, impl, str(size), "new", "estimates.json")
                if not os.path.exists(path):
                    break
                with open(path) as f:
                    t[impl] = json.load(f)["median"]["point_estimate"]
            if len(t) == 2:
                rows.append((group, size, t["vaes-avx2"], t["ring"]))
print(f"{'group':<16}{'size':>6}{'vaes ns':>10}{'ring ns':>10}{'vaes GB/s':>11}{'ring GB/s':>11}{'ratio':>7}")
for g, size, v, r in rows:
    print(f"{g:<16}{size:>6}{v:>10.1f}{r:>10.1f}{size / v:>11.2f}{size / r:>11.2f}{r / v:>7.2f}")
