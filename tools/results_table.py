#!/usr/bin/env python3
"""Markdown table (mean +- sample std over seeds) from a `tutti experiment` results.json.

    python3 tools/results_table.py exp/results.json
"""
import json
import statistics
import sys

METRICS = ["mAP", "auc", "f1_pos", "f1_pos_05", "f1_attmic", "precision_pos", "recall_pos"]


def fmt(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{mean:.3f} ± {std:.3f}"


def main(path):
    results = json.load(open(path))
    models = []
    for run in results["runs"]:
        if run["model"] not in models:
            models.append(run["model"])
    print("| model | seeds | " + " | ".join(METRICS) + " | params | s/epoch |")
    print("|---" * (len(METRICS) + 4) + "|")
    for m in models:
        runs = [r for r in results["runs"] if r["model"] == m]
        cells = [fmt([r["metrics"].get(k) for r in runs]) for k in METRICS]
        spe = [r.get("seconds_per_epoch") for r in runs if r.get("seconds_per_epoch")]
        print(f"| {m} | {len(runs)} | " + " | ".join(cells) +
              f" | {runs[0].get('params', 'n/a')} | {statistics.median(spe) if spe else 0:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
