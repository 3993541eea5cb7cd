#!/usr/bin/env python3
"""tools/results_table.py --paired: runs merged from two files, paired differences by seed, and a
conflicting duplicate refused, runs renamed with FILE:MODEL=NAME. Expected values worked out by hand from the runs below."""
import json
import os
import subprocess
import sys
import tempfile

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "results_table.py")


def run(model, seed, ap, auc):
    return {"model": model, "seed": seed, "metrics": {"mAP": ap, "auc": auc}}


def table(*paths):
    return subprocess.run([sys.executable, TOOL, *paths, "--paired", "base"],
                          capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    a, b, c = (os.path.join(tmp, f"{n}.json") for n in "abc")
    json.dump({"runs": [run("base", 1, 0.50, 0.9), run("base", 2, 0.60, 0.8),
                        run("abl", 1, 0.45, 0.9)]}, open(a, "w"))
    # b repeats base seed 1 (same numbers: allowed) and adds abl seed 2.
    json.dump({"runs": [run("base", 1, 0.50, 0.9), run("abl", 2, 0.68, 0.7)]}, open(b, "w"))
    out = table(a, b)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # base: mean 0.55, sample std 0.0707; abl: mean 0.565, std 0.1626; differences -0.05, +0.08.
    assert lines[2] == "| base | 2 | 0.550 ± 0.071 | 0.850 ± 0.071 |  |  |  |", lines[2]
    assert lines[3] == ("| abl | 2 | 0.565 ± 0.163 | 0.800 ± 0.141 | +0.015 | 1/2 | "
                        "-0.050, +0.080 |"), lines[3]
    # FILE:MODEL=NAME: b's abl runs listed as abl2 (abl seed 2 only: +0.08, ahead on 1 of 1).
    out = table(a, b + ":abl=abl2")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[4] == "| abl2 | 1 | 0.680 | 0.700 | +0.080 | 1/1 | +0.080 |", out
    json.dump({"runs": [run("base", 1, 0.51, 0.9)]}, open(c, "w"))
    out = table(a, c)
    assert out.returncode != 0 and "base seed 1 differs" in out.stderr, out
    out = subprocess.run([sys.executable, TOOL, a, "--paired", "nope"], capture_output=True, text=True)
    assert out.returncode != 0 and "no runs of the base model 'nope'" in out.stderr, out
print("ok")
