#!/usr/bin/python3
"""The score table of tools/build_synth_model.sh (docs/models/synth.md): per test set, the ATT model
on the learned embedder's features and on logmel-stats, macro AUC, mAP and 1 s segment F1.

    /usr/bin/python3 tools/synth_model_table.py OUT
reads OUT/eval-{cnn,stats}-SET.json (`tutti eval --json`) and OUT/loc-...json (`tutti localize
--strong ... --json`). Standard library only.
"""
import json
import os
import sys

SETS = [
    ("mma_test_fluid", "mma arrangements, FluidR3 (unseen font)"),
    ("comp_test_fluid", "composer, FluidR3 (unseen font)"),
    ("mma_test_pool", "mma arrangements, training fonts (unseen pieces)"),
    ("comp_test_pool", "composer, training fonts (unseen pieces)"),
]
FEATURES = [("cnn", "logmel-cnn (shipped)"), ("stats", "logmel-stats")]


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def fmt(x):
    return "-" if x is None else f"{x:.3f}"


def main():
    out = sys.argv[1]
    print("| test set | features | clips | macro AUC | mAP | segment F1 (1 s) |")
    print("|---|---|---|---|---|---|")
    for s, label in SETS:
        for e, name in FEATURES:
            ev = load(os.path.join(out, f"eval-{e}-{s}.json"))
            lo = load(os.path.join(out, f"loc-{e}-{s}.json"))
            if ev is None:
                continue
            seg = (lo or {}).get("segment", {})
            print(f"| {label} | {name} | {ev.get('n_clips', ev.get('clips', '-'))} | "
                  f"{fmt(ev.get('auc'))} | {fmt(ev.get('mAP'))} | {fmt(seg.get('f1'))} |")


if __name__ == "__main__":
    main()
