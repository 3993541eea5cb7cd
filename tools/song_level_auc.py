#!/usr/bin/python3
"""Macro AUC per song instead of per clip, for a set rendered with `tutti synth --midi --midi-split`.

A song's score for a class is the maximum of its clips' probabilities (`tutti predict` output);
its label is the union of its clips' labels (labels.csv, relevance 1). scikit-learn's
roc_auc_score per class, over the classes that some but not all songs have; the macro mean.

  tools/song_level_auc.py SET_DIR PREDICTIONS.npz [PREDICTIONS.npz ...]
    SET_DIR: the synth output folder (clips.csv: file -> source song; labels.csv)
Runs under /usr/bin/python3 (Debian's python3-numpy and python3-sklearn).
"""
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    set_dir = Path(sys.argv[1])
    with open(set_dir / "clips.csv", newline="") as f:
        song_of = {row["file"]: row["source"] for row in csv.DictReader(f)}
    positives = defaultdict(set)
    with open(set_dir / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["relevance"] == "1":
                positives[song_of[row["file"]]].add(row["instrument"])
    songs = sorted(set(song_of.values()))
    for path in sys.argv[2:]:
        p = np.load(path)
        classes = [str(c) for c in p["classes"]]
        scores = defaultdict(lambda: np.zeros(len(classes)))
        for key, s in zip(p["sample_key"], p["scores"]):
            song = song_of[str(key)]
            scores[song] = np.maximum(scores[song], s)
        y = np.array([[c in positives[s] for c in classes] for s in songs])
        x = np.array([scores[s] for s in songs])
        used = [j for j in range(len(classes)) if 0 < y[:, j].sum() < len(songs)]
        aucs = [roc_auc_score(y[:, j], x[:, j]) for j in used]
        print(f"{path}: {len(songs)} songs, {len(used)} classes, macro AUC {np.mean(aucs):.3f}")


if __name__ == "__main__":
    main()
