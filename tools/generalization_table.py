#!/usr/bin/python3
"""The table of tools/generalization.sh (docs/results.md): one row per (split, held-out test set),
ATT on the split's learned embedder next to ATT on logmel-stats trained on the same clips.

    /usr/bin/python3 tools/generalization_table.py OUT
reads OUT/<split>/eval-{cnn,stats}-<set>.json and loc-...json. Standard library only.
"""
import json
import os
import re
import sys

SPLITS = [
    ("all-fluid", "all 3 training fonts, both generators -> FluidR3"),
    ("gen-comp", "composer -> mma (generator out)"),
    ("gen-mma", "mma -> composer (generator out)"),
    ("gen-comp+freedoom", "composer + Freedoom -> mma (generator out)"),
    ("gen-mma+freedoom", "mma + Freedoom -> composer (generator out)"),
    ("loso-TimGM6mb", "leave TimGM6mb out"),
    ("loso-sf_GMbank", "leave sf_GMbank out"),
    ("loso-MuseScore_General_Lite", "leave MuseScore_General_Lite out"),
]


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def f3(x):
    return "-" if x is None else f"{x:.3f}"


def main():
    out = sys.argv[1]
    print("| split | test set | clips | AUC cnn | AUC stats | Δ AUC | mAP cnn | mAP stats | "
          "seg F1 cnn | seg F1 stats |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    # The named splits in their order, then the N-rounds splits (by generator, then N), then any
    # other leave-one-font-out split (e.g. the default pool's loso-OPL-3_FM_128M), by name.
    named = [name for name, _ in SPLITS]
    dirs = [n for n in os.listdir(out) if n not in named and os.path.isdir(os.path.join(out, n))]
    generator = {"comp": ("composer", "mma"), "mma": ("mma", "composer")}
    matches = [re.fullmatch(r"gen-(comp|mma)-([1-9][0-9]*)rounds", n) for n in dirs]
    rounds = [(m.group(0), f"{generator[m.group(1)][0]}, {m.group(2)} rounds -> "
               f"{generator[m.group(1)][1]} (generator out)")
              for m in sorted(filter(None, matches), key=lambda m: (m.group(1), int(m.group(2))))]
    others = [(n, f"leave {n[len('loso-'):]} out") for n in sorted(dirs) if n.startswith("loso-")]
    for split, label in SPLITS + rounds + others:
        d = os.path.join(out, split)
        if not os.path.isdir(d):
            continue
        sets = sorted({f[len("eval-cnn-"):-len(".json")] for f in os.listdir(d)
                       if f.startswith("eval-cnn-") and f.endswith(".json")})
        for s in sets:
            row = label
            if split.startswith("gen-") and s.endswith("_fluid"):
                row = label.replace("(generator out)", "in FluidR3 (generator and font out)")
            if s.startswith("openmsx"):
                row = "third generator (never in training) in FluidR3"
                if split.startswith("gen-"):
                    trained = label.split(" -> ")[0]
                    row = f"{trained} -> OpenMSX songs in FluidR3 (never in training)"
            if split.startswith("loso-") and s.endswith("_fluid"):
                row = f"{label}, FluidR3 (no FluidR3 samples in training)"
            ec, es = load(f"{d}/eval-cnn-{s}.json"), load(f"{d}/eval-stats-{s}.json")
            lc, ls = load(f"{d}/loc-cnn-{s}.json"), load(f"{d}/loc-stats-{s}.json")
            get = lambda j, k: None if j is None else j.get(k)
            seg = lambda j: None if j is None else j.get("segment", {}).get("f1")
            delta = None
            if ec and es:
                delta = ec["auc"] - es["auc"]
            print(f"| {row} | {s} | {get(ec, 'n_clips')} | {f3(get(ec, 'auc'))} | "
                  f"{f3(get(es, 'auc'))} | {'-' if delta is None else f'{delta:+.3f}'} | "
                  f"{f3(get(ec, 'mAP'))} | {f3(get(es, 'mAP'))} | {f3(seg(lc))} | {f3(seg(ls))} |")


if __name__ == "__main__":
    main()
