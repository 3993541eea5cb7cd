#!/usr/bin/env python3
"""The per-class table of a model card (docs/models/*.md) from `tutti eval --json` and the model
file's stored thresholds:

    build/tutti eval models/as20.tutti as20-test.npz --json > eval.json
    python3 tools/model_card_table.py models/as20.tutti eval.json

Prints a Markdown table: per class the test AP and AUC, F1, precision and recall at the stored
threshold, the threshold and the number of test positives; then the macro row.
"""
import json
import sys
import zipfile


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[0])
    model, ev = sys.argv[1], sys.argv[2]
    try:
        with zipfile.ZipFile(model) as z:
            meta = json.loads(z.read("meta.json"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        sys.exit(f"model_card_table: {model}: not a tutti model file ({e})")
    try:
        with open(ev) as f:
            m = json.load(f)
        per = m["per_class"]
    except (OSError, KeyError, json.JSONDecodeError) as e:
        sys.exit(f"model_card_table: {ev}: not the output of `tutti eval --json` ({e})")
    th = dict(zip(meta["classes"], meta["thresholds"]))
    print("| class | test AP | test AUC | F1 at threshold | threshold | precision | recall | "
          "test positives |")
    print("|---|---|---|---|---|---|---|---|")
    for c, v in per.items():
        print(f"| {c} | {v['ap']:.3f} | {v['auc']:.3f} | {v['f1']:.3f} | {th[c]:.3f} | "
              f"{v['precision']:.3f} | {v['recall']:.3f} | {v['n_pos']} |")
    print(f"| **macro** | **{m['mAP']:.3f}** | {m['auc']:.3f} | {m['f1_pos']:.3f} | | "
          f"{m['precision_pos']:.3f} | {m['recall_pos']:.3f} | |")


if __name__ == "__main__":
    main()
