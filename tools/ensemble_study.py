#!/usr/bin/env python3
"""Ensembles of runs from different experiments, per seed, scored on validation and test.

`tutti experiment --ensembles` combines the models of one experiment; this combines runs of
several (the same model trained with other options), seed by seed:

    python3 tools/ensemble_study.py --tutti build/tutti --validation as20-train.npz \
        --test as20-test.npz --seeds 10 -o exp-combo \
        --member att=exp-ens/att-seed{seed}.tutti --member fc_t=exp-ens/fc_t-seed{seed}.tutti \
        --member aux=exp-aux05/att-seed{seed}.tutti --ensembles att+fc_t+aux,att+aux

For seed S each ensemble is `tutti ensemble MEMBERS --validation V --val-seed S` (thresholds
chosen on the validation part of seed S, which every member trained with seed S or --val-seed S
left out), then `tutti eval` on the test set. --ensembles all: every combination of two or more
members. Writes OUT/NAME-seedS.tutti and OUT/results.json ({"runs": [{model, seed, val_map,
metrics}]}, read by tools/results_table.py); the combination with the best mean validation mAP
is printed last. Ensembles already in OUT are reused.
"""
import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import zipfile


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"ensemble_study: {' '.join(cmd)} failed: {p.stderr.strip()}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tutti", required=True)
    ap.add_argument("--validation", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--seeds", type=int, required=True)
    ap.add_argument("--member", action="append", required=True, help="NAME=PATH with {seed}")
    ap.add_argument("--ensembles", required=True, help="m1+m2+...,... or all")
    ap.add_argument("--val-fraction",
                    help="the members' --val-fraction (default: tutti ensemble's, as tutti train's)")
    ap.add_argument("--threads", default="1")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    members = dict(m.split("=", 1) for m in a.member)
    if a.ensembles == "all":
        combos = [list(c) for k in range(2, len(members) + 1)
                  for c in itertools.combinations(members, k)]
    else:
        combos = [c.split("+") for c in a.ensembles.split(",")]
    for c in combos:
        for m in c:
            if m not in members:
                sys.exit(f"ensemble_study: --ensembles: '{m}' is not a --member")
    # Given: passed to `tutti ensemble` and recorded; else tutti's default, recorded by neither.
    fraction = ["--val-fraction", a.val_fraction] if a.val_fraction else []
    recorded = {"val_fraction": float(a.val_fraction)} if a.val_fraction else {}
    os.makedirs(a.output, exist_ok=True)
    runs = []
    for seed in range(1, a.seeds + 1):
        for c in combos:
            name = "+".join(c)
            files = [members[m].replace("{seed}", str(seed)) for m in c]
            for f in files:
                if not os.path.exists(f):
                    sys.exit(f"ensemble_study: {f}: no such model file")
            out = os.path.join(a.output, f"{name}-seed{seed}.tutti")
            if not os.path.exists(out):
                run([a.tutti, "ensemble", *files, "--validation", a.validation, "--val-seed",
                     str(seed), *fraction, "--threads", a.threads, "-o", out])
            with zipfile.ZipFile(out) as z:
                val_map = json.loads(z.read("meta.json"))["training"]["val_map"]
            metrics = json.loads(run([a.tutti, "eval", out, a.test, "--json", "--threads",
                                      a.threads]))
            runs.append({"model": name, "seed": seed, "val_map": val_map, "metrics": metrics,
                         "model_file": os.path.basename(out),
                         "train_config": {"ensemble": files, "val_seed": seed, **recorded}})
            print(f"{name} seed {seed}: val mAP {val_map:.4f}, test mAP {metrics['mAP']:.4f}",
                  flush=True)
    with open(os.path.join(a.output, "results.json.tmp"), "w") as f:
        json.dump({"runs": runs}, f, indent=1)
    os.replace(os.path.join(a.output, "results.json.tmp"), os.path.join(a.output, "results.json"))
    names = ["+".join(c) for c in combos]
    mean = {n: statistics.fmean(r["val_map"] for r in runs if r["model"] == n) for n in names}
    for n in sorted(names, key=mean.get):
        test = statistics.fmean(r["metrics"]["mAP"] for r in runs if r["model"] == n)
        print(f"{n}: mean val mAP {mean[n]:.4f}, mean test mAP {test:.4f}")
    print(f"best on validation: {max(names, key=mean.get)}")


if __name__ == "__main__":
    main()
