#!/usr/bin/python3
"""Markdown table of a noise robustness study from `tutti eval --json` outputs.

    /usr/bin/python3 tools/noise_table.py [--levels 0 0.1 0.2] [--metrics mAP f1_pos] -- FILE.json...

Each file is one evaluation (`model_type`, `model`, the metrics, and for P > 0 `noise_instances`,
`noise_seed`, `noise_replaced`). Runs are grouped by model type; a run is one model file (one
training seed). Per model type and P: mean ± sample std (ddof = 1) over the runs of the metric, and
the absolute drop metric(P = 0) - metric(P), paired per run, as mean ± std. Written for
tools/noise_study.sh; the protocol is in docs/analysis.md.
"""
import argparse
import json
import statistics
import sys


def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    m = statistics.fmean(values)
    if len(values) < 2:
        return f"{m:.3f}"
    return f"{m:.3f} ± {statistics.stdev(values):.3f}"


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", nargs="+", type=float, default=[0.0, 0.1, 0.2])
    ap.add_argument("--metrics", nargs="+", default=["mAP", "f1_pos", "f1_attmic"])
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    runs = {}  # (model_type, model file) -> {P: json}
    for path in args.files:
        with open(path) as f:
            j = json.load(f)
        p = float(j.get("noise_instances", 0.0))
        runs.setdefault((j["model_type"], j["model"]), {})[p] = j
    types = []
    for t, _ in runs:
        if t not in types:
            types.append(t)
    levels = sorted(args.levels)
    base = levels[0]
    for metric in args.metrics:
        print(f"\n{metric}: mean ± std over runs; drop = {metric}(P={base:g}) - {metric}(P), "
              "paired per run\n")
        head = ["model", "runs"] + [f"P={p:g}" for p in levels] + \
            [f"drop P={p:g}" for p in levels if p != base]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for t in types:
            mine = [r for (tt, _), r in sorted(runs.items()) if tt == t]
            cells = [t, str(len(mine))]
            for p in levels:
                cells.append(mean_std([r[p].get(metric) for r in mine if p in r]))
            for p in levels:
                if p == base:
                    continue
                drops = [r[base][metric] - r[p][metric] for r in mine
                         if base in r and p in r and r[base].get(metric) is not None
                         and r[p].get(metric) is not None]
                cells.append(mean_std(drops))
            print("| " + " | ".join(cells) + " |")
    replaced = [(p, r[p]["noise_replaced"], r[p]["noise_real_instances"])
                for r in runs.values() for p in r if p != base and "noise_replaced" in r[p]]
    if replaced:
        print()
        for p in sorted({x[0] for x in replaced}):
            rep = [x for x in replaced if x[0] == p]
            print(f"P={p:g}: {rep[0][1]} of {rep[0][2]} real instances replaced "
                  f"({rep[0][1] / max(rep[0][2], 1):.3f}); noise seed "
                  f"{next(r[p]['noise_seed'] for r in runs.values() if p in r)}")


if __name__ == "__main__":
    main(sys.argv[1:])
