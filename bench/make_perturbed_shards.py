"""Writes a large bag dataset as shards by perturbing a small one (bench/stream_2m.sh).

Clip j of the output is clip j mod N of the source with every real instance's uint8 features
moved by an independent integer offset in [-4, 4] (clipped to [0, 255]) and the source's labels:
a set of the source's statistics at any size, written once, in shards that `tutti train --train`
streams. Shards are numpy.savez files (stored entries, readable in place).

Usage: make_perturbed_shards.py SOURCE.npz OUT_DIR CLIPS SHARDS [SEED]
"""
import os
import sys

import numpy as np


def main():
    src, out, clips, shards = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    d = np.load(src)
    x, y, m = d["X"], d["Y_true"].astype(np.float32), d["Y_mask"].astype(bool)
    n, k, dim = x.shape
    ni = d["n_instances"].astype(np.int32) if "n_instances" in d.files else np.full(n, k, np.int32)
    classes = d["classes"]
    embedder = d["embedder"] if "embedder" in d.files else np.array("vggish")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    real = np.arange(k)[None, :] < ni[:, None]  # [N, K] real instances
    for s in range(shards):
        lo, hi = clips * s // shards, clips * (s + 1) // shards
        rows = np.arange(lo, hi) % n
        noise = rng.integers(-4, 5, size=(hi - lo, k, dim), dtype=np.int16)
        xs = np.clip(x[rows].astype(np.int16) + noise, 0, 255).astype(np.uint8)
        xs[~real[rows]] = 0
        name = os.path.join(out, f"shard-{s:05d}-of-{shards:05d}.npz")
        tmp = name + ".tmp.npz"
        np.savez(tmp, X=xs, n_instances=ni[rows], Y_true=y[rows], Y_mask=m[rows],
                 sample_key=np.array([f"p{j}" for j in range(lo, hi)]), classes=classes,
                 embedder=embedder)
        os.replace(tmp, name)
        print(f"{name}: {hi - lo} clips", file=sys.stderr)


if __name__ == "__main__":
    main()
