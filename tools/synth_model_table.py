#!/usr/bin/python3
"""The score table of tools/build_synth_model.sh (docs/models/synth.md): per test set, the shipped bag
model and ATT on the learned embedder's features and ATT on logmel-stats, macro AUC, mAP and 1 s
segment F1.

    /usr/bin/python3 tools/synth_model_table.py OUT
reads OUT/eval-{ship,cnn,stats}-SET.json (`tutti eval --json`) and OUT/loc-...json (`tutti localize
--strong ... --json`). Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generalization_table import f3, load  # noqa: E402

SETS = [
    ("mma_test_fluid", "mma arrangements, FluidR3 (unseen font)"),
    ("comp_test_fluid", "composer, FluidR3 (unseen font)"),
    ("mma_test_pool", "mma arrangements, training fonts (unseen pieces)"),
    ("comp_test_pool", "composer, training fonts (unseen pieces)"),
    ("openmsx_test_fluid", "OpenMSX songs (source never in training), FluidR3 (unseen font)"),
]
FEATURES = [("ship", "logmel-cnn, shipped ATT (two blocks, mixup)"),
            ("cnn", "logmel-cnn, ATT"), ("stats", "logmel-stats, ATT")]


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
                  f"{f3(ev.get('auc'))} | {f3(ev.get('mAP'))} | {f3(seg.get('f1'))} |")


if __name__ == "__main__":
    main()
