#!/usr/bin/python3
"""Concatenate bag datasets (.npz written by `tutti embed` / `tutti synth --embed`) into one.

    /usr/bin/python3 tools/merge_bags.py OUT.npz NAME=A.npz NAME=B.npz ...

Every input must have the same classes and embedder. Clip keys become NAME/key (two synth folders
both have synth_000000.wav). Bags are padded with zeros to the longest (n_instances says how many
instances are real). Written to OUT.npz.tmp and renamed, so a failure leaves no partial file.
"""
import os
import sys

import numpy as np


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: merge_bags.py OUT.npz NAME=IN.npz ...")
    out = sys.argv[1]
    parts = []
    for arg in sys.argv[2:]:
        name, sep, path = arg.partition("=")
        if not sep or not name or not path:
            sys.exit(f"merge_bags: {arg}: expected NAME=FILE.npz")
        z = np.load(path)
        parts.append((name, path, {k: z[k] for k in z.files}))
    first = parts[0][2]
    for name, path, z in parts[1:]:
        if list(z["classes"]) != list(first["classes"]):
            sys.exit(f"merge_bags: {path}: classes differ from {parts[0][1]}")
        if str(z["embedder"]) != str(first["embedder"]):
            sys.exit(f"merge_bags: {path}: embedder {z['embedder']} differs from {first['embedder']}")
    K = max(z["X"].shape[1] for _, _, z in parts)

    def pad(a):
        widths = [(0, 0), (0, K - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
        return np.pad(a, widths)

    merged = {
        "X": np.concatenate([pad(z["X"]) for _, _, z in parts]),
        "n_instances": np.concatenate([z["n_instances"] for _, _, z in parts]),
        "Y_true": np.concatenate([z["Y_true"] for _, _, z in parts]),
        "Y_mask": np.concatenate([z["Y_mask"] for _, _, z in parts]),
        "sample_key": np.array([f"{n}/{k}" for n, _, z in parts for k in z["sample_key"]]),
        "classes": first["classes"],
        "embedder": first["embedder"],
    }
    if all("Y_instance" in z for _, _, z in parts):
        merged["Y_instance"] = np.concatenate([pad(z["Y_instance"]) for _, _, z in parts])
    tmp = out + ".tmp.npz"
    np.savez(tmp, **merged)
    os.replace(tmp, out)
    print(f"{out}: {len(merged['sample_key'])} clips, K = {K}", file=sys.stderr)


if __name__ == "__main__":
    main()
