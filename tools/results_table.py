#!/usr/bin/env python3
"""Markdown table (mean +- sample std over seeds) from a `tutti experiment` results.json.

    python3 tools/results_table.py exp/results.json [--per-class]
    python3 tools/results_table.py A/results.json [B/results.json ...] --paired BASE

--per-class prints instead the mean per-class average precision over seeds, one column per
model, the best of each row in bold. --paired BASE (an ablation table) reads the runs of every
file given (a model and seed found in two files must agree) and prints each model's mAP and AUC
with the mean difference of its mAP from BASE's on the same seeds, the per-seed differences and
on how many seeds it is ahead. A file given as FILE:MODEL=NAME lists its runs of MODEL as NAME
(the same model trained with other options in another folder, e.g.
exp-cos/results.json:att=att-cosine).
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
    if len(values) == 1:
        return f"{mean:.3f}"
    return f"{mean:.3f} ± {statistics.stdev(values):.3f}"


def load(path):
    """The results and the model names in the order of their first run."""
    results = json.load(open(path))
    return results, list(dict.fromkeys(run["model"] for run in results["runs"]))


def main(path):
    results, models = load(path)
    print("| model | seeds | " + " | ".join(METRICS) + " | micro AP | micro F1 | params | s/epoch |")
    print("|---" * (len(METRICS) + 6) + "|")
    for m in models:
        runs = [r for r in results["runs"] if r["model"] == m]
        cells = [fmt([r["metrics"].get(k) for r in runs]) for k in METRICS]
        cells += [fmt([r["metrics"].get("micro", {}).get(k) for r in runs]) for k in ("ap", "f1")]
        spe = [r.get("seconds_per_epoch") for r in runs if r.get("seconds_per_epoch")]
        # An ensemble records no epochs: its s/epoch cell stays empty.
        print(f"| {m} | {len(runs)} | " + " | ".join(cells) +
              f" | {runs[0].get('params', 'n/a')} | "
              f"{f'{statistics.median(spe):.2f}' if spe else ''} |")


def per_class(path):
    results, models = load(path)
    print("| class | " + " | ".join(models) + " |")
    print("|---" * (len(models) + 1) + "|")
    for c in results["data"]["classes"]:
        means = []
        for m in models:
            aps = [r["metrics"]["per_class"][c]["ap"] for r in results["runs"]
                   if r["model"] == m and c in r["metrics"]["per_class"]]
            aps = [a for a in aps if a is not None]
            means.append(statistics.fmean(aps) if aps else None)
        best = max((v for v in means if v is not None), default=None)
        cells = ["n/a" if v is None else (f"**{v:.3f}**" if v == best else f"{v:.3f}") for v in means]
        print(f"| {c} | " + " | ".join(cells) + " |")


def paired(paths, base):
    runs = {}
    for arg in paths:
        path, _, rename = arg.partition(":")
        old, _, new = rename.partition("=")
        for r in json.load(open(path))["runs"]:
            if rename and r["model"] == old:
                r["model"] = new
            key = (r["model"], r["seed"])
            if key in runs and runs[key]["metrics"]["mAP"] != r["metrics"]["mAP"]:
                sys.exit(f"results_table: {path}: {key[0]} seed {key[1]} differs from an earlier file")
            runs[key] = r
    models = list(dict.fromkeys(m for m, _ in runs))
    if base not in models:
        sys.exit(f"results_table: no runs of the base model '{base}'")
    print(f"| model | seeds | mAP | AUC | minus `{base}` on the same seeds | ahead on | per seed |")
    print("|---|---|---|---|---|---|---|")
    for m in models:
        seeds = sorted(s for mm, s in runs if mm == m)
        cells = [fmt([runs[(m, s)]["metrics"][k] for s in seeds]) for k in ("mAP", "auc")]
        diffs = [runs[(m, s)]["metrics"]["mAP"] - runs[(base, s)]["metrics"]["mAP"]
                 for s in seeds if (base, s) in runs]
        d = "" if m == base or not diffs else f"{statistics.fmean(diffs):+.3f}"
        per = "" if m == base else ", ".join(f"{v:+.3f}" for v in diffs)
        ahead = "" if m == base or not diffs else f"{sum(v > 0 for v in diffs)}/{len(diffs)}"
        print(f"| {m} | {len(seeds)} | {cells[0]} | {cells[1]} | {d} | {ahead} | {per} |")


if __name__ == "__main__":
    if "--paired" in sys.argv:
        i = sys.argv.index("--paired")
        paired(sys.argv[1:i] + sys.argv[i + 2:], sys.argv[i + 1])
    elif "--per-class" in sys.argv[2:]:
        per_class(sys.argv[1])
    else:
        main(sys.argv[1])
